//! CI/CD job tokens across projects: the trigger call with a running job's token (a
//! multi-project pipeline with its upstream link), the job token scope and its allowlist, and
//! `GET /job`.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

const ONE_JOB: &str = "deploy:\n  script: [./deploy]\n";
const DOWNSTREAM: &str = "build:\n  script: [make]\n";

struct Setup {
    app: TestApp,
    r: Roles,
    /// Project B in the owner's namespace; the developer is a Developer there too.
    downstream: i64,
    runner: String,
}

fn store_ci(app: &TestApp, project_id: i64, user: &TestUser, yaml: &str) {
    app.seed_ref(project_id, "branch", "main");
    let url = format!("/projects/{project_id}/repository/files/.gitlab-ci.yml");
    let body = json!({"branch": "main", "content": yaml, "commit_message": "ci"});
    assert_eq!(app.post_json(&url, Some(&user.token), &body).status().as_u16(), 201);
}

fn setup() -> Setup {
    let app = spawn_app();
    let r = app.roles();
    store_ci(&app, r.project_id, &r.developer, ONE_JOB);
    let downstream = app.create_project(&r.owner, "downstream", "private");
    app.add_member(downstream, &r.developer, DEVELOPER);
    store_ci(&app, downstream, &r.owner, DOWNSTREAM);
    let body = json!({"runner_type": "instance_type", "run_untagged": true});
    let v = json_of(app.post_json("/user/runners", Some(&app.root().token), &body), 201);
    let runner = v["token"].as_str().unwrap().to_string();
    Setup { app, r, downstream, runner }
}

impl Setup {
    /// Triggers project A as the developer (a trigger token) and takes its job as the runner:
    /// `(pipeline id, job id, job token)`.
    fn running_job(&self) -> (i64, i64, String) {
        let trigger = self.app.seed_trigger(self.r.project_id, &self.r.developer, "ci").token;
        let url = format!("/projects/{}/trigger/pipeline", self.r.project_id);
        let p = json_of(self.app.post_json(&url, None, &json!({"token": trigger, "ref": "main"})), 201);
        let job = self.take();
        assert_eq!(job["job_info"]["name"], "deploy");
        (p["id"].as_i64().unwrap(), job["id"].as_i64().unwrap(), job["token"].as_str().unwrap().to_string())
    }

    fn take(&self) -> Value {
        json_of(self.app.post_json("/jobs/request", None, &json!({"token": self.runner})), 201)
    }

    fn trigger_with(&self, project_id: i64, token: &str) -> reqwest::blocking::Response {
        let url = format!("/projects/{project_id}/trigger/pipeline");
        self.app.post_json(
            &url,
            None,
            &json!({"token": token, "ref": "main", "variables": {"FROM": "upstream"}}),
        )
    }

    fn allowlist(&self, project_id: i64, allowed: i64) {
        let url = format!("/projects/{project_id}/job_token_scope/allowlist");
        let body = json!({"target_project_id": allowed});
        assert_eq!(self.app.post_json(&url, Some(&self.r.owner.token), &body).status().as_u16(), 201);
    }

    fn finish(&self, job_id: i64, token: &str) {
        let done =
            self.app.put_json(&format!("/jobs/{job_id}"), None, &json!({"token": token, "state": "success"}));
        assert_eq!(done.status().as_u16(), 200);
    }
}

fn variable<'a>(job: &'a Value, key: &str) -> Option<&'a str> {
    job["variables"].as_array().unwrap().iter().find(|v| v["key"] == key).and_then(|v| v["value"].as_str())
}

