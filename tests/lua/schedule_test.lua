-- Schedule specs: parse errors, intervals, cron in UTC and in zones across both
-- DST changes, month ends and Feb 29, macros, the day-of-month/day-of-week rule.
local T = require "candor.testing"
local S = require "candor.schedule"

local function at(iso) return assert(S.epoch(iso), iso) end
local function utc(t) return t and S.iso(t):sub(1, 16) .. "Z" end

-- The first n runs after `after`, as "YYYY-MM-DDTHH:MMZ" (UTC).
local function runs(spec, zone, after, n)
  local s = assert(S.parse(spec, zone))
  local out, t = {}, at(after)
  for i = 1, n do
    t = S.next_run(s, t)
    out[i] = utc(t)
  end
  return out
end

-- The same runs as the zone's clock shows them: "YYYY-MM-DD HH:MM ABBR".
local function wall(spec, zone, after, n)
  local s = assert(S.parse(spec, zone))
  local out, t = {}, at(after)
  for i = 1, n do
    t = S.next_run(s, t)
    out[i] = S.format_local(t, zone)
  end
  return out
end

T.test("schedule: parse errors name the field and the problem", function()
  local cases = {
    { "0 0 32 * *", "^cron field 3 %(day of month%): 32 is out of range 1%-31$" },
    { "60 * * * *", "cron field 1 %(minute%): 60 is out of range 0%-59" },
    { "0 24 * * *", "cron field 2 %(hour%): 24 is out of range 0%-23" },
    { "0 0 0 * *", "cron field 3 %(day of month%): 0 is out of range 1%-31" },
    { "0 0 * 13 *", "cron field 4 %(month%): 13 is out of range 1%-12" },
    { "0 0 * * 8", "cron field 5 %(day of week%): 8 is out of range 0%-7" },
    { "0 0 * foo *", "cron field 4 %(month%): 'foo' is not a number or a month name" },
    { "0 0 * * funday", "cron field 5 %(day of week%): 'funday' is not a number or a day name" },
    { "x * * * *", "cron field 1 %(minute%): 'x' is not a number$" },
    { "*/0 * * * *", "cron field 1 %(minute%): step 0 must be at least 1" },
    { "*/x * * * *", "cron field 1 %(minute%): step 'x' is not a number" },
    { "30-10 * * * *", "cron field 1 %(minute%): range 30%-10 runs backwards" },
    { "1,,2 * * * *", "cron field 1 %(minute%): empty item" },
    { "* * * *", "has 4 fields; it needs 5" },
    { "0 0 * * * *", "has 6 fields; it needs 5" },
    { "0 0 30 2 *", "never runs: day of month 30 never occurs in month 2" },
    { "0 0 31 4,6 *", "never runs" },
    { "@reboot", "unknown cron macro '@reboot'" },
    { "30s", "interval '30s' is shorter than the minimum of 1 minute" },
    { "0m", "shorter than the minimum of 1 minute" },
    { "90", "interval '90' needs a unit" },
    { "4x", "unknown unit 'x'" },
    { "1h1h", "gives 'h' twice" },
    { "4h-", "is not a number with a unit" },
    { "", "empty schedule" },
  }
  for _, c in ipairs(cases) do
    local s, err = S.parse(c[1])
    T.eq(s, nil, c[1] .. " parsed")
    T.ok(err and err:find(c[2]), c[1] .. ": " .. tostring(err))
  end
  T.eq(select(2, S.parse(nil)), "a schedule must be text such as 4h or '0 9 * * 1-5'")
  local _, zerr = S.parse("0 9 * * *", "Atlantis/Lost")
  T.contains(zerr, "unknown time zone 'Atlantis/Lost'")
  T.contains(select(2, S.parse("4h", "../../etc/passwd")), "invalid time zone name")
  -- fine: the edges of each range, 7 = Sunday, names in any case, "5/15" = 5-59/15
  for _, ok in ipairs({ "59 23 31 12 7", "0 0 1 1 0", "0 8 * * MON-Fri", "0 0 1 Jan,JUL *", "5/15 * * * *",
    "0 0 29 2 *", "@hourly", "@DAILY", " 4h ", "90s", "1d", "2h30m", "0 0 31 * *" }) do
    local s, err = S.parse(ok)
    T.ok(s, ok .. ": " .. tostring(err))
  end
end)

