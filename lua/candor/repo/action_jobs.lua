-- action_jobs: Async background workspace actions with progress tracking.
local repo = require "candor.repo"

local R = repo.define("action_jobs", {
  "id", "session_id", "asset_type", "action_name", "status", "current_step",
  { "progress", "int" }, { "result", "json" }, "error_message", "created_at", "updated_at",
})

return R
