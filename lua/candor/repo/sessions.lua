-- sessions: Workspace sessions — the primary workspace unit. Contains all configuration for a generation run.
local repo = require "candor.repo"

local R = repo.define("sessions", {
  "id", "user_id", "name", "pain_point_id", "job_id", "voice_profile_id",
  { "asset_types", "json" }, "status", { "manual_pain_point", "json" },
  { "product_doc_ids", "json" }, "product_context", "focus_instructions", "pipeline",
  { "metadata", "json" }, { "is_archived", "bool" }, "created_at", "updated_at",
})

return R
