-- The scheduler: finds due schedules of both kinds (discovery_schedules rows,
-- whose config JSON carries `schedule` and `time_zone`, and workflow_schedules
-- rows), claims each one atomically, runs it and records the run in
-- schedule_runs. run_due runs what is due once (candor schedule run); loop runs
-- schedules as they come due on the host loop (candor scheduler).
--
-- Rules every path keeps:
--   * a claim is one BEGIN IMMEDIATE transaction: the schedule must still be due
--     and have no run whose runner is alive; it inserts the 'running' run row and
--     moves next_run_at to the next run after NOW, so a schedule missed for ten
--     intervals during downtime runs once, and its next run is one interval on;
--   * a run whose process died (pid gone, as jobs.recover checks) is marked
--     failed at the next check, and its schedule is due again at once.
local uv = require "luv"
local async = require "candor.async"
local json = require "candor.json"
local schedule = require "candor.schedule"
local Runs = require "candor.repo.schedule_runs"
local Workflows = require "candor.repo.workflow_schedules"
local Discovery = require "candor.repo.discovery_schedules"

local M = {}

M.default_interval = "4h"   -- a discovery schedule whose config names none (setting discovery_interval)
M.max_sleep_ms = 60000      -- the loop looks at the table at least this often (new schedules)
M.busy_ms = 1000            -- ...and this often while something due is held back (running, at the limit)
M.grace_ms = 30000          -- on SIGINT/SIGTERM, how long running runs may take to finish
M.concurrency = 4
M.now = schedule.now        -- replaceable in tests

local active = {}           -- run id -> true for the runs this process is running

-- How each kind runs: fn(db, row, {on_progress, on_log}) -> counts table (or nil, err).
-- Replaceable, so tests can stand in for discovery.
M.runners = {}

function M.runners.discovery(db, row, opts)
  local ok, discovery = pcall(require, "candor.discovery")
  if not ok then error("discovery is not available in this build: " .. tostring(discovery), 0) end
  return discovery.run(db, row, opts)
end

function M.runners.workflow(db, row, opts)
  local workflow = require "candor.workflow"
  local wf = workflow.load(row.workflow)
  local params = workflow.check_params(wf, type(row.params) == "table" and row.params or {})
  local task = workflow.run(wf, params, { db = db, on_progress = opts.on_progress, on_log = opts.on_log })
  if task.status ~= "done" then error(task.error or task.status, 0) end
  return task.results[1]
end

local function whole(n) return math.tointeger(n) or math.floor(n) end

local function message(e)
  if type(e) == "table" then
    if e.message ~= nil then return tostring(e.message) end
    return require("candor.pretty").format(e)
  end
  return tostring(e)
end

-- A run's counts: the numbers in its result (or in result.counts).
local function counts_of(r)
  local out = {}
  if type(r) ~= "table" then return out end
  local src = type(r.counts) == "table" and r.counts or r
  for k, v in pairs(src) do
    if type(k) == "string" and type(v) == "number" then out[k] = v end
  end
  return out
end

-- Items --------------------------------------------------------------------

-- Parsed specs, shared by every call (a spec and zone parse the same way each time).
local parsed, parsed_n = {}, 0
local function parse(spec, zone)
  local key = tostring(spec) .. "\0" .. tostring(zone)
  local hit = parsed[key]
  if hit == nil then
    local s, err = schedule.parse(spec, zone)
    hit = s or { error = err }
    if parsed_n >= 4096 then parsed, parsed_n = {}, 0 end
    parsed[key], parsed_n = hit, parsed_n + 1
  end
  if hit.error then return nil, hit.error end
  return hit
end

local function default_interval(db, priority_id, cache)
  local k = priority_id or ""
  if cache[k] == nil then
    local v = require("candor.repo.settings"):get_value(db, "discovery_interval", priority_id)
    cache[k] = (type(v) == "string" and v ~= "") and v or M.default_interval
  end
  return cache[k]
