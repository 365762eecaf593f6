//! Pipeline trigger tokens on Settings › CI/CD over HTTP: the token shown once, revoke with
//! confirmation, the edit form (description and the token's policy, checked by the API's rules)
//! and Rotate with a grace period.

use serde_json::json;

use crate::helpers::*;
use crate::web_support::*;

#[test]
fn a_new_trigger_token_is_shown_once_and_a_replayed_form_mints_and_shows_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let settings = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(settings.contains("No trigger tokens have been created yet."));
    let form = [
        ("_csrf", hidden(&settings, "_csrf")),
        ("nonce", hidden(&settings, "nonce")),
        ("description", "nightly".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = b.post("/owner/demo/-/triggers", &pairs);
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    let tokens = tokens_in(&html);
    assert_eq!(tokens.len(), 1, "exactly one token on the page");
    let token = &tokens[0];
    assert!(html.contains("will not be shown again"));
    assert!(html.contains(&format!("--form token={token}")));
    assert!(html.contains(&format!("/api/v4/projects/{}/trigger/pipeline", r.project_id)));
    assert!(html.contains("$TRIGGER_TOKEN"), "the CI snippet uses a variable, not the token");

    let replay = b.post("/owner/demo/-/triggers", &pairs);
    assert_eq!(replay.status(), 409);
    let replay = replay.text().unwrap();
    assert!(replay.contains("This token was already created; it cannot be shown again."));
    assert!(tokens_in(&replay).is_empty());
    assert_eq!(app.count("triggers"), 1);

    let list = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(tokens_in(&list).is_empty(), "the list never shows a full token");
    assert!(list.contains(&format!("{}…", &token[6..10])));
    assert!(list.contains("nightly"));
    // The token works for the API's trigger call.
    add_ci_config(&app, &r);
    let resp = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
}

#[test]
fn a_blank_description_re_renders_the_form_with_the_error_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let (status, html) = create_token(&b, "owner/demo", "   ");
    assert_eq!(status, 422);
    assert!(html.contains("Description can&#39;t be blank.") || html.contains("Description can't be blank."));
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn revoking_asks_on_a_page_first_then_deletes_and_the_token_stops_working() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "deploy");
    let b = Browser::sign_in(&app, &r.maintainer);
    let csrf = b.csrf("/owner/demo/-/settings/ci_cd");
    let path = format!("/owner/demo/-/triggers/{}/revoke", trigger.id);
    let ask = b.post(&path, &[("_csrf", &csrf), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Revoke trigger token"));
    assert_eq!(app.count("triggers"), 1);
    let done = b.post(&path, &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    let back = location(&done);
    assert!(back.starts_with("/owner/demo/-/settings/ci_cd?flash=trigger_removed"));
    assert!(b.page(&back, 200).contains("Trigger removed."));
    assert_eq!(app.count("triggers"), 0);
    let resp = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn only_a_triggers_owner_may_edit_its_description_and_another_maintainer_gets_404() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "old words");
    let edit = format!("/owner/demo/-/triggers/{}/edit", trigger.id);
    let owner = Browser::sign_in(&app, &r.maintainer);
    assert!(owner.page("/owner/demo/-/settings/ci_cd", 200).contains(&edit));
    let csrf = hidden(&owner.page(&edit, 200), "_csrf");
    let blank = owner.post(&edit, &[("_csrf", &csrf), ("description", " ")]);
    assert_eq!(blank.status(), 422);
    let done = owner.post(&edit, &[("_csrf", &csrf), ("description", "new words")]);
    assert_eq!(done.status(), 303);
    let list = owner.page(&location(&done), 200);
    assert!(list.contains("Trigger was successfully updated.") && list.contains("new words"));

    let other = Browser::sign_in(&app, &r.owner);
    assert!(!other.page("/owner/demo/-/settings/ci_cd", 200).contains(&edit), "no Edit link for a non-owner");
    assert_eq!(other.get(&edit).status(), 404);
    let csrf = other.csrf("/owner/demo/-/settings/ci_cd");
    assert_eq!(other.post(&edit, &[("_csrf", &csrf), ("description", "hijacked")]).status(), 404);
    let api = json_of(
        app.get(&format!("/projects/{}/triggers/{}", r.project_id, trigger.id), Some(&r.maintainer.token)),
        200,
    );
    assert_eq!(api["description"], "new words");
}

/// Posts the edit form of `trigger` with these fields (after the form token).
fn post_edit(b: &Browser, trigger: i64, fields: &[(&str, &str)]) -> reqwest::blocking::Response {
    let edit = format!("/owner/demo/-/triggers/{trigger}/edit");
    let csrf = b.csrf(&edit);
    let mut form = vec![("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post(&edit, &form)
}

/// A trigger call with `token` on `main` and these variables; returns the status.
fn trigger_call(app: &TestApp, project_id: i64, token: &str, variables: &[(&str, &str)]) -> u16 {
    let mut form: Vec<(String, String)> = vec![("token".into(), token.into()), ("ref".into(), "main".into())];
    form.extend(variables.iter().map(|(k, v)| (format!("variables[{k}]"), v.to_string())));
    app.client
        .post(app.api(&format!("/projects/{project_id}/trigger/pipeline")))
        .form(&form)
        .send()
        .unwrap()
        .status()
        .as_u16()
}

#[test]
fn the_edit_form_saves_a_policy_that_the_trigger_call_then_enforces() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "deploy");
    let b = Browser::sign_in(&app, &r.maintainer);
    let done = post_edit(
        &b,
        trigger.id,
        &[
            ("description", "deploy"),
            ("allowed_refs", "main\r\nrelease/*"),
            ("allowed_variables", "VERSION\nDEPLOY_*"),
            ("required_variables", "VERSION"),
            ("max_variable_value_bytes", "8"),
        ],
    );
    assert_eq!(done.status(), 303);
    let api = json_of(
        app.get(&format!("/projects/{}/triggers/{}", r.project_id, trigger.id), Some(&r.maintainer.token)),
        200,
    );
    assert_eq!(api["allowed_refs"], json!(["main", "release/*"]));
    assert_eq!(api["allowed_variables"], json!(["VERSION", "DEPLOY_*"]));
    assert_eq!(api["required_variables"], json!(["VERSION"]));
    assert_eq!(api["max_variable_value_bytes"], 8);
    let form = b.page(&format!("/owner/demo/-/triggers/{}/edit", trigger.id), 200);
    assert!(form.contains("main\nrelease/*") && form.contains("value=\"8\""));

    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[]), 400, "VERSION is required");
    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[("VERSION", "123456789")]), 400);
    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[("VERSION", "1.2")]), 201);

    // Blank fields remove the policy again.
    let cleared = post_edit(
        &b,
        trigger.id,
        &[
            ("description", "deploy"),
            ("allowed_refs", ""),
            ("allowed_variables", " "),
            ("required_variables", ""),
            ("max_variable_value_bytes", ""),
        ],
    );
    assert_eq!(cleared.status(), 303);
    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[]), 201);
}

