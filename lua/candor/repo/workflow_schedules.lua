-- workflow_schedules: workflows run on a schedule (migration 0002, not part of the contract).
local repo = require "candor.repo"

local R = repo.define("workflow_schedules", {
  "id", "name", "workflow", { "params", "json" }, "spec", "time_zone", { "is_active", "bool" },
  "next_run_at", "last_run_at", "running_since", { "runner", "json" }, "created_at", "updated_at",
})

function R:by_name(db, name) return self:find_by(db, "name", name) end

-- due(db, now_iso) -> active rows whose next run is at or before now (NULL: due now).
function R:due(db, now)
  return self:decode_all((db:query([[SELECT * FROM workflow_schedules
    WHERE is_active = 1 AND (next_run_at IS NULL OR next_run_at <= ?) ORDER BY next_run_at, rowid]], now)))
end

-- next_due(db) -> the earliest next_run_at of an active schedule ("" when one is due now), or nil.
function R:next_due(db)
  return db:value([[SELECT min(coalesce(next_run_at, '')) FROM workflow_schedules WHERE is_active = 1]])
end

return R
