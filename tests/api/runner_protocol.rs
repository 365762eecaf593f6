//! The GitLab Runner protocol: `POST /jobs/request` (long-polled), `PUT /jobs/:id` and
//! `PATCH /jobs/:id/trace`, against pipelines created from `.gitlab-ci.yml` by the trigger call.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

pub(crate) const TWO_STAGES: &str = "
stages: [build, test]
variables:
  GLOBAL_VAR: from-yaml
build:
  stage: build
  before_script: [echo before]
  script: [make]
  after_script: [echo after]
test:
  stage: test
  script: make test
";

pub(crate) struct Setup {
    pub(crate) app: TestApp,
    pub(crate) r: Roles,
    pub(crate) trigger: String,
}

/// A private project with `main`, a `.gitlab-ci.yml` and a trigger; long polls last `poll` s.
pub(crate) fn setup(poll: u64) -> Setup {
    setup_with(|c| c.runners.long_poll_timeout_secs = poll)
}

pub(crate) fn setup_with(adjust: impl FnOnce(&mut triggerd::config::Config)) -> Setup {
    setup_ci_with(TWO_STAGES, adjust)
}

/// [`setup_with`] with another `.gitlab-ci.yml`.
pub(crate) fn setup_ci_with(ci: &str, adjust: impl FnOnce(&mut triggerd::config::Config)) -> Setup {
    let app = spawn_app_with(adjust);
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    let url = format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id);
    let body = json!({"branch": "main", "content": ci, "commit_message": "ci"});
    assert_eq!(app.post_json(&url, Some(&r.developer.token), &body).status().as_u16(), 201);
    let trigger = app.seed_trigger(r.project_id, &r.developer, "ci").token;
    Setup { app, r, trigger }
}

impl Setup {
    /// A new instance runner's token (created by root).
    pub(crate) fn runner(&self) -> String {
        let body = json!({"runner_type": "instance_type", "run_untagged": true});
        let v = json_of(self.app.post_json("/user/runners", Some(&self.app.root().token), &body), 201);
        v["token"].as_str().unwrap().to_string()
    }

    /// Triggers a pipeline on `main` with `variables`; returns its id.
    pub(crate) fn trigger(&self, variables: Value) -> i64 {
        let v = json_of(
            self.app.post_json(
                &format!("/projects/{}/trigger/pipeline", self.r.project_id),
                None,
                &json!({"token": self.trigger, "ref": "main", "variables": variables}),
            ),
            201,
        );
        v["id"].as_i64().unwrap()
    }

    pub(crate) fn request(&self, runner: &str) -> reqwest::blocking::Response {
        self.app.post_json("/jobs/request", None, &json!({"token": runner, "info": {"name": "test-runner"}}))
    }

    pub(crate) fn take(&self, runner: &str) -> Value {
        json_of(self.request(runner), 201)
    }

    pub(crate) fn put(&self, id: i64, body: Value) -> reqwest::blocking::Response {
        self.app.put_json(&format!("/jobs/{id}"), None, &body)
    }

    pub(crate) fn patch(&self, id: i64, token: &str, range: &str, body: &str) -> reqwest::blocking::Response {
        self.app
            .request(Method::PATCH, &format!("/jobs/{id}/trace"), None)
            .header("JOB-TOKEN", token)
            .header("Content-Range", range)
            .body(body.to_string())
            .send()
            .unwrap()
    }

    pub(crate) fn pipeline_status(&self, id: i64) -> String {
        let v = json_of(
            self.app.get(
                &format!("/projects/{}/pipelines/{id}", self.r.project_id),
                Some(&self.r.developer.token),
            ),
            200,
        );
        v["status"].as_str().unwrap().to_string()
    }

    pub(crate) fn job_status(&self, id: i64) -> String {
        let v = json_of(
            self.app
                .get(&format!("/projects/{}/jobs/{id}", self.r.project_id), Some(&self.r.developer.token)),
            200,
        );
        v["status"].as_str().unwrap().to_string()
    }
}

pub(crate) fn variable<'a>(job: &'a Value, key: &str) -> Option<&'a Value> {
    job["variables"].as_array().unwrap().iter().find(|v| v["key"] == key)
}

