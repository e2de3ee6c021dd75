-- Every provider against the fake server: the same contract (answers, streaming,
-- JSON, every fault it can meet), then each one's wire format.
local T = require "candor.testing"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local PROVIDERS = {
  { name = "openai", mod = require "candor.llm.openai",
    cfg = function(fake) return { base_url = fake.url .. "/v1", api_key = "sk-test", model = "fake-model" } end },
  { name = "anthropic", mod = require "candor.llm.anthropic",
    cfg = function(fake) return { base_url = fake.url, api_key = "ak-test", model = "fake-model" } end },
  { name = "gemini", mod = require "candor.llm.gemini",
    cfg = function(fake) return { base_url = fake.url, api_key = "gk-test", model = "fake-model" } end },
}

for _, P in ipairs(PROVIDERS) do
  local call = function(fake, req) return P.mod.call(P.cfg(fake), req) end

  T.test(P.name .. ": a plain answer with tokens, model and latency", function()
    local fake = Fake.start { { match = "hello", text = "Hi there." } }
    local r, e = call(fake, { system = "Be brief.", prompt = "say hello" })
    fake.close()
    T.eq(e, nil)
    T.eq({ r.text, r.finish_reason, r.model, r.provider }, { "Hi there.", "stop", "fake-model", P.name })
    T.ok(r.input_tokens > 0 and r.output_tokens > 0 and r.latency_ms >= 0, "tokens and latency")
    T.eq(fake.calls[1].format, P.name)
  end)

  T.test(P.name .. ": streaming hands over pieces as they arrive", function()
    local fake = Fake.start { { text = "one two three four five", chunk_ms = 5 } }
    local pieces = {}
    local r = assert(call(fake, { prompt = "count", stream = true, on_text = function(p) pieces[#pieces + 1] = p end }))
    fake.close()
    T.eq(r.text, "one two three four five")
    T.eq(table.concat(pieces), r.text)
    T.ok(#pieces >= 5, "streamed in pieces")
    T.ok(r.output_tokens > 0, "usage arrived")
    T.eq(fake.calls[1].stream, true)
  end)

  T.test(P.name .. ": JSON answers are parsed; prose in JSON mode is an error keeping the text", function()
    local fake = Fake.start { { match = "judge", json = { score = 7, notes = { "a", "b" } } }, { match = "prose", text = "just prose" } }
    local r = assert(call(fake, { prompt = "judge", json = true, schema = { type = "object" } }))
    T.eq(r.json, { score = 7, notes = { "a", "b" } })
    local _, e = call(fake, { prompt = "prose", json = true })
    fake.close()
    T.eq({ e.kind, e.raw }, { "json", "just prose" })
  end)

  T.test(P.name .. ": faults become classified errors, never text", function()
    local fake = Fake.start {
      { match = "limit", fault = "429", retry_after = 3 },
      { match = "down", fault = "503" },
      { match = "garbled", fault = "malformed" },
      { match = "nothing", fault = "empty" },
      { match = "unsafe", fault = "blocked", text = "no" },
      { match = "long", fault = "truncated", text = "half a sent" },
      { match = "hang", fault = "hang" },
      { match = "drop", fault = "drop", text = "one two three" },
    }
    local _, e = call(fake, { prompt = "limit" })
    T.eq({ e.kind, e.status, e.retry_after, e.retryable }, { "http", 429, 3, true })
    T.contains(e.message, "fake 429")
    _, e = call(fake, { prompt = "down" })
    T.eq({ e.kind, e.status, e.retryable }, { "http", 503, true })
    _, e = call(fake, { prompt = "garbled" })
    T.eq(e.kind, "malformed")
    _, e = call(fake, { prompt = "nothing" })
    T.eq(e.kind, "empty")
    _, e = call(fake, { prompt = "unsafe" })
    T.eq(e.kind, "blocked")
    _, e = call(fake, { prompt = "unsafe", stream = true })
    T.eq(e.kind, "blocked", "streamed too")
    _, e = call(fake, { prompt = "long" })
    T.eq({ e.kind, e.raw }, { "truncated", "half a sent" })
    _, e = call(fake, { prompt = "hang", timeout_ms = 150 })
    T.eq({ e.kind, e.retryable }, { "timeout", true })
    _, e = call(fake, { prompt = "drop", stream = true })
    T.eq({ e.kind, e.retryable }, { "network", true })
    fake.close()
    _, e = P.mod.call({ base_url = "http://127.0.0.1:1", model = "m" }, { prompt = "x", timeout_ms = 2000 })
    T.eq(e.kind, "network")
  end)
end

T.test("openai wire format: bearer key, system and user messages, json_schema", function()
  local fake = Fake.start { { json = { ok = true } } }
  assert(PROVIDERS[1].mod.call(PROVIDERS[1].cfg(fake), { system = "S", prompt = "U", json = true, schema = { type = "object" } }))
  fake.close()
  local c = fake.calls[1]
  T.eq(c.auth, "Bearer sk-test")
  T.eq(c.body.messages, { { role = "system", content = "S" }, { role = "user", content = "U" } })
  T.eq(c.body.response_format.type, "json_schema")
end)

T.test("anthropic wire format: x-api-key and version headers, system apart, max_tokens, JSON asked in the system prompt", function()
  local fake = Fake.start { { json = { ok = true } } }
  assert(PROVIDERS[2].mod.call(PROVIDERS[2].cfg(fake), { system = "S", prompt = "U", json = true }))
  fake.close()
  local c = fake.calls[1]
  T.eq({ c.api_key, c.version }, { "ak-test", "2023-06-01" })
  T.eq(c.body.messages, { { role = "user", content = "U" } })
  T.ok(c.body.max_tokens > 0, "max_tokens is required by the API")
  T.contains(c.body.system, "S\n\nAnswer with one JSON value only")
end)

local gemini = PROVIDERS[3]

T.test("gemini wire format: x-goog-api-key, model and method in the path, systemInstruction, JSON mode with responseJsonSchema", function()
  local fake = Fake.start { { json = { ok = true } } }
  local schema = { type = "object", properties = { ok = { type = "boolean" } } }
  local r = assert(gemini.mod.call(gemini.cfg(fake), { system = "S", prompt = "U", json = true, schema = schema,
    temperature = 0.3, max_tokens = 99 }))
  assert(gemini.mod.call(gemini.cfg(fake), { prompt = "U", stream = true }))
  fake.close()
  T.eq(r.json, { ok = true })
  local c = fake.calls[1]
  T.eq({ c.api_key, c.model, c.stream }, { "gk-test", "fake-model", false })
  T.eq(c.body.contents, { { role = "user", parts = { { text = "U" } } } })
  T.eq(c.body.systemInstruction, { parts = { { text = "S" } } })
  T.eq(c.body.generationConfig, { responseMimeType = "application/json", responseJsonSchema = schema,
    temperature = 0.3, maxOutputTokens = 99 })
  T.eq(c.body.tools, nil, "no search unless asked")
  T.eq(r.sources, nil, "no sources unless grounded")
  T.eq({ fake.calls[2].stream, fake.calls[2].query }, { true, "alt=sse" })
end)

T.test("gemini: chat messages become contents; system messages join the system instruction", function()
  local fake = Fake.start { { text = "ok" } }
  assert(gemini.mod.call(gemini.cfg(fake), { system = "S", messages = {
    { role = "system", content = "S2" }, { role = "user", content = "a" }, { role = "assistant", content = "b" },
    { role = "user", content = "c" } } }))
  fake.close()
  local body = fake.calls[1].body
  T.eq(body.systemInstruction.parts[1].text, "S\n\nS2")
  T.eq(body.contents, { { role = "user", parts = { { text = "a" } } }, { role = "model", parts = { { text = "b" } } },
    { role = "user", parts = { { text = "c" } } } })
end)

T.test("gemini: thought parts are never the answer, but their tokens count as output", function()
  local fake = Fake.start { { text = "The answer.", thought = "Let me think about this for a while first." } }
  local r = assert(gemini.mod.call(gemini.cfg(fake), { prompt = "why" }))
  local pieces = {}
  local s = assert(gemini.mod.call(gemini.cfg(fake), { prompt = "why", stream = true,
    on_text = function(p) pieces[#pieces + 1] = p end }))
  fake.close()
  T.eq({ r.text, s.text, table.concat(pieces) }, { "The answer.", "The answer.", "The answer." })
  T.eq(r.output_tokens, (#"The answer." // 4 + 1) + (#"Let me think about this for a while first." // 4 + 1))
end)

T.test("gemini grounding: the google_search tool, sources once each, the search queries", function()
  local fake = Fake.start { { match = "news", text = "Grounded.", search_queries = { "q1", "q2" }, sources = {
    { url = "https://a.example/1", title = "A" }, { url = "https://b.example/2", title = "B" },
    { url = "https://a.example/1", title = "A again" } } } }
  local r = assert(gemini.mod.call(gemini.cfg(fake), { prompt = "the news", grounding = true }))
  fake.close()
  T.eq(fake.calls[1].body.tools, { { google_search = {} } })
  T.eq(r.text, "Grounded.")
  T.eq(r.sources, { { url = "https://a.example/1", title = "A" }, { url = "https://b.example/2", title = "B" } })
  T.eq(r.search_queries, { "q1", "q2" })
end)

T.test("gemini grounding streamed: the metadata in the last chunk still gives the sources", function()
  local fake = Fake.start { { text = "one two three", sources = { { url = "https://c.example", title = "C" } } } }
  local pieces = {}
  local r = assert(gemini.mod.call(gemini.cfg(fake), { prompt = "x", grounding = true, stream = true,
    on_text = function(p) pieces[#pieces + 1] = p end }))
  fake.close()
  T.eq({ r.text, #pieces }, { "one two three", 3 })
  T.eq(r.sources, { { url = "https://c.example", title = "C" } })
  T.eq(r.search_queries, { "x" })
end)

T.test("gemini grounding with JSON: JSON asked in the system instruction, not JSON mode, and parsed", function()
  local fake = Fake.start { { json = { claims = { "c" } }, sources = { { url = "https://d.example", title = "D" } } } }
  local r = assert(gemini.mod.call(gemini.cfg(fake), { system = "S", prompt = "x", grounding = true, json = true,
    schema = { type = "object" } }))
  fake.close()
  local body = fake.calls[1].body
  T.eq(body.generationConfig, nil, "no responseMimeType beside the search tool")
  T.contains(body.systemInstruction.parts[1].text, "S\n\nAnswer with one JSON value only")
  T.contains(body.systemInstruction.parts[1].text, '{"type":"object"}')
  T.eq({ r.json, #r.sources }, { { claims = { "c" } }, 1 })
end)

T.test("gemini grounding from the target (a profile's research tier); a request may turn it off", function()
  local fake = Fake.start { { text = "ok" } }
  local cfg = gemini.cfg(fake)
  cfg.grounding = true
  local r = assert(gemini.mod.call(cfg, { prompt = "x" }))
  assert(gemini.mod.call(cfg, { prompt = "x", grounding = false }))
  fake.close()
  T.eq({ fake.calls[1].body.tools ~= nil, fake.calls[2].body.tools }, { true, nil })
  T.eq(r.sources, {}, "grounded but nothing cited")
end)

T.test("gemini: a blocked prompt (promptFeedback, no candidates) is blocked, plain and streamed, naming the reason", function()
  local fake = Fake.start { { fault = "prompt_blocked" } }
  local _, e = gemini.mod.call(gemini.cfg(fake), { prompt = "x" })
  local _, e2 = gemini.mod.call(gemini.cfg(fake), { prompt = "x", stream = true })
  fake.close()
  T.eq({ e.kind, e2.kind, e.retryable }, { "blocked", "blocked", nil })
  T.contains(e.message, "SAFETY")
end)

T.test("gemini: an HTTP error carries Google's message; an empty stream is empty, not an answer", function()
  local fake = Fake.start { { match = "busy", fault = "429", retry_after = 2 }, { match = "none", fault = "empty" } }
  local _, e = gemini.mod.call(gemini.cfg(fake), { prompt = "busy", stream = true })
  local _, e2 = gemini.mod.call(gemini.cfg(fake), { prompt = "none", stream = true })
  fake.close()
  T.eq({ e.kind, e.status, e.retry_after, e.message }, { "http", 429, 2, "HTTP 429: fake 429" })
  T.eq({ e2.kind, e2.retryable }, { "empty", true })
end)

T.test("the fake server counts calls and faults a set number of times", function()
  local fake = Fake.start { { match = "x", fault = "500", times = 2 }, { match = "x", text = "finally" } }
  local c = PROVIDERS[1].cfg(fake)
  local openai = PROVIDERS[1].mod
  local _, e1 = openai.call(c, { prompt = "x" })
  local _, e2 = openai.call(c, { prompt = "x" })
  local r = openai.call(c, { prompt = "x" })
  fake.close()
  T.eq({ e1.status, e2.status, r.text, fake.count() }, { 500, 500, "finally", 3 })
end)
