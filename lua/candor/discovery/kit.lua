-- What every discovery source shares, so a source file holds only its API's
-- own facts (URL, parameters, reply shape): the schedule config read the same
-- way everywhere, one GET of JSON with errors classified and rate limits
-- waited out or reported, pagination over several searches with the limit,
-- since and de-duplication applied once, times, and the post shape.
local async = require "candor.async"
local http = require "candor.http"
local json = require "candor.json"
local trim = require("candor.text").trim

local M = {}

-- Replaceable in tests, like profiles.getenv: the environment, the wait, and
-- the clock that Unix-time rate-limit headers are measured against.
M.getenv = os.getenv
M.sleep = function(seconds) async.sleep(math.max(0, math.ceil(seconds * 1000))) end
M.time = os.time

M.max_wait = 30          -- seconds: a longer wait asked for is reported, not waited
M.max_total_wait = 90    -- seconds: all the waits of one fetch together
M.max_retries = 3        -- rate-limited replies waited out per request
M.timeout_ms = 30000     -- one request
M.default_limit = 50
M.max_limit = 1000
-- Reddit asks for "<platform>:<app ID>:<version> (by /u/<name>)" and throttles
-- generic agents; GitHub refuses requests without one. A schedule may set its own.
M.user_agent = "server:candor-discovery:v" .. require("candor.version") .. " (community pain discovery)"

---------------------------------------------------------------- errors

-- fail(source, kind, message, fields) -> nil, err: the one error shape every
-- source returns: {kind, message = "<source>: <message>", source, ...fields}.
function M.fail(source, kind, message, fields)
  local err = { kind = kind, message = source .. ": " .. message, source = source }
  for k, v in pairs(fields or {}) do err[k] = v end
  return nil, err
end

---------------------------------------------------------------- times

-- epoch(iso) -> seconds since 1970 (UTC) | nil. Takes a date ("2024-05-01"),
-- a time with Z or an offset, fractions of a second, and "T" or " " between.
function M.epoch(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, rest = s:match("^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)(.*)$")
  if not y then return nil end
  local h, mi, sec, zone = rest:match("^[T ](%d%d):(%d%d):?(%d*%.?%d*)(.-)%s*$")
  if not h then
    if rest:match("%S") then return nil end
    h, mi, sec, zone = "00", "00", "0", ""
  end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  if mo < 1 or mo > 12 or d < 1 or d > 31 then return nil end
  -- days from civil (Howard Hinnant): no dependence on the local time zone
  local yy = mo <= 2 and y - 1 or y
  local era = (yy >= 0 and yy or yy - 399) // 400
  local yoe = yy - era * 400
  local doy = (153 * (mo + (mo > 2 and -3 or 9)) + 2) // 5 + d - 1
  local days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
  local t = days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + (tonumber(sec) or 0)
  if zone == "" or zone == "Z" or zone == "z" then return t end
  local sign, zh, zm = zone:match("^([%+%-])(%d%d):?(%d%d)$")
  if not sign then return nil end
  local offset = tonumber(zh) * 3600 + tonumber(zm) * 60
  return sign == "+" and t - offset or t + offset
end

-- iso(seconds) -> "YYYY-MM-DDTHH:MM:SS.mmmZ", the form Candor stores.
function M.iso(t)
  if type(t) ~= "number" or t ~= t then return nil end
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole) .. string.format(".%03dZ", math.floor((t - whole) * 1000 + 0.5) % 1000)
end

-- The ISO form of whatever time a source gives: Unix seconds or ISO 8601 text.
function M.time_of(v)
  if type(v) == "number" then return M.iso(v) end
  local t = M.epoch(v)
  return t and M.iso(t) or nil
end

---------------------------------------------------------------- config

