-- What identifies an LLM request for the response cache and cassettes: the
-- request normalised to what changes the answer, and the sha256 of its
-- canonical JSON (keys sorted, so the same request has the same key in every
-- run, whatever order its tables were built in).
local crypto = require "core.crypto"
local json = require "candor.json"

local M = {}

-- Request fields that change how a call is made, never what it answers.
local PLUMBING = { stream = true, on_text = true, timeout_ms = true, purpose = true, repair = true, cache = true,
                   prompt = true }   -- prompt is folded into messages

-- Options a provider reads from its target when the request leaves them out.
-- A provider that reads another answer-shaping option from cfg adds it here.
M.target_options = { "temperature", "max_tokens", "grounding" }

-- Bumped when normalisation changes, so old cassettes and cache rows miss
-- instead of answering a request they were not recorded for.
local VERSION = "candor-llm-request/1\n"

local encode

local function encode_number(n)
  if math.type(n) == "integer" then return string.format("%d", n) end
  if n ~= n or n == math.huge or n == -math.huge then error("cannot encode " .. tostring(n) .. " in a request key", 0) end
  local i = math.tointeger(n)
  if i then return string.format("%d", i) end        -- 1.0 and 1 are the same temperature
  for digits = 14, 17 do                               -- the shortest text that reads back exactly
    local s = string.format("%." .. digits .. "g", n)
    if tonumber(s) == n then return s end
  end
end

local function is_array(t)
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local function encode_table(t, out, depth)
  if depth > 100 then error("a request key cannot encode tables nested this deep (a cycle?)", 0) end
  if is_array(t) then
    out[#out + 1] = "["
    for i = 1, #t do
      if i > 1 then out[#out + 1] = "," end
      encode(t[i], out, depth + 1)
    end
    out[#out + 1] = "]"
    return
  end
  local keys = {}
  for k, v in pairs(t) do
    if type(v) ~= "function" then keys[#keys + 1] = tostring(k) end
  end
  table.sort(keys)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    local v = t[k]
    if v == nil then v = t[tonumber(k)] end
    out[#out + 1] = json.encode(k)
    out[#out + 1] = ":"
    encode(v, out, depth + 1)
  end
  out[#out + 1] = "}"
end

function encode(v, out, depth)
  local t = type(v)
  if v == json.null or v == nil then out[#out + 1] = "null"
  elseif t == "string" then out[#out + 1] = json.encode(v)
  elseif t == "number" then out[#out + 1] = encode_number(v)
  elseif t == "boolean" then out[#out + 1] = v and "true" or "false"
  elseif t == "table" then encode_table(v, out, depth)
  else error("cannot encode a " .. t .. " in a request key", 0) end
end

-- canonical(value) -> JSON text with object keys sorted and no spaces; the same
-- value gives the same text in every run. Functions in tables are left out; an
-- empty table is {}.
function M.canonical(value)
  local out = {}
  encode(value, out, 0)
  return table.concat(out)
end

-- normalise(target, req) -> {provider, model, system, messages, json, schema,
-- temperature, ...}: what the answer depends on. A prompt becomes the one user
-- message it stands for; false options are dropped (the same as absent).
function M.normalise(target, req)
  local n = {}
  for _, k in ipairs(M.target_options) do n[k] = target[k] end
  for k, v in pairs(req) do
    if not PLUMBING[k] and type(v) ~= "function" then n[k] = v end
  end
  n.messages = req.messages or { { role = "user", content = req.prompt or "" } }
  n.provider, n.model = target.provider, target.model or ""
  for k, v in pairs(n) do if v == false then n[k] = nil end end
  return n
end

-- of(target, req) -> sha256 hex of the normalised request, the normalised request
function M.of(target, req)
  local n = M.normalise(target, req)
  return crypto.sha256(VERSION .. M.canonical(n)), n
end

return M
