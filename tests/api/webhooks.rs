//! Project webhooks: every event of a triggered pipeline's life reaches a receiver in order,
//! signed; failing receivers get retries and GitLab's auto-disabling; the SSRF guard; the
//! hooks API's shapes and refusals.

use serde_json::{Value, json};
use triggerd::hooks::signature;

use crate::helpers::*;
use crate::runner_protocol::{Setup, setup_ci_with};
use crate::webhook_receiver::{Answer, Received, Receiver, eventually};

pub(crate) const ONE_JOB: &str = "
build:
  script: [make]
";

/// Local delivery allowed, short waits between retries.
pub(crate) fn fast_hooks(c: &mut triggerd::config::Config) {
    c.webhooks.allow_local_network = true;
    c.webhooks.poll_interval_ms = 50;
    c.webhooks.retry_delay_ms = 50;
    c.webhooks.disable_backoff_ms = 20;
    c.webhooks.max_disable_backoff_ms = 100;
    c.webhooks.timeout_secs = 5;
    c.runners.long_poll_timeout_secs = 0;
}

pub(crate) fn hooks_path(s: &Setup) -> String {
    format!("/projects/{}/hooks", s.r.project_id)
}

/// Creates a hook through the API as the maintainer; returns its JSON.
pub(crate) fn create_hook(s: &Setup, body: Value) -> Value {
    json_of(s.app.post_json(&hooks_path(s), Some(&s.r.maintainer.token), &body), 201)
}

fn pipeline_events(got: &[Received]) -> Vec<&Received> {
    got.iter().filter(|r| r.header("x-gitlab-event") == "Pipeline Hook").collect()
}

fn statuses(got: &[&Received]) -> Vec<String> {
    got.iter().map(|r| r.json()["object_attributes"]["status"].as_str().unwrap().to_string()).collect()
}

/// Runs the pipeline's one job to `status` as a runner would.
fn run_the_job(s: &Setup, status: &str) {
    let runner = s.runner();
    let job = s.take(&runner);
    let id = job["id"].as_i64().unwrap();
    assert_eq!(s.put(id, json!({"token": job["token"], "state": status})).status().as_u16(), 200);
}

#[test]
fn every_event_of_a_triggered_pipelines_life_arrives_in_order_signed_and_with_the_token() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    let hook = create_hook(
        &s,
        json!({"url": rx.url, "token": "s3cret", "pipeline_events": true, "job_events": true,
               "push_events": false, "generate_signing_token": true}),
    );
    let secret = signature::parse_secret(hook["signing_token"].as_str().unwrap()).unwrap();
    assert_eq!(hook["signing_token_present"], true);
    assert!(hook.get("token").is_none());

    let pipeline = s.trigger(json!({"DEPLOY": "yes"}));
    run_the_job(&s, "success");
    let got =
        rx.wait_for(60, |g| statuses(&pipeline_events(g)).last().map(String::as_str) == Some("success"));
    let pipes = pipeline_events(&got);
    assert_eq!(statuses(&pipes), ["created", "pending", "running", "success"]);
    let jobs: Vec<&Received> = got.iter().filter(|r| r.header("x-gitlab-event") == "Job Hook").collect();
    let job_statuses: Vec<String> =
        jobs.iter().map(|r| r.json()["build_status"].as_str().unwrap().to_string()).collect();
    assert_eq!(job_statuses, ["pending", "running", "success"]);

    let mut uuids = std::collections::HashSet::new();
    for r in &got {
        assert_eq!(r.path, "/hook");
        assert_eq!(r.header("x-gitlab-token"), "s3cret");
        assert_eq!(r.header("user-agent"), "GitLab/17.11.0");
        assert_eq!(r.header("content-type"), "application/json");
        assert!(r.header("x-gitlab-instance").starts_with("http://"));
        let id = r.header("x-gitlab-event-uuid");
        assert_eq!(r.header("idempotency-key"), id);
        assert_eq!(r.header("webhook-id"), id);
        assert!(uuids.insert(id.to_string()), "event UUIDs are unique per event");
        let ts: i64 = r.header("webhook-timestamp").parse().unwrap();
        assert_eq!(r.header("webhook-signature"), signature::sign(&secret, id, ts, &r.body));
    }
    let last = pipes.last().unwrap().json();
    assert_eq!(last["object_kind"], "pipeline");
    assert_eq!(last["object_attributes"]["id"], pipeline);
    assert_eq!(last["object_attributes"]["detailed_status"], "passed");
    assert_eq!(last["object_attributes"]["source"], "trigger");
    assert_eq!(last["object_attributes"]["stages"], json!(["test"]));
    assert_eq!(last["object_attributes"]["root_pipeline_id"], pipeline);
    assert!(last["object_attributes"]["variables"].as_array().unwrap().iter().any(|v| v["key"] == "DEPLOY"));
    assert_eq!(last["builds"][0]["name"], "build");
    assert_eq!(last["project"]["id"], s.r.project_id);
    assert_eq!(last["user"]["email"], "[REDACTED]");
    assert!(last["object_attributes"]["created_at"].as_str().unwrap().ends_with(" UTC"));
    assert!(last.get("source_pipeline").is_none());

    // The delivery log shows each attempt, newest first, the token hidden.
    let log = json_of(
        s.app.get(&format!("{}/{}/events", hooks_path(&s), hook["id"]), Some(&s.r.maintainer.token)),
        200,
    );
    assert_eq!(log.as_array().unwrap().len(), got.len().min(20));
    assert_eq!(log[0]["response_status"], "200");
    assert_eq!(log[0]["request_headers"]["X-Gitlab-Token"], "[REDACTED]");
}

