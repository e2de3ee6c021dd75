-- Discovery of 500 fixture posts from a stand-in source, judged by the fake
-- provider in its own process answering every call after 100 ms, with the
-- provider's limit at 50 calls at once. Half the posts are sharp pain (kept),
-- half mild (dropped below the threshold). For each round it measures:
--   wall time against 500 x 100 ms / 50 = 1.0 s (the judge calls alone);
--   host CPU per post (prompt rendering, HTTP, JSON, quote checks, SQLite);
--   kept and dropped counts;
-- and then the 250 kept posts again (every one a duplicate: no calls).
-- build/candor lua bench/discovery.lua [rounds]
local uv = require "luv"
local async = require "candor.async"
local paths = require "candor.paths"
local dbm = require "candor.db"
local json = require "candor.json"
local B = dofile(paths.root .. "/bench/common.lua")

local ROUNDS = tonumber(arg[1]) or 3
local POSTS = 500
local DELAY_MS = 100
local CONCURRENCY = 50

require("candor.llm.limit").settings.openai = { concurrency = CONCURRENCY }

local function fixture_posts()
  local out = {}
  for i = 1, POSTS do
    local sharp = i % 2 == 1
    out[i] = {
      source_type = "bench", source_id = "post-" .. i, url = "https://forum.example/t/" .. i,
      title = string.format("Post %d: %s", i, sharp and "our deploys keep failing" or "a question about deploys"),
      content = sharp
        and string.format("Deploy %d failed again at 2am. We lose about %d hours a week re-running the pipeline by hand, "
          .. "and the rollback script is a 400 line bash file nobody owns. SHARP", i, 3 + i % 7)
        or string.format("Post %d. Is there a recommended way to run deploys from a monorepo? Just curious. MILD", i),
      author = "user" .. i, author_level = "practitioner", posted_at = "2026-01-01T00:00:00.000Z",
      metadata = { score = i % 40, comments = i % 12 },
    }
  end
  return out
end

local function script_file(dir)
  local script = {
    { purpose = "^discovery:judge", match = "SHARP", delay_ms = DELAY_MS, json = {
      pain_score = 0.85, author_level = "practitioner", quotes = { "the rollback script is a 400 line bash file nobody owns.",
                                                                    "an invented quote that is not in the post" },
      analysis = { pain_points = { "failed deploys", "manual re-runs" }, urgency = "high", technical_depth = "medium",
                   relevance = "high", summary = "Deploys fail at night and are re-run by hand." } } },
    { purpose = "^discovery:judge", delay_ms = DELAY_MS, json = {
      pain_score = 0.2, author_level = "unknown", quotes = {},
      analysis = { pain_points = {}, urgency = "low", technical_depth = "low", relevance = "medium", summary = "A question." } } },
  }
  return B.script_file(dir, script)
end

local posts = fixture_posts()
local sharp = {}
for i = 1, #posts, 2 do sharp[#sharp + 1] = posts[i] end
local function stand_in(list) return { get = function() return { fetch = function() return list end } end } end

local function one_run(server)
  local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
  local db = dbm.open(dir .. "/b.db")
  local discovery = require "candor.discovery"
  local schedule = require("candor.repo.discovery_schedules"):insert(db, {
    priority_id = db:value("SELECT id FROM messaging_priorities WHERE slug = 'general'"), source_type = "bench",
    config = { keywords = { "deploy" } }, is_active = true })
  collectgarbage()
  local cpu0, t0 = B.cpu_seconds(), uv.hrtime()
  local c = discovery.run(db, schedule, { sources = stand_in(posts) })
  local wall, cpu = (uv.hrtime() - t0) / 1e9, B.cpu_seconds() - cpu0
  assert(c.failed_judgements == 0 and #c.errors == 0, "a judgement failed: " .. json.encode(c.errors))
  local stored = db:value("SELECT count(*) FROM discovered_pain_points")
  assert(stored == c.kept, "stored rows differ from the kept count")
  local t1 = uv.hrtime()
  local again = discovery.run(db, schedule, { sources = stand_in(sharp) })
  local rerun = (uv.hrtime() - t1) / 1e9
  assert(again.duplicates == #sharp and again.judged == 0, "the second run should find only duplicates")
  local calls = db:value("SELECT count(*) FROM llm_calls WHERE purpose = 'discovery:judge:bench'")
  db:close()
  os.execute("rm -rf '" .. dir .. "'")
  return { wall = wall, cpu = cpu, kept = c.kept, dropped = c.dropped_below_threshold, invented = c.invented_quotes,
           calls = calls, rerun = rerun }
end

local function median(list, key)
  local s = {}
  for i, v in ipairs(list) do s[i] = v[key] end
  table.sort(s)
  return s[(#s + 1) // 2]
end

async.run(function()
  local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
  local server = B.fake_server { "--script", script_file(dir) }
  B.use_server(server.url)
  one_run(server)   -- warm-up: curl loaded, statements prepared
  local runs = {}
  for i = 1, ROUNDS do runs[i] = one_run(server) end
  server.stop()
  os.execute("rm -rf '" .. dir .. "'")
  local r = runs[1]
  local ideal = POSTS * DELAY_MS / CONCURRENCY / 1000
  local wall, cpu = median(runs, "wall"), median(runs, "cpu")
  print(string.format("discovery: %d posts, fake judge at %d ms, limit %d at once, %d rounds (medians)", POSTS, DELAY_MS,
    CONCURRENCY, ROUNDS))
  print(string.format("  judge calls: %d (one per post)", r.calls))
  print(string.format("  wall %.3f s against %d x %d ms / %d = %.3f s: %.2fx", wall, POSTS, DELAY_MS, CONCURRENCY, ideal,
    wall / ideal))
  print(string.format("  host CPU: %.1f ms in all, %.3f ms per post", cpu * 1000, cpu * 1000 / POSTS))
  print(string.format("  kept %d, dropped below the threshold %d, invented quotes dropped %d", r.kept, r.dropped, r.invented))
  print(string.format("  the %d kept posts again (all duplicates, no calls): %.1f ms", #sharp, median(runs, "rerun") * 1000))
end)
return 0
