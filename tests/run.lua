-- Runs every tests/lua/*_test.lua (or those whose name contains ARG) inside the host.
-- Usage: build/candor lua tests/run.lua [FILTER]
local T = require "candor.testing"

-- The binary the CLI tests run: the one running this file unless told otherwise.
local bin = os.getenv("CANDOR_TEST_BINARY") or "build/candor"
T.binary = bin:sub(1, 1) == "/" and bin or (T.root .. "/" .. bin)
local filter = arg[1]
local dir = T.root .. "/tests/lua"
local uv = require "luv"
local it = assert(uv.fs_scandir(dir))
local files = {}
while true do
  local name = uv.fs_scandir_next(it)
  if not name then break end
  if name:match("_test%.lua$") then files[#files + 1] = name end
end
table.sort(files)
for _, name in ipairs(files) do
  T.current_file = name
  local chunk = assert(loadfile(dir .. "/" .. name))
  chunk()
end
T.current_file = nil
local passed, failed = T.run_all(filter)
print(string.format("lua: %d passed, %d failed", passed, failed))
return failed == 0 and 0 or 1
