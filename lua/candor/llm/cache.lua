-- The optional response cache: a successful answer stored under its request's
-- key (candor.llm.request_key), so the same request is answered again without
-- the provider. On for a call with opts.cache = true (or a file path), or for
-- every call with CANDOR_LLM_CACHE=1 (or a file path); opts.cache = false turns
-- it off for one call.
-- It lives in its own SQLite file ($XDG_STATE_HOME/candor/llm-cache.db by
-- default), not in Candor's database: that one's tables are the storage
-- contract, and a cache is something you may delete at any time.
local dbm = require "candor.db"
local paths = require "candor.paths"
local host = require "core.host"
local json = require "candor.json"
local profiles = require "candor.llm.profiles"

local M = {}

local SCHEMA = [[CREATE TABLE IF NOT EXISTS llm_cache (
  key TEXT PRIMARY KEY NOT NULL,   -- sha256 of the normalised request
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  response TEXT NOT NULL,          -- JSON: text, finish_reason, tokens, model, sources...
  chunks TEXT,                     -- JSON array of streamed pieces, or NULL
  created_at TEXT NOT NULL)]]

function M.default_path() return paths.state_home() .. "/llm-cache.db" end

-- path_for(opts) -> the cache file for this call, or nil when caching is off.
function M.path_for(opts)
  local want = opts.cache
  if want == nil then
    local v = profiles.getenv("CANDOR_LLM_CACHE")
    if v == nil or v == "" or v == "0" then return nil end
    want = (v == "1" or v == "true") or v
  end
  if want == false then return nil end
  return want == true and M.default_path() or want
end

local Cache = {}
Cache.__index = Cache

local open = {}   -- path -> cache, one connection per file for the process

-- open(path) -> cache; raises a clear error when the file cannot be used.
function M.open(path)
  local c = open[path]
  if c and c.db:is_open() then return c end
  local db = dbm.open(path, { migrate = false })
  db:exec(SCHEMA)
  c = setmetatable({ path = path, db = db }, Cache)
  open[path] = c
  return c
end

-- for_call(opts) -> cache | nil
function M.for_call(opts)
  local path = M.path_for(opts)
  return path and M.open(path)
end

-- A cache that cannot be read or written (locked, disk full) never fails a
-- call: it is a miss, or an answer not kept, reported once per file.
function Cache:report(err)
  if self.reported then return end
  self.reported = true
  io.stderr:write("candor: the LLM response cache ", self.path, " failed (further failures are not reported): ",
    tostring(err), "\n")
end

-- get(key) -> {response =, chunks =} | nil
function Cache:get(key)
  local ok, entry = pcall(function()
    local row = self.db:first("SELECT response, chunks FROM llm_cache WHERE key = ?", key)
    return row and { response = json.decode(row.response), chunks = row.chunks and json.decode(row.chunks) }
  end)
  if not ok then return self:report(entry) end
  return entry or nil
end

-- put(key, response, chunks): stores (or replaces) one successful answer.
function Cache:put(key, response, chunks)
  local ok, err = pcall(self.db.run, self.db, [[INSERT OR REPLACE INTO llm_cache
    (key, provider, model, response, chunks, created_at) VALUES (?, ?, ?, ?, ?, ?)]],
    key, response.provider or "", response.model or "", json.encode(response),
    chunks and json.encode(json.array(chunks)) or nil, host.now())
  if not ok then self:report(err) end
end

-- clear() -> the number of answers removed.
function Cache:clear()
  local n = self.db:value("SELECT count(*) FROM llm_cache")
  self.db:exec("DELETE FROM llm_cache")
  return n
end

return M
