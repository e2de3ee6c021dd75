-- persona_critics: AI critic personas used for quality scoring.
local repo = require "candor.repo"

local R = repo.define("persona_critics", {
  "id", "name", "description", "prompt_template", { "is_active", "bool" }, "created_at",
  "updated_at",
})

function R:by_name(db, name)
  return self:find_by(db, "name", name)
end

function R:active(db)
  return self:decode_all((db:query("SELECT * FROM persona_critics WHERE is_active = 1 ORDER BY name")))
end

return R
