//! Durability of the trigger call against the real binary: every pipeline whose 201 reached a
//! client survives `kill -9` with all its variables, the file passes `PRAGMA integrity_check`,
//! and SIGTERM lets in-flight requests finish (their 201s arrive and their rows exist). A second
//! kill -9 round runs while runners run jobs (request, log, keep-alive, finish): after the
//! restart every acknowledged job state and log chunk is there, no job handed out before the
//! kill is handed out again, and every job ends (finished by a runner, or, left running by the
//! kill, failed by the sweeper with `stuck_or_timeout_failure`). A third kill -9 round sends
//! every call with an `Idempotency-Key` and retries each after the restart: every key, answered
//! or in flight at the kill, ends with exactly one pipeline. A webhook round kills the
//! server while its receiver holds the first delivery unanswered: after the restart every
//! acknowledged pipeline's event arrives with the UUID the outbox gave it at the trigger call, and
//! a refused trigger call left no event.
//!
//! This is the bounded CI form. `bench/crash.sh` runs the same test with more rounds and clients
//! through these environment variables (defaults in brackets):
//! `TRIGGERD_CRASH_ROUNDS` [5] kill -9 rounds, `TRIGGERD_CRASH_CLIENTS` [4] client threads,
//! `TRIGGERD_CRASH_ACKS` [60] acknowledged calls per round before the kill (round `r` waits for
//! `r × ACKS`, so the kill lands at a different point of each round), `TRIGGERD_CRASH_JOB_ROUNDS`
//! [3] kill -9 rounds of the job test, `TRIGGERD_CRASH_RUNNERS` [3] runner threads (two more
//! threads trigger pipelines, a few ahead of the runners), `TRIGGERD_CRASH_JOB_ACKS` [12]
//! acknowledged final job states per round before the kill (round `r` waits for `r × JOB_ACKS`),
//! `TRIGGERD_CRASH_KEY_ROUNDS` [3] kill -9 rounds of the idempotency-key test (its clients and
//! acknowledged calls per round are `_CLIENTS` and `_ACKS`),
//! and `TRIGGERD_CRASH_LOG` (unset) = a `RUST_LOG` filter for the servers, whose log lines are
//! then echoed to stderr.
//! No assertion depends on timing; the deadlines below only turn a hang into a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
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
        Server::start_with(dir, &[])
    }

    /// A server with extra environment variables (configuration overrides).
    fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
        let mut child = Command::new(BIN)
            .current_dir(dir)
            .envs(env.iter().copied())
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

/// One keyed trigger call: its `Idempotency-Key` and its body (the key is also its variable `KEY`).
#[derive(Clone)]
struct KeyedCall {
    key: String,
    body: String,
}

impl KeyedCall {
    fn new(token: &str, round: usize, client: usize, seq: usize) -> KeyedCall {
        let key = format!("r{round}-c{client}-s{seq}");
        let body = json!({"token": token, "ref": "main", "variables": {"KEY": key}}).to_string();
        KeyedCall { key, body }
    }

