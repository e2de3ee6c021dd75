-- candor session action and candor session chat as a user meets them.
local T = require "candor.testing"
local json = require "candor.json"
local dbm = require "candor.db"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")

local env = T.fake_cli_env

-- A database with a generated session; returns dir, fake, session id.
local function setup(extra)
  local dir = T.tmpdir()
  local db = dbm.open(dir .. "/c.db")
  require("candor.seed").run(db)
  local fake = Fake.start(F.script(db, extra))
  db:close()
  local r = T.candor_async({ "session", "new", "--pain", "Flaky tests waste CI time", "--assets", "battlecard",
    "--voice", "practitioner-community", "--pipeline", "standard", "--json" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  return dir, fake, json.decode(r.out).session.id
end

T.test("session action: progress lines, then the new version and its scores; --json for scripts", function()
  local dir, fake, id = setup { { purpose = "^change%-voice", text = F.good } }
  local r = T.candor_async({ "session", "action", "change-voice", id, "--voice", "sales-enablement" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  T.contains(r.err, "rewriting into sales-enablement")
  T.contains(r.out, "change-voice battlecard: version 2 (passes its gates)")
  r = T.candor_async({ "session", "action", "adversarial", id, "--json" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  T.eq(json.decode(r.out).version_number, 3)
  r = T.candor_async({ "session", "action", "brainstorm", id }, env(dir, fake))
  T.eq(r.code, 2)
  T.contains(r.err, "no action 'brainstorm' (actions: deslop, regenerate")
  r = T.candor_async({ "session", "action", "deslop", id }, env(dir, fake))
  T.eq(r.code, 1)
  T.contains(r.err, "no slop or vendor-speak spans to rewrite")
  r = T.candor_async({ "session", "action", "regenerate", "nope" }, env(dir, fake))
  T.eq(r.code, 1)
  T.contains(r.err, "no session 'nope'")
  fake.close()
end)

T.test("session chat: one message from stdin streams the reply; --accept makes a version; --history", function()
  local reply = "Tighter opening below.\n<<<proposal battlecard>>>\n" .. F.good .. "\n<<<end proposal>>>\n"
  local dir, fake, id = setup { { purpose = "^workspace:chat", text = reply } }
  local o = env(dir, fake)
  o.stdin = "Make the opening shorter."
  local r = T.candor_async({ "session", "chat", id, "--asset", "battlecard" }, o)
  T.eq(r.code, 0, r.err)
  T.eq(r.out, reply)
  T.contains(r.err, "a revised battlecard is proposed")
  r = T.candor_async({ "session", "chat", id, "--accept" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  T.contains(r.out, "accepted: battlecard version 2")
  r = T.candor_async({ "session", "chat", id, "--accept" }, env(dir, fake))
  T.eq(r.code, 2)
  T.contains(r.err, "already accepted")
  r = T.candor_async({ "session", "chat", id, "--history" }, env(dir, fake))
  T.contains(r.out, "user:\nMake the opening shorter.")
  o.stdin = "   "
  T.eq(T.candor_async({ "session", "chat", id }, o).code, 2, "an empty message is a usage error")
  fake.close()
end)

T.test("schedule refuses workspace actions and pipelines with a clear pointer", function()
  local dir = T.tmpdir()
  local r = T.candor({ "schedule", "add", "--workflow", "actions/deslop", "--every", "1d" }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "is a workspace action")
  r = T.candor({ "schedule", "add", "--workflow", "pipelines/standard", "--every", "1d" }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "auto_generate")
  r = T.candor({ "generate", "--pain", "x", "--assets", "battlecard", "--focus", "bad \255" }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "the --focus text is not valid UTF-8")
end)

T.test("a discovery schedule's config is checked by its source when it is added or edited", function()
  local dir = T.tmpdir()
  local r = T.candor({ "schedule", "add", "--discovery", "--priority", "general", "--source", "discourse", "--every", "4h" },
    T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "the discourse config is not usable")
  T.contains(r.err, "base_url")
  r = T.candor({ "schedule", "add", "--discovery", "--priority", "general", "--source", "hn", "--every", "4h",
    "--config", '{"limit":"x"}' }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, '"limit" must be a whole number')
  r = T.candor({ "schedule", "add", "--discovery", "--priority", "general", "--source", "hn", "--every", "4h" },
    T.fake_cli_env(dir))
  T.eq(r.code, 0, r.err)
  local id = r.out:match("schedule (%S+)")
  r = T.candor({ "schedule", "edit", id, "--config", '{"limit":0}' }, T.fake_cli_env(dir))
  T.eq(r.code, 2)
  T.contains(r.err, "the hn config is not usable")
end)
