-- session_versions: Versioned asset content per session. Every change (generation, edit, deslop, chat, etc.) creates a new version.
local repo = require "candor.repo"

local R = repo.define("session_versions", {
  "id", "session_id", "asset_type", { "version_number", "int" }, "content", "source",
  { "source_detail", "json" }, { "slop_score", "real" }, { "vendor_speak_score", "real" },
  { "authenticity_score", "real" }, { "specificity_score", "real" },
  { "persona_avg_score", "real" }, { "passes_gates", "bool" }, { "is_active", "bool" },
  "created_at",
})

return R