    fn send(&self, client: &Client, url: &str) -> reqwest::Result<(u16, Option<i64>, bool)> {
        let resp = client
            .post(url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", &self.key)
            .body(self.body.clone())
            .send()?;
        let status = resp.status().as_u16();
        let replayed = resp.headers().get("idempotent-replayed").is_some();
        let body: Value = resp.json()?;
        Ok((status, body["id"].as_i64(), replayed))
    }
}

/// What one keyed client saw before the kill: answered calls (key, pipeline id) and the call in
/// flight when the connection broke.
#[derive(Default)]
struct KeyedSeen {
    acked: Vec<(KeyedCall, i64)>,
    in_flight: Vec<KeyedCall>,
    unexpected: Vec<String>,
}

#[test]
fn a_key_retried_across_kill_9_still_makes_one_pipeline() {
    let rounds = setting("TRIGGERD_CRASH_KEY_ROUNDS", 3);
    let clients = setting("TRIGGERD_CRASH_CLIENTS", 4);
    let per_round = setting("TRIGGERD_CRASH_ACKS", 60);
    let dir = temp_dir();
    let db = dir.join("triggerd.db");
    let mut server = Server::start(&dir);
    let target = seed(&server.base);
    let (mut retried_in_flight, mut replayed_in_flight) = (0, 0);
    let mut every_key = Vec::new();
    for round in 1..=rounds {
        let acks = Arc::new(AtomicUsize::new(0));
        let url = format!("{}/api/v4/projects/{}/trigger/pipeline", server.base, target.project_id);
        let handles: Vec<_> = (0..clients)
            .map(|c| {
                let (url, token, acks) = (url.clone(), target.token.clone(), acks.clone());
                thread::spawn(move || {
                    let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
                    let mut seen = KeyedSeen::default();
                    for seq in 0.. {
                        let call = KeyedCall::new(&token, round, c, seq);
                        match call.send(&client, &url) {
                            Ok((201, Some(id), false)) => {
                                seen.acked.push((call, id));
                                acks.fetch_add(1, Ordering::SeqCst);
                            }
                            Ok(other) => seen.unexpected.push(format!("{}: {other:?}", call.key)),
                            Err(_) => {
                                seen.in_flight.push(call);
                                break;
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        wait_for(&acks, round * per_round);
        server.kill_9();
        let mut seen = KeyedSeen::default();
        for h in handles {
            let s = h.join().unwrap();
            seen.acked.extend(s.acked);
            seen.in_flight.extend(s.in_flight);
            seen.unexpected.extend(s.unexpected);
        }
        assert!(seen.unexpected.is_empty(), "round {round}: unexpected answers {:?}", seen.unexpected);
        server = Server::start(&dir);
        // The retries after the restart: an answered call gets its own pipeline back; a call
        // that was in flight gets its pipeline if its write committed before the kill, or a new
        // one if it did not — either way exactly one.
        let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
        let url = format!("{}/api/v4/projects/{}/trigger/pipeline", server.base, target.project_id);
        for (call, id) in &seen.acked {
            assert_eq!(
                call.send(&client, &url).unwrap(),
                (200, Some(*id), true),
                "round {round}: {}",
                call.key
            );
        }
        for call in &seen.in_flight {
            let (status, id, replayed) = call.send(&client, &url).unwrap();
            assert!(id.is_some() && (status, replayed) == (201, false) || (status, replayed) == (200, true));
            retried_in_flight += 1;
            replayed_in_flight += usize::from(replayed);
            // And once more: now it is answered for sure.
            assert_eq!(call.send(&client, &url).unwrap(), (200, id, true), "round {round}: {}", call.key);
        }
        every_key.extend(seen.acked.iter().map(|(c, _)| c.key.clone()));
        every_key.extend(seen.in_flight.iter().map(|c| c.key.clone()));
    }
    drop(server);
    let conn = Connection::open(&db).unwrap();
    let check: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let mut count =
        conn.prepare("SELECT COUNT(*) FROM pipeline_variables WHERE key = 'KEY' AND value = ?1").unwrap();
    for key in &every_key {
        let n: i64 = count.query_row([key], |r| r.get(0)).unwrap();
        assert_eq!(n, 1, "key {key} has {n} pipelines");
    }
    let duplicated: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM (SELECT value FROM pipeline_variables WHERE key = 'KEY'
                                   GROUP BY value HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicated, 0, "keys with more than one pipeline");
    eprintln!(
        "{} keys checked; {retried_in_flight} calls in flight at a kill were retried, \
         {replayed_in_flight} of them had committed and were replayed",
        every_key.len()
    );
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

// ---- kill -9 while runners run jobs ------------------------------------------------------------

/// Three stages; `test-b` may fail without failing the pipeline.
const CI_CONFIG: &str = "
stages: [build, test, deploy]
build:
  stage: build
  script: [make]
test-a:
  stage: test
  script: [make test]
test-b:
  stage: test
  script: [make lint]
  allow_failure: true
deploy:
  stage: deploy
  script: [make deploy]
";

/// Long polls end after a second, so runners notice the end of a phase quickly.
const POLL: (&str, &str) = ("TRIGGERD_RUNNERS__LONG_POLL_TIMEOUT_SECS", "1");
/// After a restart, running jobs whose runner died with the server are failed within seconds.
const SHORT_STUCK: [(&str, &str); 3] = [
    POLL,
    ("TRIGGERD_RUNNERS__STUCK_RUNNING_TIMEOUT_SECS", "2"),
    ("TRIGGERD_RUNNERS__SWEEP_INTERVAL_SECS", "1"),
];

/// Stores the CI config on `main`.
fn store_ci_config(base: &str, project_id: i64) {
    let resp = Client::new()
        .post(format!("{base}/api/v4/projects/{project_id}/repository/files/.gitlab-ci.yml"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .json(&json!({"branch": "main", "content": CI_CONFIG, "commit_message": "ci"}))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().unwrap_or_default());
}

/// A new instance runner's `glrt-` token.
fn register_runner(base: &str) -> String {
    let v: Value = Client::new()
        .post(format!("{base}/api/v4/user/runners"))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .json(&json!({"runner_type": "instance_type", "run_untagged": true, "description": "crash"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["token"].as_str().unwrap_or_else(|| panic!("runner not created: {v}")).to_string()
}

/// A job's log as the runner sent it: what the server acknowledged, and the chunk whose answer
/// never arrived (it may or may not have been stored).
#[derive(Default, Clone)]
struct SentTrace {
    acked: String,
    in_flight: Option<String>,
}

/// What one runner thread saw.
#[derive(Default)]
struct RunLog {
    /// Jobs whose 201 arrived, in order: (job id, job token).
    handed_out: Vec<(i64, String)>,
    traces: HashMap<i64, SentTrace>,
    /// Final states whose `PUT` was answered 200.
    finished: HashMap<i64, &'static str>,
    /// A final state sent whose answer never arrived.
    finishing: HashMap<i64, &'static str>,
    /// Jobs the sweeper failed while this runner ran them (403 with `Job-Status: failed`).
    swept: Vec<i64>,
}

impl RunLog {
    fn merge(&mut self, other: RunLog) {
        self.handed_out.extend(other.handed_out);
        self.traces.extend(other.traces);
        self.finished.extend(other.finished);
        self.finishing.extend(other.finishing);
        self.swept.extend(other.swept);
    }
}

/// A finished call: status and `Job-Status`; `Err` when the server is gone.
type Answer = Result<(u16, String), ()>;

fn answer(sent: reqwest::Result<reqwest::blocking::Response>) -> Answer {
    let resp = sent.map_err(|_| ())?;
    let status = resp.status().as_u16();
    let job_status = resp.headers().get("job-status").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    // The answer counts only once its body arrived in full.
    resp.bytes().map_err(|_| ())?;
    Ok((status, job_status))
}

/// What runner and trigger threads share during one phase of a round.
#[derive(Clone, Default)]
struct Load {
    /// Final states acknowledged.
    finishes: Arc<AtomicUsize>,
    /// Set when the phase ends.
    stop: Arc<AtomicBool>,
    /// Jobs that must not be handed out in this phase (handed out, or left running, earlier).
    forbidden: Arc<HashSet<i64>>,
    /// Unexpected answers, seen at once by the main thread (so a failure is not a hang).
    alarms: Arc<Mutex<Vec<String>>>,
}

impl Load {
    fn alarm(&self, what: String) {
        self.alarms.lock().unwrap().push(what);
    }

    /// Fails the test on the first unexpected answer.
    #[track_caller]
    fn check(&self, round: usize) {
        let alarms = self.alarms.lock().unwrap();
        assert!(alarms.is_empty(), "round {round}: {alarms:?}");
    }
}

/// Whether a runner fails the job (about two in seven; spread over the four job names).
fn fails(job_id: i64) -> bool {
    job_id % 7 < 2
}

/// A runner loop: take a job, log two chunks with a keep-alive between them, finish it with
/// success or failure; until `stop` or the server is gone. After a restart (`after_restart`)
/// the sweeper may fail a job under the runner: a 403 with `Job-Status: failed` then ends it.
fn run_jobs(
    base: &str,
    runner: String,
    round: usize,
    after_restart: bool,
    load: Load,
) -> thread::JoinHandle<RunLog> {
    let base = base.to_string();
    thread::spawn(move || {
        let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
        let mut log = RunLog::default();
        'jobs: while !load.stop.load(Ordering::SeqCst) {
            let Ok(resp) = client
                .post(format!("{base}/api/v4/jobs/request"))
                .json(&json!({"token": runner, "info": {"name": "crash-runner"}}))
                .send()
            else {
                break;
            };
            match resp.status().as_u16() {
                204 => continue,
                201 => {}
                other => {
                    load.alarm(format!("jobs/request: {other} {}", resp.text().unwrap_or_default()));
                    continue;
                }
            }
            let Ok(job) = resp.json::<Value>() else { break };
            let (id, token) = (job["id"].as_i64().unwrap(), job["token"].as_str().unwrap().to_string());
            log.handed_out.push((id, token.clone()));
            if load.forbidden.contains(&id) {
                load.alarm(format!("job {id} was handed out again"));
            }
            // A 403 naming `failed` is the sweeper's doing: allowed only after the restart.
            let swept = |log: &mut RunLog, what: &str, a: &(u16, String)| {
                if after_restart && a.0 == 403 && a.1 == "failed" {
                    log.swept.push(id);
                } else {
                    load.alarm(format!("job {id} {what}: {} Job-Status {:?}", a.0, a.1));
                }
            };
            let mut trace = SentTrace::default();
            for step in 1..=2 {
                let chunk =
                    format!("round {round} job {id} step {step} {}\n", "x".repeat((id as usize * step) % 40));
                let start = trace.acked.len();
                trace.in_flight = Some(chunk.clone());
                log.traces.insert(id, trace.clone());
                let a = answer(
                    client
                        .patch(format!("{base}/api/v4/jobs/{id}/trace"))
                        .header("JOB-TOKEN", &token)
                        .header("Content-Range", format!("{start}-{}", start + chunk.len() - 1))
                        .body(chunk.clone())
                        .send(),
                );
                let Ok(a) = a else { break 'jobs };
                if a.0 != 202 {
                    swept(&mut log, "trace", &a);
                    continue 'jobs;
                }
                trace.acked.push_str(&chunk);
                trace.in_flight = None;
                log.traces.insert(id, trace.clone());
                if step == 1 {
                    let a = answer(
                        client
                            .put(format!("{base}/api/v4/jobs/{id}"))
                            .json(&json!({"token": token, "state": "running"}))
                            .send(),
                    );
                    let Ok(a) = a else { break 'jobs };
                    if a.0 != 200 {
                        swept(&mut log, "keep-alive", &a);
                        continue 'jobs;
                    }
                }
            }
            let state = if fails(id) { "failed" } else { "success" };
            let body = if state == "failed" {
                json!({"token": token, "state": state, "failure_reason": "script_failure", "exit_code": 1})
            } else {
                json!({"token": token, "state": state, "exit_code": 0})
            };
            log.finishing.insert(id, state);
            let a = answer(client.put(format!("{base}/api/v4/jobs/{id}")).json(&body).send());
            let Ok(a) = a else { break };
            log.finishing.remove(&id);
            if a.0 == 200 && a.1 == state {
                log.finished.insert(id, state);
                load.finishes.fetch_add(1, Ordering::SeqCst);
            } else {
                swept(&mut log, "finish", &a);
            }
        }
        log
    })
}

/// How many of the project's pipelines are pending or running (`X-Total` of the list);
/// `None` when the server is gone.
fn open_pipelines(client: &Client, base: &str, project_id: i64) -> Option<usize> {
    let mut open = 0;
    for scope in ["pending", "running"] {
        let resp = client
            .get(format!("{base}/api/v4/projects/{project_id}/pipelines?scope={scope}&per_page=1"))
            .header("PRIVATE-TOKEN", ROOT_TOKEN)
            .send()
            .ok()?;
        let total = resp.headers().get("x-total").and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        resp.bytes().ok()?;
        open += total.expect("the pipeline list has an X-Total");
    }
    Some(open)
}

/// Calls the trigger endpoint from one thread while fewer than `ahead` pipelines are open (so
/// the runners keep up and the queue left at the kill stays small), until `stop` or the server
/// is gone.
fn trigger_paced(
    base: &str,
    target: &Target,
    round: usize,
    client_no: usize,
    ahead: usize,
    load: Load,
) -> thread::JoinHandle<Seen> {
    let (base, project_id) = (base.to_string(), target.project_id);
    let url = format!("{base}/api/v4/projects/{}/trigger/pipeline", target.project_id);
    let token = target.token.clone();
    thread::spawn(move || {
        let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
        let mut seen = Seen::default();
        let mut seq = 0;
        while !load.stop.load(Ordering::SeqCst) {
            let Some(open) = open_pipelines(&client, &base, project_id) else { break };
            if open >= ahead {
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            seq += 1;
            let vars = variables(round, client_no, seq);
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
            } else {
                seen.unexpected.push(format!("{status} {body}"));
            }
        }
        seen
    })
}

/// Every job's (status, failure_reason), read from a copy of the database and its WAL taken
/// while the server is down: the state the restart starts from, before the sweeper acts.
fn jobs_at_kill(dir: &Path) -> HashMap<i64, (String, Option<String>)> {
    let snap = dir.join("snapshot");
    std::fs::create_dir_all(&snap).unwrap();
    for suffix in ["", "-wal"] {
        let from = dir.join(format!("triggerd.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, snap.join(format!("triggerd.db{suffix}"))).unwrap();
        }
    }
    let jobs = {
        let conn = Connection::open(snap.join("triggerd.db")).unwrap();
        conn.prepare("SELECT id, status, failure_reason FROM jobs")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    std::fs::remove_dir_all(&snap).unwrap();
    jobs
}

/// The status a pipeline of [`CI_CONFIG`] must end with, given its jobs' final statuses by
/// name; `Err` names what is inconsistent.
fn expected_pipeline_status(jobs: &HashMap<String, String>) -> Result<&'static str, String> {
    let of = |name: &str| jobs.get(name).map(String::as_str).unwrap_or("missing");
    let ended = |s: &str| s == "success" || s == "failed";
    let (build, a, b, deploy) = (of("build"), of("test-a"), of("test-b"), of("deploy"));
    let ok = match build {
        "failed" => [a, b, deploy].iter().all(|s| *s == "skipped"),
        "success" if ended(a) && ended(b) => {
            if a == "failed" {
                deploy == "skipped"
            } else {
                ended(deploy)
            }
        }
        _ => false,
    };
    if !ok || jobs.len() != 4 {
        return Err(format!("inconsistent jobs {jobs:?}"));
    }
    // test-b may fail: its failure is a warning, not the pipeline's.
    Ok(if [build, a, deploy].contains(&"failed") { "failed" } else { "success" })
}

/// GET with root's token; the status and the body.
fn get_as_root(client: &Client, url: &str) -> (u16, String) {
    let resp = client.get(url).header("PRIVATE-TOKEN", ROOT_TOKEN).send().unwrap();
    (resp.status().as_u16(), resp.text().unwrap())
}

/// Each acknowledged chunk is in the stored log, in order; beyond them at most the chunk whose
/// answer was lost. Returns how many chunks were in flight and how many of them were stored.
fn check_traces(base: &str, project_id: i64, traces: &HashMap<i64, SentTrace>) -> (usize, usize) {
    let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
    let (mut lost, mut kept) = (0, 0);
    for (id, sent) in traces {
        let (status, stored) =
            get_as_root(&client, &format!("{base}/api/v4/projects/{project_id}/jobs/{id}/trace"));
        assert_eq!(status, 200, "trace of job {id}: {stored}");
        let with_lost = sent.in_flight.as_ref().map(|c| format!("{}{c}", sent.acked));
        assert!(
            stored == sent.acked || Some(&stored) == with_lost.as_ref(),
            "job {id}: stored log {stored:?}, acknowledged {:?}, in flight {:?}",
            sent.acked,
            sent.in_flight
        );
        lost += usize::from(sent.in_flight.is_some());
        kept += usize::from(stored != sent.acked);
    }
    (lost, kept)
}

/// A job as the database holds it.
struct StoredJob {
    pipeline_id: i64,
    name: String,
    status: String,
    failure_reason: Option<String>,
}

/// Every job and every pipeline's status, now.
struct Stored {
    jobs: HashMap<i64, StoredJob>,
    pipelines: HashMap<i64, String>,
}

fn current_state(db: &Path) -> Stored {
    let conn = Connection::open(db).unwrap();
    let jobs = conn
        .prepare("SELECT id, pipeline_id, name, status, failure_reason FROM jobs")
        .unwrap()
        .query_map([], |r| {
            let job = StoredJob {
                pipeline_id: r.get(1)?,
                name: r.get(2)?,
                status: r.get(3)?,
                failure_reason: r.get(4)?,
            };
            Ok((r.get(0)?, job))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let pipelines = conn
        .prepare("SELECT id, status FROM pipelines")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    Stored { jobs, pipelines }
}

#[test]
fn acknowledged_job_updates_survive_kill_9_no_job_is_handed_out_twice_and_every_job_ends() {
    let rounds = setting("TRIGGERD_CRASH_JOB_ROUNDS", 3);
    let runners = setting("TRIGGERD_CRASH_RUNNERS", 3);
    let per_round = setting("TRIGGERD_CRASH_JOB_ACKS", 12);
    let dir = temp_dir();
    let db = dir.join("triggerd.db");
    let mut server = Server::start_with(&dir, &[POLL]);
    let target = seed(&server.base);
    store_ci_config(&server.base, target.project_id);
    let mut acked_pipelines = Vec::new();
    // Acknowledged final states of every round, and every job ever handed out.
    let mut finished: HashMap<i64, &'static str> = HashMap::new();
    let mut handed: HashSet<i64> = HashSet::new();
    for round in 1..=rounds {
        // ---- runners and triggers at work, then kill -9 at a point that moves with the round ----
        let load = Load { forbidden: Arc::new(handed.clone()), ..Load::default() };
        let runner_threads: Vec<_> = (0..runners)
            .map(|_| run_jobs(&server.base, register_runner(&server.base), round, false, load.clone()))
            .collect();
        let trigger_threads: Vec<_> = (0..2)
            .map(|c| trigger_paced(&server.base, &target, round, c, 2 * runners + 2, load.clone()))
            .collect();
        let start = Instant::now();
        while load.finishes.load(Ordering::SeqCst) < round * per_round {
            let done = load.finishes.load(Ordering::SeqCst);
            assert!(start.elapsed() < HANG_GUARD, "round {round}: only {done} jobs finished");
            load.check(round);
            thread::sleep(Duration::from_millis(5));
        }
        server.kill_9();
        load.stop.store(true, Ordering::SeqCst);
        let triggered = collect(trigger_threads);
        assert!(triggered.unexpected.is_empty(), "round {round}: trigger answers {:?}", triggered.unexpected);
        let mut before = RunLog::default();
        for h in runner_threads {
            before.merge(h.join().unwrap());
        }
        load.check(round);
        let new_pipelines = triggered.acked.len();
        acked_pipelines.extend(triggered.acked);

        // ---- the state the restart finds: every acknowledged change is in it ----
        let at_kill = jobs_at_kill(&dir);
        for (id, _) in &before.handed_out {
            assert!(handed.insert(*id), "round {round}: job {id} was handed out twice before the kill");
            let status = at_kill.get(id).map_or("missing", |(s, _)| s.as_str());
            let acked = before.finished.get(id).copied();
            let in_flight = before.finishing.get(id).copied();
            match acked {
                Some(state) => {
                    assert_eq!(status, state, "round {round}: job {id}'s acknowledged {state} was lost")
                }
                None => assert!(
                    status == "running" || Some(status) == in_flight,
                    "round {round}: job {id} handed out is {status} (final state in flight: {in_flight:?})"
                ),
            }
        }
        finished.extend(before.finished.iter().map(|(k, v)| (*k, *v)));
        let with_status = |wanted: &str| -> HashSet<i64> {
            at_kill.iter().filter(|(_, (s, _))| s == wanted).map(|(id, _)| *id).collect()
        };
        let (running_at_kill, pending_at_kill) = (with_status("running"), with_status("pending"));
        eprintln!(
            "round {round}: {new_pipelines} pipelines and {} final job states acknowledged before kill -9; \
             {} jobs running and {} pending at the kill",
            before.finished.len(),
            running_at_kill.len(),
            pending_at_kill.len()
        );

        // ---- restart with a quick sweeper; fresh runners take what is left ----
        server = Server::start_with(&dir, &SHORT_STUCK);
        verify(&db, target.project_id, &acked_pipelines);
        let (chunks, chunks_kept) = check_traces(&server.base, target.project_id, &before.traces);
        let states_kept =
            before.finishing.iter().filter(|(id, s)| at_kill.get(id).is_some_and(|a| a.0 == **s)).count();
        eprintln!(
            "round {round}: answers lost to the kill: {chunks} log chunks ({chunks_kept} stored), {} final \
             states ({states_kept} stored)",
            before.finishing.len()
        );
        let forbidden = handed.union(&running_at_kill).copied().collect();
        let load = Load { forbidden: Arc::new(forbidden), ..Load::default() };
        let drainers: Vec<_> = (0..runners)
            .map(|_| run_jobs(&server.base, register_runner(&server.base), round, true, load.clone()))
            .collect();
        let start = Instant::now();
        let stored = loop {
            let stored = current_state(&db);
            let busy: Vec<_> = stored
                .jobs
                .iter()
                .filter(|(_, j)| matches!(j.status.as_str(), "created" | "pending" | "running"))
                .map(|(id, j)| format!("job {id} ({}) {}", j.name, j.status))
                .collect();
            let open: Vec<_> = stored
                .pipelines
                .iter()
                .filter(|(_, s)| !matches!(s.as_str(), "success" | "failed" | "canceled" | "skipped"))
                .map(|(id, s)| format!("pipeline {id} {s}"))
                .collect();
            if busy.is_empty() && open.is_empty() {
                break stored;
            }
            load.check(round);
            assert!(start.elapsed() < HANG_GUARD, "round {round}: never ended: {busy:?} {open:?}");
            thread::sleep(Duration::from_millis(200));
        };
        load.stop.store(true, Ordering::SeqCst);
        let mut after = RunLog::default();
        for h in drainers {
            after.merge(h.join().unwrap());
        }
        load.check(round);

        // ---- no job twice; every job ended as acknowledged, or failed by the sweeper ----
        for (id, _) in &after.handed_out {
            assert!(
                !running_at_kill.contains(id),
                "round {round}: job {id}, running at the kill, was handed out again"
            );
            assert!(handed.insert(*id), "round {round}: job {id} was handed out twice");
        }
        for id in &pending_at_kill {
            assert!(
                after.handed_out.iter().any(|(h, _)| h == id),
                "round {round}: pending job {id} was never handed out"
            );
        }
        finished.extend(after.finished.iter().map(|(k, v)| (*k, *v)));
        for (id, state) in &finished {
            assert_eq!(stored.jobs[id].status, *state, "job {id}'s acknowledged {state} was lost");
        }
        let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
        for id in running_at_kill.iter().chain(&after.swept) {
            let url = format!("{}/api/v4/projects/{}/jobs/{id}", server.base, target.project_id);
            let (status, body) = get_as_root(&client, &url);
            assert_eq!(status, 200, "{body}");
            let job: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                (job["status"].as_str(), job["failure_reason"].as_str()),
                (Some("failed"), Some("stuck_or_timeout_failure")),
                "round {round}: job {id}, left running, did not end as the sweeper ends it"
            );
        }
        // A runner of before the kill that comes back cannot finish or log to a swept job.
        for (id, token) in before.handed_out.iter().filter(|(id, _)| running_at_kill.contains(id)) {
            let late = |a: Answer, what: &str| {
                assert_eq!(a, Ok((403, "failed".to_string())), "round {round}: a late {what} of job {id}");
            };
            let url = format!("{}/api/v4/jobs/{id}", server.base);
            late(
                answer(client.put(&url).json(&json!({"token": token, "state": "success"})).send()),
                "success",
            );
            let patch = client
                .patch(format!("{url}/trace"))
                .header("JOB-TOKEN", token)
                .header("Content-Range", "0-3");
            late(answer(patch.body("late").send()), "log chunk");
        }
        let (lost, _) = check_traces(&server.base, target.project_id, &after.traces);
        assert_eq!(lost, 0, "round {round}: a log chunk sent after the restart has no answer");
        let mut by_pipeline: HashMap<i64, HashMap<String, String>> = HashMap::new();
        for job in stored.jobs.values() {
            if job.status == "failed" {
                assert!(
                    job.failure_reason.is_some(),
                    "a failed job of pipeline {} has no reason",
                    job.pipeline_id
                );
            }
            by_pipeline.entry(job.pipeline_id).or_default().insert(job.name.clone(), job.status.clone());
        }
        for (pipeline, status) in &stored.pipelines {
            let jobs = by_pipeline.remove(pipeline).unwrap_or_default();
            let expected = expected_pipeline_status(&jobs)
                .unwrap_or_else(|e| panic!("round {round}: pipeline {pipeline}: {e}"));
            assert_eq!(status, expected, "round {round}: pipeline {pipeline} with jobs {jobs:?}");
        }
        eprintln!(
            "round {round}: after the restart {} jobs were handed out, {} left running were failed by the sweeper",
            after.handed_out.len(),
            running_at_kill.len() + after.swept.len()
        );
        if round == rounds {
            break;
        }
        // The next round's load runs with the usual (long) stuck timeout: no sweeps under load.
        drop(server);
        server = Server::start_with(&dir, &[POLL]);
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}

/// A loopback webhook receiver: records `(X-Gitlab-Event-UUID, pipeline id, answered)` of every
/// request; while `hang` is set it reads the request and never answers.
struct HookReceiver {
    url: String,
    got: Arc<Mutex<Vec<(String, i64, bool)>>>,
    hang: Arc<AtomicBool>,
}

impl HookReceiver {
    fn start() -> HookReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let hang = Arc::new(AtomicBool::new(true));
        let (g, h) = (got.clone(), hang.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (g, h) = (g.clone(), h.clone());
                thread::spawn(move || {
                    let mut reader = BufReader::new(stream);
                    let (mut uuid, mut len) = (String::new(), 0usize);
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && !line.trim().is_empty() {
                        let lower = line.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("x-gitlab-event-uuid:") {
                            uuid = v.trim().to_string();
                        }
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                        line.clear();
                    }
                    let mut body = vec![0; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let id = v["object_attributes"]["id"].as_i64().unwrap_or(-1);
                    let answered = !h.load(Ordering::SeqCst);
                    g.lock().unwrap().push((uuid, id, answered));
                    if answered {
                        let mut s = reader.into_inner();
                        let _ =
                            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    } else {
                        // Holds the connection until the server gives up (its timeout) or dies.
                        thread::sleep(Duration::from_secs(30));
                    }
                });
            }
        });
        HookReceiver { url, got, hang }
    }
}

#[test]
fn a_webhook_event_acknowledged_before_kill_9_is_delivered_after_the_restart_with_its_uuid() {
    let dir = temp_dir();
    let db = dir.join("triggerd.db");
    let env = [
        ("TRIGGERD_WEBHOOKS__ALLOW_LOCAL_NETWORK", "true"),
        ("TRIGGERD_WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ("TRIGGERD_WEBHOOKS__TIMEOUT_SECS", "2"),
        ("TRIGGERD_WEBHOOKS__RETRY_DELAY_MS", "100"),
        ("TRIGGERD_WEBHOOKS__DISABLE_BACKOFF_MS", "100"),
        ("TRIGGERD_WEBHOOKS__MAX_DISABLE_BACKOFF_MS", "200"),
    ];
    let server = Server::start_with(&dir, &env);
    let target = seed(&server.base);
    let rx = HookReceiver::start();
    let client = Client::builder().timeout(HANG_GUARD).build().unwrap();
    let hook: Value = client
        .post(format!("{}/api/v4/projects/{}/hooks", server.base, target.project_id))
        .header("PRIVATE-TOKEN", ROOT_TOKEN)
        .json(&json!({"url": rx.url, "pipeline_events": true}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(hook["id"].is_i64(), "{hook}");
    let url = format!("{}/api/v4/projects/{}/trigger/pipeline", server.base, target.project_id);
    let mut acked = Vec::new();
    for i in 0..20 {
        let vars = variables(99, 0, i);
        let resp = client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(trigger_body(&target.token, &vars));
        let resp = resp.send().unwrap();
        assert_eq!(resp.status().as_u16(), 201);
        acked.push(resp.json::<Value>().unwrap()["id"].as_i64().unwrap());
    }
    // A rolled-back write (the ref does not exist) leaves no event behind.
    let bad = json!({"token": target.token, "ref": "no-such-ref"}).to_string();
    let resp = client.post(&url).header("Content-Type", "application/json").body(bad).send().unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    server.kill_9();

    let conn = Connection::open(&db).unwrap();
    let queued: HashMap<i64, String> = conn
        .prepare("SELECT object_id, event_uuid FROM hook_deliveries WHERE kind = 'pipeline'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for id in &acked {
        assert!(queued.contains_key(id), "no event queued for acknowledged pipeline {id}");
    }
    assert_eq!(queued.len(), acked.len(), "one creation event per pipeline, none for the refused call");
    drop(conn);

    rx.hang.store(false, Ordering::SeqCst);
    let server = Server::start_with(&dir, &env);
    let start = Instant::now();
    loop {
        let got = rx.got.lock().unwrap().clone();
        let delivered: HashSet<i64> = got.iter().filter(|(_, _, ok)| *ok).map(|(_, id, _)| *id).collect();
        if acked.iter().all(|id| delivered.contains(id)) {
            for (uuid, id, _) in &got {
                assert_eq!(queued.get(id), Some(uuid), "pipeline {id} was sent with another UUID");
            }
            eprintln!(
                "webhook crash round: {} events, {} requests ({} before the kill)",
                acked.len(),
                got.len(),
                got.iter().filter(|(_, _, ok)| !ok).count()
            );
            break;
        }
        assert!(start.elapsed() < HANG_GUARD, "only {} of {} events delivered", delivered.len(), acked.len());
        thread::sleep(Duration::from_millis(50));
    }
    drop(server);
    let _ = std::fs::remove_dir_all(dir);
}
