//! Project webhooks: every event of a triggered pipeline's life reaches a receiver in order,
//! signed; failing receivers get retries and GitLab's auto-disabling; the SSRF guard; the
//! hooks API's shapes and refusals.

use serde_json::{Value, json};
use triggerd::hooks::signature;

use crate::helpers::*;
use crate::runner_protocol::{Setup, setup_ci_with};
use crate::webhook_receiver::{Answer, Received, Receiver, eventually};

const ONE_JOB: &str = "
build:
  script: [make]
";

/// Local delivery allowed, short waits between retries.
fn fast_hooks(c: &mut triggerd::config::Config) {
    c.webhooks.allow_local_network = true;
    c.webhooks.poll_interval_ms = 50;
    c.webhooks.retry_delay_ms = 50;
    c.webhooks.disable_backoff_ms = 20;
    c.webhooks.max_disable_backoff_ms = 100;
    c.webhooks.timeout_secs = 5;
    c.runners.long_poll_timeout_secs = 0;
}

fn hooks_path(s: &Setup) -> String {
    format!("/projects/{}/hooks", s.r.project_id)
}

/// Creates a hook through the API as the maintainer; returns its JSON.
fn create_hook(s: &Setup, body: Value) -> Value {
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
    assert!(job_statuses.ends_with(&["running".to_string(), "success".to_string()]), "{job_statuses:?}");

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
fn the_hooks_api_shows_gitlabs_entity_and_never_the_token_or_header_values() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let maint = Some(s.r.maintainer.token.as_str());
    let hook = create_hook(
        &s,
        json!({"url": "https://hooks.example.com/a", "token": "t", "name": "ci", "issues_events": "true",
               "custom_headers": [{"key": "X-Extra", "value": "hidden"}]}),
    );
    assert_eq!(hook["push_events"], true);
    assert_eq!(hook["pipeline_events"], false);
    assert_eq!(hook["issues_events"], true);
    assert_eq!(hook["enable_ssl_verification"], true);
    assert_eq!(hook["alert_status"], "executable");
    assert_eq!(hook["token_present"], true);
    assert_eq!(hook["custom_headers"], json!([{"key": "X-Extra"}]));
    assert!(!hook.to_string().contains("hidden"));
    let list = json_of(s.app.get(&hooks_path(&s), maint), 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("custom_headers").is_none());
    let path = format!("{}/{}", hooks_path(&s), hook["id"]);
    // A new URL without a new token drops the token (GitLab).
    let updated = json_of(s.app.put_json(&path, maint, &json!({"url": "https://hooks.example.com/b"})), 200);
    assert_eq!(updated["token_present"], false);
    assert_eq!(updated["url"], "https://hooks.example.com/b");
    assert_error(s.app.put_json(&path, maint, &json!({})), 400, "error", json!("No parameters provided"));
    assert_error(s.app.post_json(&hooks_path(&s), maint, &json!({})), 400, "error", json!("url is missing"));
    // Another project's hook id is not found here.
    let other = s.app.create_project(&s.r.owner, "other", "private");
    s.app.add_member(other, &s.r.maintainer, MAINTAINER);
    assert_error(
        s.app.get(&format!("/projects/{other}/hooks/{}", hook["id"]), maint),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_eq!(s.app.delete(&path, maint).status().as_u16(), 204);
    assert_error(s.app.get(&path, maint), 404, "message", json!("404 Not found"));
}

#[test]
fn hostile_hook_input_is_refused_with_a_4xx_and_changes_nothing() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let maint = Some(s.r.maintainer.token.as_str());
    let post = |body: Value| s.app.post_json(&hooks_path(&s), maint, &body).status().as_u16();
    assert_eq!(post(json!({"url": format!("https://e.com/{}", "a".repeat(100_000))})), 422);
    assert_eq!(post(json!({"url": "https://e.com/", "token": "a\nb"})), 422);
    for bad in [
        json!([{"key": "Bad Header", "value": "v"}]),
        json!([{"key": "X-Ok", "value": "line\nbreak"}]),
        json!([{"key": "X-Ok", "value": " padded "}]),
        json!([{"key": "X-Gitlab-Token", "value": "override"}]),
        json!([{"key": "X-Ok", "value": ""}]),
    ] {
        assert_eq!(post(json!({"url": "https://e.com/", "custom_headers": bad})), 422, "{bad}");
    }
    assert_eq!(
        post(json!({"url": "https://e.com/", "custom_headers": [{"key": "K".repeat(300), "value": "v"}]})),
        400
    );
    let many: Vec<Value> = (0..21).map(|i| json!({"key": format!("X-{i}"), "value": "v"})).collect();
    assert_eq!(post(json!({"url": "https://e.com/", "custom_headers": many})), 400);
    let lots: Vec<Value> = (0..10_000).map(|i| json!({"key": format!("X-{i}"), "value": "v"})).collect();
    assert_eq!(post(json!({"url": "https://e.com/", "custom_headers": lots})), 400);
    assert_eq!(post(json!({"url": "https://e.com/", "custom_headers": {"a": {"b": {"c": 1}}}})), 400);
    assert_eq!(post(json!({"url": "https://e.com/", "pipeline_events": "maybe"})), 400);
    assert_eq!(post(json!({"url": "https://e.com/", "signing_token": "whsec_short"})), 422);
    assert_eq!(post(json!({"url": "https://e.com/", "branch_filter_strategy": "glob"})), 400);
    assert_eq!(s.app.count("project_hooks"), 0);
    // Path ids that are not numbers, or huge.
    let base = hooks_path(&s);
    assert_eq!(s.app.get(&format!("{base}/abc"), maint).status().as_u16(), 400);
    assert_eq!(s.app.get(&format!("{base}/99999999999999999999"), maint).status().as_u16(), 400);
}

