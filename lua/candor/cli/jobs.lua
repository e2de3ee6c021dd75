-- candor jobs [list|show ID|watch ID]
local show = require "candor.cli.show"

local M = {
  name = "jobs",
  summary = "List generation jobs, show one with its steps log, or watch one as it runs.",
  usage = "candor jobs [list] [--status S] [--limit N] [--json]\n"
    .. "       candor jobs show ID [--json]\n"
    .. "       candor jobs watch ID [--interval MS]",
  description = "Each pipeline run is a job: pending, running, then completed or failed, with its\n"
    .. "progress, current step and a log of steps (models, tokens, scores per iteration)\n"
    .. "written as it goes. 'watch' exits 0 when the job completes and 1 when it fails.",
  options = {
    { "status", "s", arg = "S", help = "list: only jobs with this status (pending, running, completed, failed)" },
    { "limit", "n", arg = "N", help = "list: how many jobs, newest first (default 20)" },
    { "json", help = "list, show: print JSON" },
    { "interval", arg = "MS", help = "watch: milliseconds between reads (default 500)" },
  },
  max_args = 2,
  examples = { "candor jobs", "candor jobs --status failed", "candor jobs show Yx3k...", "candor jobs watch Yx3k..." },
}

local STATUSES = { pending = true, running = true, completed = true, failed = true }

-- Which options each subcommand takes (the common ones aside).
local ALLOWED = {
  list = { status = true, limit = true, json = true },
  show = { json = true },
  watch = { interval = true },
}

local function jobs_repo() return require "candor.repo.generation_jobs" end

local function context(row) return type(row.product_context) == "table" and row.product_context or {} end

-- The job's running time: started to completed, or to now while it runs.
local function duration_ms(row)
  local jobs = require "candor.jobs"
  local t0 = jobs.iso_seconds(row.started_at)
  if not t0 then return nil end
  return show.span_ms(t0, jobs.iso_seconds(row.completed_at)
    or (row.status == "running" and jobs.iso_seconds(require("core.host").now())))
end

-- An action job's id is not a generation job's, but it is what a user may have at hand.
local function load_job(app, id)
  local row = jobs_repo():get(app.db(), id)
  if not row then
    local action = require("candor.repo.action_jobs"):get(app.db(), id)
    if action then
      error(string.format("no generation job '%s': that is an action job: candor session actions %s",
        id, action.session_id), 0)
    end
  end
  return show.found(row, "job", id)
end

-- Decoded JSON loses the difference between [] and {}: put it back where we know.
local function as_json(row)
  local json = require "candor.json"
  local steps = type(row.pipeline_steps) == "table" and row.pipeline_steps or {}
  for _, s in ipairs(steps) do
    if type(s) == "table" then
      for _, k in ipairs({ "models", "iterations" }) do
        if type(s[k]) == "table" then json.array(s[k]) end
      end
    end
  end
  if type(row.pipeline_steps) == "table" or row.pipeline_steps == nil then row.pipeline_steps = json.array(steps) end
  return row
end

local function summary(row)
  return {
    id = row.id, status = row.status, progress = row.progress, pipeline = context(row).pipeline,
    current_step = row.current_step, pain_point_id = row.pain_point_id, priority_id = row.priority_id,
    created_at = row.created_at, started_at = row.started_at, completed_at = row.completed_at,
    duration_ms = duration_ms(row), error_message = row.error_message,
  }
end

local function list(app, opts)
  local status = opts.status
  if status and not STATUSES[status] then
    error(show.usage("jobs list: --status must be pending, running, completed or failed"), 0)
  end
  local limit = show.whole("jobs list", opts, "limit", 20)
  local rows = jobs_repo():list(app.db(), { status = status }, { order = "created_at DESC, rowid DESC", limit = limit })
  if opts.json then
    show.json_rows(app, rows, summary)
    return 0
  end
  if #rows == 0 then
    app.out(status and ("no " .. status .. " jobs\n") or "no jobs yet (a pipeline run creates one)\n")
    return 0
  end
  app.out(string.format("%-21s  %-9s %4s  %-12s %-19s  %8s  %s\n", "id", "status", "pct", "pipeline", "created",
    "duration", "step"))
  for _, r in ipairs(rows) do
    local step = r.status == "failed" and ("failed: " .. show.one_line(r.error_message, 60))
      or show.one_line(r.current_step, 60)
    app.out(string.format("%-21s  %-9s %3d%%  %s %-19s  %8s  %s\n", r.id, r.status, r.progress or 0,
      show.fit(context(r).pipeline or "-", 12), show.time(r.created_at), show.duration(duration_ms(r)), step))
  end
  return 0
