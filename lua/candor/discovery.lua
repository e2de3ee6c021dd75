-- Discovery: a schedule's source fetches community posts for a messaging
-- priority; posts already stored (same source post, or the same content within
-- the window) are dropped; each remaining post gets one flash-tier JSON call
-- (prompts/discovery/judge.md), concurrently under the provider's limit; posts
-- at or above the pain threshold are stored as pending pain points, all in one
-- transaction. Also the review of pain points (approve, reject, and the
-- auto-generation an approval may start) and the checks on priorities.
local async = require "candor.async"
local host = require "core.host"
local json = require "candor.json"
local text = require "candor.text"
local Priorities = require "candor.repo.messaging_priorities"
local Schedules = require "candor.repo.discovery_schedules"
local Pains = require "candor.repo.discovered_pain_points"
local Settings = require "candor.repo.settings"

local M = {}

M.judge_tier = "flash"
M.judge_prompt = "discovery/judge"
M.max_content = 12000            -- characters of a post the judge reads
M.defaults = { pain_threshold = 0.6, dedup_window_days = 30 }
M.author_levels = { beginner = true, practitioner = true, expert = true, unknown = true }

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

---------------------------------------------------------------- settings

-- A number setting, the priority's own value first; out of range is an error.
local function number_setting(db, key, priority_id, lo, hi)
  local raw = Settings:get_value(db, key, priority_id)
  if raw == nil then return M.defaults[key] end
  local n = tonumber(raw)
  if not n or n < lo or (hi and n > hi) then
    error(string.format("the %s setting must be a number from %s%s, not '%s'", key, lo, hi and (" to " .. hi) or " up",
      tostring(raw)), 0)
  end
  return n
end

function M.threshold(db, priority_id) return number_setting(db, "pain_threshold", priority_id, 0, 1) end
function M.window_days(db, priority_id) return number_setting(db, "dedup_window_days", priority_id, 0) end

-- now (ISO 8601) less days -> ISO 8601, UTC with milliseconds.
function M.days_before(now, days)
  local t = require("candor.jobs").iso_seconds(now) or error("not an ISO 8601 time: " .. tostring(now), 0)
  t = t - days * 86400
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", math.floor((t - whole) * 1000 + 0.5) % 1000)
end

---------------------------------------------------------------- posts

