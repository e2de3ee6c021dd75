-- Every provider against the fake server: the same contract (answers, streaming,
-- JSON, every fault it can meet), then each one's wire format.
local T = require "candor.testing"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local PROVIDERS = {
  { name = "openai", mod = require "candor.llm.openai",
    cfg = function(fake) return { base_url = fake.url .. "/v1", api_key = "sk-test", model = "fake-model" } end },
  { name = "anthropic", mod = require "candor.llm.anthropic",
    cfg = function(fake) return { base_url = fake.url, api_key = "ak-test", model = "fake-model" } end },
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
