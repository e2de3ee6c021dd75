-- Where Candor finds things: the search path for workflows, prompts and Lua
-- (CANDOR_PATH entries first, then the built-in files), and the XDG directories.
local host = require "core.host"

local M = {}

M.root = host.root

local function env(name)
  local v = os.getenv(name)
  if v and v ~= "" then return v end
end

-- The roots searched in order: each CANDOR_PATH entry, then the built-in root.
function M.roots()
  local roots = {}
  for dir in (env("CANDOR_PATH") or ""):gmatch("[^:]+") do
    roots[#roots + 1] = { dir = dir, user = true }
  end
  roots[#roots + 1] = { dir = M.root, user = false }
  return roots
end

-- exists(path) -> true when path (a file or a directory) can be read.
function M.exists(path)
  return require("luv").fs_access(path, "R") == true
end

function M.is_file(path)
  local uv = require "luv"
  local st = uv.fs_stat(path)
  return st ~= nil and st.type == "file"
end

function M.is_dir(path)
  local uv = require "luv"
  local st = uv.fs_stat(path)
  return st ~= nil and st.type == "directory"
end

-- find("prompts", "seed/voices.lua") -> path, is_user_override | nil
function M.find(kind, rel)
  for _, r in ipairs(M.roots()) do
    local p = r.dir .. "/" .. kind .. "/" .. rel
    if M.exists(p) then return p, r.user end
  end
end

-- Every file under KIND/ in every root, the first root winning:
-- list("workflows", "%.lua$") -> sorted array of {name, path, user, shadows}
function M.list(kind, pattern)
  local uv = require "luv"
  local seen, out = {}, {}
  local function walk(base, rel, root)
    local dir = rel == "" and base or base .. "/" .. rel
    local it = uv.fs_scandir(dir)
    if not it then return end
    while true do
      local name, typ = uv.fs_scandir_next(it)
      if not name then break end
      local child = rel == "" and name or rel .. "/" .. name
      if typ == "directory" then
        walk(base, child, root)
      elseif not pattern or child:match(pattern) then
        if seen[child] then
          seen[child].shadows = (seen[child].shadows or 0) + 1
        else
          local e = { name = child, path = dir .. "/" .. name, user = root.user }
          seen[child] = e
          out[#out + 1] = e
        end
      end
    end
  end
  for _, r in ipairs(M.roots()) do walk(r.dir .. "/" .. kind, "", r) end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

function M.read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  return s
end

-- read_cached(path) -> text, stamp | nil, message: the file's text, read again
-- only when its modification time or size changed (so an edit shows at once),
-- and a stamp ("mtime:size") that names this version of it.
local file_cache = {}

function M.read_cached(path)
  local uv = require "luv"
  local st, err = uv.fs_stat(path)
  if not st then return nil, err end
  local stamp = string.format("%d.%09d:%d", st.mtime.sec, st.mtime.nsec or 0, st.size)
  local c = file_cache[path]
  if c and c.stamp == stamp then return c.text, stamp end
  local text, rerr = M.read_file(path)
  if not text then return nil, rerr end
  file_cache[path] = { stamp = stamp, text = text }
  return text, stamp
end

-- Creates dir and its parents; returns true or nil, message.
function M.mkdir_p(dir)
  local uv = require "luv"
  local path = dir:sub(1, 1) == "/" and "" or "."
  for part in dir:gmatch("[^/]+") do
    path = path .. "/" .. part
    local st = uv.fs_stat(path)
    if not st then
      local ok, err = uv.fs_mkdir(path, tonumber("755", 8))
      if not ok and not (err or ""):match("^EEXIST") then
        return nil, "cannot create directory " .. path .. ": " .. tostring(err)
      end
    elseif st.type ~= "directory" then
      return nil, path .. " is not a directory"
    end
  end
  return true
end

function M.dirname(path)
  local d = path:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  return d == "" and "/" or d
end

local function xdg(var, fallback)
  local v = env(var)
  if v then return v end
  return (env("HOME") or "/tmp") .. "/" .. fallback
end

function M.data_home() return xdg("XDG_DATA_HOME", ".local/share") .. "/candor" end
function M.state_home() return xdg("XDG_STATE_HOME", ".local/state") .. "/candor" end
function M.config_home() return xdg("XDG_CONFIG_HOME", ".config") .. "/candor" end

-- --db PATH, else CANDOR_DB, else the XDG data directory.
function M.db_path(flag)
  return flag or env("CANDOR_DB") or (M.data_home() .. "/candor.db")
end

return M
