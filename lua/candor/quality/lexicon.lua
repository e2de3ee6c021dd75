-- Which phrases the scorers look for: the lexicon files under prompts/lexicons/
-- (a user's file of the same name on CANDOR_PATH replaces the built-in one;
-- every NAME.local.txt found anywhere on the path is added), extra files given
-- on the command line, and banned phrases (the settings' list and a voice's).
-- Compiled lexicons are cached by the hash of everything that went into them.
local score = require "core.score"
local crypto = require "core.crypto"
local paths = require "candor.paths"

local M = {}

-- Later files win a phrase two of them list: vendor-speak and slop over the
-- broader brochure and abstract-claim lists.
M.files = { "authenticity.txt", "abstract.txt", "slop.txt", "vendor.txt" }

local cache, cache_order, CACHE_MAX = {}, {}, 8

-- sources(opts) -> array of {name, text}: the built-in files (or their user
-- replacements), the .local.txt extensions, opts.extra_files and opts.banned.
-- Each source has a stamp (its file's version) when it is a file, so a cached
-- lexicon is found without hashing the files' text.
local function file_source(path)
  local text, stamp = paths.read_cached(path)
  if not text then error("cannot read lexicon " .. path .. ": " .. tostring(stamp), 0) end
  return { name = path, text = text, stamp = stamp }
end

-- Every NAME.local.txt in a prompts/lexicons/ directory of the search path, sorted.
local function local_files()
  local uv = require "luv"
  local out = {}
  for _, r in ipairs(paths.roots()) do
    local dir = r.dir .. "/prompts/lexicons"
    local it = uv.fs_scandir(dir)
    while it do
      local name = uv.fs_scandir_next(it)
      if not name then break end
      if name:match("%.local%.txt$") then out[#out + 1] = dir .. "/" .. name end
    end
  end
  table.sort(out)
  return out
end

-- The banned phrases as a lexicon section, one phrase a line (a phrase cannot
-- carry lexicon syntax); the last list's text is kept, since jobs ask again and again.
local last_banned, last_banned_text
local function banned_source(list)
  local key = table.concat(list, "\n")
  if key == last_banned then return last_banned_text end
  local lines = { "[banned/phrase weight=2]" }
  for _, p in ipairs(list) do
    local clean = tostring(p):gsub("[\r\n|]", " "):gsub("^%s*[%[#]", "")
    if clean:match("%S") then lines[#lines + 1] = clean end
  end
  last_banned, last_banned_text = key, table.concat(lines, "\n")
  return last_banned_text
end

function M.sources(opts)
  opts = opts or {}
  local out = {}
  for _, f in ipairs(M.files) do
    local path = paths.find("prompts", "lexicons/" .. f)
    if path then out[#out + 1] = file_source(path) end
  end
  for _, path in ipairs(local_files()) do out[#out + 1] = file_source(path) end
  for _, path in ipairs(opts.extra_files or {}) do
    local text, err = paths.read_file(path)
    if not text then error("cannot read lexicon " .. path .. ": " .. tostring(err), 0) end
    out[#out + 1] = { name = path, text = text }
  end
  if opts.banned and #opts.banned > 0 then
    out[#out + 1] = { name = "banned phrases", text = banned_source(opts.banned) }
  end
  return out
end

-- compile(sources) -> lexicon; raises "file:line: message" for a bad file.
function M.compile(sources)
  local parts = {}
  for i, s in ipairs(sources) do parts[i] = s.name .. "\0" .. (s.stamp or s.text) end
  local key = crypto.sha256(table.concat(parts, "\0\0"))
  local hit = cache[key]
  if hit then return hit end
  local lex, err = score.compile(sources)
  if not lex then error("lexicon " .. err, 0) end
  cache[key] = lex
  cache_order[#cache_order + 1] = key
  if #cache_order > CACHE_MAX then cache[table.remove(cache_order, 1)] = nil end
  return lex
end

function M.load(opts) return M.compile(M.sources(opts)) end

return M
