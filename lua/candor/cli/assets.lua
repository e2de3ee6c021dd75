-- candor assets list|show ID|export
local show = require "candor.cli.show"

local M = {
  name = "assets",
  summary = "List generated assets, show one with its variants, scores and evidence, or export them.",
  usage = "candor assets list [--job ID] [--type T] [--status S] [--limit N] [--json]\n"
    .. "       candor assets show ID [--json]\n"
    .. "       candor assets export ID | --job ID [--format md|json] [--output FILE]",
  description = "Scores: slop and vendor-speak 0-10, lower is better; specificity, authenticity and\n"
    .. "persona fit 0-10, higher is better. 'export' writes Markdown (default) or one JSON\n"
    .. "document with each asset's content, scores, variants and traceability.",
  options = {
    { "job", "j", arg = "ID", help = "list, export: the assets of this generation job" },
    { "type", "t", arg = "T", help = "list: only this asset type (battlecard, talk_track, ...)" },
    { "status", "s", arg = "S", help = "list: only assets with this status (draft, review, approved)" },
    { "limit", "n", arg = "N", help = "list: how many assets, newest first (default 50)" },
    { "json", help = "list, show: print JSON" },
    { "format", "f", arg = "md|json", help = "export: Markdown (default) or JSON" },
    { "output", "o", arg = "FILE", help = "export: write to FILE instead of standard output" },
  },
  max_args = 2,
  examples = { "candor assets list --job Yx3k... --type battlecard", "candor assets show Q9f2...",
               "candor assets export --job Yx3k... --format md --output battlecards.md" },
}

local ALLOWED = {
  list = { job = true, type = true, status = true, limit = true, json = true },
  show = { json = true },
  export = { job = true, format = true, output = true },
}

local function repo(name) return require("candor.repo." .. name) end
local function json() return require "candor.json" end

local function arr(t) return json().array(type(t) == "table" and t or {}) end

-- A quote as the pipelines store it: a string, or a table with the text and
-- perhaps who said it and where.
local function quote_parts(q)
  if type(q) ~= "table" then return tostring(q), nil end
  local text = q.text or q.quote or q.content or q.body
  local who = q.author or q.source or q.url
  if not text then text = json().encode(q) end
  return tostring(text), who and tostring(who) or nil
end

