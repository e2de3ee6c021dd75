-- Cold start of `candor version` (target: median under 5 ms wall), against
-- spawning /bin/true in the same run: the cost of fork+exec alone.
local B = dofile(require("candor.paths").root .. "/bench/common.lua")
local runs = tonumber(arg[1]) or 200
local env = B.environ({})
local tru, ver = {}, {}
for i = 1, 5 do B.time_spawn({ B.binary, "version" }, env) end   -- warm the page cache
for i = 1, runs do
  tru[i] = B.time_spawn({ "/bin/true" }, env)
  ver[i] = B.time_spawn({ B.binary, "version" }, env)
end
local st, sv = B.stats(tru), B.stats(ver)
B.report("spawn /bin/true (reference)", st)
B.report("candor version", sv)
print(string.format("candor version beyond fork+exec: %.2f ms; target < 5 ms wall: %s",
  sv.median - st.median, sv.median < 5 and "met" or "NOT met"))
