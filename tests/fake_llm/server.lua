-- The fake LLM provider for tests: speaks the wire formats on loopback, answers
-- from a script, injects faults, counts calls: OpenAI-compatible chat
-- completions, Anthropic Messages and Gemini generateContent, each plain and
-- SSE-streamed; Gemini Deep Research (the Interactions API: start, polls, cancel);
-- and an OpenAI-compatible model list (GET .../v1/models).
--   local fake = dofile(root .. "/tests/fake_llm/server.lua").start({
--     { match = "battlecard", text = "..." },               -- Lua pattern on the last user message
--     { match = "json", json = { ok = true } },
--     { match = "busy", fault = "429", retry_after = 1, times = 2 },   -- faults n times, then the next entry
--     { match = "news", text = "...", sources = { { url = "https://a", title = "A" } } },  -- Gemini grounding
--     { match = "why", text = "...", thought = "thinking..." },   -- Gemini: a thought part before the answer
--     { match = "market", text = "report", polls = 3, sources = {...} },  -- Deep Research: 3 polls in progress
--     { text = "default answer", delay_ms = 100 },
--   }, { models = { "fake-model" } })                       -- ids GET /v1/models lists
--   Entries may also match on purpose = "lua pattern" (the X-Candor-Purpose header).
--   fake.url, fake.calls (each {format, model, body, stream, purpose} and the key as
--   the format sends it: auth, api_key), fake.count(), fake.models_listed,
--   fake.interactions[id], fake.close()
-- Faults: "429", "500", "503", "hang" (never answers), "drop" (closes mid-stream or
-- at once), "malformed" (invalid JSON), "empty" (Gemini: no candidates), "blocked"
-- (Gemini: finishReason SAFETY), "prompt_blocked" (Gemini: promptFeedback.blockReason),
-- "truncated". Gemini answers grounding metadata (entry.sources, search_queries)
-- when the request has the google_search tool.
-- Deep Research: the start answers in_progress; GET polls answer in_progress
-- `polls` times (0 by default), then completed with the text as an output
-- (entry.steps = true: as a model_output step) citing entry.sources, or failed
-- with fault = "research_failed" (message = ...). poll_faults = {"503", "drop", ...}
-- answer the first polls with those faults. fake.interactions[id] = {polls, status, cancelled}.
local root = require("candor.paths").root
local HS = dofile(root .. "/tests/fake_llm/http_server.lua")
local cjson = require "cjson"

local M = {}

-- The first entry whose match (a Lua pattern or function on the prompt) and
-- purpose (a Lua pattern on the X-Candor-Purpose header) both fit.
local function pick(script, prompt, purpose)
  for _, entry in ipairs(script) do
    local hit = entry.match == nil or (type(entry.match) == "function" and entry.match(prompt))
      or (type(entry.match) == "string" and prompt:find(entry.match) ~= nil)
    if hit and entry.purpose then hit = (purpose or ""):find(entry.purpose) ~= nil end
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

local function last_user_message(body)
  local last = ""
  for _, m in ipairs(body.messages or {}) do if m.role == "user" then last = m.content end end
  return last
end

