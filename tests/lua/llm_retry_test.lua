-- Retries against the fake server: backoff, Retry-After, bounded attempts, reports.
local T = require "candor.testing"
local retry = require "candor.llm.retry"
local openai = require "candor.llm.openai"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local uv = require "luv"

local function cfg(fake) return { base_url = fake.url .. "/v1", model = "m" } end

T.test("retries 5xx and timeouts with backoff, then succeeds", function()
  local fake = Fake.start { { match = "x", fault = "500", times = 1 }, { match = "x", fault = "hang", times = 1 },
                            { match = "x", text = "ok at last" } }
  local waits = {}
  local r, n = retry.call(function() return openai.call(cfg(fake), { prompt = "x", timeout_ms = 100 }) end,
    { base_ms = 20, jitter = false, on_retry = function(_, _, ms) waits[#waits + 1] = ms end })
  fake.close()
  T.eq(r.text, "ok at last")
  T.eq(n, 3)
  T.eq(waits, { 20, 40 })
  T.eq(fake.count(), 3)
end)

T.test("Retry-After is honoured", function()
  local fake = Fake.start { { match = "x", fault = "429", retry_after = 1, times = 1 }, { match = "x", text = "done" } }
  local t0 = uv.hrtime()
  local r = retry.call(function() return openai.call(cfg(fake), { prompt = "x" }) end, { base_ms = 10 })
  local ms = (uv.hrtime() - t0) / 1e6
  fake.close()
  T.eq(r.text, "done")
  T.ok(ms >= 950, "waited " .. ms .. " ms for Retry-After: 1")
end)

T.test("a bounded number of attempts, and the final error says what happened each time", function()
  local fake = Fake.start { { match = "x", fault = "503" } }
  local _, e = retry.call(function() return openai.call(cfg(fake), { prompt = "x" }) end,
    { attempts = 3, base_ms = 5, jitter = false })
  fake.close()
  T.eq(fake.count(), 3)
  T.eq(#e.attempts, 3)
  T.eq(e.status, 503)
  T.contains(e.message, "gave up after 3 attempts: 1) HTTP 503: fake 503 (then waited 0.0 s); 2) HTTP 503")
end)

T.test("errors that a retry cannot fix are not retried; a Retry-After beyond the limit fails at once", function()
  local fake = Fake.start { { match = "unsafe", fault = "blocked", text = "x" }, { match = "later", fault = "429", retry_after = 600 } }
  local _, e = retry.call(function() return openai.call(cfg(fake), { prompt = "unsafe" }) end, { base_ms = 5 })
  T.eq({ e.kind, fake.count() }, { "blocked", 1 })
  T.contains(e.message, "blocked")
  local _, e2 = retry.call(function() return openai.call(cfg(fake), { prompt = "later" }) end, { base_ms = 5 })
  fake.close()
  T.contains(e2.message, "asks to wait 600 s, longer than allowed (60 s)")
  T.eq(fake.count(), 2)
end)

T.test("backoff doubles up to the cap, with jitter between half and all of it", function()
  local p = setmetatable({ base_ms = 100, max_ms = 1000, jitter = false }, { __index = retry.defaults })
  T.eq({ retry.delay(p, 1), retry.delay(p, 2), retry.delay(p, 4), retry.delay(p, 9) }, { 100, 200, 800, 1000 })
  p.jitter = true
  for _ = 1, 200 do
    local d = retry.delay(p, 3)
    T.ok(d >= 200 and d <= 400, "jittered delay " .. d)
  end
end)
