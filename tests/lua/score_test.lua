-- core.score: matching semantics, spans, counts, signals, bad input; the scorers'
-- accuracy on the labelled set; lexicon overrides; gates.
local T = require "candor.testing"
local score = require "core.score"

local LEX = [[
[slop/ai_tell]
delve
delve into | 2
it's worth noting
in today's fast-paced world
"game changer"
[vendor/superlative weight=2]
best-in-class
crucial
leverag*
café au lait
[abstract/claim]
improves efficiency
]]

local function lex() return assert(score.compile { { name = "test.txt", text = LEX } }) end

local function phrases(text)
  local out = {}
  for _, m in ipairs(score.analyze(text, lex()).matches) do out[#out + 1] = m.phrase end
  return out
end

T.test("word boundaries: no match inside a longer word, unless the phrase is a prefix*", function()
  T.eq(phrases("Crucially, this is crucial."), { "crucial" })
  T.eq(phrases("crucial_path crucial9 crucial's"), { "crucial" }, "_ and digits are word characters; ' is not")
  T.eq(phrases("We leverage, leveraged and leveraging it; deleverage no."), { "leverag", "leverag", "leverag" })
  local m = score.analyze("we leveraged it", lex()).matches[1]
  T.eq(m.text, "leveraged", "a prefix match reports the whole word")
end)

T.test("apostrophes, quotes, dashes and whitespace runs are equal; case folds with accents", function()
  T.eq(phrases("It’s worth noting"), { "it's worth noting" })
  T.eq(phrases("IT'S   WORTH\n\tNOTING"), { "it's worth noting" })
  T.eq(phrases("In today’s fast‑paced\r\nworld"), { "in today's fast-paced world" })
  T.eq(phrases("best–in—class and best‐in‑class"), { "best-in-class", "best-in-class" })
  T.eq(phrases("a “game changer”"), { "\"game changer\"" })
  T.eq(phrases("CAFÉ AU LAIT"), { "café au lait" })
  T.eq(phrases("crucial\u{1680}now, crucial\u{00A0}now, crucial\u{3000}now"), { "crucial", "crucial", "crucial" },
    "every Unicode space ends a word")
  T.eq(score.fold("ÀÉÎÕÜ Ÿ Ĳ ĳ Ωμέγα"), "àéîõü ÿ ĳ ĳ ωμέγα")
end)

T.test("leftmost-longest: overlapping phrases count once", function()
  T.eq(phrases("we delve into it and delve"), { "delve into", "delve" })
end)

T.test("spans: 1-based byte offsets, line and column in characters", function()
  local text = "first line\nsé crucial here\n  delve"
  local r = score.analyze(text, lex())
  T.eq(#r.matches, 2)
  local m = r.matches[1]
  T.eq({ m.line, m.col, m.text, text:sub(m.start, m.stop) }, { 2, 4, "crucial", "crucial" })
  T.eq(m.category, "vendor/superlative")
  T.eq(m.weight, 2.0)
  T.eq({ r.matches[2].line, r.matches[2].col }, { 3, 3 })
  T.eq(r.counts, { ["vendor/superlative"] = 1, ["slop/ai_tell"] = 1 })
  T.eq(r.weights, { ["vendor/superlative"] = 2.0, ["slop/ai_tell"] = 1.0 })
end)

T.test("words, sentences and paragraphs", function()
  local r = score.analyze("One two three. Four five? Six!\n\nSeven eight, e.g. nine. Version 1.2.3 ships.\n", nil)
  T.eq(r.words, 13, "e.g and 1.2.3 are one word each")
  T.eq(r.sentences, 5)
  T.eq(r.paragraphs, 2)
end)

T.test("specificity signals and their opposite", function()
  local r = score.analyze(table.concat({
    "Latency fell 43% to 180ms on 12 nodes for $4,000 a month.",
    "We upgraded Postgres 16 to v16.2 on 2024-03-01, see https://example.com/notes.",
    "Run `make test` before merging; the AWS bill dropped in March 2024.",
    "This improves efficiency.",
  }, " "), lex())
  local s = r.signals
  T.eq(s.percent, 1)
  T.eq(s.duration, 1, "180ms")
  T.eq(s.number_unit, 1, "12 nodes")
  T.eq(s.money, 1)
  T.eq(s.version, 2, "Postgres 16, v16.2")
  T.eq(s.date, 3, "2024-03-01, March 2024 (month, year)")
  T.eq(s.url, 1)
  T.eq(s.code, 1)
  T.eq(s.acronym, 1)
  T.ok(s.named >= 1, "Postgres")
  T.eq(s.abstract_unanchored, 1, "the last sentence has nothing concrete")
  T.eq(r.sentences, 4)
  T.eq(r.anchored_sentences, 3)
end)

T.test("slop shapes: not just/but, it's not/it's, triads, dash stacks, rhetorical openers", function()
  local r = score.analyze(table.concat({
    "Ever wondered why builds fail?",
    "This is not just a tool, but a movement.",
    "It's not about speed. It's about trust.",
    "Our platform is fast, reliable, and secure.",
    "Teams move faster — and smarter — every day! 🚀",
  }, "\n\n"), nil)
  local s = r.signals
  T.eq(s.rhetorical_opener, 1)
  T.eq(s.not_just, 1)
  T.eq(s.its_not, 1)
  T.eq(s.triad, 1)
  T.eq(s.dash_stack, 1)
  T.eq(s.em_dash, 2)
  T.eq(s.emoji, 1)
  T.eq(s.exclamation, 1)
  local kinds = {}
  for _, sp in ipairs(r.signal_spans) do kinds[sp.kind] = (kinds[sp.kind] or 0) + 1 end
  T.eq({ kinds.not_just, kinds.its_not, kinds.triad, kinds.emoji }, { 1, 1, 1, 1 }, "each span names its kind")
  local plain = score.analyze("We store logs, metrics, and traces in one bucket.", nil)
  T.eq(plain.signals.triad, 0, "a list of nouns is not a triad of adjectives")
end)

T.test("invalid UTF-8 is reported and scoring goes on", function()
  local r = score.analyze("ok \xff\xfe crucial \xe2\x82 delve \xc0\xaf end", lex())
  T.eq(r.invalid_utf8, 6, "ff, fe, a truncated e2, a stray 82, c0 and af")
  T.eq(r.first_invalid, 4)
  T.eq(#r.matches, 2)
  T.eq(r.matches[2].text, "delve")
  local odd = assert(score.compile("[a/b]\n\u{FFFD}x\n"))   -- a phrase that starts like a replaced byte
  T.eq(score.analyze("a \xffx b", odd).invalid_utf8, 1, "an invalid byte at a match start is counted once")
  local e = score.analyze("", lex())
  T.eq({ e.words, e.sentences, #e.matches }, { 0, 0, 0 })
end)

T.test("lexicon errors name the file and line; bad sources are rejected", function()
  local cases = {
    { "phrase before\n[a/b]", "x.txt:1: phrase before any %[category%] section" },
    { "[a/b]\n\nok\n[bad name]", "x.txt:4: unknown section option" },
    { "[A B]", "x.txt:1: category names use" },
    { "[a/b weight=0]", "x.txt:1: weight must be a number above 0" },
    { "[a/b]\nphrase | heavy", "x.txt:2: weight after | must be a number" },
    { "[a/b]\n   *  ", "x.txt:2: empty phrase" },
    { "[a/b]\nbad \xff utf8", "x.txt:2: invalid UTF%-8 in phrase" },
    { "[a/b]\n" .. string.rep("x", 600), "x.txt:2: phrase longer than" },
    { "[a/b", "x.txt:1: section header needs a closing %]" },
  }
  for _, c in ipairs(cases) do
    local lx, err = score.compile { { name = "x.txt", text = c[1] } }
    T.eq(lx, nil, c[1])
    T.ok(err and err:find(c[2]), "error for " .. c[1]:sub(1, 30) .. ": " .. tostring(err))
  end
  T.raises(function() score.compile { 42 } end, "must be a string or")
  T.raises(function() score.compile(42) end, "lexicon text or a list of sources")
  T.raises(function() score.compile { { name = 7, text = "[a/b]\nx" } } end, "name must be a string")
  T.raises(function() score.compile { { name = "n", text = 12 } } end, "text must be a string")
  T.raises(function() score.analyze_files({ 1234 }, nil) end, "path 1 is not a string")
  local ok = assert(score.compile("[a/b]\nsame\nsame | 3"))
  T.eq(ok:size(), 1, "a phrase given twice keeps its later definition")
  T.eq(ok:phrases()[1].weight, 3.0)
end)

T.test("the scorers separate the labelled set (ROC AUC targets)", function()
  local quality = require "candor.quality"
  local eval = require "candor.quality.eval"
  local items = dofile(T.root .. "/tests/eval/labelled.lua")
  T.ok(#items >= 60, "at least 60 labelled texts")
  local lexicon = quality.lexicon()
  T.ok(lexicon:size() >= 300, "the full lexicon has at least 300 phrases")
  local r = eval.evaluate(items, function(t) return quality.judge(score.analyze(t, lexicon)) end)
  io.stderr:write(string.format("  [eval] ROC AUC vendor-speak %.3f, slop %.3f, specificity %.3f, authenticity %.3f (n=%d)\n",
    r.vendor_speak, r.slop, r.specificity, r.authenticity, #items))
  T.ok(r.vendor_speak >= 0.9, "vendor-speak AUC " .. r.vendor_speak)
  T.ok(r.slop >= 0.9, "slop AUC " .. r.slop)
  T.ok(r.specificity >= 0.8, "specificity AUC " .. r.specificity)
  T.ok(r.authenticity >= 0.8, "authenticity AUC " .. r.authenticity)
end)

T.test("gates: per dimension against thresholds, defaults when absent", function()
  local quality = require "candor.quality"
  local a = score.analyze("We ran 40 builds on 3 runners. I think the cache saved 12 minutes each, though it cost 2GB.", quality.lexicon())
  local strict = quality.judge(a, { slopMax = 0, vendorSpeakMax = 0, specificityMin = 10.5, authenticityMin = 10.5 })
  T.eq(strict.pass, false)
  T.eq(strict.dimensions.specificity.pass, false)
  T.eq(strict.dimensions.specificity.direction, "min")
  local loose = quality.judge(a, { slopMax = 10, vendorSpeakMax = 10, specificityMin = 0, authenticityMin = 0 })
  T.eq(loose.pass, true)
  local slop_text = "Let's delve into it. It's not just a tool, but a movement."
  local ev = quality.judge(score.analyze(slop_text, quality.lexicon())).dimensions.slop.evidence
  local seen = {}
  for _, e in ipairs(ev) do seen[e.category or ("signal/" .. e.kind)] = true end
  T.ok(seen["slop/ai_tell"] and seen["signal/not_just"], "evidence names the phrase and the shape")
  for i = 2, #ev do T.ok(ev[i - 1].start <= ev[i].start, "evidence in text order") end
  local default = quality.judge(a, nil)
  T.eq(default.thresholds, quality.default_thresholds)
  T.ok(type(default.dimensions.slop.reason) == "string" and #default.dimensions.slop.reason > 0, "a reason")
end)

T.test("score for a voice: its thresholds and banned phrases join in", function()
  local quality = require "candor.quality"
  local dbm = require "candor.db"
  local repo = require "candor.repo"
  local json = require "candor.json"
  local db = dbm.open(T.tmpdir() .. "/c.db")
  local R = repo.bind(db)
  local text = "Our rollout used the frobnicator pattern on 12 services."
  local before = quality.score(text, { voice = "practitioner-community", db = db })
  T.eq(before.analysis.counts["banned/phrase"], nil)
  R.settings.set_value("banned_words", json.encode({ "frobnicator pattern" }))
  local after = quality.score(text, { voice = "Practitioner Community", db = db })
  T.eq(after.analysis.counts["banned/phrase"], 1, "the settings' banned words join the lexicon")
  T.eq(after.voice, "practitioner-community")
  T.eq(after.thresholds.vendorSpeakMax, 1.5)
  T.ok(after.scores.vendor_speak > before.scores.vendor_speak, "a banned phrase raises vendor-speak")
  T.raises(function() quality.score(text, { voice = "no-such-voice", db = db }) end, "no voice profile 'no%-such%-voice' %(known: ")
  db:close()
end)

T.test("analyze_files: many files in argument order, an unreadable one reported", function()
  local dir = T.tmpdir()
  local files = {}
  for i = 1, 9 do files[i] = T.write_file(dir .. "/f" .. i .. ".txt", string.rep("crucial ", i)) end
  files[5] = dir .. "/missing.txt"
  local rs = score.analyze_files(files, lex(), { threads = 3 })
  T.eq(#rs, 9)
  for i, r in ipairs(rs) do
    T.eq(r.path, files[i])
    if i == 5 then T.contains(r.error, "missing.txt: No such file or directory")
    else T.eq(#r.matches, i, "file " .. i) end
  end
end)

T.test("the JSON fast path writes the same findings as the tables", function()
  local json = require "candor.json"
  local quality = require "candor.quality"
  local lexicon = quality.lexicon()
  local text = table.concat({ T.read_file(T.root .. "/examples/drafts/01-launch-hype.md"),
    T.read_file(T.root .. "/examples/drafts/07-social-hook-slop.md"), "bad \xff byte, \"quoted\" \\ back\tslash" }, "\n")
  local kinds = { not_just = "n", its_not = "i", triad = "t", dash_stack = "d", rhetorical_opener = "r",
                  abstract_unanchored = "a", emoji = "e" }
  local fast = json.decode(score.analyze(text, lexicon, { findings = kinds }).findings_json)
  local slow = score.analyze(text, lexicon)
  local want = {}
  local function against(c) local d = c:match("^([^/]+)/") return d == "slop" or d == "vendor" or d == "banned" or c == "authenticity/brochure" end
  for _, m in ipairs(slow.matches) do
    if against(m.category) then want[#want + 1] = { start = m.start, stop = m.stop, category = m.category, line = m.line, col = m.col } end
  end
  for _, sp in ipairs(slow.signal_spans) do
    if kinds[sp.kind] then want[#want + 1] = { start = sp.start, stop = sp.stop, category = "signal/" .. sp.kind, line = sp.line, col = sp.col } end
  end
  table.sort(want, function(a, b) if a.start ~= b.start then return a.start < b.start end return a.category < b.category end)
  T.ok(#want > 20, "enough findings to compare")
  T.eq(#fast, #want)
  for i, w in ipairs(want) do
    local f = fast[i]
    T.eq({ f.start, f.stop, f.category, f.line, f.col }, { w.start, w.stop, w.category, w.line, w.col }, "finding " .. i)
  end
end)

T.test("a large text scored on several threads gives exactly the one-thread result", function()
  local quality = require "candor.quality"
  local lexicon = quality.lexicon()
  local parts = {}
  for _, f in ipairs({ "01-launch-hype", "03-forum-reply", "07-social-hook-slop", "05-one-pager-specific" }) do
    parts[#parts + 1] = T.read_file(T.root .. "/examples/drafts/" .. f .. ".md")
  end
  -- paragraphs of every kind, some joined by bare newlines, one invalid byte, CRLF
  local unit = table.concat(parts, "\n\n") .. "\r\n\r\nNot just a tool.\nIt's a \xff movement.\n\n"
  local text = string.rep(unit, math.ceil(2.6e6 / #unit))
  local one = score.analyze(text, lexicon, { threads = 1 })
  local many = score.analyze(text, lexicon, { threads = 4 })
  for _, k in ipairs({ "words", "sentences", "paragraphs", "anchored_sentences", "invalid_utf8", "first_invalid" }) do
    T.eq(many[k], one[k], k)
  end
  T.ok(math.abs(many.sentence_length_mean - one.sentence_length_mean) < 1e-9, "mean")
  T.ok(math.abs(many.sentence_length_cv - one.sentence_length_cv) < 1e-9, "cv")
  T.eq(many.counts, one.counts, "counts")
  T.eq(many.signals, one.signals, "signals")
  T.eq(#many.matches, #one.matches, "matches")
  T.eq(#many.signal_spans, #one.signal_spans, "signal spans")
  for i = 1, #one.matches, 97 do
    local a, b = one.matches[i], many.matches[i]
    T.eq({ b.start, b.stop, b.line, b.col, b.phrase }, { a.start, a.stop, a.line, a.col, a.phrase }, "match " .. i)
  end
  for i = 1, #one.signal_spans, 101 do
    local a, b = one.signal_spans[i], many.signal_spans[i]
    T.eq({ b.start, b.stop, b.line, b.col, b.kind }, { a.start, a.stop, a.line, a.col, a.kind }, "signal " .. i)
  end
  T.eq(many.matches[#many.matches].stop, one.matches[#one.matches].stop, "last match")
end)

T.test("no phrase spans a paragraph break; a line break inside a phrase is fine", function()
  local lx = assert(score.compile("[a/b]\nat the end of the day\n"))
  T.eq(#score.analyze("at the end\nof the day", lx).matches, 1)
  T.eq(#score.analyze("at the end\n\nof the day", lx).matches, 0)
  T.eq(#score.analyze("at the end\r\n \r\nof the day", lx).matches, 0)
end)
