-- Writing steps: a first draft, the outside-in pair (practitioner draft, then
-- the product layered in), attack and answer, perspectives and their synthesis.
-- Each renders its prompt file with the research as text and returns a draft:
--   {asset = type, voice = row, title, content, prompt = {system, user}, origin = step name}
local research = require "candor.pipeline.research"
local trim = require("candor.text").trim

local M = {}

M.tiers = { draft = "pro", outside_in_draft = "pro", layer_product = "pro", attack = "flash", answer_attack = "pro",
            perspective = "pro", synthesis = "pro" }

-- The eight asset types: id -> the name prompts use.
M.asset_names = {
  battlecard = "battlecard", talk_track = "talk track", launch_messaging = "launch messaging",
  social_hook = "social hook", one_pager = "one-pager", email_copy = "email copy",
  messaging_template = "messaging template", narrative = "narrative",
}
M.asset_order = { "battlecard", "talk_track", "launch_messaging", "social_hook", "one_pager", "email_copy",
                  "messaging_template", "narrative" }

-- "# Title\n\nbody" -> title, the whole text. A draft with no heading gets a
-- title made from its type and the pain, and keeps its text as it came.
function M.parse(text, asset, pain_title)
  text = (text or ""):gsub("^%s*```%w*\n(.-)\n```%s*$", "%1")   -- a model that fenced its answer
  text = trim(text)
  local title = text:match("^#%s+([^\n]+)")
  if not title then title = (M.asset_names[asset] or asset) .. ": " .. pain_title end
  return title:match("^%s*(.-)%s*$"), text
end

-- Variables every writing prompt may use, for one asset type and voice.
function M.vars(run, asset, voice, extra)
  local v = research.pain_vars(run.pain)
  local examples = {}
  for _, e in ipairs(type(voice.example_phrases) == "table" and voice.example_phrases or {}) do examples[#examples + 1] = e end
  v.asset_type, v.asset_name = asset, M.asset_names[asset] or asset
  v.voice_name, v.voice_guide, v.voice_examples = voice.name, voice.voice_guide, research.bullets(examples)
  v.banned = run.banned_text(voice)
  v.evidence, v.evidence_level = run.evidence_text, run.evidence.level
  v.insights = run.insights_text
  v.competitive = run.competitive_text
  v.focus = run.focus or ""
  v.asset_guide = run.prompt("assets/" .. asset, v).text
  for k, x in pairs(extra or {}) do v[k] = x end
  return v
end

local function write(run, step, asset, voice, vars, purpose)
  local r = run.llm(M.tiers[step], "pipeline/" .. step, vars, { purpose = purpose .. ":" .. asset .. ":" .. voice.slug })
  local title, content = M.parse(r.text, asset, run.pain.title)
  return { asset = asset, voice = voice, title = title, content = content, prompt = r.prompt, origin = step }
end

function M.draft(run, asset, voice)
  return write(run, "draft", asset, voice, M.vars(run, asset, voice), "generate")
end

-- Outside-in, first half: the pain in practitioners' words, no product yet.
function M.outside_in(run, asset, voice)
  return write(run, "outside_in_draft", asset, voice, M.vars(run, asset, voice), "generate:outside-in")
end

-- Outside-in, second half: the product layered into that draft.
function M.layer_product(run, d)
  return write(run, "layer_product", d.asset, d.voice, M.vars(run, d.asset, d.voice, { draft = d.content }), "generate:layer-product")
end

-- A hostile practitioner's attack on a draft -> the attack text.
function M.attack(run, d)
  local r = run.llm(M.tiers.attack, "pipeline/attack", M.vars(run, d.asset, d.voice, { draft = d.content }),
    { purpose = "attack:" .. d.asset .. ":" .. d.voice.slug })
  return r.text
end

function M.answer_attack(run, d, attack)
  return write(run, "answer_attack", d.asset, d.voice, M.vars(run, d.asset, d.voice, { draft = d.content, attack = attack }),
    "generate:answer-attack")
end

-- The angles of multi-perspective, from prompts/pipeline/angles.md ("name: description" lines).
function M.angles(run)
  local out = {}
  for line in run.prompt("pipeline/angles", {}).text:gmatch("[^\n]+") do
    local name, desc = line:match("^%s*[-*]?%s*([^:#][^:]-)%s*:%s*(.+)$")
    if name then out[#out + 1] = { name = name, description = desc } end
  end
  if #out == 0 then error("prompts/pipeline/angles.md lists no angles (one 'name: description' per line)", 0) end
  return out
end

function M.perspective(run, asset, voice, angle)
  local d = write(run, "perspective", asset, voice,
    M.vars(run, asset, voice, { angle_name = angle.name, angle_description = angle.description }),
    "generate:perspective:" .. angle.name)
  d.angle = angle.name
  return d
end

function M.synthesis(run, drafts)
  local parts = {}
  for _, d in ipairs(drafts) do parts[#parts + 1] = "## " .. (d.angle or d.origin) .. "\n\n" .. d.content end
  local first = drafts[1]
  return write(run, "synthesis", first.asset, first.voice,
    M.vars(run, first.asset, first.voice, { drafts = table.concat(parts, "\n\n") }), "generate:synthesis")
end

return M
