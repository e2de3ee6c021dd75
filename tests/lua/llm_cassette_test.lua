-- Request keys, the response cache and cassettes: what identifies a request,
-- answers served without the provider, a run recorded and replayed offline.
local T = require "candor.testing"
local llm = require "candor.llm"
local profiles = require "candor.llm.profiles"
local request_key = require "candor.llm.request_key"
local cassette = require "candor.llm.cassette"
local log = require "candor.llm.log"
local dbm = require "candor.db"
local cjson = require "cjson"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

-- Runs fn with these environment variables (and no config file), then restores;
-- each run starts a new cassette run.
local with_env = T.with_llm_env

local function target(fake) return { provider = "openai", model = "m1", base_url = fake.url .. "/v1" } end

local function lines(path)
  local out = {}
  for line in (T.read_file(path) or ""):gmatch("[^\n]+") do out[#out + 1] = cjson.decode(line) end
  return out
end

-- What a replay must reproduce of a result.
local function answer_of(r)
  return { text = r.text, json = r.json, finish_reason = r.finish_reason, model = r.model, provider = r.provider,
           input_tokens = r.input_tokens, output_tokens = r.output_tokens }
end

T.test("request key: the same in any insertion order and in every run; only what changes the answer counts", function()
  local t = { provider = "openai", model = "m1", base_url = "http://a", api_key = "k", tier = "flash", temperature = 0.2 }
  local a = { system = "S", prompt = "write", json = true, schema = { type = "object", required = { "a", "b" },
              properties = { a = { type = "string" }, b = { type = "number" } } }, max_tokens = 100 }
  -- the same request built the other way round, with plumbing that must not count
  local schema = {}
  schema.properties = {}
  schema.properties.b = { type = "number" }
  schema.properties.a = { type = "string" }
  schema.required = { "a", "b" }
  schema.type = "object"
  local b = { max_tokens = 100, on_text = print, stream = true, timeout_ms = 5, purpose = "x", repair = false }
  b.schema, b.json, b.prompt, b.system = schema, true, "write", "S"
  local other_target = { temperature = 0.2, tier = "pro", profile = "p", base_url = "http://b", model = "m1", provider = "openai" }
  local ka, na = request_key.of(t, a)
  T.eq(request_key.of(other_target, b), ka)
  T.ok(ka:match("^%x+$") and #ka == 64, "sha256 hex")
  T.eq(na.messages, { { role = "user", content = "write" } })
  T.eq(request_key.canonical(na), '{"json":true,"max_tokens":100,"messages":[{"content":"write","role":"user"}],'
    .. '"model":"m1","provider":"openai","schema":{"properties":{"a":{"type":"string"},"b":{"type":"number"}},'
    .. '"required":["a","b"],"type":"object"},"system":"S","temperature":0.2}')
  -- a prompt is the one user message it stands for; false is absent; 1.0 is 1
  T.eq(request_key.of(t, { messages = { { role = "user", content = "hi" } }, json = false, temperature = 1.0 }),
       request_key.of(t, { prompt = "hi", temperature = 1 }))
  for _, change in ipairs { { system = "S2" }, { prompt = "write!" }, { temperature = 0.3 }, { json = false }, { grounding = true } } do
    local c = {}
    for k, v in pairs(a) do c[k] = v end
    for k, v in pairs(change) do c[k] = v end
    T.ok(request_key.of(t, c) ~= ka, "changing " .. next(change) .. " changes the key")
  end
  T.ok(request_key.of({ provider = "openai", model = "m2", temperature = 0.2 }, a) ~= ka, "the model counts")
end)

T.test("request key: a fixed request has a fixed key (cassettes and caches outlive the process)", function()
  local key = request_key.of({ provider = "openai", model = "m1" }, { system = "S", prompt = "p", json = true })
  -- also computed by a fresh process, where table order differs
  local script = T.write_file(T.tmpdir() .. "/key.lua", [[
    print((require("candor.llm.request_key").of({ model = "m1", provider = "openai" }, { json = true, prompt = "p", system = "S" })))]])
  local r = T.candor { "lua", script }
  T.eq(r.out, key .. "\n", r.err)
  T.eq(key, require("core.crypto").sha256('candor-llm-request/1\n{"json":true,"messages":[{"content":"p","role":"user"}],'
    .. '"model":"m1","provider":"openai","system":"S"}'))
end)

T.test("cache: a hit skips the provider and the limiter, is marked and logged as cached", function()
  local fake = Fake.start { { match = "draft", text = "A draft." } }
  local dir = T.tmpdir()
  local db = dbm.open(dir .. "/c.db")
  with_env({}, function()
    local opts = { db = db, cache = dir .. "/cache.db" }
    local r1 = assert(llm.call_target(target(fake), { prompt = "write a draft", purpose = "draft" }, opts))
    local r2 = assert(llm.call_target(target(fake), { prompt = "write a draft", purpose = "draft again" }, opts))
    T.eq(fake.count(), 1, "the second call never reached the provider")
    T.eq({ r1.cached, r2.cached, r2.latency_ms }, { nil, true, 0 })
    T.eq(answer_of(r2), answer_of(r1))
    -- off for a call that says so, and for calls that do not ask
    assert(llm.call_target(target(fake), { prompt = "write a draft" }, { cache = false }))
    assert(llm.call_target(target(fake), { prompt = "write a draft" }, {}))
    T.eq(fake.count(), 3)
  end)
  fake.close()
  log.flush(db)
  local rows = db:query("SELECT purpose, success, latency_ms, total_tokens, finish_reason, response FROM llm_calls ORDER BY rowid")
  T.eq(#rows, 2)
  T.eq({ rows[1].finish_reason, rows[2].finish_reason }, { "stop", "cached" })
  T.eq({ rows[2].purpose, rows[2].success, rows[2].latency_ms, rows[2].total_tokens, rows[2].response },
       { "draft again", 1, 0, 0, "A draft." })
  T.ok(rows[1].total_tokens > 0)
  db:close()
end)

T.test("cache: CANDOR_LLM_CACHE turns it on for every call; only successes are kept; streams replay", function()
  local fake = Fake.start {
    { match = "flaky", fault = "503", times = 1 },
    { match = "prose", text = "not json" },
    { text = "one two three" },
  }
  local path = T.tmpdir() .. "/cache.db"
  with_env({ CANDOR_LLM_CACHE = path }, function()
    local _, e = llm.call_target(target(fake), { prompt = "flaky" }, { retry = { attempts = 1 } })
    T.eq(e.status, 503)
    T.eq(llm.call_target(target(fake), { prompt = "flaky" }).text, "one two three", "a failure was not cached")
    local _, je = llm.call_target(target(fake), { prompt = "prose", json = true, repair = false })
    local _, je2 = llm.call_target(target(fake), { prompt = "prose", json = true, repair = false })
    T.eq({ je.kind, je2.kind }, { "json", "json" })
    T.eq(fake.count(), 4, "an answer that is not the JSON asked for is not cached")
    local pieces = {}
    local r = assert(llm.call_target(target(fake), { prompt = "flaky", stream = true,
      on_text = function(p) pieces[#pieces + 1] = p end }))
    T.eq({ r.cached, table.concat(pieces) }, { true, "one two three" })
  end)
  with_env({ CANDOR_LLM_CACHE = "0" }, function()
    llm.call_target(target(fake), { prompt = "flaky" })
    T.eq(fake.count(), 5)
  end)
  -- a cache that breaks is a miss and an answer not kept, never a failed call
  require("candor.llm.cache").open(path).db:exec("DROP TABLE llm_cache")
  for _ = 1, 2 do T.eq(llm.call_target(target(fake), { prompt = "flaky" }, { cache = path }).text, "one two three") end
  T.eq(fake.count(), 7)
  fake.close()
end)

-- One small pipeline: a plain call, a JSON call, a streamed call.
local function pipeline(fake, edited, opts)
  local out, pieces = {}, {}
  out.research = assert(llm.call_target(target(fake), { system = "S", prompt = "research the pain", purpose = "research" }, opts))
  out.judge = assert(llm.call_target(target(fake), { prompt = edited and "judge it harder" or "judge it", json = true,
    purpose = "judge" }, opts))
  out.draft = assert(llm.call_target(target(fake), { prompt = "draft it", stream = true, purpose = "draft",
    on_text = function(p) pieces[#pieces + 1] = p end }, opts))
  out.pieces = pieces
  return out
end

local SCRIPT = {
  { match = "research", text = "Teams rerun CI until green." },
  { match = "judge", json = { score = 7, notes = { "vague" } } },
  { match = "draft", text = "Flaky tests cost you a day a week.", chunk_ms = 1 },
}

T.test("cassette: a recorded run replays identically with the provider gone, chunks in order, no waiting", function()
  local fake = Fake.start(SCRIPT)
  local dir = T.tmpdir()
  local file = dir .. "/run.jsonl"
  local recorded
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" }, function() recorded = pipeline(fake) end)
  T.eq(fake.count(), 3)
  fake.close()
  local entries = lines(file)
  T.eq(#entries, 3)
  T.eq({ entries[1].purpose, entries[2].purpose, entries[3].purpose }, { "research", "judge", "draft" })
  T.eq(entries[1].request.system, "S")
  T.eq(entries[3].chunks, recorded.pieces)
  T.ok(#recorded.pieces > 3, "the draft streamed in pieces")
  T.eq(entries[2].response.json, nil, "JSON is kept as the text the model wrote")
  local db = dbm.open(dir .. "/c.db")
  local replayed
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "replay" }, function()
    local t0 = require("core.host").clock()
    replayed = pipeline(fake, false, { db = db })
    for _, step in ipairs { "research", "judge", "draft" } do
      T.eq(answer_of(replayed[step]), answer_of(recorded[step]), step)
      T.eq({ replayed[step].replayed, replayed[step].latency_ms }, { true, 0 })
    end
    T.ok(require("core.host").clock() - t0 < 0.5, "no sleeps")
    -- the same run again (without a new run starting) repeats the last recordings
    T.eq(llm.call_target(target(fake), { prompt = "judge it", json = true }, { db = db }).json.score, 7)
  end)
  T.eq(replayed.pieces, recorded.pieces)
  T.eq(replayed.judge.json, { score = 7, notes = { "vague" } })
  log.flush(db)
  local rows = db:query("SELECT purpose, finish_reason, success FROM llm_calls ORDER BY rowid")
  T.eq(#rows, 4, "replayed calls are logged")
  T.eq({ rows[1].purpose, rows[1].finish_reason, rows[1].success }, { "research", "replayed", 1 })
  db:close()
end)

T.test("cassette: a replay miss names the purpose and the prompt hash", function()
  local fake = Fake.start(SCRIPT)
  local file = T.tmpdir() .. "/run.jsonl"
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" }, function() pipeline(fake) end)
  -- replay is the default mode
  with_env({ CANDOR_CASSETTE = file, CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m1", OPENAI_BASE_URL = fake.url .. "/v1" }, function()
    local req = { prompt = "something new", purpose = "generate:battlecard" }
    local _, e = llm.call_target(target(fake), req)
    local key = request_key.of(target(fake), req)
    T.eq(e.kind, "cassette")
    T.eq(e.message, string.format("cassette %s has no answer for purpose 'generate:battlecard' (prompt sha256 %s…); "
      .. "rerun with CANDOR_CASSETTE_MODE=auto to fetch it", file, key:sub(1, 12)))
    T.raises(function() llm.ask("flash", req) end, "has no answer for purpose 'generate:battlecard'")
  end)
  T.eq(fake.count(), 3, "replay never reached the provider")
  fake.close()
  with_env({ CANDOR_CASSETTE = file .. ".missing" }, function()
    T.raises(function() llm.call_target(target(fake), { prompt = "x" }) end,
      "cannot read cassette .*missing.*record one with CANDOR_CASSETTE_MODE=record or auto")
  end)
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "play" }, function()
    T.raises(function() llm.call_target(target(fake), { prompt = "x" }) end,
      "CANDOR_CASSETTE_MODE must be record, replay or auto, not 'play'")
  end)
  T.write_file(file, "not json\n")
  with_env({ CANDOR_CASSETTE = file }, function()
    T.raises(function() llm.call_target(target(fake), { prompt = "x" }) end, "cassette .*run.jsonl:1 is not a recorded answer")
  end)
end)

T.test("cassette auto mode: after editing one prompt only the changed call reaches the provider", function()
  local fake = Fake.start(SCRIPT)
  local file = T.tmpdir() .. "/run.jsonl"
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" }, function() pipeline(fake) end)
  T.eq(fake.count(), 3)
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "auto" }, function()
    local out = pipeline(fake, true)
    T.eq({ out.research.replayed, out.judge.replayed, out.draft.replayed }, { true, nil, true })
  end)
  T.eq(fake.count(), 4, "only the edited judge call was fetched")
  T.eq(fake.calls[4].body.messages[1].content, "judge it harder")
  T.eq(#lines(file), 4, "and appended")
  fake.close()
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "replay" }, function()
    T.eq(pipeline(fake, true).judge.json.score, 7, "the edited run now replays offline")
  end)
end)

T.test("cassette: record starts the file afresh; identical requests replay in order", function()
  local fake = Fake.start { { match = "judge", text = "first", times = 1 }, { match = "judge", text = "second", times = 1 },
                            { text = "later" } }
  local file = T.write_file(T.tmpdir() .. "/run.jsonl", '{"key":"old","response":{"text":"stale"}}\n')
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" }, function()
    for _ = 1, 2 do llm.call_target(target(fake), { prompt = "judge" }) end
  end)
  local entries = lines(file)
  T.eq({ #entries, entries[1].response.text, entries[2].response.text }, { 2, "first", "second" })
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "replay" }, function()
    local got = {}
    for i = 1, 3 do got[i] = llm.call_target(target(fake), { prompt = "judge" }).text end
    T.eq(got, { "first", "second", "second" }, "the nth gets the nth; past the end, the last")
  end)
  with_env({ CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "auto" }, function()
    local got = {}
    for i = 1, 3 do got[i] = llm.call_target(target(fake), { prompt = "judge" }).text end
    T.eq(got, { "first", "second", "later" }, "auto fetches past the end")
  end)
  T.eq(fake.count(), 3)
  T.eq(#lines(file), 3)
  fake.close()
end)

T.test("cassette: a run that crashes keeps every answer it had", function()
  local fake = Fake.start { { text = "an answer" } }
  local dir = T.tmpdir()
  local file = dir .. "/run.jsonl"
  local script = T.write_file(dir .. "/crash.lua", [[
    local llm = require "candor.llm"
    local target = { provider = "openai", model = "m1", base_url = arg[1] }
    for i = 1, 3 do assert(llm.call_target(target, { prompt = "call " .. i, purpose = "step " .. i })) end
    os.execute(string.format("kill -KILL %d", require("luv").os_getpid()))   -- no exit, no flush, no close
    print("not reached")]])
  local r = T.candor_async({ "lua", script, fake.url .. "/v1" },
    { env = { CANDOR_CASSETTE = file, CANDOR_CASSETTE_MODE = "record" } })
  fake.close()
  T.ok(r.code ~= 0 and not r.out:find("not reached"), "the run was killed: " .. r.err)
  local entries = lines(file)
  T.eq(#entries, 3)
  T.eq({ entries[1].purpose, entries[3].purpose, entries[3].response.text }, { "step 1", "step 3", "an answer" })
end)
