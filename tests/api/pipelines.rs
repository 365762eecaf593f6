//! The trigger call (`POST /projects/:id/(ref/:ref/)trigger/pipeline`) and the Pipelines API.

use std::collections::HashSet;

use reqwest::Method;
use reqwest::blocking::Response;
use reqwest::blocking::multipart;
use serde_json::{Value, json};

use crate::helpers::*;

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// A private project with every role, a `main` branch and a trigger owned by the maintainer.
struct Fixture {
    app: TestApp,
    roles: Roles,
    pid: i64,
    trigger: SeededTrigger,
    main_sha: String,
}

fn fixture() -> Fixture {
    fixture_with(spawn_app())
}

fn fixture_with(app: TestApp) -> Fixture {
    let roles = app.roles();
    let pid = roles.project_id;
    let main_sha = app.seed_ref(pid, "branch", "main");
    let trigger = app.seed_trigger(pid, &roles.maintainer, "ci");
    Fixture { app, roles, pid, trigger, main_sha }
}

fn trigger_path(pid: i64) -> String {
    format!("/projects/{pid}/trigger/pipeline")
}

/// The python-gitlab request shape.
fn trigger_json(app: &TestApp, pid: i64, token: &str, r: &str, variables: Value) -> Response {
    app.post_json(
        &trigger_path(pid),
        None,
        &json!({"ref": r, "token": token, "variables": variables, "inputs": {}}),
    )
}

/// A raw `application/x-www-form-urlencoded` body.
fn trigger_form(app: &TestApp, path: &str, body: &str) -> Response {
    app.request(Method::POST, path, None)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .unwrap()
}

/// (pipelines, pipeline_variables) row counts.
fn counts(app: &TestApp) -> (i64, i64) {
    (app.count("pipelines"), app.count("pipeline_variables"))
}

/// A pipeline's variables as (key, value, variable_type), in stored order.
fn stored_vars(app: &TestApp, pipeline_id: i64) -> Vec<(String, String, String)> {
    let conn = app.db();
    let mut stmt = conn
        .prepare("SELECT key, value, variable_type FROM pipeline_variables WHERE pipeline_id = ?1 ORDER BY position")
        .unwrap();
    stmt.query_map([pipeline_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn var(app: &TestApp, pipeline_id: i64, key: &str) -> Option<(String, String)> {
    stored_vars(app, pipeline_id).into_iter().find(|(k, _, _)| k == key).map(|(_, v, t)| (v, t))
}

fn payload(app: &TestApp, pipeline_id: i64) -> Value {
    let (value, kind) = var(app, pipeline_id, "TRIGGER_PAYLOAD").expect("TRIGGER_PAYLOAD stored");
    assert_eq!(kind, "file");
    serde_json::from_str(&value).unwrap()
}

/// Triggers a pipeline on `main` and returns its JSON.
fn create_pipeline(f: &Fixture) -> Value {
    json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})), 201)
}

