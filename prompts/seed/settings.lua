-- Default global settings (table settings, priority_id NULL).
-- Every value is a string; structured values are JSON text.
-- Keys are snake_case and unique. Seeding is idempotent and never overwrites a
-- value a user has changed.

return {
  {
    key = "model_profile",
    value = "production",
    description = "Active model profile: maps the LLM tiers (flash, pro, research) to provider:model pairs from the profiles config. Typical values: production, test, local.",
  },
  {
    key = "max_refinement_iterations",
    value = "3",
    description = "Maximum refine-and-rescore rounds per draft before it is stored as failing its voice's quality gates.",
  },
  {
    key = "pain_threshold",
    value = "0.6",
    description = "Minimum pain score (0-1) a discovered community post needs to be kept as a pain point. Raise it for fewer, sharper pain points.",
  },
  {
    key = "dedup_window_days",
    value = "30",
    description = "Days to look back when deciding whether a newly discovered pain point duplicates one already stored.",
  },
  {
    key = "banned_words",
    value = "[]",
    description = "Extra banned phrases for this database, as a JSON array of strings. They join the list in banned_phrases_file when drafts are scored.",
  },
  {
    key = "banned_phrases_file",
    value = "seed/banned_phrases.txt",
    description = "Path under prompts/ of the banned phrase list merged into slop and vendor-speak scoring. The file named here is the default; point this at your own copy to customise it.",
  },
  {
    key = "default_voice",
    value = "practitioner-community",
    description = "Slug of the voice profile used when a request names no voice.",
  },
  {
    key = "default_pipeline",
    value = "outside-in",
    description = "Name of the generation pipeline (workflows/pipelines/) used when a request names none.",
  },
  {
    key = "default_asset_types",
    value = '["battlecard","talk_track","launch_messaging","social_hook","one_pager","email_copy","messaging_template","narrative"]',
    description = "JSON array of asset type ids generated when a request names none.",
  },
  {
    key = "public_priority",
    value = "general",
    description = "Slug of the messaging priority used for public (unauthenticated) generation requests.",
  },
  {
    key = "llm_max_concurrency",
    value = "8",
    description = "Maximum LLM calls in flight at once per provider; fan-out over asset types and voices waits beyond this.",
  },
  {
    key = "llm_request_timeout_seconds",
    value = "180",
    description = "Seconds before a single LLM request is abandoned and counted as a retryable timeout. Deep Research polling has its own limit.",
  },
  {
    key = "llm_max_retries",
    value = "3",
    description = "Retries for an LLM call after a 429, 5xx, timeout or unparseable JSON answer, with backoff that honours Retry-After.",
  },
  {
    key = "llm_max_input_tokens",
    value = "200000",
    description = "Largest LLM request sent, in input tokens (about four bytes a token): a larger one fails before it is sent or retried, naming its size. A tier's max_input_tokens in a profile wins over this.",
  },
  {
    key = "llm_call_retention_days",
    value = "90",
    description = "Days to keep rows in llm_calls (full prompts and responses) before they are pruned. \"0\" keeps them forever.",
  },
  {
    key = "chat_context_tokens",
    value = "12000",
    description = "Token budget (about four bytes a token) for what a workspace chat sends the model: the pain point, every active draft, the product documents' openings and recent messages. Past it the document openings shrink first, then the oldest messages are left out.",
  },
  {
    key = "document_context_tokens",
    value = "24000",
    description = "Token budget (about four bytes a token) for the product documents, all together, in a generation prompt. Past it each document keeps its opening (the shorter ones whole), with a note of how much was left out.",
  },
  {
    key = "pain_context_tokens",
    value = "6000",
    description = "Token budget (about four bytes a token) for the pain point's title and text in a generation prompt. Past it the opening is kept, with a note of how much was left out.",
  },
}
