//! The commit status API (executor-reference §1): an external CI posts states to
//! `POST /projects/:id/statuses/:sha` and the pipeline follows; `GET …/commits/:sha/statuses`
//! lists them.

use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) fn post_url(project: i64, sha: &str) -> String {
    format!("/projects/{project}/statuses/{sha}")
}

pub(crate) fn list_url(project: i64, sha: &str, query: &str) -> String {
    format!("/projects/{project}/repository/commits/{sha}/statuses{query}")
}

/// Posts a status as `token`; returns the response.
pub(crate) fn post(
    app: &TestApp,
    project: i64,
    sha: &str,
    token: &str,
    body: Value,
) -> reqwest::blocking::Response {
    app.post_json(&post_url(project, sha), Some(token), &body)
}

/// Posts a status that must be accepted; returns the commit status JSON.
pub(crate) fn posted(app: &TestApp, project: i64, sha: &str, token: &str, body: Value) -> Value {
    json_of(post(app, project, sha, token, body), 201)
}

pub(crate) fn pipeline(app: &TestApp, project: i64, id: i64, token: &str) -> Value {
    json_of(app.get(&format!("/projects/{project}/pipelines/{id}"), Some(token)), 200)
}

pub(crate) fn statuses(app: &TestApp, project: i64, sha: &str, query: &str, token: &str) -> Vec<Value> {
    json_of(app.get(&list_url(project, sha, query), Some(token)), 200).as_array().unwrap().clone()
}

pub(crate) fn count_where(app: &TestApp, sql: &str) -> i64 {
    app.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn each_state_on_a_fresh_commit_creates_an_external_pipeline_with_one_default_job() {
    let app = spawn_app();
    let r = app.roles();
    for state in ["pending", "running", "success", "failed", "canceled", "skipped"] {
        let sha = app.seed_ref(r.project_id, "branch", &format!("b-{state}"));
        let s = posted(&app, r.project_id, &sha, &r.developer.token, json!({"state": state}));
        assert_eq!(s["status"], state);
        assert_eq!(s["name"], "default");
        assert_eq!(s["sha"], sha.as_str());
        assert_eq!(s["ref"], format!("b-{state}"));
        assert_eq!(s["target_url"], Value::Null);
        assert_eq!(s["description"], Value::Null);
        assert_eq!(s["allow_failure"], false);
        assert_eq!(s["author"]["username"], "developer");
        let p = pipeline(&app, r.project_id, s["pipeline_id"].as_i64().unwrap(), &r.developer.token);
        assert_eq!(p["source"], "external");
        assert_eq!(p["status"], state, "a pipeline of one {state} job");
        assert!(p["iid"].as_i64().unwrap() > 0);
        let keys: Vec<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "id",
                "sha",
                "ref",
                "status",
                "name",
                "target_url",
                "description",
                "created_at",
                "started_at",
                "finished_at",
                "allow_failure",
                "coverage",
                "pipeline_id",
                "author"
            ]
        );
    }
    let reason: String = app
        .db()
        .query_row("SELECT failure_reason FROM jobs WHERE status = 'failed'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(reason, "api_failure");
    assert_eq!(
        count_where(&app, "SELECT COUNT(*) FROM jobs WHERE stage = 'external' AND stage_idx = 1000000"),
        6
    );
}

#[test]
fn a_pending_status_moves_on_in_place_and_all_optional_fields_are_echoed() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let first =
        posted(&app, r.project_id, &sha, &r.developer.token, json!({"state": "pending", "name": "ci"}));
    assert_eq!(first["started_at"], Value::Null);
    let running = posted(
        &app,
        r.project_id,
        &sha,
        &r.developer.token,
        json!({"state": "running", "name": "ci", "target_url": "https://ci.example.com/1", "description": "building",
               "coverage": 80.0}),
    );
    assert_eq!(running["id"], first["id"]);
    assert_eq!(running["target_url"], "https://ci.example.com/1");
    assert_eq!(running["description"], "building");
    assert_eq!(running["coverage"], 80.0);
    assert!(running["started_at"].is_string());
    let done =
        posted(&app, r.project_id, &sha, &r.developer.token, json!({"state": "success", "name": "ci"}));
    assert_eq!(done["id"], first["id"]);
    assert_eq!(done["description"], "building", "an absent field is kept");
    assert!(done["finished_at"].is_string());
    assert_eq!(app.count("jobs"), 1);
    let p = pipeline(&app, r.project_id, done["pipeline_id"].as_i64().unwrap(), &r.developer.token);
    assert_eq!(p["coverage"], "80.00");
}

