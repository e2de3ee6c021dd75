-- candor.llm's input limit: a request larger than llm_max_input_tokens (or a
-- tier's max_input_tokens) fails before it is sent, with no retry, saying how
-- large it was, the limit and what sets it.
local T = require "candor.testing"
local llm = require "candor.llm"
local profiles = require "candor.llm.profiles"
local log = require "candor.llm.log"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local function seeded_db()
  local db = require("candor.db").open(T.tmpdir() .. "/limit.db")
  require("candor.seed").run(db)
  return db
end

-- Runs fn(fake, db) with every tier of the local profile sent to a fake server.
local function with_fake(fn, vars)
  local fake = Fake.start { { text = "fine" } }
  local db = seeded_db()
  local env = { CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m", OPENAI_BASE_URL = fake.url .. "/v1" }
  for k, v in pairs(vars or {}) do env[k] = v end
  local ok, err = pcall(T.with_llm_env, env, function() fn(fake, db) end)
  fake.close()
  db:close()
  if not ok then error(err, 0) end
end

T.test("input limit: seeded as llm_max_input_tokens, the default when nothing sets one", function()
  local db = seeded_db()
  T.eq(require("candor.repo.settings"):get_value(db, "llm_max_input_tokens"), tostring(profiles.default_max_input_tokens))
  T.eq(profiles.default_max_input_tokens, 200000)
  T.with_llm_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m", OPENAI_BASE_URL = "http://127.0.0.1:9/v1" }, function()
    T.eq(profiles.resolve("flash").max_input_tokens, 200000, "no database: the default")
    require("candor.repo.settings"):set_value(db, "llm_max_input_tokens", "5000")
    T.eq(profiles.resolve("flash", { db = db }).max_input_tokens, 5000, "the setting")
    T.eq(profiles.resolve_model("openai:x", { db = db }).max_input_tokens, 5000, "a model named directly too")
  end)
  db:close()
end)

T.test("input limit: a request above it fails before it is sent or retried, saying its size and the setting", function()
  with_fake(function(fake, db)
    require("candor.repo.settings"):set_value(db, "llm_max_input_tokens", "1000")
    local big = string.rep("flaky tests ", 1000)   -- 12,000 bytes: about 3,000 tokens
    local r, err = llm.call("flash", { system = "S", prompt = big, purpose = "test:big" },
      { db = db, retry = { attempts = 4, base_ms = 1 } })
    T.eq({ r, err.kind, err.retryable, err.limit }, { nil, "too_large", false, 1000 })
    T.eq(err.input_tokens, 3002, "system and prompt counted")
    T.contains(err.message, "the request is about 3002 input tokens, over the limit of 1000; nothing was sent")
    T.contains(err.message, "nothing was sent: send less text, or raise the llm_max_input_tokens setting")
    T.eq(fake.count(), 0, "nothing reached the provider, not even once")
    T.raises(function() llm.ask("flash", { prompt = big, purpose = "test:big" }, { db = db }) end,
      "flash call %(test:big%) failed: the request is about")
    -- the messages of a conversation count as its prompt does
    local turns = {}
    for i = 1, 3 do turns[i] = { role = i % 2 == 1 and "user" or "assistant", content = string.rep("x", 1600) } end
    local _, err2 = llm.call("flash", { messages = turns }, { db = db })
    T.eq(err2 and err2.kind, "too_large", "three turns of 400 tokens each are over 1000")
    local ok = llm.call("flash", { system = "S", prompt = "a short question" }, { db = db })
    T.eq(ok and ok.text, "fine", "a request within the limit is sent")
    T.eq(fake.count(), 1)
    log.flush(db)
    T.eq(db:value("SELECT count(*) FROM llm_calls"), 1, "a refused request was never a call")
  end)
end)

T.test("input limit: a tier's max_input_tokens wins over the setting and is named in the error", function()
  local path = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profile = "mine", profiles = { mine = {
      flash = { provider = "openai", model = "small", max_input_tokens = 50 },
      pro = { provider = "openai", model = "big" },
      judge = { provider = "openai", model = "bad", max_input_tokens = "lots" } } } }]])
  with_fake(function(fake, db)
    T.eq(profiles.resolve("flash", { db = db }).max_input_tokens, 50)
    T.eq(profiles.resolve("pro", { db = db }).max_input_tokens, 200000, "a tier that says nothing has the setting's")
    local prompt = string.rep("word ", 60)   -- about 76 tokens
    local _, err = llm.call("flash", { prompt = prompt }, { db = db })
    T.eq(err.kind, "too_large")
    T.contains(err.message, "over the limit of 50; nothing was sent: send less text, or raise "
      .. "max_input_tokens of tier 'flash' of profile 'mine' (from " .. path .. ")")
    T.eq(llm.call("pro", { prompt = prompt }, { db = db }).text, "fine")
    T.eq(fake.count(), 1)
    T.raises(function() profiles.resolve("judge", { db = db }) end,
      "max_input_tokens of tier 'judge' must be a whole number of tokens above 0")
  end, { CANDOR_PROFILE = false, CONFIG = path })
end)