#[test]
fn the_test_call_and_the_log_follow_gitlabs_rules_and_resend_keeps_the_event_uuid() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let maint = Some(s.r.maintainer.token.as_str());
    let rx = Receiver::start();
    let hook = create_hook(&s, json!({"url": rx.url}));
    let path = format!("{}/{}", hooks_path(&s), hook["id"]);
    let test = |t: &str| s.app.post_json(&format!("{path}/test/{t}"), maint, &json!({}));
    assert_error(test("pipeline_events"), 422, "message", json!("Ensure the project has CI pipelines."));
    assert_error(test("job_events"), 422, "message", json!("Ensure the project has jobs."));
    assert_error(test("push_events"), 422, "message", json!("Testing not available for this hook"));
    assert_error(test("nope"), 400, "error", json!("trigger does not have a valid value"));
    s.trigger(json!({}));
    assert_eq!(test("pipeline_events").status().as_u16(), 201);
    assert_eq!(test("job_events").status().as_u16(), 201);
    assert_eq!(rx.received()[1].header("x-gitlab-event"), "Job Hook");
    let events = format!("{path}/events");
    assert_error(
        s.app.get(&format!("{events}?per_page=21"), maint),
        400,
        "error",
        json!("per_page does not have a valid value"),
    );
    assert_error(
        s.app.get(&format!("{events}?status=bogus"), maint),
        400,
        "error",
        json!("status does not have a valid value"),
    );
    assert_eq!(json_of(s.app.get(&format!("{events}?status=500"), maint), 200), json!([]));
    let log = json_of(s.app.get(&format!("{events}?status=successful"), maint), 200);
    assert_eq!(log.as_array().unwrap().len(), 2);
    let resend = s.app.post_json(&format!("{events}/{}/resend", log[0]["id"]), maint, &json!({}));
    assert_eq!(json_of(resend, 201), json!({"response_status": 200}));
    let got = rx.received();
    assert_eq!(got[2].header("x-gitlab-event-uuid"), got[1].header("x-gitlab-event-uuid"));
    assert_eq!(got[2].body, got[1].body);
    // A changed URL makes old log entries unsendable.
    s.app.put_json(&path, maint, &json!({"url": format!("{}?v=2", rx.url)}));
    let resend = s.app.post_json(&format!("{events}/{}/resend", log[0]["id"]), maint, &json!({}));
    assert_error(
        resend,
        422,
        "message",
        json!("The hook URL has changed. This log entry cannot be retried."),
    );
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
fn an_over_long_hook_name_is_a_400_naming_the_field() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let resp = s.app.post_json(
        &hooks_path(&s),
        Some(&s.r.maintainer.token),
        &json!({"url": "https://e.com/", "name": "n".repeat(256)}),
    );
    assert_error(resp, 400, "message", json!({"name": ["is too long (maximum is 255 characters)"]}));
}
