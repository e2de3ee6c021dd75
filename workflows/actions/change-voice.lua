-- change-voice: the active version rewritten into another voice profile,
-- scored and refined against that voice's gates.
return {
  kind = "action",
  description = "Rewrite the active version into another voice (--voice), checked against that voice's gates.",
  needs_voice = true,
  tiers = { "pro", "judge" },

  run = function(ctx, p)
    local voice = ctx.voice_named(p.voice)
    ctx.progress(10, "rewriting into " .. voice.slug)
    local d = ctx.step.change_voice(ctx.draft(), voice)
    ctx.progress(50, "scoring against " .. voice.slug)
    d = ctx.step.refine_until_gates(d)
    return ctx.add_version(d, { from_voice = ctx.voice.slug, stopped = d.stopped })
  end,
}
