//! Trigger token policies (issue 14): `allowed_refs` (1), the variable policy (2). Set on
//! `POST|PUT /projects/:id/triggers(/:trigger_id)`, shown in the trigger JSON, enforced by the
//! trigger call.

use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::helpers::*;

/// A private project with `main`, `release/1.0` and the tag `v1.0`.
struct Fixture {
    app: TestApp,
    roles: Roles,
    pid: i64,
}

fn fixture() -> Fixture {
    let app = spawn_app();
    let roles = app.roles();
    let pid = roles.project_id;
    app.seed_ref(pid, "branch", "main");
    app.seed_ref(pid, "branch", "release/1.0");
    app.seed_ref(pid, "tag", "v1.0");
    Fixture { app, roles, pid }
}

impl Fixture {
    fn triggers_path(&self) -> String {
        format!("/projects/{}/triggers", self.pid)
    }

    /// Creates a trigger as the maintainer with `extra` fields; returns its JSON (full token).
    fn create(&self, extra: Value) -> Value {
        let mut body = json!({"description": "bot"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        json_of(self.app.post_json(&self.triggers_path(), Some(&self.roles.maintainer.token), &body), 201)
    }

    fn update(&self, id: i64, body: Value) -> Response {
        self.app.put_json(
            &format!("{}/{id}", self.triggers_path()),
            Some(&self.roles.maintainer.token),
            &body,
        )
    }

    fn call(&self, token: &str, r: &str, variables: Value) -> Response {
        self.app.post_json(
            &format!("/projects/{}/trigger/pipeline", self.pid),
            None,
            &json!({"ref": r, "token": token, "variables": variables}),
        )
    }

    fn pipelines(&self) -> i64 {
        self.app.count("pipelines")
    }
}

fn token_of(t: &Value) -> String {
    t["token"].as_str().unwrap().to_string()
}

fn message_of(resp: Response, status: u16) -> String {
    let body = json_of(resp, status);
    body["message"].as_str().unwrap_or_else(|| panic!("no message string in {body}")).to_string()
}

// ---------------------------------------------------------------------------------------------
// 1. allowed_refs

#[test]
fn a_token_limited_to_release_branches_triggers_them_and_gets_403_for_main() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["release/*"]}));
    assert_eq!(t["allowed_refs"], json!(["release/*"]));
    json_of(f.call(&token_of(&t), "release/1.0", json!({})), 201);
    json_of(f.call(&token_of(&t), "refs/heads/release/1.0", json!({})), 201);
    let msg = message_of(f.call(&token_of(&t), "main", json!({})), 403);
    assert_eq!(msg, r#"403 Forbidden - the trigger token does not allow the ref "main""#);
    assert_eq!(f.pipelines(), 2);
}

#[test]
fn a_ref_the_token_does_not_allow_is_403_even_when_the_ref_does_not_exist() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["main"]}));
    message_of(f.call(&token_of(&t), "nowhere", json!({})), 403);
    assert_eq!(f.pipelines(), 0);
}

#[test]
fn a_tag_pattern_allows_matching_tags_by_name_and_by_full_ref() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["v*"]}));
    json_of(f.call(&token_of(&t), "v1.0", json!({})), 201);
    json_of(f.call(&token_of(&t), "refs/tags/v1.0", json!({})), 201);
    message_of(f.call(&token_of(&t), "release/1.0", json!({})), 403);
}

#[test]
fn the_webhook_form_of_the_trigger_call_honours_allowed_refs() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["main"]}));
    let path = |r: &str| format!("/projects/{}/ref/{r}/trigger/pipeline", f.pid);
    let resp = f.app.post_json(&path("release%2F1.0"), None, &json!({"token": token_of(&t)}));
    message_of(resp, 403);
    json_of(f.app.post_json(&path("main"), None, &json!({"token": token_of(&t)})), 201);
}

#[test]
fn an_empty_allowed_refs_means_any_ref_and_a_blank_update_clears_the_list() {
    let f = fixture();
    let t = f.create(json!({}));
    assert_eq!(t["allowed_refs"], json!([]));
    let id = t["id"].as_i64().unwrap();
    json_of(f.call(&token_of(&t), "main", json!({})), 201);
    let updated = json_of(f.update(id, json!({"allowed_refs": ["v*"]})), 200);
    assert_eq!(updated["allowed_refs"], json!(["v*"]));
    message_of(f.call(&token_of(&t), "main", json!({})), 403);
    let cleared = json_of(f.update(id, json!({"allowed_refs": ""})), 200);
    assert_eq!(cleared["allowed_refs"], json!([]));
    json_of(f.call(&token_of(&t), "main", json!({})), 201);
    assert_eq!(f.app.count("trigger_policies"), 0);
}

