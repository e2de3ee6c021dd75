-- candor pain and candor priority as a user meets them: listing, showing,
-- approving and rejecting pain points, running discovery (against a stand-in
-- source on CANDOR_PATH and the fake judge), managing priorities, and the exit
-- codes for wrong flags (2) and unknown ids (1).
local T = require "candor.testing"
local json = require "candor.json"
local dbm = require "candor.db"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local env = T.fake_cli_env

local function seeded(dir)
  local db = dbm.open(dir .. "/c.db")
  require("candor.seed").run(db)
  return db
end

local function general(db) return db:value("SELECT id FROM messaging_priorities WHERE slug = 'general'") end

local function add_pain(db, fields)
  local row = {
    priority_id = general(db), source_type = "reddit", source_url = "https://reddit.com/r/devops/1", source_id = "t3_1",
    title = "Our deploys take 45 minutes", content = "Every deploy waits on a 45 minute integration suite.\nWe skip it on Fridays.",
    author = "pat", author_level = "expert", metadata = { votes = 3 }, pain_score = 0.82,
    pain_analysis = { pain_points = { "slow deploys" }, urgency = "high", technical_depth = "medium", relevance = "high",
                      summary = "Deploys wait on a slow suite." },
    practitioner_quotes = json.array { "We skip it on Fridays." }, status = "pending", content_hash = "h" .. math.random(1e9),
    discovered_at = require("core.host").now(),
  }
  for k, v in pairs(fields or {}) do row[k] = v end
  return require("candor.repo.discovered_pain_points"):insert(db, row)
end

local function run(dir, argv, fake, extra)
  return T.candor_async(argv, env(dir, fake, extra))
end

