-- The seven workspace actions and chat, end to end against the fake provider:
-- each ends in a new scored version (or a report), concurrent actions each get
-- their own version, chat streams and its proposal is accepted as a version.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local async = require "candor.async"
local json = require "candor.json"

local RETRY = { base_ms = 1 }

-- A seeded database, a session generated from the fake script (version 1 of a
-- battlecard), and the local user's workspace.
local function session_with(db, extra_script, fn)
  local workspace = require "candor.workspace"
  F.with_fake(F.script(db, extra_script), function(fake)
    local W = workspace.for_user(db, workspace.local_user(db))
    local s = W:create { pain = F.pain, asset_types = { "battlecard" }, voice = "practitioner-community", pipeline = "standard",
                         documents = { T.root .. "/examples/product/tideline.md" } }
    W:generate(s.id, { retry = RETRY })
    fn(W, W:get(s.id), fake)
  end)
end

local function run(W, id, name, opts)
  local actions = require "candor.workspace.actions"
  opts = opts or {}
  opts.retry, opts.cache = RETRY, false
  return async.run(function() return actions.run(W, id, name, opts) end)
end

local function active(W, id) return W:active(id).battlecard end

T.test("deslop replaces only the flagged spans, byte for byte elsewhere, and scores the result", function()
  local db = F.db()
  local replacements = { { n = 1, replacement = "accurate" }, { n = 2, span = "x", replacement = "" },
                         { n = 3, replacement = "plain" } }
  session_with(db, { { purpose = "^deslop", json = { replacements = replacements } } }, function(W, s, fake)
    W:add_version(s.id, "battlecard", { content = F.bad, source = "edit", scores = {}, activate = true })
    local steps = require "candor.workspace.steps"
    local run_state = require("candor.pipeline").new_run(db, { pain = W:pain(s), documents = {}, assets = { "battlecard" },
      voices = { W:voice(s) } })
    local flagged = steps.flagged(run_state, { content = F.bad, voice = W:voice(s), asset = "battlecard" })
    T.ok(#flagged >= 3, "the vendor draft has flagged spans")
    local expected = F.bad
    for i = 3, 1, -1 do
      local f = flagged[i]
      local rep = ({ "accurate", "", "plain" })[i]
      local before, after = expected:sub(1, f.start - 1), expected:sub(f.stop + 1)
      if rep == "" and before:match(" $") and after:match("^[ ,.;:]") then before = before:sub(1, -2) end
      expected = before .. rep .. after
    end
    local heard = {}
    local result = run(W, s.id, "deslop", { on_progress = function(pct, step) heard[#heard + 1] = pct .. " " .. step end })
    local v = active(W, s.id)
    T.eq({ v.version_number, v.source, result.version_number }, { 3, "deslop", 3 })
    T.eq(v.content, expected)
    T.eq(v.source_detail.replaced, 3)
    T.ok(v.slop_score and v.authenticity_score and v.persona_avg_score, "scored, judges included")
    T.eq(F.calls(fake, "^deslop"), 1)
    local job = require("candor.repo.action_jobs"):list(db, { action_name = "deslop" })[1]
    T.eq({ job.status, job.progress, job.current_step }, { "completed", 100, "done" })
    -- the action's tracker (candor.tracker): each step's begin is heard, and the
    -- steps log, with the tokens and model of the step's call, is in the result
    T.eq({ heard[1], heard[2], heard[#heard] }, { "20 rewriting " .. #flagged .. " flagged spans", "20 deslop", "95 storing the new version" })
    local st = job.result.steps[1]
    T.eq({ #job.result.steps, st.name, st.status, st.models }, { 1, "deslop", "done", { "openai:fake-model" } })
    T.ok(st.input_tokens > 0 and st.duration_ms >= 0 and st.ended_at, "tokens, duration and end recorded")
  end)
  db:close()
end)

T.test("deslop on a clean version is a clear error and a failed action job", function()
  local db = F.db()
  session_with(db, {}, function(W, s, fake)
    T.raises(function() run(W, s.id, "deslop") end, "no slop or vendor%-speak spans")
    local job = db:first("SELECT * FROM action_jobs")
    T.eq(job.status, "failed")
    T.contains(job.error_message, "no slop or vendor-speak spans")
    T.eq(active(W, s.id).version_number, 1, "no version made")
    T.eq(F.calls(fake, "^deslop"), 0, "the model is not asked")
  end)
  db:close()
end)

-- The spans deslop would send the model for the session's active text.
local function flagged_in(db, W, s)
  local run_state = require("candor.pipeline").new_run(db, { pain = W:pain(s), documents = {}, assets = { "battlecard" },
    voices = { W:voice(s) } })
  return require("candor.workspace.steps").flagged(run_state,
    { content = active(W, s.id).content, voice = W:voice(s), asset = "battlecard" })
end

T.test("deslop with no usable replacement fails and writes no version: none proposed, or none that fits", function()
  local db = F.db()
  local answer = { purpose = "^deslop", json = { replacements = json.array {} } }
  session_with(db, { answer }, function(W, s, fake)
    W:add_version(s.id, "battlecard", { content = F.bad, source = "edit", scores = {}, activate = true })
    local flagged = flagged_in(db, W, s)
    T.ok(#flagged >= 3, "the vendor draft has flagged spans")
    local want = string.format("the model proposed no usable replacements for the %d flagged spans; the version is unchanged",
      #flagged)
    local function fails_unchanged(what)
      local before = db:value("SELECT count(*) FROM session_versions WHERE session_id = ?", s.id)
      local calls = F.calls(fake, "^deslop")
      T.eq(T.raises(function() run(W, s.id, "deslop") end), want, what)
      T.eq(F.calls(fake, "^deslop"), calls + 1, what .. ": the model was asked")
      T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ?", s.id), before, what .. ": no version")
      T.eq(active(W, s.id).version_number, 2, what .. ": the active version stays")
      local job = db:first("SELECT * FROM action_jobs ORDER BY rowid DESC LIMIT 1")
      T.eq({ job.status, job.error_message }, { "failed", want }, what)
    end
    fails_unchanged("an empty list")
    -- a span number out of range or not a number, a replacement that is no
    -- string, one that repeats the span's own text
    answer.json = { replacements = { { n = #flagged + 1, replacement = "x" }, { n = "first", replacement = "x" },
                                     { n = 1, replacement = 7 }, { n = 2, replacement = flagged[2].text } } }
    fails_unchanged("only unusable replacements")
    -- one usable among them is a version with that one replaced
    answer.json.replacements[#answer.json.replacements + 1] = { n = 3, replacement = "plain" }
    local r = run(W, s.id, "deslop")
    local v = active(W, s.id)
    T.eq({ r.version_number, v.source_detail.replaced, v.source_detail.flagged }, { 3, 1, #flagged })
    T.ok(v.content ~= F.bad and v.content:find("plain", 1, true), "the one replacement is in the text")
  end)
  db:close()
end)

-- fn() must raise the project's usage error; -> its message.
local function usage_error(fn, pattern, what)
  local ok, err = pcall(fn)
  T.ok(not ok and type(err) == "table" and err.kind == "usage",
    (what or "a usage error") .. ", got " .. (ok and "no error" or tostring(type(err) == "table" and err.message or err)))
  if pattern then T.ok(err.message:find(pattern), string.format("%s: '%s' wants '%s'", what, err.message, pattern)) end
  return err.message
end

T.test("bad action options are usage errors before any action_jobs row or model call", function()
  local db = F.db()
  session_with(db, {}, function(W, s, fake)
    local calls = #fake.calls
    local cases = {
      { "adversarial", { rounds = 0 }, "adversarial: %-%-rounds must be a whole number from 1 to 5, not '0'" },
      { "adversarial", { rounds = "abc" }, "from 1 to 5, not 'abc'" },
      { "adversarial", { rounds = "1000" }, "from 1 to 5, not '1000'" },
      { "adversarial", { rounds = "2.5" }, "from 1 to 5" },
      { "adversarial", { rounds = " 2" }, "from 1 to 5, not ' 2'" },
      { "adversarial", { rounds = "2 " }, "from 1 to 5, not '2 '" },
      { "adversarial", { rounds = "0x2" }, "from 1 to 5, not '0x2'" },
      { "adversarial", { rounds = "1e0" }, "from 1 to 5, not '1e0'" },
      { "adversarial", { rounds = "+2" }, "from 1 to 5, not '%+2'" },
      { "adversarial", { rounds = 2.5 }, "from 1 to 5, not '2.5'" },
      { "adversarial", { rewrite = true }, "action 'adversarial' takes no %-%-rewrite %(it takes %-%-rounds%)" },
      { "change-voice", {}, "action 'change%-voice' needs %-%-voice VOICE" },
      { "change-voice", { voice = "no-such-voice" }, "no voice profile 'no%-such%-voice' %(known: " },
      { "change-voice", { voice = "all" }, "%-%-voice names one voice, not 'all' %(known: " },
      { "change-voice", { voice = "sales-enablement,field-marketing" }, "%-%-voice names one voice, not a list" },
      { "change-voice", { voice = "sales-enablement", rounds = 3 }, "action 'change%-voice' takes no %-%-rounds" },
      { "community-check", { voice = "sales-enablement" }, "action 'community%-check' takes no %-%-voice %(it takes %-%-rewrite%)" },
      { "deslop", { rounds = 3 }, "action 'deslop' takes no %-%-rounds %(it takes only %-%-asset%)" },
      { "regenerate", { voice = "sales-enablement" }, "action 'regenerate' takes no %-%-voice" },
      { "multi-perspective", { rewrite = true }, "action 'multi%-perspective' takes no %-%-rewrite" },
      { "competitive-dive", { rounds = 2 }, "action 'competitive%-dive' takes no %-%-rounds" },
    }
    for _, c in ipairs(cases) do
      local what = c[1] .. " " .. json.encode(c[2])
      usage_error(function() run(W, s.id, c[1], c[2]) end, c[3], what)
    end
    T.eq(db:value("SELECT count(*) FROM action_jobs"), 0, "no action_jobs row")
    T.eq(#fake.calls, calls, "no model call")
    T.eq(active(W, s.id).version_number, 1)
    -- the bounds themselves are fine
    run(W, s.id, "adversarial", { rounds = "1" })
    T.eq(active(W, s.id).source_detail.rounds, 1)
  end)
  db:close()
end)

T.test("change-voice into the voice the version is already in is refused, naming it", function()
  local db = F.db()
  session_with(db, { { purpose = "^change%-voice", text = F.good } }, function(W, s, fake)
    usage_error(function() run(W, s.id, "change-voice", { voice = "practitioner-community" }) end,
      "battlecard version 1 is already in the voice practitioner%-community", "the session's voice")
    run(W, s.id, "change-voice", { voice = "sales-enablement" })
    T.eq(F.calls(fake, "^change%-voice"), 1)
    -- the voice of the version now active, not the session's
    local name = require("candor.repo.voice_profiles"):by_slug(db, "sales-enablement").name
    usage_error(function() run(W, s.id, "change-voice", { voice = name }) end,
      "battlecard version 2 is already in the voice sales%-enablement", "by the voice's name")
    T.eq(F.calls(fake, "^change%-voice"), 1, "no model call for a refused one")
    T.eq(db:value("SELECT count(*) FROM action_jobs"), 1, "no row for a refused one")
    run(W, s.id, "change-voice", { voice = "practitioner-community" })
    T.eq(active(W, s.id).version_number, 3)
  end)
  db:close()
end)

T.test("adversarial progress moves with every attack and answer, from round 1", function()
  local db = F.db()
  session_with(db, {}, function(W, s)
    for _, rounds in ipairs { 1, 2, 5 } do
      local at = {}
      run(W, s.id, "adversarial", { rounds = rounds, on_progress = function(pct, step) at[step] = at[step] or pct end })
      local labels = {}
      for n = 1, rounds do
        labels[#labels + 1] = string.format("attack %d of %d", n, rounds)
        labels[#labels + 1] = string.format("answering attack %d of %d", n, rounds)
      end
      labels[#labels + 1] = "scoring"
      labels[#labels + 1] = "storing the new version"
      local last = 0
      for _, label in ipairs(labels) do
        T.ok(at[label] and at[label] > last, string.format("%d rounds: '%s' at %s, after %d%%", rounds, label,
          tostring(at[label]), last))
        last = at[label]
      end
    end
  end)
  db:close()
end)

T.test("session action: a bad option exits 2 with no row; a usage error a workflow raises late exits 2 too", function()
  local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
  local dir = T.tmpdir()
  local db = require("candor.db").open(dir .. "/c.db")
  require("candor.seed").run(db)
  local fake = Fake.start(F.script(db))
  local r = T.candor_async({ "session", "new", "--pain", "Flaky tests waste CI time", "--assets", "battlecard",
    "--voice", "practitioner-community", "--pipeline", "standard", "--json" }, T.fake_cli_env(dir, fake))
  T.eq(r.code, 0, r.err)
  local id = json.decode(r.out).session.id
  for _, rounds in ipairs { "0", "abc", "1000" } do
    r = T.candor_async({ "session", "action", "adversarial", id, "--asset", "battlecard", "--rounds", rounds },
      T.fake_cli_env(dir, fake))
    T.eq(r.code, 2, r.err)
    T.contains(r.err, "--rounds must be a whole number from 1 to 5, not '" .. rounds .. "'")
  end
  r = T.candor_async({ "session", "action", "change-voice", id, "--voice", "practitioner-community" }, T.fake_cli_env(dir, fake))
  T.eq(r.code, 2, r.err)
  T.contains(r.err, "already in the voice practitioner-community")
  r = T.candor_async({ "session", "action", "change-voice", id, "--voice", "all" }, T.fake_cli_env(dir, fake))
  T.eq(r.code, 2, r.err)
  T.contains(r.err, "candor: --voice names one voice, not 'all' (known: ")
  T.eq(db:value("SELECT count(*) FROM action_jobs"), 0)
  -- a copy of the action on CANDOR_PATH that checks in run, after its row is written
  local path = T.tmpdir()
  require("luv").fs_mkdir(path .. "/workflows", 493)
  require("luv").fs_mkdir(path .. "/workflows/actions", 493)
  T.write_file(path .. "/workflows/actions/adversarial.lua", [[
    return { kind = "action", options = { "rounds" },
             run = function() error(require("candor.workflow").usage("adversarial: checked too late"), 0) end }
  ]])
  r = T.candor_async({ "session", "action", "adversarial", id, "--rounds", "2" }, T.fake_cli_env(dir, fake, { CANDOR_PATH = path }))
  T.eq(r.code, 2, r.err)
  T.contains(r.err, "candor: adversarial: checked too late")
  T.eq(db:value("SELECT status || ': ' || error_message FROM action_jobs"), "failed: adversarial: checked too late")
  fake.close()
  db:close()
end)

T.test("regenerate, change-voice, adversarial, multi-perspective: each a new version with its source", function()
  local db = F.db()
  local script = { { purpose = "^change%-voice", text = F.good }, { purpose = "^perspective:", text = F.good } }
  session_with(db, script, function(W, s, fake)
    run(W, s.id, "regenerate")
    T.eq({ active(W, s.id).version_number, active(W, s.id).source }, { 2, "regenerate" })
    run(W, s.id, "change-voice", { voice = "sales-enablement" })
    local v = active(W, s.id)
    T.eq({ v.version_number, v.source, v.source_detail.voice, v.source_detail.from_voice },
         { 3, "voice_change", "sales-enablement", "practitioner-community" })
    T.raises(function() run(W, s.id, "change-voice") end, "needs %-%-voice")
    run(W, s.id, "adversarial")
    T.eq(active(W, s.id).source, "adversarial")
    T.eq({ F.calls(fake, "^attack"), F.calls(fake, "^generate:answer%-attack") }, { 2, 2 })
    T.eq(active(W, s.id).source_detail.voice, "sales-enablement", "actions keep the version's voice")
    run(W, s.id, "multi-perspective")
    T.eq({ active(W, s.id).version_number, active(W, s.id).source }, { 5, "multi_perspective" })
    T.eq({ F.calls(fake, "^perspective:"), F.calls(fake, "^generate:synthesis") }, { 3, 1 })
    T.raises(function() run(W, s.id, "brainstorm") end, "no action 'brainstorm'")
  end)
  db:close()
end)

T.test("competitive-dive stores its research under the session's job; community-check reports, rewrites on request", function()
  local db = F.db()
  local report = { claims = {
    { claim = "1-3% of tests flip", verdict = "supported", practitioner_view = "matches what we see", sources = {} },
    { claim = "setup takes 15 minutes", verdict = "disputed", practitioner_view = "took us a day with monorepos", sources = {} },
  }, summary = "one claim disputed" }
  local script = { { purpose = "^competitive%-rewrite", text = F.good }, { purpose = "^community%-check", json = report },
                   { purpose = "^community%-rewrite", text = F.good } }
  session_with(db, script, function(W, s, fake)
    local before = db:value("SELECT count(*) FROM competitive_research")
    run(W, s.id, "competitive-dive")
    T.eq(db:value("SELECT count(*) FROM competitive_research"), before + 1)
    T.eq(db:value("SELECT job_id FROM competitive_research ORDER BY created_at DESC, rowid DESC LIMIT 1"), s.job_id)
    T.eq(active(W, s.id).source, "competitive_dive")
    local n = active(W, s.id).version_number
    local r = run(W, s.id, "community-check")
    T.eq({ r.disputed, r.rewritten, active(W, s.id).version_number }, { 1, false, n })
    T.eq(r.report.claims[2].verdict, "disputed")
    T.ok(fake.calls[#fake.calls].body.messages, "sent")
    r = run(W, s.id, "community-check", { rewrite = true })
    T.eq({ r.rewritten, active(W, s.id).version_number, active(W, s.id).source }, { true, n + 1, "community_check" })
  end)
  db:close()
end)

T.test("actions started at once on one session all complete, each with its own version number", function()
  local db = F.db()
  session_with(db, { { purpose = "^change%-voice", text = F.good, delay_ms = 20 } }, function(W, s)
    local actions = require "candor.workspace.actions"
    local results = async.run(function()
      local tasks = {}
      for i = 1, 6 do
        local _, t = actions.start(W, s.id, "change-voice", { voice = "sales-enablement", retry = RETRY, cache = false })
        tasks[i] = t
      end
      local out = {}
      for i, t in ipairs(tasks) do out[i] = t:await() end
      return out
    end)
    local numbers, made_active = {}, 0
    for _, r in ipairs(results) do numbers[#numbers + 1] = r.version_number end
    table.sort(numbers)
    T.eq(numbers, { 2, 3, 4, 5, 6, 7 })
    for _, r in ipairs(db:query("SELECT result FROM action_jobs")) do
      if json.decode(r.result).activated then made_active = made_active + 1 end
    end
    T.eq(made_active, 1, "all started on v1: the first to finish is made active, the rest are kept beside it")
    T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ? AND is_active = 1", s.id), 1)
    T.eq(db:value("SELECT count(*) FROM action_jobs WHERE status = 'completed'"), 6)
  end)
  db:close()
end)

T.test("chat: the reply streams, history is kept, a proposal is accepted as a scored version once", function()
  local db = F.db()
  local reply = "The opening hides the number. Here is a tighter version.\n<<<proposal battlecard>>>\n" .. F.good
    .. "\n<<<end proposal>>>\n"
  session_with(db, { { purpose = "^workspace:chat", text = reply, chunk_ms = 1 } }, function(W, s, fake)
    local chat = require "candor.workspace.chat"
    local pieces = {}
    local msg = chat.send(W, s.id, "Why is the authenticity score low?", { asset_type = "battlecard", retry = RETRY,
      on_chunk = function(p) pieces[#pieces + 1] = p end })
    T.ok(#pieces > 5, "streamed in pieces")
    T.eq(table.concat(pieces), reply)
    T.eq(msg.metadata.proposal.asset_type, "battlecard")
    local call = fake.calls[#fake.calls]
    T.eq(call.stream, true)
    T.contains(call.body.messages[1].content, "version 1", "the assistant sees the active version")
    T.contains(call.body.messages[1].content, "Flaky tests waste CI time", "and the pain")
    chat.send(W, s.id, "And the second paragraph?", { retry = RETRY })
    local second = fake.calls[#fake.calls].body.messages
    T.eq({ second[2].role, second[2].content, second[3].role }, { "user", "Why is the authenticity score low?", "assistant" })
    T.eq(#chat.history(W, s.id), 4)
    local v = chat.accept(W, s.id, msg.id, { retry = RETRY })
    T.eq({ v.version_number, v.source, v.content }, { 2, "chat", require("candor.text").trim(F.good) })
    T.ok(v.persona_avg_score ~= nil, "scored by the judges")
    T.raises(function() chat.accept(W, s.id, msg.id) end, "already accepted as battlecard version 2")
    T.raises(function() chat.send(W, s.id, "  ") end, "the message is empty")
  end)
  db:close()
end)

T.test("another user's session is refused for actions and chat", function()
  local db = F.db()
  session_with(db, {}, function(W, s)
    local workspace = require "candor.workspace"
    local users = require "candor.repo.users"
    local other = users:insert(db, { username = "mallory", email = "m@example.com", password_hash = "x", display_name = "M" })
    local M2 = workspace.for_user(db, other)
    T.raises(function() run(M2, s.id, "regenerate") end, "no session")
    T.raises(function() require("candor.workspace.chat").send(M2, s.id, "hi") end, "no session")
    T.eq(db:value("SELECT count(*) FROM session_messages"), 0)
  end)
  db:close()
end)

T.test("an action left running by a process that stopped is marked failed at the next start; its session too", function()
  local db = F.db()
  session_with(db, {}, function(W, s)
    local R = require "candor.repo.action_jobs"
    local dead = { pid = T.dead_pid(), host = require("luv").os_gethostname() }
    local stale = R:insert(db, { session_id = s.id, asset_type = "battlecard", action_name = "deslop", status = "running",
      progress = 40, result = { runner = dead } })
    local other_host = R:insert(db, { session_id = s.id, asset_type = "battlecard", action_name = "deslop", status = "running",
      result = { runner = { pid = 1, host = "elsewhere" } } })
    db:run("UPDATE sessions SET status = 'generating' WHERE id = ?", s.id)
    db:run("UPDATE generation_jobs SET status = 'failed' WHERE id = ?", s.job_id)
    local actions = require "candor.workspace.actions"
    T.eq(actions.recover(db), 1)
    local row = R:get(db, stale.id)
    T.eq(row.status, "failed")
    T.contains(row.error_message, "stopped before it finished")
    T.eq(R:get(db, other_host.id).status, "running", "another host's run is left alone")
    T.eq(require("candor.workspace").recover(db), 1)
    T.eq(db:value("SELECT status FROM sessions WHERE id = ?", s.id), "failed")
  end)
  db:close()
end)

T.test("50 actions at once over 10 sessions: numbers unique and gap-free, one active version each", function()
  local db = F.db()
  F.with_fake(F.script(db, { { purpose = "^change%-voice", text = F.good, delay_ms = 5 } }), function()
    local workspace = require "candor.workspace"
    local actions = require "candor.workspace.actions"
    local W = workspace.for_user(db, workspace.local_user(db))
    local sessions = {}
    for i = 1, 10 do
      local s = W:create { pain = { title = "Pain " .. i, content = "Flaky tests, case " .. i }, asset_types = { "battlecard" },
                           voice = "practitioner-community", pipeline = "standard" }
      W:add_version(s.id, "battlecard", { content = F.good, source = "edit", scores = {}, activate = true })
      sessions[i] = s
    end
    async.run(function()
      local tasks = {}
      for i = 1, 50 do
        local _, t = actions.start(W, sessions[(i - 1) % 10 + 1].id, "change-voice",
          { voice = "sales-enablement", retry = RETRY, cache = false })
        tasks[i] = t
      end
      for _, t in ipairs(tasks) do t:await() end
    end)
    for _, s in ipairs(sessions) do
      local numbers = {}
      for _, r in ipairs(db:query("SELECT version_number FROM session_versions WHERE session_id = ? ORDER BY version_number", s.id)) do
        numbers[#numbers + 1] = r.version_number
      end
      T.eq(numbers, { 1, 2, 3, 4, 5, 6 })
      T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ? AND is_active = 1", s.id), 1)
    end
    T.eq(db:value("SELECT count(*) FROM action_jobs WHERE status = 'completed'"), 50)
  end)
  db:close()
end)

T.test("review fixes: --rounds bounded; two accepts at once make one version; an edit after change-voice keeps that voice", function()
  local db = F.db()
  local reply = "Try:\n<<<proposal battlecard>>>\n" .. F.good .. "\n<<<end proposal>>>\n"
  session_with(db, { { purpose = "^workspace:chat", text = reply }, { purpose = "^change%-voice", text = F.good },
                     { purpose = "^judge", json = F.judge_json(db, 8), delay_ms = 30 } }, function(W, s)
    T.raises(function() run(W, s.id, "adversarial", { rounds = 100000 }) end, "from 1 to 5")
    T.raises(function() run(W, s.id, "adversarial", { rounds = "abc" }) end, "from 1 to 5")
    local chat = require "candor.workspace.chat"
    local msg = chat.send(W, s.id, "tighter?", { retry = RETRY })
    local outcomes = async.run(function()
      return async.parallel {
        a = function() return select(2, pcall(chat.accept, W, s.id, msg.id, { retry = RETRY })) end,
        b = function() return select(2, pcall(chat.accept, W, s.id, msg.id, { retry = RETRY })) end,
      }
    end)
    local made = 0
    for _, o in pairs(outcomes) do if type(o) == "table" and o.version_number then made = made + 1 end end
    T.eq(made, 1, "one of the two accepts made a version")
    T.eq(db:value("SELECT count(*) FROM session_versions WHERE session_id = ? AND source = 'chat'", s.id), 1)
    run(W, s.id, "change-voice", { voice = "sales-enablement" })
    local v = W:edit(s.id, "battlecard", F.good .. "\nOne more line.\n")
    T.eq(v.source_detail.voice, "sales-enablement", "scored against the voice the asset is in now")
    W:wait_background()
  end)
  db:close()
end)

T.test("an action whose version was stored before its process stopped is recovered as completed", function()
  local db = F.db()
  session_with(db, {}, function(W, s)
    local R = require "candor.repo.action_jobs"
    local row = R:insert(db, { session_id = s.id, asset_type = "battlecard", action_name = "deslop", status = "running",
      result = { runner = { pid = T.dead_pid(), host = require("luv").os_gethostname() } } })
    W:add_version(s.id, "battlecard", { content = F.good .. "\nx\n", source = "deslop", scores = {},
      source_detail = { action_job_id = row.id }, activate = true })
    T.eq(require("candor.workspace.actions").recover(db), 1)
    local now = R:get(db, row.id)
    T.eq({ now.status, now.result.version_number, now.result.recovered }, { "completed", 2, true })
  end)
  db:close()
end)
