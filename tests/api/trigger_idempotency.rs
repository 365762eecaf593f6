//! Idempotency keys on the trigger call (issue 14, point 5): `Idempotency-Key` replays the first
//! answer to a retry with the same token, refuses the key for other parameters (422), and stores
//! nothing for a call that failed.

use reqwest::Method;
use reqwest::blocking::{RequestBuilder, Response};
use serde_json::{Value, json};

use crate::helpers::*;

struct Fixture {
    app: TestApp,
    roles: Roles,
    pid: i64,
    token: String,
}

fn fixture() -> Fixture {
    let app = spawn_app();
    let roles = app.roles();
    let pid = roles.project_id;
    app.seed_ref(pid, "branch", "main");
    app.seed_ref(pid, "branch", "dev");
    let token = app.seed_trigger(pid, &roles.maintainer, "bot").token;
    Fixture { app, roles, pid, token }
}

impl Fixture {
    fn request(&self, token: &str, key: Option<&str>, body: Value) -> RequestBuilder {
        let mut body = body;
        body["token"] = Value::String(token.to_string());
        let rb = self.app.request(Method::POST, &format!("/projects/{}/trigger/pipeline", self.pid), None);
        let rb = match key {
            Some(k) => rb.header("Idempotency-Key", k),
            None => rb,
        };
        rb.json(&body)
    }

    fn call(&self, key: Option<&str>, body: Value) -> Response {
        self.request(&self.token, key, body).send().unwrap()
    }
}

fn replayed(resp: &Response) -> Option<String> {
    resp.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap().to_string())
}

#[test]
fn a_retry_with_the_same_key_gets_the_first_pipeline_with_200_and_a_replay_header() {
    let f = fixture();
    let body = json!({"ref": "main", "variables": {"A": "1", "B": "2"}});
    let first = f.call(Some("deploy-42"), body.clone());
    assert_eq!(first.status(), 201);
    assert_eq!(replayed(&first), None);
    let first_body = first.text().unwrap();
    // The variables in another order are the same call.
    let retry = f.call(Some("deploy-42"), json!({"ref": "main", "variables": {"B": "2", "A": "1"}}));
    assert_eq!(retry.status(), 200);
    assert_eq!(replayed(&retry).as_deref(), Some("true"));
    assert_eq!(retry.text().unwrap(), first_body);
    assert_eq!(f.app.count("pipelines"), 1);
    let id = serde_json::from_str::<Value>(&first_body).unwrap()["id"].as_i64().unwrap();
    let stored: Option<i64> =
        f.app.db().query_row("SELECT pipeline_id FROM trigger_idempotency_keys", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, Some(id));
}

#[test]
fn the_same_key_with_another_ref_variables_or_inputs_is_a_422_and_creates_nothing() {
    let f = fixture();
    assert_eq!(f.call(Some("k"), json!({"ref": "main", "variables": {"A": "1"}})).status(), 201);
    for other in [
        json!({"ref": "dev", "variables": {"A": "1"}}),
        json!({"ref": "main", "variables": {"A": "2"}}),
        json!({"ref": "main", "variables": {}}),
        json!({"ref": "main", "variables": {"A": "1"}, "inputs": {"x": "y"}}),
    ] {
        let resp = f.call(Some("k"), other.clone());
        assert_eq!(resp.status(), 422, "{other}");
        let message = json_of(resp, 422)["message"].as_str().unwrap().to_string();
        assert!(message.contains("Idempotency-Key") && message.contains("another ref"), "{message}");
    }
    assert_eq!(f.app.count("pipelines"), 1);
}

#[test]
fn two_calls_with_one_key_at_the_same_moment_create_one_pipeline() {
    let f = fixture();
    for round in 0..5 {
        let key = format!("race-{round}");
        let body = json!({"ref": "main", "variables": {"ROUND": round.to_string()}});
        let mut statuses =
            at_once(f.request(&f.token, Some(&key), body.clone()), f.request(&f.token, Some(&key), body));
        statuses.sort();
        assert_eq!(statuses, [200, 201], "round {round}");
        assert_eq!(f.app.count("pipelines"), round + 1);
    }
}

#[test]
fn a_key_belongs_to_one_trigger_token() {
    let f = fixture();
    let other = f.app.seed_trigger(f.pid, &f.roles.owner, "another bot").token;
    let body = json!({"ref": "main"});
    assert_eq!(f.call(Some("shared"), body.clone()).status(), 201);
    assert_eq!(f.request(&other, Some("shared"), body).send().unwrap().status(), 201);
    assert_eq!(f.app.count("pipelines"), 2);
}

#[test]
fn calls_without_a_key_are_never_deduplicated() {
    let f = fixture();
    assert_eq!(f.call(None, json!({"ref": "main"})).status(), 201);
    assert_eq!(f.call(None, json!({"ref": "main"})).status(), 201);
    assert_eq!(f.app.count("pipelines"), 2);
    assert_eq!(f.app.count("trigger_idempotency_keys"), 0);
}

