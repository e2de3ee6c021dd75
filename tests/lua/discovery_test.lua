-- Discovery runs against a stand-in source and the fake judge: the threshold,
-- invented quotes, failed judgements, de-duplication (source id, content hash,
-- the window, the batch, other priorities), one transaction for the inserts, a
-- run killed midway, a failing source beside a working one, and the
-- auto-generation an approval starts.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local discovery = require "candor.discovery"
local json = require "candor.json"
local dbm = require "candor.db"
local uv = require "luv"
local async = require "candor.async"
local Schedules = require "candor.repo.discovery_schedules"
local Pains = require "candor.repo.discovered_pain_points"

local RETRY = { base_ms = 1, jitter = false }

-- A post whose title names it: "Title: <title>" is what the judge's prompt shows.
local function post(id, title, content, extra)
  local p = { source_type = "standin", source_id = id, url = "https://forum.example/t/" .. id, title = title,
              content = content, author = "pat", author_level = "practitioner", posted_at = "2026-01-02T03:04:05.000Z",
              metadata = { votes = 12 } }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

local POSTS = {
  post("1", "CI alpha", "Our CI takes 45 minutes. We re-run flaky jobs three times a day and lose hours."),
  post("2", "CI bravo", "Sometimes the build is a bit slow, I guess."),
  post("3", "CI charlie", "Deploys break every Friday. The rollback script is a 400 line bash file nobody owns."),
}

-- A judge answer for a post: matched on its title, by purpose.
local function answer(title, score, quotes, extra)
  local j = { pain_score = score, analysis = { pain_points = { "slow CI" }, urgency = "high", technical_depth = "medium",
              relevance = "high", summary = "CI is slow" }, author_level = "expert", quotes = quotes or {} }
  for k, v in pairs(extra or {}) do j[k] = v end
  return { purpose = "^discovery:judge", match = "Title: " .. title .. "\n", json = j }
end

local function default_script()
  return {
    answer("CI alpha", 0.9, { "We re-run flaky jobs   three times a day", "We rewrote CI in Rust and it was great." }),
    answer("CI bravo", 0.3, {}),
    answer("CI charlie", 0.6, { "the rollback script is a 400 line bash file nobody owns." }),
  }
end

-- A stand-in for candor.discovery.sources: get(name) -> {fetch}. posts[name] is a
-- list of posts, or a function(config, opts) -> posts | nil, err.
local function sources(posts, seen)
  return { get = function(name)
    local p = posts[name]
    if p == nil then error("no discovery source '" .. name .. "'", 0) end
    return { fetch = function(config, opts)
      if seen then seen[name] = { config = config, opts = opts } end
      if type(p) == "function" then return p(config, opts) end
      return p
    end }
  end }
end

local function schedule(db, source_type, config, priority_id)
  return Schedules:insert(db, { priority_id = priority_id or db:value("SELECT id FROM messaging_priorities WHERE slug = 'general'"),
    source_type = source_type or "standin", config = config or { keywords = { "flaky", "CI" } }, is_active = true })
end

local function stored(db) return db:query("SELECT * FROM discovered_pain_points ORDER BY pain_score DESC") end

