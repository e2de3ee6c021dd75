-- messaging_gaps: Identified gaps in messaging coverage.
local repo = require "candor.repo"

local R = repo.define("messaging_gaps", {
  "id", "pain_point_id", "description", "suggested_capability", { "frequency", "int" },
  "status", "created_at", "updated_at",
})

return R
