-- adversarial: rounds of a hostile practitioner's attack on the active version
-- and a rewrite that answers each one, then scored.
local usage = require("candor.workflow").usage

-- The --rounds asked for as a whole number (2 when none is given), or nil when
-- it is not one: text must be decimal digits alone (tonumber would also take
-- " 2", "0x2" and "1e0"); a number (from JSON) must be whole.
local function rounds_of(p)
  if p.rounds == nil then return 2 end
  if type(p.rounds) == "number" then return math.tointeger(p.rounds) end
  return type(p.rounds) == "string" and p.rounds:match("^%d+$") and math.tointeger(tonumber(p.rounds)) or nil
end

return {
  kind = "action",
  description = "Attack-and-answer rounds (--rounds 1 to 5, default 2) on the active version.",
  tiers = { "pro", "flash", "judge" },
  options = { "rounds" },

  check = function(p)
    local rounds = rounds_of(p)
    if not rounds or rounds < 1 or rounds > 5 then
      error(usage(string.format("adversarial: --rounds must be a whole number from 1 to 5, not '%s'", tostring(p.rounds))), 0)
    end
  end,

  run = function(ctx, p)
    local d = ctx.draft()
    local rounds = rounds_of(p)
    local attacks = {}
    -- 5% to 85% in even parts, one for each attack and each answer; scoring follows
    local function at(part) return 5 + math.floor(80 * part / (2 * rounds)) end
    for n = 1, rounds do
      ctx.progress(at(2 * n - 2), string.format("attack %d of %d", n, rounds))
      local attack = ctx.step.attack(d)
      attacks[#attacks + 1] = attack
      ctx.progress(at(2 * n - 1), string.format("answering attack %d of %d", n, rounds))
      d = ctx.step.answer_attack(d, attack)
    end
    ctx.progress(at(2 * rounds), "scoring")
    return ctx.add_version(d, { rounds = rounds, attacks = attacks })
  end,
}
