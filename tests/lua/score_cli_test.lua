-- candor score as a user and a CI job meet it.
local T = require "candor.testing"
local json = require "candor.json"

local function candor(dir, argv, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  opts.env.CANDOR_DB = dir .. "/c.db"
  opts.env.HOME = dir
  opts.unset = { "CANDOR_PATH", "NO_COLOR" }
  return T.candor(argv, opts)
end

local BAD = "In today’s fast-paced world, our best-in-class platform lets you delve into seamless synergy.\n"
local GOOD = "We cut CI time from 31 to 22 minutes on 9,000 tests by quarantining 19 flaky ones. The catch: quarantine hides real regressions for a day.\n"

T.test("text output: file:line:col findings, then scores; exit 0 without --gates", function()
  local dir = T.tmpdir()
  local bad = T.write_file(dir .. "/bad.md", "# Launch\n\n" .. BAD)
  local r = candor(dir, { "score", bad })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, bad .. ":3:1: slop/ai_tell: \"In today’s fast-paced\" (3.0)\n")
  T.contains(r.out, bad .. ":3:34: vendor/superlative: \"best-in-class\"")
  T.contains(r.out, bad .. ": FAIL | slop ")
  T.ok(r.out:find(": FAIL | slop %d+%.%d %(max 3%.0%) FAIL | vendor%-speak"), r.out)
  T.ok(not r.out:find("\27%["), "no colour when piped")
end)

T.test("--gates: exit 1 when a gate fails, 0 when all pass", function()
  local dir = T.tmpdir()
  local bad = T.write_file(dir .. "/bad.md", BAD)
  local good = T.write_file(dir .. "/good.md", GOOD)
  T.eq(candor(dir, { "score", "--gates", bad }).code, 1)
  local r = candor(dir, { "score", "--gates", good })
  T.eq(r.code, 0, r.out)
  T.contains(r.out, "PASS")
end)

T.test("unreadable files: a message naming them, the rest still scored", function()
  local dir = T.tmpdir()
  local good = T.write_file(dir .. "/good.md", GOOD)
  local r = candor(dir, { "score", dir .. "/missing.md", good, dir })
  T.eq(r.code, 1)
  T.contains(r.err, "cannot score " .. dir .. "/missing.md: No such file or directory")
  T.contains(r.err, "cannot score " .. dir .. ": Is a directory")
  T.contains(r.out, good .. ": PASS")
  T.contains(r.out, "1 file scored")
end)

