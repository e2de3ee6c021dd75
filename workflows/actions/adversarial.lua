-- adversarial: rounds of a hostile practitioner's attack on the active version
-- and a rewrite that answers each one, then scored.
return {
  kind = "action",
  description = "Attack-and-answer rounds (--rounds 1 to 5, default 2) on the active version.",
  tiers = { "pro", "flash", "judge" },

  run = function(ctx, p)
    local d = ctx.draft()
    local rounds = p.rounds == nil and 2 or math.tointeger(tonumber(p.rounds))
    if not rounds or rounds < 1 or rounds > 5 then
      error({ kind = "usage", message = "adversarial: --rounds must be a whole number from 1 to 5" }, 0)
    end
    local attacks = {}
    for n = 1, rounds do
      ctx.progress(math.floor(80 * (n - 1) / rounds), string.format("attack %d of %d", n, rounds))
      local attack = ctx.step.attack(d)
      attacks[#attacks + 1] = attack
      d = ctx.step.answer_attack(d, attack)
    end
    return ctx.add_version(d, { rounds = rounds, attacks = attacks })
  end,
}
