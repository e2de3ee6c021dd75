-- The candor command line: global options, dispatch to one module per command,
-- and the one place that turns errors into messages and exit codes
-- (0 success, 1 runtime failure, 2 usage error).
local args = require "candor.cli.args"
local show = require "candor.cli.show"
local host = require "core.host"

local M = {}

M.commands = { "init", "generate", "score", "run", "workflows", "jobs", "assets", "pain", "priority", "session", "user", "schedule", "scheduler", "llm", "sql", "repl", "lua", "version", "help" }

local function load_command(name)
  for _, c in ipairs(M.commands) do
    if c == name then return require("candor.cli." .. name) end
  end
end

local function suggest(name)
  local best, best_d
  for _, c in ipairs(M.commands) do
    -- a cheap distance: common prefix length, enough for typos like "wokflows"
    local d = 0
    for i = 1, math.min(#c, #name) do if c:sub(i, i) == name:sub(i, i) then d = d + 1 end end
    if d >= 2 and (not best_d or d > best_d) then best, best_d = c, d end
  end
  return best
end

local function count(n, one, many) return string.format("%d %s", n, n == 1 and one or many) end

-- Work left running by a process that stopped can never finish: mark it, and
-- -> what was marked, in words per kind ("1 generation job failed, ..."), or nil.
local function recover_stopped(db)
  local R = require "candor.repo.action_jobs"
  -- the action jobs open now, to tell afterwards which recovery failed and which it found completed
  local open = {}
  for _, status in ipairs { "pending", "running" } do
    for _, row in ipairs(R:list(db, { status = status })) do open[#open + 1] = row.id end
  end
  local generation = require("candor.jobs").recover(db)
  local actions_failed, actions_completed = 0, 0
  if require("candor.workspace.actions").recover(db) > 0 then
    for _, id in ipairs(open) do
      local row = R:get(db, id)
      if row and row.status == "failed" then actions_failed = actions_failed + 1
      elseif row and row.status == "completed" and type(row.result) == "table" and row.result.recovered then
        actions_completed = actions_completed + 1
      end
    end
  end
  local sessions, restored = require("candor.workspace").recover(db)
  local said = {}
  if generation > 0 then said[#said + 1] = count(generation, "generation job", "generation jobs") .. " marked failed" end
  if actions_failed > 0 then said[#said + 1] = count(actions_failed, "action job", "action jobs") .. " marked failed" end
  if actions_completed > 0 then
    said[#said + 1] = count(actions_completed, "action job", "action jobs") .. " found completed (its version was stored)"
  end
  if sessions > 0 then said[#said + 1] = count(sessions, "session", "sessions") .. " marked failed" end
  if (restored or 0) > 0 then
    said[#said + 1] = count(restored, "session", "sessions") .. " given back as completed (it has versions)"
  end
  return #said > 0 and table.concat(said, ", ") or nil
end

-- What every command gets: options, output helpers, and the database opened on demand.
local function new_app(global)
  local app = { verbose = global.verbose, db_flag = global.db }
  local no_color = os.getenv("NO_COLOR")
  app.color = host.isatty(1) and (no_color == nil or no_color == "") and os.getenv("TERM") ~= "dumb"
  app.tty = host.isatty(1)
  function app.db_path() return require("candor.paths").db_path(app.db_flag) end
  function app.db()
    if not app._db then
      app._db, app.db_info = require("candor.db").open(app.db_path())
      -- a path typed by hand that named no database may be a typo: tell the person
      -- at the terminal what was made (a script's stderr stays as it was)
      if app.db_info.created and (app.db_flag or os.getenv("CANDOR_DB")) and app.command ~= "init"
          and host.isatty(2) then
        io.stderr:write("candor: created a new database at ", app.db_path(), "\n")
      end
      -- say once what a stopped process left, and what became of it
      local ok, said = pcall(recover_stopped, app._db)
      if ok and said then
        io.stderr:write("candor: left unfinished by a process that stopped: ", said, "\n")
      elseif not ok and app.verbose then
        io.stderr:write("candor: could not check for stopped jobs: ", tostring(said), "\n")
      end
    end
    return app._db
  end
  function app.out(...) show.written("standard output", io.stdout:write(...)) end
  function app.flush() show.written("standard output", io.stdout:flush()) end
  function app.err(...) io.stderr:write(...) end
  return app
end

local function report(app, err, tb)
  if type(err) == "table" and err.kind == "write" and err.quiet then return 1 end
  if type(err) == "table" and err.kind == "usage" then
    io.stderr:write("candor: ", err.message, "\n")
    io.stderr:write("Try 'candor ", err.command or "help", err.command and " --help" or "", "' for more.\n")
    return 2
  end
  local msg = type(err) == "table" and (err.message or tostring(err)) or tostring(err)
  io.stderr:write("candor: ", msg, "\n")
  if app and app.verbose then
    local trace = type(err) == "table" and err.traceback or tb
    if trace then io.stderr:write(trace, "\n") end
  end
  return 1
end

local function dispatch(argv, global)
  local i = 1
  while argv[i] and argv[i]:sub(1, 1) == "-" do
    local a = argv[i]
    local v = a:match("^%-%-db=(.*)$")
    if v then global.db = v
    elseif a == "--db" then
      i = i + 1
      global.db = argv[i] or error(args.usage_error("option --db needs a value (PATH)"), 0)
    elseif a == "--verbose" or a == "-v" then global.verbose = true
    elseif a == "--help" or a == "-h" then return "help", i + 1
    elseif a == "--version" then return "version", i + 1
    else error(args.usage_error("unknown option " .. a), 0) end
    i = i + 1
  end
  return argv[i] or "help", i + 1
end

function M.main(argv)
  local global = {}
  local app
  local tb
  local ok, code = xpcall(function()
    local name, first = dispatch(argv, global)
    local cmd = load_command(name)
    if not cmd then
      local hint = suggest(name)
      error(args.usage_error(string.format("unknown command '%s'%s", name,
        hint and (" (did you mean '" .. hint .. "'?)") or "")), 0)
    end
    local ok2, opts, pos = pcall(args.parse, cmd, argv, first)
    if not ok2 then
      if type(opts) == "table" then opts.command = name end
      error(opts, 0)
    end
    if opts.db then global.db = opts.db end
    if global.db == "" then error(args.usage_error("--db needs a path"), 0) end
    if opts.verbose then global.verbose = true end
    app = new_app(global)
    app.command = name
    if opts.help then
      app.out(args.help(cmd))
      return 0
    end
    local ok3, r = xpcall(cmd.run, function(e)
      if type(e) ~= "table" then tb = debug.traceback(tostring(e), 2) end
      return e
    end, app, opts, pos)
    if not ok3 then
      if type(r) == "table" and r.kind == "usage" then r.command = r.command or name end
      error(r, 0)
    end
    return r or 0
  end, function(e)
    if type(e) ~= "table" and not tb then tb = debug.traceback(tostring(e), 2) end
    return e
  end)
  if ok then   -- output still buffered can fail now (a full disk, a closed pipe): the command did not do its job
    local flushed, err = pcall(app.flush)
    if not flushed then ok, code = false, err end
  end
  if package.loaded["candor.llm.log"] then pcall(package.loaded["candor.llm.log"].flush) end   -- queued llm_calls rows
  if app and app._db then pcall(app._db.close, app._db) end
  if not ok then return report(app or new_app(global), code, tb) end
  return code
end

return M
