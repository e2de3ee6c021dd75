-- 0002_schedules: scheduled workflows and the record of every scheduled run.
-- These two tables are Candor's own, beside the 20 of the storage contract, which
-- this migration leaves exactly as they are (discovery_schedules included: a
-- discovery schedule's spec and zone live in its config JSON, and "running now"
-- is a schedule_runs row with outcome 'running').
-- The migration runner wraps this file in one transaction and records it.

-- A workflow run on a schedule: an interval ("4h") or a cron expression in time_zone.
CREATE TABLE workflow_schedules (
  id            TEXT PRIMARY KEY NOT NULL,
  name          TEXT NOT NULL UNIQUE,
  workflow      TEXT NOT NULL,                  -- name under workflows/ (or a path)
  params        TEXT NOT NULL DEFAULT '{}',     -- JSON object of parameters
  spec          TEXT NOT NULL,                  -- "4h", "2h30m", "0 9 * * 1-5", "@daily"
  time_zone     TEXT NOT NULL DEFAULT 'UTC',    -- IANA name; cron runs on its clock
  is_active     INTEGER NOT NULL DEFAULT 1,
  next_run_at   TEXT,                           -- NULL: due now
  last_run_at   TEXT,                           -- start of the last finished run
  running_since TEXT,                           -- set while a run is in progress
  runner        TEXT,                           -- JSON {pid, host, started_at} of that run
  created_at    TEXT NOT NULL,
  updated_at    TEXT NOT NULL
);
CREATE INDEX idx_workflow_schedules_next_run_at ON workflow_schedules(next_run_at);

-- One row per run of either kind of schedule. schedule_id names a row of
-- discovery_schedules or workflow_schedules (by schedule_kind), so there is no
-- foreign key: the history of a deleted schedule stays readable.
CREATE TABLE schedule_runs (
  id            TEXT PRIMARY KEY NOT NULL,
  schedule_kind TEXT NOT NULL CHECK (schedule_kind IN ('discovery', 'workflow')),
  schedule_id   TEXT NOT NULL,
  started_at    TEXT NOT NULL,
  ended_at      TEXT,
  outcome       TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'completed', 'failed')),
  counts        TEXT NOT NULL DEFAULT '{}',     -- JSON object, e.g. {"fetched": 40, "kept": 3}
  error_message TEXT,
  runner        TEXT                            -- JSON {pid, host, started_at}
);
CREATE INDEX idx_schedule_runs_schedule ON schedule_runs(schedule_kind, schedule_id, started_at);
CREATE INDEX idx_schedule_runs_running ON schedule_runs(outcome) WHERE outcome = 'running';
