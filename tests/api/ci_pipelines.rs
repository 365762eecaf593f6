//! Pipelines created from `.gitlab-ci.yml` (stored through the Repository Files API): the trigger
//! call and `POST /projects/:id/pipeline`, GitLab's outcomes for invalid configurations and rules
//! that leave nothing, and the variables rules see.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const TWO_STAGES: &str = "
stages: [build, test]
build:
  stage: build
  script: make
test:
  stage: test
  script: make test
";

/// A private `owner/demo` with every role and a `main` branch.
fn setup(app: &TestApp) -> Roles {
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    r
}

/// Stores `.gitlab-ci.yml` on `main` (a new commit), as a Developer.
fn store_config(app: &TestApp, r: &Roles, content: &str) {
    let url = format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id);
    let body = json!({"branch": "main", "content": content, "commit_message": "ci"});
    let resp = app.post_json(&url, Some(&r.developer.token), &body);
    if resp.status().as_u16() == 400 {
        // Already there: update it.
        json_of(app.put_json(&url, Some(&r.developer.token), &body), 200);
    } else {
        assert_eq!(resp.status().as_u16(), 201);
    }
}

fn trigger(app: &TestApp, r: &Roles, token: &str, variables: Value) -> reqwest::blocking::Response {
    app.post_json(
        &format!("/projects/{}/trigger/pipeline", r.project_id),
        None,
        &json!({"token": token, "ref": "main", "variables": variables}),
    )
}

fn create(app: &TestApp, r: &Roles, token: &str, body: Value) -> reqwest::blocking::Response {
    app.post_json(&format!("/projects/{}/pipeline", r.project_id), Some(token), &body)
}

fn job_names(app: &TestApp, r: &Roles, pipeline: &Value) -> Vec<(String, String)> {
    let jobs = json_of(
        app.get(
            &format!("/projects/{}/pipelines/{}/jobs", r.project_id, pipeline["id"]),
            Some(&r.developer.token),
        ),
        200,
    );
    let mut v: Vec<(String, String)> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["name"].as_str().unwrap().to_string(), j["status"].as_str().unwrap().to_string()))
        .collect();
    v.sort();
    v
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
    v.sort();
    v
}

#[test]
fn a_trigger_call_creates_the_jobs_of_the_configuration_and_a_pending_pipeline() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(&app, &r, TWO_STAGES);
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let p = json_of(trigger(&app, &r, &t.token, json!({})), 201);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["source"], "trigger");
    assert_eq!(job_names(&app, &r, &p), pairs(&[("build", "pending"), ("test", "created")]));
}

#[test]
fn without_a_configuration_the_pipeline_has_no_jobs_and_stays_created() {
    let app = spawn_app();
    let r = setup(&app);
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let p = json_of(trigger(&app, &r, &t.token, json!({})), 201);
    assert_eq!(p["status"], "created");
    assert_eq!(job_names(&app, &r, &p), vec![]);
    assert_eq!(app.count("jobs"), 0);
}

#[test]
fn an_invalid_configuration_keeps_a_failed_pipeline_with_yaml_errors_and_answers_422() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(&app, &r, "build:\n  stage: build\n");
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let body = json_of(trigger(&app, &r, &t.token, json!({})), 422);
    let errors = body["message"]["base"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].as_str().unwrap().contains("build"), "{body}");
    let list =
        json_of(app.get(&format!("/projects/{}/pipelines", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "failed");
    let p = json_of(
        app.get(&format!("/projects/{}/pipelines/{}", r.project_id, list[0]["id"]), Some(&r.developer.token)),
        200,
    );
    assert_eq!(p["yaml_errors"], errors[0]);
    assert!(p["finished_at"].is_string());
    assert_eq!(app.count("jobs"), 0);
    // The API create persists nothing and answers 400 (GitLab's `save_on_errors: false`).
    let body = json_of(create(&app, &r, &r.developer.token, json!({"ref": "main"})), 400);
    assert_eq!(body["message"]["base"][0], errors[0]);
    assert_eq!(app.count("pipelines"), 1);
}

#[test]
fn a_billion_laughs_configuration_is_a_failed_pipeline_not_an_out_of_memory() {
    let app = spawn_app();
    let r = setup(&app);
    let mut yaml = String::from(
        "a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        let items = [prev.as_str(); 9].join(", ");
        yaml.push_str(&format!("a{i}: &a{i} [{items}]\n"));
    }
    store_config(&app, &r, &yaml);
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let body = json_of(trigger(&app, &r, &t.token, json!({})), 422);
    assert!(!body["message"]["base"][0].as_str().unwrap().is_empty());
    assert_eq!(app.count("jobs"), 0);
    let failed: i64 = app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM pipelines WHERE status = 'failed' AND yaml_errors IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failed, 1);
    assert_eq!(create(&app, &r, &r.developer.token, json!({"ref": "main"})).status().as_u16(), 400);
}

