-- The standard pipeline: research once for the whole job (product insights,
-- banned phrases per voice, community evidence, competitive positioning, all at
-- once), then every asset type in every voice at once: draft, score, refine to
-- the voice's gates, and store each asset with its variants and traceability.
return {
  kind = "pipeline",   -- run by 'candor generate', which gives ctx.step
  description = "Research in parallel, draft every asset in every voice, judge, refine to the gates, store.",
  params = {
    pain = "the pain point (row)", assets = "asset types", voices = "voice profiles (rows)",
    focus = { "focus instructions", default = "" },
  },
  tiers = { "pro", "flash", "research", "judge" },

  run = function(ctx, p)
    ctx.step.research(p.voices)   -- insights, evidence, competitors, banned phrases: at once

    return ctx.each(p.assets, function(asset)
      local variants = ctx.each(p.voices, function(voice)
        local draft = ctx.step.draft(asset, voice)
        return ctx.step.refine_until_gates(draft)
      end)
      return ctx.step.store(asset, variants)
    end)
  end,
}
