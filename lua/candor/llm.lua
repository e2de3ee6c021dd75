-- Asking a model: a tier resolves through the active profile to a provider and
-- model; the call is retried by policy; every attempt is logged to llm_calls with
-- the session and job of the task that made it (from its context, never passed
-- by hand).
local async = require "candor.async"
local host = require "core.host"
local json = require "candor.json"
local profiles = require "candor.llm.profiles"
local retry = require "candor.llm.retry"
local log = require "candor.llm.log"

local M = {}

M.providers = {
  openai = function() return require "candor.llm.openai" end,
  anthropic = function() return require "candor.llm.anthropic" end,
  gemini = function() return require "candor.llm.gemini" end,
  deep_research = function() return require "candor.llm.deep_research" end,
}

local function provider_of(target)
  local load = M.providers[target.provider]
  if not load then error(string.format("provider '%s' is not built yet (tier '%s')", target.provider, target.tier), 0) end
  return load()
end

-- check(tiers, opts) -> true: every tier resolves and has its key (raises a
-- clear error otherwise), so a workflow fails before it spends anything.
function M.check(tiers, opts)
  for _, tier in ipairs(tiers) do provider_of(profiles.resolve(tier, opts)) end
  return true
end

local function log_attempt(db, target, req, result, err, t0)
  if not db then return end
  local ctx = async.context()
  local now = host.now()
  log.add(db, {
    session_id = ctx.session_id, job_id = ctx.job_id, timestamp = now, created_at = now,
    model = target.provider .. ":" .. (target.model or ""),
    purpose = req.purpose or ctx.purpose or "unspecified",
    system_prompt = req.system,
    user_prompt = req.prompt or json.encode(req.messages or {}),
    response = result and result.text or (err and err.raw) or nil,
    input_tokens = result and result.input_tokens or 0,
    output_tokens = result and result.output_tokens or 0,
    total_tokens = result and (result.input_tokens + result.output_tokens) or 0,
    latency_ms = result and result.latency_ms or math.floor((host.clock() - t0) * 1000 + 0.5),
    success = result ~= nil,
    error_message = err and err.message or nil,
    finish_reason = result and result.finish_reason or (err and err.kind) or nil,
  })
end

-- call(tier, req, {db =, retry = policy, setting =}) -> result | nil, err
-- req as a provider takes it (system, prompt, json, schema, stream, on_text...),
-- plus purpose (what the call is for, logged).
function M.call(tier, req, opts)
  return M.call_target(profiles.resolve(tier, opts or {}), req, opts)
end

-- call_target(target, req, opts): the same for a target already resolved
-- (profiles.resolve or profiles.resolve_model).
function M.call_target(target, req, opts)
  opts = opts or {}
  local provider = provider_of(target)
  local limiter = require("candor.llm.limit").for_provider(target.provider, target.limits)
  return retry.call(function()
    local t0 = host.clock()
    local result, err = limiter:run(provider.call, target, req)
    log_attempt(opts.db, target, req, result, err, t0)
    return result, err
  end, opts.retry or (target.attempts and { attempts = target.attempts }))
end

-- ask(tier, req, opts) -> result; raises the final error's message.
function M.ask(tier, req, opts)
  local result, err = M.call(tier, req, opts)
  if not result then error(string.format("%s call (%s) failed: %s", tier, req.purpose or "unspecified", err.message), 0) end
  return result
end

return M
