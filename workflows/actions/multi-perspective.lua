-- multi-perspective: the active version rewritten from three angles at once
-- (prompts/pipeline/angles.md), then one synthesis of the strongest material.
return {
  kind = "action",
  description = "Three angles on the active version at once, then one synthesis.",
  tiers = { "pro", "judge" },

  run = function(ctx)
    local d = ctx.draft()
    local angles = ctx.step.angles()
    ctx.progress(10, string.format("%d angles", #angles))
    local drafts = ctx.each(angles, function(angle) return ctx.step.perspective_rewrite(d, angle) end)
    ctx.progress(60, "synthesis")
    return ctx.add_version(ctx.step.synthesis(drafts), { angles = #angles })
  end,
}
