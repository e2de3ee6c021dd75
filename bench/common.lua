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

-- The fake LLM server as a process of its own (tests/fake_llm/serve.lua), so
-- CPU figures count the client alone: fake_server(args) -> {url, stop()}.
-- Call inside a task.
function M.fake_server(args)
  local stdin, stdout = uv.new_pipe(false), uv.new_pipe(false)
  local exit_wake, exited = nil, false
  local handle
  handle = uv.spawn(M.binary, { args = { "lua", require("candor.paths").root .. "/tests/fake_llm/serve.lua",
    table.unpack(args) }, stdio = { stdin, stdout, 2 } }, function()
      exited = true
      handle:close()
      if exit_wake then exit_wake() end
    end)
  if not handle then error("cannot start the fake server") end
  local url = async.suspend(function(wake)
    local buf = ""
    stdout:read_start(function(err, data)
      if err or not data then return wake(nil) end
      buf = buf .. data
      local line = buf:match("^([^\n]*)\n")
      if line then stdout:read_stop() wake(line) end
    end)
  end)
  if not url then error("the fake server printed no URL") end
  local server = { url = url }
  function server.stop()
    stdout:close()
    stdin:close()                       -- its stdin closes: it exits
    if not exited then async.suspend(function(wake) exit_wake = wake end) end
  end
  return server
end

-- script_file(dir, script) -> path: a script for tests/fake_llm/serve.lua --script.
function M.script_file(dir, script)
  local path = dir .. "/script.lua"
  local f = assert(io.open(path, "w"))
  f:write("return require('cjson').decode([==[", require("candor.json").encode(script), "]==])\n")
  f:close()
  return path
end

-- judge_answer(db, score) -> the combined judge's JSON, every active critic at score.
function M.judge_answer(db, score)
  local personas = {}
  for _, c in ipairs(require("candor.repo.persona_critics"):active(db)) do
    personas[#personas + 1] = { critic = c.name, score = score, feedback = "ok", strengths = { "numbers" },
                                weaknesses = { "price" } }
  end
  return { authenticity = { score = score, remarks = {} }, narrative_arc = { score = score - 1, remarks = {} },
           personas = personas }
end

-- Every tier of the local profile to the server at url, as the environment would say.
function M.use_server(url)
  local profiles = require "candor.llm.profiles"
  local env = { CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "bench-model", OPENAI_BASE_URL = url .. "/v1" }
  profiles.getenv = function(name) return env[name] end
  profiles.config_path = function() return "/nonexistent/candor-bench-config.lua" end
end

-- User plus system CPU seconds of this process so far.
function M.cpu_seconds()
  local r = uv.getrusage()
  return r.utime.sec + r.utime.usec / 1e6 + r.stime.sec + r.stime.usec / 1e6
end


return M
