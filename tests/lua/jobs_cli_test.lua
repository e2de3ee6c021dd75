-- candor jobs and candor assets as a user meets them, on rows written with the repositories.
local T = require "candor.testing"
local dbm = require "candor.db"
local repo = require "candor.repo"
local jobs = require "candor.jobs"
local json = require "candor.json"
local async = require "candor.async"
local host = require "core.host"
local uv = require "luv"

local function run(path, argv, opts)
  opts = opts or {}
  opts.env = { CANDOR_DB = path, HOME = T.tmpdir(), NO_COLOR = "1" }
  opts.unset = { "CANDOR_PATH" }
  return T.candor(argv, opts)
end

-- A finished job with one asset (two variants, a critic score, two traceability
-- rows) and a failed job; returns the path and the ids.
local function setup()
  local path = T.tmpdir() .. "/c.db"
  local db = dbm.open(path)
  local R = repo.bind(db)
  local now = host.now()
  local priority = R.messaging_priorities.list()[1]
  local pain = R.discovered_pain_points.insert { priority_id = priority.id, source_type = "reddit",
    source_url = "https://reddit.com/r/devops/comments/abc", source_id = "abc", title = "CI reruns eat our mornings",
    content = "We rerun CI until it is green.", author = "u1", author_level = "senior", metadata = {},
    pain_score = 0.8, pain_analysis = {}, practitioner_quotes = { "We rerun CI until it is green" },
    content_hash = "h1", discovered_at = now }
  local doc = R.product_documents.insert { name = "Flaky Test Detector overview", description = "d", content = "c",
    document_type = "overview", tags = {}, uploaded_at = now }
  local row = jobs.create(db, { pain_point_id = pain.id, priority_id = priority.id,
    product_context = { pipeline = "standard", assetTypes = { "battlecard" } } })
  local job = assert(jobs.track(db, row))
  job:progress(10, "research")
  local s = job:begin("research insights")
  s:add_tokens(1200, 300, "gemini:gemini-2.5-flash")
  s:finish()
  s = job:begin("generate battlecard x practitioner-community", { asset = "battlecard" })
  s:add_tokens(900, 400, "gemini:gemini-2.5-pro")
  s:iteration { n = 1, scores = { slop = 4.5, specificity = 5 }, pass = false, failing = { "slop" } }
  s:iteration { n = 2, scores = { slop = 1.5, specificity = 7 }, pass = true }
  s:finish()
  local research = R.competitive_research.insert { job_id = row.id, pain_point_id = pain.id, raw_report = "Long report",
    structured_analysis = { summary = "Rivals sell retries, not fixes." }, grounding_sources = { "https://example.com/a" },
    gemini_interaction_id = "gi-1", status = "completed" }
  local asset = R.messaging_assets.insert { priority_id = priority.id, job_id = row.id, pain_point_id = pain.id,
    asset_type = "battlecard", title = "Stop rerunning CI", content = "Your CI is not flaky. Your tests are.\n",
    metadata = { voiceSlug = "practitioner-community", generationId = "g-1", notes = { "kept" } },
    slop_score = 2.1, vendor_speak_score = 0.5, specificity_score = 7.25, persona_avg_score = 8,
    evidence_level = "strong" }
  local community = R.voice_profiles.by_slug("practitioner-community")
  local sales = R.voice_profiles.by_slug("sales-enablement")
  R.asset_variants.insert { asset_id = asset.id, voice_profile_id = community.id, variant_number = 1,
    content = "Your CI is not flaky. Your tests are.", slop_score = 2.1, vendor_speak_score = 0.5,
    authenticity_score = 8, specificity_score = 7.25, persona_avg_score = 8, passes_gates = true, is_selected = true }
  R.asset_variants.insert { asset_id = asset.id, voice_profile_id = sales.id, variant_number = 2,
    content = "Cut CI reruns by half.", slop_score = 3, vendor_speak_score = 2.5, authenticity_score = 6,
    specificity_score = 6, persona_avg_score = 6.5, passes_gates = false, is_selected = false }
  local critic = R.persona_critics.by_name("Skeptical Staff Engineer")
  R.persona_scores.insert { asset_id = asset.id, persona_id = critic.id, score = 7.5, feedback = "Concrete enough.",
    strengths = { "numbers" }, weaknesses = {} }
  R.asset_traceability.insert { asset_id = asset.id, pain_point_id = pain.id, research_id = research.id,
    practitioner_quotes = { "We rerun CI until it is green", { text = "Retries hide the bug", author = "u2" } },
    generation_prompt = { system = "s", user = "u", timestamp = now } }
  R.asset_traceability.insert { asset_id = asset.id, product_doc_id = doc.id, practitioner_quotes = json.array {} }
  job:complete { assets = 1 }

  local bad = assert(jobs.track(db, jobs.create(db, { product_context = { pipeline = "quick" } })))
  bad:begin("generate talk_track")
  bad:fail("openai:fake: the provider blocked the answer", "stack traceback: quick.lua:12")
  db:close()
  return path, { job = row.id, failed = bad.id, asset = asset.id, pain = pain.id }
