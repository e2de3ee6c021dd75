-- Adversarial: a draft, then two rounds of a hostile practitioner's attack and
-- a rewrite that answers it, then scoring and refinement to the gates.
return {
  kind = "pipeline",   -- run by 'candor generate', which gives ctx.step
  description = "Draft, then two rounds of hostile-practitioner attack and answer; refine to the gates.",
  params = {
    pain = "the pain point (row)", assets = "asset types", voices = "voice profiles (rows)",
    focus = { "focus instructions", default = "" },
    rounds = { "attack-and-answer rounds", type = "number", default = 2 },
  },
  tiers = { "pro", "flash", "research", "judge" },

  run = function(ctx, p)
    ctx.step.research(p.voices)   -- insights, evidence, competitors, banned phrases: at once

    return ctx.each(p.assets, function(asset)
      local variants = ctx.each(p.voices, function(voice)
        local draft = ctx.step.draft(asset, voice)
        for _ = 1, p.rounds or 2 do
          local attack = ctx.step.attack(draft)
          draft = ctx.step.answer_attack(draft, attack)
        end
        return ctx.step.refine_until_gates(draft)
      end)
      return ctx.step.store(asset, variants)
    end)
  end,
}
