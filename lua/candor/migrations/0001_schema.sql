-- 0001_schema: the 20 tables of the storage contract (tests/data/DATABASE.md,
-- a copy of seed/DATABASE.md), in contract order, columns in contract order.
--
-- Rules this file follows (tests/lua/schema_test.lua checks every one):
--   * types, NOT NULL, DEFAULT, PRIMARY KEY, UNIQUE and FOREIGN KEY ... ON DELETE
--     exactly as the contract writes them, nothing added or left out
--   * booleans are INTEGER 0/1 (contract "default true" = DEFAULT 1, "false" = 0)
--   * every table is created after the tables it references
--   * every foreign-key column has a plain index idx_<table>_<column> so that
--     cascades and SET NULL do not scan the child table
--   * extra indexes are non-unique and named idx_*: the contract is the only
--     source of uniqueness
-- The migration runner wraps this file in one transaction and records it, so
-- there is no BEGIN/COMMIT, no PRAGMA and no IF NOT EXISTS here.

-- Table 1
CREATE TABLE messaging_priorities (
  id              TEXT PRIMARY KEY NOT NULL,
  name            TEXT NOT NULL,
  slug            TEXT NOT NULL UNIQUE,
  description     TEXT NOT NULL,
  keywords        TEXT NOT NULL,
  product_context TEXT NOT NULL,
  is_active       INTEGER NOT NULL DEFAULT 1,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

-- Table 2
CREATE TABLE discovery_schedules (
  id          TEXT PRIMARY KEY NOT NULL,
  priority_id TEXT NOT NULL REFERENCES messaging_priorities(id) ON DELETE CASCADE,
  source_type TEXT NOT NULL,
  config      TEXT NOT NULL,
  is_active   INTEGER NOT NULL DEFAULT 1,
  last_run_at TEXT,
  next_run_at TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX idx_discovery_schedules_priority_id ON discovery_schedules(priority_id);
-- the scheduler asks for due schedules
CREATE INDEX idx_discovery_schedules_next_run_at ON discovery_schedules(next_run_at);

-- Table 3
CREATE TABLE discovered_pain_points (
  id                  TEXT PRIMARY KEY NOT NULL,
  priority_id         TEXT NOT NULL REFERENCES messaging_priorities(id) ON DELETE CASCADE,
  schedule_id         TEXT REFERENCES discovery_schedules(id) ON DELETE SET NULL,
  source_type         TEXT NOT NULL,
  source_url          TEXT NOT NULL,
  source_id           TEXT NOT NULL,
  title               TEXT NOT NULL,
  content             TEXT NOT NULL,
  author              TEXT NOT NULL,
  author_level        TEXT NOT NULL,
  metadata            TEXT NOT NULL,
  pain_score          REAL NOT NULL,
  pain_analysis       TEXT NOT NULL,
  practitioner_quotes TEXT NOT NULL,
  status              TEXT NOT NULL DEFAULT 'pending',
  rejection_reason    TEXT,
  content_hash        TEXT NOT NULL,
  discovered_at       TEXT NOT NULL,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
CREATE INDEX idx_discovered_pain_points_priority_id ON discovered_pain_points(priority_id);
CREATE INDEX idx_discovered_pain_points_schedule_id ON discovered_pain_points(schedule_id);
-- dedup on ingest (not UNIQUE: the contract does not make it unique)
CREATE INDEX idx_discovered_pain_points_content_hash ON discovered_pain_points(content_hash);
-- review queues list pain points by status
CREATE INDEX idx_discovered_pain_points_status ON discovered_pain_points(status);

-- Table 4
CREATE TABLE generation_jobs (
  id                    TEXT PRIMARY KEY NOT NULL,
  pain_point_id         TEXT REFERENCES discovered_pain_points(id) ON DELETE CASCADE,
  priority_id           TEXT REFERENCES messaging_priorities(id) ON DELETE CASCADE,
  status                TEXT NOT NULL DEFAULT 'pending',
  current_step          TEXT,
  progress              INTEGER NOT NULL DEFAULT 0,
  competitive_research  TEXT,
  product_context       TEXT,
  error_message         TEXT,
  error_stack           TEXT,
  retry_count           INTEGER NOT NULL DEFAULT 0,
  gemini_interaction_id TEXT,
  gemini_status         TEXT,
  started_at            TEXT,
  pipeline_steps        TEXT,
  completed_at          TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL
);
CREATE INDEX idx_generation_jobs_pain_point_id ON generation_jobs(pain_point_id);
CREATE INDEX idx_generation_jobs_priority_id ON generation_jobs(priority_id);
-- workers and recovery look up pending/running jobs
CREATE INDEX idx_generation_jobs_status ON generation_jobs(status);

-- Table 5
CREATE TABLE settings (
  id          TEXT PRIMARY KEY NOT NULL,
  priority_id TEXT REFERENCES messaging_priorities(id) ON DELETE CASCADE,
  key         TEXT NOT NULL,
  value       TEXT NOT NULL,
  description TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE INDEX idx_settings_priority_id ON settings(priority_id);
-- settings are read by key
CREATE INDEX idx_settings_key ON settings(key);

-- Table 6
CREATE TABLE product_documents (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL,
  description   TEXT NOT NULL,
  content       TEXT NOT NULL,
  document_type TEXT NOT NULL,
  tags          TEXT NOT NULL,
  is_active     INTEGER NOT NULL DEFAULT 1,
  uploaded_at   TEXT NOT NULL,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

-- Table 7
CREATE TABLE messaging_assets (
  id                 TEXT PRIMARY KEY NOT NULL,
  priority_id        TEXT NOT NULL REFERENCES messaging_priorities(id) ON DELETE CASCADE,
  job_id             TEXT REFERENCES generation_jobs(id) ON DELETE SET NULL,
  pain_point_id      TEXT REFERENCES discovered_pain_points(id) ON DELETE SET NULL,
  asset_type         TEXT NOT NULL,
  title              TEXT NOT NULL,
  content            TEXT NOT NULL,
  metadata           TEXT NOT NULL,
  slop_score         REAL,
  vendor_speak_score REAL,
  specificity_score  REAL,
  persona_avg_score  REAL,
  evidence_level     TEXT,
  status             TEXT NOT NULL DEFAULT 'draft',
  review_notes       TEXT,
  approved_at        TEXT,
  approved_by        TEXT,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE INDEX idx_messaging_assets_priority_id ON messaging_assets(priority_id);
CREATE INDEX idx_messaging_assets_job_id ON messaging_assets(job_id);
CREATE INDEX idx_messaging_assets_pain_point_id ON messaging_assets(pain_point_id);

-- Table 8
CREATE TABLE persona_critics (
  id              TEXT PRIMARY KEY NOT NULL,
  name            TEXT NOT NULL,
  description     TEXT NOT NULL,
  prompt_template TEXT NOT NULL,
  is_active       INTEGER NOT NULL DEFAULT 1,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

-- Table 9
CREATE TABLE persona_scores (
  id         TEXT PRIMARY KEY NOT NULL,
  asset_id   TEXT NOT NULL REFERENCES messaging_assets(id) ON DELETE CASCADE,
  persona_id TEXT NOT NULL REFERENCES persona_critics(id) ON DELETE CASCADE,
  score      REAL NOT NULL,
  feedback   TEXT NOT NULL,
  strengths  TEXT NOT NULL,
  weaknesses TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX idx_persona_scores_asset_id ON persona_scores(asset_id);
CREATE INDEX idx_persona_scores_persona_id ON persona_scores(persona_id);

-- Table 10
CREATE TABLE competitive_research (
  id                    TEXT PRIMARY KEY NOT NULL,
  job_id                TEXT NOT NULL REFERENCES generation_jobs(id) ON DELETE CASCADE,
  pain_point_id         TEXT NOT NULL REFERENCES discovered_pain_points(id) ON DELETE CASCADE,
  raw_report            TEXT NOT NULL,
  structured_analysis   TEXT NOT NULL,
  grounding_sources     TEXT NOT NULL,
  gemini_interaction_id TEXT NOT NULL,
  status                TEXT NOT NULL DEFAULT 'pending',
  created_at            TEXT NOT NULL
);
CREATE INDEX idx_competitive_research_job_id ON competitive_research(job_id);
CREATE INDEX idx_competitive_research_pain_point_id ON competitive_research(pain_point_id);

-- Table 11
CREATE TABLE asset_traceability (
  id                  TEXT PRIMARY KEY NOT NULL,
  asset_id            TEXT NOT NULL REFERENCES messaging_assets(id) ON DELETE CASCADE,
  pain_point_id       TEXT REFERENCES discovered_pain_points(id) ON DELETE SET NULL,
  research_id         TEXT REFERENCES competitive_research(id) ON DELETE SET NULL,
  product_doc_id      TEXT REFERENCES product_documents(id) ON DELETE SET NULL,
  practitioner_quotes TEXT NOT NULL,
  generation_prompt   TEXT,
  created_at          TEXT NOT NULL
);
CREATE INDEX idx_asset_traceability_asset_id ON asset_traceability(asset_id);
CREATE INDEX idx_asset_traceability_pain_point_id ON asset_traceability(pain_point_id);
CREATE INDEX idx_asset_traceability_research_id ON asset_traceability(research_id);
CREATE INDEX idx_asset_traceability_product_doc_id ON asset_traceability(product_doc_id);

-- Table 12
CREATE TABLE messaging_gaps (
  id                   TEXT PRIMARY KEY NOT NULL,
  pain_point_id        TEXT REFERENCES discovered_pain_points(id) ON DELETE SET NULL,
  description          TEXT NOT NULL,
  suggested_capability TEXT NOT NULL,
  frequency            INTEGER NOT NULL DEFAULT 1,
  status               TEXT NOT NULL DEFAULT 'open',
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL
);
CREATE INDEX idx_messaging_gaps_pain_point_id ON messaging_gaps(pain_point_id);

-- Table 13
CREATE TABLE voice_profiles (
  id                 TEXT PRIMARY KEY NOT NULL,
  name               TEXT NOT NULL,
  slug               TEXT NOT NULL UNIQUE,
  description        TEXT NOT NULL,
  voice_guide        TEXT NOT NULL,
  scoring_thresholds TEXT NOT NULL,
  example_phrases    TEXT NOT NULL,
  is_default         INTEGER NOT NULL DEFAULT 0,
  is_active          INTEGER NOT NULL DEFAULT 1,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);

-- Table 14
CREATE TABLE asset_variants (
  id                 TEXT PRIMARY KEY NOT NULL,
  asset_id           TEXT NOT NULL REFERENCES messaging_assets(id) ON DELETE CASCADE,
  voice_profile_id   TEXT NOT NULL REFERENCES voice_profiles(id) ON DELETE CASCADE,
  variant_number     INTEGER NOT NULL,
  content            TEXT NOT NULL,
  slop_score         REAL,
  vendor_speak_score REAL,
  authenticity_score REAL,
  specificity_score  REAL,
  persona_avg_score  REAL,
  passes_gates       INTEGER NOT NULL DEFAULT 0,
  is_selected        INTEGER NOT NULL DEFAULT 0,
  created_at         TEXT NOT NULL
);
CREATE INDEX idx_asset_variants_asset_id ON asset_variants(asset_id);
CREATE INDEX idx_asset_variants_voice_profile_id ON asset_variants(voice_profile_id);

-- Table 15
CREATE TABLE users (
  id            TEXT PRIMARY KEY NOT NULL,
  username      TEXT NOT NULL UNIQUE,
  email         TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL DEFAULT 'user',
  is_active     INTEGER NOT NULL DEFAULT 1,
  last_login_at TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);

-- Table 16
CREATE TABLE sessions (
  id                 TEXT PRIMARY KEY NOT NULL,
  user_id            TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name               TEXT NOT NULL,
  pain_point_id      TEXT REFERENCES discovered_pain_points(id) ON DELETE SET NULL,
  job_id             TEXT REFERENCES generation_jobs(id) ON DELETE SET NULL,
  voice_profile_id   TEXT REFERENCES voice_profiles(id) ON DELETE SET NULL,
  asset_types        TEXT NOT NULL,
  status             TEXT NOT NULL DEFAULT 'pending',
  manual_pain_point  TEXT,
  product_doc_ids    TEXT,
  product_context    TEXT,
  focus_instructions TEXT,
  pipeline           TEXT DEFAULT 'outside-in',
  metadata           TEXT DEFAULT '{}',
  is_archived        INTEGER NOT NULL DEFAULT 0,
  created_at         TEXT NOT NULL,
  updated_at         TEXT NOT NULL
);
CREATE INDEX idx_sessions_user_id ON sessions(user_id);
CREATE INDEX idx_sessions_pain_point_id ON sessions(pain_point_id);
CREATE INDEX idx_sessions_job_id ON sessions(job_id);
CREATE INDEX idx_sessions_voice_profile_id ON sessions(voice_profile_id);

-- Table 17
CREATE TABLE session_versions (
  id                 TEXT PRIMARY KEY NOT NULL,
  session_id         TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  asset_type         TEXT NOT NULL,
  version_number     INTEGER NOT NULL,
  content            TEXT NOT NULL,
  source             TEXT NOT NULL,
  source_detail      TEXT,
  slop_score         REAL,
  vendor_speak_score REAL,
  authenticity_score REAL,
  specificity_score  REAL,
  persona_avg_score  REAL,
  passes_gates       INTEGER NOT NULL DEFAULT 0,
  is_active          INTEGER NOT NULL DEFAULT 0,
  created_at         TEXT NOT NULL
);
CREATE INDEX idx_session_versions_session_id ON session_versions(session_id);
-- "latest / active version of this asset in this session". Deliberately not
-- UNIQUE, the contract does not declare it
CREATE INDEX idx_session_versions_session_id_asset_type_version_number
  ON session_versions(session_id, asset_type, version_number);

-- Table 18
CREATE TABLE session_messages (
  id              TEXT PRIMARY KEY NOT NULL,
  session_id      TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role            TEXT NOT NULL,
  content         TEXT NOT NULL,
  asset_type      TEXT,
  version_created TEXT,
  metadata        TEXT DEFAULT '{}',
  created_at      TEXT NOT NULL
);
CREATE INDEX idx_session_messages_session_id ON session_messages(session_id);

-- Table 19
CREATE TABLE action_jobs (
  id            TEXT PRIMARY KEY NOT NULL,
  session_id    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  asset_type    TEXT NOT NULL,
  action_name   TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'pending',
  current_step  TEXT,
  progress      INTEGER NOT NULL DEFAULT 0,
  result        TEXT,
  error_message TEXT,
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX idx_action_jobs_session_id ON action_jobs(session_id);
-- recovery after a restart finds pending/running actions
CREATE INDEX idx_action_jobs_status ON action_jobs(status);

-- Table 20
CREATE TABLE llm_calls (
  id            TEXT PRIMARY KEY NOT NULL,
  session_id    TEXT REFERENCES sessions(id) ON DELETE CASCADE,
  job_id        TEXT REFERENCES generation_jobs(id) ON DELETE SET NULL,
  timestamp     TEXT NOT NULL,
  model         TEXT NOT NULL,
  purpose       TEXT NOT NULL,
  system_prompt TEXT,
  user_prompt   TEXT NOT NULL,
  response      TEXT,
  input_tokens  INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  total_tokens  INTEGER NOT NULL DEFAULT 0,
  cached_tokens INTEGER NOT NULL DEFAULT 0,
  latency_ms    INTEGER NOT NULL DEFAULT 0,
  success       INTEGER NOT NULL DEFAULT 1,
  error_message TEXT,
  finish_reason TEXT,
  created_at    TEXT NOT NULL
);
CREATE INDEX idx_llm_calls_session_id ON llm_calls(session_id);
CREATE INDEX idx_llm_calls_job_id ON llm_calls(job_id);
-- the audit log is read newest first and pruned by age
CREATE INDEX idx_llm_calls_timestamp ON llm_calls(timestamp);
