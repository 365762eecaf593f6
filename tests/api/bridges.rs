//! `trigger:` jobs (bridges): the downstream pipeline a bridge creates (variables, upstream
//! link), `strategy: depend`, the permission and allowlist failures, cancel and retry across the
//! link, and `GET /projects/:id/pipelines/:pipeline_id/bridges`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::*;

const DOWNSTREAM_CI: &str = "build:\n  script: [make]\n";

struct Setup {
    app: TestApp,
    r: Roles,
    /// `owner/downstream` (private): the developer is a Developer there, and `owner/demo` is on
    /// its job token allowlist.
    downstream: i64,
}

fn store_ci(app: &TestApp, project_id: i64, user: &TestUser, yaml: &str) {
    if app.get(&format!("/projects/{project_id}/repository/branches/main"), Some(&user.token)).status() != 200
    {
        app.seed_ref(project_id, "branch", "main");
    }
    let url = format!("/projects/{project_id}/repository/files/.gitlab-ci.yml");
    let body = json!({"branch": "main", "content": yaml, "commit_message": "ci"});
    let resp = app.post_json(&url, Some(&user.token), &body);
    if resp.status() == 400 {
        // The file exists: update it.
        assert_eq!(app.put_json(&url, Some(&user.token), &body).status().as_u16(), 200);
    } else {
        assert_eq!(resp.status().as_u16(), 201);
    }
}

fn setup() -> Setup {
    setup_with(|c| c.runners.long_poll_timeout_secs = 0, |r| &r.developer)
}

/// A server configured by `adjust`; project `downstream` (owner's) with a CI file, where the user
/// `downstream_developer` picks is a Developer, and which allowlists the roles' project.
fn setup_with(
    adjust: impl FnOnce(&mut triggerd::config::Config),
    downstream_developer: impl Fn(&Roles) -> &TestUser,
) -> Setup {
    let app = spawn_app_with(adjust);
    let r = app.roles();
    let downstream = app.create_project(&r.owner, "downstream", "private");
    app.add_member(downstream, downstream_developer(&r), DEVELOPER);
    store_ci(&app, downstream, &r.owner, DOWNSTREAM_CI);
    let s = Setup { app, r, downstream };
    s.allowlist(s.downstream, s.r.project_id);
    s
}

impl Setup {
    fn allowlist(&self, project_id: i64, allowed: i64) {
        let url = format!("/projects/{project_id}/job_token_scope/allowlist");
        let body = json!({"target_project_id": allowed});
        assert_eq!(self.app.post_json(&url, Some(&self.r.owner.token), &body).status().as_u16(), 201);
    }

    /// Stores `yaml` in `owner/demo` and creates a pipeline on main as the developer.
    fn upstream_pipeline(&self, yaml: &str, variables: Value) -> i64 {
        store_ci(&self.app, self.r.project_id, &self.r.developer, yaml);
        let url = format!("/projects/{}/pipeline", self.r.project_id);
        let body = json!({"ref": "main", "variables": variables});
        json_of(self.app.post_json(&url, Some(&self.r.developer.token), &body), 201)["id"].as_i64().unwrap()
    }

