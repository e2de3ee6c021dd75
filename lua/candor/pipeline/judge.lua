-- Scoring a draft: the deterministic scorers (slop, vendor-speak, specificity,
-- authenticity signals; no LLM call) and the LLM judges (authenticity, narrative
-- arc, every active persona critic), then the voice's gates. Every score says
-- where it came from; a judge that fails fails the step, never a made-up score.
-- The same text for the same voice is scored once per run (cache by text hash).
local crypto = require "core.crypto"
local quality = require "candor.quality"
local prompt = require "candor.prompt"

local M = {}

M.tier = "judge"

-- The gates, in report order: dimension, threshold key, direction.
M.gates = {
  { dim = "slop", key = "slopMax", max = true },
  { dim = "vendor_speak", key = "vendorSpeakMax", max = true },
  { dim = "specificity", key = "specificityMin" },
  { dim = "authenticity", key = "authenticityMin" },
  { dim = "persona_avg", key = "personaMin" },
  { dim = "narrative_arc", key = "narrativeArcMin" },
}

local function score_of(v, what)
  local n = tonumber(type(v) == "table" and v.score or v)
  if not n or n ~= n then error(string.format("the judge's answer has no %s score", what), 0) end
  return math.max(0, math.min(10, n))
end

local function strings(v)
  local out = {}
  for _, s in ipairs(type(v) == "table" and v or {}) do if type(s) == "string" then out[#out + 1] = s end end
  return out
end

-- The critics' instructions for the one structured judge call: each critic's own
-- template, pointed at the draft that the judge prompt gives once.
local function critics_text(critics, asset, voice, pain)
  local out = {}
  for _, c in ipairs(critics) do
    -- the critic's persona only: its own "what you are judging" and "answer" parts
    -- would repeat the draft, which the judge prompt gives once
    local cut = c.prompt_template:find("\n## What you are judging", 1, true)
    local persona = cut and c.prompt_template:sub(1, cut - 1) or c.prompt_template
    local body = prompt.render_text(persona, { asset_type = asset, voice_name = voice.name,
      pain_point = pain.title, content = "(the draft under judgement, given below)" }, "of critic '" .. c.name .. "'")
    out[#out + 1] = "## " .. c.name .. "\n\n" .. body
  end
  return table.concat(out, "\n\n")
end

-- The critics' text is the same for every draft of one asset type, voice and
-- pain, and for every run until a critic changes: kept, keyed by all of that.
local texts, texts_n = {}, 0

local function critics_text_for(critics, asset, voice, pain)
  local parts = { asset, voice.slug, voice.name, pain.title }
  for _, c in ipairs(critics) do parts[#parts + 1] = c.id .. "@" .. tostring(c.updated_at) end
  local key = table.concat(parts, "\0")
  local hit = texts[key]
  if hit then return hit end
  if texts_n >= 256 then texts, texts_n = {}, 0 end   -- a bound, not an eviction policy
  hit = critics_text(critics, asset, voice, pain)
  texts[key], texts_n = hit, texts_n + 1
  return hit
end

-- llm_judges(run, d) -> {authenticity = {score, remarks}, narrative_arc = {...}, personas = {...}}
-- One JSON call judges the whole text for every judge at once.
function M.llm_judges(run, d)
  local critics = run.critics()
  local ctext = critics_text_for(critics, d.asset, d.voice, run.pain)
  local vars = { asset_name = d.asset:gsub("_", " "), voice_name = d.voice.name, pain_title = run.pain.title,
                 pain_content = run.pain.content, draft = d.content, critics = ctext }
  local r = run.llm(M.tier, "pipeline/judge", vars, { json = true, purpose = "judge:" .. d.asset .. ":" .. d.voice.slug })
  local v = type(r.json) == "table" and r.json or {}
  local out = {
    authenticity = { score = score_of(v.authenticity, "authenticity"), remarks = strings(type(v.authenticity) == "table" and v.authenticity.remarks) },
    narrative_arc = { score = score_of(v.narrative_arc, "narrative arc"), remarks = strings(type(v.narrative_arc) == "table" and v.narrative_arc.remarks) },
    personas = {},
  }
  local by_name = {}
  for _, p in ipairs(type(v.personas) == "table" and v.personas or {}) do
    if type(p) == "table" and type(p.critic) == "string" then by_name[p.critic:lower()] = p end
  end
  for _, c in ipairs(critics) do
    local p = by_name[c.name:lower()]
    if not p then error(string.format("the judge's answer has no score from critic '%s'", c.name), 0) end
    out.personas[#out.personas + 1] = { critic_id = c.id, critic = c.name, score = score_of(p, "critic '" .. c.name .. "'"),
      feedback = type(p.feedback) == "string" and p.feedback or "", strengths = strings(p.strengths),
      weaknesses = strings(p.weaknesses) }
  end
  return out
end

local function round1(x) return math.floor(x * 10 + 0.5) / 10 end

-- The voice's gates over the scores; a dimension nobody scored is listed as
-- not judged and neither passes nor fails.
local function gate(scores, thresholds)
  local gates, failing, pass = {}, {}, true
  for _, g in ipairs(M.gates) do
    local limit = thresholds[g.key]
    if limit == nil then limit = quality.default_thresholds[g.key] end
    if limit ~= nil then
      local s = scores[g.dim]
      local entry = { dimension = g.dim, threshold = limit, direction = g.max and "max" or "min", score = s }
      if s == nil then entry.pass = nil
      else
        if g.max then entry.pass = s <= limit else entry.pass = s >= limit end
        if not entry.pass then pass = false failing[#failing + 1] = entry end
      end
      gates[#gates + 1] = entry
    end
  end
  return gates, failing, pass
end

-- score(run, d) -> {scores, source, gates, failing, pass, flagged, critique, personas, deterministic}
function M.score(run, d)
  local key = crypto.sha256(d.voice.slug .. "\0" .. d.asset .. "\0" .. d.content)
  local hit = run.score_cache[key]
  if hit then return hit end
  local det = quality.score(d.content, { voice = d.voice, db = run.db, lexicon = run.lexicon_for(d.voice) })
  local scores = { slop = det.scores.slop, vendor_speak = det.scores.vendor_speak, specificity = det.scores.specificity,
                   authenticity = det.scores.authenticity }
  local source = { slop = "deterministic", vendor_speak = "deterministic", specificity = "deterministic",
                   authenticity = "deterministic (no judge ran)" }
  local judged
  if run.judges then
    judged = M.llm_judges(run, d)
    scores.authenticity, source.authenticity = judged.authenticity.score, "judge"
    scores.narrative_arc, source.narrative_arc = judged.narrative_arc.score, "judge"
    if #judged.personas > 0 then
      local sum = 0
      for _, p in ipairs(judged.personas) do sum = sum + p.score end
      scores.persona_avg, source.persona_avg = round1(sum / #judged.personas), "judge"
    end
  end
  local gates, failing, pass = gate(scores, type(d.voice.scoring_thresholds) == "table" and d.voice.scoring_thresholds or {})
  -- The exact spans behind slop and vendor-speak, for a rewrite to replace.
  local flagged = {}
  for _, dim in ipairs { "slop", "vendor_speak" } do
    for _, e in ipairs(det.dimensions[dim].evidence) do
      if e.text then flagged[#flagged + 1] = { line = e.line, col = e.col, text = e.text, dimension = dim, category = e.category } end
    end
  end
  table.sort(flagged, function(a, b) return (a.line or 0) * 1e6 + (a.col or 0) < (b.line or 0) * 1e6 + (b.col or 0) end)
  local critique = {}
  if judged then
    for _, r in ipairs(judged.authenticity.remarks) do critique[#critique + 1] = "authenticity: " .. r end
    for _, r in ipairs(judged.narrative_arc.remarks) do critique[#critique + 1] = "narrative arc: " .. r end
    for _, p in ipairs(judged.personas) do
      for _, w in ipairs(p.weaknesses) do critique[#critique + 1] = p.critic .. ": " .. w end
    end
  end
  local out = { scores = scores, source = source, gates = gates, failing = failing, pass = pass, flagged = flagged,
                critique = critique, personas = judged and judged.personas or {}, deterministic = det.scores,
                judged = judged ~= nil }
  run.score_cache[key] = out
  return out
end

-- improved(before, after) -> true when any gated dimension moved the right way.
function M.improved(before, after)
  for _, g in ipairs(M.gates) do
    local a, b = before.scores[g.dim], after.scores[g.dim]
    if a and b and ((g.max and b < a - 0.05) or (not g.max and b > a + 0.05)) then return true end
  end
  return false
end

-- Shortfall over the failing gates: how far, in total, the draft is from passing.
function M.shortfall(s)
  local total = 0
  for _, f in ipairs(s.failing) do total = total + math.abs(f.score - f.threshold) end
  return total
end

return M
