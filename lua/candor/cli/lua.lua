-- candor lua FILE [ARGS...]: run a Lua script in the host, with Candor's modules.
return {
  name = "lua",
  summary = "Run a Lua script with Candor's modules (as a task, so it may wait).",
  usage = "candor lua FILE [ARGS...]",
  min_args = 1, args_name = "FILE",
  options_end_at = 1,   -- everything after FILE belongs to the script
  run = function(app, _, pos)
    local async = require "candor.async"
    local chunk, err = loadfile(pos[1])
    if not chunk then error(err, 0) end
    _G.arg = { [0] = pos[1], table.unpack(pos, 2) }
    _G.app = app
    local task = async.wait(async.spawn(chunk, { name = pos[1] }, table.unpack(pos, 2)))
    if task.status ~= "done" then error({ message = tostring(task.error), traceback = task.traceback }, 0) end
    local code = task.results[1]
    return math.type(code) == "integer" and code or 0
  end,
}
