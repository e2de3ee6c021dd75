-- Tasks on the host loop: every job, request and tick is a coroutine that waits by
-- yielding to this scheduler. Only the scheduler resumes tasks; luv callbacks just
-- queue a wake-up.
local uv = require "luv"
local host = require "core.host"

local M = {}

local Task = {}
Task.__index = Task

local SUSPEND = setmetatable({}, { __name = "async.suspend" })
local CANCEL = setmetatable({}, { __name = "async.cancel" })

local ready, ready_head, ready_tail = {}, 1, 0   -- FIFO of tasks to resume
local current = nil               -- task being resumed
local idle = nil                  -- drains the queue when the loop runs on its own
local root_ctx = {}               -- context outside any task (CLI, REPL)

local drain

-- While a finished task's waiters are told, the tasks they wake are collected
-- here and go to the head of the queue: work already under way (a caller
-- awaiting its child) moves on before tasks that have yet to start.
local woken_by_end = nil

local function enqueue(task, ...)
  task.resume_args = table.pack(...)
  if task.queued then return end
  task.queued = true
  if woken_by_end then
    woken_by_end[#woken_by_end + 1] = task
  else
    ready_tail = ready_tail + 1
    ready[ready_tail] = task
  end
  if not idle then idle = uv.new_idle() end
  if not idle:is_active() then idle:start(function() drain() end) end
end

local function finish(task, status, ...)
  task.status = status
  task.finished = true
  -- cleanups and waiters run outside any task, even when this task ran nested
  -- in its spawner's step (spawn{now = true})
  local running = current
  current = nil
  -- Cleanups registered with on_exit run whatever ended the task (a limit can
  -- close its coroutine without unwinding any pcall).
  local exits = task.exits
  task.exits = nil
  for i = #(exits or {}), 1, -1 do
    local ok, err = pcall(exits[i])
    if not ok then io.stderr:write("candor: task cleanup failed: ", tostring(err), "\n") end
  end
  if status == "done" then task.results = table.pack(...) end
  if task.parent then task.parent.children[task] = nil end
  local waiters = task.waiters
  task.waiters = nil
  if waiters then
    local outer = woken_by_end
    woken_by_end = {}
    for _, w in ipairs(waiters) do w(task) end
    local woken = woken_by_end
    woken_by_end = outer
    for i = #woken, 1, -1 do
      if outer then table.insert(outer, 1, woken[i])
      else ready_head = ready_head - 1 ready[ready_head] = woken[i] end
    end
  end
  current = running
end

local function step(task)
  task.queued = false
  local args = task.resume_args or { n = 0 }
  task.resume_args = nil
  if task.finished then return end
  if task.cancel_reason and not task.started then
    finish(task, "cancelled")
    task.error = task.cancel_reason
    return
  end
  task.started = true
  local prev = current
  current = task
  task.status = "running"
  if task.limit then host.limit_activate(task.limit) end
  local c0 = os.clock()
  local res = table.pack(coroutine.resume(task.co, table.unpack(args, 1, args.n)))
  -- CPU seconds this task ran, counted for it and every task above it (task.cpu);
  -- a step nested in its spawner's is counted from the spawner up by that step
  local spent = os.clock() - c0
  local t = task
  while t and t ~= prev do t.cpu = t.cpu + spent t = t.parent end
  if task.limit then host.limit_activate(prev and prev.limit) end
  current = prev
  if coroutine.status(task.co) == "dead" then
    if res[1] then
      finish(task, "done", table.unpack(res, 2, res.n))
    else
      task.error = res[2]
      task.traceback = debug.traceback(task.co, tostring(res[2]))
      finish(task, task.cancel_reason and task.error == task.cancel_reason and "cancelled" or "failed")
    end
  elseif res[2] == SUSPEND then
    task.status = "waiting"
  else
    -- A tripped limit yields the task from the hook; anything else yielded on its own.
    local tripped, limit_msg = false, nil
    if task.limit then tripped, limit_msg = host.limit_status(task.limit) end
    if tripped then task.traceback = debug.traceback(task.co, limit_msg) end
    coroutine.close(task.co)
    if tripped then
      task.error = limit_msg
    else
      task.error = "task yielded without waiting on anything (use async primitives, not coroutine.yield)"
    end
    finish(task, "failed")
  end
end

function drain()
  while ready_head <= ready_tail do
    local task = ready[ready_head]
    ready[ready_head] = nil
    ready_head = ready_head + 1
    step(task)
  end
  ready_head, ready_tail = 1, 0
  if idle and idle:is_active() then idle:stop() end
end

-- spawn(fn, {name =, limit =, ctx = {...}, now = bool}, ...) -> task. The task
-- starts on the next turn of the scheduler, or with now = true at once, up to
-- its first wait, before spawn returns (so a burst of spawns sends each one's
-- first request out without waiting for the rest of the burst). It inherits its
-- parent's context and limit.
function M.spawn(fn, opts, ...)
  opts = opts or {}
  local parent = current
  local task = setmetatable({
    co = coroutine.create(fn),
    name = opts.name or "task",
    status = "ready",
    children = {},
    cpu = 0,
    parent = parent,
    limit = opts.limit or (parent and parent.limit),
  }, Task)
  local base = parent and parent.ctx or root_ctx
  task.ctx = setmetatable(opts.ctx or {}, { __index = base })
  if task.limit then host.limit_attach(task.co, task.limit) end
  if parent then parent.children[task] = true end
  if opts.now then
    task.resume_args = table.pack(...)
    step(task)
  else
    enqueue(task, ...)
  end
  return task
end

function M.current() return current end

-- cancelled() -> the reason when the running task (or a task above it) is being
-- cancelled, so code that catches errors can let a cancellation through.
function M.cancelled()
  local t = current
  while t do
    if t.cancel_reason then return t.cancel_reason end
    t = t.parent
  end
end

-- on_exit(fn) -> remove(): fn runs when the running task ends, however it ends;
-- remove() unregisters it. Outside a task it never runs (nothing to end).
function M.on_exit(fn)
  local task = current
  if not task then return function() end end
  task.exits = task.exits or {}
  local list = task.exits
  list[#list + 1] = fn
  return function()
    for i = #list, 1, -1 do if list[i] == fn then table.remove(list, i) break end end
  end
end

-- The running task's context (job, session, profile...), inherited by children.
function M.context() return current and current.ctx or root_ctx end

-- suspend(start): the one way a task waits. start(wake) begins the operation and
-- may return a cancel function; wake(...) resumes the task with those values.
function M.suspend(start)
  local task = current
  if not task or coroutine.running() ~= task.co then
    error("this call waits, so it must run inside a task (async.spawn or async.run)", 2)
  end
  local woken = false
  local cancel = start(function(...)
    if woken then return end
    woken = true
    enqueue(task, ...)
  end)
  task.cancel_pending = cancel
  local r = table.pack(coroutine.yield(SUSPEND))
  task.cancel_pending = nil
  if r[1] == CANCEL then error(task.cancel_reason, 0) end
  return table.unpack(r, 1, r.n)
end

function M.sleep(ms)
  return M.suspend(function(wake)
    uv.update_time()   -- the loop's clock is stale after a long synchronous stretch
    local t = uv.new_timer()
    t:start(ms, 0, function() t:close() wake() end)
    return function() if not t:is_closing() then t:close() end end
  end)
end

-- Cancels the task and its children; a waiting task gets the error at its wait.
function Task:cancel(reason)
  if self.finished then return end
  reason = reason or "cancelled"
  self.cancel_reason = self.cancel_reason or reason
  for child in pairs(self.children) do child:cancel(reason) end
  if self == current then error(reason, 0) end
  if self.status == "waiting" then
    if self.cancel_pending then pcall(self.cancel_pending) self.cancel_pending = nil end
    enqueue(self, CANCEL)
  elseif not self.started and not self.queued then
    enqueue(self)
  end
end

local function on_done(task, fn)
  if task.finished then fn(task) return end
  task.waiters = task.waiters or {}
  task.waiters[#task.waiters + 1] = fn
end

-- on_done(task, fn): fn(task) when the task ends (at once if it has), before
-- anyone waiting on it resumes. fn runs outside any task: it must not wait.
M.on_done = on_done

-- Inside a task: waits for another task and returns its results or raises its error.
function Task:await()
  if not self.finished then
    M.suspend(function(wake) on_done(self, wake) end)
  end
  if self.status == "done" then return table.unpack(self.results, 1, self.results.n) end
  error(self.error or self.status, 0)
end

-- Outside any task (CLI, REPL): runs the loop until the task ends.
function M.wait(task)
  if current then error("async.wait blocks the loop; inside a task use task:await()", 2) end
  while not task.finished do
    drain()
    if task.finished then break end
    local more = uv.run("once")
    if not more and ready_head > ready_tail and not task.finished then
      task:cancel("deadlock: the task waits for something that can never happen")
      drain()
    end
  end
  return task
end

-- join(task) -> task, finished: waits inside a task or, outside any, runs the loop.
function M.join(task)
  if not current then return M.wait(task) end
  if not task.finished then M.suspend(function(wake) on_done(task, wake) end) end
  return task
end

-- run(fn, opts, ...) -> results of fn run as a task, or raises its error.
function M.run(fn, opts, ...)
  local task = M.join(M.spawn(fn, opts, ...))
  if task.status == "done" then return table.unpack(task.results, 1, task.results.n) end
  error(task.error, 0)
end

-- Waits for every task; on the first failure (noticed as it happens, whatever
-- the order) cancels the rest and raises that failure.
local function await_all(tasks, keys)
  local pending, failed = #tasks, nil
  if pending > 0 then
    M.suspend(function(wake)
      for _, t in ipairs(tasks) do
        on_done(t, function(done)
          pending = pending - 1
          if done.status ~= "done" and not failed then failed = done wake()
          elseif pending == 0 then wake() end
        end)
      end
    end)
  end
  if failed then
    for _, t in ipairs(tasks) do t:cancel("a sibling task failed") end
    error(failed.error or failed.status, 0)
  end
  local out = {}
  for i, t in ipairs(tasks) do out[keys[i]] = t.results[1] end
  return out
end

-- parallel{a = fn, b = fn} or parallel{fn, fn} -> same keys, each fn's first result.
function M.parallel(fns)
  local tasks, keys = {}, {}
  for k, fn in pairs(fns) do
    keys[#keys + 1] = k
    tasks[#tasks + 1] = M.spawn(fn, { name = tostring(k) })
  end
  return await_all(tasks, keys)
end

-- each(list, fn, {concurrency = N}) -> results in list order; fn(item, index).
function M.each(list, fn, opts)
  local limit = math.tointeger(opts and opts.concurrency or math.max(#list, 1))
  if not limit or limit < 1 then error("each: concurrency must be a whole number >= 1", 2) end
  local results, nextidx, failed = {}, 1, nil
  local workers = {}
  local function worker()
    while not failed and nextidx <= #list do
      local i = nextidx
      nextidx = nextidx + 1
      local ok, r = pcall(fn, list[i], i)
      if not ok then failed = failed or r error(r, 0) end
      results[i] = r
    end
  end
  for w = 1, math.min(limit, #list) do workers[w] = M.spawn(worker, { name = "each" }) end
  local keys = {}
  for i = 1, #workers do keys[i] = i end
  await_all(workers, keys)
  return results
end


return M
