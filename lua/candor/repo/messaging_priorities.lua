-- messaging_priorities: Strategic messaging themes that group pain points and assets.
local repo = require "candor.repo"

local R = repo.define("messaging_priorities", {
  "id", "name", "slug", "description", { "keywords", "json" }, "product_context",
  { "is_active", "bool" }, "created_at", "updated_at",
})

function R:by_slug(db, slug)
  return self:find_by(db, "slug", slug)
end

return R