T.test("schedule: intervals run after + interval, whatever the zone", function()
  local cases = { { "30m", 1800 }, { "4h", 14400 }, { "1d", 86400 }, { "90s", 90 }, { "2h30m", 9000 },
    { "1d12h", 129600 }, { "1m", 60 }, { "4H", 14400 } }
  for _, c in ipairs(cases) do
    local s = assert(S.parse(c[1], "America/New_York"))
    T.eq({ s.kind, s.seconds }, { "interval", c[2] }, c[1])
    T.eq(S.next_run(s, 1000000), 1000000 + c[2], c[1])
    T.eq(S.next_run(s, 1000000.75), 1000000 + c[2], c[1] .. " from a fractional time")
  end
  T.eq(S.describe(assert(S.parse("150m"))), "every 2h30m")
  -- across a DST change an interval is elapsed time, not wall-clock time
  T.eq(runs("4h", "America/New_York", "2024-03-10T04:00:00Z", 2), { "2024-03-10T08:00Z", "2024-03-10T12:00Z" })
end)

T.test("schedule: cron in UTC", function()
  T.eq(runs("*/15 * * * *", nil, "2024-05-01T10:07:30Z", 3), { "2024-05-01T10:15Z", "2024-05-01T10:30Z", "2024-05-01T10:45Z" })
  -- strictly after: a run at 09:00 is not due again at 09:00
  T.eq(runs("0 9 * * *", "UTC", "2024-05-01T09:00:00Z", 2), { "2024-05-02T09:00Z", "2024-05-03T09:00Z" })
  T.eq(runs("0 9 * * *", "UTC", "2024-05-01T08:59:59Z", 1), { "2024-05-01T09:00Z" })
  -- weekdays only: Friday 3 May 2024 -> Monday 6 May
  T.eq(runs("30 8 * * 1-5", nil, "2024-05-03T09:00:00Z", 2), { "2024-05-06T08:30Z", "2024-05-07T08:30Z" })
  T.eq(runs("0 8 * * MON-FRI", nil, "2024-05-03T09:00:00Z", 1), { "2024-05-06T08:00Z" })
  -- lists, ranges with steps, year end
  T.eq(runs("0 0,12 * * *", nil, "2024-12-31T13:00:00Z", 2), { "2025-01-01T00:00Z", "2025-01-01T12:00Z" })
  T.eq(runs("0 9-17/4 * * *", nil, "2024-05-01T10:00:00Z", 3), { "2024-05-01T13:00Z", "2024-05-01T17:00Z", "2024-05-02T09:00Z" })
  T.eq(runs("0 0 1 jan,jul *", nil, "2024-02-01T00:00:00Z", 2), { "2024-07-01T00:00Z", "2025-01-01T00:00Z" })
  -- Sunday as 0 and as 7
  T.eq(runs("0 0 * * 7", nil, "2024-05-01T00:00:00Z", 1), runs("0 0 * * 0", nil, "2024-05-01T00:00:00Z", 1))
  T.eq(runs("0 0 * * 7", nil, "2024-05-01T00:00:00Z", 1), { "2024-05-05T00:00Z" })
end)

T.test("schedule: macros", function()
  local after = "2024-05-01T10:30:00Z"   -- a Wednesday
  T.eq(runs("@hourly", nil, after, 1), { "2024-05-01T11:00Z" })
  T.eq(runs("@daily", nil, after, 1), { "2024-05-02T00:00Z" })
  T.eq(runs("@midnight", nil, after, 1), { "2024-05-02T00:00Z" })
  T.eq(runs("@weekly", nil, after, 2), { "2024-05-05T00:00Z", "2024-05-12T00:00Z" })   -- Sundays
  T.eq(runs("@monthly", nil, after, 2), { "2024-06-01T00:00Z", "2024-07-01T00:00Z" })
  T.eq(runs("@yearly", nil, after, 1), { "2025-01-01T00:00Z" })
  -- @weekly in Berlin: Sunday midnight on Berlin's clock, across the spring change
  T.eq(wall("@weekly", "Europe/Berlin", "2024-03-27T00:00:00Z", 2), { "2024-03-31 00:00 CET", "2024-04-07 00:00 CEST" })
  T.eq(runs("@weekly", "Europe/Berlin", "2024-03-27T00:00:00Z", 2), { "2024-03-30T23:00Z", "2024-04-06T22:00Z" })
end)

T.test("schedule: the 31st skips shorter months; Feb 29 waits for a leap year", function()
  T.eq(runs("0 0 31 * *", nil, "2024-01-15T00:00:00Z", 5),
    { "2024-01-31T00:00Z", "2024-03-31T00:00Z", "2024-05-31T00:00Z", "2024-07-31T00:00Z", "2024-08-31T00:00Z" })
  T.eq(runs("0 0 30 * *", nil, "2024-01-30T12:00:00Z", 2), { "2024-03-30T00:00Z", "2024-04-30T00:00Z" })
  T.eq(runs("0 12 29 2 *", nil, "2024-01-01T00:00:00Z", 3), { "2024-02-29T12:00Z", "2028-02-29T12:00Z", "2032-02-29T12:00Z" })
  -- 2100 is not a leap year
  T.eq(runs("0 0 29 2 *", nil, "2097-01-01T00:00:00Z", 1), { "2104-02-29T00:00Z" })
  -- the last days of February
  T.eq(runs("0 0 28,29 2 *", nil, "2023-02-28T01:00:00Z", 3), { "2024-02-28T00:00Z", "2024-02-29T00:00Z", "2025-02-28T00:00Z" })
  -- month ends on a zone's clock too
  T.eq(wall("0 23 31 * *", "America/New_York", "2024-04-02T00:00:00Z", 2), { "2024-05-31 23:00 EDT", "2024-07-31 23:00 EDT" })
  T.eq(runs("0 23 31 * *", "America/New_York", "2024-04-02T00:00:00Z", 1), { "2024-06-01T03:00Z" })
end)

