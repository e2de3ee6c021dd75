-- Model profiles: which provider and model serve each tier. Workflows ask for a
-- tier (flash, pro, research, or a name of their own), never for a model.
-- Built-in profiles are below; $XDG_CONFIG_HOME/candor/config.lua may return
-- {profiles = {name = {tier = "provider:model" | {provider =, model =, ...}}}, profile = "name"}
-- to add or replace some; the active one is CANDOR_PROFILE, else the config
-- file's, else the model_profile setting, else "production".
local paths = require "candor.paths"

local M = {}

M.builtin = {
  production = {
    flash = "gemini:gemini-2.5-flash", pro = "gemini:gemini-2.5-pro", research = "gemini:gemini-2.5-pro",
    judge = "anthropic:claude-sonnet-4-5",
  },
  economy = {
    flash = "gemini:gemini-2.5-flash-lite", pro = "gemini:gemini-2.5-flash", research = "gemini:gemini-2.5-flash",
    judge = "gemini:gemini-2.5-flash-lite",
  },
  -- every tier to the OpenAI-compatible server at OPENAI_BASE_URL (Ollama's address by default)
  ["local"] = {
    flash = "openai:$CANDOR_LOCAL_MODEL", pro = "openai:$CANDOR_LOCAL_MODEL", research = "openai:$CANDOR_LOCAL_MODEL",
    judge = "openai:$CANDOR_LOCAL_MODEL",
  },
}

-- Where each provider's key and base URL come from.
M.providers = {
  openai = { keys = { "OPENAI_API_KEY" }, base_env = "OPENAI_BASE_URL", base = "https://api.openai.com/v1",
             key_optional_with_base = true },
  anthropic = { keys = { "ANTHROPIC_API_KEY" }, base_env = "ANTHROPIC_BASE_URL", base = "https://api.anthropic.com" },
  gemini = { keys = { "GEMINI_API_KEY", "GOOGLE_API_KEY" }, base_env = "GEMINI_BASE_URL",
             base = "https://generativelanguage.googleapis.com" },
}

-- The environment, as one function tests can replace.
M.getenv = os.getenv

local function env(name)
  local v = M.getenv(name)
  if v and v ~= "" then return v end
end

-- The user's config file, if any: {profiles = {...}, profile = "name"}.
function M.config_path() return paths.config_home() .. "/config.lua" end

function M.user_config()
  local path = M.config_path()
  if not paths.exists(path) then return {}, nil end
  local chunk, err = loadfile(path, "t", {})
  if not chunk then error("config file " .. err, 0) end
  local ok, cfg = pcall(chunk)
  if not ok then error("config file " .. path .. ": " .. tostring(cfg), 0) end
  if type(cfg) ~= "table" then error("config file " .. path .. " must return a table", 0) end
  return cfg, path
end

-- active(opts) -> name, profile table, where the choice came from
-- opts.setting: the model_profile setting's value, when a database is at hand.
function M.active(opts)
  opts = opts or {}
  local cfg, path = M.user_config()
  local all = {}
  for name, p in pairs(M.builtin) do all[name] = p end
  for name, p in pairs(cfg.profiles or {}) do all[name] = p end
  local name, source
  if env("CANDOR_PROFILE") then name, source = env("CANDOR_PROFILE"), "CANDOR_PROFILE"
  elseif cfg.profile then name, source = cfg.profile, path
  elseif opts.setting then name, source = opts.setting, "the model_profile setting"
  else name, source = "production", "the default" end
  local profile = all[name]
  if not profile then
    local names = {}
    for n in pairs(all) do names[#names + 1] = n end
    table.sort(names)
    error(string.format("no model profile '%s' (from %s); known: %s", name, source, table.concat(names, ", ")), 0)
  end
  return name, profile, source
end

-- A spec ("provider:model" or {provider =, model =, ...options}) to a call target
-- with base URL and key; `what` names it in errors; local_profile gives the
-- OpenAI-compatible provider Ollama's address when OPENAI_BASE_URL is unset.
local function target(spec, what, local_profile)
  local t = type(spec) == "string" and {} or spec
  if type(spec) == "string" then t.provider, t.model = spec:match("^([%w_]+):(.+)$") end
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  if not out.provider or not out.model then error(what .. " must be provider:model", 0) end
  out.model = out.model:gsub("%$([%w_]+)", function(var) return env(var) or "" end)
  local p = M.providers[out.provider]
  if not p then error(string.format("%s names an unknown provider '%s'", what, out.provider), 0) end
  if out.model == "" then error(what .. " needs a model: set CANDOR_LOCAL_MODEL", 0) end
  out.base_url = out.base_url or env(p.base_env)
    or (out.provider == "openai" and local_profile and "http://localhost:11434/v1") or p.base
  for _, var in ipairs(p.keys) do
    if env(var) then out.api_key, out.key_var = env(var), var break end
  end
  local custom_base = env(p.base_env) or local_profile
  if not out.api_key and not (p.key_optional_with_base and custom_base) then
    error(string.format("%s uses %s, which needs an API key: set %s", what, out.provider, table.concat(p.keys, " or ")), 0)
  end
  return out
end

-- resolve(tier, opts) -> {provider, model, base_url, api_key, key_var, tier, profile, ...options}
-- Raises a clear error for an unknown tier or a missing key, naming the variable.
function M.resolve(tier, opts)
  local name, profile = M.active(opts)
  local spec = profile[tier]
  if not spec then error(string.format("model profile '%s' has no tier '%s'", name, tier), 0) end
  local out = target(spec, string.format("tier '%s' of profile '%s'", tier, name), name == "local")
  out.tier, out.profile = tier, name
  return out
end

-- resolve_model("provider:model") -> the same, for a model named directly.
function M.resolve_model(spec)
  local out = target(spec, string.format("model '%s'", spec), false)
  out.tier = spec
  return out
end

return M
