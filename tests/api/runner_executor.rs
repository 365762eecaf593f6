//! The runner protocol around a job's life: a graceful stop ending the long polls, job
//! timeouts, runner changes waking waiting runners, the variables a runner receives.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::*;
use crate::runner_protocol::{Setup, setup_ci_with, setup_with};

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

/// One job that may run one second.
const ONE_SECOND: &str = "
short:
  timeout: 1s
  script: [sleep 60]
";

/// The job's `status` and `failure_reason` as the jobs API shows them on `app`.
fn job_outcome(app: &TestApp, s: &Setup, id: i64) -> (String, String) {
    let v =
        json_of(app.get(&format!("/projects/{}/jobs/{id}", s.r.project_id), Some(&s.r.developer.token)), 200);
    (v["status"].as_str().unwrap().to_string(), v["failure_reason"].as_str().unwrap_or_default().to_string())
}

#[test]
fn a_job_running_past_its_timeout_fails_with_job_execution_timeout_and_fails_its_pipeline() {
    let s = setup_ci_with(ONE_SECOND, |c| {
        c.runners.long_poll_timeout_secs = 0;
        c.runners.sweep_interval_secs = 1;
    });
    let runner = s.runner();
    let pipeline = s.trigger(json!({}));
    let job = s.take(&runner);
    assert_eq!(job["runner_info"]["timeout"], 1);
    assert_eq!(job["steps"][0]["timeout"], 1);
    let id = job["id"].as_i64().unwrap();
    // The runner keeps the job alive: only the timeout can end it.
    assert!(eventually(30, || {
        s.put(id, json!({"token": job["token"], "state": "running"}));
        job_outcome(&s.app, &s, id).0 != "running"
    }));
    assert_eq!(job_outcome(&s.app, &s, id), ("failed".to_string(), "job_execution_timeout".to_string()));
    assert_eq!(s.pipeline_status(pipeline), "failed");
    // Its token stopped working.
    let put = s.put(id, json!({"token": job["token"], "state": "success"}));
    assert_eq!(put.status().as_u16(), 403);
}

#[test]
fn a_job_that_ran_past_its_timeout_while_the_server_was_down_fails_after_the_restart() {
    let s = setup_ci_with(ONE_SECOND, |c| {
        c.runners.long_poll_timeout_secs = 0;
        c.runners.sweep_interval_secs = 3600;
    });
    let runner = s.runner();
    let pipeline = s.trigger(json!({}));
    let id = s.take(&runner)["id"].as_i64().unwrap();
    s.app.begin_graceful_stop().join().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let db_path = s.app.db_path.clone();
    let restarted = spawn_app_with(|c| {
        c.database.path = db_path;
        c.runners.sweep_interval_secs = 1;
    });
    assert!(eventually(30, || job_outcome(&restarted, &s, id).0 != "running"));
    assert_eq!(job_outcome(&restarted, &s, id), ("failed".to_string(), "job_execution_timeout".to_string()));
    let v = json_of(
        restarted
            .get(&format!("/projects/{}/pipelines/{pipeline}", s.r.project_id), Some(&s.r.developer.token)),
        200,
    );
    assert_eq!(v["status"], "failed");
}

#[test]
fn a_job_within_its_timeout_keeps_running() {
    let s = setup_with(|c| {
        c.runners.long_poll_timeout_secs = 0;
        c.runners.sweep_interval_secs = 1;
    });
    let runner = s.runner();
    s.trigger(json!({}));
    let job = s.take(&runner);
    assert_eq!(job["runner_info"]["timeout"], 3600);
    let id = job["id"].as_i64().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(job_outcome(&s.app, &s, id).0, "running");
}

/// A new instance runner created by root with `attributes`: its id and token.
fn runner_with(s: &Setup, attributes: serde_json::Value) -> (i64, String) {
    let mut body = json!({"runner_type": "instance_type"});
    body.as_object_mut().unwrap().extend(attributes.as_object().unwrap().clone());
    let v = json_of(s.app.post_json("/user/runners", Some(&s.app.root().token), &body), 201);
    (v["id"].as_i64().unwrap(), v["token"].as_str().unwrap().to_string())
}

fn update_runner(s: &Setup, id: i64, body: serde_json::Value) {
    json_of(s.app.put_json(&format!("/runners/{id}"), Some(&s.app.root().token), &body), 200);
}

#[test]
fn a_waiting_runner_whose_new_settings_match_a_pending_job_gets_it_without_waiting_out_the_poll() {
    let s = setup_with(|c| c.runners.long_poll_timeout_secs = 150);
    let (id, runner) = runner_with(&s, json!({"tag_list": ["gpu"], "run_untagged": false}));
    s.trigger(json!({}));
    let waiting = poll_in_background(&s, &runner);
    assert!(eventually(30, || has_polled(&s)));
    std::thread::sleep(Duration::from_millis(200));
    update_runner(&s, id, json!({"run_untagged": true}));
    let (status, _) =
        waiting.recv_timeout(Duration::from_secs(60)).expect("the long poll still waits").unwrap();
    assert_eq!(status, 201);
}