#[test]
fn an_empty_overlong_or_non_ascii_key_is_a_400_and_creates_nothing() {
    let f = fixture();
    let long = "k".repeat(256);
    for key in ["", long.as_str(), "tab\there"] {
        let resp = f.call(Some(key), json!({"ref": "main"}));
        assert_eq!(resp.status(), 400, "{key:?}");
        let error = json_of(resp, 400)["error"].as_str().unwrap().to_string();
        assert!(error.contains("Idempotency-Key"), "{error}");
    }
    let max = "k".repeat(255);
    assert_eq!(f.call(Some(&max), json!({"ref": "main"})).status(), 201);
    let twice =
        f.request(&f.token, Some("a"), json!({"ref": "main"})).header("Idempotency-Key", "b").send().unwrap();
    assert_eq!(twice.status(), 400);
    assert_eq!(f.app.count("pipelines"), 1);
}

#[test]
fn a_failed_call_stores_no_key_so_its_retry_runs_again() {
    let f = fixture();
    let resp = f.call(Some("k"), json!({"ref": "nowhere"}));
    assert_eq!(resp.status(), 400);
    assert_eq!(f.app.count("trigger_idempotency_keys"), 0);
    f.app.seed_ref(f.pid, "branch", "nowhere");
    assert_eq!(f.call(Some("k"), json!({"ref": "nowhere"})).status(), 201);
}

#[test]
fn an_unknown_token_with_a_used_key_is_still_a_404() {
    let f = fixture();
    assert_eq!(f.call(Some("k"), json!({"ref": "main"})).status(), 201);
    let resp =
        f.request("glptt-0000000000000000000000000000", Some("k"), json!({"ref": "main"})).send().unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn a_key_older_than_24_hours_starts_a_new_pipeline() {
    let f = fixture();
    assert_eq!(f.call(Some("k"), json!({"ref": "main"})).status(), 201);
    f.app
        .db()
        .execute("UPDATE trigger_idempotency_keys SET created_at = '2000-01-01T00:00:00.000Z'", [])
        .unwrap();
    // Even with other parameters: the old answer no longer counts.
    assert_eq!(f.call(Some("k"), json!({"ref": "dev"})).status(), 201);
    assert_eq!(f.app.count("pipelines"), 2);
    assert_eq!(f.app.count("trigger_idempotency_keys"), 1);
}

#[test]
fn a_dry_run_replays_a_used_key_and_stores_no_new_one() {
    let f = fixture();
    let dry = f.call(Some("fresh"), json!({"ref": "main", "dry_run": true}));
    assert_eq!(dry.status(), 200);
    assert_eq!(replayed(&dry), None);
    assert_eq!(f.app.count("trigger_idempotency_keys"), 0);
    assert_eq!(f.call(Some("used"), json!({"ref": "main"})).status(), 201);
    let again = f.call(Some("used"), json!({"ref": "main", "dry_run": true}));
    assert_eq!(again.status(), 200);
    assert_eq!(replayed(&again).as_deref(), Some("true"));
    assert_eq!(f.call(Some("used"), json!({"ref": "dev", "dry_run": true})).status(), 422);
    assert_eq!(f.app.count("pipelines"), 1);
}

#[test]
fn deleting_the_trigger_deletes_its_keys() {
    let f = fixture();
    assert_eq!(f.call(Some("k"), json!({"ref": "main"})).status(), 201);
    f.app.db().execute("DELETE FROM triggers", []).unwrap();
    assert_eq!(f.app.count("trigger_idempotency_keys"), 0);
}

#[test]
fn a_key_whose_call_kept_a_failed_pipeline_replays_the_422_and_creates_nothing_more() {
    let app = spawn_app();
    let roles = app.roles();
    let owner = &roles.owner;
    let project = json_of(
        app.post_json(
            "/projects",
            Some(&owner.token),
            &json!({"name": "ci", "initialize_with_readme": true}),
        ),
        201,
    );
    let pid = project["id"].as_i64().unwrap();
    let file = format!("/projects/{pid}/repository/files/.gitlab-ci.yml");
    let body = json!({"branch": "main", "content": "build:\n  stage: build\n", "commit_message": "ci"});
    assert_eq!(app.post_json(&file, Some(&owner.token), &body).status(), 201);
    let token = app.seed_trigger(pid, owner, "ci").token;
    let call = || {
        app.request(Method::POST, &format!("/projects/{pid}/trigger/pipeline"), None)
            .header("Idempotency-Key", "broken")
            .json(&json!({"ref": "main", "token": token}))
            .send()
            .unwrap()
    };
    let first = call();
    assert_eq!(first.status(), 422);
    assert_eq!(replayed(&first), None);
    let first_body = first.text().unwrap();
    let again = call();
    assert_eq!(again.status(), 422);
    assert_eq!(replayed(&again).as_deref(), Some("true"));
    assert_eq!(again.text().unwrap(), first_body);
    assert_eq!(app.count("pipelines"), 1);
}
