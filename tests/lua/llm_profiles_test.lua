-- Model profiles layered from the built-ins, the config file and the settings
-- table; the job's own profile; limits, timeouts and attempts from settings.
local T = require "candor.testing"
local profiles = require "candor.llm.profiles"
local limit = require "candor.llm.limit"
local async = require "candor.async"
local dbm = require "candor.db"

local with_env = T.with_llm_env

local function seeded_db()
  local db = dbm.open(T.tmpdir() .. "/p.db")
  require("candor.seed").run(db)
  return db
end

T.test("the model_profiles setting replaces single tiers over the config file and the built-ins", function()
  local db = seeded_db()
  local S = require "candor.repo.settings"
  local cfg = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profiles = { production = { pro = "anthropic:claude-from-config" }, mine = { flash = "openai:m" } } }]])
  S:set_value(db, "model_profiles", [[{"production": {"flash": {"provider": "openai", "model": "gpt-x", "temperature": 0.1}}}]])
  with_env({ CONFIG = cfg, GEMINI_API_KEY = "g", ANTHROPIC_API_KEY = "a", OPENAI_API_KEY = "o" }, function()
    local flash = profiles.resolve("flash", { db = db })
    T.eq({ flash.provider, flash.model, flash.temperature, flash.origin }, { "openai", "gpt-x", 0.1, "the model_profiles setting" })
    local pro = profiles.resolve("pro", { db = db })
    T.eq({ pro.model, pro.origin }, { "claude-from-config", cfg })
    local judge = profiles.resolve("judge", { db = db })
    T.eq({ judge.provider, judge.origin }, { "anthropic", "built-in" }, "tiers nobody overrode stay")
    S:set_value(db, "model_profile", "mine")
    T.eq(profiles.resolve("flash", { db = db }).profile, "mine", "the model_profile setting chooses")
    S:set_value(db, "model_profiles", "{not json")
    T.raises(function() profiles.resolve("flash", { db = db }) end, "the model_profiles setting must be a JSON object")
  end)
  db:close()
end)

T.test("a job's own profile wins over the environment, so concurrent jobs never share one", function()
  with_env({ CANDOR_PROFILE = "economy", GEMINI_API_KEY = "g", CANDOR_LOCAL_MODEL = "llama" }, function()
    local seen = async.run(function()
      return async.parallel {
        a = function() return async.spawn(function()
              async.sleep(1)
              return profiles.resolve("flash").profile
            end, { ctx = { profile = "local" } }):await() end,
        b = function() return profiles.resolve("flash").profile end,
      }
    end)
    T.eq(seen, { a = "local", b = "economy" })
  end)
end)

T.test("settings give limits, timeout and attempts; a profile's limits win for its provider", function()
  local settings = { llm_max_concurrency = "3", llm_request_timeout_seconds = "45", llm_max_retries = "2",
    model_profiles = { ["local"] = { limits = { openai = { rpm = 60 } } } } }
  with_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m" }, function()
    local t = profiles.resolve("flash", { settings = settings })
    T.eq({ t.limits, t.timeout_ms, t.attempts }, { { concurrency = 3, rpm = 60 }, 45000, 3 })
    settings.model_profiles["local"].limits.openai.concurrency = 5
    T.eq(profiles.resolve("flash", { settings = settings }).limits.concurrency, 5)
  end)
end)

T.test("a provider's limiter takes new limits on its next turn; program settings win", function()
  local name = "test-provider-" .. tostring(math.random(1e9))
  local l = limit.for_provider(name, { concurrency = 2 })
  T.eq(l.max, 2)
  T.ok(limit.for_provider(name, { concurrency = 4, rpm = 10 }) == l, "the same limiter")
  T.eq({ l.max, l.rpm }, { 4, 10 })
  limit.settings[name] = { concurrency = 50 }
  limit.for_provider(name, { concurrency = 1 })
  T.eq(l.max, 50)
  limit.settings[name] = nil
end)

