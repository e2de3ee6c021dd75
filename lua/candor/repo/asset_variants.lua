-- asset_variants: Per-voice variants of messaging assets with full quality scores.
local repo = require "candor.repo"

local R = repo.define("asset_variants", {
  "id", "asset_id", "voice_profile_id", { "variant_number", "int" }, "content",
  { "slop_score", "real" }, { "vendor_speak_score", "real" }, { "authenticity_score", "real" },
  { "specificity_score", "real" }, { "persona_avg_score", "real" }, { "passes_gates", "bool" },
  { "is_selected", "bool" }, "created_at",
})

return R