#[test]
fn a_running_jobs_token_triggers_an_allowlisted_project_as_a_multi_project_pipeline() {
    let s = setup();
    let (upstream, job_id, token) = s.running_job();
    assert!(token.starts_with("glcbt-"));
    s.allowlist(s.downstream, s.r.project_id);

    let created = json_of(s.trigger_with(s.downstream, &token), 201);
    assert_eq!(created["source"], "pipeline");
    assert_eq!(created["project_id"], s.downstream);
    assert_eq!(created["user"]["username"], s.r.developer.username);

    // The downstream job sees the source and the caller's variable, and no trigger variables.
    let build = s.take();
    assert_eq!(build["job_info"]["name"], "build");
    assert_eq!(variable(&build, "CI_PIPELINE_SOURCE"), Some("pipeline"));
    assert_eq!(variable(&build, "FROM"), Some("upstream"));
    assert_eq!(variable(&build, "CI_PIPELINE_TRIGGERED"), None);

    // Both pipelines show the link (our additive fields).
    let down_id = created["id"].as_i64().unwrap();
    let down = json_of(
        s.app.get(&format!("/projects/{}/pipelines/{down_id}", s.downstream), Some(&s.r.developer.token)),
        200,
    );
    assert_eq!(down["upstream_pipeline"]["id"], upstream);
    assert_eq!(down["upstream_pipeline"]["project_id"], s.r.project_id);
    assert_eq!(down["upstream_pipeline"]["job_id"], job_id);
    assert_eq!(down["downstream_pipelines"], json!([]));
    let up = json_of(
        s.app.get(&format!("/projects/{}/pipelines/{upstream}", s.r.project_id), Some(&s.r.developer.token)),
        200,
    );
    assert_eq!(up["upstream_pipeline"], Value::Null);
    assert_eq!(up["downstream_pipelines"][0]["id"], down_id);
    assert_eq!(up["downstream_pipelines"][0]["source"], "pipeline");
    assert!(
        up["downstream_pipelines"][0]["web_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/-/pipelines/{down_id}"))
    );
}

#[test]
fn a_project_limiting_job_token_access_answers_404_until_the_source_is_allowlisted() {
    let s = setup();
    let (_, _, token) = s.running_job();
    let before = s.app.count("pipelines");
    assert_error(s.trigger_with(s.downstream, &token), 404, "message", json!("404 Not Found"));
    assert_eq!(s.app.count("pipelines"), before, "a refused call creates nothing");

    // Turning the scope off opens the project to every job whose user may create pipelines.
    let scope = format!("/projects/{}/job_token_scope", s.downstream);
    let off = s
        .app
        .request(Method::PATCH, &scope, Some(&s.r.owner.token))
        .json(&json!({"enabled": false}))
        .send()
        .unwrap();
    assert_eq!(off.status().as_u16(), 204);
    assert_eq!(s.trigger_with(s.downstream, &token).status().as_u16(), 201);
}

#[test]
fn a_job_token_always_triggers_its_own_project_with_source_pipeline() {
    let s = setup();
    let (_, _, token) = s.running_job();
    let created = json_of(s.trigger_with(s.r.project_id, &token), 201);
    assert_eq!(created["source"], "pipeline");
}

#[test]
fn a_finished_jobs_token_is_401_and_an_unknown_one_404() {
    let s = setup();
    let (_, job_id, token) = s.running_job();
    s.allowlist(s.downstream, s.r.project_id);
    s.finish(job_id, &token);
    assert_error(s.trigger_with(s.downstream, &token), 401, "message", json!("Job is not running"));
    let unknown = "glcbt-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    assert_error(s.trigger_with(s.downstream, unknown), 404, "message", json!("404 Not Found"));
}

#[test]
fn the_jobs_user_needs_to_see_the_target_and_to_be_a_developer_there() {
    let s = setup();
    let (_, _, token) = s.running_job();
    // A project the job's user is not a member of: hidden, so 404 even when allowlisted.
    let hidden = s.app.create_project(&s.r.owner, "hidden", "private");
    s.app.seed_ref(hidden, "branch", "main");
    s.allowlist(hidden, s.r.project_id);
    assert_error(s.trigger_with(hidden, &token), 404, "message", json!("404 Not Found"));
    // A Reporter there sees it but may not create pipelines.
    s.app.add_member(hidden, &s.r.developer, REPORTER);
    assert_error(
        s.trigger_with(hidden, &token),
        400,
        "message",
        json!({"base": ["Insufficient permissions to create a new pipeline"]}),
    );
}

