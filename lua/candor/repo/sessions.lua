-- sessions: Workspace sessions — the primary workspace unit. Contains all configuration for a generation run.
local repo = require "candor.repo"

local R = repo.define("sessions", {
  "id", "user_id", "name", "pain_point_id", "job_id", "voice_profile_id",
  { "asset_types", "json" }, "status", { "manual_pain_point", "json" },
  { "product_doc_ids", "json" }, "product_context", "focus_instructions", "pipeline",
  { "metadata", "json" }, { "is_archived", "bool" }, "created_at", "updated_at",
})

-- owned(db, id, user_id) -> the session when that user owns it, else nil: the one
-- way the workspace reads a session, so another user's id reads as missing.
function R:owned(db, id, user_id)
  return self:decode(db:first("SELECT * FROM sessions WHERE id = ? AND user_id = ?", id, user_id))
end

local function like_escape(s) return (s:gsub("[\\%%_]", "\\%0")) end

-- search(db, user_id, {status =, search =, archived = true|false|"all", limit =})
-- -> the user's sessions, most recently changed first. archived: true lists only
-- archived ones, "all" both, anything else only those not archived. search
-- matches the name, case-insensitively.
function R:search(db, user_id, o)
  o = o or {}
  local clauses, values = { "user_id = ?" }, { user_id }
  if o.status then clauses[#clauses + 1] = "status = ?" values[#values + 1] = o.status end
  if o.archived == true then clauses[#clauses + 1] = "is_archived = 1"
  elseif o.archived ~= "all" then clauses[#clauses + 1] = "is_archived = 0" end
  if o.search and o.search ~= "" then
    clauses[#clauses + 1] = "lower(name) LIKE ? ESCAPE '\\'"
    values[#values + 1] = "%" .. like_escape(o.search:lower()) .. "%"
  end
  local sql = "SELECT * FROM sessions WHERE " .. table.concat(clauses, " AND ") .. " ORDER BY updated_at DESC, rowid DESC"
  if o.limit then
    sql = sql .. " LIMIT ?"
    values[#values + 1] = math.tointeger(o.limit) or error("limit must be an integer", 2)
  end
  return self:decode_all((db:query(sql, table.unpack(values))))
end

return R
