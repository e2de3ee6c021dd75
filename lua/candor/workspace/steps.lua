-- The steps only workspace actions take, on top of the pipeline's: replacing
-- flagged spans, rewriting into another voice or from an angle, sharpening
-- against competitors, checking claims with practitioners. Each renders its
-- prompt file (prompts/actions/) and returns a draft or plain tables.
local draft = require "candor.pipeline.draft"

local M = {}

M.tiers = { deslop = "pro", change_voice = "pro", perspective_rewrite = "pro", competitive_rewrite = "pro",
            community_check = "research", community_rewrite = "pro" }

local function rewrite(run, step, d, voice, extra, purpose)
  local vars = draft.vars(run, d.asset, voice or d.voice, extra)
  vars.draft = d.content
  local r = run.llm(M.tiers[step], "actions/" .. step, vars,
    { purpose = purpose .. ":" .. d.asset .. ":" .. (voice or d.voice).slug })
  local title, content = draft.parse(r.text, d.asset, run.pain.title)
  return { asset = d.asset, voice = voice or d.voice, title = title, content = content, prompt = r.prompt, origin = step,
           angle = extra and extra.angle_name }
end

-- The spans the slop and vendor-speak scorers flag, with byte offsets, in text order.
function M.flagged(run, d)
  local q = require "candor.quality"
  local det = q.score(d.content, { voice = d.voice, db = run.db, lexicon = run.lexicon_for(d.voice) })
  local out, seen = {}, {}
  for _, dim in ipairs { "slop", "vendor_speak" } do
    for _, e in ipairs(det.dimensions[dim].evidence) do
      if e.text and e.start and not seen[e.start] then
        seen[e.start] = true
        out[#out + 1] = { start = e.start, stop = e.stop, text = e.text, line = e.line, dimension = dim, category = e.category }
      end
    end
  end
  table.sort(out, function(a, b) return a.start < b.start end)
  -- overlapping spans: the earlier one stands
  local kept, last_stop = {}, 0
  for _, f in ipairs(out) do
    if f.start > last_stop then kept[#kept + 1] = f last_stop = f.stop end
  end
  return kept
end

-- deslop(run, d, flagged) -> the new text, and how many spans were replaced.
-- The model proposes a replacement for each numbered span; the text outside the
-- spans is kept byte for byte, since the replacements are applied here. A
-- replacement that names no flagged span, is not a string or repeats the span
-- is not usable and not counted.
function M.deslop(run, d, flagged)
  local lines = {}
  for i, f in ipairs(flagged) do
    lines[i] = string.format('%d. "%s" (%s: %s) line %d', i, f.text, f.dimension:gsub("_", "-"),
      (f.category or ""):gsub("^[^/]*/", ""), f.line or 0)
  end
  local vars = draft.vars(run, d.asset, d.voice, { draft = d.content, flagged = table.concat(lines, "\n") })
  local r = run.llm(M.tiers.deslop, "actions/deslop", vars,
    { json = true, purpose = "deslop:" .. d.asset .. ":" .. d.voice.slug })
  local by_n = {}
  for _, rep in ipairs(type(r.json) == "table" and type(r.json.replacements) == "table" and r.json.replacements or {}) do
    local n = type(rep) == "table" and math.tointeger(tonumber(rep.n))
    if n and flagged[n] and type(rep.replacement) == "string" then by_n[n] = rep.replacement end
  end
  local text, replaced = d.content, 0
  for i = #flagged, 1, -1 do     -- from the end, so earlier offsets stay valid
    local f, rep = flagged[i], by_n[i]
    if rep and rep ~= f.text and text:sub(f.start, f.stop) == f.text then
      local before, after = text:sub(1, f.start - 1), text:sub(f.stop + 1)
      if rep == "" then   -- a deleted span takes one neighbouring space with it
        if before:match(" $") and after:match("^[ ,.;:]") then before = before:sub(1, -2) end
      end
      text = before .. rep .. after
      replaced = replaced + 1
    end
  end
  return text, replaced
end

function M.change_voice(run, d, voice)
  return rewrite(run, "change_voice", d, voice, { from_voice_name = d.voice.name }, "change-voice")
end

function M.perspective_rewrite(run, d, angle)
  return rewrite(run, "perspective_rewrite", d, nil,
    { angle_name = angle.name, angle_description = angle.description }, "perspective:" .. angle.name)
end

function M.competitive_rewrite(run, d)
  return rewrite(run, "competitive_rewrite", d, nil, nil, "competitive-rewrite")
end

-- community_check(run, d) -> {claims = {{claim, verdict, practitioner_view, sources}}, summary, sources}
function M.community_check(run, d)
  local vars = draft.vars(run, d.asset, d.voice, { draft = d.content })
  local r = run.llm(M.tiers.community_check, "actions/community_check", vars,
    { json = true, grounding = true, purpose = "community-check:" .. d.asset .. ":" .. d.voice.slug })
  local v = type(r.json) == "table" and r.json or {}
  local claims = {}
  for _, c in ipairs(type(v.claims) == "table" and v.claims or {}) do
    if type(c) == "table" and type(c.claim) == "string" then
      local verdict = ({ supported = true, disputed = true, unverifiable = true })[c.verdict] and c.verdict or "unverifiable"
      claims[#claims + 1] = { claim = c.claim, verdict = verdict,
        practitioner_view = type(c.practitioner_view) == "string" and c.practitioner_view or "",
        sources = type(c.sources) == "table" and c.sources or {} }
    end
  end
  return { claims = claims, summary = type(v.summary) == "string" and v.summary or "", sources = r.sources or {} }
end

-- The report as prompt text: the claims practitioners dispute or cannot back.
function M.format_report(report)
  local out = {}
  for _, c in ipairs(report.claims) do
    if c.verdict ~= "supported" then
      local urls = {}
      for _, src in ipairs(c.sources) do
        if type(src) == "table" and type(src.url) == "string" then urls[#urls + 1] = src.url end
      end
      out[#out + 1] = string.format("- [%s] \"%s\"\n  practitioners: %s%s", c.verdict, c.claim,
        c.practitioner_view ~= "" and c.practitioner_view or "(nothing found)",
        #urls > 0 and ("\n  sources: " .. table.concat(urls, " ")) or "")
    end
  end
  return table.concat(out, "\n")
end

function M.community_rewrite(run, d, report)
  return rewrite(run, "community_rewrite", d, nil, { report = M.format_report(report) }, "community-rewrite")
end

return M
