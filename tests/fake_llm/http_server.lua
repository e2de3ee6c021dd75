-- A small HTTP/1.1 server on loopback for tests, running on the host's loop (luv):
-- serve(handler) -> {url, port, requests = count, close = fn}.
-- handler(req, res): req = {method, path, query, headers (lower-case), body};
-- res:send(status, headers, body) answers; res:start(status, headers) then
-- res:chunk(text) / res:finish() stream with chunked encoding; res:drop() closes
-- the connection without a word; res.client is the raw luv stream.
-- Connections are kept open between requests (HTTP/1.1's default) unless the
-- client sends "Connection: close"; self.connections counts those accepted,
-- so a test can see whether a client reuses them.
local uv = require "luv"

local M = {}

local Res = {}
Res.__index = Res

local function head(res, status, headers, extra)
  local lines = { "HTTP/1.1 " .. status .. " Fake" }
  for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
  for _, l in ipairs(extra) do lines[#lines + 1] = l end
  if not res.keep then lines[#lines + 1] = "Connection: close" end
  return table.concat(lines, "\r\n") .. "\r\n\r\n"
end

-- Closes the connection (once) and forgets it.
local function hang_up(res)
  if not res.client:is_closing() then res.client:close() end
  res.forget()
end

-- The answer is written: the connection waits for the next request, or closes.
local function answered(res)
  if res.client:is_closing() then return end
  if res.keep then res.next_request() else hang_up(res) end
end

function Res:send(status, headers, body)
  if self.client:is_closing() then return end
  body = body or ""
  self.client:write(head(self, status, headers, { "Content-Length: " .. #body }) .. body, function() answered(self) end)
end

function Res:start(status, headers)
  if self.client:is_closing() then return end
  self.client:write(head(self, status, headers, { "Transfer-Encoding: chunked" }))
end

function Res:chunk(text)
  if self.client:is_closing() or text == "" then return end
  self.client:write(string.format("%x\r\n%s\r\n", #text, text))
end

function Res:finish()
  if self.client:is_closing() then return end
  self.client:write("0\r\n\r\n", function() answered(self) end)
end

function Res:drop()
  hang_up(self)
end

function M.serve(handler)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  local self = { port = port, url = "http://127.0.0.1:" .. port, requests = 0, connections = 0 }
  local open = {}   -- connections not yet closed: they go with the server
  server:listen(256, function()
    local client = uv.new_tcp()
    server:accept(client)
    client:nodelay(true)   -- a streamed chunk goes out at once, not after the client's delayed ACK
    open[client] = true
    self.connections = self.connections + 1
    local buf = ""
    local on_data
    -- one whole request in buf -> handled (reading stops until it is answered)
    local function take_request()
      local head_end = buf:find("\r\n\r\n", 1, true)
      if not head_end then return false end
      local headers = {}
      local first = buf:sub(1, head_end - 1):match("^[^\r\n]*")
      for name, value in buf:sub(1, head_end - 1):gmatch("\n([^:\r\n]+):%s*([^\r\n]*)") do headers[name:lower()] = value end
      local len = tonumber(headers["content-length"]) or 0
      if #buf < head_end + 3 + len then return false end
      client:read_stop()
      local method, target = first:match("^(%S+) (%S+)")
      self.requests = self.requests + 1
      local req = { method = method, path = target:match("^[^?]*"), query = target:match("%?(.*)$") or "",
                    headers = headers, body = buf:sub(head_end + 4, head_end + 3 + len) }
      buf = buf:sub(head_end + 4 + len)
      local res = setmetatable({ client = client, keep = (headers.connection or ""):lower() ~= "close",
                                 forget = function() open[client] = nil end }, Res)
      res.next_request = function()
        if not take_request() then client:read_start(on_data) end
      end
      local ok, e = pcall(handler, req, res)
      if not ok then res:send(500, { ["Content-Type"] = "text/plain" }, "fake server error: " .. tostring(e)) end
      return true
    end
    on_data = function(err, data)
      if err or not data then
        open[client] = nil
        if not client:is_closing() then client:close() end
        return
      end
      buf = buf .. data
      take_request()
    end
    client:read_start(on_data)
  end)
  -- a closed server answers nothing more, not even on a connection kept open
  function self.close()
    if not server:is_closing() then server:close() end
    for client in pairs(open) do if not client:is_closing() then client:close() end end
    open = {}
  end
  return self
end

-- after(ms, fn): fn on the loop after ms milliseconds.
function M.after(ms, fn)
  local t = uv.new_timer()
  t:start(ms, 0, function() t:close() fn() end)
end

return M
