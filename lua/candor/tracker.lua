-- A job row as its run goes: progress, current step and a steps log kept on the
-- row while the run goes (so another process can watch it), with progress
-- writes throttled. One implementation for generation_jobs (candor.jobs) and
-- action_jobs (candor.workspace.actions); new() takes what differs.
local uv = require "luv"
local host = require "core.host"
local json = require "candor.json"

local M = {}

M.throttle_ms = 50   -- writes closer together than this are merged (the last one lands within it)

local STEP_STATUS = { done = true, failed = true, skipped = true, fallback = true }

local function whole(n) return math.tointeger(n) or math.floor(n) end

local Tracker = {}
Tracker.__index = Tracker
M.Tracker = Tracker   -- a table's own methods (a job's complete, fail) inherit from it

local Step = {}
Step.__index = Step

-- new(db, row, opts [, class]) -> tracker of row, just written as running (so
-- the first progress write is throttled against that one). opts:
--   repo          the table's repository (candor.repo.*)
--   steps_column  the column the steps log is written to as it changes; without
--                 one the log stays in tracker.list for the caller's last write
--   begin_is_current  a step's begin also makes it the row's current_step
function M.new(db, row, opts, class)
  local list = opts.steps_column and row[opts.steps_column] or {}
  return setmetatable({ db = db, id = row.id, row = row, repo = opts.repo, steps_column = opts.steps_column,
    begin_is_current = opts.begin_is_current, list = list, pct = 0, dirty = {}, last_write = host.clock(),
    finished = false }, class or Tracker)
end

-- Writes the dirty fields now: one small UPDATE. Inside a transaction (which
-- might roll back, and hides the row from watchers until it commits) the write
-- waits for the timer instead, and flush returns false.
function Tracker:flush()
  if not next(self.dirty) then return true end
  if not self.db:is_open() then self.dirty = {} return true end   -- the run's database is gone
  if self.db:in_transaction() then self:arm(M.throttle_ms) return false end
  local fields = {}
  for k in pairs(self.dirty) do
    if k == self.steps_column then fields[k] = json.array(self.list)
    elseif self.row[k] == nil then fields[k] = json.null
    else fields[k] = self.row[k] end
  end
  self.dirty = {}
  self.last_write = host.clock()
  self.repo:update(self.db, self.id, fields)
  return true
end

function Tracker:arm(ms)
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
      io.stderr:write("candor: could not record progress of ", self.repo.table, " ", self.id, ": ", tostring(err), "\n")
    elseif self.finished and not self.timer_armed then
      self:close_timer()
    end
  end)
end

function Tracker:close_timer()
  if self.timer then
    if not self.timer:is_closing() then self.timer:close() end
    self.timer, self.timer_armed = nil, false
  end
end

-- Sets fields on the row (json.null clears one) and marks them to be written.
local function set(self, fields)
  for k, v in pairs(fields) do
    if v == json.null then v = nil end
    self.row[k] = v
    self.dirty[k] = true
  end
end

-- Writes fields with whatever else waits: at once, or (throttled) within throttle_ms.
local function save(self, fields, throttled)
  if self.finished then return end
  set(self, fields)
  if not next(self.dirty) then return end
  local since = (host.clock() - self.last_write) * 1000
  if throttled and since < M.throttle_ms then
    self:arm(M.throttle_ms - since)
    return
  end
  self:flush()
end

-- update(fields): written at once (a status change, say).
function Tracker:update(fields) save(self, fields, false) end

-- soft(fields): progress, written within throttle_ms.
function Tracker:soft(fields) save(self, fields, true) end

-- The steps log changed: written like progress, when it has a column.
function Tracker:steps_changed(fields)
  if self.steps_column and not self.finished then self.dirty[self.steps_column] = true end
  save(self, fields or {}, true)
end

-- close(fields): the run's last write, at once with the steps log, or (inside
-- a transaction) as soon as it ends; later writes are ignored. -> false when
-- already closed.
function Tracker:close(fields)
  if self.finished then return false end
  if self.steps_column then self.dirty[self.steps_column] = true end
  set(self, fields)
  self:close_timer()
  if not self:flush() then
    -- inside a transaction: land the final write as soon as it is over, and let
    -- it keep the loop alive until then
    self:arm(1)
    self.timer:ref()
  end
  self.finished = true
  return true
end

-- progress(pct [, step]) -> pct, clamped to 0..100 and never lower than before;
-- on_progress (when set) hears every call.
function Tracker:progress(pct, step)
  pct = tonumber(pct) or self.pct
  pct = whole(math.max(self.pct, math.min(100, math.max(0, pct))))
  local fields = {}
  if pct ~= self.pct then
    self.pct = pct
    fields.progress = pct
  end
  if step ~= nil and tostring(step) ~= self.row.current_step then fields.current_step = tostring(step) end
  self:soft(fields)
  if self.on_progress then self.on_progress(pct, step) end
  return pct
end

function Tracker:steps() return self.list end

-- begin(name, info) -> step: appended to the steps log as running.
function Tracker:begin(name, info)
  local entry = { name = tostring(name), started_at = host.now(), status = "running" }
  for k, v in pairs(info or {}) do
    if entry[k] == nil then entry[k] = v end
  end
  self.list[#self.list + 1] = entry
  self:steps_changed(self.begin_is_current and { current_step = entry.name } or nil)
  if self.on_progress then self.on_progress(self.pct, entry.name) end
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
  self.job:steps_changed()
end

-- iteration{n =, scores =, pass =, failing = ...}: one round of a refine loop.
function Step:iteration(t)
  local e = self.entry
  e.iterations = e.iterations or json.array {}
  e.iterations[#e.iterations + 1] = t
  self.job:steps_changed()
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
  e.duration_ms = whole((host.clock() - self.t0) * 1000 + 0.5)
  for k, v in pairs(extra or {}) do
    if k ~= "name" and k ~= "started_at" then e[k] = v end
  end
  self.job:steps_changed()
  return true
end

return M
