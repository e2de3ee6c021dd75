-- What every provider module shares: the error shape, what counts as retryable,
-- and turning an answer into a result (or the error it amounts to).
--   err: {kind = "http"|"timeout"|"network"|"malformed"|"empty"|"blocked"|"truncated"|"json"|"config"
--                |"too_large" (over the input limit: never sent),
--         status, retry_after (seconds), retryable, message, raw}
--   result: {text, json, finish_reason, input_tokens, output_tokens, model, latency_ms, provider,
--            sources = {{url, title}...} and search_queries, from a provider that searched}
local json = require "candor.json"
local host = require "core.host"

local M = {}

function M.err(kind, message, extra)
  local e = extra or {}
  e.kind, e.message = kind, message
  return e
end

-- curl failures: 28 is a timeout; the rest are network trouble worth a retry.
function M.transport_error(message, code)
  if code == 28 then return M.err("timeout", message, { retryable = true }) end
  return M.err("network", message, { retryable = true, code = code })
end

-- An HTTP error status; the message is the provider's own when its body has one
-- ({"error": {"message": ...}}, the shape OpenAI, Anthropic and Gemini share).
function M.http_error(status, headers, body)
  local msg = body and body:sub(1, 500) or ""
  local ok, obj = pcall(json.decode, body or "")
  if ok and type(obj) == "table" and type(obj.error) == "table" and obj.error.message then msg = obj.error.message end
  return M.err("http", string.format("HTTP %d: %s", status, msg), {
    status = status, retry_after = tonumber(headers and headers["retry-after"]),
    retryable = status == 429 or status == 408 or status >= 500, raw = body })
end

-- post(opts, on_event) -> body | nil, err: the HTTP exchange every provider
-- makes. With on_event the body streams as server-sent events, each decoded
-- as JSON and handed to on_event(obj) ("[DONE]" is skipped); the first bytes
-- are kept so an error status still has its message, and an event that is not
-- JSON fails the call as malformed. Returns "" for a stream that went well.
function M.post(opts, on_event)
  local raw, bad_event = {}, nil
  -- What the call is for, so gateways, proxies and the test server can tell calls apart.
  if opts.purpose then
    opts.headers = opts.headers or {}
    opts.headers["X-Candor-Purpose"] = opts.purpose:gsub("[%c]", " ")
  end
  if on_event then
    local parser = require("candor.llm.sse").parser(function(ev)
      if ev.data == "[DONE]" or bad_event then return end
      local ok, obj = pcall(json.decode, ev.data)
      if not ok or type(obj) ~= "table" then bad_event = ev.data return end
      on_event(obj)
    end)
    opts.on_chunk = function(data)
      if #raw < 64 then raw[#raw + 1] = data end   -- an error body arrives here too
      parser:feed(data)
    end
  end
  local status, hdrs, resp = require("candor.http").request(opts)
  if not status then return nil, M.transport_error(hdrs, resp) end
  if on_event then resp = table.concat(raw) end
  if status ~= 200 then return nil, M.http_error(status, hdrs, resp) end
  if bad_event then return nil, M.err("malformed", "a streamed event is not JSON", { raw = bad_event, retryable = true }) end
  return on_event and "" or resp
end

-- For a provider with no JSON mode (or one it cannot use with a request):
-- the system prompt, extended to ask for JSON only.
local JSON_ONLY = "Answer with one JSON value only: no prose, no code fences."

function M.json_instruction(system, schema)
  local ask = JSON_ONLY
  if schema then ask = ask .. " It must match this JSON schema: " .. json.encode(schema) end
  return system and (system .. "\n\n" .. ask) or ask
end

-- sources(list) -> the {url, title} entries with a URL, each URL once (first
-- seen first; a later title fills a missing one): searches cite a page many times.
function M.sources(list)
  local out, at = {}, {}
  for _, s in ipairs(list) do
    local title = type(s.title) == "string" and s.title or nil   -- not JSON null
    if type(s.url) == "string" and s.url ~= "" then
      local i = at[s.url]
      if not i then
        out[#out + 1] = { url = s.url, title = title }
        at[s.url] = #out
      elseif not out[i].title then
        out[i].title = title
      end
    end
  end
  return out
end

-- finish{provider, text, finish_reason ("stop"|"length"|"blocked"), input_tokens,
-- output_tokens, model, t0, json = bool, sources, search_queries} -> result | nil, err.
-- An empty, blocked or truncated answer is never passed on as good text.
function M.finish(a)
  if a.finish_reason == "blocked" then return nil, M.err("blocked", "the provider blocked the answer", { raw = a.text }) end
  if a.finish_reason == "length" then return nil, M.err("truncated", "the answer was cut off at the token limit", { raw = a.text }) end
  if a.text == "" then return nil, M.err("empty", "the provider returned an empty answer", { retryable = true }) end
  local result = {
    text = a.text, finish_reason = a.finish_reason or "stop", provider = a.provider, model = a.model,
    input_tokens = a.input_tokens or 0, output_tokens = a.output_tokens or 0,
    latency_ms = math.floor((host.clock() - a.t0) * 1000 + 0.5),
    sources = a.sources, search_queries = a.search_queries,
  }
  if a.json then
    local value, why = json.try_decode(a.text)
    if value == nil then return nil, M.err("json", "the answer is not valid JSON: " .. why, { raw = a.text, result = result }) end
    result.json = value
  end
  return result
end

return M
