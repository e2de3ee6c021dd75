-- Server-sent events (the text/event-stream format): a parser fed chunks as they
-- arrive, split anywhere, that calls back once per complete event.
-- Lines end in CRLF, LF or CR; ":" starts a comment; "field: value" (one space
-- after the colon is dropped); data lines join with "\n"; a blank line ends an
-- event; an event with no data is not dispatched.
local M = {}

local Parser = {}
Parser.__index = Parser

-- parser(on_event) -> p; p:feed(chunk), p:finish(). on_event({event =, data =, id =, retry =}).
function M.parser(on_event)
  return setmetatable({ on_event = on_event, buf = "", skip_lf = false,
                        data = nil, event = nil, id = nil, retry = nil }, Parser)
end

function Parser:line(line)
  if line == "" then
    if self.data then
      self.on_event { event = self.event or "message", data = self.data, id = self.id, retry = self.retry }
    end
    self.data, self.event, self.retry = nil, nil, nil
    return
  end
  if line:byte(1) == 58 then return end            -- ":" comment
  local field, value = line:match("^([^:]*):(.*)$")
  if not field then field, value = line, "" end
  if value:byte(1) == 32 then value = value:sub(2) end
  if field == "data" then
    self.data = self.data and (self.data .. "\n" .. value) or value
  elseif field == "event" then
    self.event = value
  elseif field == "id" then
    if not value:find("\0", 1, true) then self.id = value end
  elseif field == "retry" then
    if value:match("^%d+$") then self.retry = tonumber(value) end
  end
end

function Parser:feed(chunk)
  if chunk == "" then return end
  if self.skip_lf then                             -- a CR ended the last chunk: CRLF is one break
    self.skip_lf = false
    if chunk:byte(1) == 10 then chunk = chunk:sub(2) end
  end
  local buf = self.buf .. chunk
  local pos = 1
  while true do
    local e = buf:find("[\r\n]", pos)
    if not e then break end
    self:line(buf:sub(pos, e - 1))
    if buf:byte(e) == 13 then
      if e == #buf then self.skip_lf = true pos = e + 1 break end
      if buf:byte(e + 1) == 10 then e = e + 1 end
    end
    pos = e + 1
  end
  self.buf = buf:sub(pos)
end

-- The stream ended: a last line without its line break still counts, but an
-- event not closed by a blank line is dropped, as the format says.
function Parser:finish()
  if self.buf ~= "" then self:line(self.buf) end
  self.buf = ""
  self.data, self.event = nil, nil
end

return M
