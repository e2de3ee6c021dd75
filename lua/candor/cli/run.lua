-- candor run WORKFLOW
local args = require "candor.cli.args"

local M = {
  name = "run",
  summary = "Run a workflow (loaded fresh from the search path, so edits apply at once).",
  usage = "candor run WORKFLOW [--param KEY=VALUE ...] [--json]",
  description = "WORKFLOW is a name under workflows/ (e.g. examples/demo) or a path to a .lua file.\n"
    .. "Directories on CANDOR_PATH are searched before the built-in workflows.",
  options = {
    { "param", "p", arg = "KEY=VALUE", repeated = true, help = "a workflow parameter (repeatable)" },
    { "json", help = "print the result as JSON" },
    { "max-instructions", arg = "N", help = "stop the workflow after N Lua instructions" },
    { "max-memory", arg = "MB", help = "stop the workflow past MB mebibytes of Lua memory" },
    { "timeout", arg = "SECONDS", help = "stop the workflow after this many seconds" },
  },
  min_args = 1, max_args = 1, args_name = "WORKFLOW",
  examples = { "candor run examples/demo", "candor run ./my-flow.lua --param pain='slow CI builds'" },
}

local function number_opt(opts, key, whole)
  if opts[key] == nil then return nil end
  local n = tonumber(opts[key])
  if not n or n <= 0 or n ~= n or n == math.huge then
    error(args.usage_error("--" .. key .. " must be a positive number"), 0)
  end
  if whole then
    n = math.tointeger(n)
    if not n then error(args.usage_error("--" .. key .. " must be a whole number"), 0) end
  end
  return n
end

function M.run(app, opts, pos)
  local workflow = require "candor.workflow"
  local pretty = require "candor.pretty"
  local params = {}
  for _, kv in ipairs(opts.param or {}) do
    local k, v = kv:match("^([%w_%-]+)=(.*)$")
    if not k then error(args.usage_error("--param wants KEY=VALUE, got '" .. kv .. "'"), 0) end
    params[k] = v
  end
  local wf = workflow.load(pos[1])
  if wf.kind == "action" then
    error(args.usage_error(string.format("'%s' is a workspace action: run it with 'candor session action %s SESSION_ID'",
      pos[1], (wf.name:gsub("^actions/", "")))), 0)
  end
  if wf.kind == "pipeline" then
    error(args.usage_error(string.format("'%s' is a generation pipeline: run it with 'candor generate --pipeline %s ...'",
      pos[1], (wf.name:gsub("^pipelines/", "")))), 0)
  end
  params = workflow.check_params(wf, params)
  local quiet = opts.json or not app.tty
  local task = workflow.run(wf, params, {
    db = app.db(),
    instructions = number_opt(opts, "max-instructions", true),
    memory_mb = number_opt(opts, "max-memory"),
    timeout_s = number_opt(opts, "timeout"),
    on_log = function(msg) io.stderr:write(msg, "\n") end,
    on_progress = not quiet and function(pct, step)
      io.stderr:write(string.format("[%3d%%] %s\n", pct, step or ""))
    end or nil,
  })
  if task.status ~= "done" then
    local e = task.error
    local msg = type(e) == "table" and (e.message and tostring(e.message) or pretty.format(e)) or tostring(e)
    error({ message = msg, traceback = task.traceback }, 0)
  end
  local result = task.results[1]
  if opts.json then
    local json = require "candor.json"
    local ok, text = pcall(json.encode, result == nil and json.null or result)
    if not ok then error("workflow result cannot be written as JSON: " .. tostring(text), 0) end
    app.out(text, "\n")
  elseif result ~= nil then
    app.out(type(result) == "string" and result or pretty.format(result), "\n")
  end
  return 0
end

return M