#[test]
fn a_receiver_that_is_down_for_a_while_gets_every_event_once_it_is_back_with_the_same_uuid() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    rx.answer(Answer::Status(503));
    let hook = create_hook(&s, json!({"url": rx.url, "pipeline_events": true}));
    s.trigger(json!({}));
    // At least two failed attempts of the first event.
    let failed = rx.wait_for(60, |g| g.len() >= 2);
    assert!(failed.len() >= 2);
    assert_eq!(failed[0].header("x-gitlab-event-uuid"), failed[1].header("x-gitlab-event-uuid"));
    assert_eq!(failed[0].body, failed[1].body, "every retry sends the identical body");
    rx.answer(Answer::Hang);
    std::thread::sleep(std::time::Duration::from_millis(300));
    rx.answer(Answer::Status(200));
    run_the_job(&s, "failed");
    let got = rx.wait_for(60, |g| statuses(&pipeline_events(g)).last().map(String::as_str) == Some("failed"));
    let mut seen: Vec<String> = Vec::new();
    for st in statuses(&pipeline_events(&got)) {
        if seen.last() != Some(&st) {
            seen.push(st);
        }
    }
    assert_eq!(seen, ["created", "pending", "running", "failed"]);
    let hook =
        json_of(s.app.get(&format!("{}/{}", hooks_path(&s), hook["id"]), Some(&s.r.maintainer.token)), 200);
    assert_eq!(hook["alert_status"], "executable");
}

#[test]
fn a_receiver_that_always_fails_gets_the_hook_disabled_and_a_successful_test_enables_it_again() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    rx.answer(Answer::Status(500));
    let hook = create_hook(&s, json!({"url": rx.url, "pipeline_events": true}));
    let path = format!("{}/{}", hooks_path(&s), hook["id"]);
    s.trigger(json!({}));
    assert!(eventually(120, || {
        json_of(s.app.get(&path, Some(&s.r.maintainer.token)), 200)["alert_status"] == "disabled"
    }));
    assert_eq!(rx.received().len(), 40, "disabled at the 40th consecutive failure");
    // Disabled: new events are not queued.
    let before = rx.received().len();
    s.trigger(json!({}));
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(rx.received().len(), before);
    // A failing test keeps it disabled (422 with the receiver's body); a successful one enables it.
    let test = format!("{path}/test/pipeline_events");
    let resp = s.app.post_json(&test, Some(&s.r.maintainer.token), &json!({}));
    assert_error(resp, 422, "message", json!("ok"));
    rx.answer(Answer::Status(200));
    let resp = s.app.post_json(&test, Some(&s.r.maintainer.token), &json!({}));
    assert_eq!(json_of(resp, 201), json!({"message": "201 Created"}));
    let hook = json_of(s.app.get(&path, Some(&s.r.maintainer.token)), 200);
    assert_eq!(hook["alert_status"], "executable");
    assert_eq!(hook["disabled_until"], Value::Null);
    let last = rx.received().pop().unwrap();
    assert!(
        last.json()["object_attributes"]["created_at"].as_str().unwrap().ends_with('Z'),
        "test payloads use ISO-8601"
    );
}

#[test]
fn a_redirect_is_not_followed() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let target = Receiver::start();
    let rx = Receiver::start();
    rx.answer(Answer::Redirect(target.url.clone()));
    create_hook(&s, json!({"url": rx.url, "pipeline_events": true}));
    s.trigger(json!({}));
    assert_eq!(rx.wait_for(60, |g| g.len() >= 2).len(), 2, "a 3xx counts as delivered, as in GitLab");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(target.received().is_empty());
}