T.test("schedule: day of month and day of week: either when both are set, both when one is '*'", function()
  -- both restricted: the 13th OR any Friday (Vixie cron)
  T.eq(runs("0 9 13 * 5", nil, "2024-01-01T00:00:00Z", 4),
    { "2024-01-05T09:00Z", "2024-01-12T09:00Z", "2024-01-13T09:00Z", "2024-01-19T09:00Z" })
  -- Feb 29 OR a Monday: the Mondays do not wait for the leap day
  T.eq(runs("0 0 29 2 mon", nil, "2025-01-01T00:00:00Z", 2), { "2025-02-03T00:00Z", "2025-02-10T00:00Z" })
  -- a field starting with '*' is "unrestricted": odd days that are Mondays
  T.eq(runs("0 0 */2 * 1", nil, "2024-05-01T00:00:00Z", 3), { "2024-05-13T00:00Z", "2024-05-27T00:00Z", "2024-06-03T00:00Z" })
  -- day of week '*': only the day of month counts
  T.eq(runs("0 0 15 * *", nil, "2024-05-01T00:00:00Z", 1), { "2024-05-15T00:00Z" })
  -- day of month '*': only the day of week counts
  T.eq(runs("0 0 * * 3", nil, "2024-05-02T00:00:00Z", 1), { "2024-05-08T00:00Z" })
end)

T.test("schedule: America/New_York across spring forward (10 Mar 2024) and fall back (3 Nov 2024)", function()
  local z = "America/New_York"
  -- 02:30 does not exist on 10 March: it runs at 03:00 EDT, the first minute after the gap
  T.eq(wall("30 2 * * *", z, "2024-03-09T12:00:00Z", 3), { "2024-03-10 03:00 EDT", "2024-03-11 02:30 EDT", "2024-03-12 02:30 EDT" })
  T.eq(runs("30 2 * * *", z, "2024-03-09T12:00:00Z", 2), { "2024-03-10T07:00Z", "2024-03-11T06:30Z" })
  -- every half hour: 01:30 EST, then 03:00 EDT (once for the whole gap), then on
  T.eq(wall("*/30 * * * *", z, "2024-03-10T06:00:00Z", 4),
    { "2024-03-10 01:30 EST", "2024-03-10 03:00 EDT", "2024-03-10 03:30 EDT", "2024-03-10 04:00 EDT" })
  -- 01:30 happens twice on 3 November: it runs once, at the first (EDT)
  T.eq(wall("30 1 * * *", z, "2024-11-02T12:00:00Z", 3), { "2024-11-03 01:30 EDT", "2024-11-04 01:30 EST", "2024-11-05 01:30 EST" })
  T.eq(runs("30 1 * * *", z, "2024-11-02T12:00:00Z", 2), { "2024-11-03T05:30Z", "2024-11-04T06:30Z" })
  -- every half hour: the repeated hour runs once
  T.eq(wall("*/30 * * * *", z, "2024-11-03T05:00:00Z", 3), { "2024-11-03 01:30 EDT", "2024-11-03 02:00 EST", "2024-11-03 02:30 EST" })
  -- asked from inside the second 01:xx, the next run is after the repeated hour
  T.eq(runs("*/30 * * * *", z, "2024-11-03T06:10:00Z", 1), { "2024-11-03T07:00Z" })
  -- a daily 09:00 stays 09:00 on the wall clock across both changes
  T.eq(runs("0 9 * * *", z, "2024-03-09T15:00:00Z", 2), { "2024-03-10T13:00Z", "2024-03-11T13:00Z" })
  T.eq(runs("0 9 * * *", z, "2024-11-02T14:00:00Z", 2), { "2024-11-03T14:00Z", "2024-11-04T14:00Z" })
end)

