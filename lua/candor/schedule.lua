-- Schedule specs: an interval ("30m", "4h", "2h30m") or a five-field cron
-- expression in UTC or a named time zone. parse() checks a spec once and says
-- what is wrong with it; next_run() gives the first run after a time.
--
-- Cron runs on the zone's wall clock, one run per matching local minute:
--   * a minute a spring-forward gap skips runs at the first valid minute after
--     the gap (02:30 on the day clocks jump 02:00 -> 03:00 runs at 03:00);
--   * a minute a fall-back repeats runs once, at its first occurrence.
-- Day of month and day of week follow Vixie cron: when both are restricted (neither
-- starts with '*') a day matching either runs; otherwise a day must match both.
local ctime = require "core.time"

local M = {}

M.MIN_INTERVAL = 60          -- seconds: a shorter interval is refused
M.SEARCH_YEARS = 100         -- how far ahead next_run looks (Feb 29 on a Monday is rare)

local UTC_NAMES = { UTC = true, ["Etc/UTC"] = true, GMT = true, ["Etc/GMT"] = true }

-- Civil dates (proleptic Gregorian) -------------------------------------------

-- Days since 1970-01-01 (Howard Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

local function is_leap(y) return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) end

local MONTH_DAYS = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }
local function days_in_month(y, m)
  if m == 2 and is_leap(y) then return 29 end
  return MONTH_DAYS[m]
end

M.days_from_civil, M.civil_from_days, M.days_in_month = days_from_civil, civil_from_days, days_in_month

-- Timestamps -----------------------------------------------------------------

