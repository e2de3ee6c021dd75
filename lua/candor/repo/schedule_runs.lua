-- schedule_runs: one row per run of a discovery or workflow schedule (migration 0002).
local repo = require "candor.repo"

local R = repo.define("schedule_runs", {
  "id", "schedule_kind", "schedule_id", "started_at", "ended_at", "outcome", { "counts", "json" },
  "error_message", { "runner", "json" },
})

-- running(db [, kind, id]) -> runs still marked running (of one schedule, or all).
function R:running(db, kind, id)
  if kind then
    return self:decode_all((db:query([[SELECT * FROM schedule_runs
      WHERE outcome = 'running' AND schedule_kind = ? AND schedule_id = ? ORDER BY started_at]], kind, id)))
  end
  return self:decode_all((db:query("SELECT * FROM schedule_runs WHERE outcome = 'running' ORDER BY started_at")))
end

-- last(db, kind, id) -> the latest run of a schedule, or nil.
function R:last(db, kind, id)
  return self:decode(db:first([[SELECT * FROM schedule_runs WHERE schedule_kind = ? AND schedule_id = ?
    ORDER BY started_at DESC, rowid DESC LIMIT 1]], kind, id))
end

-- history(db, {kind =, id =, limit =}) -> runs, newest first.
function R:history(db, opts)
  opts = opts or {}
  local where, values = {}, {}
  if opts.kind then where[#where + 1] = "schedule_kind = ?" values[#values + 1] = opts.kind end
  if opts.id then where[#where + 1] = "schedule_id = ?" values[#values + 1] = opts.id end
  values[#values + 1] = math.tointeger(opts.limit or 20) or error("limit must be an integer", 2)
  return self:decode_all((db:query("SELECT * FROM schedule_runs"
    .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "")
    .. " ORDER BY started_at DESC, rowid DESC LIMIT ?", table.unpack(values))))
end

return R