#[test]
fn a_runner_paused_while_it_waits_gets_204_and_no_job() {
    let s = setup_with(|c| c.runners.long_poll_timeout_secs = 150);
    let (id, runner) = runner_with(&s, json!({"run_untagged": true}));
    let waiting = poll_in_background(&s, &runner);
    assert!(eventually(30, || has_polled(&s)));
    std::thread::sleep(Duration::from_millis(200));
    update_runner(&s, id, json!({"paused": true}));
    let (status, _) =
        waiting.recv_timeout(Duration::from_secs(60)).expect("the long poll still waits").unwrap();
    assert_eq!(status, 204);
    s.trigger(json!({}));
    let count = |status: &str| -> i64 {
        s.app.db().query_row("SELECT COUNT(*) FROM jobs WHERE status = ?1", [status], |r| r.get(0)).unwrap()
    };
    assert_eq!((count("pending"), count("running")), (1, 0));
}

#[test]
fn a_paused_runner_gets_no_job_while_one_is_pending() {
    let s = setup_with(|c| c.runners.long_poll_timeout_secs = 0);
    let (_, runner) = runner_with(&s, json!({"run_untagged": true, "paused": true}));
    s.trigger(json!({}));
    assert_eq!(s.request(&runner).status().as_u16(), 204);
    let running: i64 =
        s.app.db().query_row("SELECT COUNT(*) FROM jobs WHERE status = 'running'", [], |r| r.get(0)).unwrap();
    assert_eq!(running, 0);
}

/// A job and a manual job sharing `TARGET` with the global variables.
const SHARED_KEYS: &str = "
variables:
  TARGET: global
  GLOBAL_ONLY: g
check:
  variables:
    TARGET: job
  script: [check]
deploy:
  when: manual
  variables:
    TARGET: job
    JOB_ONLY: j
  script: [deploy]
";

/// The values of `key` in a job payload's variables (one per entry).
fn values_of(job: &serde_json::Value, key: &str) -> Vec<String> {
    job["variables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["key"] == key)
        .map(|v| v["value"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_runner_receives_one_variable_per_key_with_trigger_over_yaml_and_played_over_all() {
    let s = setup_ci_with(SHARED_KEYS, |c| c.runners.long_poll_timeout_secs = 0);
    let runner = s.runner();
    let pipeline = s.trigger(json!({"TARGET": "trigger", "TRIGGER_ONLY": "t"}));
    let check = s.take(&runner);
    assert_eq!(check["job_info"]["name"], "check");
    assert_eq!(values_of(&check, "TARGET"), ["trigger"]);
    assert_eq!(values_of(&check, "GLOBAL_ONLY"), ["g"]);
    assert_eq!(values_of(&check, "TRIGGER_ONLY"), ["t"]);

    let jobs = json_of(
        s.app.get(
            &format!("/projects/{}/pipelines/{pipeline}/jobs?scope=manual", s.r.project_id),
            Some(&s.r.developer.token),
        ),
        200,
    );
    let deploy = jobs[0]["id"].as_i64().unwrap();
    let body = json!({"job_variables_attributes": [
        {"key": "TARGET", "value": "played"},
        {"key": "JOB_ONLY", "value": "played"},
    ]});
    let path = format!("/projects/{}/jobs/{deploy}/play", s.r.project_id);
    json_of(s.app.post_json(&path, Some(&s.r.developer.token), &body), 200);
    let deploy = s.take(&runner);
    assert_eq!(deploy["job_info"]["name"], "deploy");
    assert_eq!(values_of(&deploy, "TARGET"), ["played"]);
    assert_eq!(values_of(&deploy, "JOB_ONLY"), ["played"]);
    assert_eq!(values_of(&deploy, "GLOBAL_ONLY"), ["g"]);
    let keys: Vec<&str> =
        deploy["variables"].as_array().unwrap().iter().map(|v| v["key"].as_str().unwrap()).collect();
    let unique: std::collections::HashSet<&&str> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{keys:?}");
}

#[test]
fn the_repository_url_carries_the_job_token_and_the_stored_log_masks_it() {
    let s = setup_with(|c| c.runners.long_poll_timeout_secs = 0);
    let runner = s.runner();
    s.trigger(json!({}));
    let job = s.take(&runner);
    let (id, token) = (job["id"].as_i64().unwrap(), job["token"].as_str().unwrap().to_string());
    let url = job["variables"].as_array().unwrap().iter().find(|v| v["key"] == "CI_REPOSITORY_URL").unwrap();
    let host = s.app.address.trim_start_matches("http://");
    let expected = format!("http://gitlab-ci-token:{token}@{host}/{}.git", s.r.project_path);
    assert_eq!(url["value"], expected);
    assert_eq!(url["public"], false);
    assert_eq!(job["git_info"]["repo_url"], expected);
    for absent in ["CI_REGISTRY", "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD", "CI_REGISTRY_IMAGE"] {
        assert!(values_of(&job, absent).is_empty(), "{absent}");
    }
    let line = format!("Cloning {expected}\n");
    let resp = s.patch(id, &token, &format!("0-{}", line.len()), &line);
    assert_eq!(resp.status().as_u16(), 202);
    let log = s
        .app
        .get(&format!("/projects/{}/jobs/{id}/trace", s.r.project_id), Some(&s.r.developer.token))
        .text()
        .unwrap();
    assert!(!log.contains(&token), "{log}");
    assert!(log.starts_with("Cloning http://gitlab-ci-token:[MASKED]"), "{log}");
}
