-- competitive_research: Stored results from Gemini Deep Research competitive analysis.
local repo = require "candor.repo"

local R = repo.define("competitive_research", {
  "id", "job_id", "pain_point_id", "raw_report", { "structured_analysis", "json" },
  { "grounding_sources", "json" }, "gemini_interaction_id", "status", "created_at",
})

return R
