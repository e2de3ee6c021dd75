-- candor.llm: tiers through profiles, keys from the environment, retries, and
-- every attempt logged with the task's session and job.
local T = require "candor.testing"
local llm = require "candor.llm"
local profiles = require "candor.llm.profiles"
local log = require "candor.llm.log"
local async = require "candor.async"
local dbm = require "candor.db"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

-- Runs fn with these environment variables (and no config file), then restores.
local with_env = T.with_llm_env

T.test("tiers resolve through the active profile; keys and base URLs from the environment", function()
  with_env({ GEMINI_API_KEY = "g", ANTHROPIC_API_KEY = "a" }, function()
    local t = profiles.resolve("flash")
    T.eq({ t.provider, t.model, t.api_key, t.key_var, t.profile }, { "gemini", "gemini-2.5-flash", "g", "GEMINI_API_KEY", "production" })
    T.eq(profiles.resolve("judge").provider, "anthropic")
  end)
  with_env({ GOOGLE_API_KEY = "g2", CANDOR_PROFILE = "economy", GEMINI_BASE_URL = "http://gw/x" }, function()
    local t = profiles.resolve("pro")
    T.eq({ t.model, t.api_key, t.base_url, t.profile }, { "gemini-2.5-flash", "g2", "http://gw/x", "economy" })
  end)
end)

T.test("a missing key is a clear error naming the variable, before any call", function()
  with_env({}, function()
    T.raises(function() profiles.resolve("flash") end, "tier 'flash' of profile 'production' uses gemini, which needs an API key: set GEMINI_API_KEY or GOOGLE_API_KEY")
    T.raises(function() llm.check({ "judge" }) end, "set ANTHROPIC_API_KEY")
  end)
  with_env({ CANDOR_PROFILE = "nope" }, function()
    T.raises(function() profiles.resolve("flash") end, "no model profile 'nope' %(from CANDOR_PROFILE%); known: anthropic, economy, local, openai, production")
  end)
end)

T.test("the local profile: every tier to OPENAI_BASE_URL (Ollama's by default), model from CANDOR_LOCAL_MODEL", function()
  with_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "llama3.2" }, function()
    local t = profiles.resolve("research")
    T.eq({ t.provider, t.model, t.base_url, t.api_key }, { "openai", "llama3.2", "http://localhost:11434/v1", nil })
  end)
  with_env({ CANDOR_PROFILE = "local" }, function()
    local t = profiles.resolve("flash")
    T.eq({ t.model, t.model_from_server }, { "", true }, "no model named: the server's first listed one, asked on first use")
  end)
end)

T.test("a user's config file adds profiles and chooses one", function()
  local path = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profile = "mine", profiles = { mine = { flash = { provider = "anthropic", model = "claude-x", temperature = 0.2 } } } }]])
  with_env({ CONFIG = path, ANTHROPIC_API_KEY = "k" }, function()
    local t = profiles.resolve("flash")
    T.eq({ t.provider, t.model, t.temperature, t.profile }, { "anthropic", "claude-x", 0.2, "mine" })
    T.raises(function() profiles.resolve("pro") end, "model profile 'mine' has no tier 'pro'")
  end)
end)

T.test("calls retry, and every attempt is logged with the task's session and job", function()
  local fake = Fake.start { { match = "draft", fault = "503", times = 1 }, { match = "draft", text = "A draft." } }
  local db = dbm.open(T.tmpdir() .. "/c.db")
  local R = require("candor.repo").bind(db)
  local user = R.users.insert { username = "u", email = "u@x", password_hash = "x", display_name = "U" }
  local session = R.sessions.insert { user_id = user.id, name = "s", asset_types = {} }
  local job = R.generation_jobs.insert { priority_id = R.messaging_priorities.by_slug("general").id }
  with_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m1", OPENAI_BASE_URL = fake.url .. "/v1" }, function()
    local task = async.spawn(function()
      -- a child task: the ids come from the context it inherits
      return async.spawn(function()
        return llm.ask("flash", { system = "S", prompt = "write a draft", purpose = "generate:battlecard" },
          { db = db, retry = { base_ms = 5 } })
      end):await()
    end, { ctx = { session_id = session.id, job_id = job.id } })
    local r = task:await()
    T.eq(r.text, "A draft.")
  end)
  fake.close()
  log.flush(db)
  local rows = db:query("SELECT * FROM llm_calls ORDER BY rowid")
  T.eq(#rows, 2, "both attempts logged")
  T.eq({ rows[1].success, rows[2].success }, { 0, 1 })
  T.contains(rows[1].error_message, "HTTP 503")
  for _, row in ipairs(rows) do
    T.eq({ row.session_id, row.job_id, row.model, row.purpose, row.system_prompt, row.user_prompt },
         { session.id, job.id, "openai:m1", "generate:battlecard", "S", "write a draft" })
  end
  T.eq({ rows[2].response, rows[2].finish_reason }, { "A draft.", "stop" })
  T.ok(rows[2].total_tokens > 0, "tokens logged")
  db:close()
end)