#[test]
fn a_policy_the_api_refuses_re_renders_the_form_with_its_message_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "deploy");
    let b = Browser::sign_in(&app, &r.maintainer);
    let many = (0..101).map(|i| format!("r{i}")).collect::<Vec<_>>().join("\n");
    for (field, value, message) in [
        ("required_variables", "OTHER", "OTHER is not matched by allowed_variables"),
        ("allowed_refs", "bad~ref", "contains a character a ref name cannot have"),
        ("allowed_variables", "NO-DASH", "may contain only letters"),
        ("allowed_refs", many.as_str(), "must not have more than 100 entries"),
        ("max_variable_value_bytes", "0", "max_variable_value_bytes must be an integer"),
        ("max_variable_value_bytes", "lots", "max_variable_value_bytes must be an integer"),
    ] {
        let mut fields = vec![("description", "deploy"), ("allowed_variables", "VERSION")];
        fields.retain(|(k, _)| *k != field);
        fields.push((field, value));
        let resp = post_edit(&b, trigger.id, &fields);
        assert_eq!(resp.status(), 422, "{field}={value}");
        let html = resp.text().unwrap();
        assert!(html.contains(message), "{field}={value}: {message}");
        assert!(html.contains("role=\"alert\""));
    }
    assert_eq!(app.count("trigger_policies"), 0);
}

