-- deslop: rewrite only the spans the slop and vendor-speak scorers flag, keep
-- every other byte of the active version, and score the result.
return {
  kind = "action",
  description = "Rewrite only the spans flagged by the slop and vendor-speak scorers; keep the rest; rescore.",
  tiers = { "pro", "judge" },

  run = function(ctx)
    local d = ctx.draft()
    local flagged = ctx.step.flagged(d)
    if #flagged == 0 then
      error("the active " .. d.asset .. " has no slop or vendor-speak spans to rewrite", 0)
    end
    ctx.progress(20, string.format("rewriting %d flagged span%s", #flagged, #flagged == 1 and "" or "s"))
    local text, replaced = ctx.step.deslop(d, flagged)
    if replaced == 0 then   -- a copy of the version would only look like progress
      error(string.format("the model proposed no usable replacements for the %d flagged span%s; the version is unchanged",
        #flagged, #flagged == 1 and "" or "s"), 0)
    end
    d.content = text
    ctx.progress(60, "scoring")
    return ctx.add_version(d, { flagged = #flagged, replaced = replaced })
  end,
}
