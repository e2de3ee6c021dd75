-- users: Workspace user accounts.
local repo = require "candor.repo"

local R = repo.define("users", {
  "id", "username", "email", "password_hash", "display_name", "role", { "is_active", "bool" },
  "last_login_at", "created_at", "updated_at",
})

function R:by_username(db, username)
  return self:find_by(db, "username", username)
end

return R
