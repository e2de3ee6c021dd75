-- Running a generation pipeline as a job: check the inputs (pain point, product
-- documents, asset types, voices) and the LLM keys before anything is spent,
-- create the generation_jobs row, run workflows/pipelines/NAME.lua with
-- ctx.step (the steps of candor.pipeline.*, each logged in the job's steps),
-- and mark the job completed or failed. The run state below is the job's own:
-- two jobs at once share no profile, cache or progress.
local async = require "candor.async"
local json = require "candor.json"
local paths = require "candor.paths"
local prompt = require "candor.prompt"
local research = require "candor.pipeline.research"
local draft = require "candor.pipeline.draft"
local judge = require "candor.pipeline.judge"
local refine = require "candor.pipeline.refine"
local store = require "candor.pipeline.store"
local trim = require("candor.text").trim

local M = {}

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

local check_utf8 = require("candor.text").check_utf8

-- The content hash discovery uses too (candor.text: lower-cased, spaces folded).
M.content_hash = require("candor.text").content_hash

-- A pain point from {id =} or {title, content, author, source_url} -> its row.
-- A manual pain is stored once as a discovered_pain_points row (source 'manual',
-- approved) so everything generated from it traces back to it.
function M.resolve_pain(db, R, pain, priority_slug)
  if pain.id then
    local row = R.discovered_pain_points.get(pain.id)
    if not row then error(usage(string.format("no pain point '%s' (see 'candor pain list')", pain.id)), 0) end
    return row
  end
  local title = pain.title and trim(pain.title) or ""
  local content = pain.content and trim(pain.content) or ""
  if title == "" and content == "" then error(usage("the pain point is empty"), 0) end
  if title == "" then title = content:match("^[^\n]+"):sub(1, 120) end
  if content == "" then content = title end
  check_utf8(title .. content, "the pain point")
  local slug = priority_slug or require("candor.repo.settings"):get_value(db, "public_priority") or "general"
  local priority = R.messaging_priorities.by_slug(slug)
  if not priority then error(usage(string.format("no messaging priority '%s'", slug)), 0) end
  local hash = M.content_hash(title, content)
  local same = db:first("SELECT id FROM discovered_pain_points WHERE content_hash = ? AND source_type = 'manual' AND priority_id = ?",
    hash, priority.id)
  if same then return R.discovered_pain_points.get(same.id) end
  return R.discovered_pain_points.insert {
    priority_id = priority.id, source_type = "manual", source_url = pain.source_url or "", source_id = "manual:" .. hash:sub(1, 16),
    title = title, content = content, author = pain.author or "", author_level = "unknown", metadata = {},
    pain_score = 1.0, pain_analysis = {}, practitioner_quotes = json.array {}, status = "approved",
    content_hash = hash, discovered_at = require("core.host").now(),
  }
end

-- Focus instructions go into every prompt of a run: a few thousand characters
-- say all a run needs, and more would crowd out the pain and the documents.
M.max_focus_chars = 4000

-- check_focus(s, what) -> s: focus instructions checked where they enter (a
-- run, a session), what naming them in the usage error.
function M.check_focus(s, what)
  check_utf8(s, what)
  local n = utf8.len(s)
  if n > M.max_focus_chars then
    error(usage(string.format("%s is %d characters long, over the limit of %d: it goes into every prompt, so keep it "
      .. "to what the drafts must do", what, n, M.max_focus_chars)), 0)
  end
  return s
end

-- "# Title\n\nbody" (or a first line as the title) from a pain file.
-- pain_from_text(text, what) -> {title, content}: the first line is the title
-- (a Markdown heading's #s dropped; past 120 characters cut at a word, the
-- whole line then staying in the content), the rest is the content. What
-- --pain and a pain file hold alike.
function M.pain_from_text(text, what)
  check_utf8(text, what)
  local first, rest = text:match("^%s*([^\n]*)\n?(.*)$")
  first = trim((first or ""):gsub("^#+%s*", ""))
  if first == "" then error(usage(what .. " is empty"), 0) end
  rest = trim(rest)
  local cut = utf8.len(first) > 120 and utf8.offset(first, 118)
  if cut then
    rest = rest == "" and first or (first .. "\n\n" .. rest)
    first = (first:sub(1, cut - 1):gsub("%s+%S*$", "")) .. "..."
  end
  return { title = first, content = rest }
end

function M.read_pain_file(path)
  local text, err = paths.read_file(path)
  if not text then error(usage("cannot read the pain file: " .. tostring(err)), 0) end
  return M.pain_from_text(text, path)
end

-- Product documents from files (text, Markdown or PDF), read and checked by
-- candor.documents -> {name, text, document_type}, first seen first: a path
-- given twice, or a file with the same text as an earlier one (by
-- content_hash), is one document, so it is neither stored nor prompted twice.
function M.read_documents(files)
  local read = require("candor.documents").read
  local out, seen_path, seen_text = {}, {}, {}
  for _, path in ipairs(files or {}) do
    if not seen_path[path] then
      seen_path[path] = true
      local doc = read(path)
      local hash = M.content_hash("", doc.text)
      if not seen_text[hash] then
        seen_text[hash] = true
        out[#out + 1] = doc
      end
    end
  end
  return out
end

-- Documents read by read_documents -> product_documents rows, each stored once
-- (the same name and content is the same document).
function M.store_documents(R, docs)
  local out = {}
  for i, d in ipairs(docs) do out[i] = R.product_documents.store(d) end
  return out
end

-- "all" or a list of ids -> asset types, each checked and each once (first
-- seen first): a repeat would be generated, paid for and versioned twice.
function M.resolve_assets(list)
  if list == nil or #list == 0 then error(usage("name the asset types (--assets battlecard,talk_track or --assets all)"), 0) end
  if #list == 1 and list[1] == "all" then return { table.unpack(draft.asset_order) } end
  local out, seen = {}, {}
  for _, a in ipairs(list) do
    local id = a:lower():gsub("[%s%-]", "_")
    if not draft.asset_names[id] then
      error(usage(string.format("unknown asset type '%s' (known: %s, or all)", a, table.concat(draft.asset_order, ", "))), 0)
    end
    if not seen[id] then
      seen[id] = true
      out[#out + 1] = id
    end
  end
  return out
end

-- Names of voices, "all", or none (the default voice) -> voice rows, each once
-- (first seen first, however it was named).

function M.resolve_voices(db, R, list)
  if list == nil or #list == 0 then
    local slug = require("candor.repo.settings"):get_value(db, "default_voice")
    local v = slug and R.voice_profiles.by_slug(slug) or R.voice_profiles.default()
    if not v then error(usage("no default voice: name one with --voices"), 0) end
    return { v }
  end
  if #list == 1 and list[1] == "all" then
    local all = R.voice_profiles.list({ is_active = true }, { order = "slug" })
    if #all == 0 then error(usage("there are no active voice profiles"), 0) end
    return all
  end
  local out, seen = {}, {}
  for _, name in ipairs(list) do
    local v = R.voice_profiles.lookup(name)
    if not v then
      local known = {}
      for _, x in ipairs(R.voice_profiles.list({ is_active = true }, { order = "slug" })) do known[#known + 1] = x.slug end
      error(usage(string.format("no voice profile '%s' (known: %s, or all)", name, table.concat(known, ", "))), 0)
    end
    if not seen[v.id] then
      seen[v.id] = true
      out[#out + 1] = v
    end
  end
  return out
end

---------------------------------------------------------------- the run

-- new_run(db, opts) -> the run state: inputs, caches, and the research results
-- as they arrive. opts: {pipeline, pain (row), documents (rows), assets, voices
-- (rows), focus, force, max_iterations, profile, judges, retry, cache}. Whoever
-- runs the steps sets run.job (a tracker with begin/progress, see candor.jobs)
-- and may replace the progress hooks (variant_done, progress_step, research_done, log).
-- run.pain is the row with its text cut to the pain_context_tokens budget
-- (research.prompt_pain), so every prompt gets the same pain; run.budgets
-- holds that budget and the documents' (document_context_tokens).
function M.new_run(db, opts)
  local R = require("candor.repo").bind(db)
  local budgets = research.budgets(db)
  local run = {
    db = db, repo = R, pipeline = opts.pipeline, budgets = budgets,
    pain = opts.pain and research.prompt_pain(opts.pain, budgets.pain), documents = opts.documents,
    assets = opts.assets, voices = opts.voices, focus = opts.focus or "", force = opts.force,
    max_iterations = opts.max_iterations, profile = opts.profile, judges = opts.judges ~= false,
    score_cache = {}, banned_llm = {}, lexicons = {}, tokens = { input = 0, output = 0, calls = 0 },
    evidence = { discussions = {}, sources = {}, quotes = {}, summary = "", level = "product-only" },
    evidence_text = "", insights = { documents = 0 }, competitive_text = "",
    stored = {}, retry = opts.retry, cache = opts.cache,
  }
  function run.variant_done() end
  function run.progress_step() end
  function run.research_done() end
  function run.log() end
  run.insights_text = research.format_insights(run.insights)
  run.prompt = prompt.render

  -- llm(tier, prompt_name, vars, req) -> result with result.prompt = {system, user}.
  -- Tokens go to the running step (from the task's context) and the run's totals.
  function run.llm(tier, name, vars, req)
    local p = prompt.render(name, vars)
    local r_req = { system = p.system, prompt = p.user or p.text }
    for k, v in pairs(req or {}) do r_req[k] = v end
    local cache = r_req.cache
    r_req.cache = nil
    local r, err = require("candor.llm").call_target(run.target(tier), r_req, { db = db, cache = cache, retry = run.retry })
    if not r then error(string.format("%s call (%s) failed: %s", tier, r_req.purpose or "unspecified", err.message), 0) end
    -- an answer from the cache or a cassette spent nothing (as llm_calls logs it)
    local spent = not (r.cached or r.replayed)
    local input, output = spent and r.input_tokens or 0, spent and r.output_tokens or 0
    run.tokens.input, run.tokens.output = run.tokens.input + input, run.tokens.output + output
    if spent then run.tokens.calls = run.tokens.calls + 1 end
    local step = async.context().step
    if step then step:add_tokens(input, output, (r.provider or "?") .. ":" .. (r.model or "?")) end
    r.prompt = { system = p.system, user = p.user or p.text }
    return r
  end

  -- Each tier resolved once for the job, through the job's own profile.
  local targets = {}
  function run.target(tier)
    local t = targets[tier]
    if not t then
      local profiles = require "candor.llm.profiles"
      run.llm_settings = run.llm_settings or profiles.settings(db)
      t = profiles.resolve(tier, { settings = run.llm_settings, profile = run.profile })
      targets[tier] = t
    end
    return t
  end

  local quality = require "candor.quality"
  -- The voice's banned phrases: settings and voice lists, plus the LLM's for this
  -- pain (kept per voice until the LLM's list for it arrives).
  local banned = {}
  function run.banned_for(voice)
    local list = banned[voice.slug]
    if list then return list end
    list = quality.banned_phrases(db, voice)
    local seen = {}
    for _, p in ipairs(list) do seen[p:lower()] = true end
    for _, p in ipairs(run.banned_llm[voice.slug] or {}) do
      if not seen[p:lower()] then seen[p:lower()] = true list[#list + 1] = p end
    end
    banned[voice.slug] = list
    return list
  end
  -- the same list as prompt text ("- phrase" lines), made once per list
  local banned_text = {}
  function run.banned_text(voice)
    local list = run.banned_for(voice)
    local t = banned_text[voice.slug]
    if not t or t.list ~= list then
      t = { list = list, text = research.bullets(list) }
      banned_text[voice.slug] = t
    end
    return t.text
  end
  function run.set_banned(voice, phrases)
    run.banned_llm[voice.slug], banned[voice.slug], run.lexicons[voice.slug] = phrases, nil, nil
  end
  function run.lexicon_for(voice)
    local lex = run.lexicons[voice.slug]
    if not lex then
      lex = require("candor.quality.lexicon").load { banned = run.banned_for(voice) }
      run.lexicons[voice.slug] = lex
    end
    return lex
  end
  local critics
  function run.critics()
    critics = critics or R.persona_critics.active()
    return critics
  end
  return run
end

-- in_step(st, fn, ...) -> pcall's results of fn(...), run in the calling task
-- with st as its context's step, so its LLM calls (and those of tasks it
-- spawns) add their tokens to st. No task of its own: a fan-out of hundreds of
-- steps does not wait its turn in the scheduler twice per step.
local function in_step(st, fn, ...)
  local ctx = async.current() and async.context()
  if not ctx then return table.pack(pcall(fn, ...)) end
  local before = rawget(ctx, "step")
  ctx.step = st
  local r = table.pack(pcall(fn, ...))
  ctx.step = before
  return r
end
M.in_step = in_step

-- A step of the job: logged (start, end, status, tokens, models).
local function stepper(run, label_of, fn)
  return function(...)
    local label = label_of(...)
    local st = run.job:begin(label)
    local r = in_step(st, function(...) return table.pack(fn(run, ...)) end, ...)
    local ok, res = r[1], r[2]
    if not ok then
      st:finish("failed", { error = type(res) == "table" and res.message or tostring(res) })
      error(res, 0)
    end
    st:finish(st.outcome or "done", st.outcome_note and { note = st.outcome_note } or nil)
    return table.unpack(res, 1, res.n)
  end
end

local function pair_label(name) return function(a, v) return string.format("%s %s × %s", name, a, v.slug) end end
local function draft_label(name) return function(d) return string.format("%s %s × %s", name, d.asset, d.voice.slug) end end

-- steps(run) -> ctx.step: what a pipeline workflow calls, each one a logged step.
function M.steps(run)
  local S = {}
  S.insights = stepper(run, function() return "insights" end, function(r)
    local ins = research.insights(r)
    r.insights, r.insights_text = ins, research.format_insights(ins)
    if #ins.unanswered > 0 then store.gaps(r, ins.unanswered) end
    return ins
  end)
  S.banned_words = stepper(run, function(v) return "banned-words " .. v.slug end, function(r, voice)
    local phrases, fallback = research.banned_words(r, voice)
    r.set_banned(voice, phrases)
    if fallback then
      local st = async.context().step
      st.outcome, st.outcome_note = "fallback", "the call failed, so the voice's and settings' lists stand alone: " .. fallback
      r.log("banned words for %s: fell back to the default lists (%s)", voice.slug, fallback)
    end
    return phrases
  end)
  S.community_evidence = stepper(run, function() return "community-evidence" end, function(r)
    local ev = research.community_evidence(r)
    r.evidence, r.evidence_text = ev, research.format_evidence(ev)
    return ev
  end)
  S.competitive = stepper(run, function() return "competitive" end, function(r)
    local c = research.competitive(r, r.insights)
    r.research_id, r.competitive_text = store.research(r, c), research.format_competitive(c)
    return c
  end)
  -- research(voices): the job's research at once: product insights, community
  -- evidence, competitive positioning, and banned phrases for each voice.
  S.research = function(voices)
    local all = {
      insights = function() return S.insights() end,
      evidence = function() return S.community_evidence() end,
      competitive = function() return S.competitive() end,
    }
    for _, voice in ipairs(voices or run.voices) do
      all["banned " .. voice.slug] = function() return S.banned_words(voice) end
    end
    local out = async.parallel(all)
    run.research_done()
    return out
  end
  S.draft = stepper(run, pair_label("draft"), draft.draft)
  S.outside_in = stepper(run, pair_label("outside-in"), draft.outside_in)
  S.layer_product = stepper(run, draft_label("layer-product"), draft.layer_product)
  S.attack = stepper(run, draft_label("attack"), draft.attack)
  S.answer_attack = stepper(run, draft_label("answer-attack"), draft.answer_attack)
  S.perspective = stepper(run, function(a, v, angle) return string.format("perspective %s %s × %s", angle.name, a, v.slug) end,
    draft.perspective)
  S.synthesis = stepper(run, function(ds) return string.format("synthesis %s × %s", ds[1].asset, ds[1].voice.slug) end,
    draft.synthesis)
  S.angles = function() return draft.angles(run) end
  S.score = stepper(run, draft_label("score"), judge.score)
  -- refine_until_gates(d [, {max_iterations}]) -> the kept draft with its scores and iterations
  S.refine_until_gates = function(d, o)
    local label = string.format("refine %s × %s", d.asset, d.voice.slug)
    local st = run.job:begin(label)
    local r = in_step(st, refine.until_gates, run, d, { max_iterations = o and o.max_iterations,
      on_iteration = function(it) st:iteration(it) end })
    local ok, res = r[1], r[2]
    if not ok then
      st:finish("failed", { error = type(res) == "table" and res.message or tostring(res) })
      error(res, 0)
    end
    st:finish("done", { stopped = res.stopped, pass = res.scores.pass })
    run.variant_done(d.asset, d.voice)
    return res
  end
  S.store = stepper(run, function(a) return "store " .. a end, function(r, asset, variants)
    local row = store.asset(r, asset, variants)
    r.stored[#r.stored + 1] = { id = row.id, asset_type = asset, title = row.title, variants = variants }
    r.progress_step("stored " .. asset)
    return row
  end)
  return S
end

-- A list of {asset, voice} pairs; ctx.each hands each pair to fn(asset, voice).
local Pair = {}
local function combine(assets, voices)
  local out = {}
  for _, a in ipairs(assets) do
    for _, v in ipairs(voices) do out[#out + 1] = setmetatable({ a, v }, Pair) end
  end
  return out
end

local function each(list, fn, o)
  return async.each(list, function(item, i)
    if getmetatable(item) == Pair then return fn(item[1], item[2]) end
    return fn(item, i)
  end, o)
end

M.combine, M.each = combine, each

-- prepare(db, opts) -> run: every input checked and every key present, nothing spent.
-- opts: {pipeline, pain = {id} | {title, content, author, source_url} | pain_file,
--   documents = {paths}, assets = {...}|{"all"}, voices = {...}|{"all"}, focus, force,
--   text (straight-through), max_iterations, profile, priority, cache = true|path|false}
function M.prepare(db, opts)
  local R = require("candor.repo").bind(db)
  local name = opts.pipeline or require("candor.repo.settings"):get_value(db, "default_pipeline") or "standard"
  local wf = require("candor.workflow").load("pipelines/" .. name)
  local pain_in = opts.pain_file and M.read_pain_file(opts.pain_file) or opts.pain
  if not pain_in then error(usage("give the pain point: --pain TEXT, --pain-file FILE or --pain-id ID"), 0) end
  if wf.needs_text and not opts.text then error(usage(string.format("pipeline '%s' scores supplied text: give --text FILE (or - for stdin)", name)), 0) end
  if opts.text then check_utf8(opts.text, "the supplied text") end
  if opts.focus then M.check_focus(opts.focus, "the --focus text") end
  if opts.text and not opts.text:match("%S") then error(usage("the supplied text is empty"), 0) end
  -- checks that spend nothing and write nothing come first
  local assets_in = opts.assets
  if assets_in == nil or #assets_in == 0 then   -- the default_asset_types setting, when it names some
    local ok, list = pcall(json.decode, require("candor.repo.settings"):get_value(db, "default_asset_types") or "")
    if ok and type(list) == "table" and #list > 0 then assets_in = list end
  end
  local assets, voices = M.resolve_assets(assets_in), M.resolve_voices(db, R, opts.voices)
  if wf.single_asset and #assets ~= 1 then
    error(usage(string.format("pipeline '%s' stores one asset type: give exactly one with --assets", name)), 0)
  end
  local docs = M.read_documents(opts.documents)
  if pain_in.id then
    if not R.discovered_pain_points.get(pain_in.id) then M.resolve_pain(db, R, pain_in) end   -- raises: no such id
  else
    check_utf8((pain_in.title or "") .. (pain_in.content or ""), "the pain point")
    if not ((pain_in.title or "") .. (pain_in.content or "")):match("%S") then error(usage("the pain point is empty"), 0) end
  end
  local max_it = opts.max_iterations or require("candor.repo.settings"):whole_number(db, "max_refinement_iterations", 3, 0)
  local profiles = require "candor.llm.profiles"
  local profile = profiles.active { db = db, profile = opts.profile }
  local judges = wf.judges ~= false
  if wf.tiers then require("candor.llm").check(wf.tiers, { db = db, profile = profile }) end
  if wf.optional_tiers then   -- used when their keys are there (straight-through's judges)
    judges = pcall(require("candor.llm").check, wf.optional_tiers, { db = db, profile = profile })
  end
  local run = M.new_run(db, {
    pipeline = wf.name:gsub("^pipelines/", ""), pain = M.resolve_pain(db, R, pain_in, opts.priority),
    documents = M.store_documents(R, docs), assets = assets, voices = voices, focus = opts.focus, force = opts.force,
    max_iterations = max_it, profile = profile, judges = judges,
  })
  -- the response cache answers the steps that may reuse an answer (banned words):
  -- true for the default file, a path, or false
  run.cache = opts.cache == nil and true or opts.cache
  run.workflow, run.text = wf, opts.text
  return run
end

-- start(run, {on_progress = fn(info), on_log = fn(msg), retry = policy, timeout_s})
-- -> job row, results. info: {pct, step,
-- assets_done, assets_total, variants_done, variants_total, tokens, job_id}.
-- The job fails cleanly (error and stack stored, stored assets left whole) when
-- the workflow fails; the error is raised after the job is marked.
function M.start(run, opts)
  opts = opts or {}
  local jobs = require "candor.jobs"
  local db, R = run.db, run.repo
  local row = jobs.create(db, { pain_point_id = run.pain.id, priority_id = run.pain.priority_id, product_context = {
    pipeline = run.pipeline, asset_types = run.assets, voices = (function()
      local s = {}
      for i, v in ipairs(run.voices) do s[i] = v.slug end
      return s
    end)(), voice_profile_ids = (function()
      local s = {}
      for i, v in ipairs(run.voices) do s[i] = v.id end
      return s
    end)(), product_docs = (function()
      local s = {}
      for i, d in ipairs(run.documents) do s[i] = { id = d.id, name = d.name } end
      return json.array(s)
    end)(), focus = run.focus, profile = run.profile, max_iterations = run.max_iterations, judges = run.judges,
  } })
  run.job = jobs.track(db, row)
  run.stored, run.retry = {}, opts.retry or run.retry
  local total_variants = #run.assets * #run.voices
  local done_variants, research_done = 0, false
  local current = "starting"
  local function report()
    local units = total_variants + #run.assets + 1
    local stored_variants = 0
    for _, st in ipairs(run.stored) do stored_variants = stored_variants + #st.variants end
    local done = math.max(done_variants, stored_variants) + #run.stored + (research_done and 1 or 0)
    local pct = math.floor(100 * done / units)
    run.job:progress(math.min(pct, 99), current)
    if opts.on_progress then
      opts.on_progress { pct = math.min(pct, 99), step = current, assets_done = #run.stored, assets_total = #run.assets,
        variants_done = done_variants, variants_total = total_variants, tokens = run.tokens, job_id = row.id }
    end
  end
  function run.variant_done(asset, voice)
    done_variants = done_variants + 1
    current = string.format("%s × %s done", asset, voice.slug)
    report()
  end
  function run.progress_step(step) current = step report() end
  function run.research_done() research_done = true current = "research done" report() end
  run.log = function(fmt, ...) if opts.on_log then opts.on_log(string.format(fmt, ...)) end end

  local params = { pain = run.pain, assets = run.assets, voices = run.voices, focus = run.focus, force = run.force or false,
                   text = run.text }
  report()
  local task = require("candor.workflow").run(run.workflow, params, {
    db = db, timeout_s = opts.timeout_s,
    task_ctx = { job_id = row.id, profile = run.profile, purpose = "pipeline:" .. run.pipeline },
    on_log = opts.on_log,
    on_progress = function(pct, step) current = step or current report() end,
    extend = function(ctx)
      ctx.step, ctx.combine, ctx.each = M.steps(run), combine, each
      ctx.research_done = run.research_done
      ctx.evidence = function() return run.evidence end
      ctx.pain, ctx.voices, ctx.assets = run.pain, run.voices, run.assets
    end,
  })
  require("candor.llm.log").flush(db)
  if task.status ~= "done" then
    local e = task.error
    local msg = type(e) == "table" and (e.message or json.encode(e)) or tostring(e)
    run.job:fail(msg, task.traceback)
    error({ message = string.format("job %s failed: %s", row.id, msg), job_id = row.id, traceback = task.traceback }, 0)
  end
  local summary = { assets = {} }
  for _, s in ipairs(run.stored) do summary.assets[#summary.assets + 1] = s.id end
  summary.assets = json.array(summary.assets)
  summary.tokens, summary.calls = run.tokens.input + run.tokens.output, run.tokens.calls
  run.job:complete(summary)
  return R.generation_jobs.get(row.id), run.stored
end

return M
