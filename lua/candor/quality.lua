-- Quality: the deterministic scorers on top of core.score, and gates from a voice
-- profile's scoring_thresholds. LLM judges (persona fit, narrative arc, the
-- authenticity judge) join here with the pipelines.
local score = require "core.score"
local lexicon = require "candor.quality.lexicon"
local scorers = require "candor.quality.scorers"

local M = {}

-- Gates when a voice has none of its own (0-10 scales).
M.default_thresholds = {
  slopMax = 3.0, vendorSpeakMax = 3.0, authenticityMin = 6.0, specificityMin = 6.0,
}

-- The voice a caller named (slug, name or row) with its thresholds decoded.
function M.voice(db, voice)
  if type(voice) == "table" then return voice end
  local repo = require "candor.repo.voice_profiles"
  local row = repo:lookup(db, voice)
  if not row then
    local names = {}
    for _, v in ipairs(repo:list(db, { is_active = true })) do names[#names + 1] = v.slug end
    local usage = require("candor.workflow").usage   -- a voice the user named: exit code 2
    error(usage(string.format("no voice profile '%s' (known: %s)", voice, table.concat(names, ", "))), 0)
  end
  return row
end

-- Banned phrases for a voice: the settings' list plus the voice's own
-- (scoring_thresholds.bannedPhrases, if it has one).
function M.banned_phrases(db, voice)
  local list = require("candor.seed").banned_phrases(db)
  local own = voice and type(voice.scoring_thresholds) == "table" and voice.scoring_thresholds.bannedPhrases
  if type(own) == "table" then
    for _, p in ipairs(own) do if type(p) == "string" then list[#list + 1] = p end end
  end
  return list
end

-- The lexicon for a scoring call: {voice =, db =, lexicon_files = {...}}.
function M.lexicon(opts)
  opts = opts or {}
  local banned
  if opts.db then banned = M.banned_phrases(opts.db, opts.voice_row) end
  return lexicon.load { extra_files = opts.lexicon_files, banned = banned }
end

-- Scores one analysis against thresholds -> report (see M.score).
function M.judge(analysis, thresholds)
  thresholds = thresholds or M.default_thresholds
  local report = { dimensions = {}, scores = {}, pass = true, analysis = analysis }
  for _, d in ipairs(scorers.dimensions) do
    local r = d.fn(analysis)
    local limit = thresholds[d.threshold]
    if limit == nil then limit = M.default_thresholds[d.threshold] end
    local pass
    if d.lower_is_better then pass = r.score <= limit else pass = r.score >= limit end
    -- evidence is built on first access: most callers only need the scores
    local evidence_of = scorers.evidence[d.name]
    report.dimensions[d.name] = setmetatable({
      score = r.score, reason = r.reason, threshold = limit,
      direction = d.lower_is_better and "max" or "min", pass = pass,
    }, { __index = function(t, k)
      if k ~= "evidence" then return nil end
      local e = evidence_of(analysis)
      rawset(t, "evidence", e)
      return e
    end })
    report.scores[d.name] = r.score
    report.pass = report.pass and pass
  end
  report.thresholds = thresholds
  return report
end

-- score(text, {voice = name|row, db = db, lexicon_files = {...}, lexicon = compiled})
-- -> { scores = {slop =, vendor_speak =, specificity =, authenticity =},
--      dimensions = { name = {score, reason, evidence, threshold, direction, pass} },
--      pass = bool, voice = slug|nil, thresholds = {...}, analysis = raw counts }
-- Persona fit and narrative arc have LLM judges; their thresholds are carried but
-- not gated here.
function M.score(text, opts)
  opts = opts or {}
  local voice_row
  if opts.voice then
    if not opts.db then error("scoring for a voice needs the database (its thresholds and banned phrases)", 2) end
    voice_row = M.voice(opts.db, opts.voice)
  end
  local lex = opts.lexicon or M.lexicon { db = opts.db, voice_row = voice_row, lexicon_files = opts.lexicon_files }
  local analysis = score.analyze(text, lex)
  local report = M.judge(analysis, voice_row and voice_row.scoring_thresholds or nil)
  report.voice = voice_row and voice_row.slug or nil
  return report
end

return M
