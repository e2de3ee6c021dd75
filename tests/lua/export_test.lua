-- Markdown exports: an asset's own headings go under the export's, and its
-- "# Title" line is not written twice.
local T = require "candor.testing"
local export = require "candor.workspace.export"

T.test("without_title drops a first heading that repeats the title, past leading comments only", function()
  T.eq(export.without_title("<!-- note -->\n# Tideline\n\nBody\n", "Tideline"), "<!-- note -->\n\nBody\n")
  T.eq(export.without_title("# Other\nBody", "Tideline"), "# Other\nBody", "another heading stays")
  T.eq(export.without_title("Intro\n# Tideline\n", "Tideline"), "Intro\n# Tideline\n", "a heading after text stays")
  T.eq(export.without_title("# Tideline", ""), "# Tideline")
end)

T.test("demote moves headings down, leaves code blocks alone", function()
  T.eq(export.demote("# A\n```\n# not a heading\n```\n## B", 1), "## A\n```\n# not a heading\n```\n### B")
  T.eq(export.demote("# A"), "### A", "two levels by default")
end)

T.test("origin reads the parent version in either spelling, and names each source's job, action or message", function()
  -- actions: from_version is the id, from_version_number the number
  T.eq(export.origin("voice_change", { action = "change-voice", action_job_id = "AJ", from_version = "P2",
    from_version_number = 2, voice = "sales-enablement" }),
    { kind = "action", action = "change-voice", action_job_id = "AJ", from_version_id = "P2", from_version_number = 2 })
  -- edits have written from_version as the number and from_version_id as the id
  T.eq(export.origin("edit", { from_version = 4, from_version_id = "P4", judged = false }),
    { kind = "edit", from_version_id = "P4", from_version_number = 4 })
  T.eq(export.origin("edit", { from_version = "P4", from_version_number = 4 }),
    { kind = "edit", from_version_id = "P4", from_version_number = 4 }, "and the one spelling after the change")
  T.eq(export.origin("generation", { job_id = "GJ", asset_id = "A1", voice = "v" }),
    { kind = "generation", generation_job_id = "GJ", asset_id = "A1" })
  T.eq(export.origin("chat", { message_id = "M1" }), { kind = "chat", message_id = "M1" })
  T.eq(export.origin("edit", nil), { kind = "edit" }, "an old version without source_detail")
end)

T.test("origin_text words the parent and what made the version", function()
  T.eq(export.origin_text(export.origin("voice_change", { action = "change-voice", action_job_id = "AJ",
    from_version = "P2", from_version_number = 2 })), "from version 2 (`P2`) by action change-voice (job `AJ`)")
  T.eq(export.origin_text(export.origin("edit", { from_version = 4, from_version_id = "P4" })), "from version 4 (`P4`)")
  T.eq(export.origin_text(export.origin("edit", { from_version = 4 })), "from version 4")
  T.eq(export.origin_text(export.origin("chat", { message_id = "M1", from_version = "P3", from_version_number = 3 })),
    "proposal accepted from chat message `M1` · from version 3 (`P3`)")
  T.eq(export.origin_text(export.origin("generation", { job_id = "GJ", asset_id = "A1" })), "job `GJ` · asset `A1`")
  T.eq(export.origin_text(export.origin("edit", {})), nil, "nothing known, nothing said")
end)

-- A session generated from the fake provider, its battlecard then edited,
-- rewritten by change-voice and replaced by an accepted chat proposal: after
-- each step the export names where the active version came from.
T.test("session export: each version's job, action or message, and its parent, in Markdown and JSON", function()
  local F = dofile(T.root .. "/tests/lua/pipeline_fixture.lua")
  local async = require "candor.async"
  local json = require "candor.json"
  local workspace = require "candor.workspace"
  local retry = { base_ms = 1 }
  local db = F.db()
  local reply = "Tighter:\n<<<proposal battlecard>>>\n" .. F.good .. "\n<<<end proposal>>>\n"
  F.with_fake(F.script(db, { { purpose = "^change%-voice", text = F.good },
                             { purpose = "^workspace:chat", text = reply } }), function()
    local W = workspace.for_user(db, workspace.local_user(db))
    local s = W:create { pain = F.pain, asset_types = { "battlecard" }, voice = "practitioner-community", pipeline = "standard" }
    W:generate(s.id, { retry = retry })
    local function exported()
      local j = json.decode(W:export(s.id, "json"))
      return W:export(s.id, "md"), j.assets[1].origin, W:active(s.id).battlecard
    end

    local md, origin, v1 = exported()
    local job = W:get(s.id).job_id
    T.contains(md, string.format("_version 1 of 1 (`%s`), generation · job `%s` · asset `", v1.id, job))
    T.eq({ origin.kind, origin.generation_job_id, origin.from_version_id }, { "generation", job, nil })

    W:edit(s.id, "battlecard", v1.content .. "\n\nWe measured 3 re-runs a day.")
    W:wait_background()
    local v2
    md, origin, v2 = exported()
    T.contains(md, string.format("_version 2 of 2 (`%s`), edit · from version 1 (`%s`) · voice practitioner-community",
      v2.id, v1.id))
    T.eq(origin, { kind = "edit", from_version_id = v1.id, from_version_number = 1 })

    async.run(function()
      return require("candor.workspace.actions").run(W, s.id, "change-voice", { voice = "sales-enablement", retry = retry,
        cache = false })
    end)
    local v3
    md, origin, v3 = exported()
    local action_job = db:value("SELECT id FROM action_jobs WHERE session_id = ?", s.id)
    T.contains(md, string.format("_version 3 of 3 (`%s`), voice_change · from version 2 (`%s`) by action change-voice "
      .. "(job `%s`) · voice sales-enablement_", v3.id, v2.id, action_job))
    T.eq(origin, { kind = "action", action = "change-voice", action_job_id = action_job, from_version_id = v2.id,
      from_version_number = 2 })

    local chat = require "candor.workspace.chat"
    local msg = chat.send(W, s.id, "Tighter, please.", { asset_type = "battlecard", retry = retry })
    local v4 = chat.accept(W, s.id, msg.id, { retry = retry })
    md, origin = exported()
    T.contains(md, string.format("_version 4 of 4 (`%s`), chat · proposal accepted from chat message `%s`", v4.id, msg.id))
    T.eq({ origin.kind, origin.message_id }, { "chat", msg.id })
  end)
  db:close()
end)