-- The priority's keywords and the schedule's, once each (case aside), in order.
function M.merge_keywords(...)
  local out, seen = {}, {}
  for i = 1, select("#", ...) do
    local list = select(i, ...)
    if type(list) == "string" then list = { list } end
    for _, k in ipairs(type(list) == "table" and list or {}) do
      if type(k) == "string" then
        local t = text.trim(k)
        if t ~= "" and not seen[t:lower()] then seen[t:lower()] = true out[#out + 1] = t end
      end
    end
  end
  return out
end

local function str(v)
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  if type(v) == "string" then return v end
end

-- A post from a source, checked and with every field a string -> post | nil, why.
local function check_post(p, source_type)
  if type(p) ~= "table" then return nil, "a post is not a table" end
  local sid = str(p.source_id)
  if not sid or sid == "" then return nil, "a post has no source_id" end
  local title, content = str(p.title) or "", str(p.content) or ""
  if not (title .. content):match("%S") then return nil, string.format("post %s has neither title nor content", sid) end
  if not utf8.len(title .. content) then return nil, string.format("post %s is not valid UTF-8", sid) end
  return {
    source_type = str(p.source_type) or source_type, source_id = sid, url = str(p.url) or "",
    title = text.trim(title), content = text.trim(content), author = str(p.author) or "",
    author_level = str(p.author_level), posted_at = str(p.posted_at),
    metadata = type(p.metadata) == "table" and p.metadata or {},
  }
end

-- At most n characters of s, cut on a character boundary.
local function cut(s, n)
  local at = utf8.offset(s, n + 1)
  if not at or at > #s then return s end
  return s:sub(1, at - 1) .. "\n[... cut: the post goes on]"
end

---------------------------------------------------------------- the judge

local function judge_vars(priority, keywords, post)
  return {
    priority_name = priority.name, priority_description = priority.description,
    priority_keywords = #keywords > 0 and table.concat(keywords, ", ") or "(none given)",
    post_title = post.title ~= "" and post.title or "(no title)", post_content = cut(post.content, M.max_content),
    post_author = post.author ~= "" and post.author or "unknown", post_url = post.url ~= "" and post.url or "no link",
  }
end

local LEVELS3 = { low = true, medium = true, high = true }

-- check_judgement(answer, post) -> judgement | nil, why.
-- judgement: {pain_score, analysis, author_level, quotes, invented}: quotes that
-- do not occur in the post (case and spacing aside) are dropped and counted in
-- invented; an answer without a pain_score from 0 to 1 is no judgement at all.
function M.check_judgement(answer, post)
  if type(answer) ~= "table" then return nil, "the judge's answer is not a JSON object" end
  local score = answer.pain_score
  if type(score) ~= "number" or score ~= score or score < 0 or score > 1 then
    return nil, "the judge's answer has no pain_score from 0 to 1 (got " .. tostring(score) .. ")"
  end
  local a = type(answer.analysis) == "table" and answer.analysis or {}
  local points = {}
  for _, p in ipairs(type(a.pain_points) == "table" and a.pain_points or {}) do
    if type(p) == "string" and p:match("%S") then points[#points + 1] = text.trim(p) end
  end
  local function level(v) v = type(v) == "string" and v:lower() or nil return LEVELS3[v] and v or "unknown" end
  local analysis = { pain_points = json.array(points), urgency = level(a.urgency), technical_depth = level(a.technical_depth),
                     relevance = level(a.relevance) }
  if type(a.summary) == "string" and a.summary:match("%S") then analysis.summary = text.trim(a.summary) end
  local haystack = text.fold(post.title .. "\n" .. post.content)
  local quotes, seen, invented = {}, {}, 0
  for _, q in ipairs(type(answer.quotes) == "table" and answer.quotes or {}) do
    local folded = type(q) == "string" and text.fold(q) or ""
    if folded ~= "" and haystack:find(folded, 1, true) then
      if not seen[folded] then seen[folded] = true quotes[#quotes + 1] = text.trim(q) end
    else
      invented = invented + 1
    end
  end
  local who = type(answer.author_level) == "string" and answer.author_level:lower() or nil
  if not M.author_levels[who] then who = post.author_level or "unknown" end
  return { pain_score = score, analysis = analysis, author_level = who, quotes = json.array(quotes), invented = invented }
end

---------------------------------------------------------------- a run

local function new_counts(schedule, priority)
  return { schedule_id = schedule.id, source = schedule.source_type, priority = priority and priority.slug,
           fetched = 0, invalid_posts = 0, duplicates = 0, judged = 0, failed_judgements = 0, kept = 0,
           dropped_below_threshold = 0, invented_quotes = 0, pain_point_ids = json.array {}, errors = json.array {} }
end

-- The source module for a type, or nil and an error in the source contract's shape.
local function source_module(sources, source_type)
  local ok, mod = pcall(function()
    return (sources or require "candor.discovery.sources").get(source_type)
  end)
  if not ok then
    return nil, { kind = "source", message = type(mod) == "table" and (mod.message or json.encode(mod)) or tostring(mod) }
  end
  if type(mod) ~= "table" or type(mod.fetch) ~= "function" then
    return nil, { kind = "source", message = string.format("no discovery source '%s'", tostring(source_type)) }
  end
  return mod
end

-- The source's posts, or nil and {kind, message, retry_after}; a source that
-- raises is a failure like one that returns an error.
local function fetch(mod, config, sopts)
  local ok, posts, err = pcall(mod.fetch, config, sopts)
  if not ok then return nil, { kind = "error", message = type(posts) == "table" and (posts.message or json.encode(posts)) or tostring(posts) } end
  if posts == nil then
    if type(err) ~= "table" then err = { kind = "error", message = tostring(err or "the source returned nothing") } end
    return nil, { kind = err.kind or "error", message = tostring(err.message or err.kind or "failed"), retry_after = err.retry_after }
  end
  if type(posts) ~= "table" then return nil, { kind = "error", message = "the source returned a " .. type(posts) .. ", not a list of posts" } end
  return posts
end

local function copy(t)
  local out = {}
  for k, v in pairs(type(t) == "table" and t or {}) do out[k] = v end
  return out
end

-- run(db, schedule_row, opts) -> counts
-- opts: {sources = module with get(name) (tests), now = ISO time, retry = policy,
--   profile = model profile, concurrency = judge calls at once (default: the
--   provider's limit), on_progress = fn(pct, step), on_log = fn(message)}.
-- counts: {schedule_id, source, priority, fetched, invalid_posts, duplicates,
--   judged, failed_judgements, kept, dropped_below_threshold, invented_quotes,
--   pain_point_ids, errors = {{stage, kind, message, source_id, title}...},
--   source_error = {kind, message, retry_after} when the source failed}.
-- Nothing is stored from a source that failed; last_run_at is set either way
-- (next_run_at is the scheduler's). Raises for what no retry mends: no such
-- priority, a missing key, a broken prompt or setting.
function M.run(db, schedule, opts)
  opts = opts or {}
  return async.run(function()
    local t0 = host.clock()
    local priority = Priorities:get(db, schedule.priority_id)
    if not priority then error(string.format("schedule %s has no priority '%s'", tostring(schedule.id), tostring(schedule.priority_id)), 0) end
    local counts = new_counts(schedule, priority)
    local now = opts.now or host.now()
    -- checks that spend nothing come first: settings, the judge's model and key
    local threshold, days = M.threshold(db, priority.id), M.window_days(db, priority.id)
    local since = M.days_before(now, days)
    local target = require("candor.llm.profiles").resolve(M.judge_tier, { db = db, profile = opts.profile })
    local limiter = require("candor.llm.limit").for_provider(target.provider, target.limits)
    local llm = require "candor.llm"

    local config = copy(schedule.config)
    local keywords = M.merge_keywords(priority.keywords, config.keywords)
    config.keywords = json.array(keywords)
    -- posts older than the de-duplication window could never be told from old
    -- ones, so a source asks only for newer posts unless the schedule says otherwise
    config.since = config.since or since
    local function finish()
      if schedule.id then Schedules:update(db, schedule.id, { last_run_at = now }) end
      require("candor.llm.log").flush(db)
      counts.elapsed_ms = math.floor((host.clock() - t0) * 1000 + 0.5)
      return counts
    end
    local function failed(err)
      if opts.on_log then opts.on_log(string.format("source %s failed: %s", schedule.source_type, err.message)) end
      counts.source_error = err
      counts.errors[#counts.errors + 1] = { stage = "source", kind = err.kind, message = err.message, retry_after = err.retry_after }
      return finish()
    end

    local mod, merr = source_module(opts.sources, schedule.source_type)
    if not mod then return failed(merr) end
    local source_purpose = "discovery:source:" .. schedule.source_type
    local posts, ferr = fetch(mod, config, { now = now, purpose_prefix = "discovery", llm = function(tier, req, o)
      local r = copy(req)
      r.purpose = r.purpose or source_purpose
      local co = copy(o)
      co.db, co.profile, co.retry = db, co.profile or opts.profile, co.retry or opts.retry
      return llm.call(tier, r, co)
    end })
    if not posts then return failed(ferr) end
    counts.fetched = #posts

    -- de-duplication before anything is spent: stored source posts and content
    -- in the window, then earlier posts of this batch
    local seen_ids, hashes = {}, Pains:recent_hashes(db, priority.id, since)
    local batch_ids, batch_hashes = {}, {}
    local todo = {}
    for _, raw in ipairs(posts) do
      local post, why = check_post(raw, schedule.source_type)
      if not post then
        counts.invalid_posts = counts.invalid_posts + 1
        counts.errors[#counts.errors + 1] = { stage = "post", kind = "invalid", message = why }
      else
        seen_ids[post.source_type] = seen_ids[post.source_type] or Pains:source_ids(db, priority.id, post.source_type)
        local key = post.source_type .. "\0" .. post.source_id
        post.hash = text.content_hash(post.title, post.content)
        if seen_ids[post.source_type][post.source_id] or hashes[post.hash] or batch_ids[key] or batch_hashes[post.hash] then
          counts.duplicates = counts.duplicates + 1
        else
          batch_ids[key], batch_hashes[post.hash] = true, true
          todo[#todo + 1] = post
        end
      end
    end

    -- one judge call per post, as many at once as the provider allows
    local purpose = "discovery:judge:" .. schedule.source_type
    local done, last_pct = 0, -1
    local function progress()
      if not opts.on_progress then return end
      local pct = #todo > 0 and math.floor(100 * done / #todo) or 100
      if pct ~= last_pct then
        last_pct = pct
        opts.on_progress(pct, string.format("judged %d of %d posts", done, #todo))
      end
    end
    progress()
    local verdicts = async.each(todo, function(post)
      local p = require("candor.prompt").render(M.judge_prompt, judge_vars(priority, keywords, post))
      local r, err = llm.call_target(target, { system = p.system, prompt = p.user, json = true, purpose = purpose },
        { db = db, retry = opts.retry })
      done = done + 1
      progress()
      if not r then return { error = err.message, kind = err.kind } end
      local j, why = M.check_judgement(r.json, post)
      if not j then return { error = why, kind = "invalid" } end
      j.model = (r.provider or target.provider) .. ":" .. (r.model or target.model or "")
      return j
    end, { concurrency = math.max(1, opts.concurrency or limiter.max) })

    local keep = {}
    for i, post in ipairs(todo) do
      local v = verdicts[i]
      if v.error then
        counts.failed_judgements = counts.failed_judgements + 1
        counts.errors[#counts.errors + 1] = { stage = "judge", kind = v.kind, message = v.error, source_id = post.source_id,
                                              title = post.title }
      else
        counts.judged = counts.judged + 1
        counts.invented_quotes = counts.invented_quotes + v.invented
        if v.pain_score >= threshold then keep[#keep + 1] = { post = post, v = v }
        else counts.dropped_below_threshold = counts.dropped_below_threshold + 1 end
      end
    end

    -- every kept post in one transaction, each checked again against what
    -- another run may have stored while this one was judging
    local stored = {}
    db:transaction(function()
      for _, k in ipairs(keep) do
        local post, v = k.post, k.v
        if Pains:duplicate_of(db, priority.id, post.source_type, post.source_id, post.hash, since) then
          counts.duplicates = counts.duplicates + 1
        else
          local row = Pains:insert(db, {
            priority_id = priority.id, schedule_id = schedule.id, source_type = post.source_type, source_url = post.url,
            source_id = post.source_id, title = post.title, content = post.content, author = post.author,
            author_level = v.author_level, pain_score = v.pain_score, pain_analysis = v.analysis,
            practitioner_quotes = v.quotes, status = "pending", content_hash = post.hash, discovered_at = now,
            metadata = { source = post.metadata, posted_at = post.posted_at, source_author_level = post.author_level,
                         judge = { model = v.model, invented_quotes = v.invented } },
          })
          stored[#stored + 1] = row.id
        end
      end
    end)
    counts.kept = #stored
    for i, id in ipairs(stored) do counts.pain_point_ids[i] = id end
    return finish()
  end, { name = "discovery " .. tostring(schedule.source_type) })
end

-- The priority row for a row, an id or a slug -> row | raises.
function M.priority(db, p)
  if type(p) == "table" then return p end
  local row = Priorities:by_slug(db, p) or Priorities:get(db, p)
  if not row then error(string.format("no messaging priority '%s' (see 'candor priority list')", tostring(p)), 0) end
  return row
end

-- run_priority(db, priority (row, id or slug), opts) -> {{schedule = row, counts = counts}...}
-- Every active schedule of the priority (opts.source: only that source type),
-- all at once; one that fails outright is reported in its counts (errors with
-- stage "run") and leaves the others alone. opts as for run.
function M.run_priority(db, priority, opts)
  opts = opts or {}
  priority = M.priority(db, priority)
  local filters = { priority_id = priority.id, is_active = true }
  if opts.source then filters.source_type = opts.source end
  local schedules = Schedules:list(db, filters)
  return async.run(function()
    return async.each(schedules, function(s)
      local ok, counts = pcall(M.run, db, s, opts)
      if not ok then
        local msg = type(counts) == "table" and (counts.message or json.encode(counts)) or tostring(counts)
        counts = new_counts(s, priority)
        counts.errors[1] = { stage = "run", kind = "error", message = msg }
        counts.run_error = msg
      end
      return { schedule = s, counts = counts }
    end)
  end, { name = "discovery " .. priority.slug })
end

---------------------------------------------------------------- review

-- review(db, id, "approved" | "rejected", reason) -> row (after), changed | nil
-- changed is false when the pain point already had that status (a new reason
-- for a rejection is still written). Approval clears a rejection's reason.
function M.review(db, id, status, reason)
  if status ~= "approved" and status ~= "rejected" then error("review: status must be approved or rejected", 2) end
  if reason then text.check_utf8(reason, "the reason") end
  local row = Pains:get(db, id)
  if not row then return nil end
  local changed = row.status ~= status
  local fields = { status = status }
  if status == "approved" then
    -- an approval's reason is kept in the metadata (the table has a column only for rejections)
    if reason then
      local meta = type(row.metadata) == "table" and row.metadata or {}
      if meta.approval_reason ~= reason then
        meta.approval_reason = reason
        fields.metadata = meta
      end
    end
    if not changed and not fields.metadata then return row, false end
    fields.rejection_reason = json.null
  else
    if not changed and (reason == nil or reason == row.rejection_reason) then return row, false end
    fields.rejection_reason = reason or json.null
  end
  Pains:update(db, id, fields)
  return Pains:get(db, id), changed
end

-- approve(db, id, opts) -> nil (no such pain point) | {row, changed, spec,
-- job, stored, error}: a pain point approved now whose priority has an
-- auto-generation starts that pipeline run (spec), synchronously; its job and
-- stored assets, or the error that stopped it (the approval stands either way).
-- opts as for generate.
function M.approve(db, id, opts)
  local row, changed = M.review(db, id, "approved", opts and opts.reason)
  if not row then return nil end
  local out = { row = row, changed = changed }
  if not changed then return out end
  out.spec = M.auto_generate(db, row.priority_id)
  if not out.spec then return out end
  local ok, job, stored = pcall(M.generate, db, row, out.spec, opts)
  if ok then out.job, out.stored = job, stored
  else
    out.error = type(job) == "table" and (job.message or json.encode(job)) or tostring(job)
    out.job = type(job) == "table" and job.job_id and require("candor.repo.generation_jobs"):get(db, job.job_id) or nil
  end
  return out
end

---------------------------------------------------------------- auto-generation

-- A priority's auto-generation: the settings row (priority_id, key
-- "auto_generate") holding JSON {pipeline, assets = {...}, voices = {...}}.
M.auto_generate_key = "auto_generate"

-- check_auto_generate(db, spec) -> spec normalised; raises a usage error naming
-- what is wrong (unknown pipeline, asset type or voice).
function M.check_auto_generate(db, spec)
  if type(spec) ~= "table" or #spec > 0 then
    error(usage('auto-generate must be a JSON object {"pipeline": NAME, "assets": [...], "voices": [...]}'), 0)
  end
  for k in pairs(spec) do
    if k ~= "pipeline" and k ~= "assets" and k ~= "voices" then
      error(usage(string.format("auto-generate: unknown key '%s' (pipeline, assets, voices)", tostring(k))), 0)
    end
  end
  local function list(v, what)
    if v == nil then return nil end
    if type(v) == "string" then v = { v } end
    if type(v) ~= "table" then error(usage("auto-generate: " .. what .. " must be a list of names"), 0) end
    for _, x in ipairs(v) do
      if type(x) ~= "string" then error(usage("auto-generate: " .. what .. " must be a list of names"), 0) end
    end
    return v
  end
  local pipeline = require "candor.pipeline"
  local out = {}
  if spec.pipeline ~= nil and type(spec.pipeline) ~= "string" then error(usage("auto-generate: pipeline must be a name"), 0) end
  out.pipeline = spec.pipeline
  local name = spec.pipeline or Settings:get_value(db, "default_pipeline") or "standard"
  local wf = require("candor.workflow").load("pipelines/" .. name)
  if wf.needs_text then error(usage(string.format("auto-generate: pipeline '%s' needs supplied text; choose another", name)), 0) end
  local assets = list(spec.assets, "assets")
  if not assets or #assets == 0 then error(usage("auto-generate: name the asset types (\"assets\": [\"battlecard\"] or [\"all\"])"), 0) end
  out.assets = json.array(pipeline.resolve_assets(assets))
  if #assets == 1 and assets[1] == "all" then out.assets = json.array { "all" } end
  if wf.single_asset and #out.assets ~= 1 then
    error(usage(string.format("auto-generate: pipeline '%s' stores one asset type", name)), 0)
  end
  local voices = list(spec.voices, "voices")
  if voices and #voices > 0 then
    local rows = pipeline.resolve_voices(db, require("candor.repo").bind(db), voices)
    if #voices == 1 and voices[1] == "all" then out.voices = json.array { "all" }
    else
      out.voices = json.array {}
      for i, v in ipairs(rows) do out.voices[i] = v.slug end
    end
  end
  return out
end

-- auto_generate(db, priority_id) -> spec | nil
function M.auto_generate(db, priority_id)
  local raw = Settings:get_scoped(db, M.auto_generate_key, priority_id)
  if raw == nil then return nil end
  local ok, spec = pcall(json.decode, raw)
  if not ok or type(spec) ~= "table" then
    error(string.format("the auto_generate setting of priority %s is not a JSON object: %s", priority_id, raw), 0)
  end
  return spec
end

-- set_auto_generate(db, priority_id, spec | nil): checked, stored or removed.
function M.set_auto_generate(db, priority_id, spec)
  if spec == nil then return Settings:delete_scoped(db, M.auto_generate_key, priority_id) end
  spec = M.check_auto_generate(db, spec)
  Settings:set_scoped(db, M.auto_generate_key, json.encode(spec), priority_id,
    "Approving a pain point of this priority starts this pipeline run: {pipeline, assets, voices}.")
  return spec
end

-- generate(db, pain_row, spec, opts) -> job, stored (or raises, the job marked
-- failed). opts: cache (as for pipeline.prepare), and pipeline.start's options.
function M.generate(db, pain, spec, opts)
  local pipeline = require "candor.pipeline"
  local run = pipeline.prepare(db, { pain = { id = pain.id }, pipeline = spec.pipeline, assets = spec.assets,
                                     voices = spec.voices, cache = opts and opts.cache })
  return pipeline.start(run, opts)
end

---------------------------------------------------------------- priorities

-- "Cold starts (Lambda)" -> "cold-starts-lambda"
function M.slugify(name)
  local s = name:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  return s
end

-- "a, b,,c" -> {"a", "b", "c"}: trimmed, empty ones and repeats left out.
function M.parse_keywords(s)
  local out = {}
  for k in tostring(s):gmatch("[^,]+") do out[#out + 1] = k end
  return M.merge_keywords(out)
end

local function need_text(v, what)
  if type(v) ~= "string" or not v:match("%S") then error(usage(what .. " must not be empty"), 0) end
  return text.trim(text.check_utf8(v, what))
end

-- add_priority(db, {name, slug, description, keywords, product_context, auto_generate}) -> row
function M.add_priority(db, f)
  local name = need_text(f.name, "the name")
  local slug = f.slug and text.trim(f.slug) or M.slugify(name)
  if slug == "" or slug:find("[^%w%-_]") then
    error(usage(string.format("the slug '%s' may hold only letters, digits, '-' and '_'", slug)), 0)
  end
  local description = need_text(f.description, "the description")
  local keywords = M.merge_keywords(f.keywords)
  if #keywords == 0 then error(usage("give at least one keyword"), 0) end
  if Priorities:by_slug(db, slug) then error(string.format("a priority '%s' exists already", slug), 0) end
  local spec = f.auto_generate and M.check_auto_generate(db, f.auto_generate)
  return db:transaction(function()
    local row = Priorities:insert(db, { name = name, slug = slug, description = description, keywords = json.array(keywords),
      product_context = f.product_context and text.trim(f.product_context) or "", is_active = true })
    if spec then M.set_auto_generate(db, row.id, spec) end
    return Priorities:get(db, row.id)
  end)
end

-- edit_priority(db, row, {name, description, keywords, product_context, is_active,
-- auto_generate = spec | false (remove)}) -> row
function M.edit_priority(db, row, f)
  local fields = {}
  if f.name ~= nil then fields.name = need_text(f.name, "the name") end
  if f.description ~= nil then fields.description = need_text(f.description, "the description") end
  if f.keywords ~= nil then
    local k = M.merge_keywords(f.keywords)
    if #k == 0 then error(usage("give at least one keyword"), 0) end
    fields.keywords = json.array(k)
  end
  if f.product_context ~= nil then fields.product_context = text.trim(f.product_context) end
  if f.is_active ~= nil then fields.is_active = f.is_active end
  local spec = f.auto_generate and M.check_auto_generate(db, f.auto_generate)
  db:transaction(function()
    if next(fields) then Priorities:update(db, row.id, fields) end
    if spec then M.set_auto_generate(db, row.id, spec)
    elseif f.auto_generate == false then M.set_auto_generate(db, row.id, nil) end
  end)
  return Priorities:get(db, row.id)
end

return M
