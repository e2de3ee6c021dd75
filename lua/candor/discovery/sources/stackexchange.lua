-- Stack Exchange questions through the public API (https://api.stackexchange.com/docs):
-- /2.3/search/advanced with site, q (free text), tagged (";"-separated: at
-- least one of them), fromdate (Unix seconds), sort=creation&order=desc, and
-- filter=withbody for the question's HTML body. Every reply is the common
-- wrapper {items, has_more, quota_max, quota_remaining, backoff?}; backoff (when
-- present) is the seconds to wait before calling the method again. Errors are
-- {error_id, error_name, error_message}; throttle_violation (error_id 502) is a
-- rate limit. Replies are gzipped: libcurl decodes them (src/http.c sets
-- CURLOPT_ACCEPT_ENCODING). The owner's reputation gives the author level.
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"

local NAME = "stackexchange"
local MAX_PER_PAGE = 100      -- the API's most per page

-- Reputation ladder: under 100 is a new account (few privileges yet); from
-- 10,000 the site trusts the user with its moderation tools.
local LADDER = { { 100, "beginner" }, { 10000, "practitioner" }, { math.huge, "expert" } }

local function level_of(owner)
  if type(owner) ~= "table" then return "unknown" end
  if owner.user_type == "moderator" then return "expert" end
  if owner.user_type == "unregistered" then return "beginner" end
  return kit.level_of(owner.reputation, LADDER)
end

-- throttle_violation (whatever the HTTP status), or a plain 429. Its message
-- says when more requests are allowed: "... available in 82524 seconds".
local function limited(status, headers, doc)
  local throttled = type(doc) == "table" and (doc.error_name == "throttle_violation" or doc.error_id == 502)
  if not throttled and status ~= 429 then return false end
  local wait = type(doc) == "table" and type(doc.error_message) == "string"
    and tonumber(doc.error_message:match("(%d+) seconds")) or nil
  return true, wait or kit.retry_after(headers)
end

local function reason(doc)
  if type(doc) ~= "table" or type(doc.error_message) ~= "string" then return nil end
  return doc.error_message .. (type(doc.error_name) == "string" and (" (" .. doc.error_name .. ")") or "")
end

local function post_of(site, q)
  if q.question_id == nil then return nil end
  local owner = type(q.owner) == "table" and q.owner or {}
  local id = tostring(math.tointeger(q.question_id) or q.question_id)
  return kit.post {
    source_type = NAME, source_id = string.format("%s:%s:%s", NAME, site, id),
    url = q.link, title = html.line(q.title), content = html.to_text(q.body or ""),
    author = html.line(owner.display_name or ""), author_level = level_of(owner),
    posted_at = kit.time_of(q.creation_date),
    metadata = {
      site = site, score = q.score, answers = q.answer_count, views = q.view_count, tags = q.tags,
      answered = q.is_answered, accepted_answer = q.accepted_answer_id ~= nil, reputation = owner.reputation,
    },
  }
end

-- the config fields every source checks (see kit.settings)
local SPEC = { base_url = "https://api.stackexchange.com/2.3", keywords = "optional" }

return {
  name = NAME,
  description = "Stack Exchange questions (Stack Overflow, Server Fault, Super User...), newest first, through the public API.",
  config_help = {
    keywords = "free text to search for; one search per keyword (optional when tags are given)",
    site = "the site's API name, default \"stackoverflow\" (e.g. \"serverfault\", \"superuser\", \"devops\")",
    tags = "tags, of which each question has at least one, e.g. [\"kubernetes\", \"helm\"]",
    key = "an API key (stackapps.com) for the larger daily quota; else STACKEXCHANGE_KEY from the environment",
    limit = "most posts to return (default 50)",
    since = "only questions created after this ISO 8601 time",
    base_url = "API address, default https://api.stackexchange.com/2.3",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    local tags = kit.list(config.tags)
    if #s.keywords == 0 and #tags == 0 then
      return kit.fail(NAME, "config", "no keywords and no tags to search for")
    end
    local site = type(config.site) == "string" and config.site ~= "" and config.site or "stackoverflow"
    local key = type(config.key) == "string" and config.key ~= "" and config.key or kit.getenv("STACKEXCHANGE_KEY")
    if key == "" then key = nil end
    local session = kit.session(NAME, s)
    local searches = #s.keywords > 0 and s.keywords or { false }   -- false: by tags alone
    local spent = false   -- no quota left, or a backoff too long to wait: no more calls
    return kit.gather(s, searches, function(keyword, page)
      if spent then return {}, nil end
      page = page or 1
      local doc, derr = session:get_json(kit.url(s.base_url, "/search/advanced", {
        { "site", site }, { "q", keyword or nil }, { "tagged", #tags > 0 and table.concat(tags, ";") or nil },
        { "fromdate", s.since and math.floor(s.since) or nil }, { "sort", "creation" }, { "order", "desc" },
        { "filter", "withbody" }, { "pagesize", kit.per_page(s, MAX_PER_PAGE) }, { "page", page }, { "key", key },
      }), { limited = limited, reason = reason })
      if not doc then return nil, derr end
      if doc.error_id then   -- an error in a 2xx reply is still an error
        return session:fail("http", "error from the API: " .. (reason(doc) or tostring(doc.error_id)))
      end
      if type(doc.items) ~= "table" then return session:fail("malformed", "the reply has no items list") end
      local posts = {}
      for _, q in ipairs(doc.items) do
        local p = type(q) == "table" and post_of(site, q)
        if p then posts[#posts + 1] = p end
      end
      -- no quota left: the next call would be refused, so stop with what we have
      if tonumber(doc.quota_remaining) == 0 then spent = true end
      -- backoff binds every next call to this method (any keyword, any page):
      -- wait it out before the next one, or make no more if it is too long
      local backoff = tonumber(doc.backoff)
      if backoff and backoff > 0 and not session:hold(backoff) then spent = true end
      local more = not spent and doc.has_more == true and #doc.items > 0
      return posts, more and page + 1 or nil
    end)
  end,
}
