//! The Jobs API and job status progression: pipelines are seeded with the jobs of a CI
//! configuration through the db layer, and jobs are driven as a runner would (db::jobs::run /
//! finish), since the runner protocol does not exist yet.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const TWO_STAGES: &str = "
stages: [build, test]
build:
  stage: build
  script: make
  tags: [linux]
test:
  stage: test
  script: make test
";

fn names_and_statuses(body: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = body
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
fn a_new_pipeline_enqueues_only_its_first_stage_and_is_pending() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let body = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(names_and_statuses(&body), pairs(&[("build", "pending"), ("test", "created")]));
    assert_eq!(app.pipeline_status(p), "pending");
}

#[test]
fn finishing_jobs_moves_the_stages_and_the_pipeline_to_success_with_timestamps() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    app.run_job(build, "success");
    assert_eq!(app.pipeline_status(p), "running");
    let test = app.job_id(p, "test");
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{test}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(job["status"], "pending");
    app.run_job(test, "success");
    let pipeline =
        json_of(app.get(&format!("/projects/{}/pipelines/{p}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(pipeline["status"], "success");
    assert!(pipeline["started_at"].is_string(), "{pipeline}");
    assert!(pipeline["finished_at"].is_string(), "{pipeline}");
    assert!(pipeline["duration"].is_i64(), "{pipeline}");
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{build}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(job["status"], "success");
    assert!(job["started_at"].is_string() && job["finished_at"].is_string(), "{job}");
    assert!(job["duration"].is_f64(), "{job}");
    assert!(job["queued_duration"].is_f64(), "{job}");
    assert!(job.get("failure_reason").is_none(), "only failed jobs have one: {job}");
}

#[test]
fn a_failed_job_skips_the_later_stages_and_fails_the_pipeline() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    app.run_job(app.job_id(p, "build"), "failed");
    let body = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(&r.developer.token)),
        200,
    );
    assert_eq!(names_and_statuses(&body), pairs(&[("build", "failed"), ("test", "skipped")]));
    let failed = body.as_array().unwrap().iter().find(|j| j["name"] == "build").unwrap();
    assert_eq!(failed["failure_reason"], "script_failure");
    assert_eq!(app.pipeline_status(p), "failed");
}

#[test]
fn an_allowed_failure_lets_the_pipeline_go_on_and_succeed() {
    let app = spawn_app();
    let r = app.roles();
    let yaml = "
lint:
  stage: build
  script: lint
  allow_failure: true
deploy:
  stage: deploy
  script: deploy
cleanup:
  stage: deploy
  script: clean
  when: on_failure
";
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    app.run_job(app.job_id(p, "lint"), "failed");
    app.run_job(app.job_id(p, "deploy"), "success");
    assert_eq!(app.pipeline_status(p), "success");
    let body = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(&r.developer.token)),
        200,
    );
    assert_eq!(
        names_and_statuses(&body),
        pairs(&[("lint", "failed"), ("deploy", "success"), ("cleanup", "skipped")])
    );
}

#[test]
fn the_job_entity_has_gitlabs_fields() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{build}", r.project_id), Some(&r.developer.token)), 200);
    for key in [
        "id",
        "status",
        "stage",
        "name",
        "ref",
        "tag",
        "coverage",
        "allow_failure",
        "created_at",
        "started_at",
        "finished_at",
        "erased_at",
        "duration",
        "queued_duration",
        "user",
        "commit",
        "pipeline",
        "web_url",
        "project",
        "artifacts",
        "runner",
        "runner_manager",
        "artifacts_expire_at",
        "archived",
        "tag_list",
    ] {
        assert!(job.get(key).is_some(), "missing {key}: {job}");
    }
    assert_eq!(job["id"], build);
    assert_eq!(job["stage"], "build");
    assert_eq!(job["ref"], "main");
    assert_eq!(job["tag_list"], json!(["linux"]));
    assert_eq!(job["user"]["username"], "developer");
    assert_eq!(job["pipeline"]["id"], p);
    assert_eq!(job["pipeline"]["status"], "pending");
    assert_eq!(job["commit"]["id"], job["pipeline"]["sha"]);
    assert_eq!(job["artifacts"], json!([]));
    assert_eq!(job["runner"], Value::Null);
    assert_eq!(job["project"], json!({"ci_job_token_scope_enabled": false}));
    assert!(job["web_url"].as_str().unwrap().ends_with(&format!("/owner/demo/-/jobs/{build}")), "{job}");
}

