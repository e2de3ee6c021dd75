-- Any Discourse forum through its search JSON: {base_url}/search.json?q=...&page=N.
-- The query takes Discourse's own filters: order:latest (newest first),
-- after:YYYY-MM-DD, #category-slug, tags:a,b (any of them). A reply holds
-- posts (id, username, created_at, blurb: an excerpt, topic_id, post_number,
-- like_count) and the topics they belong to (id, title, slug...), joined here
-- on topic_id; grouped_search_result.more_full_page_results says whether a
-- next page exists, and pages stop at 10. Past its limit a forum answers 429
-- with Retry-After or {error_type = "rate_limit", extras = {wait_seconds}}.
-- A post's trust_level (0-4), when the forum sends it, gives the author level.
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"

local NAME = "discourse"
local MAX_PAGE = 10           -- the search refuses page numbers above 10

-- Trust levels: 0 new, 1 basic, 2 member, 3 regular, 4 leader; staff are experts.
local TRUST = { [0] = "beginner", [1] = "beginner", [2] = "practitioner", [3] = "practitioner", [4] = "expert" }

local function level_of(p)
  if p.moderator == true or p.admin == true then return "expert" end
  return TRUST[math.tointeger(p.trust_level) or -1] or "unknown"
end

local function limited(status, headers, doc)
  if status ~= 429 then return false end
  local extras = type(doc) == "table" and type(doc.extras) == "table" and doc.extras or {}
  return true, kit.retry_after(headers) or tonumber(extras.wait_seconds)
end

-- The search's own flags, at the top level of older replies or inside
-- grouped_search_result.
local function grouped(doc)
  return type(doc.grouped_search_result) == "table" and doc.grouped_search_result or doc
end

local function query_of(keyword, s, category, tags)
  local q = { keyword, "order:latest" }
  if category then q[#q + 1] = "#" .. category end
  if #tags > 0 then q[#q + 1] = "tags:" .. table.concat(tags, ",") end
  -- after: takes a date; the exact time is applied to the posts afterwards
  if s.since then q[#q + 1] = "after:" .. os.date("!%Y-%m-%d", math.floor(s.since)) end
  return table.concat(q, " ")
end

local function post_of(base, host, p, topic)
  if p.id == nil or p.topic_id == nil then return nil end
  topic = topic or {}
  local id = tostring(math.tointeger(p.id) or p.id)
  local topic_id = tostring(math.tointeger(p.topic_id) or p.topic_id)
  local number = tostring(math.tointeger(p.post_number) or 1)
  local slug = type(topic.slug) == "string" and topic.slug ~= "" and topic.slug or "topic"
  return kit.post {
    source_type = NAME, source_id = string.format("%s:%s:%s", NAME, host, id),
    url = string.format("%s/t/%s/%s/%s", base, slug, topic_id, number),
    title = html.line(topic.title or topic.fancy_title or ""), content = html.to_text(p.blurb or ""),
    author = p.username, author_level = level_of(p),
    posted_at = kit.time_of(p.created_at),
    metadata = {
      forum = host, topic_id = p.topic_id, post_number = p.post_number, likes = p.like_count,
      category_id = topic.category_id, tags = topic.tags, replies = topic.reply_count, posts = topic.posts_count,
      trust_level = p.trust_level,
    },
  }
end

-- the config fields every source checks (see kit.settings)
local SPEC = {}

return {
  name = NAME,
  description = "Posts from any Discourse forum, newest first, through its public search JSON (base_url names the forum).",
  config_help = {
    base_url = "the forum's address, e.g. \"https://meta.discourse.org\" (required)",
    keywords = "words to search for; one search per keyword (the priority's keywords are added)",
    categories = "category slugs to search in, e.g. [\"support\"]; one search per keyword and category",
    tags = "tags, of which each topic has at least one",
    limit = "most posts to return (default 50; a search gives at most 10 pages)",
    since = "only posts created after this ISO 8601 time",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    local host = s.base_url:match("^https?://([^/]+)")
    local tags = kit.list(config.tags)
    local searches = {}
    local categories = kit.list(config.categories or config.category)
    for _, k in ipairs(s.keywords) do
      if #categories == 0 then searches[#searches + 1] = { keyword = k } end
      for _, c in ipairs(categories) do searches[#searches + 1] = { keyword = k, category = c } end
    end
    local session = kit.session(NAME, s)
    return kit.gather(s, searches, function(search, page)
      page = page or 1
      local doc, derr = session:get_json(kit.url(s.base_url, "/search.json", {
        { "q", query_of(search.keyword, s, search.category, tags) }, { "page", page > 1 and page or nil },
      }), { limited = limited })
      if not doc then return nil, derr end
      local g = grouped(doc)
      if type(g.error) == "string" and g.error ~= "" then
        return session:fail("http", "the forum's search failed: " .. g.error)
      end
      if doc.posts ~= nil and type(doc.posts) ~= "table" then return session:fail("malformed", "posts is not a list") end
      local topics = {}
      for _, t in ipairs(type(doc.topics) == "table" and doc.topics or {}) do
        if type(t) == "table" and t.id ~= nil then topics[tostring(math.tointeger(t.id) or t.id)] = t end
      end
      local posts = {}
      for _, p in ipairs(doc.posts or {}) do
        local post = type(p) == "table" and post_of(s.base_url, host, p,
          topics[tostring(math.tointeger(p.topic_id) or p.topic_id)])
        if post then posts[#posts + 1] = post end
      end
      local more = g.more_full_page_results == true and #posts > 0 and page < MAX_PAGE
      return posts, more and page + 1 or nil
    end)
  end,
}
