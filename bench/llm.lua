-- candor.llm against the fake provider, which runs as a process of its own
-- (tests/fake_llm/serve.lua), so CPU figures are the client's alone.
--   concurrent: 200 calls at once through the whole layer (tier -> local profile ->
--     openai provider -> limiter (200 in flight) -> retry -> llm_calls rows in a
--     SQLite file on disk), the fake answering each after 100 ms. Targets: wall
--     <= 0.3 s; host CPU per call (build, parse, log, flush included) <= 0.5 ms.
--     References in the same rounds: the same 200 POSTs through candor.http alone,
--     and the layer without logging.
--   stream: the fake stamps each SSE piece with uv.hrtime() (CLOCK_MONOTONIC, one
--     clock for every process) just before writing it; on_text takes receive - send.
--     Target p99 <= 1 ms. Pieces spaced 1 ms apart and in bursts; reference: the
--     same streams through candor.http with on_chunk (no SSE parser, no JSON).
-- build/candor lua bench/llm.lua [concurrent|stream] [rounds]
local uv = require "luv"
local async = require "candor.async"
local paths = require "candor.paths"
local dbm = require "candor.db"
local http = require "candor.http"
local json = require "candor.json"
local llm = require "candor.llm"
local log = require "candor.llm.log"
local profiles = require "candor.llm.profiles"
local B = dofile(paths.root .. "/bench/common.lua")

local only = arg[1]
local ROUNDS = tonumber(arg[2]) or 5
local CALLS, DELAY_MS = 200, 100

require("candor.llm.limit").settings.openai = { concurrency = CALLS }

-- ---- the fake server, in its own process ----

local start_server, use_server, cpu_seconds = B.fake_server, B.use_server, B.cpu_seconds