#[test]
fn pending_twice_or_running_twice_is_refused_with_gitlabs_transition_message_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    posted(&app, r.project_id, &sha, tok, json!({"state": "pending"}));
    assert_error(
        post(&app, r.project_id, &sha, tok, json!({"state": "pending"})),
        400,
        "message",
        json!(
            "Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via \"enqueue\")"
        ),
    );
    posted(&app, r.project_id, &sha, tok, json!({"state": "running", "description": "first"}));
    assert_error(
        post(
            &app,
            r.project_id,
            &sha,
            tok,
            json!({"state": "running", "description": "second", "coverage": 5}),
        ),
        400,
        "message",
        json!(
            "Cannot transition status via :run from :running (Reason(s): Status cannot transition via \"run\")"
        ),
    );
    assert_error(
        post(&app, r.project_id, &sha, tok, json!({"state": "skipped"})),
        400,
        "message",
        json!(
            "Cannot transition status via :skip from :running (Reason(s): Status cannot transition via \"skip\")"
        ),
    );
    let list = statuses(&app, r.project_id, &sha, "", tok);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["status"], "running");
    assert_eq!(list[0]["description"], "first");
    assert_eq!(list[0]["coverage"], Value::Null);
}

#[test]
fn a_state_posted_after_a_finished_one_makes_a_new_job_and_retires_the_old() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let failed = posted(&app, r.project_id, &sha, tok, json!({"state": "failed", "name": "ci"}));
    let p = failed["pipeline_id"].as_i64().unwrap();
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "failed");
    let again = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "ci"}));
    assert_ne!(again["id"], failed["id"]);
    assert_eq!(again["pipeline_id"], p);
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "success");
    let latest = statuses(&app, r.project_id, &sha, "", tok);
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0]["id"], again["id"]);
    assert_eq!(statuses(&app, r.project_id, &sha, "?all=true", tok).len(), 2);
    // Re-posting a finished state is no error either: another new job.
    let third = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "ci"}));
    assert_ne!(third["id"], again["id"]);
}

#[test]
fn another_user_posting_the_same_name_gets_a_job_of_their_own() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let mine =
        posted(&app, r.project_id, &sha, &r.developer.token, json!({"state": "running", "name": "ci"}));
    let theirs =
        posted(&app, r.project_id, &sha, &r.maintainer.token, json!({"state": "running", "name": "ci"}));
    assert_ne!(mine["id"], theirs["id"]);
    assert_eq!(theirs["author"]["username"], "maintainer");
    let latest = statuses(&app, r.project_id, &sha, "", &r.developer.token);
    assert_eq!(latest.len(), 1, "the first job is retired: {latest:?}");
}

#[test]
fn a_status_joins_the_newest_pipeline_of_the_commit_whatever_its_source_and_reopens_it() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let older = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    let newer = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    let tok = &r.developer.token;
    let s = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "deploy"}));
    assert_eq!(s["pipeline_id"], newer);
    let p = pipeline(&app, r.project_id, newer, tok);
    assert_eq!(p["source"], "trigger");
    assert_eq!(p["status"], "success");
    assert_eq!(pipeline(&app, r.project_id, older, tok)["status"], "created");
    assert_eq!(app.count("pipelines"), 2);
    // A finished pipeline is re-opened by a new pending job (GitLab's enqueue → running).
    posted(&app, r.project_id, &sha, tok, json!({"state": "pending", "name": "smoke"}));
    assert_eq!(pipeline(&app, r.project_id, newer, tok)["status"], "running");
    // `pipeline_id` picks the older one; only it changes.
    let s = posted(&app, r.project_id, &sha, tok, json!({"state": "running", "pipeline_id": older}));
    assert_eq!(s["pipeline_id"], older);
    assert_eq!(pipeline(&app, r.project_id, older, tok)["status"], "running");
}

#[test]
fn a_pipeline_id_of_another_commit_ref_or_project_is_not_found_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let other_sha = app.seed_ref(r.project_id, "branch", "other");
    let here = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    let elsewhere_project = app.create_project(&r.owner, "elsewhere", "private");
    let elsewhere = app.seed_pipeline(elsewhere_project, Some(r.owner.id), "main", &sha);
    let not_found = json!("404 Pipeline for pipeline_id, sha and ref Not Found");
    let tok = &r.developer.token;
    for body in [
        json!({"state": "success", "pipeline_id": elsewhere}),
        json!({"state": "success", "pipeline_id": here, "ref": "other"}),
        json!({"state": "success", "pipeline_id": 999_999}),
    ] {
        assert_error(post(&app, r.project_id, &sha, tok, body), 404, "message", not_found.clone());
    }
    assert_error(
        post(&app, r.project_id, &other_sha, tok, json!({"state": "success", "pipeline_id": here})),
        404,
        "message",
        not_found,
    );
    assert_eq!(app.count("jobs"), 0);
    assert_eq!(app.count("pipelines"), 2);
}