fn id_of(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The trigger call: GitLab's checklist (gitlab-reference.md §7 items 1–11, 14, 15)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_trigger_call_without_a_token_is_400_token_is_missing() {
    let f = fixture();
    let resp = f.app.post_json(&trigger_path(f.pid), None, &json!({"ref": "main"}));
    assert_error(resp, 400, "error", json!("token is missing"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_trigger_call_on_an_unknown_project_is_404() {
    let f = fixture();
    let resp = trigger_json(&f.app, 0, &f.trigger.token, "main", json!({}));
    assert_error(resp, 404, "message", json!("404 Not Found"));
    let resp = f.app.post_json(
        "/projects/nobody%2Fnothing/trigger/pipeline",
        None,
        &json!({"ref": "main", "token": f.trigger.token}),
    );
    assert_error(resp, 404, "message", json!("404 Not Found"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_trigger_call_returns_201_with_every_field_of_the_pipeline_entity() {
    let f = fixture();
    let body = create_pipeline(&f);
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "iid",
            "project_id",
            "sha",
            "ref",
            "status",
            "source",
            "created_at",
            "updated_at",
            "web_url",
            "before_sha",
            "tag",
            "yaml_errors",
            "user",
            "started_at",
            "finished_at",
            "committed_at",
            "duration",
            "queued_duration",
            "coverage",
            "detailed_status",
            "archived",
            "name"
        ]
    );
    let id = id_of(&body);
    assert_eq!(body["iid"], 1);
    assert_eq!(body["project_id"], f.pid);
    assert_eq!(body["sha"], f.main_sha.as_str());
    assert_eq!(body["ref"], "main");
    assert_eq!(body["status"], "created");
    assert_eq!(body["source"], "trigger");
    assert_eq!(body["web_url"], format!("{}/owner/demo/-/pipelines/{id}", f.app.address));
    assert_eq!(body["before_sha"], ZERO_SHA);
    assert_eq!(body["tag"], false);
    for null in [
        "yaml_errors",
        "started_at",
        "finished_at",
        "committed_at",
        "duration",
        "queued_duration",
        "coverage",
        "name",
    ] {
        assert!(body[null].is_null(), "{null} should be null: {body}");
    }
    assert_eq!(body["archived"], false);
    let created = body["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.ends_with('Z') && created.contains('T'));
    assert_eq!(body["updated_at"], body["created_at"]);
    let user = &body["user"];
    assert_eq!(user["id"], f.roles.maintainer.id);
    assert_eq!(user["username"], "maintainer");
    assert_eq!(user["state"], "active");
    assert_eq!(user["locked"], false);
    assert_eq!(user["web_url"], format!("{}/maintainer", f.app.address));
    assert!(user["avatar_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(
        body["detailed_status"],
        json!({
            "icon": "status_created",
            "text": "created",
            "label": "created",
            "group": "created",
            "tooltip": "created",
            "has_details": true,
            "details_path": format!("/owner/demo/-/pipelines/{id}"),
            "illustration": null,
            "favicon": "/assets/ci_favicons/favicon_status_created.png"
        })
    );
    // The row links the trigger and its owner.
    let (trigger_id, user_id, inputs): (Option<i64>, Option<i64>, Option<String>) = f
        .app
        .db()
        .query_row("SELECT trigger_id, user_id, inputs FROM pipelines WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(trigger_id, Some(f.trigger.id));
    assert_eq!(user_id, Some(f.roles.maintainer.id));
    assert_eq!(inputs.as_deref(), Some("{}"));
    // The trigger's `last_used` is this pipeline's creation time.
    let t = json_of(
        f.app.get(&format!("/projects/{}/triggers/{}", f.pid, f.trigger.id), Some(&f.roles.maintainer.token)),
        200,
    );
    assert_eq!(t["last_used"], body["created_at"]);
}

#[test]
fn a_form_trigger_call_stores_gitlabs_trigger_payload() {
    let f = fixture();
    let body = format!("ref=main&token={}", f.trigger.token);
    let created = json_of(trigger_form(&f.app, &trigger_path(f.pid), &body), 201);
    let id = id_of(&created);
    assert_eq!(stored_vars(&f.app, id).len(), 1);
    let (value, kind) = var(&f.app, id, "TRIGGER_PAYLOAD").unwrap();
    assert_eq!(kind, "file");
    assert_eq!(value, format!(r#"{{"ref":"main","id":"{}","variables":{{}}}}"#, f.pid));
}

#[test]
fn a_trigger_call_on_an_unknown_ref_is_400_reference_not_found() {
    let f = fixture();
    let resp = trigger_json(&f.app, f.pid, &f.trigger.token, "other-branch", json!({}));
    assert_error(resp, 400, "message", json!({"base": ["Reference not found"]}));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn variables_given_as_a_string_are_400_variables_is_invalid() {
    let f = fixture();
    let body = format!("ref=main&token={}&variables=value", f.trigger.token);
    assert_error(
        trigger_form(&f.app, &trigger_path(f.pid), &body),
        400,
        "error",
        json!("variables is invalid"),
    );
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn an_array_variable_value_is_400_not_a_map_of_strings() {
    let f = fixture();
    let body =
        format!("ref=main&token={}&variables[TRIGGER_KEY][]=1&variables[TRIGGER_KEY][]=2", f.trigger.token);
    let resp = trigger_form(&f.app, &trigger_path(f.pid), &body);
    assert_error(resp, 400, "message", json!("variables needs to be a map of key-valued strings"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn non_string_json_variable_values_are_400_not_a_map_of_strings() {
    let f = fixture();
    for value in [json!(3), json!(true), json!(["a"]), json!({"x": "y"})] {
        let resp = trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({"OK": "fine", "BAD": value}));
        assert_error(resp, 400, "message", json!("variables needs to be a map of key-valued strings"));
    }
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_bracket_variable_becomes_a_pipeline_variable() {
    let f = fixture();
    let body = format!("ref=main&token={}&variables[TRIGGER_KEY]=TRIGGER_VALUE", f.trigger.token);
    let id = id_of(&json_of(trigger_form(&f.app, &trigger_path(f.pid), &body), 201));
    assert_eq!(var(&f.app, id, "TRIGGER_KEY"), Some(("TRIGGER_VALUE".into(), "env_var".into())));
}

#[test]
fn another_projects_token_is_404_and_does_not_leak_the_project() {
    let f = fixture();
    let other = f.app.create_project(&f.roles.owner, "other", "private");
    f.app.seed_ref(other, "branch", "main");
    let resp = f.app.post_json(
        &format!("/projects/{other}/ref/main/trigger/pipeline"),
        None,
        &json!({"token": f.trigger.token}),
    );
    assert_error(resp, 404, "message", json!("404 Not Found"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn the_path_ref_wins_over_a_ref_in_the_body() {
    let f = fixture();
    f.app.seed_ref(f.pid, "branch", "other-branch");
    let path = format!("/projects/{}/ref/main/trigger/pipeline?token={}", f.pid, f.trigger.token);
    let body = json_of(trigger_form(&f.app, &path, "ref=refs/heads/other-branch"), 201);
    assert_eq!(body["ref"], "main");
    assert_eq!(body["sha"], f.main_sha.as_str());
}

#[test]
fn a_path_ref_may_contain_dots_and_encoded_slashes() {
    let f = fixture();
    let dotted = f.app.seed_ref(f.pid, "branch", "v.1-branch");
    let slashed = f.app.seed_ref(f.pid, "branch", "release/1.0");
    let token = &f.trigger.token;
    let body = json_of(
        trigger_form(
            &f.app,
            &format!("/projects/{}/ref/v.1-branch/trigger/pipeline", f.pid),
            &format!("token={token}"),
        ),
        201,
    );
    assert_eq!(
        (body["ref"].as_str().unwrap(), body["sha"].as_str().unwrap()),
        ("v.1-branch", dotted.as_str())
    );
    let path = format!("/projects/{}/ref/release%2F1.0/trigger/pipeline?token={token}", f.pid);
    let body = json_of(f.app.request(Method::POST, &path, None).send().unwrap(), 201);
    assert_eq!(
        (body["ref"].as_str().unwrap(), body["sha"].as_str().unwrap()),
        ("release/1.0", slashed.as_str())
    );
}

#[test]
fn a_pipeline_hook_event_is_403_and_creates_nothing() {
    let f = fixture();
    let resp = f
        .app
        .request(
            Method::POST,
            &format!("/projects/{}/ref/main/trigger/pipeline?token={}", f.pid, f.trigger.token),
            None,
        )
        .header("X-Gitlab-Event", "Pipeline Hook")
        .json(&json!({"object_kind": "pipeline"}))
        .send()
        .unwrap();
    assert_error(resp, 403, "message", json!("403 Forbidden"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn typed_json_inputs_and_form_inputs_are_accepted_and_stored() {
    let f = fixture();
    let inputs = json!({"environment": "production", "replicas": 3, "debug": false, "list": ["a", 1], "maps": [{"k": "v"}]});
    let resp = f.app.post_json(
        &trigger_path(f.pid),
        None,
        &json!({"ref": "main", "token": f.trigger.token, "inputs": inputs}),
    );
    let id = id_of(&json_of(resp, 201));
    let stored: String =
        f.app.db().query_row("SELECT inputs FROM pipelines WHERE id = ?1", [id], |r| r.get(0)).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), inputs);

    let body =
        format!("ref=main&token={}&inputs[environment]=production&inputs[replicas]=3", f.trigger.token);
    let id = id_of(&json_of(trigger_form(&f.app, &trigger_path(f.pid), &body), 201));
    let stored: String =
        f.app.db().query_row("SELECT inputs FROM pipelines WHERE id = ?1", [id], |r| r.get(0)).unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        json!({"environment": "production", "replicas": "3"})
    );
}

#[test]
fn inputs_that_are_not_a_map_are_400_inputs_is_invalid() {
    let f = fixture();
    let resp = f.app.post_json(
        &trigger_path(f.pid),
        None,
        &json!({"ref": "main", "token": f.trigger.token, "inputs": [1]}),
    );
    assert_error(resp, 400, "error", json!("inputs is invalid"));
    assert_eq!(counts(&f.app), (0, 0));
}

// ---------------------------------------------------------------------------------------------
// The trigger call: request encodings real clients send (clients.md §6)
// ---------------------------------------------------------------------------------------------

#[test]
fn python_gitlabs_json_body_with_a_garbage_private_token_header_gives_201() {
    let f = fixture();
    let resp = f
        .app
        .request(Method::POST, &trigger_path(f.pid), Some("glpat-garbage-garbage-garbage"))
        .json(&json!({"ref": "main", "token": f.trigger.token, "variables": {"DEPLOY_ZONE": "us-west1"}, "inputs": {}}))
        .send()
        .unwrap();
    let id = id_of(&json_of(resp, 201));
    assert_eq!(var(&f.app, id, "DEPLOY_ZONE"), Some(("us-west1".into(), "env_var".into())));
    assert_eq!(
        payload(&f.app, id),
        json!({"ref": "main", "variables": {"DEPLOY_ZONE": "us-west1"}, "inputs": {}, "id": f.pid.to_string()})
    );
    // A bearer token and an empty Private-Token header are ignored too.
    for (name, value) in [("Authorization", "Bearer nope"), ("Private-Token", "")] {
        let resp = f
            .app
            .request(Method::POST, &trigger_path(f.pid), None)
            .header(name, value)
            .json(&json!({"ref": "main", "token": f.trigger.token}))
            .send()
            .unwrap();
        json_of(resp, 201);
    }
}

#[test]
fn an_urlencoded_body_with_raw_brackets_gives_201() {
    let f = fixture();
    let body = format!("token={}&ref=main&variables[UPLOAD_TO_S3]=true", f.trigger.token);
    let id = id_of(&json_of(trigger_form(&f.app, &trigger_path(f.pid), &body), 201));
    assert_eq!(var(&f.app, id, "UPLOAD_TO_S3"), Some(("true".into(), "env_var".into())));
}

#[test]
fn an_urlencoded_body_with_percent_encoded_brackets_gives_201() {
    let f = fixture();
    let body =
        format!("token={}&ref=main&variables%5BUPLOAD_TO_S3%5D=true&variables%5BMSG%5D=a+b", f.trigger.token);
    let id = id_of(&json_of(trigger_form(&f.app, &trigger_path(f.pid), &body), 201));
    let vars = stored_vars(&f.app, id);
    assert_eq!(
        vars.iter().map(|(k, v, _)| (k.as_str(), v.as_str())).collect::<Vec<_>>()[..2],
        [("UPLOAD_TO_S3", "true"), ("MSG", "a b")]
    );
    assert_eq!(vars[2].0, "TRIGGER_PAYLOAD");
}

#[test]
fn a_multipart_body_gives_201() {
    let f = fixture();
    let form = multipart::Form::new()
        .text("token", f.trigger.token.clone())
        .text("ref", "main")
        .text("variables[UPLOAD_TO_S3]", "true")
        .text("inputs[environment]", "production");
    let resp = f.app.request(Method::POST, &trigger_path(f.pid), None).multipart(form).send().unwrap();
    let id = id_of(&json_of(resp, 201));
    assert_eq!(var(&f.app, id, "UPLOAD_TO_S3"), Some(("true".into(), "env_var".into())));
}

#[test]
fn token_and_ref_in_the_query_string_alone_give_201() {
    let f = fixture();
    let path = format!("{}?token={}&ref=main&variables%5BQ%5D=v", trigger_path(f.pid), f.trigger.token);
    let resp = f.app.request(Method::POST, &path, None).send().unwrap();
    let id = id_of(&json_of(resp, 201));
    assert_eq!(var(&f.app, id, "Q"), Some(("v".into(), "env_var".into())));
}

#[test]
fn the_api_docs_example_query_plus_multipart_variables_gives_201() {
    let f = fixture();
    let form = multipart::Form::new().text("variables[VAR1]", "value1").text("variables[VAR2]", "value2");
    let path = format!("{}?token={}&ref=main", trigger_path(f.pid), f.trigger.token);
    let resp = f.app.request(Method::POST, &path, None).multipart(form).send().unwrap();
    let id = id_of(&json_of(resp, 201));
    let vars = stored_vars(&f.app, id);
    assert_eq!(
        vars.iter().map(|(k, v, t)| (k.as_str(), v.as_str(), t.as_str())).take(2).collect::<Vec<_>>(),
        [("VAR1", "value1", "env_var"), ("VAR2", "value2", "env_var")]
    );
}

#[test]
fn a_push_webhook_triggers_the_path_ref_and_keeps_its_payload() {
    let f = fixture();
    f.app.seed_ref(f.pid, "branch", "other");
    let event = json!({
        "object_kind": "push",
        "ref": "refs/heads/other",
        "checkout_sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        "project": {"id": 15, "path_with_namespace": "mike/diaspora"}
    });
    let resp = f
        .app
        .request(
            Method::POST,
            &format!("/projects/{}/ref/main/trigger/pipeline?token={}", f.pid, f.trigger.token),
            None,
        )
        .header("X-Gitlab-Event", "Push Hook")
        .header("X-Gitlab-Token", "hook-secret")
        .json(&event)
        .send()
        .unwrap();
    let body = json_of(resp, 201);
    assert_eq!(body["ref"], "main");
    let p = payload(&f.app, id_of(&body));
    assert_eq!(p["object_kind"], "push");
    assert_eq!(p["project"]["path_with_namespace"], "mike/diaspora");
    assert_eq!(p["id"], f.pid.to_string());
    assert!(p.get("token").is_none(), "{p}");
}

#[test]
fn go_clients_null_token_is_400_token_is_missing() {
    let f = fixture();
    let resp = f.app.post_json(&trigger_path(f.pid), None, &json!({"ref": "main", "token": null}));
    assert_error(resp, 400, "error", json!("token is missing"));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_project_may_be_named_by_its_url_encoded_path() {
    let f = fixture();
    let resp = f.app.post_json(
        "/projects/owner%2Fdemo/trigger/pipeline",
        None,
        &json!({"ref": "main", "token": f.trigger.token}),
    );
    let body = json_of(resp, 201);
    assert_eq!(body["project_id"], f.pid);
    assert_eq!(payload(&f.app, id_of(&body))["id"], "owner/demo");
}

#[test]
fn full_ref_names_pick_a_branch_or_a_tag() {
    let f = fixture();
    let tag_sha = f.app.seed_ref(f.pid, "tag", "v1.0");
    let same_name_tag = f.app.seed_ref(f.pid, "tag", "main");
    let t = &f.trigger.token;
    let b = json_of(trigger_json(&f.app, f.pid, t, "refs/heads/main", json!({})), 201);
    assert_eq!(
        (b["ref"].as_str(), b["sha"].as_str(), b["tag"].as_bool()),
        (Some("main"), Some(f.main_sha.as_str()), Some(false))
    );
    let b = json_of(trigger_json(&f.app, f.pid, t, "v1.0", json!({})), 201);
    assert_eq!(
        (b["ref"].as_str(), b["sha"].as_str(), b["tag"].as_bool()),
        (Some("v1.0"), Some(tag_sha.as_str()), Some(true))
    );
    let b = json_of(trigger_json(&f.app, f.pid, t, "refs/tags/v1.0", json!({})), 201);
    assert_eq!(b["tag"], true);
    // A plain name matching both is the branch; refs/tags/ picks the tag.
    let b = json_of(trigger_json(&f.app, f.pid, t, "main", json!({})), 201);
    assert_eq!((b["sha"].as_str(), b["tag"].as_bool()), (Some(f.main_sha.as_str()), Some(false)));
    let b = json_of(trigger_json(&f.app, f.pid, t, "refs/tags/main", json!({})), 201);
    assert_eq!((b["sha"].as_str(), b["tag"].as_bool()), (Some(same_name_tag.as_str()), Some(true)));
    // refs/heads/ never matches a tag.
    let resp = trigger_json(&f.app, f.pid, t, "refs/heads/v1.0", json!({}));
    assert_error(resp, 400, "message", json!({"base": ["Reference not found"]}));
}

// ---------------------------------------------------------------------------------------------
// The trigger call: other errors, each of which creates nothing
// ---------------------------------------------------------------------------------------------

#[test]
fn several_missing_parameters_are_reported_together() {
    let f = fixture();
    let resp = f.app.post_json(&trigger_path(f.pid), None, &json!({}));
    assert_error(resp, 400, "error", json!("ref is missing, token is missing"));
    let resp = f.app.post_json(&trigger_path(f.pid), None, &json!({"ref": "  ", "variables": "x"}));
    assert_error(resp, 400, "error", json!("ref is empty, token is missing, variables is invalid"));
    // An empty body with a JSON content type (Go clients) is no parameters at all.
    let resp = f
        .app
        .request(Method::POST, &trigger_path(f.pid), None)
        .header("Content-Type", "application/json")
        .send()
        .unwrap();
    assert_error(resp, 400, "error", json!("ref is missing, token is missing"));
}

#[test]
fn an_expired_trigger_token_is_404() {
    let f = fixture();
    let expired =
        f.app.seed_trigger_expiring(f.pid, &f.roles.maintainer, "old", Some("2020-01-01T00:00:00.000Z"));
    let resp = trigger_json(&f.app, f.pid, &expired.token, "main", json!({}));
    assert_error(resp, 404, "message", json!("404 Not Found"));
    let future =
        f.app.seed_trigger_expiring(f.pid, &f.roles.maintainer, "new", Some("2999-01-01T00:00:00.000Z"));
    json_of(trigger_json(&f.app, f.pid, &future.token, "main", json!({})), 201);
}

#[test]
fn a_string_that_is_not_a_trigger_token_is_404() {
    let f = fixture();
    for token in
        [f.roles.maintainer.token.as_str(), ROOT_TOKEN, "glptt-0000000000000000000000000000000000000000", ""]
    {
        let resp = trigger_json(&f.app, f.pid, token, "main", json!({}));
        assert_error(resp, 404, "message", json!("404 Not Found"));
    }
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_blocked_or_demoted_or_removed_owner_cannot_create_pipelines() {
    let f = fixture();
    let insufficient = json!({"base": ["Insufficient permissions to create a new pipeline"]});
    let db = f.app.db();
    let uid = f.roles.maintainer.id;
    db.execute("UPDATE users SET state = 'blocked' WHERE id = ?1", [uid]).unwrap();
    assert_error(
        trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})),
        400,
        "message",
        insufficient.clone(),
    );
    db.execute("UPDATE users SET state = 'active' WHERE id = ?1", [uid]).unwrap();
    f.app.add_member(f.pid, &f.roles.maintainer, REPORTER);
    assert_error(
        trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})),
        400,
        "message",
        insufficient.clone(),
    );
    db.execute("DELETE FROM members WHERE project_id = ?1 AND user_id = ?2", [f.pid, uid]).unwrap();
    assert_error(
        trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})),
        400,
        "message",
        insufficient,
    );
    assert_eq!(counts(&f.app), (0, 0));
    // A Developer owner is enough.
    f.app.add_member(f.pid, &f.roles.maintainer, DEVELOPER);
    json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})), 201);
}

#[test]
fn an_admins_trigger_works_without_membership() {
    let f = fixture();
    let t = f.app.seed_trigger(f.pid, &f.roles.admin, "admin");
    let body = json_of(trigger_json(&f.app, f.pid, &t.token, "main", json!({})), 201);
    assert_eq!(body["user"]["username"], "admin");
}

#[test]
fn a_user_variable_named_trigger_payload_is_refused() {
    let f = fixture();
    let resp = trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({"TRIGGER_PAYLOAD": "x"}));
    assert_error(resp, 400, "message", json!({"base": ["Duplicate variable name: TRIGGER_PAYLOAD"]}));
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn variable_limits_come_from_the_configuration() {
    let f = fixture_with(spawn_app_with(|c| {
        c.limits.max_variables = 3;
        c.limits.max_variable_key_len = 8;
        c.limits.max_variable_value_bytes = 10;
    }));
    let t = &f.trigger.token;
    let check = |vars: Value, needle: &str| {
        let resp = trigger_json(&f.app, f.pid, t, "main", vars);
        assert_eq!(resp.status(), 400);
        let body: Value = resp.json().unwrap();
        let text = body["message"].as_str().unwrap_or_default().to_string();
        assert!(text.contains(needle), "{body} should name {needle}");
    };
    check(json!({"A": "1", "B": "2", "C": "3", "D": "4"}), "max_variables");
    check(json!({"ABCDEFGHI": "1"}), "max_variable_key_len");
    check(json!({"BAD-KEY": "1"}), "letters, digits and underscores");
    check(json!({"": "1"}), "letters, digits and underscores");
    check(json!({"K": "01234567890"}), "max_variable_value_bytes");
    assert_eq!(counts(&f.app), (0, 0));
    // Exactly at the limits is fine.
    json_of(
        trigger_json(&f.app, f.pid, t, "main", json!({"ABCDEFGH": "0123456789", "B": "", "C_9": "x"})),
        201,
    );
}

#[test]
fn no_failing_trigger_call_changes_anything() {
    let f = fixture_with(spawn_app_with(|c| c.limits.max_variables = 2));
    let other = f.app.create_project(&f.roles.owner, "other", "private");
    let expired =
        f.app.seed_trigger_expiring(f.pid, &f.roles.maintainer, "old", Some("2020-01-01T00:00:00.000Z"));
    let blocked_owner = f.app.create_user("blocked");
    f.app.add_member(f.pid, &blocked_owner, MAINTAINER);
    let blocked = f.app.seed_trigger(f.pid, &blocked_owner, "blocked");
    f.app.db().execute("UPDATE users SET state = 'blocked' WHERE id = ?1", [blocked_owner.id]).unwrap();
    json_of(create_pipeline_raw(&f), 201);
    let before = counts(&f.app);
    let t = f.trigger.token.clone();
    let p = trigger_path(f.pid);
    let cases: Vec<(u16, Response)> = vec![
        (400, f.app.post_json(&p, None, &json!({"ref": "main"}))),
        (400, f.app.post_json(&p, None, &json!({"token": t}))),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": ""}))),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": "main", "variables": "v"}))),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": "main", "inputs": "v"}))),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": "main", "variables": {"N": 1}}))),
        (
            400,
            f.app.post_json(
                &p,
                None,
                &json!({"token": t, "ref": "main", "variables": {"A": "1", "B": "2", "C": "3"}}),
            ),
        ),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": "main", "variables": {"a-b": "1"}}))),
        (
            400,
            f.app.post_json(
                &p,
                None,
                &json!({"token": t, "ref": "main", "variables": {"TRIGGER_PAYLOAD": "1"}}),
            ),
        ),
        (400, f.app.post_json(&p, None, &json!({"token": t, "ref": "nope"}))),
        (400, f.app.post_json(&p, None, &json!({"token": blocked.token, "ref": "main"}))),
        (
            400,
            f.app
                .request(Method::POST, &p, None)
                .header("Content-Type", "application/json")
                .body("{nope")
                .send()
                .unwrap(),
        ),
        (
            403,
            f.app
                .request(Method::POST, &p, None)
                .header("X-Gitlab-Event", "Pipeline Hook")
                .json(&json!({"token": t, "ref": "main"}))
                .send()
                .unwrap(),
        ),
        (404, f.app.post_json(&p, None, &json!({"token": "glptt-unknown", "ref": "main"}))),
        (404, f.app.post_json(&p, None, &json!({"token": expired.token, "ref": "main"}))),
        (404, f.app.post_json(&trigger_path(other), None, &json!({"token": t, "ref": "main"}))),
        (404, f.app.post_json(&trigger_path(999_999), None, &json!({"token": t, "ref": "main"}))),
        (
            415,
            f.app
                .request(Method::POST, &p, None)
                .header("Content-Type", "text/xml")
                .body("<x/>")
                .send()
                .unwrap(),
        ),
    ];
    for (i, (status, resp)) in cases.into_iter().enumerate() {
        let got = resp.status().as_u16();
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert_eq!(got, status, "case {i}: {}", resp.text().unwrap_or_default());
        assert!(ct.starts_with("application/json"), "case {i}: {ct}");
        assert_eq!(counts(&f.app), before, "case {i} changed something");
    }
    let iid: i64 = f
        .app
        .db()
        .query_row("SELECT last_pipeline_iid FROM projects WHERE id = ?1", [f.pid], |r| r.get(0))
        .unwrap();
    assert_eq!(iid, 1, "failed calls must not consume iids");
}