#[test]
fn the_job_token_scope_is_on_for_new_projects_and_maintainers_change_it() {
    let s = setup();
    let url = format!("/projects/{}/job_token_scope", s.downstream);
    let shown = json_of(s.app.get(&url, Some(&s.r.owner.token)), 200);
    assert_eq!(shown, json!({"inbound_enabled": true, "outbound_enabled": false}));
    let patch = |token: &str, body: Value| {
        s.app.request(Method::PATCH, &url, Some(token)).json(&body).send().unwrap().status().as_u16()
    };
    assert_eq!(patch(&s.r.owner.token, json!({"enabled": false})), 204);
    assert_eq!(json_of(s.app.get(&url, Some(&s.r.owner.token)), 200)["inbound_enabled"], false);
    assert_eq!(patch(&s.r.owner.token, json!({})), 400);
    assert_eq!(patch(&s.r.owner.token, json!({"enabled": "maybe"})), 400);
    // The developer is a Developer of the downstream project: 403; strangers 404; nobody 401.
    assert_eq!(patch(&s.r.developer.token, json!({"enabled": true})), 403);
    assert_eq!(s.app.get(&url, Some(&s.r.developer.token)).status().as_u16(), 403);
    assert_eq!(s.app.get(&url, Some(&s.r.non_member.token)).status().as_u16(), 404);
    assert_eq!(s.app.get(&url, None).status().as_u16(), 401);
}

#[test]
fn the_allowlist_adds_lists_and_removes_projects_with_gitlabs_answers() {
    let s = setup();
    let url = format!("/projects/{}/job_token_scope/allowlist", s.downstream);
    let owner = Some(s.r.owner.token.as_str());
    assert_eq!(json_of(s.app.get(&url, owner), 200), json!([]));

    let added = json_of(s.app.post_json(&url, owner, &json!({"target_project_id": s.r.project_id})), 201);
    assert_eq!(added, json!({"source_project_id": s.downstream, "target_project_id": s.r.project_id}));
    let listed = json_of(s.app.get(&url, owner), 200);
    assert_eq!(listed[0]["id"], s.r.project_id);
    assert_eq!(listed[0]["path_with_namespace"], "owner/demo");

    assert_error(
        s.app.post_json(&url, owner, &json!({"target_project_id": s.r.project_id})),
        400,
        "message",
        json!("Target project is already in the job token scope"),
    );
    assert_error(
        s.app.post_json(&url, owner, &json!({"target_project_id": 999_999})),
        404,
        "message",
        json!("404 target_project_id Not Found"),
    );
    // A project the caller cannot see looks like one that does not exist.
    let theirs = s.app.create_project(&s.r.non_member, "theirs", "private");
    assert_error(
        s.app.post_json(&url, owner, &json!({"target_project_id": theirs})),
        404,
        "message",
        json!("404 target_project_id Not Found"),
    );
    assert_error(
        s.app.post_json(&url, owner, &json!({})),
        400,
        "error",
        json!("target_project_id is missing"),
    );
    assert_eq!(
        s.app
            .post_json(&url, Some(&s.r.developer.token), &json!({"target_project_id": theirs}))
            .status()
            .as_u16(),
        403
    );

    let one = format!("{url}/{}", s.r.project_id);
    assert_eq!(s.app.delete(&one, owner).status().as_u16(), 204);
    assert_error(
        s.app.delete(&one, owner),
        400,
        "message",
        json!("Target project is not in the job token scope"),
    );
    assert_eq!(s.app.delete(&format!("{url}/abc"), owner).status().as_u16(), 400);
    assert_eq!(json_of(s.app.get(&url, owner), 200), json!([]));
}

