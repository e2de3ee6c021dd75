-- persona_scores: Individual scores from each critic for each asset.
local repo = require "candor.repo"

local R = repo.define("persona_scores", {
  "id", "asset_id", "persona_id", { "score", "real" }, "feedback", { "strengths", "json" },
  { "weaknesses", "json" }, "created_at",
})

return R
