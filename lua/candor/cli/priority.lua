-- candor priority [list|add|edit SLUG]
local show = require "candor.cli.show"

local M = {
  name = "priority",
  summary = "Add, list and edit messaging priorities: the themes discovery looks for.",
  usage = "candor priority [list] [--json]\n"
    .. "       candor priority add --name N [--slug S] --description D --keywords a,b\n"
    .. "                           [--product-context TEXT] [--auto-generate JSON]\n"
    .. "       candor priority edit SLUG [--name N] [--description D] [--keywords a,b]\n"
    .. "                           [--product-context TEXT] [--active true|false] [--auto-generate JSON|none]",
  description = "A priority's keywords join each of its discovery schedules' own; the judge reads its name\n"
    .. "and description to decide whether a post is on the theme. --auto-generate makes approving\n"
    .. "one of its pain points start a pipeline run, e.g.\n"
    .. "  --auto-generate '{\"pipeline\": \"standard\", \"assets\": [\"battlecard\"], \"voices\": [\"practitioner-community\"]}'\n"
    .. "(pipeline: the default_pipeline setting when left out; voices: the default voice).",
  options = {
    { "name", arg = "N", help = "add, edit: the display name" },
    { "slug", arg = "S", help = "add: the identifier (default: made from the name)" },
    { "description", arg = "D", help = "add, edit: what the theme is about" },
    { "keywords", "k", arg = "LIST", help = "add, edit: comma-separated words practitioners use for it" },
    { "product-context", arg = "TEXT", help = "add, edit: a factual description of the product for this theme" },
    { "active", arg = "BOOL", help = "edit: true or false (inactive priorities are not discovered)" },
    { "auto-generate", arg = "JSON", help = "add, edit: {pipeline, assets, voices} started on approval; edit: none removes it" },
    { "json", help = "list: print JSON" },
  },
  max_args = 2,
  examples = { "candor priority list",
               "candor priority add --name 'Flaky CI' --description 'Tests that fail at random' --keywords 'flaky test,re-run'",
               "candor priority edit flaky-ci --active false" },
}

local ALLOWED = {
  list = { json = true },
  add = { name = true, slug = true, description = true, keywords = true, ["product-context"] = true, ["auto-generate"] = true },
  edit = { name = true, description = true, keywords = true, ["product-context"] = true, active = true, ["auto-generate"] = true },
}

local function repo() return require "candor.repo.messaging_priorities" end

local function auto_generate_opt(sub, v, allow_none)
  if v == nil then return nil end
  if allow_none and v == "none" then return false end
  local ok, spec = pcall(require("candor.json").decode, v)
  if not ok or type(spec) ~= "table" then
    error(show.usage("priority %s: --auto-generate must be a JSON object%s", sub, allow_none and " or none" or ""), 0)
  end
  return spec
end

local function keywords_opt(v)
  if v == nil then return nil end
  return require("candor.discovery").parse_keywords(v)
end

local function spec_text(spec)
  if not spec then return "-" end
  local function names(v) return type(v) == "table" and table.concat(v, ",") or tostring(v or "default") end
  return string.format("%s: %s × %s", spec.pipeline or "default", names(spec.assets), names(spec.voices))
end

local function list(app, opts)
  local db = app.db()
  local discovery = require "candor.discovery"
  local pains = require "candor.repo.discovered_pain_points"
  local schedules = require "candor.repo.discovery_schedules"
  local rows = repo():list(db, nil, { order = "slug" })
  local out = {}
  for i, r in ipairs(rows) do
    local ok, spec = pcall(discovery.auto_generate, db, r.id)
    out[i] = { row = r, pain = pains:status_counts(db, r.id), auto = ok and spec or nil,
               schedules = schedules:count(db, { priority_id = r.id, is_active = true }) }
  end
  if opts.json then
    local json = require "candor.json"
    show.json_rows(app, out, function(o)
      local r = o.row
      return { id = r.id, slug = r.slug, name = r.name, description = r.description,
        keywords = json.array(type(r.keywords) == "table" and r.keywords or {}), product_context = r.product_context,
        is_active = r.is_active, active_schedules = o.schedules, pain_points = o.pain, auto_generate = o.auto,
        created_at = r.created_at, updated_at = r.updated_at }
    end)
    return 0
  end
  if #out == 0 then
    app.out("no messaging priorities (add one: candor priority add --name ... --description ... --keywords ...)\n")
    return 0
  end
  app.out(string.format("%-20s %-24s %-6s %8s %9s  %-22s %s\n", "slug", "name", "active", "keywords", "schedules",
    "pending/approved/rej.", "auto-generate"))
  for _, o in ipairs(out) do
    local r = o.row
    app.out(string.format("%-20s %-24s %-6s %8d %9d  %-22s %s\n", show.one_line(r.slug, 20), show.one_line(r.name, 24),
      r.is_active and "yes" or "no", type(r.keywords) == "table" and #r.keywords or 0, o.schedules,
      string.format("%d/%d/%d", o.pain.pending, o.pain.approved, o.pain.rejected), spec_text(o.auto)))
  end
  return 0
end

local function add(app, opts)
  for _, k in ipairs { "name", "description", "keywords" } do
    if not opts[k] then error(show.usage("priority add: give --%s", k), 0) end
  end
  local row = require("candor.discovery").add_priority(app.db(), {
    name = opts.name, slug = opts.slug, description = opts.description, keywords = keywords_opt(opts.keywords),
    product_context = opts["product-context"], auto_generate = auto_generate_opt("add", opts["auto-generate"]),
  })
  app.out(string.format("added priority %s (%s), %d keywords\n", row.slug, row.id, #row.keywords))
  return 0
end

local function edit(app, opts, slug)
  local active
  if opts.active ~= nil then
    if opts.active == "true" then active = true
    elseif opts.active == "false" then active = false
    else error(show.usage("priority edit: --active must be true or false"), 0) end
  end
  local changes = { name = opts.name, description = opts.description, keywords = keywords_opt(opts.keywords),
                    product_context = opts["product-context"], is_active = active,
                    auto_generate = auto_generate_opt("edit", opts["auto-generate"], true) }
  if next(changes) == nil then
    error(show.usage("priority edit: nothing to change (--name, --description, --keywords, --product-context, "
      .. "--active, --auto-generate)"), 0)
  end
  local db = app.db()
  local row = show.found(repo():by_slug(db, slug), "messaging priority", slug, "candor priority list")
  local discovery = require "candor.discovery"
  row = discovery.edit_priority(db, row, changes)
  app.out(string.format("updated priority %s%s; auto-generate: %s\n", row.slug, row.is_active and "" or " (inactive)",
    spec_text(discovery.auto_generate(db, row.id))))
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1] or "list"
  show.check_subcommand(M, sub, opts, ALLOWED, "list, add, edit SLUG")
  if sub == "edit" then
    if not pos[2] then error(show.usage("priority edit: missing the priority's SLUG"), 0) end
    return edit(app, opts, pos[2])
  end
  if pos[2] then error(show.usage("priority %s: unexpected argument '%s'", sub, pos[2]), 0) end
  if sub == "add" then return add(app, opts) end
  return list(app, opts)
end

return M
