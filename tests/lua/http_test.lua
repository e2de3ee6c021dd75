-- core.http and candor.http against a small HTTP/1.1 server on loopback, run on
-- the same loop by luv: requests wait in tasks while the server answers.
local T = require "candor.testing"
local async = require "candor.async"
local http = require "candor.http"
local uv = require "luv"

local HS = dofile(T.root .. "/tests/fake_llm/http_server.lua")
local after = HS.after

-- routes: path -> fn(req, res)
local function serve(routes)
  local s = HS.serve(function(req, res)
    local route = routes[req.path]
    if route then route(req, res) else res:send(404, {}, "no route") end
  end)
  local seen = setmetatable({}, { __index = function(_, k) if k == "count" then return s.requests end end })
  return s.url, s, seen
end

local ROUTES = {
  ["/hello"] = function(_, res) res:send(200, { ["X-Test"] = "yes" }, "hello") end,
  ["/echo"] = function(req, res) res:send(200, {}, req.method .. " " .. req.body .. " " .. (req.headers["x-key"] or "")) end,
  ["/slow"] = function(req, res) after(tonumber(req.query:match("ms=(%d+)")) or 100, function() res:send(200, {}, "slow") end) end,
  ["/fail"] = function(_, res) res:send(503, { ["Retry-After"] = "2" }, "busy") end,
  ["/drop"] = function(_, res) res:drop() end,
  ["/stream"] = function(_, res)
    res:start(200, {})
    local parts = { "data: one\n\n", "data: two\n\n", "data: three\n\n" }
    local i = 0
    local function next_part()
      i = i + 1
      if i > #parts then res:finish() return end
      res:chunk(parts[i])
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
  server.close()
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
  server.close()
end)

T.test("error statuses come back as statuses; failures as nil, message, code", function()
  local base, server = serve(ROUTES)
  local status, headers, body = http.request { url = base .. "/fail" }
  T.eq({ status, headers["retry-after"], body }, { 503, "2", "busy" })
  local s2, msg, code = http.request { url = base .. "/drop" }
  T.eq(s2, nil)
  T.ok(type(msg) == "string" and #msg > 0 and code == 52, tostring(msg) .. " " .. tostring(code))
  server.close()
  local s3, msg3 = http.request { url = "http://127.0.0.1:1/", connect_timeout_ms = 2000 }
  T.eq(s3, nil)
  T.contains(msg3:lower(), "connect")
end)

T.test("a timeout fails the request after timeout_ms", function()
  local base, server = serve(ROUTES)
  local t0 = uv.hrtime()
  local status, msg, code = http.request { url = base .. "/slow?ms=2000", timeout_ms = 100 }
  local ms = (uv.hrtime() - t0) / 1e6
  server.close()
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
  server.close()
  T.eq(status, 200)
  T.eq(body, "")
  T.eq(table.concat(chunks), "data: one\n\ndata: two\n\ndata: three\n\n")
  T.ok(#chunks >= 3, "arrived in pieces: " .. #chunks)
  T.ok((times[#times] - times[1]) / 1e6 >= 30, "pieces arrived over time")
end)

T.test("an error in on_chunk fails the request with that error", function()
  local base, server = serve(ROUTES)
  local status, msg = http.request { url = base .. "/stream", on_chunk = function() error("chunk handler broke") end }
  server.close()
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
  server.close()
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
  server.close()
end)

T.test("connections are reused: ten requests one after another open one; a closed server answers nothing", function()
  local base, server = serve(ROUTES)
  for i = 1, 10 do
    local status, _, body = http.request { url = base .. "/echo", method = "POST", body = tostring(i) }
    T.eq({ status, body }, { 200, "POST " .. i .. " " })
  end
  T.eq(server.requests, 10)
  T.eq(server.connections, 1, "every request after the first went over the first one's connection")
  -- a streamed answer ends its message too, so its connection is kept as well
  http.request { url = base .. "/stream" }
  T.eq(server.connections, 1)
  server.close()
  local status, err = http.request { url = base .. "/hello", timeout_ms = 2000 }
  T.eq(status, nil, "the kept connection went with the server")
  T.ok(err, "and the request failed with a message")
end)