T.test("candor llm profiles shows where each tier came from", function()
  local dir = T.tmpdir()
  local r = T.candor({ "llm", "profiles" }, { env = { CANDOR_DB = dir .. "/x.db", CANDOR_PROFILE = "local",
    CANDOR_LOCAL_MODEL = "qwen", XDG_CONFIG_HOME = dir } })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "profile local (chosen by CANDOR_PROFILE)")
  T.contains(r.out, "flash      openai:qwen at http://localhost:11434/v1, key (none needed)")
  T.contains(r.out, "from built-in; at most 8 in flight, 180 s timeout, 4 attempts")
end)

T.test("the local profile with no model named uses the server's first listed model, asked once", function()
  local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
  local llm = require "candor.llm"
  local fake = Fake.start({ { text = "hi" } }, { models = { "qwen2.5:7b", "llama3.2" } })
  local empty = Fake.start({ { text = "hi" } }, { models = {} })
  with_env({ CANDOR_PROFILE = "local", OPENAI_BASE_URL = fake.url .. "/v1" }, function()
    local r = async.run(function() return llm.ask("flash", { prompt = "x" }) end)
    T.eq({ r.text, fake.calls[1].model }, { "hi", "qwen2.5:7b" })
    async.run(function() return llm.ask("pro", { prompt = "y" }) end)
    T.eq({ fake.models_listed, #fake.calls, fake.calls[2].model }, { 1, 2, "qwen2.5:7b" }, "the list is asked once per server")
  end)
  with_env({ CANDOR_PROFILE = "local", OPENAI_BASE_URL = empty.url .. "/v1" }, function()
    local _, e = async.run(function() return llm.call("flash", { prompt = "x" }, { retry = { attempts = 1 } }) end)
    T.eq(e.kind, "config")
    T.contains(e.message, "lists no models: load one there, or set CANDOR_LOCAL_MODEL")
  end)
  fake.close()
  empty.close()
end)

T.test("a tier with its own base_url needs no key for an OpenAI-compatible server", function()
  with_env({ CANDOR_PROFILE = "mine", CONFIG = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profiles = { mine = { flash = { provider = "openai", model = "qwen", base_url = "http://10.0.0.5:8000/v1" } } } }]]) },
    function()
      local t = profiles.resolve("flash")
      T.eq({ t.base_url, t.api_key }, { "http://10.0.0.5:8000/v1", nil })
    end)
end)

T.test("the config file is compiled once per version: an edit shows on the next call, a broken one is named", function()
  local path = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profiles = { mine = { flash = "openai:first" } } }]])
  with_env({ CANDOR_PROFILE = "mine", CONFIG = path, OPENAI_API_KEY = "o" }, function()
    T.eq(profiles.resolve("flash").model, "first")
    local a, b = profiles.user_config(), profiles.user_config()
    T.ok(a ~= b and a.profiles ~= b.profiles, "each read gets its own tables")
    require("luv").sleep(5)
    T.write_file(path, [[return { profiles = { mine = { flash = "openai:second-model" } } }]])
    T.eq(profiles.resolve("flash").model, "second-model", "the edit is seen")
    T.write_file(path, [[return { profiles = ]])
    local msg = T.raises(function() profiles.resolve("flash") end, "unexpected symbol")
    T.contains(msg, "config file " .. path .. ":1:")
  end)
end)

T.test("names lists every profile, the config file's and the setting's included", function()
  local db = seeded_db()
  require("candor.repo.settings"):set_value(db, "model_profiles", [[{"team": {"flash": "openai:m"}}]])
  local cfg = T.write_file(T.tmpdir() .. "/config.lua", [[return { profiles = { mine = { flash = "openai:m" } } }]])
  with_env({ CONFIG = cfg }, function()
    local names = profiles.names { db = db }
    T.eq(names, { "anthropic", "economy", "local", "mine", "openai", "production", "team" })
  end)
  db:close()
end)
