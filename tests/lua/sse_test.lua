-- candor.llm.sse: the same events however the stream is cut, byte by byte included.
local T = require "candor.testing"
local sse = require "candor.llm.sse"

local function parse(chunks)
  local out = {}
  local p = sse.parser(function(e) out[#out + 1] = e end)
  for _, c in ipairs(chunks) do p:feed(c) end
  p:finish()
  return out
end

local function bytes(s)
  local t = {}
  for i = 1, #s do t[i] = s:sub(i, i) end
  return t
end

local STREAM = table.concat({
  ": a comment, then a keep-alive\r\n",
  "\r\n",
  "event: message_start\r\n",
  "data: {\"type\":\"start\"}\r\n",
  "\r\n",
  "data: line one\n",
  "data: line two\n",
  "data:no space\n",
  "id: 7\n",
  "\n",
  "event: delta\r",
  "data: cr only\r",
  "\r",
  "data: x\n",
  "retry: 1500\n",
  "\n",
  "data\n",
  "\n",
  "event: ignored-no-data\n",
  "\n",
  "data: [DONE]\n\n",
})

local WANT = {
  { event = "message_start", data = "{\"type\":\"start\"}" },
  { event = "message", data = "line one\nline two\nno space", id = "7" },
  { event = "delta", data = "cr only", id = "7" },
  { event = "message", data = "x", id = "7", retry = 1500 },
  { event = "message", data = "", id = "7" },
  { event = "message", data = "[DONE]", id = "7" },
}

T.test("whole stream: events, comments, CRLF, CR, multi-line data, id, retry", function()
  T.eq(parse({ STREAM }), WANT)
end)

T.test("fed one byte at a time: the same events", function()
  T.eq(parse(bytes(STREAM)), WANT)
end)

T.test("cut at every position into two chunks: the same events", function()
  for cut = 1, #STREAM - 1 do
    T.eq(parse({ STREAM:sub(1, cut), STREAM:sub(cut + 1) }), WANT, "cut at " .. cut)
  end
end)

T.test("an event left open at the end is dropped; a CR at a chunk end pairs with an LF", function()
  T.eq(parse({ "data: done\n\ndata: half" }), { { event = "message", data = "done" } })
  T.eq(parse({ "data: a\r", "\n", "\r", "\n" }), { { event = "message", data = "a" } })
  T.eq(parse({ "data: a\r", "\r" }), { { event = "message", data = "a" } })
end)
