-- The fake LLM provider for tests: speaks the wire formats on loopback, answers
-- from a script, injects faults, counts calls. So far: OpenAI-compatible chat
-- completions and Anthropic Messages, each plain and SSE-streamed.
--   local fake = dofile(root .. "/tests/fake_llm/server.lua").start {
--     { match = "battlecard", text = "..." },               -- Lua pattern on the last user message
--     { match = "json", json = { ok = true } },
--     { match = "busy", fault = "429", retry_after = 1, times = 2 },   -- faults n times, then the next entry
--     { text = "default answer", delay_ms = 100 },
--   }
--   fake.url, fake.calls (each {format, model, body, stream}), fake.count(), fake.close()
-- Faults: "429", "500", "503", "hang" (never answers), "drop" (closes mid-stream or
-- at once), "malformed" (invalid JSON), "empty", "blocked", "truncated".
local root = require("candor.paths").root
local HS = dofile(root .. "/tests/fake_llm/http_server.lua")
local cjson = require "cjson"

local M = {}

local function pick(script, prompt)
  for _, entry in ipairs(script) do
    local hit = entry.match == nil or (type(entry.match) == "function" and entry.match(prompt))
      or (type(entry.match) == "string" and prompt:find(entry.match) ~= nil)
    if hit and (entry.times == nil or entry.times > 0) then
      if entry.times then entry.times = entry.times - 1 end
      return entry
    end
  end
  return { text = "fake answer" }
end

