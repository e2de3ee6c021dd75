-- The workspace API: sessions from a manual pain and from a pain id, generation
-- through the fake provider (versions, naming), ownership across users, version
-- numbers under concurrent writers (tasks here and other processes), activate,
-- edit with background judges, diff, export, and delete's cascade.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local async = require "candor.async"
local json = require "candor.json"
local uv = require "luv"
local ws = require "candor.workspace"

local function setup()
  local db = F.db()
  local W = ws.for_user(db, "local")
  W.retry = { base_ms = 1, max_ms = 5 }   -- a fault injected for a test is retried at once
  return db, W
end

local function new_session(W, o)
  local opts = { pain = F.pain, asset_types = { "battlecard" }, pipeline = "standard" }
  for k, v in pairs(o or {}) do opts[k] = v end
  return W:create(opts)
end

local function gen_opts() return { retry = { base_ms = 1 }, cache = T.tmpdir() .. "/llm-cache.db" } end

T.test("workspace: a session from a manual pain stores the pain (JSON and a pain point row) and its documents", function()
  local db, W = setup()
  local doc = T.write_file(T.tmpdir() .. "/product.md", "# Flakewatch\n\nFinds tests that flip on the same SHA.\n")
  local s = W:create { pain = { title = "Flaky tests waste CI time", content = "We re-run builds by hand.", author = "pat" },
    documents = { doc }, asset_types = { "battlecard", "email_copy" }, voice = "sales-enablement", focus = "  platform teams ",
    pipeline = "standard" }
  T.eq({ s.name, s.status, s.pipeline, s.focus_instructions, s.is_archived }, { "Flaky tests waste CI time", "pending", "standard",
    "platform teams", false })
  T.eq(s.asset_types, { "battlecard", "email_copy" })
  T.eq(s.manual_pain_point.title, "Flaky tests waste CI time")
  T.eq(s.manual_pain_point.description, "We re-run builds by hand.")
  local pain = db:first("SELECT * FROM discovered_pain_points WHERE id = ?", s.pain_point_id)
  T.eq({ pain.source_type, pain.title, pain.author }, { "manual", "Flaky tests waste CI time", "pat" })
  T.eq(W:pain(s).id, s.pain_point_id)
  T.eq(W:voice(s).slug, "sales-enablement")
  local docs = W:documents(s)
  T.eq({ #docs, docs[1].name, docs[1].document_type }, { 1, "product.md", "markdown" })
  T.eq(s.user_id, W.user.id)
  T.eq(W.user.username, "local")
  T.eq(ws.local_user(db).id, W.user.id, "the local user is made once")
  db:close()
end)

T.test("workspace: a session from a discovered pain id; bad input is refused before anything is written", function()
  local db, W = setup()
  local R = require("candor.repo").bind(db)
  local pain = require("candor.pipeline").resolve_pain(db, R, { title = "Deploys take 45 minutes", content = "every one" })
  local s = W:create { pain = { id = pain.id }, asset_types = { "all" } }
  T.eq({ s.pain_point_id, s.manual_pain_point, #s.asset_types }, { pain.id, nil, 8 })
  T.raises(function() W:create { pain = { id = "nope" }, asset_types = { "all" } } end, "no pain point 'nope'")
  T.raises(function() W:create { pain = F.pain, asset_types = { "brochure" } } end, "unknown asset type 'brochure'")
  T.raises(function() W:create { pain = F.pain, asset_types = { "all" }, voice = "pirate" } end, "no voice profile 'pirate'")
  T.raises(function() W:create { pain = F.pain, asset_types = { "all" }, pipeline = "straight-through" } end, "scores supplied text")
  T.raises(function() W:create { pain = F.pain, asset_types = { "all" }, documents = { "/nonexistent/x.md" } } end, "cannot read")
  T.raises(function() W:create { pain = { title = "", content = " " }, asset_types = { "all" } } end, "empty")
  T.eq(db:value("SELECT count(*) FROM sessions"), 1)
  db:close()
end)

T.test("workspace: generate runs the pipeline as the session's job, stores version 1 per asset type, names the session", function()
  local db, W = setup()
  local s = new_session(W, { asset_types = { "battlecard", "email_copy" } })
  F.with_fake(F.script(db, { { purpose = "^workspace:name", text = "\"CI flake re-runs.\"\n" } }), function(fake)
    local seen = {}
    local job = W:generate(s.id, { retry = { base_ms = 1 }, cache = T.tmpdir() .. "/c.db",
      on_progress = function(info) seen[#seen + 1] = info.pct end })
    T.eq(job.status, "completed")
    T.ok(#seen > 0, "progress reported")
    T.eq(F.calls(fake, "^workspace:name"), 1)
    local name_call
    for _, c in ipairs(fake.calls) do if c.purpose == "workspace:name" then name_call = c end end
    T.contains(name_call.body.messages[#name_call.body.messages].content, "Flaky tests waste CI time")
  end)
  s = W:get(s.id)
  T.eq({ s.status, s.name }, { "completed", "CI flake re-runs" })
  T.ok(s.job_id, "the job is the session's")
  local active = W:active(s.id)
  for _, a in ipairs { "battlecard", "email_copy" } do
    local v = active[a]
    T.eq({ v.version_number, v.source, v.is_active, v.passes_gates }, { 1, "generation", true, true })
    T.eq(v.source_detail.job_id, s.job_id)
    T.eq(v.source_detail.voice, "practitioner-community")
    T.eq(db:value("SELECT asset_type FROM messaging_assets WHERE id = ?", v.source_detail.asset_id), a)
    T.eq(v.content, db:value("SELECT content FROM messaging_assets WHERE id = ?", v.source_detail.asset_id))
    T.ok(v.slop_score and v.authenticity_score == 8 and v.persona_avg_score == 8, "scores stored")
  end
  T.eq(db:value("SELECT count(*) FROM llm_calls WHERE session_id = ?", s.id), db:value("SELECT count(*) FROM llm_calls"),
    "every call of the session's job logged with the session id")
  -- a second run adds version 2, and a renamed session keeps the user's name
  W:rename(s.id, "Mine")
  F.with_fake(F.script(db), function(fake)
    W:generate(s.id, gen_opts())
    T.eq(F.calls(fake, "^workspace:name"), 0, "the user named it")
  end)
  T.eq({ W:get(s.id).name, W:active(s.id).battlecard.version_number }, { "Mine", 2 })
  db:close()
end)

T.test("workspace: a failed naming call keeps the default name and is reported; a failed job fails the session", function()
  local db, W = setup()
  local s = new_session(W)
  local logged = {}
  F.with_fake(F.script(db, { { purpose = "^workspace:name", fault = "500" } }), function()
    local o = gen_opts()
    o.on_log = function(m) logged[#logged + 1] = m end
    T.eq(W:generate(s.id, o).status, "completed")
  end)
  s = W:get(s.id)
  T.eq({ s.status, s.name }, { "completed", "Flaky tests waste CI time" })
  T.contains(s.metadata.naming_error, "HTTP 500")
  T.contains(logged[1] or "", "could not name the session")
  T.eq(W:active(s.id).battlecard.version_number, 1)
  local s2 = new_session(W)
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    T.raises(function() W:generate(s2.id, gen_opts()) end, "HTTP 500")
  end)
  s2 = W:get(s2.id)
  T.eq(s2.status, "failed")
  T.eq(db:value("SELECT status FROM generation_jobs WHERE id = ?", s2.job_id), "failed")
  T.eq(#W:versions(s2.id), 0)
  db:close()
end)

T.test("workspace: user B gets 'no session' for A's session from every method", function()
  local db, A = setup()
  local users = require "candor.repo.users"
  local bob = users:ensure(db, { username = "bob", email = "bob@example.com", password_hash = "x", display_name = "Bob" })
  local B = ws.for_user(db, bob)
  local s = new_session(A)
  local v = A:add_version(s.id, "battlecard", { content = "one\n", source = "edit" })
  local calls = {
    function() return B:get(s.id) end,
    function() return B:rename(s.id, "x") end,
    function() return B:archive(s.id, true) end,
    function() return B:delete(s.id) end,
    function() return B:generate(s.id) end,
    function() return B:add_version(s.id, "battlecard", { content = "two" }) end,
    function() return B:versions(s.id) end,
    function() return B:active(s.id) end,
    function() return B:activate(s.id, v.id) end,
    function() return B:version(s.id, v.id) end,
    function() return B:edit(s.id, "battlecard", "two") end,
    function() return B:diff(s.id, v.id, v.id) end,
    function() return B:export(s.id, "md") end,
    function() return B:voice(s) end,
    function() return B:pain(s) end,
    function() return B:documents(s) end,
    function() return B:summary(s) end,
  }
  local want = "^no session '" .. s.id:gsub("%p", "%%%0") .. "'$"
  for i, fn in ipairs(calls) do T.raises(fn, want, "call " .. i) end
  T.eq(#B:list {}, 0)
  T.eq(#A:list {}, 1)
  T.eq({ A:get(s.id).name, #A:versions(s.id) }, { "Flaky tests waste CI time", 1 }, "nothing changed")
  T.raises(function() ws.for_user(db, "carol") end, "no user 'carol'")
  db:close()
end)

-- A child process that adds versions to the sessions while this one does.
local child_script = [[
local dbm = require "candor.db"
local db = dbm.open(arg[1])
local W = require("candor.workspace").for_user(db, "local")
local ids = {}
for id in arg[2]:gmatch("[^,]+") do ids[#ids + 1] = id end
for i = 1, tonumber(arg[3]) do
  local id = ids[(i % #ids) + 1]
  W:add_version(id, i % 2 == 0 and "battlecard" or "email_copy", { content = "child " .. i, source = "chat" })
end
db:close()
]]

T.test("workspace: 50 concurrent writers (and two other processes) leave numbers 1..n and one active version", function()
  local dir = T.tmpdir()
  local db = require("candor.db").open(dir .. "/w.db")
  require("candor.seed").run(db)
  local W = ws.for_user(db, "local")
  local ids = {}
  for i = 1, 10 do ids[i] = new_session(W, { asset_types = { "battlecard", "email_copy" }, name = "s" .. i }).id end
  local script = T.write_file(dir .. "/child.lua", child_script)
  local children, exited = {}, 0
  for c = 1, 2 do
    local h
    h = uv.spawn(T.binary, { args = { "lua", script, dir .. "/w.db", table.concat(ids, ","), "40" } },
      function(code) exited = exited + 1 children[c] = code h:close() end)
  end
  local tasks = {}
  for i = 1, 50 do
    tasks[i] = async.spawn(function()
      async.sleep(math.random(0, 20))
      local id = ids[(i % 10) + 1]
      return W:add_version(id, i % 3 == 0 and "email_copy" or "battlecard", { content = "task " .. i, source = "edit",
        activate = i % 4 ~= 0 })
    end)
  end
  for _, t in ipairs(tasks) do t:await() end
  for _ = 1, 500 do if exited == 2 then break end async.sleep(20) end
  T.eq(children, { 0, 0 }, "both children finished cleanly")
  local total = 0
  for _, id in ipairs(ids) do
    for _, a in ipairs { "battlecard", "email_copy" } do
      local nums = {}
      for _, r in ipairs(db:query("SELECT version_number FROM session_versions WHERE session_id = ? AND asset_type = ? ORDER BY version_number",
        id, a)) do nums[#nums + 1] = r.version_number end
      for i, n in ipairs(nums) do T.eq(n, i, "gap-free and unique: " .. id .. " " .. a) end
      total = total + #nums
      if #nums > 0 then
        T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ? AND asset_type = ? AND is_active = 1", id, a), 1)
      end
    end
  end
  T.eq(total, 50 + 80)
  db:close()
end)

T.test("workspace: activate an older version; versions and version lookups by id and number", function()
  local db, W = setup()
  local s = new_session(W, { asset_types = { "battlecard", "email_copy" } })
  local v1 = W:add_version(s.id, "battlecard", { content = "one", source = "generation", activate = false })
  T.eq(v1.is_active, true, "the first version is active whatever activate says")
  local v2 = W:add_version(s.id, "battlecard", { content = "two", source = "edit" })
  local v3 = W:add_version(s.id, "battlecard", { content = "three", source = "edit", activate = false })
  T.eq(W:active(s.id).battlecard.id, v2.id)
  T.eq(W:activate(s.id, v1.id).is_active, true)
  T.eq(W:active(s.id).battlecard.id, v1.id)
  T.eq(db:value("SELECT count(*) FROM session_versions WHERE is_active = 1"), 1)
  T.eq(W:version(s.id, 3, "battlecard").id, v3.id)
  T.eq(W:version(s.id, v3.id).version_number, 3)
  T.raises(function() W:version(s.id, 2) end, "which asset type")
  T.raises(function() W:version(s.id, 9, "battlecard") end, "no version 9 of battlecard")
  T.raises(function() W:add_version(s.id, "narrative", { content = "x" }) end, "has no asset type 'narrative'")
  T.eq(#W:versions(s.id, "battlecard"), 3)
  T.eq(#W:versions(s.id, "email_copy"), 0)
  db:close()
end)

T.test("workspace: edit scores at once (deterministic), the judges fill in the rest in the background", function()
  local db, W = setup()
  local s = new_session(W)
  W:add_version(s.id, "battlecard", { content = F.bad, source = "generation" })
  F.with_fake(F.script(db, { { purpose = "^judge", json = F.judge_json(db, 7.5, 8.5), delay_ms = 50 } }), function(fake)
    local v = W:edit(s.id, "battlecard", F.good .. "\n\n")
    T.eq({ v.version_number, v.source, v.is_active, v.source_detail.judged }, { 2, "edit", true, false })
    T.ok(v.slop_score and v.specificity_score, "deterministic scores at once")
    T.eq(v.persona_avg_score, nil, "persona not judged yet")
    T.eq(F.calls(fake, "^judge"), 0, "edit returned before the judge answered")
    T.eq(W:wait_background(), {})
    local after = W:version(s.id, v.id)
    T.eq({ after.source_detail.judged, after.authenticity_score, after.persona_avg_score, after.passes_gates },
         { true, 8.5, 7.5, true })
    T.eq(after.content, (F.good:gsub("%s+$", "")))
    T.eq(F.calls(fake, "^judge"), 1)
    T.eq(db:value("SELECT count(*) FROM llm_calls WHERE session_id = ?", s.id), 1, "the judge call is the session's")
    T.eq({ W:edit(s.id, "battlecard", F.good) }, { nil, "no change" })
  end)
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    local v = W:edit(s.id, "battlecard", "We re-run CI 3 times a day.\n")
    W:wait_background()
    local after = W:version(s.id, v.id)
    T.eq(after.source_detail.judged, false)
    T.contains(after.source_detail.judge_error, "HTTP 500")
    T.eq(after.slop_score, v.slop_score, "the deterministic scores stand")
  end)
  db:close()
end)

T.test("workspace: diff of two versions is a unified diff and a scores table", function()
  local db, W = setup()
  local s = new_session(W)
  local a = "# Flaky tests\n\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nold ending\n"
  local b = "# Flaky tests\n\nline 2\nline 3\nline 4\nline 5\nline 6\nline 7\nline 8\nnew ending\nand one more\n"
  W:add_version(s.id, "battlecard", { content = a, source = "generation",
    scores = { slop = 2, vendor_speak = 1.25, authenticity = 6, specificity = 5 }, passes_gates = false })
  W:add_version(s.id, "battlecard", { content = b, source = "edit",
    scores = { slop = 0.5, vendor_speak = 1.25, authenticity = 7.5, specificity = 5, persona_avg = 8 }, passes_gates = true })
  T.eq(W:diff(s.id, 1, 2), table.concat({
    "--- v1 (generation)",
    "+++ v2 (edit)",
    "@@ -7,4 +7,5 @@",
    " line 6",
    " line 7",
    " line 8",
    "-old ending",
    "+new ending",
    "+and one more",
    "",
    "scores            v1     v2  delta",
    "slop             2.0    0.5   -1.5",
    "vendor_speak     1.2    1.2    0.0",
    "authenticity     6.0    7.5   +1.5",
    "specificity      5.0    5.0    0.0",
    "persona_avg        -    8.0      -",
    "passes_gates      no    yes",
  }, "\n") .. "\n")
  T.contains(W:diff(s.id, 1, 1), "(the texts are the same)")
  db:close()
end)

T.test("workspace: export md and json carry the active versions, scores and traceability", function()
  local db, W = setup()
  local doc = T.write_file(T.tmpdir() .. "/notes.txt", "Flakewatch reads JUnit XML.\n")
  local s = new_session(W, { asset_types = { "battlecard", "email_copy" }, documents = { doc } })
  F.with_fake(F.script(db, { { purpose = "^workspace:name", text = "CI flakes" } }), function()
    W:generate(s.id, gen_opts())
  end)
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    W:edit(s.id, "email_copy", "Subject: 3 re-runs a day\n\nWe measured it.\n")
    W:wait_background()   -- the judge fails: recorded, the deterministic scores stand
  end)
  local md = W:export(s.id, "md")
  T.contains(md, "# CI flakes\n")
  T.contains(md, "- Pain point: Flaky tests waste CI time (`" .. W:get(s.id).pain_point_id .. "`, manual)")
  T.contains(md, "- Documents: notes.txt (`")
  T.contains(md, "- Generation job: `" .. W:get(s.id).job_id .. "` (completed)")
  T.contains(md, "## Battlecard\n\n_version 1 of 1")
  T.contains(md, "## Email copy\n\n_version 2 of 2")
  T.contains(md, "Subject: 3 re-runs a day")
  local j = json.decode(W:export(s.id, "json"))
  T.eq({ j.session.name, #j.assets, j.assets[1].asset_type, j.assets[1].version_number, j.assets[2].version_number },
       { "CI flakes", 2, "battlecard", 1, 2 })
  T.eq(j.assets[1].source_detail.job_id, j.job.id)
  T.eq(j.documents[1].name, "notes.txt")
  T.eq(j.pain.source_type, "manual")
  T.ok(j.assets[1].scores.slop ~= nil and j.assets[1].passes_gates ~= nil, "scores exported")
  T.raises(function() W:export(s.id, "pdf") end, "md or json")
  db:close()
end)

T.test("workspace: list filters by status and name; rename, archive; delete cascades versions, messages, action jobs", function()
  local db, W = setup()
  local a = new_session(W, { name = "Flaky CI" })
  local b = new_session(W, { name = "Slow deploys" })
  W:add_version(a.id, "battlecard", { content = "x" })
  db:run("INSERT INTO session_messages (id, session_id, role, content, created_at) VALUES ('m1', ?, 'user', 'hi', 'now')", a.id)
  db:run([[INSERT INTO action_jobs (id, session_id, asset_type, action_name, created_at, updated_at)
    VALUES ('j1', ?, 'battlecard', 'deslop', 'now', 'now')]], a.id)
  T.eq(#W:list {}, 2)
  T.eq(W:list { search = "flaky" }[1].id, a.id)
  T.eq(#W:list { search = "%" }, 0, "LIKE wildcards are literal")
  T.eq(W:list { status = "completed" }[1].id, a.id, "a session with a version reads as completed")
  T.eq(W:list { status = "pending" }[1].id, b.id)
  T.eq(W:rename(b.id, "  Deploys   take 45 min ").name, "Deploys take 45 min")
  T.raises(function() W:rename(b.id, " ") end, "empty")
  W:archive(b.id, true)
  T.eq({ #W:list {}, W:list { archived = true }[1].id, #W:list { archived = "all" } }, { 1, b.id, 2 })
  T.eq(W:archive(b.id, false).is_archived, false)
  T.eq(W:delete(a.id), true)
  T.raises(function() W:get(a.id) end, "no session")
  for _, t in ipairs { "session_versions", "session_messages", "action_jobs" } do
    T.eq(db:value("SELECT count(*) FROM " .. t), 0, t)
  end
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points"), 1, "the pain point stays")
  db:close()
end)

T.test("workspace: repeated asset types, voices and documents are stored once; one generation makes one version each", function()
  local db, W = setup()
  local dir = T.tmpdir()
  local doc = T.write_file(dir .. "/notes.md", "# Notes\n\nFinds tests that flip on the same SHA.\n")
  local same = T.write_file(dir .. "/notes-again.md", "# Notes\n\nFinds tests that flip on the same SHA.\n")
  local other = T.write_file(dir .. "/pricing.md", "# Pricing\n\nPer seat.\n")
  local s = new_session(W, { asset_types = { "battlecard", "email_copy", "battlecard" },
    voices = { "sales-enablement", "practitioner-community", "sales-enablement" }, documents = { doc, other, doc, same } })
  T.eq(s.asset_types, { "battlecard", "email_copy" })
  T.eq(s.metadata.voiceProfileIds, { W:voice(s).id, db:value("SELECT id FROM voice_profiles WHERE slug = 'practitioner-community'") })
  local names = {}
  for i, d in ipairs(W:documents(s)) do names[i] = d.name end
  T.eq(names, { "notes.md", "pricing.md" }, "the same path twice, or the same text, is one document")
  T.eq(db:value("SELECT count(*) FROM product_documents"), 2)
  F.with_fake(F.script(db), function(fake)
    W:generate(s.id, gen_opts())
    T.eq(F.calls(fake, "^generate"), 4, "two asset types in two voices")
  end)
  T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ?", s.id), 2, "one version per asset type")
  db:close()
end)

T.test("workspace: text with a NUL byte is refused before a version is saved", function()
  local db, W = setup()
  local s = new_session(W)
  T.raises(function() W:add_version(s.id, "battlecard", { content = "a\0b", source = "generation" }) end,
    "the version's text holds a NUL byte %(byte 2%)")
  T.raises(function() W:edit(s.id, "battlecard", "a\0b") end, "the edited text holds a NUL byte %(byte 2%)")
  T.eq(db:value("SELECT count(*) FROM session_versions"), 0)
  local notes = T.write_file(T.tmpdir() .. "/notes.md", "# Notes\n\nbinary\0tail\n")
  T.raises(function() new_session(W, { documents = { notes } }) end, "notes.md holds a NUL byte")
  T.raises(function() new_session(W, { pain = { title = "Flaky", content = "x\0y" } }) end, "the pain point holds a NUL byte")
  T.eq(db:value("SELECT count(*) FROM sessions"), 1)
  db:close()
end)

T.test("chat: a message over the chat_context_tokens budget is refused before it is stored or sent", function()
  local db, W = setup()
  local chat = require "candor.workspace.chat"
  local s = new_session(W)
  W:add_version(s.id, "battlecard", { content = F.good, source = "generation" })
  require("candor.repo.settings"):set_value(db, "chat_context_tokens", "3000")
  F.with_fake({ { purpose = "^workspace:chat", text = "Cut the second line." } }, function(fake)
    local msg = T.raises(function() chat.send(W, s.id, string.rep("why? ", 3000)) end,
      "the message is about 3751 tokens, more than the chat_context_tokens budget of 3000")
    T.contains(msg, "nothing was sent or stored")
    T.raises(function() chat.send(W, s.id, "why\0?") end, "the message holds a NUL byte")
    T.eq({ fake.count(), db:value("SELECT count(*) FROM session_messages") }, { 0, 0 })
    T.eq(chat.send(W, s.id, string.rep("why? ", 400), { retry = { base_ms = 1 } }).content, "Cut the second line.",
      "a long message within the budget is sent")
    T.eq(fake.count(), 1)
  end)
  db:close()
end)

T.test("chat: the message counts in the budget, so the documents shrink to leave it room", function()
  local db, W = setup()
  local chat = require "candor.workspace.chat"
  local doc = T.write_file(T.tmpdir() .. "/product.md", "# Product\n\n" .. string.rep("Tideline finds flaky tests.\n\n", 800))
  local s = new_session(W, { documents = { doc } })
  require("candor.repo.settings"):set_value(db, "chat_context_tokens", "6000")
  local short = chat.context(W, s, nil, "What next?")
  local long = chat.context(W, s, nil, string.rep("what next? ", 1000))
  T.contains(long, "[... the rest of product.md is not shown]")
  T.ok(#long < #short, string.format("less of the document beside a long message: %d < %d bytes", #long, #short))
  db:close()
end)

T.test("chat and the session's name see the pain cut to a budget, not all of a huge one", function()
  local db, W = setup()
  local chat = require "candor.workspace.chat"
  local huge = string.rep("Our CI reruns flaky suites for hours every night. ", 40000)   -- about 2 MB
  local s = new_session(W, { pain = { title = "Flaky CI", content = huge } })
  require("candor.repo.settings"):set_value(db, "pain_context_tokens", "2000")
  local system = chat.context(W, s, nil, "What next?")
  T.ok(#system < 60000, "the chat context is " .. #system .. " bytes")
  T.contains(system, "left out here")
  F.with_fake({ { purpose = "^workspace:name", text = "Flaky CI nights" } }, function(fake)
    T.eq(W:name_from_results(s, {}, nil), "Flaky CI nights")
    local body = require("candor.json").encode(fake.calls[1].body)
    T.ok(#body > 1000 and #body < 20000, "the naming request is " .. #body .. " bytes")
  end)
  -- the judges too: the huge pain would be over the LLM input limit
  local v = W:add_version(s.id, "battlecard", { content = F.good, source = "edit",
    source_detail = { judged = false, voice = "practitioner-community", scored = "deterministic" } })
  F.with_fake(F.script(db), function()
    T.eq(#W:judge(s.id), 1)
    T.eq(W:wait_background(), {})
  end)
  T.eq(ws.judge_status(W:version(s.id, v.id)), "judged")
  T.eq(W:pain(s).content, require("candor.text").trim(huge), "the stored pain keeps all of its text")
  db:close()
end)

T.test("workspace: an edit records the version it was opened on; one saved after another became active is kept, not activated", function()
  local db, W = setup()
  local s = new_session(W, { asset_types = { "battlecard", "email_copy" } })
  local v1 = W:add_version(s.id, "battlecard", { content = F.bad, source = "generation" })
  F.with_fake(F.script(db), function()
    local v2, meanwhile = W:edit(s.id, "battlecard", "We re-run CI 3 times a day.\n", { from = v1 })
    T.eq({ v2.is_active, v2.source_detail.from_version, v2.source_detail.from_version_number, meanwhile },
         { true, v1.id, 1, nil })
    T.eq(v2.source_detail.from_version_id, nil, "one spelling: from_version is the parent's id")
    -- opened on v1 too, saved after v2 became active: stored beside it, v2 stays active
    local v3
    v3, meanwhile = W:edit(s.id, "battlecard", F.good, { from = 1 })
    T.eq({ v3.version_number, v3.is_active, v3.source_detail.from_version, v3.source_detail.from_version_number },
         { 3, false, v1.id, 1 })
    T.eq(meanwhile.id, v2.id, "the version that became active meanwhile")
    T.eq(W:active(s.id).battlecard.id, v2.id)
    T.eq(W:version(s.id, 3, "battlecard").content, (F.good:gsub("%s+$", "")), "nothing typed is lost")
    T.eq({ W:edit(s.id, "battlecard", F.bad, { from = v1 }) }, { nil, "no change" }, "the text it was opened on")
    -- written from nothing (the asset had no version): the first is active; a second is not
    local e1 = W:edit(s.id, "email_copy", "Subject: 3 re-runs a day\n", { from = false })
    T.eq({ e1.version_number, e1.is_active, e1.source_detail.from_version }, { 1, true, nil })
    local e2
    e2, meanwhile = W:edit(s.id, "email_copy", "Subject: 40 minutes a day\n", { from = false })
    T.eq({ e2.is_active, meanwhile.id }, { false, e1.id })
    -- left out, from is the active version at save time
    local v4 = W:edit(s.id, "battlecard", "Quarantine the 12 flaky tests.\n")
    T.eq({ v4.is_active, v4.source_detail.from_version, v4.source_detail.from_version_number }, { true, v2.id, 2 })
    T.eq(W:wait_background(), {})
  end)
  T.raises(function() W:edit(s.id, "battlecard", "x", { from = 9 }) end, "no version 9 of battlecard")
  db:close()
end)

T.test("workspace: judge runs the judges on a version left unjudged; judge_status tells judging from interrupted", function()
  local db, W = setup()
  local s = new_session(W)
  local v = W:add_version(s.id, "battlecard", { content = F.good, source = "edit",
    source_detail = { judged = false, voice = "practitioner-community", scored = "deterministic" } })
  T.eq(ws.judge_status(v), "unjudged")
  -- a process killed while its judges ran left its mark on the version
  local dead = { pid = T.dead_pid(), host = uv.os_gethostname(), started_at = "2026-01-01T00:00:00.000Z" }
  db:run("UPDATE session_versions SET source_detail = ? WHERE id = ?",
    json.encode { judged = false, voice = "practitioner-community", judging = dead }, v.id)
  local status, runner = ws.judge_status(W:version(s.id, v.id))
  T.eq({ status, runner.pid }, { "interrupted", dead.pid })
  F.with_fake(F.script(db, { { purpose = "^judge", json = F.judge_json(db, 7.5, 8.5), delay_ms = 50 } }), function(fake)
    local started = W:judge(s.id)
    T.eq({ #started, started[1].id }, { 1, v.id }, "the active version not judged")
    status, runner = ws.judge_status(W:version(s.id, v.id))
    T.eq({ status, runner.pid }, { "judging", uv.os_getpid() }, "this process's, while its judges run")
    T.raises(function() W:judge(s.id, { version = v.id }) end, "is being judged now")
    T.eq(#W:judge(s.id), 0, "by default one being judged is left to its judges")
    T.eq(W:wait_background(), {})
    local after = W:version(s.id, v.id)
    T.eq({ ws.judge_status(after), after.authenticity_score, after.persona_avg_score, after.passes_gates, after.source_detail.judging },
         { "judged", 8.5, 7.5, true, nil })
    T.eq(#W:judge(s.id), 0, "nothing left to judge")
    T.eq(F.calls(fake, "^judge"), 1)
    -- named, a judged version is judged again
    T.eq(W:judge(s.id, { asset_type = "battlecard" })[1].id, v.id)
    W:wait_background()
    T.eq(F.calls(fake, "^judge"), 2)
  end)
  T.eq(db:value("SELECT json_type(source_detail, '$.failing') FROM session_versions WHERE id = ?", v.id), "array")
  -- a judge that fails later writes the detail back: failing stays an array, in the row and as printed;
  -- the version was judged before, so that judgement stands and the failure is kept beside it
  local judged = W:version(s.id, v.id)
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    W:judge(s.id, { version = 1 })
    W:wait_background()
  end)
  local failed = W:version(s.id, v.id)
  T.eq({ ws.judge_status(failed), failed.source_detail.judged, failed.source_detail.judge_error },
       { "judged", true, nil })
  T.contains(failed.source_detail.last_judge_error, "HTTP 500")
  T.eq({ failed.authenticity_score, failed.persona_avg_score, failed.passes_gates },
       { judged.authenticity_score, judged.persona_avg_score, judged.passes_gates })
  T.eq(db:value("SELECT json_type(source_detail, '$.failing') FROM session_versions WHERE id = ?", v.id), "array")
  T.contains(json.encode(ws.detail(failed)), '"failing":[]')
  T.contains(W:export(s.id, "json"), '"failing":[]')
  T.raises(function() W:judge(s.id, { asset_type = "narrative" }) end, "has no asset type 'narrative'")
  db:close()
end)

T.test("workspace: the profile is checked at create and can be changed; check_keys writes nothing when a key is missing", function()
  local db, W = setup()
  local ok, err = pcall(new_session, W, { profile = "nosuch" })
  T.eq({ ok, type(err) == "table" and err.kind }, { false, "usage" })
  T.contains(err.message, "no model profile 'nosuch'; known: ")
  T.contains(err.message, "production")
  local s = new_session(W, { profile = "economy" })
  T.eq(s.metadata.modelProfile, "economy")
  T.eq(W:set_profile(s.id, "local").metadata.modelProfile, "local")
  T.raises(function() W:set_profile(s.id, "nosuch") end, "no model profile 'nosuch'")
  T.eq(W:get(s.id).metadata.modelProfile, "local", "a refused name changes nothing")
  T.eq(W:set_profile(s.id, nil).metadata.modelProfile, nil, "nil: the default choice again")
  T.with_llm_env({}, function()
    T.raises(function() new_session(W, { profile = "production", check_keys = true }) end, "needs an API key: set GEMINI_API_KEY")
    T.raises(function() new_session(W, { check_keys = true }) end, "needs an API key")
    T.eq(new_session(W, { profile = "production" }).status, "pending", "without check_keys, as for --no-generate")
  end)
  T.eq(db:value("SELECT count(*) FROM sessions"), 2, "the refused ones wrote no row")
  T.raises(function() new_session(W, { pain = { id = "nope" } }) end, "no pain point 'nope' %(see 'candor pain list'%)")
  db:close()
end)

T.test("workspace: version lookups check the asset type first (a usage error); an accepted chat proposal records its parent", function()
  local db, W = setup()
  local s = new_session(W)
  local v1 = W:add_version(s.id, "battlecard", { content = F.bad, source = "generation" })
  for _, ref in ipairs { 1, v1.id } do
    local ok, err = pcall(W.version, W, s.id, ref, "nosuch")
    T.eq({ ok, err.kind }, { false, "usage" })
    T.contains(err.message, "has no asset type 'nosuch'")
  end
  T.raises(function() W:check_asset(s.id, "nosuch") end, "has no asset type 'nosuch' %(it has: battlecard%)")
  local chat = require "candor.workspace.chat"
  local reply = "Tighter:\n<<<proposal battlecard>>>\n" .. F.good .. "\n<<<end proposal>>>\n"
  F.with_fake(F.script(db, { { purpose = "^workspace:chat", text = reply } }), function()
    local msg = async.run(function() return chat.send(W, s.id, "Shorter?", { retry = { base_ms = 1 } }) end)
    local v = chat.accept(W, s.id, msg.id, { retry = { base_ms = 1 } })
    T.eq({ v.version_number, v.source, v.source_detail.from_version, v.source_detail.from_version_number, v.source_detail.message_id },
         { 2, "chat", v1.id, 1, msg.id })
  end)
  db:close()
end)

T.test("workspace: two generates started at once in one process: one runs, the other is told it is generating already", function()
  local db, W = setup()
  local s = new_session(W)
  F.with_fake(F.script(db, { { purpose = "^generate", text = F.good, delay_ms = 100 } }), function(fake)
    local outcomes = async.run(function()
      return async.parallel {
        a = function() return table.pack(pcall(W.generate, W, s.id, gen_opts())) end,
        b = function() return table.pack(pcall(W.generate, W, s.id, gen_opts())) end,
      }
    end)
    local ran, refused = 0, {}
    for _, o in pairs(outcomes) do
      if o[1] then ran = ran + 1 else refused[#refused + 1] = o[2] end
    end
    T.eq({ ran, #refused, type(refused[1]) == "table" and refused[1].kind }, { 1, 1, "usage" })
    T.contains(refused[1].message, "session '" .. s.id .. "' is generating already (")
    T.eq(F.calls(fake, "^generate"), 1, "the draft is paid for once")
    T.eq(db:value("SELECT count(*) FROM generation_jobs"), 1)
  end)
  T.eq({ W:get(s.id).status, #W:versions(s.id), W:get(s.id).metadata.generation_claim }, { "completed", 1, nil })
  F.with_fake(F.script(db), function() T.eq(W:generate(s.id, gen_opts()).status, "completed", "once done, again") end)
  db:close()
end)

T.test("workspace: two 'session generate' processes at once: one generates, the other exits 2 saying so", function()
  local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
  local dir = T.tmpdir()
  local db = require("candor.db").open(dir .. "/c.db")
  require("candor.seed").run(db)
  local W = ws.for_user(db, "local")
  local s = new_session(W)
  -- a draft slow enough that the second process starts while the first one runs
  local fake = Fake.start(F.script(db, { { purpose = "^generate", text = F.good, delay_ms = 1500 } }))
  local env = T.fake_cli_env(dir, fake)
  local r = async.run(function()
    return async.parallel {
      function() return T.candor_async({ "session", "generate", s.id }, env) end,
      function() return T.candor_async({ "session", "generate", s.id }, env) end,
    }
  end)
  fake.close()
  local codes = { r[1].code, r[2].code }
  table.sort(codes)
  T.eq(codes, { 0, 2 }, r[1].err .. r[2].err)
  local refused = r[1].code == 2 and r[1] or r[2]
  T.contains(refused.err, "candor: session '" .. s.id .. "' is generating already (")
  T.eq(F.calls(fake, "^generate"), 1, "the draft is paid for once")
  T.eq(db:value("SELECT count(*) FROM generation_jobs"), 1)
  T.eq(W:get(s.id).status, "completed")
  db:close()
end)

T.test("workspace: judge checks the judge tier's key before it marks a version; a judged version keeps its judgement", function()
  local db, W = setup()
  local s = new_session(W)
  F.with_fake(F.script(db), function() W:generate(s.id, gen_opts()) end)
  local v = W:active(s.id).battlecard
  T.eq({ ws.judge_status(v), v.source_detail.judged }, { "judged", true })
  local calls = db:value("SELECT count(*) FROM llm_calls")
  T.with_llm_env({}, function()
    T.raises(function() W:judge(s.id, { version = 1 }) end, "needs an API key")
    T.raises(function() W:judge(s.id, { asset_type = "battlecard" }) end, "needs an API key")
  end)
  local after = W:version(s.id, v.id)
  T.eq({ ws.judge_status(after), after.source_detail.judged, after.source_detail.judging, after.source_detail.judge_error },
       { "judged", true, nil, nil }, "nothing marked")
  T.eq({ after.authenticity_score, after.persona_avg_score, after.passes_gates }, { v.authenticity_score, v.persona_avg_score,
    v.passes_gates })
  T.eq(db:value("SELECT count(*) FROM llm_calls"), calls, "no call made")
  T.eq(W:wait_background(), {})
  db:close()
end)

T.test("workspace: a version's text over the LLM input limit is refused before anything is written", function()
  local db, W = setup()
  local s = new_session(W)
  local huge = string.rep("We re-run CI 3 times a day. ", 750000)   -- about 21 MB
  local ok, err = pcall(W.edit, W, s.id, "battlecard", huge)
  T.eq({ ok, type(err) == "table" and err.kind }, { false, "usage" })
  T.contains(err.message, "the edited text is about 5250000 tokens, over the LLM input limit of 200000 "
    .. "(the llm_max_input_tokens setting): no model could judge it or be sent it, so it is not saved")
  T.raises(function() W:add_version(s.id, "battlecard", { content = huge, source = "deslop" }) end,
    "the version's text is about 5250001 tokens, over the LLM input limit of 200000")
  T.eq({ db:value("SELECT count(*) FROM session_versions"), W:get(s.id).status }, { 0, "pending" })
  -- the limit is the setting's
  require("candor.repo.settings"):set_value(db, "llm_max_input_tokens", "1000")
  T.raises(function() W:edit(s.id, "battlecard", string.rep("Flaky. ", 800)) end, "about 1400 tokens, over the LLM input limit of 1000")
  F.with_fake(F.script(db), function()
    T.eq(W:edit(s.id, "battlecard", string.rep("Flaky. ", 500)).version_number, 1, "within it, saved")
    W:wait_background()
  end)
  db:close()
end)

T.test("chat: active drafts too large for the budget are cut with a note; a request over the tier's limit stores nothing", function()
  local db, W = setup()
  local chat = require "candor.workspace.chat"
  local text = require "candor.text"
  local s = new_session(W, { asset_types = { "battlecard", "email_copy" } })
  local huge = "# Battlecard\n\n" .. string.rep("Flaky suites cost us 40 minutes a run.\n\n", 10000)   -- about 100,000 tokens
  local short = "Subject: 3 re-runs a day\n\nWe measured it."
  W:add_version(s.id, "battlecard", { content = huge, source = "edit" })
  W:add_version(s.id, "email_copy", { content = short, source = "edit" })
  local system, _, _, shown = chat.context(W, W:get(s.id), nil, "What next?")
  T.ok(text.tokens(system) <= 12000, "the chat context is about " .. text.tokens(system) .. " tokens")
  T.contains(system, "more bytes of the battlecard draft (about ")
  T.contains(system, "left out here: the chat_context_tokens budget is 12000 tokens; do not propose this whole asset")
  T.contains(system, short, "the short draft whole")
  T.eq(shown.battlecard.content, huge, "what it shows, with the stored version's whole text")
  F.with_fake({ { purpose = "^workspace:chat", text = "Cut the opening." } }, function(fake)
    T.eq(chat.send(W, s.id, "What next?", { retry = { base_ms = 1 } }).content, "Cut the opening.")
    local body = json.encode(fake.calls[1].body)
    T.ok(#body < 12000 * 4 * 1.1, "the request is " .. #body .. " bytes")
  end)
  -- a chat tier whose input limit is below what the budget lets in: nothing stored or sent
  local stored = db:value("SELECT count(*) FROM session_messages")
  require("candor.repo.settings"):set_value(db, "llm_max_input_tokens", "2000")
  F.with_fake({ { purpose = "^workspace:chat", text = "Cut the opening." } }, function(fake)
    T.raises(function() chat.send(W, s.id, "And now?") end,
      "the chat request is about %d+ tokens, over the input limit of 2000 for openai:fake%-model; nothing was sent or stored")
    T.eq({ fake.count(), db:value("SELECT count(*) FROM session_messages") }, { 0, stored })
  end)
  db:close()
end)

T.test("workspace: --voice names one voice: 'all' or a list is a usage error, not the first voice", function()
  local db, W = setup()
  for _, case in ipairs { { "all", "not 'all'; several go in %-%-voices %(known: " },
                          { "sales-enablement,practitioner-community", "not a list %('sales%-enablement,practitioner%-community'%)" },
                          { { "sales-enablement" }, "not a list" } } do
    local ok, err = pcall(new_session, W, { voice = case[1] })
    T.eq({ ok, type(err) == "table" and err.kind }, { false, "usage" })
    T.ok(err.message:find("%-%-voice names one voice, " .. case[2]), err.message)
  end
  T.eq(db:value("SELECT count(*) FROM sessions"), 0, "no session written")
  local s = new_session(W, { voice = "Sales Enablement" })
  T.eq({ W:voice(s).slug, #W:voices(s) }, { "sales-enablement", 1 }, "a voice's name is one voice")
  db:close()
end)

T.test("workspace: a session with versions reads as completed; a failed or killed regeneration leaves it so", function()
  local db, W = setup()
  local R = require("candor.repo").bind(db)
  -- made with --no-generate, then edited: it has something to show
  local s = new_session(W)
  F.with_fake(F.script(db), function()
    W:edit(s.id, "battlecard", "We re-run CI 3 times a day.\n")
    W:wait_background()
  end)
  T.eq(W:get(s.id).status, "completed")
  -- a regeneration that fails: the job is failed, the session and its versions are as they were
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    T.raises(function() W:generate(s.id, gen_opts()) end, "HTTP 500")
  end)
  s = W:get(s.id)
  T.eq({ s.status, db:value("SELECT status FROM generation_jobs WHERE id = ?", s.job_id), #W:versions(s.id),
         s.metadata.generation_claim }, { "completed", "failed", 1, nil })
  -- a regeneration whose process was killed (its claim's runner is gone): recover gives it back 'completed'
  local dead = { pid = T.dead_pid(), host = uv.os_gethostname(), started_at = "2026-01-01T00:00:00.000Z" }
  local function left_generating(id, runner)
    local m = R.sessions.get(id).metadata
    m.generation_claim = { runner = runner }
    R.sessions.update(id, { status = "generating", metadata = m })
  end
  left_generating(s.id, dead)
  local never = new_session(W, { name = "never generated" })
  left_generating(never.id, dead)
  T.eq({ ws.recover(db) }, { 1, 1 }, "one failed (no versions), one completed again")
  T.eq({ W:get(s.id).status, W:get(never.id).status }, { "completed", "failed" })
  T.eq(W:get(s.id).metadata.generation_claim, nil)
  -- reading it does the same, without waiting for recover
  left_generating(s.id, dead)
  T.eq(W:get(s.id).status, "completed")
  -- a claim whose process lives (pid 1 answers) is generating: a generate is refused, naming it
  left_generating(s.id, { pid = 1, host = uv.os_gethostname() })
  T.eq({ W:get(s.id).status, (ws.recover(db)) }, { "generating", 0 })
  local ok, err = pcall(W.generate, W, s.id, gen_opts())
  T.eq({ ok, err.kind }, { false, "usage" })
  T.contains(err.message, "is generating already (pid 1 on " .. uv.os_gethostname() .. ", starting)")
  db:close()
end)

T.test("workspace: 'session generate' killed mid-run leaves a completed session completed", function()
  local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
  local dir = T.tmpdir()
  local db = require("candor.db").open(dir .. "/c.db")
  require("candor.seed").run(db)
  local W = ws.for_user(db, "local")
  local s = new_session(W)
  F.with_fake(F.script(db), function() W:generate(s.id, gen_opts()) end)
  local fake = Fake.start(F.script(db, { { purpose = "^generate", text = F.good, delay_ms = 5000 } }))
  local env = { "PATH=" .. os.getenv("PATH") }
  for k, v in pairs(T.fake_cli_env(dir, fake).env) do env[#env + 1] = k .. "=" .. v end
  local exited = false
  local child = uv.spawn(T.binary, { args = { "session", "generate", s.id }, env = env }, function() exited = true end)
  for _ = 1, 500 do   -- until its draft call is out
    if F.calls(fake, "^generate") > 0 then break end
    async.sleep(10)
  end
  T.eq(F.calls(fake, "^generate"), 1, "the regeneration is drafting")
  T.eq(W:get(s.id).status, "generating")
  child:kill("sigkill")
  for _ = 1, 100 do if exited then break end async.sleep(10) end
  child:close()
  fake.close()
  s = W:get(s.id)
  T.eq({ s.status, #W:versions(s.id), W:active(s.id).battlecard.version_number }, { "completed", 1, 1 })
  db:close()
end)

T.test("chat: a chat_context_tokens that is not a whole number above 0 gives the default, not a crash", function()
  local db, W = setup()
  local chat = require "candor.workspace.chat"
  local s = new_session(W)
  local S = require "candor.repo.settings"
  S:set_value(db, "chat_context_tokens", "100")
  T.raises(function() chat.send(W, s.id, string.rep("why? ", 200)) end, "more than the chat_context_tokens budget of 100")
  for _, bad in ipairs { "1.5", "0", "abc" } do
    S:set_value(db, "chat_context_tokens", bad)
    T.ok(chat.context(W, s, nil, string.rep("why? ", 200)), bad .. ": the default budget of " .. chat.default_budget)
  end
  db:close()
end)
