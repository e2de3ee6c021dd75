-- Schema conformance: the database that candor.db.open creates must be exactly
-- the storage contract in tests/data/DATABASE.md (a byte-for-byte copy of
-- seed/DATABASE.md). The contract is parsed, not transcribed, so editing the
-- contract without a migration (or the other way round) fails here, naming
-- the table and column.

local T = require "candor.testing"

local CONTRACT = "tests/data/DATABASE.md"
local SEED = "../shared/seed/DATABASE.md" -- CI keeps shared/ beside the clone
local MIGRATION = "lua/candor/migrations/0001_schema.sql"
local BOOKKEEPING = { schema_migrations = true } -- tables the runner may add

local FK_ACTIONS = {
  ["CASCADE"] = true, ["SET NULL"] = true, ["SET DEFAULT"] = true,
  ["RESTRICT"] = true, ["NO ACTION"] = true,
}
local TYPES = { TEXT = true, INTEGER = true, REAL = true }

local function path(rel) return T.root .. "/" .. rel end

local function read(p)
  local f, err = io.open(p, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

-- Splits on commas that are not inside a single-quoted literal.
local function split_constraints(s)
  local parts, buf, quoted = {}, {}, false
  for ch in s:gmatch(".") do
    if ch == "'" then quoted = not quoted end
    if ch == "," and not quoted then
      parts[#parts + 1] = trim(table.concat(buf)); buf = {}
    else
      buf[#buf + 1] = ch
    end
  end
  parts[#parts + 1] = trim(table.concat(buf))
  return parts
end

-- Contract default -> the SQL text SQLite reports in table_info.dflt_value.
local function sql_default(v, where)
  if v == "true" then return "1" end
  if v == "false" then return "0" end
  if v:match("^%-?%d+$") or v:match("^%-?%d+%.%d+$") then return v end
  if v:match("^'[^']*'$") then return v end
  error(where .. ": cannot read default " .. v, 0)
end

-- Markdown contract -> { tables = {{number, name, columns = {...}, col = {name -> column}}},
--                        table = {name -> table}, overview = {names in the overview table} }
-- column = { name, type, notnull, default (SQL text or nil), pk, unique, fk = {table, to, on_delete} }
local function parse_contract(text)
  local model = { tables = {}, table = {}, overview = {} }
  local cur, lineno, seen_table = nil, 0, false
  for line in (text:gsub("\r\n", "\n") .. "\n"):gmatch("(.-)\n") do
    lineno = lineno + 1
    local where = CONTRACT .. ":" .. lineno
    local num, name = line:match("^##%s+Table%s+(%d+):%s*`([%w_]+)`%s*$")
    if num then
      seen_table = true
      if model.table[name] then error(where .. ": table " .. name .. " documented twice", 0) end
      cur = { number = tonumber(num), name = name, columns = {}, col = {} }
      model.tables[#model.tables + 1] = cur
      model.table[name] = cur
    elseif line:match("^#") or line:match("^%-%-%-") then
      cur = nil
    elseif line:match("^%s*|") then
      local cells = {}
      for cell in line:gsub("^%s*|", ""):gmatch("([^|]*)|") do cells[#cells + 1] = trim(cell) end
      if not seen_table then
        -- overview: | # | `table` | purpose |
        local n, tname = (cells[1] or ""), (cells[2] or ""):match("^`([%w_]+)`$")
        if n:match("^%d+$") and tname then model.overview[tonumber(n)] = tname end
      elseif cur then
        local cname = (cells[1] or ""):match("^`([%w_]+)`$")
        if cname then
          local cwhere = where .. " (" .. cur.name .. "." .. cname .. ")"
          if #cells < 4 then error(cwhere .. ": expected 4 cells", 0) end
          if cur.col[cname] then error(cwhere .. ": column documented twice", 0) end
          local col = { name = cname, type = cells[2], notnull = false, pk = false, unique = false }
          if not TYPES[col.type] then error(cwhere .. ": unknown type " .. col.type, 0) end
          local nullable = false
          for _, c in ipairs(split_constraints(cells[3])) do
            local dflt = c:match("^default%s+(.+)$")
            local fk_t, fk_c, fk_rest = c:match("^FK%s*→%s*([%w_]+)%s*%(%s*([%w_]+)%s*%)%s*(.*)$")
            if not fk_t then fk_t, fk_c, fk_rest = c:match("^FK%s*%->%s*([%w_]+)%s*%(%s*([%w_]+)%s*%)%s*(.*)$") end
            if c == "PK" then col.pk, col.notnull = true, true
            elseif c == "NOT NULL" then col.notnull = true
            elseif c == "nullable" then nullable = true
            elseif c == "UNIQUE" then col.unique = true
            elseif dflt then col.default = sql_default(trim(dflt), cwhere)
            elseif fk_t then
              if not FK_ACTIONS[fk_rest] then
                error(cwhere .. ": FK without a readable ON DELETE action: " .. c, 0)
              end
              col.fk = { table = fk_t, to = fk_c, on_delete = fk_rest }
            else
              error(cwhere .. ": unknown constraint '" .. c .. "'", 0)
            end
          end
          if nullable and col.notnull then error(cwhere .. ": both nullable and NOT NULL", 0) end
          cur.columns[#cur.columns + 1] = col
          cur.col[cname] = col
        elseif not (cells[1] == "Column" or (cells[1] or ""):match("^%-+$")) then
          error(where .. ": unreadable row in table " .. cur.name .. ": " .. line, 0)
        end
      end
    end
  end
  return model
end

local contract_cache
local function contract()
  if not contract_cache then
    local text = assert(read(path(CONTRACT)))
    contract_cache = parse_contract(text)
  end
  return contract_cache
end

local function list(t) return "{" .. table.concat(t, ", ") .. "}" end

-- Returns sorted lists: in a but not b, in b but not a.
local function set_diff(a, b)
  local sa, sb, only_a, only_b = {}, {}, {}, {}
  for _, v in ipairs(a) do sa[v] = true end
  for _, v in ipairs(b) do sb[v] = true end
  for _, v in ipairs(a) do if not sb[v] then only_a[#only_a + 1] = v end end
  for _, v in ipairs(b) do if not sa[v] then only_b[#only_b + 1] = v end end
  table.sort(only_a); table.sort(only_b)
  return only_a, only_b
end

local function with_db(fn)
  local db = require("candor.db").open(T.tmpdir() .. "/schema.db")
  local ok, err = pcall(fn, db)
  db:close()
  if not ok then error(err, 0) end
end

---------------------------------------------------------------------------

T.test("schema: contract parses into 20 tables with columns", function()
  local m = contract()
  T.eq(#m.tables, 20, "number of tables parsed from " .. CONTRACT)
  T.eq(#m.overview, 20, "number of tables in the contract's overview")
  local position = {}
  for i, t in ipairs(m.tables) do
    T.eq(t.number, i, t.name .. ": table number")
    T.eq(t.name, m.overview[i], "table " .. i .. ": name in heading vs overview")
    T.ok(#t.columns > 0, t.name .. ": no columns parsed")
    local pks = {}
    for _, c in ipairs(t.columns) do
      if c.pk then pks[#pks + 1] = c.name end
      if c.fk then
        local target = m.table[c.fk.table]
        T.ok(target, t.name .. "." .. c.name .. ": FK to undocumented table " .. c.fk.table)
        T.ok(position[c.fk.table], t.name .. "." .. c.name .. ": FK target "
          .. c.fk.table .. " is documented after the referencing table")
        T.ok(target.col[c.fk.to] and target.col[c.fk.to].pk,
          t.name .. "." .. c.name .. ": FK target column " .. c.fk.table .. "." .. c.fk.to .. " is not its PK")
      end
    end
    T.eq(pks, { "id" }, t.name .. ": primary key columns")
    position[t.name] = i
  end
  -- spot checks that the parser reads each constraint kind
  local s = m.table.sessions.col
  T.eq({ s.pipeline.notnull, s.pipeline.default }, { false, "'outside-in'" }, "sessions.pipeline parsed")
  T.eq({ s.metadata.notnull, s.metadata.default }, { false, "'{}'" }, "sessions.metadata parsed")
  T.eq({ s.is_archived.notnull, s.is_archived.default }, { true, "0" }, "sessions.is_archived parsed")
  T.eq(s.user_id.fk, { table = "users", to = "id", on_delete = "CASCADE" }, "sessions.user_id FK parsed")
  T.eq(s.job_id.fk, { table = "generation_jobs", to = "id", on_delete = "SET NULL" }, "sessions.job_id FK parsed")
  T.ok(m.table.users.col.email.unique and not m.table.users.col.role.unique, "users.email/role UNIQUE parsed")
  T.eq(m.table.llm_calls.col.success.default, "1", "llm_calls.success default parsed")
  T.eq(m.table.discovered_pain_points.col.pain_score.type, "REAL", "discovered_pain_points.pain_score type parsed")
  -- a broken contract must fail loudly, not parse to less
  T.raises(function()
    parse_contract("## Table 1: `x`\n| Column | Type | Constraints | Description |\n"
      .. "|---|---|---|---|\n| `id` | TEXT | PK, CHECK(x) | d |\n")
  end, "unknown constraint")
end)

T.test("schema: tests/data/DATABASE.md is identical to shared/seed/DATABASE.md", function()
  local mine = assert(read(path(CONTRACT)))
  local seed = read(path(SEED))
  if seed == nil then return end -- no shared/ beside this checkout: nothing to compare
  T.ok(mine == seed, CONTRACT .. " differs from " .. SEED .. ": copy the seed again and migrate")
end)

T.test("schema: migration file has no transaction control, PRAGMA or IF NOT EXISTS", function()
  local sql = assert(read(path(MIGRATION))):gsub("%-%-[^\n]*", ""):upper()
  for _, word in ipairs({ "BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "IF NOT EXISTS", "SAVEPOINT" }) do
    T.ok(not sql:find(word, 1, true), MIGRATION .. " contains " .. word)
  end
end)

T.test("schema: fresh database matches the contract exactly", function()
  local m = contract()
  with_db(function(db)
    -- table set and creation order
    local got, created = {}, {}
    for _, r in ipairs(db:query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY rowid")) do
      got[#got + 1] = r.name
      if m.table[r.name] then created[#created + 1] = r.name end
    end
    local want, order = {}, {}
    for _, t in ipairs(m.tables) do want[#want + 1] = t.name; order[#order + 1] = t.name end
    for name in pairs(BOOKKEEPING) do want[#want + 1] = name end
    -- Later migrations (0002_schedules, ...) may add tables of Candor's own beside
    -- the contract's: a table outside the contract is allowed only when a
    -- migration after 0001 creates it, so the 20 are still checked exactly.
    for _, mf in ipairs(require("candor.db").migration_files()) do
      if mf.version > 1 then
        local text = assert(read(mf.path)):gsub("%-%-[^\n]*", "")
        for tname in text:gmatch("[Cc][Rr][Ee][Aa][Tt][Ee]%s+[Tt][Aa][Bb][Ll][Ee]%s+([%w_]+)") do
          T.ok(not m.table[tname], mf.path .. " creates contract table " .. tname)
          want[#want + 1] = tname
        end
      end
    end
    local missing, extra = set_diff(want, got)
    T.eq(missing, {}, "tables in the contract (or a later migration) but missing from the database")
    T.eq(extra, {}, "tables in the database but not in the contract or a later migration")
    T.eq(created, order, "table creation order (contract order)")

    for _, t in ipairs(m.tables) do
      local tn = t.name
      -- columns
      local cols = db:query('SELECT cid, name, type, "notnull" AS nn, dflt_value, pk '
        .. "FROM pragma_table_info(?) ORDER BY cid", tn)
      local names, want_names = {}, {}
      for _, r in ipairs(cols) do names[#names + 1] = r.name end
      for _, c in ipairs(t.columns) do want_names[#want_names + 1] = c.name end
      local miss, ext = set_diff(want_names, names)
      T.eq(miss, {}, tn .. ": columns missing from the database")
      T.eq(ext, {}, tn .. ": columns not in the contract")
      T.eq(names, want_names, tn .. ": column order")
      for i, c in ipairs(t.columns) do
        local r, w = cols[i], tn .. "." .. c.name
        T.eq(r.type, c.type, w .. ": declared type")
        T.eq(r.nn == 1, c.notnull, w .. ": NOT NULL")
        T.eq(r.dflt_value, c.default, w .. ": DEFAULT")
        T.eq(r.pk, c.pk and 1 or 0, w .. ": PRIMARY KEY")
      end

      -- foreign keys: exactly the documented ones, single-column, to id
      local fks = {}
      for _, r in ipairs(db:query("SELECT id, seq, \"table\" AS tbl, \"from\" AS frm, \"to\" AS tgt, "
        .. "on_update, on_delete FROM pragma_foreign_key_list(?)", tn)) do
        local w = tn .. "." .. tostring(r.frm)
        T.eq(r.seq, 0, w .. ": multi-column foreign key")
        T.ok(not fks[r.frm], w .. ": more than one foreign key")
        fks[r.frm] = r
        local c = t.col[r.frm]
        T.ok(c and c.fk, w .. ": foreign key to " .. tostring(r.tbl) .. " is not in the contract")
      end
      for _, c in ipairs(t.columns) do
        if c.fk then
          local r, w = fks[c.name], tn .. "." .. c.name
          T.ok(r, w .. ": documented foreign key to " .. c.fk.table .. " is missing")
          T.eq(r.tbl, c.fk.table, w .. ": foreign key target table")
          T.eq(r.tgt, c.fk.to, w .. ": foreign key target column")
          T.eq(r.on_delete, c.fk.on_delete, w .. ": ON DELETE")
          T.eq(r.on_update, "NO ACTION", w .. ": ON UPDATE")
        end
      end

      -- indexes: unique ones are exactly PK + documented UNIQUE columns;
      -- the rest are named idx_*; every FK column leads some index
      local unique_cols, leading = {}, {}
      for _, ix in ipairs(db:query("SELECT name, \"unique\" AS uniq, origin, partial "
        .. "FROM pragma_index_list(?)", tn)) do
        local icols = {}
        for _, r in ipairs(db:query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", ix.name)) do
          icols[#icols + 1] = r.name or "<expression>"
        end
        local w = tn .. ": index " .. ix.name .. " on " .. list(icols)
        leading[icols[1] or ""] = true
        if ix.uniq == 1 then
          T.eq(#icols, 1, w .. ": unique index over more than one column is not in the contract")
          local c = t.col[icols[1]]
          T.ok(c and (c.pk or c.unique), w .. ": unique index the contract does not name ("
            .. tn .. "." .. tostring(icols[1]) .. " is not UNIQUE in the contract)")
          if ix.origin == "pk" then T.ok(c.pk, w .. ": primary-key index on a non-PK column") end
          T.eq(ix.partial, 0, w .. ": partial unique index does not enforce "
            .. tn .. "." .. icols[1] .. " UNIQUE")
          if c.unique then unique_cols[c.name] = true end
        else
          T.ok(ix.name:match("^idx_"), w .. ": non-unique index must be named idx_*")
        end
      end
      for _, c in ipairs(t.columns) do
        if c.unique then
          T.ok(unique_cols[c.name], tn .. "." .. c.name .. ": documented UNIQUE but no unique index")
        end
        if c.fk then
          T.ok(leading[c.name], tn .. "." .. c.name .. ": foreign-key column has no index (cascades would scan)")
        end
      end
    end
  end)
end)

T.test("schema: ON DELETE CASCADE and SET NULL behave as written", function()
  with_db(function(db)
    T.eq(db:first("PRAGMA foreign_keys").foreign_keys, 1, "foreign_keys pragma on the opened connection")
    local now = "2024-01-01T00:00:00.000Z"
    db:query("INSERT INTO messaging_priorities (id, name, slug, description, keywords, product_context, "
      .. "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      "prio1", "Priority", "schema-test-priority", "d", "[]", "ctx", now, now)
    db:query("INSERT INTO discovered_pain_points (id, priority_id, source_type, source_url, source_id, "
      .. "title, content, author, author_level, metadata, pain_score, pain_analysis, practitioner_quotes, "
      .. "content_hash, discovered_at, created_at, updated_at) "
      .. "VALUES (?, ?, 'manual', 'u', 's', 't', 'c', 'a', 'l', '{}', 0.5, '{}', '[]', 'h', ?, ?, ?)",
      "pain1", "prio1", now, now, now)
    db:query("INSERT INTO messaging_assets (id, priority_id, pain_point_id, asset_type, title, content, "
      .. "metadata, created_at, updated_at) VALUES (?, ?, ?, 'battlecard', 't', 'c', '{}', ?, ?)",
      "asset1", "prio1", "pain1", now, now)

    local a = db:first("SELECT * FROM messaging_assets WHERE id = ?", "asset1")
    T.eq({ a.pain_point_id, a.status, a.job_id }, { "pain1", "draft", nil }, "messaging_assets row as inserted, with defaults")
    T.eq(db:first("SELECT is_active FROM messaging_priorities WHERE id = 'prio1'").is_active, 1,
      "messaging_priorities.is_active DEFAULT 1")

    T.raises(function()
      db:query("INSERT INTO messaging_assets (id, priority_id, asset_type, title, content, metadata, "
        .. "created_at, updated_at) VALUES ('asset2', 'nope', 'x', 't', 'c', '{}', ?, ?)", now, now)
    end, "FOREIGN KEY")
    T.raises(function()
      db:query("INSERT INTO messaging_priorities (id, name, slug, description, keywords, product_context, "
        .. "created_at, updated_at) VALUES ('prio2', 'P', 'schema-test-priority', 'd', '[]', 'c', ?, ?)", now, now)
    end, "UNIQUE")

    db:query("DELETE FROM discovered_pain_points WHERE id = ?", "pain1")
    a = db:first("SELECT * FROM messaging_assets WHERE id = ?", "asset1")
    T.ok(a, "messaging_assets row survives deleting its pain point (SET NULL)")
    T.eq(a.pain_point_id, nil, "messaging_assets.pain_point_id after deleting the pain point (SET NULL)")

    db:query("DELETE FROM messaging_priorities WHERE id = ?", "prio1")
    T.eq(db:first("SELECT * FROM messaging_assets WHERE id = ?", "asset1"), nil,
      "messaging_assets row after deleting its priority (CASCADE)")
  end)
end)
