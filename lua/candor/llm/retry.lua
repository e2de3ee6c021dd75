-- Retrying provider calls: exponential backoff with jitter on errors a provider
-- marks retryable (429, 5xx, timeouts, dropped connections, malformed or empty
-- answers), waiting at least what Retry-After asks; a bounded number of attempts;
-- the final error says what happened on each.
local async = require "candor.async"

local M = {}

M.defaults = { attempts = 4, base_ms = 500, max_ms = 20000, max_retry_after_ms = 60000, jitter = true }

-- The wait before attempt n+1 (n >= 1), in milliseconds.
function M.delay(policy, n, err)
  local ms = math.min(policy.max_ms, policy.base_ms * 2 ^ (n - 1))
  if policy.jitter then ms = ms * (0.5 + math.random() / 2) end
  if err and err.retry_after then ms = math.max(ms, err.retry_after * 1000) end
  return math.floor(ms)
end

-- The error a caller gets: the last attempt's, with every attempt listed.
local function final_error(err, history, message)
  local final = {}
  for k, v in pairs(err) do final[k] = v end
  final.attempts = history
  final.message = message
  return final
end

-- call(attempt, policy) -> result, attempts | nil, err
-- attempt(n) -> result | nil, err ({kind, message, retryable, retry_after}).
-- err.attempts lists {kind, message, waited_ms} for each try.
function M.call(attempt, policy)
  local p = setmetatable({}, { __index = M.defaults })   -- the caller's table stays as it was
  for k, v in pairs(policy or {}) do p[k] = v end
  local sleep = p.sleep or async.sleep
  local history = {}
  for n = 1, p.attempts do
    local result, err = attempt(n)
    if result then return result, n end
    history[#history + 1] = { kind = err.kind, message = err.message, status = err.status }
    if not err.retryable or n == p.attempts then
      local lines = {}
      for i, h in ipairs(history) do
        lines[i] = string.format("%d) %s%s", i, h.message, h.waited_ms and string.format(" (then waited %.1f s)", h.waited_ms / 1000) or "")
      end
      return nil, final_error(err, history, (n == 1 and not err.retryable) and err.message
        or string.format("gave up after %d attempt%s: %s", n, n == 1 and "" or "s", table.concat(lines, "; ")))
    end
    local wait = M.delay(p, n, err)
    if err.retry_after and err.retry_after * 1000 > p.max_retry_after_ms then
      return nil, final_error(err, history, string.format("the provider asks to wait %d s, longer than allowed (%d s): %s",
        err.retry_after, p.max_retry_after_ms // 1000, err.message))
    end
    history[#history].waited_ms = wait
    if p.on_retry then p.on_retry(n, err, wait) end
    sleep(wait)
  end
end

return M
