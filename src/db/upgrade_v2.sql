-- Schema version 1 -> 2: every table with a public id gets AUTOINCREMENT, so a deleted row's
-- id is never handed out again. FROZEN: this is what version 2 looked like; later changes get
-- their own step. Runs in one transaction with foreign_keys OFF (set by migrate.rs), following
-- https://www.sqlite.org/lang_altertable.html#otheralter: create new_X, copy, drop X, rename
-- new_X to X, recreate X's indexes. References to X from other tables name X, so they stay
-- valid. Copying the explicit ids seeds sqlite_sequence with each table's largest id.

CREATE TABLE new_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT,                                   -- argon2id PHC string; NULL = cannot sign in
    is_admin      INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    state         TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'blocked')),
    created_at    TEXT    NOT NULL
);
INSERT INTO new_users (id, username, name, email, password_hash, is_admin, state, created_at)
    SELECT id, username, name, email, password_hash, is_admin, state, created_at FROM users;
DROP TABLE users;
ALTER TABLE new_users RENAME TO users;

CREATE TABLE new_personal_access_tokens (
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
INSERT INTO new_personal_access_tokens (id, user_id, name, token_digest, scopes, expires_at, revoked, last_used_at, created_at)
    SELECT id, user_id, name, token_digest, scopes, expires_at, revoked, last_used_at, created_at FROM personal_access_tokens;
DROP TABLE personal_access_tokens;
ALTER TABLE new_personal_access_tokens RENAME TO personal_access_tokens;
CREATE INDEX personal_access_tokens_user ON personal_access_tokens (user_id);

CREATE TABLE new_projects (
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
INSERT INTO new_projects (id, namespace_id, creator_id, name, path, description, visibility, default_branch, last_pipeline_iid, created_at, updated_at)
    SELECT id, namespace_id, creator_id, name, path, description, visibility, default_branch, last_pipeline_iid, created_at, updated_at FROM projects;
DROP TABLE projects;
ALTER TABLE new_projects RENAME TO projects;

CREATE TABLE new_refs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('branch', 'tag')),
    name       TEXT    NOT NULL,
    sha        TEXT    NOT NULL,
    message    TEXT,                                      -- annotated tags only
    created_at TEXT    NOT NULL,
    UNIQUE (project_id, kind, name)
);
INSERT INTO new_refs (id, project_id, kind, name, sha, message, created_at)
    SELECT id, project_id, kind, name, sha, message, created_at FROM refs;
DROP TABLE refs;
ALTER TABLE new_refs RENAME TO refs;

CREATE TABLE new_triggers (
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
INSERT INTO new_triggers (id, project_id, owner_id, description, token_digest, short_token, expires_at, created_at, updated_at)
    SELECT id, project_id, owner_id, description, token_digest, short_token, expires_at, created_at, updated_at FROM triggers;
DROP TABLE triggers;
ALTER TABLE new_triggers RENAME TO triggers;
CREATE INDEX triggers_project ON triggers (project_id, id);
CREATE INDEX triggers_owner ON triggers (owner_id);

CREATE TABLE new_pipelines (
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
INSERT INTO new_pipelines (id, project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source, name, yaml_errors, inputs, created_at, updated_at, started_at, finished_at, committed_at, duration, queued_duration, coverage)
    SELECT id, project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source, name, yaml_errors, inputs, created_at, updated_at, started_at, finished_at, committed_at, duration, queued_duration, coverage FROM pipelines;
DROP TABLE pipelines;
ALTER TABLE new_pipelines RENAME TO pipelines;
CREATE INDEX pipelines_project ON pipelines (project_id, id);
CREATE INDEX pipelines_trigger ON pipelines (trigger_id, id);
CREATE INDEX pipelines_user ON pipelines (user_id);
