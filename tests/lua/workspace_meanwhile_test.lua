-- Work that runs for a while (an action, a chat proposal accepted, a
-- generation) never hides an edit made while it ran: its version is stored but
-- not made active, and the caller is told which version stayed active
-- (workspace add_version_since, the one path edits take too).
local T = require "candor.testing"
local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
local async = require "candor.async"
local ws = require "candor.workspace"

local RETRY = { base_ms = 1 }
local EDITED = "We re-run CI 3 times a day, 40 minutes each.\n"

local function setup()
  local db = F.db()
  local W = ws.for_user(db, "local")
  W.retry = RETRY
  local s = W:create { pain = F.pain, asset_types = { "battlecard" }, voice = "practitioner-community", pipeline = "standard" }
  return db, W, s
end

-- An app as the CLI commands take it, printing into a list.
local function fake_app(db)
  local out = {}
  return { db = function() return db end, out = function(...) for _, x in ipairs { ... } do out[#out + 1] = x end end,
           printed = function() return table.concat(out) end }
end

T.test("meanwhile: an action whose version was opened on v1 keeps an edit made while it ran active, and its job says so", function()
  local db, W, s = setup()
  local v1 = W:add_version(s.id, "battlecard", { content = F.good, source = "generation" })
  local actions = require "candor.workspace.actions"
  F.with_fake(F.script(db), function()
    local edited
    local result = async.run(function()
      return actions.run(W, s.id, "regenerate", { retry = RETRY, cache = false, on_progress = function(_, step)
        -- the user saves an edit just before the action stores its version
        if step == "storing the new version" and not edited then edited = W:edit(s.id, "battlecard", EDITED) end
      end })
    end)
    T.eq({ edited.version_number, edited.source_detail.from_version }, { 2, v1.id })
    T.eq({ result.version_number, result.activated, result.active_version_id, result.active_version_number },
         { 3, false, edited.id, 2 })
    local v3 = W:version(s.id, 3, "battlecard")
    T.eq({ v3.is_active, v3.source, v3.source_detail.from_version, v3.source_detail.from_version_number },
         { false, "regenerate", v1.id, 1 }, "stored, from the version the action started on, not active")
    T.eq(W:active(s.id).battlecard.id, edited.id, "the edit stays active")
    local job = require("candor.repo.action_jobs"):list(db, { action_name = "regenerate" })[1]
    T.eq({ job.status, job.result.version_number, job.result.activated, job.result.active_version_number },
         { "completed", 3, false, 2 }, "the action_jobs row records it for 'session actions'")
    -- with nothing in between, the next action's version is made active, and its result says that too
    result = async.run(function() return actions.run(W, s.id, "regenerate", { retry = RETRY, cache = false }) end)
    T.eq({ result.version_number, result.activated, result.active_version_id }, { 4, true, nil })
    T.eq(W:active(s.id).battlecard.version_number, 4)
    T.eq(W:wait_background(), {})
  end)
  db:close()
end)

T.test("meanwhile: 'session action' prints that its version was not made active and how to compare and choose", function()
  local db, W, s = setup()
  W:add_version(s.id, "battlecard", { content = F.good, source = "generation" })
  local actions = require "candor.workspace.actions"
  F.with_fake(F.script(db, { { purpose = "^generate", text = F.good, delay_ms = 300 } }), function(fake)
    local app = fake_app(db)
    local stderr = io.stderr
    io.stderr = { write = function() end, flush = function() end }   -- the command's progress lines
    local ok, err = pcall(async.run, function()
      return async.parallel {
        action = function() return actions.cli(app, {}, { "action", "regenerate", s.id }) end,
        edit = function()
          for _ = 1, 200 do   -- while the action's draft call is out
            if F.calls(fake, "^generate") > 0 then break end
            async.sleep(5)
          end
          return W:edit(s.id, "battlecard", EDITED)
        end,
      }
    end)
    io.stderr = stderr
    if not ok then error(err, 0) end
    local printed = app.printed()
    T.contains(printed, "regenerate battlecard: version 3 saved but not made active (")
    T.contains(printed, "while the action ran, battlecard v2 (edit) became the active version and stays so; "
      .. "this one is v3, from v1\n")
    T.contains(printed, "compare them:         candor session diff " .. s.id .. " 2 3 --asset battlecard\n")
    T.contains(printed, "make this one active: candor session activate " .. s.id .. " 3 --asset battlecard\n")
    T.eq(W:active(s.id).battlecard.version_number, 2)
    W:wait_background()
  end)
  db:close()
end)

T.test("meanwhile: a chat proposal accepted after an edit is stored beside it, not active; the CLI says so", function()
  local db, W, s = setup()
  local v1 = W:add_version(s.id, "battlecard", { content = F.bad, source = "generation" })
  local chat = require "candor.workspace.chat"
  local reply = "Tighter:\n<<<proposal battlecard>>>\n" .. F.good .. "\n<<<end proposal>>>\n"
  F.with_fake(F.script(db, { { purpose = "^workspace:chat", text = reply } }), function()
    local msg = chat.send(W, s.id, "Shorter?", { retry = RETRY })
    T.eq(msg.metadata.drafts_seen, { battlecard = v1.id }, "the versions the assistant was shown")
    local edited = W:edit(s.id, "battlecard", EDITED)   -- after the reply, before it is accepted
    local app = fake_app(db)
    chat.cli(app, { accept = true }, { "chat", s.id, msg.id })
    local v = W:version(s.id, 3, "battlecard")
    T.eq({ v.source, v.is_active, v.source_detail.from_version, v.source_detail.message_id }, { "chat", false, v1.id, msg.id })
    T.eq(W:active(s.id).battlecard.id, edited.id)
    T.contains(app.printed(), "accepted: battlecard version 3 but not made active (")
    T.contains(app.printed(), "since the assistant wrote this proposal, battlecard v2 (edit) became the active version "
      .. "and stays so; this one is v3, from v1\n")
    -- a proposal made with nothing changed since is accepted as the active version
    local again = chat.send(W, s.id, "And now?", { retry = RETRY })
    local accepted, meanwhile = chat.accept(W, s.id, again.id, { retry = RETRY })
    T.eq({ accepted.version_number, accepted.is_active, accepted.source_detail.from_version, meanwhile },
         { 4, true, edited.id, nil })
    T.eq(W:wait_background(), {})
  end)
  db:close()
end)

T.test("meanwhile: a regeneration keeps an edit made while it ran active; its version is stored beside it and reported", function()
  local db, W, s = setup()
  local opts = { retry = RETRY, cache = T.tmpdir() .. "/c.db" }
  F.with_fake(F.script(db), function()
    W:generate(s.id, opts)
    local logged, edited = {}, nil
    local o = { retry = RETRY, cache = opts.cache, on_log = function(m) logged[#logged + 1] = m end,
      on_progress = function(info)
        if info.job_id and not edited then edited = W:edit(s.id, "battlecard", EDITED) end   -- once the job runs
      end }
    local job, kept = W:generate(s.id, o)
    T.eq(job.status, "completed")
    T.eq(edited.version_number, 2)
    local v3 = W:version(s.id, 3, "battlecard")
    T.eq({ v3.source, v3.is_active, v3.source_detail.job_id }, { "generation", false, job.id })
    T.eq(W:active(s.id).battlecard.id, edited.id, "the edit made during the run stays active")
    T.eq({ #kept, kept[1].version.id, kept[1].active.id }, { 1, v3.id, edited.id })
    T.eq(logged[1], "battlecard v3 stored but not made active:")
    T.eq(logged[2], "while it was generated, battlecard v2 (edit) became the active version and stays so; this one is v3")
    T.eq(logged[4], "make this one active: candor session activate " .. s.id .. " 3 --asset battlecard")
    T.eq(W:get(s.id).status, "completed")
    -- with no edit in between, a regeneration's versions are active as before
    job, kept = W:generate(s.id, opts)
    T.eq({ W:active(s.id).battlecard.version_number, #kept }, { 4, 0 })
    T.eq(W:wait_background(), {})
  end)
  db:close()
end)
