-- Gemini Deep Research: a research task an agent runs through the Interactions
-- API, started in the background and polled until it ends (minutes, often).
-- call(cfg, req) -> result | nil, err with the shared shapes (candor.llm.provider);
-- cfg.model is the agent. req as for every provider (system, prompt, json,
-- schema, timeout_ms per request), plus
--   poll = {first_ms = 2000, max_ms = 30000}: the wait before each poll, doubling;
--   deadline_ms (30 minutes): past it a "timeout" error, not retryable, and the
--     interaction is cancelled so it stops costing;
--   on_progress = fn{status, elapsed_ms, polls, id}: after each poll answered.
-- The result cites the URLs of the report's annotations as sources.
local json = require "candor.json"
local host = require "core.host"
local async = require "candor.async"
local P = require "candor.llm.provider"

-- poll_retries: polls that fail in a row (in transit, or with a status worth a
-- retry) before the research is given up; one lost poll must not throw away
-- minutes of research.
local M = { name = "deep_research", poll_retries = 5 }

M.defaults = { first_ms = 2000, max_ms = 30000, deadline_ms = 30 * 60 * 1000 }

-- Statuses that advance on their own; every other one ends the polling.
local RUNNING = { in_progress = true, queued = true }

local function interactions(cfg)
  return (cfg.base_url or "https://generativelanguage.googleapis.com"):gsub("/+$", "") .. "/v1beta/interactions"
end

-- One exchange with the Interactions API -> the interaction | nil, err.
local function exchange(cfg, method, url, body, timeout_ms, purpose)
  local headers = { ["Content-Type"] = "application/json" }
  if cfg.api_key and cfg.api_key ~= "" then headers["x-goog-api-key"] = cfg.api_key end
  local resp, e = P.post { method = method, url = url, headers = headers, body = body, timeout_ms = timeout_ms,
                           purpose = purpose }
  if not resp then return nil, e end
  local ok, obj = pcall(json.decode, resp)
  if not ok or type(obj) ~= "table" or type(obj.status) ~= "string" then
    return nil, P.err("malformed", "the response is not an interaction", { raw = resp, retryable = true })
  end
  return obj
end

