-- session_versions: Versioned asset content per session. Every change (generation, edit, deslop, chat, etc.) creates a new version.
local repo = require "candor.repo"

local R = repo.define("session_versions", {
  "id", "session_id", "asset_type", { "version_number", "int" }, "content", "source",
  { "source_detail", "json" }, { "slop_score", "real" }, { "vendor_speak_score", "real" },
  { "authenticity_score", "real" }, { "specificity_score", "real" },
  { "persona_avg_score", "real" }, { "passes_gates", "bool" }, { "is_active", "bool" },
  "created_at",
})

-- add(db, fields, activate) -> the row. The number (max + 1 for the session and
-- asset type), the insert and the switch of the active flag are one BEGIN
-- IMMEDIATE transaction that never yields, so writers in this process (tasks on
-- one connection) and in others get unique, gap-free numbers and exactly one
-- active version. The first version of an asset type is active whatever
-- activate says.
function R:add(db, fields, activate)
  return db:transaction(function()
    local n = db:value("SELECT coalesce(max(version_number), 0) + 1 FROM session_versions WHERE session_id = ? AND asset_type = ?",
      fields.session_id, fields.asset_type)
    local has_active = db:value("SELECT count(*) FROM session_versions WHERE session_id = ? AND asset_type = ? AND is_active = 1",
      fields.session_id, fields.asset_type) > 0
    local active = activate or not has_active
    if active and has_active then
      db:run("UPDATE session_versions SET is_active = 0 WHERE session_id = ? AND asset_type = ? AND is_active = 1",
        fields.session_id, fields.asset_type)
    end
    fields.version_number, fields.is_active = n, active
    return self:insert(db, fields)
  end)
end

-- Versions of a session (of one asset type if given), by asset type and number.
function R:for_session(db, session_id, asset_type)
  if asset_type then
    return self:decode_all((db:query([[SELECT * FROM session_versions WHERE session_id = ? AND asset_type = ?
      ORDER BY version_number]], session_id, asset_type)))
  end
  return self:decode_all((db:query([[SELECT * FROM session_versions WHERE session_id = ?
    ORDER BY asset_type, version_number]], session_id)))
end

-- The active version of each asset type: rows ordered by asset type.
function R:active(db, session_id)
  return self:decode_all((db:query([[SELECT * FROM session_versions WHERE session_id = ? AND is_active = 1
    ORDER BY asset_type]], session_id)))
end

function R:by_number(db, session_id, asset_type, number)
  return self:decode(db:first([[SELECT * FROM session_versions WHERE session_id = ? AND asset_type = ?
    AND version_number = ?]], session_id, asset_type, number))
end

-- activate(db, version_row) -> true: this version becomes its asset type's
-- active one, the others of that type inactive, in one transaction.
function R:activate(db, v)
  return db:transaction(function()
    db:run("UPDATE session_versions SET is_active = 0 WHERE session_id = ? AND asset_type = ? AND is_active = 1 AND id <> ?",
      v.session_id, v.asset_type, v.id)
    return db:run("UPDATE session_versions SET is_active = 1 WHERE id = ?", v.id) > 0
  end)
end

-- How many versions a session has, of every asset type.
function R:count_for_session(db, session_id)
  return db:value("SELECT count(*) FROM session_versions WHERE session_id = ?", session_id)
end

return R
