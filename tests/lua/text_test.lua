-- candor.json (slashes left readable, exact round trips) and candor.pretty.
local T = require "candor.testing"
local json = require "candor.json"
local pretty = require "candor.pretty"

T.test("json: slashes stay readable and every string round-trips", function()
  T.eq(json.encode({ url = "https://example.com/a/b" }), '{"url":"https://example.com/a/b"}')
  for _, s in ipairs({ "a/b", "a\\/b", "\\\\/", "/\\", "\\", "", "\"/\"", "\0/" }) do
    T.eq(json.decode(json.encode(s)), s, "round trip of " .. s)
  end
  T.ok(json.null == require("core.db").null, "one null for JSON and SQL")
end)

T.test("pretty: sorted keys, short arrays inline, depth limit, cycles marked", function()
  T.eq(pretty.format({ b = 1, a = "x", [1] = true }), '{\n  true,\n  a = "x",\n  b = 1,\n}')
  T.eq(pretty.format({ 1, 2, 3 }), "{ 1, 2, 3 }")
  T.eq(pretty.format({ a = { b = { c = {} } } }, { depth = 2 }), "{\n  a = {\n    b = {...},\n  },\n}")
  local t = {}
  t.self = t
  T.ok(pretty.format(t):find("<cycle: table: ", 1, true), "cycle marked")
  local shared = { 1 }
  T.eq(pretty.format({ x = shared, y = shared }), "{\n  x = { 1 },\n  y = { 1 },\n}", "a table seen twice is not a cycle")
  T.eq(pretty.format("line\nbreak"), '"line\\nbreak"')
  T.eq(pretty.format(json.null), "null")
end)

T.test("json: integral numbers decode as integers; marked empty arrays encode as []", function()
  local v = json.decode('{"n": 1, "f": 2.5, "list": [1, 2], "deep": {"x": 3}}')
  T.eq(math.type(v.n), "integer")
  T.eq(math.type(v.f), "float")
  T.eq(math.type(v.list[2]), "integer")
  T.eq(math.type(v.deep.x), "integer")
  T.eq(json.encode({ a = json.array() }), '{"a":[]}')
  T.eq(json.encode(json.array({ 1, 2 })), "[1,2]")
  local t = { inner = json.array() }
  json.encode(t)
  T.ok(getmetatable(t.inner) ~= nil and next(t.inner) == nil, "the input is not modified")
end)

T.test("text.trim: both ends, all whitespace kinds, long text in linear time", function()
  local trim = require("candor.text").trim
  T.eq({ trim("  a b \n\t"), trim(""), trim(" \r\n "), trim("x"), trim("\na\n\nb\n") }, { "a b", "", "", "x", "a\n\nb" })
  local long = string.rep("word ", 200000) .. "\n\n"
  local t0 = os.clock()
  T.eq(#trim(long), #long - 3)
  T.ok(os.clock() - t0 < 0.5, "a megabyte trims at once")
end)

T.test("json.encode_wire: the same JSON as encode, slashes left escaped", function()
  local v = { url = "https://a/b", list = json.array {} }
  local wire = json.encode_wire(v)
  T.ok(wire:find("https:\\/\\/a\\/b", 1, true), wire)
  T.ok(wire:find('"list":[]', 1, true), "empty arrays stay arrays")
  T.eq(json.decode(wire), json.decode(json.encode(v)))
end)

T.test("text.check_utf8: a NUL byte is refused with its position, as bad UTF-8 is", function()
  local check = require("candor.text").check_utf8
  T.eq(check("a\tb\nc é", "the text"), "a\tb\nc é")
  local msg = T.raises(function() check("a\0b", "the edited text") end, "the edited text holds a NUL byte %(byte 2%)")
  T.contains(msg, "remove it")
  T.raises(function() check("x\255\0", "the pain point") end, "the pain point is not valid UTF%-8 %(byte 2%)")
  local ok, err = pcall(check, "\0", "the message")
  T.eq({ ok, type(err) == "table" and err.kind }, { false, "usage" }, "a usage error: exit code 2")
end)

T.test("text.check_utf8: the message reads right for a file and for a value given on the command line", function()
  local check = require("candor.text").check_utf8
  local function message(s, what)
    local ok, err = pcall(check, s, what)
    T.ok(not ok, "refused: " .. what)
    return err.message
  end
  T.eq(message("caf\233", "notes.md"), "notes.md is not valid UTF-8 (byte 4): Candor takes text in UTF-8 only")
  T.eq(message("caf\233", "the --focus text"),
    "the --focus text is not valid UTF-8 (byte 4): Candor takes text in UTF-8 only")
  T.eq(message("a\0", "notes.md"), "notes.md holds a NUL byte (byte 2), which no text may: remove it")
  for _, s in ipairs { message("\255", "the focus text"), message("\0", "the focus text") } do
    T.ok(not s:find("save") and not s:find("file"), "nothing about saving a file for a value typed in: " .. s)
  end
end)

T.test("text.tokens and text.opening: about four bytes a token; an opening cut where the text breaks", function()
  local text = require "candor.text"
  T.eq({ text.tokens(""), text.tokens("abcd"), text.tokens(string.rep("x", 4000)) }, { 1, 2, 1001 })
  T.eq({ text.opening("short", 10) }, { "short", 0 })
  local paras = "one one one\n\ntwo two two\n\nthree three"
  T.eq({ text.opening(paras, 30) }, { "one one one\n\ntwo two two", #paras - 24 }, "at the last paragraph end")
  T.eq({ text.opening("aaaaaaaaaa\nbbbbbbbbbb\ncccc", 25) }, { "aaaaaaaaaa\nbbbbbbbbbb", 5 }, "else at a line end")
  T.eq({ text.opening("a\n\n" .. string.rep("b", 40), 20) }, { "a\n\n" .. string.rep("b", 17), 23 },
    "a break that keeps less than half is not used")
  local shown, left = text.opening(string.rep("é", 10), 5)
  T.eq({ shown, left }, { "éé", 16 }, "never inside a character")
  T.ok(utf8.len(shown), "the opening is valid UTF-8")
end)
