-- CI jobs (GitLab's `ci_builds`): one row per job of a pipeline; a retry adds a new row and marks
-- the old one `retried`. The row is the truth for the runner queue: a runner claims a job with
-- one conditional UPDATE (`… WHERE id = (SELECT id FROM jobs WHERE status = 'pending' … ORDER BY id
-- LIMIT 1) AND status = 'pending'`), backed by the partial index `jobs_pending`.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,    -- global, as GitLab's job ids
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    pipeline_id     INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name            TEXT    NOT NULL,
    stage           TEXT    NOT NULL,
    stage_idx       INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    run_when        TEXT    NOT NULL CHECK (run_when IN ('on_success', 'on_failure', 'always', 'manual')),
    allow_failure   INTEGER NOT NULL CHECK (allow_failure IN (0, 1)),
    spec            TEXT    NOT NULL,                     -- JSON: script, before/after_script, image, timeout, variables
    tag_list        TEXT    NOT NULL DEFAULT '[]',        -- JSON array of tags a runner must all have
    job_variables   TEXT,                                 -- JSON [{key, value}] given when a manual job is played
    runner_id       INTEGER,                              -- the runner that took it (no runners table yet)
    token_digest    BLOB    UNIQUE,                       -- SHA-256 of the job token while it runs
    failure_reason  TEXT,
    coverage        REAL,
    retried         INTEGER NOT NULL DEFAULT 0 CHECK (retried IN (0, 1)),
    retry_of        INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    queued_at       TEXT,
    started_at      TEXT,
    finished_at     TEXT,
    erased_at       TEXT,
    duration        REAL,                                 -- seconds, set when the job finishes
    queued_duration REAL                                  -- seconds, set when the job starts
);
CREATE INDEX jobs_pipeline ON jobs (pipeline_id, id);
CREATE INDEX jobs_project ON jobs (project_id, id);
CREATE INDEX jobs_pending ON jobs (id) WHERE status = 'pending';
CREATE INDEX jobs_retry_of ON jobs (retry_of);

-- A job's log, appended to by its runner.
CREATE TABLE job_traces (
    job_id  INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    content BLOB    NOT NULL
);