pub(crate) fn header(resp: &reqwest::blocking::Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

#[test]
fn a_request_without_a_pending_job_waits_then_answers_204_with_the_queue_version() {
    let s = setup(1);
    let runner = s.runner();
    let started = Instant::now();
    let resp = s.request(&runner);
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.headers().contains_key("x-gitlab-last-update"));
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
}

#[test]
fn an_unknown_runner_token_is_forbidden_and_a_missing_one_is_a_bad_request() {
    let s = setup(0);
    assert_eq!(s.request("glrt-unknown").status().as_u16(), 403);
    assert_eq!(s.app.post_json("/jobs/request", None, &json!({})).status().as_u16(), 400);
}

#[test]
fn a_runner_takes_the_first_stage_job_with_the_payload_and_variables_runners_expect() {
    let s = setup(0);
    let runner = s.runner();
    let pipeline = s.trigger(json!({"DEPLOY_TO": "staging"}));
    let job = s.take(&runner);
    let token = job["token"].as_str().unwrap();
    assert!(token.starts_with("glcbt-"), "{token}");
    assert_eq!(job["job_info"]["name"], "build");
    assert_eq!(job["job_info"]["stage"], "build");
    assert_eq!(job["job_info"]["project_id"], s.r.project_id);
    assert_eq!(job["job_info"]["pipeline_id"], pipeline);
    assert_eq!(job["git_info"]["ref"], "main");
    assert_eq!(job["git_info"]["ref_type"], "branch");
    assert_eq!(job["git_info"]["sha"].as_str().unwrap().len(), 40);
    assert_eq!(job["runner_info"]["timeout"], 3600);
    assert_eq!(job["steps"][0]["name"], "script");
    assert_eq!(job["steps"][0]["script"], json!(["echo before", "make"]));
    assert_eq!(job["steps"][0]["when"], "on_success");
    assert_eq!(job["steps"][1]["name"], "after_script");
    assert_eq!(job["steps"][1]["when"], "always");
    assert_eq!(job["image"], Value::Null);
    for key in ["services", "artifacts", "cache", "credentials", "dependencies"] {
        assert_eq!(job[key], json!([]), "{key}");
    }
    assert_eq!(job["features"]["trace_sections"], true);
    let ci_job_token = variable(&job, "CI_JOB_TOKEN").unwrap();
    assert_eq!(ci_job_token["value"], token);
    assert_eq!(ci_job_token["masked"], true);
    assert_eq!(ci_job_token["public"], false);
    let expect = [
        ("CI", "true"),
        ("GITLAB_CI", "true"),
        ("CI_PIPELINE_SOURCE", "trigger"),
        ("CI_PIPELINE_TRIGGERED", "true"),
        ("CI_COMMIT_REF_NAME", "main"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_JOB_NAME", "build"),
        ("CI_JOB_STAGE", "build"),
        ("CI_PROJECT_PATH", s.r.project_path.as_str()),
        ("CI_CONFIG_PATH", ".gitlab-ci.yml"),
        ("GIT_STRATEGY", "none"),
        ("GLOBAL_VAR", "from-yaml"),
        ("DEPLOY_TO", "staging"),
        ("GITLAB_USER_LOGIN", s.r.developer.username.as_str()),
    ];
    for (k, v) in expect {
        assert_eq!(variable(&job, k).unwrap_or_else(|| panic!("no {k}"))["value"], v, "{k}");
    }
    assert_eq!(variable(&job, "CI_JOB_ID").unwrap()["value"], job["id"].as_i64().unwrap().to_string());
    assert_eq!(variable(&job, "CI_PIPELINE_ID").unwrap()["value"], pipeline.to_string());
    assert!(variable(&job, "CI_API_V4_URL").unwrap()["value"].as_str().unwrap().ends_with("/api/v4"));
    let payload = variable(&job, "TRIGGER_PAYLOAD").unwrap();
    assert_eq!(payload["file"], true);
    assert_eq!(s.job_status(job["id"].as_i64().unwrap()), "running");
    assert_eq!(s.pipeline_status(pipeline), "running");
    // The job token is stored only as a digest.
    let plaintext: i64 = s
        .app
        .db()
        .query_row(
            "SELECT COUNT(*) FROM jobs WHERE CAST(token_digest AS TEXT) = ?1 OR spec LIKE '%' || ?1 || '%'",
            [token],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(plaintext, 0);
    let digest: Vec<u8> = s
        .app
        .db()
        .query_row("SELECT token_digest FROM jobs WHERE id = ?1", [job["id"].as_i64().unwrap()], |r| r.get(0))
        .unwrap();
    assert_eq!(digest, triggerd::auth::digest(token));
}

#[test]
fn a_waiting_runner_is_woken_by_a_trigger_call_well_before_the_poll_timeout() {
    let s = setup(30);
    let runner = s.runner();
    let started = Instant::now();
    let job = std::thread::scope(|scope| {
        let waiting = scope.spawn(|| s.request(&runner));
        std::thread::sleep(Duration::from_millis(500));
        s.trigger(json!({}));
        waiting.join().unwrap()
    });
    assert_eq!(job.status().as_u16(), 201);
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
}

#[test]
fn two_runners_racing_for_one_job_get_it_once() {
    let s = setup(0);
    let (a, b) = (s.runner(), s.runner());
    s.trigger(json!({}));
    let req = |t: &str| s.app.request(Method::POST, "/jobs/request", None).json(&json!({"token": t}));
    let mut got = at_once(req(&a), req(&b));
    got.sort();
    assert_eq!(got, [201, 204]);
}

#[test]
fn the_jobs_api_shows_the_runner_that_took_a_job_until_that_runner_is_deleted() {
    let s = setup(0);
    let root = s.app.root().token;
    let body = json!({"runner_type": "project_type", "project_id": s.r.project_id, "description": "laptop"});
    let made = json_of(s.app.post_json("/user/runners", Some(&root), &body), 201);
    let (runner_id, runner) = (made["id"].as_i64().unwrap(), made["token"].as_str().unwrap().to_string());
    let pipeline = s.trigger(json!({}));
    let build = s.take(&runner)["id"].as_i64().unwrap();
    let job_path = format!("/projects/{}/jobs/{build}", s.r.project_id);
    let reporter = Some(s.r.reporter.token.as_str());

    // GitLab's `Runner` entity, as python-gitlab users read `job.runner["description"]`.
    let job = json_of(s.app.get(&job_path, reporter), 200);
    let shown = &job["runner"];
    assert_eq!(shown["id"], runner_id, "{job}");
    assert_eq!(shown["description"], "laptop");
    assert_eq!(shown["runner_type"], "project_type");
    assert_eq!(shown["is_shared"], false);
    assert_eq!(shown["paused"], false);
    assert_eq!(shown["active"], true);
    assert_eq!(shown["online"], true);
    assert_eq!(shown["status"], "online");
    assert!(shown.get("token").is_none() && shown.get("created_by").is_none(), "{shown}");
    let listed = json_of(s.app.get(&format!("/projects/{}/jobs", s.r.project_id), reporter), 200);
    let in_list = listed.as_array().unwrap().iter().find(|j| j["id"] == build).unwrap();
    assert_eq!(in_list["runner"], *shown);
    let of_pipeline =
        json_of(s.app.get(&format!("/projects/{}/pipelines/{pipeline}/jobs", s.r.project_id), reporter), 200);
    let in_list = of_pipeline.as_array().unwrap().iter().find(|j| j["id"] == build).unwrap();
    assert_eq!(in_list["runner"]["id"], runner_id);
    // A job no runner took yet shows none.
    assert!(of_pipeline.as_array().unwrap().iter().any(|j| j["id"] != build && j["runner"].is_null()));

    // Canceling answers with the job as it now is, runner included.
    let cancel = format!("{job_path}/cancel");
    let canceled =
        json_of(s.app.request(Method::POST, &cancel, Some(&s.r.developer.token)).send().unwrap(), 201);
    assert_eq!(canceled["runner"]["id"], runner_id);

    assert_eq!(s.app.delete(&format!("/runners/{runner_id}"), Some(&root)).status().as_u16(), 204);
    assert_eq!(json_of(s.app.get(&job_path, reporter), 200)["runner"], Value::Null);
}

#[test]
fn a_runners_jobs_are_listed_for_its_projects_maintainers_and_admins() {
    let s = setup(0);
    let root = s.app.root().token;
    let body = json!({"runner_type": "project_type", "project_id": s.r.project_id});
    let made = json_of(s.app.post_json("/user/runners", Some(&s.r.maintainer.token), &body), 201);
    let (runner_id, runner) = (made["id"].as_i64().unwrap(), made["token"].as_str().unwrap().to_string());
    let pipeline = s.trigger(json!({}));
    let build = s.take(&runner);
    assert_eq!(
        s.put(build["id"].as_i64().unwrap(), json!({"token": build["token"], "state": "success"})).status(),
        200
    );
    let test = s.take(&runner);
    let (build, test) = (build["id"].as_i64().unwrap(), test["id"].as_i64().unwrap());
    let path = format!("/runners/{runner_id}/jobs");
    let ids = |v: &Value| v.as_array().unwrap().iter().map(|j| j["id"].as_i64().unwrap()).collect::<Vec<_>>();

    // GitLab's JobBasicWithProject: the job with its project's identity, newest first.
    let resp = s.app.get(&path, Some(&s.r.maintainer.token));
    assert_eq!(header(&resp, "x-total"), "2");
    let listed = json_of(resp, 200);
    assert_eq!(ids(&listed), vec![test, build]);
    let first = &listed[0];
    assert_eq!(first["name"], "test");
    assert_eq!(first["status"], "running");
    assert_eq!(first["pipeline"]["id"], pipeline);
    assert_eq!(first["project"]["id"], s.r.project_id);
    assert_eq!(first["project"]["path_with_namespace"], s.r.project_path);
    assert!(first.get("runner").is_none() && first.get("artifacts").is_none(), "{first}");
    assert_eq!(ids(&json_of(s.app.get(&format!("{path}?status=success"), Some(&root)), 200)), vec![build]);
    assert_eq!(
        ids(&json_of(s.app.get(&format!("{path}?sort=asc&order_by=id"), Some(&root)), 200)),
        vec![build, test]
    );
    assert_eq!(ids(&json_of(s.app.get(&format!("{path}?per_page=1&page=2"), Some(&root)), 200)), vec![build]);

    // Bad parameters, callers without the right, unknown runners.
    for query in ["status=bogus", "sort=up", "order_by=name"] {
        let resp = s.app.get(&format!("{path}?{query}"), Some(&root));
        assert_eq!(resp.status().as_u16(), 400, "{query}");
    }
    let resp = s.app.get(&path, Some(&s.r.developer.token));
    assert_error(resp, 403, "message", json!("403 Forbidden - No access granted"));
    assert_eq!(s.app.get(&path, None).status().as_u16(), 401);
    assert_error(s.app.get("/runners/999999/jobs", Some(&root)), 404, "message", json!("404 Not found"));
    let instance =
        json_of(s.app.post_json("/user/runners", Some(&root), &json!({"runner_type": "instance_type"})), 201);
    let instance_jobs = format!("/runners/{}/jobs", instance["id"]);
    assert_eq!(s.app.get(&instance_jobs, Some(&s.r.maintainer.token)).status().as_u16(), 403);
    assert_eq!(json_of(s.app.get(&instance_jobs, Some(&root)), 200), json!([]));
}

#[test]
fn keep_alive_success_and_the_next_stage_follow_the_runner_updates() {
    let s = setup(0);
    let runner = s.runner();
    let pipeline = s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    let alive = s.put(id, json!({"token": token, "state": "running"}));
    assert_eq!(alive.status().as_u16(), 200);
    assert_eq!(header(&alive, "job-status"), "running");
    assert_eq!(s.request(&runner).status().as_u16(), 204, "the test stage waits for build");
    assert_eq!(s.put(id, json!({"token": token, "state": "bogus"})).status().as_u16(), 400);
    let done = s.put(id, json!({"token": token, "state": "success", "exit_code": 0}));
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(s.job_status(id), "success");
    // The job token stops working; the runner learns the status.
    let again = s.put(id, json!({"token": token, "state": "running"}));
    assert_eq!(again.status().as_u16(), 403);
    assert_eq!(header(&again, "job-status"), "success");
    let test = s.take(&runner);
    assert_eq!(test["job_info"]["name"], "test");
    let done = s.put(test["id"].as_i64().unwrap(), json!({"token": test["token"], "state": "success"}));
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(s.pipeline_status(pipeline), "success");
}

#[test]
fn a_failed_job_fails_the_pipeline_and_skips_the_next_stage() {
    let s = setup(0);
    let runner = s.runner();
    let pipeline = s.trigger(json!({}));
    let build = s.take(&runner);
    let id = build["id"].as_i64().unwrap();
    let resp = s.put(
        id,
        json!({"token": build["token"], "state": "failed", "failure_reason": "script_failure",
                                  "exit_code": 1}),
    );
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(s.job_status(id), "failed");
    assert_eq!(s.pipeline_status(pipeline), "failed");
    assert_eq!(s.request(&runner).status().as_u16(), 204);
}

#[test]
fn a_wrong_job_token_is_forbidden_with_the_job_status() {
    let s = setup(0);
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let id = build["id"].as_i64().unwrap();
    let resp = s.put(id, json!({"token": "glcbt-wrong", "state": "success"}));
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(header(&resp, "job-status"), "running");
    assert_eq!(s.put(id + 1000, json!({"token": "glcbt-wrong", "state": "success"})).status().as_u16(), 403);
    assert_eq!(s.job_status(id), "running");
}

#[test]
fn trace_chunks_append_at_the_right_offset_and_a_wrong_offset_gets_416_with_the_range() {
    let s = setup(0);
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    let first = s.patch(id, &token, "0-5", "hello");
    assert_eq!(first.status().as_u16(), 202);
    assert_eq!(header(&first, "range"), "0-5");
    assert_eq!(header(&first, "job-status"), "running");
    assert_eq!(header(&first, "x-gitlab-trace-update-interval"), "3");
    let wrong = s.patch(id, &token, "3-8", "xxxxx");
    assert_eq!(wrong.status().as_u16(), 416);
    assert_eq!(header(&wrong, "range"), "0-5");
    let second = s.patch(id, &token, "5-11", " world");
    assert_eq!(second.status().as_u16(), 202);
    assert_eq!(header(&second, "range"), "0-11");
    let missing = s
        .app
        .request(Method::PATCH, &format!("/jobs/{id}/trace"), None)
        .header("JOB-TOKEN", &token)
        .body("x")
        .send()
        .unwrap();
    assert_eq!(missing.status().as_u16(), 400);
    let log = s.app.get(&format!("/projects/{}/jobs/{id}/trace", s.r.project_id), Some(&s.r.developer.token));
    assert_eq!(log.text().unwrap(), "hello world");
}

#[test]
fn the_job_token_is_masked_in_the_stored_log() {
    let s = setup(0);
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    let line = format!("token is {token}\n");
    let resp = s.patch(id, &token, &format!("0-{}", line.len()), &line);
    assert_eq!(resp.status().as_u16(), 202);
    assert_eq!(header(&resp, "range"), format!("0-{}", line.len()));
    let log = s
        .app
        .get(&format!("/projects/{}/jobs/{id}/trace", s.r.project_id), Some(&s.r.developer.token))
        .text()
        .unwrap();
    assert!(!log.contains(&token), "{log}");
    assert!(log.starts_with("token is [MASKED]"), "{log}");
    assert_eq!(log.len(), line.len());
}

#[test]
fn a_log_beyond_the_size_limit_is_truncated_and_later_chunks_are_dropped() {
    let s = setup_with(|c| {
        c.runners.long_poll_timeout_secs = 0;
        c.runners.max_trace_bytes = 10;
    });
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    assert_eq!(header(&s.patch(id, &token, "0-15", "0123456789abcde"), "range"), "0-15");
    let later = s.patch(id, &token, "15-18", "xyz");
    assert_eq!(later.status().as_u16(), 202);
    assert_eq!(header(&later, "range"), "0-18");
    let log = s
        .app
        .get(&format!("/projects/{}/jobs/{id}/trace", s.r.project_id), Some(&s.r.developer.token))
        .text()
        .unwrap();
    assert!(log.starts_with("0123456789\n"), "{log}");
    assert!(!log.contains("xyz"), "{log}");
}

#[test]
fn a_running_job_whose_runner_went_silent_is_failed_by_the_sweeper() {
    let s = setup_with(|c| {
        c.runners.long_poll_timeout_secs = 0;
        c.runners.stuck_running_timeout_secs = 1;
        c.runners.sweep_interval_secs = 1;
    });
    let runner = s.runner();
    let pipeline = s.trigger(json!({}));
    let id = s.take(&runner)["id"].as_i64().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while s.job_status(id) == "running" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    let v = json_of(
        s.app.get(&format!("/projects/{}/jobs/{id}", s.r.project_id), Some(&s.r.developer.token)),
        200,
    );
    assert_eq!(v["status"], "failed");
    assert_eq!(v["failure_reason"], "stuck_or_timeout_failure");
    assert_eq!(s.pipeline_status(pipeline), "failed");
}

#[test]
fn a_project_runner_takes_only_jobs_of_its_projects() {
    let s = setup(0);
    let root = s.app.root();
    let other = s.app.create_project(&root, "elsewhere", "private");
    let runner_of = |pid: i64| {
        let body = json!({"runner_type": "project_type", "project_id": pid});
        json_of(s.app.post_json("/user/runners", Some(&root.token), &body), 201)["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (foreign, own) = (runner_of(other), runner_of(s.r.project_id));
    s.trigger(json!({}));
    assert_eq!(s.request(&foreign).status().as_u16(), 204);
    assert_eq!(s.take(&own)["job_info"]["project_id"], s.r.project_id);
}

#[test]
fn a_poll_records_the_runners_contact_and_what_it_says_about_itself() {
    let s = setup(0);
    let runner = s.runner();
    assert_eq!(s.request(&runner).status().as_u16(), 204);
    let (contacted, name): (Option<String>, Option<String>) = s
        .app
        .db()
        .query_row("SELECT contacted_at, name FROM runners", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert!(contacted.is_some());
    assert_eq!(name.as_deref(), Some("test-runner"));
}

#[test]
fn a_job_canceled_by_a_user_stops_its_runner_with_403_and_job_status_canceled() {
    let s = setup(0);
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    let url = format!("/projects/{}/jobs/{id}/cancel", s.r.project_id);
    assert_eq!(s.app.post_json(&url, Some(&s.r.developer.token), &json!({})).status().as_u16(), 201);
    let patch = s.patch(id, &token, "0-2", "hi");
    assert_eq!(patch.status().as_u16(), 403);
    assert_eq!(header(&patch, "job-status"), "canceled");
    let put = s.put(id, json!({"token": token, "state": "success"}));
    assert_eq!(put.status().as_u16(), 403);
    assert_eq!(header(&put, "job-status"), "canceled");
    assert_eq!(s.job_status(id), "canceled");
}

#[test]
fn a_job_token_split_across_two_log_chunks_is_masked_too() {
    let s = setup(0);
    let runner = s.runner();
    s.trigger(json!({}));
    let build = s.take(&runner);
    let (id, token) = (build["id"].as_i64().unwrap(), build["token"].as_str().unwrap().to_string());
    let line = format!("token is {token}\n");
    let (a, b) = line.split_at(20);
    assert_eq!(header(&s.patch(id, &token, &format!("0-{}", a.len()), a), "range"), format!("0-{}", a.len()));
    let second = s.patch(id, &token, &format!("{}-{}", a.len(), line.len()), b);
    assert_eq!(header(&second, "range"), format!("0-{}", line.len()));
    let log = s
        .app
        .get(&format!("/projects/{}/jobs/{id}/trace", s.r.project_id), Some(&s.r.developer.token))
        .text()
        .unwrap();
    assert!(!log.contains(&token[..15]), "{log}");
    assert!(log.starts_with("token is [MASKED]"), "{log}");
    assert_eq!(log.len(), line.len());
}

#[test]
fn a_finished_job_wakes_waiting_runners_only_when_it_made_a_later_job_pending() {
    let s = setup(0);
    let runner = s.runner();
    // A runner that takes no untagged job only reads the queue's version.
    let body = json!({"runner_type": "instance_type", "run_untagged": false, "tag_list": ["elsewhere"]});
    let idle = json_of(s.app.post_json("/user/runners", Some(&s.app.root().token), &body), 201)["token"]
        .as_str()
        .unwrap()
        .to_string();
    s.trigger(json!({}));
    let version = || {
        let resp = s.request(&idle);
        assert_eq!(resp.status().as_u16(), 204);
        header(&resp, "x-gitlab-last-update").parse::<u64>().unwrap()
    };
    let build = s.take(&runner);
    let before = version();
    let done = s.put(build["id"].as_i64().unwrap(), json!({"token": build["token"], "state": "success"}));
    assert_eq!(done.status().as_u16(), 200);
    assert!(version() > before, "the test stage became pending: waiting runners are woken");

    let test = s.take(&runner);
    let before = version();
    let done = s.put(test["id"].as_i64().unwrap(), json!({"token": test["token"], "state": "success"}));
    assert_eq!(done.status().as_u16(), 200);
    assert_eq!(version(), before, "nothing became pending: no runner is woken");
}
