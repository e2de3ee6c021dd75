-- A small test library for Candor's Lua tests (tests/lua/*_test.lua), run by
-- tests/run.lua inside the host so tests use the real modules and loop.
local paths = require "candor.paths"
local pretty = require "candor.pretty"

local M = { tests = {}, root = paths.root }

function M.test(name, fn)
  M.tests[#M.tests + 1] = { name = name, fn = fn, file = M.current_file }
end

local function deep_eq(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do if not deep_eq(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.deep_eq = deep_eq

local function show(v) return pretty.format(v, { depth = 3 }) end

function M.eq(got, want, what)
  if not deep_eq(got, want) then
    error(string.format("%s\n   got: %s\n  want: %s", what or "values differ", show(got), show(want)), 2)
  end
end

function M.ok(cond, what)
  if not cond then error(what or "expected a true value", 2) end
  return cond
end

-- raises(fn, pattern) -> the error message; fails unless fn raises a matching error.
function M.raises(fn, pattern, what)
  local ok, err = pcall(fn)
  if ok then error((what or "expected an error") .. (pattern and (" matching '" .. pattern .. "'") or ""), 2) end
  local msg = type(err) == "table" and (err.message or show(err)) or tostring(err)
  if pattern and not msg:find(pattern) then
    error(string.format("%s\n  error: %s\n  want match: %s", what or "wrong error", msg, pattern), 2)
  end
  return msg
end

function M.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    error(string.format("%s\n  text: %s\n  want substring: %s", what or "substring missing",
      tostring(haystack), needle), 2)
  end
end

local tmpdirs = {}
function M.tmpdir()
  local uv = require "luv"
  local dir = assert(uv.fs_mkdtemp("/tmp/candor-test-XXXXXX"))
  tmpdirs[#tmpdirs + 1] = dir
  return dir
end

function M.cleanup()
  for _, d in ipairs(tmpdirs) do os.execute("rm -rf '" .. d .. "'") end
  tmpdirs = {}
end

function M.write_file(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

function M.read_file(path) return paths.read_file(path) end

local function shell_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
M.shell_quote = shell_quote

-- with_llm_env(vars, fn): runs fn while the LLM layer sees only vars as its
-- environment, and no config file unless vars.CONFIG names one; the cassette
-- state is fresh before and after.
function M.with_llm_env(vars, fn)
  local profiles = require "candor.llm.profiles"
  local cassette = package.loaded["candor.llm.cassette"] or require "candor.llm.cassette"
  local real_env, real_path = profiles.getenv, profiles.config_path
  profiles.getenv = function(name) return vars[name] end
  profiles.config_path = function() return vars.CONFIG or "/nonexistent/candor-config.lua" end
  cassette.reset()
  local ok, err = pcall(fn)
  cassette.reset()
  profiles.getenv, profiles.config_path = real_env, real_path
  if not ok then error(err, 0) end
end

-- dead_pid() -> the pid of a process that has exited (inside a task or not):
-- for tests of what happens to work whose process died.
function M.dead_pid()
  local uv = require "luv"
  local async = require "candor.async"
  return async.run(function()
    return async.suspend(function(wake)
      local handle, pid
      handle, pid = uv.spawn("/bin/sh", { args = { "-c", "exit 0" } }, function()
        handle:close()
        wake(pid)
      end)
    end)
  end)
end

-- fake_cli_env(dir, fake [, extra [, unset]]) -> {env, unset} for candor() and
-- candor_async(): a database and XDG directories in dir, every tier of the local
-- profile sent to the fake server (or to a port nothing listens on), and no
-- keys, cassette, cache or CANDOR_PATH from the caller's environment.
function M.fake_cli_env(dir, fake, extra, unset)
  local e = { CANDOR_DB = dir .. "/c.db", HOME = dir, XDG_CONFIG_HOME = dir .. "/config", XDG_STATE_HOME = dir .. "/state",
              CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "fake-local",
              OPENAI_BASE_URL = (fake and fake.url or "http://127.0.0.1:9") .. "/v1" }
  for k, v in pairs(extra or {}) do e[k] = v end
  local u = { "CANDOR_PATH", "OPENAI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "ANTHROPIC_API_KEY",
              "CANDOR_CASSETTE", "CANDOR_LLM_CACHE" }
  for _, name in ipairs(unset or {}) do u[#u + 1] = name end
  return { env = e, unset = u }
end

-- command_line(argv, {env = {K = V}, unset = {names}, cwd = dir}) -> the shell
-- words that run the built binary (the one running the tests) with argv in
-- that environment, for a test to add its redirections to.
function M.command_line(argv, opts)
  opts = opts or {}
  local parts = {}
  if opts.cwd then parts[#parts + 1] = "cd " .. shell_quote(opts.cwd) .. " &&" end
  parts[#parts + 1] = "env"
  for _, k in ipairs(opts.unset or {}) do parts[#parts + 1] = "-u " .. k end
  for k, v in pairs(opts.env or {}) do parts[#parts + 1] = shell_quote(k .. "=" .. v) end
  parts[#parts + 1] = shell_quote(M.binary)
  for _, a in ipairs(argv) do parts[#parts + 1] = shell_quote(a) end
  return table.concat(parts, " ")
end

-- candor(args, {env = {K = V}, stdin = text, cwd = dir}) -> {code, out, err}
-- Runs the built binary as a user would.
function M.candor(argv, opts)
  opts = opts or {}
  local dir = M.tmpdir()
  local stdin = opts.stdin and M.write_file(dir .. "/stdin", opts.stdin) or "/dev/null"
  local cmd = M.command_line(argv, opts) .. " <" .. shell_quote(stdin) .. " >" .. dir .. "/out 2>" .. dir .. "/err"
  local _, _, code = os.execute(cmd)
  return { code = code, out = M.read_file(dir .. "/out") or "", err = M.read_file(dir .. "/err") or "" }
end

-- candor_async(argv, opts): as candor(), but the loop keeps running while the
-- binary does (a fake server in this process can answer it). Call inside a task.
function M.candor_async(argv, opts)
  opts = opts or {}
  local uv = require "luv"
  local async = require "candor.async"
  local dir = M.tmpdir()
  local stdin = opts.stdin and M.write_file(dir .. "/stdin", opts.stdin) or "/dev/null"
  local cmd = M.command_line(argv, opts) .. " <" .. shell_quote(stdin) .. " >" .. dir .. "/out 2>" .. dir .. "/err"
  local code = async.suspend(function(wake)
    local handle
    handle = uv.spawn("/bin/sh", { args = { "-c", cmd } }, function(c) handle:close() wake(c) end)
  end)
  return { code = code, out = M.read_file(dir .. "/out") or "", err = M.read_file(dir .. "/err") or "" }
end

-- Runs the registered tests; prints failures and the closing "N passed, N failed".
-- With CANDOR_TEST_TIMES set, each test's wall time goes to stderr, slowest last.
function M.run_all(filter)
  local passed, failed = 0, 0
  local times = os.getenv("CANDOR_TEST_TIMES") and {}
  for _, t in ipairs(M.tests) do
    if not filter or t.name:find(filter, 1, true) or (t.file or ""):find(filter, 1, true) then
      local t0 = require("luv").hrtime()
      local ok, err = xpcall(t.fn, function(e)
        return debug.traceback(type(e) == "table" and (e.message or show(e)) or tostring(e), 2)
      end)
      if times then times[#times + 1] = { ms = (require("luv").hrtime() - t0) / 1e6, name = (t.file or "?") .. ": " .. t.name } end
      if ok then passed = passed + 1
      else
        failed = failed + 1
        io.stderr:write(string.format("FAIL %s: %s\n  %s\n", t.file or "?", t.name, (err:gsub("\n", "\n  "))))
      end
    end
  end
  M.cleanup()
  if times then
    table.sort(times, function(a, b) return a.ms < b.ms end)
    for _, e in ipairs(times) do io.stderr:write(string.format("%8.0f ms  %s\n", e.ms, e.name)) end
  end
  return passed, failed
end

return M
