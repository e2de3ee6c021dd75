-- Outside-in: practitioner evidence first. With no community evidence the job
-- refuses (unless forced), since a draft in practitioners' words needs their
-- words. Drafts start in the community's language with no product in them; the
-- product is layered in afterwards, then scored and refined to the gates.
return {
  kind = "pipeline",   -- run by 'candor generate', which gives ctx.step
  description = "Evidence first; draft in practitioners' words, then layer the product in; refine to the gates.",
  params = {
    pain = "the pain point (row)", assets = "asset types", voices = "voice profiles (rows)",
    focus = { "focus instructions", default = "" },
    force = { "run even when no community evidence is found", type = "boolean", default = false },
  },
  tiers = { "pro", "flash", "research", "judge" },

  run = function(ctx, p)
    local first = { evidence = function() return ctx.step.community_evidence() end }
    for _, voice in ipairs(p.voices) do
      first["banned " .. voice.slug] = function() return ctx.step.banned_words(voice) end
    end
    ctx.parallel(first)
    local evidence = ctx.evidence()
    if evidence.level == "product-only" and not p.force then
      error("outside-in found no community evidence for this pain point, so it has no practitioner language to start from; "
        .. "add evidence, pick another pipeline, or rerun with --force", 0)
    end

    -- The product research runs while the practitioner drafts are written.
    local product, drafts = {}, nil
    ctx.parallel {
      product = function()
        product.insights = ctx.step.insights()
        product.competitive = ctx.step.competitive()
        ctx.research_done()
      end,
      drafts = function()
        drafts = ctx.each(ctx.combine(p.assets, p.voices), function(asset, voice)
          return ctx.step.outside_in(asset, voice)
        end)
      end,
    }

    local by_asset = {}
    for _, d in ipairs(drafts) do
      by_asset[d.asset] = by_asset[d.asset] or {}
      table.insert(by_asset[d.asset], d)
    end
    return ctx.each(p.assets, function(asset)
      local variants = ctx.each(by_asset[asset], function(d)
        return ctx.step.refine_until_gates(ctx.step.layer_product(d))
      end)
      return ctx.step.store(asset, variants)
    end)
  end,
}
