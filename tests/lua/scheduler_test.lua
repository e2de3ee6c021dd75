-- The scheduler: due selection, catch-up after downtime, no overlapping runs,
-- recovery of runs whose process died, real workflow runs, the loop and its
-- stop, and candor schedule / candor scheduler as a user meets them.
local T = require "candor.testing"
local dbm = require "candor.db"
local async = require "candor.async"
local json = require "candor.json"
local uv = require "luv"
local S = require "candor.schedule"
local scheduler = require "candor.scheduler"
local W = require "candor.repo.workflow_schedules"
local D = require "candor.repo.discovery_schedules"
local Runs = require "candor.repo.schedule_runs"

local NOW = S.epoch("2025-06-02T12:00:00.000Z")
local HOUR = 3600

local function fresh()
  local path = T.tmpdir() .. "/s.db"
  return dbm.open(path), path
end

local function priority_id(db) return db:value("SELECT id FROM messaging_priorities WHERE slug = 'general'") end

-- Runs body with scheduler.now frozen at t (nil: the real clock) and the given
-- stand-ins for the runners; everything is put back however body ends.
local function with(opts, body)
  local saved_now, saved_disc, saved_busy = scheduler.now, scheduler.runners.discovery, scheduler.busy_ms
  if opts.now then scheduler.now = function() return opts.now end end
  if opts.discovery then scheduler.runners.discovery = opts.discovery end
  if opts.busy_ms then scheduler.busy_ms = opts.busy_ms end
  local ok, err = pcall(body)
  scheduler.now, scheduler.runners.discovery, scheduler.busy_ms = saved_now, saved_disc, saved_busy
  if not ok then error(err, 0) end
end

local function add_workflow(db, fields)
  local row = { name = "w" .. tostring(math.random(1e9)), workflow = "examples/demo", params = {}, spec = "1h",
    time_zone = "UTC", is_active = true }
  for k, v in pairs(fields or {}) do row[k] = v end
  return W:insert(db, row)
end

local function add_discovery(db, config, fields)
  local row = { priority_id = priority_id(db), source_type = "hn", config = config or { schedule = "1h" }, is_active = true }
  for k, v in pairs(fields or {}) do row[k] = v end
  return D:insert(db, row)
end

local function keys(items)
  local out = {}
  for i, it in ipairs(items) do out[i] = it.kind .. ":" .. (it.kind == "workflow" and it.row.name or it.row.source_type) end
  return out
end

local dead_pid = T.dead_pid

local function write_workflow(dir, name, src)
  require("candor.paths").mkdir_p(dir .. "/workflows")
  return T.write_file(dir .. "/workflows/" .. name .. ".lua", src)
end

local COUNT_WF = [[
return {
  name = "count",
  description = "counts to n",
  params = { n = { "how far", default = 3, type = "number" }, fail = { "fail on purpose", default = false, type = "boolean" } },
  run = function(ctx, p)
    ctx.progress(50, "counting")
    if p.fail then error("asked to fail") end
    local rows = ctx.db:value("SELECT count(*) FROM settings")
    return { processed = p.n, settings = rows, note = "text is not a count" }
  end,
}
]]

---------------------------------------------------------------- due

T.test("scheduler: due finds both kinds, earliest first; not disabled, future or an inactive priority's", function()
  local db = fresh()
  local past, future = S.iso(NOW - HOUR), S.iso(NOW + HOUR)
  add_workflow(db, { name = "late", next_run_at = S.iso(NOW - 2 * HOUR) })
  add_workflow(db, { name = "never-set", next_run_at = nil })          -- NULL: due now
  add_workflow(db, { name = "exact", next_run_at = S.iso(NOW) })
  add_workflow(db, { name = "later", next_run_at = future })
  add_workflow(db, { name = "off", next_run_at = past, is_active = false })
  add_discovery(db, { schedule = "2h" }, { source_type = "reddit", next_run_at = past })
  add_discovery(db, { schedule = "2h" }, { source_type = "github", next_run_at = future })
  local other = require("candor.repo.messaging_priorities"):insert(db, { name = "Off", slug = "off", description = "",
    keywords = {}, product_context = "", is_active = false })
  add_discovery(db, { schedule = "2h" }, { source_type = "hn", priority_id = other.id, next_run_at = past })
  local due = scheduler.due(db, NOW)
  T.eq(keys(due), { "workflow:never-set", "workflow:late", "discovery:reddit", "workflow:exact" })
  local d = due[3]
  T.eq({ d.name, d.spec, d.zone, d.schedule.seconds }, { "general/reddit", "2h", "UTC", 7200 })
  T.eq(scheduler.next_due(db), 0, "a NULL next_run_at is due now")
  db:run("UPDATE workflow_schedules SET next_run_at = ? WHERE next_run_at IS NULL", future)
  T.eq(scheduler.next_due(db), NOW - 2 * HOUR)
end)

