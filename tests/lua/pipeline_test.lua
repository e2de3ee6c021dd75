-- Every pipeline end to end against the fake provider: research once per job,
-- gates, refinement (pass, plateau, maximum), faults, outside-in refusal,
-- straight-through, traceability, and a prompt edit between two runs.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local json = require "candor.json"

local function steps_named(job, pattern)
  local out = {}
  for _, s in ipairs(job.pipeline_steps or {}) do if s.name:find(pattern) then out[#out + 1] = s end end
  return out
end

T.test("standard: research once per job, every asset in every voice, stored with variants and traceability", function()
  local db = F.db()
  F.with_fake(F.script(db), function(fake)
    local job, stored = F.generate(db, { assets = { "battlecard", "email_copy" },
      voices = { "practitioner-community", "sales-enablement" }, documents = { T.root .. "/examples/drafts/05-one-pager-specific.md" } })
    T.eq({ job.status, job.progress, #stored }, { "completed", 100, 2 })
    -- research counted once per job: insights, evidence, competitive, banned words per voice
    T.eq({ F.calls(fake, "^research:insights"), F.calls(fake, "^research:community"), F.calls(fake, "^research:competitive"),
           F.calls(fake, "^research:banned") }, { 1, 1, 1, 2 })
    T.eq({ F.calls(fake, "^generate"), F.calls(fake, "^judge"), F.calls(fake, "^refine") }, { 4, 4, 0 }, "gates pass first time")
    T.eq(fake.count(), 13)
    for _, c in ipairs(fake.calls) do
      if c.purpose:find("^research:competitive") then
        T.contains(c.body.messages[#c.body.messages].content, "Tideline", "competitive research sees the product documents")
      end
    end
  end)
  local assets = db:query("SELECT * FROM messaging_assets ORDER BY asset_type")
  T.eq(#assets, 2)
  for _, a in ipairs(assets) do
    T.eq({ a.evidence_level, a.status }, { "strong", "review" })
    T.eq(db:value("SELECT count(*) FROM asset_variants WHERE asset_id = ?", a.id), 2)
    T.eq(db:value("SELECT count(*) FROM asset_variants WHERE asset_id = ? AND is_selected = 1", a.id), 1)
    T.eq(db:value("SELECT count(*) FROM persona_scores WHERE asset_id = ?", a.id), 5)
    local tr = db:first("SELECT * FROM asset_traceability WHERE asset_id = ?", a.id)
    T.ok(tr.pain_point_id and tr.research_id and tr.product_doc_id, "pain, research and document traced")
    local quotes = json.decode(tr.practitioner_quotes)
    T.eq(#quotes, 3)
    T.eq(quotes[1].url, "https://news.ycombinator.com/item?id=1")
    local gp = json.decode(tr.generation_prompt)
    T.contains(gp.user, "Flaky tests waste CI time")
    local meta = json.decode(a.metadata)
    T.eq({ meta.source.slop, meta.source.authenticity, meta.source.persona_avg }, { "deterministic", "judge", "judge" })
  end
  T.eq(db:value("SELECT count(*) FROM competitive_research"), 1)
  T.eq(db:value("SELECT description FROM messaging_gaps"), "no support for Jenkins")
  T.eq(db:value("SELECT count(*) FROM llm_calls WHERE job_id IS NOT NULL"), 13, "every call logged with the job id")
  db:close()
end)

T.test("gates fail, a refinement aimed at the flagged spans passes; every iteration in the step log", function()
  local db = F.db()
  local script = F.script(db, { { purpose = "^generate", text = F.bad } })
  F.with_fake(script, function(fake)
    local job, stored = F.generate(db, {})
    T.eq(job.status, "completed")
    T.eq(F.calls(fake, "^refine"), 1)
    local refine_call
    for _, c in ipairs(fake.calls) do if c.purpose:find("^refine") then refine_call = c end end
    local prompt = refine_call.body.messages[#refine_call.body.messages].content
    T.contains(prompt, "industry-leading", "the exact flagged span is in the rewrite prompt")
    T.contains(prompt, "vendor-speak", "the failing dimension is named")
    local st = steps_named(job, "^refine")[1]
    T.eq(#st.iterations, 2)
    T.eq({ st.iterations[1].pass, st.iterations[2].pass, st.stopped }, { false, true, "pass" })
    T.eq(stored[1].variants[1].scores.pass, true)
  end)
  db:close()
end)

T.test("plateau: a rewrite that improves nothing stops the loop; the draft is stored as failing", function()
  local db = F.db()
  local script = F.script(db, { { purpose = "^generate", text = F.bad }, { purpose = "^refine", text = F.bad } })
  F.with_fake(script, function(fake)
    local job = F.generate(db, { max_iterations = 3 })
    T.eq(F.calls(fake, "^refine"), 1)
    T.eq(F.calls(fake, "^judge"), 1, "unchanged text is never rescored")
    T.eq(steps_named(job, "^refine")[1].stopped, "plateau")
  end)
  T.eq(db:value("SELECT status FROM messaging_assets"), "draft")
  T.eq(db:value("SELECT passes_gates FROM asset_variants"), 0)
  db:close()
end)

T.test("maximum iterations: each rewrite improves but never passes; the loop stops at the limit", function()
  local db = F.db()
  local vendor = { "industry-leading", "best-in-class", "seamless", "cutting-edge", "revolutionary" }
  local extra = { { purpose = "^generate", text = F.good .. "\n" .. table.concat(vendor, ", ") .. ".\n" } }
  for i = 1, 3 do   -- each rewrite drops one vendor phrase
    extra[#extra + 1] = { purpose = "^refine", times = 1,
      text = F.good .. "\n" .. table.concat(vendor, ", ", i + 1) .. ".\n" }
  end
  F.with_fake(F.script(db, extra), function(fake)
    local job = F.generate(db, { max_iterations = 2 })
    T.eq(F.calls(fake, "^refine"), 2)
    local st = steps_named(job, "^refine")[1]
    T.eq({ #st.iterations, st.stopped }, { 3, "max-iterations" })
    T.ok(st.iterations[3].scores.vendor_speak < st.iterations[1].scores.vendor_speak, "it did improve")
  end)
  db:close()
end)

T.test("a provider fault mid-run is retried; a lasting one fails the job cleanly with its error", function()
  local db = F.db()
  F.with_fake(F.script(db, { { purpose = "^generate", fault = "503", times = 1 } }), function()
    local job = F.generate(db, {})
    T.eq(job.status, "completed")
  end)
  F.with_fake(F.script(db, { { purpose = "^judge", fault = "500" } }), function()
    local msg = T.raises(function() F.generate(db, { assets = { "battlecard", "narrative" } }) end, "failed")
    T.contains(msg, "HTTP 500")
  end)
  local failed = db:first("SELECT * FROM generation_jobs WHERE status = 'failed'")
  T.contains(failed.error_message, "HTTP 500")
  -- every stored asset is whole: one variant per voice and its traceability
  for _, a in ipairs(db:query("SELECT id FROM messaging_assets")) do
    T.eq(db:value("SELECT count(*) FROM asset_variants WHERE asset_id = ?", a.id), 1)
    T.eq(db:value("SELECT count(*) FROM asset_traceability WHERE asset_id = ?", a.id), 1)
  end
  db:close()
end)

T.test("a judge answer missing a critic fails loudly, never a made-up score", function()
  local db = F.db()
  local j = F.judge_json(db, 8)
  table.remove(j.personas)
  F.with_fake(F.script(db, { { purpose = "^judge", json = j } }), function()
    T.raises(function() F.generate(db, {}) end, "has no score from critic")
  end)
  db:close()
end)

T.test("outside-in: refuses without community evidence, unless forced; drafts, then the product layered in", function()
  local db = F.db()
  local script = F.script(db, { { purpose = "^research:community", json = { discussions = {}, summary = "" } } })
  F.with_fake(script, function(fake)
    T.raises(function() F.generate(db, { pipeline = "outside-in" }) end, "found no community evidence")
    T.eq(F.calls(fake, "^generate"), 0, "nothing drafted")
    local job = F.generate(db, { pipeline = "outside-in", force = true })
    T.eq(job.status, "completed")
    T.eq({ F.calls(fake, "^generate:outside%-in"), F.calls(fake, "^generate:layer%-product") }, { 1, 1 })
  end)
  T.eq(db:value("SELECT evidence_level FROM messaging_assets"), "product-only")
  db:close()
end)

T.test("adversarial and multi-perspective: attack-and-answer rounds; three angles and a synthesis", function()
  local db = F.db()
  F.with_fake(F.script(db), function(fake)
    F.generate(db, { pipeline = "adversarial" })
    T.eq({ F.calls(fake, "^attack"), F.calls(fake, "^generate:answer%-attack") }, { 2, 2 })
    F.generate(db, { pipeline = "multi-perspective" })
    T.eq({ F.calls(fake, "^generate:perspective"), F.calls(fake, "^generate:synthesis") }, { 3, 1 })
  end)
  T.eq(db:value("SELECT count(*) FROM messaging_assets"), 2)
  db:close()
end)

T.test("straight-through: supplied text scored and stored with gates and traceability, no generation", function()
  local db = F.db()
  F.with_fake(F.script(db), function(fake)
    local job, stored = F.generate(db, { pipeline = "straight-through", text = F.bad,
      voices = { "practitioner-community", "product-launch" } })
    T.eq(job.status, "completed")
    T.eq({ F.calls(fake, "^generate"), F.calls(fake, "^judge") }, { 0, 2 })
    T.eq(#stored[1].variants, 2)
  end)
  T.eq(db:value("SELECT content FROM messaging_assets"), F.bad:match("^%s*(.-)%s*$"))
  T.eq(db:value("SELECT count(*) FROM asset_traceability"), 1)
  T.raises(function() require("candor.pipeline").prepare(db, { pain = F.pain, assets = { "battlecard" }, pipeline = "straight-through" }) end,
    "give %-%-text")
  db:close()
end)

T.test("inputs are checked before anything is spent", function()
  local db = F.db()
  local P = require "candor.pipeline"
  T.raises(function() P.prepare(db, { pain = F.pain, assets = { "brochure" } }) end, "unknown asset type 'brochure'")
  T.raises(function() P.prepare(db, { pain = F.pain, assets = { "all" }, voices = { "pirate" } }) end, "no voice profile 'pirate'")
  T.raises(function() P.prepare(db, { pain = { id = "nope" }, assets = { "all" } }) end, "no pain point 'nope'")
  T.raises(function() P.prepare(db, { pain = F.pain, assets = { "all" }, pipeline = "nope" }) end, "no workflow named 'pipelines/nope'")
  T.raises(function() P.prepare(db, { pain = { title = "x\255y", content = "" }, assets = { "all" } }) end, "not valid UTF%-8")
  T.raises(function() P.prepare(db, { pain = F.pain, assets = { "battlecard", "narrative" }, pipeline = "straight-through",
    text = "x" }) end, "exactly one")
  T.eq(db:value("SELECT count(*) FROM discovered_pain_points WHERE source_type = 'manual'"), 0, "nothing written before it")
  local path = T.write_file(T.tmpdir() .. "/doc.md", "")
  T.raises(function() P.prepare(db, { pain = F.pain, assets = { "all" }, documents = { path } }) end, "is empty")
  T.eq(db:value("SELECT count(*) FROM generation_jobs"), 0)
  db:close()
end)

T.test("a prompt file edited between two runs changes the second run", function()
  local db = F.db()
  local dir = T.tmpdir()
  os.execute("mkdir -p " .. dir .. "/prompts/pipeline")
  local real = os.getenv
  os.getenv = function(k) if k == "CANDOR_PATH" then return dir end return real(k) end
  local ok, err = pcall(F.with_fake, F.script(db), function(fake)
    F.generate(db, {})
    local text = T.read_file(T.root .. "/prompts/pipeline/draft.md")
    T.write_file(dir .. "/prompts/pipeline/draft.md", (text:gsub("=== user ===\n", "=== user ===\nMARKER-EDITED\n", 1)))
    F.generate(db, {})
    local drafts = {}
    for _, c in ipairs(fake.calls) do
      if c.purpose:find("^generate") then drafts[#drafts + 1] = c.body.messages[#c.body.messages].content end
    end
    T.eq(#drafts, 2)
    T.ok(not drafts[1]:find("MARKER-EDITED", 1, true), "first run: the built-in prompt")
    T.contains(drafts[2], "MARKER-EDITED", "second run: the edited copy")
  end)
  os.getenv = real
  if not ok then error(err, 0) end
  db:close()
end)

T.test("banned words: proposed per voice, cached by voice and pain across jobs, part of the scorer's lexicon", function()
  local db = F.db()
  local cache = T.tmpdir() .. "/cache.db"
  -- the first draft uses a phrase only the LLM's banned list names
  local script = F.script(db, { { purpose = "^generate", times = 1, text = F.good .. "\nIt is a real game-changer for us.\n" } })
  F.with_fake(script, function(fake)
    local job, stored = F.generate(db, { cache = cache })
    T.eq(F.calls(fake, "^research:banned"), 1)
    local first = steps_named(job, "^refine")[1].iterations[1]
    T.eq(first.pass, false, "the banned phrase failed the draft")
    local flagged = false
    for _, f in ipairs(first.failing) do if f == "vendor_speak" then flagged = true end end
    T.ok(flagged, "scored as vendor-speak")
    T.eq(stored[1].variants[1].scores.pass, true, "the rewrite without it passes")
    F.generate(db, { cache = cache })
    T.eq(F.calls(fake, "^research:banned"), 1, "the second job with the same voice and pain used the cache")
    local run = require("candor.pipeline").new_run(db, { pain = F.pain, documents = {}, assets = {}, voices = {} })
    local voice = require("candor.repo.voice_profiles"):by_slug(db, "practitioner-community")
    run.set_banned(voice, { "Game-Changer", "synergy", "synergy" })
    local count = {}
    for _, p in ipairs(run.banned_for(voice)) do count[p:lower()] = (count[p:lower()] or 0) + 1 end
    T.eq({ count["game-changer"], count["synergy"] }, { 1, 1 }, "a phrase on two lists is listed once")
  end)
  db:close()
end)

T.test("banned words: a failed call falls back to the voice's and settings' lists and the job goes on", function()
  local db = F.db()
  F.with_fake(F.script(db, { { purpose = "^research:banned", fault = "500" } }), function(fake)
    local job = F.generate(db, {})
    T.eq(job.status, "completed")
    T.eq(F.calls(fake, "^research:banned"), 4, "retried, then given up")
    local st = steps_named(job, "^banned")[1]
    T.eq(st.status, "fallback")
    T.contains(st.note, "HTTP 500")
  end)
  db:close()
end)

T.test("evidence level: strong needs 3 URLs from 2 sites, partial 1, product-only none", function()
  local level = require("candor.pipeline.research").evidence_level
  local function u(url, site) return { url = url, site = site } end
  T.eq(level { u("https://a/1", "a"), u("https://a/2", "a"), u("https://b/3", "b") }, "strong")
  T.eq(level { u("https://a/1", "a"), u("https://a/2", "a"), u("https://a/3", "a") }, "partial", "one site only")
  T.eq(level { u("https://a/1", "a"), u("https://a/1", "a"), u("https://b/3", "b") }, "partial", "the same URL twice counts once")
  T.eq(level {}, "product-only")
end)

T.test("no --assets: the default_asset_types setting names them", function()
  local db = F.db()
  require("candor.repo.settings"):set_value(db, "default_asset_types", '["social_hook","email_copy"]')
  F.with_fake(F.script(db), function()
    local run = require("candor.pipeline").prepare(db, { pain = F.pain, pipeline = "standard", voices = { "practitioner-community" } })
    T.eq(run.assets, { "social_hook", "email_copy" })
  end)
  db:close()
end)

T.test("a gap's frequency counts the pain points it was found in, not the runs", function()
  local db = F.db()
  F.with_fake(F.script(db), function()
    local doc = { T.root .. "/examples/product/tideline.md" }
    F.generate(db, { documents = doc })
    F.generate(db, { documents = doc })
    T.eq(db:query("SELECT frequency FROM messaging_gaps"), { { frequency = 1 } }, "the same pain twice: one row, frequency 1")
    F.generate(db, { documents = doc, pain = { title = "Another pain", content = "CI flakes block merges" } })
    T.eq(db:query("SELECT frequency FROM messaging_gaps ORDER BY rowid"), { { frequency = 2 }, { frequency = 2 } })
  end)
  db:close()
end)

T.test("repeated asset types, voices and documents count once each, first seen first", function()
  local db = F.db()
  local P = require "candor.pipeline"
  local R = require("candor.repo").bind(db)
  T.eq(P.resolve_assets { "email-copy", "battlecard", "Battlecard", "email_copy" }, { "email_copy", "battlecard" })
  local voice = R.voice_profiles.by_slug("practitioner-community")
  local voices = P.resolve_voices(db, R, { "sales-enablement", voice.slug, voice.name, "sales-enablement" })
  local slugs = {}
  for i, v in ipairs(voices) do slugs[i] = v.slug end
  T.eq(slugs, { "sales-enablement", "practitioner-community" }, "a voice named by slug and by name is one voice")
  local doc = T.root .. "/examples/product/tideline.md"
  local copy = T.write_file(T.tmpdir() .. "/tideline-copy.md", T.read_file(doc))
  local other = T.write_file(T.tmpdir() .. "/other.md", "# Other\n\nA second document.\n")
  local docs = P.read_documents { doc, copy, other, doc }
  T.eq({ #docs, docs[1].name, docs[2].name }, { 2, "tideline.md", "other.md" }, "the same path, or the same text, is one document")
  F.with_fake(F.script(db), function(fake)
    local job, stored = F.generate(db, { assets = { "battlecard", "battlecard" },
      voices = { "practitioner-community", "practitioner-community" }, documents = { doc, doc } })
    T.eq({ job.status, #stored, #stored[1].variants }, { "completed", 1, 1 })
    T.eq({ F.calls(fake, "^generate"), F.calls(fake, "^judge"), F.calls(fake, "^research:banned") }, { 1, 1, 1 },
      "one draft, one judgement, one banned-words call")
    for _, c in ipairs(fake.calls) do
      if c.purpose:find("^research:insights") then
        local _, n = c.body.messages[#c.body.messages].content:gsub("## tideline%.md", "")
        T.eq(n, 1, "the insights prompt has the document once")
      end
    end
    local ctx = json.decode(db:value("SELECT product_context FROM generation_jobs WHERE id = ?", job.id))
    T.eq({ ctx.asset_types, ctx.voices, #ctx.product_docs }, { { "battlecard" }, { "practitioner-community" }, 1 })
  end)
  T.eq(db:value("SELECT count(*) FROM asset_traceability"), 1)
  db:close()
end)

-- The user part of the first call whose purpose matches, from the fake's log.
local function prompt_of(fake, purpose)
  for _, c in ipairs(fake.calls) do
    if c.purpose:find(purpose) then return c.body.messages[#c.body.messages].content end
  end
end

T.test("documents and the pain go into prompts within their budgets, a cut saying how much is left out", function()
  local db = F.db()
  local S = require "candor.repo.settings"
  T.eq({ S:get_value(db, "document_context_tokens"), S:get_value(db, "pain_context_tokens") }, { "24000", "6000" }, "seeded")
  S:set_value(db, "document_context_tokens", "2000")
  S:set_value(db, "pain_context_tokens", "500")
  local dir = T.tmpdir()
  local para = "Tideline reruns a failed test on the same SHA and marks it flaky when it flips.\n\n"
  local big = T.write_file(dir .. "/big.md", "# Big\n\n" .. para:rep(2000))           -- about 160 KB
  local small = T.write_file(dir .. "/small.md", "# Small\n\nQuarantine keeps a flaky test out of the merge queue.\n")
  local pain = { title = "Flaky tests waste CI time", content = ("We re-run builds by hand. "):rep(4000) }   -- about 100 KB
  F.with_fake(F.script(db), function(fake)
    local job = F.generate(db, { documents = { big, small }, pain = pain })
    T.eq(job.status, "completed")
    local insights = prompt_of(fake, "^research:insights")
    T.contains(insights, "Quarantine keeps a flaky test out of the merge queue.", "the short document whole")
    T.contains(insights, "of big.md (about ")
    T.contains(insights, "left out here: the documents share the document_context_tokens budget of 2000 tokens]")
    local left = tonumber(insights:match("%[%.%.%. (%d+) more bytes of big%.md"))
    T.ok(left and left > 150000, "the marker says how much of big.md is left out: " .. tostring(left))
    T.ok(#insights < 2000 * 4 + 500 * 4 + 6000, "the prompt is within the budgets: " .. #insights .. " bytes")
    for _, purpose in ipairs { "^research:insights", "^generate", "^judge" } do
      local p = prompt_of(fake, purpose)
      T.contains(p, "of the pain point (about ", purpose .. " sees the cut pain")
      T.contains(p, "left out here: the pain_context_tokens budget is 500 tokens]", purpose)
      T.ok(#p < 40000, purpose .. ": " .. #p .. " bytes")
    end
  end)
  local stored = db:value("SELECT content FROM discovered_pain_points WHERE title = 'Flaky tests waste CI time'")
  T.eq(#stored, #pain.content - 1, "the stored pain keeps all of its text (trimmed)")
  db:close()
end)

T.test("pain_from_text: --pain and a pain file read alike; a long first line keeps itself in the content", function()
  local pipeline = require "candor.pipeline"
  T.eq(pipeline.pain_from_text("# Flaky tests\n\nCI fails one run in five.\n", "--pain"),
    { title = "Flaky tests", content = "CI fails one run in five." })
  T.eq(pipeline.pain_from_text("  just a title  ", "--pain"), { title = "just a title", content = "" })
  local long = string.rep("word ", 40) .. "end"
  local p = pipeline.pain_from_text(long .. "\nmore", "--pain")
  T.ok(utf8.len(p.title) <= 120 and p.title:match("%.%.%.$"), p.title)
  T.eq(p.content, long .. "\n\nmore", "nothing of the first line is lost")
  T.eq(pipeline.pain_from_text(" \n\nbody", "--pain").title, "body", "blank lines before the title are skipped")
  T.raises(function() pipeline.pain_from_text(" \n\t\n", "the pain file") end, "the pain file is empty")
  T.raises(function() pipeline.pain_from_text("bad \255", "the pain") end, "the pain is not valid UTF%-8")
  local file = T.write_file(T.tmpdir() .. "/pain.md", "# Flaky tests\n\nCI fails one run in five.\n")
  T.eq(pipeline.read_pain_file(file), pipeline.pain_from_text("# Flaky tests\n\nCI fails one run in five.\n", "--pain"))
end)
