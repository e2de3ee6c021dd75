-- discovered_pain_points: Pain points extracted from community sources or manually entered.
local repo = require "candor.repo"

local R = repo.define("discovered_pain_points", {
  "id", "priority_id", "schedule_id", "source_type", "source_url", "source_id", "title",
  "content", "author", "author_level", { "metadata", "json" }, { "pain_score", "real" },
  { "pain_analysis", "json" }, { "practitioner_quotes", "json" }, "status", "rejection_reason",
  "content_hash", "discovered_at", "created_at", "updated_at",
})

return R
