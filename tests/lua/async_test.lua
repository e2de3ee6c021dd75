-- candor.async: tasks, waiting, parallel, each, cancellation, context, callback errors.
-- The test runner itself runs as a task, so these tests spawn and await.
local T = require "candor.testing"
local async = require "candor.async"
local uv = require "luv"
local host = require "core.host"

T.test("spawned tasks run concurrently: three 50 ms sleeps take ~50 ms, not 150", function()
  local t0 = uv.hrtime()
  local tasks = {}
  for i = 1, 3 do tasks[i] = async.spawn(function() async.sleep(50) return i end) end
  local sum = 0
  for i = 1, 3 do sum = sum + tasks[i]:await() end
  local ms = (uv.hrtime() - t0) / 1e6
  T.eq(sum, 6)
  T.ok(ms >= 45 and ms < 140, "elapsed " .. ms .. " ms")
end)

T.test("sleep orders wake-ups by time", function()
  local order = {}
  local a = async.spawn(function() async.sleep(30) order[#order + 1] = "slow" end)
  local b = async.spawn(function() async.sleep(5) order[#order + 1] = "fast" end)
  a:await() b:await()
  T.eq(order, { "fast", "slow" })
end)

T.test("await raises the task's error; the task keeps its traceback", function()
  local t = async.spawn(function() async.sleep(1) error("inner failure") end)
  T.raises(function() t:await() end, "inner failure")
  T.eq(t.status, "failed")
  T.contains(t.traceback, "async_test.lua")
end)

T.test("parallel returns results by key and runs branches at once", function()
  local t0 = uv.hrtime()
  local r = async.parallel {
    a = function() async.sleep(40) return "A" end,
    b = function() async.sleep(40) return "B" end,
  }
  T.eq(r, { a = "A", b = "B" })
  T.ok((uv.hrtime() - t0) / 1e6 < 75, "branches overlapped")
  T.eq(async.parallel { function() return 1 end, function() return 2 end }, { 1, 2 })
end)

T.test("parallel: the first failure cancels the siblings and is raised", function()
  local finished = false
  local msg = T.raises(function()
    async.parallel {
      bad = function() async.sleep(5) error("branch broke", 0) end,
      slow = function() async.sleep(300) finished = true end,
    }
  end, "branch broke")
  T.eq(msg, "branch broke")
  async.sleep(10)
  T.eq(finished, false, "the slow sibling was cancelled")
end)

T.test("each keeps order and respects the concurrency limit", function()
  local running, peak = 0, 0
  local out = async.each({ 1, 2, 3, 4, 5, 6, 7, 8 }, function(x)
    running = running + 1
    peak = math.max(peak, running)
    async.sleep(5)
    running = running - 1
    return x * 10
  end, { concurrency = 3 })
  T.eq(out, { 10, 20, 30, 40, 50, 60, 70, 80 })
  T.eq(peak, 3)
end)

T.test("cancel interrupts a waiting task and runs the wait's cleanup", function()
  local t = async.spawn(function() async.sleep(10000) return "never" end)
  async.sleep(1)
  T.eq(t.status, "waiting")
  t:cancel("stop now")
  T.raises(function() t:await() end, "stop now")
  T.eq(t.status, "cancelled")
end)

T.test("context is inherited by child tasks and isolated between siblings", function()
  local seen = {}
  local function job(id)
    return async.spawn(function()
      async.sleep(id)
      local child = async.spawn(function() async.sleep(1) return async.context().job_id end)
      seen[id] = child:await()
    end, { ctx = { job_id = "job" .. id } })
  end
  local a, b = job(2), job(1)
  a:await() b:await()
  T.eq(seen, { "job1", "job2" })
end)

T.test("suspending outside a task is a clear error", function()
  local co = coroutine.create(function() async.sleep(1) end)
  local ok, err = coroutine.resume(co)
  T.eq(ok, false)
  T.contains(err, "must run inside a task")
end)

T.test("a task that yields on its own fails with a clear message", function()
  local t = async.spawn(function() coroutine.yield("stray") end)
  T.raises(function() t:await() end, "yielded without waiting")
end)

T.test("a Lua error in a luv timer callback is reported and the host keeps running", function()
  local before = host.callback_errors()
  local reported
  local reg = debug.getregistry()
  reg["candor.callback_error"] = function(msg) reported = msg end
  local timer = uv.new_timer()
  timer:start(1, 0, function() timer:close() error("callback blew up") end)
  async.sleep(20)
  reg["candor.callback_error"] = nil
  T.eq(host.callback_errors(), before + 1)
  T.contains(reported, "callback blew up")
  T.eq(async.parallel { function() return "still alive" end }, { "still alive" })
end)

T.test("each rejects a concurrency below 1 and handles an empty list", function()
  T.raises(function() async.each({ 1 }, function() end, { concurrency = 0 }) end, "concurrency must be a whole number >= 1")
  T.eq(async.each({}, function() error("never") end), {})
end)

T.test("cancelled() tells code that catches errors that its task is being cancelled", function()
  local async = require "candor.async"
  local seen
  local t = async.spawn(function()
    async.spawn(function()
      local ok = pcall(async.sleep, 1000)
      seen = { ok, async.cancelled() }
    end):await()
  end)
  async.run(function() async.sleep(5) t:cancel("stop now") async.sleep(5) end)
  T.eq(seen, { false, "stop now" })
  T.eq(async.cancelled(), nil, "outside any task: nothing is cancelled")
end)

T.test("spawn{now = true} runs the task up to its first wait before spawn returns", function()
  local order = {}
  local t = async.spawn(function(x)
    order[#order + 1] = "child starts with " .. x
    async.sleep(1)
    order[#order + 1] = "child resumes"
    return x * 2
  end, { now = true }, 21)
  order[#order + 1] = "spawn returned"
  T.eq(t:await(), 42)
  T.eq(order, { "child starts with 21", "spawn returned", "child resumes" })
  -- without it, the task waits for the scheduler's next turn
  local later = {}
  local u = async.spawn(function() later[#later + 1] = "child" end)
  later[#later + 1] = "spawn returned"
  u:await()
  T.eq(later, { "spawn returned", "child" })
end)

T.test("a task started at once may end at once; its on_done runs outside any task", function()
  local t = async.spawn(function() error("broke at once", 0) end, { now = true })
  T.eq(t.status, "failed")
  T.eq(t.error, "broke at once")
  local ok = async.spawn(function() return "done" end, { now = true })
  T.eq(ok.results[1], "done", "it ended before spawn returned")
  local seen = "unset"
  local w = async.spawn(function() async.sleep(1) end, { now = true })
  async.on_done(w, function() seen = async.current() end)
  w:await()
  T.eq(seen, nil)
end)

T.test("CPU of a task started at once counts once for it and once for its parent", function()
  local function burn(ms)
    local c0 = os.clock()
    while os.clock() - c0 < ms / 1000 do end
  end
  local child
  local parent = async.spawn(function()
    burn(20)
    child = async.spawn(function() burn(30) async.sleep(1) burn(10) end, { now = true })
    child:await()
  end)
  parent:await()
  T.ok(child.cpu >= 0.039 and child.cpu < 0.055, "child cpu " .. child.cpu)
  -- the parent's own 20 ms plus the child's 40 ms: not 90 (the nested 30 counted twice)
  T.ok(parent.cpu >= 0.059 and parent.cpu < 0.080, "parent cpu " .. parent.cpu)
end)

T.test("a task's end wakes its waiters ahead of tasks queued earlier", function()
  local order, wake_worker = {}, nil
  local worker = async.spawn(function()
    async.suspend(function(wake) wake_worker = wake end)
    order[#order + 1] = "worker ends"
  end)
  local waiter = async.spawn(function() worker:await() order[#order + 1] = "waiter resumes" end)
  async.sleep(1)   -- both are waiting now
  wake_worker()    -- the worker is queued, then three fresh tasks behind it
  local crowd = {}
  for i = 1, 3 do crowd[i] = async.spawn(function() order[#order + 1] = "fresh " .. i end) end
  waiter:await()
  for _, c in ipairs(crowd) do c:await() end
  T.eq(order, { "worker ends", "waiter resumes", "fresh 1", "fresh 2", "fresh 3" })
end)
