-- Helpers for the benchmarks: run a command many times and report wall-time figures.
local uv = require "luv"
local async = require "candor.async"

local M = {}

-- Wall time of one run of argv (spawned directly, no shell), in milliseconds.
function M.time_spawn(argv, env)
  local t0 = uv.hrtime()
  local code = async.suspend(function(wake)
    local handle
    handle = uv.spawn(argv[1], { args = { table.unpack(argv, 2) }, env = env,
      stdio = { nil, nil, nil } }, function(c)
      handle:close()
      wake(c)
    end)
    if not handle then error("cannot run " .. argv[1]) end
  end)
  local ms = (uv.hrtime() - t0) / 1e6
  if code ~= 0 then error(table.concat(argv, " ") .. " exited " .. tostring(code)) end
  return ms
end

function M.stats(samples)
  table.sort(samples)
  local n = #samples
  local function pct(p) return samples[math.max(1, math.ceil(p * n))] end
  return { n = n, median = pct(0.5), p10 = pct(0.1), p90 = pct(0.9), min = samples[1], max = samples[n] }
end

function M.report(label, s, unit)
  unit = unit or "ms"
  print(string.format("%-44s median %7.2f %s  p10 %7.2f  p90 %7.2f  (n=%d)", label, s.median, unit, s.p10, s.p90, s.n))
end

function M.environ(extra)
  local env = {}
  for k, v in pairs(uv.os_environ()) do
    if extra[k] == nil then env[#env + 1] = k .. "=" .. v end
  end
  for k, v in pairs(extra) do if v ~= false then env[#env + 1] = k .. "=" .. v end end
  return env
end

M.binary = require("candor.paths").root .. "/build/candor"

return M
