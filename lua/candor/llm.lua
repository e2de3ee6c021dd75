-- Asking a model: a tier resolves through the active profile to a provider and
-- model; the call is retried by policy; every attempt is logged to llm_calls with
-- the session and job of the task that made it (from its context, never passed
-- by hand). A cassette (CANDOR_CASSETTE) or the response cache may answer
-- instead of the provider; a JSON answer that does not parse gets one repair.
local async = require "candor.async"
local host = require "core.host"
local json = require "candor.json"
local profiles = require "candor.llm.profiles"
local retry = require "candor.llm.retry"
local log = require "candor.llm.log"
local P = require "candor.llm.provider"
local request_key = require "candor.llm.request_key"
local cassette = require "candor.llm.cassette"
local cache = require "candor.llm.cache"
local tokens = require("candor.text").tokens

local M = {}

M.providers = {
  openai = function() return require "candor.llm.openai" end,
  anthropic = function() return require "candor.llm.anthropic" end,
  gemini = function() return require "candor.llm.gemini" end,
  deep_research = function() return require "candor.llm.deep_research" end,
}

local function provider_of(target)
  local load = M.providers[target.provider]
  if not load then error(string.format("provider '%s' is not built yet (tier '%s')", target.provider, target.tier), 0) end
  return load()
end

-- check(tiers, opts) -> true: every tier resolves and has its key (raises a
-- clear error otherwise), so a workflow fails before it spends anything.
function M.check(tiers, opts)
  for _, tier in ipairs(tiers) do provider_of(profiles.resolve(tier, opts)) end
  return true
end

local function purpose_of(req) return req.purpose or async.context().purpose or "unspecified" end

-- One llm_calls row. source ("cached" or "replayed") marks an answer that did
-- not come from the provider: its finish reason is the source, with latency 0
-- and no tokens, since nothing was spent (the stored finish reason stays in the
-- result, the cache and the cassette).
local function log_attempt(db, target, req, result, err, t0, source)
  if not db then return end
  local ctx = async.context()
  local now = host.now()
  local spent = result and not source
  log.add(db, {
    session_id = ctx.session_id, job_id = ctx.job_id, timestamp = now, created_at = now,
    model = target.provider .. ":" .. (target.model or ""),
    purpose = purpose_of(req),
    system_prompt = req.system,
    user_prompt = req.prompt or json.encode(req.messages or {}),
    response = result and result.text or (err and err.raw) or nil,
    input_tokens = spent and result.input_tokens or 0,
    output_tokens = spent and result.output_tokens or 0,
    total_tokens = spent and (result.input_tokens + result.output_tokens) or 0,
    latency_ms = source and 0 or result and result.latency_ms or math.floor((host.clock() - t0) * 1000 + 0.5),
    success = result ~= nil,
    error_message = err and err.message or nil,
    finish_reason = source or result and result.finish_reason or (err and err.kind) or nil,
  })
end

-- A shallow copy of t with the fields of changes set.
local function with(t, changes)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  for k, v in pairs(changes) do out[k] = v end
  return out
end

-- What a cassette or the cache keeps of a result: all but the parsed JSON
-- (parsed again when replayed, so an invalid answer fails the same way), the
-- latency and the marks of a replay.
local NOT_STORED = { json = true, latency_ms = true, cached = true, replayed = true }

local function stored(result)
  local out = {}
  for k, v in pairs(result) do if not NOT_STORED[k] then out[k] = v end end
  return out
end

-- A stored answer handed back as the provider's would be, with no wait: its
-- pieces to on_text in order, JSON parsed, marked result[source] = true.
local function replay(req, entry, source)
  if req.stream and req.on_text then
    for _, piece in ipairs(entry.chunks or { entry.response.text }) do req.on_text(piece) end
  end
  local r = entry.response
  local result, err = P.finish { provider = r.provider, text = r.text, finish_reason = r.finish_reason,
    input_tokens = r.input_tokens, output_tokens = r.output_tokens, model = r.model, t0 = host.clock(), json = req.json }
  local out = result or err.result
  if out then
    for k, v in pairs(r) do if out[k] == nil then out[k] = v end end
    out.latency_ms, out[source] = 0, true
  end
  return result, err
end

