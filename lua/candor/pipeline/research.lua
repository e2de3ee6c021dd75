-- Research steps, run once per job: product insights from the documents, banned
-- phrases per voice, community evidence, competitive positioning. Each renders
-- its prompt file, calls a tier, checks the JSON and returns plain tables, plus
-- a formatter that turns the result into the text later prompts receive.
local text = require "candor.text"

local M = {}

-- Which tier each step asks (a prompt engineer may point a step elsewhere).
M.tiers = { insights = "pro", banned_words = "flash", community_evidence = "research", competitive = "research" }

local function list_of(v) return type(v) == "table" and v or {} end

local function text_of(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(v) end
  return ""
end

-- "- " lines from a list of strings, or "" for none.
function M.bullets(items)
  local out = {}
  for _, s in ipairs(items or {}) do
    if type(s) == "string" and s:match("%S") then out[#out + 1] = "- " .. s end
  end
  return table.concat(out, "\n")
end

---------------------------------------------------------------- budgets

-- What the pain and the documents may take of a prompt, in tokens: the
-- settings, or their seeded values when unset (or not a whole number above 0).
M.default_budgets = { pain_context_tokens = 6000, document_context_tokens = 24000 }

-- budgets(db) -> {pain =, documents =}
function M.budgets(db)
  local S = require "candor.repo.settings"
  local function budget(key) return S:whole_number(db, key, M.default_budgets[key]) end
  return { pain = budget("pain_context_tokens"), documents = budget("document_context_tokens") }
end

-- within(s, room, what, why) -> s when it fits in room bytes, else its opening
-- and a note saying how much of `what` is left out and why: the model (and
-- whoever reads the logged prompt) must not take an opening for the whole. The
-- note is a line of its own, but a one-line text (a title) stays one line.
function M.within(s, room, what, why)
  local shown, left_out = text.opening(s, room)
  if left_out == 0 then return s end
  return string.format("%s%s[... %d more bytes of %s (about %d tokens) left out here: %s]", shown,
    s:find("\n", 1, true) and "\n" or " ", left_out, what, left_out // text.bytes_per_token, why)
end

-- prompt_pain(pain, budget) -> the pain row as prompts see it: a copy whose
-- title and content together fit in budget tokens (the title at most half),
-- each cut by within. The stored row keeps all of its text.
function M.prompt_pain(pain, budget)
  local room = budget * text.bytes_per_token
  local title, content = pain.title or "", pain.content or ""
  if #title + #content <= room then return pain end
  local why = string.format("the pain_context_tokens budget is %d tokens", budget)
  local copy = {}
  for k, v in pairs(pain) do copy[k] = v end
  copy.title = M.within(title, room // 2, "the pain point's title", why)
  copy.content = M.within(content, math.max(room - #copy.title, 0), "the pain point", why)
  return copy
end

-- shares(sizes, room) -> how many of room's bytes each text of sizes[i] bytes
-- gets: an equal share each, what a shorter one leaves going to the longer ones.
function M.shares(sizes, room)
  local order = {}
  for i = 1, #sizes do order[i] = i end
  table.sort(order, function(a, b) return sizes[a] < sizes[b] end)
  local share, left = {}, room
  for n, i in ipairs(order) do
    share[i] = math.min(sizes[i], left // (#sizes - n + 1))
    left = left - share[i]
  end
  return share
end

-- documents_text(documents, room, why, heading) -> each document as
-- heading:format(name) and its content, all the contents within room bytes:
-- an equal share each, where what a shorter one leaves goes to the longer ones,
-- so every document is seen; a cut one says how much is left out and why.
function M.documents_text(documents, room, why, heading)
  local sizes = {}
  for i, d in ipairs(documents) do sizes[i] = #d.content end
  local share = M.shares(sizes, room)
  local parts = {}
  for i, d in ipairs(documents) do parts[i] = heading:format(d.name) .. M.within(d.content, share[i], d.name, why) end
  return table.concat(parts, "\n\n")
end

---------------------------------------------------------------- pain

-- The pain point's variables for every prompt.
function M.pain_vars(pain)
  local quotes = {}
  for _, q in ipairs(list_of(pain.practitioner_quotes)) do
    quotes[#quotes + 1] = type(q) == "table" and text_of(q.quote or q.text) or text_of(q)
  end
  return {
    pain_title = pain.title, pain_content = pain.content, pain_author = pain.author or "",
    pain_source_url = pain.source_url or "", pain_quotes = M.bullets(quotes),
  }
end

---------------------------------------------------------------- insights

-- insights(run) -> {capabilities, differentiators, proof_points, limits, unanswered}
-- With no documents there is nothing to extract: an empty set, no call.
function M.insights(run)
  local empty = { capabilities = {}, differentiators = {}, proof_points = {}, limits = {}, unanswered = {}, documents = 0 }
  if #run.documents == 0 then return empty end
  local budget = run.budgets.documents
  local vars = M.pain_vars(run.pain)
  vars.documents = M.documents_text(run.documents, budget * text.bytes_per_token,
    string.format("the documents share the document_context_tokens budget of %d tokens", budget), "## %s\n\n")
  local r = run.llm(M.tiers.insights, "pipeline/insights", vars, { json = true, purpose = "research:insights" })
  local v = type(r.json) == "table" and r.json or {}
  local out = { documents = #run.documents }
  for _, k in ipairs { "capabilities", "differentiators", "proof_points", "limits", "unanswered" } do out[k] = list_of(v[k]) end
  return out
end

local function field(item, ...)
  if type(item) ~= "table" then return text_of(item) end
  for _, k in ipairs { ... } do
    local s = text_of(item[k])
    if s ~= "" then return s end
  end
  return ""
end

-- The insights as prompt text. detail = "full" (with sources and details) or
-- "brief" (names and claims only), for prompts that need less.
function M.format_insights(ins, detail)
  if (ins.documents or 0) == 0 then return "(no product documents were given: make no product claims beyond the pain point)" end
  local full = detail ~= "brief"
  local out = {}
  local function section(title, items, main, extra, src)
    if #items == 0 then return end
    out[#out + 1] = title .. ":"
    for _, it in ipairs(items) do
      local line = "- " .. field(it, main)
      local more = full and field(it, extra) or ""
      if more ~= "" then line = line .. ": " .. more end
      local source = full and src and field(it, src) or ""
      if source ~= "" then line = line .. " [" .. source .. "]" end
      out[#out + 1] = line
    end
  end
  section("Capabilities", ins.capabilities, "name", "detail", "source")
  section("Differentiators", ins.differentiators, "name", "detail", "source")
  section("Proof points", ins.proof_points, "claim", "evidence", "source")
  section("Limits (say them)", ins.limits, "limit", "detail")
  if #out == 0 then return "(the documents gave no usable product facts)" end
  return table.concat(out, "\n")
end

---------------------------------------------------------------- banned words

-- banned_words(run, voice) -> phrases, fallback_reason|nil. The LLM proposes
-- phrases this audience distrusts (answers are cached by request, so by voice and
-- pain); when that call fails the voice's and settings' lists stand alone.
function M.banned_words(run, voice)
  local vars = M.pain_vars(run.pain)
  vars.voice_name, vars.voice_guide = voice.name, voice.voice_guide
  local ok, r = pcall(run.llm, M.tiers.banned_words, "pipeline/banned_words", vars,
    { json = true, purpose = "research:banned-words:" .. voice.slug, cache = run.cache })
  if not ok then
    if require("candor.async").cancelled() then error(r, 0) end   -- the job is stopping: no fallback
    return {}, tostring(type(r) == "table" and r.message or r)
  end
  local phrases = {}
  for _, p in ipairs(list_of(type(r.json) == "table" and r.json.phrases)) do
    if type(p) == "string" and p:match("%S") and #p <= 80 then phrases[#phrases + 1] = p:match("^%s*(.-)%s*$") end
  end
  return phrases
end

---------------------------------------------------------------- community evidence

local function host_of(url)
  local h = type(url) == "string" and url:match("^%a[%w+.-]*://([^/?#:]+)")
  return h and h:lower():gsub("^www%.", "") or nil
end

-- Evidence level from the URLs found: strong = at least 3 source URLs from at
-- least 2 different sites; partial = at least 1; product-only = none.
function M.evidence_level(urls)
  local seen, sites, n = {}, {}, 0
  for _, u in ipairs(urls) do
    if not seen[u.url] then
      seen[u.url] = true
      n = n + 1
      if u.site then sites[u.site] = true end
    end
  end
  local site_count = 0
  for _ in pairs(sites) do site_count = site_count + 1 end
  if n >= 3 and site_count >= 2 then return "strong" end
  if n >= 1 then return "partial" end
  return "product-only"
end

-- community_evidence(run) -> {discussions = {{url, site, title, quote, author, summary}},
--   sources = {{url, title}}, summary, level, quotes = {...}}
-- Every quote and URL is kept; nothing is cut to fit a budget.
function M.community_evidence(run)
  local r = run.llm(M.tiers.community_evidence, "pipeline/community_evidence", M.pain_vars(run.pain),
    { json = true, grounding = true, purpose = "research:community-evidence" })
  local v = type(r.json) == "table" and r.json or {}
  local discussions, urls, quotes = {}, {}, {}
  for _, d in ipairs(list_of(v.discussions)) do
    if type(d) == "table" then
      local url = text_of(d.url)
      local item = { url = url, site = text_of(d.site), title = text_of(d.title), quote = text_of(d.quote),
                     author = text_of(d.author), summary = text_of(d.summary) }
      discussions[#discussions + 1] = item
      if url:match("^https?://") then urls[#urls + 1] = { url = url, site = host_of(url) or item.site } end
      if item.quote ~= "" then quotes[#quotes + 1] = { quote = item.quote, url = url, author = item.author } end
    end
  end
  -- Grounding sources count too: a redirect URL's title names the site it stands for.
  for _, s in ipairs(list_of(r.sources)) do
    if type(s) == "table" and text_of(s.url):match("^https?://") then
      urls[#urls + 1] = { url = s.url, site = (text_of(s.title) ~= "" and s.title:lower()) or host_of(s.url) }
    end
  end
  return { discussions = discussions, sources = list_of(r.sources), summary = text_of(v.summary),
           level = M.evidence_level(urls), quotes = quotes, url_count = #urls }
end

function M.format_evidence(ev)
  if #ev.discussions == 0 then return "" end
  local out = {}
  for _, d in ipairs(ev.discussions) do
    local who = d.author ~= "" and (d.author .. ", ") or ""
    local line = string.format("- %s%s (%s)", who, d.site ~= "" and d.site or (host_of(d.url) or "?"), d.url)
    if d.quote ~= "" then line = line .. "\n  \"" .. d.quote .. "\"" end
    if d.summary ~= "" then line = line .. "\n  " .. d.summary end
    out[#out + 1] = line
  end
  if ev.summary ~= "" then out[#out + 1] = "\nSummary: " .. ev.summary end
  return table.concat(out, "\n")
end

---------------------------------------------------------------- competitive research

-- competitive(run, insights) -> {competitors, summary, sources, raw, id}
function M.competitive(run, insights)
  local vars = M.pain_vars(run.pain)
  vars.insights = M.format_insights(insights or { documents = 0 }, "brief")
  -- run beside the insights step, it has the documents' openings instead
  if (not insights or (insights.documents or 0) == 0) and #run.documents > 0 then
    vars.insights = M.product_brief(run.documents, run.budgets.documents)
  end
  local r = run.llm(M.tiers.competitive, "pipeline/competitive", vars,
    { json = true, grounding = true, purpose = "research:competitive" })
  local v = type(r.json) == "table" and r.json or {}
  return { competitors = list_of(v.competitors), summary = text_of(v.summary), sources = list_of(r.sources),
           raw = r.text, id = r.interaction_id or r.id or "" }
end

-- The product in brief, straight from the documents: about BRIEF_BYTES of
-- each one's opening, within budget tokens for them all.
local BRIEF_BYTES = 2000

function M.product_brief(documents, budget)
  local room = budget * text.bytes_per_token
  local why = string.format("the documents share the document_context_tokens budget of %d tokens", budget)
  if BRIEF_BYTES * #documents < room then room, why = BRIEF_BYTES * #documents, "only their openings are given here" end
  return M.documents_text(documents, room, why, "From %s:\n")
end

function M.format_competitive(c)
  if not c or #c.competitors == 0 then return c and c.summary or "" end
  local out = {}
  for _, comp in ipairs(c.competitors) do
    if type(comp) == "table" then
      local lines = { "- " .. field(comp, "name") .. ": " .. field(comp, "positioning") }
      local wins, short = field(comp, "where_they_win"), field(comp, "where_they_fall_short")
      if wins ~= "" then lines[#lines + 1] = "  where they win: " .. wins end
      if short ~= "" then lines[#lines + 1] = "  where they fall short: " .. short end
      out[#out + 1] = table.concat(lines, "\n")
    end
  end
  if c.summary ~= "" then out[#out + 1] = "Summary: " .. c.summary end
  return table.concat(out, "\n")
end

return M