#[test]
fn the_trace_is_plain_text_and_empty_until_something_is_logged() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let path = format!("/projects/{}/jobs/{build}/trace", r.project_id);
    let resp = app.get(&path, Some(&r.reporter.token));
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(
        resp.headers()["content-disposition"].to_str().unwrap(),
        format!("infile; filename=\"{build}.log\"")
    );
    assert_eq!(resp.text().unwrap(), "");
    let conn = app.db();
    triggerd::db::jobs::append_trace(&conn, build, b"$ make\n").unwrap();
    triggerd::db::jobs::append_trace(&conn, build, b"ok\n").unwrap();
    assert_eq!(app.get(&path, Some(&r.reporter.token)).text().unwrap(), "$ make\nok\n");
}

#[test]
fn lists_filter_by_scope_and_refuse_unknown_scopes() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let t = Some(r.developer.token.as_str());
    let body =
        json_of(app.get(&format!("/projects/{}/pipelines/{p}/jobs?scope[]=pending", r.project_id), t), 200);
    assert_eq!(names_and_statuses(&body), pairs(&[("build", "pending")]));
    let body =
        json_of(app.get(&format!("/projects/{}/jobs?scope[]=created&scope[]=pending", r.project_id), t), 200);
    assert_eq!(body.as_array().unwrap().len(), 2);
    let body = json_of(app.get(&format!("/projects/{}/jobs?scope=created", r.project_id), t), 200);
    assert_eq!(names_and_statuses(&body), pairs(&[("test", "created")]));
    for bad in ["scope=bogus", "scope[]=pending&scope[]=nope"] {
        assert_error(
            app.get(&format!("/projects/{}/jobs?{bad}", r.project_id), t),
            400,
            "error",
            json!("scope does not have a valid value"),
        );
        assert_error(
            app.get(&format!("/projects/{}/pipelines/{p}/jobs?{bad}", r.project_id), t),
            400,
            "error",
            json!("scope does not have a valid value"),
        );
    }
}

#[test]
fn project_jobs_are_newest_first_and_paginated() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let resp = app.get(&format!("/projects/{}/jobs?per_page=1", r.project_id), Some(&r.developer.token));
    assert_eq!(resp.headers()["x-total"], "2");
    assert_eq!(resp.headers()["x-next-page"], "2");
    let body = json_of(resp, 200);
    assert_eq!(body[0]["id"], app.job_id(p, "test"));
}

#[test]
fn canceling_a_job_answers_201_and_cancels_the_pipeline_when_nothing_else_runs() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let job = json_of(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/cancel", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        201,
    );
    assert_eq!(job["status"], "canceled");
    assert!(job["finished_at"].is_string());
    // The later stage is skipped; the pipeline is canceled.
    assert_eq!(app.pipeline_status(p), "canceled");
    // Canceling again changes nothing and still answers 201.
    let again = json_of(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/cancel", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        201,
    );
    assert_eq!(again["status"], "canceled");
}

#[test]
fn canceling_a_pipeline_cancels_every_unfinished_job() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let body = json_of(
        app.request(
            Method::POST,
            &format!("/projects/{}/pipelines/{p}/cancel", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        200,
    );
    assert_eq!(body["status"], "canceled");
    let jobs = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(&r.developer.token)),
        200,
    );
    assert_eq!(names_and_statuses(&jobs), pairs(&[("build", "canceled"), ("test", "canceled")]));
}

#[test]
fn retrying_a_failed_job_creates_a_new_job_and_reopens_the_pipeline() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    app.run_job(build, "failed");
    let new = json_of(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/retry", r.project_id),
            Some(&r.maintainer.token),
        )
        .send()
        .unwrap(),
        201,
    );
    assert_ne!(new["id"], build);
    assert_eq!(new["name"], "build");
    assert_eq!(new["status"], "pending");
    assert_eq!(new["user"]["username"], "maintainer");
    // GitLab's enqueue on a finished pipeline leads to running.
    assert_eq!(app.pipeline_status(p), "running");
    let t = Some(r.developer.token.as_str());
    let latest = json_of(app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), t), 200);
    assert_eq!(names_and_statuses(&latest), pairs(&[("build", "pending"), ("test", "created")]));
    let all = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs?include_retried=true", r.project_id), t),
        200,
    );
    assert_eq!(all.as_array().unwrap().len(), 3);
    // The replaced job is not retryable any more.
    assert_error(
        app.request(Method::POST, &format!("/projects/{}/jobs/{build}/retry", r.project_id), t)
            .send()
            .unwrap(),
        403,
        "message",
        json!("403 Forbidden - Job is not retryable"),
    );
}

