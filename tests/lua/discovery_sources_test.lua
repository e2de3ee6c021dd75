-- Every discovery source against recorded replies in its API's wire format
-- (tests/fixtures/discovery/<source>/), served on loopback by the fake source
-- server: normalised posts, pagination, empty results, rate limits waited out
-- or reported, the API's own error replies, malformed JSON; the web source
-- with a fake LLM layer.
local T = require "candor.testing"
local Fake = dofile(T.root .. "/tests/fake_sources/server.lua")
local sources = require "candor.discovery.sources"
local kit = require "candor.discovery.kit"
local html = require "candor.discovery.html"
local json = require "candor.json"

-- Runs fn(waits) with the kit's sleep recording waits instead of waiting, its
-- environment replaced by env (nothing from the real one leaks in) and, when
-- given, its clock stopped at now.
local function with_kit(opts, fn)
  local saved = { sleep = kit.sleep, getenv = kit.getenv, time = kit.time }
  local waits = {}
  kit.sleep = function(s) waits[#waits + 1] = s end
  kit.getenv = function(k) return (opts.env or {})[k] end
  if opts.now then kit.time = function() return opts.now end end
  local ok, err = pcall(fn, waits)
  kit.sleep, kit.getenv, kit.time = saved.sleep, saved.getenv, saved.time
  if not ok then error(err, 0) end
end

local function fetch(name, config, opts)
  return sources.get(name).fetch(config, opts or {})
end

local function ids(posts)
  local out = {}
  for i, p in ipairs(posts) do out[i] = p.source_id end
  return out
end

---------------------------------------------------------------- the registry

T.test("sources: the six built-in names; an unknown one is an error listing them", function()
  T.eq(sources.names(), { "discourse", "github", "hn", "reddit", "stackexchange", "web" })
  for _, name in ipairs(sources.names()) do
    local mod = sources.get(name)
    T.eq(mod.name, name)
    T.ok(type(mod.fetch) == "function" and type(mod.description) == "string", name .. " keeps the contract")
    T.ok(type(mod.config_help) == "table" and mod.config_help.limit, name .. " documents its config")
  end
  T.raises(function() sources.get("myspace") end,
    "unknown source 'myspace' %(known: discourse, github, hn, reddit, stackexchange, web%)")
  T.raises(function() sources.get("init") end, "unknown source 'init'")
  T.raises(function() sources.get("../hn") end, "unknown source")
end)

T.test("sources: a new file on CANDOR_PATH is a new source, read fresh", function()
  -- paths.roots reads CANDOR_PATH through os.getenv, so this runs in a child process
  local dir = T.tmpdir()
  os.execute("mkdir -p " .. dir .. "/lua/candor/discovery/sources")
  T.write_file(dir .. "/lua/candor/discovery/sources/mastodon.lua",
    'return { name = "mastodon", description = "d", config_help = {}, fetch = function() return {} end }')
  local script = T.write_file(dir .. "/list.lua",
    'local s = require "candor.discovery.sources" print(table.concat(s.names(), ",")) print(s.get("mastodon").path)')
  local r = T.candor({ "lua", script }, { env = { CANDOR_PATH = dir } })
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "discourse,github,hn,mastodon,reddit,stackexchange,web")
  T.contains(r.out, dir .. "/lua/candor/discovery/sources/mastodon.lua")
end)

---------------------------------------------------------------- shared helpers

T.test("html: tags stripped, block elements as breaks, entities (named and numeric) decoded, whitespace tidied", function()
  T.eq(html.to_text('<p>It&#x27;s <b>slow</b> &amp; &quot;flaky&quot;<p>Second\n   line&nbsp;here'),
    "It's slow & \"flaky\"\n\nSecond line here")
  T.eq(html.to_text("<pre><code>a = 1\nb = 2\n</code></pre><ul><li>one</li><li>two</li></ul>"), "a = 1\nb = 2\n\n- one\n- two")
  T.eq(html.to_text("<script>alert(1)</script><!-- note -->&lt;div&gt; stays text"), "<div> stays text")
  T.eq(html.decode("&#128512; &#x1F600; &mdash; &unknown; &#0; a&b"), "😀 😀 — &unknown; \239\191\189 a&b")
  T.eq(html.line("  Two\n  lines &amp;\tspaces "), "Two lines & spaces")
  T.eq(html.plain("a\r\n\r\n\r\n\r\n<!-- template -->b   c  \n"), "a\n\nb c")
  T.eq(html.to_text(nil), "")
end)