fn create_pipeline_raw(f: &Fixture) -> Response {
    trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({}))
}

// ---------------------------------------------------------------------------------------------
// The trigger call: iids, durability of the link, concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn iids_count_up_per_project() {
    let f = fixture();
    let other = f.app.create_project(&f.roles.maintainer, "second", "private");
    f.app.seed_ref(other, "branch", "main");
    let t2 = f.app.seed_trigger(other, &f.roles.maintainer, "second");
    let mut first = Vec::new();
    let mut second = Vec::new();
    for _ in 0..3 {
        first.push(
            json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({})), 201)["iid"]
                .as_i64()
                .unwrap(),
        );
        second.push(
            json_of(trigger_json(&f.app, other, &t2.token, "main", json!({})), 201)["iid"].as_i64().unwrap(),
        );
    }
    assert_eq!(first, [1, 2, 3]);
    assert_eq!(second, [1, 2, 3]);
}

#[test]
fn two_hundred_concurrent_trigger_calls_all_create_their_pipeline() {
    let f = fixture();
    let before = counts(&f.app);
    let url = f.app.api(&trigger_path(f.pid));
    let token = f.trigger.token.clone();
    let threads: Vec<_> = (0..32)
        .map(|t| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .timeout(std::time::Duration::from_secs(120))
                    .build()
                    .unwrap();
                let mut out = Vec::new();
                for n in (t..200).step_by(32) {
                    let resp = client
                        .post(&url)
                        .json(&json!({"ref": "main", "token": token, "variables": {"N": n.to_string()}}))
                        .send()
                        .unwrap();
                    assert_eq!(resp.status(), 201);
                    let body: Value = resp.json().unwrap();
                    out.push((n, body["id"].as_i64().unwrap(), body["iid"].as_i64().unwrap()));
                }
                out
            })
        })
        .collect();
    let results: Vec<(usize, i64, i64)> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
    assert_eq!(results.len(), 200);
    assert_eq!(counts(&f.app), (before.0 + 200, before.1 + 400));
    let iids: HashSet<i64> = results.iter().map(|r| r.2).collect();
    assert_eq!(iids, (1..=200).collect());
    for (n, id, _) in &results {
        assert_eq!(var(&f.app, *id, "N"), Some((n.to_string(), "env_var".into())));
    }
}

