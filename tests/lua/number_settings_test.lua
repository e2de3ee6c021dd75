-- Settings that are whole numbers (token budgets and limits, concurrency, the
-- request timeout, retries, refinement rounds, retention days): read through
-- one helper, so a value such as "1.5", "0" or "abc" gives the default and a
-- warning naming it, never a crash deep in a run nor a silent fallback.
local T = require "candor.testing"
local S = require "candor.repo.settings"
local profiles = require "candor.llm.profiles"
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")

-- fn() with standard error caught -> what fn wrote there, and fn's results.
local function stderr_of(fn)
  local real, written = io.stderr, {}
  io.stderr = { write = function(self, ...)
    for _, s in ipairs { ... } do written[#written + 1] = tostring(s) end
    return self
  end }
  local ok, a, b = pcall(fn)
  io.stderr = real
  if not ok then error(a, 0) end
  return table.concat(written), a, b
end

-- A setting key no other test reads, so the helper's once-per-value warning is this test's own.
local n = 0
local function fresh_key()
  n = n + 1
  return string.format("test_setting_%d_%d", n, math.random(1e9))
end

T.test("as_whole_number: decimal digits alone, at least the minimum; anything else is the default, with a warning", function()
  local cases = {   -- value, minimum, result (default 7)
    { nil, nil, 7 }, { "", nil, 7 }, { "12", nil, 12 }, { "007", nil, 7 }, { 3, nil, 3 }, { 3.0, nil, 3 },
    { "0", 0, 0 }, { "0", nil, 7 }, { "1.5", nil, 7 }, { 1.5, nil, 7 }, { "-5", nil, 7 }, { "-5", 0, 7 },
    { "abc", nil, 7 }, { "0x10", nil, 7 }, { "1e3", nil, 7 }, { " 12", nil, 7 }, { "12\n", nil, 7 },
    { "99999999999999999999", nil, 7 },
  }
  for _, c in ipairs(cases) do
    local key = fresh_key()
    local said, got = stderr_of(function() return S.as_whole_number(key, c[1], 7, c[2]) end)
    local what = string.format("%q (minimum %s)", tostring(c[1]), tostring(c[2]))
    T.eq(got, c[3], what)
    if c[1] == nil or c[1] == "" or got ~= 7 or c[1] == "007" then
      T.eq(said, "", "no warning for " .. what)
    else
      T.eq(said, string.format("candor: the %s setting is '%s', not a whole number of %d or more; using 7 instead\n",
        key, tostring(c[1]):gsub("%c", "?"), c[2] or 1), what)
    end
  end
  local key = fresh_key()
  T.eq(stderr_of(function() return S.as_whole_number(key, "1.5", nil) end),
    "candor: the " .. key .. " setting is '1.5', not a whole number of 1 or more; ignoring it\n", "no default: ignored")
  T.eq(stderr_of(function() return S.as_whole_number(key, "1.5", nil) end), "", "the same value is warned of once")
  T.ok(stderr_of(function() return S.as_whole_number(key, "2.5", nil) end) ~= "", "a new value is warned of again")
end)

T.test("whole_number(db, ...) reads the setting; every token, limit and count setting goes through it", function()
  local db = F.db()
  S:set_value(db, "pain_context_tokens", "1.5")
  S:set_value(db, "document_context_tokens", "0")
  local research = require "candor.pipeline.research"
  local said, budgets = stderr_of(function() return research.budgets(db) end)
  T.eq(budgets, { pain = 6000, documents = 24000 })
  T.contains(said, "the pain_context_tokens setting is '1.5'")
  T.contains(said, "the document_context_tokens setting is '0'")
  S:set_value(db, "pain_context_tokens", "100")
  T.eq(research.budgets(db).pain, 100)
  T.eq(S:whole_number(db, "pain_context_tokens", 5), 100)
  T.eq(S:whole_number(db, "no_such_setting", 5), 5)

  -- the profile's numbers: a bad one is the default (or none), never a float or a crash
  local settings = { llm_max_input_tokens = "1.5", llm_max_concurrency = "0", llm_request_timeout_seconds = "abc",
                     llm_max_retries = "0" }
  T.with_llm_env({ CANDOR_PROFILE = "local", CANDOR_LOCAL_MODEL = "m" }, function()
    local t
    said = stderr_of(function() t = profiles.resolve("flash", { settings = settings }) end)
    T.eq({ t.max_input_tokens, t.limits.concurrency, t.timeout_ms, t.attempts },
      { profiles.default_max_input_tokens, nil, nil, 1 }, "0 retries is one attempt")
    T.eq(math.type(t.max_input_tokens), "integer")
    for _, k in ipairs { "llm_max_input_tokens", "llm_max_concurrency", "llm_request_timeout_seconds" } do
      T.contains(said, "the " .. k .. " setting is '" .. settings[k] .. "'")
    end
    T.ok(not said:find("llm_max_retries"), "0 retries is a value, not a mistake")
    settings = { llm_max_input_tokens = "5000", llm_max_concurrency = "3", llm_request_timeout_seconds = "45",
                 llm_max_retries = "-1" }
    said = stderr_of(function() t = profiles.resolve("flash", { settings = settings }) end)
    T.eq({ t.max_input_tokens, t.limits.concurrency, t.timeout_ms, t.attempts }, { 5000, 3, 45000, nil })
    T.contains(said, "the llm_max_retries setting is '-1', not a whole number of 0 or more; ignoring it")
  end)

  -- refinement rounds: 0 means none; a bad value is the default 3
  F.with_fake(F.script(db), function()
    local pipeline = require "candor.pipeline"
    local function rounds()
      return pipeline.prepare(db, { pain = F.pain, assets = { "battlecard" }, pipeline = "standard",
        voices = { "practitioner-community" } }).max_iterations
    end
    S:set_value(db, "max_refinement_iterations", "0")
    T.eq(rounds(), 0)
    S:set_value(db, "max_refinement_iterations", "2.5")
    said = stderr_of(function() T.eq(rounds(), 3) end)
    T.contains(said, "the max_refinement_iterations setting is '2.5'")
  end)

  -- retention days: 0 keeps the calls, and so does a value that is not a whole number
  local calls = require "candor.repo.llm_calls"
  calls:insert(db, { timestamp = "2020-01-01T00:00:00.000Z", model = "m", purpose = "old", user_prompt = "x" })
  S:set_value(db, "llm_call_retention_days", "0.5")
  said = stderr_of(function() T.eq(require("candor.llm.log").prune(db), 0) end)
  T.contains(said, "the llm_call_retention_days setting is '0.5', not a whole number of 0 or more; ignoring it")
  S:set_value(db, "llm_call_retention_days", "1")
  T.eq(require("candor.llm.log").prune(db), 1)
  db:close()
end)

T.test("llm ask with llm_max_input_tokens '1.5': a warning and the default limit, not a Lua error", function()
  local fake = Fake.start { { text = "Flaky tests waste time." } }
  local dir = T.tmpdir()
  T.eq(T.candor_async({ "init" }, T.fake_cli_env(dir, fake)).code, 0)
  local r = T.candor_async({ "sql", "--write", "UPDATE settings SET value = '1.5' WHERE key = 'llm_max_input_tokens'" },
    T.fake_cli_env(dir, fake))
  T.eq(r.code, 0, r.err)
  r = T.candor_async({ "llm", "ask", "hi" }, T.fake_cli_env(dir, fake))
  T.eq({ r.code, r.out }, { 0, "Flaky tests waste time.\n" }, r.err)
  T.eq(r.err, "candor: the llm_max_input_tokens setting is '1.5', not a whole number of 1 or more; using "
    .. profiles.default_max_input_tokens .. " instead\n")
  fake.close()
end)

T.test("a request over the input limit names its target once", function()
  local fake = Fake.start { { text = "never sent" } }
  local dir = T.tmpdir()
  T.eq(T.candor_async({ "init" }, T.fake_cli_env(dir, fake)).code, 0)
  T.eq(T.candor_async({ "sql", "--write", "UPDATE settings SET value = '10' WHERE key = 'llm_max_input_tokens'" },
    T.fake_cli_env(dir, fake)).code, 0)
  local r = T.candor_async({ "llm", "ask", string.rep("flaky tests ", 20) }, T.fake_cli_env(dir, fake))
  T.eq(r.code, 1)
  T.eq(r.err, "candor: openai:fake-local: the request is about 62 input tokens, over the limit of 10; nothing was sent: "
    .. "send less text, or raise the llm_max_input_tokens setting\n")
  T.eq(#fake.calls, 0)
  fake.close()
end)