#[test]
fn rotating_asks_first_shows_the_new_token_once_and_the_old_one_works_through_the_grace_period() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "deploy");
    let b = Browser::sign_in(&app, &r.maintainer);
    let rotate = format!("/owner/demo/-/triggers/{}/rotate", trigger.id);
    let edit = b.page(&format!("/owner/demo/-/triggers/{}/edit", trigger.id), 200);
    let (csrf, nonce) = (hidden(&edit, "_csrf"), hidden(&edit, "nonce"));
    let ask =
        b.post(&rotate, &[("_csrf", &csrf), ("nonce", &nonce), ("grace_period", "3600"), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Grace period for the current token: 1 hour."));
    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[]), 201, "asking rotates nothing");

    let form = [("_csrf", csrf.as_str()), ("nonce", &nonce), ("grace_period", "3600"), ("confirm", "1")];
    let resp = b.post(&rotate, &form);
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    assert!(html.contains("The previous token keeps working for 1 hour."));
    let tokens = tokens_in(&html);
    assert_eq!(tokens.len(), 1);
    let new = &tokens[0];
    assert_ne!(new, &trigger.token);
    assert_eq!(trigger_call(&app, r.project_id, new, &[]), 201);
    assert_eq!(
        trigger_call(&app, r.project_id, &trigger.token, &[]),
        201,
        "the old token in its grace period"
    );

    let replay = b.post(&rotate, &form);
    assert_eq!(replay.status(), 409);
    assert!(tokens_in(&replay.text().unwrap()).is_empty());
    assert_eq!(trigger_call(&app, r.project_id, new, &[]), 201, "the replay rotated nothing");

    // Without a grace period the current token stops at once.
    let edit = b.page(&format!("/owner/demo/-/triggers/{}/edit", trigger.id), 200);
    let nonce = hidden(&edit, "nonce");
    let resp =
        b.post(&rotate, &[("_csrf", &csrf), ("nonce", &nonce), ("grace_period", "0"), ("confirm", "1")]);
    assert_eq!(resp.status(), 201);
    let newest = tokens_in(&resp.text().unwrap()).remove(0);
    assert_eq!(trigger_call(&app, r.project_id, new, &[]), 404);
    assert_eq!(trigger_call(&app, r.project_id, &newest, &[]), 201);
}

#[test]
fn only_the_owner_rotates_and_a_grace_period_outside_the_offered_ones_is_refused() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "deploy");
    let rotate = format!("/owner/demo/-/triggers/{}/rotate", trigger.id);
    let other = Browser::sign_in(&app, &r.owner);
    let csrf = other.csrf("/owner/demo/-/settings/ci_cd");
    let resp = other.post(&rotate, &[("_csrf", &csrf), ("nonce", "n1"), ("confirm", "1")]);
    assert_eq!(resp.status(), 404);
    let owner = Browser::sign_in(&app, &r.maintainer);
    let csrf = owner.csrf("/owner/demo/-/settings/ci_cd");
    for grace in ["5", "-1", "x", "99999999999"] {
        let resp = owner
            .post(&rotate, &[("_csrf", &csrf), ("nonce", "n2"), ("grace_period", grace), ("confirm", "1")]);
        assert_eq!(resp.status(), 400, "{grace}");
    }
    assert_eq!(owner.post(&rotate, &[("_csrf", &csrf), ("confirm", "1")]).status(), 400, "no nonce");
    assert_eq!(trigger_call(&app, r.project_id, &trigger.token, &[]), 201, "nothing rotated");
}
