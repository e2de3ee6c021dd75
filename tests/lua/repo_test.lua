-- Repositories: ids, timestamps, JSON and booleans, filters, cascades, crash safety.
local T = require "candor.testing"
local dbm = require "candor.db"
local repo = require "candor.repo"
local cjson = require "cjson"

local function fresh()
  local db = dbm.open(T.tmpdir() .. "/c.db")
  return db, repo.bind(db)
end

T.test("there is a repository for each of the 20 tables, matching its columns", function()
  local db = fresh()
  T.eq(#repo.tables, 20)
  for _, name in ipairs(repo.tables) do
    local r = require("candor.repo." .. name)
    local cols = {}
    for _, c in ipairs(db:query("SELECT name FROM pragma_table_info(?) ORDER BY cid", name)) do cols[#cols + 1] = c.name end
    T.eq(r.columns, cols, name)
  end
  db:close()
end)

T.test("insert fills a 21-character nanoid and ISO 8601 UTC millisecond timestamps", function()
  local db, R = fresh()
  local row = R.messaging_priorities.insert { name = "CI", slug = "ci", description = "d",
    keywords = { "flaky", "slow" }, product_context = "" }
  T.eq(#row.id, 21)
  T.ok(row.id:match("^[%w_%-]+$"), row.id)
  T.ok(row.created_at:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"), row.created_at)
  T.eq(row.updated_at, row.created_at)
  local got = R.messaging_priorities.get(row.id)
  T.eq(got.keywords, { "flaky", "slow" }, "JSON decoded")
  T.eq(got.is_active, true, "boolean default decoded")
  T.eq(db:value("SELECT keywords FROM messaging_priorities WHERE id = ?", row.id), '["flaky","slow"]')
  T.eq(db:value("SELECT is_active FROM messaging_priorities WHERE id = ?", row.id), 1)
  db:close()
end)

T.test("update sets updated_at, encodes values, and rejects unknown columns", function()
  local db, R = fresh()
  local v = R.voice_profiles.by_slug("product-launch")
  T.ok(v and v.scoring_thresholds.vendorSpeakMax, "seeded voice with thresholds")
  T.eq(R.voice_profiles.update(v.id, { is_active = false, example_phrases = { "a" } }), true)
  local after = R.voice_profiles.get(v.id)
  T.eq(after.is_active, false)
  T.eq(after.example_phrases, { "a" })
  T.ok(after.updated_at >= v.updated_at)
  T.raises(function() R.voice_profiles.update(v.id, { colour = "red" }) end, "voice_profiles has no column 'colour'")
  T.raises(function() R.voice_profiles.insert { colour = "red" } end, "no column 'colour'")
  T.eq(R.voice_profiles.update("no-such-id", { name = "x" }), false)
  local job = R.generation_jobs.insert { priority_id = R.messaging_priorities.by_slug("general").id, current_step = "x", error_message = "e" }
  T.eq(R.generation_jobs.update(job.id, { current_step = cjson.null, progress = 5 }), true, "cjson.null sets NULL")
  local after_job = R.generation_jobs.get(job.id)
  T.eq({ after_job.current_step, after_job.progress, after_job.error_message }, { nil, 5, "e" })
  db:close()
end)

T.test("list and count filter on columns, NULL included, with order and limit", function()
  local db, R = fresh()
  local p = R.messaging_priorities.by_slug("general")
  for i = 1, 5 do
    R.generation_jobs.insert { priority_id = p.id, status = i % 2 == 0 and "failed" or "pending", progress = i * 10 }
  end
  T.eq(R.generation_jobs.count(), 5)
  T.eq(R.generation_jobs.count { status = "failed" }, 2)
  T.eq(R.generation_jobs.count { pain_point_id = cjson.null }, 5)
  local top = R.generation_jobs.list({ status = "pending" }, { order = "progress DESC", limit = 2 })
  T.eq({ top[1].progress, top[2].progress }, { 50, 30 })
  T.raises(function() R.generation_jobs.list({}, { order = "progress; DROP TABLE x" }) end, "no column 'DROP'")
  db:close()
end)

T.test("settings: get_value prefers the priority's own value; set_value upserts", function()
  local db, R = fresh()
  T.eq(R.settings.get_value("max_refinement_iterations"), "3")
  local p = R.messaging_priorities.by_slug("general")
  R.settings.insert { priority_id = p.id, key = "max_refinement_iterations", value = "5", description = "" }
  T.eq(R.settings.get_value("max_refinement_iterations", p.id), "5")
  T.eq(R.settings.get_value("max_refinement_iterations"), "3")
  R.settings.set_value("max_refinement_iterations", "4")
  T.eq(R.settings.get_value("max_refinement_iterations"), "4")
  R.settings.set_value("brand_new", "x", "a new one")
  T.eq(R.settings.count { key = "brand_new" }, 1)
  db:close()
end)

T.test("settings: chat_context_tokens is seeded with the budget chat falls back to, and chat reads it", function()
  local db, R = fresh()
  local chat = require "candor.workspace.chat"
  local seeded = db:first("SELECT value, description FROM settings WHERE key = 'chat_context_tokens' AND priority_id IS NULL")
  T.ok(seeded, "chat_context_tokens is seeded")
  T.eq(math.tointeger(tonumber(seeded.value)), chat.default_budget)
  T.contains(seeded.description, "workspace chat")
  -- three messages of about 1,000 tokens each fit the seeded budget and not a budget of 100
  local W = require("candor.workspace").for_user(db)
  local s = W:create { pain = { title = "Flaky tests", content = "We re-run builds by hand." }, asset_types = { "battlecard" },
    pipeline = "standard", name = "Flakes" }
  for i = 1, 3 do
    R.session_messages.insert { session_id = s.id, role = i % 2 == 1 and "user" or "assistant", content = string.rep("word ", 800) }
  end
  local _, history = chat.context(W, s, "battlecard", "What next?")
  T.eq(#history, 3)
  R.settings.set_value("chat_context_tokens", "100")
  _, history = chat.context(W, s, "battlecard", "What next?")
  T.eq(#history, 0, "the setting, not the default, is the budget")
  db:close()
end)

T.test("deleting a session cascades to its versions, messages and action jobs", function()
  local db, R = fresh()
  local u = R.users.insert { username = "ana", email = "ana@example.com", password_hash = "x", display_name = "Ana" }
  local s = R.sessions.insert { user_id = u.id, name = "s", asset_types = { "battlecard" } }
  T.eq(R.sessions.get(s.id).pipeline, "outside-in", "column default applies")
  local s2 = R.sessions.insert { user_id = u.id, name = "s2", asset_types = {}, pipeline = cjson.null }
  T.eq(db:value("SELECT pipeline IS NULL FROM sessions WHERE id = ?", s2.id), 1, "cjson.null stores NULL, not the default")
  local s3 = R.sessions.insert { user_id = u.id, name = "s3", asset_types = {} }
  T.eq(R.sessions.get(s3.id).pipeline, "outside-in", "a slot left by the previous insert is not reused")
  R.session_versions.insert { session_id = s.id, asset_type = "battlecard", version_number = 1, content = "v1", source = "generation" }
  R.session_messages.insert { session_id = s.id, role = "user", content = "hi" }
  R.action_jobs.insert { session_id = s.id, asset_type = "battlecard", action_name = "deslop" }
  R.users.delete(u.id)
  for _, t in ipairs({ "sessions", "session_versions", "session_messages", "action_jobs" }) do
    T.eq(db:value("SELECT count(*) FROM " .. t), 0, t)
  end
  db:close()
end)

T.test("a process killed in the middle of a transaction leaves no half-written rows", function()
  local dir = T.tmpdir()
  local path = dir .. "/crash.db"
  dbm.open(path):close()
  local script = T.write_file(dir .. "/writer.lua", [[
    local db = require("candor.db").open(arg[1])
    local calls = require("candor.repo").bind(db).llm_calls
    db:transaction(function()
      for i = 1, 2000 do
        calls.insert { model = "m", purpose = "crash-test", user_prompt = "p" .. i }
      end
      io.stdout:write("inserted\n") io.stdout:flush()
      while true do end   -- killed here, before COMMIT
    end)
  ]])
  local cmd = string.format("timeout -s KILL 1 %s lua %s %s > %s/out 2>/dev/null", T.shell_quote(T.binary), script, path, dir)
  os.execute(cmd)
  T.eq(T.read_file(dir .. "/out"), "inserted\n", "the writer got as far as the loop")
  local db = dbm.open(path)
  T.eq(db:value("PRAGMA integrity_check"), "ok")
  T.eq(db:value("SELECT count(*) FROM llm_calls"), 0)
  db:close()
end)

T.test("seeded banned phrases come from the file plus the banned_words setting", function()
  local db, R = fresh()
  local seed = require "candor.seed"
  local list = seed.banned_phrases(db)
  T.ok(#list >= 100, "default list loaded: " .. #list)
  local set = {}
  for _, p in ipairs(list) do set[p] = true end
  T.ok(set["best-in-class"] or set["game-changer"], "vendor clichés present")
  R.settings.set_value("banned_words", cjson.encode({ "Synergize Outcomes", "best-in-class" }))
  local list2 = seed.banned_phrases(db)
  T.eq(#list2, #list + 1, "new phrase added once, duplicate ignored")
  T.eq(list2[#list2], "synergize outcomes")
  db:close()
end)

T.test("ids never start with '-', so a command line never reads one as an option", function()
  local repo = require "candor.repo"
  for _ = 1, 2000 do
    local id = repo.id()
    T.eq(#id, 21)
    if id:sub(1, 1) == "-" then error("id starts with '-': " .. id) end
  end
end)
