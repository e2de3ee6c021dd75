-- candor score: the deterministic scorers over files, linter style.
local show = require "candor.cli.show"

local M = {
  name = "score",
  summary = "Score drafts for slop, vendor-speak, specificity and authenticity (offline, instant).",
  usage = "candor score [FILE...|-] [--voice NAME] [--format text|json|sarif] [--gates] [--explain] [--lexicon FILE]",
  description = "Findings print as FILE:LINE:COL: category: \"phrase\" (weight), then the scores per file.\n"
    .. "Gates come from the voice's scoring_thresholds (defaults without --voice).\n"
    .. "Each input must be UTF-8 text, not empty and with no NUL byte.\n"
    .. "Exit codes: 0 scored; 1 a file could not be read, or a gate failed with --gates; 2 usage\n"
    .. "(an input that is not text among them).",
  options = {
    { "voice", arg = "NAME", help = "score for this voice profile: its gates and banned phrases" },
    { "format", "f", arg = "FORMAT", help = "text (default), json, or sarif (SARIF 2.1.0)" },
    { "gates", help = "exit 1 when any file fails a gate" },
    { "explain", help = "also show each score's reason and the evidence that raised it" },
    { "lexicon", arg = "FILE", repeated = true, help = "add this lexicon file (repeatable)" },
    { "threads", arg = "N", help = "files scored at once (default 4)" },
  },
  examples = { "candor score examples/drafts/*.md", "candor score --voice product-launch --gates draft.md",
               "cat draft.md | candor score --format json -" },
}

local DIMENSION_LABEL = { slop = "slop", vendor_speak = "vendor-speak", specificity = "specificity", authenticity = "authenticity" }
local ORDER = { "slop", "vendor_speak", "specificity", "authenticity" }

-- Signals worth showing as findings by default: the ones that count against a draft.
local FINDING_SIGNALS = {
  not_just = "\"not just X, but Y\" shape", its_not = "\"it's not X, it's Y\" shape",
  triad = "triad of adjectives", dash_stack = "stacked dashes in one sentence",
  rhetorical_opener = "opens with a rhetorical question", abstract_unanchored = "abstract claim with nothing concrete beside it",
  emoji = "emoji",
}

local function paint(app, code, s)
  if not app.color then return s end
  return "\27[" .. code .. "m" .. s .. "\27[0m"
end

local function fmt_num(x) return string.format("%.1f", x) end

-- Findings of one file, in text order: lexicon matches and the signals that count against it.
-- Lexicon categories that count against a draft; the rest (practitioner markers,
-- abstract claims that have an anchor) are evidence shown with --explain.
local function against(category)
  local dim = category:match("^([^/]+)/")
  return dim == "slop" or dim == "vendor" or dim == "banned" or category == "authenticity/brochure"
end

-- Stands in for a findings array that C encoded; replaced in the output text.
local FINDINGS_SLOT = "\0candor.findings\0"

local function findings(analysis, explain)
  local out = {}
  for _, m in ipairs(analysis.matches) do
    if explain or against(m.category) then out[#out + 1] = { line = m.line, col = m.col, start = m.start, stop = m.stop, category = m.category,
                      phrase = m.phrase, text = m.text, weight = m.weight } end
  end
  for _, s in ipairs(analysis.signal_spans) do
    if FINDING_SIGNALS[s.kind] or explain then
      out[#out + 1] = { line = s.line, col = s.col, start = s.start, stop = s.stop, category = "signal/" .. s.kind,
                        text = s.text, description = FINDING_SIGNALS[s.kind] }
    end
  end
  table.sort(out, function(a, b) if a.start ~= b.start then return a.start < b.start end return a.category < b.category end)
  return out
end

