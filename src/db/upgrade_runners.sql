-- Runners: the runners table, its tags and projects, and each project's runner registration
-- token. Every token is stored as the SHA-256 digest of the whole token string only.
-- FROZEN once released: later changes get their own step. The same text ends schema.sql.

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