T.test("threshold: posts at or above pain_threshold are stored pending; invented quotes are dropped and counted", function()
  local db = F.db()
  local s = schedule(db)
  local seen = {}
  local steps = {}
  F.with_fake(default_script(), function(fake)
    local c = discovery.run(db, Schedules:get(db, s.id), { sources = sources({ standin = POSTS }, seen), retry = RETRY,
      on_progress = function(pct, step) steps[#steps + 1] = pct .. " " .. step end })
    T.eq({ steps[1], steps[#steps], #steps }, { "0 judged 0 of 3 posts", "100 judged 3 of 3 posts", 4 })
    T.eq({ c.fetched, c.duplicates, c.judged, c.kept, c.dropped_below_threshold, c.failed_judgements, c.invented_quotes },
         { 3, 0, 3, 2, 1, 0, 1 })
    T.eq(#c.errors, 0)
    T.eq(F.calls(fake, "^discovery:judge:standin$"), 3, "one judge call per post, purpose names the source")
    local prompt = fake.calls[1].body.messages[#fake.calls[1].body.messages].content
    T.contains(prompt, "The messaging theme: General")
    T.contains(prompt, "flaky")
  end)
  -- the priority's keywords and the schedule's, once each
  local kw = seen.standin.config.keywords
  T.eq(kw[#kw], "CI")
  local flaky = 0
  for _, k in ipairs(kw) do if k:lower() == "flaky" then flaky = flaky + 1 end end
  T.eq(flaky, 1)
  T.ok(#kw > 2 and kw[1] == "workaround", "the priority's keywords come first")
  T.ok(type(seen.standin.opts.llm) == "function" and seen.standin.opts.now, "the source gets llm and now")
  T.eq(seen.standin.opts.purpose_prefix, "discovery")
  local since = seen.standin.config.since
  T.ok(type(since) == "string" and since < seen.standin.opts.now, "only posts newer than the de-duplication window")

  local rows = stored(db)
  T.eq(#rows, 2)
  local a = rows[1]
  T.eq({ a.title, a.status, a.schedule_id, a.source_type, a.source_id, a.author, a.author_level, a.pain_score },
       { "CI alpha", "pending", s.id, "standin", "1", "pat", "expert", 0.9 })
  T.eq(json.decode(a.practitioner_quotes), { "We re-run flaky jobs   three times a day" }, "the real quote is kept as written")
  T.eq(a.content_hash, require("candor.text").content_hash("CI alpha", POSTS[1].content))
  local meta = json.decode(a.metadata)
  T.eq({ meta.source.votes, meta.posted_at, meta.source_author_level, meta.judge.invented_quotes },
       { 12, "2026-01-02T03:04:05.000Z", "practitioner", 1 })
  T.eq(json.decode(a.pain_analysis).urgency, "high")
  T.eq(rows[2].title, "CI charlie", "exactly the threshold is kept")
  local sch = Schedules:get(db, s.id)
  T.ok(sch.last_run_at, "last_run_at is set")
  T.eq(sch.next_run_at, nil, "next_run_at is the scheduler's")
  db:close()
end)

T.test("the threshold and the window are settings, a priority's own value first", function()
  local db = F.db()
  local s = schedule(db)
  local pid = s.priority_id
  require("candor.repo.settings"):insert(db, { key = "pain_threshold", value = "0.95", priority_id = pid, description = "" })
  F.with_fake(default_script(), function()
    local c = discovery.run(db, Schedules:get(db, s.id), { sources = sources { standin = POSTS }, retry = RETRY })
    T.eq({ c.kept, c.dropped_below_threshold }, { 0, 3 })
  end)
  require("candor.repo.settings"):set_value(db, "dedup_window_days", "soon")
  T.raises(function() discovery.run(db, Schedules:get(db, s.id), { sources = sources { standin = POSTS } }) end,
    "dedup_window_days setting must be a number")
  db:close()
end)

T.test("a failed judgement is retried, then reported, never scored 0; an answer without a valid score fails too", function()
  local db = F.db()
  local s = schedule(db)
  local script = {
    { purpose = "^discovery:judge", match = "Title: CI alpha\n", fault = "503", times = 1 },   -- retried, then answered
    { purpose = "^discovery:judge", match = "Title: CI bravo\n", fault = "500" },              -- every attempt fails
    answer("CI charlie", "very", {}),                                                           -- not a number
  }
  for _, e in ipairs(default_script()) do script[#script + 1] = e end
  F.with_fake(script, function(fake)
    local c = discovery.run(db, Schedules:get(db, s.id), { sources = sources { standin = POSTS }, retry = RETRY })
    T.eq({ c.judged, c.kept, c.failed_judgements, c.dropped_below_threshold }, { 1, 1, 2, 0 })
    T.eq(#c.errors, 2)
    local by = {}
    for _, e in ipairs(c.errors) do by[e.source_id] = e end
    T.eq({ by["2"].stage, by["2"].title }, { "judge", "CI bravo" })
    T.contains(by["2"].message, "gave up after 4 attempts")
    T.contains(by["3"].message, "pain_score from 0 to 1")
    local bravo = 0
    for _, call in ipairs(fake.calls) do
      if call.body.messages[#call.body.messages].content:find("Title: CI bravo\n", 1, true) then bravo = bravo + 1 end
    end
    T.eq(bravo, 4, "the LLM layer's retries (llm_max_retries = 3)")
  end)
  T.eq(db:value("SELECT group_concat(title) FROM discovered_pain_points"), "CI alpha", "nothing stored for a failure")
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points WHERE pain_score = 0"), 0)
  db:close()
end)

T.test("de-duplication: by source id and content hash across runs, within the batch, only inside the window, per priority", function()
  local db = F.db()
  local s = schedule(db)
  local script = default_script()
  script[#script + 1] = { purpose = "^discovery:judge", json = { pain_score = 0.8, analysis = {}, author_level = "unknown", quotes = {} } }
  F.with_fake(script, function(fake)
    local src = { standin = POSTS }
    local c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq(c.kept, 2)
    -- the same posts again: the stored ones are duplicates by source id
    local n0 = fake.count()
    c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.duplicates, c.judged, c.kept }, { 2, 1, 0 }, "the two stored are duplicates; the dropped one is judged again")
    T.eq(fake.count() - n0, 1, "no judge call for a duplicate")
    -- the same content under a new source id, spaces and case changed: a duplicate by content hash
    src.standin = { post("9", "ci ALPHA", "Our CI takes 45 minutes.\n\nWe re-run  flaky jobs three times a day and lose hours.") }
    c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.duplicates, c.kept }, { 1, 0 })
    -- within one batch: the same source id twice, and the same content twice
    src.standin = { post("20", "New one", "Builds hang on the artifact upload step."),
                    post("20", "New one again", "Another text"),
                    post("21", "New one", "Builds hang on the artifact upload step.") }
    c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.fetched, c.duplicates, c.kept }, { 3, 2, 1 })
    -- a pain point older than the window does not block the same content
    db:run("UPDATE discovered_pain_points SET discovered_at = '2000-01-01T00:00:00.000Z' WHERE source_id = '1'")
    src.standin = { post("30", "CI alpha", POSTS[1].content) }
    c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.duplicates, c.kept }, { 0, 1 }, "30 days back by default")
    -- a source id is the same post however old
    src.standin = { post("1", "CI alpha edited", "Something else entirely now.") }
    c = discovery.run(db, Schedules:get(db, s.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.duplicates, c.kept }, { 1, 0 })
    -- the same posts under another priority are not duplicates
    local other = discovery.add_priority(db, { name = "Deploys", description = "Deploy pain", keywords = { "deploy" } })
    local s2 = schedule(db, "standin", {}, other.id)
    src.standin = POSTS
    c = discovery.run(db, Schedules:get(db, s2.id), { sources = sources(src), retry = RETRY })
    T.eq({ c.duplicates, c.kept }, { 0, 2 })
  end)
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points"), 6)
  db:close()
end)

T.test("the inserts of a run are one transaction: a failure inside the loop leaves nothing stored", function()
  local db = F.db()
  local s = schedule(db)
  local real = Pains.insert
  local n = 0
  Pains.insert = function(self, d, f)
    n = n + 1
    if n == 2 then error("disk on fire", 0) end
    return real(self, d, f)
  end
  local ok, err
  F.with_fake(default_script(), function()
    ok, err = pcall(discovery.run, db, Schedules:get(db, s.id), { sources = sources { standin = POSTS }, retry = RETRY })
  end)
  Pains.insert = real
  T.eq({ ok, err }, { false, "disk on fire" })
  T.eq(n, 2, "the first insert went through before the failure")
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points"), 0)
  T.eq(Schedules:get(db, s.id).last_run_at, nil)
  T.eq(db:in_transaction(), false)
  db:close()
end)

T.test("a run killed midway stores nothing and leaves the database whole; the next run stores the posts", function()
  local dir = T.tmpdir()
  local db = dbm.open(dir .. "/c.db")
  local s = schedule(db)
  db:close()
  local script = {}
  for _, e in ipairs(default_script()) do e.delay_ms = 10000 script[#script + 1] = e end
  local fake = Fake.start(script)
  local runner = T.write_file(dir .. "/run.lua", string.format([[
    local db = require("candor.db").open(%q)
    local posts = require("candor.json").decode(%q)
    local c = require("candor.discovery").run(db, require("candor.repo.discovery_schedules"):get(db, %q),
      { sources = { get = function() return { fetch = function() return posts end } end } })
    print(c.kept)
  ]], dir .. "/c.db", json.encode(POSTS), s.id))
  local env = { "CANDOR_PROFILE=local", "CANDOR_LOCAL_MODEL=fake-model", "OPENAI_BASE_URL=" .. fake.url .. "/v1",
                "HOME=" .. dir, "XDG_CONFIG_HOME=" .. dir .. "/config", "XDG_STATE_HOME=" .. dir .. "/state",
                "PATH=" .. os.getenv("PATH") }
  local exited = false
  local child = uv.spawn(T.binary, { args = { "lua", runner }, env = env, stdio = { nil, nil, nil } },
    function() exited = true end)
  for _ = 1, 400 do
    if fake.count() >= 3 then break end
    async.sleep(10)
  end
  T.eq(fake.count(), 3, "every judge call is in flight")
  child:kill("sigkill")
  for _ = 1, 100 do if exited then break end async.sleep(10) end
  child:close()
  local check = dbm.open(dir .. "/c.db")
  T.eq(check:value("PRAGMA integrity_check"), "ok")
  T.eq(check:value("SELECT count(*) FROM discovered_pain_points"), 0)
  fake.close()
  F.with_fake(default_script(), function()
    local c = discovery.run(check, Schedules:get(check, s.id), { sources = sources { standin = POSTS }, retry = RETRY })
    T.eq(c.kept, 2)
  end)
  check:close()
end)

T.test("run_priority: a failing source is reported with its error and stores nothing; the others run as usual", function()
  local db = F.db()
  local good = schedule(db, "standin")
  local limited = schedule(db, "limited")
  local broken = schedule(db, "broken")
  local missing = schedule(db, "nowhere")
  local off = schedule(db, "standin")
  Schedules:update(db, off.id, { is_active = false })
  local src = sources {
    standin = POSTS,
    limited = function() return nil, { kind = "rate_limited", message = "HTTP 429 from the forum", retry_after = 60 } end,
    broken = function() error("attempt to index a nil value (field 'data')") end,
  }
  local results
  F.with_fake(default_script(), function()
    results = discovery.run_priority(db, "general", { sources = src, retry = RETRY })
  end)
  T.eq(#results, 4, "active schedules only")
  local by = {}
  for _, r in ipairs(results) do by[r.schedule.source_type] = r.counts end
  T.eq({ by.standin.kept, #by.standin.errors }, { 2, 0 })
  T.eq(by.limited.source_error, { kind = "rate_limited", message = "HTTP 429 from the forum", retry_after = 60 })
  T.eq({ by.limited.errors[1].stage, by.limited.fetched, by.limited.kept }, { "source", 0, 0 })
  T.contains(by.broken.source_error.message, "attempt to index a nil value")
  T.contains(by.nowhere.source_error.message, "no discovery source 'nowhere'")
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points WHERE schedule_id != ?", good.id), 0)
  T.ok(Schedules:get(db, limited.id).last_run_at, "a failed run is still a run")
  T.eq(Schedules:get(db, off.id).last_run_at, nil)
  -- --source picks one type
  F.with_fake(default_script(), function()
    results = discovery.run_priority(db, "general", { sources = src, source = "limited", retry = RETRY })
  end)
  T.eq(#results, 1)
  T.raises(function() discovery.run_priority(db, "nope", {}) end, "no messaging priority 'nope'")
  db:close()
end)

T.test("a run that cannot start (no key for the judge) raises before the source is asked", function()
  local db = F.db()
  local s = schedule(db)
  local seen = {}
  local profiles = require "candor.llm.profiles"
  local real = profiles.getenv
  profiles.getenv = function(name) if name == "CANDOR_PROFILE" then return "production" end end
  local ok, err = pcall(discovery.run, db, Schedules:get(db, s.id), { sources = sources({ standin = POSTS }, seen) })
  profiles.getenv = real
  T.eq(ok, false)
  T.contains(err, "GEMINI_API_KEY")
  T.eq(seen.standin, nil)
  db:close()
end)

T.test("auto-generation: approving a pain point of a priority that asks for it starts that pipeline run, once", function()
  local db = F.db()
  local s = schedule(db)
  local pid = s.priority_id
  T.raises(function() discovery.set_auto_generate(db, pid, { pipeline = "standard", assets = { "brochure" } }) end,
    "unknown asset type 'brochure'")
  T.raises(function() discovery.set_auto_generate(db, pid, { assets = { "battlecard" }, voices = { "pirate" } }) end,
    "no voice profile 'pirate'")
  T.raises(function() discovery.set_auto_generate(db, pid, { assets = { "battlecard" }, colour = "red" }) end,
    "unknown key 'colour'")
  discovery.set_auto_generate(db, pid, { pipeline = "standard", assets = { "battlecard" }, voices = { "practitioner-community" } })
  T.eq(json.decode(db:value("SELECT value FROM settings WHERE key = 'auto_generate' AND priority_id = ?", pid)),
       { pipeline = "standard", assets = { "battlecard" }, voices = { "practitioner-community" } })
  local script = F.script(db)
  for _, e in ipairs(default_script()) do table.insert(script, 1, e) end
  F.with_fake(script, function(fake)
    local c = discovery.run(db, Schedules:get(db, s.id), { sources = sources { standin = POSTS }, retry = RETRY })
    T.eq(c.kept, 2)
    T.eq(db:value("SELECT count(*) FROM generation_jobs"), 0, "discovery alone starts nothing")
    local cache = T.tmpdir() .. "/cache.db"
    local r = discovery.approve(db, c.pain_point_ids[1], { cache = cache, retry = RETRY })
    T.eq({ r.changed, r.row.status, r.error }, { true, "approved", nil })
    T.eq({ r.job.status, r.job.pain_point_id, #r.stored }, { "completed", c.pain_point_ids[1], 1 })
    T.eq(F.calls(fake, "^generate"), 1)
    r = discovery.approve(db, c.pain_point_ids[1], { cache = cache, retry = RETRY })
    T.eq({ r.changed, r.job }, { false, nil }, "approving twice starts nothing more")
    -- rejecting keeps the reason; approving again clears it
    local row, changed = discovery.review(db, c.pain_point_ids[2], "rejected", "a vendor post")
    T.eq({ row.status, row.rejection_reason, changed }, { "rejected", "a vendor post", true })
  end)
  T.eq(db:value("SELECT count(*) FROM generation_jobs"), 1)
  -- a run that fails leaves the approval standing and says why, naming its job
  local pain3 = Pains:insert(db, { priority_id = pid, source_type = "manual", source_url = "", source_id = "m1",
    title = "Nightly builds fail", content = "The nightly build fails one night in three.", author = "", author_level = "unknown",
    metadata = {}, pain_score = 0.9, pain_analysis = {}, practitioner_quotes = json.array {}, status = "pending",
    content_hash = "m1", discovered_at = require("core.host").now() }).id
  F.with_fake(F.script(db, { { purpose = "^generate", fault = "500" } }), function()
    local r = discovery.approve(db, pain3, { cache = T.tmpdir() .. "/cache.db", retry = RETRY })
    T.eq({ r.changed, r.row.status, r.job and r.job.status }, { true, "approved", "failed" })
    T.contains(r.error, "HTTP 500")
  end)
  discovery.set_auto_generate(db, pid, nil)
  T.eq(discovery.auto_generate(db, pid), nil)
  db:close()
end)

T.test("check_judgement: score bounds, quotes matched with spacing and case folded, levels normalised", function()
  local p = { title = "Title here", content = "Line one.\n\n  Line   two has CAPS.", author_level = "practitioner" }
  T.eq(select(2, discovery.check_judgement({ pain_score = 1.2 }, p)), "the judge's answer has no pain_score from 0 to 1 (got 1.2)")
  T.eq(select(2, discovery.check_judgement("yes", p)), "the judge's answer is not a JSON object")
  local j = discovery.check_judgement({ pain_score = 0, quotes = { "line two has caps.", "Line one. Line two", "", 7,
    "line two has caps." }, author_level = "wizard", analysis = { urgency = "HIGH", technical_depth = "deep" } }, p)
  T.eq({ j.pain_score, j.quotes, j.invented, j.author_level, j.analysis.urgency, j.analysis.technical_depth },
       { 0, { "line two has caps.", "Line one. Line two" }, 2, "practitioner", "high", "unknown" })
end)
