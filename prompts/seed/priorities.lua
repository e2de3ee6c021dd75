-- Default messaging priority (table messaging_priorities).
-- "general" is the priority used for public generation (see the public_priority
-- setting). It is a deliberately generic starting point: edit the keywords and
-- product_context to describe your product and the pain you want to hear about.
-- `keywords` is stored as a JSON array. Seeding never overwrites a row a user edited.

return {
  {
    slug = "general",
    name = "General",
    description = "Default catch-all priority used for public generation. It is a generic placeholder meant to be edited: replace the keywords with the words your users type when something hurts, and the product context with a short, factual description of your product. Add narrower priorities for specific themes.",
    keywords = {
      "workaround",
      "pain point",
      "frustrating",
      "keeps breaking",
      "doesn't scale",
      "too slow",
      "too expensive",
      "manual process",
      "on-call",
      "outage",
      "migration",
      "technical debt",
      "alternatives to",
      "switched from",
      "anyone else",
      "how do you handle",
    },
    product_context = "Replace this with a factual description of your product. A useful product context says, in plain sentences: what the product does and for whom; the two or three problems it solves, each with the mechanism that solves it; numbers you can stand behind and where they come from; what it integrates with; pricing or plan limits that matter to a buyer; and what it does NOT do, so generated copy never overclaims. Until this is edited, generation should describe the practitioner pain accurately and keep product claims generic and modest.",
  },
}
