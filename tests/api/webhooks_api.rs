//! The project hooks API: GitLab's entity, write-only secrets, hostile input, the test call,
//! the delivery log and resend (deliveries themselves are in `webhooks.rs`).

use serde_json::{Value, json};

use crate::helpers::*;
use crate::runner_protocol::setup_ci_with;
use crate::webhook_receiver::Receiver;
use crate::webhooks::{ONE_JOB, create_hook, fast_hooks, hooks_path};

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
fn an_over_long_hook_name_is_a_400_naming_the_field() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let resp = s.app.post_json(
        &hooks_path(&s),
        Some(&s.r.maintainer.token),
        &json!({"url": "https://e.com/", "name": "n".repeat(256)}),
    );
    assert_error(resp, 400, "message", json!({"name": ["is too long (maximum is 255 characters)"]}));
}

#[test]
fn one_custom_header_is_set_and_removed_by_its_own_route() {
    let s = setup_ci_with(ONE_JOB, fast_hooks);
    let maint = Some(s.r.maintainer.token.as_str());
    let hook = create_hook(&s, json!({"url": "https://e.com/"}));
    let path = format!("{}/{}", hooks_path(&s), hook["id"]);
    let header = format!("{path}/custom_headers/X-Team");
    assert_eq!(s.app.put_json(&header, maint, &json!({"value": "ci"})).status().as_u16(), 204);
    assert_eq!(json_of(s.app.get(&path, maint), 200)["custom_headers"], json!([{"key": "X-Team"}]));
    let bad = s.app.put_json(&header, maint, &json!({"value": "two\nlines"}));
    assert_error(bad, 422, "error", json!("Illegal key or value"));
    assert_error(s.app.put_json(&header, maint, &json!({})), 400, "error", json!("value is missing"));
    assert_eq!(s.app.delete(&header, maint).status().as_u16(), 204);
    assert_error(s.app.delete(&header, maint), 404, "message", json!("404 Custom header Not Found"));
    assert_eq!(json_of(s.app.get(&path, maint), 200)["custom_headers"], json!([]));
}
