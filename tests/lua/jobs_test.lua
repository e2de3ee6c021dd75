-- Job tracking: the generation_jobs row as a run goes, the steps log, recovery.
local T = require "candor.testing"
local dbm = require "candor.db"
local jobs = require "candor.jobs"
local json = require "candor.json"
local async = require "candor.async"
local uv = require "luv"

local function fresh()
  return dbm.open(T.tmpdir() .. "/c.db")
end

-- What another process sees: the row read through a second connection.
local function peek(path, id)
  local other = dbm.open(path)
  local row = require("candor.repo.generation_jobs"):get(other, id)
  other:close()
  return row
end

local dead_pid = T.dead_pid

T.test("create: a pending job with an empty steps log", function()
  local db = fresh()
  local row = jobs.create(db, { product_context = { pipeline = "standard", assetTypes = { "battlecard" } } })
  T.eq(#row.id, 21)
  T.eq(db:value("SELECT status FROM generation_jobs WHERE id = ?", row.id), "pending")
  T.eq(db:value("SELECT pipeline_steps FROM generation_jobs WHERE id = ?", row.id), "[]")
  T.eq(db:value("SELECT progress FROM generation_jobs WHERE id = ?", row.id), 0)
  T.eq(json.decode(db:value("SELECT product_context FROM generation_jobs WHERE id = ?", row.id)).pipeline, "standard")
  db:close()
end)

T.test("track, progress, steps, complete: each change is in the row within the throttle window", function()
  local dir = T.tmpdir()
  local path = dir .. "/c.db"
  local db = dbm.open(path)
  local row = jobs.create(db, { product_context = { pipeline = "standard" } })
  local job = assert(jobs.track(db, row.id))
  T.eq(job.id, row.id)
  local seen = peek(path, row.id)
  T.eq(seen.status, "running")
  T.ok(seen.started_at, "started_at set")
  T.eq(seen.product_context.runner.pid, math.tointeger(uv.os_getpid()))
  T.eq(seen.product_context.runner.host, uv.os_gethostname())
  T.eq(seen.product_context.pipeline, "standard", "the rest of product_context kept")

  local function settle() async.run(function() async.sleep(jobs.throttle_ms + 10) end) end
  local s = job:begin("research", { kind = "insights" })
  settle()
  T.eq(peek(path, row.id).pipeline_steps[1].status, "running")
  T.eq(peek(path, row.id).pipeline_steps[1].kind, "insights")
  s:add_tokens(100, 20, "gemini:flash")
  s:add_tokens(50, 5, { provider = "gemini", model = "flash" })
  s:add_tokens(10, 1, "anthropic:sonnet")
  s:iteration { n = 1, scores = { slop = 4.5 }, pass = false, failing = { "slop" } }
  s:iteration { n = 2, scores = { slop = 1.5 }, pass = true }
  T.ok(s:finish("done", { note = "ok" }))
  T.eq(s:finish("failed"), false, "a finished step stays finished")
  settle()
  local steps = peek(path, row.id).pipeline_steps
  T.eq(steps[1].input_tokens, 160)
  T.eq(steps[1].output_tokens, 26)
  T.eq(steps[1].models, { "gemini:flash", "anthropic:sonnet" })
  T.eq(#steps[1].iterations, 2)
  T.eq(steps[1].iterations[1].failing, { "slop" })
  T.eq(steps[1].status, "done")
  T.eq(steps[1].note, "ok")
  T.ok(steps[1].ended_at and steps[1].duration_ms >= 0, "ended_at and duration_ms")
  T.eq(job:steps()[1].name, "research")
  T.raises(function() s:finish("bogus") end, "status must be")

  -- (the throttling itself is tracker_test's, for this table and action_jobs)
  job:progress(45, "generate more")
  T.ok(job:complete { assets = 3 })
  local done = peek(path, row.id)
  T.eq({ done.status, done.progress, done.current_step }, { "completed", 100, "done" })
  T.ok(done.completed_at, "completed_at")
  T.eq(done.product_context.result, { assets = 3 })
  T.eq(job:fail("late"), false, "a completed job cannot fail afterwards")
  T.eq(peek(path, row.id).status, "completed")
  db:close()
end)

T.test("steps from concurrent tasks: every begin and finish kept", function()
  local dir = T.tmpdir()
  local path = dir .. "/c.db"
  local db = dbm.open(path)
  local job = assert(jobs.track(db, jobs.create(db, {})))
  local combos = {}
  for _, a in ipairs({ "battlecard", "talk_track", "one_pager" }) do
    for _, v in ipairs({ "practitioner", "executive" }) do combos[#combos + 1] = { a, v } end
  end
  async.run(function()
    async.each(combos, function(c, i)
      local s = job:begin("generate " .. c[1] .. " x " .. c[2], { asset = c[1], voice = c[2] })
      async.sleep((#combos - i) * 3)
      s:add_tokens(10, 2, "openai:fake")
      s:iteration { n = 1, scores = { slop = i }, pass = i % 2 == 0 }
      async.sleep(i)
      s:add_tokens(5, 1, "openai:fake")
      s:finish(i == 3 and "fallback" or "done")
      job:progress(i * 10)
    end)
  end)
  job:complete()
  local steps = peek(path, job.id).pipeline_steps
  T.eq(#steps, #combos)
  local total = 0
  for _, s in ipairs(steps) do
    T.ok(s.status == "done" or s.status == "fallback", s.name .. " " .. tostring(s.status))
    T.eq(s.input_tokens, 15, s.name)
    T.eq(s.models, { "openai:fake" })
    T.eq(#s.iterations, 1)
    total = total + s.output_tokens
  end
  T.eq(total, 3 * #combos)
  db:close()
end)

T.test("fail: the error stored, open steps failed, finished steps kept", function()
  local dir = T.tmpdir()
  local path = dir .. "/c.db"
  local db = dbm.open(path)
  local job = assert(jobs.track(db, jobs.create(db, {})))
  job:begin("research"):finish()
  job:begin("generate battlecard")
  local late = job:begin("generate talk_track")
  T.ok(job:fail("the provider blocked the answer", "stack traceback:\n  x.lua:1"))
  local row = peek(path, job.id)
  T.eq(row.status, "failed")
  T.eq(row.error_message, "the provider blocked the answer")
  T.contains(row.error_stack, "x.lua:1")
  T.ok(row.completed_at, "completed_at")
  T.eq({ row.pipeline_steps[1].status, row.pipeline_steps[2].status, row.pipeline_steps[3].status },
    { "done", "failed", "failed" })
  T.eq(late:finish(), false, "a step ended by the job's failure stays failed")
  T.eq(peek(path, job.id).pipeline_steps[3].status, "failed")
  db:close()
end)

T.test("track: unknown, completed and live running jobs are refused; a failed job runs again", function()
  local db = fresh()
  local r, err = jobs.track(db, "nope")
  T.eq(r, nil)
  T.contains(err, "no job 'nope'")
  local job = assert(jobs.track(db, jobs.create(db, {})))
  r, err = jobs.track(db, job.id)
  T.eq(r, nil)
  T.contains(err, "already running")
  job:fail("first try")
  local again = assert(jobs.track(db, job.id))
  T.eq(again.row.retry_count, 1)
  T.eq(again.row.error_message, nil)
  again:complete()
  r, err = jobs.track(db, job.id)
  T.eq(r, nil)
  T.contains(err, "already completed")
  db:close()
end)

T.test("writes inside a transaction wait for it to end", function()
  local dir = T.tmpdir()
  local path = dir .. "/c.db"
  local db = dbm.open(path)
  local job = assert(jobs.track(db, jobs.create(db, {})))
  async.run(function()
    T.raises(function()
      db:transaction(function()
        job:begin("store")
        error("store failed")
      end)
    end, "store failed")
    async.sleep(jobs.throttle_ms * 3)
  end)
  T.eq(#peek(path, job.id).pipeline_steps, 1, "the step written after the rollback")
  db:transaction(function() job:complete() end)
  T.eq(peek(path, job.id).status, "running", "not inside the transaction")
  async.run(function() async.sleep(jobs.throttle_ms * 3) end)
  T.eq(peek(path, job.id).status, "completed", "after it")
  db:close()
end)

T.test("recover: dead runners failed with a message; live, other-host and pending jobs left alone", function()
  local db = fresh()
  local R = require "candor.repo.generation_jobs"
  local me = uv.os_gethostname()
  local pid = dead_pid()
  local dead = jobs.create(db, {})
  R:update(db, dead.id, { status = "running", pipeline_steps = { { name = "generate", status = "running",
    started_at = require("core.host").now() } },
    product_context = { pipeline = "standard", runner = { pid = pid, host = me, started_at = "x" } } })
  local anonymous = jobs.create(db, {})
  R:update(db, anonymous.id, { status = "running" })
  local elsewhere = jobs.create(db, {})
  R:update(db, elsewhere.id, { status = "running",
    product_context = { runner = { pid = pid, host = me .. "-not-this-one", started_at = "x" } } })
  local live = assert(jobs.track(db, jobs.create(db, {})))
  local pending = jobs.create(db, {})
  -- our own pid, but no tracker in this process: a stale job from an earlier
  -- process that happened to have the same pid
  local reused = jobs.create(db, {})
  R:update(db, reused.id, { status = "running",
    product_context = { runner = { pid = math.tointeger(uv.os_getpid()), host = me, started_at = "x" } } })

  T.eq(jobs.recover(db), 3)
  local row = R:get(db, dead.id)
  T.eq(row.status, "failed")
  T.contains(row.error_message, string.format("the process running this job (pid %d) stopped before it finished", pid))
  T.ok(row.completed_at, "completed_at")
  T.eq(row.pipeline_steps[1].status, "failed", "its open step too")
  T.eq(row.product_context.pipeline, "standard")
  T.eq(R:get(db, anonymous.id).status, "failed")
  T.contains(R:get(db, anonymous.id).error_message, "stopped before it finished")
  T.eq(R:get(db, reused.id).status, "failed")
  T.eq(R:get(db, elsewhere.id).status, "running")
  T.eq(R:get(db, live.id).status, "running")
  T.eq(R:get(db, pending.id).status, "pending")
  T.eq(jobs.recover(db), 0, "nothing left to mark")
  live:complete()
  db:close()
end)

T.test("iso_seconds reads the timestamps the host writes", function()
  T.eq(jobs.iso_seconds("1970-01-01T00:00:00.000Z"), 0.0)
  T.eq(jobs.iso_seconds("2000-03-01T00:00:01.500Z"), 951868801.5)
  T.eq(jobs.iso_seconds("nonsense"), nil)
  local now = jobs.iso_seconds(require("core.host").now())
  T.ok(math.abs(now - os.time()) < 5, "close to os.time()")
end)