#[test]
fn a_pending_job_is_not_retryable() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    assert_error(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/retry", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        403,
        "message",
        json!("403 Forbidden - Job is not retryable"),
    );
}

#[test]
fn retrying_a_failed_pipeline_retries_its_failed_jobs() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    app.run_job(app.job_id(p, "build"), "failed");
    let body = json_of(
        app.request(
            Method::POST,
            &format!("/projects/{}/pipelines/{p}/retry", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        201,
    );
    assert_eq!(body["status"], "running");
    assert!(body["finished_at"].is_null(), "{body}");
    let jobs = json_of(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), Some(&r.developer.token)),
        200,
    );
    assert_eq!(names_and_statuses(&jobs), pairs(&[("build", "pending"), ("test", "created")]));
    // And it can now succeed.
    app.run_job(app.job_id(p, "build"), "success");
    app.run_job(app.job_id(p, "test"), "success");
    assert_eq!(app.pipeline_status(p), "success");
}

#[test]
fn playing_a_manual_job_enqueues_it_with_its_variables() {
    let app = spawn_app();
    let r = app.roles();
    let yaml = "
build:
  stage: build
  script: make
deploy:
  stage: deploy
  script: deploy
  when: manual
";
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    app.run_job(app.job_id(p, "build"), "success");
    let deploy = app.job_id(p, "deploy");
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{deploy}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(job["status"], "manual");
    assert_eq!(job["allow_failure"], true);
    let played = json_of(
        app.post_json(
            &format!("/projects/{}/jobs/{deploy}/play", r.project_id),
            Some(&r.developer.token),
            &json!({"job_variables_attributes": [{"key": "TARGET", "value": "prod"}]}),
        ),
        200,
    );
    assert_eq!(played["id"], deploy);
    assert_eq!(played["status"], "pending");
    let stored: String =
        app.db().query_row("SELECT job_variables FROM jobs WHERE id = ?1", [deploy], |r| r.get(0)).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stored).unwrap(), json!([{"key": "TARGET", "value": "prod"}]));
    assert_eq!(app.pipeline_status(p), "running");
}

#[test]
fn a_job_that_is_not_manual_is_unplayable() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    assert_error(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/play", r.project_id),
            Some(&r.developer.token),
        )
        .send()
        .unwrap(),
        400,
        "message",
        json!("400 Bad request - Unplayable Job"),
    );
}