// ---------------------------------------------------------------------------------------------
// Pipelines API: who may do what
// ---------------------------------------------------------------------------------------------

/// Every role as (name, token); `None` = anonymous.
fn everyone(r: &Roles) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("anonymous", None),
        ("non_member", Some(r.non_member.token.clone())),
        ("guest", Some(r.guest.token.clone())),
        ("reporter", Some(r.reporter.token.clone())),
        ("developer", Some(r.developer.token.clone())),
        ("maintainer", Some(r.maintainer.token.clone())),
        ("owner", Some(r.owner.token.clone())),
        ("admin", Some(r.admin.token.clone())),
    ]
}

#[track_caller]
fn expect_status(resp: Response, status: u16, who: &str) -> Value {
    let got = resp.status().as_u16();
    let text = resp.text().unwrap();
    assert_eq!(got, status, "{who}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[test]
fn reading_a_private_projects_pipelines_needs_reporter() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let paths = [
        format!("/projects/{}/pipelines", f.pid),
        format!("/projects/{}/pipelines/{id}", f.pid),
        format!("/projects/{}/pipelines/latest", f.pid),
    ];
    for (who, token) in everyone(&f.roles) {
        for path in &paths {
            let resp = f.app.get(path, token.as_deref());
            match who {
                "anonymous" | "non_member" => {
                    assert_error(resp, 404, "message", json!("404 Project Not Found"));
                }
                "guest" => {
                    assert_error(resp, 403, "message", json!("403 Forbidden"));
                }
                _ => {
                    expect_status(resp, 200, who);
                }
            }
        }
    }
}

#[test]
fn anyone_may_read_a_public_projects_pipelines() {
    let app = spawn_app();
    let roles = app.roles_with_visibility("public");
    let pid = roles.project_id;
    app.seed_ref(pid, "branch", "main");
    let t = app.seed_trigger(pid, &roles.maintainer, "ci");
    let id = id_of(&json_of(trigger_json(&app, pid, &t.token, "main", json!({})), 201));
    for (who, token) in everyone(&roles) {
        let list = expect_status(app.get(&format!("/projects/{pid}/pipelines"), token.as_deref()), 200, who);
        assert_eq!(list.as_array().unwrap().len(), 1, "{who}");
        expect_status(app.get(&format!("/projects/{pid}/pipelines/{id}"), token.as_deref()), 200, who);
        let vars = app.get(&format!("/projects/{pid}/pipelines/{id}/variables"), token.as_deref());
        let want = if matches!(who, "maintainer" | "owner" | "admin") { 200 } else { 403 };
        expect_status(vars, want, who);
    }
}

#[test]
fn an_internal_project_is_readable_by_signed_in_users_only() {
    let app = spawn_app();
    let roles = app.roles_with_visibility("internal");
    let path = format!("/projects/{}/pipelines", roles.project_id);
    assert_error(app.get(&path, None), 404, "message", json!("404 Project Not Found"));
    expect_status(app.get(&path, Some(&roles.non_member.token)), 200, "non_member");
    expect_status(app.get(&path, Some(&roles.guest.token)), 200, "guest");
}

#[test]
fn pipeline_variables_need_maintainer_or_being_the_developer_who_triggered() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let path = format!("/projects/{}/pipelines/{id}/variables", f.pid);
    for (who, token) in everyone(&f.roles) {
        let resp = f.app.get(&path, token.as_deref());
        match who {
            "anonymous" | "non_member" => {
                assert_error(resp, 404, "message", json!("404 Project Not Found"));
            }
            "guest" | "reporter" | "developer" => {
                assert_error(resp, 403, "message", json!("403 Forbidden"));
            }
            _ => {
                let body = expect_status(resp, 200, who);
                assert_eq!(
                    body,
                    json!([{"variable_type": "file", "key": "TRIGGER_PAYLOAD",
                            "value": format!(r#"{{"ref":"main","variables":{{}},"inputs":{{}},"id":"{}"}}"#, f.pid)}])
                );
            }
        }
    }
    // The developer who owns the trigger sees the variables of their own pipelines only.
    let dev_trigger = f.app.seed_trigger(f.pid, &f.roles.developer, "dev");
    let own =
        id_of(&json_of(trigger_json(&f.app, f.pid, &dev_trigger.token, "main", json!({"A": "1"})), 201));
    let body = json_of(
        f.app.get(&format!("/projects/{}/pipelines/{own}/variables", f.pid), Some(&f.roles.developer.token)),
        200,
    );
    assert_eq!(body[0], json!({"variable_type": "env_var", "key": "A", "value": "1"}));
    assert_eq!(body[1]["key"], "TRIGGER_PAYLOAD");
    // Demoted to reporter, they lose it.
    f.app.add_member(f.pid, &f.roles.developer, REPORTER);
    let resp =
        f.app.get(&format!("/projects/{}/pipelines/{own}/variables", f.pid), Some(&f.roles.developer.token));
    assert_error(resp, 403, "message", json!("403 Forbidden"));
}

#[test]
fn a_missing_or_malformed_pipeline_id_is_404_or_400() {
    let f = fixture();
    let token = Some(f.roles.owner.token.as_str());
    for suffix in ["", "/variables"] {
        let resp = f.app.get(&format!("/projects/{}/pipelines/424242{suffix}", f.pid), token);
        assert_error(resp, 404, "message", json!("404 Not found"));
        let resp = f.app.get(&format!("/projects/{}/pipelines/abc{suffix}", f.pid), token);
        assert_error(resp, 400, "error", json!("pipeline_id is invalid"));
    }
    for action in ["cancel", "retry"] {
        let resp = f
            .app
            .request(Method::POST, &format!("/projects/{}/pipelines/424242/{action}", f.pid), token)
            .send()
            .unwrap();
        assert_error(resp, 404, "message", json!("404 Not found"));
        let resp = f
            .app
            .request(Method::POST, &format!("/projects/{}/pipelines/x/{action}", f.pid), token)
            .send()
            .unwrap();
        assert_error(resp, 400, "error", json!("pipeline_id is invalid"));
    }
    assert_error(
        f.app.delete(&format!("/projects/{}/pipelines/424242", f.pid), token),
        404,
        "message",
        json!("404 Not found"),
    );
    // `latest` is only a GET; other methods treat it as a (non-numeric) pipeline id.
    assert_error(
        f.app.delete(&format!("/projects/{}/pipelines/latest", f.pid), token),
        400,
        "error",
        json!("pipeline_id is invalid"),
    );
    // A pipeline of another project is not found under this one.
    let other = f.app.create_project(&f.roles.owner, "other", "private");
    f.app.seed_ref(other, "branch", "main");
    let t = f.app.seed_trigger(other, &f.roles.owner, "x");
    let foreign = id_of(&json_of(trigger_json(&f.app, other, &t.token, "main", json!({})), 201));
    assert_error(
        f.app.get(&format!("/projects/{}/pipelines/{foreign}", f.pid), token),
        404,
        "message",
        json!("404 Not found"),
    );
    // An unknown project.
    assert_error(
        f.app.get("/projects/999999/pipelines", token),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}

#[test]
fn get_returns_the_full_entity_with_name() {
    let f = fixture();
    let created = create_pipeline(&f);
    let mut got = json_of(
        f.app.get(
            &format!("/projects/{}/pipelines/{}", f.pid, id_of(&created)),
            Some(&f.roles.reporter.token),
        ),
        200,
    );
    // GET adds our multi-project links; otherwise it is the trigger call's answer.
    let links = got.as_object_mut().unwrap();
    assert_eq!(links.remove("upstream_pipeline"), Some(Value::Null));
    assert_eq!(links.remove("downstream_pipelines"), Some(json!([])));
    assert_eq!(got, created);
    f.app
        .db()
        .execute(
            "UPDATE pipelines SET name = 'nightly', coverage = '98.29', duration = 12, queued_duration = 3",
            [],
        )
        .unwrap();
    let got = json_of(
        f.app.get(
            &format!("/projects/{}/pipelines/{}", f.pid, id_of(&created)),
            Some(&f.roles.reporter.token),
        ),
        200,
    );
    assert_eq!(
        (
            got["name"].clone(),
            got["coverage"].clone(),
            got["duration"].clone(),
            got["queued_duration"].clone()
        ),
        (json!("nightly"), json!("98.29"), json!(12), json!(3))
    );
}

#[test]
fn a_pipeline_whose_user_was_deleted_shows_a_null_user() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    f.app.db().execute("DELETE FROM users WHERE id = ?1", [f.roles.maintainer.id]).unwrap();
    let got =
        json_of(f.app.get(&format!("/projects/{}/pipelines/{id}", f.pid), Some(&f.roles.owner.token)), 200);
    assert!(got["user"].is_null());
}

#[test]
fn latest_is_the_newest_pipeline_of_the_default_branch_or_the_given_ref() {
    let f = fixture();
    let token = Some(f.roles.developer.token.as_str());
    let latest = format!("/projects/{}/pipelines/latest", f.pid);
    assert_error(f.app.get(&latest, token), 404, "message", json!("404 Not found"));
    f.app.seed_ref(f.pid, "branch", "dev");
    create_pipeline(&f);
    let newest = create_pipeline(&f);
    let on_dev = json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "dev", json!({})), 201);
    assert_eq!(json_of(f.app.get(&latest, token), 200)["id"], newest["id"]);
    assert_eq!(json_of(f.app.get(&format!("{latest}?ref=dev"), token), 200)["id"], on_dev["id"]);
    assert_error(f.app.get(&format!("{latest}?ref=nope"), token), 404, "message", json!("404 Not found"));
    // Without a default branch and without `ref` there is nothing to look at.
    f.app.db().execute("UPDATE projects SET default_branch = NULL WHERE id = ?1", [f.pid]).unwrap();
    assert_error(f.app.get(&latest, token), 404, "message", json!("404 Not found"));
}

#[test]
fn cancel_needs_developer_and_cancels_a_running_pipeline() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let path = format!("/projects/{}/pipelines/{id}/cancel", f.pid);
    for (who, token) in everyone(&f.roles) {
        let resp = f.app.request(Method::POST, &path, token.as_deref()).send().unwrap();
        match who {
            "anonymous" => {
                assert_error(resp, 401, "message", json!("401 Unauthorized"));
            }
            "non_member" => {
                assert_error(resp, 404, "message", json!("404 Project Not Found"));
            }
            "guest" | "reporter" => {
                assert_error(resp, 403, "message", json!("403 Forbidden"));
            }
            _ => {
                expect_status(resp, 200, who);
            }
        }
    }
    // Status only changed once, by the developer; later calls left it as it was.
    let status: (String, Option<String>) = f
        .app
        .db()
        .query_row("SELECT status, finished_at FROM pipelines WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(status.0, "canceled");
    assert!(status.1.is_some());
}

#[test]
fn cancel_sets_finished_at_and_leaves_finished_pipelines_alone() {
    let f = fixture();
    let token = Some(f.roles.developer.token.as_str());
    let id = id_of(&create_pipeline(&f));
    f.app.db().execute("UPDATE pipelines SET status = 'running' WHERE id = ?1", [id]).unwrap();
    let body = json_of(
        f.app
            .request(Method::POST, &format!("/projects/{}/pipelines/{id}/cancel", f.pid), token)
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(body["status"], "canceled");
    assert_eq!(body["detailed_status"]["text"], "canceled");
    assert_eq!(body["detailed_status"]["icon"], "status_canceled");
    assert!(body["finished_at"].is_string());
    assert_eq!(body["updated_at"], body["finished_at"]);

    let done = id_of(&create_pipeline(&f));
    f.app
        .db()
        .execute(
            "UPDATE pipelines SET status = 'success', finished_at = '2030-01-01T00:00:00.000Z' WHERE id = ?1",
            [done],
        )
        .unwrap();
    let body = json_of(
        f.app
            .request(Method::POST, &format!("/projects/{}/pipelines/{done}/cancel", f.pid), token)
            .send()
            .unwrap(),
        200,
    );
    assert_eq!(body["status"], "success");
    assert_eq!(body["detailed_status"]["text"], "passed");
    assert_eq!(body["finished_at"], "2030-01-01T00:00:00.000Z");
}

#[test]
fn retry_needs_developer_and_requeues_failed_or_canceled_pipelines() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let path = format!("/projects/{}/pipelines/{id}/retry", f.pid);
    for (who, token) in everyone(&f.roles) {
        let resp = f.app.request(Method::POST, &path, token.as_deref()).send().unwrap();
        match who {
            "anonymous" => {
                assert_error(resp, 401, "message", json!("401 Unauthorized"));
            }
            "non_member" => {
                assert_error(resp, 404, "message", json!("404 Project Not Found"));
            }
            "guest" | "reporter" => {
                assert_error(resp, 403, "message", json!("403 Forbidden"));
            }
            _ => {
                // `created` is not retryable: unchanged.
                assert_eq!(expect_status(resp, 201, who)["status"], "created");
            }
        }
    }
    let token = Some(f.roles.developer.token.as_str());
    for status in ["failed", "canceled"] {
        f.app
            .db()
            .execute(
                "UPDATE pipelines SET status = ?2, finished_at = '2030-01-01T00:00:00.000Z' WHERE id = ?1",
                rusqlite::params![id, status],
            )
            .unwrap();
        let body = json_of(f.app.request(Method::POST, &path, token).send().unwrap(), 201);
        assert_eq!(body["status"], "pending", "{status}");
        assert!(body["finished_at"].is_null());
        assert_eq!(body["detailed_status"]["icon"], "status_pending");
    }
}

#[test]
fn delete_needs_owner_and_removes_the_variables_too() {
    let f = fixture();
    let id = id_of(&json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "main", json!({"A": "1"})), 201));
    let path = format!("/projects/{}/pipelines/{id}", f.pid);
    for (who, token) in everyone(&f.roles) {
        if matches!(who, "owner" | "admin") {
            continue;
        }
        let resp = f.app.delete(&path, token.as_deref());
        match who {
            "anonymous" => {
                assert_error(resp, 401, "message", json!("401 Unauthorized"));
            }
            "non_member" => {
                assert_error(resp, 404, "message", json!("404 Project Not Found"));
            }
            _ => {
                assert_error(resp, 403, "message", json!("403 Forbidden"));
            }
        }
        assert_eq!(counts(&f.app), (1, 2), "{who}");
    }
    let resp = f.app.delete(&path, Some(&f.roles.owner.token));
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().unwrap(), "");
    assert_eq!(counts(&f.app), (0, 0));
    assert_error(f.app.get(&path, Some(&f.roles.owner.token)), 404, "message", json!("404 Not found"));
    // An admin may delete too.
    let id = id_of(&create_pipeline(&f));
    let resp = f.app.delete(&format!("/projects/{}/pipelines/{id}", f.pid), Some(&f.roles.admin.token));
    assert_eq!(resp.status(), 204);
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn delete_honours_if_unmodified_since() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let path = format!("/projects/{}/pipelines/{id}", f.pid);
    let resp = f
        .app
        .request(Method::DELETE, &path, Some(&f.roles.owner.token))
        .header("If-Unmodified-Since", "1990-01-12T00:00:48-0600")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 412);
    assert_eq!(resp.json::<Value>().unwrap(), json!({"message": "412 Precondition Failed"}));
    assert_eq!(counts(&f.app), (1, 1));
    let resp = f
        .app
        .request(Method::DELETE, &path, Some(&f.roles.owner.token))
        .header("If-Unmodified-Since", "2999-01-01T00:00:00Z")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(counts(&f.app), (0, 0));
}

