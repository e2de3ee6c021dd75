-- community-check: a grounded check of the active version's claims against
-- what practitioners say in public. Returns the report; with --rewrite, also a
-- new version that fixes or drops what practitioners dispute.
return {
  kind = "action",
  description = "Check the claims with practitioners (grounded); --rewrite also fixes what they dispute.",
  tiers = { "research", "judge", "pro" },
  options = { "rewrite" },

  run = function(ctx, p)
    local d = ctx.draft()
    ctx.progress(10, "checking claims")
    local report = ctx.step.community_check(d)
    local disputed = 0
    for _, c in ipairs(report.claims) do if c.verdict ~= "supported" then disputed = disputed + 1 end end
    if not p.rewrite or disputed == 0 then
      return { report = report, disputed = disputed, rewritten = false }
    end
    ctx.progress(60, string.format("rewriting %d disputed or unverifiable claim%s", disputed, disputed == 1 and "" or "s"))
    local v = ctx.add_version(ctx.step.community_rewrite(d, report), { report = report, disputed = disputed })
    return { report = report, disputed = disputed, rewritten = true, version_id = v.id, version_number = v.version_number }
  end,
}
