-- Seed data: default settings, voice profiles, persona critics and the public
-- messaging priority, read from prompts/seed/*.lua (a user's copy on CANDOR_PATH
-- wins). Idempotent: a row that exists (by slug, name or key) is left as it is,
-- so a user's edits survive every later init.
local paths = require "candor.paths"

local M = {}

-- Seed files hold only data: they run with no globals at all.
function M.load_data(rel)
  local path = paths.find("prompts", rel)
  if not path then error("seed file prompts/" .. rel .. " is missing", 0) end
  local src = assert(paths.read_file(path))
  local chunk, err = load(src, "@" .. path, "t", {})
  if not chunk then error(err, 0) end
  local ok, data = pcall(chunk)
  if not ok then error(data, 0) end
  if type(data) ~= "table" then error(path .. ": a seed file must return a table", 0) end
  return data, path
end

local function text(rel)
  local path = paths.find("prompts", rel)
  if not path then error("seed text prompts/" .. rel .. " is missing", 0) end
  return assert(paths.read_file(path))
end

-- run(db) -> counts of rows inserted per table, all in one transaction.
function M.run(db)
  local settings = require "candor.repo.settings"
  local voices = require "candor.repo.voice_profiles"
  local critics = require "candor.repo.persona_critics"
  local priorities = require "candor.repo.messaging_priorities"
  local added = { settings = 0, voice_profiles = 0, persona_critics = 0, messaging_priorities = 0 }
  local data = {
    settings = M.load_data("seed/settings.lua"),
    voices = M.load_data("seed/voices.lua"),
    critics = M.load_data("seed/critics.lua"),
    priorities = M.load_data("seed/priorities.lua"),
  }
  db:transaction(function()
    for _, s in ipairs(data.settings) do
      if not db:first("SELECT 1 FROM settings WHERE key = ? AND priority_id IS NULL", s.key) then
        settings:insert(db, { key = s.key, value = tostring(s.value), description = s.description or "" })
        added.settings = added.settings + 1
      end
    end
    for _, v in ipairs(data.voices) do
      if not voices:by_slug(db, v.slug) then
        voices:insert(db, {
          slug = v.slug, name = v.name, description = v.description or "",
          voice_guide = text(v.guide), scoring_thresholds = v.scoring_thresholds or {},
          example_phrases = v.example_phrases or {}, is_default = v.is_default == true,
          is_active = v.is_active ~= false,
        })
        added.voice_profiles = added.voice_profiles + 1
      end
    end
    for _, c in ipairs(data.critics) do
      if not critics:by_name(db, c.name) then
        critics:insert(db, {
          name = c.name, description = c.description or "", prompt_template = text(c.prompt),
          is_active = c.is_active ~= false,
        })
        added.persona_critics = added.persona_critics + 1
      end
    end
    for _, p in ipairs(data.priorities) do
      if not priorities:by_slug(db, p.slug) then
        priorities:insert(db, {
          slug = p.slug, name = p.name, description = p.description or "",
          keywords = p.keywords or {}, product_context = p.product_context or "",
          is_active = p.is_active ~= false,
        })
        added.messaging_priorities = added.messaging_priorities + 1
      end
    end
  end)
  return added
end

-- The default banned phrases: the file named by the banned_phrases_file setting
-- plus the JSON array in banned_words.
-- banned_phrases(db) -> the list: the banned_phrases_file (lower-cased, one
-- phrase a line, # comments) and the banned_words setting. Built again only when
-- the file or the setting changed.
local banned_cache = {}

function M.banned_phrases(db)
  local settings = require "candor.repo.settings"
  local rel = settings:get_value(db, "banned_phrases_file") or "seed/banned_phrases.txt"
  local extra_json = settings:get_value(db, "banned_words") or "[]"
  local path = paths.find("prompts", rel)
  local text, stamp = nil, "none"
  if path then text, stamp = assert(paths.read_cached(path)) end
  local key = (path or "") .. "\0" .. stamp .. "\0" .. extra_json
  local hit = banned_cache[key]
  if hit then
    local copy = {}
    for i, p in ipairs(hit) do copy[i] = p end
    return copy
  end
  local out, seen = {}, {}
  local function add(p)
    p = p:lower():match("^%s*(.-)%s*$")
    if p ~= "" and not seen[p] then seen[p] = true out[#out + 1] = p end
  end
  for line in (text or ""):gmatch("[^\n]+") do
    if not line:match("^%s*#") then add(line) end
  end
  local ok, extra = pcall(require("cjson").decode, extra_json)
  if ok and type(extra) == "table" then
    for _, p in ipairs(extra) do if type(p) == "string" then add(p) end end
  end
  banned_cache = { [key] = out }   -- one version at a time is all a process needs
  local copy = {}
  for i, p in ipairs(out) do copy[i] = p end
  return copy
end

return M