#[test]
fn allowed_refs_can_be_sent_as_a_form_with_repeated_fields() {
    let f = fixture();
    let resp = f
        .app
        .request(Method::POST, &f.triggers_path(), Some(&f.roles.maintainer.token))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("description=bot&allowed_refs[]=main&allowed_refs[]=release%2F*")
        .send()
        .unwrap();
    let t = json_of(resp, 201);
    assert_eq!(t["allowed_refs"], json!(["main", "release/*"]));
}

#[test]
fn the_policy_shows_in_the_trigger_json_of_show_and_list_but_the_token_stays_short() {
    let f = fixture();
    let t = f.create(json!({
        "allowed_refs": ["main", "main"], "allowed_variables": ["VERSION"],
        "required_variables": ["VERSION"], "max_variable_value_bytes": 64
    }));
    let id = t["id"].as_i64().unwrap();
    let shown =
        json_of(f.app.get(&format!("{}/{id}", f.triggers_path()), Some(&f.roles.maintainer.token)), 200);
    assert_eq!(shown["allowed_refs"], json!(["main"]));
    assert_eq!(shown["allowed_variables"], json!(["VERSION"]));
    assert_eq!(shown["required_variables"], json!(["VERSION"]));
    assert_eq!(shown["max_variable_value_bytes"], json!(64));
    assert_eq!(shown["token"].as_str().unwrap().len(), 4);
    let list = json_of(f.app.get(&f.triggers_path(), Some(&f.roles.maintainer.token)), 200);
    assert_eq!(list[0]["allowed_refs"], json!(["main"]));
}

#[test]
fn only_the_owner_may_change_the_policy() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    let other = f.app.create_user("other-maintainer");
    f.app.add_member(f.pid, &other, 40);
    let resp = f.app.put_json(
        &format!("{}/{id}", f.triggers_path()),
        Some(&other.token),
        &json!({"allowed_refs": ["main"]}),
    );
    json_of(resp, 403);
    assert_eq!(f.app.count("trigger_policies"), 0);
}

#[test]
fn a_policy_change_moves_updated_at_and_deleting_the_trigger_deletes_its_policy() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["main"]}));
    let id = t["id"].as_i64().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let updated = json_of(f.update(id, json!({"allowed_refs": ["v*"]})), 200);
    assert_ne!(updated["updated_at"], t["updated_at"]);
    let same = json_of(f.update(id, json!({"allowed_refs": ["v*"]})), 200);
    assert_eq!(same["updated_at"], updated["updated_at"]);
    assert_eq!(
        f.app.delete(&format!("{}/{id}", f.triggers_path()), Some(&f.roles.maintainer.token)).status(),
        204
    );
    assert_eq!(f.app.count("trigger_policies"), 0);
}

// ---------------------------------------------------------------------------------------------
// 2. The variable policy

#[test]
fn a_variable_outside_allowed_variables_is_400_naming_it_and_creates_nothing() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["release/*"], "allowed_variables": ["VERSION", "DEPLOY_*"]}));
    json_of(f.call(&token_of(&t), "release/1.0", json!({"VERSION": "1.2", "DEPLOY_ENV": "prod"})), 201);
    let msg = message_of(f.call(&token_of(&t), "release/1.0", json!({"VERSION": "1", "SECRET": "x"})), 400);
    assert_eq!(msg, "variable SECRET is not allowed by the trigger token");
    assert_eq!(f.pipelines(), 1);
}

#[test]
fn a_missing_required_variable_is_400_naming_it() {
    let f = fixture();
    let t = f.create(json!({"required_variables": ["VERSION"]}));
    let msg = message_of(f.call(&token_of(&t), "main", json!({"OTHER": "1"})), 400);
    assert_eq!(msg, "variable VERSION is required by the trigger token");
    json_of(f.call(&token_of(&t), "main", json!({"VERSION": "1", "OTHER": "1"})), 201);
    assert_eq!(f.pipelines(), 1);
}

