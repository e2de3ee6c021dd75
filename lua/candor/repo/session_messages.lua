-- session_messages: Chat refinement message history per session.
local repo = require "candor.repo"

local R = repo.define("session_messages", {
  "id", "session_id", "role", "content", "asset_type", "version_created",
  { "metadata", "json" }, "created_at",
})

-- A session's messages, oldest first (of one asset tab if given).
function R:for_session(db, session_id, asset_type)
  local filters = { session_id = session_id, asset_type = asset_type }
  return self:list(db, filters)
end

return R
