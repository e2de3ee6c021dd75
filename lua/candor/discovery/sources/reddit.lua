-- Reddit through its public JSON: /r/{a+b}/search.json?q=&restrict_sr=1&sort=new
-- (or /search.json across Reddit when no subreddit is named). A reply is a
-- Listing {data = {children = {{kind = "t3", data = post}}, after}}; "after" is
-- the cursor for the next page and null on the last one. Reddit asks for a
-- descriptive User-Agent, reports its limit in x-ratelimit-remaining and
-- x-ratelimit-reset (seconds to the end of the window), and answers 429 past
-- it. Text comes with &, < and > escaped as entities; listings say nothing of
-- an author's karma, so author levels are "unknown".
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"

local NAME = "reddit"
local MAX_PER_PAGE = 100       -- Reddit's most per listing
local SITE = "https://www.reddit.com"

-- "r/devops", "/r/devops/" or "devops" -> "devops"; nil for anything else.
local function subreddit_name(s)
  local name = s:gsub("^/?r/", ""):gsub("/+$", "")
  if name:match("^[%w_]+$") then return name end
end

local function subreddits_of(config)
  local out = {}
  for _, s in ipairs(kit.list(config.subreddits)) do
    local name = subreddit_name(s)
    if not name then return kit.fail(NAME, "config", string.format("'%s' is not a subreddit name", s)) end
    out[#out + 1] = name
  end
  return out
end

-- 429, retried after Retry-After or, failing that, the window's reset.
local function limited(status, headers)
  if status ~= 429 then return false end
  return true, kit.retry_after(headers) or tonumber(headers["x-ratelimit-reset"])
end

-- Reddit's error replies: {message = "Forbidden", error = 403, reason = "private"}.
local function reason(doc)
  if type(doc) ~= "table" or type(doc.message) ~= "string" then return nil end
  return doc.message .. (type(doc.reason) == "string" and (" (" .. doc.reason .. ")") or "")
end

local function post_of(d)
  if type(d.id) ~= "string" then return nil end
  return kit.post {
    source_type = NAME, source_id = NAME .. ":" .. d.id,
    url = type(d.permalink) == "string" and (SITE .. d.permalink) or (SITE .. "/comments/" .. d.id),
    title = html.line(d.title), content = html.plain(html.decode(d.selftext or "")),
    author = d.author, author_level = "unknown",
    posted_at = kit.time_of(d.created_utc),
    metadata = {
      subreddit = d.subreddit, score = d.score, comments = d.num_comments, flair = d.link_flair_text,
      link = d.is_self == false and type(d.url) == "string" and d.url or nil, over_18 = d.over_18,
    },
  }
end

-- the config fields every source checks (see kit.settings)
local SPEC = { base_url = SITE }

return {
  name = NAME,
  description = "Reddit posts, newest first, from Reddit's public search JSON (one subreddit, several, or all of Reddit).",
  config_help = {
    keywords = "words to search for; one search per keyword (the priority's keywords are added)",
    subreddits = "subreddit names, e.g. [\"devops\", \"kubernetes\"]; searched together; none: all of Reddit",
    limit = "most posts to return (default 50)",
    since = "only posts created after this ISO 8601 time",
    user_agent = "the User-Agent to send; Reddit asks for \"<platform>:<app ID>:<version> (by /u/<you>)\"",
    base_url = "API address, default https://www.reddit.com",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    local subs, serr = subreddits_of(config)
    if not subs then return nil, serr end
    local path = #subs > 0 and ("/r/" .. table.concat(subs, "+") .. "/search.json") or "/search.json"
    local session = kit.session(NAME, s)
    return kit.gather(s, s.keywords, function(keyword, after)
      local doc, headers = session:get_json(kit.url(s.base_url, path, {
        { "q", keyword }, { "restrict_sr", #subs > 0 and "1" or nil }, { "sort", "new" },
        { "limit", kit.per_page(s, MAX_PER_PAGE) }, { "after", after },
      }), { limited = limited, reason = reason })
      if not doc then return nil, headers end
      local data = type(doc.data) == "table" and doc.data or nil
      if doc.kind ~= "Listing" or not data or type(data.children) ~= "table" then
        return session:fail("malformed", "the reply is not a Listing")
      end
      local posts = {}
      for _, child in ipairs(data.children) do
        local p = type(child) == "table" and child.kind == "t3" and type(child.data) == "table" and post_of(child.data)
        if p then posts[#posts + 1] = p end
      end
      local next_after = type(data.after) == "string" and data.after ~= "" and data.after or nil
      -- the window is spent: wait for its reset before the next page, or stop
      if next_after and tonumber(headers["x-ratelimit-remaining"]) == 0 then
        local reset = tonumber(headers["x-ratelimit-reset"]) or 0
        if not session:hold(reset) then next_after = nil end
      end
      return posts, next_after
    end)
  end,
}
