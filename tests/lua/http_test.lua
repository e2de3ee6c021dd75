-- core.http and candor.http against a small HTTP/1.1 server on loopback, run on
-- the same loop by luv: requests wait in tasks while the server answers.
local T = require "candor.testing"
local async = require "candor.async"
local http = require "candor.http"
local uv = require "luv"

-- A server whose routes are functions(req, respond); respond(status, headers, body).
local function serve(routes)
  local server = uv.new_tcp()
  assert(server:bind("127.0.0.1", 0))
  local port = server:getsockname().port
  local seen = { count = 0 }
  server:listen(128, function()
    local client = uv.new_tcp()
    server:accept(client)
    local buf = ""
    client:read_start(function(err, data)
      if err or not data then client:close() return end
      buf = buf .. data
      local head_end = buf:find("\r\n\r\n", 1, true)
      if not head_end then return end
      local head = buf:sub(1, head_end - 1)
      local method, path = head:match("^(%S+) (%S+)")
      local len = tonumber(head:lower():match("content%-length: (%d+)")) or 0
      if #buf < head_end + 3 + len then return end
      local body = buf:sub(head_end + 4, head_end + 3 + len)
      client:read_stop()
      seen.count = seen.count + 1
      local req = { method = method, path = path, body = body, head = head }
      local route = routes[path:match("^[^?]*")] or function(_, respond) respond(404, {}, "no route") end
      route(req, function(status, headers, rbody, opts)
        if client:is_closing() then return end
        local lines = { "HTTP/1.1 " .. status .. " X" }
        for k, v in pairs(headers or {}) do lines[#lines + 1] = k .. ": " .. v end
        lines[#lines + 1] = "Content-Length: " .. #(rbody or "")
        lines[#lines + 1] = "Connection: close"
        client:write(table.concat(lines, "\r\n") .. "\r\n\r\n" .. (rbody or ""), function() client:close() end)
      end, client)
    end)
  end)
  return "http://127.0.0.1:" .. port, server, seen
end

local function after(ms, fn) local t = uv.new_timer() t:start(ms, 0, function() t:close() fn() end) end

local ROUTES = {
  ["/hello"] = function(_, respond) respond(200, { ["X-Test"] = "yes", ["Set-Cookie"] = "a" }, "hello") end,
  ["/echo"] = function(req, respond) respond(200, {}, req.method .. " " .. req.body .. " " .. (req.head:match("[Xx]%-[Kk]ey: (%S+)") or "")) end,
  ["/slow"] = function(req, respond) after(tonumber(req.path:match("ms=(%d+)")) or 100, function() respond(200, {}, "slow") end) end,
  ["/fail"] = function(_, respond) respond(503, { ["Retry-After"] = "2" }, "busy") end,
  ["/drop"] = function(_, _, client) client:close() end,
  ["/stream"] = function(_, _, client)
    client:write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    local parts = { "data: one\n\n", "data: two\n\n", "data: three\n\n" }
    local i = 0
    local function next_part()
      i = i + 1
      if i > #parts then client:write("0\r\n\r\n", function() client:close() end) return end
      client:write(string.format("%x\r\n%s\r\n", #parts[i], parts[i]))
      after(20, next_part)
    end
    next_part()
  end,
}

if not http.available() then
  T.test("core.http loads libcurl", function() T.ok(false, select(2, http.available())) end)
  return
end

T.test("GET: status, lower-cased headers, body", function()
  local base, server = serve(ROUTES)
  local status, headers, body = http.request { url = base .. "/hello" }
  server:close()
  T.eq(status, 200)
  T.eq(body, "hello")
  T.eq(headers["x-test"], "yes")
  T.eq(headers["content-length"], "5")
end)

T.test("POST with a body and headers; other methods", function()
  local base, server = serve(ROUTES)
  local _, _, body = http.request { url = base .. "/echo", method = "POST", body = "{\"a\":1}", headers = { ["X-Key"] = "k1" } }
  T.eq(body, "POST {\"a\":1} k1")
  local _, _, b2 = http.request { url = base .. "/echo", method = "DELETE" }
  T.eq(b2, "DELETE  ")
  server:close()
end)

T.test("error statuses come back as statuses; failures as nil, message, code", function()
  local base, server = serve(ROUTES)
  local status, headers, body = http.request { url = base .. "/fail" }
  T.eq({ status, headers["retry-after"], body }, { 503, "2", "busy" })
  local s2, msg, code = http.request { url = base .. "/drop" }
  T.eq(s2, nil)
  T.ok(type(msg) == "string" and #msg > 0 and code == 52, tostring(msg) .. " " .. tostring(code))
  server:close()
  local s3, msg3 = http.request { url = "http://127.0.0.1:1/", connect_timeout_ms = 2000 }
  T.eq(s3, nil)
  T.contains(msg3:lower(), "connect")
end)

T.test("a timeout fails the request after timeout_ms", function()
  local base, server = serve(ROUTES)
  local t0 = uv.hrtime()
  local status, msg, code = http.request { url = base .. "/slow?ms=2000", timeout_ms = 100 }
  local ms = (uv.hrtime() - t0) / 1e6
  server:close()
  T.eq(status, nil)
  T.eq(code, 28)
  T.contains(msg:lower(), "timed out")
  T.ok(ms < 1000, "stopped after " .. ms .. " ms")
end)

T.test("on_chunk receives the body as it arrives", function()
  local base, server = serve(ROUTES)
  local chunks, times = {}, {}
  local status, _, body = http.request { url = base .. "/stream", on_chunk = function(data)
    chunks[#chunks + 1] = data
    times[#times + 1] = uv.hrtime()
  end }
  server:close()
  T.eq(status, 200)
  T.eq(body, "")
  T.eq(table.concat(chunks), "data: one\n\ndata: two\n\ndata: three\n\n")
  T.ok(#chunks >= 3, "arrived in pieces: " .. #chunks)
  T.ok((times[#times] - times[1]) / 1e6 >= 30, "pieces arrived over time")
end)

T.test("an error in on_chunk fails the request with that error", function()
  local base, server = serve(ROUTES)
  local status, msg = http.request { url = base .. "/stream", on_chunk = function() error("chunk handler broke") end }
  server:close()
  T.eq(status, nil)
  T.contains(msg, "chunk handler broke")
end)

T.test("requests run at once: 50 requests of 100 ms take about 100 ms", function()
  local base, server, seen = serve(ROUTES)
  local t0 = uv.hrtime()
  local list = {}
  for i = 1, 50 do list[i] = i end
  local out = async.each(list, function()
    local status, _, body = http.request { url = base .. "/slow?ms=100" }
    return status == 200 and body
  end)
  local ms = (uv.hrtime() - t0) / 1e6
  server:close()
  T.eq(#out, 50)
  for i = 1, 50 do T.eq(out[i], "slow") end
  T.eq(seen.count, 50)
  T.ok(ms < 900, "50 concurrent requests took " .. ms .. " ms")
  T.eq(http.in_flight(), 0)
end)

T.test("cancelling the task cancels the transfer", function()
  local base, server = serve(ROUTES)
  local t = async.spawn(function() return http.request { url = base .. "/slow?ms=3000" } end)
  async.sleep(50)
  T.eq(http.in_flight(), 1)
  t:cancel("no longer needed")
  T.raises(function() t:await() end, "no longer needed")
  T.eq(http.in_flight(), 0)
  server:close()
end)