#[test]
fn two_names_make_two_jobs_of_one_pipeline_whose_status_is_their_composite() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let a = posted(&app, r.project_id, &sha, tok, json!({"state": "pending", "name": "unit"}));
    let p = a["pipeline_id"].as_i64().unwrap();
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "pending");
    let b = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "context": "lint"}));
    assert_eq!(b["name"], "lint");
    assert_eq!(b["pipeline_id"], p);
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "running", "{{pending, success}} is running");
    posted(&app, r.project_id, &sha, tok, json!({"state": "failed", "name": "unit"}));
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "failed");
    assert_eq!(app.count("pipelines"), 1);
}

#[test]
fn concurrent_posts_for_one_name_make_one_job_and_for_two_names_one_pipeline() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let req = |name: &str| {
        app.request(reqwest::Method::POST, &post_url(r.project_id, &sha), Some(&r.developer.token))
            .json(&json!({"state": "pending", "name": name}))
    };
    let mut got = at_once(req("same"), req("same"));
    got.sort_unstable();
    assert_eq!(got, [201, 400], "the second finds the first's pending job");
    assert_eq!(app.count("jobs"), 1);
    let other = app.seed_ref(r.project_id, "branch", "second");
    let req = |name: &str| {
        app.request(reqwest::Method::POST, &post_url(r.project_id, &other), Some(&r.developer.token))
            .json(&json!({"state": "running", "name": name}))
    };
    assert_eq!(at_once(req("a"), req("b")), [201, 201]);
    assert_eq!(count_where(&app, &format!("SELECT COUNT(*) FROM pipelines WHERE sha = '{other}'")), 1);
    assert_eq!(app.count("jobs"), 3);
}

#[test]
fn an_external_ci_drives_a_pipeline_from_pending_through_running_to_success() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let s =
        posted(&app, r.project_id, &sha, tok, json!({"state": "pending", "name": "jenkins", "ref": "main"}));
    let id = s["pipeline_id"].as_i64().unwrap();
    let p = pipeline(&app, r.project_id, id, tok);
    assert_eq!(p["status"], "pending");
    assert_eq!(p["started_at"], Value::Null);
    assert_eq!(p["finished_at"], Value::Null);
    assert_eq!(p["duration"], Value::Null);
    posted(&app, r.project_id, &sha, tok, json!({"state": "running", "name": "jenkins", "pipeline_id": id}));
    let p = pipeline(&app, r.project_id, id, tok);
    assert_eq!(p["status"], "running");
    let started = p["started_at"].as_str().unwrap().to_string();
    assert_eq!(p["finished_at"], Value::Null);
    let done = posted(
        &app,
        r.project_id,
        &sha,
        tok,
        json!({"state": "success", "name": "jenkins", "pipeline_id": id}),
    );
    let p = pipeline(&app, r.project_id, id, tok);
    assert_eq!(p["status"], "success");
    assert_eq!(p["started_at"], started.as_str());
    assert_eq!(p["finished_at"], done["finished_at"]);
    assert!(p["finished_at"].as_str().unwrap() >= started.as_str());
    // GitLab counts CI builds only in `duration`: a pipeline of commit statuses that ran has 0.
    assert_eq!(p["duration"], 0);
    assert_eq!(p["detailed_status"]["group"], "success");
}

#[test]
fn a_name_a_ci_job_of_the_pipeline_has_is_already_taken() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.owner, "build:\n  script: [make]\n");
    let sha = "0123456789abcdef0123456789abcdef01234567";
    assert_error(
        post(
            &app,
            r.project_id,
            sha,
            &r.developer.token,
            json!({"state": "success", "name": "build", "pipeline_id": p}),
        ),
        400,
        "message",
        json!({"name": ["has already been taken"]}),
    );
    let s = posted(
        &app,
        r.project_id,
        sha,
        &r.developer.token,
        json!({"state": "running", "name": "external-scan"}),
    );
    assert_eq!(s["pipeline_id"], p);
    // Both kinds are listed; the build's status follows the runner, the external one the API.
    let all = statuses(&app, r.project_id, sha, "", &r.developer.token);
    let names: Vec<&str> = all.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["build", "external-scan"]);
    assert_eq!(app.pipeline_status(p), "running");
}

