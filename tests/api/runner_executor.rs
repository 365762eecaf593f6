//! The runner protocol around a job's life: a graceful stop ending the long polls, job
//! timeouts, runner changes waking waiting runners, the variables a runner receives.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::runner_protocol::{Setup, setup_with};

/// Polls `done` every 100 ms until it holds or `secs` passed (a hang guard, not a timing check).
fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    done()
}

/// Sends `POST /jobs/request` for `runner` on another thread; the status and
/// `X-GitLab-Last-Update` arrive on the returned channel.
fn poll_in_background(s: &Setup, runner: &str) -> mpsc::Receiver<Result<(u16, String), String>> {
    let (tx, rx) = mpsc::channel();
    let request = s
        .app
        .client
        .post(s.app.api("/jobs/request"))
        .timeout(Duration::from_secs(200))
        .json(&json!({"token": runner}));
    std::thread::spawn(move || {
        let got = request.send().map_err(|e| e.to_string()).map(|r| {
            let update = r.headers().get("x-gitlab-last-update").map(|v| v.to_str().unwrap().to_string());
            (r.status().as_u16(), update.unwrap_or_default())
        });
        let _ = tx.send(got);
    });
    rx
}

/// Whether the runner's first poll reached the server (it records the contact before waiting).
fn has_polled(s: &Setup) -> bool {
    s.app
        .db()
        .query_row("SELECT COUNT(*) FROM runners WHERE contacted_at IS NOT NULL", [], |r| r.get::<_, i64>(0))
        .unwrap()
        > 0
}

#[test]
fn a_graceful_stop_answers_a_waiting_long_poll_with_204_at_once() {
    let s = setup_with(|c| {
        c.runners.long_poll_timeout_secs = 150;
        c.server.shutdown_timeout_secs = 120;
    });
    let runner = s.runner();
    let waiting = poll_in_background(&s, &runner);
    assert!(eventually(30, || has_polled(&s)));
    std::thread::sleep(Duration::from_millis(200));
    let _stopping = s.app.begin_graceful_stop();
    let (status, last_update) =
        waiting.recv_timeout(Duration::from_secs(60)).expect("the long poll still waits").unwrap();
    assert_eq!(status, 204);
    assert!(last_update.parse::<u64>().is_ok(), "{last_update:?}");
}
