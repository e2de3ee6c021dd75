-- Generation jobs as they run: status, progress and the steps log written to the
-- generation_jobs row while the run goes (so another process can watch it), and
-- recovery of jobs whose process stopped before they finished.
local uv = require "luv"
local host = require "core.host"
local json = require "candor.json"
local R = require "candor.repo.generation_jobs"

local M = {}

M.throttle_ms = 50   -- writes closer together than this are merged (the last one lands within it)

local STEP_STATUS = { done = true, failed = true, skipped = true, fallback = true }

local active = {}    -- job id -> tracker, for the jobs this process is running

local function whole(n) return math.tointeger(n) or math.floor(n) end

local function this_runner()
  return { pid = whole(uv.os_getpid()), host = uv.os_gethostname(), started_at = host.now() }
end

local function context_of(row)
  local pc = row and row.product_context
  if type(pc) ~= "table" then return {} end
  return pc
end

local function elapsed_ms(t0) return whole((host.clock() - t0) * 1000 + 0.5) end

-- ISO 8601 (UTC) -> seconds since the epoch, or nil.
function M.iso_seconds(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d%.?%d*)")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days from civil (Howard Hinnant), no dependence on the local time zone
  y = mo <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
end

-- create(db, {pain_point_id =, priority_id =, product_context = {...}}) -> row (pending)
function M.create(db, fields)
  local row = {}
  for k, v in pairs(fields or {}) do row[k] = v end
  row.status = "pending"
  row.progress = 0
  row.product_context = row.product_context or {}
  row.pipeline_steps = json.array {}
  return R:insert(db, row)
end

-- alive(row) -> true when the job's runner process may still be running it:
-- another host's job counts as alive (we cannot tell), this host's when its pid
-- answers signal 0 (and, for our own pid, when this process tracks the job).
-- runner_alive(runner, here) -> whether the process a runner record names
-- ({pid, host}) still runs; here tells, for this process's own pid, whether it
-- is really running the work (a reused pid is not). Another host's runner counts
-- as alive: there is no way to tell.
function M.runner_alive(runner, here)
  if type(runner) ~= "table" or not tonumber(runner.pid) then return false end
  if runner.host ~= uv.os_gethostname() then return true end
  local pid = whole(tonumber(runner.pid))
  if pid == whole(uv.os_getpid()) then return here == true end
  local ok, _, code = uv.kill(pid, 0)
  return ok ~= nil or code ~= "ESRCH"   -- EPERM: someone else's live process
end

M.this_runner = this_runner

function M.alive(row)
  return M.runner_alive(context_of(row).runner, active[row.id] ~= nil)
end

local function stale_message(row)
  local runner = context_of(row).runner
  local pid = type(runner) == "table" and tonumber(runner.pid)
  local who = pid and string.format("the process running this job (pid %d)", whole(pid))
    or "the process running this job (it left no record of itself)"
  return who .. " stopped before it finished; nothing it had not stored was kept"
end

-- Steps still running end as failed when their job does.
local function close_open_steps(steps, now)
  for _, s in ipairs(type(steps) == "table" and steps or {}) do
    if type(s) == "table" and s.status == "running" then
      s.status = "failed"
      s.ended_at = now
      local t0 = M.iso_seconds(s.started_at)
      local t1 = M.iso_seconds(now)
      if t0 and t1 then s.duration_ms = whole((t1 - t0) * 1000 + 0.5) end
    end
  end
  return json.array(type(steps) == "table" and steps or {})
end

-- recover(db) -> n: marks failed every running job whose runner is gone.
function M.recover(db)
  local n = 0
  for _, row in ipairs(R:list(db, { status = "running" })) do
    if not M.alive(row) then
      local marked = db:transaction(function()
        local now = R:get(db, row.id)   -- it may have ended since the SELECT
        if not now or now.status ~= "running" or M.alive(now) then return false end
        local t = host.now()
        return R:update(db, row.id, { status = "failed", error_message = stale_message(now), completed_at = t,
          pipeline_steps = close_open_steps(now.pipeline_steps, t) })
      end)
      if marked then n = n + 1 end
    end
  end
  return n
