-- Multi-perspective: three drafts from different angles (prompts/pipeline/angles.md:
-- practitioner, economic buyer, skeptic by default) written at once, then one
-- synthesis that keeps the strongest material of each, refined to the gates.
return {
  kind = "pipeline",   -- run by 'candor generate', which gives ctx.step
  description = "Three drafts from different angles at once, one synthesis; refine to the gates.",
  params = {
    pain = "the pain point (row)", assets = "asset types", voices = "voice profiles (rows)",
    focus = { "focus instructions", default = "" },
  },
  tiers = { "pro", "flash", "research", "judge" },

  run = function(ctx, p)
    ctx.step.research(p.voices)   -- insights, evidence, competitors, banned phrases: at once
    local angles = ctx.step.angles()

    return ctx.each(p.assets, function(asset)
      local variants = ctx.each(p.voices, function(voice)
        local drafts = ctx.each(angles, function(angle) return ctx.step.perspective(asset, voice, angle) end)
        return ctx.step.refine_until_gates(ctx.step.synthesis(drafts))
      end)
      return ctx.step.store(asset, variants)
    end)
  end,
}
