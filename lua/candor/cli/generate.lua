-- candor generate: run a generation pipeline as a job and show what it made.
local args = require "candor.cli.args"

local M = {
  name = "generate",
  summary = "Generate scored marketing assets from a pain point, in one or more voices.",
  usage = "candor generate (--pain TEXT | --pain-file FILE | --pain-id ID) [--doc FILE ...]\n"
    .. "                --assets LIST|all --voices LIST|all [--pipeline NAME] [--focus TEXT]\n"
    .. "                [--text FILE|-] [--force] [--max-iterations N] [--profile NAME] [--json]",
  description = "Pipelines are workflows/pipelines/*.lua: standard, outside-in (the default setting),\n"
    .. "adversarial, multi-perspective, and straight-through (scores and stores --text, no generation).\n"
    .. "Asset types: battlecard, talk_track, launch_messaging, social_hook, one_pager, email_copy,\n"
    .. "messaging_template, narrative. Every run is a job ('candor jobs show ID'); assets are in\n"
    .. "'candor assets'. Prompts are files under prompts/: edit one and the next run uses it.",
  options = {
    { "pain", arg = "TEXT", help = "the pain point, in words" },
    { "pain-file", arg = "FILE", help = "the pain point from a file (first line is the title)" },
    { "pain-id", arg = "ID", help = "a discovered pain point by id" },
    { "doc", arg = "FILE", repeated = true, help = "a product document, text or Markdown (repeatable)" },
    { "assets", "a", arg = "LIST", help = "asset types, comma-separated, or all" },
    { "voices", arg = "LIST", help = "voice profiles (slugs), comma-separated, or all (default: default_voice)" },
    { "pipeline", "p", arg = "NAME", help = "pipeline name (default: the default_pipeline setting)" },
    { "focus", arg = "TEXT", help = "focus instructions for every draft" },
    { "text", arg = "FILE", help = "straight-through: the draft to score and store (- for stdin)" },
    { "force", help = "outside-in: run even when no community evidence is found" },
    { "max-iterations", arg = "N", help = "refinement rounds per draft (default: max_refinement_iterations)" },
    { "profile", arg = "NAME", help = "the model profile for this job" },
    { "priority", arg = "SLUG", help = "the messaging priority of a manual pain point (default: public_priority)" },
    { "json", help = "print the result as JSON" },
  },
  max_args = 0,
  examples = {
    "candor generate --pain 'Deploys take 45 minutes' --assets battlecard,social_hook --voices all",
    "candor generate --pain-file pain.md --doc product.md --assets all --pipeline standard",
    "candor generate --pain-file pain.md --assets email_copy --pipeline straight-through --text draft.md",
  },
}

local function list(s)
  if not s then return nil end
  local out = {}
  for item in s:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

-- A pain given in words: its first line (at most 120 characters) is the title.
local function pain_from_text(text)
  local first = text:match("^%s*([^\n]*)") or ""
  local cut = #first > 120 and utf8.offset(first, 118)
  if cut then first = (first:sub(1, cut - 1):gsub("%s+%S*$", "")) .. "..." end
  return { title = first, content = text }
end

local function fmt(x) return x and string.format("%.1f", x) or "-" end

-- Draws one progress line on a terminal (redrawn in place), plain lines otherwise.
local function progress_display(app)
  local last_plain
  local tty = require("core.host").isatty(2)
  return function(info)
    local tokens = info.tokens.input + info.tokens.output
    local line = string.format("[%3d%%] %s · assets %d/%d · %d calls, %d tokens", info.pct, info.step or "",
      info.assets_done, info.assets_total, info.tokens.calls, tokens)
    if tty then
      io.stderr:write("\r\27[K", line)
      io.stderr:flush()
    elseif info.step ~= last_plain then
      last_plain = info.step
      io.stderr:write(line, "\n")
    end
  end, function() if tty then io.stderr:write("\r\27[K") end end
end

