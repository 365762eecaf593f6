//! The binary itself: environment overrides, first-start bootstrap, restarts, admin subcommands.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;

use crate::helpers::ROOT_TOKEN;

const BIN: &str = env!("CARGO_BIN_EXE_triggerd");

/// A `triggerd serve` child process on a free loopback port.
struct Served {
    child: Child,
    base: String,
    /// Every line the server has logged so far.
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir() -> PathBuf {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    let dir = std::env::temp_dir().join(format!("triggerd-bin-{}-{n:016x}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts the binary with the given environment in `cwd` and waits until it logs its address.
fn serve(cwd: &Path, env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(cwd)
        .env_remove("RUST_LOG")
        .env("TRIGGERD_SERVER__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on ").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
            sink.lock().unwrap().push(line);
        }
    });
    let base = rx.recv_timeout(Duration::from_secs(60)).expect("the server did not report its address");
    Served { child, base, log }
}

fn get(base: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut rb = Client::new().get(format!("{base}{path}"));
    if let Some(t) = token {
        rb = rb.header("PRIVATE-TOKEN", t);
    }
    let resp = rb.send().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn users_in(db: &Path) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).unwrap()
}

#[test]
fn the_environment_sets_listen_address_database_path_and_root_token() {
    let dir = temp_dir();
    let db = dir.join("nested/dir/t.db");
    let s = serve(
        &dir,
        &[("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)],
    );
    assert!(s.base.starts_with("http://127.0.0.1:"), "{}", s.base);
    assert!(db.exists(), "the database and its directory are created");
    let (status, user) = get(&s.base, "/api/v4/user", Some(ROOT_TOKEN));
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["username"], "root");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn without_a_root_token_a_random_one_is_written_to_a_private_file_and_works() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let s = serve(&dir, &[("TRIGGERD_DATABASE__PATH", db.to_str().unwrap())]);
    let file = dir.join("t.db.root-token");
    let token = std::fs::read_to_string(&file).unwrap().trim().to_string();
    assert!(token.starts_with("glpat-") && token.len() >= 26);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(get(&s.base, "/api/v4/user", Some(&token)).0, 200);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_restart_on_the_same_database_keeps_everything_and_bootstraps_no_second_root() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let env =
        [("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)];
    let out = Command::new(BIN)
        .current_dir(&dir)
        .envs(env)
        .args(["create-user", "--username", "alice", "--email", "alice@example.com"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first = serve(&dir, &env);
    assert_eq!(get(&first.base, "/api/v4/user", Some(ROOT_TOKEN)).0, 200);
    drop(first);
    assert_eq!(users_in(&db), 2);
    // A different bootstrap token on restart is ignored: the database already has users.
    let second = serve(
        &dir,
        &[
            ("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()),
            ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", "glpat-anotherrootanotherroot"),
        ],
    );
    assert_eq!(get(&second.base, "/api/v4/user", Some(ROOT_TOKEN)).0, 200);
    assert_eq!(get(&second.base, "/api/v4/user", Some("glpat-anotherrootanotherroot")).0, 401);
    assert_eq!(users_in(&db), 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn create_token_prints_a_working_token_once_and_stores_only_its_digest() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let env =
        [("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)];
    let run = |args: &[&str]| Command::new(BIN).current_dir(&dir).envs(env).args(args).output().unwrap();
    let out =
        run(&["create-user", "--username", "bob", "--email", "bob@example.com", "--password", "longenough"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = run(&["create-token", "--username", "bob", "--scopes", "read_api"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("glpat-"));
    let s = serve(&dir, &env);
    let (status, me) = get(&s.base, "/api/v4/user", Some(&token));
    assert_eq!(status, 200);
    assert_eq!(me["username"], "bob");
    drop(s);
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.join("t.db-wal")).unwrap_or_default();
    for secret in [token.as_str(), ROOT_TOKEN, "longenough"] {
        assert!(
            !contains(&bytes, secret.as_bytes()) && !contains(&wal, secret.as_bytes()),
            "{secret} stored"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn admin_commands_refuse_bad_input_with_a_message() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let env =
        [("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)];
    let run = |args: &[&str]| Command::new(BIN).current_dir(&dir).envs(env).args(args).output().unwrap();
    for args in [
        &["create-user", "--username", "c", "--email", "c@example.com", "--password", "short"][..],
        &["create-token", "--username", "nobody"],
        &["create-token", "--username", "root", "--scopes", "sudo"],
        &["create-token", "--username", "root", "--expires-at", "tomorrow"],
    ] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(!out.stderr.is_empty(), "{args:?} should say why");
    }
    let out = run(&["create-user", "--username", "root", "--email", "x@example.com"]);
    assert!(!out.status.success(), "a duplicate username is refused");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn backup_writes_a_consistent_copy_while_the_server_runs() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let env =
        [("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)];
    let s = serve(&dir, &env);
    let dest = dir.join("backup.db");
    let out = Command::new(BIN).current_dir(&dir).envs(env).arg("backup").arg(&dest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(users_in(&dest), 1);
    // A second backup to the same file is refused rather than overwriting it.
    let out = Command::new(BIN).current_dir(&dir).envs(env).arg("backup").arg(&dest).output().unwrap();
    assert!(!out.status.success());
    drop(s);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_database_from_a_newer_triggerd_is_refused_with_a_clear_message() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    {
        let c = rusqlite::Connection::open(&db).unwrap();
        c.pragma_update(None, "user_version", 999).unwrap();
    }
    let out = Command::new(BIN)
        .current_dir(&dir)
        .env("TRIGGERD_DATABASE__PATH", &db)
        .env("TRIGGERD_SERVER__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("newer triggerd"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_invalid_configuration_file_is_refused_before_anything_starts() {
    let dir = temp_dir();
    std::fs::write(dir.join("bad.toml"), "[server]\nlisten = \"127.0.0.1:0\"\nno_such_key = 1\n").unwrap();
    let out = Command::new(BIN).current_dir(&dir).args(["--config", "bad.toml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no_such_key"));
    let _ = std::fs::remove_dir_all(dir);
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_server_cleanly() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let mut s = serve(&dir, &[("TRIGGERD_DATABASE__PATH", db.to_str().unwrap())]);
    // Signal handlers are installed once the server runs: wait until it answers.
    assert_eq!(get(&s.base, "/-/readiness", None).0, 200);
    let pid = s.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let start = Instant::now();
    let status = loop {
        if let Some(st) = s.child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "the server did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status:?}");
    let c = rusqlite::Connection::open(&db).unwrap();
    let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn no_token_reaches_the_log_even_when_sent_in_the_query_string() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let mut s = serve(
        &dir,
        &[
            ("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()),
            ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN),
            ("RUST_LOG", "debug"),
        ],
    );
    let client = Client::new();
    let trigger: Value = client
        .post(format!("{}/api/v4/projects?private_token={ROOT_TOKEN}", s.base))
        .json(&serde_json::json!({"name": "p", "initialize_with_readme": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let pid = trigger["id"].as_i64().unwrap();
    let created: Value = client
        .post(format!("{}/api/v4/projects/{pid}/triggers", s.base))
        .header("Authorization", format!("Bearer {ROOT_TOKEN}"))
        .json(&serde_json::json!({"description": "d"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    let resp = client
        .post(format!("{}/api/v4/projects/{pid}/trigger/pipeline?token={token}&ref=main", s.base))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    // Rejected credentials are logged as events, never with their value.
    let bad = "glpat-notavalidtokenatallxyz";
    assert_eq!(get(&s.base, &format!("/api/v4/user?private_token={bad}"), None).0, 401);
    // The access log line is written after the response and read by another thread: wait until
    // the last request's line has arrived (bounded) before stopping the server.
    for _ in 0..200 {
        if s.log.lock().unwrap().iter().any(|l| l.contains("/api/v4/user")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = s.child.kill();
    let _ = s.child.wait();
    let log = s.log.lock().unwrap().join("\n");
    assert!(log.contains("/trigger/pipeline"), "the access log has the request:\n{log}");
    for secret in [ROOT_TOKEN, token.as_str(), bad] {
        assert!(!log.contains(secret), "{secret} appears in the log:\n{log}");
    }
    let _ = std::fs::remove_dir_all(dir);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn set_password_lets_the_bootstrap_root_sign_in_to_the_web_ui_and_stores_only_a_hash() {
    let dir = temp_dir();
    let db = dir.join("t.db");
    let env =
        [("TRIGGERD_DATABASE__PATH", db.to_str().unwrap()), ("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)];
    let run = |args: &[&str]| Command::new(BIN).current_dir(&dir).envs(env).args(args).output().unwrap();
    for bad in [
        &["set-password", "--username", "root", "--password", "short"][..],
        &["set-password", "--username", "nobody", "--password", "longenough"],
    ] {
        let out = run(bad);
        assert!(!out.status.success() && !out.stderr.is_empty(), "{bad:?} should fail with a message");
    }
    let out = run(&["set-password", "--username", "root", "--password", "root-password-1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let s = serve(&dir, &env);
    let client = Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = client
        .post(format!("{}/users/sign_in", s.base))
        .header("Origin", &s.base)
        .form(&[("login", "root"), ("password", "root-password-1")])
        .send()
        .unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    assert!(signed_in.headers().get("set-cookie").is_some(), "a session cookie");
    drop(s);
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.join("t.db-wal")).unwrap_or_default();
    assert!(!contains(&bytes, b"root-password-1") && !contains(&wal, b"root-password-1"));
    let _ = std::fs::remove_dir_all(dir);
}
