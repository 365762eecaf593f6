-- triggerd schema: applied as a whole to a new database file.
-- This file is always the current schema. Its version lives in PRAGMA user_version (set by
-- src/db/migrate.rs, not here), and migrate.rs holds the ordered steps that upgrade older files.
--
-- Every table with a public id uses AUTOINCREMENT: GitLab never reuses an id, and without it
-- SQLite hands the id of a deleted newest row to the next insert.
--
-- Timestamps are TEXT in GitLab's wire format, `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, fixed width),
-- so they sort and compare correctly as strings and need no conversion on the way out.
-- Secrets are never stored: tokens are kept as their SHA-256 digest, passwords as argon2id PHC strings.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,                                   -- argon2id PHC string; NULL = cannot sign in
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked')),
    created_at    TEXT    NOT NULL
);

CREATE TABLE personal_access_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_digest BLOB    NOT NULL UNIQUE,                 -- SHA-256 of the whole token string
    scopes       TEXT    NOT NULL,                        -- comma-separated: api, read_api
    expires_at   TEXT,                                    -- YYYY-MM-DD; the token stops working on that day
    revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    last_used_at TEXT,
    created_at   TEXT    NOT NULL
);
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

-- A project lives in its creator's personal namespace: path_with_namespace = namespace/path.
CREATE TABLE projects (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    creator_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name              TEXT    NOT NULL,
    path              TEXT    NOT NULL,
    description       TEXT,
    visibility        TEXT    NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'internal', 'public')),
    default_branch    TEXT,
    last_pipeline_iid INTEGER NOT NULL DEFAULT 0,         -- per-project pipeline iid counter; never reused
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (namespace_id, path COLLATE NOCASE)
);

CREATE TABLE members (
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_level INTEGER NOT NULL CHECK (access_level IN (10, 20, 30, 40, 50)),
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_user ON members (user_id);

-- Branches and tags without a repository: each is a name pointing at a 40-hex commit SHA.
CREATE TABLE refs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('branch', 'tag')),
    name       TEXT    NOT NULL,
    sha        TEXT    NOT NULL,
    message    TEXT,                                      -- annotated tags only
    created_at TEXT    NOT NULL,
    UNIQUE (project_id, kind, name)
);

CREATE TABLE triggers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id   INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    owner_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description  TEXT,
    token_digest BLOB    NOT NULL UNIQUE,                 -- SHA-256 of the whole `glptt-…` token
    short_token  TEXT    NOT NULL,                        -- first 4 characters after `glptt-`
    expires_at   TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX triggers_project ON triggers (project_id, id);
CREATE INDEX triggers_owner ON triggers (owner_id);

CREATE TABLE pipelines (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    iid             INTEGER NOT NULL,
    trigger_id      INTEGER REFERENCES triggers (id) ON DELETE SET NULL,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    ref             TEXT    NOT NULL,
    sha             TEXT    NOT NULL,
    before_sha      TEXT    NOT NULL,
    tag             INTEGER NOT NULL CHECK (tag IN (0, 1)),
    status          TEXT    NOT NULL,
    source          TEXT    NOT NULL,
    name            TEXT,
    yaml_errors     TEXT,
    inputs          TEXT,                                 -- JSON object as sent, kept with the pipeline
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL,
    started_at      TEXT,
    finished_at     TEXT,
    committed_at    TEXT,
    duration        INTEGER,
    queued_duration INTEGER,
    coverage        TEXT,
    UNIQUE (project_id, iid)
);
CREATE INDEX pipelines_project ON pipelines (project_id, id);
CREATE INDEX pipelines_trigger ON pipelines (trigger_id, id);
CREATE INDEX pipelines_user ON pipelines (user_id);

CREATE TABLE pipeline_variables (
    pipeline_id   INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    key           TEXT    NOT NULL,
    value         TEXT    NOT NULL,
    variable_type TEXT    NOT NULL CHECK (variable_type IN ('env_var', 'file')),
    PRIMARY KEY (pipeline_id, position)
) WITHOUT ROWID;

