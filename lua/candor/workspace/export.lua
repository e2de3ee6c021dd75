-- A session's export: the active version of each asset type with its scores and
-- where it came from (pain point, documents, the job, action, edit or chat
-- message that made it, the version it was made from), as Markdown or JSON.
-- Takes the plain table workspace's summary() builds.
local json = require "candor.json"

local M = {}

local NAMES = {
  battlecard = "Battlecard", talk_track = "Talk track", launch_messaging = "Launch messaging",
  social_hook = "Social hook", one_pager = "One-pager", email_copy = "Email copy",
  messaging_template = "Messaging template", narrative = "Narrative",
}
M.asset_titles = NAMES

local DIMS = {
  { "slop", "slop" }, { "vendor_speak", "vendor-speak" }, { "authenticity", "authenticity" },
  { "specificity", "specificity" }, { "persona_avg", "persona fit" },
}

local function num(x) return (string.format("%.1f", x):gsub("%.0$", "")) end

-- "slop 1.2 · vendor-speak 0 · ..." for the dimensions that have a score.
function M.scores_line(scores)
  local parts = {}
  for _, d in ipairs(DIMS) do
    local v = scores and scores[d[1]]
    if type(v) == "number" then parts[#parts + 1] = d[2] .. " " .. num(v) end
  end
  return table.concat(parts, " · ")
end

-- An asset's Markdown under a heading of the export: its own headings `by`
-- levels down (2 by default: # Title becomes ### Title), code blocks left alone.
function M.demote(text, by)
  local prefix = string.rep("#", by or 2)
  local out, fenced = {}, false
  for line in (text:gsub("%s+$", "") .. "\n"):gmatch("([^\n]*)\n") do
    if line:match("^%s*```") or line:match("^%s*~~~") then fenced = not fenced
    elseif not fenced and line:match("^#+%s") then line = prefix .. line end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end

-- text without its "# Title" line when that line repeats title (the export
-- has just written the title as a heading of its own).
function M.without_title(text, title)
  local trimmed = title and title:match("^%s*(.-)%s*$")
  if not trimmed or trimmed == "" then return text end
  local pos = 1
  while pos <= #text do
    local nl = text:find("\n", pos, true) or (#text + 1)
    local line = text:sub(pos, nl - 1)
    local heading = line:match("^#%s+(.-)%s*$")
    if heading then
      if heading == trimmed then return text:sub(1, pos - 1) .. text:sub(nl + 1) end
      return text
    end
    if line:match("%S") and not line:match("^%s*<!%-%-.*%-%->%s*$") then return text end
    pos = nl + 1
  end
  return text
end

local function whole(x) return type(x) == "number" and math.tointeger(x) or nil end

-- origin(source, source_detail) -> where a version came from, in one shape for
-- every source: kind ("generation", "action", "edit", "chat", or the source),
-- generation_job_id and asset_id (generation), action and action_job_id
-- (action), message_id (chat), from_version_id and from_version_number (the
-- version it was made from, when recorded). Fields that do not apply are nil.
function M.origin(source, detail)
  local sd = type(detail) == "table" and detail or {}
  -- edits have said from_version (a number) and from_version_id, actions
  -- from_version (an id) and from_version_number: read either spelling
  local parent = sd.from_version
  local o = { from_version_id = sd.from_version_id or (type(parent) == "string" and parent or nil),
              from_version_number = whole(sd.from_version_number) or whole(parent) }
  if sd.action or sd.action_job_id then o.kind, o.action, o.action_job_id = "action", sd.action, sd.action_job_id
  elseif source == "generation" then o.kind, o.generation_job_id, o.asset_id = "generation", sd.job_id, sd.asset_id
  elseif source == "chat" then o.kind, o.message_id = "chat", sd.message_id
  else o.kind = source end
  return o
end

-- "from version 2 (`id`) by action change-voice (job `id`)" and the like: an
-- origin as the Markdown export words it; nil when nothing is known.
function M.origin_text(o)
  local parent
  if o.from_version_number and o.from_version_id then
    parent = string.format("version %d (`%s`)", o.from_version_number, o.from_version_id)
  elseif o.from_version_number then parent = "version " .. o.from_version_number
  elseif o.from_version_id then parent = "version `" .. o.from_version_id .. "`" end
  local from = parent and ("from " .. parent) or nil
  local parts = {}
  local function add(x) if x then parts[#parts + 1] = x end end
  if o.kind == "generation" then
    add(o.generation_job_id and ("job `" .. o.generation_job_id .. "`"))
    add(o.asset_id and ("asset `" .. o.asset_id .. "`"))
  elseif o.kind == "action" then
    local by = "by action " .. tostring(o.action or "?") .. (o.action_job_id and (" (job `" .. o.action_job_id .. "`)") or "")
    add(from and (from .. " " .. by) or by)
  elseif o.kind == "chat" then
    add("proposal accepted from chat message " .. (o.message_id and ("`" .. o.message_id .. "`") or "?"))
    add(from)
  else
    add(from)
  end
  return #parts > 0 and table.concat(parts, " · ") or nil
end

function M.md(data)
  local s, out = data.session, {}
  local function add(...) for _, x in ipairs({ ... }) do out[#out + 1] = x end end
  add("# " .. s.name, "")
  add(string.format("- Session: `%s` · %s · pipeline %s · voice %s", s.id, s.status, s.pipeline or "-", s.voice or "-"))
  if data.pain then
    local p = data.pain
    local src = p.source_url and (" · " .. p.source_url) or ""
    add(string.format("- Pain point: %s (`%s`, %s%s)", p.title, tostring(p.id or "manual"), p.source_type or "manual", src))
  end
  if #data.documents > 0 then
    local names = {}
    for _, d in ipairs(data.documents) do names[#names + 1] = string.format("%s (`%s`, %s)", d.name, d.id, d.document_type) end
    add("- Documents: " .. table.concat(names, ", "))
  end
  if data.job then add(string.format("- Generation job: `%s` (%s)", data.job.id, data.job.status)) end
  if s.focus then add("- Focus: " .. s.focus:gsub("%s+", " ")) end
  for _, a in ipairs(data.assets) do
    add("", "## " .. (NAMES[a.asset_type] or a.asset_type))
    if not a.version_id then
      add("", "_No version yet._")
    else
      local sd = a.source_detail or {}
      local trace = { string.format("version %d of %d (`%s`), %s", a.version_number, a.versions, a.version_id, a.source) }
      trace[#trace + 1] = M.origin_text(M.origin(a.source, sd))
      if sd.voice then trace[#trace + 1] = "voice " .. sd.voice end
      add("", "_" .. table.concat(trace, " · ") .. "_")
      local line = M.scores_line(a.scores)
      local gates = a.passes_gates and "passes the gates" or "fails the gates"
      if sd.judged == false then gates = gates .. " (deterministic scores only" .. (sd.judge_error and ("; judge failed: " .. sd.judge_error) or "") .. ")" end
      add("", "Scores: " .. (line ~= "" and line or "none") .. " · " .. gates)
      add("", M.demote(a.content))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

function M.json(data)
  local assets = json.array {}
  for i, a in ipairs(data.assets) do
    assets[i] = { asset_type = a.asset_type, version_id = a.version_id, version_number = a.version_number,
      versions = a.versions, source = a.source, content = a.content, scores = a.scores, passes_gates = a.passes_gates,
      created_at = a.created_at, origin = a.version_id and M.origin(a.source, a.source_detail) or nil,
      source_detail = a.source_detail }
  end
  local docs = json.array {}
  for i, d in ipairs(data.documents) do docs[i] = d end
  local s = {}
  for k, v in pairs(data.session) do s[k] = v end
  s.asset_types = json.array(s.asset_types or {})
  s.voices = json.array(s.voices or {})
  return json.encode { session = s, pain = data.pain, documents = docs, job = data.job, assets = assets } .. "\n"
end

return M
