-- Repositories: one module per table under candor/repo/. A module declares its
-- table's columns once; this file turns the declaration into insert, get, update,
-- delete, list and count, with ids, timestamps, JSON and booleans handled alike.
local json = require "candor.json"
local crypto = require "core.crypto"
local host = require "core.host"

local M = {}

local null = json.null

-- Column kinds: "text", "int", "real", "json", "bool", "id" and "time".
local encode = {
  json = function(v)
    if type(v) == "table" then return json.encode(v) end
    return v
  end,
  bool = function(v)
    if v == true then return 1 elseif v == false then return 0 end
    return v
  end,
}

local decode = {
  json = function(v)
    if type(v) ~= "string" then return v end
    local ok, r = pcall(json.decode, v)
    if ok then return r end
    return v   -- keep text that is not JSON rather than lose it
  end,
  bool = function(v)
    if v == nil then return nil end
    return v ~= 0
  end,
}

local Repo = {}
Repo.__index = Repo

-- define("voice_profiles", {"id", "name", {"tags", "json"}, {"is_active", "bool"}, ...})
-- A bare name is text, except id (a nanoid), *_at timestamps filled on insert
-- (created_at, updated_at, and timestamp) and those given a kind explicitly.
function M.define(table_name, columns)
  local r = setmetatable({ table = table_name, columns = {}, kinds = {}, sql_cache = {} }, Repo)
  for _, c in ipairs(columns) do
    local name, kind = c, "text"
    if type(c) == "table" then name, kind = c[1], c[2] end
    if name == "id" then kind = "id" end
    r.columns[#r.columns + 1] = name
    r.kinds[name] = kind
  end
  r.has_updated_at = r.kinds.updated_at ~= nil
  -- For insert: each column's position, the positions stamped with the current
  -- time, and an encoder only where the kind needs one (JSON, booleans).
  r.index, r.stamped, r.encoders = {}, {}, {}
  for i, name in ipairs(r.columns) do
    r.index[name] = i
    if name == "created_at" or name == "updated_at" or name == "timestamp" then r.stamped[#r.stamped + 1] = i end
    local enc = encode[r.kinds[name]]
    if enc then r.encoders[i] = function(v) if v == null then return nil end return enc(v) end end
  end
  if #r.columns > 62 then error("repository " .. table_name .. ": too many columns for the insert bitmask") end
  r.scratch = {}
  return r
end

function Repo:check_column(name)
  if not self.kinds[name] then
    error(string.format("table %s has no column '%s'", self.table, tostring(name)), 3)
  end
end

-- Lua value -> SQL value for column name.
function Repo:encode(name, v)
  if v == null then return nil end
  local f = encode[self.kinds[name]]
  if f then return f(v) end
  return v
end

-- Row from SQL -> Lua values (JSON decoded, booleans true/false).
function Repo:decode(row)
  if not row then return nil end
  for name, kind in pairs(self.kinds) do
    local f = decode[kind]
    if f and row[name] ~= nil then row[name] = f(row[name]) end
  end
  return row
end

function Repo:decode_all(rows)
  for i = 1, #rows do self:decode(rows[i]) end
  return rows
end

-- A new id: a nanoid that does not start with "-", so an id on a command line
-- is never read as an option.
function M.id()
  local id = crypto.nanoid()
  while id:byte(1) == 45 do id = crypto.nanoid() end
  return id
end
M.now = host.now

-- insert(db, fields) -> the row as stored (with id and timestamps). Columns not
-- given take the table's default; cjson.null stores NULL. This is the hot path of
-- logging and bulk writes: one pass over the given fields puts each value in its
-- column's slot, and the statement (chosen by a bitmask of the columns present)
-- binds ?N to column N straight from those slots.
function Repo:insert(db, fields)
  local index, encoders, vals = self.index, self.encoders, self.scratch
  local mask = 0
  for k, v in pairs(fields) do
    local i = index[k]
    if not i then self:check_column(k) end
    local enc = encoders[i]
    if enc then v = enc(v) elseif v == null then v = nil end
    vals[i] = v
    mask = mask | (1 << i)
  end
  local id_i = index.id
  if id_i and mask & (1 << id_i) == 0 then
    local id = M.id()
    fields.id, vals[id_i] = id, id
    mask = mask | (1 << id_i)
  end
  local now
  for _, i in ipairs(self.stamped) do
    if mask & (1 << i) == 0 then
      now = now or host.now()
      fields[self.columns[i]], vals[i] = now, now
      mask = mask | (1 << i)
    end
  end
  local sql = self.sql_cache[mask]
  if not sql then
    local names, params = {}, {}
    for i = 1, #self.columns do
      if mask & (1 << i) ~= 0 then
        names[#names + 1] = self.columns[i]
        params[#params + 1] = "?" .. i
      end
    end
    sql = string.format("INSERT INTO %s (%s) VALUES (%s)", self.table, table.concat(names, ", "),
      table.concat(params, ", "))
    self.sql_cache[mask] = sql
  end
  -- Slots of columns absent here may hold an earlier row's values: harmless, since
  -- this statement references only the columns set above.
  db:run(sql, vals)
  return fields
end

function Repo:get(db, id)
  return self:decode(db:first("SELECT * FROM " .. self.table .. " WHERE id = ?", id))
end

-- update(db, id, fields) -> true when a row changed. updated_at is set for you.
function Repo:update(db, id, fields)
  for k in pairs(fields) do self:check_column(k) end
  local sets, values, n = {}, {}, 0
  if self.has_updated_at and fields.updated_at == nil then fields.updated_at = host.now() end
  for _, name in ipairs(self.columns) do
    local v = fields[name]
    if v ~= nil and name ~= "id" then
      n = n + 1
      sets[#sets + 1] = name .. " = ?" .. n
      values[n] = self:encode(name, v)   -- nil for cjson.null: ?n binds NULL
    end
  end
  if n == 0 then return false end
  values[n + 1] = id
  local changed = db:run("UPDATE " .. self.table .. " SET " .. table.concat(sets, ", ") ..
    " WHERE id = ?" .. (n + 1), values)
  return changed > 0
end

function Repo:delete(db, id)
  return db:run("DELETE FROM " .. self.table .. " WHERE id = ?", id) > 0
end

-- Equality filters on declared columns: {status = "pending"}; a value of
-- cjson.null matches NULL.
function Repo:where(filters)
  local clauses, values = {}, {}
  local names = {}
  for k in pairs(filters or {}) do self:check_column(k) names[#names + 1] = k end
  table.sort(names)
  for _, k in ipairs(names) do
    local v = filters[k]
    if v == null then clauses[#clauses + 1] = k .. " IS NULL"
    else
      clauses[#clauses + 1] = k .. " = ?"
      values[#values + 1] = self:encode(k, v)
    end
  end
  local sql = #clauses > 0 and (" WHERE " .. table.concat(clauses, " AND ")) or ""
  return sql, values
end

-- list(db, filters, {order = "created_at DESC", limit = n, offset = n}) -> rows
function Repo:list(db, filters, opts)
  opts = opts or {}
  local where, values = self:where(filters)
  -- Rows written in one millisecond keep their insertion order (rowid).
  local order = opts.order or (self.kinds.created_at and "created_at, rowid" or "rowid")
  for col in order:gmatch("[%w_]+") do
    local up = col:upper()
    if up ~= "ASC" and up ~= "DESC" and col ~= "rowid" then self:check_column(col) end
  end
  local sql = "SELECT * FROM " .. self.table .. where .. " ORDER BY " .. order
  if opts.limit then
    sql = sql .. " LIMIT ?"
    values[#values + 1] = math.tointeger(opts.limit) or error("limit must be an integer", 2)
    if opts.offset then
      sql = sql .. " OFFSET ?"
      values[#values + 1] = math.tointeger(opts.offset) or error("offset must be an integer", 2)
    end
  end
  return self:decode_all((db:query(sql, table.unpack(values))))
end

function Repo:count(db, filters)
  local where, values = self:where(filters)
  return db:value("SELECT count(*) FROM " .. self.table .. where, table.unpack(values))
end

-- find_by(db, column, value) -> first row where column = value, or nil
function Repo:find_by(db, column, value)
  self:check_column(column)
  return self:decode(db:first("SELECT * FROM " .. self.table .. " WHERE " .. column .. " = ? LIMIT 1",
    self:encode(column, value)))
end

M.tables = {
  "messaging_priorities", "discovery_schedules", "discovered_pain_points", "generation_jobs",
  "settings", "product_documents", "messaging_assets", "persona_critics", "persona_scores",
  "competitive_research", "asset_traceability", "messaging_gaps", "voice_profiles",
  "asset_variants", "users", "sessions", "session_versions", "session_messages",
  "action_jobs", "llm_calls",
}

-- bind(db) -> repos whose functions need no db argument: repos.settings.get(id)
function M.bind(db)
  return setmetatable({}, {
    __index = function(t, name)
      local r = require("candor.repo." .. name)
      local bound = setmetatable({ repo = r }, {
        __index = function(b, fname)
          local f = r[fname]
          if type(f) ~= "function" then return f end
          local w = function(...) return f(r, db, ...) end
          rawset(b, fname, w)
          return w
        end,
      })
      rawset(t, name, bound)
      return bound
    end,
  })
end

return M
