-- candor schedule add|list|edit|enable|disable|remove|run|history
local show = require "candor.cli.show"

local M = {
  name = "schedule",
  summary = "Schedule workflows and discovery runs; list them, run the due ones, show past runs.",
  usage = "candor schedule add (--workflow NAME [--param K=V ...] | --discovery --priority SLUG --source TYPE\n"
    .. "                            [--config JSON]) (--every SPEC | --cron \"EXPR\") [--tz ZONE] [--name NAME]\n"
    .. "       candor schedule list [--json]\n"
    .. "       candor schedule edit ID [--every SPEC | --cron \"EXPR\"] [--tz ZONE] [--param K=V ...] [--config JSON]\n"
    .. "       candor schedule enable|disable|remove ID\n"
    .. "       candor schedule run [--concurrency N]\n"
    .. "       candor schedule history [ID] [--limit N] [--json]",
  description = "A schedule names what runs (a workflow with its parameters, or a discovery source for a\n"
    .. "priority) and when: an interval (--every 30m, 4h, 1d, 2h30m; at least 1m) or a five-field\n"
    .. "cron expression (--cron \"0 9 * * 1-5\", @hourly, @daily, @weekly, @monthly) on the clock of\n"
    .. "--tz (an IANA zone such as Europe/Berlin; default UTC). 'run' runs what is due once and\n"
    .. "exits (for cron or a systemd timer); 'candor scheduler' keeps running them as they come due.\n"
    .. "Runs missed while nothing was running run once, not once per missed interval.\n"
    .. "ID is a schedule's id or, for a workflow schedule, its name. See docs/scheduling.md.",
  options = {
    { "workflow", "w", arg = "NAME", help = "add: the workflow to run (a name under workflows/)" },
    { "param", "p", arg = "K=V", repeated = true, help = "add, edit: a workflow parameter (repeatable)" },
    { "discovery", help = "add: schedule a discovery source for a priority" },
    { "priority", arg = "SLUG", help = "add --discovery: the messaging priority's slug" },
    { "source", arg = "TYPE", help = "add --discovery: the source type (reddit, hn, ...)" },
    { "config", arg = "JSON", help = "add, edit (discovery): source configuration, a JSON object" },
    { "every", arg = "SPEC", help = "add, edit: run at this interval (30m, 4h, 1d, 2h30m)" },
    { "cron", arg = "EXPR", help = "add, edit: run on this cron expression" },
    { "tz", arg = "ZONE", help = "add, edit: the time zone cron runs in (default UTC)" },
    { "name", arg = "NAME", help = "add: a name for the schedule (default: the workflow's)" },
    { "json", help = "list, history: print JSON" },
    { "concurrency", "c", arg = "N", help = "run: how many schedules run at once (default 4)" },
    { "limit", "n", arg = "N", help = "history: how many runs, newest first (default 20)" },
  },
  max_args = 2,
  examples = {
    "candor schedule add --workflow reports/digest --param days=7 --cron \"0 9 * * mon\" --tz Europe/Berlin",
    "candor schedule add --discovery --priority general --source hn --every 4h",
    "candor schedule list",
    "candor schedule run          # from cron: */5 * * * * candor schedule run",
    "candor schedule history nightly-digest",
  },
}

local ALLOWED = {
  add = { workflow = true, param = true, discovery = true, priority = true, source = true, config = true,
    every = true, cron = true, tz = true, name = true },
  list = { json = true },
  edit = { every = true, cron = true, tz = true, param = true, config = true },
  enable = {}, disable = {}, remove = {},
  run = { concurrency = true },
  history = { limit = true, json = true },
}
local NEEDS_ID = { edit = true, enable = true, disable = true, remove = true }

local usage = show.usage

local function lib() return require "candor.schedule" end
local function sched() return require "candor.scheduler" end
local function json() return require "candor.json" end

local function fmt_time(iso, zone)
  local S = lib()
  local t = S.epoch(iso)
  if not t then return "-" end
  local ok, s = pcall(S.format_local, t, zone)
  return ok and s or (show.minute(iso) .. " UTC")
end

