-- asset_traceability: Complete evidence chain for each generated asset.
local repo = require "candor.repo"

local R = repo.define("asset_traceability", {
  "id", "asset_id", "pain_point_id", "research_id", "product_doc_id",
  { "practitioner_quotes", "json" }, { "generation_prompt", "json" }, "created_at",
})

return R