#[test]
fn get_job_answers_with_the_tokens_job_from_every_place_gitlab_reads_it() {
    let s = setup();
    let (pipeline, job_id, token) = s.running_job();
    let by_header =
        json_of(s.app.request(Method::GET, "/job", None).header("JOB-TOKEN", &token).send().unwrap(), 200);
    assert_eq!(by_header["id"], job_id);
    assert_eq!(by_header["name"], "deploy");
    assert_eq!(by_header["status"], "running");
    assert_eq!(by_header["pipeline"]["id"], pipeline);
    let by_param = s.app.get(&format!("/job?job_token={token}"), None);
    assert_eq!(json_of(by_param, 200)["id"], job_id);
    let basic =
        s.app.request(Method::GET, "/job", None).basic_auth("gitlab-ci-token", Some(&token)).send().unwrap();
    assert_eq!(json_of(basic, 200)["id"], job_id);
    let bearer = s.app.request(Method::GET, "/job", None).bearer_auth(&token).send().unwrap();
    assert_eq!(json_of(bearer, 200)["id"], job_id);

    assert_error(s.app.get("/job", Some(&s.r.developer.token)), 404, "message", json!("404 Job Not Found"));
    assert_error(s.app.get("/job", None), 401, "message", json!("401 Unauthorized"));
    let unknown = s.app.request(Method::GET, "/job", None).header("JOB-TOKEN", "glcbt-nope").send().unwrap();
    assert_eq!(unknown.status().as_u16(), 401);
    s.finish(job_id, &token);
    let finished = s.app.request(Method::GET, "/job", None).header("JOB-TOKEN", &token).send().unwrap();
    assert_error(finished, 401, "message", json!("Job is not running"));
}

#[test]
fn a_job_token_is_stored_nowhere_and_logged_nowhere() {
    let s = setup();
    let (_, job_id, token) = s.running_job();
    s.allowlist(s.downstream, s.r.project_id);
    assert_eq!(s.trigger_with(s.downstream, &token).status().as_u16(), 201);
    let range = |n: usize| format!("0-{}", n - 1);
    let line = format!("token {token}\n");
    let patched = s
        .app
        .request(Method::PATCH, &format!("/jobs/{job_id}/trace"), None)
        .header("JOB-TOKEN", &token)
        .header("Content-Range", range(line.len()))
        .body(line.clone())
        .send()
        .unwrap();
    assert_eq!(patched.status().as_u16(), 202);
    s.finish(job_id, &token);
    let mut stored = Vec::new();
    for entry in std::fs::read_dir(&s.app.dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            stored.extend(std::fs::read(&path).unwrap());
        }
    }
    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", s.app.db_path.display());
        if let Ok(bytes) = std::fs::read(&path) {
            stored.extend(bytes);
        }
    }
    let secret = token.as_bytes();
    assert!(!stored.windows(secret.len()).any(|w| w == secret), "the job token is at rest");
    let log = s.app.get(&format!("/projects/{}/jobs/{job_id}/trace", s.r.project_id), Some(&s.r.owner.token));
    assert!(!log.text().unwrap().contains(&token), "the job token is in the job log");
}

fn get_with_job_token(app: &TestApp, path: &str, token: &str) -> reqwest::blocking::Response {
    app.request(Method::GET, path, None).header("JOB-TOKEN", token).send().unwrap()
}

#[test]
fn a_job_token_reads_its_own_projects_pipelines_and_jobs_as_the_jobs_user() {
    let s = setup();
    let (pipeline, job_id, token) = s.running_job();
    let pid = s.r.project_id;
    for path in [
        format!("/projects/{pid}/pipelines"),
        format!("/projects/{pid}/pipelines/{pipeline}"),
        format!("/projects/{pid}/pipelines/{pipeline}/jobs"),
        format!("/projects/{pid}/pipelines/latest"),
        format!("/projects/{pid}/jobs"),
        format!("/projects/{pid}/jobs/{job_id}"),
        format!("/projects/{pid}/jobs/{job_id}/trace"),
    ] {
        assert_eq!(get_with_job_token(&s.app, &path, &token).status().as_u16(), 200, "{path}");
    }
    // Also as `job_token` in the query and as HTTP Basic `gitlab-ci-token`.
    let query = s.app.get(&format!("/projects/{pid}/pipelines/{pipeline}?job_token={token}"), None);
    assert_eq!(json_of(query, 200)["id"], pipeline);
    let basic = s
        .app
        .request(Method::GET, &format!("/projects/{pid}/jobs/{job_id}"), None)
        .basic_auth("gitlab-ci-token", Some(&token))
        .send()
        .unwrap();
    assert_eq!(json_of(basic, 200)["id"], job_id);
}

