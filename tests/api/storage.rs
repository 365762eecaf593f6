//! What the server leaves on disk: private files and directories.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::helpers::*;
use serde_json::json;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[track_caller]
fn assert_mode(path: &Path, expected: u32) {
    assert_eq!(mode(path), expected, "mode of {} is {:o}", path.display(), mode(path));
}

#[test]
fn a_new_database_its_directory_wal_shm_token_file_and_backups_are_private() {
    let app = spawn_app_with(|c| {
        c.database.path = c.database.path.with_file_name("data").join("nested").join("triggerd.db");
        c.bootstrap.root_token = String::new(); // generated and written to the token file
    });
    let nested = app.db_path.parent().unwrap();
    // A write, so the WAL certainly exists.
    let alice = app.create_user("alice");
    assert_eq!(app.get("/user", Some(&alice.token)).status(), 200);

    assert_mode(nested.parent().unwrap(), 0o700);
    assert_mode(nested, 0o700);
    for suffix in ["", "-wal", "-shm", ".root-token"] {
        assert_mode(&beside(&app.db_path, suffix), 0o600);
    }

    let mut config = triggerd::config::Config::default();
    config.database.path = app.db_path.clone();
    let backup = nested.join("copy.db");
    triggerd::cli::backup(&config, &backup).unwrap();
    assert_mode(&backup, 0o600);
    assert!(!beside(&backup, "-journal").exists() && !beside(&backup, "-wal").exists());
    let copied: i64 = rusqlite::Connection::open(&backup)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM users WHERE username = 'alice'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(copied, 1);
    // A backup never overwrites a file.
    let err = triggerd::cli::backup(&config, &backup).unwrap_err();
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn an_existing_world_readable_database_is_made_private_at_start() {
    let mut db_path = PathBuf::new();
    let mut keep_open = None;
    let app = spawn_app_with(|c| {
        db_path = c.database.path.clone();
        // An older triggerd (or a copy) left the files 0644, with a WAL still around.
        let conn = rusqlite::Connection::open(&db_path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.execute_batch("CREATE TABLE IF NOT EXISTS scratch (x); INSERT INTO scratch VALUES (1);")
            .unwrap();
        std::fs::write(beside(&db_path, ".root-token"), "old\n").unwrap();
        for suffix in ["", "-wal", "-shm", ".root-token"] {
            std::fs::set_permissions(beside(&db_path, suffix), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        c.bootstrap.root_token = String::new();
        keep_open = Some(conn);
    });
    for suffix in ["", "-wal", "-shm", ".root-token"] {
        assert_mode(&beside(&app.db_path, suffix), 0o600);
    }
    let token = std::fs::read_to_string(beside(&db_path, ".root-token")).unwrap();
    assert_eq!(json_of(app.get("/user", Some(token.trim())), 200)["username"], json!("root"));
    drop(keep_open);
}

// ---- ids are never reused -----------------------------------------------------------------------

/// `POST`s `body` to `path` as root and returns the new resource's `id`.
fn create(app: &TestApp, path: &str, body: serde_json::Value) -> i64 {
    json_of(app.post_json(path, Some(ROOT_TOKEN), &body), 201)["id"].as_i64().unwrap()
}

#[track_caller]
fn assert_fresh(what: &str, deleted: i64, next: i64) {
    assert!(next > deleted, "{what}: {deleted} was deleted and the next one got {next}");
}

#[test]
fn a_deleted_newest_trigger_pipeline_project_user_or_token_id_is_never_handed_out_again() {
    let app = spawn_app();
    let pid = create(&app, "/projects", json!({"name": "demo"}));
    app.seed_ref(pid, "branch", "main");

    let triggers = format!("/projects/{pid}/triggers");
    let trigger = json_of(app.post_json(&triggers, Some(ROOT_TOKEN), &json!({"description": "t"})), 201);
    let first = trigger["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("{triggers}/{first}"), Some(ROOT_TOKEN)).status(), 204);
    let trigger = json_of(app.post_json(&triggers, Some(ROOT_TOKEN), &json!({"description": "t"})), 201);
    assert_fresh("trigger", first, trigger["id"].as_i64().unwrap());

    let call = json!({"token": trigger["token"], "ref": "main"});
    let run = |app: &TestApp| -> i64 {
        json_of(app.post_json(&format!("/projects/{pid}/trigger/pipeline"), None, &call), 201)["id"]
            .as_i64()
            .unwrap()
    };
    let first = run(&app);
    assert_eq!(app.delete(&format!("/projects/{pid}/pipelines/{first}"), Some(ROOT_TOKEN)).status(), 204);
    assert_fresh("pipeline", first, run(&app));

    let first = create(&app, "/projects", json!({"name": "gone"}));
    assert_eq!(app.delete(&format!("/projects/{first}"), Some(ROOT_TOKEN)).status(), 202);
    assert_fresh("project", first, create(&app, "/projects", json!({"name": "next"})));

    let user = |name: &str| json!({"username": name, "name": name, "email": format!("{name}@example.org"), "password": "long enough pw"});
    let token = json!({"name": "t", "scopes": ["api"]});
    let first_user = create(&app, "/users", user("gone"));
    let first_token = create(&app, &format!("/users/{first_user}/personal_access_tokens"), token.clone());
    // Deleting the user deletes their tokens too: both were the newest.
    assert_eq!(app.delete(&format!("/users/{first_user}"), Some(ROOT_TOKEN)).status(), 204);
    let next_user = create(&app, "/users", user("next"));
    assert_fresh("user", first_user, next_user);
    assert_fresh(
        "token",
        first_token,
        create(&app, &format!("/users/{next_user}/personal_access_tokens"), token),
    );
}

#[test]
fn a_version_1_database_is_upgraded_at_start_and_keeps_its_rows() {
    let app = spawn_app_with(|c| {
        let conn = rusqlite::Connection::open(&c.database.path).unwrap();
        conn.execute_batch(include_str!("../../src/db/schema_v1.sql")).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        let now = triggerd::model::now();
        // Rows as version 1 wrote them (today's users::insert needs today's schema).
        conn.execute(
            "INSERT INTO users (id, username, name, email, is_admin, created_at)
             VALUES (1, 'root', 'Administrator', 'admin@example.com', 1, ?1)",
            [&now],
        )
        .unwrap();
        triggerd::db::tokens::insert(
            &conn,
            &triggerd::db::tokens::NewToken {
                user_id: 1,
                name: "bootstrap",
                digest: &triggerd::auth::digest(ROOT_TOKEN),
                scopes: &["api".to_string()],
                expires_at: None,
            },
            &now,
        )
        .unwrap();
        conn.execute_batch(
            "INSERT INTO projects (id, namespace_id, creator_id, name, path, visibility, last_pipeline_iid,
                                   created_at, updated_at)
                 VALUES (3, 1, 1, 'old', 'old', 'private', 0, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
             INSERT INTO members (project_id, user_id, access_level, created_at)
                 VALUES (3, 1, 50, '2026-01-01T00:00:00.000Z');",
        )
        .unwrap();
    });
    let version: i64 = app.db().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert_eq!(version, triggerd::db::migrate::SCHEMA_VERSION);
    assert_eq!(json_of(app.get("/projects/root%2Fold", Some(ROOT_TOKEN)), 200)["id"], json!(3));
    assert_eq!(app.delete("/projects/3", Some(ROOT_TOKEN)).status(), 202);
    assert_fresh("project", 3, create(&app, "/projects", json!({"name": "new"})));
}

#[test]
fn processes_opening_a_new_database_at_once_create_one_schema_and_one_root() {
    for round in 0..8 {
        let app_dir = std::env::temp_dir().join(format!("triggerd-open-race-{}-{round}", std::process::id()));
        let _ = std::fs::remove_dir_all(&app_dir);
        let mut config = triggerd::config::Config::default();
        config.database.path = app_dir.join("triggerd.db");
        let barrier = std::sync::Barrier::new(4);
        let results: Vec<Result<(), String>> = std::thread::scope(|s| {
            let opens: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        triggerd::db::Db::open(&config.database, |c| {
                            triggerd::bootstrap::root_user(c, &config)
                        })
                        .map(drop)
                        .map_err(|e| e.to_string())
                    })
                })
                .collect();
            opens.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in &results {
            assert!(r.is_ok(), "round {round}: {results:?}");
        }
        let conn = rusqlite::Connection::open(&config.database.path).unwrap();
        let users: i64 = conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).unwrap();
        assert_eq!(users, 1, "round {round}");
        let token = std::fs::read_to_string(beside(&config.database.path, ".root-token")).unwrap();
        let digest = triggerd::auth::digest(token.trim());
        let known: i64 = conn
            .query_row("SELECT COUNT(*) FROM personal_access_tokens WHERE token_digest = ?1", [digest], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(known, 1, "round {round}: the token file holds the stored token");
        drop(conn);
        std::fs::remove_dir_all(&app_dir).unwrap();
    }
}
