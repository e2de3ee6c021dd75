-- Cassettes: every LLM answer of a run recorded to a file, and replayed from it
-- offline. CANDOR_CASSETTE=FILE turns it on; CANDOR_CASSETTE_MODE says how:
--   record  every call goes to the provider; the file is emptied when the run
--           first uses it, then each answer is appended as its call ends
--   replay  (the default) never touches the network; a request with no
--           recording is an error naming its purpose and prompt hash
--   auto    replays what is recorded, fetches and appends what is not: after
--           editing one prompt, only the calls it changes reach the provider
-- The file is JSON Lines, one answer a line, keys sorted so a re-recording
-- diffs cleanly: {chunks, key, model, provider, purpose, request, response}.
-- `chunks` (streamed calls only) are the pieces handed to on_text, replayed
-- one by one. Identical requests replay in order: the nth gets the nth
-- recording; past the last, replay mode repeats the last one and auto mode
-- fetches a new one. Only answers are recorded (an answer that is not the JSON
-- asked for is one: a replay then repairs it the same way); a call that failed
-- for good (HTTP errors after retries, timeouts, blocked) is not, so it is a
-- miss on replay and fetched again in auto mode.
local paths = require "candor.paths"
local profiles = require "candor.llm.profiles"
local request_key = require "candor.llm.request_key"
local json = require "candor.json"

local M = { modes = { record = true, replay = true, auto = true } }

local Cassette = {}
Cassette.__index = Cassette

local function env(name)
  local v = profiles.getenv(name)
  if v and v ~= "" then return v end
end

-- Reads FILE's entries into per-key queues; raises on a line that is not an entry.
local function load(path)
  local text, err = paths.read_file(path)
  if not text then return nil, err end
  local by_key, lineno = {}, 0
  for line in (text .. "\n"):gmatch("(.-)\n") do
    lineno = lineno + 1
    if line:match("%S") then
      local ok, entry = pcall(json.decode, line)
      if not ok or type(entry) ~= "table" or type(entry.key) ~= "string" or type(entry.response) ~= "table" then
        error(string.format("cassette %s:%d is not a recorded answer (a JSON object with key and response)", path, lineno), 0)
      end
      local q = by_key[entry.key]
      if not q then
        q = { next = 1 }
        by_key[entry.key] = q
      end
      q[#q + 1] = entry
    end
  end
  return by_key
end

-- open(path, mode) -> cassette; raises a clear error when the file cannot be used.
function M.open(path, mode)
  if not M.modes[mode] then
    error(string.format("CANDOR_CASSETTE_MODE must be record, replay or auto, not '%s'", mode), 0)
  end
  local self = setmetatable({ path = path, mode = mode, by_key = {}, recorded = 0 }, Cassette)
  if mode ~= "record" then
    local by_key, err = load(path)
    if by_key then self.by_key = by_key
    elseif mode == "replay" then
      error(string.format("cannot read cassette %s: %s (record one with CANDOR_CASSETTE_MODE=record or auto)", path, err), 0)
    end
  end
  if mode ~= "replay" then
    local ok, err = paths.mkdir_p(paths.dirname(path))
    if not ok then error("cannot create cassette " .. path .. ": " .. err, 0) end
    local f, ferr = io.open(path, mode == "record" and "wb" or "ab")
    if not f then error("cannot write cassette " .. ferr, 0) end
    self.file = f
  end
  return self
end

-- lookup(key, purpose) -> entry | nil (go to the provider) | nil, err (replay miss)
function Cassette:lookup(key, purpose)
  if self.mode == "record" then return nil end
  local q = self.by_key[key]
  if q and q[q.next] then
    q.next = q.next + 1
    return q[q.next - 1]
  end
  if self.mode == "auto" then return nil end
  if q and #q > 0 then return q[#q] end      -- more identical requests than recordings
  return nil, { kind = "cassette", retryable = false,
    message = string.format("cassette %s has no answer for purpose '%s' (prompt sha256 %s…); "
      .. "rerun with CANDOR_CASSETTE_MODE=auto to fetch it", self.path, purpose, key:sub(1, 12)) }
end

-- record{key, purpose, request, response, chunks}: appended and flushed at once,
-- so a run that crashes keeps every answer it had; counts as consumed, so the
-- next identical request in this run is another recording.
function Cassette:record(entry)
  if not self.file then return end
  self.file:write(request_key.canonical(entry), "\n")
  self.file:flush()
  local q = self.by_key[entry.key]
  if not q then
    q = { next = 1 }
    self.by_key[entry.key] = q
  end
  q[#q + 1] = entry
  q.next = #q + 1
  self.recorded = self.recorded + 1
end

function Cassette:close()
  if self.file then self.file:close() end
  self.file = nil
end

-- The cassette of this run: opened on first use from CANDOR_CASSETTE and
-- CANDOR_CASSETTE_MODE (read through profiles.getenv), kept while they stay the
-- same; nil when CANDOR_CASSETTE is unset.
local active

function M.current()
  local path, mode = env("CANDOR_CASSETTE"), env("CANDOR_CASSETTE_MODE") or "replay"
  if active and (active.path ~= path or active.mode ~= mode) then M.reset() end
  if path and not active then active = M.open(path, mode) end
  return active
end

-- reset(): closes the current cassette; the next call starts a new run with it.
function M.reset()
  if active then active:close() end
  active = nil
end

return M
