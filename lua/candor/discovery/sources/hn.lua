-- Hacker News through the Algolia HN Search API (https://hn.algolia.com/api).
-- search_by_date answers newest first; tags=(story,comment) asks for stories
-- or comments; pages count from 0 and each reply says how many there are
-- (nbPages); numericFilters=created_at_i>T keeps items newer than T (Unix
-- seconds). No key is needed, and the API says nothing of an author's karma,
-- so every author level is "unknown".
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"

local NAME = "hn"
local MAX_PER_PAGE = 100      -- the API allows more; 100 keeps replies small

local function is_comment(hit)
  for _, t in ipairs(type(hit._tags) == "table" and hit._tags or {}) do
    if t == "comment" then return true end
  end
  return false
end

-- One hit -> a post. A comment's title is its story's, marked as a reply; the
-- URL is the discussion on news.ycombinator.com, the story's link is metadata.
local function post_of(hit)
  local id = tostring(hit.objectID or "")
  if id == "" then return nil end
  local comment = is_comment(hit)
  local title = html.line(hit.title or "")
  if comment or title == "" then
    local story = html.line(hit.story_title or "")
    title = story ~= "" and ("Re: " .. story) or title
  end
  return kit.post {
    source_type = NAME, source_id = NAME .. ":" .. id,
    url = "https://news.ycombinator.com/item?id=" .. id,
    title = title,
    content = html.to_text(hit.comment_text or hit.story_text or ""),
    author = hit.author, author_level = "unknown",
    posted_at = kit.time_of(hit.created_at_i or hit.created_at),
    metadata = {
      kind = comment and "comment" or "story", score = hit.points, comments = hit.num_comments,
      tags = hit._tags, story_id = hit.story_id, parent_id = hit.parent_id,
      link = type(hit.url) == "string" and hit.url or (type(hit.story_url) == "string" and hit.story_url or nil),
    },
  }
end

local function numeric_filters(s, config)
  local f = {}
  if s.since then f[#f + 1] = "created_at_i>" .. math.floor(s.since) end
  local min_points = tonumber(config.min_points)
  if min_points then f[#f + 1] = "points>=" .. math.floor(min_points) end
  return #f > 0 and table.concat(f, ",") or nil
end

-- the config fields every source checks (see kit.settings)
local SPEC = { base_url = "https://hn.algolia.com/api/v1" }

return {
  name = NAME,
  description = "Hacker News stories and comments, newest first, through the public Algolia search API.",
  config_help = {
    keywords = "words to search for; one search per keyword (the priority's keywords are added)",
    tags = "Algolia tag filter, default \"(story,comment)\" (stories or comments); e.g. \"story\", \"ask_hn\"",
    min_points = "only items with at least this many points (comments have none: use with tags = \"story\")",
    limit = "most posts to return (default 50)",
    since = "only items created after this ISO 8601 time",
    base_url = "API address, default https://hn.algolia.com/api/v1",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    local session = kit.session(NAME, s)
    local tags = type(config.tags) == "string" and config.tags ~= "" and config.tags or "(story,comment)"
    local filters = numeric_filters(s, config)
    return kit.gather(s, s.keywords, function(keyword, page)
      page = page or 0
      local doc, derr = session:get_json(kit.url(s.base_url, "/search_by_date", {
        { "query", keyword }, { "tags", tags }, { "numericFilters", filters },
        { "hitsPerPage", kit.per_page(s, MAX_PER_PAGE) }, { "page", page },
      }))
      if not doc then return nil, derr end
      if type(doc.hits) ~= "table" then return session:fail("malformed", "the reply has no hits list") end
      local posts = {}
      for _, hit in ipairs(doc.hits) do
        local p = type(hit) == "table" and post_of(hit)
        if p then posts[#posts + 1] = p end
      end
      local pages = tonumber(doc.nbPages) or 0
      local more = #doc.hits > 0 and page + 1 < pages
      return posts, more and page + 1 or nil
    end)
  end,
}
