-- Prompt files: found on the search path (a user's copy on CANDOR_PATH wins),
-- read fresh on every use so an edit applies to the next call, and rendered
-- in one pass with named variables:
--   {{name}}               the value of name
--   {{#name}}...{{/name}}  the block, only when name is not empty
--   {{^name}}...{{/name}}  the block, only when name is empty
-- A value is inserted as it is and never expanded again. A missing variable
-- is an error naming the prompt and the variable. A file with lines
-- "=== system ===" and "=== user ===" has two parts; text before the first
-- marker is a note for prompt engineers and is never sent.
local paths = require "candor.paths"
local trim = require("candor.text").trim

local M = {}

-- find(name) -> path, is_user_copy: "pipeline/draft" means prompts/pipeline/draft.md.
function M.find(name)
  local rel = name:match("%.%w+$") and name or (name .. ".md")
  local path, user = paths.find("prompts", rel)
  if not path then error(string.format("no prompt '%s' (looked for prompts/%s on CANDOR_PATH and in %s)",
    name, rel, paths.root), 0) end
  return path, user
end

-- load(name) -> text, path, stamp (the file's version, see paths.read_cached)
function M.load(name)
  local path = M.find(name)
  local text, err = paths.read_cached(path)
  if not text then error(string.format("prompt '%s': %s", name, err), 0) end
  return text, path, err
end

local function line_of(template, pos)
  local n = 1
  for _ in template:sub(1, pos - 1):gmatch("\n") do n = n + 1 end
  return n
end

local function value_text(vars, key, fail)
  local v = vars[key]
  if v == nil then fail("missing variable '" .. key .. "'") end
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return tostring(v) end
  fail(string.format("variable '%s' is a %s; format it as text first", key, t))
end

-- render_text(template, vars, label) -> text. label names the prompt in errors.
function M.render_text(template, vars, label)
  label = label or "template"
  local out = {}
  local function fail_at(pos)
    return function(msg) error(string.format("prompt %s, line %d: %s", label, line_of(template, pos), msg), 0) end
  end
  -- Renders template[i, j] into out; sections recurse on their bodies.
  local function walk(i, j)
    while i <= j do
      local open = template:find("{{", i, true)
      if not open or open > j then out[#out + 1] = template:sub(i, j) return end
      out[#out + 1] = template:sub(i, open - 1)
      local close = template:find("}}", open + 2, true)
      local fail = fail_at(open)
      if not close or close > j then fail("'{{' is never closed with '}}'") end
      local tag = template:sub(open + 2, close - 1):match("^%s*(.-)%s*$")
      local sigil, key = tag:match("^([#%^/]?)([%w_%.%-]+)$")
      if not key then fail(string.format("'{{%s}}' is not a variable name", tag)) end
      if sigil == "" then
        out[#out + 1] = value_text(vars, key, fail)
        i = close + 2
      elseif sigil == "/" then
        fail(string.format("'{{/%s}}' closes a section that was never opened", key))
      else
        local end_tag = "{{/" .. key .. "}}"
        local body_end = template:find(end_tag, close + 2, true)
        if not body_end or body_end > j then fail(string.format("section '%s' is never closed with %s", key, end_tag)) end
        local empty = value_text(vars, key, fail):match("%S") == nil
        if empty == (sigil == "^") then walk(close + 2, body_end - 1) end
        i = body_end + #end_tag
      end
    end
  end
  walk(1, #template)
  return table.concat(out)
end

-- Splits a prompt file at its "=== system ===" and "=== user ===" lines ->
-- system, user (nil when the file has neither marker).
local function parts(text)
  local found, order = {}, {}
  local pos = 1
  while pos <= #text do
    local nl = text:find("\n", pos, true) or (#text + 1)
    local which = text:sub(pos, nl - 1):match("^=== (%a+) ===%s*$")
    if which == "system" or which == "user" then
      if found[which] then error("the === " .. which .. " === line appears twice", 0) end
      found[which] = { line_start = pos, body_start = nl + 1 }
      order[#order + 1] = which
    end
    pos = nl + 1
  end
  if #order == 0 then return nil end
  if order[1] == "user" and found.system then error("the === system === part must come before === user ===", 0) end
  local function body(which)
    local f = found[which]
    if not f then return nil end
    local stop = (which == "system" and found.user) and found.user.line_start - 1 or #text
    return text:sub(f.body_start, stop)
  end
  return body("system"), body("user")
end

-- render(name, vars) -> {system =, user =, text =, path =}: a two-part file gives
-- system and user (text is the user part); a plain file gives text.
local split = {}   -- path -> {stamp, system, user}: a file is split once per version

function M.render(name, vars)
  local text, path, stamp = M.load(name)
  local label = string.format("'%s' (%s)", name, path)
  local hit = split[path]
  local system, user
  if hit and hit.stamp == stamp then
    system, user = hit.system, hit.user
  else
    local ok
    ok, system, user = pcall(parts, text)
    if not ok then error(string.format("prompt %s: %s", label, system), 0) end
    split[path] = { stamp = stamp, system = system, user = user }
  end
  local out = { path = path }
  if system or user then
    out.system = system and trim(M.render_text(system, vars, label)) or nil
    out.user = user and trim(M.render_text(user, vars, label)) or ""
    out.text = out.user
  else
    out.text = M.render_text(text, vars, label)
  end
  return out
end

return M
