-- Workflows: loading fresh, parameters, strict globals, limits that scripts cannot dodge.
local T = require "candor.testing"
local workflow = require "candor.workflow"
local dbm = require "candor.db"
local host = require "core.host"

local function write_wf(dir, name, body)
  return T.write_file(dir .. "/" .. name .. ".lua", body)
end

local function run_file(path, params, opts)
  local wf = workflow.load(path)
  return workflow.run(wf, workflow.check_params(wf, params or {}), opts or {})
end

T.test("a workflow is loaded fresh each time: an edit shows on the next run", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "w", 'return { run = function() return "first" end }')
  T.eq(run_file(path).results[1], "first")
  write_wf(dir, "w", 'return { run = function() return "second" end }')
  T.eq(run_file(path).results[1], "second")
end)

T.test("parameters: missing, unknown, defaults and types", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "p", [[
    return { name = "p",
      params = { pain = "the pain point", rounds = { "rounds", type = "number", default = 3 },
                 voices = { "voices", type = "list", required = false } },
      run = function(ctx, p) return p end }]])
  local wf = workflow.load(path)
  local msg = T.raises(function() workflow.check_params(wf, {}) end, "needs %-%-param pain")
  T.contains(msg, "the pain point")
  msg = T.raises(function() workflow.check_params(wf, { pain = "x", colour = "red" }) end, "no parameter 'colour'")
  T.contains(msg, "it takes: pain, rounds, voices")
  T.raises(function() workflow.check_params(wf, { pain = "x", rounds = "many" }) end, "must be a number")
  T.eq(workflow.check_params(wf, { pain = "x" }), { pain = "x", rounds = 3 })
  T.eq(workflow.check_params(wf, { pain = "x", rounds = "5", voices = "a, b" }),
       { pain = "x", rounds = 5, voices = { "a", "b" } })
end)

T.test("reading an undefined global fails at once, naming it", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "typo", 'return { name = "typo", run = function() return pian_point end }')
  local task = run_file(path)
  T.eq(task.status, "failed")
  T.contains(task.error, "undefined global 'pian_point' in workflow 'typo'")
  T.contains(task.error, "typo.lua:1:")
end)

T.test("a runaway loop is stopped with an error naming the workflow", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "spin", 'return { name = "spin", run = function() while true do end end }')
  local task = run_file(path, {}, { instructions = 2000000 })
  T.eq(task.status, "failed")
  T.contains(task.error, "workflow 'spin' stopped: exceeded its instruction limit of 2000000")
  T.contains(task.error, "spin.lua:1:")
end)

T.test("pcall, xpcall and coroutines inside the script cannot swallow the stop", function()
  local dir = T.tmpdir()
  local bodies = {
    "while true do pcall(function() while true do end end) end",
    "while true do xpcall(function() while true do end end, function(e) return e end) end",
    "while true do local co = coroutine.create(function() while true do end end) coroutine.resume(co) end",
    "while true do pcall(coroutine.wrap(function() while true do end end)) end",
  }
  for i, body in ipairs(bodies) do
    local path = write_wf(dir, "sneaky" .. i,
      'return { name = "sneaky", run = function() ' .. body .. ' end }')
    local task = run_file(path, {}, { instructions = 1000000 })
    T.eq(task.status, "failed", body)
    T.contains(task.error, "workflow 'sneaky' stopped", body)
  end
end)

T.test("the memory cap stops a workflow with a clear error and the host recovers", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "hog", [[
    return { name = "hog", run = function()
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep("x", 100000) .. i end
    end }]])
  local task = run_file(path, {}, { memory_mb = 32 })
  T.eq(task.status, "failed")
  T.eq(task.error, "workflow 'hog' stopped: exceeded its memory limit of 32 MiB")
  local _, _, cap = host.memory()
  T.eq(cap, 0, "the cap is lifted after the run")
  T.eq(#string.rep("y", 50 * 1048576), 50 * 1048576, "memory is usable again")
end)

T.test("the time limit stops a workflow that waits too long", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "slow", 'return { name = "slow", run = function(ctx) ctx.sleep(5000) end }')
  local t0 = host.clock()
  local task = run_file(path, {}, { timeout_s = 0.05 })
  T.ok(host.clock() - t0 < 1, "stopped promptly")
  T.contains(task.error, "workflow 'slow' stopped: exceeded its time limit of 0.05s")
end)

T.test("a workflow error carries file and line; a bad file is reported as such", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "bad", 'return { run = function()\n  local x = nil\n  return x.field\nend }')
  local task = run_file(path)
  T.contains(task.error, "bad.lua:3:")
  T.raises(function() workflow.load(write_wf(dir, "syntax", "return {")) end, "syntax.lua")
  T.raises(function() workflow.load(write_wf(dir, "empty", "")) end, "must return a table with a run")
  T.raises(function() workflow.load("no/such/workflow") end, "no workflow named 'no/such/workflow'")
