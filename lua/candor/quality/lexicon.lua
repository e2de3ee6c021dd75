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
function M.sources(opts)
  opts = opts or {}
  local out = {}
  for _, f in ipairs(M.files) do
    local path = paths.find("prompts", "lexicons/" .. f)
    if path then out[#out + 1] = { name = path, text = assert(paths.read_file(path)) } end
  end
  for _, f in ipairs(paths.list("prompts", "^lexicons/[^/]+%.local%.txt$")) do
    out[#out + 1] = { name = f.path, text = assert(paths.read_file(f.path)) }
  end
  for _, path in ipairs(opts.extra_files or {}) do
    local text, err = paths.read_file(path)
    if not text then error("cannot read lexicon " .. path .. ": " .. tostring(err), 0) end
    out[#out + 1] = { name = path, text = text }
  end
  if opts.banned and #opts.banned > 0 then
    local lines = { "[banned/phrase weight=2]" }
    for _, p in ipairs(opts.banned) do
      -- one phrase per line; a phrase cannot carry lexicon syntax
      local clean = tostring(p):gsub("[\r\n|]", " "):gsub("^%s*[%[#]", "")
      if clean:match("%S") then lines[#lines + 1] = clean end
    end
    out[#out + 1] = { name = "banned phrases", text = table.concat(lines, "\n") }
  end
  return out
end

-- compile(sources) -> lexicon; raises "file:line: message" for a bad file.
function M.compile(sources)
  local parts = {}
  for i, s in ipairs(sources) do parts[i] = s.name .. "\0" .. s.text end
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
