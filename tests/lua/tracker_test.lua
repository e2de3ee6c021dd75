-- The shared job-row tracker (candor.tracker), once for each table it writes:
-- generation_jobs through candor.jobs, action_jobs through the workspace actions.
-- Throttling: a burst is merged into one write and its last value lands; status
-- changes are written at once; the pending write's timer keeps nothing alive.
local T = require "candor.testing"
local dbm = require "candor.db"
local tracker = require "candor.tracker"
local jobs = require "candor.jobs"
local async = require "candor.async"

-- Each table's tracker, made the way its module makes it, and how its run ends
-- with a failure (the one status change both have).
local TABLES = {
  { name = "generation_jobs", repo = require "candor.repo.generation_jobs",
    track = function(db) return assert(jobs.track(db, jobs.create(db, {}))) end,
    fail = function(t, message) return t:fail(message) end },
  { name = "action_jobs", repo = require "candor.repo.action_jobs",
    track = function(db)
      local user = require("candor.repo.users"):insert(db, { username = "u", email = "u@example.com", password_hash = "x",
        display_name = "U" })
      local s = require("candor.repo.sessions"):insert(db, { user_id = user.id, name = "s", asset_types = { "battlecard" } })
      local row = require("candor.repo.action_jobs"):insert(db, { session_id = s.id, asset_type = "battlecard",
        action_name = "deslop", status = "running", current_step = "starting", progress = 0 })
      return require("candor.workspace.actions").track(db, row)
    end,
    fail = function(t, message) return t:close { status = "failed", error_message = message } end },
}

-- What another process sees: the row read through a second connection.
local function peek(path, repo, id)
  local other = dbm.open(path)
  local row = repo:get(other, id)
  other:close()
  return row
end

-- Rows this connection has written since it opened: one per tracker write.
local function writes(db) return db:value("SELECT total_changes()") end

local function settle() async.run(function() async.sleep(tracker.throttle_ms * 3) end) end

for _, tbl in ipairs(TABLES) do
  local function fresh()
    local path = T.tmpdir() .. "/c.db"
    local db = dbm.open(path)
    return db, path, tbl.track(db)
  end

  T.test(tbl.name .. ": a burst of progress is one write, its last value landing within the window", function()
    local db, path, t = fresh()
    local before = writes(db)
    for i = 1, 60 do t:progress(i, "step " .. i) end
    local st = t:begin("draft")
    st:add_tokens(10, 2, "openai:fake")
    st:finish()
    -- the tracker was just written as running, so all of the burst waits
    T.eq(writes(db) - before, 0, "nothing written at once inside the window")
    T.eq(peek(path, tbl.repo, t.id).progress, 0)
    T.ok(t.timer and t.timer:is_active(), "a timer holds the pending write")
    T.eq(t.timer:has_ref(), false, "and it does not keep the loop (or the process) alive")
    settle()
    T.eq(writes(db) - before, 1, "the burst merged into one write")
    local row = peek(path, tbl.repo, t.id)
    T.eq({ row.progress, row.current_step }, { 60, tbl.name == "action_jobs" and "draft" or "step 60" },
      "the last values landed")
    -- after a quiet spell the next write lands at once
    t:progress(70, "later")
    T.eq(writes(db) - before, 2)
    T.eq(peek(path, tbl.repo, t.id).progress, 70)
    tbl.fail(t, "end of test")
    db:close()
  end)

  T.test(tbl.name .. ": status changes are written at once, with the progress still waiting", function()
    local db, path, t = fresh()
    t:progress(30, "drafting")
    t:progress(40, "scoring")
    T.eq(peek(path, tbl.repo, t.id).progress, 0, "throttled so far")
    t:update { status = "running", current_step = "checking" }
    local row = peek(path, tbl.repo, t.id)
    T.eq({ row.progress, row.current_step }, { 40, "checking" }, "update writes at once, taking what waited along")
    t:progress(50, "rewriting")
    T.ok(tbl.fail(t, "the provider blocked the answer"))
    row = peek(path, tbl.repo, t.id)
    T.eq({ row.status, row.error_message, row.progress, row.current_step },
      { "failed", "the provider blocked the answer", 50, "rewriting" }, "the end, at once, with the last progress")
    T.eq(t.timer, nil, "the ended tracker's timer is closed")
    T.eq(tbl.fail(t, "again"), false, "it ends once")
    t:progress(90, "too late")
    settle()
    T.eq(peek(path, tbl.repo, t.id).progress, 50, "writes after the end are ignored")
    db:close()
  end)

  T.test(tbl.name .. ": progress is clamped and never goes backwards; the step text still moves", function()
    local db, path, t = fresh()
    T.eq(t:progress(-5), 0)
    T.eq(t:progress(30, "a"), 30)
    T.eq(t:progress(20, "b"), 30, "not backwards")
    T.eq(t:progress(250), 100, "clamped")
    T.eq(t.row.current_step, "b")
    settle()
    local row = peek(path, tbl.repo, t.id)
    T.eq({ row.progress, row.current_step }, { 100, "b" })
    tbl.fail(t, "end of test")
    db:close()
  end)

  T.test(tbl.name .. ": the end inside a transaction lands when it commits, keeping the loop alive until then", function()
    local db, path, t = fresh()
    db:transaction(function() tbl.fail(t, "stopped") end)
    T.eq(peek(path, tbl.repo, t.id).status, "running", "not written inside the transaction")
    T.eq(t.timer:has_ref(), true, "this write keeps the loop alive")
    settle()
    T.eq(peek(path, tbl.repo, t.id).status, "failed", "written after it")
    T.eq(t.timer, nil, "and its timer closed")
    db:close()
  end)
end