#[test]
fn refs_are_resolved_as_gitlab_does() {
    let app = spawn_app();
    let r = app.roles();
    let tok = &r.developer.token;
    // A SHA only a tag points at: no pipeline, no ref given, no branch holds it.
    let tag_sha = app.seed_ref(r.project_id, "tag", "v1.0");
    assert_error(
        post(&app, r.project_id, &tag_sha, tok, json!({"state": "success"})),
        404,
        "message",
        json!("404 References for commit Not Found"),
    );
    let s = posted(&app, r.project_id, &tag_sha, tok, json!({"state": "success", "ref": "v1.0"}));
    let p = pipeline(&app, r.project_id, s["pipeline_id"].as_i64().unwrap(), tok);
    assert_eq!(p["ref"], "v1.0");
    assert_eq!(p["tag"], true);
    // A name that is a branch and a tag must say which.
    let sha = app.seed_ref(r.project_id, "branch", "same");
    app.db()
        .execute(
            "INSERT INTO refs (project_id, kind, name, sha, created_at) VALUES (?1, 'tag', 'same', ?2, ?3)",
            rusqlite::params![r.project_id, sha, triggerd::model::now()],
        )
        .unwrap();
    assert_error(
        post(&app, r.project_id, &sha, tok, json!({"state": "success", "ref": "same"})),
        400,
        "message",
        json!("Ref is ambiguous - specify refs/heads/same or refs/tags/same"),
    );
    let s = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "ref": "refs/tags/same"}));
    assert_eq!(s["ref"], "same");
    // A branch name in the path names its commit (GitLab's `project.commit(sha)`).
    let named = app.seed_ref(r.project_id, "branch", "named");
    let s = posted(&app, r.project_id, "named", tok, json!({"state": "success"}));
    assert_eq!(s["sha"], named.as_str());
    assert_eq!(s["ref"], "named");
}

#[test]
fn hostile_posts_get_gitlabs_4xx_and_change_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let long = "x".repeat(256);
    let cases: Vec<(Value, u16, &str, Value)> = vec![
        (json!({}), 400, "error", json!("state is missing")),
        (json!({"state": "created"}), 400, "error", json!("state does not have a valid value")),
        (json!({"state": "SUCCESS"}), 400, "error", json!("state does not have a valid value")),
        (json!({"state": ["success"]}), 400, "error", json!("state is invalid")),
        (json!({"state": "success", "pipeline_id": "abc"}), 400, "error", json!("pipeline_id is invalid")),
        (json!({"state": "success", "coverage": "lots"}), 400, "error", json!("coverage is invalid")),
        (json!({"state": "success", "coverage": "NaN"}), 400, "error", json!("coverage is invalid")),
        (
            json!({"state": "success", "description": long}),
            400,
            "message",
            json!({"description": ["is too long (maximum is 255 characters)"]}),
        ),
        (
            json!({"state": "success", "target_url": format!("https://e.com/{long}")}),
            400,
            "message",
            json!({"target_url": ["is too long (maximum is 255 characters)"]}),
        ),
        (
            json!({"state": "success", "target_url": "git://example.com/x"}),
            400,
            "message",
            json!({"target_url": ["is blocked: Only allowed schemes are http, https"]}),
        ),
        (
            json!({"state": "success", "target_url": "invalid url"}),
            400,
            "message",
            json!({"target_url": ["is blocked: Only allowed schemes are http, https"]}),
        ),
        (
            json!({"state": "success", "name": long}),
            400,
            "message",
            json!({"name": ["is too long (maximum is 255 characters)"]}),
        ),
        (json!({"state": "success", "name": " "}), 400, "message", json!({"name": ["can't be blank"]})),
        (
            json!({"state": "success", "ref": long}),
            400,
            "message",
            json!({"ref": ["is too long (maximum is 255 characters)"]}),
        ),
        (json!({"state": "success", "name": {"a": {"b": [1]}}}), 400, "error", json!("name is invalid")),
    ];
    for (body, status, key, expected) in cases {
        assert_error(post(&app, r.project_id, &sha, tok, body.clone()), status, key, expected);
    }
    for bad in ["0000000000000000000000000000000000000000", "nothex", "abc", &"f".repeat(300)] {
        assert_error(
            post(&app, r.project_id, bad, tok, json!({"state": "success"})),
            404,
            "message",
            json!("404 Commit Not Found"),
        );
    }
    let anon = app.post_json(&post_url(r.project_id, &sha), None, &json!({"state": "success"}));
    assert_error(anon, 401, "message", json!("401 Unauthorized"));
    assert_error(
        post(&app, r.project_id, &sha, &r.reporter.token, json!({"state": "success"})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(
        post(&app, r.project_id, &sha, &r.non_member.token, json!({"state": "success"})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_eq!(app.count("pipelines"), 0);
    assert_eq!(app.count("jobs"), 0);
}