-- A chat request's body and its last user message (prompt_of(body), a chat
-- format's by default), with the call recorded; nil when the body is not JSON
-- (the caller answers 400).
local function chat_request(req, calls, format, extra, prompt_of)
  local ok, body = pcall(cjson.decode, req.body)
  if not ok or type(body) ~= "table" then return nil end
  local last = (prompt_of or last_user_message)(body)
  local call = { format = format, model = body.model, body = body, stream = body.stream == true,
                 purpose = req.headers["x-candor-purpose"] }
  for k, v in pairs(extra) do call[k] = v end
  calls[#calls + 1] = call
  return body, last
end

local FINISH = { blocked = "content_filter", truncated = "length" }

local function openai(req, res, script, calls)
  local body, last = chat_request(req, calls, "openai", { auth = req.headers["authorization"] })
  if not body then return res:send(400, {}, '{"error":{"message":"bad json"}}') end
  local entry = pick(script, last, req.headers["x-candor-purpose"])
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
  local entry = pick(script, last, req.headers["x-candor-purpose"])
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

-- Gemini: {contents, systemInstruction, generationConfig, tools}; the model and
-- the method are in the path, the key in x-goog-api-key.
local GEMINI_FINISH = { blocked = "SAFETY", truncated = "MAX_TOKENS" }

local function gemini_error(f)
  local code = tonumber(f) or 500
  return cjson.encode { error = { code = code, message = "fake " .. f,
    status = code == 429 and "RESOURCE_EXHAUSTED" or "UNAVAILABLE" } }
end

local function gemini_prompt(body)
  local last = ""
  for _, c in ipairs(body.contents or {}) do
    if c.role == nil or c.role == "user" then
      local texts = {}
      for _, part in ipairs(c.parts or {}) do texts[#texts + 1] = part.text or "" end
      last = table.concat(texts)
    end
  end
  return last
end

local function searches(body)
  for _, tool in ipairs(body.tools or {}) do
    if type(tool) == "table" and (tool.google_search or tool.googleSearch) then return true end
  end
  return false
end

local function grounding(entry, last)
  local chunks = {}
  for _, src in ipairs(entry.sources or {}) do chunks[#chunks + 1] = { web = { uri = src.url, title = src.title } } end
  local meta = { webSearchQueries = entry.search_queries or { last } }
  if #chunks > 0 then meta.groundingChunks = chunks end
  return meta
end

-- The GenerateContentResponse chunks of an answer (one for a plain answer).
local function gemini_chunks(entry, body, model, last, stream)
  local f = entry.fault
  local text = entry.json and cjson.encode(entry.json) or entry.text or ""
  local usage = { promptTokenCount = #last // 4 + 1, candidatesTokenCount = #text // 4 + 1,
                  thoughtsTokenCount = entry.thought and #entry.thought // 4 + 1 or nil }
  usage.totalTokenCount = usage.promptTokenCount + usage.candidatesTokenCount + (usage.thoughtsTokenCount or 0)
  if f == "empty" then return { { usageMetadata = usage, modelVersion = model } } end
  if f == "prompt_blocked" then
    return { { promptFeedback = { blockReason = "SAFETY" }, usageMetadata = usage, modelVersion = model } }
  end
  local pieces = stream and words(text) or { text }
  local out = {}
  for i, piece in ipairs(pieces) do
    local parts = { { text = piece } }
    if i == 1 and entry.thought then table.insert(parts, 1, { text = entry.thought, thought = true }) end
    local cand = { index = 0, content = { role = "model", parts = parts } }
    if i == #pieces then
      cand.finishReason = GEMINI_FINISH[f] or "STOP"
      if searches(body) then cand.groundingMetadata = grounding(entry, last) end
    end
    out[i] = { candidates = { cand }, usageMetadata = usage, modelVersion = model }
  end
  return out
end

local function gemini(req, res, script, calls, model, method)
  local stream = method == "streamGenerateContent"
  local body, last = chat_request(req, calls, "gemini",
    { model = model, stream = stream, api_key = req.headers["x-goog-api-key"], query = req.query }, gemini_prompt)
  if not body then return res:send(400, {}, gemini_error("400")) end
  local entry = pick(script, last, req.headers["x-candor-purpose"])
  local function answer()
    if http_fault(entry, res, gemini_error) then return end
    if entry.fault == "drop" and not stream then return res:drop() end
    local chunks = gemini_chunks(entry, body, model, last, stream)
    if not stream then return res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode(chunks[1])) end
    res:start(200, { ["Content-Type"] = "text/event-stream" })
    local i = 0
    local function next_chunk()
      i = i + 1
      if entry.fault == "drop" and i > 1 then return res:drop() end
      if i > #chunks then return res:finish() end
      res:chunk("data: " .. cjson.encode(chunks[i]) .. "\r\n\r\n")
      HS.after(entry.chunk_ms or 1, next_chunk)
    end
    next_chunk()
  end
  if entry.delay_ms then HS.after(entry.delay_ms, answer) else answer() end
end

-- Gemini Deep Research (the Interactions API): an interaction as GET shows it.
local function interaction_view(it)
  local view = { id = it.id, status = it.status, agent = it.agent }
  local e = it.entry
  if it.status == "completed" then
    local text = e.json and cjson.encode(e.json) or e.text or "fake research"
    local annotations = {}
    for _, src in ipairs(e.sources or {}) do
      annotations[#annotations + 1] = { type = "url_citation", url = src.url, title = src.title, start_index = 0, end_index = #text }
    end
    local answer = { type = "text", text = text, annotations = #annotations > 0 and annotations or nil }
    if e.steps then
      view.steps = { { type = "thought", signature = "fake" }, { type = "model_output", content = { answer } } }
    else
      view.outputs = { { type = "thought", signature = "fake" }, answer }
    end
    view.usage = { total_input_tokens = #it.input // 4 + 1, total_output_tokens = #text // 4 + 1, total_thought_tokens = 7 }
  elseif it.status == "failed" then
    view.error = { code = 500, message = e.message or "fake research failed" }
  end
  return view
end

local function research_start(req, res, script, calls, state)
  local body = chat_request(req, calls, "deep_research", { api_key = req.headers["x-goog-api-key"] },
    function(b) return type(b.input) == "string" and b.input or cjson.encode(b.input or "") end)
  if not body then return res:send(400, {}, gemini_error("400")) end
  calls[#calls].model = body.agent
  local input = type(body.input) == "string" and body.input or cjson.encode(body.input or "")
  local entry = pick(script, input, req.headers["x-candor-purpose"])
  if http_fault(entry, res, gemini_error) then return end
  state.n = state.n + 1
  local it = { id = "fake-interaction-" .. state.n, agent = body.agent, entry = entry, input = input, polls = 0,
               left = entry.polls or 0, poll_faults = { table.unpack(entry.poll_faults or {}) }, status = "in_progress",
               cancelled = false }
  state.interactions[it.id] = it
  res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode(interaction_view(it)))
end

local function research_poll(req, res, it)
  if not it then
    return res:send(404, { ["Content-Type"] = "application/json" },
      cjson.encode { error = { code = 404, message = "no such interaction", status = "NOT_FOUND" } })
  end
  it.polls = it.polls + 1
  local fault = table.remove(it.poll_faults, 1)
  if fault == "drop" then return res:drop() end
  if fault and http_fault({ fault = fault }, res, gemini_error) then return end
  if it.status == "in_progress" then
    if it.left > 0 then it.left = it.left - 1
    else it.status = it.entry.fault == "research_failed" and "failed" or "completed" end
  end
  res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode(interaction_view(it)))
end

local function research_cancel(req, res, it)
  if not it then return research_poll(req, res, nil) end
  if it.status == "in_progress" then it.status = "cancelled" end
  it.cancelled = true
  res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode(interaction_view(it)))
end

local function model_list(res, ids)
  local data = {}
  for i, id in ipairs(ids) do data[i] = { id = id, object = "model", owned_by = "fake" } end
  res:send(200, { ["Content-Type"] = "application/json" }, cjson.encode { object = "list", data = data })
end

function M.start(script, opts)
  opts = opts or {}
  local calls = {}
  local research = { n = 0, interactions = {} }
  local fake
  local server = HS.serve(function(req, res)
    if req.method == "POST" and req.path:match("/chat/completions$") then return openai(req, res, script, calls) end
    if req.method == "POST" and req.path:match("/v1/messages$") then return anthropic(req, res, script, calls) end
    local model, method = req.path:match("/v1beta/models/([^/:]+):(%w+)$")
    if req.method == "POST" and model then return gemini(req, res, script, calls, model, method) end
    if req.method == "POST" and req.path:match("/v1beta/interactions$") then
      return research_start(req, res, script, calls, research)
    end
    local id = req.path:match("/v1beta/interactions/([^/]+)/cancel$")
    if req.method == "POST" and id then return research_cancel(req, res, research.interactions[id]) end
    id = req.path:match("/v1beta/interactions/([^/]+)$")
    if req.method == "GET" and id then return research_poll(req, res, research.interactions[id]) end
    if req.method == "GET" and req.path:match("/v1/models$") then
      fake.models_listed = fake.models_listed + 1
      return model_list(res, opts.models or { "fake-model" })
    end
    res:send(404, {}, "the fake server does not speak " .. req.path)
  end)
  fake = { url = server.url, calls = calls, count = function() return #calls end, interactions = research.interactions,
           models_listed = 0, close = server.close }
  return fake
end

return M
