-- action_jobs: Async background workspace actions with progress tracking.
local repo = require "candor.repo"

local R = repo.define("action_jobs", {
  "id", "session_id", "asset_type", "action_name", "status", "current_step",
  { "progress", "int" }, { "result", "json" }, "error_message", "created_at", "updated_at",
})

-- A session's action jobs, oldest first.
function R:for_session(db, session_id)
  return self:list(db, { session_id = session_id })
end

return R
