-- Straight-through: no generation. The supplied text is scored in every voice
-- given (the deterministic scorers always; the LLM judges when their key is
-- set, and marked as not judged otherwise), gated and stored with its
-- traceability, exactly like a generated asset.
return {
  kind = "pipeline",   -- run by 'candor generate', which gives ctx.step
  description = "Score and store supplied text (--text FILE|-) with full gates and traceability; no generation.",
  params = {
    pain = "the pain point (row)", assets = "one asset type", voices = "voice profiles (rows)",
    text = "the text to score and store",
  },
  tiers = {},
  optional_tiers = { "judge" },
  needs_text = true,
  single_asset = true,

  run = function(ctx, p)
    ctx.research_done()
    local asset = p.assets[1]
    -- leading HTML comments are notes about the file, not the asset: neither stored nor scored
    local text, n = p.text, 1
    while n > 0 do text, n = text:gsub("^%s*<!%-%-.-%-%->", "", 1) end
    text = require("candor.text").trim(text)
    if text == "" then error("the supplied text has nothing but comments", 0) end
    -- its first heading is the title
    local title = text:match("^#%s+([^\n]+)") or (asset:gsub("_", " ") .. ": " .. p.pain.title)
    local variants = ctx.each(p.voices, function(voice)
      local d = { asset = asset, voice = voice, title = title, content = text,
                  origin = "supplied", prompt = {} }
      d.scores = ctx.step.score(d)
      d.iterations, d.stopped = { { n = 0, scores = d.scores.scores, pass = d.scores.pass } }, "supplied"
      return d
    end)
    return { ctx.step.store(asset, variants) }
  end,
}