#[test]
fn a_value_larger_than_the_tokens_maximum_is_400_naming_the_variable() {
    let f = fixture();
    let t = f.create(json!({"max_variable_value_bytes": "4"}));
    json_of(f.call(&token_of(&t), "main", json!({"A": "1234"})), 201);
    let msg = message_of(f.call(&token_of(&t), "main", json!({"A": "12345"})), 400);
    assert_eq!(msg, "the value of variable A is larger than the trigger token allows (4 bytes)");
    let id = t["id"].as_i64().unwrap();
    let cleared = json_of(f.update(id, json!({"max_variable_value_bytes": ""})), 200);
    assert_eq!(cleared["max_variable_value_bytes"], Value::Null);
    json_of(f.call(&token_of(&t), "main", json!({"A": "12345"})), 201);
}

#[test]
fn a_required_variable_that_allowed_variables_does_not_match_is_refused_and_creates_no_trigger() {
    let f = fixture();
    let body =
        json!({"description": "bot", "allowed_variables": ["VERSION"], "required_variables": ["OTHER"]});
    let resp = f.app.post_json(&f.triggers_path(), Some(&f.roles.maintainer.token), &body);
    assert_eq!(message_of(resp, 400), "required_variables: OTHER is not matched by allowed_variables");
    assert_eq!(f.app.count("triggers"), 0);
}

#[test]
fn the_policy_applies_to_the_trigger_token_and_not_to_a_token_without_one() {
    let f = fixture();
    let limited = f.create(json!({"allowed_variables": ["VERSION"]}));
    let open = f.create(json!({}));
    message_of(f.call(&token_of(&limited), "main", json!({"X": "1"})), 400);
    json_of(f.call(&token_of(&open), "main", json!({"X": "1"})), 201);
}

// ---------------------------------------------------------------------------------------------
// Hostile policy input: 400, never 500, nothing stored

#[test]
fn hostile_policy_inputs_are_400_and_store_nothing() {
    let f = fixture();
    let many: Vec<String> = (0..101).map(|i| format!("r{i}")).collect();
    let cases = [
        json!({"allowed_refs": many}),
        json!({"allowed_refs": ["*a*b*c*d*e*f"]}),
        json!({"allowed_refs": ["x".repeat(256)]}),
        json!({"allowed_refs": ["bad ref"]}),
        json!({"allowed_refs": ["a\u{0}b"]}),
        json!({"allowed_refs": ["a~1"]}),
        json!({"allowed_refs": [""]}),
        json!({"allowed_refs": [1, 2]}),
        json!({"allowed_refs": {"a": "b"}}),
        json!({"allowed_refs": [["nested"]]}),
        json!({"allowed_variables": ["BAD-NAME"]}),
        json!({"allowed_variables": ["ÄNDERN"]}),
        json!({"allowed_variables": ["A".repeat(10_000)]}),
        json!({"required_variables": ["A*"]}),
        json!({"max_variable_value_bytes": 0}),
        json!({"max_variable_value_bytes": -1}),
        json!({"max_variable_value_bytes": "lots"}),
        json!({"max_variable_value_bytes": 1e300}),
        json!({"max_variable_value_bytes": 99_999_999_999_i64}),
        json!({"max_variable_value_bytes": [1]}),
    ];
    for extra in cases {
        let mut body = json!({"description": "bot"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let resp = f.app.post_json(&f.triggers_path(), Some(&f.roles.maintainer.token), &body);
        assert_eq!(resp.status().as_u16(), 400, "{extra}");
    }
    assert_eq!(f.app.count("triggers"), 0);
    let t = f.create(json!({"allowed_refs": ["main"]}));
    let id = t["id"].as_i64().unwrap();
    assert_eq!(f.update(id, json!({"allowed_refs": ["*".repeat(6)]})).status().as_u16(), 400);
    assert_eq!(f.update(id, json!({"required_variables": ["$X"]})).status().as_u16(), 400);
    let shown =
        json_of(f.app.get(&format!("{}/{id}", f.triggers_path()), Some(&f.roles.maintainer.token)), 200);
    assert_eq!(shown["allowed_refs"], json!(["main"]));
}

#[test]
fn a_pattern_with_many_stars_against_a_long_ref_answers_quickly() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["*a*a*a*a*b"]}));
    let long = "a".repeat(200);
    f.app.seed_ref(f.pid, "branch", &long);
    let started = std::time::Instant::now();
    message_of(f.call(&token_of(&t), &long, json!({})), 403);
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