    /// Waits until the bridge `name` of the pipeline left `pending`; returns its status.
    fn settled_bridge(&self, pipeline_id: i64, name: &str) -> String {
        let id = self.app.job_id(pipeline_id, name);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let status: String =
                self.app.db().query_row("SELECT status FROM jobs WHERE id = ?1", [id], |r| r.get(0)).unwrap();
            if status != "pending" || Instant::now() > deadline {
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn bridges(&self, pipeline_id: i64, query: &str) -> Vec<Value> {
        let url = format!("/projects/{}/pipelines/{pipeline_id}/bridges{query}", self.r.project_id);
        json_of(self.app.get(&url, Some(&self.r.developer.token)), 200).as_array().unwrap().clone()
    }

    fn failure_reason(&self, pipeline_id: i64, name: &str) -> Option<String> {
        let id = self.app.job_id(pipeline_id, name);
        self.app.db().query_row("SELECT failure_reason FROM jobs WHERE id = ?1", [id], |r| r.get(0)).unwrap()
    }

    /// The downstream pipelines of `owner/downstream`, newest first.
    fn downstream_pipelines(&self) -> Vec<Value> {
        let url = format!("/projects/{}/pipelines", self.downstream);
        json_of(self.app.get(&url, Some(&self.r.owner.token)), 200).as_array().unwrap().clone()
    }
}

fn bridge_to(project: &str, extra: &str) -> String {
    format!("bridge:\n  stage: build\n  trigger:\n    project: {project}\n{extra}")
}

#[test]
fn a_trigger_job_creates_the_downstream_pipeline_with_forwarded_variables_and_the_upstream_link() {
    let s = setup();
    let yaml = format!(
        "variables: {{ GLOBAL: g }}\n{}  variables: {{ JOBVAR: j }}\n",
        bridge_to("owner/downstream", "    forward:\n      pipeline_variables: true\n")
    );
    let up = s.upstream_pipeline(&yaml, json!([{"key": "PIPEVAR", "value": "p"}]));
    assert_eq!(s.settled_bridge(up, "bridge"), "success", "no strategy: success at once");
    assert_eq!(s.app.pipeline_status(up), "success");
    let down = s.downstream_pipelines();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["source"], "pipeline");
    assert_eq!(down[0]["ref"], "main");
    let down_id = down[0]["id"].as_i64().unwrap();
    let url = format!("/projects/{}/pipelines/{down_id}", s.downstream);
    let p = json_of(s.app.get(&url, Some(&s.r.owner.token)), 200);
    assert_eq!(p["user"]["username"], "developer", "created as the upstream pipeline's user");
    assert_eq!(p["upstream_pipeline"]["id"], up);
    assert_eq!(p["upstream_pipeline"]["job_id"], s.app.job_id(up, "bridge"));
    let vars = json_of(s.app.get(&format!("{url}/variables"), Some(&s.r.owner.token)), 200);
    let mut pairs: Vec<(String, String)> = vars
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["key"].as_str().unwrap().to_string(), v["value"].as_str().unwrap().to_string()))
        .collect();
    pairs.sort();
    let expected =
        [("GLOBAL", "g"), ("JOBVAR", "j"), ("PIPEVAR", "p")].map(|(k, v)| (k.to_string(), v.to_string()));
    assert_eq!(pairs, expected);
    let source: Option<i64> = s
        .app
        .db()
        .query_row("SELECT source_bridge_id FROM pipeline_sources WHERE pipeline_id = ?1", [down_id], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(source, Some(s.app.job_id(up, "bridge")));
}

#[test]
fn yaml_variables_stay_upstream_when_forward_says_so_and_pipeline_variables_by_default() {
    let s = setup();
    let yaml = format!(
        "{}  variables: {{ JOBVAR: j }}\n",
        bridge_to("owner/downstream", "    forward:\n      yaml_variables: false\n")
    );
    let up = s.upstream_pipeline(&yaml, json!([{"key": "PIPEVAR", "value": "p"}]));
    assert_eq!(s.settled_bridge(up, "bridge"), "success");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    let url = format!("/projects/{}/pipelines/{down_id}/variables", s.downstream);
    assert_eq!(json_of(s.app.get(&url, Some(&s.r.owner.token)), 200), json!([]));
}