#[test]
fn hook_urls_on_the_local_network_are_refused_when_saved_and_when_delivered() {
    let s = setup_ci_with(ONE_JOB, |c| {
        c.webhooks.poll_interval_ms = 50;
        c.runners.long_poll_timeout_secs = 0;
    });
    for url in [
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://10.1.2.3/x",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "ftp://example.com/",
        "javascript:alert(1)",
        "not a url",
    ] {
        let resp = s.app.post_json(&hooks_path(&s), Some(&s.r.maintainer.token), &json!({"url": url}));
        assert_error(resp, 422, "error", json!("Invalid url given"));
    }
    // A hook that got a local URL anyway (stored before, or a name resolving to 127.0.0.1) is
    // checked again on the resolved address at delivery: nothing is sent.
    let rx = Receiver::start();
    let hook = create_hook(&s, json!({"url": "https://hooks.example.com/in", "pipeline_events": true}));
    s.app
        .db()
        .execute(
            "UPDATE project_hooks SET url = ?1 WHERE id = ?2",
            rusqlite::params![rx.url, hook["id"].as_i64().unwrap()],
        )
        .unwrap();
    s.trigger(json!({}));
    let log_path = format!("{}/{}/events", hooks_path(&s), hook["id"]);
    assert!(eventually(60, || {
        !json_of(s.app.get(&log_path, Some(&s.r.maintainer.token)), 200).as_array().unwrap().is_empty()
    }));
    let log = json_of(s.app.get(&log_path, Some(&s.r.maintainer.token)), 200);
    assert_eq!(log[0]["response_status"], "internal error");
    assert!(log[0]["internal_error_message"].as_str().unwrap().contains("local network"), "{log}");
    assert!(rx.received().is_empty());
}

#[test]
fn a_trigger_call_that_fails_validation_queues_no_event() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    create_hook(&s, json!({"url": rx.url, "pipeline_events": true}));
    let resp = s.app.post_json(
        &format!("/projects/{}/trigger/pipeline", s.r.project_id),
        None,
        &json!({"token": s.trigger, "ref": "no-such-branch"}),
    );
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(s.app.count("hook_deliveries"), 0);
    assert_eq!(s.app.count("pipelines"), 0);
}

#[test]
fn a_project_without_hooks_queues_nothing_on_status_changes() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    s.trigger(json!({}));
    run_the_job(&s, "success");
    assert_eq!(s.app.count("hook_deliveries"), 0);
}

#[test]
fn a_pipeline_triggered_by_a_job_token_carries_its_source_pipeline() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    create_hook(&s, json!({"url": rx.url, "pipeline_events": true}));
    let upstream = s.trigger(json!({}));
    let runner = s.runner();
    let job = s.take(&runner);
    let resp = s.app.post_json(
        &format!("/projects/{}/trigger/pipeline", s.r.project_id),
        None,
        &json!({"token": job["token"], "ref": "main"}),
    );
    let downstream = json_of(resp, 201)["id"].as_i64().unwrap();
    let got = rx.wait_for(60, |g| {
        pipeline_events(g).iter().any(|r| r.json()["object_attributes"]["id"] == downstream)
    });
    let event = pipeline_events(&got)
        .into_iter()
        .find(|r| r.json()["object_attributes"]["id"] == downstream)
        .unwrap()
        .json();
    assert_eq!(event["object_attributes"]["source"], "pipeline");
    assert_eq!(event["object_attributes"]["root_pipeline_id"], upstream);
    let source = &event["source_pipeline"];
    assert_eq!(source["pipeline_id"], upstream);
    assert_eq!(source["job_id"], job["id"]);
    assert_eq!(source["bridge_id"], Value::Null);
    assert_eq!(source["project"]["id"], s.r.project_id);
    assert_eq!(source["project"]["path_with_namespace"], s.r.project_path);
}

#[test]
fn an_external_cis_statuses_move_the_pipeline_hook_but_fire_no_job_hook_and_stay_out_of_builds() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let rx = Receiver::start();
    create_hook(&s, json!({"url": rx.url, "pipeline_events": true, "job_events": true}));
    let pipeline = s.trigger(json!({}));
    let read = |path: &str| json_of(s.app.get(path, Some(&s.r.developer.token)), 200);
    let sha = read(&format!("/projects/{}/pipelines/{pipeline}", s.r.project_id))["sha"]
        .as_str()
        .unwrap()
        .to_string();
    let post = |state: &str| {
        let body = json!({"state": state, "name": "jenkins", "pipeline_id": pipeline});
        let url = format!("/projects/{}/statuses/{sha}", s.r.project_id);
        assert_eq!(s.app.post_json(&url, Some(&s.r.developer.token), &body).status().as_u16(), 201);
    };
    post("running");
    run_the_job(&s, "success");
    post("success");
    let got =
        rx.wait_for(60, |g| statuses(&pipeline_events(g)).last().map(String::as_str) == Some("success"));
    let pipes = pipeline_events(&got);
    for p in &pipes {
        let payload = p.json();
        let names: Vec<&str> =
            payload["builds"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["build"], "external jobs are not builds: {}", p.body);
    }
    let job_names: Vec<String> = got
        .iter()
        .filter(|r| r.header("x-gitlab-event") == "Job Hook")
        .map(|r| r.json()["build_name"].as_str().unwrap().to_string())
        .collect();
    assert!(!job_names.is_empty() && job_names.iter().all(|n| n == "build"), "{job_names:?}");
}