// ---------------------------------------------------------------------------------------------
// 6. dry_run

impl Fixture {
    fn dry_run(&self, token: &str, r: &str, variables: Value) -> Response {
        self.app.post_json(
            &format!("/projects/{}/trigger/pipeline", self.pid),
            None,
            &json!({"ref": r, "token": token, "variables": variables, "dry_run": true}),
        )
    }

    /// Stores `.gitlab-ci.yml` on `main` as the developer.
    fn store_config(&self, content: &str) {
        let url = format!("/projects/{}/repository/files/.gitlab-ci.yml", self.pid);
        let body = json!({"branch": "main", "content": content, "commit_message": "ci"});
        json_of(self.app.post_json(&url, Some(&self.roles.developer.token), &body), 201);
    }

    /// Rows of every table a trigger call writes, and the pipelines' AUTOINCREMENT counter.
    fn footprint(&self) -> (i64, i64, i64, Option<i64>) {
        let seq = self
            .app
            .db()
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'pipelines'", [], |r| r.get(0))
            .ok();
        (self.pipelines(), self.app.count("pipeline_variables"), self.app.count("jobs"), seq)
    }
}

#[test]
fn a_dry_run_answers_200_with_the_pipeline_it_would_create_and_writes_nothing() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["main"], "required_variables": ["VERSION"]}));
    json_of(f.call(&token_of(&t), "main", json!({"VERSION": "1"})), 201);
    let before = f.footprint();
    let body = json_of(f.dry_run(&token_of(&t), "main", json!({"VERSION": "2"})), 200);
    assert_eq!(f.footprint(), before);
    assert!(body.get("id").is_none() && body.get("iid").is_none() && body.get("web_url").is_none(), "{body}");
    assert_eq!(body["dry_run"], true);
    assert_eq!(body["ref"], "main");
    assert_eq!(body["status"], "created");
    assert_eq!(body["source"], "trigger");
    assert_eq!(body["user"]["username"], "maintainer");
    // `last_used` is still the real call's time, and the next real pipeline takes the next id.
    let id = t["id"].as_i64().unwrap();
    let shown =
        json_of(f.app.get(&format!("{}/{id}", f.triggers_path()), Some(&f.roles.maintainer.token)), 200);
    let first: i64 = f.app.db().query_row("SELECT MAX(id) FROM pipelines", [], |r| r.get(0)).unwrap();
    let created_at: String = f
        .app
        .db()
        .query_row("SELECT created_at FROM pipelines WHERE id = ?1", [first], |r| r.get(0))
        .unwrap();
    assert_eq!(shown["last_used"], json!(created_at));
    let next = json_of(f.call(&token_of(&t), "main", json!({"VERSION": "3"})), 201);
    assert_eq!(next["id"], json!(first + 1));
}

#[test]
fn a_dry_run_gets_the_same_refusals_as_the_call() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["main", "nowhere"], "allowed_variables": ["VERSION"]}));
    message_of(f.dry_run(&token_of(&t), "release/1.0", json!({})), 403);
    assert_eq!(
        message_of(f.dry_run(&token_of(&t), "main", json!({"X": "1"})), 400),
        "variable X is not allowed by the trigger token"
    );
    json_of(f.dry_run("glptt-unknown", "main", json!({})), 404);
    json_of(f.dry_run(&token_of(&t), "nowhere", json!({})), 400);
    assert_eq!(f.footprint(), (0, 0, 0, None));
}

#[test]
fn a_dry_run_checks_the_ci_configuration_and_keeps_no_failed_pipeline() {
    let f = fixture();
    let t = f.create(json!({}));
    f.store_config("build:\n  script: make\n");
    let body = json_of(f.dry_run(&token_of(&t), "main", json!({})), 200);
    assert_eq!(body["status"], "pending");
    assert_eq!(f.footprint(), (0, 0, 0, None));
    let url = format!("/projects/{}/repository/files/.gitlab-ci.yml", f.pid);
    let broken = json!({"branch": "main", "content": "build:\n  stage: build\n", "commit_message": "ci"});
    json_of(f.app.put_json(&url, Some(&f.roles.developer.token), &broken), 200);
    let body = json_of(f.dry_run(&token_of(&t), "main", json!({})), 422);
    assert!(body["message"]["base"][0].as_str().unwrap().contains("build"), "{body}");
    assert_eq!(f.footprint(), (0, 0, 0, None));
}

