-- Storage of a job's results. One transaction per asset: the messaging_assets
-- row with its scores, an asset_variants row per voice, the selected variant's
-- persona scores, and the traceability rows (pain point, evidence quotes,
-- research, product documents, the prompt that wrote it). A crash leaves an
-- asset wholly stored or not at all.
local json = require "candor.json"
local host = require "core.host"

local M = {}

-- The variant an asset shows: the passing one with the best persona fit, else
-- the one closest to passing.
local function pick(variants)
  local function rank(v)
    local s = v.scores
    local shortfall = 0
    for _, f in ipairs(s.failing) do shortfall = shortfall + math.abs(f.score - f.threshold) end
    return s.pass and 1 or 0, s.scores.persona_avg or s.scores.authenticity or 0, -shortfall
  end
  local best, bi = nil, nil
  for i, v in ipairs(variants) do
    if not best then best, bi = v, i
    else
      local p1, a1, c1 = rank(v)
      local p2, a2, c2 = rank(best)
      if p1 > p2 or (p1 == p2 and (c1 > c2 or (c1 == c2 and a1 > a2))) then best, bi = v, i end
    end
  end
  return best, bi
end

local function variant_meta(v)
  return { voice = v.voice.slug, pass = v.scores.pass, stopped = v.stopped, scores = v.scores.scores,
           source = v.scores.source, gates = v.scores.gates, iterations = json.array(v.iterations or {}),
           judged = v.scores.judged, personas = json.array(v.scores.personas), origin = v.origin }
end

-- asset(run, asset_type, variants) -> the messaging_assets row. variants: the
-- refined drafts of one asset type, one per voice (see candor.pipeline.refine).
function M.asset(run, asset_type, variants)
  local R = run.repo
  local selected, si = pick(variants)
  local s = selected.scores
  local meta = {
    pipeline = run.pipeline, job_id = run.job and run.job.id, voice = selected.voice.slug,
    voice_id = selected.voice.id, voice_name = selected.voice.name, passes_gates = s.pass,
    scores = s.scores, source = s.source, gates = s.gates, evidence_level = run.evidence.level,
    focus = run.focus ~= "" and run.focus or nil, profile = run.profile,
    variants = {},
  }
  for _, v in ipairs(variants) do meta.variants[#meta.variants + 1] = variant_meta(v) end
  return run.db:transaction(function()
    local asset = R.messaging_assets.insert {
      priority_id = run.pain.priority_id, job_id = run.job and run.job.id or json.null, pain_point_id = run.pain.id,
      asset_type = asset_type, title = selected.title, content = selected.content, metadata = meta,
      slop_score = s.scores.slop, vendor_speak_score = s.scores.vendor_speak, specificity_score = s.scores.specificity,
      persona_avg_score = s.scores.persona_avg or json.null, evidence_level = run.evidence.level,
      status = s.pass and "review" or "draft",
    }
    for i, v in ipairs(variants) do
      local vs = v.scores.scores
      R.asset_variants.insert {
        asset_id = asset.id, voice_profile_id = v.voice.id, variant_number = i, content = v.content,
        slop_score = vs.slop, vendor_speak_score = vs.vendor_speak, authenticity_score = vs.authenticity,
        specificity_score = vs.specificity, persona_avg_score = vs.persona_avg or json.null,
        passes_gates = v.scores.pass, is_selected = i == si,
      }
    end
    for _, p in ipairs(s.personas) do
      R.persona_scores.insert { asset_id = asset.id, persona_id = p.critic_id, score = p.score, feedback = p.feedback,
        strengths = json.array(p.strengths), weaknesses = json.array(p.weaknesses) }
    end
    M.trace(run, asset.id, selected)
    return asset
  end)
end

-- Traceability rows of one asset: the pain point with the practitioner quotes
-- and the prompt that wrote the selected text, the competitive research, and
-- one row per product document.
function M.trace(run, asset_id, selected)
  local R = run.repo
  local quotes = {}
  for _, q in ipairs(run.evidence.quotes or {}) do quotes[#quotes + 1] = q end
  for _, q in ipairs(type(run.pain.practitioner_quotes) == "table" and run.pain.practitioner_quotes or {}) do
    quotes[#quotes + 1] = type(q) == "table" and q or { quote = q, url = run.pain.source_url }
  end
  local p = selected.prompt or {}
  local first = selected.first_prompt or p
  R.asset_traceability.insert {
    asset_id = asset_id, pain_point_id = run.pain.id, research_id = run.research_id or json.null,
    product_doc_id = run.documents[1] and run.documents[1].id or json.null,
    practitioner_quotes = json.array(quotes),
    generation_prompt = { system = p.system, user = p.user, step = selected.origin, first_system = first ~= p and first.system or nil,
                          first_user = first ~= p and first.user or nil, timestamp = host.now() },
  }
  for i = 2, #run.documents do
    R.asset_traceability.insert { asset_id = asset_id, pain_point_id = run.pain.id, product_doc_id = run.documents[i].id,
      practitioner_quotes = json.array {} }
  end
end

-- research(run, c) -> competitive_research row id (stored when the step ends).
-- The research belongs to run.research_job_id when set (a workspace action's
-- session job), else to the run's own generation job.
function M.research(run, c)
  local job_id = run.research_job_id or run.job.id
  local row = run.repo.competitive_research.insert {
    job_id = job_id, pain_point_id = run.pain.id, raw_report = c.raw or "",
    structured_analysis = { competitors = json.array(c.competitors), summary = c.summary },
    grounding_sources = json.array(c.sources), gemini_interaction_id = c.id or "", status = "completed",
  }
  run.repo.generation_jobs.update(job_id, { competitive_research = { competitors = json.array(c.competitors),
    summary = c.summary, research_id = row.id } })
  return row.id
end

-- gaps(run, unanswered) -> count: each part of the pain the documents do not
-- answer becomes a messaging_gaps row for this pain point (once: running again
-- on the same pain adds nothing), and every open row of that gap gets as its
-- frequency the number of pain points it was found in. One transaction.
function M.gaps(run, unanswered)
  local n = 0
  run.db:transaction(function()
    for _, g in ipairs(unanswered or {}) do
      local desc = type(g) == "table" and g.gap or g
      if type(desc) == "string" and desc:match("%S") then
        local cap = type(g) == "table" and type(g.suggested_capability) == "string" and g.suggested_capability or ""
        local same = run.db:first([[SELECT id FROM messaging_gaps WHERE pain_point_id = ?
          AND lower(description) = lower(?) AND status = 'open']], run.pain.id, desc)
        if not same then
          run.repo.messaging_gaps.insert { pain_point_id = run.pain.id, description = desc, suggested_capability = cap }
          run.db:run([[UPDATE messaging_gaps SET updated_at = ?2, frequency = (SELECT count(DISTINCT g.pain_point_id)
            FROM messaging_gaps g WHERE lower(g.description) = lower(?1) AND g.status = 'open')
            WHERE lower(description) = lower(?1) AND status = 'open']], desc, host.now())
        end
        n = n + 1
      end
    end
  end)
  return n
end

return M
