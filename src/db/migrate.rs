//! Schema versioning: `schema.sql` creates a new database; `PRAGMA user_version` records the
//! version, older databases run the ordered upgrade steps, newer ones are refused.
//!
//! Each step runs in its own transaction with foreign keys off (SQLite's table rebuild needs
//! that, and the setting cannot change inside a transaction), must leave
//! `PRAGMA foreign_key_check` empty, and commits together with its new version number: a step
//! that fails leaves the file at the previous version, unchanged.

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::OpenError;

/// The schema this binary writes and understands.
pub const SCHEMA_VERSION: i64 = 13;

/// The whole current schema, applied to a new file.
pub const SCHEMA: &str = include_str!("../../schema.sql");

/// Upgrade steps: `UPGRADES[i]` takes a database from version `i + 1` to `i + 2`.
type Upgrade = fn(&Transaction) -> rusqlite::Result<()>;
const UPGRADES: &[Upgrade] = &[
    to_v2,
    add_commits_and_files,
    add_jobs,
    add_runners,
    add_job_tokens,
    add_groups,
    add_list_indexes,
    add_trigger_extensions,
    add_commit_statuses,
    add_webhooks,
    add_bridge_queue,
    review_indexes,
];

/// The lines of `schema.sql` between the line `-- BEGIN <name> …` and `-- END <name>`: an upgrade step runs
/// the section that creates its tables, so a new and an upgraded database share one definition.
fn schema_section(name: &str) -> rusqlite::Result<&'static str> {
    let begin = format!("-- BEGIN {name}");
    let end = format!("-- END {name}");
    SCHEMA
        .split_once(begin.as_str())
        .and_then(|(_, rest)| rest.split_once('\n'))
        .and_then(|(_, rest)| rest.split_once(end.as_str()))
        .map(|(section, _)| section)
        .ok_or_else(|| rusqlite::Error::InvalidParameterName(format!("schema.sql has no section {name}")))
}

/// Version 2: ids are never reused (AUTOINCREMENT on every table with a public id).
fn to_v2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(include_str!("upgrade_v2.sql"))
}

/// Commits, trees and blobs for the Repository Files API (tables `blobs`, `commits`,
/// `commit_files`, `commit_changes`).
fn add_commits_and_files(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_commits_and_files")?)
}

/// CI jobs and their logs (`jobs`, `job_traces`): the section `add_jobs` of `schema.sql`.
/// Named, not numbered, so it can move in `UPGRADES`.
fn add_jobs(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_jobs")?)
}

/// Runners: `runners`, `runner_tags`, `runner_projects` and the projects' registration tokens
/// (new tables and a trigger only; nothing existing changes).
fn add_runners(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_runners")?)
}

/// CI/CD job tokens across projects: `job_token_scopes`, `job_token_allowlist` and
/// `pipeline_sources` (new tables only; existing projects have no scope row, so their scope is off).
fn add_job_tokens(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_job_tokens")?)
}

/// Groups and namespaces: `namespaces` (one row per user, with the user's id, and one per group),
/// `group_members`, and `projects` rebuilt so `namespace_id` names a namespace instead of a user
/// (every id stays as it was).
fn add_groups(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_groups")?)
}

/// Indexes for the large lists: `pipelines (project_id, status, id)` and `(project_id, ref, id)`,
/// and `jobs_retry_of` made partial (only retries have a `retry_of`). Indexes only; no row changes.
fn add_list_indexes(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_list_indexes")?)
}

/// Trigger-token extensions of issue 14: idempotency keys (`trigger_idempotency_keys`) and the
/// audit log (`trigger_events`, `trigger_unknown_attempts`); new tables only, nothing existing
/// changes.
fn add_trigger_extensions(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_trigger_extensions")?)
}

/// External jobs of the commit status API: `commit_statuses` (a side table of `jobs`, like
/// `job_bridges`) and an index of pipelines by commit (new objects only; nothing existing changes).
fn add_commit_statuses(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_commit_statuses")?)
}

/// Project webhooks: `project_hooks`, the outbox `hook_deliveries`, the delivery log `hook_logs`
/// and the triggers that fill the outbox on pipeline and job status changes (new tables only).
fn add_webhooks(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_webhooks")?)
}

