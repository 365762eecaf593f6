//! Settings › CI/CD › Runners over HTTP: the project's and the instance runners with their
//! status, Pause/Resume through the API's rules, and a new registration token shown once.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::web_support::*;

const SETTINGS: &str = "/owner/demo/-/settings/ci_cd";
const RESET: &str = "/owner/demo/-/settings/ci_cd/reset_registration_token";

/// A runner created with `POST /user/runners` by `token`'s user; returns its id.
fn create_runner(app: &TestApp, token: &str, body: Value) -> i64 {
    json_of(app.post_json("/user/runners", Some(token), &body), 201)["id"].as_i64().unwrap()
}

fn paused_in_api(app: &TestApp, id: i64) -> bool {
    json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200)["paused"].as_bool().unwrap()
}

/// The registration form's nonce on the settings page (the trigger form has its own).
fn runner_nonce(html: &str) -> String {
    let form = &html[html.find("reset_registration_token\"").expect("the registration form")..];
    hidden(form, "nonce")
}

fn register_with(app: &TestApp, registration_token: &str) -> u16 {
    app.post_json("/runners", None, &json!({"token": registration_token, "description": "from the page"}))
        .status()
        .as_u16()
}

#[test]
fn a_maintainer_sees_project_and_instance_runners_and_pauses_and_resumes_one() {
    let app = spawn_app();
    let r = app.roles();
    let project_runner = create_runner(
        &app,
        &r.maintainer.token,
        json!({"runner_type": "project_type", "project_id": r.project_id, "description": "build box", "tag_list": "linux,docker"}),
    );
    let shared =
        create_runner(&app, ROOT_TOKEN, json!({"runner_type": "instance_type", "description": "shared"}));
    let b = Browser::sign_in(&app, &r.maintainer);
    let html = b.page(SETTINGS, 200);
    assert!(html.contains("Project runners (1)") && html.contains("Instance runners (1)"));
    assert!(html.contains(&format!("#{project_runner}")) && html.contains("build box"));
    assert!(html.contains("linux, docker") && html.contains("never contacted"));
    assert!(html.contains(&format!("/owner/demo/-/runners/{project_runner}/pause")));
    assert!(
        !html.contains(&format!("/owner/demo/-/runners/{shared}/pause")),
        "instance runners are for admins"
    );

    let csrf = hidden(&html, "_csrf");
    let resp = b.post(&format!("/owner/demo/-/runners/{project_runner}/pause"), &[("_csrf", &csrf)]);
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), format!("{SETTINGS}?flash=runner_paused#js-runners-settings"));
    assert!(paused_in_api(&app, project_runner));
    let html = b.page(&location(&resp), 200);
    assert!(
        html.contains("Runner was paused.")
            && html.contains(&format!("/owner/demo/-/runners/{project_runner}/resume"))
    );

    let resp = b.post(&format!("/owner/demo/-/runners/{project_runner}/resume"), &[("_csrf", &csrf)]);
    assert_eq!(resp.status(), 303);
    assert!(!paused_in_api(&app, project_runner));
    // The instance runner is the admin's to pause, as in the API.
    let resp = b.post(&format!("/owner/demo/-/runners/{shared}/pause"), &[("_csrf", &csrf)]);
    assert_eq!(resp.status(), 404);
    assert!(!paused_in_api(&app, shared));
}

#[test]
fn a_new_registration_token_is_asked_for_then_shown_once_and_a_replay_resets_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let html = b.page(SETTINGS, 200);
    let (csrf, nonce) = (hidden(&html, "_csrf"), runner_nonce(&html));
    let ask = b.post(RESET, &[("_csrf", &csrf), ("nonce", &nonce), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Reset the runner registration token?"));
    assert_eq!(app.count("project_runner_registration_tokens"), 0, "asking changes nothing");

    let form = [("_csrf", csrf.as_str()), ("nonce", nonce.as_str()), ("confirm", "1")];
    let resp = b.post(RESET, &form);
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    let start = html.find("GR1348941").expect("the token on the page");
    let token = html[start..start + 29].to_string();
    assert!(html.contains("gitlab-runner register") && html.contains("--registration-token &#34;GR1348941"));
    assert_eq!(register_with(&app, &token), 201);

    let replay = b.post(RESET, &form);
    assert_eq!(replay.status(), 409);
    assert!(!replay.text().unwrap().contains("GR1348941"));
    assert_eq!(register_with(&app, &token), 201, "the replay did not reset the token");
    let html = b.page(SETTINGS, 200);
    assert!(html.contains("Project runners (2)"));
}

#[test]
fn developers_other_projects_runners_and_bad_ids_get_404_and_change_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let runner = create_runner(
        &app,
        &r.maintainer.token,
        json!({"runner_type": "project_type", "project_id": r.project_id}),
    );
    let dev = Browser::sign_in(&app, &r.developer);
    let csrf = dev.csrf("/owner/demo/-/pipelines");
    assert_eq!(dev.post(&format!("/owner/demo/-/runners/{runner}/pause"), &[("_csrf", &csrf)]).status(), 404);
    assert_eq!(dev.post(RESET, &[("_csrf", &csrf), ("nonce", "n"), ("confirm", "1")]).status(), 404);
    assert!(!paused_in_api(&app, runner));
    assert_eq!(app.count("project_runner_registration_tokens"), 0);

    // A runner of another project the same maintainer maintains is not this project's.
    let other =
        json_of(app.post_json("/projects", Some(&r.maintainer.token), &json!({"name": "other"})), 201);
    let foreign = create_runner(
        &app,
        &r.maintainer.token,
        json!({"runner_type": "project_type", "project_id": other["id"].as_i64().unwrap()}),
    );
    let b = Browser::sign_in(&app, &r.maintainer);
    let csrf = b.csrf(SETTINGS);
    assert_eq!(b.post(&format!("/owner/demo/-/runners/{foreign}/pause"), &[("_csrf", &csrf)]).status(), 404);
    assert!(!paused_in_api(&app, foreign));
    for path in ["/owner/demo/-/runners/x/pause", "/owner/demo/-/runners/999999/pause"] {
        assert_eq!(b.post(path, &[("_csrf", &csrf)]).status(), 404, "{path}");
    }
    assert_eq!(b.post(&format!("/owner/demo/-/runners/{runner}/delete"), &[("_csrf", &csrf)]).status(), 404);
    assert_eq!(b.post(RESET, &[("_csrf", &csrf), ("confirm", "1")]).status(), 400, "no nonce");
    assert!(!paused_in_api(&app, runner));
}
