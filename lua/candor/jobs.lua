-- Generation jobs as they run: status, progress and the steps log written to the
-- generation_jobs row while the run goes (so another process can watch it), and
-- recovery of jobs whose process stopped before they finished.
local uv = require "luv"
local host = require "core.host"
local json = require "candor.json"
local tracker = require "candor.tracker"
local R = require "candor.repo.generation_jobs"

local M = {}

M.throttle_ms = tracker.throttle_ms   -- to read; set candor.tracker.throttle_ms to change it

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

-- Steps still running end (as failed unless told) when their job does.
local function close_open_steps(steps, now, status)
  for _, s in ipairs(type(steps) == "table" and steps or {}) do
    if type(s) == "table" and s.status == "running" then
      s.status = status or "failed"
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

-- A generation job's tracker: candor.tracker's, its steps in pipeline_steps,
-- and the job's own ends (complete, fail).
local Job = setmetatable({}, { __index = tracker.Tracker })
Job.__index = Job

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
  local t = tracker.new(db, row, { repo = R, steps_column = "pipeline_steps" }, Job)
  active[id] = t
  return t
end

local function finish_job(self, fields, step_status)
  if self.finished then return false end
  fields.completed_at = host.now()
  close_open_steps(self.list, fields.completed_at, step_status)
  self:close(fields)
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