#[test]
fn a_configuration_that_is_not_utf8_is_a_yaml_error() {
    let app = spawn_app();
    let r = setup(&app);
    let url = format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id);
    let body = json!({"branch": "main", "content": "/w==", "encoding": "base64", "commit_message": "ci"});
    assert_eq!(app.post_json(&url, Some(&r.developer.token), &body).status().as_u16(), 201);
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let body = json_of(trigger(&app, &r, &t.token, json!({})), 422);
    assert_eq!(body["message"]["base"], json!(["Invalid configuration format"]));
}

#[test]
fn rules_see_the_pipeline_source_and_trigger_variables() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(
        &app,
        &r,
        r#"
triggered:
  script: echo "$CI_PIPELINE_SOURCE"
  rules:
    - if: '$CI_PIPELINE_SOURCE == "trigger" && $CI_PIPELINE_TRIGGERED'
deploy:
  stage: deploy
  script: deploy
  rules:
    - if: '$DEPLOY == "yes" && $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH'
      when: manual
    - when: never
from_api:
  script: echo api
  rules:
    - if: $CI_PIPELINE_SOURCE == "api"
"#,
    );
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let p = json_of(trigger(&app, &r, &t.token, json!({})), 201);
    assert_eq!(job_names(&app, &r, &p), pairs(&[("triggered", "pending")]));
    let p = json_of(trigger(&app, &r, &t.token, json!({"DEPLOY": "yes"})), 201);
    assert_eq!(job_names(&app, &r, &p), pairs(&[("triggered", "pending"), ("deploy", "created")]));
    let p = json_of(create(&app, &r, &r.developer.token, json!({"ref": "main"})), 201);
    assert_eq!(p["source"], "api");
    assert_eq!(job_names(&app, &r, &p), pairs(&[("from_api", "pending")]));
}

#[test]
fn rules_that_leave_no_job_answer_400_and_persist_nothing() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(&app, &r, "only_api:\n  script: x\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"api\"\n");
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let message = json!({"base": [
        "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline."
    ]});
    assert_error(trigger(&app, &r, &t.token, json!({})), 400, "message", message);
    assert_eq!(app.count("pipelines"), 0);
    // The iid counter did not move either: the next pipeline is iid 1.
    let p = json_of(create(&app, &r, &r.developer.token, json!({"ref": "main"})), 201);
    assert_eq!(p["iid"], 1);
}

#[test]
fn workflow_rules_that_filter_the_pipeline_answer_400_and_persist_nothing() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(
        &app,
        &r,
        "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"api\"\nbuild:\n  script: make\n",
    );
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    assert_error(
        trigger(&app, &r, &t.token, json!({})),
        400,
        "message",
        json!({"base": ["Pipeline filtered out by workflow rules."]}),
    );
    assert_eq!(app.count("pipelines"), 0);
    assert_eq!(create(&app, &r, &r.developer.token, json!({"ref": "main"})).status().as_u16(), 201);
}

#[test]
fn a_pipeline_reads_the_configuration_of_its_commit() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(&app, &r, "one:\n  script: x\n");
    let t = app.seed_trigger(r.project_id, &r.developer, "ci");
    let first = json_of(trigger(&app, &r, &t.token, json!({})), 201);
    store_config(&app, &r, "two:\n  script: x\n");
    let second = json_of(trigger(&app, &r, &t.token, json!({})), 201);
    assert_ne!(first["sha"], second["sha"]);
    assert_eq!(job_names(&app, &r, &first), pairs(&[("one", "pending")]));
    assert_eq!(job_names(&app, &r, &second), pairs(&[("two", "pending")]));
}

#[test]
fn post_pipeline_creates_an_api_pipeline_with_typed_variables() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(&app, &r, TWO_STAGES);
    let body = json!({
        "ref": "main",
        "variables": [
            {"key": "A", "value": "1"},
            {"key": "F", "value": "file body", "variable_type": "file"},
        ],
    });
    let p = json_of(create(&app, &r, &r.developer.token, body), 201);
    assert_eq!(p["source"], "api");
    assert_eq!(p["status"], "pending");
    assert_eq!(p["ref"], "main");
    assert_eq!(p["user"]["username"], "developer");
    let vars = json_of(
        app.get(
            &format!("/projects/{}/pipelines/{}/variables", r.project_id, p["id"]),
            Some(&r.developer.token),
        ),
        200,
    );
    assert_eq!(
        vars,
        json!([
            {"variable_type": "env_var", "key": "A", "value": "1"},
            {"variable_type": "file", "key": "F", "value": "file body"},
        ])
    );
    assert_eq!(job_names(&app, &r, &p), pairs(&[("build", "pending"), ("test", "created")]));
}

