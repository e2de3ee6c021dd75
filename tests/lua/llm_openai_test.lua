-- The OpenAI-compatible provider against the fake server: answers, streaming,
-- JSON mode, and every fault it can meet.
local T = require "candor.testing"
local openai = require "candor.llm.openai"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local function cfg(fake) return { base_url = fake.url .. "/v1", api_key = "sk-test", model = "fake-model" } end

T.test("a plain answer: text, tokens, model, latency; the request as the wire format says", function()
  local fake = Fake.start { { match = "hello", text = "Hi there." } }
  local r, e = openai.call(cfg(fake), { system = "Be brief.", prompt = "say hello" })
  fake.close()
  T.eq(e, nil)
  T.eq(r.text, "Hi there.")
  T.eq(r.finish_reason, "stop")
  T.eq(r.model, "fake-model")
  T.ok(r.input_tokens > 0 and r.output_tokens > 0, "tokens")
  T.ok(r.latency_ms >= 0, "latency")
  local call = fake.calls[1]
  T.eq(call.auth, "Bearer sk-test")
  T.eq(call.body.messages, { { role = "system", content = "Be brief." }, { role = "user", content = "say hello" } })
end)

T.test("streaming: pieces as they arrive, the same text at the end, usage from the last event", function()
  local fake = Fake.start { { text = "one two three four five", chunk_ms = 5 } }
  local pieces = {}
  local r = assert(openai.call(cfg(fake), { prompt = "count", stream = true, on_text = function(p) pieces[#pieces + 1] = p end }))
  fake.close()
  T.eq(r.text, "one two three four five")
  T.eq(table.concat(pieces), r.text)
  T.ok(#pieces >= 5, "streamed in pieces")
  T.ok(r.output_tokens > 0, "usage arrived")
  T.eq(fake.calls[1].stream, true)
end)

T.test("JSON mode: parsed JSON, and a schema sent as json_schema", function()
  local fake = Fake.start { { json = { score = 7, notes = { "a", "b" } } } }
  local r = assert(openai.call(cfg(fake), { prompt = "judge", json = true, schema = { type = "object" } }))
  fake.close()
  T.eq(r.json, { score = 7, notes = { "a", "b" } })
  T.eq(fake.calls[1].body.response_format.type, "json_schema")
end)

T.test("faults: rate limits and server errors say how long to wait; bad answers are errors, not text", function()
  local fake = Fake.start {
    { match = "limit", fault = "429", retry_after = 3 },
    { match = "down", fault = "503" },
    { match = "garbled", fault = "malformed" },
    { match = "nothing", fault = "empty" },
    { match = "unsafe", fault = "blocked", text = "no" },
    { match = "long", fault = "truncated", text = "half a sent" },
    { match = "notjson", text = "this is prose" },
  }
  local c = cfg(fake)
  local _, e = openai.call(c, { prompt = "limit" })
  T.eq({ e.kind, e.status, e.retry_after, e.retryable }, { "http", 429, 3, true })
  T.contains(e.message, "fake 429")
  _, e = openai.call(c, { prompt = "down" })
  T.eq({ e.kind, e.status, e.retryable }, { "http", 503, true })
  _, e = openai.call(c, { prompt = "garbled" })
  T.eq(e.kind, "malformed")
  _, e = openai.call(c, { prompt = "nothing" })
  T.eq(e.kind, "empty")
  _, e = openai.call(c, { prompt = "unsafe" })
  T.eq(e.kind, "blocked")
  _, e = openai.call(c, { prompt = "long" })
  T.eq({ e.kind, e.raw }, { "truncated", "half a sent" })
  _, e = openai.call(c, { prompt = "notjson", json = true })
  T.eq({ e.kind, e.raw }, { "json", "this is prose" })
  _, e = openai.call(c, { prompt = "unsafe", stream = true })
  T.eq(e.kind, "blocked", "streamed too")
  fake.close()
end)

T.test("transport faults: a hang times out, a dropped stream fails, a dead server refuses", function()
  local fake = Fake.start { { match = "hang", fault = "hang" }, { match = "drop", fault = "drop", text = "one two three" } }
  local c = cfg(fake)
  local _, e = openai.call(c, { prompt = "hang", timeout_ms = 150 })
  T.eq({ e.kind, e.retryable }, { "timeout", true })
  _, e = openai.call(c, { prompt = "drop", stream = true })
  T.eq(e.kind, "network")
  T.eq(e.retryable, true)
  fake.close()
  _, e = openai.call({ base_url = "http://127.0.0.1:1/v1", model = "m" }, { prompt = "x", timeout_ms = 2000 })
  T.eq(e.kind, "network")
end)

T.test("the fake server counts calls and faults a set number of times", function()
  local fake = Fake.start { { match = "x", fault = "500", times = 2 }, { match = "x", text = "finally" } }
  local c = cfg(fake)
  local _, e1 = openai.call(c, { prompt = "x" })
  local _, e2 = openai.call(c, { prompt = "x" })
  local r = openai.call(c, { prompt = "x" })
  fake.close()
  T.eq({ e1.status, e2.status, r.text, fake.count() }, { 500, 500, "finally", 3 })
end)
