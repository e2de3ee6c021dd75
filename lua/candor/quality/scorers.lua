-- The deterministic scorers: formulas over what core.score counted. Each takes
-- an analysis (core.score.analyze's result) and returns
--   { score = 0..10, reason = "one line", raw = the value before scaling };
-- M.evidence[name](analysis) lists the spans and signals that moved the score
-- (called only when someone looks: building span tables costs more than scoring).
-- Edit freely: a copy at lua/candor/quality/scorers.lua on CANDOR_PATH replaces
-- this one. Every constant is named here and nowhere else.
local M = {}

-- How hard each shape of AI prose counts, in lexicon-weight units.
M.slop_shapes = {
  not_just = 1.5, its_not = 1.5, triad = 1.0, dash_stack = 1.0, em_dash = 0.4,
  rhetorical_opener = 1.0, emoji = 0.6, exclamation = 0.3,
}
-- Sentences this alike in length read as generated (coefficient of variation).
M.uniform_cv = 0.35
M.uniform_min_sentences = 4
-- Weighted hits per 100 words at which a score is ~6.3 of 10 (1 - 1/e).
M.slop_scale = 3.0
M.vendor_scale = 3.0
-- Brochure verbs from the authenticity lexicon count this much toward vendor-speak.
M.brochure_as_vendor = 0.5

-- A text reads as fully concrete when this share of its sentences carries an
-- anchor and it has this many anchors per sentence; explanation between
-- concrete sentences is normal and not penalised.
M.anchored_share_full = 0.6
M.anchors_per_sentence_full = 1.0
-- Points lost per unanchored abstract claim, per sentence of text (x10).
M.unanchored_penalty = 4.5

-- Concrete signals and how much each anchors a text.
M.anchor_weights = {
  number_unit = 1.0, percent = 1.0, money = 1.0, duration = 1.0, date = 1.0, version = 1.0,
  code = 1.0, url = 1.0, number = 0.5, named = 0.5, acronym = 0.5,
}

local function clamp(x, lo, hi) return math.max(lo, math.min(hi, x)) end
local function saturate(raw, scale) return 10 * (1 - math.exp(-raw / scale)) end
local function round1(x) return math.floor(x * 10 + 0.5) / 10 end

local function dim_of(category) return category:match("^([^/]+)/") or category end

-- Sum of match weights whose category is in one of the dimensions given.
local function weight_in(a, dims, exclude)
  local total, count = 0, 0
  for cat, w in pairs(a.weights or {}) do
    if dims[dim_of(cat)] and not (exclude and exclude[cat]) then
      total = total + w
      count = count + (a.counts[cat] or 0)
    end
  end
  return total, count
end

local function matches_in(a, dims, only)
  local out = {}
  for _, m in ipairs(a.matches or {}) do
    if dims[dim_of(m.category)] and (not only or only[m.category]) then out[#out + 1] = m end
  end
  return out
end

local function spans_of(a, kinds)
  local out = {}
  for _, s in ipairs(a.signal_spans or {}) do if kinds[s.kind] then out[#out + 1] = s end end
  return out
end

local function per100(x, words) return x * 100 / math.max(words, 20) end

local function plural(n, word) return n .. " " .. word .. (n == 1 and "" or "s") end

-- slop: AI tells, hedges, filler openers and closers, and the shapes of
-- generated prose, per 100 words. Lower is better.
function M.slop(a)
  local lex_w, lex_n = weight_in(a, { slop = true })
  local shape_w, shape_n, shapes = 0, 0, {}
  for kind, w in pairs(M.slop_shapes) do
    local n = a.signals[kind] or 0
    if n > 0 then
      shape_w = shape_w + w * n
      shape_n = shape_n + n
      shapes[kind] = true
    end
  end
  local uniform = 0
  if a.sentences >= M.uniform_min_sentences and a.sentence_length_cv < M.uniform_cv then
    uniform = (M.uniform_cv - a.sentence_length_cv) * 4
  end
  local raw = per100(lex_w + shape_w, a.words) + uniform
  local score = round1(saturate(raw, M.slop_scale))
  local reason
  if lex_n + shape_n == 0 and uniform == 0 then
    reason = "no AI tells or stock shapes found"
  else
    local parts = {}
    if lex_n > 0 then parts[#parts + 1] = plural(lex_n, "stock phrase") end
    if shape_n > 0 then parts[#parts + 1] = plural(shape_n, "generated-prose shape") end
    if uniform > 0 then parts[#parts + 1] = string.format("sentences of near-equal length (cv %.2f)", a.sentence_length_cv) end
    reason = table.concat(parts, ", ") .. string.format(" in %d words", a.words)
  end
  return { score = score, reason = reason, raw = raw }
end

-- vendor-speak: superlatives, marketing clichés, buzzwords, self-praise, vague
-- value claims and banned phrases. Lower is better.
function M.vendor_speak(a)
  local lex_w, lex_n = weight_in(a, { vendor = true, banned = true })
  local brochure_w, brochure_n = a.weights["authenticity/brochure"] or 0, a.counts["authenticity/brochure"] or 0
  local raw = per100(lex_w + M.brochure_as_vendor * brochure_w + 0.3 * (a.signals.exclamation or 0), a.words)
  local score = round1(saturate(raw, M.vendor_scale))
  local n = lex_n + brochure_n
  local banned = a.counts["banned/phrase"] or 0
  local reason = n == 0 and "no marketing clichés, superlatives or self-praise found"
    or string.format("%s of marketing register%s in %d words", plural(n, "phrase"),
      banned > 0 and string.format(" (%d banned)", banned) or "", a.words)
  return { score = score, reason = reason, raw = raw }
end

-- specificity: how many sentences carry something concrete (a number with a
-- unit, a date, a version, a name, code, a URL) and how dense those anchors
-- are, less abstract claims left unanchored. Higher is better.
function M.specificity(a)
  local anchors, kinds = 0, {}
  for kind, w in pairs(M.anchor_weights) do
    local n = a.signals[kind] or 0
    anchors = anchors + w * n
    if n > 0 then kinds[kind] = true end
  end
  local sentences = math.max(a.sentences, 1)
  local anchored = a.anchored_sentences / sentences
  local density = anchors / sentences
  local unanchored = a.signals.abstract_unanchored or 0
  local raw = 6 * clamp(anchored / M.anchored_share_full, 0, 1) + 4 * clamp(density / M.anchors_per_sentence_full, 0, 1)
    - M.unanchored_penalty * (unanchored / sentences) * 10 / 10
  local score = round1(clamp(raw, 0, 10))
  local reason = string.format("%d of %d sentences anchored by concrete detail, %s; %s",
    a.anchored_sentences, a.sentences, plural(math.floor(anchors + 0.5), "anchor"),
    plural(unanchored, "abstract claim") .. " with nothing concrete beside it")
  return { score = score, reason = reason, raw = raw }
end

-- authenticity (estimate): practitioner markers (first person, situations,
-- trade-offs, real questions, contractions) against brochure register. A cheap
-- prefilter; the LLM judge refines it. Higher is better.
function M.authenticity(a)
  local markers = weight_in(a, { authenticity = true }, { ["authenticity/brochure"] = true })
  local s = a.signals
  local questions = math.max((s.question or 0) - (s.rhetorical_opener or 0), 0)
  local voice = 0.6 * (s.first_person_singular or 0) + 0.3 * (s.contraction or 0) + 0.5 * questions
  local brochure = (a.weights["authenticity/brochure"] or 0) + weight_in(a, { vendor = true, banned = true }) +
    0.5 * weight_in(a, { slop = true })
  local up = per100(markers + voice, a.words)
  local down = per100(brochure, a.words)
  local anchored = a.anchored_sentences / math.max(a.sentences, 1)
  local raw = 4 + 4 * math.tanh(up / 4) - 5 * math.tanh(down / 3) + 2 * anchored
  local score = round1(clamp(raw, 0, 10))
  local reason = string.format("practitioner markers %.1f vs brochure register %.1f per 100 words", up, down)
  return { score = score, reason = reason, raw = raw }
end

-- Evidence per dimension: the matches and signal spans behind each score, in text order.
local function by_start(list)
  table.sort(list, function(x, y) return x.start < y.start end)
  return list
end

M.evidence = {
  slop = function(a)
    local out = matches_in(a, { slop = true })
    for _, s in ipairs(spans_of(a, M.slop_shapes)) do out[#out + 1] = s end
    return by_start(out)
  end,
  vendor_speak = function(a)
    local out = matches_in(a, { vendor = true, banned = true })
    for _, m in ipairs(matches_in(a, { authenticity = true }, { ["authenticity/brochure"] = true })) do out[#out + 1] = m end
    return by_start(out)
  end,
  specificity = function(a)
    local kinds = { abstract_unanchored = true }
    for k in pairs(M.anchor_weights) do kinds[k] = true end
    return spans_of(a, kinds)
  end,
  authenticity = function(a)
    local out = matches_in(a, { authenticity = true })
    for _, sp in ipairs(spans_of(a, { first_person_singular = true, question = true })) do out[#out + 1] = sp end
    return by_start(out)
  end,
}

-- The dimensions in report order: name, scorer, and which way is better.
M.dimensions = {
  { name = "slop", fn = M.slop, lower_is_better = true, threshold = "slopMax" },
  { name = "vendor_speak", fn = M.vendor_speak, lower_is_better = true, threshold = "vendorSpeakMax" },
  { name = "specificity", fn = M.specificity, threshold = "specificityMin" },
  { name = "authenticity", fn = M.authenticity, threshold = "authenticityMin" },
}

return M