#[test]
fn dry_run_takes_grapes_booleans_and_refuses_anything_else() {
    let f = fixture();
    let t = f.create(json!({}));
    let path = format!("/projects/{}/trigger/pipeline?dry_run=1&ref=main&token={}", f.pid, token_of(&t));
    json_of(f.app.request(Method::POST, &path, None).send().unwrap(), 200);
    let path = format!("/projects/{}/trigger/pipeline?dry_run=false&ref=main&token={}", f.pid, token_of(&t));
    json_of(f.app.request(Method::POST, &path, None).send().unwrap(), 201);
    for bad in [json!("maybe"), json!([true]), json!({"a": 1}), json!(2)] {
        let body = json!({"ref": "main", "token": token_of(&t), "dry_run": bad});
        let resp = f.app.post_json(&format!("/projects/{}/trigger/pipeline", f.pid), None, &body);
        assert_error(resp, 400, "error", json!("dry_run is invalid"));
    }
    assert_eq!(f.pipelines(), 1);
}

// ---------------------------------------------------------------------------------------------
// 3. Rotation with a grace period

impl Fixture {
    fn rotate_as(&self, user: &TestUser, id: i64, body: Value) -> Response {
        self.app.post_json(&format!("{}/{id}/rotate", self.triggers_path()), Some(&user.token), &body)
    }

    fn show(&self, id: i64) -> Value {
        json_of(
            self.app.get(&format!("{}/{id}", self.triggers_path()), Some(&self.roles.maintainer.token)),
            200,
        )
    }
}

fn short_of(token: &str) -> &str {
    &token[6..10]
}

#[test]
fn a_rotation_shows_the_new_token_once_and_the_old_one_works_for_24_hours() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    let old = token_of(&t);
    let rotated = json_of(f.rotate_as(&f.roles.maintainer, id, json!({})), 201);
    let new = token_of(&rotated);
    assert!(new.starts_with("glptt-") && new != old, "{rotated}");
    assert_eq!(rotated["previous_tokens"][0]["token"], short_of(&old));
    let expires =
        triggerd::model::parse_stored(rotated["previous_tokens"][0]["expires_at"].as_str().unwrap()).unwrap();
    let in_a_day = time::OffsetDateTime::now_utc() + time::Duration::hours(24);
    assert!((in_a_day - expires).abs() < time::Duration::minutes(1), "{expires}");
    json_of(f.call(&old, "main", json!({})), 201);
    json_of(f.call(&new, "main", json!({})), 201);
    let shown = f.show(id);
    assert_eq!(shown["token"], short_of(&new));
    assert_eq!(shown["previous_tokens"], rotated["previous_tokens"]);
    // Digests only: neither secret is stored.
    let stored: Vec<u8> =
        f.app.db().query_row("SELECT token_digest FROM trigger_secrets", [], |r| r.get(0)).unwrap();
    assert_eq!(stored.len(), 32);
    assert_ne!(stored, old.as_bytes());
}

#[test]
fn after_the_grace_period_the_old_token_is_404_and_no_longer_shown() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    json_of(f.rotate_as(&f.roles.maintainer, id, json!({"grace_period": 60})), 201);
    f.app.db().execute("UPDATE trigger_secrets SET expires_at = '2020-01-01T00:00:00.000Z'", []).unwrap();
    json_of(f.call(&token_of(&t), "main", json!({})), 404);
    assert_eq!(f.show(id)["previous_tokens"], json!([]));
    assert_eq!(f.pipelines(), 0);
}

#[test]
fn a_grace_period_of_zero_stops_the_old_token_at_once_and_expires_in_is_a_synonym() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    let rotated = json_of(f.rotate_as(&f.roles.maintainer, id, json!({"expires_in": "0"})), 201);
    assert_eq!(rotated["previous_tokens"], json!([]));
    json_of(f.call(&token_of(&t), "main", json!({})), 404);
    json_of(f.call(&token_of(&rotated), "main", json!({})), 201);
    assert_eq!(f.app.count("trigger_secrets"), 0);
}

