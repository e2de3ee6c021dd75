-- candor scheduler
local show = require "candor.cli.show"

local M = {
  name = "scheduler",
  summary = "Run schedules as they come due, until interrupted (Ctrl-C, SIGTERM).",
  usage = "candor scheduler [--concurrency N] [--tick SECONDS] [--grace SECONDS]",
  description = "Prints a line when a run starts and when it ends. Different schedules run at once, up to\n"
    .. "--concurrency; one schedule never runs twice at once. It sleeps until the next schedule is\n"
    .. "due, and looks again at least every --tick seconds so new schedules are noticed.\n"
    .. "On SIGINT or SIGTERM no new run starts and running ones get --grace seconds to finish\n"
    .. "(a second signal stops them at once); a run stopped that way is recorded as failed.\n"
    .. "Several schedulers (or 'candor schedule run' from cron) may share one database.",
  options = {
    { "concurrency", "c", arg = "N", help = "how many schedules may run at once (default 4)" },
    { "tick", arg = "SECONDS", help = "the longest sleep between two looks at the schedules (default 60)" },
    { "grace", arg = "SECONDS", help = "how long running runs may take to finish after a signal (default 30)" },
  },
  max_args = 0,
  examples = { "candor scheduler", "candor scheduler --concurrency 8" },
}

local function seconds_opt(opts, key, default)
  if opts[key] == nil then return default end
  local n = tonumber(opts[key])
  if not n or n ~= n or n == math.huge or n < 0 then
    error(show.usage("scheduler: --%s must be a number of seconds >= 0", key), 0)
  end
  return n
end

function M.run(app, opts)
  local scheduler = require "candor.scheduler"
  local lines = require "candor.cli.schedule"
  local concurrency = show.whole("scheduler", opts, "concurrency", scheduler.concurrency)
  local tick = seconds_opt(opts, "tick", scheduler.max_sleep_ms / 1000)
  local grace = seconds_opt(opts, "grace", scheduler.grace_ms / 1000)
  local db = app.db()
  local function say(line) app.out(line, "\n") io.stdout:flush() end
  local function note(line) app.err("candor scheduler: ", line, "\n") end
  scheduler.loop(db, {
    concurrency = concurrency,
    tick_ms = math.max(1, math.floor(tick * 1000)),
    grace_ms = math.floor(grace * 1000),
    on_start = function(item) say(lines.start_line(item)) end,
    on_end = function(item, run) say(lines.end_line(item, run)) end,
    on_event = function(ev)
      if ev.type == "ready" then
        note(string.format("running schedules from %s (concurrency %d); Ctrl-C stops", app.db_path(), ev.concurrency))
      elseif ev.type == "stopping" then
        note(string.format("%s: waiting up to %gs for %d running run(s) to finish", ev.reason, ev.grace_ms / 1000,
          ev.running))
      elseif ev.type == "stopped" then
        note("stopped (" .. tostring(ev.reason) .. ")")
      elseif ev.type == "error" then
        note("error" .. (ev.item and (" in " .. ev.item.name) or "") .. ": " .. tostring(ev.error))
      end
    end,
  })
  return 0
end

return M
