-- Gemini generateContent, plain and streamed (streamGenerateContent?alt=sse).
-- call(cfg, req) -> result | nil, err with the same request, result and error
-- shapes as every provider (see candor.llm.openai for req, candor.llm.provider
-- for result and err), plus grounding in Google Search:
--   req.grounding (or cfg.grounding) = true adds the google_search tool; the
--   result then carries sources = {{url, title}...} and search_queries.
-- JSON mode is responseMimeType (with responseJsonSchema for req.schema), except
-- when grounded: some models refuse JSON mode beside the search tool, so the
-- system instruction asks for JSON instead and the answer is parsed.
local json = require "candor.json"
local host = require "core.host"
local P = require "candor.llm.provider"

local M = { name = "gemini" }

-- Gemini's finish reasons in the shared vocabulary.
local FINISH = { STOP = "stop", MAX_TOKENS = "length", SAFETY = "blocked", RECITATION = "blocked",
                 BLOCKLIST = "blocked", PROHIBITED_CONTENT = "blocked", SPII = "blocked", IMAGE_SAFETY = "blocked" }

local function grounded(cfg, req)
  if req.grounding ~= nil then return req.grounding end
  return cfg.grounding == true
end

-- Chat messages ({role, content}) as Gemini contents; system messages join the
-- system instruction, since contents only take user and model turns.
local function contents(req)
  if not req.messages then return { { role = "user", parts = { { text = req.prompt or "" } } } }, req.system end
  local out, system = {}, req.system
  for _, m in ipairs(req.messages) do
    if m.role == "system" then
      system = system and (system .. "\n\n" .. m.content) or m.content
    else
      out[#out + 1] = { role = m.role == "assistant" and "model" or "user", parts = { { text = m.content } } }
    end
  end
  return out, system
end

local function request_body(cfg, req)
  local search = grounded(cfg, req)
  local body, system = {}, nil
  body.contents, system = contents(req)
  local gen = { temperature = req.temperature or cfg.temperature, maxOutputTokens = req.max_tokens or cfg.max_tokens }
  if req.json and search then
    system = P.json_instruction(system, req.schema)
  elseif req.json then
    gen.responseMimeType = "application/json"
    gen.responseJsonSchema = req.schema
  end
  if system then body.systemInstruction = { parts = { { text = system } } } end
  if next(gen) then body.generationConfig = gen end
  if search then body.tools = { { google_search = {} } } end
  return body
end

local function url(cfg, stream)
  return string.format("%s/v1beta/models/%s:%s", (cfg.base_url or "https://generativelanguage.googleapis.com"):gsub("/+$", ""),
    cfg.model, stream and "streamGenerateContent?alt=sse" or "generateContent")
end

-- An answer is one GenerateContentResponse, or a stream of them (chunks): each
-- is absorbed into the same state, so both end the same way.
local function new_state(req)
  return { parts = {}, chunks = {}, on_text = req.stream and req.on_text or nil }
end

local function absorb_grounding(st, meta)
  if type(meta) ~= "table" then return end
  for _, chunk in ipairs(type(meta.groundingChunks) == "table" and meta.groundingChunks or {}) do
    if type(chunk) == "table" and type(chunk.web) == "table" then
      st.chunks[#st.chunks + 1] = { url = chunk.web.uri, title = chunk.web.title }
    end
  end
  if type(meta.webSearchQueries) == "table" and #meta.webSearchQueries > 0 then st.queries = meta.webSearchQueries end
end

local function absorb(st, obj)
  if type(obj.modelVersion) == "string" then st.model = obj.modelVersion end
  if type(obj.usageMetadata) == "table" then st.usage = obj.usageMetadata end   -- cumulative: the last one counts
  if type(obj.promptFeedback) == "table" and obj.promptFeedback.blockReason then st.block = obj.promptFeedback.blockReason end
  local cand = type(obj.candidates) == "table" and obj.candidates[1]
  if type(cand) ~= "table" then return end
  st.candidate = true
  local content = type(cand.content) == "table" and cand.content.parts
  for _, part in ipairs(type(content) == "table" and content or {}) do
    -- thoughts are the model's working, not its answer
    if type(part) == "table" and type(part.text) == "string" and part.text ~= "" and part.thought ~= true then
      st.parts[#st.parts + 1] = part.text
      if st.on_text then st.on_text(part.text) end
    end
  end
  if cand.finishReason and cand.finishReason ~= json.null then st.finish = cand.finishReason end
  absorb_grounding(st, cand.groundingMetadata)
end

local function conclude(cfg, req, st, t0)
  if st.block and not st.candidate then
    return nil, P.err("blocked", "the provider blocked the prompt: " .. tostring(st.block))
  end
  if req.stream and st.candidate and not st.finish then
    return nil, P.err("network", "the stream ended before the answer did", { retryable = true, raw = table.concat(st.parts) })
  end
  local u = st.usage or {}
  local search = grounded(cfg, req)
  return P.finish { provider = M.name, text = table.concat(st.parts), finish_reason = FINISH[st.finish] or st.finish,
    input_tokens = u.promptTokenCount, output_tokens = (u.candidatesTokenCount or 0) + (u.thoughtsTokenCount or 0),
    model = st.model or cfg.model, t0 = t0, json = req.json,
    sources = search and P.sources(st.chunks) or nil, search_queries = search and st.queries or nil }
end

function M.call(cfg, req)
  local headers = { ["Content-Type"] = "application/json" }
  if cfg.api_key and cfg.api_key ~= "" then headers["x-goog-api-key"] = cfg.api_key end
  local opts = { method = "POST", purpose = req.purpose, url = url(cfg, req.stream), headers = headers,
                 body = json.encode_wire(request_body(cfg, req)), timeout_ms = req.timeout_ms or cfg.timeout_ms or 120000 }
  local t0 = host.clock()
  local st = new_state(req)
  local resp, e = P.post(opts, req.stream and function(obj) absorb(st, obj) end or nil)
  if not resp then return nil, e end
  if not req.stream then
    local ok, obj = pcall(json.decode, resp)
    if not ok or type(obj) ~= "table" then
      return nil, P.err("malformed", "the response is not a generateContent answer", { raw = resp, retryable = true })
    end
    absorb(st, obj)
  end
  return conclude(cfg, req, st, t0)
end

return M