-- BEGIN add_commits_and_files (an upgrade step in src/db/migrate.rs runs this section as is)
-- Repository content without git (schema version 3). A write through the Repository Files API is
-- a commit: a row in `commits` whose `parent_sha` is the branch head it was made on. A branch
-- head with no commit row (a SHA the Branches API or a README made up) is a root commit with an
-- empty tree; it gets a row (parent NULL) when the first commit on top of it is made.
-- Each commit holds its whole tree in `commit_files` (at most `limits.max_repository_files`
-- rows, copied from the parent on write); contents live once per project in `blobs`.
CREATE TABLE blobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha        TEXT    NOT NULL,                          -- git blob id: SHA-1 of "blob <size>\0<content>"
    size       INTEGER NOT NULL,
    content    BLOB    NOT NULL,
    UNIQUE (project_id, sha)
);

CREATE TABLE commits (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    sha             TEXT    NOT NULL,                     -- 40 lowercase hex
    parent_sha      TEXT,                                 -- NULL for a root commit
    message         TEXT    NOT NULL,
    author_name     TEXT    NOT NULL,
    author_email    TEXT    NOT NULL,
    authored_date   TEXT    NOT NULL,
    committer_name  TEXT    NOT NULL,
    committer_email TEXT    NOT NULL,
    committed_date  TEXT    NOT NULL,
    UNIQUE (project_id, sha)
);

-- The full tree of each commit: one row per file. `blob_id` and `last_commit_id` carry no foreign
-- key (each would need an index for deletes to stay fast): they name rows of the same project,
-- which are deleted with it.
CREATE TABLE commit_files (
    commit_id      INTEGER NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
    path           TEXT    NOT NULL,
    blob_id        INTEGER NOT NULL,                      -- blobs.id (same project; goes with it)
    executable     INTEGER NOT NULL DEFAULT 0 CHECK (executable IN (0, 1)),
    last_commit_id INTEGER NOT NULL,                      -- commits.id of the commit that last changed this path
    PRIMARY KEY (commit_id, path)
) WITHOUT ROWID;

-- What each commit changed (one row per path; the Files API changes one path per commit).
CREATE TABLE commit_changes (
    commit_id INTEGER NOT NULL REFERENCES commits (id) ON DELETE CASCADE,
    path      TEXT    NOT NULL,
    action    TEXT    NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    PRIMARY KEY (commit_id, path)
) WITHOUT ROWID;
-- END add_commits_and_files

-- BEGIN add_jobs (an upgrade step in src/db/migrate.rs runs this section as is)
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
    token_digest    BLOB    UNIQUE,                       -- SHA-256 of the job token (kept once the job ends: 401 "Job is not running")
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
-- END add_jobs

-- BEGIN add_runners (an upgrade step in src/db/migrate.rs runs this section as is)
-- Runners (schema version 5): the runners table, its tags and projects, and each project's runner
-- registration token. Every token is stored as the SHA-256 digest of the whole token string only.
CREATE TABLE runners (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    token_digest      BLOB    NOT NULL UNIQUE,            -- SHA-256 of the whole `glrt-…` token
    short_token       TEXT    NOT NULL,                   -- first 8 characters after `glrt-`
    runner_type       TEXT    NOT NULL CHECK (runner_type IN ('instance_type', 'project_type')),
    registration_type TEXT    NOT NULL CHECK (registration_type IN ('registration_token', 'authenticated_user')),
    description       TEXT,
    maintenance_note  TEXT,
    active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    run_untagged      INTEGER NOT NULL DEFAULT 1 CHECK (run_untagged IN (0, 1)),
    locked            INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    access_level      TEXT    NOT NULL DEFAULT 'not_protected' CHECK (access_level IN ('not_protected', 'ref_protected')),
    maximum_timeout   INTEGER,                            -- seconds; NULL = no limit
    name              TEXT,                               -- the runner's `info`, as last reported
    version           TEXT,
    revision          TEXT,
    platform          TEXT,
    architecture      TEXT,
    contacted_at      TEXT,
    creator_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at        TEXT    NOT NULL
);