end

local function fmt_score(v)
  if type(v) == "number" then return (string.format("%.1f", v):gsub("%.0$", "")) end
  if type(v) == "boolean" then return v and "yes" or "no" end
  return tostring(v)
end

-- "slop 2.1, vendor_speak 0.5": a scores table in a stable order.
local function fmt_scores(scores)
  if type(scores) ~= "table" then return scores ~= nil and tostring(scores) or "" end
  local items = {}
  for k, v in pairs(scores) do
    if type(v) ~= "table" then items[#items + 1] = { tostring(k), v } end
  end
  table.sort(items, function(a, b) return a[1] < b[1] end)
  for i, kv in ipairs(items) do items[i] = kv[1] .. " " .. fmt_score(kv[2]) end
  return table.concat(items, ", ")
end

-- {"slop", {dimension = "persona", score = 5}} -> "slop, dimension persona, score 5"
local function fmt_list(list)
  local out = {}
  for i, x in ipairs(list) do out[i] = type(x) == "table" and fmt_scores(x) or tostring(x) end
  return table.concat(out, ", ")
end

local function show_steps(app, steps)
  if type(steps) ~= "table" or #steps == 0 then
    app.out("\nsteps: none yet\n")
    return
  end
  app.out("\nsteps:\n")
  local width = 10
  for _, s in ipairs(steps) do
    if type(s) == "table" then width = math.max(width, utf8.len(show.one_line(s.name, 60)) or 60) end
  end
  for _, s in ipairs(steps) do
    if type(s) == "table" then
      local models = type(s.models) == "table" and table.concat(s.models, ", ") or (s.model and tostring(s.model) or "")
      local tokens = ""
      if s.input_tokens or s.output_tokens then
        tokens = string.format("%d in / %d out tokens", s.input_tokens or 0, s.output_tokens or 0)
      end
      local line = string.format("  %s %-8s %8s  %s%s%s", show.fit(s.name, width), tostring(s.status or "?"),
        show.duration(s.duration_ms), models, (models ~= "" and tokens ~= "") and "  " or "", tokens)
      app.out((line:gsub("%s+$", "")), "\n")
      if s.error then app.out("      error: ", show.one_line(s.error, 200), "\n") end
      for _, it in ipairs(type(s.iterations) == "table" and s.iterations or {}) do
        if type(it) == "table" then
          local verdict = it.pass == true and "pass" or it.pass == false and "FAIL" or ""
          local failing = type(it.failing) == "table" and #it.failing > 0
            and ("  (failing: " .. fmt_list(it.failing) .. ")") or ""
          app.out(string.format("      iteration %s: %s%s%s%s%s\n", tostring(it.n or "?"), fmt_scores(it.scores),
            verdict ~= "" and "  " or "", verdict, failing, it.note and ("  -- " .. show.one_line(it.note, 80)) or ""))
        end
      end
      if s.stopped then app.out("      stopped: ", tostring(s.stopped), "\n") end
      if s.note then app.out("      note: ", show.one_line(s.note, 200), "\n") end
    end
  end
end

local function cmd_show(app, opts, id)
  local row = load_job(app, id)
  if opts.json then
    show.json(app, as_json(row))
    return 0
  end
  local pc = context(row)
  app.out(string.format("job %s\n", row.id))
  local field = show.fields(app, 12)
  field("status", string.format("%s (%d%%)", row.status, row.progress or 0))
  field("step", row.current_step and show.printable(row.current_step))
  field("pipeline", pc.pipeline and show.printable(pc.pipeline))
  if row.pain_point_id then
    local pain = require("candor.repo.discovered_pain_points"):get(app.db(), row.pain_point_id)
    field("pain point", row.pain_point_id .. (pain and ("  " .. show.one_line(pain.title, 70)) or ""))
  end
  if row.priority_id then
    local pr = require("candor.repo.messaging_priorities"):get(app.db(), row.priority_id)
    field("priority", pr and show.printable(pr.name) or row.priority_id)
  end
  local function names(list)
    if type(list) ~= "table" then return nil end
    local out = {}
    for i, x in ipairs(list) do out[i] = type(x) == "table" and tostring(x.name or x.slug or x.id) or tostring(x) end
    return #out > 0 and show.printable(table.concat(out, ", ")) or nil
  end
  field("asset types", names(pc.asset_types or pc.assetTypes))
  field("voices", names(pc.voices))
  field("documents", names(pc.product_docs or pc.productDocs))
  field("profile", type(pc.profile) == "string" and pc.profile or nil)
  if type(pc.runner) == "table" then
    field("runner", string.format("pid %s on %s", tostring(pc.runner.pid), tostring(pc.runner.host)))
  end
  field("created", show.time(row.created_at))
  field("started", row.started_at and show.time(row.started_at))
  field("completed", row.completed_at and show.time(row.completed_at))
  field("duration", row.started_at and show.duration(duration_ms(row)))
  if (row.retry_count or 0) > 0 then field("retries", tostring(row.retry_count)) end
  if type(pc.result) == "table" and next(pc.result) then
    field("result", require("candor.json").encode(pc.result))
  end
  if row.status == "failed" then
    app.out("\nerror: ", tostring(row.error_message or "(no message)"), "\n")
    if row.error_stack and app.verbose then app.out(tostring(row.error_stack), "\n") end
  end
  show_steps(app, row.pipeline_steps)
  local assets = require("candor.repo.messaging_assets"):count(app.db(), { job_id = row.id })
  if assets > 0 then
    app.out(string.format("\n%d asset(s): candor assets list --job %s\n", assets, row.id))
  end
  return 0
end

-- On a terminal the line is redrawn with \r, so it must not wrap: keep it short.
local function progress_line(row, max)
  local step = row.current_step or row.status
  return string.format("[%3d%%] %s", row.progress or 0, show.one_line(step, max))
end

local function watch(app, opts, id)
  local async = require "candor.async"
  local jobs = require "candor.jobs"
  local interval = show.whole("jobs watch", opts, "interval", 500)
  local db = app.db()
  local R = jobs_repo()
  local row = load_job(app, id)
  local redraw = app.tty and os.getenv("TERM") ~= "dumb"   -- \r and erase-line need a real terminal
  local last
  async.run(function()
    while true do
      local line = progress_line(row, redraw and 70 or 200)
      if line ~= last then
        if redraw then app.out("\r", line, "\27[K") else app.out(line, "\n") end
        io.stdout:flush()
        last = line
      end
      if row.status == "completed" or row.status == "failed" then break end
      -- a runner that died mid-run would leave the job running for ever
      if row.status == "running" and not jobs.alive(row) then jobs.recover(db) end
      async.sleep(interval)
      row = R:get(db, id) or error("job '" .. id .. "' was deleted", 0)
    end
  end)
  if redraw then app.out("\n") end
  if row.status == "failed" then
    error(string.format("job %s failed: %s", row.id, tostring(row.error_message or "(no message)")), 0)
  end
  app.out(string.format("job %s completed in %s\n", row.id, show.duration(duration_ms(row))))
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1] or "list"
  show.check_subcommand(M, sub, opts, ALLOWED, "list, show ID, watch ID")
  if sub == "list" then
    if pos[2] then error(show.usage("jobs list: unexpected argument '%s'", pos[2]), 0) end
    return list(app, opts)
  end
  local id = pos[2]
  if not id then error(show.usage("jobs %s: missing the job ID", sub), 0) end
  if sub == "show" then return cmd_show(app, opts, id) end
  return watch(app, opts, id)
end

M.duration_ms = duration_ms

return M
