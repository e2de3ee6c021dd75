-- A first workflow: records a manual pain point, opens a generation job for it,
-- and reports what the database now holds. Copy it to start your own.
return {
  name = "examples/demo",
  description = "Record a manual pain point with a job, then read back voices and critics.",
  params = {
    title = { "pain point title", default = "Flaky CI runs cost us a day a week" },
    content = { "what the practitioner said",
      default = "Our integration suite fails about 1 run in 8 for reasons unrelated to the change. "
        .. "We rerun until green, which adds 40 minutes per merge and trains everyone to ignore red builds." },
  },

  run = function(ctx, p)
    local repo = ctx.repo
    ctx.progress(10, "finding the public messaging priority")
    local slug = repo.settings.get_value("public_priority") or "general"
    local priority = repo.messaging_priorities.by_slug(slug)
      or error("no messaging priority '" .. slug .. "': run 'candor init'")

    ctx.progress(40, "recording the pain point and its job")
    local pain, job = ctx.db:transaction(function()
      local pain = repo.discovered_pain_points.insert {
        priority_id = priority.id, source_type = "manual", source_url = "", source_id = "demo",
        title = p.title, content = p.content, author = "demo", author_level = "practitioner",
        metadata = { via = "examples/demo" }, pain_score = 0.8, pain_analysis = {},
        practitioner_quotes = { p.content }, content_hash = require("core.crypto").sha256(p.title .. "\n" .. p.content),
        discovered_at = ctx.now(),
      }
      local job = repo.generation_jobs.insert {
        pain_point_id = pain.id, priority_id = priority.id, status = "pending",
        product_context = { pipeline = "outside-in", assetTypes = { "battlecard" } },
      }
      return pain, job
    end)

    ctx.progress(80, "reading voices and critics")
    local voices = {}
    for _, v in ipairs(repo.voice_profiles.list({ is_active = true }, { order = "name" })) do
      voices[#voices + 1] = string.format("%s (vendor-speak max %.1f)", v.name, v.scoring_thresholds.vendorSpeakMax or 0)
    end
    local critics = repo.persona_critics.count { is_active = true }
    local pains = repo.discovered_pain_points.count { priority_id = priority.id }
    ctx.progress(100, "done")

    return {
      pain_point = { id = pain.id, title = pain.title },
      job = { id = job.id, status = job.status },
      priority = priority.name,
      pain_points_in_priority = pains,
      voices = voices,
      active_critics = critics,
    }
  end,
}