CREATE TABLE runner_tags (
    runner_id INTEGER NOT NULL REFERENCES runners (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    PRIMARY KEY (runner_id, position),
    UNIQUE (runner_id, name)
) WITHOUT ROWID;
CREATE INDEX runner_tags_name ON runner_tags (name);

CREATE TABLE runner_projects (
    runner_id  INTEGER NOT NULL REFERENCES runners (id) ON DELETE CASCADE,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (runner_id, project_id)
) WITHOUT ROWID;
CREATE INDEX runner_projects_project ON runner_projects (project_id, runner_id);

-- A project runner whose last project is deleted is deleted with it (it could never get a job).
CREATE TRIGGER runner_projects_orphan AFTER DELETE ON runner_projects
WHEN NOT EXISTS (SELECT 1 FROM runner_projects WHERE runner_id = OLD.runner_id)
BEGIN
    DELETE FROM runners WHERE id = OLD.runner_id AND runner_type = 'project_type';
END;

CREATE TABLE project_runner_registration_tokens (
    project_id   INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    token_digest BLOB    NOT NULL UNIQUE,                 -- SHA-256 of the whole `GR1348941…` token
    created_at   TEXT    NOT NULL
);
-- END add_runners

-- BEGIN add_job_tokens (an upgrade step in src/db/migrate.rs runs this section as is)
-- CI/CD job tokens across projects (schema version 6): each project's inbound job token scope
-- (GitLab's "Limit access to this project") with its allowlist, and the upstream link of a
-- pipeline created by a job (GitLab's `ci_sources_pipelines`).

-- A project without a row has the scope off: projects from before version 6 keep working as they
-- did; a project created since gets a row with the scope on, as in current GitLab.
CREATE TABLE job_token_scopes (
    project_id      INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    inbound_enabled INTEGER NOT NULL CHECK (inbound_enabled IN (0, 1)),
    updated_at      TEXT    NOT NULL
);

-- Jobs of `allowed_project_id` may use their job token against `project_id`.
CREATE TABLE job_token_allowlist (
    project_id         INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    allowed_project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    created_at         TEXT    NOT NULL,
    PRIMARY KEY (project_id, allowed_project_id)
) WITHOUT ROWID;
CREATE INDEX job_token_allowlist_allowed ON job_token_allowlist (allowed_project_id);

-- The pipeline a job created with its job token (the trigger call) or as a `trigger:` job.
CREATE TABLE pipeline_sources (
    pipeline_id        INTEGER PRIMARY KEY REFERENCES pipelines (id) ON DELETE CASCADE,
    source_project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source_pipeline_id INTEGER NOT NULL REFERENCES pipelines (id) ON DELETE CASCADE,
    source_job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    -- set when the source job is a `trigger:` job (a bridge), NULL for the trigger call
    source_bridge_id   INTEGER REFERENCES jobs (id) ON DELETE CASCADE
);
CREATE INDEX pipeline_sources_source_pipeline ON pipeline_sources (source_pipeline_id);
CREATE INDEX pipeline_sources_source_job ON pipeline_sources (source_job_id);
CREATE INDEX pipeline_sources_source_bridge ON pipeline_sources (source_bridge_id);

-- A `trigger:` job (a bridge): its downstream as `.gitlab-ci.yml` wrote it. Bridges are rows of
-- `jobs` (stages and statuses work alike) that never reach a runner; the bridge worker creates
-- their downstream pipeline. `yaml_variables` is a JSON array of {key, value}.
CREATE TABLE job_bridges (
    job_id           INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    project          TEXT    NOT NULL,
    branch           TEXT,
    depend           INTEGER NOT NULL CHECK (depend IN (0, 1)),
    forward_yaml     INTEGER NOT NULL CHECK (forward_yaml IN (0, 1)),
    forward_pipeline INTEGER NOT NULL CHECK (forward_pipeline IN (0, 1)),
    yaml_variables   TEXT    NOT NULL
);

-- Web UI sessions: the cookie's value is never stored, only its SHA-256 digest. A session ends
-- at `expires_at`, on sign-out, and with its user (blocked users are refused on use).
CREATE TABLE web_sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_digest BLOB    NOT NULL UNIQUE,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- One-time nonces of web forms that reveal a secret once (the trigger token create form): a
-- replayed form finds its nonce here and mints nothing.
CREATE TABLE web_form_nonces (
    nonce_digest BLOB    PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES web_sessions (id) ON DELETE CASCADE,
    used_at      TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX web_form_nonces_session ON web_form_nonces (session_id);
-- A trigger token's limits (absent row or empty lists: any ref, any variables). Lists are JSON
-- arrays of strings; `*` in an entry matches any run of characters.
CREATE TABLE trigger_policies (
    trigger_id               INTEGER PRIMARY KEY REFERENCES triggers (id) ON DELETE CASCADE,
    allowed_refs             TEXT    NOT NULL DEFAULT '[]',
    allowed_variables        TEXT    NOT NULL DEFAULT '[]',
    required_variables       TEXT    NOT NULL DEFAULT '[]',
    max_variable_value_bytes INTEGER
);
-- A trigger's previous secrets after a rotation: each keeps working until its `expires_at` (the
-- grace period). SHA-256 digests only, like `triggers.token_digest`.
CREATE TABLE trigger_secrets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger_id   INTEGER NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    token_digest BLOB    NOT NULL UNIQUE,
    short_token  TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    created_at   TEXT    NOT NULL
);
CREATE INDEX trigger_secrets_trigger ON trigger_secrets (trigger_id, id);
-- END add_job_tokens

-- BEGIN add_groups (an upgrade step in src/db/migrate.rs runs this section as is)
-- Groups and namespaces (GitLab's `namespaces`): user namespaces and groups share one id space.
-- A user's namespace has the user's id (the upgrade copies every user; users.rs allocates a new
-- user's id past both sequences, and the trigger below adds its namespace), so every namespace id
-- the API returned before groups existed stays valid. Groups nest through `parent_id` (at most 20
-- levels, checked by the API); `full_path` (`org/team`) and `full_name` (`Org / Team`) are kept
-- on each row so a project's path needs no recursion; a move or rename rewrites its descendants.
CREATE TABLE namespaces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('user', 'group')),
    owner_id    INTEGER UNIQUE REFERENCES users (id) ON DELETE CASCADE,   -- user namespaces only
    parent_id   INTEGER REFERENCES namespaces (id) ON DELETE CASCADE,     -- subgroups only
    name        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    full_path   TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    full_name   TEXT    NOT NULL,
    description TEXT,
    visibility  TEXT    NOT NULL DEFAULT 'public' CHECK (visibility IN ('private', 'internal', 'public')),
    created_at  TEXT    NOT NULL,
    CHECK ((kind = 'user') = (owner_id IS NOT NULL)),
    CHECK (kind = 'group' OR parent_id IS NULL)
);
CREATE INDEX namespaces_parent ON namespaces (parent_id);
INSERT INTO namespaces (id, kind, owner_id, name, path, full_path, full_name, created_at)
    SELECT id, 'user', id, name, username, username, name, created_at FROM users;

CREATE TRIGGER users_namespace AFTER INSERT ON users
BEGIN
    INSERT INTO namespaces (id, kind, owner_id, name, path, full_path, full_name, created_at)
    VALUES (NEW.id, 'user', NEW.id, NEW.name, NEW.username, NEW.username, NEW.name, NEW.created_at);
END;

CREATE TRIGGER users_namespace_rename AFTER UPDATE OF username, name ON users
BEGIN
    UPDATE namespaces SET name = NEW.name, path = NEW.username, full_path = NEW.username, full_name = NEW.name
    WHERE owner_id = NEW.id;
END;

-- Group membership; inherited by subgroups and by the projects in them (see db::access).
CREATE TABLE group_members (
    group_id     INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_level INTEGER NOT NULL CHECK (access_level IN (10, 20, 30, 40, 50)),
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX group_members_user ON group_members (user_id);

-- projects.namespace_id now names a namespace (user or group): SQLite's table rebuild
-- (https://www.sqlite.org/lang_altertable.html#otheralter), as upgrade_v2.sql does. Ids and rows
-- are copied unchanged; references to `projects` from other tables stay valid.
CREATE TABLE new_projects (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace_id      INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    creator_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    name              TEXT    NOT NULL,
    path              TEXT    NOT NULL,
    description       TEXT,
    visibility        TEXT    NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'internal', 'public')),
    default_branch    TEXT,
    last_pipeline_iid INTEGER NOT NULL DEFAULT 0,         -- per-project pipeline iid counter; never reused
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    UNIQUE (namespace_id, path COLLATE NOCASE)
);
INSERT INTO new_projects (id, namespace_id, creator_id, name, path, description, visibility, default_branch,
                          last_pipeline_iid, created_at, updated_at)
    SELECT id, namespace_id, creator_id, name, path, description, visibility, default_branch,
           last_pipeline_iid, created_at, updated_at FROM projects;
DROP TABLE projects;
ALTER TABLE new_projects RENAME TO projects;

-- Jobs of every project in `group_id` or a group below it may use their job token against
-- `project_id` (GitLab's job token groups allowlist).
CREATE TABLE job_token_group_allowlist (
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    group_id   INTEGER NOT NULL REFERENCES namespaces (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (project_id, group_id)
) WITHOUT ROWID;
CREATE INDEX job_token_group_allowlist_group ON job_token_group_allowlist (group_id);
-- END add_groups

-- BEGIN add_list_indexes (an upgrade step in src/db/migrate.rs runs this section as is)
-- The pipeline list's filters and orders that are not the id: `status` (and `scope=running`,
-- `pending`, `order_by=status`), `ref` (and `scope=branches`, `tags`, `order_by=ref`, the newest
-- pipeline of a ref at a commit) walk these instead of every pipeline of the project.
CREATE INDEX pipelines_project_status ON pipelines (project_id, status, id);
CREATE INDEX pipelines_project_ref ON pipelines (project_id, ref, id);
-- `retry_of` is NULL on every job but a retry, and only the foreign key's `ON DELETE SET NULL`
-- looks it up (by `=`, which a partial index serves): index the retries only, so inserting a job
-- adds no entry here.
DROP INDEX jobs_retry_of;
CREATE INDEX jobs_retry_of ON jobs (retry_of) WHERE retry_of IS NOT NULL;
-- Each project's number of pipelines, kept by these triggers whoever inserts or deletes (the API,
-- cascades, a bulk load): the unfiltered list reads it instead of counting index entries, so its
-- first page costs the same at a million pipelines as at a thousand.
ALTER TABLE projects ADD COLUMN pipelines_count INTEGER NOT NULL DEFAULT 0;
UPDATE projects SET pipelines_count = (SELECT COUNT(*) FROM pipelines WHERE project_id = projects.id);
CREATE TRIGGER pipelines_count_insert AFTER INSERT ON pipelines BEGIN
    UPDATE projects SET pipelines_count = pipelines_count + 1 WHERE id = NEW.project_id;
END;
CREATE TRIGGER pipelines_count_delete AFTER DELETE ON pipelines BEGIN
    UPDATE projects SET pipelines_count = pipelines_count - 1 WHERE id = OLD.project_id;
END;
-- END add_list_indexes

-- BEGIN add_trigger_extensions (an upgrade step in src/db/migrate.rs runs this section as is)
-- Idempotency keys of trigger calls (issue 14, point 5): the first call's answer for a key of a
-- trigger token, written in the same transaction as its pipeline. `fingerprint` is a SHA-256 of
-- the call's ref, variables and inputs (never the token); `status` and `body` are the answer
-- replayed to a retry. Rows older than 24 hours no longer count and are swept.
CREATE TABLE trigger_idempotency_keys (
    trigger_id  INTEGER NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    key         TEXT    NOT NULL,
    fingerprint BLOB    NOT NULL,
    pipeline_id INTEGER REFERENCES pipelines (id) ON DELETE CASCADE,
    status      INTEGER NOT NULL,
    body        TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (trigger_id, key)
) WITHOUT ROWID;
CREATE INDEX trigger_idempotency_keys_created ON trigger_idempotency_keys (created_at);
CREATE INDEX trigger_idempotency_keys_pipeline ON trigger_idempotency_keys (pipeline_id);
-- Every trigger call made with a trigger token of the project (issue 14, point 7): accepted,
-- replayed (an idempotency key's answer again) and rejected, with the client's address, the ref,
-- the HTTP status, why it was refused, and the pipeline. `pipeline_id` is kept as history (no
-- foreign key: the record outlives a deleted pipeline). Bounded by the sweeper
-- (`triggers.events_retention_days`, `triggers.max_events_per_trigger`).
CREATE TABLE trigger_events (
    id             INTEGER PRIMARY KEY,
    trigger_id     INTEGER NOT NULL REFERENCES triggers (id) ON DELETE CASCADE,
    created_at     TEXT    NOT NULL,
    client_address TEXT,
    ref            TEXT,
    outcome        TEXT    NOT NULL CHECK (outcome IN ('accepted', 'replayed', 'rejected')),
    status         INTEGER NOT NULL,
    reason         TEXT,
    pipeline_id    INTEGER
);
CREATE INDEX trigger_events_trigger ON trigger_events (trigger_id, id);
CREATE INDEX trigger_events_created ON trigger_events (created_at);
-- Trigger calls to a project with a token that is no trigger token at all (unknown or revoked),
-- counted per project and UTC day; the presented secret is never stored.
CREATE TABLE trigger_unknown_attempts (
    project_id          INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    day                 TEXT    NOT NULL,
    attempts            INTEGER NOT NULL,
    last_attempt_at     TEXT    NOT NULL,
    last_client_address TEXT,
    PRIMARY KEY (project_id, day)
) WITHOUT ROWID;
-- END add_trigger_extensions

-- BEGIN add_commit_statuses (an upgrade step in src/db/migrate.rs runs this section as is)
-- An external job (GitLab's `GenericCommitStatus`), posted by an external CI through the commit
-- status API: a row of `jobs` (stage `external`, so statuses and the composite work alike) with
-- what only such a job has. It never reaches a runner and is never retried or played.
CREATE TABLE commit_statuses (
    job_id      INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    target_url  TEXT,
    description TEXT
);
-- Finding a project's pipelines for a commit (commit statuses, newest first).
CREATE INDEX pipelines_sha ON pipelines (project_id, sha, id);
-- END add_commit_statuses

-- BEGIN add_webhooks (an upgrade step in src/db/migrate.rs runs this section as is)
-- Project webhooks (issue 12). `token` and `signing_secret` are kept as given because they are
-- sent (the token as `X-Gitlab-Token`) or used to sign: they cannot be digests. `events` is a
-- JSON object of the GitLab event booleans triggerd only stores; the three it acts on (or may)
-- have columns. `custom_headers` is a JSON array of {key, value}. Health as GitLab's
-- auto-disabling: `recent_failures`, `disabled_until` (temporary), `permanently_disabled`.
CREATE TABLE project_hooks (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id              INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    url                     TEXT    NOT NULL,
    name                    TEXT,
    description             TEXT,
    token                   TEXT,
    signing_secret          BLOB,
    enable_ssl_verification INTEGER NOT NULL CHECK (enable_ssl_verification IN (0, 1)),
    push_events             INTEGER NOT NULL CHECK (push_events IN (0, 1)),
    pipeline_events         INTEGER NOT NULL CHECK (pipeline_events IN (0, 1)),
    job_events              INTEGER NOT NULL CHECK (job_events IN (0, 1)),
    events                  TEXT    NOT NULL DEFAULT '{}',
    custom_headers          TEXT    NOT NULL DEFAULT '[]',
    recent_failures         INTEGER NOT NULL DEFAULT 0,
    disabled_until          TEXT,
    permanently_disabled    INTEGER NOT NULL DEFAULT 0 CHECK (permanently_disabled IN (0, 1)),
    created_at              TEXT    NOT NULL
);
CREATE INDEX project_hooks_project ON project_hooks (project_id, id);
-- The triggers' EXISTS: a project without a hook wanting the event pays one index probe.
CREATE INDEX project_hooks_pipeline ON project_hooks (project_id) WHERE pipeline_events = 1 AND permanently_disabled = 0;
CREATE INDEX project_hooks_job ON project_hooks (project_id) WHERE job_events = 1 AND permanently_disabled = 0;

-- The outbox: one row per (hook, status change), written by the triggers below in the same
-- transaction as the change, so a rollback leaves none and a commit cannot lose it. `status` and
-- `previous_status` are recorded at change time; `payload` is built once, when the deliverer
-- first picks the row up, so every retry sends the same body. `state`: pending → delivered or
-- failed (given up). `event_uuid` is `X-Gitlab-Event-UUID`, `Idempotency-Key` and `webhook-id`.
CREATE TABLE hook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    hook_id         INTEGER NOT NULL REFERENCES project_hooks (id) ON DELETE CASCADE,
    kind            TEXT    NOT NULL CHECK (kind IN ('pipeline', 'job')),
    object_id       INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    previous_status TEXT,
    event_uuid      TEXT    NOT NULL,
    payload         TEXT,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);
CREATE INDEX hook_deliveries_pending ON hook_deliveries (hook_id, id) WHERE state = 'pending';
CREATE INDEX hook_deliveries_done ON hook_deliveries (created_at) WHERE state <> 'pending';

-- The delivery log (GitLab's web hook logs): one row per HTTP attempt, kept for 7 days.
CREATE TABLE hook_logs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    hook_id             INTEGER NOT NULL REFERENCES project_hooks (id) ON DELETE CASCADE,
    delivery_id         INTEGER,
    url                 TEXT    NOT NULL,
    trigger_name        TEXT    NOT NULL,
    event_uuid          TEXT    NOT NULL,
    request_headers     TEXT    NOT NULL,
    request_data        TEXT    NOT NULL,
    response_headers    TEXT    NOT NULL,
    response_body       TEXT    NOT NULL,
    response_status     TEXT    NOT NULL,
    execution_duration  REAL    NOT NULL,
    internal_error_message TEXT,
    created_at          TEXT    NOT NULL
);
CREATE INDEX hook_logs_hook ON hook_logs (hook_id, id);
CREATE INDEX hook_logs_created ON hook_logs (created_at);

CREATE TRIGGER hook_pipeline_created AFTER INSERT ON pipelines
WHEN EXISTS (SELECT 1 FROM project_hooks h
             WHERE h.project_id = NEW.project_id AND h.pipeline_events = 1 AND h.permanently_disabled = 0)
BEGIN
    INSERT INTO hook_deliveries (hook_id, kind, object_id, status, previous_status, event_uuid,
                                 next_attempt_at, created_at)
    SELECT h.id, 'pipeline', NEW.id, NEW.status, NULL,
           lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                 || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
                 || hex(randomblob(6))),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM project_hooks h
    WHERE h.project_id = NEW.project_id AND h.pipeline_events = 1 AND h.permanently_disabled = 0;
END;

CREATE TRIGGER hook_pipeline_status AFTER UPDATE OF status ON pipelines
WHEN OLD.status IS NOT NEW.status
 AND EXISTS (SELECT 1 FROM project_hooks h
             WHERE h.project_id = NEW.project_id AND h.pipeline_events = 1 AND h.permanently_disabled = 0)
BEGIN
    INSERT INTO hook_deliveries (hook_id, kind, object_id, status, previous_status, event_uuid,
                                 next_attempt_at, created_at)
    SELECT h.id, 'pipeline', NEW.id, NEW.status, OLD.status,
           lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                 || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
                 || hex(randomblob(6))),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM project_hooks h
    WHERE h.project_id = NEW.project_id AND h.pipeline_events = 1 AND h.permanently_disabled = 0;
END;

-- A job inserted past `created` (the first stage's `pending`, a retry's clone, `manual`): GitLab
-- creates it `created` and its move on fires the hook, so this is that event.
CREATE TRIGGER hook_job_inserted AFTER INSERT ON jobs
WHEN NEW.status <> 'created'
 AND EXISTS (SELECT 1 FROM project_hooks h
             WHERE h.project_id = NEW.project_id AND h.job_events = 1 AND h.permanently_disabled = 0)
BEGIN
    INSERT INTO hook_deliveries (hook_id, kind, object_id, status, previous_status, event_uuid,
                                 next_attempt_at, created_at)
    SELECT h.id, 'job', NEW.id, NEW.status, 'created',
           lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                 || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
                 || hex(randomblob(6))),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM project_hooks h
    WHERE h.project_id = NEW.project_id AND h.job_events = 1 AND h.permanently_disabled = 0;
