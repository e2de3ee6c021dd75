-- candor pain [list|show ID|approve ID|reject ID|discover]
local show = require "candor.cli.show"

local M = {
  name = "pain",
  summary = "Review discovered pain points, or run discovery now.",
  usage = "candor pain [list] [--status S] [--priority SLUG] [--limit N] [--json]\n"
    .. "       candor pain show ID [--json]\n"
    .. "       candor pain approve|reject ID [--reason TEXT]\n"
    .. "       candor pain discover [--priority SLUG] [--source TYPE] [--json]",
  description = "Discovery stores community posts that show enough pain (the pain_threshold setting) as\n"
    .. "pending pain points. Approve the ones worth writing about; an approved pain point can be\n"
    .. "used with 'candor generate --pain-id ID', and a priority with auto-generation (see\n"
    .. "'candor priority') starts its pipeline run when one of its pain points is approved.\n"
    .. "'discover' runs every active schedule of a priority (all active priorities when none is\n"
    .. "named) and prints what each source found; it exits 1 when a source or a judgement failed.",
  options = {
    { "status", "s", arg = "S", help = "list: only pain points with this status (pending, approved, rejected)" },
    { "priority", "p", arg = "SLUG", help = "list, discover: only this messaging priority" },
    { "limit", "n", arg = "N", help = "list: how many, newest first (default 20)" },
    { "reason", arg = "TEXT", help = "approve, reject: why, kept with the pain point" },
    { "source", arg = "TYPE", help = "discover: only schedules of this source type" },
    { "json", help = "list, show, discover: print JSON" },
  },
  max_args = 2,
  examples = { "candor pain", "candor pain list --status pending --priority general", "candor pain show Yx3k...",
               "candor pain approve Yx3k...", "candor pain reject Yx3k... --reason 'a vendor post'",
               "candor pain discover --priority general" },
}

local STATUSES = { pending = true, approved = true, rejected = true }

local ALLOWED = {
  list = { status = true, priority = true, limit = true, json = true },
  show = { json = true },
  approve = { reason = true },
  reject = { reason = true },
  discover = { priority = true, source = true, json = true },
}

local function pains() return require "candor.repo.discovered_pain_points" end
local function priorities() return require "candor.repo.messaging_priorities" end

local function priority_of(app, slug)
  return show.found(priorities():by_slug(app.db(), slug), "messaging priority", slug, "candor priority list")
end

local function load_pain(app, id) return show.found(pains():get(app.db(), id), "pain point", id) end

-- Decoded JSON loses [] against {}: put the lists back.
local function as_json(row)
  local json = require "candor.json"
  if type(row.practitioner_quotes) == "table" then json.array(row.practitioner_quotes) end
  if type(row.pain_analysis) == "table" and type(row.pain_analysis.pain_points) == "table" then
    json.array(row.pain_analysis.pain_points)
  end
  return row
end

local function list(app, opts)
  local db = app.db()
  if opts.status and not STATUSES[opts.status] then
    error(show.usage("pain list: --status must be pending, approved or rejected"), 0)
  end
  local limit = show.whole("pain list", opts, "limit", 20)
  local filters = { status = opts.status }
  if opts.priority then filters.priority_id = priority_of(app, opts.priority).id end
  local rows = pains():list(db, filters, { order = "discovered_at DESC, rowid DESC", limit = limit })
  local slugs = {}
  for _, p in ipairs(priorities():list(db)) do slugs[p.id] = p.slug end
  if opts.json then
    show.json_rows(app, rows, function(r)
      return { id = r.id, status = r.status, pain_score = r.pain_score, priority = slugs[r.priority_id],
               source_type = r.source_type, source_url = r.source_url, title = r.title, author = r.author,
               author_level = r.author_level, discovered_at = r.discovered_at }
    end)
    return 0
  end
  if #rows == 0 then
    app.out(opts.status and ("no " .. opts.status .. " pain points\n")
      or "no pain points yet (discovery finds them: 'candor pain discover')\n")
    return 0
  end
  app.out(string.format("%-21s  %-8s %5s  %-14s %-10s %-16s  %s\n", "id", "status", "score", "priority", "source",
    "discovered", "title"))
  for _, r in ipairs(rows) do
    app.out(string.format("%-21s  %-8s %5.2f  %s %s %-16s  %s\n", r.id, r.status, r.pain_score or 0,
      show.fit(slugs[r.priority_id] or "?", 14), show.fit(r.source_type, 10), show.minute(r.discovered_at),
      show.one_line(r.title, 70)))
  end
  return 0
end

