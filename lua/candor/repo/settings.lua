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

-- as_whole_number(key, value, default [, minimum]) -> value, a setting's text (or
-- a number), as a whole number of at least minimum (1 unless given); default
-- when it is unset. Any other value ("1.5", "abc", "0x10", below minimum) gives
-- default too, with a warning on standard error once per setting and value:
-- a typo must neither stop the work nor pass unseen.
local warned = {}
function R.as_whole_number(key, value, default, minimum)
  if value == nil or value == "" then return default end
  minimum = minimum or 1
  local n = type(value) == "number" and math.tointeger(value)
    or type(value) == "string" and value:match("^%d+$") and math.tointeger(tonumber(value))
  if n and n >= minimum then return n end
  local said = key .. "\0" .. tostring(value)
  if not warned[said] then
    warned[said] = true
    io.stderr:write(string.format("candor: the %s setting is '%s', not a whole number of %d or more; %s\n", key,
      (tostring(value):gsub("%c", "?")), minimum, default == nil and "ignoring it" or ("using " .. default .. " instead")))
  end
  return default
end

-- whole_number(db, key, default [, minimum]) -> the global setting key through
-- as_whole_number: how counts, sizes, budgets and limits are read.
function R:whole_number(db, key, default, minimum)
  return R.as_whole_number(key, self:get_value(db, key), default, minimum)
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

-- The value set for exactly this priority (no fallback to the global one), or nil.
function R:get_scoped(db, key, priority_id)
  return db:value("SELECT value FROM settings WHERE key = ? AND priority_id = ? LIMIT 1", key, priority_id)
end

-- set_scoped(db, key, value, priority_id [, description]): the priority's own row.
function R:set_scoped(db, key, value, priority_id, description)
  local row = db:first("SELECT id FROM settings WHERE key = ? AND priority_id = ?", key, priority_id)
  if row then return self:update(db, row.id, { value = value, description = description }) end
  self:insert(db, { key = key, value = value, priority_id = priority_id, description = description or "" })
  return true
end

-- delete_scoped(db, key, priority_id) -> true when a row went.
function R:delete_scoped(db, key, priority_id)
  return db:run("DELETE FROM settings WHERE key = ? AND priority_id = ?", key, priority_id) > 0
end

return R
