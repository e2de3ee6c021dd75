-- The fake community APIs for the discovery source tests: recorded replies
-- (tests/fixtures/discovery/<source>/*.json, in each API's wire format) served
-- on loopback, chosen by path and query parameters, every request recorded.
--   local fake = dofile(root .. "/tests/fake_sources/server.lua").start {
--     { path = "/api/v1/search_by_date", query = { page = "1" }, fixture = "hn/page2.json" },
--     { path = "/api/v1/search_by_date", fixture = "hn/page1.json" },
--     { path = "/search.json", status = 429, headers = { ["Retry-After"] = "2" },
--       fixture = "discourse/rate_limited.json", times = 1 },       -- once, then the next rule
--     { path = "/x", status = 502, body = "<html>Bad gateway</html>" },
--   }
--   fake.url; fake.requests = {{method, path, query = {name = value}, raw_query, headers}};
--   fake.close()
-- The first rule whose path is equal, whose query pairs all match the request's
-- (decoded) parameters and that has uses left answers. "{{base}}" in a fixture
-- or a header value becomes the server's URL (GitHub's Link header points
-- back at the server that way). No rule: 404 with a JSON message.
local root = require("candor.paths").root
local HS = dofile(root .. "/tests/fake_llm/http_server.lua")

local M = {}

M.fixtures = root .. "/tests/fixtures/discovery/"

function M.fixture(name)
  local f = assert(io.open(M.fixtures .. name, "rb"), "no fixture " .. name)
  local text = f:read("a")
  f:close()
  return text
end

local function unescape(s)
  return (s:gsub("%+", " "):gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_query(q)
  local out = {}
  for pair in q:gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=?(.*)$")
    out[unescape(k)] = unescape(v)
  end
  return out
end

local function matches(rule, req, query)
  if rule.path ~= req.path then return false end
  for k, v in pairs(rule.query or {}) do
    if v == false then
      if query[k] ~= nil then return false end
    elseif query[k] ~= v then return false end
  end
  return rule.times == nil or rule.times > 0
end

local function with_base(s, base) return (s:gsub("{{base}}", function() return base end)) end

function M.start(rules)
  local fake = { requests = {} }
  local server = HS.serve(function(req, res)
    local query = parse_query(req.query)
    fake.requests[#fake.requests + 1] = { method = req.method, path = req.path, query = query,
                                          raw_query = req.query, headers = req.headers }
    for _, rule in ipairs(rules) do
      if matches(rule, req, query) then
        if rule.times then rule.times = rule.times - 1 end
        local headers = { ["Content-Type"] = "application/json; charset=utf-8" }
        for k, v in pairs(rule.headers or {}) do headers[k] = with_base(v, fake.url) end
        local body = rule.body or (rule.fixture and with_base(M.fixture(rule.fixture), fake.url)) or ""
        return res:send(rule.status or 200, headers, body)
      end
    end
    res:send(404, { ["Content-Type"] = "application/json" },
      string.format('{"message": "no fake route for %s?%s"}', req.path, req.query))
  end)
  fake.url = server.url
  fake.close = server.close
  return fake
end

return M
