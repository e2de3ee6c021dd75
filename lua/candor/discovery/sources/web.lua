-- Grounded web search through the LLM layer's research tier: one call
-- (prompts/discovery/web_search.md) asks the model to search the web for
-- practitioners' posts and answer JSON {posts = {{url, title, content, author,
-- posted_at}}}. What the model reports is checked like any API reply: a post
-- without an http(s) URL is dropped, text is tidied, times parsed. The model
-- says nothing reliable about authors, so every author level is "unknown".
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"
local prompt = require "candor.prompt"

local NAME = "web"
local MAX_CONTENT = 4000     -- characters: the prompt asks for about 1,500

-- The LLM layer's error kinds, in the source contract's words.
local KINDS = { json = "malformed", malformed = "malformed", network = "network", timeout = "network" }

local function kind_of(err)
  if type(err) ~= "table" then return "http" end
  if err.status == 429 then return "rate_limited" end
  return KINDS[err.kind] or "http"
end

local function host_of(url) return url:match("^https?://([^/?#]+)") end

local function cut(s, n)
  local at = utf8.len(s) and utf8.offset(s, n + 1)
  if not at or at > #s then return s end
  return s:sub(1, at - 1)
end

local function post_of(p)
  if type(p) ~= "table" or type(p.url) ~= "string" then return nil end
  local url = html.line(p.url)
  local host = host_of(url)
  if not host then return nil end
  return kit.post {
    source_type = NAME, source_id = NAME .. ":" .. url, url = url,
    title = html.line(p.title or ""), content = cut(html.plain(type(p.content) == "string" and p.content or ""), MAX_CONTENT),
    author = html.line(type(p.author) == "string" and p.author or ""), author_level = "unknown",
    posted_at = kit.time_of(p.posted_at ~= "" and p.posted_at or nil),
    metadata = { site = host, via = "grounded web search" },
  }
end

-- The research call, whatever way it fails (an error value or a raise) -> result | nil, err.
local function research(llm, req)
  local ok, result, err = pcall(llm, "research", req)
  if not ok then err, result = result, nil end
  if not result then
    local e = type(err) == "table" and err or { message = err }
    return kit.fail(NAME, ok and kind_of(e) or "http", "the research call failed: " .. tostring(e.message),
      { retry_after = e.retry_after })
  end
  return result
end

-- the config fields every source checks (see kit.settings)
local SPEC = { base_url = false }

return {
  name = NAME,
  description = "Public posts found by a grounded web search through the LLM layer's research tier.",
  config_help = {
    keywords = "what to search for; all keywords go into one search (the priority's keywords are added)",
    sites = "domains to look at first, e.g. [\"news.ycombinator.com\", \"lobste.rs\"]",
    limit = "most posts to return (default 50; a model finds far fewer in one search)",
    since = "only posts written after this ISO 8601 time",
  },

  -- check(config) -> settings | nil, err: the config checked without a request
  check = function(config) return kit.settings(NAME, config, SPEC) end,

  fetch = function(config, opts)
    local s, err = kit.settings(NAME, config, SPEC)
    if not s then return nil, err end
    opts = opts or {}
    if type(opts.llm) ~= "function" then
      return kit.fail(NAME, "config", "needs the LLM layer (opts.llm) for its research tier")
    end
    local today = type(opts.now) == "string" and opts.now:match("^%d%d%d%d%-%d%d%-%d%d") or os.date("!%Y-%m-%d")
    local r = prompt.render("discovery/web_search", {
      keywords = table.concat(s.keywords, "\n"), limit = s.limit,
      since = s.since and os.date("!%Y-%m-%d", math.floor(s.since)) or "",
      sites = table.concat(kit.list(config.sites), ", "), today = today,
    })
    local result, rerr = research(opts.llm, {
      system = r.system, prompt = r.user, json = true, grounding = true,
      purpose = (opts.purpose_prefix or "discovery") .. ":web",
    })
    if not result then return nil, rerr end
    local answer = result.json
    if type(answer) ~= "table" or (answer.posts ~= nil and type(answer.posts) ~= "table") then
      return kit.fail(NAME, "malformed", "the research answer is not the JSON object {posts = [...]} asked for")
    end
    local posts = {}
    for _, p in ipairs(answer.posts or {}) do posts[#posts + 1] = post_of(p) end
    return kit.gather(s, { "web" }, function() return posts, nil end)
  end,
}
