-- candor llm ask|log|stats|profiles
local show = require "candor.cli.show"

local M = {
  name = "llm",
  summary = "Ask a model, browse the log of calls, see stats and the active model profile.",
  usage = "candor llm ask [--tier T | --model PROVIDER:MODEL] [--json] [--stream] [--system TEXT] PROMPT|-\n"
    .. "       candor llm log [--limit N] [--purpose P] [--json]\n"
    .. "       candor llm stats [--since DATE] [--json]\n"
    .. "       candor llm profiles [--json]",
  description = "Tiers (flash, pro, research, judge...) resolve through the active model profile:\n"
    .. "CANDOR_PROFILE, else $XDG_CONFIG_HOME/candor/config.lua, else the model_profile setting.\n"
    .. "Keys: GEMINI_API_KEY (or GOOGLE_API_KEY), ANTHROPIC_API_KEY, OPENAI_API_KEY; base URLs:\n"
    .. "GEMINI_BASE_URL, ANTHROPIC_BASE_URL, OPENAI_BASE_URL. Every call is logged to llm_calls.",
  options = {
    { "tier", "t", arg = "TIER", help = "ask: the tier to use (default flash)" },
    { "model", "m", arg = "PROVIDER:MODEL", help = "ask: a model named directly, outside the profile" },
    { "system", arg = "TEXT", help = "ask: a system prompt" },
    { "stream", help = "ask: print the answer as it arrives" },
    { "json", help = "ask: ask for JSON; log, stats, profiles: print JSON" },
    { "limit", "n", arg = "N", help = "log: how many calls (default 20)" },
    { "purpose", arg = "P", help = "log: only calls for this purpose" },
    { "since", arg = "DATE", help = "stats: only calls at or after this ISO date" },
  },
  min_args = 1, args_name = "a subcommand (ask, log, stats, profiles)",
  examples = { "candor llm ask --tier pro 'Name three CI flakiness causes'", "echo 'hi' | candor llm ask --stream -",
               "candor llm log --limit 5", "candor llm stats --since 2026-11-01" },
}

local function ask(app, opts, pos)
  local llm = require "candor.llm"
  local profiles = require "candor.llm.profiles"
  local async = require "candor.async"
  local prompt = pos[2]
  if not prompt then error(show.usage("llm ask: missing PROMPT (or - to read it from stdin)"), 0) end
  if pos[3] then error(show.usage("llm ask: unexpected argument '%s' (quote the prompt)", pos[3]), 0) end
  if prompt == "-" then prompt = io.stdin:read("a") end
  if not prompt:match("%S") then error(show.usage("llm ask: the prompt is empty"), 0) end
  if opts.tier and opts.model then error(show.usage("llm ask: give --tier or --model, not both"), 0) end
  local target = opts.model and profiles.resolve_model(opts.model, { db = app.db() })
    or profiles.resolve(opts.tier or "flash", { db = app.db() })
  local streamed = false
  local req = { system = opts.system, prompt = prompt, json = opts.json, purpose = "cli:ask", stream = opts.stream,
                on_text = opts.stream and not opts.json and function(piece)
                  streamed = true
                  io.stdout:write(piece)
                  io.stdout:flush()
                end or nil }
  local result, err = async.run(function()
    return llm.call_target(target, req, { db = app.db() })
  end)
  if not result then
    local model = (target.model or "") ~= "" and target.model or "(the server's first model)"
    error(string.format("%s:%s: %s", target.provider, model, err.message), 0)
  end
  if opts.json then
    show.json(app, result.json)
  elseif streamed then
    app.out("\n")
  else
    app.out(result.text, result.text:sub(-1) == "\n" and "" or "\n")
  end
  -- a grounded answer says where it came from
  if not opts.json and type(result.sources) == "table" and #result.sources > 0 then
    app.out("\nSources:\n")
    for i, src in ipairs(result.sources) do
      app.out(string.format("  [%d] %s%s\n", i, src.title and (src.title .. " ") or "", src.url or ""))
    end
  end
  if app.verbose then
    io.stderr:write(string.format("%s:%s, %d in / %d out tokens, %d ms\n", result.provider, result.model,
      result.input_tokens, result.output_tokens, result.latency_ms))
  end
  return 0
end

local function log_cmd(app, opts)
  local limit = show.whole("llm log", opts, "limit", 20)
  local rows = require("candor.repo.llm_calls"):recent(app.db(), { limit = limit, purpose = opts.purpose })
  if opts.json then
    show.json_rows(app, rows)
    return 0
  end
  if #rows == 0 then app.out("no LLM calls logged yet\n") return 0 end
  for _, r in ipairs(rows) do
    app.out(string.format("%s  %-32s %-20s %s %5d ms %6d tokens%s\n", r.timestamp, r.model, r.purpose,
      r.success and "ok  " or "FAIL", r.latency_ms, r.total_tokens,
      r.error_message and ("  " .. r.error_message:gsub("%s+", " "):sub(1, 80)) or ""))
  end
  return 0
end