local function result_table(app, job, stored)
  local unjudged = false
  app.out(string.format("%-19s %-24s %5s %6s %5s %5s %7s %5s  %s\n", "asset", "voice", "slop", "vendor", "spec",
    "auth", "persona", "arc", "gates"))
  for _, s in ipairs(stored) do
    for _, v in ipairs(s.variants) do
      local sc = v.scores
      local failing = {}
      for _, f in ipairs(sc.failing) do failing[#failing + 1] = f.dimension end
      local gate = (sc.pass and "pass" or ("FAIL " .. table.concat(failing, ","))) .. (sc.judged and "" or " *")
      if not sc.judged then unjudged = true end
      app.out(string.format("%-19s %-24s %5s %6s %5s %5s %7s %5s  %s\n", s.asset_type, v.voice.slug, fmt(sc.scores.slop),
        fmt(sc.scores.vendor_speak), fmt(sc.scores.specificity), fmt(sc.scores.authenticity), fmt(sc.scores.persona_avg),
        fmt(sc.scores.narrative_arc), gate))
    end
  end
  if unjudged then
    app.out("* not judged by an LLM (no key for the judge tier): authenticity is the deterministic score;\n"
      .. "  persona fit and narrative arc were not scored or gated\n")
  end
  local ctx = type(job.product_context) == "table" and job.product_context or {}
  local result = type(ctx.result) == "table" and ctx.result or {}
  app.out(string.format("job %s (%s pipeline): %d asset%s, %s LLM calls, %s tokens\n", job.id, ctx.pipeline or "?",
    #stored, #stored == 1 and "" or "s", tostring(result.calls or 0), tostring(result.tokens or 0)))
  app.out(string.format("see: candor jobs show %s · candor assets export --job %s --format md\n", job.id, job.id))
end

local function result_json(app, job, stored)
  local json = require "candor.json"
  local out = { job = job.id, status = job.status, assets = {} }
  for _, s in ipairs(stored) do
    local a = { id = s.id, asset_type = s.asset_type, title = s.title, variants = {} }
    for _, v in ipairs(s.variants) do
      a.variants[#a.variants + 1] = { voice = v.voice.slug, pass = v.scores.pass, scores = v.scores.scores,
        source = v.scores.source, stopped = v.stopped, iterations = #(v.iterations or {}) - 1 }
    end
    out.assets[#out.assets + 1] = a
  end
  out.assets = json.array(out.assets)
  app.out(json.encode(out), "\n")
end

function M.run(app, opts)
  local given = (opts.pain and 1 or 0) + (opts["pain-file"] and 1 or 0) + (opts["pain-id"] and 1 or 0)
  if given ~= 1 then error(args.usage_error("generate: give one of --pain, --pain-file or --pain-id"), 0) end
  local max_it
  if opts["max-iterations"] then
    max_it = math.tointeger(tonumber(opts["max-iterations"]))
    if not max_it or max_it < 0 then error(args.usage_error("generate: --max-iterations must be a whole number >= 0"), 0) end
  end
  local text
  if opts.text == "-" then text = io.stdin:read("a")
  elseif opts.text then
    text = require("candor.paths").read_file(opts.text)
    if not text then error(args.usage_error("generate: cannot read --text " .. opts.text), 0) end
  end
  local pipeline = require "candor.pipeline"
  local db = app.db()
  local run = pipeline.prepare(db, {
    pipeline = opts.pipeline, pain = opts["pain-id"] and { id = opts["pain-id"] } or (opts.pain and pain_from_text(opts.pain)),
    pain_file = opts["pain-file"], documents = opts.doc, assets = list(opts.assets), voices = list(opts.voices),
    focus = opts.focus, force = opts.force, text = text, max_iterations = max_it, profile = opts.profile,
    priority = opts.priority,
  })
  local show, clear = progress_display(app)
  local ok, job, stored = pcall(pipeline.start, run, {
    on_progress = not opts.json and show or nil,
    on_log = function(msg) clear() io.stderr:write("candor: ", msg, "\n") end,
  })
  clear()
  if not ok then error(job, 0) end
  if opts.json then result_json(app, job, stored) else result_table(app, job, stored) end
  return 0
end

return M
