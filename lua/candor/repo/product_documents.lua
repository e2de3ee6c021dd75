-- product_documents: Uploaded product documentation used as generation context.
local repo = require "candor.repo"
local json = require "candor.json"

local R = repo.define("product_documents", {
  "id", "name", "description", "content", "document_type", { "tags", "json" },
  { "is_active", "bool" }, "uploaded_at", "created_at", "updated_at",
})

-- store(db, {name, text, document_type}) -> row: a document read by
-- candor.documents, stored once (the same name and content is the same document).
function R:store(db, doc)
  local same = db:first("SELECT id FROM product_documents WHERE name = ? AND content = ?", doc.name, doc.text)
  if same then return self:get(db, same.id) end
  local row = self:insert(db, { name = doc.name, description = doc.description or "", content = doc.text,
    document_type = doc.document_type or "text", tags = json.array {}, uploaded_at = repo.now() })
  return self:get(db, row.id)
end

-- by_ids(db, ids) -> the rows in the order of ids; ids with no row are left out.
function R:by_ids(db, ids)
  local out = {}
  for _, id in ipairs(ids or {}) do
    local row = self:get(db, id)
    if row then out[#out + 1] = row end
  end
  return out
end

return R