END;

-- External jobs of the commit status API (a `commit_statuses` row, written before their first status
-- change) fire no Job Hook, as GitLab's generic commit statuses fire none.
CREATE TRIGGER hook_job_status AFTER UPDATE OF status ON jobs
WHEN OLD.status IS NOT NEW.status
 AND EXISTS (SELECT 1 FROM project_hooks h
             WHERE h.project_id = NEW.project_id AND h.job_events = 1 AND h.permanently_disabled = 0)
 AND NOT EXISTS (SELECT 1 FROM commit_statuses cs WHERE cs.job_id = NEW.id)
BEGIN
    INSERT INTO hook_deliveries (hook_id, kind, object_id, status, previous_status, event_uuid,
                                 next_attempt_at, created_at)
    SELECT h.id, 'job', NEW.id, NEW.status, OLD.status,
           lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
                 || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(hex(randomblob(2)), 2) || '-'
                 || hex(randomblob(6))),
           strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
    FROM project_hooks h
    WHERE h.project_id = NEW.project_id AND h.job_events = 1 AND h.permanently_disabled = 0;
END;
-- END add_webhooks

-- BEGIN add_bridge_queue (an upgrade step in src/db/migrate.rs runs this section as is)
-- The queues of the background workers. At every job queue tick the bridge worker looks for
-- pending `trigger:` jobs and for running `strategy: depend` bridges whose downstream ended;
-- every minute the sweeper looks for running jobs gone silent or past their timeout. Found
-- through `jobs_pending`, a scan of every pipeline's status and a scan of every job, these cost
-- more with every job waiting for a runner and every pipeline and job ever run (the sweeper's
-- scan on the writer thread, holding up every write). `is_bridge` is set by the trigger below
-- whoever inserts the bridge row; `jobs_pending_bridges` holds only the pending bridges and
-- `jobs_running` only the running jobs (as many as runners are busy): each lookup costs the same
-- with a million jobs and pipelines as with none.
ALTER TABLE jobs ADD COLUMN is_bridge INTEGER NOT NULL DEFAULT 0 CHECK (is_bridge IN (0, 1));
UPDATE jobs SET is_bridge = 1 WHERE id IN (SELECT job_id FROM job_bridges);
CREATE INDEX jobs_pending_bridges ON jobs (id) WHERE status = 'pending' AND is_bridge = 1;
CREATE INDEX jobs_running ON jobs (id) WHERE status = 'running';
CREATE TRIGGER job_bridges_mark_job AFTER INSERT ON job_bridges BEGIN
    UPDATE jobs SET is_bridge = 1 WHERE id = NEW.job_id;
END;
-- END add_bridge_queue

-- BEGIN review_indexes (an upgrade step in src/db/migrate.rs runs this section as is)
-- The index review of performance round four (BENCHMARKS.md). `trigger_events_created` served
-- only the audit log's retention sweep, every 10 minutes, and cost an index entry on every
-- recorded trigger call: the sweep walks the log in id order instead, which is creation order.
-- Deleting a user scanned every project and runner for the ones it created (`ON DELETE SET
-- NULL`): both get an index, on tables no hot path writes.
DROP INDEX trigger_events_created;
CREATE INDEX projects_creator ON projects (creator_id);
CREATE INDEX runners_creator ON runners (creator_id);
-- END review_indexes