-- The provider's answer: a place from the limiter, retries by policy, every
-- attempt logged. -> result | nil, err; and the pieces the answering attempt
-- streamed (for a cassette), when req.stream.
local function fetch(target, req, opts)
  local provider = provider_of(target)
  local limiter = require("candor.llm.limit").for_provider(target.provider, target.limits)
  local chunks
  local result, err = retry.call(function()
    local t0 = host.clock()
    local sent = req
    if req.stream then
      local pieces = {}
      chunks = pieces                 -- a retried stream starts over
      sent = with(req, { on_text = function(piece)
        pieces[#pieces + 1] = piece
        if req.on_text then req.on_text(piece) end
      end })
    end
    local result, err = limiter:run(provider.call, target, sent)
    log_attempt(opts.db, target, req, result, err, t0)
    return result, err
  end, opts.retry or (target.attempts and { attempts = target.attempts }))
  return result, err, chunks
end

-- The request's input as a provider would count it, roughly: system prompt,
-- prompt or messages, and the JSON schema asked for.
local function input_tokens(req)
  local n = tokens(req.system or "") + tokens(req.prompt or "")
  for _, m in ipairs(req.messages or {}) do n = n + tokens(type(m.content) == "string" and m.content or "") end
  if req.schema then n = n + tokens(json.encode(req.schema)) end
  return n
end

-- A request above the target's max_input_tokens -> the error it fails with
-- (kind "too_large", not retryable: it is as large the next time), before it
-- is sent, since a provider would reject it or bill all of it. Like every
-- provider error it leaves naming the target to the caller, which says it once.
local function too_large(target, req)
  local n, limit = input_tokens(req), target.max_input_tokens
  if not limit or n <= limit then return nil end
  return P.err("too_large", string.format(
    "the request is about %d input tokens, over the limit of %d; nothing was sent: send less text, or raise %s",
    n, limit, target.max_input_tokens_from or "the llm_max_input_tokens setting"),
    { retryable = false, input_tokens = n, limit = limit })
end

-- A stored answer for this request: the cassette's, else the cache's ->
-- entry, source ("replayed" | "cached") | nil | nil, nil, err (a replay miss).
local function lookup(tape, store, key, req)
  if tape then
    local entry, err = tape:lookup(key, purpose_of(req))
    if entry or err then return entry, "replayed", err end
  end
  local entry = store and store:get(key)
  if entry then return entry, "cached" end
end

-- One request's final outcome: refused when it is too large, replayed from
-- the cassette or the cache when they hold it (no limiter, no retry, no wait),
-- else fetched from the provider. A fetched answer goes into the cassette and
-- (when it succeeded) the cache; a cache hit goes into the cassette too, so a
-- recording holds the whole run. Every request, a JSON repair's too, comes here.
local function answer(target, req, opts)
  local refused = too_large(target, req)
  if refused then return nil, refused end
  local tape, store = cassette.current(), cache.for_call(opts)
  if not tape and not store then return fetch(target, req, opts) end
  local key, normal = request_key.of(target, req)
  local t0 = host.clock()
  local entry, source, miss = lookup(tape, store, key, req)
  if miss then
    log_attempt(opts.db, target, req, nil, miss, t0)
    return nil, miss
  end
  local result, err, chunks
  if entry then
    result, err = replay(req, entry, source)
    log_attempt(opts.db, target, req, result, err, nil, source)
    chunks = entry.chunks
  else
    result, err, chunks = fetch(target, req, opts)
    if result and store then store:put(key, stored(result), chunks) end
  end
  -- an answer that is not the JSON asked for is still an answer: recorded, so
  -- a replay repairs it the same way
  local answered = result or (err.kind == "json" and err.result)
  if tape and answered and source ~= "replayed" then
    tape:record { key = key, purpose = purpose_of(req), provider = target.provider, model = normal.model,
                  request = normal, response = stored(answered), chunks = chunks }
  end
  return result, err
end

-- The parser's complaint about text, as the JSON decoder words it (without
-- the file and line of the Lua code that called it).
local function parse_error(text)
  local value, why = json.try_decode(text or "")
  return value ~= nil and "no error" or why
end

-- One bounded repair of an answer that is not the JSON asked for: the same
-- conversation, the invalid answer as the assistant's turn, and the words of
-- prompts/llm/json_repair.md (a user's copy wins) quoting the parser. Goes
-- through the same path as any call (cassette, cache, limiter, retry, log).
local function repair_json(target, req, opts, first)
  local why = parse_error(first.raw)
  local messages = {}
  for _, m in ipairs(req.messages or { { role = "user", content = req.prompt or "" } }) do messages[#messages + 1] = m end
  messages[#messages + 1] = { role = "assistant", content = first.raw }
  messages[#messages + 1] = { role = "user",
    content = require("candor.prompt").render("llm/json_repair", { error = why }).text:match("^%s*(.-)%s*$") }
  local again = with(req, { messages = messages, purpose = purpose_of(req) .. ":json-repair", repair = false })
  again.prompt = nil
  local result, err = answer(target, again, opts)
  if result then return result end
  local final = with(err, { kind = "json", first_raw = first.raw })
  if err.kind == "json" then
    final.message = "the answer is not valid JSON, even after one repair attempt: " .. parse_error(err.raw)
  else   -- the last text the model wrote is still the first one
    final.message = string.format("the answer is not valid JSON (%s), and the repair call failed: %s", why, err.message)
    final.raw, final.repair_error, final.retryable = first.raw, err, false
  end
  return nil, final
end

-- call(tier, req, {db =, retry = policy, setting =, cache =}) -> result | nil, err
-- req as a provider takes it (system, prompt, json, schema, stream, on_text...),
-- plus purpose (what the call is for, logged) and repair = false (no JSON repair).
-- opts.cache: true (or a file) to use the response cache, false to skip it
-- whatever CANDOR_LLM_CACHE says.
function M.call(tier, req, opts)
  return M.call_target(profiles.resolve(tier, opts or {}), req, opts)
end

-- call_target(target, req, opts): the same for a target already resolved
-- (profiles.resolve or profiles.resolve_model).
-- A JSON answer that does not parse gets one repair call (purpose
-- "<purpose>:json-repair"); a second failure is kind "json" keeping raw (the
-- last text) and first_raw.
function M.call_target(target, req, opts)
  opts = opts or {}
  local result, err = answer(target, req, opts)
  if not result and err.kind == "json" and req.json and req.repair ~= false then
    return repair_json(target, req, opts, err)
  end
  return result, err
end

-- ask(tier, req, opts) -> result; raises the final error's message.
function M.ask(tier, req, opts)
  local result, err = M.call(tier, req, opts)
  if not result then error(string.format("%s call (%s) failed: %s", tier, req.purpose or "unspecified", err.message), 0) end
  return result
end

return M
