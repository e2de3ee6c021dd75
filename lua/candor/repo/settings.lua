-- settings: Key-value configuration store.
local repo = require "candor.repo"

local R = repo.define("settings", {
  "id", "priority_id", "key", "value", "description", "created_at", "updated_at",
})

-- A setting scoped to a priority wins over the global one with the same key.
function R:get_value(db, key, priority_id)
  return db:value([[SELECT value FROM settings WHERE key = ?1
    AND (priority_id IS NULL OR priority_id = ?2)
    ORDER BY priority_id IS NULL LIMIT 1]], key, priority_id)
end

-- set_value(db, key, value [, description]) for the global (unscoped) setting.
function R:set_value(db, key, value, description)
  local row = db:first("SELECT id, description FROM settings WHERE key = ? AND priority_id IS NULL", key)
  if row then
    return self:update(db, row.id, { value = value, description = description })
  end
  self:insert(db, { key = key, value = value, description = description or "" })
  return true
end

return R
