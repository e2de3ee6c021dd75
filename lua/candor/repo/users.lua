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

return R
