-- JSON for Candor: lua-cjson, with "/" left unescaped (cjson writes "\/", which is
-- valid but makes every URL harder to read). Since cjson escapes every "/" and
-- every "\", a "\/" in its output is always an escaped slash, so the rewrite is exact.
local cjson = require "cjson"

local M = { null = cjson.null, decode = cjson.decode }

function M.encode(value)
  local s = cjson.encode(value)
  if s:find("\\/", 1, true) then s = s:gsub("\\/", "/") end
  return s
end

return M
