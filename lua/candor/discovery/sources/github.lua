-- GitHub issues through the REST search API (https://docs.github.com/rest/search):
-- GET /search/issues?q=<words> is:issue [repo:o/r] [label:"x"] [created:>T]
-- &sort=created&order=desc&per_page=N. The next page's address is the Link
-- header's rel="next" (absent on the last page). A token from GITHUB_TOKEN is
-- sent as "Authorization: Bearer" when set (searches are allowed either way,
-- with a smaller limit without). Past a limit GitHub answers 403 or 429: with
-- x-ratelimit-remaining: 0 it may be retried at x-ratelimit-reset (Unix
-- seconds), with retry-after after that many seconds. Bodies are Markdown.
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"

local NAME = "github"
local MAX_PER_PAGE = 100      -- the API's most per page

-- author_association: the author's standing in the issue's repository.
local LEVELS = {
  OWNER = "expert", MEMBER = "expert", COLLABORATOR = "expert", CONTRIBUTOR = "practitioner",
  FIRST_TIME_CONTRIBUTOR = "beginner", FIRST_TIMER = "beginner",
}

local function limited(status, headers, doc)
  if status ~= 403 and status ~= 429 then return false end
  local retry = kit.retry_after(headers)
  if retry then return true, retry end
  if headers["x-ratelimit-remaining"] == "0" then
    local reset = tonumber(headers["x-ratelimit-reset"])
    return true, reset and math.max(0, reset - kit.time()) or nil
  end
  -- a secondary limit says so in its message; any other 403 is a refusal
  local msg = type(doc) == "table" and type(doc.message) == "string" and doc.message:lower() or ""
  if status == 429 or msg:find("rate limit", 1, true) then return true, nil end
  return false
end

-- {message = "Validation Failed", errors = {{message = "..."}}}
local function reason(doc)
  if type(doc) ~= "table" or type(doc.message) ~= "string" then return nil end
  local details = {}
  for _, e in ipairs(type(doc.errors) == "table" and doc.errors or {}) do
    if type(e) == "table" and type(e.message) == "string" then details[#details + 1] = e.message end
  end
  return doc.message .. (#details > 0 and (": " .. table.concat(details, "; ")) or "")
end

-- The Link header's rel="next" address, or nil.
local function next_link(headers)
  for url, rel in (headers.link or ""):gmatch("<([^>]+)>%s*;%s*rel=\"([^\"]+)\"") do
    if rel == "next" then return url end
  end
end

-- "https://api.github.com/repos/owner/name" -> "owner/name"
local function repo_of(item)
  return type(item.repository_url) == "string" and item.repository_url:match("/repos/([^/]+/[^/]+)$") or nil
end

local function post_of(item)
  if item.number == nil or item.pull_request ~= nil then return nil end
  local user = type(item.user) == "table" and item.user or {}
  if user.type == "Bot" then return nil end      -- dependabot and friends report no pain
  local repo = repo_of(item) or "?"
  local labels = {}
  for _, l in ipairs(type(item.labels) == "table" and item.labels or {}) do
    if type(l) == "table" and type(l.name) == "string" then labels[#labels + 1] = l.name end
  end
  return kit.post {
    source_type = NAME, source_id = string.format("%s:%s#%s", NAME, repo, tostring(math.tointeger(item.number) or item.number)),
    url = item.html_url, title = html.line(item.title), content = html.plain(type(item.body) == "string" and item.body or ""),
    author = user.login, author_level = LEVELS[item.author_association] or "unknown",
    posted_at = kit.time_of(item.created_at),
    metadata = {
      repo = repo, state = item.state, comments = item.comments, labels = labels,
      reactions = type(item.reactions) == "table" and item.reactions.total_count or nil,
      association = item.author_association,
    },
  }
end

-- A label with a space needs quotes in a search query.
local function qualifier(name, value)
  return name .. ":" .. (value:find("%s") and ('"' .. value .. '"') or value)
end

local function query_of(keyword, s, config)
  local q = { keyword, "is:issue" }
  for _, r in ipairs(kit.list(config.repos)) do q[#q + 1] = qualifier("repo", r) end
  for _, l in ipairs(kit.list(config.labels)) do q[#q + 1] = qualifier("label", l) end
  if config.state == "open" or config.state == "closed" then q[#q + 1] = "state:" .. config.state end
  if s.since then q[#q + 1] = "created:>" .. os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(s.since)) end
  return table.concat(q, " ")
end

-- the config fields every source checks (see kit.settings)
local SPEC = { base_url = "https://api.github.com" }

return {
  name = NAME,
  description = "GitHub issues, newest first, through the REST search API (GITHUB_TOKEN optional: a larger rate limit).",
  config_help = {
    keywords = "words to search for in issues; one search per keyword (the priority's keywords are added)",
    repos = "repositories to search, e.g. [\"kubernetes/kubernetes\"]; none: all of GitHub",
    labels = "labels every issue must carry, e.g. [\"bug\"]",
    state = "\"open\" or \"closed\"; default both",
    limit = "most posts to return (default 50; the API gives at most 1000 per search)",
    since = "only issues created after this ISO 8601 time",
    base_url = "API address, default https://api.github.com (a GitHub Enterprise Server: https://HOST/api/v3)",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    local headers = { ["Accept"] = "application/vnd.github+json", ["X-GitHub-Api-Version"] = "2022-11-28" }
    local token = kit.getenv("GITHUB_TOKEN")
    if token and token ~= "" then headers["Authorization"] = "Bearer " .. token end
    local session = kit.session(NAME, s)
    return kit.gather(s, s.keywords, function(keyword, next_url)
      local url = next_url or kit.url(s.base_url, "/search/issues", {
        { "q", query_of(keyword, s, config) }, { "sort", "created" }, { "order", "desc" },
        { "per_page", kit.per_page(s, MAX_PER_PAGE) },
      })
      local doc, rh = session:get_json(url, { headers = headers, limited = limited, reason = reason })
      if not doc then return nil, rh end
      if type(doc.items) ~= "table" then return session:fail("malformed", "the reply has no items list") end
      local posts = {}
      for _, item in ipairs(doc.items) do
        local p = type(item) == "table" and post_of(item)
        if p then posts[#posts + 1] = p end
      end
      return posts, #doc.items > 0 and next_link(rh) or nil
    end)
  end,
}
