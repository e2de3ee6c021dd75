-- OpenAI-compatible Chat Completions: OpenAI itself and local servers that speak
-- it (Ollama, llama.cpp server, vLLM) by base URL. Plain and streamed (SSE).
-- call(cfg, req) -> result | nil, err. The retry policy, tiers and logging sit
-- above this; a provider only speaks its wire format and says what went wrong.
--   cfg: {base_url, api_key, model, temperature, max_tokens}
--   req: {system, prompt | messages, json = bool, schema = table, stream = bool,
--         on_text = fn(piece), timeout_ms, temperature, max_tokens}
--   result and err: see candor.llm.provider
local json = require "candor.json"
local host = require "core.host"

local M = { name = "openai" }

local P = require "candor.llm.provider"
local err = P.err

local function messages(req)
  local out = {}
  if req.system and not (req.messages and req.messages[1] and req.messages[1].role == "system") then
    out[#out + 1] = { role = "system", content = req.system }
  end
  if req.messages then
    for _, m in ipairs(req.messages) do out[#out + 1] = m end
    return out
  end
  out[#out + 1] = { role = "user", content = req.prompt or "" }
  return out
end

-- OpenAI's finish reasons in the shared vocabulary.
local FINISH = { stop = "stop", length = "length", content_filter = "blocked" }

local function finish(cfg, req, text, reason, usage, model, t0)
  return P.finish { provider = M.name, text = text, finish_reason = FINISH[reason] or reason,
    input_tokens = usage and usage.prompt_tokens, output_tokens = usage and usage.completion_tokens,
    model = model or cfg.model, t0 = t0, json = req.json }
end

local function base_url(cfg) return (cfg.base_url or "https://api.openai.com/v1"):gsub("/+$", "") end

local function auth_headers(cfg)
  local headers = { ["Content-Type"] = "application/json" }
  if cfg.api_key and cfg.api_key ~= "" then headers["Authorization"] = "Bearer " .. cfg.api_key end
  return headers
end

-- The server's first listed model (GET /models), asked once per base URL: the
-- local profile with no CANDOR_LOCAL_MODEL uses whatever the server has.
local server_models = {}

local function server_model(cfg)
  local base = base_url(cfg)
  if server_models[base] then return server_models[base] end
  local status, hdrs, body = require("candor.http").request { method = "GET", url = base .. "/models",
    headers = auth_headers(cfg), timeout_ms = math.min(cfg.timeout_ms or 10000, 10000) }
  if not status then return nil, P.transport_error(hdrs, body) end
  if status ~= 200 then return nil, P.http_error(status, hdrs, body) end
  local ok, obj = pcall(json.decode, body)
  local first = ok and type(obj) == "table" and type(obj.data) == "table" and obj.data[1]
  if type(first) ~= "table" or type(first.id) ~= "string" then
    return nil, err("config", string.format("the server at %s lists no models: load one there, or set CANDOR_LOCAL_MODEL", base),
      { raw = body })
  end
  server_models[base] = first.id
  return first.id
end

function M.call(cfg, req)
  if cfg.model_from_server and (cfg.model or "") == "" then
    local model, e = server_model(cfg)
    if not model then return nil, e end
    cfg.model = model
  end
  local body = {
    model = cfg.model, messages = messages(req),
    temperature = req.temperature or cfg.temperature, max_tokens = req.max_tokens or cfg.max_tokens,
  }
  if req.json then
    body.response_format = req.schema and { type = "json_schema", json_schema = { name = "answer", schema = req.schema } }
      or { type = "json_object" }
  end
  if req.stream then
    body.stream = true
    body.stream_options = { include_usage = true }
  end
  local opts = { method = "POST", purpose = req.purpose, url = base_url(cfg) .. "/chat/completions", headers = auth_headers(cfg), body = json.encode_wire(body), timeout_ms = req.timeout_ms or cfg.timeout_ms or 120000 }
  local t0 = host.clock()
  local parts, finish_reason, usage, model = {}, nil, nil, nil
  local on_event = req.stream and function(obj)
      model = obj.model or model
      if obj.usage then usage = obj.usage end
      local choice = obj.choices and obj.choices[1]
      if choice then
        local piece = choice.delta and choice.delta.content
        if type(piece) == "string" and piece ~= "" then
          parts[#parts + 1] = piece
          if req.on_text then req.on_text(piece) end
        end
        if choice.finish_reason and choice.finish_reason ~= json.null then finish_reason = choice.finish_reason end
      end
    end or nil
  local resp, e = P.post(opts, on_event)
  if not resp then return nil, e end
  if req.stream then
    if not finish_reason then
      return nil, err("network", "the stream ended before the answer did", { retryable = true, raw = table.concat(parts) })
    end
    return finish(cfg, req, table.concat(parts), finish_reason, usage, model, t0)
  end
  local ok, obj = pcall(json.decode, resp)
  local choice = ok and type(obj) == "table" and obj.choices and obj.choices[1]
  if not choice or type(choice.message) ~= "table" then
    return nil, err("malformed", "the response is not a chat completion", { raw = resp, retryable = true })
  end
  local text = choice.message.content
  if text == json.null or text == nil then text = "" end
  local reason = choice.finish_reason ~= json.null and choice.finish_reason or nil
  return finish(cfg, req, text, reason, obj.usage, obj.model, t0)
end

return M