T.test("kit: ISO 8601 times with offsets, dates alone, fractions; Unix seconds; malformed ones are nil", function()
  T.eq(kit.iso(kit.epoch("2024-05-10T14:00:00Z")), "2024-05-10T14:00:00.000Z")
  T.eq(kit.epoch("2024-05-10T16:00:00+02:00"), kit.epoch("2024-05-10T14:00:00Z"))
  T.eq(kit.epoch("2024-05-10T09:30:00-0430"), kit.epoch("2024-05-10T14:00:00Z"))
  T.eq(kit.epoch("2024-05-10"), 1715299200)
  T.eq(kit.time_of("2024-05-10T15:30:00.250Z"), "2024-05-10T15:30:00.250Z")
  T.eq(kit.time_of(1715349600), "2024-05-10T14:00:00.000Z")
  T.eq({ kit.epoch("yesterday"), kit.epoch("2024-13-01"), kit.epoch("2024-05-10T14:00:00 PST"), kit.time_of(nil) },
    { nil, nil, nil, nil })
end)

T.test("kit: config errors name the field: keywords, limit, since, base_url", function()
  local cases = {
    { {}, "no keywords to search for" },
    { { keywords = { "x" }, limit = 0 }, "\"limit\" must be a whole number from 1 to 1000, not 0" },
    { { keywords = { "x" }, limit = "lots" }, "\"limit\" must be a whole number" },
    { { keywords = { "x" }, since = "last week" }, "\"since\" must be an ISO 8601 time" },
    { { keywords = { "x" }, base_url = "ftp://x" }, "\"base_url\" must be an http:// or https:// address" },
  }
  for _, c in ipairs(cases) do
    local posts, err = fetch("hn", c[1])
    T.eq({ posts, err.kind }, { nil, "config" })
    T.contains(err.message, "hn: " .. c[2])
  end
  local _, err = fetch("hn", "not a table")
  T.eq(err.kind, "config")
end)

---------------------------------------------------------------- the contract every API source keeps

-- How each API source is reached on the fake server, and how it words its
-- error replies.
local APIS = {
  { name = "hn", base = "/api/v1", path = "/api/v1/search_by_date", error_status = 400,
    error_text = "Invalid syntax for numeric value" },
  { name = "reddit", base = "", path = "/r/devops/search.json", config = { subreddits = { "devops" } }, error_status = 403,
    error_text = "Forbidden (private)" },
  { name = "stackexchange", base = "/2.3", path = "/2.3/search/advanced", error_status = 400,
    error_text = "site (bad_parameter)" },
  { name = "github", base = "", path = "/search/issues", error_status = 422,
    error_text = "Validation Failed: The listed users and repositories cannot be searched" },
  { name = "discourse", base = "", path = "/search.json", error_status = 400,
    error_text = "You supplied invalid parameters to the request: page parameter must not be greater than 10" },
}

local function config_for(api, fake, extra)
  local c = { keywords = { "flaky" }, base_url = fake.url .. api.base }
  for k, v in pairs(api.config or {}) do c[k] = v end
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end

