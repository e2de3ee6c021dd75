-- discovered_pain_points: Pain points extracted from community sources or manually entered.
local repo = require "candor.repo"

local R = repo.define("discovered_pain_points", {
  "id", "priority_id", "schedule_id", "source_type", "source_url", "source_id", "title",
  "content", "author", "author_level", { "metadata", "json" }, { "pain_score", "real" },
  { "pain_analysis", "json" }, { "practitioner_quotes", "json" }, "status", "rejection_reason",
  "content_hash", "discovered_at", "created_at", "updated_at",
})

-- Source ids already stored for a priority and source type -> set {source_id = true}.
function R:source_ids(db, priority_id, source_type)
  local out = {}
  for _, r in ipairs(db:query("SELECT source_id FROM discovered_pain_points WHERE priority_id = ? AND source_type = ?",
    priority_id, source_type)) do
    out[r.source_id] = true
  end
  return out
end

-- Content hashes of a priority's pain points discovered at or after since -> set.
function R:recent_hashes(db, priority_id, since)
  local out = {}
  for _, r in ipairs(db:query("SELECT content_hash FROM discovered_pain_points WHERE priority_id = ? AND discovered_at >= ?",
    priority_id, since)) do
    out[r.content_hash] = true
  end
  return out
end

-- The id of a stored pain point a new one duplicates: the same priority and
-- either the same source post, or the same content hash discovered since `since`.
function R:duplicate_of(db, priority_id, source_type, source_id, hash, since)
  return db:value([[SELECT id FROM discovered_pain_points WHERE priority_id = ?1
    AND ((content_hash = ?4 AND discovered_at >= ?5) OR (source_type = ?2 AND source_id = ?3)) LIMIT 1]],
    priority_id, source_type, source_id, hash, since)
end

-- Pain points per status for a priority -> {pending = n, approved = n, rejected = n}.
function R:status_counts(db, priority_id)
  local out = { pending = 0, approved = 0, rejected = 0 }
  for _, r in ipairs(db:query("SELECT status, count(*) AS n FROM discovered_pain_points WHERE priority_id = ? GROUP BY status",
    priority_id)) do
    out[r.status] = r.n
  end
  return out
end

return R