local function text_output(app, results, explain)
  for _, f in ipairs(results) do
    if f.error then goto continue end
    for _, x in ipairs(findings(f.analysis, explain)) do
      local label
      if x.phrase then
        label = string.format("%s: \"%s\" (%s)", paint(app, "33", x.category), x.text:gsub("%s+", " "), fmt_num(x.weight))
      else
        label = string.format("%s: %s", paint(app, "36", x.category), x.description or ("\"" .. x.text:gsub("%s+", " ") .. "\""))
      end
      app.out(string.format("%s:%d:%d: %s\n", f.path, x.line, x.col, label))
    end
    local parts = {}
    for _, name in ipairs(ORDER) do
      local d = f.report.dimensions[name]
      parts[#parts + 1] = string.format("%s %s (%s %s) %s", DIMENSION_LABEL[name], fmt_num(d.score), d.direction,
        fmt_num(d.threshold), d.pass and paint(app, "32", "pass") or paint(app, "31", "FAIL"))
    end
    app.out(string.format("%s: %s | %s\n", f.path, f.report.pass and paint(app, "32", "PASS") or paint(app, "31", "FAIL"),
      table.concat(parts, " | ")))
    if explain then
      for _, name in ipairs(ORDER) do
        local d = f.report.dimensions[name]
        app.out(string.format("  %-13s %s\n", DIMENSION_LABEL[name] .. ":", d.reason))
      end
      if f.analysis.invalid_utf8 > 0 then
        app.out(string.format("  note: %d invalid UTF-8 sequences (first at byte %d) were skipped\n",
          f.analysis.invalid_utf8, f.analysis.first_invalid))
      end
    end
    ::continue::
  end
  local scored, passed = 0, 0
  for _, f in ipairs(results) do
    if not f.error then scored = scored + 1 if f.report.pass then passed = passed + 1 end end
  end
  if #results > 1 then
    app.out(string.format("%d file%s scored: %d passed every gate, %d failed\n", scored, scored == 1 and "" or "s",
      passed, scored - passed))
  end
end

local function json_file(f, explain)
  if f.error then return { path = f.path, error = f.error } end
  local json = require "candor.json"
  local a = f.analysis
  local scores = {}
  for _, name in ipairs(ORDER) do
    local d = f.report.dimensions[name]
    scores[name] = { score = d.score, threshold = d.threshold, direction = d.direction, pass = d.pass, reason = d.reason }
  end
  -- write_findings: C writes the findings straight to the output (big files)
  return {
    path = f.path, bytes = f.bytes, words = a.words, sentences = a.sentences, paragraphs = a.paragraphs,
    invalid_utf8 = a.invalid_utf8, pass = f.report.pass, scores = scores,
    findings = a.write_findings and FINDINGS_SLOT or json.array(findings(a, explain)), signals = a.signals,
  }, a.write_findings
end

local function json_output(app, results, ctx, explain)
  local json = require "candor.json"
  local files, raw, pass = {}, {}, true
  for i, f in ipairs(results) do
    files[i], raw[i] = json_file(f, explain)
    if f.error or not f.report.pass then pass = false end
  end
  local text = json.encode({ version = 1, voice = ctx.voice or json.null, thresholds = ctx.thresholds,
    pass = pass, files = json.array(files) })
  -- each file's findings are written by C where its placeholder stands, in order
  local n = 0
  local slot = json.encode(FINDINGS_SLOT)
  local pos = 1
  while true do
    local a, b = text:find(slot, pos, true)
    if not a then break end
    n = n + 1
    while raw[n] == nil and n <= #results do n = n + 1 end
    app.out(text:sub(pos, a - 1))
    local ok, err = pcall(raw[n], io.stdout)   -- C raises on a failed write; its errno is lost
    if not ok then show.written("standard output", nil, tostring(err):match("cannot write findings: (.*)$") or err) end
    pos = b + 1
  end
  app.out(text:sub(pos), "\n")
end