/// The bridge worker's queue: `jobs.is_bridge`, set for existing bridges and by a trigger on
/// `job_bridges`, and the partial index of pending bridges.
fn add_bridge_queue(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("add_bridge_queue")?)
}

/// The index review of performance round four: the audit log's `created_at` index goes (its
/// sweep walks ids), and the creators of projects and runners get one for user deletes.
fn review_indexes(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(schema_section("review_indexes")?)
}

/// Brings the database to [`SCHEMA_VERSION`], or refuses a database from a newer triggerd.
/// Safe when two processes open a new or old file at once (the server and an admin command):
/// the version is read again inside each write transaction.
pub fn run(conn: &Connection) -> Result<(), OpenError> {
    let mut version = user_version(conn)?;
    refuse_newer(version)?;
    if version == 0 {
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        version = user_version(&tx)?;
        if version == 0 {
            tx.execute_batch(SCHEMA)?;
            set_version(&tx, SCHEMA_VERSION)?;
            tx.commit()?;
            log::info!("created a new database with schema version {SCHEMA_VERSION}");
            return Ok(());
        }
        tx.commit()?; // created by another process meanwhile
        refuse_newer(version)?;
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let foreign_keys: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let upgraded = upgrade(conn, version);
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    upgraded
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

fn refuse_newer(version: i64) -> Result<(), OpenError> {
    if version > SCHEMA_VERSION {
        return Err(OpenError::Schema(format!(
            "the database has schema version {version}, but this triggerd only knows versions up to \
             {SCHEMA_VERSION}: it was written by a newer triggerd; run that version or restore a backup"
        )));
    }
    Ok(())
}

/// Runs the steps after `version`, one transaction each (foreign keys are off).
fn upgrade(conn: &Connection, version: i64) -> Result<(), OpenError> {
    for (i, step) in UPGRADES.iter().enumerate().skip((version - 1) as usize) {
        let (from, to) = (i as i64 + 1, i as i64 + 2);
        log::info!("upgrading the database from schema version {from} to {to}");
        let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
        // Another process (an admin command next to the server) may have upgraded meanwhile.
        if user_version(&tx)? >= to {
            continue;
        }
        step(&tx)?;
        let broken: i64 = tx.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0))?;
        if broken > 0 {
            return Err(OpenError::Schema(format!(
                "upgrading the database to schema version {to} left {broken} broken foreign keys; \
                 nothing was changed"
            )));
        }
        set_version(&tx, to)?;
        tx.commit()?;
        log::info!("the database is now at schema version {to}");
    }
    Ok(())
}