end)

T.test("ctx gives the database, repositories, progress and parallel steps", function()
  local dir = T.tmpdir()
  local db = dbm.open(dir .. "/c.db")
  local path = write_wf(dir, "ctx", [[
    return { name = "ctx", run = function(ctx)
      ctx.progress(50, "half")
      ctx.log("counted %d voices", ctx.repo.voice_profiles.count())
      local r = ctx.parallel { a = function() ctx.sleep(5) return 1 end, b = function() return 2 end }
      return r.a + r.b + ctx.db:value("SELECT count(*) FROM voice_profiles")
    end }]])
  local progress, logs = {}, {}
  local task = run_file(path, {}, { db = db,
    on_progress = function(p, s) progress[#progress + 1] = p .. ":" .. s end,
    on_log = function(m) logs[#logs + 1] = m end })
  T.eq(task.status, "done", task.error)
  T.eq(task.results[1], 3 + 4)
  T.eq(progress, { "50:half" })
  T.eq(logs, { "counted 4 voices" })
  db:close()
end)

T.test("a workflow stopped inside a transaction leaves it rolled back, not open", function()
  local dir = T.tmpdir()
  local db = dbm.open(dir .. "/c.db")
  local path = write_wf(dir, "stuck", [[
    return { name = "stuck", run = function(ctx)
      ctx.db:transaction(function()
        ctx.db:run("INSERT INTO settings (id, key, value, description, created_at, updated_at) VALUES ('x', 'k', 'v', '', '', '')")
        while true do end
      end)
    end }]])
  local task = run_file(path, {}, { db = db, instructions = 2000000 })
  T.contains(task.error, "workflow 'stuck' stopped")
  T.eq(db:in_transaction(), false, "no transaction left open")
  T.eq(db:value("SELECT count(*) FROM settings WHERE id = 'x'"), 0, "the write was rolled back")
  db:run("INSERT INTO settings (id, key, value, description, created_at, updated_at) VALUES ('y', 'k', 'v', '', '', '')")
  T.eq(db:value("SELECT count(*) FROM settings WHERE id = 'y'"), 1, "later writes work")
  db:close()
end)

T.test("overlapping runs share the memory cap and lift it when the last one ends", function()
  local dir = T.tmpdir()
  local a = write_wf(dir, "slow_a", 'return { name = "a", run = function(ctx) ctx.sleep(30) return "a" end }')
  local b = write_wf(dir, "slow_b", 'return { name = "b", run = function(ctx) ctx.sleep(5) return "b" end }')
  local async = require "candor.async"
  async.run(function()
    local ta = async.spawn(function() return run_file(a, {}, { memory_mb = 64 }) end)
    local tb = async.spawn(function() return run_file(b, {}, { memory_mb = 32 }) end)
    tb:await()
    local _, _, cap = host.memory()
    T.ok(cap > 0, "a is still running under its cap")
    ta:await()
  end)
  local _, _, cap = host.memory()
  T.eq(cap, 0, "no cap once neither runs, whichever ended first")
end)

T.test("a workflow file is compiled once per version: an edit is seen at once, each load has its own globals", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "ver", [[
    local before = rawget(_ENV, "note")
    note = "set"
    return { run = function() return "one, note before: " .. tostring(before) end }]])
  local workflow = require "candor.workflow"
  T.eq(run_file(path, {}).results[1], "one, note before: nil")
  T.eq(run_file(path, {}).results[1], "one, note before: nil", "a fresh environment each load")
  require("luv").sleep(5)
  T.write_file(path, 'return { run = function() return "two" end }')
  T.eq(run_file(path, {}).results[1], "two", "the edit is seen")
end)

T.test("start runs the workflow up to its first wait before it returns; on_done sees the end", function()
  local dir = T.tmpdir()
  local path = write_wf(dir, "eager", [[
    return { run = function(ctx, p)
      p.log[#p.log + 1] = "before the wait"
      ctx.sleep(1)
      p.log[#p.log + 1] = "after the wait"
      return "ended"
    end }]])
  local log, ended = {}, nil
  local task = workflow.start(workflow.load(path), { log = log }, { on_done = function(t) ended = t.results[1] end })
  T.eq(log, { "before the wait" }, "the run went as far as its first wait")
  T.eq(ended, nil)
  require("candor.async").join(task)
  T.eq(log, { "before the wait", "after the wait" })
  T.eq(ended, "ended")
end)