T.test("priority add, list and edit; wrong flags exit 2, an unknown slug or a taken one exits 1", function()
  local dir = T.tmpdir()
  seeded(dir):close()
  local r = run(dir, { "priority", "add", "--name", "Flaky CI (tests)", "--description", "Tests that fail at random",
    "--keywords", "flaky test, re-run ,,flaky test,quarantine" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "added priority flaky-ci-tests")
  T.contains(r.out, "3 keywords")
  r = run(dir, { "priority", "list" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "flaky-ci-tests")
  T.contains(r.out, "general")
  r = run(dir, { "priority", "list", "--json" })
  local list = json.decode(r.out)
  local p
  for _, x in ipairs(list) do if x.slug == "flaky-ci-tests" then p = x end end
  T.eq({ p.keywords, p.is_active, p.product_context, p.active_schedules, p.pain_points.pending },
       { { "flaky test", "re-run", "quarantine" }, true, "", 0, 0 })

  r = run(dir, { "priority", "edit", "flaky-ci-tests", "--active", "false", "--keywords", "flake",
    "--auto-generate", '{"pipeline":"standard","assets":["battlecard"],"voices":["practitioner-community"]}' })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "(inactive)")
  T.contains(r.out, "auto-generate: standard: battlecard × practitioner-community")
  r = run(dir, { "priority", "list" })
  T.contains(r.out, "standard: battlecard × practitioner-community")
  r = run(dir, { "priority", "edit", "flaky-ci-tests", "--auto-generate", "none", "--name", "Flaky CI" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "auto-generate: -")
  local db = dbm.open(dir .. "/c.db")
  local row = db:first("SELECT * FROM messaging_priorities WHERE slug = 'flaky-ci-tests'")
  T.eq({ row.name, row.is_active, json.decode(row.keywords) }, { "Flaky CI", 0, { "flake" } })
  T.eq(db:value("SELECT count(*) FROM settings WHERE key = 'auto_generate'"), 0)
  db:close()

  local usage = {
    { { "priority", "add", "--description", "d", "--keywords", "k" }, "give %-%-name" },
    { { "priority", "add", "--name", "N", "--description", "d", "--keywords", " , " }, "at least one keyword" },
    { { "priority", "add", "--name", "N", "--description", "d", "--keywords", "k", "--auto-generate", "{oops" }, "must be a JSON object" },
    { { "priority", "add", "--name", "N", "--description", "d", "--keywords", "k", "--auto-generate", '{"assets":["brochure"]}' },
      "unknown asset type 'brochure'" },
    { { "priority", "add", "--name", "N", "--slug", "a b", "--description", "d", "--keywords", "k" }, "may hold only" },
    { { "priority", "add", "--name", "N", "--description", "d", "--keywords", "k", "--active", "true" }, "not for this subcommand" },
    { { "priority", "edit", "general" }, "nothing to change" },
    { { "priority", "edit", "general", "--active", "maybe" }, "must be true or false" },
    { { "priority", "edit" }, "missing the priority's SLUG" },
    { { "priority", "remove" }, "unknown subcommand 'remove'" },
    { { "priority", "list", "--bogus" }, "unknown option %-%-bogus" },
  }
  for _, c in ipairs(usage) do
    r = run(dir, c[1])
    T.eq(r.code, 2, table.concat(c[1], " ") .. "\n" .. r.err)
    T.ok(r.err:find(c[2]), r.err)
  end
  r = run(dir, { "priority", "add", "--name", "General", "--description", "d", "--keywords", "k" })
  T.eq(r.code, 1, r.err)
  T.contains(r.err, "a priority 'general' exists already")
  r = run(dir, { "priority", "edit", "nope", "--name", "x" })
  T.eq(r.code, 1, r.err)
  T.contains(r.err, "no messaging priority 'nope'")
end)

T.test("pain list, show, approve and reject; wrong flags exit 2, unknown ids exit 1", function()
  local dir = T.tmpdir()
  local db = seeded(dir)
  local a = add_pain(db)
  local b = add_pain(db, { title = "Terraform state locks", source_id = "t3_2", pain_score = 0.65, status = "approved" })
  db:close()
  local r = run(dir, { "pain" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, a.id)
  T.contains(r.out, "Terraform state locks")
  r = run(dir, { "pain", "list", "--status", "pending", "--priority", "general", "--limit", "5", "--json" })
  T.eq(r.code, 0, r.err)
  local list = json.decode(r.out)
  T.eq({ #list, list[1].id, list[1].priority, list[1].pain_score }, { 1, a.id, "general", 0.82 })
  r = run(dir, { "pain", "list", "--status", "rejected" })
  T.contains(r.out, "no rejected pain points")

  r = run(dir, { "pain", "show", a.id })
  T.eq(r.code, 0, r.err)
  for _, want in ipairs { "Our deploys take 45 minutes", "https://reddit.com/r/devops/1", "pat (expert)", "0.82", "pending",
                          "urgency high", "- slow deploys", "\"We skip it on Fridays.\"", "General (general)",
                          "Every deploy waits" } do
    T.contains(r.out, want)
  end
  r = run(dir, { "pain", "show", a.id, "--json" })
  local shown = json.decode(r.out)
  T.eq({ shown.id, shown.practitioner_quotes, shown.pain_analysis.pain_points }, { a.id, { "We skip it on Fridays." }, { "slow deploys" } })

  r = run(dir, { "pain", "approve", a.id })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "approved " .. a.id)
  r = run(dir, { "pain", "approve", a.id })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "was already approved")
  r = run(dir, { "pain", "reject", b.id, "--reason", "a vendor post" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "rejected " .. b.id)
  r = run(dir, { "pain", "reject", b.id })
  T.contains(r.out, "was already rejected")
  db = dbm.open(dir .. "/c.db")
  T.eq(db:value("SELECT status || ':' || rejection_reason FROM discovered_pain_points WHERE id = ?", b.id), "rejected:a vendor post")
  T.eq(db:value("SELECT status FROM discovered_pain_points WHERE id = ?", a.id), "approved")
  T.eq(db:value("SELECT count(*) FROM generation_jobs"), 0, "no auto-generation without the setting")
  db:close()

  local usage = {
    { { "pain", "list", "--status", "maybe" }, "must be pending, approved or rejected" },
    { { "pain", "list", "--limit", "0" }, "whole number" },
    { { "pain", "list", "--reason", "x" }, "not for this subcommand" },
    { { "pain", "approve" }, "missing the pain point ID" },
    { { "pain", "approve", a.id, "--reason", " " }, "must not be empty" },
    { { "pain", "approve", a.id, "--json" }, "not for this subcommand" },
    { { "pain", "reject", a.id, "--reason", " " }, "must not be empty" },
    { { "pain", "show", a.id, "--status", "pending" }, "not for this subcommand" },
    { { "pain", "discover", "extra" }, "unexpected argument" },
    { { "pain", "forget", a.id }, "unknown subcommand 'forget'" },
    { { "pain", "--bogus" }, "unknown option %-%-bogus" },
  }
  for _, c in ipairs(usage) do
    r = run(dir, c[1])
    T.eq(r.code, 2, table.concat(c[1], " ") .. "\n" .. r.err)
    T.ok(r.err:find(c[2]), r.err)
  end
  for _, argv in ipairs { { "pain", "show", "nope" }, { "pain", "approve", "nope" }, { "pain", "reject", "nope" } } do
    r = run(dir, argv)
    T.eq(r.code, 1, table.concat(argv, " ") .. "\n" .. r.err)
    T.contains(r.err, "no pain point 'nope'")
  end
  r = run(dir, { "pain", "list", "--priority", "nope" })
  T.eq(r.code, 1, r.err)
  T.contains(r.err, "no messaging priority 'nope'")
end)

-- A stand-in for candor.discovery.sources on CANDOR_PATH: "standin" returns
-- two posts, "down" fails as a rate-limited source would.
local STANDIN = [[
local posts = {
  { source_type = "standin", source_id = "p1", url = "https://forum.example/p1", title = "Deploys alpha",
    content = "Every deploy takes 45 minutes and we babysit it.", author = "kim" },
  { source_type = "standin", source_id = "p2", url = "https://forum.example/p2", title = "Deploys bravo",
    content = "Deploys are fine mostly.", author = "lee" },
}
return { get = function(name)
  if name == "standin" then return { fetch = function() return posts end } end
  if name == "down" then return { fetch = function() return nil, { kind = "rate_limited", message = "HTTP 429", retry_after = 30 } end } end
  error("no discovery source '" .. name .. "'", 0)
end }
]]

local function judge_script()
  return {
    { purpose = "^discovery:judge", match = "Title: Deploys alpha\n", json = { pain_score = 0.9, analysis = {},
      author_level = "practitioner", quotes = { "we babysit it" } } },
    { purpose = "^discovery:judge", json = { pain_score = 0.2, analysis = {}, author_level = "unknown", quotes = {} } },
  }
end

T.test("pain discover: counts per source; a failing source exits 1 and stores nothing; no schedules exits 1", function()
  local dir = T.tmpdir()
  local db = seeded(dir)
  local user = dir .. "/user"
  require("candor.paths").mkdir_p(user .. "/lua/candor/discovery")
  T.write_file(user .. "/lua/candor/discovery/sources.lua", STANDIN)
  local S = require "candor.repo.discovery_schedules"
  local good = S:insert(db, { priority_id = general(db), source_type = "standin", config = {}, is_active = true })
  db:close()
  local fake = Fake.start(judge_script())
  local extra = { CANDOR_PATH = user }
  local r = run(dir, { "pain", "discover", "--priority", "general" }, fake, extra)
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "general · standin (schedule " .. good.id .. "): fetched 2, duplicates 0, judged 2, kept 1, below threshold 1, failed 0")
  r = run(dir, { "pain", "list", "--status", "pending" }, fake, extra)
  T.contains(r.out, "Deploys alpha")
  r = run(dir, { "pain", "discover", "--json" }, fake, extra)
  T.eq(r.code, 0, r.err)
  local out = json.decode(r.out)
  T.eq({ #out, out[1].duplicates, out[1].judged }, { 1, 1, 1 })

  db = dbm.open(dir .. "/c.db")
  S:insert(db, { priority_id = general(db), source_type = "down", config = {}, is_active = true })
  db:close()
  r = run(dir, { "pain", "discover" }, fake, extra)
  T.eq(r.code, 1, r.err)
  T.contains(r.out, "general · down")
  T.contains(r.out, "source failed")
  T.contains(r.out, "source error: HTTP 429")
  T.contains(r.err, "some sources or judgements failed")
  r = run(dir, { "pain", "discover", "--source", "nothing-here" }, fake, extra)
  T.eq(r.code, 1, r.err)
  T.contains(r.err, "no active discovery 'nothing-here' schedules")
  r = run(dir, { "pain", "discover", "--priority", "nope" }, fake, extra)
  T.eq(r.code, 1, r.err)
  db = dbm.open(dir .. "/c.db")
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points"), 1)
  db:close()
  fake.close()
end)

T.test("pain approve on a priority with auto-generation starts the pipeline run and prints its job", function()
  local dir = T.tmpdir()
  local db = seeded(dir)
  local a = add_pain(db)
  local script = F.script(db)
  db:close()
  local fake = Fake.start(script)
  local r = run(dir, { "priority", "edit", "general", "--auto-generate",
    '{"pipeline":"standard","assets":["battlecard"],"voices":["practitioner-community"]}' }, fake)
  T.eq(r.code, 0, r.err)
  r = run(dir, { "pain", "approve", a.id }, fake)
  T.eq(r.code, 0, r.err)
  local job = r.out:match("auto%-generation: job (%S+) completed, 1 asset")
  T.ok(job, r.out)
  db = dbm.open(dir .. "/c.db")
  T.eq(db:value("SELECT pain_point_id FROM generation_jobs WHERE id = ?", job), a.id)
  T.eq(db:value("SELECT count(*) FROM messaging_assets WHERE job_id = ?", job), 1)
  db:close()
  r = run(dir, { "pain", "approve", a.id }, fake)
  T.contains(r.out, "already approved")
  r = run(dir, { "pain", "show", a.id }, fake)
  T.contains(r.out, "1 generation job(s)")
  fake.close()
end)

T.test("pain approve --reason keeps the reason with the pain point; an invalid UTF-8 reason is refused", function()
  local dir = T.tmpdir()
  local db = require("candor.db").open(dir .. "/c.db")
  require("candor.seed").run(db)
  local row = require("candor.repo.discovered_pain_points"):insert(db, { priority_id = db:value("SELECT id FROM messaging_priorities"),
    source_type = "hn", source_url = "https://news.ycombinator.com/item?id=9", source_id = "hn:9", title = "Flaky CI",
    content = "We re-run builds", author = "pat", author_level = "unknown", metadata = {}, pain_score = 0.8,
    pain_analysis = {}, practitioner_quotes = require("candor.json").array {}, content_hash = "h9",
    discovered_at = require("core.host").now() })
  db:close()
  local r = T.candor({ "pain", "approve", row.id, "--reason", "matches the Q3 theme" }, T.fake_cli_env(dir))
  T.eq(r.code, 0, r.err)
  db = require("candor.db").open(dir .. "/c.db")
  local stored = require("candor.repo.discovered_pain_points"):get(db, row.id)
  T.eq({ stored.status, stored.metadata.approval_reason }, { "approved", "matches the Q3 theme" })
  db:close()
  r = T.candor({ "pain", "reject", row.id, "--reason", "bad \255 byte" }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "not valid UTF-8")
end)
