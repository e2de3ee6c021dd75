-- Workspace actions: each is a workflow in workflows/actions/NAME.lua, run as an
-- action_jobs row with real progress, on the session's active version of one
-- asset type, ending in a new scored version (or a report, or a clear error).
-- Actions started at once on the same session all complete, each with its own
-- version: version numbers come from workspace:add_version, which is atomic.
local async = require "candor.async"
local json = require "candor.json"
local host = require "core.host"
local pipeline = require "candor.pipeline"
local judge = require "candor.pipeline.judge"
local steps = require "candor.workspace.steps"
local tracker = require "candor.tracker"

local M = {}

M.names = { "deslop", "regenerate", "change-voice", "adversarial", "multi-perspective", "competitive-dive", "community-check" }

-- session_versions.source for each action (DATABASE.md's vocabulary).
M.sources = { deslop = "deslop", regenerate = "regenerate", ["change-voice"] = "voice_change", adversarial = "adversarial",
              ["multi-perspective"] = "multi_perspective", ["competitive-dive"] = "competitive_dive",
              ["community-check"] = "community_check" }

local usage = require("candor.workflow").usage   -- the error a command turns into exit code 2

---------------------------------------------------------------- the action_jobs row as a tracker

local live = {}   -- ids of the action jobs this process is running

-- track(db, row) -> the action_jobs row as a tracker (candor.tracker, the same
-- methods as a generation job's): progress and current step live, each step's
-- begin its current step; the steps go into the result when the action ends.
function M.track(db, row)
  return tracker.new(db, row, { repo = require "candor.repo.action_jobs", begin_is_current = true })
end

M.throttle_ms = tracker.throttle_ms   -- to read; set candor.tracker.throttle_ms to change it

---------------------------------------------------------------- running an action

-- The version an action starts from: the active one of asset_type (or of the
-- session's only asset type) -> asset_type, version.
local function starting_version(W, session, asset_type)
  local active = W:active(session)
  if not asset_type then
    local types = {}
    for t in pairs(active) do types[#types + 1] = t end
    if #types ~= 1 then
      table.sort(types)
      error(usage(#types == 0 and string.format("session %s has no versions yet: generate or edit one first", session.id)
        or ("name the asset type with --asset (the session has " .. table.concat(types, ", ") .. ")")), 0)
    end
    asset_type = types[1]
  end
  local v = active[asset_type]
  if not v then error(usage(string.format("session %s has no %s version yet", session.id, asset_type)), 0) end
  return asset_type, v
end

-- The run state of an action: the pipeline's, for this session's pain,
-- documents, focus and one asset type in the version's voice.
local function action_run(W, session, asset_type, voice, opts)
  local db = W.db
  local run = pipeline.new_run(db, {
    pipeline = "action", pain = W:pain(session), documents = W:documents(session), assets = { asset_type },
    voices = { voice }, focus = session.focus_instructions or "", profile = opts.profile or (session.metadata or {}).modelProfile,
    judges = true, retry = opts.retry, cache = opts.cache == nil and true or opts.cache,
    max_iterations = require("candor.repo.settings"):whole_number(db, "max_refinement_iterations", 3, 0),
  })
  return run
end

-- The research of an action belongs to a generation job: the session's, or one
-- made for it (competitive_research rows need a job).
local function research_job(W, session, action_row)
  if session.job_id then return session.job_id end
  local row = require("candor.repo.generation_jobs"):insert(W.db, {
    pain_point_id = session.pain_point_id or json.null, status = "completed", progress = 100,
    product_context = { action = action_row.action_name, action_job_id = action_row.id, session_id = session.id },
    completed_at = host.now(),
  })
  return row.id
end

-- What an action workflow may use, beyond a workflow's ctx. made gets the
-- version the action stored and the one that became active meanwhile.
local function extend(ctx, W, session, run, row, version, voice, named, made)
  local S = pipeline.steps(run)
  S.flagged = function(d) return steps.flagged(run, d) end
  for _, name in ipairs { "deslop", "change_voice", "perspective_rewrite", "competitive_rewrite", "community_check",
                          "community_rewrite" } do
    local fn = steps[name]
    local label = name:gsub("_", "-")
    S[name] = function(...)
      local st = run.job:begin(label)
      local r = pipeline.in_step(st, fn, run, ...)
      st:finish(r[1] and "done" or "failed")
      if not r[1] then error(r[2], 0) end
      return table.unpack(r, 2, r.n)
    end
  end
  ctx.step, ctx.each, ctx.combine = S, pipeline.each, pipeline.combine
  ctx.session, ctx.asset_type, ctx.voice, ctx.version = session, row.asset_type, voice, version
  ctx.voice_named = function(name)
    if named and (name == named.slug or name == named.name) then return named end
    return W:voice_named(name)
  end
  -- draft() -> the active version as a draft the steps take
  ctx.draft = function()
    local title = version.content:match("^%s*#%s+([^\n]+)") or row.asset_type
    return { asset = row.asset_type, voice = voice, title = title, content = version.content, origin = "version", prompt = {} }
  end
  ctx.progress = function(pct, step) run.job:progress(pct, step) end
  -- add_version(d, detail) -> version: d scored (deterministic scorers and the
  -- judges, against d's voice) and stored as a new version, made active
  -- unless another became active while the action ran (an edit, say: it is
  -- kept active, see workspace add_version_since; the result says so).
  ctx.add_version = function(d, detail)
    local s = d.scores or judge.score(run, d)
    run.job:progress(95, "storing the new version")
    local sd = require("candor.workspace").from_version(version, { action = row.action_name, action_job_id = row.id,
      voice = d.voice.slug, source = s.source, gates = s.gates, judged = s.judged, iterations = d.iterations })
    for k, v in pairs(detail or {}) do sd[k] = v end
    local sc = s.scores
    local v, meanwhile = W:add_version_since(session.id, row.asset_type, version, {
      content = d.content, source = M.sources[row.action_name] or row.action_name, source_detail = sd,
      scores = { slop = sc.slop, vendor_speak = sc.vendor_speak, authenticity = sc.authenticity,
                 specificity = sc.specificity, persona_avg = sc.persona_avg },
      passes_gates = s.pass,
    })
    made.version, made.meanwhile = v, meanwhile
    return v
  end
  ctx.research_for = function()
    run.research_job_id = run.research_job_id or research_job(W, session, row)
  end
end

-- The options an action may take (beyond asset_type): each action workflow
-- names the ones it takes in its `options` list, and may check their values in
-- check(opts, about), which raises a usage error (candor.workflow's usage).
-- about: the version the action would start from (asset_type, version, its
-- voice) and voice_named(name) -> the voice profile (a usage error if none).
M.options = { "voice", "rewrite", "rounds" }

-- Refuses the options the action does not take, then runs its own check.
local function check_options(wf, name, opts, about)
  local takes = {}
  for _, o in ipairs(wf.options or {}) do takes[o] = true end
  for _, o in ipairs(M.options) do
    if opts[o] ~= nil and not takes[o] then
      error(usage(string.format("action '%s' takes no --%s (it takes %s)", name, o,
        #(wf.options or {}) > 0 and "--" .. table.concat(wf.options, ", --") or "only --asset")), 0)
    end
  end
  if wf.check then wf.check(opts, about) end
end

-- start(W, session_id, name, {asset_type, voice, rewrite, rounds, retry, cache, profile,
--   on_progress = fn(pct, step)}) -> the action_jobs row and the workflow's task:
-- awaiting it gives the workflow's own result (a version row, say); once it has
-- ended, task.action_result holds what the row records (or task.action_error,
-- with task.action_usage when it was a usage error): for a version, its id and
-- number, passes_gates, and activated (false when another version became
-- active while the action ran: then active_version_id and
-- active_version_number name that one, which stays active).
-- -> the action_jobs row and its task (running). Misuse (unknown action, no
-- version, an option the action does not take or its check refuses) raises a
-- usage error before any row is written or model called.
function M.start(W, session_id, name, opts)
  opts = opts or {}
  local session = W:get(session_id)
  local known = false
  for _, n in ipairs(M.names) do if n == name then known = true end end
  local workflow = require "candor.workflow"
  local ok, wf = pcall(workflow.load, "actions/" .. tostring(name))
  if not ok then
    if known then error(wf, 0) end
    error(usage(string.format("no action '%s' (actions: %s)", tostring(name), table.concat(M.names, ", "))), 0)
  end
  local asset_type, version = starting_version(W, session, opts.asset_type)
  local voice_slug = type(version.source_detail) == "table" and version.source_detail.voice
  local voice = voice_slug and require("candor.repo.voice_profiles"):by_slug(W.db, voice_slug) or W:voice(session)
  local named_voice
  check_options(wf, name, opts, { asset_type = asset_type, version = version, voice = voice,
    voice_named = function(voice_name)
      named_voice = W:voice_named(voice_name)
      return named_voice
    end })
  local run = action_run(W, session, asset_type, voice, opts)
  for _, tier in ipairs(wf.tiers or {}) do run.target(tier) end   -- a missing key fails here, before any row
  -- the runner record lets a later start tell a run whose process died
  local row = require("candor.repo.action_jobs"):insert(W.db, { session_id = session.id, asset_type = asset_type,
    action_name = name, status = "running", current_step = "starting", progress = 0,
    result = { runner = require("candor.jobs").this_runner() } })
  live[row.id] = true
  run.job = M.track(W.db, row)
  run.job.on_progress = opts.on_progress
  -- The workflow's own task is the action's; what it ends with is written when
  -- it ends (task.action_result or task.action_error), with no task in between.
  local made = {}
  local function finished(t)
    live[row.id] = nil
    local ok, err = pcall(function()
      -- its llm_calls rows go with the next batch (within 100 ms; at exit for the CLI)
      if t.status ~= "done" then
        local e = t.error
        t.action_error = type(e) == "table" and (e.message or json.encode(e)) or tostring(e)
        t.action_usage = type(e) == "table" and e.kind == "usage"
        run.job:close { status = "failed", error_message = t.action_error, result = { steps = json.array(run.job.list) } }
        return
      end
      local out = t.results[1]
      local result = { steps = json.array(run.job.list), tokens = run.tokens }
      if type(out) == "table" and out.session_id and out.version_number then   -- a version row
        result.version_id, result.version_number = out.id, out.version_number
        result.passes_gates = out.passes_gates
      elseif type(out) == "table" then
        for k, v in pairs(out) do result[k] = v end
      end
      if made.version then   -- whether its version is the active one, and if not which is
        result.activated = made.meanwhile == nil
        if made.meanwhile then
          result.active_version_id, result.active_version_number = made.meanwhile.id, made.meanwhile.version_number
        end
      end
      run.job:close { status = "completed", progress = 100, current_step = "done", result = result }
      t.action_result = result
    end)
    if not ok then t.action_error = "could not record the action's end: " .. tostring(err) end
  end
  local task = workflow.start(wf, opts, {
    db = W.db, task_ctx = { session_id = session.id, profile = run.profile, purpose = "action:" .. name },
    extend = function(ctx) extend(ctx, W, session, run, row, version, voice, named_voice, made) end,
    on_done = finished,
  })
  return row, task
end

-- outcome(task) -> the action's result, or raises its error (once it has ended).
local function outcome(task)
  if task.action_error then error(task.action_usage and usage(task.action_error) or task.action_error, 0) end
  return task.action_result
end

-- recover(db) -> n: action jobs left pending or running by a process that
-- stopped are marked failed (the session's versions are as they were: a version
-- is written in one transaction at the very end).
function M.recover(db)
  local jobs = require "candor.jobs"
  local R = require "candor.repo.action_jobs"
  local n = 0
  for _, row in ipairs(db:query("SELECT id FROM action_jobs WHERE status IN ('pending', 'running')")) do
    local marked = db:transaction(function()
      local now = R:get(db, row.id)
      if not now or (now.status ~= "pending" and now.status ~= "running") then return false end
      local runner = type(now.result) == "table" and now.result.runner or nil
      if jobs.runner_alive(runner, live[now.id]) then return false end
      -- its version may have been written just before the process stopped
      local made = db:first([[SELECT id, version_number FROM session_versions WHERE session_id = ?
        AND json_extract(source_detail, '$.action_job_id') = ?]], now.session_id, now.id)
      if made then
        return R:update(db, now.id, { status = "completed", progress = 100, current_step = "done",
          result = { version_id = made.id, version_number = made.version_number, recovered = true } })
      end
      local pid = type(runner) == "table" and tonumber(runner.pid)
      return R:update(db, now.id, { status = "failed", error_message = string.format(
        "the process running this action%s stopped before it finished; the session's versions are as they were",
        pid and string.format(" (pid %d)", math.floor(pid)) or "") })
    end)
    if marked then n = n + 1 end
  end
  return n
end

-- run(W, session_id, name, opts) -> result (waits); raises the action's error.
function M.run(W, session_id, name, opts)
  local _, task = M.start(W, session_id, name, opts)
  return outcome(async.join(task))
end

---------------------------------------------------------------- candor session action

-- candor session action NAME SESSION_ID [--asset T] [--voice V] [--rewrite] [--rounds N] [--json]
function M.cli(app, opts, pos)
  local name, id = pos[2], pos[3]
  if not name or not id then
    error(usage("session action: give the action and the session: candor session action NAME SESSION_ID ("
      .. table.concat(M.names, ", ") .. ")"), 0)
  end
  if pos[4] then error(usage("session action: unexpected argument '" .. pos[4] .. "'"), 0) end
  local show = require "candor.cli.show"
  local W = require("candor.workspace").for_user(app.db(), opts.user)
  local progress, clear = show.progress(true)   -- off a terminal: every line, not one a step
  local _, task = M.start(W, id, name, { asset_type = opts.asset, voice = opts.voice, rewrite = opts.rewrite,
    rounds = opts.rounds, on_progress = not opts.json and function(pct, step)
      progress(string.format("[%3d%%] %s", pct, step or ""))
    end or nil })
  local t = async.join(task)
  if not opts.json then clear() end
  if t.action_usage then error(usage(t.action_error), 0) end   -- a check the workflow made late: still misuse
  if t.action_error then error(string.format("action %s failed: %s", name, t.action_error), 0) end
  local result = t.action_result
  if opts.json then show.json(app, result) return 0 end
  if result.report then
    for _, c in ipairs(result.report.claims) do
      app.out(string.format("%-12s %s\n", c.verdict, c.claim))
      if c.verdict ~= "supported" and c.practitioner_view ~= "" then app.out("             practitioners: ", c.practitioner_view, "\n") end
    end
    if result.report.summary ~= "" then app.out("\n", result.report.summary, "\n") end
  end
  if result.version_id then
    local v = require("candor.repo.session_versions"):get(app.db(), result.version_id)
    app.out(string.format("%s %s: version %d%s (%s) slop %s, vendor-speak %s, specificity %s, authenticity %s, persona %s\n",
      name, v.asset_type, v.version_number, result.activated == false and " saved but not made active" or "",
      v.passes_gates and "passes its gates" or "fails a gate",
      show.score(v.slop_score), show.score(v.vendor_speak_score), show.score(v.specificity_score),
      show.score(v.authenticity_score), show.score(v.persona_avg_score)))
    if result.activated == false then
      local active = W:version(v.session_id, result.active_version_id)
      for _, line in ipairs(require("candor.workspace").kept_note(v.session_id, v, active, "while the action ran")) do
        app.out(line, "\n")
      end
    end
  elseif result.report and result.disputed == 0 then
    app.out("practitioners dispute none of the claims; no new version\n")
  elseif result.report then
    app.out(string.format("%d claim%s disputed or unverifiable; rerun with --rewrite for a version that fixes them\n",
      result.disputed, result.disputed == 1 and "" or "s"))
  end
  return 0
end

return M