end

-- item(kind, row [, db, cache]) -> {kind, id, key, name, spec, zone, schedule | error, row}
function M.item(kind, row, db, cache)
  local it = { kind = kind, id = row.id, key = kind .. ":" .. row.id, row = row, next_run_at = row.next_run_at,
    last_run_at = row.last_run_at, active = row.is_active }
  if kind == "workflow" then
    it.name, it.spec, it.zone = row.name, row.spec, row.time_zone or "UTC"
  else
    local config = row.config
    if type(config) ~= "table" then
      it.name = (row.priority_slug or row.priority_id or "?") .. "/" .. tostring(row.source_type)
      it.spec, it.zone = "?", "UTC"
      it.error = "the schedule's config is not a JSON object"
      return it
    end
    it.name = type(config.name) == "string" and config.name
      or ((row.priority_slug or row.priority_id or "?") .. "/" .. tostring(row.source_type))
    it.spec = config.schedule
    if it.spec == nil or it.spec == "" then
      it.spec = db and default_interval(db, row.priority_id, cache or {}) or M.default_interval
      it.default_spec = true
    end
    it.zone = config.time_zone or "UTC"
  end
  local s, err = parse(it.spec, it.zone)
  if s then it.schedule = s else it.error = err end
  return it
end

-- The discovery schedules that are due: active ones of active priorities.
-- (A join with messaging_priorities, so it lives here rather than in the table's repo.)
local DISCOVERY_DUE = [[SELECT d.*, p.slug AS priority_slug FROM discovery_schedules d
  JOIN messaging_priorities p ON p.id = d.priority_id
  WHERE d.is_active = 1 AND p.is_active = 1 AND (d.next_run_at IS NULL OR d.next_run_at <= ?)
  ORDER BY d.next_run_at, d.rowid]]

-- due(db [, now]) -> items whose next run is at or before now (NULL counts as
-- due), both kinds, earliest first.
function M.due(db, now)
  local at = schedule.iso(now or M.now())
  local items, cache = {}, {}
  for _, row in ipairs(Discovery:decode_all((db:query(DISCOVERY_DUE, at)))) do
    items[#items + 1] = M.item("discovery", row, db, cache)
  end
  for _, row in ipairs(Workflows:due(db, at)) do items[#items + 1] = M.item("workflow", row) end
  table.sort(items, function(a, b)
    local x, y = a.next_run_at or "", b.next_run_at or ""
    if x ~= y then return x < y end
    return a.key < b.key
  end)
  return items
end

-- next_due(db) -> epoch of the earliest next run of any active schedule (0 when
-- one is due now), or nil when there are none.
function M.next_due(db)
  local d = db:value([[SELECT min(coalesce(d.next_run_at, '')) FROM discovery_schedules d
    JOIN messaging_priorities p ON p.id = d.priority_id WHERE d.is_active = 1 AND p.is_active = 1]])
  local w = Workflows:next_due(db)
  local best
  for _, v in ipairs({ d or false, w or false }) do
    if v then
      local t = v == "" and 0 or schedule.epoch(v) or 0
      if not best or t < best then best = t end
    end
  end
  return best
end

-- Runners and recovery -------------------------------------------------------

local function this_runner(now)
  return { pid = whole(uv.os_getpid()), host = uv.os_gethostname(), started_at = schedule.iso(now) }
end

-- alive(run) -> true when the run's process may still be running it: another
-- host's run counts as alive (we cannot tell), this host's when its pid answers
-- signal 0 (and, for our own pid, when this process is running it).
function M.alive(run)
  local r = run.runner
  if type(r) ~= "table" or not tonumber(r.pid) then return false end
  if r.host ~= uv.os_gethostname() then return true end
  local pid = whole(tonumber(r.pid))
  if pid == whole(uv.os_getpid()) then return active[run.id] ~= nil end
  local ok, _, code = uv.kill(pid, 0)
  return ok ~= nil or code ~= "ESRCH"   -- EPERM: someone else's live process
end

local function stale_message(run)
  local r = run.runner
  local pid = type(r) == "table" and tonumber(r.pid)
  if not pid then return "the process running this schedule left no record of itself; the run was abandoned" end
  return string.format("the process running this schedule (pid %d) stopped before the run finished", whole(pid))
end

local function repo_of(kind) return kind == "workflow" and Workflows or Discovery end

-- Inside a transaction: marks a dead run failed and makes its schedule due now.
local function fail_stale(db, run, at)
  Runs:update(db, run.id, { outcome = "failed", ended_at = at, error_message = stale_message(run) })
  local R = repo_of(run.schedule_kind)
  local row = R:get(db, run.schedule_id)
  if not row then return end
  local fields = {}
  if row.next_run_at == nil or row.next_run_at > at then fields.next_run_at = at end
  if run.schedule_kind == "workflow" then fields.running_since, fields.runner = json.null, json.null end
  if next(fields) then R:update(db, row.id, fields) end
end

-- recover(db [, now]) -> n: marks failed every run left 'running' by a process
-- that is gone; each one's schedule is due again at once.
function M.recover(db, now)
  local n = 0
  local at = schedule.iso(now or M.now())
  for _, run in ipairs(Runs:running(db)) do
    if not M.alive(run) then
      local marked = db:transaction(function()
        local cur = Runs:get(db, run.id)   -- it may have ended since the SELECT
        if not cur or cur.outcome ~= "running" or M.alive(cur) then return false end
        fail_stale(db, cur, at)
        return true
      end)
      if marked then n = n + 1 end
    end
  end
  -- a running marker without a running run (an older crash): clear it
  local orphans = [[FROM workflow_schedules WHERE running_since IS NOT NULL AND id NOT IN
    (SELECT schedule_id FROM schedule_runs WHERE outcome = 'running' AND schedule_kind = 'workflow')]]
  if db:value("SELECT count(*) " .. orphans) > 0 then   -- look first: an UPDATE takes the write lock
    db:run("UPDATE workflow_schedules SET running_since = NULL, runner = NULL WHERE id IN (SELECT id " .. orphans .. ")")
  end
  return n
end

-- Claiming, running, finishing ---------------------------------------------------

-- claim(db, item, now) -> run row, schedule row | nil, why ("not due", "already running", ...)
local function claim(db, item, now)
  local at = schedule.iso(now)
  return db:transaction(function()
    local R = repo_of(item.kind)
    local row = R:get(db, item.id)
    if not row then return nil, "deleted" end
    if not row.is_active then return nil, "disabled" end
    if row.next_run_at and row.next_run_at > at then return nil, "not due" end
    for _, r in ipairs(Runs:running(db, item.kind, item.id)) do
      if M.alive(r) then return nil, "already running" end
      fail_stale(db, r, at)
    end
    -- the spec as it is now (an edit since due() looked counts)
    local current = M.item(item.kind, row, db, {})
    item.schedule, item.error, item.spec, item.zone = current.schedule, current.error, current.spec, current.zone
    local runner = this_runner(now)
    local run = Runs:insert(db, { schedule_kind = item.kind, schedule_id = item.id, started_at = at,
      outcome = "running", counts = {}, runner = runner })
    local nxt = item.schedule and schedule.next_run(item.schedule, now)
      or (now + schedule.parse(M.default_interval).seconds)
    local fields = { next_run_at = schedule.iso(nxt) }
    if item.kind == "workflow" then fields.running_since, fields.runner = at, runner end
    R:update(db, item.id, fields)
    active[run.id] = true
    row.next_run_at = fields.next_run_at
    return run, row
  end)
end

-- Records the end of a run (once: a run already ended stays as it is).
local function finish(db, item, run, ok, result, err)
  active[run.id] = nil
  local at = schedule.iso(M.now())
  local fields = { ended_at = at, outcome = ok and "completed" or "failed", counts = counts_of(result),
    error_message = (not ok) and message(err) or json.null }
  local wrote, werr = pcall(db.transaction, db, function()
    local cur = Runs:get(db, run.id)
    if not cur or cur.outcome ~= "running" then return end
    Runs:update(db, run.id, fields)
    local sfields = { last_run_at = run.started_at }
    if item.kind == "workflow" then sfields.running_since, sfields.runner = json.null, json.null end
    repo_of(item.kind):update(db, item.id, sfields)
  end)
  if not wrote then
    io.stderr:write("candor: could not record the end of scheduled run ", run.id, ": ", tostring(werr), "\n")
  end
  return Runs:get(db, run.id) or run
end

-- run_one(db, item [, {now, on_start(item, run), on_end(item, run), on_progress, on_log}])
-- -> the finished run row | nil, why it did not start (not due, already running,
-- disabled, deleted). A failure of the run itself is an outcome, never an error.
function M.run_one(db, item, opts)
  opts = opts or {}
  local now = opts.now or M.now()
  local run, row = claim(db, item, now)
  if not run then return nil, row end
  if opts.on_start then pcall(opts.on_start, item, run) end
  local ended = false
  -- A task closed without unwinding (a limit, the loop stopping) still ends its run.
  local remove = async.on_exit(function()
    if not ended then ended = true finish(db, item, run, false, nil, "the run was stopped before it finished") end
  end)
  local ok, result, err
  if item.error then
    ok, err = false, "invalid schedule: " .. item.error
  else
    local runner = M.runners[item.kind]
    local progress = opts.on_progress and function(...) opts.on_progress(item, ...) end
    local r1, r2, r3 = pcall(runner, db, row, { on_progress = progress, on_log = opts.on_log })
    if not r1 then ok, err = false, r2
    elseif r2 == nil and r3 ~= nil then ok, err = false, r3   -- a runner's nil, message
    elseif type(r2) == "table" and type(r2.source_error) == "table" then
      ok, result, err = false, r2, r2.source_error            -- discovery: the source failed (counts kept)
    else ok, result = true, r2 end
  end
  remove()
  if ended then return Runs:get(db, run.id) or run end
  ended = true
  local final = finish(db, item, run, ok, result, err)
  if opts.on_end then pcall(opts.on_end, item, final) end
  return final
end

-- run_due(db [, {concurrency, now, on_start, on_end, ...}]) -> list of
-- {item, run = finished row | nil, skipped = why}: runs every due schedule once,
-- up to `concurrency` at a time, never one schedule twice.
function M.run_due(db, opts)
  opts = opts or {}
  if not async.current() then return async.run(M.run_due, { name = "schedule run" }, db, opts) end
  local now = opts.now or M.now()
  M.recover(db, now)
  local items, seen = {}, {}
  for _, it in ipairs(M.due(db, now)) do
    if not seen[it.key] then seen[it.key] = true items[#items + 1] = it end
  end
  return async.each(items, function(item)
    local ok, run, why = pcall(M.run_one, db, item, opts)
    if not ok then return { item = item, skipped = "error: " .. message(run) } end
    return { item = item, run = run, skipped = why }
  end, { concurrency = opts.concurrency or M.concurrency })
end

-- The loop ------------------------------------------------------------------------

-- loop(db [, {concurrency, tick_ms, grace_ms, on_start, on_end, on_event, stop}])
-- Runs schedules as they come due until SIGINT or SIGTERM (or opts.stop(), a
-- function the loop fills in for callers that stop it themselves). It sleeps until
-- the next due time, capped at tick_ms (default 60 s) so new schedules are seen;
-- a due schedule starts without waiting for earlier runs, never twice at once.
-- On a signal no new run starts; running ones get grace_ms to finish, then (or at
-- a second signal) they are stopped and recorded as failed, saying why.
function M.loop(db, opts)
  opts = opts or {}
  if not async.current() then return async.run(M.loop, { name = "scheduler" }, db, opts) end
  local concurrency = opts.concurrency or M.concurrency
  local tick_ms = opts.tick_ms or M.max_sleep_ms
  local grace_ms = opts.grace_ms or M.grace_ms
  local event = opts.on_event or function() end
  local running, n_running = {}, 0
  local stopping, force, reason = false, false, nil
  local poke_fn

  local function poke()
    local f = poke_fn
    poke_fn = nil
    if f then f() end
  end
  -- Sleeps ms, or until poke() (a signal, a run ending).
  local function nap(ms)
    async.suspend(function(wake)
      uv.update_time()
      local t = uv.new_timer()
      local done = false
      local function fire()
        if done then return end
        done = true
        if not t:is_closing() then t:close() end
        wake()
      end
      poke_fn = fire
      t:start(math.max(0, math.floor(ms)), 0, fire)
      return function() done = true if not t:is_closing() then t:close() end end
    end)
    poke_fn = nil
  end
  local function stop(why)
    if stopping then force = true end
    stopping, reason = true, reason or why or "stopped"
    poke()
  end
  opts.stop = stop

  local signals = {}
  for _, sig in ipairs({ "sigint", "sigterm" }) do
    local h = uv.new_signal()
    h:start(sig, function() stop(sig:upper()) end)
    signals[#signals + 1] = h
  end

  local function start(item)
    n_running = n_running + 1
    running[item.key] = async.spawn(function()
      local ok, err = pcall(M.run_one, db, item, opts)
      if not ok then event({ type = "error", item = item, error = message(err) }) end
    end, { name = "schedule " .. tostring(item.name) })
    async.spawn(function()
      async.join(running[item.key])
      running[item.key] = nil
      n_running = n_running - 1
      poke()
    end, { name = "schedule watch" })
  end

  -- One look at the table: start what is due; -> how long to sleep (ms).
  local function tick()
    local now = M.now()
    M.recover(db, now)
    local held = false
    for _, item in ipairs(M.due(db, now)) do
      if running[item.key] then held = true
      elseif n_running >= concurrency then held = true break
      else start(item) end
    end
    async.sleep(0)   -- let the runs just started claim their schedules
    local wait = tick_ms
    local nd = M.next_due(db)
    if nd then wait = math.min(wait, math.max(0, (nd - M.now()) * 1000)) end
    -- something that was due at `now` and did not start (running here, at the
    -- limit, or held by another process): look again soon, not in a busy loop
    if held or (nd and nd <= now) then wait = math.max(wait, math.min(M.busy_ms, tick_ms)) end
    return wait
  end

  local ok, err = pcall(function()
    event({ type = "ready", concurrency = concurrency })
    while not stopping do
      -- a failed look (the database busy past its timeout) is reported, and tried again a tick later
      local tok, wait = pcall(tick)
      if not tok then
        event({ type = "error", error = message(wait) })
        wait = tick_ms
      end
      if not stopping then nap(wait) end
    end
  end)

  -- Stopping: no new runs; the running ones finish, or are stopped and marked failed.
  if n_running > 0 then
    event({ type = "stopping", running = n_running, reason = reason, grace_ms = grace_ms })
    local deadline = uv.hrtime() + grace_ms * 1e6
    while n_running > 0 and not force do
      local left = (deadline - uv.hrtime()) / 1e6
      if left <= 0 then break end
      nap(left)
    end
    if n_running > 0 then
      local why = string.format("the scheduler was stopped (%s) before this run finished", tostring(reason))
      for _, task in pairs(running) do task:cancel(why) end
      local until_ = uv.hrtime() + 5000 * 1e6
      while n_running > 0 and uv.hrtime() < until_ do nap(50) end
    end
  end
  for _, h in ipairs(signals) do if not h:is_closing() then h:close() end end
  event({ type = "stopped", reason = reason })
  if not ok then error(err, 0) end
  return reason
end

M.counts_of = counts_of

return M