fn set_version(tx: &Transaction, v: i64) -> rusqlite::Result<()> {
    tx.pragma_update(None, "user_version", v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_is_one_upgrade_step_per_version_after_the_first() {
        assert_eq!(UPGRADES.len() as i64, SCHEMA_VERSION - 1);
    }

    #[test]
    fn a_new_database_gets_the_current_version() {
        let conn = Connection::open_in_memory().unwrap();
        run(&conn).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // Running again is a no-op.
        run(&conn).unwrap();
    }

    /// The tables every database of this version has, with their SQL.
    fn tables(conn: &Connection) -> Vec<(String, String)> {
        let mut stmt =
            conn.prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().collect::<Result<_, _>>().unwrap()
    }

    /// A database at `version`: schema.sql up to the section `step` (the step to `version + 1`).
    fn database_before(step: &str, version: i64) -> Connection {
        let (old, _) = SCHEMA.split_once(&format!("-- BEGIN {step}")).unwrap();
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(old).unwrap();
        c.pragma_update(None, "user_version", version).unwrap();
        c
    }

    #[test]
    fn an_upgraded_database_has_the_schema_of_a_new_one() {
        let fresh = Connection::open_in_memory().unwrap();
        run(&fresh).unwrap();
        let old = database_before("add_commits_and_files", 2);
        run(&old).unwrap();
        let v: i64 = old.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(tables(&old), tables(&fresh));
    }

    #[test]
    fn every_upgrade_section_is_in_schema_sql() {
        assert!(schema_section("add_commits_and_files").unwrap().contains("CREATE TABLE commits"));
        assert!(schema_section("add_jobs").unwrap().contains("CREATE TABLE jobs"));
        assert!(schema_section("add_runners").unwrap().contains("CREATE TABLE runners"));
        assert!(schema_section("add_job_tokens").unwrap().contains("CREATE TABLE pipeline_sources"));
        assert!(schema_section("add_groups").unwrap().contains("CREATE TABLE namespaces"));
        assert!(
            schema_section("add_trigger_extensions")
                .unwrap()
                .contains("CREATE TABLE trigger_idempotency_keys")
        );
        assert!(schema_section("add_bridge_queue").unwrap().contains("CREATE INDEX jobs_pending_bridges"));
        assert!(schema_section("review_indexes").unwrap().contains("DROP INDEX trigger_events_created"));
        assert!(schema_section("no_such_step").is_err());
    }

    #[test]
    fn a_database_from_a_newer_binary_is_refused_with_a_clear_message() {
        let conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let err = run(&conn).unwrap_err().to_string();
        assert!(err.contains("newer triggerd"), "{err}");
    }

    // ---- version 1 -> 2 ------------------------------------------------------------------------

    use rusqlite::types::Value;

    /// The version-1 schema, frozen (never applied to a new database).
    const SCHEMA_V1: &str = include_str!("schema_v1.sql");

    const TABLES: [&str; 8] = [
        "users",
        "personal_access_tokens",
        "projects",
        "members",
        "refs",
        "triggers",
        "pipelines",
        "pipeline_variables",
    ];
    /// The tables with a public id, and an INSERT of a fresh row for each (`?1` = a unique text).
    const ID_TABLES: [(&str, &str); 6] = [
        ("users", "INSERT INTO users (username, name, email, created_at) VALUES (?1, 'N', ?1 || '@x.org', 't')"),
        (
            "personal_access_tokens",
            "INSERT INTO personal_access_tokens (user_id, name, token_digest, scopes, created_at)
             VALUES (1, 'n', ?1, 'api', 't')",
        ),
        (
            "projects",
            "INSERT INTO projects (namespace_id, name, path, created_at, updated_at) VALUES (1, ?1, ?1, 't', 't')",
        ),
        ("refs", "INSERT INTO refs (project_id, kind, name, sha, created_at) VALUES (1, 'branch', ?1, 's', 't')"),
        (
            "triggers",
            "INSERT INTO triggers (project_id, owner_id, token_digest, short_token, created_at, updated_at)
             VALUES (1, 1, ?1, 'abcd', 't', 't')",
        ),
        (
            "pipelines",
            "INSERT INTO pipelines (project_id, iid, ref, sha, before_sha, tag, status, source, created_at,
                                    updated_at)
             VALUES (1, 1000 + (SELECT COUNT(*) FROM pipelines), ?1, 's', 's', 0, 'created', 'trigger', 't', 't')",
        ),
    ];

    /// A version-1 database with rows in every table, some of them deleted (gaps in the ids).
    fn version_1_database() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA_V1).unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        c.execute_batch(
            "INSERT INTO users (id, username, name, email, password_hash, is_admin, created_at) VALUES
                 (1, 'root', 'Admin', 'root@x.org', NULL, 1, 't1'),
                 (2, 'alice', 'Alice', 'alice@x.org', '$argon2id$x', 0, 't2'),
                 (5, 'bob', 'Bob', 'bob@x.org', NULL, 0, 't3');
             UPDATE users SET state = 'blocked' WHERE id = 5;
             INSERT INTO personal_access_tokens (id, user_id, name, token_digest, scopes, expires_at, revoked,
                                                 last_used_at, created_at) VALUES
                 (1, 1, 'boot', x'01', 'api', NULL, 0, 't9', 't1'),
                 (3, 2, 'ci', x'02', 'api,read_api', '2030-01-01', 1, NULL, 't2');
             INSERT INTO projects (id, namespace_id, creator_id, name, path, description, visibility,
                                   default_branch, last_pipeline_iid, created_at, updated_at) VALUES
                 (1, 1, 1, 'P', 'p', 'd', 'public', 'main', 7, 't1', 't2'),
                 (4, 2, 2, 'Q', 'q', NULL, 'private', NULL, 0, 't3', 't3');
             INSERT INTO members (project_id, user_id, access_level, created_at) VALUES
                 (1, 1, 50, 't1'), (1, 2, 30, 't2'), (4, 2, 50, 't3'), (4, 5, 10, 't4');
             INSERT INTO refs (id, project_id, kind, name, sha, message, created_at) VALUES
                 (1, 1, 'branch', 'main', 'aa', NULL, 't1'), (2, 1, 'tag', 'v1', 'aa', 'msg', 't2');
             INSERT INTO triggers (id, project_id, owner_id, description, token_digest, short_token, expires_at,
                                   created_at, updated_at) VALUES
                 (1, 1, 1, 'one', x'11', 'abcd', NULL, 't1', 't1'), (6, 4, 2, NULL, x'12', 'efgh', 't5', 't2', 't3');
             INSERT INTO pipelines (id, project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status,
                                    source, name, yaml_errors, inputs, created_at, updated_at, started_at,
                                    finished_at, committed_at, duration, queued_duration, coverage) VALUES
                 (1, 1, 1, 1, 1, 'main', 'aa', '00', 0, 'created', 'trigger', NULL, NULL, '{\"a\":1}', 't1', 't1',
                  NULL, NULL, NULL, NULL, NULL, NULL),
                 (7, 1, 7, NULL, NULL, 'v1', 'aa', '00', 1, 'canceled', 'api', 'n', 'e', NULL, 't2', 't3', 't2',
                  't3', 't0', 5, 1, '9.5');
             INSERT INTO pipeline_variables (pipeline_id, position, key, value, variable_type) VALUES
                 (1, 0, 'K', 'V', 'env_var'), (1, 1, 'F', 'body', 'file'), (7, 0, 'X', 'Y', 'env_var');",
        )
        .unwrap();
        c
    }

    fn rows(c: &Connection, table: &str) -> Vec<Vec<Value>> {
        let mut stmt = c.prepare(&format!("SELECT * FROM {table} ORDER BY 1, 2")).unwrap();
        let n = stmt.column_count();
        stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())
            .unwrap()
            .collect::<rusqlite::Result<Vec<_>>>()
            .unwrap()
    }

    /// Every table and index definition, as SQLite stores it (a renamed table's name is quoted).
    fn schema(c: &Connection) -> Vec<(String, String, String)> {
        let mut stmt = c
            .prepare("SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY type, name")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))
            .unwrap()
            .map(|row| {
                let (kind, name, sql): (String, String, String) = row.unwrap();
                (kind, name.clone(), sql.replacen(&format!("\"{name}\""), &name, 1))
            })
            .collect()
    }

    fn assert_clean(c: &Connection) {
        let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
        let broken: i64 =
            c.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).unwrap();
        assert_eq!(broken, 0);
    }

    /// Deletes the newest row of each table with a public id, inserts another and checks it got
    /// an id above the deleted one.
    fn assert_ids_are_never_reused(c: &Connection) {
        for (n, (table, insert)) in ID_TABLES.iter().enumerate() {
            let newest: i64 = c.query_row(&format!("SELECT MAX(id) FROM {table}"), [], |r| r.get(0)).unwrap();
            c.execute(&format!("DELETE FROM {table} WHERE id = ?1"), [newest]).unwrap();
            c.execute(insert, [format!("fresh{n}")]).unwrap();
            let next = c.last_insert_rowid();
            assert!(next > newest, "{table}: deleted id {newest}, next insert got {next}");
        }
    }

    #[test]
    fn the_version_1_fixture_reuses_ids_which_is_what_version_2_fixes() {
        let c = version_1_database();
        c.execute("DELETE FROM pipelines WHERE id = 7", []).unwrap();
        c.execute(ID_TABLES[5].1, ["again"]).unwrap();
        assert!(c.last_insert_rowid() <= 7, "version 1 hands out max(id) + 1");
    }

    #[test]
    fn a_version_1_database_upgrades_to_version_2_keeping_every_row_index_and_foreign_key() {
        let c = version_1_database();
        let before: Vec<_> = TABLES.iter().map(|t| rows(&c, t)).collect();
        run(&c).unwrap();

        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        // Every row keeps its values; later steps only append columns (`projects.pipelines_count`).
        let after: Vec<Vec<Vec<Value>>> = TABLES
            .iter()
            .zip(&before)
            .map(|(t, b)| {
                let width = b.first().map_or(0, Vec::len);
                rows(&c, t)
                    .into_iter()
                    .map(|mut r| {
                        r.truncate(width);
                        r
                    })
                    .collect()
            })
            .collect();
        assert_eq!(before, after);
        let counts: Vec<(i64, i64)> = c
            .prepare("SELECT id, pipelines_count FROM projects ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(counts, [(1, 2), (4, 0)], "the upgrade counts the pipelines it finds");
        assert_clean(&c);
        let foreign_keys: bool = c.query_row("PRAGMA foreign_keys", [], |r| r.get(0)).unwrap();
        assert!(foreign_keys, "foreign keys are back on");
        // The same tables, indexes and constraints as a new database.
        let fresh = Connection::open_in_memory().unwrap();
        run(&fresh).unwrap();
        assert_eq!(schema(&c), schema(&fresh));
        // The upgraded tables still cascade: deleting a user removes their tokens and projects.
        c.execute("DELETE FROM users WHERE id = 2", []).unwrap();
        let left: i64 = c
            .query_row(
                "SELECT (SELECT COUNT(*) FROM personal_access_tokens WHERE user_id = 2)
                      + (SELECT COUNT(*) FROM projects WHERE namespace_id = 2)
                      + (SELECT COUNT(*) FROM triggers WHERE project_id = 4)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
        assert_clean(&c);
    }

    #[test]
    fn after_the_upgrade_a_deleted_newest_rows_id_is_never_handed_out_again() {
        let c = version_1_database();
        run(&c).unwrap();
        assert_ids_are_never_reused(&c);
        // Twice: the counter keeps climbing.
        assert_ids_are_never_reused(&c);
        assert_clean(&c);
    }

    #[test]
    fn a_new_database_never_hands_out_a_deleted_newest_rows_id_again() {
        let fresh = Connection::open_in_memory().unwrap();
        run(&fresh).unwrap();
        fresh.pragma_update(None, "foreign_keys", true).unwrap();
        fresh.execute_batch("INSERT INTO users (username, name, email, created_at) VALUES ('r', 'R', 'r@x', 't');
             INSERT INTO projects (namespace_id, name, path, created_at, updated_at) VALUES (1, 'p', 'p', 't', 't');
             INSERT INTO triggers (project_id, owner_id, token_digest, short_token, created_at, updated_at)
                 VALUES (1, 1, x'00', 'abcd', 't', 't');").unwrap();
        for (n, (_, insert)) in ID_TABLES.iter().enumerate() {
            fresh.execute(insert, [format!("seed{n}")]).unwrap();
        }
        assert_ids_are_never_reused(&fresh);
    }

    #[test]
    fn the_groups_upgrade_gives_every_user_a_namespace_with_their_id_and_keeps_projects_in_them() {
        let c = version_1_database();
        run(&c).unwrap();
        let namespaces: Vec<(i64, String, Option<i64>, String)> = c
            .prepare("SELECT id, kind, owner_id, full_path FROM namespaces ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            namespaces,
            [
                (1, "user".into(), Some(1), "root".into()),
                (2, "user".into(), Some(2), "alice".into()),
                (5, "user".into(), Some(5), "bob".into()),
            ]
        );
        let project_namespaces: Vec<(i64, i64)> = c
            .prepare("SELECT id, namespace_id FROM projects ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(project_namespaces, [(1, 1), (4, 2)]);
        // A group takes the next namespace id; the next user is created past it.
        c.execute_batch(
            "INSERT INTO namespaces (kind, name, path, full_path, full_name, created_at)
             VALUES ('group', 'G', 'g', 'g', 'G', 't')",
        )
        .unwrap();
        let group = c.last_insert_rowid();
        let new = crate::db::users::NewUser {
            username: "carol",
            name: "Carol",
            email: "carol@x.org",
            password_hash: None,
            is_admin: false,
        };
        let carol = crate::db::users::insert(&c, &new, "t").unwrap();
        assert!(carol.id > group, "user {} after group {group}", carol.id);
        let kind: String =
            c.query_row("SELECT kind FROM namespaces WHERE id = ?1", [carol.id], |r| r.get(0)).unwrap();
        assert_eq!(kind, "user");
        assert_clean(&c);
    }

    #[test]
    fn the_bridge_queue_upgrade_marks_the_bridges_already_there_and_later_ones() {
        let c = database_before("add_bridge_queue", 11);
        c.pragma_update(None, "foreign_keys", true).unwrap();
        let new = crate::db::users::NewUser {
            username: "root",
            name: "Root",
            email: "root@x.org",
            password_hash: None,
            is_admin: true,
        };
        let user = crate::db::users::insert(&c, &new, "t").unwrap().id;
        let job = |id: i64, status: &str| {
            format!(
                "INSERT INTO jobs (id, project_id, pipeline_id, name, stage, stage_idx, status, run_when,
                                   allow_failure, spec, created_at, updated_at)
                 VALUES ({id}, 1, 1, 'j{id}', 'test', 0, '{status}', 'on_success', 0, '{{}}', 't', 't');"
            )
        };
        let bridge = |id: i64| {
            format!(
                "INSERT INTO job_bridges (job_id, project, branch, depend, forward_yaml, forward_pipeline,
                                          yaml_variables) VALUES ({id}, 'g/other', NULL, 1, 1, 0, '[]');"
            )
        };
        c.execute_batch(&format!(
            "INSERT INTO projects (id, namespace_id, creator_id, name, path, visibility, created_at, updated_at)
             VALUES (1, {user}, {user}, 'P', 'p', 'public', 't', 't');
             INSERT INTO pipelines (id, project_id, iid, ref, sha, before_sha, tag, status, source, created_at,
                                    updated_at)
             VALUES (1, 1, 1, 'main', 'aa', '00', 0, 'running', 'trigger', 't', 't');
             {} {} {} {} {}",
            job(1, "pending"),
            job(2, "pending"),
            job(3, "running"),
            bridge(2),
            bridge(3)
        ))
        .unwrap();
        run(&c).unwrap();
        let marked: Vec<(i64, i64)> = c
            .prepare("SELECT id, is_bridge FROM jobs ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(marked, [(1, 0), (2, 1), (3, 1)]);
        assert_eq!(crate::db::jobs::bridges::pending_ids(&c).unwrap(), [2]);
        // A bridge written after the upgrade is marked by the trigger on `job_bridges`.
        c.execute_batch(&format!("{} {}", job(4, "pending"), bridge(4))).unwrap();
        assert_eq!(crate::db::jobs::bridges::pending_ids(&c).unwrap(), [2, 4]);
        assert_clean(&c);
    }

    #[test]
    fn an_upgrade_that_would_leave_broken_foreign_keys_changes_nothing() {
        let c = version_1_database();
        c.pragma_update(None, "foreign_keys", false).unwrap();
        c.execute("DELETE FROM users WHERE id = 5", []).unwrap(); // its membership now points nowhere
        c.pragma_update(None, "foreign_keys", true).unwrap();
        let before: Vec<_> = TABLES.iter().map(|t| rows(&c, t)).collect();
        let err = run(&c).unwrap_err().to_string();
        assert!(err.contains("broken foreign keys"), "{err}");
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, 1);
        let after: Vec<_> = TABLES.iter().map(|t| rows(&c, t)).collect();
        assert_eq!(before, after);
        let sql: String =
            c.query_row("SELECT sql FROM sqlite_schema WHERE name = 'users'", [], |r| r.get(0)).unwrap();
        assert!(!sql.contains("AUTOINCREMENT"), "{sql}");
    }

    #[test]
    fn the_index_review_upgrade_drops_the_audit_logs_time_index_and_indexes_creators() {
        let c = database_before("review_indexes", 12);
        run(&c).unwrap();
        let indexes: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(!indexes.contains(&"trigger_events_created".to_string()));
        assert!(indexes.contains(&"projects_creator".to_string()));
        assert!(indexes.contains(&"runners_creator".to_string()));
        let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }
}
