-- Scheduler overhead with 1,000 schedules (500 workflow, 500 discovery; intervals
-- and cron in six zones) in a SQLite file on disk: the time due() takes to find
-- the due ones (about 10% due, and none due), one whole tick of the loop
-- (recover + due + next_due), against the two bare SELECTs as a reference; and
-- the time to compute next_run for all 1,000 (parsed, and parsing too).
-- build/candor lua bench/scheduler.lua [schedules] [rounds]
local dbm = require "candor.db"
local S = require "candor.schedule"
local scheduler = require "candor.scheduler"
local common = require "bench.common"
local uv = require "luv"

local total = tonumber(arg[1]) or 1000
local rounds = tonumber(arg[2]) or 200

local SPECS = { "30m", "4h", "2h30m", "1d", "0 9 * * 1-5", "*/15 * * * *", "30 2 * * *", "0 0 31 * *", "@weekly",
  "0 8,12,18 * * *", "0 0 29 2 *", "0 9 13 * 5" }
local ZONES = { "UTC", "America/New_York", "Europe/Berlin", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo" }

local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
local path = dir .. "/sched.db"
local db = dbm.open(path)
local now = S.now()
math.randomseed(42)

local W = require "candor.repo.workflow_schedules"
local D = require "candor.repo.discovery_schedules"
local P = require "candor.repo.messaging_priorities"
local specs = {}
db:transaction(function()
  local prios = {}
  for i = 1, 10 do
    prios[i] = P:insert(db, { name = "P" .. i, slug = "bench-" .. i, description = "", keywords = { "ci" },
      product_context = "", is_active = true }).id
  end
  for i = 1, total do
    local spec, zone = SPECS[(i - 1) % #SPECS + 1], ZONES[(i - 1) // #SPECS % #ZONES + 1]
    -- next runs spread over a day: about one in ten is due now
    local next_at = S.iso(now + math.random(-2 * 3600, 22 * 3600))
    specs[i] = { spec, zone }
    if i % 2 == 0 then
      W:insert(db, { name = "bench-" .. i, workflow = "examples/demo", params = {}, spec = spec, time_zone = zone,
        is_active = true, next_run_at = next_at })
    else
      D:insert(db, { priority_id = prios[i % 10 + 1], source_type = "hn", is_active = true, next_run_at = next_at,
        config = { schedule = spec, time_zone = zone, keywords = { "flaky" } } })
    end
  end
end)

local function clock_ms(fn, n)
  local samples = {}
  for i = 1, n do
    local t0 = uv.hrtime()
    fn()
    samples[i] = (uv.hrtime() - t0) / 1e6
  end
  return common.stats(samples)
end

local due_count = #scheduler.due(db, now)
print(string.format("%d schedules (%d workflow, %d discovery) in %s; %d due now", total, total // 2, total - total // 2,
  path, due_count))

local t0 = uv.hrtime()
scheduler.due(db, now)
local cold = (uv.hrtime() - t0) / 1e6

local REF = {
  [[SELECT d.*, p.slug AS priority_slug FROM discovery_schedules d JOIN messaging_priorities p ON p.id = d.priority_id
    WHERE d.is_active = 1 AND p.is_active = 1 AND (d.next_run_at IS NULL OR d.next_run_at <= ?) ORDER BY d.next_run_at, d.rowid]],
  [[SELECT * FROM workflow_schedules WHERE is_active = 1 AND (next_run_at IS NULL OR next_run_at <= ?)
    ORDER BY next_run_at, rowid]],
}
local at, before = S.iso(now), S.iso(now - 3 * 86400)
common.report("reference: the two SELECTs, ~10% due", clock_ms(function()
  db:query(REF[1], at) db:query(REF[2], at) end, rounds))
common.report(string.format("due(): %d due", due_count), clock_ms(function() scheduler.due(db, now) end, rounds))
common.report("due(): none due", clock_ms(function() scheduler.due(db, now - 3 * 86400) end, rounds))
common.report("reference: the two SELECTs, none due", clock_ms(function()
  db:query(REF[1], before) db:query(REF[2], before) end, rounds))
common.report("one loop tick: recover + due + next_due", clock_ms(function()
  scheduler.recover(db, now) scheduler.due(db, now) scheduler.next_due(db) end, rounds))
print(string.format("%-44s %7.2f ms (first call: parses every due spec)", "due(), cold", cold))

-- next_run for all of them
local parsed = {}
for i, s in ipairs(specs) do parsed[i] = assert(S.parse(s[1], s[2])) end
local n = math.max(5, rounds // 10)
common.report(string.format("next_run for all %d (parsed)", total), clock_ms(function()
  for i = 1, total do S.next_run(parsed[i], now) end end, n))
common.report(string.format("parse + next_run for all %d", total), clock_ms(function()
  for i = 1, total do S.next_run(assert(S.parse(specs[i][1], specs[i][2])), now) end end, n))
local utc, zoned = {}, {}
for i, s in ipairs(specs) do
  if parsed[i].kind == "cron" then
    if s[2] == "UTC" then utc[#utc + 1] = parsed[i] else zoned[#zoned + 1] = parsed[i] end
  end
end
local function per_call(list)
  local st = clock_ms(function() for _, p in ipairs(list) do S.next_run(p, now) end end, n)
  for k, v in pairs(st) do if k ~= "n" then st[k] = v * 1000 / #list end end
  return st
end
common.report(string.format("next_run, one cron in UTC (%d)", #utc), per_call(utc), "us")
common.report(string.format("next_run, one cron in a zone (%d)", #zoned), per_call(zoned), "us")

db:close()
os.execute("rm -rf '" .. dir .. "'")
