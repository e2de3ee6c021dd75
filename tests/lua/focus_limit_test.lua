-- Focus instructions go into every prompt of a run: where they enter (a run's
-- inputs, a new session) they are capped at pipeline.max_focus_chars characters.
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local pipeline = require "candor.pipeline"

-- fn() must raise a usage error (exit code 2) -> its message.
local function usage_message(fn, what)
  local ok, err = pcall(fn)
  T.ok(not ok and type(err) == "table" and err.kind == "usage",
    what .. ": a usage error, got " .. (ok and "none" or tostring(type(err) == "table" and err.message or err)))
  return err.message
end

T.test("focus: a few thousand characters at most, counted as characters, checked before anything is written", function()
  local max = pipeline.max_focus_chars
  T.ok(max >= 2000 and max <= 10000, "a few thousand characters: " .. max)
  local db = F.db()
  F.with_fake(F.script(db), function()
    local function prepare(focus)
      return pipeline.prepare(db, { pain = F.pain, assets = { "battlecard" }, pipeline = "standard",
        voices = { "practitioner-community" }, focus = focus })
    end
    T.eq(prepare(string.rep("é", max)).focus, string.rep("é", max), "the limit is in characters, not bytes")
    local msg = usage_message(function() prepare(string.rep("x", max + 1)) end, "one past the limit")
    T.eq(msg, string.format("the --focus text is %d characters long, over the limit of %d: it goes into every prompt, "
      .. "so keep it to what the drafts must do", max + 1, max))
    usage_message(function() prepare(string.rep("x", 100 * 1024)) end, "100 KB")
    T.contains(usage_message(function() prepare("bad \255") end, "not UTF-8"), "the --focus text is not valid UTF-8")
    T.eq(db:value("SELECT count(*) FROM generation_jobs"), 0)

    local W = require("candor.workspace").for_user(db, "local")
    local function create(focus)
      return W:create { pain = F.pain, asset_types = { "battlecard" }, pipeline = "standard", focus = focus }
    end
    msg = usage_message(function() create(string.rep("x", max + 1)) end, "a session's focus")
    T.contains(msg, string.format("the focus text is %d characters long, over the limit of %d", max + 1, max))
    T.contains(usage_message(function() create("bad \255") end, "a session's focus, not UTF-8"),
      "the focus text is not valid UTF-8")
    T.eq(db:value("SELECT count(*) FROM sessions"), 0, "no session written")
    T.eq(create("  platform teams  ").focus_instructions, "platform teams")
  end)
  db:close()
end)

T.test("focus: 100 KB on the command line is a usage error", function()
  local dir = T.tmpdir()
  local big = string.rep("focus on platform teams ", 4300)   -- about 100 KB
  for _, argv in ipairs {
    { "generate", "--pain", "Flaky tests", "--assets", "battlecard", "--focus", big },
    { "session", "new", "--pain", "Flaky tests", "--assets", "battlecard", "--no-generate", "--focus", big },
  } do
    local r = T.candor(argv, T.fake_cli_env(dir))
    T.eq(r.code, 2, argv[1] .. ": " .. r.err)
    T.contains(r.err, string.format("characters long, over the limit of %d", pipeline.max_focus_chars))
  end
end)
