-- Anthropic Messages, plain and streamed (SSE). call(cfg, req) -> result | nil, err
-- with the same request, result and error shapes as every provider (see
-- candor.llm.openai for req, candor.llm.provider for result and err).
-- Messages has no JSON mode: with req.json the system prompt asks for JSON only,
-- and the answer is parsed (a repair attempt, if any, is the caller's policy).
local json = require "candor.json"
local host = require "core.host"
local P = require "candor.llm.provider"

local M = { name = "anthropic", version = "2023-06-01" }

-- Anthropic's stop reasons in the shared vocabulary.
local FINISH = { end_turn = "stop", stop_sequence = "stop", max_tokens = "length", refusal = "blocked" }

local JSON_ONLY = "Answer with one JSON value only: no prose, no code fences."

local function request_body(cfg, req)
  local system = req.system
  if req.json then
    local ask = JSON_ONLY
    if req.schema then ask = ask .. " It must match this JSON schema: " .. json.encode(req.schema) end
    system = system and (system .. "\n\n" .. ask) or ask
  end
  return {
    model = cfg.model, system = system, max_tokens = req.max_tokens or cfg.max_tokens or 4096,
    temperature = req.temperature or cfg.temperature,
    messages = req.messages or { { role = "user", content = req.prompt or "" } },
    stream = req.stream or nil,
  }
end

function M.call(cfg, req)
  local headers = { ["Content-Type"] = "application/json", ["anthropic-version"] = M.version }
  if cfg.api_key and cfg.api_key ~= "" then headers["x-api-key"] = cfg.api_key end
  local opts = { method = "POST", purpose = req.purpose, url = (cfg.base_url or "https://api.anthropic.com"):gsub("/+$", "") .. "/v1/messages",
                 headers = headers, body = json.encode_wire(request_body(cfg, req)),
                 timeout_ms = req.timeout_ms or cfg.timeout_ms or 120000 }
  local t0 = host.clock()
  local parts, stop, input, output, model, stream_error = {}, nil, 0, 0, nil, nil
  local on_event = req.stream and function(obj)
      local t = obj.type
      if t == "message_start" and type(obj.message) == "table" then
        model = obj.message.model
        local u = obj.message.usage
        if type(u) == "table" then input, output = u.input_tokens or 0, u.output_tokens or 0 end
      elseif t == "content_block_delta" and type(obj.delta) == "table" and obj.delta.type == "text_delta" then
        parts[#parts + 1] = obj.delta.text
        if req.on_text then req.on_text(obj.delta.text) end
      elseif t == "message_delta" then
        if type(obj.delta) == "table" and obj.delta.stop_reason ~= json.null then stop = obj.delta.stop_reason end
        if type(obj.usage) == "table" and obj.usage.output_tokens then output = obj.usage.output_tokens end
      elseif t == "error" then
        stream_error = obj.error
      end
    end or nil
  local resp, e = P.post(opts, on_event)
  if not resp then return nil, e end
  if req.stream then
    if stream_error then
      return nil, P.err("http", "the stream reported: " .. tostring(type(stream_error) == "table" and stream_error.message or stream_error),
        { retryable = true })
    end
    if not stop then return nil, P.err("network", "the stream ended before the answer did", { retryable = true, raw = table.concat(parts) }) end
    return P.finish { provider = M.name, text = table.concat(parts), finish_reason = FINISH[stop] or stop,
      input_tokens = input, output_tokens = output, model = model or cfg.model, t0 = t0, json = req.json }
  end
  local ok, obj = pcall(json.decode, resp)
  if not ok or type(obj) ~= "table" or type(obj.content) ~= "table" then
    return nil, P.err("malformed", "the response is not a Messages answer", { raw = resp, retryable = true })
  end
  local texts = {}
  for _, block in ipairs(obj.content) do
    if type(block) == "table" and block.type == "text" then texts[#texts + 1] = block.text end
  end
  local usage = type(obj.usage) == "table" and obj.usage or {}
  return P.finish { provider = M.name, text = table.concat(texts), finish_reason = FINISH[obj.stop_reason] or obj.stop_reason,
    input_tokens = usage.input_tokens, output_tokens = usage.output_tokens, model = obj.model or cfg.model,
    t0 = t0, json = req.json }
end

return M
