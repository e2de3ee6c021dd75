-- The REPL: one chunk at a time, each run as a task on the host loop so it may
-- wait (sleep, LLM calls, await). Expressions print their values. On a terminal
-- it has libedit line editing and history; piped, it runs chunks without prompts.
local async = require "candor.async"
local pretty = require "candor.pretty"
local paths = require "candor.paths"
local host = require "core.host"

local M = {}

-- The names preloaded at the prompt.
function M.environment(app)
  local env = setmetatable({}, { __index = _G })
  local db = app.db()
  env.db = db
  env.repo = require("candor.repo").bind(db)
  env.crypto = require "core.crypto"
  env.json = require "candor.json"
  env.uv = require "luv"
  env.async = async
  env.host = host
  env.pretty = pretty
  env.print_table = function(v, depth) print(pretty.format(v, { depth = depth })) end
  local workflow = require "candor.workflow"
  env.workflows = {
    list = function()
      local out = {}
      for _, f in ipairs(paths.list("workflows", "%.lua$")) do out[#out + 1] = (f.name:gsub("%.lua$", "")) end
      return out
    end,
    load = workflow.load,
    -- run(name, params) -> result; loaded fresh, checked and limited like `candor run`
    run = function(name, params)
      local wf = workflow.load(name)
      local task = workflow.run(wf, workflow.check_params(wf, params or {}), { db = db,
        on_log = function(msg) io.stderr:write(msg, "\n") end,
        on_progress = function(pct, step) io.stderr:write(string.format("[%3d%%] %s\n", pct, step or "")) end })
      if task.status ~= "done" then error(task.error, 0) end
      return table.unpack(task.results, 1, task.results.n)
    end,
  }
  env.run = env.workflows.run
  env.sleep = async.sleep
  env.spawn = function(fn, ...) return async.spawn(fn, nil, ...) end
  -- await(task) -> its results: tasks returned at the prompt are awaited for you.
  env.await = function(t) return t:await() end
  return env
end

local function incomplete(err)
  return err:find("<eof>", 1, true) ~= nil
end

-- compile(src, env) -> chunk | nil, err, is_incomplete. Tries it as an expression first.
function M.compile(src, env)
  local chunk = load("return " .. src, "=stdin", "t", env)
  if chunk then return chunk end
  local err
  chunk, err = load(src, "=stdin", "t", env)
  if chunk then return chunk end
  return nil, err, incomplete(err)
end

local function is_task(v)
  return type(v) == "table" and getmetatable(v) and v.co ~= nil and v.await ~= nil
end

-- Runs a chunk as a task; a task it returns is awaited. -> ok, results (packed) | false, message
function M.eval(chunk)
  local task = async.wait(async.spawn(function()
    local r = table.pack(chunk())
    if r.n == 1 and is_task(r[1]) then return r[1]:await() end
    return table.unpack(r, 1, r.n)
  end, { name = "repl" }))
  if task.status == "done" then return true, task.results end
  return false, tostring(task.error), task.traceback
end

function M.show(results)
  if results.n == 0 then return nil end
  local parts = {}
  for i = 1, results.n do parts[i] = pretty.format(results[i]) end
  return table.concat(parts, "\t")
end

-- The input source: libedit on a terminal, plain lines otherwise.
local function reader(tty)
  if not tty then
    return function() return io.stdin:read("L") end
  end
  local edit = require "core.edit"
  return function(prompt)
    local line = edit.readline(prompt)
    return line and (line .. "\n")
  end
end

function M.run(app)
  local tty = host.isatty(0)
  local env = M.environment(app)
  local read = reader(tty)
  local edit, history
  if tty then
    edit = require "core.edit"
    local ok = paths.mkdir_p(paths.state_home())
    history = ok and (paths.state_home() .. "/history")
    if history then edit.load_history(history) end
    io.stdout:write(string.format("candor %s REPL on %s. Preloaded: db, repo, workflows, run, crypto, json, async, sleep, await.\n",
      require "candor.version", app.db_path()))
    io.stdout:write("Expressions print their value; tasks are awaited. Ctrl-D to leave.\n")
  end
  local failures = 0
  local buffer = nil
  while true do
    local line = read(buffer and ">> " or "candor> ")
    if not line then break end
    buffer = (buffer or "") .. line
    local chunk, err, more = M.compile(buffer, env)
    if not more then
      if tty and buffer:match("%S") then edit.add_history((buffer:gsub("\n$", ""))) end
      if chunk then
        local ok, res, tb = M.eval(chunk)
        if ok then
          local text = M.show(res)
          if text then io.stdout:write(text, "\n") end
        else
          failures = failures + 1
          io.stderr:write(app.verbose and tb or res, "\n")
        end
      elseif buffer:match("%S") then
        failures = failures + 1
        io.stderr:write(err, "\n")
      end
      io.stdout:flush()
      buffer = nil
    end
  end
  if buffer and buffer:match("%S") then
    failures = failures + 1
    io.stderr:write("incomplete input at end: ", (select(2, M.compile(buffer, env))), "\n")
  end
  if history then edit.save_history(history) end
  if tty then io.stdout:write("\n") end
  return failures > 0 and 1 or 0
end

return M
