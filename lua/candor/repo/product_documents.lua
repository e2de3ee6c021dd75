-- product_documents: Uploaded product documentation used as generation context.
local repo = require "candor.repo"

local R = repo.define("product_documents", {
  "id", "name", "description", "content", "document_type", { "tags", "json" },
  { "is_active", "bool" }, "uploaded_at", "created_at", "updated_at",
})

return R
