//! Durability of the trigger call against the real binary: every pipeline whose 201 reached a
//! client survives `kill -9` with all its variables, the file passes `PRAGMA integrity_check`,
//! and SIGTERM lets in-flight requests finish (their 201s arrive and their rows exist).
//!
//! This is the bounded CI form. `bench/crash.sh` runs the same test with more rounds and clients
//! through these environment variables (defaults in brackets):
//! `TRIGGERD_CRASH_ROUNDS` [5] kill -9 rounds, `TRIGGERD_CRASH_CLIENTS` [4] client threads,
//! `TRIGGERD_CRASH_ACKS` [60] acknowledged calls per round before the kill (round `r` waits for
//! `r × ACKS`, so the kill lands at a different point of each round), and `TRIGGERD_CRASH_LOG`
//! (unset) = a `RUST_LOG` filter for the servers, whose log lines are then echoed to stderr.
//! No assertion depends on timing; the deadlines below only turn a hang into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use rusqlite::Connection;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_triggerd");
const ROOT_TOKEN: &str = "glpat-crashtestcrashtestcrash";
/// Only turns a hung server into a failed test; never asserted as a duration.
const HANG_GUARD: Duration = Duration::from_secs(120);

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

fn temp_dir() -> PathBuf {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    let dir = std::env::temp_dir().join(format!("triggerd-crash-{}-{n:016x}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `triggerd serve` child on a free loopback port, killed on drop.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .env("TRIGGERD_SERVER__LISTEN", "127.0.0.1:0")
            .env("TRIGGERD_DATABASE__PATH", dir.join("triggerd.db"))
            .env("TRIGGERD_BOOTSTRAP__ROOT_TOKEN", ROOT_TOKEN)
            // The address is logged at info; the access log would only fill the pipe.
            .env(
                "RUST_LOG",
                std::env::var("TRIGGERD_CRASH_LOG").unwrap_or("info,triggerd::access=warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        // Keeps draining stderr for the life of the process so the server never blocks on it.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if std::env::var("TRIGGERD_CRASH_LOG").is_ok() {
                    eprintln!("SERVER {line}");
                }
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
                }
            }
        });
        let base = rx.recv_timeout(HANG_GUARD).expect("the server did not report its address");
        Server { child, base }
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    /// SIGKILL: no handler runs, nothing is flushed.
    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    fn signal(&self, sig: &str) {
        assert!(Command::new("kill").args([sig, &self.pid()]).status().unwrap().success());
    }

    fn wait_exit(mut self) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < HANG_GUARD, "the server did not stop");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A project with a `main` branch and a trigger token for it.
struct Target {
    project_id: i64,
    token: String,
}

