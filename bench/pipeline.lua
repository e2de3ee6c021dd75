-- The standard pipeline, 8 asset types x 2 voices, against the fake provider in
-- its own process answering every call after 100 ms. Two cases: every first
-- draft passes its gates (best case), and every first draft fails and one
-- refinement passes (one refinement). For each it prints:
--   wall time against the longest chain of dependent LLM calls x 100 ms (target <= 1.2x);
--   LLM calls per asset (asset type x voice), research counted once per job and
--   divided over the assets (targets <= 5 best, <= 15 with a refinement);
--   the longest chain of dependent calls, from the logged call intervals (target <= 5 best);
--   host CPU per asset (everything the host does: prompts, HTTP, JSON, scoring, SQLite).
-- build/candor lua bench/pipeline.lua [rounds]
local uv = require "luv"
local async = require "candor.async"
local paths = require "candor.paths"
local dbm = require "candor.db"
local B = dofile(paths.root .. "/bench/common.lua")

local ROUNDS = tonumber(arg[1]) or 3
local DELAY_MS = 100
local VOICES = { "practitioner-community", "sales-enablement" }

require("candor.llm.limit").settings.openai = { concurrency = 64 }

local function read(rel) return assert(paths.read_file(paths.root .. "/" .. rel)) end
local GOOD = read("examples/drafts/05-one-pager-specific.md"):gsub("^<!%-%-.-%-%->%s*", "")
local BAD = read("examples/drafts/02-battlecard-vendor.md"):gsub("^<!%-%-.-%-%->%s*", "")

-- A script file for tests/fake_llm/serve.lua: every step answered by purpose.
local function script_file(dir, db, first_draft)
  local function e(purpose, t) t.purpose, t.delay_ms = purpose, DELAY_MS return t end
  local script = {
    e("^research:insights", { json = { capabilities = { { name = "flake detection", detail = "same-SHA flips", source = "doc" } },
      differentiators = {}, proof_points = {}, limits = { { limit = "JUnit only", detail = "" } }, unanswered = {} } }),
    e("^research:banned", { json = { phrases = { "game-changer" } } }),
    e("^research:community", { json = { discussions = {
      { url = "https://news.ycombinator.com/item?id=1", site = "hn", quote = "we re-run three times a day" },
      { url = "https://reddit.com/r/devops/2", site = "reddit", quote = "half our red builds are flakes" },
      { url = "https://stackoverflow.com/q/3", site = "so", quote = "how do I quarantine a test" } }, summary = "" } }),
    e("^research:competitive", { json = { competitors = {}, summary = "none named" } }),
    e("^generate", { text = first_draft }),
    e("^refine", { text = GOOD }),
    e("^judge", { json = B.judge_answer(db, 8) }),
  }
  return B.script_file(dir, script)
end

-- ISO 8601 UTC with milliseconds -> milliseconds since the epoch.
local function ms_of(ts)
  local y, mo, d, h, mi, s, ms = ts:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)%.(%d+)")
  local days = os.time { year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = 12 } // 86400
  return ((days * 24 + tonumber(h)) * 60 + tonumber(mi)) * 60000 + tonumber(s) * 1000 + tonumber(ms)
end

-- The longest chain of calls each starting after the previous one ended, from
-- the logged intervals (end = logged time, start = end - latency).
local function longest_chain(rows)
  local calls = {}
  for _, r in ipairs(rows) do
    local stop = ms_of(r.timestamp)
    calls[#calls + 1] = { start = stop - r.latency_ms, stop = stop }
  end
  table.sort(calls, function(a, b) return a.start < b.start end)
  local best = 0
  for i, c in ipairs(calls) do
    c.depth = 1
    for j = 1, i - 1 do
      if calls[j].stop <= c.start + 20 and calls[j].depth + 1 > c.depth then c.depth = calls[j].depth + 1 end
    end
    best = math.max(best, c.depth)
  end
  return best
end

local function one_run(first_draft)
  local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
  local db = dbm.open(dir .. "/b.db")
  require("candor.seed").run(db)
  local server = B.fake_server { "--script", script_file(dir, db, first_draft) }
  B.use_server(server.url)
  local pipeline = require "candor.pipeline"
  local run = pipeline.prepare(db, {
    pain_file = paths.root .. "/examples/pain/flaky-tests.md", documents = { paths.root .. "/examples/product/tideline.md" },
    assets = { "all" }, voices = VOICES, pipeline = "standard", cache = false,
  })
  collectgarbage()
  local cpu0, t0 = B.cpu_seconds(), uv.hrtime()
  local job, stored = pipeline.start(run)
  require("candor.llm.log").flush(db)
  local wall, cpu = (uv.hrtime() - t0) / 1e9, B.cpu_seconds() - cpu0
  assert(job.status == "completed", "the job did not complete")
  local rows = db:query("SELECT purpose, timestamp, latency_ms FROM llm_calls WHERE job_id = ? AND success = 1", job.id)
  local research, per_variant = 0, 0
  for _, r in ipairs(rows) do
    if r.purpose:find("^research:") then research = research + 1 else per_variant = per_variant + 1 end
  end
  local variants = 0
  for _, s in ipairs(stored) do variants = variants + #s.variants end
  server.stop()
  db:close()
  os.execute("rm -rf '" .. dir .. "'")
  return { wall = wall, cpu = cpu, calls = #rows, research = research, per_variant = per_variant, variants = variants,
           chain = longest_chain(rows), assets = #stored }
end

local function median(list, key)
  local s = {}
  for i, v in ipairs(list) do s[i] = v[key] end
  table.sort(s)
  return s[(#s + 1) // 2]
end

local function case(label, first_draft)
  one_run(first_draft)   -- warm-up: curl loaded, connections and caches made
  local runs = {}
  for i = 1, ROUNDS do runs[i] = one_run(first_draft) end
  local r = runs[1]
  local chain = median(runs, "chain")
  local wall = median(runs, "wall")
  local cpu = median(runs, "cpu")
  print(string.format("%s: %d asset types x %d voices = %d assets, %d rounds (medians)", label, r.assets, #VOICES,
    r.variants, ROUNDS))
  print(string.format("  LLM calls: %d in all = %d research (once per job) + %d for the assets", r.calls, r.research,
    r.per_variant))
  print(string.format("  calls per asset: %.2f (research share %.2f + %.2f of its own)   target <= %d",
    r.calls / r.variants, r.research / r.variants, r.per_variant / r.variants, label:find("best") and 5 or 15))
  print(string.format("  longest chain of dependent calls: %d%s", chain, label:find("best") and "   target <= 5" or ""))
  print(string.format("  wall %.3f s against chain x %d ms = %.3f s: %.2fx   target <= 1.2x", wall, DELAY_MS,
    chain * DELAY_MS / 1000, wall / (chain * DELAY_MS / 1000)))
  print(string.format("  host CPU: %.1f ms in all, %.2f ms per asset", cpu * 1000, cpu * 1000 / r.variants))
end

async.run(function()
  case("best case (every first draft passes)", GOOD)
  case("one refinement (every first draft fails, the rewrite passes)", BAD)
end)
return 0
