-- Lexicon scoring throughput: core.score.analyze over every prompts/lexicons/*.txt
-- compiled together, against `LC_ALL=C grep -F -i -w -o -f PHRASES FILE | wc -l`
-- on the same bytes in the same run (target: core.score >= 2x grep's MB/s); the
-- `candor score --format json` process against that grep pipeline; and one 4 KB
-- draft scored from Lua with the lexicon already compiled (target median <= 100 us);
-- and 2 MB of it as one line and one sentence, where per-line or per-sentence
-- work that is not linear would show.
-- The corpus is bench/gen_corpus.lua's (deterministic, >= 10 MiB); grep gets the
-- lexicon's non-prefix phrases and does no Unicode folding, so its match count is
-- a reference for the work done, not the same answer (see gen_corpus.lua).
--   build/candor lua bench/score.lua [CORPUS [PHRASES]]
local B = dofile(require("candor.paths").root .. "/bench/common.lua")
local score = require "core.score"
local host = require "core.host"

local root = require("candor.paths").root
local corpus = arg[1] or "/tmp/candor-corpus.txt"
local phrases = arg[2] or "/tmp/candor-phrases.txt"
local tries = 3
local draft_runs = 2000

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The lexicon candor score uses: the same sources, found the same way.
local lexicon = require "candor.quality.lexicon"
local files = lexicon.sources()
local lex = lexicon.compile(files)

-- The corpus and the phrase list, regenerated each run (deterministic; ~1 s).
local t0 = host.clock()
assert(os.execute(string.format("%s lua %s %s %s 2>/dev/null", q(B.binary), q(root .. "/bench/gen_corpus.lua"),
  q(corpus), q(phrases))), "bench/gen_corpus.lua failed")
local gen_secs = host.clock() - t0
local text = read(corpus)
local bytes = #text
local mb = bytes / 1e6
local nphrases = 0
for _ in io.lines(phrases) do nphrases = nphrases + 1 end
print(string.format("corpus %s: %.1f MB (MB = 10^6 bytes) generated in %.2f s; lexicon %d phrases in %d files (%s); grep gets %d",
  corpus, mb, gen_secs, lex:size(), #files, tostring(lex):match("%d+ categories") or "", nphrases))

-- (a) core.score.analyze, one thread, best of 3. A result's matches and
-- signal_spans tables may be made on first access: "read" touches both inside
-- the timing, as any caller that reports findings does.
local function best_analyze(lexicon, opts, read)
  local best, result = math.huge, nil
  for _ = 1, tries do
    result = nil
    collectgarbage()
    collectgarbage()
    local t = host.clock()
    opts.threads = opts.threads or 1       -- single thread unless a line says otherwise
    result = score.analyze(text, lexicon, opts)
    if read then local _ = #(result.matches or {}) + #(result.signal_spans or {}) end
    best = math.min(best, host.clock() - t)
  end
  return best, result
end

local secs, r = best_analyze(lex, { spans = true }, true)
local nmatch, nsig = #r.matches, #r.signal_spans
local words = r.words
r = nil
local secs_lazy = best_analyze(lex, { spans = true }, false)
local secs_nospans = best_analyze(lex, { spans = false }, true)
local secs_nolex = best_analyze(nil, { spans = true }, true)
-- The matcher alone, the work grep does: every phrase match with its span (read
-- as Lua tables), without the signals tokenizer.
local secs_match, rm = best_analyze(lex, { spans = true, signals = false }, true)
local nmatch_only = #rm.matches
rm = nil
-- The same with the spans collected in C (offsets, line, column) but not turned
-- into Lua tables: what the matcher itself costs.
local secs_match_c = best_analyze(lex, { spans = true, signals = false }, false)
-- The whole analysis on every core (what candor score does with one big file).
local ncores = tonumber(io.popen("nproc"):read("l")) or 2
local secs_par = best_analyze(lex, { spans = true, threads = ncores }, false)
collectgarbage()

-- (b) the grep pipeline: wall time and its count, best of 3.
local grep_cmd = string.format("LC_ALL=C grep -F -i -w -o -f %s %s | wc -l", q(phrases), q(corpus))
local grep_secs, grep_count = math.huge, nil
for _ = 1, tries do
  local t = host.clock()
  local p = assert(io.popen(grep_cmd))
  local out = p:read("a")
  p:close()
  grep_secs = math.min(grep_secs, host.clock() - t)
  grep_count = tonumber(out:match("%d+"))
end

local function line(label, s, extra)
  print(string.format("%-52s %7.1f MB/s  %7.3f s  %s", label, mb / s, s, extra or ""))
end
line("grep -F -i -w -o -f PHRASES | wc -l (reference)", grep_secs, string.format("%d matches", grep_count or -1))
line("core.score.analyze, spans, spans read", secs,
  string.format("%d matches (%.1f per 100 words), %d signal spans", nmatch, nmatch * 100 / math.max(words, 1), nsig))
line("core.score.analyze, spans, spans not read", secs_lazy, "the scoring alone")
line("core.score.analyze, spans = false", secs_nospans, "counts and scores, no span tables")
line("core.score.analyze, no lexicon (signals only)", secs_nolex, "the signal pass and its spans alone")
line("core.score.analyze, signals = false, spans in C", secs_match_c,
  string.format("%d matches: the phrase matcher alone, like grep", nmatch_only))
line("core.score.analyze, signals = false, spans as tables", secs_match, "the same, each span made a Lua table")
line(string.format("core.score.analyze, spans not read, %d threads", ncores), secs_par,
  "split at paragraph breaks; same result as one thread")
-- (c) like for like: the matcher with its spans against grep; and the whole analysis
local ratio = grep_secs / secs_match_c
print(string.format("matcher with spans / grep: %.2fx (%.2fx with Lua tables); target >= 2x and never slower: %s",
  ratio, grep_secs / secs_match, ratio >= 2 and "met" or "NOT met"))
print(string.format("full analysis (matches + signals + spans read) / grep: %.2fx; scoring alone: %.2fx",
  grep_secs / secs, grep_secs / secs_lazy))

-- (d) candor score as a whole process against the grep pipeline, both through sh.
local function wall(cmd)
  local best, code = math.huge, nil
  for _ = 1, tries do
    local t = host.clock()
    local ok, _, c = os.execute(cmd)
    best = math.min(best, host.clock() - t)
    code = ok and 0 or c
  end
  return best, code
end
if os.execute(q(B.binary) .. " score --help >/dev/null 2>&1") then
  local g = wall(grep_cmd .. " >/dev/null")
  local c, code = wall(string.format("%s score --format json %s >/dev/null 2>&1", q(B.binary), q(corpus)))
  print(string.format("%-52s %7.3f s", "grep pipeline, whole process (reference)", g))
  print(string.format("%-52s %7.3f s  (%.2fx the grep pipeline's time%s)", "candor score --format json FILE > /dev/null", c,
    c / g, code ~= 0 and (", exit " .. tostring(code)) or ""))
else
  print("candor score: not available yet")
end

-- The same kind of text as one line and one sentence (no newline, no . ! ?):
-- work that grows with the spans of one line or one sentence shows up here as a
-- rate far below the corpus's. 2 MB, best of 3.
local flat = text:sub(1, 2000000):gsub("[\r\n.!?]", " ")
local flat_best, flat_n = math.huge, 0
for _ = 1, tries do
  collectgarbage()
  local t = host.clock()
  local res = score.analyze(flat, lex, { spans = true })
  flat_n = #res.matches + #res.signal_spans
  flat_best = math.min(flat_best, host.clock() - t)
end
print(string.format("%-52s %7.1f MB/s  %7.3f s  %d spans; the corpus rate above: %.1f MB/s",
  "2 MB as one line and one sentence, with spans", #flat / 1e6 / flat_best, flat_best, flat_n, mb / secs))
flat = nil
-- One sentence of abstract claims with nothing concrete beside them, 2 MB: every
-- claim becomes an abstract_unanchored signal decided at the sentence's end.
local claims = ("better outcomes for you and your team "):rep(52632)
local claims_best, claims_n = math.huge, 0
for _ = 1, tries do
  collectgarbage()
  local t = host.clock()
  local res = score.analyze(claims, lex, { spans = true })
  claims_n = #res.matches + #res.signal_spans
  claims_best = math.min(claims_best, host.clock() - t)
end
print(string.format("%-52s %7.1f MB/s  %7.3f s  %d spans", "2 MB, one sentence of unanchored claims, spans",
  #claims / 1e6 / claims_best, claims_best, claims_n))
claims = nil

-- (e) one 4 KB draft from Lua, lexicon compiled: median over 2000 runs, end to
-- end (analyze, then its matches and signal spans read), and analyze alone.
local draft = text:sub(1, 4096):gsub("[^ \n]*$", "")   -- end on a whole word
for _ = 1, 50 do local res = score.analyze(draft, lex, { spans = true }); local _ = #res.matches end
local function draft_stats(read)
  local samples, dm, ds = {}, 0, 0
  for i = 1, draft_runs do
    local t = host.clock()
    local res = score.analyze(draft, lex, { spans = true })
    if read then dm, ds = #res.matches, #res.signal_spans end
    samples[i] = (host.clock() - t) * 1e6
  end
  return B.stats(samples), dm, ds
end
local st, dm, ds = draft_stats(true)
local st_lazy = draft_stats(false)
B.report(string.format("%d-byte draft: analyze + read spans", #draft), st, "us")
B.report(string.format("%d-byte draft: analyze, spans not read", #draft), st_lazy, "us")
print(string.format("draft: %d matches, %d signal spans; target median <= 100 us end to end: %s", dm, ds,
  st.median <= 100 and "met" or "NOT met"))