T.test("schedule: Europe/Berlin across spring forward (31 Mar 2024) and fall back (27 Oct 2024)", function()
  local z = "Europe/Berlin"
  T.eq(wall("30 2 * * *", z, "2024-03-30T12:00:00Z", 2), { "2024-03-31 03:00 CEST", "2024-04-01 02:30 CEST" })
  T.eq(runs("30 2 * * *", z, "2024-03-30T12:00:00Z", 2), { "2024-03-31T01:00Z", "2024-04-01T00:30Z" })
  T.eq(runs("0 2 * * *", z, "2024-03-30T12:00:00Z", 1), { "2024-03-31T01:00Z" })
  -- hourly: 01:00 CET, then 03:00 CEST: one hour of the clock never comes
  T.eq(wall("0 * * * *", z, "2024-03-30T23:30:00Z", 3), { "2024-03-31 01:00 CET", "2024-03-31 03:00 CEST", "2024-03-31 04:00 CEST" })
  -- 02:30 twice on 27 October: once, at the first (CEST)
  T.eq(wall("30 2 * * *", z, "2024-10-26T12:00:00Z", 2), { "2024-10-27 02:30 CEST", "2024-10-28 02:30 CET" })
  T.eq(runs("30 2 * * *", z, "2024-10-26T12:00:00Z", 2), { "2024-10-27T00:30Z", "2024-10-28T01:30Z" })
  T.eq(wall("0 * * * *", z, "2024-10-26T22:30:00Z", 4),
    { "2024-10-27 01:00 CEST", "2024-10-27 02:00 CEST", "2024-10-27 03:00 CET", "2024-10-27 04:00 CET" })
  T.eq(S.describe(assert(S.parse("0 9 * * 1-5", z))), "cron 0 9 * * 1-5 (Europe/Berlin)")
end)

T.test("schedule: southern hemisphere and half-hour zones", function()
  -- Sydney springs forward on 6 Oct 2024 (02:00 -> 03:00), Lord Howe by 30 minutes (02:00 -> 02:30)
  T.eq(wall("15 2 * * *", "Australia/Sydney", "2024-10-05T00:00:00Z", 2), { "2024-10-06 03:00 AEDT", "2024-10-07 02:15 AEDT" })
  T.eq(runs("15 2 * * *", "Australia/Lord_Howe", "2024-10-05T00:00:00Z", 1), { "2024-10-05T15:30Z" })
  T.eq(runs("0 9 * * *", "Asia/Kolkata", "2024-05-01T00:00:00Z", 1), { "2024-05-01T03:30Z" })
end)

T.test("schedule: UTC cron agrees with a minute-by-minute search", function()
  local specs = { "*/7 * * * *", "5,35 */3 * * *", "0 0 1,15 * 5", "15 10 * 2-3 mon", "0 12 28-31 * *", "30 4 */10 * *",
    "0 6-8 * * sat,sun", "59 23 * * *", "0 0 31 * 1" }
  local function match(c, t)
    local d = os.date("!*t", t)
    local function has(f, v) return f.set[v] == true end
    if not (has(c.minute, d.min) and has(c.hour, d.hour) and has(c.month, d.month)) then return false end
    local dom, dow = has(c.dom, d.day), has(c.dow, d.wday - 1)
    if c.dom_star or c.dow_star then return dom and dow end
    return dom or dow
  end
  local checked = 0
  for _, spec in ipairs(specs) do
    local c = S.parse(spec)
    if c then
      for _, after in ipairs({ "2024-01-30T23:58:00Z", "2024-02-28T12:00:00Z", "2024-12-31T23:00:00Z" }) do
        local want, t = nil, at(after) + 60
        for _ = 1, 60 * 24 * 62 do
          if match(c, t) then want = t break end
          t = t + 60
        end
        if want then
          T.eq(utc(S.next_run(c, at(after))), utc(want), spec .. " after " .. after)
          checked = checked + 1
        end
      end
    end
  end
  T.ok(checked >= 20, "cases checked: " .. checked)
end)

T.test("schedule: next_run skips by field (a rare date is found at once)", function()
  local t0 = os.clock()
  for _ = 1, 50 do
    S.next_run("0 0 29 2 *", at("2097-03-01T00:00:00Z"))   -- 7 years ahead
    S.next_run("0 0 */2 * 1", at("2024-05-01T00:00:00Z"))
  end
  local ms = (os.clock() - t0) * 1000 / 100
  T.ok(ms < 5, string.format("%.2f ms per next_run", ms))
  T.raises(function() S.next_run("0 0 32 * *", 0) end, "out of range")
end)

T.test("schedule: timestamps round trip", function()
  T.eq(S.iso(0), "1970-01-01T00:00:00.000Z")
  T.eq(S.iso(1710054000.25), "2024-03-10T07:00:00.250Z")
  T.eq(S.epoch("2024-03-10T07:00:00.250Z"), 1710054000.25)
  T.eq(S.epoch("2024-03-10T07:00:00Z"), 1710054000)
  T.eq(S.epoch("2024-03-10 07:00:00"), 1710054000)
  T.eq(S.epoch("yesterday"), nil)
  for _, t in ipairs({ 951782400, 4107542400, 1709251199 }) do T.eq(S.epoch(S.iso(t)), t) end
end)
