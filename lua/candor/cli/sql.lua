-- candor sql "SELECT ..."
local args = require "candor.cli.args"

local M = {
  name = "sql",
  summary = "Run SQL against the database (read-only unless --write).",
  usage = "candor sql [--json] [--write] SQL",
  description = "Output is an aligned table on a terminal and tab-separated lines otherwise\n"
    .. "(NULL shown as NULL in tables and \\N in tab-separated output).",
  options = {
    { "json", help = "print rows as a JSON array of objects" },
    { "write", help = "allow statements that change the database" },
  },
  min_args = 1, max_args = 1, args_name = "SQL",
  examples = { "candor sql 'SELECT slug, name FROM voice_profiles'",
               "candor sql --write \"UPDATE settings SET value = '5' WHERE key = 'max_refinement_iterations'\"" },
}

local function cell(v, null)
  if v == nil then return null end
  if math.type(v) == "float" then return string.format("%.15g", v) end
  return tostring(v)
end

-- Display width in code points, so UTF-8 text lines up.
local function width(s)
  return utf8.len(s) or #s
end

local function table_output(app, rows, cols)
  local w = {}
  for i, c in ipairs(cols) do w[i] = width(c) end
  local cells = {}
  for r, row in ipairs(rows) do
    cells[r] = {}
    for i, c in ipairs(cols) do
      local s = cell(row[c], "NULL"):gsub("\n", "\\n"):gsub("\t", " ")
      if width(s) > 60 then s = s:sub(1, (utf8.offset(s, 58) or 58) - 1) .. "..." end
      cells[r][i] = s
      if width(s) > w[i] then w[i] = width(s) end
    end
  end
  local function line(parts)
    local out = {}
    for i, s in ipairs(parts) do out[i] = s .. string.rep(" ", w[i] - width(s)) end
    app.out((table.concat(out, "  "):gsub("%s+$", "")), "\n")
  end
  line(cols)
  local rule = {}
  for i = 1, #cols do rule[i] = string.rep("-", w[i]) end
  line(rule)
  for _, c in ipairs(cells) do line(c) end
  app.out(string.format("(%d row%s)\n", #rows, #rows == 1 and "" or "s"))
end

function M.run(app, opts, pos)
  local dbm = require "candor.db"
  local sql = pos[1]
  if not sql:match("%S") then error(args.usage_error("SQL is empty"), 0) end
  local db = app.db()          -- creates and migrates on first use
  if not opts.write then db = dbm.open(app.db_path(), { readonly = true }) end
  local before = db:total_changes()
  local ok, rows, cols = pcall(db.query, db, sql)
  if not ok and tostring(rows):find("query takes one statement", 1, true) then
    if not opts.write then error("several statements given: run them one at a time, or pass --write to run a script", 0) end
    db:transaction(function() db:exec(sql) end)
    app.out("ok\n")
    return 0
  end
  if not ok then
    local msg = tostring(rows)
    if msg:find("readonly database", 1, true) or msg:find("read-only", 1, true) then
      error("this statement changes the database: pass --write to allow it", 0)
    end
    error(msg, 0)
  end
  local changed = opts.write and (db:total_changes() - before) or 0
  if not opts.write then db:close() end
  if #cols == 0 then
    if opts.json then app.out("[]\n") else app.out(string.format("%d row%s changed\n", changed, changed == 1 and "" or "s")) end
    return 0
  end
  if opts.json then
    local json = require "candor.json"
    local parts = {}
    for i, row in ipairs(rows) do
      local obj = {}
      for _, c in ipairs(cols) do
        local v = row[c]
        if v == nil then v = json.null end
        obj[#obj + 1] = json.encode(c) .. ":" .. json.encode(v)
      end
      parts[i] = "{" .. table.concat(obj, ",") .. "}"
    end
    app.out("[", table.concat(parts, ","), "]\n")
  elseif app.tty then
    table_output(app, rows, cols)
  else
    app.out(table.concat(cols, "\t"), "\n")
    for _, row in ipairs(rows) do
      local out = {}
      for i, c in ipairs(cols) do out[i] = (cell(row[c], "\\N"):gsub("[\t\n]", " ")) end
      app.out(table.concat(out, "\t"), "\n")
    end
  end
  return 0
end

return M