local function words(text)
  local out = {}
  for piece in text:gmatch("%S+%s*") do out[#out + 1] = piece end
  if #out == 0 then out[1] = text end
  return out
end

-- The fault answers every format shares; true when one was sent.
local function http_fault(entry, res, body_json)
  local f = entry.fault
  if f == "429" or f == "500" or f == "503" or f == "529" then
    local headers = { ["Content-Type"] = "application/json" }
    if entry.retry_after then headers["Retry-After"] = tostring(entry.retry_after) end
    res:send(tonumber(f), headers, body_json(f))
    return true
  elseif f == "hang" then
    return true
  elseif f == "malformed" then
    res:send(200, { ["Content-Type"] = "application/json" }, '{"content": [ {"text": ')
    return true
  end
  return false
end

-- A chat request's body and its last user message, with the call recorded;
-- nil when the body is not JSON (the caller answers 400).
local function chat_request(req, calls, format, extra)
  local ok, body = pcall(cjson.decode, req.body)
  if not ok then return nil end
  local last = ""
  for _, m in ipairs(body.messages or {}) do if m.role == "user" then last = m.content end end
  local call = { format = format, model = body.model, body = body, stream = body.stream == true }
  for k, v in pairs(extra) do call[k] = v end
  calls[#calls + 1] = call
  return body, last
end

local FINISH = { blocked = "content_filter", truncated = "length" }

local function openai(req, res, script, calls)
  local body, last = chat_request(req, calls, "openai", { auth = req.headers["authorization"] })
  if not body then return res:send(400, {}, '{"error":{"message":"bad json"}}') end
  local entry = pick(script, last)
  local function answer()
    if http_fault(entry, res, function(f) return '{"error":{"message":"fake ' .. f .. '"}}' end) then return end
    local f = entry.fault
    if f == "drop" and not body.stream then return res:drop() end
    local text = entry.json and cjson.encode(entry.json) or entry.text or ""
    if f == "empty" then text = "" end
    local finish = FINISH[f] or "stop"
    local usage = { prompt_tokens = #last // 4 + 1, completion_tokens = #text // 4 + 1 }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    if not body.stream then
      return res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode {
        id = "fake-1", object = "chat.completion", model = body.model,
        choices = { { index = 0, message = { role = "assistant", content = text }, finish_reason = finish } },
        usage = usage })
    end
    res:start(200, { ["Content-Type"] = "text/event-stream" })
    local pieces = words(text)
    local i = 0
    local function next_piece()
      i = i + 1
      if f == "drop" and i > 1 then return res:drop() end
      if i <= #pieces then
        res:chunk("data: " .. cjson.encode { model = body.model,
          choices = { { index = 0, delta = { content = pieces[i] } } } } .. "\n\n")
        return HS.after(entry.chunk_ms or 1, next_piece)
      end
      res:chunk("data: " .. cjson.encode { model = body.model, choices = { { index = 0, delta = {}, finish_reason = finish } } } .. "\n\n")
      res:chunk("data: " .. cjson.encode { model = body.model, choices = {}, usage = usage } .. "\n\n")
      res:chunk("data: [DONE]\n\n")
      res:finish()
    end
    next_piece()
  end
  if entry.delay_ms then HS.after(entry.delay_ms, answer) else answer() end
end

-- Anthropic Messages: {model, max_tokens, system, messages, stream}.
local ANTHROPIC_STOP = { blocked = "refusal", truncated = "max_tokens" }

local function anthropic(req, res, script, calls)
  local body, last = chat_request(req, calls, "anthropic",
    { api_key = req.headers["x-api-key"], version = req.headers["anthropic-version"] })
  if not body then
    return res:send(400, {}, '{"type":"error","error":{"type":"invalid_request_error","message":"bad json"}}')
  end
  local entry = pick(script, last)
  local function answer()
    if http_fault(entry, res, function(f)
      return cjson.encode { type = "error", error = { type = f == "429" and "rate_limit_error" or "overloaded_error", message = "fake " .. f } }
    end) then return end
    local f = entry.fault
    if f == "drop" and not body.stream then return res:drop() end
    local text = entry.json and cjson.encode(entry.json) or entry.text or ""
    if f == "empty" then text = "" end
    local stop = ANTHROPIC_STOP[f] or "end_turn"
    local usage = { input_tokens = #last // 4 + 1, output_tokens = #text // 4 + 1 }
    if not body.stream then
      return res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode {
        id = "msg_fake", type = "message", role = "assistant", model = body.model,
        content = text ~= "" and { { type = "text", text = text } } or {}, stop_reason = stop, usage = usage })
    end
    res:start(200, { ["Content-Type"] = "text/event-stream" })
    local function event(name, obj) res:chunk("event: " .. name .. "\ndata: " .. cjson.encode(obj) .. "\n\n") end
    event("message_start", { type = "message_start", message = { id = "msg_fake", type = "message", role = "assistant",
      model = body.model, content = {}, usage = { input_tokens = usage.input_tokens, output_tokens = 1 } } })
    event("content_block_start", { type = "content_block_start", index = 0, content_block = { type = "text", text = "" } })
    local pieces = words(text)
    local i = 0
    local function next_piece()
      i = i + 1
      if f == "drop" and i > 1 then return res:drop() end
      if i <= #pieces and text ~= "" then
        if i == 2 then res:chunk("event: ping\ndata: {\"type\": \"ping\"}\n\n") end
        event("content_block_delta", { type = "content_block_delta", index = 0, delta = { type = "text_delta", text = pieces[i] } })
        return HS.after(entry.chunk_ms or 1, next_piece)
      end
      event("content_block_stop", { type = "content_block_stop", index = 0 })
      event("message_delta", { type = "message_delta", delta = { stop_reason = stop }, usage = { output_tokens = usage.output_tokens } })
      event("message_stop", { type = "message_stop" })
      res:finish()
    end
    next_piece()
  end
  if entry.delay_ms then HS.after(entry.delay_ms, answer) else answer() end
end

function M.start(script)
  local calls = {}
  local server = HS.serve(function(req, res)
    if req.method == "POST" and req.path:match("/chat/completions$") then return openai(req, res, script, calls) end
    if req.method == "POST" and req.path:match("/v1/messages$") then return anthropic(req, res, script, calls) end
    res:send(404, {}, "the fake server does not speak " .. req.path)
  end)
  return { url = server.url, calls = calls, count = function() return #calls end, close = server.close }
end

return M