local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  return s[(#s + 1) // 2]
end

local function best(list) return math.min(table.unpack(list)) end

-- ---- 200 concurrent calls ----

local SYSTEM = "You are a careful product marketer. Write in the practitioner's voice; keep every number; no hype."
local function prompt(i)
  return "Rewrite the battlecard for pain point " .. i .. ": teams lose a day a week reconciling the spreadsheet "
    .. "exports of three tools, and the numbers never agree. Keep it under 120 words and end with one question."
end

local function concurrent(db_path)
  local server = start_server { "--delay", tostring(DELAY_MS) }
  use_server(server.url)
  local db = dbm.open(db_path)
  local target = profiles.resolve("flash")
  local raw_url = target.base_url .. "/chat/completions"

  local variants = {
    { name = "candor.http only (reference)", run = function(i)
      local status, _, body = http.request { method = "POST", url = raw_url,
        headers = { ["Content-Type"] = "application/json" }, timeout_ms = 120000,
        body = json.encode { model = "bench-model", messages = { { role = "system", content = SYSTEM },
          { role = "user", content = prompt(i) } } } }
      assert(status == 200 and #body > 0, "raw request failed")
    end },
    { name = "candor.llm, no logging", run = function(i)
      local r, err = llm.call("flash", { system = SYSTEM, prompt = prompt(i), purpose = "bench:concurrent" })
      if not r then error(err.message, 0) end
    end },
    { name = "candor.llm, logged to llm_calls", logged = true, run = function(i)
      local r, err = llm.call("flash", { system = SYSTEM, prompt = prompt(i), purpose = "bench:concurrent" }, { db = db })
      if not r then error(err.message, 0) end
    end },
  }

  -- One round: CALLS tasks at once; wall until the last answer; CPU includes the
  -- log's flush (its rows written and committed).
  local function round(v)
    local rows0 = db:value("SELECT count(*) FROM llm_calls")
    collectgarbage()
    local c0, t0 = cpu_seconds(), uv.hrtime()
    local tasks = {}
    for i = 1, CALLS do tasks[i] = async.spawn(v.run, { name = "call" }, i) end
    for i = 1, CALLS do tasks[i]:await() end
    local wall = (uv.hrtime() - t0) / 1e9
    log.flush(db)
    local cpu = cpu_seconds() - c0
    local rows = db:value("SELECT count(*) FROM llm_calls") - rows0
    assert(rows == (v.logged and CALLS or 0), "llm_calls rows: " .. rows)
    return wall, cpu
  end

  -- What the process spends doing nothing for as long (the loop asleep).
  local function idle_rate()
    local c0, t0 = cpu_seconds(), uv.hrtime()
    async.sleep(200)
    return (cpu_seconds() - c0) / ((uv.hrtime() - t0) / 1e9)
  end

  for _, v in ipairs(variants) do round(v) end          -- warm-up: libcurl loads, statements prepare
  local idle = idle_rate()
  local res = {}
  for _ = 1, ROUNDS do
    for k, v in ipairs(variants) do
      local wall, cpu = round(v)
      res[k] = res[k] or { wall = {}, cpu = {} }
      table.insert(res[k].wall, wall)
      table.insert(res[k].cpu, math.max(0, cpu - idle * wall) / CALLS * 1000)
    end
  end
  db:close()
  server.stop()

  print(string.format("%d concurrent calls, fake latency %d ms, %d rounds after a warm-up (idle CPU %.1f ms/s)",
    CALLS, DELAY_MS, ROUNDS, idle * 1000))
  for k, v in ipairs(variants) do
    local r = res[k]
    print(string.format("  %-34s wall median %6.3f s  best %6.3f s   CPU/call median %6.3f ms  best %6.3f ms",
      v.name, median(r.wall), best(r.wall), median(r.cpu), best(r.cpu)))
  end
  local full = res[#variants]
  print(string.format("  calls in flight at once (limiter peak): %d", require("candor.llm.limit").for_provider("openai").peak))
  print(string.format("  the layer (logged) over candor.http: CPU/call +%.3f ms (median)", median(full.cpu) - median(res[1].cpu)))
  print(string.format("  target wall <= 0.3 s: %s; CPU/call <= 0.5 ms: %s",
    median(full.wall) <= 0.3 and "met" or "NOT met", median(full.cpu) <= 0.5 and "met" or "NOT met"))
end

-- ---- streaming latency ----

local function pct(sorted, p) return sorted[math.max(1, math.ceil(p * #sorted))] end

local function stream(db_path)
  local server = start_server { "--stamp" }
  use_server(server.url)
  local db = dbm.open(db_path)
  local raw_url = profiles.resolve("flash").base_url .. "/chat/completions"
  local STREAMS, CHUNKS = 10, 200

  local function through_llm(shape, lat)
    local r, err = llm.call("flash", { prompt = shape, stream = true, purpose = "bench:stream",
      on_text = function(piece)
        local now = uv.hrtime()
        lat[#lat + 1] = (now - tonumber(piece:match("%d+"))) / 1e6
      end }, { db = db })
    if not r then error(err.message, 0) end
  end

  local function through_http(shape, lat)
    local status = http.request { method = "POST", url = raw_url, headers = { ["Content-Type"] = "application/json" },
      body = json.encode { model = "bench-model", stream = true, messages = { { role = "user", content = shape } } },
      on_chunk = function(data)
        local now = uv.hrtime()
        for stamp in data:gmatch('"content":"(%d+)') do lat[#lat + 1] = (now - tonumber(stamp)) / 1e6 end
      end }
    assert(status == 200)
  end

  local shapes = {
    { name = "spaced 1 ms", prompt = "chunks=" .. CHUNKS .. " gap_ms=1 burst=1" },
    { name = "bursts of 50, 2 ms apart", prompt = "chunks=" .. CHUNKS .. " gap_ms=2 burst=50" },
  }
  local ways = { { name = "candor.llm on_text", run = through_llm }, { name = "candor.http on_chunk (reference)", run = through_http } }

  through_llm("chunks=20 gap_ms=1 burst=1", {})              -- warm-up
  through_http("chunks=20 gap_ms=1 burst=1", {})
  print(string.format("streaming: server write -> Lua, %d streams x %d pieces each, one stream at a time", STREAMS, CHUNKS))
  for _, shape in ipairs(shapes) do
    for _, way in ipairs(ways) do
      local lat = {}
      collectgarbage()                   -- what the rounds before left is not this variant's
      for _ = 1, STREAMS do way.run(shape.prompt, lat) end
      assert(#lat == STREAMS * CHUNKS, "pieces received: " .. #lat)
      table.sort(lat)
      print(string.format("  %-26s %-34s p50 %6.3f ms  p99 %6.3f ms  max %6.3f ms  (n=%d)", shape.name, way.name,
        pct(lat, 0.5), pct(lat, 0.99), lat[#lat], #lat))
      if way.run == through_llm then shape.p99 = pct(lat, 0.99) end
    end
  end
  local worst = math.max(shapes[1].p99, shapes[2].p99)
  print(string.format("  target p99 <= 1 ms (candor.llm): %s", worst <= 1 and "met" or "NOT met"))
  db:close()
  server.stop()
end

local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
local ok, err = pcall(function()
  if not only or only == "concurrent" then concurrent(dir .. "/concurrent.db") end
  if not only or only == "stream" then stream(dir .. "/stream.db") end
end)
os.execute("rm -rf '" .. dir .. "'")
if not ok then error(err, 0) end
return 0
