-- Gemini Deep Research against the fake server: a background interaction started,
-- polled with backoff and progress, and ended as a result or a classified error.
local T = require "candor.testing"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local research = require "candor.llm.deep_research"

local AGENT = "deep-research-pro-preview-12-2025"
local FAST = { first_ms = 5, max_ms = 20 }

local function cfg(fake) return { base_url = fake.url, api_key = "gk-test", model = AGENT } end

T.test("deep research: started in the background, polled with progress, the report with its sources and tokens", function()
  local fake = Fake.start { { match = "TPU", text = "The report.", polls = 3, sources = {
    { url = "https://a.example", title = "A" }, { url = "https://b.example", title = "B" } } } }
  local progress = {}
  local r, e = research.call(cfg(fake), { system = "Be thorough.", prompt = "Research TPUs.", poll = FAST,
    on_progress = function(p) progress[#progress + 1] = p end })
  fake.close()
  T.eq(e, nil)
  T.eq({ r.text, r.finish_reason, r.provider, r.model }, { "The report.", "stop", "deep_research", AGENT })
  T.eq(r.sources, { { url = "https://a.example", title = "A" }, { url = "https://b.example", title = "B" } })
  T.ok(r.input_tokens > 0 and r.output_tokens > 7, "usage, thoughts counted as output")
  local c = fake.calls[1]
  T.eq({ c.format, c.model, c.api_key, c.body.background }, { "deep_research", AGENT, "gk-test", true })
  T.eq(c.body.input, "Be thorough.\n\nResearch TPUs.")
  T.eq(#progress, 4, "three polls in progress, then the one that completed")
  T.eq({ progress[1].status, progress[1].polls, progress[4].status, progress[4].polls }, { "in_progress", 1, "completed", 4 })
  T.eq(progress[1].id, "fake-interaction-1")
  T.ok(progress[4].elapsed_ms >= progress[1].elapsed_ms, "elapsed time grows")
  T.eq(fake.interactions[progress[1].id].polls, 4)
end)

T.test("deep research: the newer steps shape; JSON asked in the input and parsed; a stream gets the report whole", function()
  local fake = Fake.start { { json = { findings = { "f" } }, steps = true, sources = { { url = "https://c.example", title = "C" } } } }
  local pieces = {}
  local r = assert(research.call(cfg(fake), { prompt = "x", json = true, poll = FAST, stream = true,
    on_text = function(p) pieces[#pieces + 1] = p end }))
  fake.close()
  T.eq(r.json, { findings = { "f" } })
  T.eq(pieces, { r.text }, "asked to stream, the report comes in one piece")
  T.eq(r.sources, { { url = "https://c.example", title = "C" } })
  T.contains(fake.calls[1].body.input, "Answer with one JSON value only")
end)

T.test("deep research: a failed interaction is an error with the API's message, not retried", function()
  local fake = Fake.start {
    { match = "fails", fault = "research_failed", polls = 1, message = "the agent ran out of sources" },
    { match = "unsafe", fault = "research_failed", message = "blocked for SAFETY" },
  }
  local _, e = research.call(cfg(fake), { prompt = "this fails", poll = FAST })
  local _, e2 = research.call(cfg(fake), { prompt = "unsafe", poll = FAST })
  fake.close()
  T.eq({ e.kind, e.retryable, e.message }, { "http", nil, "the research failed: the agent ran out of sources" })
  T.ok(e.id, "the interaction's id, to look it up")
  T.eq(e2.kind, "blocked")
end)

T.test("deep research: past the deadline a timeout error, not retryable, and the interaction cancelled", function()
  local fake = Fake.start { { polls = 100000 } }
  local progress = 0
  local _, e = research.call(cfg(fake), { prompt = "forever", deadline_ms = 150, poll = FAST,
    on_progress = function() progress = progress + 1 end })
  fake.close()
  T.eq({ e.kind, e.retryable }, { "timeout", false })
  T.contains(e.message, "did not finish within 0.15 s")
  local it = fake.interactions[e.id]
  T.eq({ it.cancelled, it.status }, { true, "cancelled" })
  T.ok(progress >= 3, "polled until then")
end)

T.test("deep research: a poll that fails in transit or with a 503 is tried again; a hung poll is bounded by the deadline", function()
  local fake = Fake.start {
    { match = "flaky", text = "Survived.", polls = 1, poll_faults = { "503", "drop", "500" } },
    { match = "hung", poll_faults = { "hang" } },
  }
  local r, e = research.call(cfg(fake), { prompt = "flaky", poll = FAST })
  T.eq(e, nil)
  T.eq(r.text, "Survived.")
  T.eq(fake.interactions["fake-interaction-1"].polls, 5, "three failed polls, then in progress, then completed")
  local _, e2 = research.call(cfg(fake), { prompt = "hung", poll = FAST, deadline_ms = 200 })
  fake.close()
  T.eq(e2.kind, "timeout")
  T.ok(fake.interactions["fake-interaction-2"].cancelled, "cancelled")
end)

T.test("deep research: polls failing every time give up with the last error; start errors are the usual ones", function()
  local fake = Fake.start {
    { match = "down", poll_faults = { "503", "503", "503", "503", "503", "503", "503" } },
    { match = "limit", fault = "429", retry_after = 4 },
  }
  local _, e = research.call(cfg(fake), { prompt = "down", poll = FAST })
  local _, e2 = research.call(cfg(fake), { prompt = "limit", poll = FAST })
  fake.close()
  T.eq({ e.kind, e.status, e.retryable }, { "http", 503, true })
  T.eq(fake.interactions[e.id].polls, research.poll_retries + 1)
  T.ok(fake.interactions[e.id].cancelled, "given up, so cancelled")
  T.eq({ e2.kind, e2.status, e2.retry_after }, { "http", 429, 4 })
  T.eq(fake.count(), 2, "polls are not calls")
end)

T.test("deep research through the client: the deep_research tier of the production profile", function()
  local profiles = require "candor.llm.profiles"
  local fake = Fake.start { { text = "Via the tier." } }
  local real_env, real_path = profiles.getenv, profiles.config_path
  profiles.getenv = function(name) return ({ GEMINI_API_KEY = "g", GEMINI_BASE_URL = fake.url })[name] end
  profiles.config_path = function() return "/nonexistent/candor-config.lua" end
  local ok, r = pcall(require("candor.llm").ask, "deep_research", { prompt = "x", poll = FAST })
  local ok2, t = pcall(profiles.resolve, "research")
  profiles.getenv, profiles.config_path = real_env, real_path
  fake.close()
  T.ok(ok, r)
  T.eq({ r.text, fake.calls[1].model }, { "Via the tier.", AGENT })
  T.ok(ok2, t)
  T.eq({ t.provider, t.model, t.grounding }, { "gemini", "gemini-2.5-pro", true }, "research is grounded by default")
end)