#[test]
fn a_read_api_token_cannot_cancel() {
    let f = fixture();
    let id = id_of(&create_pipeline(&f));
    let read_only = f.app.seed_token(f.roles.owner.id, &["read_api"], None);
    let resp = f
        .app
        .request(Method::POST, &format!("/projects/{}/pipelines/{id}/cancel", f.pid), Some(&read_only))
        .send()
        .unwrap();
    assert_error(resp, 403, "error", json!("insufficient_scope"));
    json_of(f.app.get(&format!("/projects/{}/pipelines/{id}", f.pid), Some(&read_only)), 200);
}

// ---------------------------------------------------------------------------------------------
// Pipelines API: list filters, ordering and pagination
// ---------------------------------------------------------------------------------------------

/// Five pipelines: ids in order, with statuses/sources/users/timestamps set for filtering.
fn listed(f: &Fixture, query: &str) -> Vec<i64> {
    let resp = f.app.get(&format!("/projects/{}/pipelines{query}", f.pid), Some(&f.roles.reporter.token));
    json_of(resp, 200).as_array().unwrap().iter().map(id_of).collect()
}

fn five_pipelines(f: &Fixture) -> Vec<i64> {
    f.app.seed_ref(f.pid, "tag", "v1.0");
    f.app.seed_ref(f.pid, "branch", "dev");
    let dev_trigger = f.app.seed_trigger(f.pid, &f.roles.developer, "dev");
    let ids = vec![
        id_of(&create_pipeline(f)),
        id_of(&create_pipeline(f)),
        id_of(&json_of(trigger_json(&f.app, f.pid, &f.trigger.token, "v1.0", json!({})), 201)),
        id_of(&json_of(trigger_json(&f.app, f.pid, &dev_trigger.token, "dev", json!({})), 201)),
        id_of(&json_of(trigger_json(&f.app, f.pid, &dev_trigger.token, "main", json!({})), 201)),
    ];
    let db = f.app.db();
    let set = |id: i64, status: &str, source: &str, created: &str| {
        db.execute(
            "UPDATE pipelines SET status = ?2, source = ?3, created_at = ?4, updated_at = ?4 WHERE id = ?1",
            rusqlite::params![id, status, source, created],
        )
        .unwrap();
    };
    set(ids[0], "success", "trigger", "2024-01-01T00:00:00.000Z");
    set(ids[1], "failed", "push", "2024-02-01T00:00:00.000Z");
    set(ids[2], "running", "trigger", "2024-03-01T00:00:00.000Z");
    set(ids[3], "created", "trigger", "2024-04-01T00:00:00.000Z");
    set(ids[4], "canceled", "api", "2024-05-01T00:00:00.000Z");
    db.execute("UPDATE pipelines SET yaml_errors = 'bad yaml', name = 'nightly' WHERE id = ?1", [ids[1]])
        .unwrap();
    ids
}