-- "fetched 40, kept 3": the non-zero counts, by name.
local function fmt_counts(counts)
  if type(counts) ~= "table" then return "" end
  local keys = {}
  for k, v in pairs(counts) do if v ~= 0 then keys[#keys + 1] = k end end
  table.sort(keys)
  for i, k in ipairs(keys) do
    local v = counts[k]
    keys[i] = string.format("%s %s", k, math.tointeger(v) or string.format("%.2f", v))
  end
  return table.concat(keys, ", ")
end

local function duration(run)
  local S = lib()
  return show.span_ms(S.epoch(run.started_at), S.epoch(run.ended_at))
end

-- --every / --cron / --tz -> spec, zone (parsed), or nil when none was given.
local function read_spec(sub, opts, zone_default)
  if opts.every and opts.cron then error(usage("schedule %s: give --every or --cron, not both", sub), 0) end
  local spec = opts.every or opts.cron
  local zone = opts.tz or zone_default or "UTC"
  if not spec then return nil, zone end
  local s, err = lib().parse(spec, zone)
  if not s then error(usage("schedule %s: %s", sub, err), 0) end
  if opts.every and s.kind ~= "interval" then
    error(usage("schedule %s: --every takes an interval such as 30m, 4h or 1d; for '%s' use --cron", sub, spec), 0)
  end
  if opts.cron and s.kind ~= "cron" then
    error(usage("schedule %s: --cron takes a five-field cron expression or @daily...; for '%s' use --every", sub, spec), 0)
  end
  return s, zone
end

local function check_zone(sub, zone)
  local ok, err = lib().check_zone(zone)
  if not ok then error(usage("schedule %s: %s", sub, err), 0) end
end

local function read_params(sub, list, into)
  local params = into or {}
  for _, kv in ipairs(list or {}) do
    local k, v = kv:match("^([%w_%-]+)=(.*)$")
    if not k then error(usage("schedule %s: --param wants KEY=VALUE, got '%s'", sub, kv), 0) end
    params[k] = v
  end
  return params
end

local function read_config(sub, text)
  local cfg, err = json().try_decode(text)
  if cfg == nil then error(usage("schedule %s: --config is not JSON: %s", sub, err), 0) end
  if type(cfg) ~= "table" or cfg[1] ~= nil then error(usage("schedule %s: --config must be a JSON object", sub), 0) end
  return cfg
end

-- The source's own check of a discovery config, with the priority's keywords
-- merged in as a run merges them: a bad config fails now, not at every run.
local function check_source_config(sub, source, priority, config)
  local ok, sources = pcall(require, "candor.discovery.sources")
  if not ok or type(sources.check) ~= "function" then return end
  local merged = {}
  for k, v in pairs(config) do merged[k] = v end
  merged.keywords = require("candor.discovery").merge_keywords(priority.keywords, config.keywords)
  local good, err = sources.check(source, merged)
  if not good then
    error(usage("schedule %s: the %s config is not usable: %s", sub, source,
      type(err) == "table" and err.message or tostring(err)), 0)
  end
end

-- The workflow, checked as 'candor run' checks it; params coerced and completed.
local function check_workflow(sub, name, params)
  local workflow = require "candor.workflow"
  local wf = workflow.load(name)
  if wf.kind == "pipeline" then
    error(usage("schedule %s: '%s' is a generation pipeline (run by 'candor generate'); to generate on a schedule, "
      .. "schedule discovery and give the priority an auto_generate setting (docs/discovery.md)", sub, name), 0)
  end
  if wf.kind == "action" then
    error(usage("schedule %s: '%s' is a workspace action (run on a session by 'candor session action')", sub, name), 0)
  end
  workflow.check_params(wf, params)
  return wf
end

-- ID -> item (both kinds), or an error naming what was looked for.
local function find(app, id)
  local db = app.db()
  local W = require "candor.repo.workflow_schedules"
  local row = W:get(db, id) or W:by_name(db, id)
  if row then return sched().item("workflow", row) end
  local d = db:first([[SELECT d.*, p.slug AS priority_slug FROM discovery_schedules d
    LEFT JOIN messaging_priorities p ON p.id = d.priority_id WHERE d.id = ?]], id)
  if d then return sched().item("discovery", require("candor.repo.discovery_schedules"):decode(d), db, {}) end
  show.found(nil, "schedule", id, "candor schedule list")
end

-- add ---------------------------------------------------------------------

local function add(app, opts)
  local S = lib()
  if opts.workflow and opts.discovery then error(usage("schedule add: give --workflow NAME or --discovery, not both"), 0) end
  if not opts.workflow and not opts.discovery then
    error(usage("schedule add: say what runs: --workflow NAME, or --discovery --priority SLUG --source TYPE"), 0)
  end
  local s, zone = read_spec("add", opts)
  if not s then error(usage("schedule add: say when it runs: --every SPEC or --cron \"EXPR\""), 0) end
  local db = app.db()
  local now = sched().now()
  local next_run_at = S.iso(S.next_run(s, now))
  if opts.workflow then
    for _, k in ipairs({ "priority", "source", "config" }) do
      if opts[k] then error(usage("schedule add: --%s is for --discovery schedules", k), 0) end
    end
    local params = read_params("add", opts.param)
    local wf = check_workflow("add", opts.workflow, params)
    local W = require "candor.repo.workflow_schedules"
    local name = opts.name or wf.name
    if name == "" then error(usage("schedule add: --name must not be empty"), 0) end
    if W:by_name(db, name) then
      error(string.format("a schedule named '%s' exists already (pass --name to add another)", name), 0)
    end
    local row = W:insert(db, { name = name, workflow = opts.workflow, params = params, spec = s.spec,
      time_zone = zone, is_active = true, next_run_at = next_run_at })
    app.out(string.format("Added workflow schedule %s (%s): %s, next run %s\n", name, row.id, S.describe(s),
      fmt_time(next_run_at, zone)))
    return 0
  end
  if opts.param then error(usage("schedule add: --param is for --workflow schedules (use --config)"), 0) end
  if not opts.priority then error(usage("schedule add --discovery: missing --priority SLUG"), 0) end
  if not opts.source then error(usage("schedule add --discovery: missing --source TYPE"), 0) end
  if not opts.source:match("^[%w_]+$") then error(usage("schedule add: --source must be a word such as hn or reddit"), 0) end
  local have, sources = pcall(require, "candor.discovery.sources")
  if have and type(sources.names) == "function" then
    local known = sources.names()
    local found = false
    for _, n in ipairs(known) do if n == opts.source then found = true end end
    if not found and #known > 0 then
      error(usage("schedule add: unknown source '%s' (known: %s)", opts.source, table.concat(known, ", ")), 0)
    end
  end
  local prio = require("candor.repo.messaging_priorities"):by_slug(db, opts.priority)
  if not prio then error(string.format("no messaging priority with slug '%s'", opts.priority), 0) end
  local config = opts.config and read_config("add", opts.config) or {}
  check_source_config("add", opts.source, prio, config)
  config.schedule = s.spec
  if opts.tz or config.time_zone == nil then config.time_zone = zone end
  if opts.name then config.name = opts.name end
  local row = require("candor.repo.discovery_schedules"):insert(db, { priority_id = prio.id,
    source_type = opts.source, config = config, is_active = true, next_run_at = next_run_at })
  app.out(string.format("Added discovery schedule %s (%s/%s): %s, next run %s\n", row.id, prio.slug, opts.source,
    S.describe(s), fmt_time(next_run_at, zone)))
  return 0
end

-- edit, enable, disable, remove -----------------------------------------------

local function edit(app, opts, id)
  local S = lib()
  local db = app.db()
  local item = find(app, id)
  if not (opts.every or opts.cron or opts.tz or opts.param or opts.config) then
    error(usage("schedule edit: nothing to change (--every, --cron, --tz, --param or --config)"), 0)
  end
  if opts.tz then check_zone("edit", opts.tz) end
  local spec_text = opts.every or opts.cron or item.spec
  local zone = opts.tz or item.zone
  local s
  if opts.every or opts.cron then s = read_spec("edit", opts, zone)
  else
    local err
    s, err = S.parse(spec_text, zone)
    if not s then error(usage("schedule edit: %s", err), 0) end
  end
  local now = sched().now()
  local next_run_at = S.iso(S.next_run(s, now))
  if item.kind == "workflow" then
    if opts.config then error(usage("schedule edit: --config is for discovery schedules (use --param)"), 0) end
    local params = read_params("edit", opts.param, type(item.row.params) == "table" and item.row.params or {})
    check_workflow("edit", item.row.workflow, params)
    require("candor.repo.workflow_schedules"):update(db, item.id, { spec = s.spec, time_zone = zone,
      params = params, next_run_at = next_run_at })
  else
    if opts.param then error(usage("schedule edit: --param is for workflow schedules (use --config)"), 0) end
    local config = type(item.row.config) == "table" and item.row.config or {}
    for k, v in pairs(opts.config and read_config("edit", opts.config) or {}) do config[k] = v end
    if opts.config then
      local prio = require("candor.repo.messaging_priorities"):get(db, item.row.priority_id)
      if prio then check_source_config("edit", item.row.source_type, prio, config) end
    end
    if opts.every or opts.cron or not item.default_spec then config.schedule = s.spec end
    config.time_zone = zone
    require("candor.repo.discovery_schedules"):update(db, item.id, { config = config, next_run_at = next_run_at })
  end
  app.out(string.format("Changed %s schedule %s: %s, next run %s\n", item.kind, item.name, S.describe(s),
    fmt_time(next_run_at, zone)))
  return 0
end

local function set_active(app, id, on)
  local S = lib()
  local item = find(app, id)
  local fields = { is_active = on }
  if on and item.schedule then
    -- from now: a schedule switched off for a week does not run at once for the week it missed
    fields.next_run_at = S.iso(S.next_run(item.schedule, sched().now()))
  end
  local R = item.kind == "workflow" and require("candor.repo.workflow_schedules")
    or require("candor.repo.discovery_schedules")
  R:update(app.db(), item.id, fields)
  if on then
    app.out(string.format("Enabled %s schedule %s, next run %s\n", item.kind, item.name,
      fmt_time(fields.next_run_at, item.zone)))
  else
    app.out(string.format("Disabled %s schedule %s\n", item.kind, item.name))
  end
  return 0
end

local function remove(app, id)
  local item = find(app, id)
  local R = item.kind == "workflow" and require("candor.repo.workflow_schedules")
    or require("candor.repo.discovery_schedules")
  R:delete(app.db(), item.id)
  app.out(string.format("Removed %s schedule %s (its run history stays)\n", item.kind, item.name))
  return 0
end

-- list ----------------------------------------------------------------------

local function all_items(app)
  local db = app.db()
  local items = {}
  local D = require "candor.repo.discovery_schedules"
  local cache = {}
  for _, row in ipairs(db:query([[SELECT d.*, p.slug AS priority_slug FROM discovery_schedules d
      LEFT JOIN messaging_priorities p ON p.id = d.priority_id ORDER BY d.created_at, d.rowid]])) do
    items[#items + 1] = sched().item("discovery", D:decode(row), db, cache)
  end
  for _, row in ipairs(require("candor.repo.workflow_schedules"):list(db)) do
    items[#items + 1] = sched().item("workflow", row)
  end
  return items
end

local function running_run(app, item)
  for _, r in ipairs(require("candor.repo.schedule_runs"):running(app.db(), item.kind, item.id)) do
    if sched().alive(r) then return r end
  end
end

local function summary(app, item)
  local last = require("candor.repo.schedule_runs"):last(app.db(), item.kind, item.id)
  local running = running_run(app, item)
  local out = {
    kind = item.kind, id = item.id, name = item.name, spec = item.spec, time_zone = item.zone,
    description = item.schedule and lib().describe(item.schedule) or nil, error = item.error,
    active = item.active ~= false, next_run_at = item.next_run_at, last_run_at = item.last_run_at,
    running = running ~= nil, running_since = running and running.started_at or nil,
  }
  if item.kind == "workflow" then out.workflow, out.params = item.row.workflow, item.row.params
  else out.source_type, out.priority = item.row.source_type, item.row.priority_slug end
  if last then
    out.last_run = { id = last.id, outcome = last.outcome, started_at = last.started_at, ended_at = last.ended_at,
      counts = last.counts, error_message = last.error_message }
  end
  return out
end

local function list(app, opts)
  pcall(sched().recover, app.db())
  local items = all_items(app)
  if opts.json then
    show.json_rows(app, items, function(it) return summary(app, it) end)
    return 0
  end
  if #items == 0 then
    app.out("no schedules yet (add one with 'candor schedule add')\n")
    return 0
  end
  app.out(string.format("%-9s  %-21s  %-22s  %-30s  %-24s  %s\n", "kind", "id", "name", "schedule", "next run",
    "last run"))
  for _, it in ipairs(items) do
    local s = summary(app, it)
    local when = s.description or ("invalid: " .. tostring(s.error))
    local nxt = not s.active and "disabled" or s.next_run_at and fmt_time(s.next_run_at, it.zone) or "due now"
    local last
    if s.running then last = "running since " .. fmt_time(s.running_since, it.zone)
    elseif s.last_run then
      local r = s.last_run
      last = string.format("%s %s", fmt_time(r.started_at, it.zone), r.outcome)
      local c = fmt_counts(r.counts)
      if r.outcome == "failed" then last = last .. ": " .. show.one_line(r.error_message, 60)
      elseif c ~= "" then last = last .. " (" .. c .. ")" end
    else last = "never" end
    app.out(string.format("%-9s  %-21s  %-22s  %-30s  %-24s  %s\n", it.kind, it.id, show.one_line(it.name, 22),
      show.one_line(when, 30), nxt, last))
  end
  return 0
end

-- history ---------------------------------------------------------------------

local function history(app, opts, id)
  local db = app.db()
  local limit = show.whole("schedule history", opts, "limit", 20)
  local filter = { limit = limit }
  local names = {}
  if id then
    local item = find(app, id)
    filter.kind, filter.id = item.kind, item.id
    names[item.key] = item.name
  else
    for _, it in ipairs(all_items(app)) do names[it.key] = it.name end
  end
  local runs = require("candor.repo.schedule_runs"):history(db, filter)
  if opts.json then
    show.json_rows(app, runs, function(r)
      r.name = names[r.schedule_kind .. ":" .. r.schedule_id]
      r.duration_ms = duration(r)
      return r
    end)
    return 0
  end
  if #runs == 0 then
    app.out(id and "no runs of this schedule yet\n" or "no scheduled runs yet\n")
    return 0
  end
  app.out(string.format("%-19s  %-9s  %-22s  %-9s  %8s  %s\n", "started (UTC)", "kind", "name", "outcome", "duration",
    "counts / error"))
  for _, r in ipairs(runs) do
    local detail = r.outcome == "failed" and show.one_line(r.error_message, 100) or fmt_counts(r.counts)
    app.out(string.format("%-19s  %-9s  %-22s  %-9s  %8s  %s\n", show.time(r.started_at),
      r.schedule_kind, show.one_line(names[r.schedule_kind .. ":" .. r.schedule_id] or ("(removed) " .. r.schedule_id), 22),
      r.outcome, r.outcome == "running" and "-" or show.duration(duration(r)), detail))
  end
  return 0
end

-- run -----------------------------------------------------------------------

-- The lines 'schedule run' and 'candor scheduler' print for a run.
function M.start_line(item)
  return string.format("started   %s %s", item.kind, item.name)
end

function M.end_line(item, run)
  local detail
  if run.outcome == "failed" then detail = ": " .. show.one_line(run.error_message, 200)
  else
    local c = fmt_counts(run.counts)
    detail = c ~= "" and (": " .. c) or ""
  end
  return string.format("%-9s %s %s in %s%s", run.outcome, item.kind, item.name, show.duration(duration(run)), detail)
end

local function run_due(app, opts)
  local concurrency = show.whole("schedule run", opts, "concurrency", sched().concurrency)
  local db = app.db()
  local function say(line) app.out(line, "\n") io.stdout:flush() end
  local results = sched().run_due(db, {
    concurrency = concurrency,
    on_start = function(item) say(M.start_line(item)) end,
    on_end = function(item, run) say(M.end_line(item, run)) end,
  })
  local ran, failed = 0, 0
  for _, r in ipairs(results) do
    if r.run then
      ran = ran + 1
      if r.run.outcome ~= "completed" then failed = failed + 1 end
    end
  end
  if ran == 0 then
    local nd = sched().next_due(db)
    if nd then app.out("nothing due; the next run is at ", show.minute(lib().iso(nd)), " UTC\n")
    else app.out("nothing due (no active schedules)\n") end
    return 0
  end
  if failed > 0 then error(string.format("%d of %d scheduled run%s failed", failed, ran, ran == 1 and "" or "s"), 0) end
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1]
  if not sub then error(usage("schedule: missing a subcommand (add, list, edit, enable, disable, remove, run, history)"), 0) end
  show.check_subcommand(M, sub, opts, ALLOWED, "add, list, edit, enable, disable, remove, run, history")
  local id = pos[2]
  if NEEDS_ID[sub] and not id then error(usage("schedule %s: missing the schedule ID", sub), 0) end
  if id and not NEEDS_ID[sub] and sub ~= "history" then
    error(usage("schedule %s: unexpected argument '%s'", sub, id), 0)
  end
  if sub == "add" then return add(app, opts)
  elseif sub == "list" then return list(app, opts)
  elseif sub == "edit" then return edit(app, opts, id)
  elseif sub == "enable" then return set_active(app, id, true)
  elseif sub == "disable" then return set_active(app, id, false)
  elseif sub == "remove" then return remove(app, id)
  elseif sub == "run" then return run_due(app, opts)
  end
  return history(app, opts, id)
end

M.fmt_counts = fmt_counts

return M