-- The agent takes one input; whether it honours a system instruction is not
-- documented, so the system prompt (and any JSON ask) leads the input instead.
local function input(req)
  local text = req.prompt
  if not text and req.messages then
    local parts = {}
    for _, m in ipairs(req.messages) do parts[#parts + 1] = m.content end
    text = table.concat(parts, "\n\n")
  end
  local system = req.json and P.json_instruction(req.system, req.schema) or req.system
  return system and (system .. "\n\n" .. (text or "")) or (text or "")
end

-- Best effort, after giving up: the research would go on (and cost) without us.
local function give_up(cfg, id, e)
  exchange(cfg, "POST", interactions(cfg) .. "/" .. id .. "/cancel", "", 10000)
  e.id = id
  return e
end

-- Polls until the interaction leaves the running statuses -> it | nil, err.
local function wait(cfg, req, it, t0)
  local poll = req.poll or {}
  local delay, max_ms = poll.first_ms or M.defaults.first_ms, poll.max_ms or M.defaults.max_ms
  local deadline = req.deadline_ms or M.defaults.deadline_ms
  local id, polls, failures = it.id, 0, 0
  local function left() return deadline - math.floor((host.clock() - t0) * 1000) end
  local function timed_out()
    return give_up(cfg, id, P.err("timeout", string.format("the research did not finish within %g s (status %s after %d polls)",
      deadline / 1000, it.status, polls), { retryable = false }))
  end
  while RUNNING[it.status] do
    if left() <= 0 then return nil, timed_out() end
    async.sleep(math.min(delay, left()))
    delay = math.min(delay * 2, max_ms)
    if left() <= 0 then return nil, timed_out() end
    polls = polls + 1
    local obj, e = exchange(cfg, "GET", interactions(cfg) .. "/" .. id, nil,
      math.min(req.timeout_ms or cfg.timeout_ms or 60000, left()))
    if obj then
      it, failures = obj, 0
      it.id = it.id or id
      if req.on_progress then
        req.on_progress { status = it.status, elapsed_ms = deadline - left(), polls = polls, id = id }
      end
    elseif e.retryable and failures < M.poll_retries then
      failures = failures + 1
    else
      return nil, give_up(cfg, id, e)
    end
  end
  return it
end

-- The report: the last text the interaction output (outputs[], or the content
-- of its model_output steps in the API's newer shape), with its annotations.
local function report(it)
  local last
  local function take(items)
    local texts, notes = {}, {}
    for _, c in ipairs(items) do
      if type(c) == "table" and type(c.text) == "string" and (c.type == nil or c.type == "text") then
        texts[#texts + 1] = c.text
        for _, a in ipairs(type(c.annotations) == "table" and c.annotations or {}) do notes[#notes + 1] = a end
      end
    end
    if #texts > 0 then last = { text = table.concat(texts), annotations = notes } end
  end
  if type(it.outputs) == "table" then
    for _, o in ipairs(it.outputs) do take { o } end
  elseif type(it.steps) == "table" then
    for _, s in ipairs(it.steps) do
      if type(s) == "table" and s.type == "model_output" and type(s.content) == "table" then take(s.content) end
    end
  end
  return last or { text = "", annotations = {} }
end

-- Annotations cite a URL (url_citation) or, in the older shape, a source that
-- may be a URL, a title or another identifier: only URLs are sources here.
local function cited(annotations)
  local out = {}
  for _, a in ipairs(annotations) do
    if type(a) == "table" then
      local url = type(a.url) == "string" and a.url
        or (type(a.source) == "string" and a.source:match("^https?://") and a.source) or nil
      out[#out + 1] = { url = url, title = a.title }
    end
  end
  return P.sources(out)
end

local function failure_message(e)
  if type(e) == "table" then return tostring(e.message or json.encode(e)) end
  return e and tostring(e) or "no reason given"
end

local function conclude(cfg, req, it, t0)
  local status = it.status
  if status == "completed" then
    local r = report(it)
    local u = type(it.usage) == "table" and it.usage or {}
    -- nothing streams from a background task: a caller that asked gets the report at once
    if req.stream and req.on_text and r.text ~= "" then req.on_text(r.text) end
    return P.finish { provider = M.name, text = r.text, finish_reason = "stop",
      input_tokens = u.total_input_tokens, output_tokens = (u.total_output_tokens or 0) + (u.total_thought_tokens or 0),
      model = it.agent or cfg.model, t0 = t0, json = req.json, sources = cited(r.annotations) }
  end
  -- a failed research is not retried here: a rerun costs the whole research again
  if status == "failed" then
    local msg = failure_message(it.error)
    local kind = (msg:lower():find("safety") or msg:lower():find("block")) and "blocked" or "http"
    return nil, P.err(kind, "the research failed: " .. msg,
      { id = it.id, code = type(it.error) == "table" and it.error.code or nil, raw = json.encode(it) })
  end
  if status == "incomplete" or status == "budget_exceeded" then
    return nil, P.err("truncated", "the research ended " .. status:gsub("_", " "), { id = it.id, raw = report(it).text })
  end
  if status == "cancelled" then return nil, P.err("http", "the research was cancelled", { id = it.id }) end
  return nil, P.err("http", string.format("the research stopped with status '%s', which Candor cannot continue", status),
    { id = it.id, raw = json.encode(it) })
end

function M.call(cfg, req)
  local t0 = host.clock()
  local it, e = exchange(cfg, "POST", interactions(cfg),
    json.encode_wire { agent = cfg.model, input = input(req), background = true },
    req.timeout_ms or cfg.timeout_ms or 60000)
  if not it then return nil, e end
  if type(it.id) ~= "string" then
    return nil, P.err("malformed", "the started interaction has no id", { raw = json.encode(it), retryable = true })
  end
  it, e = wait(cfg, req, it, t0)
  if not it then return nil, e end
  return conclude(cfg, req, it, t0)
end

return M
