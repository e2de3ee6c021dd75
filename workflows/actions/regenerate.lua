-- regenerate: the same inputs (pain, documents, focus, voice), fresh research
-- and a fresh draft, refined to the voice's gates.
return {
  kind = "action",
  description = "Same inputs, fresh research and a fresh draft, refined to the gates.",
  tiers = { "pro", "flash", "research", "judge" },

  run = function(ctx)
    ctx.research_for()
    ctx.progress(5, "research")
    ctx.step.research { ctx.voice }
    ctx.progress(40, "drafting")
    local d = ctx.step.refine_until_gates(ctx.step.draft(ctx.asset_type, ctx.voice))
    return ctx.add_version(d, { stopped = d.stopped })
  end,
}
