-- llm_calls: Audit log of every LLM call made by the system.
local repo = require "candor.repo"

local R = repo.define("llm_calls", {
  "id", "session_id", "job_id", "timestamp", "model", "purpose", "system_prompt",
  "user_prompt", "response", { "input_tokens", "int" }, { "output_tokens", "int" },
  { "total_tokens", "int" }, { "cached_tokens", "int" }, { "latency_ms", "int" },
  { "success", "bool" }, "error_message", "finish_reason", "created_at",
})

-- recent(db, {limit = n, purpose = p}) -> newest first
function R:recent(db, opts)
  opts = opts or {}
  local filters = opts.purpose and { purpose = opts.purpose } or {}
  return self:list(db, filters, { order = "timestamp DESC, id", limit = opts.limit or 20 })
end

return R
