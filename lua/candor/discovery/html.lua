-- Text from what community APIs send: HTML bodies (Hacker News, Stack Exchange,
-- Discourse blurbs) become plain text, and plain or Markdown bodies (Reddit,
-- GitHub) get the same tidy whitespace, so every source hands the judge text
-- of one kind. Every source uses these; none strips tags its own way.
local trim = require("candor.text").trim

local M = {}

-- Named entities the sources' HTML uses (the XML five, the Latin-1 and
-- typography ones editors insert); an unknown name is left as written.
local NAMED = {
  amp = "&", lt = "<", gt = ">", quot = '"', apos = "'", nbsp = "\194\160",
  hellip = "…", mdash = "—", ndash = "–", lsquo = "‘", rsquo = "’", ldquo = "“", rdquo = "”",
  sbquo = "‚", bdquo = "„", laquo = "«", raquo = "»", lsaquo = "‹", rsaquo = "›",
  bull = "•", middot = "·", copy = "©", reg = "®", trade = "™", deg = "°", plusmn = "±",
  times = "×", divide = "÷", micro = "µ", para = "¶", sect = "§", euro = "€", pound = "£",
  yen = "¥", cent = "¢", shy = "", zwj = "\226\128\141", zwnj = "\226\128\140",
  larr = "←", rarr = "→", uarr = "↑", darr = "↓", harr = "↔", le = "≤", ge = "≥", ne = "≠",
  minus = "−", prime = "′", Prime = "″", dagger = "†", Dagger = "‡", permil = "‰",
  iexcl = "¡", iquest = "¿", frac12 = "½", frac14 = "¼", frac34 = "¾", sup2 = "²", sup3 = "³",
}

-- A code point as UTF-8; NUL, surrogates and values past U+10FFFF become U+FFFD
-- (what an HTML parser does with them).
local function codepoint(n)
  if not n or n == 0 or n > 0x10FFFF or (n >= 0xD800 and n <= 0xDFFF) then return "\239\191\189" end
  return utf8.char(n)
end

local function entity(body)
  local hex = body:match("^#[xX](%x+)$")
  if hex then return codepoint(tonumber(hex, 16)) end
  local dec = body:match("^#(%d+)$")
  if dec then return codepoint(tonumber(dec)) end
  return NAMED[body]
end

-- decode(s) -> s with character references (&amp; &#39; &#x27; ...) replaced.
function M.decode(s)
  if type(s) ~= "string" then return "" end
  if not s:find("&", 1, true) then return s end
  return (s:gsub("&(#?[%w]+);", function(body) return entity(body) end))
end

-- "script" -> "[sS][cC]..." : Lua patterns have no case-insensitive flag.
local function anycase(word)
  return (word:gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end))
end

local SCRIPT = "<" .. anycase("script") .. "[^>]*>.-</" .. anycase("script") .. "%s*>"
local STYLE = "<" .. anycase("style") .. "[^>]*>.-</" .. anycase("style") .. "%s*>"

-- Elements that start a new line or paragraph; inline ones just vanish.
local BREAK = { br = "\n", hr = "\n\n", li = "\n- " }
local BLOCK = { p = true, div = true, pre = true, blockquote = true, ul = true, ol = true, table = true,
                tr = true, h1 = true, h2 = true, h3 = true, h4 = true, h5 = true, h6 = true,
                section = true, article = true, aside = true, header = true, footer = true, dl = true,
                dt = true, dd = true, figure = true, details = true, summary = true }

local function tag_text(closing, name)
  name = name:lower()
  if closing == "" and BREAK[name] then return BREAK[name] end
  if BLOCK[name] then return "\n\n" end
  return ""
end

-- tidy(s) -> s with spaces (and no-break spaces) collapsed within lines, lines
-- trimmed, at most one blank line in a row, and no space at either end.
function M.tidy(s)
  s = s:gsub("\r\n?", "\n"):gsub("\194\160", " "):gsub("[ \t\f\v]+", " ")
  s = s:gsub(" *\n *", "\n"):gsub("\n\n\n+", "\n\n")
  return trim(s)
end

-- line(s) -> one line of plain text (a title, a name): entities decoded,
-- every run of whitespace one space.
function M.line(s)
  if type(s) ~= "string" then return "" end
  return trim((M.decode(s):gsub("\194\160", " "):gsub("%s+", " ")))
end

-- to_text(html) -> plain text: scripts, styles and comments dropped, block
-- elements as line breaks, other tags stripped, entities decoded (after the
-- tags, so an escaped "&lt;div&gt;" stays as text), whitespace tidied.
function M.to_text(html)
  if type(html) ~= "string" or html == "" then return "" end
  local s = html:gsub("<!%-%-.-%-%->", ""):gsub(SCRIPT, ""):gsub(STYLE, "")
  -- source newlines are layout, not text (HTML breaks lines where tags say),
  -- except inside <pre>, where code keeps its lines
  s = s:gsub("(<" .. anycase("pre") .. "[^>]*>)(.-)(</" .. anycase("pre") .. "%s*>)", function(open, body, close)
    return open .. body:gsub("\r?\n", "\0") .. close
  end)
  s = s:gsub("%s+", " "):gsub("\0", "\n")
  s = s:gsub("<(/?)(%a[%w]*)[^>]*>", tag_text):gsub("<![^>]*>", "")
  return M.tidy(M.decode(s))
end

-- plain(text) -> plain or Markdown text tidied the same way: HTML comments
-- (issue templates leave them) dropped, line breaks kept, whitespace tidied.
function M.plain(text)
  if type(text) ~= "string" or text == "" then return "" end
  return M.tidy((text:gsub("<!%-%-.-%-%->", "")))
end

return M
