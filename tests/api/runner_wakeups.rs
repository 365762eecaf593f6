//! Waking waiting runners: a newly pending job wakes ONE waiting runner, which passes the
//! wake-up on while jobs stay pending (it took one of several, or it could take none), so no
//! runner that could take a job is left waiting until its long poll ends.
//!
//! The long polls here last 60 s: a lost wake-up shows as a 204 at the end of the poll instead
//! of a 201, never as a timing.

use std::sync::mpsc;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::runner_protocol::{Setup, setup_ci_with};

const THREE_JOBS: &str = "\
a:
  script: make a
b:
  script: make b
c:
  script: make c
";

const ONE_JOB: &str = "\
build:
  script: make
";

/// A new instance runner; `tags` empty means it runs untagged jobs only.
fn runner(s: &Setup, tags: &[&str]) -> (i64, String) {
    let body = if tags.is_empty() {
        json!({"runner_type": "instance_type", "run_untagged": true})
    } else {
        json!({"runner_type": "instance_type", "run_untagged": false, "tag_list": tags})
    };
    let v = json_of(s.app.post_json("/user/runners", Some(&s.app.root().token), &body), 201);
    (v["id"].as_i64().unwrap(), v["token"].as_str().unwrap().to_string())
}

/// Starts a long poll on another thread; the receiver yields its status and body.
fn poll(s: &Setup, token: &str) -> mpsc::Receiver<(u16, Value)> {
    let (tx, rx) = mpsc::channel();
    let request = s
        .app
        .client
        .post(s.app.api("/jobs/request"))
        .json(&json!({"token": token}))
        .timeout(std::time::Duration::from_secs(120));
    std::thread::spawn(move || {
        let resp = request.send().unwrap();
        let status = resp.status().as_u16();
        let _ = tx.send((status, resp.json::<Value>().unwrap_or(Value::Null)));
    });
    rx
}

/// Waits (bounded) until the runner's first poll has reached the server: it records its
/// contact, then looks for a job, then waits.
fn wait_until_polled(s: &Setup, runner_id: i64) {
    for _ in 0..2000 {
        let polled: bool = s
            .app
            .db()
            .query_row("SELECT contacted_at IS NOT NULL FROM runners WHERE id = ?1", [runner_id], |r| {
                r.get(0)
            })
            .unwrap();
        if polled {
            // Its look and its wait follow the contact write; one round trip of another write
            // through the same writer queue lets them pass.
            let _ = s.app.get("/user", Some(&s.app.root().token));
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("runner {runner_id} never polled");
}

#[test]
fn a_job_no_earlier_waiting_runner_may_take_still_reaches_the_one_that_can() {
    let s = setup_ci_with(ONE_JOB, |c| c.runners.long_poll_timeout_secs = 60);
    // Runners that take only `gpu` jobs queue up first, so they are woken first.
    let mut tagged = Vec::new();
    for _ in 0..3 {
        let (id, token) = runner(&s, &["gpu"]);
        tagged.push(poll(&s, &token));
        wait_until_polled(&s, id);
    }
    let (id, untagged) = runner(&s, &[]);
    let waiting = poll(&s, &untagged);
    wait_until_polled(&s, id);
    let pipeline = s.trigger(json!({}));
    let (status, job) = waiting.recv().unwrap();
    assert_eq!(status, 201, "the untagged runner never heard of the job: the wake-up was lost");
    assert_eq!(job["job_info"]["pipeline_id"], pipeline);
    drop(tagged);
}

#[test]
fn every_job_of_a_stage_reaches_a_waiting_runner() {
    let s = setup_ci_with(THREE_JOBS, |c| c.runners.long_poll_timeout_secs = 60);
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let (id, token) = runner(&s, &[]);
        waiting.push(poll(&s, &token));
        wait_until_polled(&s, id);
    }
    s.trigger(json!({}));
    // Three runners get the three jobs; the fourth keeps waiting (its poll ends in 204 later).
    // A 204 before three 201s means a job of the stage was left pending.
    let mut names = Vec::new();
    for _ in 0..20_000 {
        for rx in &waiting {
            if let Ok((status, job)) = rx.try_recv() {
                assert_eq!(status, 201, "a job of the stage was left pending: the wake-up was not passed on");
                names.push(job["job_info"]["name"].as_str().unwrap().to_string());
            }
        }
        if names.len() == 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    names.sort();
    assert_eq!(names, ["a", "b", "c"]);
}

#[test]
fn pausing_a_runner_ends_its_own_poll_even_behind_other_waiting_runners() {
    let s = setup_ci_with(ONE_JOB, |c| c.runners.long_poll_timeout_secs = 60);
    let (first_id, first) = runner(&s, &[]);
    let first_poll = poll(&s, &first);
    wait_until_polled(&s, first_id);
    let (id, token) = runner(&s, &[]);
    let paused_poll = poll(&s, &token);
    wait_until_polled(&s, id);
    let resp = s.app.put_json(&format!("/runners/{id}"), Some(&s.app.root().token), &json!({"paused": true}));
    assert_eq!(resp.status().as_u16(), 200);
    let (status, _) = paused_poll.recv().unwrap();
    assert_eq!(status, 204);
    // Had the update woken only the runner waiting longest, the paused one would have waited
    // for its own poll to end, after the first one's.
    assert!(first_poll.try_recv().is_err(), "the paused runner's poll ended only with its timeout");
}