#[test]
fn no_runner_ever_gets_a_bridge_and_the_jobs_api_does_not_show_it() {
    let s = setup();
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", "    strategy: depend\n"), json!([]));
    let runner = {
        let body = json!({"runner_type": "instance_type", "run_untagged": true});
        json_of(s.app.post_json("/user/runners", Some(&s.app.root().token), &body), 201)["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let job = json_of(s.app.post_json("/jobs/request", None, &json!({"token": runner})), 201);
    assert_eq!(job["job_info"]["name"], "build", "the downstream's build, not the bridge");
    assert_eq!(job["job_info"]["project_id"], s.downstream);
    assert_eq!(s.app.post_json("/jobs/request", None, &json!({"token": runner})).status().as_u16(), 204);
    let bridge = s.app.job_id(up, "bridge");
    let base = format!("/projects/{}", s.r.project_id);
    let dev = Some(s.r.developer.token.as_str());
    assert_eq!(s.app.get(&format!("{base}/jobs/{bridge}"), dev).status().as_u16(), 404);
    assert_eq!(json_of(s.app.get(&format!("{base}/pipelines/{up}/jobs"), dev), 200), json!([]));
    assert_eq!(json_of(s.app.get(&format!("{base}/jobs"), dev), 200), json!([]));
}

#[test]
fn a_depend_bridge_whose_downstream_fails_fails_and_so_does_the_upstream_pipeline() {
    let s = setup();
    let yaml = format!(
        "{}after:\n  stage: deploy\n  script: [x]\n",
        bridge_to("owner/downstream", "    strategy: depend\n")
    );
    let up = s.upstream_pipeline(&yaml, json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    assert_eq!(s.app.pipeline_status(up), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    s.app.run_job(s.app.job_id(down_id, "build"), "failed");
    assert_eq!(s.app.pipeline_status(down_id), "failed");
    let listed = s.bridges(up, "");
    assert_eq!(listed[0]["status"], "failed");
    assert_eq!(listed[0]["failure_reason"], "unknown_failure");
    assert_eq!(s.app.pipeline_status(up), "failed");
    let after: String = s
        .app
        .db()
        .query_row("SELECT status FROM jobs WHERE id = ?1", [s.app.job_id(up, "after")], |r| r.get(0))
        .unwrap();
    assert_eq!(after, "skipped");
}

#[test]
fn a_depend_bridge_whose_downstream_succeeds_lets_the_next_stage_run() {
    let s = setup();
    let yaml = format!(
        "{}after:\n  stage: deploy\n  script: [x]\n",
        bridge_to("owner/downstream", "    strategy: depend\n")
    );
    let up = s.upstream_pipeline(&yaml, json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    s.app.run_job(s.app.job_id(down_id, "build"), "success");
    assert_eq!(s.bridges(up, "")[0]["status"], "success");
    let after: String = s
        .app
        .db()
        .query_row("SELECT status FROM jobs WHERE id = ?1", [s.app.job_id(up, "after")], |r| r.get(0))
        .unwrap();
    assert_eq!(after, "pending");
    assert_eq!(s.app.pipeline_status(up), "running");
}

#[test]
fn a_bridge_fails_with_gitlabs_reasons_when_it_may_not_create_the_downstream() {
    let s = setup();
    // Unknown project.
    let up = s.upstream_pipeline(&bridge_to("owner/nowhere", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("downstream_bridge_project_not_found"));
    assert_eq!(s.app.pipeline_status(up), "failed");
    // A private project the developer is not a member of.
    let hidden = s.app.create_project(&s.r.owner, "hidden", "private");
    s.allowlist(hidden, s.r.project_id);
    let up = s.upstream_pipeline(&bridge_to("owner/hidden", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("downstream_bridge_project_not_found"));
    // A Reporter may not create pipelines.
    s.app.add_member(hidden, &s.r.developer, REPORTER);
    let up = s.upstream_pipeline(&bridge_to("owner/hidden", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("insufficient_bridge_permissions"));
    // Not on the target's job token allowlist.
    let closed = s.app.create_project(&s.r.owner, "closed", "private");
    s.app.add_member(closed, &s.r.developer, DEVELOPER);
    store_ci(&s.app, closed, &s.r.owner, DOWNSTREAM_CI);
    let up = s.upstream_pipeline(&bridge_to("owner/closed", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("insufficient_bridge_permissions"));
    // No configuration on the branch, or no such branch.
    s.allowlist(closed, s.r.project_id);
    let up = s.upstream_pipeline(&bridge_to("owner/closed", "    branch: nope\n"), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("downstream_pipeline_creation_failed"));
    let empty = s.app.create_project(&s.r.owner, "empty", "private");
    s.app.add_member(empty, &s.r.developer, DEVELOPER);
    s.app.seed_ref(empty, "branch", "main");
    s.allowlist(empty, s.r.project_id);
    let up = s.upstream_pipeline(&bridge_to("owner/empty", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("downstream_pipeline_creation_failed"));
    // None of these created a pipeline.
    let count: i64 = s
        .app
        .db()
        .query_row("SELECT COUNT(*) FROM pipelines WHERE source = 'pipeline'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 0);
}

#[test]
fn an_invalid_downstream_configuration_fails_the_bridge_and_creates_nothing() {
    let s = setup();
    store_ci(&s.app, s.downstream, &s.r.owner, "build:\n  stage: nowhere\n  script: [x]\n");
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", ""), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("downstream_pipeline_creation_failed"));
    assert!(s.downstream_pipelines().is_empty());
}

#[test]
fn cancelling_the_upstream_pipeline_cancels_its_depend_downstream() {
    let s = setup();
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", "    strategy: depend\n"), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    let url = format!("/projects/{}/pipelines/{up}/cancel", s.r.project_id);
    assert_eq!(s.app.post_json(&url, Some(&s.r.developer.token), &json!({})).status().as_u16(), 200);
    assert_eq!(s.app.pipeline_status(up), "canceled");
    assert_eq!(s.app.pipeline_status(down_id), "canceled");
    assert_eq!(s.bridges(up, "")[0]["status"], "canceled");
}

#[test]
fn cancelling_a_depend_downstream_cancels_its_bridge() {
    let s = setup();
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", "    strategy: depend\n"), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    let url = format!("/projects/{}/pipelines/{down_id}/cancel", s.downstream);
    assert_eq!(s.app.post_json(&url, Some(&s.r.owner.token), &json!({})).status().as_u16(), 200);
    assert_eq!(s.bridges(up, "")[0]["status"], "canceled");
    assert_eq!(s.app.pipeline_status(up), "canceled");
}

#[test]
fn retrying_the_upstream_pipeline_retries_a_failed_bridge_with_a_new_downstream() {
    let s = setup();
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", "    strategy: depend\n"), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let first = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    s.app.run_job(s.app.job_id(first, "build"), "failed");
    assert_eq!(s.app.pipeline_status(up), "failed");
    let url = format!("/projects/{}/pipelines/{up}/retry", s.r.project_id);
    assert_eq!(s.app.post_json(&url, Some(&s.r.developer.token), &json!({})).status().as_u16(), 201);
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let downs = s.downstream_pipelines();
    assert_eq!(downs.len(), 2, "a new downstream pipeline");
    let second = downs[0]["id"].as_i64().unwrap();
    assert_ne!(second, first);
    s.app.run_job(s.app.job_id(second, "build"), "success");
    assert_eq!(s.app.pipeline_status(up), "success");
}

#[test]
fn the_bridges_list_shows_each_bridge_with_its_downstream_pipeline() {
    let s = setup();
    let yaml = format!(
        "{}nowhere:\n  stage: build\n  trigger: owner/nowhere\nbuild:\n  stage: build\n  script: [make]\n",
        bridge_to("owner/downstream", "")
    );
    let up = s.upstream_pipeline(&yaml, json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "success");
    assert_eq!(s.settled_bridge(up, "nowhere"), "failed");
    let listed = s.bridges(up, "");
    let names: Vec<&str> = listed.iter().map(|b| b["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["nowhere", "bridge"], "bridges only, newest first");
    let down = &listed[1]["downstream_pipeline"];
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    assert_eq!(down["id"], down_id);
    assert_eq!(down["project_id"], s.downstream);
    assert_eq!(down["source"], "pipeline");
    assert!(down["web_url"].as_str().unwrap().ends_with(&format!("/owner/downstream/-/pipelines/{down_id}")));
    assert_eq!(listed[1]["pipeline"]["id"], up);
    assert_eq!(listed[1]["project"]["ci_job_token_scope_enabled"], false);
    assert_eq!(listed[0]["downstream_pipeline"], Value::Null);
    assert_eq!(listed[0]["failure_reason"], "downstream_bridge_project_not_found");
    let failed = s.bridges(up, "?scope[]=failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["name"], "nowhere");
    // The reporter of `owner/demo` cannot see `owner/downstream`: the link shows as null.
    let url = format!("/projects/{}/pipelines/{up}/bridges", s.r.project_id);
    let as_reporter = json_of(s.app.get(&url, Some(&s.r.reporter.token)), 200);
    assert_eq!(as_reporter[1]["downstream_pipeline"], Value::Null);
    // Bad input.
    let bad = s.app.get(&format!("{url}?scope=sideways"), Some(&s.r.developer.token));
    assert_eq!(bad.status().as_u16(), 400);
    let missing = format!("/projects/{}/pipelines/999999/bridges", s.r.project_id);
    assert_eq!(s.app.get(&missing, Some(&s.r.developer.token)).status().as_u16(), 404);
}

#[test]
fn a_project_triggering_itself_stops_at_gitlabs_loop_guard() {
    let s = setup();
    let up = s.upstream_pipeline(&bridge_to("owner/demo", ""), json!([]));
    // api → pipeline → pipeline → pipeline: the fourth pipeline's bridge sees (demo, main,
    // pipeline) three times (GitLab allows one cycle).
    let deadline = Instant::now() + Duration::from_secs(10);
    let loop_failures = || -> i64 {
        s.app
            .db()
            .query_row("SELECT COUNT(*) FROM jobs WHERE failure_reason = 'pipeline_loop_detected'", [], |r| {
                r.get(0)
            })
            .unwrap()
    };
    while loop_failures() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(loop_failures(), 1);
    let count: i64 = s.app.db().query_row("SELECT COUNT(*) FROM pipelines", [], |r| r.get(0)).unwrap();
    assert_eq!(count, 4, "the pipeline of {up} and three downstream ones");
}

#[test]
fn a_retried_downstream_that_succeeds_turns_its_failed_depend_bridge_and_the_upstream_into_a_success() {
    let s = setup();
    let yaml = format!(
        "{}after:\n  stage: deploy\n  script: [x]\n",
        bridge_to("owner/downstream", "    strategy: depend\n")
    );
    let up = s.upstream_pipeline(&yaml, json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    s.app.run_job(s.app.job_id(down_id, "build"), "failed");
    assert_eq!(s.app.pipeline_status(up), "failed");
    let url = format!("/projects/{}/pipelines/{down_id}/retry", s.downstream);
    assert_eq!(s.app.post_json(&url, Some(&s.r.owner.token), &json!({})).status().as_u16(), 201);
    assert_eq!(s.bridges(up, "")[0]["status"], "failed", "unchanged while the downstream runs again");
    s.app.run_job(s.app.job_id(down_id, "build"), "success");
    assert_eq!(s.bridges(up, "")[0]["status"], "success");
    let after: String = s
        .app
        .db()
        .query_row("SELECT status FROM jobs WHERE id = ?1", [s.app.job_id(up, "after")], |r| r.get(0))
        .unwrap();
    assert_eq!(after, "pending", "the skipped stage runs after all");
    assert_eq!(s.app.pipeline_status(up), "running");
}

#[test]
fn the_stuck_job_sweeper_leaves_a_running_depend_bridge_alone() {
    let s = setup_with(
        |c| {
            c.runners.long_poll_timeout_secs = 0;
            c.runners.stuck_running_timeout_secs = 0;
            c.runners.sweep_interval_secs = 1;
        },
        |r| &r.developer,
    );
    let up = s.upstream_pipeline(&bridge_to("owner/downstream", "    strategy: depend\n"), json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(s.bridges(up, "")[0]["status"], "running");
}

#[test]
fn a_manual_bridge_is_played_and_a_failed_one_retried_through_the_jobs_api() {
    let s = setup();
    let yaml = bridge_to("owner/downstream", "    strategy: depend\n")
        .replace("bridge:\n", "bridge:\n  when: manual\n");
    let up = s.upstream_pipeline(&yaml, json!([]));
    let bridge = s.app.job_id(up, "bridge");
    assert_eq!(s.bridges(up, "")[0]["status"], "manual");
    let base = format!("/projects/{}/jobs/{bridge}", s.r.project_id);
    let dev = Some(s.r.developer.token.as_str());
    let played = json_of(s.app.post_json(&format!("{base}/play"), dev, &json!({})), 200);
    assert_eq!((played["id"].as_i64(), played["name"].as_str()), (Some(bridge), Some("bridge")));
    assert!(played.get("downstream_pipeline").is_some(), "GitLab's Bridge entity: {played}");
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    let down_id = s.downstream_pipelines()[0]["id"].as_i64().unwrap();
    s.app.run_job(s.app.job_id(down_id, "build"), "failed");
    assert_eq!(s.bridges(up, "")[0]["status"], "failed");
    // Cancel is for builds only.
    assert_eq!(s.app.post_json(&format!("{base}/cancel"), dev, &json!({})).status().as_u16(), 404);
    let retried = json_of(s.app.post_json(&format!("{base}/retry"), dev, &json!({})), 201);
    let new_id = retried["id"].as_i64().unwrap();
    assert_ne!(new_id, bridge);
    // As for builds here, the retried manual job waits to be played again.
    assert_eq!(retried["status"], "manual");
    let new_base = format!("/projects/{}/jobs/{new_id}", s.r.project_id);
    assert_eq!(s.app.post_json(&format!("{new_base}/play"), dev, &json!({})).status().as_u16(), 200);
    assert_eq!(s.settled_bridge(up, "bridge"), "running");
    assert_eq!(s.downstream_pipelines().len(), 2, "the retried bridge created a new downstream pipeline");
    let listed = s.bridges(up, "");
    assert_eq!(listed.len(), 1, "the latest bridge only");
    assert_eq!(listed[0]["id"], new_id);
}

#[test]
fn a_bridge_expands_variables_in_its_project_and_branch() {
    let s = setup();
    let yaml = concat!(
        "variables: { DOWN: downstream }\n",
        "bridge:\n  trigger:\n    project: $CI_PROJECT_NAMESPACE/${DOWN}\n    branch: $CI_COMMIT_REF_NAME\n",
    );
    let up = s.upstream_pipeline(yaml, json!([]));
    assert_eq!(s.settled_bridge(up, "bridge"), "success");
    let down = s.downstream_pipelines();
    assert_eq!(down.len(), 1);
    assert_eq!(down[0]["ref"], "main");
}

#[test]
fn a_pending_bridge_written_while_nobody_ticked_is_picked_up_on_the_interval() {
    let s = setup_with(|c| c.runners.sweep_interval_secs = 1, |r| &r.developer);
    // Straight into the database, as rows left by a server that stopped: no tick.
    let up = s.app.seed_ci_pipeline(s.r.project_id, &s.r.developer, &bridge_to("owner/downstream", ""));
    assert_eq!(s.settled_bridge(up, "bridge"), "success");
    assert_eq!(s.downstream_pipelines().len(), 1);
}

#[test]
fn a_bridge_of_a_pipeline_whose_user_is_no_longer_developer_upstream_fails() {
    let s = setup_with(|c| c.runners.sweep_interval_secs = 1, |r| &r.reporter);
    // The reporter of owner/demo is a Developer downstream, but may not update owner/demo's pipelines.
    let up = s.app.seed_ci_pipeline(s.r.project_id, &s.r.reporter, &bridge_to("owner/downstream", ""));
    assert_eq!(s.settled_bridge(up, "bridge"), "failed");
    assert_eq!(s.failure_reason(up, "bridge").as_deref(), Some("insufficient_bridge_permissions"));
}
