-- candor generate: run a generation pipeline as a job and show what it made.
local show = require "candor.cli.show"

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
    { "doc", arg = "FILE", repeated = true, help = "a product document: text, Markdown or PDF (repeatable)" },
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
      local n = sc.scores
      app.out(string.format("%-19s %-24s %5s %6s %5s %5s %7s %5s  %s\n", s.asset_type, v.voice.slug, show.score(n.slop),
        show.score(n.vendor_speak), show.score(n.specificity), show.score(n.authenticity), show.score(n.persona_avg),
        show.score(n.narrative_arc), gate))
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
  show.json(app, out)
end

function M.run(app, opts)
  show.one_of("generate", opts, { "pain", "pain-file", "pain-id" })
  local max_it = show.whole("generate", opts, "max-iterations", nil, 0)
  local text
  if opts.text == "-" then text = io.stdin:read("a")
  elseif opts.text then
    text = require("candor.paths").read_file(opts.text)
    if not text then error(show.usage("generate: cannot read --text %s", opts.text), 0) end
  end
  local pipeline = require "candor.pipeline"
  local db = app.db()
  local run = pipeline.prepare(db, {
    pipeline = opts.pipeline,
    pain = opts["pain-id"] and { id = opts["pain-id"] } or (opts.pain and require("candor.pipeline").pain_from_text(opts.pain, "--pain")),
    pain_file = opts["pain-file"], documents = opts.doc, assets = show.list(opts.assets),
    voices = show.list(opts.voices),
    focus = opts.focus, force = opts.force, text = text, max_iterations = max_it, profile = opts.profile,
    priority = opts.priority,
  })
  local on_progress, clear, log = show.pipeline_progress()
  local ok, job, stored = pcall(pipeline.start, run, {
    on_progress = not opts.json and on_progress or nil, on_log = log,
  })
  clear()
  if not ok then error(job, 0) end
  if opts.json then result_json(app, job, stored) else result_table(app, job, stored) end
  return 0
end

return M
