-- The discovery sources: one file per source under lua/candor/discovery/sources/
-- (a user's copy on CANDOR_PATH wins, and a new file there is a new source),
-- read fresh on every get() so an edit applies to the next run.
-- A source file returns {name, description, config_help = {key = "..."},
-- fetch = function(config, opts) -> posts | nil, err}; docs/discovery-sources.md
-- describes the contract.
local paths = require "candor.paths"

local M = {}

local DIR = "lua/candor/discovery/sources"

-- names() -> the sorted names of every source file on the search path.
function M.names()
  local out = {}
  for _, e in ipairs(paths.list(DIR, "^[%w_]+%.lua$")) do
    local name = e.name:match("^([%w_]+)%.lua$")
    if name ~= "init" then out[#out + 1] = name end
  end
  return out
end

local function unknown(name)
  error(string.format("unknown source '%s' (known: %s)", tostring(name), table.concat(M.names(), ", ")), 0)
end

-- get(name) -> the source module; raises for an unknown name or a file that
-- does not load or does not keep the contract (with its path).
function M.get(name)
  if type(name) ~= "string" or not name:match("^[%w_]+$") or name == "init" then unknown(name) end
  local path = paths.find(DIR, name .. ".lua")
  if not path then unknown(name) end
  local chunk, err = loadfile(path, "t")
  if not chunk then error(string.format("source '%s' does not load: %s", name, err), 0) end
  local ok, mod = pcall(chunk)
  if not ok then error(string.format("source '%s' (%s) failed to load: %s", name, path, tostring(mod)), 0) end
  if type(mod) ~= "table" or type(mod.fetch) ~= "function" then
    error(string.format("source '%s' (%s) must return a table with a fetch function", name, path), 0)
  end
  mod.name = mod.name or name
  mod.path = path
  return mod
end

-- check(name, config) -> true | nil, err: the source's own check of a schedule's
-- config (keywords merged in), made when the schedule is added, not at its first run.
function M.check(name, config)
  local mod = M.get(name)
  if type(mod.check) ~= "function" then return true end
  local ok, err = mod.check(config)
  if not ok then return nil, err end
  return true
end

return M
