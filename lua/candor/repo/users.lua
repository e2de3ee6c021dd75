-- users: Workspace user accounts.
local repo = require "candor.repo"

local R = repo.define("users", {
  "id", "username", "email", "password_hash", "display_name", "role", { "is_active", "bool" },
  "last_login_at", "created_at", "updated_at",
})

function R:by_username(db, username)
  return self:find_by(db, "username", username)
end

-- ensure(db, fields) -> row, created: the user named fields.username, inserted
-- when missing (the first user is an admin). One transaction, so two processes
-- creating the same user at once end with one row.
function R:ensure(db, fields)
  return db:transaction(function()
    local row = self:by_username(db, fields.username)
    if row then return row, false end
    local f = {}
    for k, v in pairs(fields) do f[k] = v end
    if f.role == nil then f.role = db:value("SELECT count(*) FROM users") == 0 and "admin" or "user" end
    return self:get(db, self:insert(db, f).id), true
  end)
end

-- add(db, fields) -> the new row, or nil and a message when the username or the
-- email is taken. Both compare without case, so "Ana" cannot sit beside "ana".
-- The first user is an admin, as in ensure; one transaction, so the check and
-- the insert cannot be split by another process.
function R:add(db, fields)
  return db:transaction(function()
    local clash = db:first("SELECT username FROM users WHERE lower(username) = lower(?)", fields.username)
    if clash then
      return nil, string.format("user '%s' already exists%s", clash.username,
        clash.username ~= fields.username and " (names are compared without case)" or "")
    end
    clash = db:first("SELECT username FROM users WHERE lower(email) = lower(?)", fields.email)
    if clash then return nil, string.format("the email %s is already used by user '%s'", fields.email, clash.username) end
    local f = {}
    for k, v in pairs(fields) do f[k] = v end
    if f.role == nil then f.role = db:value("SELECT count(*) FROM users") == 0 and "admin" or "user" end
    return self:get(db, self:insert(db, f).id)
  end)
end

-- owned_counts(db, user_id) -> {sessions, session_versions, session_messages,
-- action_jobs, llm_calls}: the rows that deleting the user deletes with it
-- (users -> sessions -> the rest, every link ON DELETE CASCADE).
function R:owned_counts(db, user_id)
  local under = "session_id IN (SELECT id FROM sessions WHERE user_id = ?1)"
  return db:first("SELECT (SELECT count(*) FROM sessions WHERE user_id = ?1) AS sessions, "
    .. "(SELECT count(*) FROM session_versions WHERE " .. under .. ") AS session_versions, "
    .. "(SELECT count(*) FROM session_messages WHERE " .. under .. ") AS session_messages, "
    .. "(SELECT count(*) FROM action_jobs WHERE " .. under .. ") AS action_jobs, "
    .. "(SELECT count(*) FROM llm_calls WHERE " .. under .. ") AS llm_calls", user_id)
end

return R