T.test("an input that is not text (empty, not UTF-8, a NUL byte) is a usage error, as everywhere else", function()
  local dir = T.tmpdir()
  local good = T.write_file(dir .. "/good.md", GOOD)
  local files = {
    { "", "empty.md is empty" },
    { " \n\t\n", "blank.md is empty" },
    { "caf\233 au lait\n", "latin1.md is not valid UTF-8 (byte 4)" },
    { "one\0two\n", "nul.md holds a NUL byte (byte 4)" },
  }
  for _, c in ipairs(files) do
    local path = T.write_file(dir .. "/" .. c[2]:match("^(%S+)"), c[1])
    for _, format in ipairs { "text", "json", "sarif" } do
      local r = candor(dir, { "score", "--format", format, good, path })
      T.eq(r.code, 2, c[2] .. " " .. format .. ": " .. r.err)
      T.contains(r.err, dir .. "/" .. c[2])
      T.contains(r.err, "Try 'candor score --help'")
      T.eq(r.out, "", "nothing scored: " .. c[2])
    end
  end
  -- a NUL byte past the first chunk the scan reads is found too
  local late = T.write_file(dir .. "/late.md", string.rep(GOOD, 1000) .. "\0")
  local r = candor(dir, { "score", late })
  T.eq(r.code, 2, r.err)
  T.contains(r.err, string.format("late.md holds a NUL byte (byte %d)", #GOOD * 1000 + 1))
  for _, c in ipairs { { "", "standard input is empty" }, { "\n", "standard input is empty" },
                       { "caf\233", "standard input is not valid UTF-8 (byte 4)" },
                       { "a\0b", "standard input holds a NUL byte (byte 2)" } } do
    r = candor(dir, { "score", "-" }, { stdin = c[1] })
    T.eq(r.code, 2, c[2] .. ": " .. r.err)
    T.contains(r.err, c[2])
  end
  r = candor(dir, { "score", good, "-" }, { stdin = BAD })
  T.eq(r.code, 0, r.err)
  T.ok(r.out:find(good .. ": PASS", 1, true) < r.out:find("-: FAIL", 1, true), "in the order given: " .. r.out)
end)

T.test("stdin with -, and piped input without arguments", function()
  local dir = T.tmpdir()
  local r = candor(dir, { "score", "--format", "json", "-" }, { stdin = BAD })
  T.eq(r.code, 0, r.err)
  T.eq(json.decode(r.out).files[1].path, "-")
  r = candor(dir, { "score", "--format", "json" }, { stdin = GOOD })
  T.eq(json.decode(r.out).files[1].pass, true)
end)

T.test("json: stable fields for scripts", function()
  local dir = T.tmpdir()
  local bad = T.write_file(dir .. "/bad.md", BAD)
  local r = candor(dir, { "score", "--format", "json", bad, dir .. "/missing.md" })
  local doc = json.decode(r.out)
  T.eq(doc.version, 1)
  T.eq(doc.pass, false)
  T.eq(doc.voice, json.null)
  local f = doc.files[1]
  for _, k in ipairs({ "path", "bytes", "words", "sentences", "paragraphs", "invalid_utf8", "pass", "scores", "findings", "signals" }) do
    T.ok(f[k] ~= nil, "field " .. k)
  end
  for _, d in ipairs({ "slop", "vendor_speak", "specificity", "authenticity" }) do
    local s = f.scores[d]
    T.ok(type(s.score) == "number" and type(s.pass) == "boolean" and type(s.reason) == "string" and s.threshold, d)
  end
  local first = f.findings[1]
  T.eq({ first.line, first.col, first.start, first.category }, { 1, 1, 1, "slop/ai_tell" })
  T.contains(doc.files[2].error, "missing.md")
end)

T.test("sarif: a valid SARIF 2.1.0 log with locations and gate failures", function()
  local dir = T.tmpdir()
  local bad = T.write_file(dir .. "/bad.md", "\n" .. BAD)
  local doc = json.decode(candor(dir, { "score", "--format", "sarif", bad }).out)
  T.eq(doc.version, "2.1.0")
  local run = doc.runs[1]
  T.eq(run.tool.driver.name, "candor")
  T.eq(run.columnKind, "unicodeCodePoints")
  local ids, gate = {}, false
  for _, rule in ipairs(run.tool.driver.rules) do ids[rule.id] = true end
  for _, res in ipairs(run.results) do
    T.ok(ids[res.ruleId], "rule declared: " .. res.ruleId)
    T.eq(run.tool.driver.rules[res.ruleIndex + 1].id, res.ruleId)
    local loc = res.locations[1].physicalLocation
    T.eq(loc.artifactLocation.uri, bad)
    T.ok(loc.region.startLine >= 1, "a line")
    if res.ruleId:match("^gate/") then gate = true T.eq(res.level, "error") end
  end
  T.eq(run.results[1].locations[1].physicalLocation.region.startLine, 2)
  T.ok(gate, "gate failures are results too")
end)

T.test("--voice: that voice's gates; an unknown voice is a clear error", function()
  local dir = T.tmpdir()
  local mid = T.write_file(dir .. "/mid.md", "Our robust platform cut deploy time from 40 to 12 minutes across 30 services last quarter.\n")
  local launch = json.decode(candor(dir, { "score", "--format", "json", "--voice", "product-launch", mid }).out)
  local community = json.decode(candor(dir, { "score", "--format", "json", "--voice", "practitioner-community", mid }).out)
  T.eq(launch.voice, "product-launch")
  T.eq(launch.files[1].scores.vendor_speak.threshold, 4.5)
  T.eq(community.files[1].scores.vendor_speak.threshold, 1.5)
  local r = candor(dir, { "score", "--voice", "pirate", mid })
  T.eq(r.code, 2, "a usage error, as an unknown voice is for other commands")
  T.contains(r.err, "no voice profile 'pirate' (known: ")
  T.contains(r.err, "Try 'candor score --help'")
end)

T.test("lexicons: --lexicon adds, NAME.local.txt on CANDOR_PATH extends, a same-named file replaces", function()
  local dir = T.tmpdir()
  local text = T.write_file(dir .. "/t.md", "We shipped the frobnicator today. Delve deeper.\n")
  local extra = T.write_file(dir .. "/extra.txt", "[vendor/house_style]\nfrobnicator\n")
  T.contains(candor(dir, { "score", "--lexicon", extra, text }).out, "vendor/house_style: \"frobnicator\"")
  local bad = T.write_file(dir .. "/broken.txt", "oops\n")
  local r = candor(dir, { "score", "--lexicon", bad, text })
  T.eq(r.code, 1)
  T.contains(r.err, "broken.txt:1: phrase before any [category] section")
  os.execute("mkdir -p " .. dir .. "/mine/prompts/lexicons")
  T.write_file(dir .. "/mine/prompts/lexicons/vendor.local.txt", "[vendor/house_style]\nfrobnicator\n")
  local env = { CANDOR_PATH = dir .. "/mine" }
  r = candor(dir, { "score", text }, { env = env })
  T.contains(r.out, "vendor/house_style: \"frobnicator\"")
  T.contains(r.out, "slop/ai_tell: \"Delve\"", "the built-in files still apply")
  T.write_file(dir .. "/mine/prompts/lexicons/slop.txt", "[slop/mine]\ndeeper\n")
  r = candor(dir, { "score", text }, { env = env })
  T.contains(r.out, "slop/mine: \"deeper\"")
  T.ok(not r.out:find("slop/ai_tell"), "the user's slop.txt replaced the built-in one")
end)

T.test("usage errors", function()
  local dir = T.tmpdir()
  for _, argv in ipairs({ { "score", "--format", "xml", "x" }, { "score", "--threads", "0", "x" } }) do
    local r = candor(dir, argv)
    T.eq(r.code, 2, table.concat(argv, " "))
  end
end)
