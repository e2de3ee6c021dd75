-- Workflows: Lua files returning {name, description, params, run}, loaded fresh
-- from the search path for every run, checked, and run as a task under limits.
local paths = require "candor.paths"
local async = require "candor.async"
local host = require "core.host"

local M = {}

M.defaults = {
  instructions = 2000000000,   -- ~ several seconds of pure Lua; C primitives don't count
  memory_mb = 1024,
  timeout_s = 3600,
}

local function usage(msg) return { kind = "usage", message = msg } end
M.usage = usage

-- A workflow name is its path under workflows/ without ".lua"; a path to a file works too.
function M.find(name)
  if name:match("%.lua$") then
    if not paths.is_file(name) then return nil end
    return name, true
  end
  return paths.find("workflows", name .. ".lua")
end

-- Globals a workflow sees: the standard library, with reads of undefined names
-- raising at once, and pcall/xpcall/coroutine.resume that cannot swallow a tripped limit.
local function rethrow_if_tripped(ok, ...)
  if not ok and host.limit_tripped() then error((...), 0) end
  return ok, ...
end

local guarded = {
  pcall = function(f, ...) return rethrow_if_tripped(pcall(f, ...)) end,
  xpcall = function(f, h, ...) return rethrow_if_tripped(xpcall(f, h, ...)) end,
}
guarded.coroutine = setmetatable({
  resume = function(co, ...) return rethrow_if_tripped(coroutine.resume(co, ...)) end,
}, { __index = coroutine })

-- sandbox(info): info.name names the workflow in errors (set once it is known).
function M.sandbox(info)
  local env = {}
  return setmetatable(env, {
    __index = function(_, k)
      local v = guarded[k]
      if v == nil then v = _G[k] end
      if v == nil then error(string.format("undefined global '%s' in workflow '%s'", tostring(k), info.name), 2) end
      return v
    end,
  })
end

-- A workflow file compiled once per version of it (an edit shows at once), each
-- load getting its own environment.
local compiled = {}

local function load_chunk(path, env)
  local text, stamp = paths.read_cached(path)
  if not text then return nil, stamp end
  local c = compiled[path]
  if not c or c.stamp ~= stamp then
    local fn, err = load(text, "@" .. path, "t")
    if not fn then return nil, err end
    c = { stamp = stamp, dump = string.dump(fn) }
    compiled[path] = c
  end
  local fn = load(c.dump, "@" .. path, "b", env)
  return fn
end

-- load(name) -> workflow table (with .path, .user), or raises a usage error when
-- no such workflow exists and a plain error when the file is broken.
function M.load(name)
  local path, user = M.find(name)
  if not path then
    error(usage(string.format("no workflow named '%s' (see 'candor workflows')", name)), 0)
  end
  local info = { name = name }
  local chunk, err = load_chunk(path, M.sandbox(info))
  if not chunk then error(err, 0) end
  local ok, wf = pcall(chunk)
  if not ok then error(wf, 0) end
  if type(wf) ~= "table" or type(wf.run) ~= "function" then
    error(string.format("%s: a workflow must return a table with a run(ctx, params) function", path), 0)
  end
  wf.name = wf.name or name
  info.name = wf.name
  wf.description = wf.description or ""
  wf.params = wf.params or {}
  wf.path, wf.user = path, user
  return wf
end

-- A declared parameter is "description" (required) or
-- {description, default = v, required = bool, type = "string"|"number"|"boolean"|"list"}.
local function param_spec(spec)
  if type(spec) == "string" then return { description = spec, required = true } end
  local s = {}
  for k, v in pairs(spec) do s[k] = v end
  s.description = s.description or s[1] or ""
  if s.required == nil then s.required = s.default == nil end
  return s
end
M.param_spec = param_spec