end

T.test("jobs list and show: status, pipeline, steps with models, tokens and iteration scores", function()
  local path, id = setup()
  local r = run(path, { "jobs" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, id.job)
  T.contains(r.out, "completed")
  T.contains(r.out, "standard")
  T.contains(r.out, "failed: openai:fake: the provider blocked the answer")
  local list = json.decode(run(path, { "jobs", "list", "--json" }).out)
  T.eq(#list, 2)
  T.eq(list[1].id, id.failed, "newest first")
  T.eq(list[2].pipeline, "standard")
  T.ok(list[2].duration_ms >= 0, "duration")
  list = json.decode(run(path, { "jobs", "list", "--status", "failed", "--json" }).out)
  T.eq(#list, 1)
  T.eq(#json.decode(run(path, { "jobs", "--limit", "1", "--json" }).out), 1)

  r = run(path, { "jobs", "show", id.job })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "completed (100%)")
  T.contains(r.out, "CI reruns eat our mornings")
  T.contains(r.out, "research insights")
  T.contains(r.out, "gemini:gemini-2.5-flash")
  T.contains(r.out, "1200 in / 300 out tokens")
  T.contains(r.out, "iteration 1: slop 4.5, specificity 5  FAIL  (failing: slop)")
  T.contains(r.out, "iteration 2: slop 1.5, specificity 7  pass")
  T.contains(r.out, "1 asset(s)")
  local shown = json.decode(run(path, { "jobs", "show", id.job, "--json" }).out)
  T.eq(shown.status, "completed")
  T.eq(#shown.pipeline_steps, 2)
  T.eq(shown.pipeline_steps[2].iterations[2].pass, true)
  T.eq(shown.product_context.result, { assets = 1 })

  r = run(path, { "jobs", "show", id.failed })
  T.contains(r.out, "error: openai:fake: the provider blocked the answer")
  T.contains(r.out, "generate talk_track")
  T.ok(not r.out:find("quick.lua:12", 1, true), "the stack only with --verbose")
  T.contains(run(path, { "jobs", "show", id.failed, "--verbose" }).out, "quick.lua:12")
end)

T.test("jobs: unknown ids exit 1, wrong flags and subcommands exit 2", function()
  local path = setup()
  for _, sub in ipairs({ "show", "watch" }) do
    local r = run(path, { "jobs", sub, "nope" })
    T.eq(r.code, 1, sub)
    T.contains(r.err, "no job 'nope'")
  end
  -- an action job's id is answered with where to look instead
  local db = dbm.open(path)
  local W = require("candor.workspace").for_user(db)
  local s = W:create { pain = { title = "P", content = "flaky tests" }, asset_types = { "battlecard" }, pipeline = "standard" }
  local action = require("candor.repo.action_jobs"):insert(db, { session_id = s.id, asset_type = "battlecard",
    action_name = "deslop", status = "completed", progress = 100 })
  db:close()
  local r = run(path, { "jobs", "show", action.id })
  T.eq(r.code, 1)
  T.contains(r.err, "that is an action job: candor session actions " .. s.id)
  for _, argv in ipairs({ { "jobs", "--bogus" }, { "jobs", "frob" }, { "jobs", "show" }, { "jobs", "list", "x" },
    { "jobs", "--status", "sleeping" }, { "jobs", "--limit", "0" }, { "jobs", "show", "x", "--interval", "5" },
    { "jobs", "watch", "x", "--interval", "soon" }, { "jobs", "list", "--json", "--interval", "9" } }) do
    local r = run(path, argv)
    T.eq(r.code, 2, table.concat(argv, " ") .. ": " .. r.err)
  end
end)

T.test("jobs watch: a line per change while it runs; exit 0 when completed, 1 with the error when failed", function()
  local path, id = setup()
  local r = run(path, { "jobs", "watch", id.job })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "[100%] done")
  T.contains(r.out, "completed in")
  r = run(path, { "jobs", "watch", id.failed })
  T.eq(r.code, 1)
  T.contains(r.err, "failed: openai:fake: the provider blocked the answer")

  -- live: this process runs the job while the watcher polls it
  local db = dbm.open(path)
  local job = assert(jobs.track(db, jobs.create(db, { product_context = { pipeline = "standard" } })))
  r = async.run(function()
    local runner = async.spawn(function()
      async.sleep(600)   -- time for the watcher to start (slower under ASan)
      job:progress(45, "generate battlecard × practitioner-community")
      async.sleep(250)
      job:progress(80, "judge")
      async.sleep(250)
      job:complete()
    end)
    local out = T.candor_async({ "jobs", "watch", job.id, "--interval", "20" },
      { env = { CANDOR_DB = path, HOME = T.tmpdir() }, unset = { "CANDOR_PATH" } })
    runner:await()
    return out
  end)
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "[  0%] running\n")
  T.contains(r.out, "[ 45%] generate battlecard × practitioner-community\n")
  T.contains(r.out, "[ 80%] judge\n")
  T.contains(r.out, "[100%] done\n")
  local _, lines = r.out:gsub("\n", "")
  T.eq(lines, 5, "one line per change, then the summary:\n" .. r.out)
  db:close()
end)

T.test("assets list and show: scores, variants with voices, critics, traceability", function()
  local path, id = setup()
  local r = run(path, { "assets", "list" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, id.asset)
  T.contains(r.out, "battlecard")
  T.contains(r.out, "Stop rerunning CI")
  T.contains(r.out, "strong")
  local list = json.decode(run(path, { "assets", "list", "--job", id.job, "--json" }).out)
  T.eq(#list, 1)
  T.eq(list[1].slop_score, 2.1)
  T.eq(#json.decode(run(path, { "assets", "list", "--type", "talk_track", "--json" }).out), 0)
  T.eq(run(path, { "assets", "list", "--type", "talk_track", "--json" }).out, "[]\n")
  T.contains(run(path, { "assets", "list", "--job", id.failed }).out, "no assets for job")

  r = run(path, { "assets", "show", id.asset })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "Your CI is not flaky. Your tests are.")
  T.contains(r.out, "slop 2.1, vendor-speak 0.5, specificity 7.2")
  T.contains(r.out, "voiceSlug: practitioner-community")
  T.contains(r.out, 'notes: ["kept"]')
  T.contains(r.out, "#1 practitioner-community")
  T.contains(r.out, "[passes gates, selected]")
  T.contains(r.out, "#2 sales-enablement")
  T.contains(r.out, "[fails gates]")
  T.contains(r.out, "Skeptical Staff Engineer")
  T.contains(r.out, "https://reddit.com/r/devops/comments/abc")
  T.contains(r.out, "Flaky Test Detector overview")
  T.contains(r.out, "\"Retries hide the bug\" - u2")

  local b = json.decode(run(path, { "assets", "show", id.asset, "--json" }).out)
  T.eq(b.asset.metadata.generationId, "g-1")
  T.eq({ b.variants[1].voice_slug, b.variants[1].passes_gates, b.variants[1].is_selected },
    { "practitioner-community", true, true })
  T.eq(b.persona_scores[1].critic, "Skeptical Staff Engineer")
  T.eq(b.traceability[1].pain_point.title, "CI reruns eat our mornings")
  T.eq(b.traceability[2].product_document.name, "Flaky Test Detector overview")
  local r2 = run(path, { "assets", "show", id.asset, "--json" })
  T.contains(r2.out, '"weaknesses":[]')
  T.contains(r2.out, '"practitioner_quotes":[]')
end)

T.test("assets export: Markdown and JSON, for one asset or a job, to stdout or a file", function()
  local path, id = setup()
  local r = run(path, { "assets", "export", id.asset, "--format", "md" })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "# Stop rerunning CI\n")
  T.contains(r.out, "Your CI is not flaky. Your tests are.")
  T.contains(r.out, "| slop (lower is better) | 2.1 |")
  T.contains(r.out, "| critic: Skeptical Staff Engineer | 7.5 |")
  T.contains(r.out, "## Variant 1: practitioner-community (passes gates, selected)")
  T.contains(r.out, "## Variant 2: sales-enablement (fails gates)")
  T.contains(r.out, "- [CI reruns eat our mornings](https://reddit.com/r/devops/comments/abc)")
  T.contains(r.out, "> We rerun CI until it is green\n")
  T.contains(r.out, "> Retries hide the bug (u2)")
  T.contains(r.out, "- Flaky Test Detector overview")
  T.contains(r.out, "Rivals sell retries, not fixes.")
  local _, quotes = r.out:gsub("We rerun CI until it is green", "")
  T.eq(quotes, 1, "a quote met twice is listed once")
  T.eq(run(path, { "assets", "export", id.asset }).out, r.out, "md is the default")

  r = run(path, { "assets", "export", "--job", id.job, "--format", "md" })
  T.contains(r.out, "# Assets of job " .. id.job)
  T.contains(r.out, "## Stop rerunning CI\n")
  T.contains(r.out, "### Scores")

  local doc = json.decode(run(path, { "assets", "export", "--job", id.job, "--format", "json" }).out)
  T.eq(doc.job_id, id.job)
  T.eq(#doc.assets, 1)
  T.eq(doc.assets[1].asset.title, "Stop rerunning CI")
  T.eq(#doc.assets[1].variants, 2)
  T.eq(doc.assets[1].traceability[1].practitioner_quotes[2].author, "u2")
  T.eq(doc.assets[1].traceability[1].research.structured_analysis.summary, "Rivals sell retries, not fixes.")
  local one = json.decode(run(path, { "assets", "export", id.asset, "--format", "json" }).out)
  T.eq(one.assets[1].asset.id, id.asset)
  T.eq(run(path, { "assets", "export", "--job", id.failed, "--format", "json" }).out:match('"assets":%[%]') ~= nil, true,
    "a job without assets exports an empty list")

  local file = T.tmpdir() .. "/out.md"
  r = run(path, { "assets", "export", id.asset, "--output", file })
  T.eq(r.code, 0, r.err)
  T.eq(r.out, "")
  T.contains(r.err, "wrote 1 asset(s) to " .. file)
  T.contains(T.read_file(file), "# Stop rerunning CI")
end)

T.test("assets: unknown ids exit 1, wrong flags and arguments exit 2", function()
  local path = setup()
  for _, argv in ipairs({ { "assets", "show", "nope" }, { "assets", "export", "nope" },
    { "assets", "export", "--job", "nope" } }) do
    local r = run(path, argv)
    T.eq(r.code, 1, table.concat(argv, " "))
    T.contains(r.err, "no ")
    T.contains(r.err, "'nope'")
  end
  for _, argv in ipairs({ { "assets" }, { "assets", "frob" }, { "assets", "list", "--bogus" }, { "assets", "show" },
    { "assets", "list", "--format", "md" }, { "assets", "export" }, { "assets", "export", "a", "--job", "b" },
    { "assets", "export", "a", "--format", "pdf" }, { "assets", "show", "a", "--output", "f" },
    { "assets", "list", "--limit", "-1" }, { "assets", "list", "extra" } }) do
    local r = run(path, argv)
    T.eq(r.code, 2, table.concat(argv, " ") .. ": " .. r.err)
  end
end)

T.test("any command run against a database with a stale running job marks it failed", function()
  local path = setup()
  local db = dbm.open(path)
  local pid = async.run(function()
    return async.suspend(function(wake)
      local handle, p
      handle, p = uv.spawn("/bin/sh", { args = { "-c", "exit 0" } }, function() handle:close() wake(p) end)
    end)
  end)
  local stale = jobs.create(db, { product_context = { pipeline = "standard" } })
  require("candor.repo.generation_jobs"):update(db, stale.id, { status = "running", started_at = host.now(),
    product_context = { pipeline = "standard", runner = { pid = pid, host = uv.os_gethostname(), started_at = host.now() } } })
  local live = assert(jobs.track(db, jobs.create(db, {})))   -- this process: alive
  db:close()
  local r = run(path, { "assets", "list" })
  T.eq(r.code, 0, r.err)
  T.contains(r.err, "candor: left unfinished by a process that stopped: 1 generation job marked failed\n")
  local shown = json.decode(run(path, { "jobs", "show", stale.id, "--json" }).out)
  T.eq(shown.status, "failed")
  T.contains(shown.error_message, string.format("(pid %d) stopped before it finished", pid))
  T.eq(json.decode(run(path, { "jobs", "show", live.id, "--json" }).out).status, "running")
  r = run(path, { "jobs" })
  T.eq(r.err, "", "marked once, then nothing to say")
end)