end

-- The tracker -------------------------------------------------------------

local Job = {}
Job.__index = Job

local Step = {}
Step.__index = Step

-- Writes the dirty fields now: one small UPDATE. Inside a transaction (which
-- might roll back, and hides the row from watchers until it commits) the write
-- waits for the timer instead, and flush returns false.
function Job:flush()
  if not next(self.dirty) then return true end
  if not self.db:is_open() then self.dirty = {} return true end   -- the run's database is gone
  if self.db:in_transaction() then self:arm(M.throttle_ms) return false end
  local fields = {}
  for k in pairs(self.dirty) do
    if k == "pipeline_steps" then fields[k] = json.array(self.list)
    elseif k == "current_step" then fields[k] = self.row.current_step or json.null
    else fields[k] = self.row[k] end
  end
  self.dirty = {}
  self.last_write = host.clock()
  R:update(self.db, self.id, fields)
  return true
end

function Job:arm(ms)
  if self.timer_armed then return end
  if not self.timer then
    self.timer = uv.new_timer()
    self.timer:unref()   -- a pending progress line never keeps the process alive
  end
  self.timer_armed = true
  uv.update_time()
  self.timer:start(math.max(1, math.ceil(ms)), 0, function()
    self.timer_armed = false
    local ok, err = pcall(self.flush, self)
    if not ok then
      self.write_error = err
      io.stderr:write("candor: could not record progress of job ", self.id, ": ", tostring(err), "\n")
    elseif self.finished and not self.timer_armed then
      self:close_timer()
    end
  end)
end

-- Marks fields dirty and writes them, at once or (throttled) within throttle_ms.
function Job:save(names, throttled)
  if self.finished then return end
  for _, k in ipairs(names) do self.dirty[k] = true end
  local since = (host.clock() - self.last_write) * 1000
  if throttled and since < M.throttle_ms then
    self:arm(M.throttle_ms - since)
    return
  end
  self:flush()
end

function Job:close_timer()
  if self.timer then
    if not self.timer:is_closing() then self.timer:close() end
    self.timer, self.timer_armed = nil, false
  end
end

-- track(db, row_or_id) -> tracker, or nil, message when the job cannot start.
function M.track(db, job)
  local id = type(job) == "table" and job.id or job
  if type(id) ~= "string" then error("jobs.track: a job row or id expected", 2) end
  local runner = this_runner()
  local row, err = db:transaction(function()
    local row = R:get(db, id)
    if not row then return nil, "no job '" .. id .. "'" end
    if row.status == "completed" then return nil, "job '" .. id .. "' has already completed" end
    if row.status == "running" and M.alive(row) then return nil, "job '" .. id .. "' is already running" end
    local pc = context_of(row)
    pc.runner = runner
    local fields = { status = "running", started_at = runner.started_at, product_context = pc, progress = 0,
      pipeline_steps = json.array {}, current_step = json.null, error_message = json.null,
      error_stack = json.null, completed_at = json.null }
    if row.status ~= "pending" then fields.retry_count = (row.retry_count or 0) + 1 end
    R:update(db, id, fields)
    for k, v in pairs(fields) do row[k] = v ~= json.null and v or nil end
    return row
  end)
  if not row then return nil, err end
  local t = setmetatable({ db = db, id = id, row = row, list = row.pipeline_steps, pct = 0, dirty = {},
    last_write = host.clock(), finished = false }, Job)
  active[id] = t
  return t
end