#[test]
fn a_job_token_is_no_credential_on_other_routes_and_cannot_write() {
    let s = setup();
    let (pipeline, _, token) = s.running_job();
    let pid = s.r.project_id;
    // Not a route GitLab opens to job tokens: as if no credential was sent.
    assert_eq!(
        get_with_job_token(&s.app, &format!("/projects/{pid}/triggers"), &token).status().as_u16(),
        401
    );
    assert_eq!(get_with_job_token(&s.app, "/user", &token).status().as_u16(), 401);
    // A private project's pipeline variables are not open to job tokens either: hidden, 404.
    let vars = get_with_job_token(&s.app, &format!("/projects/{pid}/pipelines/{pipeline}/variables"), &token);
    assert_eq!(vars.status().as_u16(), 404);
    // Writes never take a job token.
    let cancel = s
        .app
        .request(Method::POST, &format!("/projects/{pid}/pipelines/{pipeline}/cancel"), None)
        .header("JOB-TOKEN", &token)
        .send()
        .unwrap();
    assert_eq!(cancel.status().as_u16(), 401);
}

#[test]
fn a_job_token_reads_another_project_only_through_its_allowlist() {
    let s = setup();
    let (_, job_id, token) = s.running_job();
    let path = format!("/projects/{}/pipelines", s.downstream);
    let refused = get_with_job_token(&s.app, &path, &token);
    assert_error(
        refused,
        403,
        "message",
        json!(
            "403 Forbidden - Authentication by CI/CD job token not allowed from owner/demo to owner/downstream."
        ),
    );
    s.allowlist(s.downstream, s.r.project_id);
    assert_eq!(get_with_job_token(&s.app, &path, &token).status().as_u16(), 200);
    // A finished job's token, and an unknown one, are 401.
    s.finish(job_id, &token);
    assert_eq!(get_with_job_token(&s.app, &path, &token).status().as_u16(), 401);
    assert_eq!(get_with_job_token(&s.app, &path, "glcbt-unknown").status().as_u16(), 401);
}

#[test]
fn a_group_on_the_groups_allowlist_lets_the_jobs_of_every_project_below_it_in() {
    let s = setup();
    let owner = &s.r.owner.token;
    let org = json_of(s.app.post_json("/groups", Some(owner), &json!({"name": "CI", "path": "ci-org"})), 201);
    json_of(
        s.app.post_json(
            "/groups",
            Some(owner),
            &json!({"name": "Apps", "path": "apps", "parent_id": org["id"]}),
        ),
        201,
    );
    let moved = s.app.put_json(
        &format!("/projects/{}/transfer", s.r.project_id),
        Some(owner),
        &json!({"namespace": "ci-org/apps"}),
    );
    assert_eq!(moved.status().as_u16(), 200);
    let (_, _, token) = s.running_job();
    assert_eq!(s.trigger_with(s.downstream, &token).status().as_u16(), 404);

    let url = format!("/projects/{}/job_token_scope/groups_allowlist", s.downstream);
    let added = json_of(s.app.post_json(&url, Some(owner), &json!({"target_group_id": org["id"]})), 201);
    assert_eq!(added, json!({"source_project_id": s.downstream, "target_group_id": org["id"]}));
    let again = s.app.post_json(&url, Some(owner), &json!({"target_group_id": org["id"]}));
    assert_error(again, 400, "message", json!("Target group is already in the job token scope"));
    let unknown = s.app.post_json(&url, Some(owner), &json!({"target_group_id": 999_999}));
    assert_error(unknown, 404, "message", json!("404 target_group_id Not Found"));
    let listed = json_of(s.app.get(&url, Some(owner)), 200);
    assert_eq!(listed[0]["id"], org["id"]);
    assert_eq!(listed[0]["web_url"], format!("{}/groups/ci-org", s.app.address));
    // The job's project is in a subgroup of the listed group.
    assert_eq!(s.trigger_with(s.downstream, &token).status().as_u16(), 201);

    // A project outside the group (the downstream itself is elsewhere) gains nothing, and
    // removing the group closes the door again.
    let gone = s.app.delete(&format!("{url}/{}", org["id"]), Some(owner));
    assert_eq!(gone.status().as_u16(), 204);
    let twice = s.app.delete(&format!("{url}/{}", org["id"]), Some(owner));
    assert_error(twice, 400, "message", json!("Target group is not in the job token scope"));
    assert_eq!(s.trigger_with(s.downstream, &token).status().as_u16(), 404);
}