#[test]
fn each_role_reads_and_changes_jobs_as_gitlab_allows() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let get = format!("/projects/{}/jobs/{build}", r.project_id);
    let cancel = format!("/projects/{}/jobs/{build}/cancel", r.project_id);
    for u in [&r.reporter, &r.developer, &r.maintainer, &r.owner, &r.admin] {
        assert_eq!(app.get(&get, Some(&u.token)).status().as_u16(), 200, "{}", u.username);
    }
    assert_error(app.get(&get, Some(&r.guest.token)), 403, "message", json!("403 Forbidden"));
    assert_error(app.get(&get, Some(&r.non_member.token)), 404, "message", json!("404 Project Not Found"));
    assert_error(app.get(&get, None), 404, "message", json!("404 Project Not Found"));
    for u in [&r.guest, &r.reporter] {
        assert_error(
            app.request(Method::POST, &cancel, Some(&u.token)).send().unwrap(),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_error(
        app.request(Method::POST, &cancel, None).send().unwrap(),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(
        app.request(Method::POST, &cancel, Some(&r.developer.token)).send().unwrap().status().as_u16(),
        201
    );
}

#[test]
fn anyone_reads_the_jobs_of_a_public_project_but_only_members_change_them() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    assert_eq!(app.get(&format!("/projects/{}/jobs/{build}", r.project_id), None).status().as_u16(), 200);
    assert_eq!(
        app.get(&format!("/projects/{}/pipelines/{p}/jobs", r.project_id), None).status().as_u16(),
        200
    );
    assert_error(
        app.request(
            Method::POST,
            &format!("/projects/{}/jobs/{build}/retry", r.project_id),
            Some(&r.non_member.token),
        )
        .send()
        .unwrap(),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn another_projects_job_or_pipeline_is_not_found() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let other = app.create_project(&r.developer, "other", "private");
    let t = Some(r.developer.token.as_str());
    for path in [
        format!("/projects/{other}/jobs/{build}"),
        format!("/projects/{other}/jobs/{build}/trace"),
        format!("/projects/{other}/pipelines/{p}/jobs"),
        format!("/projects/{}/jobs/999999", r.project_id),
    ] {
        assert_error(app.get(&path, t), 404, "message", json!("404 Not found"));
    }
    for action in ["cancel", "retry", "play"] {
        assert_error(
            app.request(Method::POST, &format!("/projects/{other}/jobs/{build}/{action}"), t).send().unwrap(),
            404,
            "message",
            json!("404 Not found"),
        );
    }
    // The job is untouched.
    assert_eq!(app.pipeline_status(p), "pending");
    assert_error(
        app.get(&format!("/projects/{}/jobs/abc", r.project_id), t),
        400,
        "error",
        json!("job_id is invalid"),
    );
}

#[test]
fn bad_job_variables_change_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let yaml = "deploy:\n  script: deploy\n  when: manual\n";
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    let deploy = app.job_id(p, "deploy");
    let path = format!("/projects/{}/jobs/{deploy}/play", r.project_id);
    for bad in [json!("x"), json!([{"key": "A"}]), json!([{"key": "bad key", "value": "v"}])] {
        let resp = app.post_json(&path, Some(&r.developer.token), &json!({"job_variables_attributes": bad}));
        assert_eq!(resp.status().as_u16(), 400, "{bad}");
    }
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{deploy}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(job["status"], "manual");
}

#[test]
fn deleting_a_pipeline_deletes_its_jobs_and_logs() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    triggerd::db::jobs::append_trace(&app.db(), build, b"log").unwrap();
    app.run_job(build, "failed");
    let retry = format!("/projects/{}/jobs/{build}/retry", r.project_id);
    assert_eq!(
        app.request(Method::POST, &retry, Some(&r.developer.token)).send().unwrap().status().as_u16(),
        201
    );
    assert_eq!(
        app.delete(&format!("/projects/{}/pipelines/{p}", r.project_id), Some(&r.owner.token)).status(),
        204
    );
    assert_eq!(app.count("jobs"), 0);
    assert_eq!(app.count("job_traces"), 0);
    assert_error(
        app.get(&format!("/projects/{}/jobs/{build}", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
}

#[test]
fn a_read_api_token_reads_jobs_but_cannot_change_them() {
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let token = app.seed_token(r.developer.id, &["read_api"], None);
    assert_eq!(
        app.get(&format!("/projects/{}/jobs/{build}", r.project_id), Some(&token)).status().as_u16(),
        200
    );
    let resp = app
        .request(Method::POST, &format!("/projects/{}/jobs/{build}/cancel", r.project_id), Some(&token))
        .send()
        .unwrap();
    assert_error(resp, 403, "error", json!("insufficient_scope"));
    assert_eq!(app.pipeline_status(p), "pending");
}

#[test]
fn a_job_is_taken_by_one_runner_only() {
    use triggerd::db::jobs;
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let build = app.job_id(p, "build");
    let conn = app.db();
    assert!(jobs::run(&conn, build, Some(1), &triggerd::model::now()).unwrap());
    assert!(!jobs::run(&conn, build, Some(2), &triggerd::model::now()).unwrap());
    let runner: i64 =
        conn.query_row("SELECT runner_id FROM jobs WHERE id = ?1", [build], |r| r.get(0)).unwrap();
    assert_eq!(runner, 1);
    // A job that is not running cannot be finished twice either.
    assert!(
        jobs::finish(&conn, build, triggerd::ci::JobStatus::Success, None, &triggerd::model::now())
            .unwrap()
            .changed()
    );
    assert!(
        !jobs::finish(&conn, build, triggerd::ci::JobStatus::Failed, None, &triggerd::model::now())
            .unwrap()
            .changed()
    );
    assert_eq!(app.pipeline_status(p), "running");
}

#[test]
fn a_runner_claims_the_oldest_pending_job_its_tags_and_scope_allow_once() {
    use triggerd::db::jobs::{RunnerScope, claim};
    let app = spawn_app();
    let r = app.roles();
    let yaml = "
tagged:
  script: x
  tags: [linux, docker]
untagged:
  script: y
";
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, yaml);
    let (tagged, untagged) = (app.job_id(p, "tagged"), app.job_id(p, "untagged"));
    let other = app.create_project(&r.developer, "other", "private");
    let conn = app.db();
    let now = triggerd::model::now();
    let linux = vec!["linux".to_string()];
    let both = vec!["docker".to_string(), "linux".to_string(), "arm".to_string()];
    // Another project's runner, and a runner missing a tag that takes no untagged jobs: nothing.
    let elsewhere = RunnerScope { project_id: Some(other), tags: &both, run_untagged: true };
    assert_eq!(claim(&conn, 1, &elsewhere, b"t1", &now).unwrap(), None);
    let partial = RunnerScope { project_id: None, tags: &linux, run_untagged: false };
    assert_eq!(claim(&conn, 1, &partial, b"t1", &now).unwrap(), None);
    // A runner with every tag takes the tagged job, oldest first; then the untagged one.
    let full = RunnerScope { project_id: Some(r.project_id), tags: &both, run_untagged: true };
    assert_eq!(claim(&conn, 2, &full, b"t2", &now).unwrap(), Some(tagged));
    assert_eq!(claim(&conn, 3, &full, b"t3", &now).unwrap(), Some(untagged));
    assert_eq!(claim(&conn, 4, &full, b"t4", &now).unwrap(), None);
    assert_eq!(app.pipeline_status(p), "running");
    let job =
        json_of(app.get(&format!("/projects/{}/jobs/{tagged}", r.project_id), Some(&r.developer.token)), 200);
    assert_eq!(job["status"], "running");
    assert!(job["started_at"].is_string());
}

#[test]
fn a_scope_repeated_forty_thousand_times_is_answered_normally() {
    let app = spawn_app();
    let r = app.roles();
    app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    // A JSON body is bounded by its size, not by the pair limit: 40,000 statuses fit in 1 MiB.
    let body = json!({ "scope": vec!["pending"; 40_000] });
    let url = format!("/projects/{}/jobs", r.project_id);
    let resp = app.request(Method::GET, &url, Some(&r.developer.token)).json(&body).send().unwrap();
    let body = json_of(resp, 200);
    assert_eq!(names_and_statuses(&body), pairs(&[("build", "pending")]));
}

#[test]
fn durations_follow_gitlabs_arithmetic_with_a_fixed_clock() {
    use triggerd::ci::JobStatus;
    use triggerd::db::jobs;
    let app = spawn_app();
    let r = app.roles();
    let p = app.seed_ci_pipeline(r.project_id, &r.developer, TWO_STAGES);
    let conn = app.db();
    // The pipeline and its first job were created (and queued) "now"; pretend that was t0.
    let t0 = "2030-01-01T00:00:00.000Z";
    conn.execute("UPDATE pipelines SET created_at = ?1 WHERE id = ?2", rusqlite::params![t0, p]).unwrap();
    conn.execute("UPDATE jobs SET queued_at = ?1 WHERE pipeline_id = ?2", rusqlite::params![t0, p]).unwrap();
    let (build, test) = (app.job_id(p, "build"), app.job_id(p, "test"));
    assert!(jobs::run(&conn, build, None, "2030-01-01T00:00:10.000Z").unwrap());
    assert!(
        jobs::finish(&conn, build, JobStatus::Success, None, "2030-01-01T00:01:10.000Z").unwrap().changed()
    );
    assert!(jobs::run(&conn, test, None, "2030-01-01T00:01:15.500Z").unwrap());
    assert!(
        jobs::finish(&conn, test, JobStatus::Success, None, "2030-01-01T00:01:45.500Z").unwrap().changed()
    );
    let t = Some(r.developer.token.as_str());
    let job = json_of(app.get(&format!("/projects/{}/jobs/{build}", r.project_id), t), 200);
    assert_eq!(job["queued_duration"], 10.0);
    assert_eq!(job["duration"], 60.0);
    let job = json_of(app.get(&format!("/projects/{}/jobs/{test}", r.project_id), t), 200);
    assert_eq!(job["queued_duration"], 5.5);
    assert_eq!(job["duration"], 30.0);
    let pipeline = json_of(app.get(&format!("/projects/{}/pipelines/{p}", r.project_id), t), 200);
    assert_eq!(pipeline["status"], "success");
    assert_eq!(pipeline["started_at"], "2030-01-01T00:00:10.000Z");
    assert_eq!(pipeline["finished_at"], "2030-01-01T00:01:45.500Z");
    // The union of [10 s, 70 s) and [75.5 s, 105.5 s): 90 s; queued 10 s before it started.
    assert_eq!(pipeline["duration"], 90);
    assert_eq!(pipeline["queued_duration"], 10);
}