T.test("a logging failure is reported once and never fails the call", function()
  local fake = Fake.start { { text = "fine" } }
  local db = dbm.open(T.tmpdir() .. "/c.db")
  db:exec("DROP TABLE llm_calls")           -- every write will fail
  with_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m", OPENAI_BASE_URL = fake.url .. "/v1" }, function()
    for _ = 1, 3 do T.eq(llm.ask("flash", { prompt = "x" }, { db = db }).text, "fine") end
  end)
  fake.close()
  log.flush(db)
  db:close()
end)

T.test("an unknown provider in a config profile fails with a clear message", function()
  local path = T.write_file(T.tmpdir() .. "/config.lua", [[
    return { profile = "mine", profiles = { mine = { flash = "gemni:gemini-2.5-flash", pro = { provider = "nope", model = "m" } } } }]])
  with_env({ CONFIG = path, GEMINI_API_KEY = "g" }, function()
    T.raises(function() llm.check({ "flash" }) end, "tier 'flash' of profile 'mine' names an unknown provider 'gemni'")
    T.raises(function() llm.check({ "pro" }) end, "tier 'pro' of profile 'mine' names an unknown provider 'nope'")
  end)
end)

T.test("llm_calls older than llm_call_retention_days are pruned at the first flush; 0 keeps them", function()
  local db = dbm.open(T.tmpdir() .. "/c.db")
  require("candor.seed").run(db)
  local calls = require "candor.repo.llm_calls"
  calls:insert(db, { timestamp = "2020-01-01T00:00:00.000Z", model = "m", purpose = "old", user_prompt = "x" })
  calls:insert(db, { timestamp = require("core.host").now(), model = "m", purpose = "new", user_prompt = "x" })
  require("candor.repo.settings"):set_value(db, "llm_call_retention_days", "0")
  T.eq(log.prune(db), 0)
  require("candor.repo.settings"):set_value(db, "llm_call_retention_days", "90")
  log.add(db, { timestamp = require("core.host").now(), model = "m", purpose = "added", user_prompt = "x" })
  log.flush(db)
  local purposes = {}
  for _, r in ipairs(db:query("SELECT purpose FROM llm_calls ORDER BY purpose")) do purposes[#purposes + 1] = r.purpose end
  T.eq(purposes, { "added", "new" })
  db:close()
end)

T.test("a call whose session or job was deleted before the flush is still logged, with that id NULL", function()
  local db = dbm.open(T.tmpdir() .. "/c.db")
  local R = require("candor.repo").bind(db)
  local user = R.users.insert { username = "u", email = "u@x", password_hash = "x", display_name = "U" }
  local gone = R.sessions.insert { user_id = user.id, name = "deleted meanwhile", asset_types = {} }
  local kept = R.sessions.insert { user_id = user.id, name = "kept", asset_types = {} }
  local job = R.generation_jobs.insert { priority_id = R.messaging_priorities.by_slug("general").id }
  local now = require("core.host").now()
  log.add(db, { timestamp = now, model = "m", purpose = "gone", user_prompt = "x", session_id = gone.id, job_id = job.id })
  log.add(db, { timestamp = now, model = "m", purpose = "kept", user_prompt = "x", session_id = kept.id, job_id = job.id })
  R.sessions.delete(gone.id)
  db:run("DELETE FROM generation_jobs WHERE id = ?", job.id)
  log.flush(db)
  local rows = db:query("SELECT purpose, session_id, job_id FROM llm_calls ORDER BY purpose")
  T.eq(rows, { { purpose = "gone" }, { purpose = "kept", session_id = kept.id } },
    "both logged; only the references to deleted rows are NULL")
  db:close()
end)

T.test("a logging failure is reported on one line, without the SQL", function()
  local db = dbm.open(T.tmpdir() .. "/c.db")
  db:exec("DROP TABLE llm_calls")
  local said = {}
  local real = io.stderr
  io.stderr = { write = function(_, ...) for _, s in ipairs({ ... }) do said[#said + 1] = s end end }
  local ok, err = pcall(function()
    log.add(db, { timestamp = require("core.host").now(), model = "m", purpose = "p", user_prompt = "x" })
    log.flush(db)
  end)
  io.stderr = real
  assert(ok, err)
  local text = table.concat(said)
  T.contains(text, "candor: could not log LLM calls (further failures are not reported): ")
  T.contains(text, "no such table: llm_calls\n")
  for line in text:gmatch("[^\n]+") do T.ok(line:match("^candor: ") and not line:match("INSERT"), text) end
  db:close()
end)
