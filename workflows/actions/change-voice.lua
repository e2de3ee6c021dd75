-- change-voice: the active version rewritten into another voice profile,
-- scored and refined against that voice's gates.
local usage = require("candor.workflow").usage

return {
  kind = "action",
  description = "Rewrite the active version into another voice (--voice), checked against that voice's gates.",
  tiers = { "pro", "judge" },
  options = { "voice" },

  check = function(p, about)
    if not p.voice then error(usage("action 'change-voice' needs --voice VOICE"), 0) end
    local voice = about.voice_named(p.voice)
    if voice.slug == about.voice.slug then
      error(usage(string.format("change-voice: %s version %d is already in the voice %s; name another with --voice",
        about.asset_type, about.version.version_number, voice.slug)), 0)
    end
  end,

  run = function(ctx, p)
    local voice = ctx.voice_named(p.voice)
    ctx.progress(10, "rewriting into " .. voice.slug)
    local d = ctx.step.change_voice(ctx.draft(), voice)
    ctx.progress(50, "scoring against " .. voice.slug)
    d = ctx.step.refine_until_gates(d)
    return ctx.add_version(d, { from_voice = ctx.voice.slug, stopped = d.stopped })
  end,
}
