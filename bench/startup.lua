-- Cold start of `candor version` (target: median under 5 ms wall), against
-- /bin/true in the same run: what any fork+exec costs on this machine.
-- Measured with hyperfine (no shell, 500 runs); without it, with a spawn loop
-- from this process, whose fork of a larger parent inflates both figures.
local B = dofile(require("candor.paths").root .. "/bench/common.lua")
local cjson = require "cjson"

local function hyperfine()
  local out = os.tmpname()
  local cmd = string.format("hyperfine -N --warmup 30 --runs 500 --export-json %s '%s version' /bin/true >/dev/null 2>&1",
    out, B.binary)
  local ok = os.execute(cmd)
  if not ok then os.remove(out) return nil end
  local f = io.open(out)
  local data = cjson.decode(f:read("a"))
  f:close()
  os.remove(out)
  local res = {}
  for _, r in ipairs(data.results) do
    res[#res + 1] = { median = r.median * 1000, n = #r.times }
  end
  return res[1], res[2], "hyperfine"
end

local function spawn_loop(runs)
  local env = B.environ({})
  local tru, ver = {}, {}
  for _ = 1, 5 do B.time_spawn({ B.binary, "version" }, env) end
  for i = 1, runs do
    tru[i] = B.time_spawn({ "/bin/true" }, env)
    ver[i] = B.time_spawn({ B.binary, "version" }, env)
  end
  return B.stats(ver), B.stats(tru), "spawn loop"
end

local ver, tru, how = hyperfine()
if not ver then ver, tru, how = spawn_loop(200) end
print(string.format("%-36s median %6.2f ms  (n=%d, %s)", "/bin/true (reference)", tru.median, tru.n, how))
print(string.format("%-36s median %6.2f ms  (n=%d, %s)", "candor version", ver.median, ver.n, how))
print(string.format("candor version beyond fork+exec: %.2f ms; target median < 5 ms: %s",
  ver.median - tru.median, ver.median < 5 and "met" or "NOT met"))
