-- Strict JSON answers: parsed; an answer that does not parse gets exactly one
-- repair call through the same path; then a clear error keeping the texts.
local T = require "candor.testing"
local llm = require "candor.llm"
local profiles = require "candor.llm.profiles"
local cassette = require "candor.llm.cassette"
local log = require "candor.llm.log"
local dbm = require "candor.db"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local with_env = T.with_llm_env

local function target(fake) return { provider = "openai", model = "m1", base_url = fake.url .. "/v1" } end

local REPAIR = "not valid JSON"   -- what the fake server sees in the repair request (prompts/llm/json_repair.md)

T.test("json: prose first, then valid JSON after one repair call; both calls logged with their purposes", function()
  local fake = Fake.start {
    { match = REPAIR, json = { score = 7 } },
    { match = "judge", text = "Sure! The score is 7." },
  }
  local db = dbm.open(T.tmpdir() .. "/c.db")
  local r, e
  with_env({}, function()
    r, e = llm.call_target(target(fake), { system = "You judge.", prompt = "judge this draft", json = true, purpose = "judge" },
      { db = db })
  end)
  fake.close()
  T.eq(e, nil)
  T.eq(r.json, { score = 7 })
  T.eq(fake.count(), 2)
  local sent = fake.calls[2].body.messages
  T.eq({ sent[#sent - 2].role, sent[#sent - 2].content }, { "user", "judge this draft" })
  T.eq({ sent[#sent - 1].role, sent[#sent - 1].content }, { "assistant", "Sure! The score is 7." })
  T.eq(sent[#sent].role, "user")
  T.contains(sent[#sent].content, "The parser said: Expected value but found invalid token at character 1")
  T.ok(not sent[#sent].content:find("{{", 1, true), "the placeholder was filled")
  T.eq(fake.calls[2].body.response_format, { type = "json_object" }, "the repair still asks for JSON")
  log.flush(db)
  local rows = db:query("SELECT purpose, success, response, error_message FROM llm_calls ORDER BY rowid")
  T.eq(#rows, 2)
  T.eq({ rows[1].purpose, rows[1].success, rows[1].response }, { "judge", 0, "Sure! The score is 7." })
  T.contains(rows[1].error_message, "not valid JSON")
  T.eq({ rows[2].purpose, rows[2].success }, { "judge:json-repair", 1 })
  db:close()
end)

T.test("json: a repair that fails too is a clear error keeping both texts; never a second repair", function()
  local fake = Fake.start {
    { match = REPAIR, text = "{score: 7}" },
    { text = "The score is 7." },
  }
  with_env({}, function()
    local r, e = llm.call_target(target(fake), { prompt = "judge", json = true, purpose = "judge" })
    T.eq(r, nil)
    T.eq({ e.kind, e.raw, e.first_raw }, { "json", "{score: 7}", "The score is 7." })
    T.eq(e.message, "the answer is not valid JSON, even after one repair attempt: "
      .. "Expected object key string but found invalid token at character 2")
    T.raises(function() llm.ask("flash", { prompt = "judge", json = true }) end, "needs an API key")
  end)
  T.eq(fake.count(), 2)
  fake.close()
end)

T.test("json: a repair call that fails keeps the first text and says so", function()
  local fake = Fake.start { { match = REPAIR, fault = "503" }, { text = "prose" } }
  with_env({}, function()
    local _, e = llm.call_target(target(fake), { prompt = "judge", json = true }, { retry = { attempts = 1 } })
    T.eq({ e.kind, e.raw, e.first_raw, e.repair_error.status }, { "json", "prose", "prose", 503 })
    T.contains(e.message, "the answer is not valid JSON (Expected value but found invalid token at character 1), "
      .. "and the repair call failed: gave up after 1 attempt: 1) HTTP 503: fake 503")
  end)
  fake.close()
end)

T.test("json: repair = false makes one call; a valid answer needs no repair", function()
  local fake = Fake.start { { match = "ok", json = { fine = true } }, { text = "prose" } }
  with_env({}, function()
    local _, e = llm.call_target(target(fake), { prompt = "judge", json = true, repair = false })
    T.eq({ e.kind, e.raw, e.first_raw }, { "json", "prose", nil })
    T.eq(fake.count(), 1)
    T.eq(llm.call_target(target(fake), { prompt = "ok", json = true }).json, { fine = true })
    T.eq(fake.count(), 2)
    local r = llm.call_target(target(fake), { prompt = "prose please" })
    T.eq(r.text, "prose", "without json nothing is parsed or repaired")
    T.eq(fake.count(), 3)
  end)
  fake.close()
end)

T.test("json: a recorded repair replays offline the same way", function()
  local fake = Fake.start { { match = REPAIR, json = { score = 3 } }, { text = "three" } }
  local file = T.tmpdir() .. "/run.jsonl"
  local req = { prompt = "judge", json = true, purpose = "judge" }
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" }, function()
    T.eq(llm.call_target(target(fake), req).json, { score = 3 })
  end)
  fake.close()
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "replay" }, function()
    local r = assert(llm.call_target(target(fake), req))
    T.eq({ r.json, r.replayed }, { { score = 3 }, true })
  end)
  T.eq(fake.count(), 2)
  local purposes = {}
  for line in T.read_file(file):gmatch("[^\n]+") do purposes[#purposes + 1] = require("cjson").decode(line).purpose end
  T.eq(purposes, { "judge", "judge:json-repair" })
end)
