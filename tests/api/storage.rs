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