#[test]
fn the_list_is_newest_first_with_basic_fields() {
    let f = fixture();
    let ids = five_pipelines(&f);
    let resp = f.app.get(&format!("/projects/{}/pipelines", f.pid), Some(&f.roles.reporter.token));
    assert_eq!(resp.headers()["x-total"], "5");
    let body = json_of(resp, 200);
    let items = body.as_array().unwrap();
    assert_eq!(items.iter().map(id_of).collect::<Vec<_>>(), ids.iter().rev().copied().collect::<Vec<_>>());
    let keys: Vec<&str> = items[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "iid",
            "project_id",
            "sha",
            "ref",
            "status",
            "source",
            "created_at",
            "updated_at",
            "web_url",
            "name"
        ]
    );
    assert_eq!(items[0]["web_url"], format!("{}/owner/demo/-/pipelines/{}", f.app.address, ids[4]));
    assert_eq!(items[3]["name"], "nightly");
}

#[test]
fn the_list_filters_by_status_ref_source_username_sha_name_and_yaml_errors() {
    let f = fixture();
    let ids = five_pipelines(&f);
    assert_eq!(listed(&f, "?status=running"), [ids[2]]);
    assert_eq!(listed(&f, "?ref=main"), [ids[4], ids[1], ids[0]]);
    assert_eq!(listed(&f, "?ref=v1.0"), [ids[2]]);
    assert_eq!(listed(&f, "?source=trigger"), [ids[3], ids[2], ids[0]]);
    assert_eq!(listed(&f, "?source=push&status=failed"), [ids[1]]);
    assert_eq!(listed(&f, "?username=developer"), [ids[4], ids[3]]);
    assert_eq!(listed(&f, "?username=nobody"), Vec::<i64>::new());
    assert_eq!(listed(&f, &format!("?sha={}", f.main_sha)), [ids[4], ids[1], ids[0]]);
    assert_eq!(listed(&f, "?name=nightly"), [ids[1]]);
    assert_eq!(listed(&f, "?yaml_errors=true"), [ids[1]]);
    assert_eq!(listed(&f, "?yaml_errors=false").len(), 4);
    assert_eq!(listed(&f, "?ref="), listed(&f, ""));
}

