-- competitive-dive: grounded research on how competitors position against this
-- pain (stored in competitive_research), then a rewrite that sharpens the
-- differences honestly.
return {
  kind = "action",
  description = "Grounded competitor research, then a rewrite that sharpens differentiation.",
  tiers = { "pro", "research", "judge" },

  run = function(ctx)
    ctx.research_for()
    ctx.progress(5, "product insights")
    ctx.step.insights()
    ctx.progress(20, "competitive research")
    ctx.step.competitive()
    ctx.progress(60, "rewriting")
    return ctx.add_version(ctx.step.competitive_rewrite(ctx.draft()))
  end,
}
