-- voice_profiles: Voice and tone profiles for generation and quality scoring.
local repo = require "candor.repo"

local R = repo.define("voice_profiles", {
  "id", "name", "slug", "description", "voice_guide", { "scoring_thresholds", "json" },
  { "example_phrases", "json" }, { "is_default", "bool" }, { "is_active", "bool" },
  "created_at", "updated_at",
})

function R:by_slug(db, slug)
  return self:find_by(db, "slug", slug)
end

-- by_slug or by name, case-insensitively: what a user types after --voice.
function R:lookup(db, name)
  return self:decode(db:first(
    "SELECT * FROM voice_profiles WHERE slug = ?1 OR lower(name) = lower(?1) LIMIT 1", name))
end

function R:default(db)
  return self:decode(db:first(
    "SELECT * FROM voice_profiles WHERE is_default = 1 AND is_active = 1 ORDER BY created_at LIMIT 1"))
end

return R
