-- generation_jobs: Tracks generation pipeline execution.
local repo = require "candor.repo"

local R = repo.define("generation_jobs", {
  "id", "pain_point_id", "priority_id", "status", "current_step", { "progress", "int" },
  { "competitive_research", "json" }, { "product_context", "json" }, "error_message",
  "error_stack", { "retry_count", "int" }, "gemini_interaction_id", "gemini_status",
  "started_at", { "pipeline_steps", "json" }, "completed_at", "created_at", "updated_at",
})

return R
