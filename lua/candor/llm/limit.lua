-- Per-provider limits on calls in flight, and optionally on calls started per
-- minute. Tasks wait their turn in arrival order (first come, first served), so
-- a fan-out of hundreds of calls cannot starve a task that asked earlier.
local async = require "candor.async"
local uv = require "luv"

local M = { defaults = { concurrency = 8, rpm = nil } }

local Limiter = {}
Limiter.__index = Limiter

-- new{concurrency = n, rpm = n | nil} -> limiter
function M.new(opts)
  opts = opts or {}
  return setmetatable({ max = opts.concurrency or M.defaults.concurrency, rpm = opts.rpm,
                        active = 0, queue = {}, head = 1, started = {}, peak = 0 }, Limiter)
end

-- Milliseconds until a start is allowed by the per-minute limit (0: now).
function Limiter:rpm_wait()
  if not self.rpm then return 0 end
  local now = uv.now()
  local s = self.started
  while #s > 0 and now - s[1] >= 60000 do table.remove(s, 1) end
  if #s < self.rpm then return 0 end
  return 60000 - (now - s[1])
end

-- acquire(): waits (inside a task) until this call may start.
function Limiter:acquire()
  if self.active < self.max and self.head > #self.queue then
    local wait = self:rpm_wait()
    if wait == 0 then
      self.active = self.active + 1
      self.peak = math.max(self.peak, self.active)
      if self.rpm then self.started[#self.started + 1] = uv.now() end
      return
    end
  end
  local turn = {}
  async.suspend(function(wake)
    turn.wake = wake
    self.queue[#self.queue + 1] = turn
    self:pump()
    -- cancelled while waiting: lose the turn; already granted: give the place back
    return function()
      turn.cancelled = true
      if turn.granted then self:release() end
    end
  end)
end

-- Starts queued calls while there is room, in arrival order.
function Limiter:pump()
  while self.head <= #self.queue and self.active < self.max do
    local turn = self.queue[self.head]
    if turn.cancelled then
      self.head = self.head + 1
    else
      local wait = self:rpm_wait()
      if wait > 0 then
        if not self.timer then
          self.timer = uv.new_timer()
          self.timer:unref()
        end
        if not self.timer:is_active() then self.timer:start(wait, 0, function() self:pump() end) end
        return
      end
      self.head = self.head + 1
      self.active = self.active + 1
      self.peak = math.max(self.peak, self.active)
      if self.rpm then self.started[#self.started + 1] = uv.now() end
      turn.granted = true
      turn.wake()
    end
  end
  if self.head > #self.queue then self.queue, self.head = {}, 1 end
end

function Limiter:release()
  self.active = self.active - 1
  self:pump()
end

-- run(fn, ...) -> fn's results, holding a place for the duration (released on error too).
function Limiter:run(fn, ...)
  self:acquire()
  local res = table.pack(pcall(fn, ...))
  self:release()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- The limiter of each provider, made on first use. Its limits come from the
-- call's target ({concurrency, rpm}: the profile's limits or the settings);
-- M.settings[provider], set by a program (tests, benchmarks), wins over both.
-- A change of limits applies to the existing limiter from its next turn.
M.settings = {}
local limiters = {}

function M.for_provider(name, limits)
  local want = M.settings[name] or limits or {}
  local l = limiters[name]
  if not l then
    l = M.new(want)
    limiters[name] = l
  else
    local max = want.concurrency or M.defaults.concurrency
    if l.max ~= max or l.rpm ~= want.rpm then
      l.max, l.rpm = max, want.rpm
      l:pump()
    end
  end
  return l
end

return M