#[test]
fn the_list_filters_by_creation_and_update_time() {
    let f = fixture();
    let ids = five_pipelines(&f);
    assert_eq!(listed(&f, "?created_after=2024-03-01T00:00:00Z"), [ids[4], ids[3]]);
    assert_eq!(listed(&f, "?created_before=2024-02-15"), [ids[1], ids[0]]);
    assert_eq!(
        listed(&f, "?updated_after=2024-01-15T00:00:00%2B01:00&updated_before=2024-04-01"),
        [ids[2], ids[1]]
    );
    for key in ["created_after", "created_before", "updated_after", "updated_before"] {
        let resp = f
            .app
            .get(&format!("/projects/{}/pipelines?{key}=01/01/2050", f.pid), Some(&f.roles.reporter.token));
        assert_error(resp, 400, "error", json!(format!("{key} is invalid")));
    }
}

#[test]
fn the_list_scopes_finished_branches_and_tags() {
    let f = fixture();
    let ids = five_pipelines(&f);
    assert_eq!(listed(&f, "?scope=finished"), [ids[4], ids[1], ids[0]]);
    assert_eq!(listed(&f, "?scope=running"), [ids[2]]);
    assert_eq!(listed(&f, "?scope=pending"), Vec::<i64>::new());
    assert_eq!(listed(&f, "?scope=tags"), [ids[2]]);
    // The newest pipeline of each branch.
    assert_eq!(listed(&f, "?scope=branches"), [ids[4], ids[3]]);
}

