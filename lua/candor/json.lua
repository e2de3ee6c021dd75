-- JSON for Candor, on lua-cjson:
--  * "/" is left unescaped (cjson writes "\/", valid but hard to read in URLs).
--    cjson escapes every "/" and every "\", so a "\/" in its output is always an
--    escaped slash and the rewrite is exact;
--  * json.array(t) marks a table to encode as an array even when empty (cjson's
--    2.1.0 has no empty-array support and writes {});
--  * decode returns integers for integral numbers (cjson gives 1.0 for 1).
local cjson = require "cjson"

local M = { null = cjson.null }

local array_mt = { __name = "json.array" }
local EMPTY = "\0candor.empty_array\0"
local EMPTY_JSON = '"\\u0000candor.empty_array\\u0000"'

function M.array(t) return setmetatable(t or {}, array_mt) end

-- Returns v with every empty marked array replaced by the sentinel string;
-- tables are copied only where something inside them changes.
local function mark_empty(v, depth)
  if type(v) ~= "table" or depth > 1000 then return v end
  if getmetatable(v) == array_mt and next(v) == nil then return EMPTY end
  local copy
  for k, x in pairs(v) do
    local y = mark_empty(x, depth + 1)
    if y ~= x then
      copy = copy or (function() local c = {} for kk, xx in pairs(v) do c[kk] = xx end return c end)()
      copy[k] = y
    end
  end
  return copy or v
end

function M.encode(value)
  local s = cjson.encode(mark_empty(value, 0))
  if s:find("\\/", 1, true) then s = s:gsub("\\/", "/") end
  if s:find(EMPTY_JSON, 1, true) then s = s:gsub(EMPTY_JSON:gsub("%p", "%%%0"), "[]") end
  return s
end

-- encode_wire(value) -> JSON for a request body no person reads: the same as
-- encode, with "/" left escaped as cjson writes it (valid JSON, and a prompt
-- full of URLs need not be scanned again).
function M.encode_wire(value)
  local s = cjson.encode(mark_empty(value, 0))
  if s:find(EMPTY_JSON, 1, true) then s = s:gsub(EMPTY_JSON:gsub("%p", "%%%0"), "[]") end
  return s
end

local function integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do
      if math.type(x) == "float" then
        local i = math.tointeger(x)
        if i then v[k] = i end
      elseif type(x) == "table" then integers(x) end
    end
  end
  return v
end

-- try_decode(text) -> value | nil, the decoder's complaint (without the Lua
-- file and line that called it).
function M.try_decode(text)
  local ok, v = pcall(M.decode, text)
  if ok then return v end
  return nil, (tostring(v):gsub("^[^\n]-:%d+: ", ""))
end

function M.decode(text)
  local v = cjson.decode(text)
  if math.type(v) == "float" then return math.tointeger(v) or v end
  return integers(v)
end

return M