local function coerce(wf, key, spec, value)
  local t = spec.type or "string"
  if type(value) ~= "string" then return value end
  if t == "number" then
    local n = tonumber(value)
    if not n then error(usage(string.format("parameter '%s' of workflow '%s' must be a number, got '%s'", key, wf.name, value)), 0) end
    return n
  elseif t == "boolean" then
    if value == "true" or value == "1" or value == "yes" then return true end
    if value == "false" or value == "0" or value == "no" then return false end
    error(usage(string.format("parameter '%s' of workflow '%s' must be true or false", key, wf.name)), 0)
  elseif t == "list" then
    local list = {}
    for item in value:gmatch("[^,]+") do list[#list + 1] = item:match("^%s*(.-)%s*$") end
    return list
  end
  return value
end

-- Checks given parameters against the declaration: unknown or missing ones are
-- usage errors naming them; defaults fill the rest.
function M.check_params(wf, given)
  local out = {}
  for key, value in pairs(given) do
    if wf.params[key] == nil then
      local known = {}
      for k in pairs(wf.params) do known[#known + 1] = k end
      table.sort(known)
      error(usage(string.format("workflow '%s' has no parameter '%s' (it takes: %s)", wf.name, key,
        #known > 0 and table.concat(known, ", ") or "none")), 0)
    end
    out[key] = coerce(wf, key, param_spec(wf.params[key]), value)
  end
  local keys = {}
  for k in pairs(wf.params) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local spec = param_spec(wf.params[key])
    if out[key] == nil then
      if spec.default ~= nil then out[key] = spec.default
      elseif spec.required then
        error(usage(string.format("workflow '%s' needs --param %s=... (%s)", wf.name, key, spec.description)), 0)
      end
    end
  end
  return out
end

-- What a workflow may use. Later layers (llm, prompt, score) add to it.
function M.context(wf, opts)
  local ctx = {
    workflow = wf.name,
    db = opts.db,
    parallel = async.parallel,
    each = async.each,
    sleep = async.sleep,
    now = host.now,
    json = require "candor.json",
  }
  ctx.repo = opts.db and require("candor.repo").bind(opts.db) or nil
  -- llm(tier, req) -> result: the tier's model through the active profile, retried,
  -- every attempt logged with this run's session and job; raises when it fails
  ctx.llm = function(tier, req) return require("candor.llm").ask(tier, req, { db = opts.db }) end
  -- score(text, {voice = name}) -> scores, per-dimension pass/fail and evidence
  ctx.score = function(text, o)
    o = o or {}
    return require("candor.quality").score(text, { voice = o.voice, db = opts.db, lexicon_files = o.lexicon_files })
  end
  ctx.log = function(fmt, ...)
    local msg = select("#", ...) > 0 and string.format(fmt, ...) or tostring(fmt)
    if opts.on_log then opts.on_log(msg) end
  end
  ctx.progress = function(pct, step)
    if opts.on_progress then opts.on_progress(pct, step) end
  end
  if opts.extend then opts.extend(ctx) end   -- e.g. the pipeline steps of a generation job
  return ctx
end

-- Memory caps of the runs in progress. The allocator has one cap for the
-- process, so while runs overlap the cap is the largest they asked for, and
-- when the last one ends the cap from before the first one returns.
local caps, cap_before = {}, nil

local function apply_caps()
  local cap
  for _, c in pairs(caps) do if not cap or c > cap then cap = c end end
  host.set_memory_limit(cap or cap_before or 0)
end

-- run(wf, params, {db, instructions, memory_mb, timeout_s, on_log, on_progress,
--   extend = fn(ctx), task_ctx = {job_id =, session_id =, profile = ...}})
-- -> task (finished). task_ctx becomes the task's context (inherited by its
-- children: LLM calls log its job and session and use its profile). A failure is in task.error with the file and line;
-- limits name the workflow.
function M.run(wf, params, opts)
  local task = M.start(wf, params, opts)
  local ok, err = pcall(async.join, task)
  if not ok then error(err, 0) end
  return task
end

-- start(wf, params, opts) -> task: as run, without waiting (the run goes up to
-- its first wait before start returns). The limits are
-- lifted when the task ends, then opts.on_done(task) is called (outside any
-- task, before anyone waiting on it resumes).
function M.start(wf, params, opts)
  opts = opts or {}
  local limits = wf.limits or {}
  local label = string.format("workflow '%s'", wf.name)
  local limit = host.limit_new {
    instructions = opts.instructions or limits.instructions or M.defaults.instructions,
    timeout_ms = math.floor((opts.timeout_s or limits.timeout_s or M.defaults.timeout_s) * 1000),
    name = label,
  }
  local memory_mb = opts.memory_mb or limits.memory_mb or M.defaults.memory_mb
  local used, _, current_cap = host.memory()
  if next(caps) == nil then cap_before = current_cap end
  local cap_key = {}
  caps[cap_key] = used + math.floor(memory_mb * 1048576)
  apply_caps()
  local ctx = M.context(wf, opts)
  local task_ctx = { workflow = wf.name }
  for k, v in pairs(opts.task_ctx or {}) do task_ctx[k] = v end
  -- at once: when many runs start together, each one's first LLM request goes
  -- out as it starts instead of after every other run has been set up
  local task = async.spawn(wf.run, { name = label, limit = limit, ctx = task_ctx, now = true }, ctx, params)
  -- The hook checks the deadline while Lua runs; this timer covers a task that waits.
  local timeout_s = opts.timeout_s or limits.timeout_s or M.defaults.timeout_s
  local timer = require("luv").new_timer()
  timer:start(math.floor(timeout_s * 1000), 0, function()
    task:cancel(string.format("%s stopped: exceeded its time limit of %gs", label, timeout_s))
  end)
  timer:unref()
  async.on_done(task, function(t)
    timer:close()
    caps[cap_key] = nil
    -- under a cap of the caller's, drop the runs' garbage before that cap returns
    if next(caps) == nil and cap_before and cap_before > 0 then collectgarbage() end
    apply_caps()
    if t.status == "failed" and t.error == "not enough memory" then
      t.error = string.format("%s stopped: exceeded its memory limit of %g MiB", label, memory_mb)
    end
    if opts.on_done then opts.on_done(t) end
  end)
  return task
end

return M