#[test]
fn a_rotation_keeps_the_policy_for_both_secrets() {
    let f = fixture();
    let t = f.create(json!({"allowed_refs": ["release/*"]}));
    let id = t["id"].as_i64().unwrap();
    let rotated = json_of(f.rotate_as(&f.roles.maintainer, id, json!({})), 201);
    assert_eq!(rotated["allowed_refs"], json!(["release/*"]));
    for token in [token_of(&t), token_of(&rotated)] {
        message_of(f.call(&token, "main", json!({})), 403);
        json_of(f.call(&token, "release/1.0", json!({})), 201);
    }
}

#[test]
fn only_the_owner_or_an_admin_may_rotate_a_trigger() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    let other = f.app.create_user("other-maintainer");
    f.app.add_member(f.pid, &other, 40);
    let msg = message_of(f.rotate_as(&other, id, json!({})), 403);
    assert!(msg.contains("not authorized to rotate"), "{msg}");
    json_of(f.rotate_as(&f.roles.developer, id, json!({})), 403);
    json_of(f.rotate_as(&f.roles.admin, id, json!({})), 201);
    json_of(f.rotate_as(&f.roles.maintainer, 999_999, json!({})), 404);
    // The admin's rotation did not change the token's owner.
    assert_eq!(f.show(id)["owner"]["username"], "maintainer");
}

#[test]
fn bad_grace_periods_are_400_and_rotate_nothing() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    for body in [
        json!({"grace_period": -1}),
        json!({"grace_period": 2_592_001}),
        json!({"grace_period": "soon"}),
        json!({"grace_period": [1]}),
        json!({"grace_period": 1e300}),
        json!({"grace_period": 60, "expires_in": 120}),
        json!({"expires_in": {"a": 1}}),
    ] {
        assert_eq!(f.rotate_as(&f.roles.maintainer, id, body.clone()).status().as_u16(), 400, "{body}");
    }
    json_of(f.call(&token_of(&t), "main", json!({})), 201);
    assert_eq!(f.app.count("trigger_secrets"), 0);
}

#[test]
fn at_most_five_old_tokens_may_be_in_their_grace_period_and_deleting_the_trigger_removes_them() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    for _ in 0..5 {
        json_of(f.rotate_as(&f.roles.maintainer, id, json!({})), 201);
    }
    message_of(f.rotate_as(&f.roles.maintainer, id, json!({})), 400);
    json_of(f.rotate_as(&f.roles.maintainer, id, json!({"grace_period": 0})), 201);
    assert_eq!(f.show(id)["previous_tokens"].as_array().unwrap().len(), 5);
    assert_eq!(
        f.app.delete(&format!("{}/{id}", f.triggers_path()), Some(&f.roles.maintainer.token)).status(),
        204
    );
    assert_eq!(f.app.count("trigger_secrets"), 0);
}

#[test]
fn a_call_racing_a_rotation_succeeds_with_a_grace_period_and_is_never_a_500() {
    let f = fixture();
    let t = f.create(json!({}));
    let id = t["id"].as_i64().unwrap();
    for _ in 0..3 {
        let rotate = f
            .app
            .request(
                Method::POST,
                &format!("{}/{id}/rotate", f.triggers_path()),
                Some(&f.roles.maintainer.token),
            )
            .json(&json!({"grace_period": 0}));
        let call = f
            .app
            .request(Method::POST, &format!("/projects/{}/trigger/pipeline", f.pid), None)
            .json(&json!({"ref": "main", "token": token_of(&t)}));
        // Before the rotation the call succeeds; after it, with no grace, it is 404 — never a 500.
        let [rotated, called] = at_once(rotate, call);
        assert_eq!(rotated, 201);
        assert!(called == 201 || called == 404, "{called}");
    }
    let t2 = f.create(json!({}));
    let id2 = t2["id"].as_i64().unwrap();
    let rotate = f
        .app
        .request(
            Method::POST,
            &format!("{}/{id2}/rotate", f.triggers_path()),
            Some(&f.roles.maintainer.token),
        )
        .json(&json!({}));
    let call = f
        .app
        .request(Method::POST, &format!("/projects/{}/trigger/pipeline", f.pid), None)
        .json(&json!({"ref": "main", "token": token_of(&t2)}));
    assert_eq!(at_once(rotate, call), [201, 201]);
}
