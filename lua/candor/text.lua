-- Small text helpers shared by the Lua modules.
local M = {}

-- trim(s) -> s without leading and trailing whitespace, in linear time (the
-- pattern "^%s*(.-)%s*$" retries its tail at every byte: slow on long text).
function M.trim(s)
  local first = s:find("%S")
  if not first then return "" end
  local last = #s
  while s:find("^%s", last) do last = last - 1 end
  return s:sub(first, last)
end

return M
