-- Per-provider limits: never more in flight than allowed, turns in arrival
-- order, a per-minute cap, and places released when a call fails.
local T = require "candor.testing"
local limit = require "candor.llm.limit"
local async = require "candor.async"
local openai = require "candor.llm.openai"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local uv = require "luv"

T.test("no more calls in flight than the limit; the rest run as places free up", function()
  local fake = Fake.start { { text = "ok", delay_ms = 100 } }
  local l = limit.new { concurrency = 5 }
  local cfg = { base_url = fake.url .. "/v1", model = "m" }
  local list = {}
  for i = 1, 20 do list[i] = i end
  local t0 = uv.hrtime()
  local out = async.each(list, function() return l:run(openai.call, cfg, { prompt = "x" }).text end)
  local ms = (uv.hrtime() - t0) / 1e6
  fake.close()
  T.eq(#out, 20)
  T.eq(l.peak, 5)
  T.eq(l.active, 0)
  T.ok(ms >= 380 and ms < 1500, "20 calls at 5 at a time took " .. ms .. " ms (4 rounds of 100 ms)")
end)

T.test("turns are taken in arrival order", function()
  local l = limit.new { concurrency = 1 }
  local order = {}
  local tasks = {}
  for i = 1, 6 do
    tasks[i] = async.spawn(function() l:run(function() order[#order + 1] = i async.sleep(2) end) end)
  end
  for i = 1, 6 do tasks[i]:await() end
  T.eq(order, { 1, 2, 3, 4, 5, 6 })
end)

T.test("a failing call gives its place back; a cancelled waiter loses its turn", function()
  local l = limit.new { concurrency = 1 }
  T.raises(function() l:run(function() error("provider exploded") end) end, "provider exploded")
  T.eq(l.active, 0)
  local hold = async.spawn(function() l:run(function() async.sleep(30) end) end)
  async.sleep(1)
  local waiter = async.spawn(function() l:run(function() error("must not run") end) end)
  async.sleep(1)
  waiter:cancel("gave up")
  hold:await()
  T.eq(l.active, 0)
  T.eq(l:run(function() return "still works" end), "still works")
end)

T.test("a task granted its place but cancelled before it runs gives the place back", function()
  local l = limit.new { concurrency = 1 }
  local release_hold
  local hold = async.spawn(function()
    l:run(function() async.suspend(function(wake) release_hold = wake end) end)
  end)
  async.sleep(1)
  local waiter = async.spawn(function() l:run(function() error("must not run") end) end)
  async.sleep(1)
  release_hold()           -- hold finishes on the next turn of the scheduler and grants waiter its place...
  async.spawn(function() waiter:cancel("too late") end)   -- ...and waiter is cancelled before it runs
  hold:await()
  pcall(waiter.await, waiter)
  T.eq(l.active, 0, "no place leaked")
  T.eq(l:run(function() return "free" end), "free")
end)

T.test("a per-minute limit holds calls back until the minute allows", function()
  local l = limit.new { concurrency = 10, rpm = 3 }
  local started = 0
  local tasks = {}
  for i = 1, 5 do tasks[i] = async.spawn(function() l:run(function() started = started + 1 end) end) end
  async.sleep(50)
  T.eq(started, 3, "three start within the minute, the rest wait")
  for i = 4, 5 do tasks[i]:cancel("test over") end
end)
