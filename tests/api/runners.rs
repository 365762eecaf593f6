//! Runners: registration with a project's registration token (`POST /runners`), `POST
//! /user/runners`, the runner's own token calls (`POST /runners/verify`, `DELETE /runners`,
//! `DELETE /runners/managers`), the people's Runners API (`GET /runners`, `GET /runners/all`,
//! `GET /projects/:id/runners`, `GET|PUT|DELETE /runners/:id`) and
//! `POST /projects/:id/runners/reset_registration_token`. Every token is shown once and stored
//! only as a digest.

use crate::helpers::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn reset_path(project_id: i64) -> String {
    format!("/projects/{project_id}/runners/reset_registration_token")
}

/// Resets the project's registration token as `token`'s user and returns the new token.
fn registration_token(app: &TestApp, project_id: i64, token: &str) -> String {
    let body = json_of(app.post_json(&reset_path(project_id), Some(token), &json!({})), 201);
    assert_eq!(body["token_expires_at"], Value::Null);
    body["token"].as_str().unwrap().to_string()
}

/// Registers a runner with a registration token (JSON body); returns `(id, glrt token)`.
fn register(app: &TestApp, reg: &str, extra: Value) -> (i64, String) {
    let mut body = json!({"token": reg, "description": "ci box"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let out = json_of(app.post_json("/runners", None, &body), 201);
    (out["id"].as_i64().unwrap(), out["token"].as_str().unwrap().to_string())
}

/// Creates a runner through `POST /user/runners`; returns the response.
fn create_user_runner(app: &TestApp, token: &str, body: Value) -> Response {
    app.post_json("/user/runners", Some(token), &body)
}

/// A project runner of `r`'s project created by its maintainer; returns `(id, token)`.
fn project_runner(app: &TestApp, r: &Roles, extra: Value) -> (i64, String) {
    let mut body = json!({"runner_type": "project_type", "project_id": r.project_id, "description": "proj"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let out = json_of(create_user_runner(app, &r.maintainer.token, body), 201);
    (out["id"].as_i64().unwrap(), out["token"].as_str().unwrap().to_string())
}

/// An instance runner created by root; returns `(id, token)`.
fn instance_runner(app: &TestApp) -> (i64, String) {
    let out = json_of(
        create_user_runner(app, ROOT_TOKEN, json!({"runner_type": "instance_type", "description": "shared"})),
        201,
    );
    (out["id"].as_i64().unwrap(), out["token"].as_str().unwrap().to_string())
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array().unwrap().iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

fn verify(app: &TestApp, token: &str) -> Response {
    app.post_json("/runners/verify", None, &json!({"token": token}))
}

fn delete_with_token(app: &TestApp, path: &str, body: Value) -> Response {
    app.request(Method::DELETE, path, None).json(&body).send().unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The database file and its WAL, as bytes.
fn database_bytes(app: &TestApp) -> Vec<Vec<u8>> {
    let mut files = vec![std::fs::read(&app.db_path).unwrap()];
    if let Ok(bytes) = std::fs::read(app.db_path.with_extension("db-wal")) {
        files.push(bytes);
    }
    files
}

// ---------------------------------------------------------------------------------------------
// Registration tokens

#[test]
fn a_maintainer_resets_the_registration_token_and_sees_it_once() {
    let app = spawn_app();
    let r = app.roles();
    let first = registration_token(&app, r.project_id, &r.maintainer.token);
    assert!(first.starts_with("GR1348941") && first.len() == 29, "{first}");
    let second = registration_token(&app, r.project_id, &r.owner.token);
    assert_ne!(first, second);
    // The project JSON never shows it.
    let project = json_of(app.get(&format!("/projects/{}", r.project_id), Some(&r.owner.token)), 200);
    assert!(project.get("runners_token").is_none_or(Value::is_null), "{project}");
    // The old token no longer registers; the new one does.
    assert_error(
        app.post_json("/runners", None, &json!({"token": first})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    register(&app, &second, json!({}));
}

#[test]
fn resetting_the_registration_token_needs_maintainer() {
    let app = spawn_app();
    let r = app.roles();
    for user in [&r.developer, &r.reporter, &r.guest] {
        assert_error(
            app.post_json(&reset_path(r.project_id), Some(&user.token), &json!({})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_error(
        app.post_json(&reset_path(r.project_id), Some(&r.non_member.token), &json!({})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_error(
        app.post_json(&reset_path(r.project_id), None, &json!({})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(
        app.post_json(&reset_path(999), Some(ROOT_TOKEN), &json!({})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    registration_token(&app, r.project_id, &r.admin.token);
    assert_eq!(app.count("project_runner_registration_tokens"), 1);
}

#[test]
fn a_new_project_has_no_registration_token_until_it_is_reset() {
    let app = spawn_app();
    let _r = app.roles();
    assert_eq!(app.count("project_runner_registration_tokens"), 0);
}

// ---------------------------------------------------------------------------------------------
// POST /runners (legacy registration)

#[test]
fn registering_with_a_registration_token_creates_a_project_runner_with_a_glrt_token() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let body = json_of(
        app.post_json(
            "/runners",
            None,
            &json!({"token": reg, "description": "box", "tag_list": "docker, linux", "run_untagged": false,
                    "locked": true, "access_level": "ref_protected", "maximum_timeout": 3600,
                    "maintenance_note": "in the rack", "info": {"name": "gitlab-runner", "version": "17.0.0",
                    "revision": "abc", "platform": "linux", "architecture": "amd64"}}),
        ),
        201,
    );
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "token", "token_expires_at"]);
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("glrt-") && token.len() >= 25, "{token}");
    assert_eq!(body["token_expires_at"], Value::Null);

    let id = body["id"].as_i64().unwrap();
    let details = json_of(app.get(&format!("/runners/{id}"), Some(&r.maintainer.token)), 200);
    assert_eq!(details["description"], "box");
    assert_eq!(details["runner_type"], "project_type");
    assert_eq!(details["is_shared"], false);
    assert_eq!(details["tag_list"], json!(["docker", "linux"]));
    assert_eq!(details["run_untagged"], false);
    assert_eq!(details["locked"], true);
    assert_eq!(details["access_level"], "ref_protected");
    assert_eq!(details["maximum_timeout"], 3600);
    assert_eq!(details["maintenance_note"], "in the rack");
    assert_eq!(details["name"], "gitlab-runner");
    assert_eq!(details["version"], "17.0.0");
    assert_eq!(details["architecture"], "amd64");
    assert_eq!(details["status"], "never_contacted");
    assert_eq!(details["online"], false);
    assert_eq!(details["projects"][0]["id"], r.project_id);
    assert_eq!(details["projects"][0]["path_with_namespace"], "owner/demo");
    assert!(details.get("token").is_none(), "the token is never shown again: {details}");
    assert!(!details.to_string().contains(token));
}

#[test]
fn gitlab_python_runner_registers_with_a_form_body_and_repeated_tags() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let resp = app
        .client
        .post(app.api("/runners"))
        .form(&[
            ("token", reg.as_str()),
            ("description", "py"),
            ("run_untagged", "False"),
            ("tag_list", "t1"),
            ("tag_list", "t2"),
        ])
        .send()
        .unwrap();
    let body = json_of(resp, 201);
    let id = body["id"].as_i64().unwrap();
    let details = json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
    assert_eq!(details["tag_list"], json!(["t1", "t2"]));
    assert_eq!(details["run_untagged"], false);
}

#[test]
fn gitlab_runner_api_registers_at_the_trailing_slash_with_a_comma_joined_tag_list() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let body =
        json_of(app.post_json("/runners/", None, &json!({"token": reg, "tag_list": "a,b", "info": {}})), 201);
    let id = body["id"].as_i64().unwrap();
    let details = json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
    assert_eq!(details["tag_list"], json!(["a", "b"]));
    assert_eq!(details["run_untagged"], true);
    assert_eq!(details["description"], Value::Null);
}

#[test]
fn registering_with_a_wrong_or_missing_token_is_refused_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    registration_token(&app, r.project_id, &r.maintainer.token);
    for token in ["GR1348941nottherighttoken00", "", "glpat-roottokenroottokenroot"] {
        assert_error(
            app.post_json("/runners", None, &json!({"token": token})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_error(app.post_json("/runners", None, &json!({})), 400, "error", json!("token is missing"));
    // A personal access token is not a registration token, even in the header.
    assert_error(
        app.post_json("/runners", Some(ROOT_TOKEN), &json!({"token": ROOT_TOKEN})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(app.count("runners"), 0);
}

#[test]
fn registration_validates_attributes_like_gitlab() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let post = |extra: Value| {
        let mut body = json!({"token": reg});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        app.post_json("/runners", None, &body)
    };
    assert_error(
        post(json!({"active": true, "paused": false})),
        400,
        "error",
        json!("active, paused are mutually exclusive"),
    );
    assert_error(
        post(json!({"access_level": "everyone"})),
        400,
        "error",
        json!("access_level does not have a valid value"),
    );
    assert_error(post(json!({"maximum_timeout": "soon"})), 400, "error", json!("maximum_timeout is invalid"));
    assert_error(post(json!({"info": "linux"})), 400, "error", json!("info is invalid"));
    assert_error(
        post(json!({"maximum_timeout": 60})),
        400,
        "message",
        json!({"maximum_timeout": ["needs to be at least 10 minutes"]}),
    );
    assert_error(
        post(json!({"run_untagged": false})),
        400,
        "message",
        json!({"tags_list": ["can not be empty when runner is not allowed to pick untagged jobs"]}),
    );
    let too_many: Vec<String> = (0..51).map(|i| format!("t{i}")).collect();
    assert_error(
        post(json!({"tag_list": too_many})),
        400,
        "message",
        json!({"tags_list": ["Too many tags specified. Please limit the number of tags to 50"]}),
    );
    assert_error(
        post(json!({"tag_list": ["x".repeat(256)]})),
        400,
        "message",
        json!({"tag_list": ["is too long (maximum is 255 characters)"]}),
    );
    assert_error(
        post(json!({"description": "d".repeat(1025)})),
        400,
        "message",
        json!({"description": ["is too long (maximum is 1024 characters)"]}),
    );
    assert_eq!(app.count("runners"), 0);
    // At the limits it works; duplicate and blank tags are dropped.
    let fifty: Vec<String> = (0..50).map(|i| format!("t{i}")).chain(["t0".into(), " ".into()]).collect();
    let (id, _) = register(&app, &reg, json!({"tag_list": fifty, "description": "d".repeat(1024)}));
    let details = json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
    assert_eq!(details["tag_list"].as_array().unwrap().len(), 50);
}

#[test]
fn paused_and_the_deprecated_active_both_set_the_runners_state() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let (a, _) = register(&app, &reg, json!({"paused": true}));
    let (b, _) = register(&app, &reg, json!({"active": false}));
    let (c, _) = register(&app, &reg, json!({}));
    for (id, paused) in [(a, true), (b, true), (c, false)] {
        let d = json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
        assert_eq!(d["paused"], paused);
        assert_eq!(d["active"], !paused);
    }
}

// ---------------------------------------------------------------------------------------------
// POST /user/runners

#[test]
fn a_maintainer_creates_a_project_runner_and_an_admin_an_instance_runner() {
    let app = spawn_app();
    let r = app.roles();
    for user in [&r.maintainer, &r.owner, &r.admin] {
        let body = json_of(
            create_user_runner(
                &app,
                &user.token,
                json!({"runner_type": "project_type", "project_id": r.project_id, "tag_list": ["x"]}),
            ),
            201,
        );
        assert!(body["token"].as_str().unwrap().starts_with("glrt-"));
        assert_eq!(body["token_expires_at"], Value::Null);
    }
    let (id, _) = instance_runner(&app);
    let d = json_of(app.get(&format!("/runners/{id}"), Some(&r.guest.token)), 200);
    assert_eq!(d["runner_type"], "instance_type");
    assert_eq!(d["is_shared"], true);
    assert_eq!(d["created_by"]["username"], "root");
    assert_eq!(d["projects"], json!([]));
    assert_eq!(app.count("runners"), 4);
}

#[test]
fn creating_runners_needs_the_right_role() {
    let app = spawn_app();
    let r = app.roles();
    let project = json!({"runner_type": "project_type", "project_id": r.project_id});
    for user in [&r.developer, &r.reporter, &r.guest, &r.non_member] {
        assert_error(
            create_user_runner(&app, &user.token, project.clone()),
            403,
            "message",
            json!("403 Forbidden - Insufficient permissions"),
        );
    }
    for user in [&r.owner, &r.maintainer] {
        assert_error(
            create_user_runner(&app, &user.token, json!({"runner_type": "instance_type"})),
            403,
            "message",
            json!("403 Forbidden - Insufficient permissions"),
        );
    }
    assert_error(create_user_runner(&app, "", project.clone()), 401, "message", json!("401 Unauthorized"));
    assert_error(app.post_json("/user/runners", None, &project), 401, "message", json!("401 Unauthorized"));
    assert_eq!(app.count("runners"), 0);
}

#[test]
fn creating_a_runner_with_a_bad_type_or_scope_is_a_400() {
    let app = spawn_app();
    let r = app.roles();
    let t = r.maintainer.token.as_str();
    assert_error(create_user_runner(&app, t, json!({})), 400, "error", json!("runner_type is missing"));
    assert_error(
        create_user_runner(&app, t, json!({"runner_type": "everywhere"})),
        400,
        "error",
        json!("runner_type does not have a valid value"),
    );
    for body in [
        json!({"runner_type": "project_type"}),
        json!({"runner_type": "project_type", "project_id": 999}),
        json!({"runner_type": "group_type", "group_id": 1}),
    ] {
        assert_error(
            create_user_runner(&app, t, body),
            400,
            "message",
            json!("400 Bad request - Missing/invalid scope"),
        );
    }
    assert_error(
        create_user_runner(&app, t, json!({"runner_type": "project_type", "project_id": "demo"})),
        400,
        "error",
        json!("project_id is invalid"),
    );
    assert_eq!(app.count("runners"), 0);
}

#[test]
fn a_read_api_token_cannot_create_a_runner() {
    let app = spawn_app();
    let r = app.roles();
    let read_only = app.seed_token(r.maintainer.id, &["read_api"], None);
    let resp = create_user_runner(
        &app,
        &read_only,
        json!({"runner_type": "project_type", "project_id": r.project_id}),
    );
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(app.count("runners"), 0);
}

// ---------------------------------------------------------------------------------------------
// The runner's own calls

#[test]
fn verify_answers_200_with_the_runner_and_records_the_contact() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({}));
    let before = json_of(app.get(&format!("/runners/{id}"), Some(&r.maintainer.token)), 200);
    assert_eq!(before["contacted_at"], Value::Null);

    let body = json_of(
        app.post_json(
            "/runners/verify",
            None,
            &json!({"token": token, "system_id": "s_0123456789ab", "info": {"version": "19.4.0"}}),
        ),
        200,
    );
    assert_eq!(body, json!({"id": id, "token": token, "token_expires_at": null}));
    let after = json_of(app.get(&format!("/runners/{id}"), Some(&r.maintainer.token)), 200);
    assert!(after["contacted_at"].is_string());
    assert_eq!(after["online"], true);
    assert_eq!(after["status"], "online");
    assert_eq!(after["version"], "19.4.0");
}

#[test]
fn verify_refuses_unknown_tokens_with_403() {
    let app = spawn_app();
    let r = app.roles();
    let (_, token) = project_runner(&app, &r, json!({}));
    for bad in [format!("{token}x"), "glrt-nope".into(), ROOT_TOKEN.into(), String::new()] {
        assert_error(verify(&app, &bad), 403, "message", json!("403 Forbidden"));
    }
    assert_error(app.post_json("/runners/verify", None, &json!({})), 400, "error", json!("token is missing"));
    // A form body works too.
    let resp = app.client.post(app.api("/runners/verify")).form(&[("token", token.as_str())]).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
}

#[test]
fn a_paused_runner_still_verifies() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({"paused": true}));
    assert_eq!(json_of(verify(&app, &token), 200)["id"], id);
    let d = json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
    assert_eq!(d["status"], "paused");
}

#[test]
fn a_runner_deletes_itself_with_its_token() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({}));
    let (other, _) = project_runner(&app, &r, json!({}));
    assert_error(
        delete_with_token(&app, "/runners", json!({"token": "glrt-wrong"})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(delete_with_token(&app, "/runners", json!({})), 400, "error", json!("token is missing"));
    // gitlab-python-runner sends it form-encoded.
    let resp = app.client.delete(app.api("/runners")).form(&[("token", token.as_str())]).send().unwrap();
    assert_eq!(resp.status().as_u16(), 204);
    assert_error(
        app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(verify(&app, &token), 403, "message", json!("403 Forbidden"));
    assert_error(
        delete_with_token(&app, "/runners", json!({"token": token})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    json_of(app.get(&format!("/runners/{other}"), Some(ROOT_TOKEN)), 200);
}

#[test]
fn deleting_a_runner_manager_needs_a_valid_token_and_a_system_id() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({}));
    let resp = delete_with_token(&app, "/runners/managers", json!({"token": token, "system_id": "s_1"}));
    assert_eq!(resp.status().as_u16(), 204);
    assert_error(
        delete_with_token(&app, "/runners/managers", json!({"token": "glrt-x", "system_id": "s_1"})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(
        delete_with_token(&app, "/runners/managers", json!({})),
        400,
        "error",
        json!("token is missing, system_id is missing"),
    );
    // The runner itself stays.
    json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200);
}

// ---------------------------------------------------------------------------------------------
// Listing

#[test]
fn get_runners_lists_runners_of_projects_the_caller_maintains() {
    let app = spawn_app();
    let r = app.roles();
    let (mine, _) = project_runner(&app, &r, json!({}));
    let (_shared, _) = instance_runner(&app);
    // Another project's runner.
    let other = app.create_user("other");
    let other_project = app.create_project(&other, "elsewhere", "private");
    let theirs = json_of(
        create_user_runner(
            &app,
            &other.token,
            json!({"runner_type": "project_type", "project_id": other_project}),
        ),
        201,
    )["id"]
        .as_i64()
        .unwrap();

    for user in [&r.maintainer, &r.owner] {
        let resp = app.get("/runners", Some(&user.token));
        assert_eq!(resp.headers()["x-total"], "1");
        let body = json_of(resp, 200);
        assert_eq!(ids(&body), [mine]);
        let item = &body[0];
        let keys: Vec<&String> = item.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "description",
                "ip_address",
                "active",
                "paused",
                "is_shared",
                "runner_type",
                "name",
                "online",
                "created_by",
                "created_at",
                "status"
            ]
        );
    }
    for user in [&r.developer, &r.guest, &r.non_member] {
        assert_eq!(json_of(app.get("/runners", Some(&user.token)), 200), json!([]));
    }
    assert_eq!(ids(&json_of(app.get("/runners", Some(&other.token)), 200)), [theirs]);
    assert_error(app.get("/runners", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn get_runners_all_is_for_admins_and_filters_by_type_status_paused_and_tags() {
    let app = spawn_app();
    let r = app.roles();
    let (a, token_a) = project_runner(&app, &r, json!({"tag_list": ["linux", "docker"]}));
    let (b, _) = project_runner(&app, &r, json!({"tag_list": "linux", "paused": true}));
    let (shared, _) = instance_runner(&app);
    json_of(verify(&app, &token_a), 200);

    assert_error(app.get("/runners/all", Some(&r.maintainer.token)), 403, "message", json!("403 Forbidden"));
    assert_error(app.get("/runners/all", None), 401, "message", json!("401 Unauthorized"));
    let all = |q: &str| ids(&json_of(app.get(&format!("/runners/all{q}"), Some(ROOT_TOKEN)), 200));
    assert_eq!(all(""), [a, b, shared]);
    assert_eq!(all("?type=instance_type"), [shared]);
    assert_eq!(all("?type=project_type"), [a, b]);
    assert_eq!(all("?scope=shared"), [shared]);
    assert_eq!(all("?scope=specific"), [a, b]);
    assert_eq!(all("?paused=true"), [b]);
    assert_eq!(all("?paused=false"), [a, shared]);
    assert_eq!(all("?status=online"), [a]);
    assert_eq!(all("?status=never_contacted"), [b, shared]);
    assert_eq!(all("?status=offline"), Vec::<i64>::new());
    assert_eq!(all("?status=stale"), Vec::<i64>::new());
    assert_eq!(all("?status=paused"), [b]);
    assert_eq!(all("?tag_list=linux"), [a, b]);
    assert_eq!(all("?tag_list=linux,docker"), [a]);
    assert_eq!(all("?tag_list[]=docker&tag_list[]=linux"), [a]);
    assert_eq!(all("?tag_list=gpu"), Vec::<i64>::new());
    assert_eq!(all("?type=project_type&paused=false&tag_list=docker"), [a]);
    assert_eq!(all("?per_page=1&page=2"), [b]);

    assert_error(
        app.get("/runners/all?type=cloud", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("type does not have a valid value"),
    );
    assert_error(
        app.get("/runners/all?status=busy", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("status does not have a valid value"),
    );
    assert_error(
        app.get("/runners/all?scope=mine", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("scope does not have a valid value"),
    );
    assert_error(
        app.get("/runners/all?paused=maybe", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("paused is invalid"),
    );
    // GET /runners accepts only status scopes.
    assert_error(
        app.get("/runners?scope=shared", Some(&r.maintainer.token)),
        400,
        "message",
        json!("Scope contains invalid value"),
    );
    assert_eq!(ids(&json_of(app.get("/runners?scope=paused", Some(&r.maintainer.token)), 200)), [b]);
}

#[test]
fn offline_and_stale_runners_are_told_apart_by_their_last_contact() {
    let app = spawn_app();
    let r = app.roles();
    let (offline, _) = project_runner(&app, &r, json!({}));
    let (stale, _) = project_runner(&app, &r, json!({}));
    let (paused_offline, _) = project_runner(&app, &r, json!({"paused": true}));
    let db = app.db();
    db.execute(
        "UPDATE runners SET contacted_at = '2020-01-01T00:00:00.000Z' WHERE id IN (?1, ?2)",
        [offline, paused_offline],
    )
    .unwrap();
    // Contacted three hours ago: offline, not stale.
    let three_hours_ago =
        triggerd::model::format_ts(time::OffsetDateTime::now_utc() - time::Duration::hours(3));
    db.execute(
        "UPDATE runners SET contacted_at = ?2 WHERE id = ?1",
        rusqlite::params![offline, three_hours_ago],
    )
    .unwrap();
    db.execute(
        "UPDATE runners SET created_at = '2020-01-01T00:00:00.000Z', contacted_at = '2020-01-02T00:00:00.000Z'
         WHERE id = ?1",
        [stale],
    )
    .unwrap();
    let status =
        |id: i64| json_of(app.get(&format!("/runners/{id}"), Some(ROOT_TOKEN)), 200)["status"].clone();
    assert_eq!(status(offline), "offline");
    assert_eq!(status(stale), "stale");
    let list = |q: &str| ids(&json_of(app.get(&format!("/runners/all?status={q}"), Some(ROOT_TOKEN)), 200));
    assert_eq!(list("offline"), [offline, stale, paused_offline]);
    assert_eq!(list("stale"), [stale]);
    assert_eq!(list("online"), Vec::<i64>::new());
}

#[test]
fn a_projects_runners_include_instance_runners_and_need_maintainer() {
    let app = spawn_app();
    let r = app.roles();
    let (mine, _) = project_runner(&app, &r, json!({}));
    let (shared, _) = instance_runner(&app);
    let other = app.create_user("other");
    let other_project = app.create_project(&other, "elsewhere", "private");
    json_of(
        create_user_runner(
            &app,
            &other.token,
            json!({"runner_type": "project_type", "project_id": other_project}),
        ),
        201,
    );
    let path = format!("/projects/{}/runners", r.project_id);
    for user in [&r.maintainer, &r.owner, &r.admin] {
        assert_eq!(ids(&json_of(app.get(&path, Some(&user.token)), 200)), [mine, shared]);
    }
    assert_eq!(
        ids(&json_of(app.get("/projects/owner%2Fdemo/runners", Some(&r.owner.token)), 200)),
        [mine, shared]
    );
    assert_eq!(
        ids(&json_of(app.get(&format!("{path}?type=project_type"), Some(&r.owner.token)), 200)),
        [mine]
    );
    for user in [&r.developer, &r.reporter, &r.guest] {
        assert_error(app.get(&path, Some(&user.token)), 403, "message", json!("403 Forbidden"));
    }
    assert_error(app.get(&path, Some(&r.non_member.token)), 404, "message", json!("404 Project Not Found"));
    assert_error(app.get(&path, None), 401, "message", json!("401 Unauthorized"));
}

// ---------------------------------------------------------------------------------------------
// GET|PUT|DELETE /runners/:id

#[test]
fn a_project_runner_is_visible_to_its_projects_maintainers_and_admins_only() {
    let app = spawn_app();
    let r = app.roles();
    let (id, _) = project_runner(&app, &r, json!({"maintenance_note": "secret note"}));
    let path = format!("/runners/{id}");
    for user in [&r.maintainer, &r.owner, &r.admin] {
        let d = json_of(app.get(&path, Some(&user.token)), 200);
        assert_eq!(d["id"], id);
        assert_eq!(d["maintenance_note"], "secret note");
        assert_eq!(d["projects"][0]["id"], r.project_id);
    }
    for user in [&r.developer, &r.reporter, &r.guest, &r.non_member] {
        assert_error(
            app.get(&path, Some(&user.token)),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
    }
    assert_error(app.get(&path, None), 401, "message", json!("401 Unauthorized"));
    assert_error(app.get("/runners/999", Some(ROOT_TOKEN)), 404, "message", json!("404 Not found"));
    assert_error(app.get("/runners/abc", Some(ROOT_TOKEN)), 400, "error", json!("id is invalid"));
}

#[test]
fn an_instance_runner_is_readable_by_everyone_signed_in_but_changed_by_admins_only() {
    let app = spawn_app();
    let r = app.roles();
    let (id, _) = instance_runner(&app);
    let path = format!("/runners/{id}");
    let d = json_of(app.get(&path, Some(&r.non_member.token)), 200);
    assert_eq!(d["maintenance_note"], Value::Null);
    for user in [&r.owner, &r.maintainer, &r.non_member] {
        assert_error(
            app.put_json(&path, Some(&user.token), &json!({"description": "mine now"})),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
        assert_error(
            app.delete(&path, Some(&user.token)),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
    }
    let d = json_of(app.put_json(&path, Some(&r.admin.token), &json!({"description": "renamed"})), 200);
    assert_eq!(d["description"], "renamed");
    assert_eq!(app.delete(&path, Some(&r.admin.token)).status().as_u16(), 204);
    assert_eq!(app.count("runners"), 0);
}

#[test]
fn a_maintainer_updates_pause_description_tags_and_the_rest() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({"tag_list": ["a"]}));
    let path = format!("/runners/{id}");
    let d = json_of(
        app.put_json(
            &path,
            Some(&r.maintainer.token),
            &json!({"description": "new", "paused": true, "tag_list": "b, c", "run_untagged": false,
                    "locked": true, "access_level": "ref_protected", "maximum_timeout": 7200,
                    "maintenance_note": "n"}),
        ),
        200,
    );
    assert_eq!(d["description"], "new");
    assert_eq!(d["paused"], true);
    assert_eq!(d["active"], false);
    assert_eq!(d["tag_list"], json!(["b", "c"]));
    assert_eq!(d["run_untagged"], false);
    assert_eq!(d["locked"], true);
    assert_eq!(d["access_level"], "ref_protected");
    assert_eq!(d["maximum_timeout"], 7200);
    assert_eq!(d["maintenance_note"], "n");
    // Only what is sent changes; `active` is the deprecated inverse of `paused`.
    let d = json_of(app.put_json(&path, Some(&r.owner.token), &json!({"active": true})), 200);
    assert_eq!(d["paused"], false);
    assert_eq!(d["description"], "new");
    assert_eq!(d["tag_list"], json!(["b", "c"]));
    // The token still works after an update.
    json_of(verify(&app, &token), 200);
}

#[test]
fn updating_a_runner_validates_like_gitlab_and_changes_nothing_on_error() {
    let app = spawn_app();
    let r = app.roles();
    let (id, _) = project_runner(&app, &r, json!({"description": "keep"}));
    let path = format!("/runners/{id}");
    let t = Some(r.maintainer.token.as_str());
    assert_error(
        app.put_json(&path, t, &json!({})),
        400,
        "error",
        json!(
            "description, active, paused, tag_list, run_untagged, locked, access_level, maximum_timeout, \
               maintenance_note are missing, at least one parameter must be provided"
        ),
    );
    assert_error(
        app.put_json(&path, t, &json!({"active": true, "paused": true})),
        400,
        "error",
        json!("active, paused are mutually exclusive"),
    );
    assert_error(
        app.put_json(&path, t, &json!({"access_level": "x"})),
        400,
        "error",
        json!("access_level does not have a valid value"),
    );
    assert_error(
        app.put_json(&path, t, &json!({"run_untagged": false})),
        400,
        "message",
        json!({"tags_list": ["can not be empty when runner is not allowed to pick untagged jobs"]}),
    );
    let huge: Vec<String> = (0..1000).map(|i| format!("tag{i}")).collect();
    assert_error(
        app.put_json(&path, t, &json!({"tag_list": huge, "description": "changed"})),
        400,
        "message",
        json!({"tags_list": ["Too many tags specified. Please limit the number of tags to 50"]}),
    );
    assert_error(
        app.put_json(&path, t, &json!({"description": "x".repeat(5000)})),
        400,
        "message",
        json!({"description": ["is too long (maximum is 1024 characters)"]}),
    );
    assert_error(
        app.put_json("/runners/999", t, &json!({"description": "x"})),
        404,
        "message",
        json!("404 Not found"),
    );
    let d = json_of(app.get(&path, t), 200);
    assert_eq!(d["description"], "keep");
    assert_eq!(d["tag_list"], json!([]));
}

#[test]
fn only_maintainers_of_its_project_and_admins_update_or_delete_a_project_runner() {
    let app = spawn_app();
    let r = app.roles();
    let (id, _) = project_runner(&app, &r, json!({}));
    let path = format!("/runners/{id}");
    let other = app.create_user("other");
    app.create_project(&other, "elsewhere", "private");
    for user in [&r.developer, &r.reporter, &r.guest, &r.non_member, &other] {
        assert_error(
            app.put_json(&path, Some(&user.token), &json!({"paused": true})),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
        assert_error(
            app.delete(&path, Some(&user.token)),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
    }
    assert_error(
        app.put_json(&path, None, &json!({"paused": true})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(app.delete(&path, None), 401, "message", json!("401 Unauthorized"));
    assert_eq!(json_of(app.get(&path, Some(ROOT_TOKEN)), 200)["paused"], false);
    assert_eq!(app.delete(&path, Some(&r.maintainer.token)).status().as_u16(), 204);
    assert_error(app.delete(&path, Some(&r.maintainer.token)), 404, "message", json!("404 Not found"));
    let (second, _) = project_runner(&app, &r, json!({}));
    assert!(second > id, "ids are never reused");
    assert_eq!(app.delete(&format!("/runners/{second}"), Some(&r.admin.token)).status().as_u16(), 204);
}

#[test]
fn deleting_a_project_deletes_its_runners_and_registration_token() {
    let app = spawn_app();
    let r = app.roles();
    registration_token(&app, r.project_id, &r.maintainer.token);
    let (_, token) = project_runner(&app, &r, json!({"tag_list": ["a"]}));
    let (shared, _) = instance_runner(&app);
    assert_eq!(
        app.delete(&format!("/projects/{}", r.project_id), Some(&r.owner.token)).status().as_u16(),
        202
    );
    // Deletion may be asynchronous; wait for the project to go.
    for _ in 0..50 {
        if app.count("projects") == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(app.count("runner_projects"), 0);
    assert_eq!(app.count("runner_tags"), 0);
    assert_eq!(app.count("project_runner_registration_tokens"), 0);
    assert_error(verify(&app, &token), 403, "message", json!("403 Forbidden"));
    assert_eq!(ids(&json_of(app.get("/runners/all", Some(ROOT_TOKEN)), 200)), [shared]);
}

// ---------------------------------------------------------------------------------------------
// Secrets at rest

#[test]
fn runner_and_registration_tokens_are_never_stored_in_plaintext() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let (_, legacy) = register(&app, &reg, json!({}));
    let (_, created) = project_runner(&app, &r, json!({}));
    let (_, shared) = instance_runner(&app);
    // A checkpoint-free read: the WAL holds the latest pages.
    for token in [&reg, &legacy, &created, &shared] {
        let secret = token.trim_start_matches("glrt-").trim_start_matches("GR1348941");
        for bytes in database_bytes(&app) {
            assert!(!contains(&bytes, token.as_bytes()), "a token is stored in plaintext");
            assert!(!contains(&bytes, secret.as_bytes()), "a token's secret part is stored in plaintext");
        }
    }
    for token in [&legacy, &created, &shared] {
        let (digest, short): (Vec<u8>, String) = app
            .db()
            .query_row(
                "SELECT token_digest, short_token FROM runners WHERE token_digest = ?1",
                [triggerd::auth::digest(token)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!(digest.len(), 32);
        assert_eq!(short, &token[5..13]);
    }
}

#[test]
fn runner_listings_and_details_never_carry_a_token() {
    let app = spawn_app();
    let r = app.roles();
    let (id, token) = project_runner(&app, &r, json!({}));
    for path in [
        "/runners".to_string(),
        "/runners/all".into(),
        format!("/runners/{id}"),
        format!("/projects/{}/runners", r.project_id),
    ] {
        let text = app.get(&path, Some(ROOT_TOKEN)).text().unwrap();
        let text_owner = app.get(&path, Some(&r.owner.token)).text().unwrap();
        for t in [&text, &text_owner] {
            assert!(!t.contains(&token) && !t.contains(&token[5..]), "{path}: {t}");
            assert!(!t.contains("\"token\""), "{path}: {t}");
        }
    }
}

#[test]
fn runner_routes_answer_unsupported_methods_with_a_json_405() {
    let app = spawn_app();
    let resp = app.request(Method::PATCH, "/runners/verify", None).send().unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    let resp = app.request(Method::GET, "/user/runners", Some(ROOT_TOKEN)).send().unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

// ---------------------------------------------------------------------------------------------
// Resetting a runner's authentication token

#[test]
fn a_runner_resets_its_own_token_and_the_old_one_stops_working() {
    let app = spawn_app();
    let r = app.roles();
    let (id, old) = project_runner(&app, &r, json!({}));
    let body =
        json_of(app.post_json("/runners/reset_authentication_token", None, &json!({"token": old})), 201);
    let new = body["token"].as_str().unwrap();
    assert!(new.starts_with("glrt-") && new != old);
    assert_eq!(body["token_expires_at"], Value::Null);
    assert_error(verify(&app, &old), 403, "message", json!("403 Forbidden"));
    assert_eq!(json_of(verify(&app, new), 200)["id"], id);
    assert_error(
        app.post_json("/runners/reset_authentication_token", None, &json!({"token": old})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(
        app.post_json("/runners/reset_authentication_token", None, &json!({})),
        400,
        "error",
        json!("token is missing"),
    );
}

#[test]
fn a_maintainer_resets_a_project_runners_token_by_id() {
    let app = spawn_app();
    let r = app.roles();
    let (id, old) = project_runner(&app, &r, json!({}));
    let path = format!("/runners/{id}/reset_authentication_token");
    for user in [&r.developer, &r.non_member] {
        assert_error(
            app.post_json(&path, Some(&user.token), &json!({})),
            403,
            "message",
            json!("403 Forbidden - No access granted"),
        );
    }
    assert_error(app.post_json(&path, None, &json!({})), 401, "message", json!("401 Unauthorized"));
    assert_error(
        app.post_json("/runners/999/reset_authentication_token", Some(ROOT_TOKEN), &json!({})),
        404,
        "message",
        json!("404 Not found"),
    );
    json_of(verify(&app, &old), 200);
    let body = json_of(app.post_json(&path, Some(&r.maintainer.token), &json!({})), 201);
    let new = body["token"].as_str().unwrap();
    assert_error(verify(&app, &old), 403, "message", json!("403 Forbidden"));
    assert_eq!(json_of(verify(&app, new), 200)["id"], id);
    for bytes in database_bytes(&app) {
        assert!(!contains(&bytes, new.as_bytes()));
    }
}

#[test]
fn a_registration_token_registers_runners_only_for_its_own_project() {
    let app = spawn_app();
    let r = app.roles();
    let other = app.create_user("other");
    let other_project = app.create_project(&other, "elsewhere", "private");
    let reg_mine = registration_token(&app, r.project_id, &r.maintainer.token);
    let reg_theirs = registration_token(&app, other_project, &other.token);
    let (mine, _) = register(&app, &reg_mine, json!({}));
    let (theirs, _) = register(&app, &reg_theirs, json!({}));
    assert_eq!(ids(&json_of(app.get("/runners", Some(&r.maintainer.token)), 200)), [mine]);
    assert_eq!(ids(&json_of(app.get("/runners", Some(&other.token)), 200)), [theirs]);
    let d = json_of(app.get(&format!("/runners/{theirs}"), Some(&other.token)), 200);
    assert_eq!(d["projects"][0]["id"], other_project);
    // Neither maintainer reaches the other's runner, by any route.
    assert_error(
        app.get(&format!("/runners/{theirs}"), Some(&r.maintainer.token)),
        403,
        "message",
        json!("403 Forbidden - No access granted"),
    );
    assert_error(
        app.get(&format!("/projects/{other_project}/runners"), Some(&r.maintainer.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    // A maintainer cannot reset another project's registration token either.
    assert_error(
        app.post_json(&reset_path(other_project), Some(&r.maintainer.token), &json!({})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    register(&app, &reg_theirs, json!({}));
}

#[test]
fn a_body_full_of_repeated_tags_is_bounded_and_answered_quickly() {
    let app = spawn_app();
    let r = app.roles();
    let reg = registration_token(&app, r.project_id, &r.maintainer.token);
    let post = |tags: String| {
        let started = std::time::Instant::now();
        let resp = app
            .client
            .post(app.api("/runners"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={reg}{tags}"))
            .send()
            .unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "took {:?}", started.elapsed());
        resp
    };
    // Within the parameter limit: 998 distinct tags are too many, one tag 998 times is one tag.
    let distinct: String = (0..998).map(|i| format!("&tag_list=t{i}")).collect();
    assert_error(
        post(distinct),
        400,
        "message",
        json!({"tags_list": ["Too many tags specified. Please limit the number of tags to 50"]}),
    );
    assert_eq!(post("&tag_list=t".repeat(998)).status().as_u16(), 201);
    // Past it, the parser refuses before anything else runs.
    assert_eq!(post("&tag_list=t".repeat(50_000)).status().as_u16(), 400);
    assert_eq!(app.count("runners"), 1);
}
