-- Default persona critics (table persona_critics). All are seeded active.
-- `prompt` is a path under prompts/ whose text is stored in
-- persona_critics.prompt_template. Every template uses exactly these placeholders:
--   {{asset_type}} {{voice_name}} {{pain_point}} {{content}}
-- and asks for one JSON object:
--   {"score": 0-10, "feedback": "...", "strengths": [...], "weaknesses": [...]}
-- Seeding is idempotent and never overwrites a row a user has edited.

return {
  {
    name = "Skeptical Staff Engineer",
    description = "Senior engineer who vets tools before anyone buys. Rewards checkable numbers, mechanisms and stated limits; punishes hype, unsourced claims and technical hand-waving.",
    prompt = "critics/skeptical-staff-engineer.md",
  },
  {
    name = "VP of Engineering (Economic Buyer)",
    description = "Budget owner deciding whether this earns a meeting. Rewards business consequences in hours, spend and risk, honest adoption cost and a believable return; punishes vague value and ROI with no inputs.",
    prompt = "critics/economic-buyer.md",
  },
  {
    name = "On-Call Practitioner",
    description = "The engineer who lives with the pain. Rewards fidelity to the pain as practitioners describe it and a concrete picture of what changes; punishes outsider framing, drama and promises the problem vanishes.",
    prompt = "critics/on-call-practitioner.md",
  },
  {
    name = "Security and Compliance Reviewer",
    description = "Signs off on public claims about data, security, reliability and compliance. Rewards precise, scoped statements; punishes absolutes, loose certification claims and unsafe advice.",
    prompt = "critics/security-compliance-reviewer.md",
  },
  {
    name = "Competitor's Champion",
    description = "Internal champion of the incumbent tool, looking for the rebuttal. Rewards fair, narrow, evidenced differences; punishes straw men, vague superiority and claims disprovable with one link.",
    prompt = "critics/competitor-champion.md",
  },
}
