-- discovery_schedules: Configuration for automated source polling.
local repo = require "candor.repo"

local R = repo.define("discovery_schedules", {
  "id", "priority_id", "source_type", { "config", "json" }, { "is_active", "bool" },
  "last_run_at", "next_run_at", "created_at", "updated_at",
})

return R
