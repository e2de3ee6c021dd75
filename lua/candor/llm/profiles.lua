-- Model profiles: which provider and model serve each tier. Workflows ask for a
-- tier (flash, pro, research, or a name of their own), never for a model.
-- Built-in profiles are below; $XDG_CONFIG_HOME/candor/config.lua may return
-- {profiles = {name = {tier = "provider:model" | {provider =, model =, ...},
--  limits = {provider = {concurrency =, rpm =}}}}, profile = "name"}
-- to add profiles or replace some of their tiers, and the model_profiles setting
-- (JSON of the same shape) does the same over both. See M.active for which
-- profile is chosen.
local paths = require "candor.paths"

local M = {}

M.builtin = {
  -- research is grounded in Google Search; deep_research is the long, polled agent
  production = {
    flash = "gemini:gemini-2.5-flash", pro = "gemini:gemini-2.5-pro",
    research = { provider = "gemini", model = "gemini-2.5-pro", grounding = true },
    deep_research = "deep_research:deep-research-pro-preview-12-2025",
    judge = "anthropic:claude-sonnet-4-5",
  },
  economy = {
    flash = "gemini:gemini-2.5-flash-lite", pro = "gemini:gemini-2.5-flash",
    research = { provider = "gemini", model = "gemini-2.5-flash", grounding = true },
    deep_research = "deep_research:deep-research-pro-preview-12-2025",
    judge = "gemini:gemini-2.5-flash-lite",
  },
  -- for a single key: every tier on one provider (research without web grounding)
  anthropic = {
    flash = "anthropic:claude-haiku-4-5", pro = "anthropic:claude-sonnet-4-5", research = "anthropic:claude-sonnet-4-5",
    judge = "anthropic:claude-sonnet-4-5",
  },
  openai = {
    flash = "openai:gpt-4o-mini", pro = "openai:gpt-4o", research = "openai:gpt-4o", judge = "openai:gpt-4o",
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
  deep_research = { keys = { "GEMINI_API_KEY", "GOOGLE_API_KEY" }, base_env = "GEMINI_BASE_URL",
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

-- Compiled once per version of the file (every LLM call resolves a profile);
-- each read runs it afresh, so callers never share its tables.
local compiled = {}

function M.user_config()
  local path = M.config_path()
  local text, stamp = paths.read_cached(path)
  if not text then return {}, nil end
  if compiled.path ~= path or compiled.stamp ~= stamp then
    local fn, err = load(text, "@" .. path, "t", {})
    if not fn then error("config file " .. err, 0) end
    compiled.path, compiled.stamp, compiled.fn = path, stamp, string.dump(fn)
  end
  local chunk = load(compiled.fn, "@" .. path, "b", {})
  local ok, cfg = pcall(chunk)
  if not ok then error("config file " .. path .. ": " .. tostring(cfg), 0) end
  if type(cfg) ~= "table" then error("config file " .. path .. " must return a table", 0) end
  return cfg, path
end

-- Settings that shape profiles, read from the database when opts.db is given
-- (opts.settings gives them directly): model_profile names the profile;
-- model_profiles is JSON {name = {tier = spec, limits = {...}}} over the rest;
-- llm_max_concurrency, llm_request_timeout_seconds, llm_max_retries and
-- llm_max_input_tokens set what a profile leaves unsaid.
local SETTING_KEYS = { "model_profile", "model_profiles", "llm_max_concurrency", "llm_request_timeout_seconds",
                       "llm_max_retries", "llm_max_input_tokens" }

-- The input limit when neither the tier nor the setting gives one (the seeded
-- setting's value): a database without the setting still refuses a runaway prompt.
M.default_max_input_tokens = 200000

local function settings_of(opts)
  if opts.settings then return opts.settings end
  if opts.db then return M.settings(opts.db) end
  return {}
end

-- settings(db) -> the settings above, read once per call: a job resolving
-- several tiers reads them once and passes them as opts.settings.
function M.settings(db)
  local S = require "candor.repo.settings"
  local out = {}
  for _, key in ipairs(SETTING_KEYS) do out[key] = S:get_value(db, key) end
  return out
end

local function setting_profiles(settings)
  local raw = settings.model_profiles
  if type(raw) == "table" or raw == nil then return raw end
  local ok, value = pcall(require("candor.json").decode, raw)
  if not ok or type(value) ~= "table" then
    error("the model_profiles setting must be a JSON object of profiles: " .. tostring(value), 0)
  end
  return value
end

-- Keys of a profile that are not tiers.
local RESERVED = { limits = true }
M.reserved = RESERVED

-- Every profile, layer over layer (built-in, the config file, the model_profiles
-- setting): a later layer replaces the tiers it names and keeps the others.
-- -> profiles, origin[name][tier] = where that tier was last set
local function all_profiles(cfg, path, settings)
  local all, origin = {}, {}
  local function layer(profiles, where)
    for name, p in pairs(profiles or {}) do
      if type(p) ~= "table" then error(string.format("profile '%s' (from %s) must be a table of tiers", name, where), 0) end
      all[name], origin[name] = all[name] or {}, origin[name] or {}
      for tier, spec in pairs(p) do
        if RESERVED[tier] and all[name][tier] then
          local merged = {}
          for k, v in pairs(all[name][tier]) do merged[k] = v end
          for k, v in pairs(spec) do merged[k] = v end
          spec = merged
        end
        all[name][tier], origin[name][tier] = spec, where
      end
    end
  end
  layer(M.builtin, "built-in")
  layer(cfg.profiles, path)
  layer(setting_profiles(settings), "the model_profiles setting")
  return all, origin
end

local function sorted_names(all)
  local names = {}
  for n in pairs(all) do names[#names + 1] = n end
  table.sort(names)
  return names
end

-- active(opts) -> name, profile table, where the choice came from, origin of each tier.
-- The choice: opts.profile, else the running task's context profile (a job's
-- own, so concurrent jobs never share one), else CANDOR_PROFILE, else the
-- config file's, else the model_profile setting, else "production".
function M.active(opts)
  opts = opts or {}
  local cfg, path = M.user_config()
  local settings = settings_of(opts)
  local all, origin = all_profiles(cfg, path, settings)
  local ctx_profile = require("candor.async").context().profile
  local name, source
  if opts.profile then name, source = opts.profile, "--profile"
  elseif ctx_profile then name, source = ctx_profile, "the job"
  elseif env("CANDOR_PROFILE") then name, source = env("CANDOR_PROFILE"), "CANDOR_PROFILE"
  elseif cfg.profile then name, source = cfg.profile, path
  elseif settings.model_profile then name, source = settings.model_profile, "the model_profile setting"
  else name, source = "production", "the default" end
  local profile = all[name]
  if not profile then
    error(string.format("no model profile '%s' (from %s); known: %s", name, source, table.concat(sorted_names(all), ", ")), 0)
  end
  return name, profile, source, origin[name], settings
end

-- names(opts) -> the names of every profile (built-in, config file, setting), sorted.
function M.names(opts)
  local cfg, path = M.user_config()
  return sorted_names((all_profiles(cfg, path, settings_of(opts or {}))))
end

-- The tiers of a profile, sorted (reserved keys such as limits left out).
function M.tiers(profile)
  local out = {}
  for tier in pairs(profile) do if not RESERVED[tier] then out[#out + 1] = tier end end
  table.sort(out)
  return out
end

-- A spec ("provider:model" or {provider =, model =, ...options}) to a call target
-- with base URL and key; `what` names it in errors; local_profile gives the
-- OpenAI-compatible provider Ollama's address when OPENAI_BASE_URL is unset,
-- and the server's first listed model when the model is left empty.
local function target(spec, what, local_profile)
  local t = type(spec) == "string" and {} or spec
  if type(t) ~= "table" then error(what .. " must be provider:model or a table", 0) end
  if type(spec) == "string" then t.provider, t.model = spec:match("^([%w_]+):(.*)$") end
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  if not out.provider or not out.model then error(what .. " must be provider:model", 0) end
  out.model = out.model:gsub("%$([%w_]+)", function(var) return env(var) or "" end)
  local p = M.providers[out.provider]
  if not p then error(string.format("%s names an unknown provider '%s'", what, out.provider), 0) end
  if out.model == "" then
    if not (local_profile and out.provider == "openai") then error(what .. " needs a model", 0) end
    out.model_from_server = true   -- the provider asks the server for its models on first use
  end
  out.base_url = out.base_url or env(p.base_env)
    or (out.provider == "openai" and local_profile and "http://localhost:11434/v1") or p.base
  for _, var in ipairs(p.keys) do
    if env(var) then out.api_key, out.key_var = env(var), var break end
  end
  local custom_base = t.base_url or env(p.base_env) or local_profile
  if not out.api_key and not (p.key_optional_with_base and custom_base) then
    error(string.format("%s uses %s, which needs an API key: set %s", what, out.provider, table.concat(p.keys, " or ")), 0)
  end
  return out
end

-- max_input_tokens(settings) -> the input limit a tier without its own has:
-- the llm_max_input_tokens setting, else the default.
function M.max_input_tokens(settings)
  return require("candor.repo.settings").as_whole_number("llm_max_input_tokens", settings.llm_max_input_tokens,
    M.default_max_input_tokens)
end

-- What the settings and the profile's limits add to a target: the provider's
-- limits ({concurrency, rpm}), the request timeout, the retry attempts and the
-- input limit, with max_input_tokens_from naming what set it (for its error).
local function apply_defaults(out, profile, settings)
  local whole = require("candor.repo.settings").as_whole_number
  local limits = profile.limits and profile.limits[out.provider]
  out.limits = {
    concurrency = limits and limits.concurrency or whole("llm_max_concurrency", settings.llm_max_concurrency),
    rpm = limits and limits.rpm or nil,
  }
  local timeout = whole("llm_request_timeout_seconds", settings.llm_request_timeout_seconds)
  if not out.timeout_ms and timeout then out.timeout_ms = timeout * 1000 end
  local retries = whole("llm_max_retries", settings.llm_max_retries, nil, 0)
  if not out.attempts and retries then out.attempts = retries + 1 end
  if out.max_input_tokens == nil then
    out.max_input_tokens = M.max_input_tokens(settings)
    out.max_input_tokens_from = "the llm_max_input_tokens setting"
  else
    local limit = type(out.max_input_tokens) == "number" and math.tointeger(out.max_input_tokens)
    if not limit or limit <= 0 then
      error(string.format("max_input_tokens of tier '%s' must be a whole number of tokens above 0", out.tier), 0)
    end
    out.max_input_tokens = limit
    out.max_input_tokens_from = string.format("max_input_tokens of tier '%s'%s (from %s)", out.tier,
      out.profile and (" of profile '" .. out.profile .. "'") or "", out.origin or "the profile")
  end
  return out
end

-- resolve(tier, opts) -> {provider, model, base_url, api_key, key_var, tier, profile,
--   origin, limits, timeout_ms, attempts, max_input_tokens, ...options}
-- opts: {db =, settings =, profile =}. Raises a clear error for an unknown tier
-- or a missing key, naming the variable.
function M.resolve(tier, opts)
  local name, profile, _, origin, settings = M.active(opts)
  local spec = not RESERVED[tier] and profile[tier]
  if not spec then error(string.format("model profile '%s' has no tier '%s'", name, tier), 0) end
  local out = target(spec, string.format("tier '%s' of profile '%s'", tier, name), name == "local")
  out.tier, out.profile, out.origin = tier, name, origin[tier]
  return apply_defaults(out, profile, settings)
end

-- resolve_model("provider:model", opts) -> the same, for a model named directly.
function M.resolve_model(spec, opts)
  local out = target(spec, string.format("model '%s'", spec), false)
  out.tier, out.origin = spec, "the command line"
  -- a model named directly needs no profile; one that fails to resolve is not its problem
  local ok, _, profile, _, _, settings = pcall(M.active, opts)
  if not ok then profile, settings = {}, settings_of(opts or {}) end
  return apply_defaults(out, profile, settings)
end

return M