-- list(v) -> array of trimmed, non-empty strings, each once, in order; v is a
-- string, an array of strings, or nil. A number counts as its text.
function M.list(v)
  if v == nil or v == json.null then return {} end
  if type(v) ~= "table" then v = { v } end
  local out, seen = {}, {}
  for _, item in ipairs(v) do
    if type(item) == "number" then item = tostring(math.tointeger(item) or item) end
    if type(item) == "string" then
      local t = trim(item)
      if t ~= "" and not seen[t] then seen[t] = true out[#out + 1] = t end
    end
  end
  return out
end

local function whole_number(v)
  if type(v) == "string" then v = tonumber(v) end
  return math.type(v) == "integer" and v or (type(v) == "number" and math.tointeger(v)) or nil
end

-- settings(source, config, {base_url = default | false, keywords = "required" | "optional"})
-- -> {keywords, limit, since (seconds) | nil, base_url, user_agent} | nil, config error.
-- The fields every source reads, checked the same way everywhere.
function M.settings(source, config, spec)
  if config ~= nil and type(config) ~= "table" then
    return M.fail(source, "config", "the schedule config must be a JSON object, not a " .. type(config))
  end
  config, spec = config or {}, spec or {}
  local out = { keywords = M.list(config.keywords) }
  if #out.keywords == 0 and spec.keywords ~= "optional" then
    return M.fail(source, "config", "no keywords to search for (the priority's keywords or the config's \"keywords\")")
  end
  local limit = config.limit
  if limit == nil or limit == json.null then limit = M.default_limit end
  out.limit = whole_number(limit)
  if not out.limit or out.limit < 1 or out.limit > M.max_limit then
    return M.fail(source, "config", string.format("\"limit\" must be a whole number from 1 to %d, not %s", M.max_limit,
      json.encode(limit)))
  end
  if config.since ~= nil and config.since ~= json.null and config.since ~= "" then
    out.since = M.epoch(config.since)
    if not out.since then
      return M.fail(source, "config", "\"since\" must be an ISO 8601 time such as 2024-05-01T00:00:00Z, not "
        .. json.encode(config.since))
    end
  end
  out.user_agent = type(config.user_agent) == "string" and config.user_agent ~= "" and config.user_agent or M.user_agent
  if spec.base_url == false then return out end      -- a source that calls no site
  local base = config.base_url
  if base == nil or base == json.null or base == "" then base = spec.base_url end
  if base == nil then
    return M.fail(source, "config", "\"base_url\" is required: the address of the site to search")
  end
  if type(base) ~= "string" or not base:match("^https?://[^/%s]+") then
    return M.fail(source, "config", "\"base_url\" must be an http:// or https:// address, not " .. json.encode(base))
  end
  out.base_url = base:gsub("/+$", "")
  return out
end

---------------------------------------------------------------- URLs

function M.escape(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- url(base, path, params) -> base .. path .. "?" .. query; params is an array
-- of {name, value} pairs (kept in order; a nil value is left out).
function M.url(base, path, params)
  local parts = {}
  for _, p in ipairs(params or {}) do
    if p[2] ~= nil then parts[#parts + 1] = M.escape(p[1]) .. "=" .. M.escape(p[2]) end
  end
  local u = base .. (path or "")
  if #parts > 0 then u = u .. (u:find("?", 1, true) and "&" or "?") .. table.concat(parts, "&") end
  return u
end

-- The address without its query string, for messages (short, and no keys).
local function where(url) return (url:gsub("%?.*$", "")) end

---------------------------------------------------------------- HTTP

-- retry_after(headers) -> seconds from a Retry-After header (seconds or an
-- HTTP date), or nil.
local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

function M.retry_after(headers)
  local v = headers and headers["retry-after"]
  if not v then return nil end
  local n = tonumber(v)
  if n then return math.max(0, n) end
  local d, mon, y, h, mi, s = v:match("(%d%d?) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d)")
  if not d or not MONTHS[mon] then return nil end
  local t = M.epoch(string.format("%s-%02d-%02dT%s:%s:%sZ", y, MONTHS[mon], tonumber(d), h, mi, s))
  return t and math.max(0, t - M.time()) or nil
end

-- The API's own words for a failure, from the common shapes of JSON error
-- replies: {message}, {error_message}, {errors = [...]}, {error = "..."}.
local function reason_of(doc)
  if type(doc) ~= "table" then return nil end
  for _, k in ipairs { "error_message", "message", "error_description" } do
    if type(doc[k]) == "string" and doc[k] ~= "" then return doc[k] end
  end
  if type(doc.errors) == "table" then
    local parts = {}
    for _, e in ipairs(doc.errors) do
      if type(e) == "string" then parts[#parts + 1] = e
      elseif type(e) == "table" and type(e.message) == "string" then parts[#parts + 1] = e.message end
    end
    if #parts > 0 then return table.concat(parts, "; ") end
  end
  if type(doc.error) == "string" then return doc.error end
  if type(doc.error) == "table" and type(doc.error.message) == "string" then return doc.error.message end
end

-- A short excerpt of a non-JSON body (an HTML error page, a proxy's text).
local function excerpt(body)
  local t = require("candor.discovery.html").to_text(body or "")
  if t == "" then return "no body" end
  if #t > 200 then t = t:sub(1, 200):gsub("[\128-\191]*$", "") .. "..." end
  return t
end

local function decode(body)
  local ok, v = pcall(json.decode, body or "")
  if ok then return v end
  return nil, (tostring(v):gsub("^[^\n]-:%d+: ", ""))
end

local Session = {}
Session.__index = Session

-- session(source, settings) -> s: one fetch's requests, sharing its wait budget.
-- s.requests counts the requests sent; s.waited the seconds waited.
function M.session(source, settings)
  return setmetatable({ source = source, settings = settings or {}, waited = 0, requests = 0, not_before = nil }, Session)
end

-- wait(seconds) -> true when waited, false when it would be too long (alone or
-- with what this fetch already waited).
function Session:wait(seconds)
  if seconds > M.max_wait or self.waited + seconds > M.max_total_wait then return false end
  if seconds > 0 then M.sleep(seconds) end
  self.waited = self.waited + seconds
  return true
end

-- hold(seconds) -> true when the next request will wait that long first (an
-- API's "backoff" before its next call), false when that is too long to wait.
function Session:hold(seconds)
  if seconds > M.max_wait or self.waited + seconds > M.max_total_wait then return false end
  self.not_before = math.max(self.not_before or 0, seconds)
  return true
end

function Session:fail(kind, message, fields) return M.fail(self.source, kind, message, fields) end

-- get_json(url, spec) -> doc, headers, status | nil, err
-- spec.headers: extra request headers; spec.limited(status, headers, doc) ->
-- true, retry_after (seconds | nil) when the reply says "rate limited" (by
-- default: status 429, with Retry-After); spec.reason(doc) -> the API's error
-- text (by default the common fields). A limit with a short enough retry is
-- waited out and the request sent again; otherwise it is a rate_limited error.
function Session:get_json(url, spec)
  spec = spec or {}
  local headers = { ["User-Agent"] = self.settings.user_agent or M.user_agent, ["Accept"] = "application/json" }
  for k, v in pairs(spec.headers or {}) do headers[k] = v end
  local limited_replies = 0
  while true do
    if self.not_before then
      local pause = self.not_before
      self.not_before = nil
      if pause > 0 then self:wait(pause) end
    end
    self.requests = self.requests + 1
    local status, rh, body = http.request { url = url, headers = headers, timeout_ms = spec.timeout_ms or M.timeout_ms }
    if not status then return self:fail("network", string.format("cannot reach %s: %s", where(url), tostring(rh))) end
    local doc, why = decode(body)
    local limited, retry = (spec.limited or M.limited)(status, rh, doc)
    if limited then
      limited_replies = limited_replies + 1
      -- a server that keeps answering "retry after 0" is not waited on forever
      if not (retry and limited_replies <= M.max_retries and self:wait(retry)) then
        local wait_text = retry and string.format(" (retry after %d s)", math.ceil(retry)) or ""
        return self:fail("rate_limited", string.format("rate limited by %s%s: %s", where(url), wait_text,
          (spec.reason or reason_of)(doc) or excerpt(body)), { retry_after = retry, status = status })
      end
    elseif status < 200 or status > 299 then
      return self:fail("http", string.format("HTTP %d from %s: %s", status, where(url),
        (spec.reason or reason_of)(doc) or excerpt(body)), { status = status })
    elseif doc == nil or type(doc) ~= "table" then
      return self:fail("malformed", string.format("malformed JSON from %s: %s", where(url),
        why or ("expected an object, got " .. type(doc))), { status = status })
    else
      return doc, rh, status
    end
  end
end

-- The default rate-limit test: HTTP 429, retry after Retry-After when given.
function M.limited(status, headers)
  if status == 429 then return true, M.retry_after(headers) end
  return false
end

---------------------------------------------------------------- posts

-- level_of(n, steps) -> the level for a number on a ladder such as
-- {{100, "beginner"}, {10000, "practitioner"}, {math.huge, "expert"}}: the first
-- step n is below; "unknown" when n is not a number.
function M.level_of(n, steps)
  if type(n) ~= "number" then return "unknown" end
  for _, s in ipairs(steps) do if n < s[1] then return s[2] end end
  return steps[#steps][2]
end

local function text_of(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  return ""
end

-- post{...} -> a post in the contract's shape: every text field a string,
-- author_level one of the four, metadata a table.
local LEVELS = { unknown = true, beginner = true, practitioner = true, expert = true }

function M.post(p)
  return {
    source_type = p.source_type, source_id = p.source_id, url = text_of(p.url),
    title = text_of(p.title), content = text_of(p.content), author = text_of(p.author),
    author_level = LEVELS[p.author_level] and p.author_level or "unknown",
    posted_at = p.posted_at, metadata = type(p.metadata) == "table" and p.metadata or {},
  }
end

local function newer_first(a, b)
  if a.posted_at == b.posted_at then return a.source_id < b.source_id end
  if not a.posted_at then return false end
  if not b.posted_at then return true end
  return a.posted_at > b.posted_at
end

-- gather(settings, searches, page) -> posts | nil, err
-- searches: a list of what to search (one per keyword, or keyword x category);
-- page(search, cursor) -> posts, next_cursor | nil, err (cursor nil: the first
-- page; next_cursor nil: no more pages). Pages are taken round-robin across
-- the searches until settings.limit distinct posts (by source_id) are in hand
-- or every search is done. Posts older than settings.since are dropped, and a
-- search whose page held only such posts stops there (every source asks for
-- newest first). -> at most limit posts, newest first. A failed page fails
-- the fetch; err.posts keeps what was gathered before it.
function M.gather(settings, searches, page)
  local out, seen = {}, {}
  local cursors, open = {}, {}
  for i = 1, #searches do open[i] = true end
  local remaining = #searches
  while remaining > 0 and #out < settings.limit do
    for i, search in ipairs(searches) do
      if open[i] and #out < settings.limit then
        local posts, next_cursor = page(search, cursors[i])
        if not posts then
          local err = next_cursor
          err.posts = out
          return nil, err
        end
        local fresh = 0
        for _, p in ipairs(posts) do
          local t = settings.since and p.posted_at and M.epoch(p.posted_at)
          if not (t and t <= settings.since) then
            fresh = fresh + 1
            if not seen[p.source_id] then seen[p.source_id] = true out[#out + 1] = p end
          end
        end
        cursors[i] = next_cursor
        if next_cursor == nil or (settings.since and #posts > 0 and fresh == 0) then
          open[i] = false
          remaining = remaining - 1
        end
      end
    end
  end
  table.sort(out, newer_first)
  for i = #out, settings.limit + 1, -1 do out[i] = nil end
  return out
end

-- per_page(settings, api_max) -> the page size to ask for: the limit, at most
-- what the API allows.
function M.per_page(settings, api_max) return math.min(settings.limit, api_max) end

return M