-- Everything known about one asset: the row, variants with their voice, critic
-- scores with the critic's name, and traceability with what each row points at.
local function bundle(db, asset, cache)
  cache = cache or {}
  local function cached(table_name, id)
    if not id then return nil end
    local key = table_name .. "\0" .. id
    if cache[key] == nil then cache[key] = repo(table_name):get(db, id) or false end
    return cache[key] or nil
  end
  local b = { asset = asset, variants = arr(), persona_scores = arr(), traceability = arr() }
  for _, v in ipairs(repo("asset_variants"):list(db, { asset_id = asset.id }, { order = "variant_number, rowid" })) do
    local voice = cached("voice_profiles", v.voice_profile_id)
    v.voice_slug = voice and voice.slug or nil
    v.voice_name = voice and voice.name or nil
    b.variants[#b.variants + 1] = v
  end
  for _, s in ipairs(repo("persona_scores"):list(db, { asset_id = asset.id })) do
    local critic = cached("persona_critics", s.persona_id)
    s.critic = critic and critic.name or nil
    if type(s.strengths) == "table" then arr(s.strengths) end
    if type(s.weaknesses) == "table" then arr(s.weaknesses) end
    b.persona_scores[#b.persona_scores + 1] = s
  end
  for _, t in ipairs(repo("asset_traceability"):list(db, { asset_id = asset.id })) do
    local pain = cached("discovered_pain_points", t.pain_point_id)
    local doc = cached("product_documents", t.product_doc_id)
    local research = cached("competitive_research", t.research_id)
    t.pain_point = pain and { id = pain.id, title = pain.title, source_url = pain.source_url,
      source_type = pain.source_type } or nil
    t.product_document = doc and { id = doc.id, name = doc.name, document_type = doc.document_type } or nil
    t.research = research and { id = research.id, status = research.status,
      structured_analysis = research.structured_analysis, grounding_sources = research.grounding_sources } or nil
    if type(t.practitioner_quotes) == "table" then arr(t.practitioner_quotes) end
    b.traceability[#b.traceability + 1] = t
  end
  return b
end

local function load_asset(db, id) return show.found(repo("messaging_assets"):get(db, id), "asset", id) end

-- list -----------------------------------------------------------------

local function list(app, opts)
  local limit = show.whole("assets list", opts, "limit", 50)
  if opts.status and not ({ draft = true, review = true, approved = true })[opts.status] then
    error(show.usage("assets list: --status must be draft, review or approved"), 0)
  end
  local rows = repo("messaging_assets"):list(app.db(), { job_id = opts.job, asset_type = opts.type, status = opts.status },
    { order = "created_at DESC, rowid DESC", limit = limit })
  if opts.json then
    show.json_rows(app, rows, function(r)
      r.content = nil   -- 'show' and 'export' give the content
      return r
    end)
    return 0
  end
  if #rows == 0 then app.out("no assets", opts.job and (" for job " .. opts.job) or "", "\n") return 0 end
  app.out(string.format("%-21s  %-16s %-36s %5s %5s %5s %5s  %-12s %s\n", "id", "type", "title", "slop", "vend",
    "spec", "pers", "evidence", "status"))
  for _, r in ipairs(rows) do
    app.out(string.format("%-21s  %s %s %5s %5s %5s %5s  %-12s %s\n", r.id, show.fit(r.asset_type, 16),
      show.fit(r.title, 36), show.score(r.slop_score), show.score(r.vendor_speak_score),
      show.score(r.specificity_score), show.score(r.persona_avg_score), r.evidence_level or "-", r.status))
  end
  return 0
end

-- show -----------------------------------------------------------------

local function show_metadata(app, md)
  if md == nil then return end
  app.out("\nmetadata:\n")
  if type(md) ~= "table" then app.out("  ", tostring(md), "\n") return end
  local keys = {}
  for k in pairs(md) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do
    local v = md[k]
    app.out(string.format("  %s: %s\n", show.printable(k), type(v) == "table" and json().encode(v) or show.printable(v)))
  end
end

local function cmd_show(app, opts, id)
  local db = app.db()
  local b = bundle(db, load_asset(db, id))
  if opts.json then show.json(app, b) return 0 end
  local a = b.asset
  app.out(string.format("asset %s  %s\n%s\n", a.id, a.asset_type, show.printable(a.title)))
  local field = show.fields(app, 12)
  field("status", a.status .. (a.approved_by and (" by " .. show.printable(a.approved_by)) or ""))
  field("job", a.job_id)
  field("pain point", a.pain_point_id)
  field("evidence", a.evidence_level)
  field("scores", string.format("slop %s, vendor-speak %s, specificity %s, persona avg %s", show.score(a.slop_score),
    show.score(a.vendor_speak_score), show.score(a.specificity_score), show.score(a.persona_avg_score)))
  field("created", a.created_at)
  field("review", a.review_notes and show.printable(a.review_notes))
  show_metadata(app, a.metadata)
  app.out("\ncontent:\n", show.for_terminal(a.content), a.content:sub(-1) == "\n" and "" or "\n")
  if #b.variants > 0 then
    app.out(string.format("\nvariants (%d):\n", #b.variants))
    for _, v in ipairs(b.variants) do
      local flags = {}
      if v.passes_gates then flags[#flags + 1] = "passes gates" else flags[#flags + 1] = "fails gates" end
      if v.is_selected then flags[#flags + 1] = "selected" end
      app.out(string.format("  #%d %-24s slop %s, vendor %s, authenticity %s, specificity %s, persona %s  [%s]\n",
        v.variant_number, show.printable(v.voice_slug or v.voice_profile_id), show.score(v.slop_score),
        show.score(v.vendor_speak_score), show.score(v.authenticity_score), show.score(v.specificity_score),
        show.score(v.persona_avg_score), table.concat(flags, ", ")))
      app.out("     ", show.one_line(v.content, 110), "\n")
    end
  end
  if #b.persona_scores > 0 then
    app.out("\npersona scores:\n")
    for _, s in ipairs(b.persona_scores) do
      app.out(string.format("  %s %s  %s\n", show.fit(s.critic or s.persona_id, 28), show.score(s.score),
        show.one_line(s.feedback, 90)))
    end
  end
  if #b.traceability > 0 then
    app.out("\ntraceability:\n")
    for _, t in ipairs(b.traceability) do
      if t.pain_point then
        app.out(string.format("  pain point   %s  %s\n", show.one_line(t.pain_point.title, 60),
          show.printable(t.pain_point.source_url)))
      end
      if t.product_document then app.out("  document     ", show.printable(t.product_document.name), "\n") end
      if t.research then app.out(string.format("  research     %s (%s)\n", t.research.id, tostring(t.research.status))) end
      for _, q in ipairs(type(t.practitioner_quotes) == "table" and t.practitioner_quotes or {}) do
        local text, who = quote_parts(q)
        app.out("  quote        \"", show.one_line(text, 100), "\"", who and (" - " .. show.printable(who)) or "", "\n")
      end
    end
  end
  return 0
end

-- export ---------------------------------------------------------------

local function md_cell(v) return (tostring(v):gsub("|", "\\|"):gsub("\n", " ")) end

local function research_line(r)
  local sa = type(r.structured_analysis) == "table" and r.structured_analysis or {}
  local text = sa.summary or sa.overview
  local n = type(r.grounding_sources) == "table" and #r.grounding_sources or 0
  return string.format("%s (%s%s)%s", r.id, tostring(r.status), n > 0 and (string.format(", %d source(s)", n)) or "",
    type(text) == "string" and (": " .. show.one_line(text, 300)) or "")
end

local function md_asset(b, level)
  local h = string.rep("#", level)
  local a = b.asset
  local out = {}
  local function add(...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end
  add(h .. " " .. show.one_line(a.title), "")
  add(string.format("- Type: %s", a.asset_type), string.format("- Status: %s", a.status),
    string.format("- Evidence: %s", a.evidence_level or "-"), string.format("- Asset: `%s`", a.id))
  if a.job_id then add(string.format("- Job: `%s`", a.job_id)) end
  local demote = require("candor.workspace.export").demote
  add("", demote(require("candor.workspace.export").without_title(a.content, a.title), level), "")
  add(h .. "# Scores", "", "| dimension | score |", "| --- | --- |",
    "| slop (lower is better) | " .. show.score(a.slop_score) .. " |",
    "| vendor-speak (lower is better) | " .. show.score(a.vendor_speak_score) .. " |",
    "| specificity | " .. show.score(a.specificity_score) .. " |",
    "| persona average | " .. show.score(a.persona_avg_score) .. " |")
  for _, s in ipairs(b.persona_scores) do
    add("| critic: " .. md_cell(s.critic or s.persona_id) .. " | " .. show.score(s.score) .. " |")
  end
  add("")
  if #b.variants > 0 then
    add(h .. "# Variants", "")
    for _, v in ipairs(b.variants) do
      local flags = { v.passes_gates and "passes gates" or "fails gates" }
      if v.is_selected then flags[#flags + 1] = "selected" end
      add(string.format("%s## Variant %d: %s (%s)", h, v.variant_number, v.voice_slug or v.voice_profile_id,
        table.concat(flags, ", ")), "")
      add("| slop | vendor-speak | authenticity | specificity | persona |", "| --- | --- | --- | --- | --- |",
        string.format("| %s | %s | %s | %s | %s |", show.score(v.slop_score), show.score(v.vendor_speak_score),
          show.score(v.authenticity_score), show.score(v.specificity_score), show.score(v.persona_avg_score)), "")
      add(demote(v.content, level + 2), "")
    end
  end
  -- traceability: each source once, in the order first met
  local pains, quotes, docs, research, seen = {}, {}, {}, {}, {}
  local function once(kind, id, list, value)
    if seen[kind .. id] then return end
    seen[kind .. id] = true
    list[#list + 1] = value
  end
  for _, t in ipairs(b.traceability) do
    if t.pain_point then once("p", t.pain_point.id, pains, t.pain_point) end
    if t.product_document then once("d", t.product_document.id, docs, t.product_document) end
    if t.research then once("r", t.research.id, research, t.research) end
    for _, q in ipairs(type(t.practitioner_quotes) == "table" and t.practitioner_quotes or {}) do
      local text, who = quote_parts(q)
      once("q", text, quotes, { text = text, who = who })
    end
  end
  add(h .. "# Traceability", "")
  if #pains + #quotes + #docs + #research == 0 then add("No evidence recorded.", "") end
  if #pains > 0 then
    add("Pain points:", "")
    for _, p in ipairs(pains) do
      add(p.source_url and p.source_url ~= "" and string.format("- [%s](%s)", show.one_line(p.title), p.source_url)
        or ("- " .. show.one_line(p.title)))
    end
    add("")
  end
  if #quotes > 0 then
    add("Practitioner quotes:", "")
    for _, q in ipairs(quotes) do
      add("> " .. q.text:gsub("\n", "\n> ") .. (q.who and (" (" .. q.who .. ")") or ""), "")
    end
  end
  if #docs > 0 then
    add("Product documents:", "")
    for _, d in ipairs(docs) do add("- " .. show.one_line(d.name)) end
    add("")
  end
  if #research > 0 then
    add("Research:", "")
    for _, r in ipairs(research) do add("- " .. research_line(r)) end
    add("")
  end
  return table.concat(out, "\n")
end

local function export(app, opts, id)
  local db = app.db()
  if id and opts.job then error(show.usage("assets export: give an asset ID or --job ID, not both"), 0) end
  if not id and not opts.job then error(show.usage("assets export: missing an asset ID (or --job ID)"), 0) end
  local format = opts.format or "md"
  if format ~= "md" and format ~= "json" then error(show.usage("assets export: --format must be md or json"), 0) end
  local assets
  if id then
    assets = { load_asset(db, id) }
  else
    show.found(repo("generation_jobs"):get(db, opts.job), "job", opts.job)
    assets = repo("messaging_assets"):list(db, { job_id = opts.job })
  end
  local cache, bundles = {}, arr()
  for i, a in ipairs(assets) do bundles[i] = bundle(db, a, cache) end
  local text
  if format == "json" then
    text = json().encode({ exported_at = require("core.host").now(), job_id = opts.job, assets = bundles }) .. "\n"
  elseif id then
    text = md_asset(bundles[1], 1)
  else
    local parts = { "# Assets of job " .. opts.job, "" }
    if #bundles == 0 then parts[#parts + 1] = "This job stored no assets.\n" end
    for _, b in ipairs(bundles) do parts[#parts + 1] = md_asset(b, 2) end
    text = table.concat(parts, "\n")
  end
  if show.output(app, opts.output, text) then
    io.stderr:write(string.format("wrote %d asset(s) to %s\n", #bundles, opts.output))
  end
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1]
  if not sub then error(show.usage("assets: missing a subcommand (list, show ID, export)"), 0) end
  show.check_subcommand(M, sub, opts, ALLOWED, "list, show ID, export")
  if sub == "list" then
    if pos[2] then error(show.usage("assets list: unexpected argument '%s'", pos[2]), 0) end
    return list(app, opts)
  end
  if sub == "show" then
    if not pos[2] then error(show.usage("assets show: missing the asset ID"), 0) end
    return cmd_show(app, opts, pos[2])
  end
  return export(app, opts, pos[2])
end

M.bundle = bundle

return M
