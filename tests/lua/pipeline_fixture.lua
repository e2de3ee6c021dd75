-- What the pipeline tests share: a seeded database, the fake provider with a
-- script that answers every pipeline step by purpose, and the environment that
-- sends every tier to it (the local profile).
local T = require "candor.testing"
local dbm = require "candor.db"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local F = {}

F.good = T.read_file(T.root .. "/examples/drafts/05-one-pager-specific.md"):gsub("^<!%-%-.-%-%->%s*", "")
F.bad = T.read_file(T.root .. "/examples/drafts/02-battlecard-vendor.md"):gsub("^<!%-%-.-%-%->%s*", "")

function F.db()
  local db = dbm.open(T.tmpdir() .. "/pipeline.db")
  require("candor.seed").run(db)
  return db
end

-- A judge answer scoring every active critic at `score`.
function F.judge_json(db, score, auth)
  local personas = {}
  for _, c in ipairs(require("candor.repo.persona_critics"):active(db)) do
    personas[#personas + 1] = { critic = c.name, score = score, feedback = "ok", strengths = { "numbers" },
                                weaknesses = { "the price line is vague" } }
  end
  return { authenticity = { score = auth or score, remarks = { "reads like an engineer wrote it" } },
           narrative_arc = { score = score, remarks = { "the ending trails" } }, personas = personas }
end

F.evidence = { discussions = {
  { url = "https://news.ycombinator.com/item?id=1", site = "news.ycombinator.com", title = "Flaky CI",
    quote = "we re-run the suite three times a day", author = "pat", summary = "re-runs" },
  { url = "https://www.reddit.com/r/devops/comments/2", site = "reddit.com", title = "flaky tests",
    quote = "half our red builds are flakes", author = "sam", summary = "flakes" },
  { url = "https://stackoverflow.com/q/3", site = "stackoverflow.com", title = "retry tests",
    quote = "is there a way to quarantine a test", author = "kim", summary = "quarantine" },
}, summary = "Practitioners re-run flaky suites by hand." }

-- The script for a run: research answers, then `drafts` and `judges` entries
-- placed before the defaults so a test can shape what the drafts score.
function F.script(db, extra)
  local s = {}
  for _, e in ipairs(extra or {}) do s[#s + 1] = e end
  local defaults = {
    { purpose = "^research:insights", json = { capabilities = { { name = "flake detection", detail = "same-SHA flips", source = "doc" } },
      differentiators = {}, proof_points = { { claim = "1-3% of tests flip", evidence = "customer repos", source = "doc" } },
      limits = { { limit = "JUnit XML only", detail = "no other formats" } },
      unanswered = { { gap = "no support for Jenkins", suggested_capability = "a Jenkins uploader" } } } },
    { purpose = "^research:banned%-words", json = { phrases = { "game-changer", "synergy" } } },
    { purpose = "^research:community%-evidence", json = F.evidence },
    { purpose = "^research:competitive", json = { competitors = { { name = "BuildPulse", positioning = "flaky test detection",
      claims = { "finds flakes" }, where_they_win = "mature", where_they_fall_short = "price", sources = {} } }, summary = "one rival" } },
    { purpose = "^generate", text = F.good },
    { purpose = "^refine", text = F.good },
    { purpose = "^attack", text = "1. The 1-3% figure has no source.\nWorst problem: 1" },
    { purpose = "^judge", json = F.judge_json(db, 8) },
  }
  for _, e in ipairs(defaults) do s[#s + 1] = e end
  return s
end

-- Runs fn(fake) with every tier sent to a fake server running `script`.
function F.with_fake(script, fn, opts)
  local fake = Fake.start(script, opts)
  local vars = { CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "fake-model", OPENAI_BASE_URL = fake.url .. "/v1" }
  local ok, err = pcall(T.with_llm_env, vars, function() fn(fake) end)
  fake.close()
  if not ok then error(err, 0) end
end

F.pain = { title = "Flaky tests waste CI time", content = "Our suite has tests that fail and pass on the same commit; we re-run builds by hand." }

-- prepare + start -> job, stored (or raises)
function F.generate(db, opts)
  local pipeline = require "candor.pipeline"
  local o = { pain = F.pain, assets = { "battlecard" }, voices = { "practitioner-community" }, pipeline = "standard",
              cache = T.tmpdir() .. "/llm-cache.db" }
  for k, v in pairs(opts or {}) do o[k] = v end
  local run = pipeline.prepare(db, o)
  return pipeline.start(run, { retry = { base_ms = 1 } })
end

-- Calls of the fake server whose purpose matches the pattern.
function F.calls(fake, pattern)
  local n = 0
  for _, c in ipairs(fake.calls) do if (c.purpose or ""):find(pattern) then n = n + 1 end end
  return n
end

return F
