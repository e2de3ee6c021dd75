-- candor generate as a user meets it, and a run killed in the middle: no
-- half-written asset, and the job marked failed at the next start.
local T = require "candor.testing"
local json = require "candor.json"
local uv = require "luv"
local async = require "candor.async"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local Fake = dofile(T.root .. "/tests/fake_llm/server.lua")
local dbm = require "candor.db"

local env = T.fake_cli_env

local function seeded(dir)
  local db = dbm.open(dir .. "/c.db")
  require("candor.seed").run(db)
  return db
end

T.test("generate: plain progress lines, a table of assets x voices with gates, the job id; --json for scripts", function()
  local dir = T.tmpdir()
  local db = seeded(dir)
  local fake = Fake.start(F.script(db))
  db:close()
  local pain = T.write_file(dir .. "/pain.md", "# Flaky tests waste CI time\n\nWe re-run builds by hand.\n")
  local r = T.candor_async({ "generate", "--pain-file", pain, "--assets", "battlecard,social_hook",
    "--voices", "practitioner-community,sales-enablement", "--pipeline", "standard" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  T.contains(r.err, "[  0%] starting")
  T.contains(r.err, "stored battlecard")
  T.contains(r.out, "battlecard          practitioner-community")
  T.contains(r.out, "social_hook         sales-enablement")
  local job_id = r.out:match("job (%S+) %(standard pipeline%): 2 assets")
  T.ok(job_id, "the job id is printed: " .. r.out)
  local shown = T.candor_async({ "jobs", "show", job_id }, env(dir, fake))
  T.contains(shown.out, "stopped: pass", "why each refine loop stopped")
  T.eq(T.candor_async({ "assets", "list", "--status", "bogus" }, env(dir, fake)).code, 2)
  r = T.candor_async({ "generate", "--pain-file", pain, "--assets", "narrative", "--json", "--pipeline", "standard" }, env(dir, fake))
  T.eq(r.code, 0, r.err)
  local out = json.decode(r.out)
  T.eq({ out.status, #out.assets, out.assets[1].asset_type, out.assets[1].variants[1].voice },
       { "completed", 1, "narrative", "practitioner-community" })
  T.eq(r.err, "", "--json prints no progress")
  fake.close()
end)

T.test("generate: wrong input is a usage error (exit 2) naming the problem; a missing key exits 1 naming the variable", function()
  local dir = T.tmpdir()
  seeded(dir):close()
  local fake = Fake.start {}
  local cases = {
    { { "generate", "--assets", "all" }, "give one of %-%-pain" },
    { { "generate", "--pain", "x", "--pain-id", "y", "--assets", "all" }, "give one of" },
    { { "generate", "--pain", "x", "--assets", "brochure" }, "unknown asset type 'brochure'" },
    { { "generate", "--pain", "x", "--assets", "all", "--voices", "pirate" }, "no voice profile 'pirate'" },
    { { "generate", "--pain", "x", "--assets", "all", "--max-iterations", "-1" }, "max%-iterations" },
    { { "generate", "--pain", "x", "--assets", "battlecard", "--pipeline", "straight-through" }, "give %-%-text" },
    { { "generate", "--pain", "x", "--bogus" }, "unknown option %-%-bogus" },
  }
  for _, c in ipairs(cases) do
    local r = T.candor_async(c[1], env(dir, fake))
    T.eq(r.code, 2, table.concat(c[1], " ") .. "\n" .. r.err)
    T.ok(r.err:find(c[2]), r.err)
  end
  local r = T.candor_async({ "generate", "--pain", "x", "--assets", "all" },
    env(dir, fake, { CANDOR_PROFILE = "production" }))
  T.eq(r.code, 1)
  T.contains(r.err, "set GEMINI_API_KEY or GOOGLE_API_KEY")
  local db = dbm.open(dir .. "/c.db")
  T.eq(db:value("SELECT count(*) FROM generation_jobs"), 0, "nothing started")
  db:close()
  fake.close()
end)

T.test("a run killed in the middle leaves every stored asset whole; the next start marks the job failed", function()
  local dir = T.tmpdir()
  local db = seeded(dir)
  -- drafts of the later assets answer slowly, so the kill lands between stores
  local script = F.script(db, { { purpose = "^generate:[^:]*battlecard", text = F.good },
                                { purpose = "^generate", text = F.good, delay_ms = 5000 } })
  db:close()
  local fake = Fake.start(script)
  local e = env(dir, fake)
  local args = { "generate", "--pain", "Flaky tests waste CI time", "--assets", "battlecard,narrative,email_copy",
                 "--voices", "practitioner-community", "--pipeline", "standard" }
  local envv = {}
  for k, v in pairs(e.env) do envv[#envv + 1] = k .. "=" .. v end
  envv[#envv + 1] = "PATH=" .. os.getenv("PATH")
  local exited = false
  local child = uv.spawn(T.binary, { args = args, env = envv, stdio = { nil, nil, nil } }, function() exited = true end)
  local watch = dbm.open(dir .. "/c.db")
  local stored = 0
  for _ = 1, 200 do
    async.sleep(25)
    stored = watch:value("SELECT count(*) FROM messaging_assets")
    if stored >= 1 then break end
  end
  T.eq(stored, 1, "the first asset was stored before the kill")
  child:kill("sigkill")
  for _ = 1, 100 do if exited then break end async.sleep(10) end
  child:close()
  T.eq(watch:value("PRAGMA integrity_check"), "ok")
  T.eq(watch:value("SELECT status FROM generation_jobs"), "running", "nobody has noticed yet")
  for _, a in ipairs(watch:query("SELECT id FROM messaging_assets")) do
    T.eq(watch:value("SELECT count(*) FROM asset_variants WHERE asset_id = ?", a.id), 1)
    T.eq(watch:value("SELECT count(*) FROM asset_traceability WHERE asset_id = ?", a.id), 1)
    T.eq(watch:value("SELECT count(*) FROM persona_scores WHERE asset_id = ?", a.id), 5)
  end
  watch:close()
  local r = T.candor_async({ "jobs", "list" }, e)
  T.contains(r.err, "left unfinished by a process that stopped: 1 generation job marked failed")
  local check = dbm.open(dir .. "/c.db")
  local job = check:first("SELECT * FROM generation_jobs")
  T.eq(job.status, "failed")
  T.contains(job.error_message, "stopped before it finished")
  check:close()
  fake.close()
end)