-- iso(epoch) -> "2026-03-08T07:00:00.000Z", the format of every timestamp column.
function M.iso(t)
  local s = math.floor(t)
  local ms = math.floor((t - s) * 1000 + 0.5)
  if ms >= 1000 then s, ms = s + 1, ms - 1000 end
  local days = s // 86400
  local rem = s - days * 86400
  local y, m, d = civil_from_days(days)
  return string.format("%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, rem // 3600, rem % 3600 // 60, rem % 60, ms)
end

-- epoch(iso) -> seconds since 1970 (UTC), or nil for text that is not a timestamp.
function M.epoch(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[T ](%d%d):(%d%d):(%d%d%.?%d*)Z?$")
  if not y then return nil end
  local r = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(sec)
  return math.tointeger(r) or r
end

-- now() -> seconds since 1970, with milliseconds.
function M.now()
  local sec, usec = require("luv").gettimeofday()
  return sec + (usec // 1000) / 1000
end

local function is_utc(zone) return zone == nil or UTC_NAMES[zone] == true end

-- check_zone(zone) -> zone | nil, message (an IANA name such as Europe/Berlin).
function M.check_zone(zone)
  if is_utc(zone) then return zone or "UTC" end
  if type(zone) ~= "string" then return nil, "a time zone must be a name such as Europe/Berlin" end
  local ok, err = pcall(ctime.to_local, 0, zone)
  if not ok then return nil, tostring(err) end
  return zone
end

-- local_time(epoch, zone) -> the table of core.time.to_local (UTC without a C call).
function M.local_time(t, zone)
  if is_utc(zone) then
    local s = math.floor(t)
    local days = s // 86400
    local rem = s - days * 86400
    local y, m, d = civil_from_days(days)
    return { year = y, month = m, day = d, hour = rem // 3600, min = rem % 3600 // 60, sec = rem % 60,
      wday = (days + 4) % 7 + 1, utcoff = 0, isdst = false, zone = "UTC" }
  end
  return ctime.to_local(t, zone)
end

-- "2026-03-08 03:00 EDT": a time as a person in the zone reads it.
function M.format_local(t, zone)
  if type(t) ~= "number" then return "-" end
  local l = M.local_time(t, zone)
  return string.format("%04d-%02d-%02d %02d:%02d %s", l.year, l.month, l.day, l.hour, l.min, l.zone)
end

-- Intervals ------------------------------------------------------------------

local UNITS = { d = 86400, h = 3600, m = 60, s = 1 }
local UNIT_ORDER = { "d", "h", "m", "s" }

local function parse_interval(spec)
  local text = spec:lower()
  if text:match("^%d+$") then
    return nil, string.format("interval '%s' needs a unit, e.g. %sm or %sh (s, m, h, d)", spec, text, text)
  end
  local seconds, seen, pos = 0, {}, 1
  while pos <= #text do
    local n, unit, e = text:match("^(%d+)(%a*)()", pos)
    if not n then
      return nil, string.format("interval '%s' is not a number with a unit such as 30m, 4h, 1d or 2h30m", spec)
    end
    if unit == "" then
      return nil, string.format("interval '%s': %s needs a unit (s, m, h or d)", spec, n)
    end
    if not UNITS[unit] then
      return nil, string.format("interval '%s': unknown unit '%s' (use s, m, h or d)", spec, unit)
    end
    if seen[unit] then return nil, string.format("interval '%s' gives '%s' twice", spec, unit) end
    seen[unit] = true
    seconds = seconds + tonumber(n) * UNITS[unit]
    pos = e
  end
  if seconds < M.MIN_INTERVAL then
    return nil, string.format("interval '%s' is shorter than the minimum of 1 minute", spec)
  end
  return { kind = "interval", spec = spec, seconds = math.tointeger(seconds) or seconds }
end

-- "2h30m" for 9000 seconds.
function M.format_interval(seconds)
  local parts, rest = {}, seconds
  for _, u in ipairs(UNIT_ORDER) do
    local n = rest // UNITS[u]
    if n > 0 then parts[#parts + 1] = string.format("%d%s", n, u) rest = rest - n * UNITS[u] end
  end
  return #parts > 0 and table.concat(parts) or "0s"
end

-- Cron -----------------------------------------------------------------------

local MONTHS = { jan = 1, feb = 2, mar = 3, apr = 4, may = 5, jun = 6, jul = 7, aug = 8, sep = 9, oct = 10,
  nov = 11, dec = 12 }
local DAYS = { sun = 0, mon = 1, tue = 2, wed = 3, thu = 4, fri = 5, sat = 6 }

local FIELDS = {
  { key = "minute", name = "minute", min = 0, max = 59 },
  { key = "hour", name = "hour", min = 0, max = 23 },
  { key = "dom", name = "day of month", min = 1, max = 31 },
  { key = "month", name = "month", min = 1, max = 12, names = MONTHS, what = "a month name (jan-dec)" },
  { key = "dow", name = "day of week", min = 0, max = 7, names = DAYS, what = "a day name (sun-sat)" },
}

local MACROS = {
  ["@hourly"] = "0 * * * *", ["@daily"] = "0 0 * * *", ["@midnight"] = "0 0 * * *",
  ["@weekly"] = "0 0 * * 0", ["@monthly"] = "0 0 1 * *", ["@yearly"] = "0 0 1 1 *", ["@annually"] = "0 0 1 1 *",
}

local function field_error(i, f, fmt, ...)
  return string.format("cron field %d (%s): " .. fmt, i, f.name, ...)
end

local function value(i, f, text)
  local n = text:match("^%d+$") and tonumber(text)
  if not n and f.names then n = f.names[text:lower()] end
  if not n then
    if f.names then return nil, field_error(i, f, "'%s' is not a number or %s", text, f.what) end
    return nil, field_error(i, f, "'%s' is not a number", text)
  end
  if n < f.min or n > f.max then
    return nil, field_error(i, f, "%d is out of range %d-%d", n, f.min, f.max)
  end
  return n
end

-- One field -> { set = {[v] = true}, list = sorted values, next = {[v] = first allowed >= v} }.
local function parse_field(i, f, text)
  local set = {}
  for item in (text .. ","):gmatch("([^,]*),") do
    if item == "" then return nil, field_error(i, f, "empty item in the list '%s'", text) end
    local range, step = item:match("^([^/]+)/(.*)$")
    range = range or item
    local s = 1
    if step then
      s = step:match("^%d+$") and tonumber(step)
      if not s then return nil, field_error(i, f, "step '%s' is not a number", step) end
      if s < 1 then return nil, field_error(i, f, "step 0 must be at least 1") end
    end
    local lo, hi
    if range == "*" then
      lo, hi = f.min, f.max
      if f.key == "dow" then hi = 6 end
    else
      local a, b = range:match("^([^%-]+)%-(.+)$")
      local err
      if a then
        lo, err = value(i, f, a)
        if not lo then return nil, err end
        hi, err = value(i, f, b)
        if not hi then return nil, err end
        if hi < lo then return nil, field_error(i, f, "range %s runs backwards", range) end
      else
        lo, err = value(i, f, range)
        if not lo then return nil, err end
        hi = step and f.max or lo          -- "5/15" is 5-max/15
        if f.key == "dow" and step then hi = 6 end
      end
    end
    for v = lo, hi, s do set[f.key == "dow" and v % 7 or v] = true end
  end
  local list, nxt = {}, {}
  for v = f.min, f.max do if set[v] then list[#list + 1] = v end end
  local upcoming = nil
  for v = f.max + 1, f.min, -1 do
    if set[v] then upcoming = v end
    nxt[v] = upcoming
  end
  return { set = set, list = list, next = nxt, star = text:sub(1, 1) == "*" }
end

local function describe_day_problem(c)
  local months = {}
  for _, m in ipairs(c.month.list) do months[#months + 1] = m end
  return string.format("day of month %s never occurs in month %s", table.concat(c.dom.list, ","),
    table.concat(months, ","))
end

local function parse_cron(spec)
  local text = spec
  if text:sub(1, 1) == "@" then
    text = MACROS[text:lower()]
    if not text then
      return nil, string.format("unknown cron macro '%s' (use @hourly, @daily, @weekly, @monthly or @yearly)", spec)
    end
  end
  local parts = {}
  for p in text:gmatch("%S+") do parts[#parts + 1] = p end
  if #parts ~= 5 then
    return nil, string.format("cron expression '%s' has %d field%s; it needs 5: minute hour day-of-month month day-of-week",
      spec, #parts, #parts == 1 and "" or "s")
  end
  local c = { kind = "cron", spec = spec }
  for i, f in ipairs(FIELDS) do
    local field, err = parse_field(i, f, parts[i])
    if not field then return nil, err end
    c[f.key] = field
  end
  c.dom_star, c.dow_star = c.dom.star, c.dow.star
  -- With a '*' in either day field a day must match both, so some allowed month
  -- must have some allowed day of month (Feb 29 counts).
  if c.dom_star or c.dow_star then
    local possible = false
    for _, m in ipairs(c.month.list) do
      local most = m == 2 and 29 or MONTH_DAYS[m]
      if c.dom.list[1] <= most then possible = true break end
    end
    if not possible then
      return nil, string.format("cron expression '%s' never runs: %s", spec, describe_day_problem(c))
    end
  end
  return c
end

-- parse(spec [, zone]) -> schedule | nil, message
-- schedule = {kind = "interval", seconds = n, ...} or {kind = "cron", ...}, with
-- spec and zone (default "UTC"; an interval ignores its zone).
function M.parse(spec, zone)
  if type(spec) ~= "string" then return nil, "a schedule must be text such as 4h or '0 9 * * 1-5'" end
  spec = spec:match("^%s*(.-)%s*$")
  if spec == "" then return nil, "empty schedule (give an interval such as 4h or a cron expression)" end
  local z, zerr = M.check_zone(zone)
  if not z then return nil, zerr end
  local s, err
  if spec:find("[%s%*,/@]") or spec:find("^%a") then s, err = parse_cron(spec)
  else s, err = parse_interval(spec) end
  if not s then return nil, err end
  s.zone, s.utc = z, is_utc(z)
  return s
end

-- "every 4h" / "cron 0 9 * * 1-5 (Europe/Berlin)"
function M.describe(s)
  if s.kind == "interval" then return "every " .. M.format_interval(s.seconds) end
  return "cron " .. s.spec .. (s.utc and "" or (" (" .. s.zone .. ")"))
end

local function day_ok(c, d, wd)
  if c.dom_star or c.dow_star then return c.dom.set[d] and c.dow.set[wd] end
  return c.dom.set[d] or c.dow.set[wd]
end

-- The first wall-clock minute at or after start (naive seconds: the local date
-- and time counted as if UTC) that the expression matches. Skips whole months,
-- days and hours that cannot match. -> naive, y, m, d, h, mi  (or nil)
local function next_match(c, start)
  local days = start // 86400
  local rem = start - days * 86400
  local y, m, d = civil_from_days(days)
  local h, mi = rem // 3600, rem % 3600 // 60
  local last_year = y + M.SEARCH_YEARS
  local months, hours, minutes = c.month, c.hour, c.minute
  while y <= last_year do
    if not months.set[m] then
      local nm = months.next[m]
      if nm then m = nm else y, m = y + 1, months.list[1] end
      d, h, mi = 1, 0, 0
    else
      local dim = days_in_month(y, m)
      local wd = (days_from_civil(y, m, d) + 4) % 7          -- 0 = Sunday
      while d <= dim and not day_ok(c, d, wd) do
        d, wd, h, mi = d + 1, (wd + 1) % 7, 0, 0
      end
      if d > dim then
        m, d, h, mi = m + 1, 1, 0, 0
        if m > 12 then y, m = y + 1, 1 end
      else
        local nh = hours.next[h]
        if not nh then
          d, h, mi = d + 1, 0, 0
        else
          if nh ~= h then h, mi = nh, 0 end
          local nmi = minutes.next[mi]
          if nmi then
            return days_from_civil(y, m, d) * 86400 + h * 3600 + nmi * 60, y, m, d, h, nmi
          end
          h, mi = h + 1, 0
          if h > 23 then d, h = d + 1, 0 end
        end
      end
    end
  end
  return nil
end

local function checked(s, zone)
  if type(s) == "table" then return s end
  local r, err = M.parse(s, zone)
  if not r then error(err, 2) end
  return r
end

-- next_run(schedule_or_spec, after_epoch [, zone]) -> epoch of the first run
-- strictly after after_epoch. An interval runs after + interval; cron at the next
-- matching minute on the zone's clock (see the DST rules at the top).
function M.next_run(s, after)
  s = checked(s)
  local af = math.floor(after)
  if s.kind == "interval" then return af + s.seconds end
  if s.utc then return (next_match(s, af // 60 * 60 + 60)) end
  local l = ctime.to_local(af, s.zone)
  local start = days_from_civil(l.year, l.month, l.day) * 86400 + l.hour * 3600 + l.min * 60 + 60
  local fields = {}
  -- A candidate can lie at or before `after` only inside a repeated (fall-back)
  -- hour: `after` in its second pass, the candidate's first occurrence in the first.
  for _ = 1, 10000 do
    local naive, y, m, d, h, mi = next_match(s, start)
    if not naive then return nil end
    fields.year, fields.month, fields.day, fields.hour, fields.min = y, m, d, h, mi
    local t = ctime.from_local(fields, s.zone)     -- gap: its end; overlap: the first pass
    if t > af then return t end
    start = naive + 60
  end
  error("next_run: no run found for '" .. s.spec .. "'", 2)
end

return M
