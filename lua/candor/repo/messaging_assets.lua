-- messaging_assets: Generated messaging assets — the primary output of the system.
local repo = require "candor.repo"

local R = repo.define("messaging_assets", {
  "id", "priority_id", "job_id", "pain_point_id", "asset_type", "title", "content",
  { "metadata", "json" }, { "slop_score", "real" }, { "vendor_speak_score", "real" },
  { "specificity_score", "real" }, { "persona_avg_score", "real" }, "evidence_level", "status",
  "review_notes", "approved_at", "approved_by", "created_at", "updated_at",
})

return R
