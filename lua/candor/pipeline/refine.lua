-- Refinement: while a gate of the voice fails, a rewrite aimed at the failing
-- dimensions, given the exact flagged spans and the critics' remarks. Stops on a
-- pass, on a plateau (no dimension improved), or after max_iterations. Every
-- iteration's scores go to the step log; the best draft seen is the one kept.
local judge = require "candor.pipeline.judge"
local draft = require "candor.pipeline.draft"
local research = require "candor.pipeline.research"

local M = { tier = "pro" }

local DIM_NAMES = { slop = "slop", vendor_speak = "vendor-speak", specificity = "specificity",
                    authenticity = "authenticity", persona_avg = "persona fit", narrative_arc = "narrative arc" }

local function format_failing(failing)
  local out = {}
  for _, f in ipairs(failing) do
    out[#out + 1] = string.format("- %s %.1f (must be %s %.1f)", DIM_NAMES[f.dimension] or f.dimension, f.score,
      f.direction == "max" and "at most" or "at least", f.threshold)
  end
  return table.concat(out, "\n")
end

local function format_flagged(flagged)
  local out = {}
  for _, f in ipairs(flagged) do
    out[#out + 1] = string.format("- line %d: \"%s\" (%s)", f.line or 0, f.text, DIM_NAMES[f.dimension] or f.dimension)
  end
  return table.concat(out, "\n")
end

-- One rewrite of d for its failing gates -> a new draft.
function M.rewrite(run, d, s)
  local vars = draft.vars(run, d.asset, d.voice, {
    draft = d.content, failing = format_failing(s.failing), flagged = format_flagged(s.flagged),
    critique = research.bullets(s.critique),
  })
  local r = run.llm(M.tier, "pipeline/refine", vars, { purpose = "refine:" .. d.asset .. ":" .. d.voice.slug })
  local title, content = draft.parse(r.text, d.asset, run.pain.title)
  return { asset = d.asset, voice = d.voice, title = title, content = content, prompt = r.prompt, origin = "refine",
           angle = d.angle }
end

local function summary(n, s, note)
  local failing = {}
  for _, f in ipairs(s.failing) do failing[#failing + 1] = f.dimension end
  return { n = n, scores = s.scores, pass = s.pass, failing = require("candor.json").array(failing), note = note }
end

-- until_gates(run, d, {max_iterations =, on_iteration = fn(summary)}) -> d with
-- d.scores (the judge report), d.iterations (list of summaries), d.stopped
-- ("pass" | "plateau" | "max-iterations").
function M.until_gates(run, d, opts)
  opts = opts or {}
  local max = opts.max_iterations or run.max_iterations or 3
  local function record(entry)
    d.iterations[#d.iterations + 1] = entry
    if opts.on_iteration then opts.on_iteration(entry) end
  end
  local s = judge.score(run, d)
  local best, best_s = d, s
  d.iterations = {}
  record(summary(0, s))
  local current, stopped = d, nil
  for n = 1, max do
    if s.pass then stopped = "pass" break end
    local next_d = M.rewrite(run, current, s)
    local next_s = judge.score(run, next_d)
    local improved = judge.improved(s, next_s)
    record(summary(n, next_s, not improved and "no dimension improved" or nil))
    if next_s.pass or judge.shortfall(next_s) < judge.shortfall(best_s) then best, best_s = next_d, next_s end
    if next_s.pass then stopped = "pass" break end
    if not improved then stopped = "plateau" break end
    current, s = next_d, next_s
  end
  if not stopped then stopped = s.pass and "pass" or "max-iterations" end
  best.iterations, best.scores, best.stopped = d.iterations, best_s, stopped
  best.first_prompt = d.first_prompt or d.prompt
  return best
end

return M
