-- Readable rendering of Lua values for the REPL and `candor run`: tables with
-- sorted keys, a depth limit, and cycles marked instead of followed.
local M = {}

local function is_ident(k) return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil end

local function scalar(v)
  if type(v) == "string" then return string.format("%q", v):gsub("\\\n", "\\n") end
  if v == nil then return "nil" end
  if type(v) == "userdata" or type(v) == "lightuserdata" then
    if v == require("cjson").null then return "null" end
  end
  return tostring(v)
end

local function sorted_keys(t)
  local keys, n = {}, #t
  for k in pairs(t) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys, n
end

-- format(value [, {depth = 4, indent = "  "}]) -> string
function M.format(value, opts)
  opts = opts or {}
  local max_depth = opts.depth or 4
  local ind = opts.indent or "  "
  local out = {}
  local seen = {}
  local function emit(v, depth, pad)
    if type(v) ~= "table" then out[#out + 1] = scalar(v) return end
    if seen[v] then out[#out + 1] = "<cycle: " .. tostring(v) .. ">" return end
    local mt = getmetatable(v)
    if mt and mt.__tostring then out[#out + 1] = tostring(v) return end
    if depth >= max_depth then out[#out + 1] = "{...}" return end
    local keys, n = sorted_keys(v)
    if n == 0 and #keys == 0 then out[#out + 1] = "{}" return end
    seen[v] = true
    -- short arrays of scalars stay on one line
    if #keys == 0 and n <= 8 then
      local flat = true
      for i = 1, n do if type(v[i]) == "table" then flat = false break end end
      if flat then
        local parts = {}
        for i = 1, n do parts[i] = scalar(v[i]) end
        local line = "{ " .. table.concat(parts, ", ") .. " }"
        if #line <= 80 then out[#out + 1] = line seen[v] = nil return end
      end
    end
    out[#out + 1] = "{\n"
    local inner = pad .. ind
    for i = 1, n do
      out[#out + 1] = inner
      emit(v[i], depth + 1, inner)
      out[#out + 1] = ",\n"
    end
    for _, k in ipairs(keys) do
      out[#out + 1] = inner
      out[#out + 1] = is_ident(k) and k or ("[" .. scalar(k) .. "]")
      out[#out + 1] = " = "
      emit(v[k], depth + 1, inner)
      out[#out + 1] = ",\n"
    end
    out[#out + 1] = pad .. "}"
    seen[v] = nil
  end
  emit(value, 0, "")
  return table.concat(out)
end

return M
