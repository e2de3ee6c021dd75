-- candor llm as a user meets it, against the fake provider on loopback.
local T = require "candor.testing"
local json = require "candor.json"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local env = T.fake_cli_env

T.test("llm ask: the answer on stdout, streamed or not, JSON when asked; the call logged", function()
  local fake = Fake.start { { match = "json", json = { ok = true } }, { text = "Flaky tests waste time." } }
  local dir = T.tmpdir()
  local r = T.candor_async({ "llm", "ask", "why do builds fail" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  T.eq(r.out, "Flaky tests waste time.\n")
  r = T.candor_async({ "llm", "ask", "--stream", "--system", "Be terse.", "-" }, (function()
    local o = env(dir, fake) o.stdin = "why again" return o end)())
  T.eq(r.out, "Flaky tests waste time.\n")
  T.eq(fake.calls[2].stream, true)
  T.eq(fake.calls[2].body.messages[1], { role = "system", content = "Be terse." })
  r = T.candor_async({ "llm", "ask", "--json", "give json" }, env(dir, fake))
  T.eq(json.decode(r.out), { ok = true })
  local log = T.candor_async({ "llm", "log", "--json" }, env(dir, fake))
  local rows = json.decode(log.out)
  T.eq(#rows, 3)
  T.eq(rows[1].model, "openai:fake-local")
  T.eq(rows[1].purpose, "cli:ask")
  fake.close()
end)

T.test("llm ask: provider failures exit 1 with the reason; usage errors exit 2", function()
  local fake = Fake.start { { fault = "blocked", text = "no" } }
  local dir = T.tmpdir()
  local r = T.candor_async({ "llm", "ask", "x" }, env(dir, fake))
  T.eq(r.code, 1)
  T.contains(r.err, "openai:fake-local: the provider blocked the answer")
  for _, argv in ipairs({ { "llm", "ask" }, { "llm", "ask", "a", "b" }, { "llm", "nope" }, { "llm", "ask", "--tier", "x", "--model", "y:z", "q" } }) do
    T.eq(T.candor_async(argv, env(dir, fake)).code, 2, table.concat(argv, " "))
  end
  r = T.candor_async({ "llm", "ask", "x" }, { env = { CANDOR_DB = dir .. "/c.db", HOME = dir, CANDOR_PROFILE = "production" },
    unset = { "GEMINI_API_KEY", "GOOGLE_API_KEY" } })
  T.eq(r.code, 1)
  T.contains(r.err, "needs an API key: set GEMINI_API_KEY or GOOGLE_API_KEY")
  fake.close()
end)

T.test("llm stats and profiles", function()
  local fake = Fake.start { { match = "bad", fault = "503" }, { text = "fine answer" } }
  local dir = T.tmpdir()
  T.candor_async({ "llm", "ask", "ok" }, env(dir, fake))
  T.candor_async({ "llm", "ask", "bad" }, env(dir, fake))
  local s = json.decode(T.candor_async({ "llm", "stats", "--json" }, env(dir, fake)).out)
  T.eq(#s, 1)
  T.eq(s[1].model, "openai:fake-local")
  T.eq(s[1].calls, 1 + 4, "one success, four attempts at the failing one")
  T.eq(s[1].failures, 4)
  T.ok(s[1].p50 >= 0 and s[1].p99 >= s[1].p50, "latency percentiles")
  local text = T.candor_async({ "llm", "stats" }, env(dir, fake)).out
  T.contains(text, "openai:fake-local")
  local p = json.decode(T.candor_async({ "llm", "profiles", "--json" }, env(dir, fake)).out)
  T.eq({ p.profile, p.source }, { "local", "CANDOR_PROFILE" })
  T.eq(p.tiers[1].base_url, fake.url .. "/v1")
  T.eq(p.tiers[1].max_input_tokens, 200000, "the llm_max_input_tokens setting")
  T.contains(T.candor_async({ "llm", "profiles" }, env(dir, fake)).out, "4 attempts, 200000 input tokens\n")
  fake.close()
end)

T.test("llm ask on a grounded tier prints the answer's sources after it", function()
  local fake = Fake.start { { text = "Flaky tests are common.", sources = { { url = "https://example.org/a", title = "example.org" } } } }
  local dir = T.tmpdir()
  local r = T.candor_async({ "llm", "ask", "--tier", "research", "what do people say about flaky tests" },
    { env = { CANDOR_DB = dir .. "/c.db", HOME = dir, XDG_CONFIG_HOME = dir .. "/config", CANDOR_PROFILE = "economy",
              GEMINI_API_KEY = "g", GEMINI_BASE_URL = fake.url }, unset = { "CANDOR_PATH", "GOOGLE_API_KEY" } })
  T.eq(r.code, 0, r.err)
  T.eq(r.out, "Flaky tests are common.\n\nSources:\n  [1] example.org https://example.org/a\n")
  T.ok(fake.calls[1].body.tools, "the research tier is grounded")
  fake.close()
end)
