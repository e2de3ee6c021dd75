-- HTTP from a task: request() waits (the task yields) until libcurl is done,
-- while the loop runs everything else. Cancelling the task cancels the transfer.
local core = require "core.http"
local async = require "candor.async"

local M = {}

-- request{method = "GET", url =, headers = {name = value}, body =, timeout_ms =,
--         connect_timeout_ms =, on_chunk = fn(data)}
-- -> status, headers (lower-case names), body | nil, message, curl error code.
-- With on_chunk the body is handed over as it arrives and the body returned is "".
function M.request(opts)
  if type(opts) ~= "table" or type(opts.url) ~= "string" then
    error("http.request needs {url = ...}", 2)
  end
  return async.suspend(function(wake)
    local req = core.start(opts, wake)
    return function() req:cancel() end
  end)
end

M.available = core.available
M.in_flight = core.in_flight

return M