local function cmd_show(app, opts, id)
  local row = load_pain(app, id)
  if opts.json then
    show.json(app, as_json(row))
    return 0
  end
  local db = app.db()
  local field = show.fields(app, 12)
  app.out(string.format("pain point %s\n", row.id))
  field("title", show.one_line(row.title, 200))
  field("status", row.status
    .. (row.rejection_reason and ("  (" .. show.one_line(row.rejection_reason, 150) .. ")") or ""))
  local pr = priorities():get(db, row.priority_id)
  field("priority", pr and string.format("%s (%s)", show.printable(pr.name), pr.slug) or row.priority_id)
  field("score", string.format("%.2f", row.pain_score or 0))
  field("source", row.source_type .. (row.source_url ~= "" and ("  " .. show.printable(row.source_url)) or ""))
  field("author", (row.author ~= "" and show.printable(row.author) or "unknown") .. " (" .. tostring(row.author_level) .. ")")
  field("discovered", show.minute(row.discovered_at))
  local meta = type(row.metadata) == "table" and row.metadata or {}
  field("posted", meta.posted_at and show.minute(meta.posted_at))
  local a = type(row.pain_analysis) == "table" and row.pain_analysis or {}
  if next(a) then
    app.out("\nanalysis:\n")
    local levels = {}
    for _, k in ipairs { "urgency", "technical_depth", "relevance" } do
      if a[k] then levels[#levels + 1] = k:gsub("_", " ") .. " " .. tostring(a[k]) end
    end
    if #levels > 0 then app.out("  ", table.concat(levels, " · "), "\n") end
    if a.summary then app.out("  ", show.one_line(a.summary, 400), "\n") end
    for _, p in ipairs(type(a.pain_points) == "table" and a.pain_points or {}) do
      app.out("  - ", show.one_line(p, 200), "\n")
    end
  end
  local quotes = type(row.practitioner_quotes) == "table" and row.practitioner_quotes or {}
  if #quotes > 0 then
    app.out("\nquotes:\n")
    for _, q in ipairs(quotes) do app.out("  \"", show.one_line(q, 400), "\"\n") end
  end
  local content = row.content or ""
  if content ~= "" then
    local max = 1500
    app.out("\ncontent:\n")
    local shown = content
    if (utf8.len(content) or #content) > max then
      shown = content:sub(1, (utf8.offset(content, max) or max) - 1) .. string.format("\n… (%d more characters; --json shows all)",
        (utf8.len(content) or #content) - max + 1)
    end
    app.out("  ", (show.for_terminal(shown):gsub("\n", "\n  ")), "\n")
  end
  local jobs = require("candor.repo.generation_jobs"):count(db, { pain_point_id = row.id })
  if jobs > 0 then app.out(string.format("\n%d generation job(s) from it: candor jobs list\n", jobs)) end
  return 0
end

local function approve(app, id, opts)
  local discovery = require "candor.discovery"
  if opts.reason ~= nil and not opts.reason:match("%S") then
    error(show.usage("pain approve: --reason must not be empty"), 0)
  end
  local r = discovery.approve(app.db(), id, {
    reason = opts.reason,
    on_log = function(msg) io.stderr:write("candor: ", msg, "\n") end,
  })
  show.found(r, "pain point", id)
  if not r.changed then
    app.out(string.format("pain point %s was already approved\n", id))
    return 0
  end
  app.out(string.format("approved %s  %s\n", id, show.one_line(r.row.title, 70)))
  if not r.spec then return 0 end
  if r.error then
    error(string.format("auto-generation failed%s: %s", r.job and (" (job " .. r.job.id .. ")") or "", r.error), 0)
  end
  app.out(string.format("auto-generation: job %s %s, %d asset(s) (candor jobs show %s)\n", r.job.id, r.job.status,
    #r.stored, r.job.id))
  return 0
end

local function reject(app, opts, id)
  if opts.reason ~= nil and not opts.reason:match("%S") then
    error(show.usage("pain reject: --reason must not be empty"), 0)
  end
  local row, changed = require("candor.discovery").review(app.db(), id, "rejected", opts.reason)
  show.found(row, "pain point", id)
  if changed then
    app.out(string.format("rejected %s  %s\n", id, show.one_line(row.title, 70)))
  elseif opts.reason then
    app.out(string.format("pain point %s was already rejected; the reason is now: %s\n", id,
      show.one_line(opts.reason, 100)))
  else
    app.out(string.format("pain point %s was already rejected\n", id))
  end
  return 0
end

local function counts_line(c)
  return string.format("fetched %d, duplicates %d, judged %d, kept %d, below threshold %d, failed %d",
    c.fetched, c.duplicates, c.judged, c.kept, c.dropped_below_threshold, c.failed_judgements)
end

local function discover(app, opts)
  local db = app.db()
  local discovery = require "candor.discovery"
  local list
  if opts.priority then list = { priority_of(app, opts.priority) }
  else list = priorities():list(db, { is_active = true }, { order = "slug" }) end
  local results, failed, ran = {}, false, 0
  for _, p in ipairs(list) do
    for _, r in ipairs(discovery.run_priority(db, p, { source = opts.source })) do
      ran = ran + 1
      local c = r.counts
      results[#results + 1] = c
      if #c.errors > 0 then failed = true end
      if not opts.json then
        app.out(string.format("%s · %s (schedule %s): %s\n", p.slug, c.source, c.schedule_id,
          c.source_error and "source failed" or c.run_error and "failed" or counts_line(c)))
        for i, e in ipairs(c.errors) do
          if i > 5 then
            app.out(string.format("  … and %d more errors (--json lists all)\n", #c.errors - 5))
            break
          end
          app.out(string.format("  %s error%s: %s\n", e.stage, e.source_id and (" (post " .. e.source_id .. ")") or "",
            show.one_line(e.message, 200)))
        end
      end
    end
  end
  if ran == 0 then
    local what = opts.source and ("'" .. opts.source .. "' schedules") or "schedules"
    error(string.format("no active discovery %s for %s (see 'candor schedule --help')", what,
      opts.priority and ("priority '" .. opts.priority .. "'") or "any active priority"), 0)
  end
  if opts.json then show.json_rows(app, results) end
  if failed then
    app.err("candor: some sources or judgements failed (see above)\n")
    return 1
  end
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1] or "list"
  show.check_subcommand(M, sub, opts, ALLOWED, "list, show ID, approve ID, reject ID, discover")
  if sub == "list" or sub == "discover" then
    if pos[2] then error(show.usage("pain %s: unexpected argument '%s'", sub, pos[2]), 0) end
    if sub == "list" then return list(app, opts) end
    return discover(app, opts)
  end
  local id = pos[2]
  if not id then error(show.usage("pain %s: missing the pain point ID", sub), 0) end
  if sub == "show" then return cmd_show(app, opts, id) end
  if sub == "approve" then return approve(app, id, opts) end
  return reject(app, opts, id)
end

return M
