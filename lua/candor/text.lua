-- Small text helpers shared by the Lua modules.
local M = {}

-- trim(s) -> s without leading and trailing whitespace, in linear time (the
-- pattern "^%s*(.-)%s*$" retries its tail at every byte: slow on long text).
function M.trim(s)
  local first = s:find("%S")
  if not first then return "" end
  local last = #s
  while s:find("^%s", last) do last = last - 1 end
  return s:sub(first, last)
end

-- fold(s) -> s lower-cased (ASCII), every run of whitespace one space, trimmed:
-- the form in which two texts are compared (a quote against its post, two posts).
function M.fold(s)
  return M.trim((s:lower():gsub("%s+", " ")))
end

-- content_hash(title, content) -> hex sha256 of the folded title and content:
-- how pain points are told apart (discovery's de-duplication, manual pains).
function M.content_hash(title, content)
  return require("core.crypto").sha256(M.fold(title .. "\n" .. content))
end

-- check_utf8(s, what) -> s, or raises a usage error naming what is not valid
-- UTF-8 text and the first bad byte. what is a file's path or names a value
-- in the singular ("the focus text"), and the message suits both. A NUL byte is
-- valid UTF-8 but no text holds one: SQLite's text functions and C strings
-- stop at it, so a stored version would read shorter than it is.
function M.check_utf8(s, what)
  local usage = require("candor.workflow").usage
  local ok, bad = utf8.len(s)
  if not ok then
    error(usage(string.format("%s is not valid UTF-8 (byte %d): Candor takes text in UTF-8 only", what, bad)), 0)
  end
  local nul = s:find("\0", 1, true)
  if nul then
    error(usage(string.format("%s holds a NUL byte (byte %d), which no text may: remove it", what, nul)), 0)
  end
  return s
end

-- What a token is taken to be when text is measured before a provider counts
-- it: about four bytes of English text.
M.bytes_per_token = 4

-- tokens(s) -> a rough count of the tokens in s, for budgets and limits.
function M.tokens(s) return #s // M.bytes_per_token + 1 end

-- opening(s, max_bytes) -> s when it fits, else its opening of at most
-- max_bytes: cut at the last paragraph end, else line end, that keeps at least
-- half of it, else at a character boundary (never inside a UTF-8 sequence);
-- and the number of bytes left out.
function M.opening(s, max_bytes)
  if #s <= max_bytes then return s, 0 end
  local head = s:sub(1, max_bytes)
  for _, ending in ipairs { "^(.*)\n%s*\n", "^(.*)\n" } do
    local cut = head:match(ending)
    if cut and #cut >= max_bytes // 2 then return cut, #s - #cut end
  end
  local n = max_bytes
  while n > 0 and (s:byte(n + 1) & 0xC0) == 0x80 do n = n - 1 end   -- a continuation byte starts no character
  return s:sub(1, n), #s - n
end

return M