#[test]
fn post_pipeline_without_a_configuration_keeps_an_empty_created_pipeline() {
    let app = spawn_app();
    let r = setup(&app);
    let p = json_of(create(&app, &r, &r.maintainer.token, json!({"ref": "main"})), 201);
    assert_eq!(p["status"], "created");
}

#[test]
fn post_pipeline_needs_a_developer() {
    let app = spawn_app();
    let r = setup(&app);
    for u in [&r.developer, &r.maintainer, &r.owner, &r.admin] {
        assert_eq!(
            create(&app, &r, &u.token, json!({"ref": "main"})).status().as_u16(),
            201,
            "{}",
            u.username
        );
    }
    for u in [&r.reporter, &r.guest] {
        assert_error(
            create(&app, &r, &u.token, json!({"ref": "main"})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_error(
        create(&app, &r, &r.non_member.token, json!({"ref": "main"})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    let resp = app
        .request(Method::POST, &format!("/projects/{}/pipeline", r.project_id), None)
        .json(&json!({"ref": "main"}))
        .send()
        .unwrap();
    assert_error(resp, 401, "message", json!("401 Unauthorized"));
    assert_eq!(app.count("pipelines"), 4);
}

#[test]
fn post_pipeline_refuses_bad_input_and_creates_nothing() {
    let app = spawn_app();
    let r = setup(&app);
    let t = r.developer.token.as_str();
    assert_error(create(&app, &r, t, json!({})), 400, "error", json!("ref is missing"));
    assert_error(
        create(&app, &r, t, json!({"ref": "nope"})),
        400,
        "message",
        json!({"base": ["Reference not found"]}),
    );
    for bad in [
        json!({"ref": "main", "variables": "A=1"}),
        json!({"ref": "main", "variables": [{"key": "A"}]}),
        json!({"ref": "main", "variables": [{"value": "1"}]}),
        json!({"ref": "main", "variables": [{"key": "A", "value": {"x": 1}}]}),
        json!({"ref": "main", "variables": [{"key": "A", "value": "1", "variable_type": "secret"}]}),
        json!({"ref": "main", "variables": [{"key": "no spaces", "value": "1"}]}),
        json!({"ref": "main", "inputs": "x"}),
    ] {
        assert_eq!(create(&app, &r, t, bad.clone()).status().as_u16(), 400, "{bad}");
    }
    assert_eq!(app.count("pipelines"), 0);
}

#[test]
fn post_pipeline_takes_form_encoded_variables_as_rack_nests_them() {
    let app = spawn_app();
    let r = setup(&app);
    let resp = app
        .request(Method::POST, &format!("/projects/{}/pipeline", r.project_id), Some(&r.developer.token))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("ref=main&variables[][key]=A&variables[][value]=1&variables[][key]=B&variables[][value]=2&variables[][variable_type]=file")
        .send()
        .unwrap();
    let p = json_of(resp, 201);
    let vars = json_of(
        app.get(
            &format!("/projects/{}/pipelines/{}/variables", r.project_id, p["id"]),
            Some(&r.developer.token),
        ),
        200,
    );
    assert_eq!(
        vars,
        json!([
            {"variable_type": "env_var", "key": "A", "value": "1"},
            {"variable_type": "file", "key": "B", "value": "2"},
        ])
    );
}

#[test]
fn a_tag_pipeline_sees_ci_commit_tag_and_not_ci_commit_branch() {
    let app = spawn_app();
    let r = setup(&app);
    store_config(
        &app,
        &r,
        "release:\n  script: x\n  rules:\n    - if: $CI_COMMIT_TAG\nbranch:\n  script: y\n  rules:\n    - if: $CI_COMMIT_BRANCH\n",
    );
    // A tag at the commit that holds the configuration.
    let sha: String = app
        .db()
        .query_row("SELECT sha FROM refs WHERE project_id = ?1 AND name = 'main'", [r.project_id], |row| {
            row.get(0)
        })
        .unwrap();
    app.db()
        .execute(
            "INSERT INTO refs (project_id, kind, name, sha, created_at) VALUES (?1, 'tag', 'v1.0', ?2, 't')",
            rusqlite::params![r.project_id, sha],
        )
        .unwrap();
    let p = json_of(create(&app, &r, &r.developer.token, json!({"ref": "v1.0"})), 201);
    assert_eq!(p["tag"], true);
    assert_eq!(job_names(&app, &r, &p), pairs(&[("release", "pending")]));
    let p = json_of(create(&app, &r, &r.developer.token, json!({"ref": "main"})), 201);
    assert_eq!(job_names(&app, &r, &p), pairs(&[("branch", "pending")]));
}