-- prices.txt: "provider:model input output" in dollars per million tokens.
local function prices()
  local paths = require "candor.paths"
  local path = paths.find("prompts", "llm/prices.txt")
  local out = {}
  if not path then return out end
  for line in assert(paths.read_file(path)):gmatch("[^\n]+") do
    local model, i, o = line:match("^%s*([^#%s]+)%s+([%d.]+)%s+([%d.]+)")
    if model then out[model] = { input = tonumber(i), output = tonumber(o) } end
  end
  return out
end

local function percentile(sorted, p)
  if #sorted == 0 then return 0 end
  return sorted[math.max(1, math.ceil(p * #sorted))]
end

local function stats(app, opts)
  local db = app.db()
  local rows = db:query([[SELECT model, success, input_tokens, output_tokens, latency_ms FROM llm_calls
    WHERE timestamp >= ? ORDER BY model]], opts.since or "")
  local by, order = {}, {}
  for _, r in ipairs(rows) do
    local m = by[r.model]
    if not m then
      m = { model = r.model, calls = 0, failures = 0, input_tokens = 0, output_tokens = 0, latencies = {} }
      by[r.model] = m
      order[#order + 1] = r.model
    end
    m.calls = m.calls + 1
    if r.success == 0 then m.failures = m.failures + 1 end
    m.input_tokens = m.input_tokens + r.input_tokens
    m.output_tokens = m.output_tokens + r.output_tokens
    m.latencies[#m.latencies + 1] = r.latency_ms
  end
  local price = prices()
  local list = {}
  for _, name in ipairs(order) do
    local m = by[name]
    table.sort(m.latencies)
    m.p50, m.p95, m.p99 = percentile(m.latencies, 0.5), percentile(m.latencies, 0.95), percentile(m.latencies, 0.99)
    m.latencies = nil
    local p = price[name]
    if p then m.cost_usd = (m.input_tokens * p.input + m.output_tokens * p.output) / 1e6 end
    list[#list + 1] = m
  end
  if opts.json then
    show.json_rows(app, list)
    return 0
  end
  if #list == 0 then app.out("no LLM calls logged", opts.since and (" since " .. opts.since) or "", "\n") return 0 end
  app.out(string.format("%-34s %6s %5s %10s %10s %7s %7s %7s %9s\n", "model", "calls", "fail", "in tok", "out tok",
    "p50 ms", "p95 ms", "p99 ms", "cost $"))
  for _, m in ipairs(list) do
    app.out(string.format("%-34s %6d %5d %10d %10d %7d %7d %7d %9s\n", m.model, m.calls, m.failures, m.input_tokens,
      m.output_tokens, m.p50, m.p95, m.p99, m.cost_usd and string.format("%.4f", m.cost_usd) or "-"))
  end
  return 0
end

local function profiles_cmd(app, opts)
  local profiles = require "candor.llm.profiles"
  local name, profile, source, origin = profiles.active { db = app.db() }
  local out = { profile = name, source = source, tiers = {} }
  for _, tier in ipairs(profiles.tiers(profile)) do
    local ok, t = pcall(profiles.resolve, tier, { db = app.db() })
    local spec = profile[tier]
    out.tiers[#out.tiers + 1] = ok and { tier = tier, provider = t.provider, model = t.model ~= "" and t.model or nil,
      base_url = t.base_url, key = t.key_var or "(none needed)", from = origin[tier],
      concurrency = t.limits.concurrency, rpm = t.limits.rpm, timeout_ms = t.timeout_ms, attempts = t.attempts,
      max_input_tokens = t.max_input_tokens }
      or { tier = tier, spec = type(spec) == "string" and spec
             or (type(spec) == "table" and tostring(spec.provider) .. ":" .. tostring(spec.model)) or "?",
           from = origin[tier], problem = t }
  end
  if opts.json then show.json(app, out) return 0 end
  app.out(string.format("profile %s (chosen by %s)\n", name, source))
  for _, t in ipairs(out.tiers) do
    if t.problem then
      app.out(string.format("  %-10s %s  -- %s\n", t.tier, t.spec, t.problem))
    else
      app.out(string.format("  %-10s %s:%s at %s, key %s\n", t.tier, t.provider, t.model or "(the server's first model)",
        t.base_url, t.key))
    end
    if not t.problem then
      app.out(string.format("  %-10s from %s; at most %s in flight%s, %s timeout, %s attempts, %s input tokens\n", "",
        t.from, t.concurrency or require("candor.llm.limit").defaults.concurrency, t.rpm and (", " .. t.rpm .. "/min") or "",
        t.timeout_ms and (tostring(t.timeout_ms // 1000) .. " s") or "the provider's default", t.attempts or "4",
        t.max_input_tokens or "?"))
    end
  end
  return 0
end

function M.run(app, opts, pos)
  local sub = pos[1]
  if sub == "ask" then return ask(app, opts, pos) end
  if pos[2] then error(show.usage("llm %s: unexpected argument '%s'", sub, pos[2]), 0) end
  if sub == "log" then return log_cmd(app, opts) end
  if sub == "stats" then return stats(app, opts) end
  if sub == "profiles" then return profiles_cmd(app, opts) end
  error(show.usage("llm: unknown subcommand '%s' (ask, log, stats, profiles)", tostring(sub)), 0)
end

return M