for _, api in ipairs(APIS) do
  T.test(api.name .. ": an empty result is no posts, in one request", function()
    with_kit({}, function()
      local fake = Fake.start { { path = api.path, fixture = api.name .. "/empty.json" } }
      local posts, err = fetch(api.name, config_for(api, fake))
      fake.close()
      T.eq({ posts, err }, { {}, nil })
      T.eq(#fake.requests, 1)
    end)
  end)

  T.test(api.name .. ": the API's error reply is an http error with its status, address and words", function()
    with_kit({}, function()
      local fake = Fake.start { { path = api.path, status = api.error_status, fixture = api.name .. "/error.json" } }
      local posts, err = fetch(api.name, config_for(api, fake))
      fake.close()
      T.eq({ posts, err.kind, err.status }, { nil, "http", api.error_status })
      T.contains(err.message, string.format("%s: HTTP %d from %s%s: %s", api.name, api.error_status, fake.url, api.path,
        api.error_text))
    end)
  end)

  T.test(api.name .. ": malformed JSON is a malformed error; an HTML error page is quoted in plain text", function()
    with_kit({}, function()
      local fake = Fake.start {
        { path = api.path, fixture = api.name .. "/malformed.json", times = 1 },
        { path = api.path, status = 502, body = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>",
          headers = { ["Content-Type"] = "text/html" } },
      }
      local _, err = fetch(api.name, config_for(api, fake))
      local _, err2 = fetch(api.name, config_for(api, fake))
      fake.close()
      T.eq(err.kind, "malformed")
      T.contains(err.message, api.name .. ": malformed JSON from " .. fake.url .. api.path)
      T.eq(err2.kind, "http")
      T.contains(err2.message, "HTTP 502 from " .. fake.url .. api.path .. ": 502 Bad Gateway\n\nnginx")
    end)
  end)

  T.test(api.name .. ": a rate limit with a short Retry-After is waited out, a long one reported", function()
    with_kit({}, function(waits)
      local fake = Fake.start {
        { path = api.path, status = 429, headers = { ["Retry-After"] = "2" }, body = "{}", times = 1 },
        { path = api.path, fixture = api.name .. "/empty.json" },
      }
      local posts, err = fetch(api.name, config_for(api, fake))
      fake.close()
      T.eq({ posts, err, waits }, { {}, nil, { 2 } })
      T.eq(#fake.requests, 2, "the same request sent again after the wait")
      T.eq(fake.requests[1].raw_query, fake.requests[2].raw_query)
      local slow = Fake.start { { path = api.path, status = 429, headers = { ["Retry-After"] = "3600" }, body = "{}" } }
      local none, lerr = fetch(api.name, config_for(api, slow))
      slow.close()
      T.eq({ none, lerr.kind, lerr.retry_after, waits, #slow.requests }, { nil, "rate_limited", 3600, { 2 }, 1 })
      T.contains(lerr.message, api.name .. ": rate limited by " .. slow.url .. api.path .. " (retry after 3600 s)")
    end)
  end)

  T.test(api.name .. ": an address nobody answers is a network error", function()
    with_kit({}, function()
      local _, err = fetch(api.name, config_for(api, { url = "http://127.0.0.1:1" }))
      T.eq(err.kind, "network")
      T.contains(err.message, api.name .. ": cannot reach http://127.0.0.1:1" .. api.path)
    end)
  end)

  T.test(api.name .. ": every request carries a descriptive User-Agent (the schedule may set its own)", function()
    with_kit({}, function()
      local fake = Fake.start { { path = api.path, fixture = api.name .. "/empty.json" } }
      assert(fetch(api.name, config_for(api, fake)))
      assert(fetch(api.name, config_for(api, fake, { user_agent = "linux:acme-discovery:v2 (by /u/acme)" })))
      fake.close()
      T.eq(fake.requests[1].headers["user-agent"], kit.user_agent)
      T.contains(kit.user_agent, "candor-discovery:v")
      T.eq(fake.requests[2].headers["user-agent"], "linux:acme-discovery:v2 (by /u/acme)")
    end)
  end)
end

---------------------------------------------------------------- Hacker News

local function hn_pages()
  return Fake.start {
    { path = "/api/v1/search_by_date", query = { page = "1" }, fixture = "hn/page2.json" },
    { path = "/api/v1/search_by_date", query = { page = "0" }, fixture = "hn/page1.json" },
  }
end

T.test("hn: two pages of stories and comments, de-duplicated, newest first, text cleaned", function()
  with_kit({}, function()
    local fake = hn_pages()
    local posts = assert(fetch("hn", { keywords = { "flaky ci" }, limit = 10, base_url = fake.url .. "/api/v1" }))
    fake.close()
    T.eq(#fake.requests, 2)
    local q = fake.requests[1].query
    T.eq({ q.query, q.tags, q.page, q.hitsPerPage, q.numericFilters }, { "flaky ci", "(story,comment)", "0", "10", nil })
    T.eq(fake.requests[2].query.page, "1")
    T.eq(ids(posts), { "hn:40100007", "hn:40100001", "hn:40090010" }, "the comment seen on both pages is kept once")
    local story = posts[2]
    T.eq(story, {
      source_type = "hn", source_id = "hn:40100001", url = "https://news.ycombinator.com/item?id=40100001",
      title = "Ask HN: How do you deal with flaky CI pipelines?",
      content = "Our monorepo's CI fails about 1 run in 5 for reasons that have nothing to do with the change.\n\n"
        .. "We retry & pray. Every team says the same thing: \"just rerun it\".\n\nSee our dashboard — how do you cope?",
      author = "ci_sufferer", author_level = "unknown", posted_at = "2024-05-10T14:00:00.000Z",
      metadata = { kind = "story", score = 118, comments = 42, story_id = 40100001,
                   tags = { "story", "author_ci_sufferer", "story_40100001", "ask_hn" } },
    })
    local comment = posts[1]
    T.eq({ comment.title, comment.author, comment.metadata.kind, comment.metadata.parent_id },
      { "Re: Ask HN: How do you deal with flaky CI pipelines?", "oncall_olga", "comment", 40100001 })
    T.eq(comment.content, "We quarantine flaky tests automatically after 3 failures in 24h.\n\nThe problem: nobody ever "
      .. "un-quarantines them. We had 400 tests in quarantine last quarter — that's 12% of the suite.\n\n"
      .. "retry: 3\nquarantine_after: 3")
    T.eq({ posts[3].content, posts[3].metadata.link }, { "", "https://blog.example.org/flaky-tests-cost" })
  end)
end)

T.test("hn: the limit caps the page size and the posts; since goes to numericFilters and older posts are dropped", function()
  with_kit({}, function()
    local fake = hn_pages()
    local posts = assert(fetch("hn", { keywords = { "flaky ci" }, limit = 1, base_url = fake.url .. "/api/v1" }))
    T.eq({ ids(posts), #fake.requests, fake.requests[1].query.hitsPerPage }, { { "hn:40100007" }, 1, "1" })
    local recent = assert(fetch("hn", { keywords = { "flaky ci" }, since = "2024-05-09T00:00:00Z",
                                        base_url = fake.url .. "/api/v1", min_points = 10 }))
    fake.close()
    T.eq(fake.requests[2].query.numericFilters, "created_at_i>1715212800,points>=10")
    T.eq(ids(recent), { "hn:40100007", "hn:40100001" }, "the 2024-05-08 story is older than since")
  end)
end)

T.test("hn: one search per keyword, round-robin, duplicates across keywords kept once", function()
  with_kit({}, function()
    local fake = Fake.start {
      { path = "/api/v1/search_by_date", query = { query = "quarantine" }, fixture = "hn/page2.json" },
      { path = "/api/v1/search_by_date", query = { page = "1" }, fixture = "hn/empty.json" },
      { path = "/api/v1/search_by_date", fixture = "hn/page1.json" },
    }
    local posts = assert(fetch("hn", { keywords = { "flaky ci", "quarantine", "flaky ci" }, base_url = fake.url .. "/api/v1" }))
    fake.close()
    T.eq({ fake.requests[1].query.query, fake.requests[2].query.query }, { "flaky ci", "quarantine" })
    T.eq(ids(posts), { "hn:40100007", "hn:40100001", "hn:40090010" })
  end)
end)

---------------------------------------------------------------- Reddit

T.test("reddit: subreddits searched together, the after cursor followed, entities decoded", function()
  with_kit({}, function()
    local fake = Fake.start {
      { path = "/r/devops+kubernetes/search.json", query = { after = "t3_1co9b2k" }, fixture = "reddit/page2.json" },
      { path = "/r/devops+kubernetes/search.json", query = { after = false }, fixture = "reddit/page1.json" },
    }
    local posts = assert(fetch("reddit", { keywords = { "flaky" }, subreddits = { "r/devops", "/r/kubernetes/" },
                                           base_url = fake.url }))
    fake.close()
    T.eq(#fake.requests, 2)
    local q = fake.requests[1].query
    T.eq({ q.q, q.restrict_sr, q.sort, q.limit, q.after }, { "flaky", "1", "new", "50", nil })
    T.eq(ids(posts), { "reddit:1coa7xq", "reddit:1co9b2k", "reddit:1cn0zzz" })
    T.eq(posts[1], {
      source_type = "reddit", source_id = "reddit:1coa7xq",
      url = "https://www.reddit.com/r/devops/comments/1coa7xq/ci_pipeline_flaky_runners_is_50_green_normal/",
      title = "CI pipeline & flaky runners: is 50% green normal?",
      content = "Every Monday our pipeline takes 40+ minutes & half the jobs time out.\n\nWe've tried:\n\n* bigger runners\n"
        .. "* caching `node_modules`\n\nStill <50% green on the first try. Is this just how it is?",
      author = "tired_sre", author_level = "unknown", posted_at = "2024-05-10T11:02:33.000Z",
      metadata = { subreddit = "devops", score = 57, comments = 23, flair = "Discussion", over_18 = false },
    })
    T.eq(posts[2].metadata.link, "https://blog.example.net/flaky-e2e-dns")
    T.eq(posts[3].author, "[deleted]")
  end)
end)

T.test("reddit: without subreddits all of Reddit is searched; a bad name is a config error", function()
  with_kit({}, function()
    local fake = Fake.start { { path = "/search.json", fixture = "reddit/empty.json" } }
    assert(fetch("reddit", { keywords = { "flaky" }, base_url = fake.url }))
    fake.close()
    T.eq(fake.requests[1].query.restrict_sr, nil)
    local _, err = fetch("reddit", { keywords = { "flaky" }, subreddits = { "dev ops" } })
    T.eq(err.kind, "config")
    T.contains(err.message, "reddit: 'dev ops' is not a subreddit name")
  end)
end)

T.test("reddit: 429 waits for x-ratelimit-reset; a spent window before the next page is waited out too", function()
  with_kit({}, function(waits)
    local fake = Fake.start {
      { path = "/r/devops/search.json", status = 429, fixture = "reddit/rate_limited.json", times = 1,
        headers = { ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = "5", ["x-ratelimit-used"] = "100" } },
      { path = "/r/devops/search.json", query = { after = false }, fixture = "reddit/page1.json",
        headers = { ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = "7" } },
      { path = "/r/devops/search.json", fixture = "reddit/page2.json" },
    }
    local posts = assert(fetch("reddit", { keywords = { "flaky" }, subreddits = { "devops" }, base_url = fake.url }))
    fake.close()
    T.eq({ #posts, #fake.requests, waits }, { 3, 3, { 5, 7 } })
  end)
end)

---------------------------------------------------------------- Stack Exchange

T.test("stackexchange: site, tags, body filter, newest first; has_more pages with backoff honoured; reputation levels", function()
  with_kit({}, function(waits)
    local fake = Fake.start {
      { path = "/2.3/search/advanced", query = { page = "1" }, fixture = "stackexchange/page1_backoff.json" },
      { path = "/2.3/search/advanced", query = { page = "2" }, fixture = "stackexchange/page2.json" },
    }
    local posts = assert(fetch("stackexchange", { keywords = { "flaky pipeline" }, site = "stackoverflow",
      tags = { "kubernetes", "continuous-integration" }, since = "2024-05-01T00:00:00Z", base_url = fake.url .. "/2.3" }))
    fake.close()
    T.eq(waits, { 2 }, "backoff: 2 seconds before the next call")
    local q = fake.requests[1].query
    T.eq({ q.site, q.q, q.tagged, q.filter, q.sort, q.order, q.pagesize, q.fromdate, q.key },
      { "stackoverflow", "flaky pipeline", "kubernetes;continuous-integration", "withbody", "creation", "desc", "50", "1714521600", nil })
    T.eq(ids(posts), { "stackexchange:stackoverflow:78451234", "stackexchange:stackoverflow:78440001",
                       "stackexchange:stackoverflow:78420003" })
    T.eq(posts[1], {
      source_type = "stackexchange", source_id = "stackexchange:stackoverflow:78451234",
      url = "https://stackoverflow.com/questions/78451234/jenkins-pipeline-randomly-fails-with-quot-agent-went-offline-quot",
      title = "Jenkins pipeline randomly fails with \"agent went offline\" – why doesn't retry help?",
      content = "About 1 in 10 builds fails with:\n\nERROR: agent went offline during the build\nFATAL: command execution failed"
        .. "\n\nI added retry(3) but the retries fail the same way. Builds with <5 min runtime never fail.",
      author = "Priya & Co", author_level = "beginner", posted_at = "2024-05-10T16:45:12.000Z",
      metadata = { site = "stackoverflow", score = 2, answers = 0, views = 87, answered = false, accepted_answer = false,
                   reputation = 45, tags = { "jenkins", "continuous-integration", "flaky-tests" } },
    })
    T.eq({ posts[2].author_level, posts[3].author_level }, { "expert", "beginner" }, "23,456 reputation; unregistered")
  end)
end)

T.test("stackexchange: tags alone need no keywords; neither is a config error; the key comes from the environment", function()
  with_kit({ env = { STACKEXCHANGE_KEY = "se-key" } }, function()
    local fake = Fake.start { { path = "/2.3/search/advanced", fixture = "stackexchange/empty.json" } }
    assert(fetch("stackexchange", { tags = { "helm" }, site = "serverfault", base_url = fake.url .. "/2.3" }))
    fake.close()
    local q = fake.requests[1].query
    T.eq({ q.q, q.tagged, q.site, q.key }, { nil, "helm", "serverfault", "se-key" })
    local _, err = fetch("stackexchange", {})
    T.eq(err.kind, "config")
    T.contains(err.message, "stackexchange: no keywords and no tags to search for")
  end)
end)

T.test("stackexchange: no quota left stops the paging; throttle_violation is a rate limit with its wait", function()
  with_kit({}, function(waits)
    local spent = json.decode(Fake.fixture("stackexchange/page1.json"))
    spent.quota_remaining = 0
    local fake = Fake.start {
      { path = "/2.3/search/advanced", query = { q = "quota" }, body = json.encode(spent) },
      { path = "/2.3/search/advanced", status = 400, fixture = "stackexchange/throttle.json" },
    }
    local posts = assert(fetch("stackexchange", { keywords = { "quota" }, base_url = fake.url .. "/2.3" }))
    T.eq({ #posts, #fake.requests }, { 2, 1 })
    local _, err = fetch("stackexchange", { keywords = { "other" }, base_url = fake.url .. "/2.3" })
    fake.close()
    T.eq({ err.kind, err.retry_after, waits }, { "rate_limited", 82524, {} })
    T.contains(err.message, "more requests available in 82524 seconds (throttle_violation)")
  end)
end)

---------------------------------------------------------------- GitHub

local function github_pages()
  return Fake.start {
    { path = "/search/issues", query = { page = "2" }, fixture = "github/page2.json" },
    { path = "/search/issues", fixture = "github/page1.json", headers = {
      Link = '<{{base}}/search/issues?q=flaky+is%3Aissue&sort=created&order=desc&per_page=50&page=2>; rel="next", '
        .. '<{{base}}/search/issues?q=flaky+is%3Aissue&sort=created&order=desc&per_page=50&page=2>; rel="last"' } },
  }
end

T.test("github: the Link header's next page followed; bots skipped; author_association levels; Markdown tidied", function()
  with_kit({}, function()
    local fake = github_pages()
    local posts = assert(fetch("github", { keywords = { "flaky" }, base_url = fake.url }))
    fake.close()
    T.eq(#fake.requests, 2)
    local q = fake.requests[1].query
    T.eq({ q.q, q.sort, q.order, q.per_page, q.page }, { "flaky is:issue", "created", "desc", "50", nil })
    T.eq(fake.requests[2].query.page, "2")
    T.eq(ids(posts), { "github:acme/ci-runner#812", "github:acme/ci-runner#790", "github:other/tool#77" })
    T.eq(posts[1], {
      source_type = "github", source_id = "github:acme/ci-runner#812", url = "https://github.com/acme/ci-runner/issues/812",
      title = "Runner hangs forever when the cache server is unreachable",
      content = "### What happened\n\nThe job sat at `Restoring cache...` for **6 hours** until the global timeout killed it."
        .. "\n\n### Expected\n\nFail after 30s and carry on without the cache.",
      author = "first-timer-fran", author_level = "beginner", posted_at = "2024-05-10T16:45:12.000Z",
      metadata = { repo = "acme/ci-runner", state = "open", comments = 5, labels = { "bug", "needs triage" }, reactions = 9,
                   association = "FIRST_TIME_CONTRIBUTOR" },
    })
    T.eq({ posts[2].title, posts[2].content, posts[2].author_level }, { 'Document how to debug "exit code 137" in jobs', "", "expert" })
    T.eq(posts[3].author_level, "practitioner")
  end)
end)

T.test("github: the token is sent as a Bearer header only when GITHUB_TOKEN is set; qualifiers built from the config", function()
  local fake = Fake.start { { path = "/search/issues", fixture = "github/empty.json" } }
  local config = { keywords = { "flaky" }, base_url = fake.url, repos = { "acme/ci-runner", "other/tool" },
                   labels = { "needs triage" }, state = "open", since = "2024-05-01T00:00:00Z" }
  with_kit({}, function() assert(fetch("github", config)) end)
  with_kit({ env = { GITHUB_TOKEN = "" } }, function() assert(fetch("github", config)) end)
  with_kit({ env = { GITHUB_TOKEN = "ghp_test123" } }, function() assert(fetch("github", config)) end)
  fake.close()
  local h1, h2, h3 = fake.requests[1].headers, fake.requests[2].headers, fake.requests[3].headers
  T.eq({ h1.authorization, h2.authorization, h3.authorization }, { nil, nil, "Bearer ghp_test123" })
  T.eq({ h1.accept, h1["x-github-api-version"] }, { "application/vnd.github+json", "2022-11-28" })
  T.eq(fake.requests[1].query.q,
    'flaky is:issue repo:acme/ci-runner repo:other/tool label:"needs triage" state:open created:>2024-05-01T00:00:00Z')
end)

T.test("github: 403 with x-ratelimit-remaining 0 waits until x-ratelimit-reset, or reports it; other 403s are refusals", function()
  local now = 1715400000
  with_kit({ now = now }, function(waits)
    local fake = Fake.start {
      { path = "/search/issues", query = { q = "soon is:issue" }, status = 403, fixture = "github/rate_limited.json", times = 1,
        headers = { ["x-ratelimit-limit"] = "10", ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = tostring(now + 10),
                    ["x-ratelimit-resource"] = "search" } },
      { path = "/search/issues", query = { q = "later is:issue" }, status = 403, fixture = "github/rate_limited.json",
        headers = { ["x-ratelimit-remaining"] = "0", ["x-ratelimit-reset"] = tostring(now + 3600) } },
      { path = "/search/issues", query = { q = "burst is:issue" }, status = 403, fixture = "github/secondary_limit.json",
        headers = { ["retry-after"] = "60" } },
      { path = "/search/issues", query = { q = "private is:issue" }, status = 403,
        body = '{"message": "Resource not accessible by integration", "documentation_url": "https://docs.github.com"}' },
      { path = "/search/issues", fixture = "github/empty.json" },
    }
    local function run(k) return fetch("github", { keywords = { k }, base_url = fake.url }) end
    T.eq({ run("soon") }, { {} })
    T.eq(waits, { 10 })
    local _, later = run("later")
    T.eq({ later.kind, later.retry_after }, { "rate_limited", 3600 })
    T.contains(later.message, "API rate limit exceeded for 127.0.0.1")
    local _, burst = run("burst")
    T.eq({ burst.kind, burst.retry_after }, { "rate_limited", 60 })
    T.contains(burst.message, "secondary rate limit")
    local _, refused = run("private")
    fake.close()
    T.eq({ refused.kind, refused.status }, { "http", 403 })
    T.contains(refused.message, "Resource not accessible by integration")
    T.eq(waits, { 10 }, "nothing more was waited")
  end)
end)

---------------------------------------------------------------- Discourse

T.test("discourse: without base_url a config error naming it", function()
  local posts, err = fetch("discourse", { keywords = { "flaky" } })
  T.eq({ posts, err.kind }, { nil, "config" })
  T.contains(err.message, "discourse: \"base_url\" is required")
end)

T.test("discourse: posts joined with their topics, pages until more_full_page_results ends, trust levels", function()
  with_kit({}, function()
    local fake = Fake.start {
      { path = "/forum/search.json", query = { page = "2" }, fixture = "discourse/page2.json" },
      { path = "/forum/search.json", query = { page = false }, fixture = "discourse/page1.json" },
    }
    local base = fake.url .. "/forum/"
    local posts = assert(fetch("discourse", { keywords = { "flaky deploys" }, base_url = base }))
    fake.close()
    T.eq(#fake.requests, 2)
    T.eq(fake.requests[1].query.q, "flaky deploys order:latest")
    local host = fake.url:match("//(.*)$")
    T.eq(ids(posts), { "discourse:" .. host .. ":1234501", "discourse:" .. host .. ":1234502", "discourse:" .. host .. ":1234400" })
    T.eq(posts[1], {
      source_type = "discourse", source_id = "discourse:" .. host .. ":1234501",
      url = fake.url .. "/forum/t/deploys-fail-randomly-after-3-2-upgrade/98765/3",
      title = "Deploys <fail> randomly after 3.2 upgrade",
      content = "...after the upgrade our flaky deploys got worse & the rollback took 2 hours...",
      author = "sam_ops", author_level = "beginner", posted_at = "2024-05-10T15:30:00.000Z",
      metadata = { forum = host, topic_id = 98765, post_number = 3, likes = 4, category_id = 5, tags = { "deploy", "upgrade" },
                   replies = 6, posts = 9, trust_level = 1 },
    })
    T.eq({ posts[2].author_level, posts[3].author_level }, { "expert", "unknown" }, "trust level 4; none sent")
  end)
end)

T.test("discourse: categories, tags and since go into the query; extras.wait_seconds is waited out", function()
  with_kit({}, function(waits)
    local fake = Fake.start {
      { path = "/search.json", status = 429, fixture = "discourse/rate_limited.json", times = 1 },
      { path = "/search.json", fixture = "discourse/empty.json" },
    }
    assert(fetch("discourse", { keywords = { "flaky" }, base_url = fake.url, categories = { "support", "bugs" },
                                tags = { "deploy", "ci" }, since = "2024-05-01T12:00:00Z" }))
    fake.close()
    T.eq(waits, { 3 })
    T.eq(fake.requests[2].query.q, "flaky order:latest #support tags:deploy,ci after:2024-05-01")
    T.eq(fake.requests[3].query.q, "flaky order:latest #bugs tags:deploy,ci after:2024-05-01")
  end)
end)

T.test("discourse: a search error in a 200 reply fails the fetch with the forum's words", function()
  with_kit({}, function()
    local doc = json.decode(Fake.fixture("discourse/empty.json"))
    doc.grouped_search_result.error = "The search is not available right now: the site is under extreme load."
    local fake = Fake.start { { path = "/search.json", body = json.encode(doc) } }
    local _, err = fetch("discourse", { keywords = { "flaky" }, base_url = fake.url })
    fake.close()
    T.eq(err.kind, "http")
    T.contains(err.message, "discourse: the forum's search failed: The search is not available right now")
  end)
end)

---------------------------------------------------------------- pagination failures

T.test("a page that fails after others succeeded fails the fetch and keeps what came before in err.posts", function()
  with_kit({}, function()
    local fake = Fake.start {
      { path = "/api/v1/search_by_date", query = { page = "1" }, status = 503, body = '{"message": "upstream timeout", "status": 503}' },
      { path = "/api/v1/search_by_date", fixture = "hn/page1.json" },
    }
    local posts, err = fetch("hn", { keywords = { "flaky ci" }, base_url = fake.url .. "/api/v1" })
    fake.close()
    T.eq({ posts, err.kind, err.status }, { nil, "http", 503 })
    T.contains(err.message, "hn: HTTP 503 from " .. fake.url .. "/api/v1/search_by_date: upstream timeout")
    T.eq(ids(err.posts), { "hn:40100001", "hn:40100007" })
  end)
end)

T.test("rate-limit waits are bounded: a server that keeps answering 'retry after 0' is reported, not retried forever", function()
  with_kit({}, function(waits)
    local fake = Fake.start { { path = "/search.json", status = 429, headers = { ["Retry-After"] = "0" }, body = "{}" } }
    local _, err = fetch("discourse", { keywords = { "x" }, base_url = fake.url })
    fake.close()
    T.eq({ err.kind, #fake.requests }, { "rate_limited", kit.max_retries + 1 })
    T.eq(#waits, 0, "a zero wait sleeps not at all")
  end)
end)

---------------------------------------------------------------- the web source

local function fake_llm(answer)
  local calls = {}
  local fn = function(tier, req)
    calls[#calls + 1] = { tier = tier, req = req }
    if type(answer) == "function" then return answer(tier, req) end
    return { text = json.encode(answer), json = answer, sources = {}, provider = "fake" }
  end
  return fn, calls
end

T.test("web: one grounded research call with the prompt file's words; the JSON answer becomes checked posts", function()
  local answer = json.decode(Fake.fixture("web/answer.json"))
  local llm, calls = fake_llm(answer)
  local posts = assert(fetch("web", { keywords = { "flaky CI", "slow builds" }, since = "2024-01-01T00:00:00Z",
                                      sites = { "lobste.rs" } }, { llm = llm, now = "2024-05-11T09:00:00.000Z" }))
  T.eq(#calls, 1)
  local req = calls[1].req
  T.eq({ calls[1].tier, req.json, req.grounding, req.purpose }, { "research", true, true, "discovery:web" })
  T.contains(req.system, "Search the web")
  T.contains(req.prompt, "flaky CI\nslow builds")
  T.contains(req.prompt, "Today is 2024-05-11. Return at most 50 posts.")
  T.contains(req.prompt, "Only posts written after 2024-01-01.")
  T.contains(req.prompt, "Look first on these sites: lobste.rs.")
  T.eq(ids(posts), { "web:https://lobste.rs/s/abc123/flaky_ci#c_def456", "web:https://discuss.example.dev/t/ci-slow/55" },
    "a post without a real URL and one older than since are dropped; the undated one comes last")
  T.eq(posts[1], {
    source_type = "web", source_id = "web:https://lobste.rs/s/abc123/flaky_ci#c_def456",
    url = "https://lobste.rs/s/abc123/flaky_ci#c_def456", title = "What is your flaky CI horror story?",
    content = "Our merge queue rejects about a third of PRs for failures that vanish on retry.\n\nWe lose a day a week to it.",
    author = "qa_quinn", author_level = "unknown", posted_at = "2024-05-10T00:00:00.000Z",
    metadata = { site = "lobste.rs", via = "grounded web search" },
  })
  T.eq({ posts[2].posted_at, posts[2].author }, { nil, "" })
  local two = assert(fetch("web", { keywords = { "x" }, limit = 1 }, { llm = llm, purpose_prefix = "test" }))
  T.eq({ #two, calls[2].req.purpose }, { 1, "test:web" })
  T.ok(not calls[2].req.prompt:find("Only posts written after", 1, true), "no since, no since line")
end)

T.test("web: no LLM layer is a config error; the layer's failures keep their kind; an answer of the wrong shape is malformed", function()
  local _, err = fetch("web", { keywords = { "x" } }, {})
  T.eq(err.kind, "config")
  T.contains(err.message, "web: needs the LLM layer")
  local limited = fake_llm(function() return nil, { kind = "http", status = 429, retry_after = 20, message = "quota exhausted" } end)
  _, err = fetch("web", { keywords = { "x" } }, { llm = limited })
  T.eq({ err.kind, err.retry_after }, { "rate_limited", 20 })
  T.contains(err.message, "web: the research call failed: quota exhausted")
  local bad_json = fake_llm(function() return nil, { kind = "json", message = "the answer is not valid JSON" } end)
  _, err = fetch("web", { keywords = { "x" } }, { llm = bad_json })
  T.eq(err.kind, "malformed")
  local raises = fake_llm(function() error("no key for gemini", 0) end)
  _, err = fetch("web", { keywords = { "x" } }, { llm = raises })
  T.eq(err.kind, "http")
  T.contains(err.message, "no key for gemini")
  local wrong = fake_llm { discussions = {} }
  local ok, werr = fetch("web", { keywords = { "x" } }, { llm = fake_llm { posts = "none" } })
  T.eq({ ok, werr.kind }, { nil, "malformed" })
  T.eq({ fetch("web", { keywords = { "x" } }, { llm = wrong }) }, { {} }, "an object without posts is no posts")
end)
