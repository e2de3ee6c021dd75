-- session_messages: Chat refinement message history per session.
local repo = require "candor.repo"

local R = repo.define("session_messages", {
  "id", "session_id", "role", "content", "asset_type", "version_created",
  { "metadata", "json" }, "created_at",
})

return R