local function sarif_output(app, results, ctx)
  local json = require "candor.json"
  local rules, rule_index, out = {}, {}, {}
  local function rule(id, text)
    if not rule_index[id] then
      rules[#rules + 1] = { id = id, shortDescription = { text = text } }
      rule_index[id] = #rules - 1
    end
    return rule_index[id]
  end
  for _, f in ipairs(results) do
    if f.error then
      out[#out + 1] = { ruleId = rule("candor/unreadable", "the file could not be read"),
        ruleIndex = rule_index["candor/unreadable"], level = "error", message = { text = f.error },
        locations = { { physicalLocation = { artifactLocation = { uri = f.path } } } } }
    else
      for _, x in ipairs(findings(f.analysis, false)) do
        local text = x.phrase and string.format("%s: \"%s\" (weight %s)", x.category, x.text:gsub("%s+", " "), fmt_num(x.weight))
          or (x.description or x.category)
        local id = x.category
        out[#out + 1] = {
          ruleId = id, ruleIndex = rule(id, x.phrase and ("phrase from the " .. id .. " lexicon") or (x.description or id)),
          level = "warning", message = { text = text },
          locations = { { physicalLocation = { artifactLocation = { uri = f.path },
            region = { startLine = x.line, startColumn = x.col, charOffset = x.start - 1, charLength = x.stop - x.start + 1 } } } },
        }
      end
      for _, name in ipairs(ORDER) do
        local d = f.report.dimensions[name]
        if not d.pass then
          local id = "gate/" .. name
          out[#out + 1] = { ruleId = id, ruleIndex = rule(id, DIMENSION_LABEL[name] .. " outside the voice's gate"),
            level = "error",
            message = { text = string.format("%s %s, %s %s: %s", DIMENSION_LABEL[name], fmt_num(d.score), d.direction,
              fmt_num(d.threshold), d.reason) },
            locations = { { physicalLocation = { artifactLocation = { uri = f.path }, region = { startLine = 1 } } } } }
        end
      end
    end
  end
  app.out(json.encode({
    ["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json",
    version = "2.1.0",
    runs = json.array({ {
      tool = { driver = { name = "candor", version = require "candor.version",
        informationUri = "https://example.invalid/candor", rules = json.array(rules) } },
      columnKind = "unicodeCodePoints",
      properties = { voice = ctx.voice },
      results = json.array(out),
    } }),
  }), "\n")
end

-- An input must be text, as everywhere else: one that is empty (or only white
-- space), not UTF-8 or holding a NUL byte is a usage error; check_utf8 words the last two.
local function check_text(s, what)
  if not s:find("%S") then error(show.usage("%s is empty", what), 0) end
  return require("candor.text").check_utf8(s, what)
end

-- Whether the file holds anything but white space, and whether it holds a NUL
-- byte: what the scorer, which maps a file rather than reading it, does not
-- say (it counts bad UTF-8). Read in chunks, as reading it whole would cost
-- about as much as scoring it.
local function scan_file(path)
  local f = io.open(path, "rb")
  if not f then return true, false end   -- gone since it was scored: nothing to say of it
  local has_text, has_nul = false, false
  while not has_nul do
    local chunk = f:read(65536)
    if not chunk then break end
    has_text = has_text or chunk:find("%S") ~= nil
    has_nul = chunk:find("\0", 1, true) ~= nil
  end
  f:close()
  return has_text, has_nul
end

-- The results for files (paths, and "-" for standard input, read once), in
-- their order; raises a usage error for one that is not text. The files are
-- scored in C, several at once; standard input is read here, to be checked.
local function score_inputs(files, lex, threads, fast)
  local core = require "core.score"
  local paths, index = {}, {}
  for i, path in ipairs(files) do
    if path ~= "-" then paths[#paths + 1], index[#paths + 1] = path, i end
  end
  local results = {}
  for j, f in ipairs(core.analyze_files(paths, lex, { threads = threads, findings = fast and FINDING_SIGNALS or nil,
      stream = fast })) do
    if not f.error then
      local has_text, has_nul = scan_file(f.path)
      if not has_text or has_nul or f.invalid_utf8 > 0 then   -- refused: read whole, for the message
        check_text(require("candor.paths").read_file(f.path) or "", f.path)
      end
    end
    results[index[j]] = f
  end
  local stdin
  for i, path in ipairs(files) do
    if path == "-" then
      stdin = stdin or check_text(io.stdin:read("a") or "", "standard input")
      local f = core.analyze(stdin, lex, { threads = threads })
      f.path, f.bytes = "-", #stdin
      results[i] = f
    end
  end
  return results
end

function M.run(app, opts, pos)
  local quality = require "candor.quality"
  local host = require "core.host"
  local format = opts.format or "text"
  if format ~= "text" and format ~= "json" and format ~= "sarif" then
    error(show.usage("--format must be text, json or sarif"), 0)
  end
  local threads = show.whole(nil, opts, "threads", 4)
  local files = pos
  if #files == 0 then
    if host.isatty(0) then error(show.usage("give files to score, or pipe text and use -"), 0) end
    files = { "-" }
  end
  local ctx = {}
  local voice_row
  if opts.voice then
    voice_row = quality.voice(app.db(), opts.voice)
    ctx.voice = voice_row.slug
  end
  ctx.thresholds = voice_row and voice_row.scoring_thresholds or quality.default_thresholds
  local lex = quality.lexicon { db = opts.voice and app.db() or nil, voice_row = voice_row, lexicon_files = opts.lexicon }
  -- JSON without --explain takes the fast path: C writes the findings array.
  local fast = format == "json" and not opts.explain
  local results = score_inputs(files, lex, threads, fast)
  local failed_read, failed_gate = false, false
  for _, f in ipairs(results) do
    if f.error then
      failed_read = true
      io.stderr:write("candor: cannot score ", f.error, "\n")
    else
      f.analysis = f
      f.report = quality.judge(f, ctx.thresholds)
      if not f.report.pass then failed_gate = true end
    end
  end
  if format == "json" then json_output(app, results, ctx, opts.explain)
  elseif format == "sarif" then sarif_output(app, results, ctx)
  else text_output(app, results, opts.explain) end
  if failed_read or (opts.gates and failed_gate) then return 1 end
  return 0
end

return M