#[test]
fn the_list_orders_by_the_requested_column() {
    let f = fixture();
    let ids = five_pipelines(&f);
    assert_eq!(listed(&f, "?sort=asc"), ids);
    assert_eq!(listed(&f, "?order_by=status&sort=asc"), [ids[4], ids[3], ids[1], ids[2], ids[0]]);
    assert_eq!(listed(&f, "?order_by=ref&sort=asc"), [ids[3], ids[0], ids[1], ids[4], ids[2]]);
    assert_eq!(listed(&f, "?order_by=updated_at"), [ids[4], ids[3], ids[2], ids[1], ids[0]]);
    assert_eq!(listed(&f, "?order_by=user_id&sort=asc")[3..], [ids[3], ids[4]]);
}

#[test]
fn invalid_list_parameters_are_400() {
    let f = fixture();
    let token = Some(f.roles.reporter.token.as_str());
    for (query, error) in [
        ("scope=all", "scope does not have a valid value"),
        ("status=done", "status does not have a valid value"),
        ("source=email", "source does not have a valid value"),
        ("order_by=name", "order_by does not have a valid value"),
        ("sort=up", "sort does not have a valid value"),
        ("yaml_errors=maybe", "yaml_errors is invalid"),
        ("page=0", "page does not have a valid value"),
        ("per_page=x", "per_page is invalid"),
    ] {
        let resp = f.app.get(&format!("/projects/{}/pipelines?{query}", f.pid), token);
        assert_error(resp, 400, "error", json!(error));
    }
}

#[test]
fn the_list_is_paginated_with_gitlabs_headers() {
    let f = fixture();
    let ids = five_pipelines(&f);
    let resp = f.app.get(
        &format!("/projects/{}/pipelines?per_page=2&page=2&status=failed,x", f.pid),
        Some(&f.roles.reporter.token),
    );
    // A list-looking status is just an invalid value.
    assert_eq!(resp.status(), 400);
    let resp =
        f.app.get(&format!("/projects/{}/pipelines?per_page=2&page=2", f.pid), Some(&f.roles.reporter.token));
    let h = resp.headers().clone();
    assert_eq!(h["x-page"], "2");
    assert_eq!(h["x-per-page"], "2");
    assert_eq!(h["x-total"], "5");
    assert_eq!(h["x-total-pages"], "3");
    assert_eq!(h["x-next-page"], "3");
    assert_eq!(h["x-prev-page"], "1");
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains("rel=\"next\"") && link.contains("rel=\"prev\"") && link.contains("rel=\"last\""),
        "{link}"
    );
    let body = json_of(resp, 200);
    assert_eq!(body.as_array().unwrap().iter().map(id_of).collect::<Vec<_>>(), [ids[2], ids[1]]);
    let last = listed(&f, "?per_page=2&page=3");
    assert_eq!(last, [ids[0]]);
}