-- progress(pct [, step]): pct clamped to 0..100 and never lower than before.
function Job:progress(pct, step)
  pct = tonumber(pct) or self.pct
  pct = whole(math.max(self.pct, math.min(100, math.max(0, pct))))
  local names = {}
  if pct ~= self.pct then
    self.pct = pct
    self.row.progress = pct
    names[#names + 1] = "progress"
  end
  if step ~= nil and tostring(step) ~= self.row.current_step then
    self.row.current_step = tostring(step)
    names[#names + 1] = "current_step"
  end
  if #names > 0 then self:save(names, true) end
  return pct
end

function Job:steps() return self.list end

-- begin(name, info) -> step: appended to the steps log as running.
function Job:begin(name, info)
  local entry = { name = tostring(name), started_at = host.now(), status = "running" }
  for k, v in pairs(info or {}) do
    if entry[k] == nil then entry[k] = v end
  end
  self.list[#self.list + 1] = entry
  self:save({ "pipeline_steps" }, true)
  return setmetatable({ job = self, entry = entry, t0 = host.clock() }, Step)
end

-- add_tokens(input, output, model): sums tokens, records each distinct model
-- (a "provider:model" string or a table with provider and model).
function Step:add_tokens(input, output, model)
  local e = self.entry
  e.input_tokens = (e.input_tokens or 0) + whole(tonumber(input) or 0)
  e.output_tokens = (e.output_tokens or 0) + whole(tonumber(output) or 0)
  if type(model) == "table" then
    model = model.provider and model.model and (model.provider .. ":" .. model.model) or model.model
  end
  if type(model) == "string" and model ~= "" then
    e.models = e.models or json.array {}
    local seen = false
    for _, m in ipairs(e.models) do if m == model then seen = true break end end
    if not seen then e.models[#e.models + 1] = model end
  end
  self.job:save({ "pipeline_steps" }, true)
end

-- iteration{n =, scores =, pass =, failing = ...}: one round of a refine loop.
function Step:iteration(t)
  local e = self.entry
  e.iterations = e.iterations or json.array {}
  e.iterations[#e.iterations + 1] = t
  self.job:save({ "pipeline_steps" }, true)
end

-- finish([status [, extra]]): "done" (default), "failed", "skipped" or "fallback".
-- A step already finished (say, by job:fail) stays as it is: returns false.
function Step:finish(status, extra)
  status = status or "done"
  if not STEP_STATUS[status] then
    error("step:finish: status must be done, failed, skipped or fallback, not '" .. tostring(status) .. "'", 2)
  end
  local e = self.entry
  if e.status ~= "running" then return false end
  e.status = status
  e.ended_at = host.now()
  e.duration_ms = elapsed_ms(self.t0)
  for k, v in pairs(extra or {}) do
    if k ~= "name" and k ~= "started_at" then e[k] = v end
  end
  self.job:save({ "pipeline_steps" }, true)
  return true
end

local function finish_job(self, fields, step_status)
  if self.finished then return false end
  local now = host.now()
  for _, e in ipairs(self.list) do
    if e.status == "running" then
      e.status = step_status
      e.ended_at = now
      local t0, t1 = M.iso_seconds(e.started_at), M.iso_seconds(now)
      e.duration_ms = t0 and t1 and whole((t1 - t0) * 1000 + 0.5) or nil
    end
  end
  fields.completed_at = now
  local names = { "pipeline_steps" }
  for k, v in pairs(fields) do
    self.row[k] = v
    names[#names + 1] = k
  end
  for _, k in ipairs(names) do self.dirty[k] = true end
  self:close_timer()
  if not self:flush() then
    -- inside a transaction: land the final write as soon as it is over, and let
    -- it keep the loop alive until then
    self:arm(1)
    self.timer:ref()
  end
  self.finished = true
  active[self.id] = nil
  return true
end

-- complete([summary]): status completed, progress 100; summary merged into
-- product_context.result.
function Job:complete(summary)
  if self.finished then return false end
  local pc = context_of(self.row)
  if type(pc.result) ~= "table" then pc.result = {} end
  for k, v in pairs(summary or {}) do pc.result[k] = v end
  self.pct = 100
  return finish_job(self, { status = "completed", progress = 100, current_step = "done", product_context = pc }, "done")
end

-- fail(message [, stack]): status failed with the error; open steps marked failed.
function Job:fail(message, stack)
  if self.finished then return false end
  if type(message) == "table" then message = message.message or require("candor.pretty").format(message) end
  return finish_job(self, { status = "failed", error_message = tostring(message or "failed"),
    error_stack = stack and tostring(stack) or nil }, "failed")
end

return M
