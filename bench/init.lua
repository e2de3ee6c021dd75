-- `candor init` on a new database file (target: median under 50 ms), and on an
-- existing one, against `candor version` in the same run.
local B = dofile(require("candor.paths").root .. "/bench/common.lua")
local uv = require "luv"
local runs = tonumber(arg[1]) or 30
local dir = assert(uv.fs_mkdtemp("/tmp/candor-bench-XXXXXX"))
local new, again, ver = {}, {}, {}
for i = 1, runs do
  local env = B.environ({ CANDOR_DB = dir .. "/db" .. i .. ".db" })
  new[i] = B.time_spawn({ B.binary, "init" }, env)
  again[i] = B.time_spawn({ B.binary, "init" }, env)
  ver[i] = B.time_spawn({ B.binary, "version" }, env)
end
os.execute("rm -rf '" .. dir .. "'")
local sn = B.stats(new)
B.report("candor version (reference)", B.stats(ver))
B.report("candor init, new file", sn)
B.report("candor init, existing file", B.stats(again))
print(string.format("init on a new file: target < 50 ms: %s", sn.median < 50 and "met" or "NOT met"))
