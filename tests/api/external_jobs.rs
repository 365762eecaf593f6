//! External jobs of the commit status API seen from the rest of the API: never on a runner, a
//! stuck sweep or the Jobs API; pipeline cancel and retry; the statuses list; the commit's
//! `last_pipeline`.

use serde_json::{Value, json};

use crate::commit_statuses::{list_url, pipeline, posted, statuses};
use crate::helpers::*;

#[test]
fn external_jobs_never_reach_a_runner_a_stuck_sweep_or_the_jobs_api() {
    use triggerd::db::jobs::{RunnerScope, claim, fail_stuck_running, fail_timed_out};
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let pending = posted(&app, r.project_id, &sha, tok, json!({"state": "pending", "name": "queued"}));
    let running = posted(&app, r.project_id, &sha, tok, json!({"state": "running", "name": "busy"}));
    let p = pending["pipeline_id"].as_i64().unwrap();
    let conn = app.db();
    let scope = RunnerScope { project_id: None, tags: &[], run_untagged: true };
    assert_eq!(claim(&conn, 1, &scope, b"digest", &triggerd::model::now()).unwrap(), None);
    let far = "2999-01-01T00:00:00.000Z";
    assert!(fail_stuck_running(&conn, far, far).unwrap().is_empty());
    assert!(fail_timed_out(&conn, far).unwrap().is_empty());
    assert!(statuses(&app, r.project_id, &sha, "", tok).iter().all(|s| s["status"] != "failed"));
    let jobs = json_of(app.get(&format!("/projects/{}/jobs", r.project_id), Some(tok)), 200);
    assert_eq!(jobs, json!([]));
    let jobs = json_of(app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(tok)), 200);
    assert_eq!(jobs, json!([]));
    for id in [&pending["id"], &running["id"]] {
        let base = format!("/projects/{}/jobs/{id}", r.project_id);
        assert_eq!(app.get(&base, Some(tok)).status(), 404);
        for action in ["cancel", "retry", "play"] {
            let resp = app.post_json(&format!("{base}/{action}"), Some(tok), &json!({}));
            assert_eq!(resp.status(), 404, "{action}");
        }
    }
}

#[test]
fn an_external_pipeline_is_never_canceled_and_a_retry_leaves_external_jobs_alone() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let s = posted(&app, r.project_id, &sha, tok, json!({"state": "running"}));
    let p = s["pipeline_id"].as_i64().unwrap();
    let resp =
        app.post_json(&format!("/projects/{}/pipelines/{p}/cancel", r.project_id), Some(tok), &json!({}));
    assert_eq!(json_of(resp, 200)["status"], "running");
    posted(&app, r.project_id, &sha, tok, json!({"state": "failed"}));
    let resp =
        app.post_json(&format!("/projects/{}/pipelines/{p}/retry", r.project_id), Some(tok), &json!({}));
    assert_eq!(json_of(resp, 201)["status"], "failed");
    assert_eq!(app.count("jobs"), 1);
}

#[test]
fn an_external_job_in_another_pipeline_is_canceled_with_it() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let p = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    let tok = &r.developer.token;
    posted(&app, r.project_id, &sha, tok, json!({"state": "running", "pipeline_id": p}));
    let resp =
        app.post_json(&format!("/projects/{}/pipelines/{p}/cancel", r.project_id), Some(tok), &json!({}));
    assert_eq!(json_of(resp, 200)["status"], "canceled");
    // The external CI may still report: a new job replaces the canceled one.
    let s = posted(&app, r.project_id, &sha, tok, json!({"state": "success", "pipeline_id": p}));
    assert_eq!(s["status"], "success");
    assert_eq!(pipeline(&app, r.project_id, p, tok)["status"], "success");
}

#[test]
fn the_statuses_list_filters_orders_and_pages_like_gitlab() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let tok = &r.developer.token;
    let first = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "a", "pipeline_id": first}));
    let second = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &sha);
    posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "b"}));
    posted(&app, r.project_id, &sha, tok, json!({"state": "failed", "name": "a"}));
    posted(&app, r.project_id, &sha, tok, json!({"state": "success", "name": "a"}));
    let names = |q: &str| -> Vec<(i64, String)> {
        statuses(&app, r.project_id, &sha, q, &r.reporter.token)
            .iter()
            .map(|s| (s["pipeline_id"].as_i64().unwrap(), s["name"].as_str().unwrap().to_string()))
            .collect()
    };
    let (a1, b2, a2) = ((first, "a".to_string()), (second, "b".to_string()), (second, "a".to_string()));
    assert_eq!(names(""), [a1.clone(), b2.clone(), a2.clone()]);
    assert_eq!(names("?all=true").len(), 4);
    assert_eq!(names("?name=a"), [a1.clone(), a2.clone()]);
    assert_eq!(names(&format!("?pipeline_id={first}")), std::slice::from_ref(&a1));
    assert_eq!(names("?stage=external").len(), 3);
    assert_eq!(names("?stage=test"), []);
    assert_eq!(names("?ref=main").len(), 3);
    assert_eq!(names("?ref=other"), []);
    assert_eq!(names("?sort=desc"), [a2.clone(), b2.clone(), a1.clone()]);
    assert_eq!(names("?order_by=pipeline_id&sort=desc"), [a2.clone(), b2.clone(), a1.clone()]);
    assert_eq!(names("?per_page=1&page=2"), [b2]);
    let resp = app.get(&list_url(r.project_id, &sha, "?per_page=2"), Some(tok));
    assert_eq!(resp.headers()["x-total"], "3");
    for q in ["?order_by=name", "?sort=up"] {
        assert_eq!(app.get(&list_url(r.project_id, &sha, q), Some(tok)).status(), 400, "{q}");
    }
    let quiet = app.seed_ref(r.project_id, "branch", "quiet");
    assert_eq!(statuses(&app, r.project_id, &quiet, "", tok), Vec::<Value>::new());
    assert_error(
        app.get(&list_url(r.project_id, &"0".repeat(40), ""), Some(tok)),
        404,
        "message",
        json!("404 Commit Not Found"),
    );
    assert_error(app.get(&list_url(r.project_id, &sha, ""), None), 401, "message", json!("401 Unauthorized"));
    assert_error(
        app.get(&list_url(r.project_id, &sha, ""), Some(&r.guest.token)),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn the_commit_shows_its_newest_pipeline_and_that_pipelines_status() {
    let app = spawn_app();
    let r = app.roles();
    let sha = app.seed_ref(r.project_id, "branch", "main");
    let url = format!("/projects/{}/repository/commits/{sha}", r.project_id);
    let c = json_of(app.get(&url, Some(&r.developer.token)), 200);
    assert_eq!(c["last_pipeline"], Value::Null);
    assert_eq!(c["status"], Value::Null);
    let s = posted(&app, r.project_id, &sha, &r.developer.token, json!({"state": "running"}));
    let c = json_of(app.get(&url, Some(&r.developer.token)), 200);
    assert_eq!(c["last_pipeline"]["id"], s["pipeline_id"]);
    assert_eq!(c["last_pipeline"]["source"], "external");
    assert_eq!(c["status"], "running");
}