T.test("scheduler: a discovery config's schedule and time_zone, else the discovery_interval setting, else 4h", function()
  local db = fresh()
  local a = add_discovery(db, { schedule = "0 9 * * *", time_zone = "Europe/Berlin", name = "berlin mornings" })
  local b = add_discovery(db, { keywords = { "ci" } })
  local c = add_discovery(db, { schedule = "0 0 32 * *" })
  local items = {}
  for _, it in ipairs(scheduler.due(db, NOW)) do items[it.id] = it end
  T.eq({ items[a.id].name, items[a.id].schedule.kind, items[a.id].zone }, { "berlin mornings", "cron", "Europe/Berlin" })
  T.eq({ items[b.id].spec, items[b.id].schedule.seconds }, { "4h", 14400 })
  T.contains(items[c.id].error, "cron field 3 (day of month): 32 is out of range 1-31")
  require("candor.repo.settings"):set_value(db, "discovery_interval", "90m")
  for _, it in ipairs(scheduler.due(db, NOW)) do items[it.id] = it end
  T.eq(items[b.id].schedule.seconds, 5400, "discovery_interval setting")
end)

---------------------------------------------------------------- catch-up

T.test("scheduler: ten intervals overdue runs once, and the next run is one interval from now", function()
  local db = fresh()
  local calls = 0
  with({ now = NOW, discovery = function() calls = calls + 1 return { fetched = 4, kept = 1 } end }, function()
    local d = add_discovery(db, { schedule = "1h" }, { next_run_at = S.iso(NOW - 10 * HOUR) })
    local c = add_discovery(db, { schedule = "0 */6 * * *" }, { source_type = "reddit", next_run_at = S.iso(NOW - 60 * HOUR) })
    local results = scheduler.run_due(db)
    T.eq(#results, 2)
    T.eq(calls, 2, "each schedule ran once")
    T.eq(D:get(db, d.id).next_run_at, S.iso(NOW + HOUR), "interval: one interval from now")
    T.eq(D:get(db, c.id).next_run_at, "2025-06-02T18:00:00.000Z", "cron: its next time after now")
    T.eq(D:get(db, d.id).last_run_at, S.iso(NOW))
    local run = Runs:last(db, "discovery", d.id)
    T.eq({ run.outcome, run.counts, run.started_at }, { "completed", { fetched = 4, kept = 1 }, S.iso(NOW) })
    T.eq(#scheduler.run_due(db), 0, "nothing is due again until the next interval")
    T.eq(calls, 2)
    T.eq(Runs:count(db), 2, "one run row per run")
  end)
end)

---------------------------------------------------------------- overlap

T.test("scheduler: two run_due at once run a schedule once; a run in progress is never started twice", function()
  local db = fresh()
  local calls, inner = 0, nil
  local d
  with({ now = NOW, discovery = function(db2)
    calls = calls + 1
    -- while it runs, make it due again and try to start it once more
    db2:run("UPDATE discovery_schedules SET next_run_at = ? WHERE id = ?", S.iso(NOW - 1), d.id)
    inner = { scheduler.run_one(db2, scheduler.due(db2, NOW)[1]) }
    async.sleep(30)
    return { fetched = 1 }
  end }, function()
    d = add_discovery(db, { schedule = "1h" }, { next_run_at = S.iso(NOW - 3 * HOUR) })
    local r1, r2 = async.run(function()
      local a = async.spawn(scheduler.run_due, nil, db)
      local b = async.spawn(scheduler.run_due, nil, db)
      return a:await(), b:await()
    end)
    T.eq(calls, 1, "ran once")
    T.eq(inner, { nil, "already running" })
    local ran = 0
    for _, list in ipairs({ r1, r2 }) do
      for _, r in ipairs(list) do if r.run then ran = ran + 1 else T.ok(r.skipped, "a skip says why") end end
    end
    T.eq(ran, 1)
    T.eq(Runs:count(db), 1)
    T.eq(#Runs:running(db), 0)
  end)
end)

---------------------------------------------------------------- recovery

T.test("scheduler: a run whose process died is failed, and its schedule is due again", function()
  local db = fresh()
  local me = uv.os_gethostname()
  local pid = dead_pid()
  local w = add_workflow(db, { name = "crashed", next_run_at = S.iso(NOW + HOUR), running_since = S.iso(NOW - 60),
    runner = { pid = pid, host = me } })
  local dead = Runs:insert(db, { schedule_kind = "workflow", schedule_id = w.id, started_at = S.iso(NOW - 60),
    outcome = "running", runner = { pid = pid, host = me, started_at = S.iso(NOW - 60) } })
  -- another host's run: we cannot tell, so it stays running
  local d = add_discovery(db, { schedule = "1h" }, { next_run_at = S.iso(NOW - 1) })
  local remote = Runs:insert(db, { schedule_kind = "discovery", schedule_id = d.id, started_at = S.iso(NOW - 60),
    outcome = "running", runner = { pid = pid, host = me .. "-elsewhere" } })
  -- our own pid, but not a run of this process: an earlier process with the same pid
  local d2 = add_discovery(db, { schedule = "1h" }, { source_type = "reddit", next_run_at = S.iso(NOW + HOUR) })
  local stale = Runs:insert(db, { schedule_kind = "discovery", schedule_id = d2.id, started_at = S.iso(NOW - 60),
    outcome = "running", runner = { pid = math.tointeger(uv.os_getpid()), host = me } })

  T.eq(scheduler.recover(db, NOW), 2)
  local r = Runs:get(db, dead.id)
  T.eq(r.outcome, "failed")
  T.eq(r.error_message, string.format("the process running this schedule (pid %d) stopped before the run finished", pid))
  T.eq(r.ended_at, S.iso(NOW))
  T.eq(Runs:get(db, stale.id).outcome, "failed")
  T.eq(Runs:get(db, remote.id).outcome, "running")
  local row = W:get(db, w.id)
  T.eq({ row.next_run_at, row.running_since, row.runner }, { S.iso(NOW), nil, nil }, "due again at once, marker cleared")
  T.eq(D:get(db, d2.id).next_run_at, S.iso(NOW))
  local due = {}
  for _, it in ipairs(scheduler.due(db, NOW)) do due[it.id] = it end
  T.ok(due[w.id] and due[d2.id] and due[d.id], "all three are due")
  T.eq({ scheduler.run_one(db, due[d.id], { now = NOW }) }, { nil, "already running" }, "the remote run holds it")
  T.eq(scheduler.recover(db, NOW), 0, "a second check changes nothing")
end)

T.test("scheduler: candor schedule run killed mid-run: the next command marks the run failed and it runs again", function()
  local dir = T.tmpdir()
  write_workflow(dir, "crashy", string.format([[
return { name = "crashy", description = "dies the first time",
  run = function(ctx)
    local marker = %q
    local f = io.open(marker, "r")
    if not f then
      io.open(marker, "w"):close()
      require("luv").kill(require("luv").os_getpid(), "sigkill")
      ctx.sleep(5000)
    end
    f:close()
    return { survived = 1 }
  end }
]], dir .. "/marker"))
  local env = { CANDOR_DB = dir .. "/c.db", CANDOR_PATH = dir, HOME = dir, XDG_STATE_HOME = dir .. "/state" }
  local function candor(argv) return T.candor(argv, { env = env, unset = { "NO_COLOR" } }) end
  T.eq(candor({ "schedule", "add", "--workflow", "crashy", "--every", "1d" }).code, 0)
  candor({ "sql", "--write", "UPDATE workflow_schedules SET next_run_at = '2000-01-01T00:00:00.000Z'" })
  local r = candor({ "schedule", "run" })
  T.ok(r.code ~= 0 and r.out:find("started   workflow crashy", 1, true) and not r.out:find("completed"), r.out .. r.err)
  local list = json.decode(candor({ "schedule", "list", "--json" }).out)
  T.eq(list[1].last_run.outcome, "failed")
  T.contains(list[1].last_run.error_message, "stopped before the run finished")
  T.eq(list[1].running, false)
  T.ok(S.epoch(list[1].next_run_at) <= S.now(), "due again: " .. list[1].next_run_at)
  r = candor({ "schedule", "run" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "completed workflow crashy")
  T.contains(r.out, "survived 1")
end)

---------------------------------------------------------------- what runs

T.test("scheduler: a workflow schedule runs the workflow with its parameters; failures keep file and line", function()
  local db = fresh()
  local dir = T.tmpdir()
  local path = write_workflow(dir, "count", COUNT_WF)
  local ok_s = add_workflow(db, { name = "count", workflow = path, params = { n = "7" }, next_run_at = S.iso(NOW - 1) })
  local bad = add_workflow(db, { name = "count-fails", workflow = path, params = { fail = "true" }, next_run_at = S.iso(NOW - 1) })
  local gone = add_workflow(db, { name = "gone", workflow = "no/such/workflow", next_run_at = S.iso(NOW - 1) })
  local wrong = add_workflow(db, { name = "wrong-param", workflow = path, params = { colour = "red" }, next_run_at = S.iso(NOW - 1) })
  local started, ended, progress = {}, {}, {}
  with({ now = NOW }, function()
    scheduler.run_due(db, { concurrency = 2,
      on_start = function(item) started[#started + 1] = item.name end,
      on_end = function(item, run) ended[item.name] = run end,
      on_progress = function(item, pct, step) progress[#progress + 1] = item.name .. " " .. pct .. " " .. step end })
  end)
  T.eq(#started, 4)
  T.eq({ ended.count.outcome, ended.count.counts }, { "completed", { processed = 7, settings = db:value("SELECT count(*) FROM settings") } })
  T.eq(ended["count-fails"].outcome, "failed")
  T.ok(ended["count-fails"].error_message:find("count.lua:%d+: asked to fail"), ended["count-fails"].error_message)
  T.contains(ended.gone.error_message, "no workflow named 'no/such/workflow'")
  T.contains(ended["wrong-param"].error_message, "has no parameter 'colour'")
  T.contains(table.concat(progress, "\n"), "count 50 counting")
  T.eq(select(3, require("core.host").memory()), 0, "overlapping runs put the memory cap back")
  for _, s in ipairs({ ok_s, bad, gone, wrong }) do
    local row = W:get(db, s.id)
    T.eq({ row.last_run_at, row.next_run_at, row.running_since }, { S.iso(NOW), S.iso(NOW + HOUR), nil }, s.name)
  end
end)

T.test("scheduler: discovery runs record counts; a failed source or a bad spec is a failed run", function()
  local db = fresh()
  local seen = {}
  with({ now = NOW, discovery = function(_, row, opts)
    seen[row.source_type] = { row = row, opts = opts }
    if row.source_type == "reddit" then
      return { fetched = 0, kept = 0, source_error = { kind = "rate_limited", message = "reddit: rate limited" } }
    end
    if row.source_type == "github" then return nil, { kind = "config", message = "github: no token" } end
    return { fetched = 12, kept = 2, pain_point_ids = { "a", "b" }, priority = "general" }
  end }, function()
    local ok_d = add_discovery(db, { schedule = "1h", keywords = { "ci" } }, { next_run_at = S.iso(NOW - 1) })
    local rl = add_discovery(db, { schedule = "1h" }, { source_type = "reddit", next_run_at = S.iso(NOW - 1) })
    local gh = add_discovery(db, { schedule = "1h" }, { source_type = "github", next_run_at = S.iso(NOW - 1) })
    local badspec = add_discovery(db, { schedule = "every day" }, { source_type = "stackexchange", next_run_at = S.iso(NOW - 1) })
    scheduler.run_due(db, { concurrency = 1 })
    local r = Runs:last(db, "discovery", ok_d.id)
    T.eq({ r.outcome, r.counts }, { "completed", { fetched = 12, kept = 2 } })
    r = Runs:last(db, "discovery", rl.id)
    T.eq({ r.outcome, r.error_message, r.counts }, { "failed", "reddit: rate limited", { fetched = 0, kept = 0 } })
    T.eq(Runs:last(db, "discovery", gh.id).error_message, "github: no token")
    r = Runs:last(db, "discovery", badspec.id)
    T.eq(r.outcome, "failed")
    T.contains(r.error_message, "invalid schedule: cron expression 'every day' has 2 fields")
    T.eq(D:get(db, badspec.id).next_run_at, S.iso(NOW + 4 * HOUR), "a bad spec waits the default interval")
    T.eq({ seen.hn.row.config.keywords, seen.reddit.row.config.keywords }, { { "ci" }, nil },
      "the runner got each schedule's own row")
    T.eq(type(seen.hn.opts.on_log), "nil", "no on_log asked for")
  end)
end)

T.test("scheduler: without a stand-in, discovery runs candor.discovery (an unknown source fails the run)", function()
  local db = fresh()
  local d = add_discovery(db, { schedule = "1h" }, { source_type = "nosuchsource", next_run_at = S.iso(NOW - 1) })
  with({ now = NOW }, function() scheduler.run_due(db) end)
  local r = Runs:last(db, "discovery", d.id)
  T.eq(r.outcome, "failed")
  T.ok(r.error_message and r.error_message ~= "", "says why")
end)

---------------------------------------------------------------- the loop

T.test("scheduler: the loop runs schedules as they come due, side by side, never one twice at once", function()
  local db = fresh()
  local live, most, both, runs = {}, {}, false, {}
  local opts
  local a, b
  with({ busy_ms = 10, discovery = function(db2, row)
    live[row.id] = (live[row.id] or 0) + 1
    most[row.id] = math.max(most[row.id] or 0, live[row.id])
    if live[a.id] and live[a.id] > 0 and live[b.id] and live[b.id] > 0 then both = true end
    runs[#runs + 1] = row.source_type
    -- due again straight away: the loop must still wait for this run to end
    db2:run("UPDATE discovery_schedules SET next_run_at = ? WHERE id = ?", S.iso(S.now() - 1), row.id)
    async.sleep(40)
    live[row.id] = live[row.id] - 1
    if #runs >= 6 then opts.stop("test") end
    return { fetched = 1 }
  end }, function()
    a = add_discovery(db, { schedule = "1h" }, { source_type = "hn" })
    b = add_discovery(db, { schedule = "1h" }, { source_type = "reddit" })
    opts = { concurrency = 4, tick_ms = 1000 }
    local t0 = uv.hrtime()
    local reason = scheduler.loop(db, opts)
    T.eq(reason, "test")
    T.ok((uv.hrtime() - t0) / 1e6 < 3000, "back to back, not a tick apart")
  end)
  T.ok(#runs >= 6, "ran " .. #runs)
  T.eq({ most[a.id], most[b.id] }, { 1, 1 }, "never the same schedule twice at once")
  T.ok(both, "the two schedules ran side by side")
  T.eq(#Runs:running(db), 0, "every run recorded as ended")
end)

T.test("scheduler: the loop sleeps until the next due time, and sees a schedule added meanwhile within a tick", function()
  local db = fresh()
  local ran, opts = {}, nil
  local t0 = uv.hrtime()
  local function ms() return (uv.hrtime() - t0) / 1e6 end
  with({ discovery = function(_, row)
    ran[row.source_type] = ms()
    if ran.hn and ran.reddit then opts.stop("test") end
    return {}
  end }, function()
    -- due in 300 ms; the loop looks at least once a second
    add_discovery(db, { schedule = "1h" }, { source_type = "hn", next_run_at = S.iso(S.now() + 0.3) })
    opts = { tick_ms = 1000 }
    async.run(function()
      local loop = async.spawn(scheduler.loop, nil, db, opts)
      async.sleep(500)
      -- added while the loop sleeps toward a run an hour away: seen at the next tick
      add_discovery(db, { schedule = "1h" }, { source_type = "reddit" })
      loop:await()
    end)
  end)
  T.ok(ran.hn and ran.hn >= 250 and ran.hn < 900, "the due one ran at its time, not at a tick: " .. tostring(ran.hn))
  T.ok(ran.reddit and ran.reddit >= 900 and ran.reddit < 3000, "the new one ran at the next tick: " .. tostring(ran.reddit))
end)

T.test("scheduler: stopping lets a short run finish and records a long one as stopped", function()
  local db = fresh()
  local opts
  with({ discovery = function(_, row)
    if row.source_type == "hn" then async.sleep(20) return { fetched = 1 } end
    opts.stop("SIGTERM")
    async.sleep(10000)
    return { fetched = 2 }
  end }, function()
    local quick = add_discovery(db, { schedule = "1h" }, { source_type = "hn" })
    local slow = add_discovery(db, { schedule = "1h" }, { source_type = "reddit" })
    opts = { grace_ms = 300, tick_ms = 1000 }
    local events = {}
    opts.on_event = function(ev) events[#events + 1] = ev.type end
    local t0 = uv.hrtime()
    T.eq(scheduler.loop(db, opts), "SIGTERM")
    local ms = (uv.hrtime() - t0) / 1e6
    T.ok(ms < 3000, "stopped after the grace, not the run: " .. ms)
    T.eq(Runs:last(db, "discovery", quick.id).outcome, "completed", "finished within the grace")
    local r = Runs:last(db, "discovery", slow.id)
    T.eq({ r.outcome, r.error_message }, { "failed", "the scheduler was stopped (SIGTERM) before this run finished" })
    T.eq(events[#events], "stopped")
    T.contains(table.concat(events, " "), "stopping")
  end)
end)

---------------------------------------------------------------- the CLI

local function env_for(dir)
  return { CANDOR_DB = dir .. "/c.db", CANDOR_PATH = dir, HOME = dir, XDG_STATE_HOME = dir .. "/state" }
end
local function cli(dir, argv) return T.candor(argv, { env = env_for(dir), unset = { "NO_COLOR" } }) end

T.test("schedule CLI: add, list, edit, disable, enable, run, history, remove", function()
  local dir = T.tmpdir()
  write_workflow(dir, "count", COUNT_WF)
  local r = cli(dir, { "schedule", "add", "--workflow", "count", "--param", "n=5", "--every", "4h" })
  T.eq(r.code, 0, r.err)
  T.ok(r.out:match("^Added workflow schedule count %(" .. ("[%w_-]"):rep(21) .. "%): every 4h, next run %d%d%d%d%-%d%d%-%d%d %d%d:%d%d UTC\n$"), r.out)
  r = cli(dir, { "schedule", "add", "--workflow", "count", "--name", "mornings", "--cron", "0 9 * * mon-fri", "--tz", "Europe/Berlin" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "cron 0 9 * * mon-fri (Europe/Berlin), next run ")
  T.ok(r.out:find("09:00 CES?T\n$"), r.out)
  r = cli(dir, { "schedule", "add", "--discovery", "--priority", "general", "--source", "hn", "--every", "2h30m",
    "--config", '{"keywords": ["flaky tests"]}' })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "(general/hn): every 2h30m")
  local disc_id = r.out:match("^Added discovery schedule (%S+)")
  r = cli(dir, { "schedule", "add", "--workflow", "count", "--every", "1h" })
  T.eq(r.code, 1)
  T.contains(r.err, "a schedule named 'count' exists already (pass --name to add another)")

  r = cli(dir, { "schedule", "list" })
  T.eq(r.code, 0, r.err)
  T.ok(r.out:match("^kind%s+id%s+name%s+schedule%s+next run%s+last run\n"), r.out)
  T.ok(r.out:find("discovery%s+" .. disc_id:gsub("%p", "%%%0") .. "%s+general/hn%s+every 2h30m"), r.out)
  T.ok(r.out:find("workflow%s+%S+%s+mornings%s+cron 0 9 %* %* mon%-fri"), r.out)
  T.contains(r.out, "never")
  local list = json.decode(cli(dir, { "schedule", "list", "--json" }).out)
  T.eq(#list, 3)
  local byname = {}
  for _, s in ipairs(list) do byname[s.name] = s end
  T.eq({ byname.count.params, byname.count.spec, byname.count.active, byname.count.running },
    { { n = "5" }, "4h", true, false })
  T.eq({ byname["general/hn"].source_type, byname["general/hn"].priority }, { "hn", "general" })
  T.eq(byname.mornings.time_zone, "Europe/Berlin")
  local config = json.decode(cli(dir, { "sql", "--json", "SELECT config FROM discovery_schedules" }).out)[1].config
  T.eq(json.decode(config), { keywords = { "flaky tests" }, schedule = "2h30m", time_zone = "UTC" })

  r = cli(dir, { "schedule", "edit", "count", "--cron", "*/30 * * * *", "--param", "n=9" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "Changed workflow schedule count: cron */30 * * * *")
  r = cli(dir, { "schedule", "edit", disc_id, "--tz", "America/New_York", "--config", '{"limit": 20}' })
  T.eq(r.code, 0, r.err)
  config = json.decode(json.decode(cli(dir, { "sql", "--json", "SELECT config FROM discovery_schedules" }).out)[1].config)
  T.eq(config, { keywords = { "flaky tests" }, schedule = "2h30m", time_zone = "America/New_York", limit = 20 })
  T.eq(cli(dir, { "schedule", "disable", "mornings" }).out, "Disabled workflow schedule mornings\n")
  T.contains(cli(dir, { "schedule", "list" }).out, "disabled")

  -- make two due and run them
  cli(dir, { "sql", "--write", "UPDATE workflow_schedules SET next_run_at = '2000-01-01T00:00:00.000Z'" })
  r = cli(dir, { "schedule", "run" })
  T.eq(r.code, 0, r.err)
  T.eq(r.out, "started   workflow count\ncompleted workflow count in " .. r.out:match("in (%d+ms)") ..
    ": processed 9, settings " .. r.out:match("settings (%d+)") .. "\n", "only the enabled one ran")
  r = cli(dir, { "schedule", "run" })
  T.eq(r.code, 0)
  T.ok(r.out:match("^nothing due; the next run is at %d%d%d%d%-%d%d%-%d%d %d%d:%d%d UTC\n$"), r.out)
  r = cli(dir, { "schedule", "enable", "mornings" })
  T.ok(r.out:match("^Enabled workflow schedule mornings, next run .* CES?T\n$"), r.out)
  r = cli(dir, { "schedule", "list" })
  T.ok(r.out:find("count .- completed %(processed 9, settings %d+%)"), r.out)

  -- a failing run: exit 1, and history shows both
  cli(dir, { "schedule", "edit", "count", "--param", "fail=true" })
  cli(dir, { "sql", "--write", "UPDATE workflow_schedules SET next_run_at = '2000-01-01T00:00:00.000Z' WHERE name = 'count'" })
  r = cli(dir, { "schedule", "run", "--concurrency", "2" })
  T.eq(r.code, 1)
  T.contains(r.out, "failed    workflow count in ")
  T.contains(r.out, "asked to fail")
  T.eq(r.err, "candor: 1 of 1 scheduled run failed\n")
  r = cli(dir, { "schedule", "history", "count" })
  T.eq(r.code, 0, r.err)
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  T.eq(#lines, 3, r.out)
  T.ok(lines[2]:find("workflow%s+count%s+failed") and lines[2]:find("asked to fail"), lines[2])
  T.ok(lines[3]:find("workflow%s+count%s+completed%s+%d+ms%s+processed 9"), lines[3])
  local hist = json.decode(cli(dir, { "schedule", "history", "--json", "--limit", "1" }).out)
  T.eq({ #hist, hist[1].name, hist[1].outcome, hist[1].schedule_kind }, { 1, "count", "failed", "workflow" })

  r = cli(dir, { "schedule", "remove", "count" })
  T.eq(r.out, "Removed workflow schedule count (its run history stays)\n")
  T.contains(cli(dir, { "schedule", "history" }).out, "(removed)")
  T.eq(cli(dir, { "schedule", "show" }).code, 2)
end)

T.test("schedule CLI: wrong specs and options are usage errors (exit 2)", function()
  local dir = T.tmpdir()
  write_workflow(dir, "count", COUNT_WF)
  local cases = {
    { { "schedule", "add", "--workflow", "count", "--every", "30s" }, "interval '30s' is shorter than the minimum of 1 minute" },
    { { "schedule", "add", "--workflow", "count", "--cron", "0 0 32 * *" }, "cron field 3 %(day of month%): 32 is out of range 1%-31" },
    { { "schedule", "add", "--workflow", "count", "--cron", "* * * *" }, "has 4 fields; it needs 5" },
    { { "schedule", "add", "--workflow", "count", "--every", "0 9 * * *" }, "%-%-every takes an interval" },
    { { "schedule", "add", "--workflow", "count", "--cron", "4h" }, "%-%-cron takes a five%-field cron expression" },
    { { "schedule", "add", "--workflow", "count", "--every", "1h", "--cron", "@daily" }, "give %-%-every or %-%-cron, not both" },
    { { "schedule", "add", "--workflow", "count", "--every", "1h", "--tz", "Mars/Olympus" }, "unknown time zone 'Mars/Olympus'" },
    { { "schedule", "add", "--workflow", "count", "--every", "1h", "--tz", "../../etc/passwd" }, "invalid time zone name" },
    { { "schedule", "add", "--workflow", "count" }, "say when it runs" },
    { { "schedule", "add", "--every", "1h" }, "say what runs" },
    { { "schedule", "add", "--workflow", "count", "--discovery", "--every", "1h" }, "not both" },
    { { "schedule", "add", "--workflow", "nope", "--every", "1h" }, "no workflow named 'nope'" },
    { { "schedule", "add", "--workflow", "count", "--param", "colour=red", "--every", "1h" }, "has no parameter 'colour'" },
    { { "schedule", "add", "--workflow", "count", "--param", "novalue", "--every", "1h" }, "%-%-param wants KEY=VALUE" },
    { { "schedule", "add", "--discovery", "--source", "hn", "--every", "1h" }, "missing %-%-priority" },
    { { "schedule", "add", "--discovery", "--priority", "general", "--source", "hn", "--every", "1h", "--config", "[1]" }, "must be a JSON object" },
    { { "schedule", "add", "--discovery", "--priority", "general", "--source", "hn", "--every", "1h", "--config", "{" }, "is not JSON" },
    { { "schedule", "add", "--discovery", "--priority", "general", "--source", "no_such", "--every", "1h" }, "unknown source 'no_such'" },
    { { "schedule", "list", "--every", "1h" }, "option %-%-every is not for this subcommand" },
    { { "schedule", "run", "--concurrency", "0" }, "%-%-concurrency must be a whole number >= 1" },
    { { "schedule", "edit" }, "missing the schedule ID" },
    { { "schedule", "frobnicate" }, "unknown subcommand 'frobnicate'" },
    { { "schedule" }, "missing a subcommand" },
    { { "scheduler", "--concurrency", "x" }, "%-%-concurrency must be a whole number" },
  }
  for _, case in ipairs(cases) do
    local r = cli(dir, case[1])
    local what = table.concat(case[1], " ")
    T.eq(r.code, 2, what .. ": " .. r.err)
    T.ok(r.err:find(case[2]), what .. ": " .. r.err)
    T.contains(r.err, "Try 'candor", what)
  end
  T.eq(json.decode(cli(dir, { "schedule", "list", "--json" }).out), {}, "nothing was added")
  local r = cli(dir, { "schedule", "edit", "nope", "--every", "1h" })
  T.eq({ r.code, r.err }, { 1, "candor: no schedule 'nope' (see 'candor schedule list')\n" })
  cli(dir, { "schedule", "add", "--workflow", "count", "--every", "1h" })
  r = cli(dir, { "schedule", "edit", "count", "--cron", "61 * * * *" })
  T.eq(r.code, 2)
  T.contains(r.err, "cron field 1 (minute): 61 is out of range 0-59")
  for _, c in ipairs({ "schedule", "scheduler" }) do
    r = cli(dir, { c, "--help" })
    T.eq(r.code, 0)
    T.contains(r.out, "Usage: candor " .. c)
  end
end)

T.test("schedule CLI: two 'schedule run' at once run a due schedule once", function()
  local dir = T.tmpdir()
  write_workflow(dir, "slow", [[
return { name = "slow", description = "takes a while", run = function(ctx) ctx.sleep(400) return { slept = 1 } end }
]])
  T.eq(cli(dir, { "schedule", "add", "--workflow", "slow", "--every", "1h" }).code, 0)
  cli(dir, { "sql", "--write", "UPDATE workflow_schedules SET next_run_at = '2000-01-01T00:00:00.000Z'" })
  local a, b = async.run(function()
    local env = env_for(dir)
    local t1 = async.spawn(T.candor_async, nil, { "schedule", "run" }, { env = env })
    local t2 = async.spawn(T.candor_async, nil, { "schedule", "run" }, { env = env })
    return t1:await(), t2:await()
  end)
  T.eq({ a.code, b.code }, { 0, 0 }, a.err .. b.err)
  local started = select(2, (a.out .. b.out):gsub("started   workflow slow", ""))
  T.eq(started, 1, a.out .. b.out)
  T.eq(cli(dir, { "sql", "SELECT count(*) AS n FROM schedule_runs" }).out, "n\n1\n")
end)

T.test("candor scheduler: runs what is due, a line per start and end; SIGTERM stops it cleanly", function()
  local dir = T.tmpdir()
  write_workflow(dir, "count", COUNT_WF)
  T.eq(cli(dir, { "schedule", "add", "--workflow", "count", "--every", "1h" }).code, 0)
  cli(dir, { "sql", "--write", "UPDATE workflow_schedules SET next_run_at = NULL" })
  local out_path, err_path = dir .. "/out", dir .. "/err"
  local result = async.run(function()
    local env = {}
    for k, v in pairs(env_for(dir)) do env[#env + 1] = k .. "=" .. v end
    for _, k in ipairs({ "PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS" }) do
      if os.getenv(k) then env[#env + 1] = k .. "=" .. os.getenv(k) end
    end
    local outfd = assert(uv.fs_open(out_path, "w", 420))
    local errfd = assert(uv.fs_open(err_path, "w", 420))
    local handle, code, signal
    local done = async.spawn(function()
      async.suspend(function(wake)
        handle = assert(uv.spawn(T.binary, { args = { "scheduler", "--tick", "0.2" }, env = env,
          stdio = { nil, outfd, errfd } }, function(c, sig)
          code, signal = c, sig
          handle:close()
          wake()
        end))
      end)
    end)
    local waited = 0
    while not (T.read_file(out_path) or ""):find("completed workflow count") and waited < 10000 do
      async.sleep(50)
      waited = waited + 50
    end
    handle:kill("sigterm")
    done:await()
    uv.fs_close(outfd)
    uv.fs_close(errfd)
    return { code = code, signal = signal }
  end)
  local out, err = T.read_file(out_path), T.read_file(err_path)
  T.eq(result, { code = 0, signal = 0 }, err)
  T.ok(out:match("^started   workflow count\ncompleted workflow count in %d+ms: processed 3, settings %d+\n$"), out)
  T.contains(err, "candor scheduler: running schedules from " .. dir .. "/c.db (concurrency 4)")
  T.contains(err, "candor scheduler: stopped (SIGTERM)")
  T.eq(cli(dir, { "sql", "SELECT outcome FROM schedule_runs" }).out, "outcome\ncompleted\n")
end)
