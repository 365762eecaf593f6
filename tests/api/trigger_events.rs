//! The audit log of trigger calls (issue 14, point 7): every call of a trigger token is recorded
//! (accepted, replayed, rejected) with the client's address, the ref, the status, the reason and
//! the pipeline; unknown tokens are counted per project and day without the secret.

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::helpers::*;

struct Fixture {
    app: TestApp,
    roles: Roles,
    pid: i64,
    trigger: SeededTrigger,
}

fn fixture() -> Fixture {
    let app = spawn_app();
    let roles = app.roles();
    let pid = roles.project_id;
    app.seed_ref(pid, "branch", "main");
    let trigger = app.seed_trigger(pid, &roles.maintainer, "bot");
    Fixture { app, roles, pid, trigger }
}

impl Fixture {
    fn call(&self, token: &str, body: Value, key: Option<&str>) -> Response {
        let mut body = body;
        body["token"] = Value::String(token.to_string());
        let rb = self.app.request(Method::POST, &format!("/projects/{}/trigger/pipeline", self.pid), None);
        let rb = match key {
            Some(k) => rb.header("Idempotency-Key", k),
            None => rb,
        };
        rb.json(&body).send().unwrap()
    }

    fn events(&self, trigger_id: i64) -> Vec<Value> {
        let path = format!("/projects/{}/triggers/{trigger_id}/events", self.pid);
        json_of(self.app.get(&path, Some(&self.roles.maintainer.token)), 200).as_array().unwrap().clone()
    }
}