fn seed(base: &str) -> Target {
    let client = Client::new();
    let project: Value = client
        .post(format!("{base}/api/v4/projects"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .json(&json!({"name": "crash", "initialize_with_readme": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let project_id = project["id"].as_i64().expect("project created");
    let trigger: Value = client
        .post(format!("{base}/api/v4/projects/{project_id}/triggers"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .json(&json!({"description": "crash test"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    Target { project_id, token: trigger["token"].as_str().expect("trigger created").to_string() }
}

/// A trigger call's user variables, unique per call.
fn variables(round: usize, client: usize, seq: usize) -> [(String, String); 3] {
    [
        ("ROUND".into(), round.to_string()),
        ("CLIENT".into(), client.to_string()),
        ("SEQ".into(), format!("{seq}-{}", "x".repeat(seq % 200))),
    ]
}

fn trigger_body(token: &str, vars: &[(String, String); 3]) -> String {
    let map: serde_json::Map<String, Value> =
        vars.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    json!({"token": token, "ref": "main", "variables": map}).to_string()
}

/// What a client saw: acknowledged pipelines (id and variables) and any non-201 answer.
#[derive(Default)]
struct Seen {
    acked: Vec<(i64, [(String, String); 3])>,
    unexpected: Vec<String>,
}

/// Calls the trigger endpoint from `clients` threads as fast as the server answers, until a call
/// fails at the connection level (the server is gone) or `stop` is set.
fn hammer(
    base: &str,
    target: &Target,
    round: usize,
    clients: usize,
    acks: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Vec<thread::JoinHandle<Seen>> {
    (0..clients)
        .map(|c| {
            let url = format!("{base}/api/v4/projects/{}/trigger/pipeline", target.project_id);
            let token = target.token.clone();
            let (acks, stop) = (acks.clone(), stop.clone());
            thread::spawn(move || {
                let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
                let mut seen = Seen::default();
                for seq in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let vars = variables(round, c, seq);
                    let sent = client
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .body(trigger_body(&token, &vars))
                        .send();
                    let Ok(resp) = sent else { break };
                    let status = resp.status().as_u16();
                    let Ok(body) = resp.text() else { break };
                    if status == 201 {
                        let v: Value = serde_json::from_str(&body).unwrap();
                        seen.acked.push((v["id"].as_i64().unwrap(), vars));
                        acks.fetch_add(1, Ordering::SeqCst);
                    } else {
                        seen.unexpected.push(format!("{status} {body}"));
                    }
                }
                seen
            })
        })
        .collect()
}

fn wait_for(acks: &AtomicUsize, n: usize) {
    let start = Instant::now();
    while acks.load(Ordering::SeqCst) < n {
        assert!(
            start.elapsed() < HANG_GUARD,
            "only {} of {n} trigger calls answered",
            acks.load(Ordering::SeqCst)
        );
        thread::sleep(Duration::from_millis(5));
    }
}

fn collect(handles: Vec<thread::JoinHandle<Seen>>) -> Seen {
    let mut all = Seen::default();
    for h in handles {
        let s = h.join().unwrap();
        all.acked.extend(s.acked);
        all.unexpected.extend(s.unexpected);
    }
    all
}

/// Every acknowledged pipeline exists with exactly its variables; no pipeline anywhere is
/// missing its variables (each call is all or nothing); the file is intact.
fn verify(db: &Path, project_id: i64, acked: &[(i64, [(String, String); 3])]) {
    let conn = Connection::open(db).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let fk: Vec<String> = conn
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(fk.is_empty(), "foreign key violations in {fk:?}");
    let mut vars = conn
        .prepare("SELECT key, value, variable_type FROM pipeline_variables WHERE pipeline_id = ?1 ORDER BY position")
        .unwrap();
    for (id, expected) in acked {
        let project: Option<i64> =
            conn.query_row("SELECT project_id FROM pipelines WHERE id = ?1", [id], |r| r.get(0)).ok();
        assert_eq!(project, Some(project_id), "acknowledged pipeline {id} is missing");
        let rows: Vec<(String, String, String)> = vars
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(rows.len(), 4, "pipeline {id} has variables {rows:?}");
        for ((k, v, t), (ek, ev)) in rows.iter().zip(expected.iter()) {
            assert_eq!((k, v, t.as_str()), (ek, ev, "env_var"), "pipeline {id}");
        }
        assert_eq!((rows[3].0.as_str(), rows[3].2.as_str()), ("TRIGGER_PAYLOAD", "file"), "pipeline {id}");
    }
    let incomplete: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM pipelines p
             WHERE (SELECT COUNT(*) FROM pipeline_variables v WHERE v.pipeline_id = p.id) <> 4",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(incomplete, 0, "pipelines without all their variables");
    let (max_iid, counter): (i64, i64) = conn
        .query_row(
            "SELECT (SELECT COALESCE(MAX(iid), 0) FROM pipelines WHERE project_id = ?1), last_pipeline_iid
             FROM projects WHERE id = ?1",
            [project_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(counter >= max_iid, "the iid counter {counter} is behind the pipelines ({max_iid})");
}

#[test]
fn acknowledged_pipelines_survive_kill_9_with_all_their_variables() {
    let rounds = setting("TRIGGERD_CRASH_ROUNDS", 5);
    let clients = setting("TRIGGERD_CRASH_CLIENTS", 4);
    let per_round = setting("TRIGGERD_CRASH_ACKS", 60);
    let dir = temp_dir();
    let db = dir.join("triggerd.db");
    let mut server = Server::start(&dir);
    let target = seed(&server.base);
    let mut acked_so_far = Vec::new();
    for round in 1..=rounds {
        let acks = Arc::new(AtomicUsize::new(0));
        let handles =
            hammer(&server.base, &target, round, clients, acks.clone(), Arc::new(AtomicBool::new(false)));
        wait_for(&acks, round * per_round);
        server.kill_9();
        let seen = collect(handles);
        assert!(seen.unexpected.is_empty(), "round {round}: unexpected answers {:?}", seen.unexpected);
        eprintln!("round {round}: {} pipelines acknowledged before kill -9", seen.acked.len());
        acked_so_far.extend(seen.acked);
        // The restart recovers the WAL; then every acknowledged call of every round must be there.
        server = Server::start(&dir);
        verify(&db, target.project_id, &acked_so_far);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// Reads a response head from a raw connection: the status and the `Content-Length`.
fn read_head(reader: &mut impl BufRead) -> (u16, usize) {
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let status =
        status_line.split_whitespace().nth(1).unwrap_or_else(|| panic!("no response: {status_line:?}"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            return (status.parse().unwrap(), length);
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap();
        }
    }
}

#[cfg(unix)]
#[test]
fn sigterm_lets_in_flight_trigger_calls_finish_and_keeps_their_pipelines() {
    let dir = temp_dir();
    let db = dir.join("triggerd.db");
    let server = Server::start(&dir);
    let target = seed(&server.base);
    let addr = server.base.trim_start_matches("http://").to_string();

    // Clients keep calling while the signal arrives.
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let handles = hammer(&server.base, &target, 0, 4, acks.clone(), stop.clone());
    wait_for(&acks, 40);

    // One call is surely in flight: it asks `Expect: 100-continue`, and the server's interim
    // 100 proves it has read the head and started the request. Only then comes SIGTERM, and
    // only after the signal the body.
    let slow_vars = variables(0, 99, 1);
    let body = trigger_body(&target.token, &slow_vars);
    let stream = TcpStream::connect(&addr).unwrap();
    let mut reader = BufReader::new(&stream);
    (&stream)
        .write_all(
            format!(
                "POST /api/v4/projects/{}/trigger/pipeline HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                target.project_id,
                body.len()
            )
            .as_bytes(),
        )
        .unwrap();
    assert_eq!(read_head(&mut reader).0, 100);
    server.signal("-TERM");
    // Give the shutdown a moment to reach the connection (the outcome must not depend on it).
    thread::sleep(Duration::from_millis(100));
    (&stream).write_all(body.as_bytes()).unwrap();
    let (status, length) = read_head(&mut reader);
    let mut raw = vec![0; length];
    reader.read_exact(&mut raw).unwrap();
    let slow: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(status, 201, "{slow}");
    drop(reader);
    drop(stream);

    stop.store(true, Ordering::SeqCst);
    let seen = collect(handles);
    let status = server.wait_exit();
    assert!(status.success(), "{status:?}");
    // Requests either completed with 201 or were refused at the connection (after the listener
    // closed); none was answered with an error.
    assert!(seen.unexpected.is_empty(), "unexpected answers during shutdown: {:?}", seen.unexpected);
    let mut acked = seen.acked;
    acked.push((slow["id"].as_i64().unwrap(), slow_vars));
    verify(&db, target.project_id, &acked);
    let _ = std::fs::remove_dir_all(dir);
}

/// A full disk must answer 503 with GitLab's JSON shape (writes fail; reads keep working and
/// writes resume once space returns — checked by hand on a small tmpfs, see BENCHMARKS.md).
/// Filling a real disk needs a mount, too invasive for CI, so this checks the mapping that
/// every write path and the batch COMMIT go through.
#[test]
fn a_full_disk_is_a_503_with_a_json_message() {
    use actix_web::ResponseError;
    use triggerd::error::{ApiError, is_disk_full};

    let full = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
        Some("database or disk is full".into()),
    );
    assert!(is_disk_full(&full));
    let err = ApiError::from(full);
    assert_eq!(err.status_code().as_u16(), 503);
    let body = actix_web::rt::System::new()
        .block_on(actix_web::body::to_bytes(err.error_response().into_body()))
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body,
        json!({"message": "503 Service Unavailable - the database disk is full; writes resume when space returns"})
    );
    // Other SQLite failures stay internal errors (500), never mistaken for a full disk.
    let other =
        rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), None);
    assert!(!is_disk_full(&other));
    assert_eq!(ApiError::from(other).status_code().as_u16(), 500);
}