#[test]
fn every_call_of_a_token_is_recorded_newest_first_with_address_ref_outcome_and_pipeline() {
    let f = fixture();
    let created = json_of(f.call(&f.trigger.token, json!({"ref": "main"}), Some("k")), 201);
    let pipeline_id = created["id"].as_i64().unwrap();
    assert_eq!(f.call(&f.trigger.token, json!({"ref": "nowhere"}), None).status(), 400);
    assert_eq!(f.call(&f.trigger.token, json!({"ref": "main"}), Some("k")).status(), 200);
    let events = f.events(f.trigger.id);
    assert_eq!(events.len(), 3, "{events:?}");
    let row = |e: &Value| {
        (e["outcome"].as_str().unwrap().to_string(), e["status"].as_i64().unwrap(), e["pipeline_id"].as_i64())
    };
    assert_eq!(row(&events[0]), ("replayed".into(), 200, Some(pipeline_id)));
    assert_eq!(row(&events[1]), ("rejected".into(), 400, None));
    assert_eq!(row(&events[2]), ("accepted".into(), 201, Some(pipeline_id)));
    assert_eq!(events[1]["ref"], "nowhere");
    assert!(events[1]["reason"].to_string().contains("Reference not found"), "{}", events[1]);
    for e in &events {
        assert_eq!(e["client_address"], "127.0.0.1");
        assert!(e["created_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(events[2]["reason"], Value::Null);
    // The token's JSON shows where it was last used from.
    let path = format!("/projects/{}/triggers/{}", f.pid, f.trigger.id);
    let trigger = json_of(f.app.get(&path, Some(&f.roles.maintainer.token)), 200);
    assert_eq!(trigger["last_used_ip"], "127.0.0.1");
}

#[test]
fn a_token_never_used_has_no_last_used_ip() {
    let f = fixture();
    let path = format!("/projects/{}/triggers/{}", f.pid, f.trigger.id);
    let trigger = json_of(f.app.get(&path, Some(&f.roles.maintainer.token)), 200);
    assert_eq!(trigger["last_used_ip"], Value::Null);
    assert_eq!(f.events(f.trigger.id), Vec::<Value>::new());
}

#[test]
fn an_expired_token_and_a_policy_refusal_are_recorded_with_their_reason() {
    let f = fixture();
    let expired =
        f.app.seed_trigger_expiring(f.pid, &f.roles.maintainer, "old", Some("2001-01-01T00:00:00.000Z"));
    assert_eq!(f.call(&expired.token, json!({"ref": "main"}), None).status(), 404);
    let events = f.events(expired.id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["outcome"], "rejected");
    assert_eq!(events[0]["status"], 404);
    assert_eq!(events[0]["reason"], "the trigger token has expired");

    let path = format!("/projects/{}/triggers/{}", f.pid, f.trigger.id);
    let resp =
        f.app.put_json(&path, Some(&f.roles.maintainer.token), &json!({"allowed_refs": ["release/*"]}));
    assert_eq!(resp.status(), 200);
    assert_eq!(f.call(&f.trigger.token, json!({"ref": "main"}), None).status(), 403);
    let events = f.events(f.trigger.id);
    assert_eq!(events[0]["status"], 403);
    assert!(events[0]["reason"].as_str().unwrap().contains("does not allow the ref"), "{}", events[0]);
    assert_eq!(f.app.count("pipelines"), 0);
}

#[test]
fn unknown_tokens_are_counted_per_project_and_day_without_the_secret() {
    let f = fixture();
    let secret = "glptt-thisisnotatokenofthisproject00";
    for _ in 0..3 {
        assert_eq!(f.call(secret, json!({"ref": "main"}), None).status(), 404);
    }
    let path = format!("/projects/{}/triggers/unknown_attempts", f.pid);
    let days = json_of(f.app.get(&path, Some(&f.roles.maintainer.token)), 200);
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 1);
    assert_eq!(days[0]["attempts"], 3);
    assert_eq!(days[0]["last_client_address"], "127.0.0.1");
    assert_eq!(days[0]["date"].as_str().unwrap().len(), 10);
    assert_eq!(f.app.count("trigger_events"), 0);
    // The secret is nowhere in the file.
    drop(f.app.db());
    let bytes = std::fs::read(&f.app.db_path).unwrap();
    let wal = std::fs::read(f.app.db_path.with_extension("db-wal")).unwrap_or_default();
    for b in [bytes, wal] {
        assert!(!b.windows(secret.len()).any(|w| w == secret.as_bytes()));
    }
}

#[test]
fn a_dry_run_records_nothing() {
    let f = fixture();
    assert_eq!(f.call(&f.trigger.token, json!({"ref": "main", "dry_run": true}), None).status(), 200);
    assert_eq!(f.call(&f.trigger.token, json!({"ref": "nowhere", "dry_run": true}), None).status(), 400);
    assert_eq!(f.app.count("trigger_events"), 0);
    assert_eq!(f.app.count("trigger_unknown_attempts"), 0);
}

#[test]
fn events_are_for_maintainers_of_the_project_and_paginated() {
    let f = fixture();
    for _ in 0..3 {
        assert_eq!(f.call(&f.trigger.token, json!({"ref": "main"}), None).status(), 201);
    }
    let path = format!("/projects/{}/triggers/{}/events", f.pid, f.trigger.id);
    let resp = f.app.get(&format!("{path}?per_page=2&page=2"), Some(&f.roles.maintainer.token));
    assert_eq!(resp.headers()["x-total"], "3");
    assert_eq!(json_of(resp, 200).as_array().unwrap().len(), 1);
    assert_eq!(f.app.get(&path, Some(&f.roles.developer.token)).status(), 403);
    assert_eq!(f.app.get(&path, Some(&f.roles.non_member.token)).status(), 404);
    assert_eq!(f.app.get(&path, None).status(), 401);
    let other = f.app.create_project(&f.roles.owner, "other", "private");
    let foreign = f.app.seed_trigger(other, &f.roles.owner, "theirs");
    let cross = format!("/projects/{}/triggers/{}/events", f.pid, foreign.id);
    assert_eq!(f.app.get(&cross, Some(&f.roles.maintainer.token)).status(), 404);
    let bad = format!("/projects/{}/triggers/abc/events", f.pid);
    assert_eq!(f.app.get(&bad, Some(&f.roles.maintainer.token)).status(), 400);
}

#[test]
fn the_sweep_drops_records_past_retention_and_keeps_the_newest_per_trigger() {
    let f = fixture();
    for _ in 0..5 {
        assert_eq!(f.call(&f.trigger.token, json!({"ref": "main"}), None).status(), 201);
    }
    let conn = f.app.db();
    conn.execute(
        "UPDATE trigger_events SET created_at = '2001-01-01T00:00:00.000Z'
         WHERE id IN (SELECT id FROM trigger_events ORDER BY id LIMIT 3)",
        [],
    )
    .unwrap();
    use triggerd::db::trigger_events::{sweep_old, trim_per_trigger};
    // The sweep goes in bounded steps, oldest first, until a step finds fewer than its bound.
    assert_eq!(sweep_old(&conn, "2020-01-01T00:00:00.000Z", 2).unwrap(), 2);
    assert_eq!(sweep_old(&conn, "2020-01-01T00:00:00.000Z", 2).unwrap(), 1);
    assert_eq!(sweep_old(&conn, "2020-01-01T00:00:00.000Z", 2).unwrap(), 0);
    assert_eq!(f.events(f.trigger.id).len(), 2);
    assert_eq!(trim_per_trigger(&conn, 1).unwrap(), 1);
    assert_eq!(f.events(f.trigger.id).len(), 1);
}

#[test]
fn a_long_ref_is_cut_in_the_record() {
    let f = fixture();
    let long = "r".repeat(1000);
    assert_eq!(f.call(&f.trigger.token, json!({"ref": long}), None).status(), 400);
    let events = f.events(f.trigger.id);
    assert_eq!(events[0]["ref"].as_str().unwrap().len(), 255);
}
