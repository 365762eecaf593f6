//! Projects API: create, create for a user, list, get, update, delete.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

fn project_count(app: &TestApp) -> i64 {
    app.count("projects")
}

fn ids(body: &Value) -> Vec<i64> {
    body.as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

fn paths(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|p| p["path_with_namespace"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------- POST /projects

#[test]
fn create_project_returns_201_with_gitlab_fields_and_makes_the_caller_owner() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(
        app.post_json(
            "/projects",
            Some(&alice.token),
            &json!({"name": "Demo", "path": "demo", "description": "d"}),
        ),
        201,
    );
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["name"], "Demo");
    assert_eq!(body["path"], "demo");
    assert_eq!(body["description"], "d");
    assert_eq!(body["path_with_namespace"], "alice/demo");
    assert_eq!(body["name_with_namespace"], "alice / Demo");
    assert_eq!(body["visibility"], "private");
    assert_eq!(body["default_branch"], "main");
    assert_eq!(body["empty_repo"], true);
    assert_eq!(body["archived"], false);
    assert_eq!(body["web_url"], format!("{}/alice/demo", app.address));
    assert_eq!(body["http_url_to_repo"], format!("{}/alice/demo.git", app.address));
    assert_eq!(body["ssh_url_to_repo"], "git@127.0.0.1:alice/demo.git");
    assert_eq!(body["tag_list"], json!([]));
    assert_eq!(body["topics"], json!([]));
    assert_eq!(body["readme_url"], Value::Null);
    assert_eq!(body["avatar_url"], Value::Null);
    assert_eq!(body["forks_count"], 0);
    assert_eq!(body["star_count"], 0);
    assert_eq!(body["open_issues_count"], 0);
    assert_eq!(body["jobs_enabled"], true);
    assert_eq!(body["builds_access_level"], "enabled");
    assert_eq!(body["ci_config_path"], Value::Null);
    assert_eq!(body["creator_id"], alice.id);
    assert_eq!(body["last_activity_at"], body["updated_at"]);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        body["namespace"],
        json!({
            "id": alice.id, "name": "alice", "path": "alice", "kind": "user", "full_path": "alice",
            "parent_id": null, "avatar_url": null, "web_url": format!("{}/alice", app.address)
        })
    );
    assert_eq!(body["owner"]["id"], alice.id);
    assert_eq!(body["owner"]["username"], "alice");
    assert_eq!(
        body["permissions"],
        json!({"project_access": {"access_level": 50, "notification_level": 3}, "group_access": null})
    );
    let level: i64 = app
        .db()
        .query_row(
            "SELECT access_level FROM members WHERE project_id = ?1 AND user_id = ?2",
            [id, alice.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(level, OWNER);
    assert_eq!(app.count("refs"), 0);
}

#[test]
fn create_project_derives_the_name_from_the_path() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(app.post_json("/projects", Some(&alice.token), &json!({"path": "my-repo"})), 201);
    assert_eq!(body["name"], "my-repo");
    assert_eq!(body["path"], "my-repo");
}

#[test]
fn create_project_derives_the_path_from_the_name() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(app.post_json("/projects", Some(&alice.token), &json!({"name": "My Project"})), 201);
    assert_eq!(body["name"], "My Project");
    assert_eq!(body["path"], "my-project");
    // A name that is already a valid path is used as it is.
    let body = json_of(app.post_json("/projects", Some(&alice.token), &json!({"name": "Tools"})), 201);
    assert_eq!(body["path"], "Tools");
}

#[test]
fn create_project_accepts_a_form_encoded_body() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let resp = app
        .request(Method::POST, "/projects", Some(&alice.token))
        .form(&[("path", "formed"), ("visibility", "public")])
        .send()
        .unwrap();
    let body = json_of(resp, 201);
    assert_eq!(body["path"], "formed");
    assert_eq!(body["visibility"], "public");
}

#[test]
fn create_project_without_name_or_path_returns_400_and_changes_nothing() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let before = project_count(&app);
    assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"description": "x"})),
        400,
        "error",
        json!("name, path are missing, at least one parameter must be provided"),
    );
    assert_eq!(project_count(&app), before);
}

#[test]
fn create_project_with_an_invalid_visibility_returns_400() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"path": "x", "visibility": "secret"})),
        400,
        "error",
        json!("visibility does not have a valid value"),
    );
    assert_eq!(project_count(&app), 0);
}

#[test]
fn create_project_with_an_invalid_path_returns_a_validation_error() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    const FORMAT: &str = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'";
    const SPECIAL: &str =
        "must not start or end with a special character and must not contain consecutive special characters.";
    let cases: [(&str, &[&str]); 7] = [
        ("-demo", &[FORMAT, SPECIAL]),
        (".demo", &[SPECIAL]),
        ("demo.git", &[FORMAT]),
        ("demo.atom", &[FORMAT]),
        ("has space", &[FORMAT]),
        ("a/b", &[FORMAT]),
        ("ünï", &[FORMAT]),
    ];
    for (bad, messages) in cases {
        let body = assert_error(
            app.post_json("/projects", Some(&alice.token), &json!({"name": "Fine", "path": bad})),
            400,
            "message",
            json!({"path": messages}),
        );
        assert!(body["message"]["name"].is_null(), "{bad}: {body}");
    }
    assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"path": "a--b"})),
        400,
        "message",
        json!({"path": ["must not start or end with a special character and must not contain consecutive special characters."]}),
    );
    assert_eq!(project_count(&app), 0);
    assert_eq!(app.count("members"), 0);
}

#[test]
fn create_project_with_an_invalid_name_returns_a_validation_error() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"name": "-bad/name", "path": "ok"})),
        400,
        "message",
        json!({"name": [
            "can contain only letters, digits, emoji, '_', '.', '+', dashes, or spaces. It must start with a letter, digit, emoji, or '_'."
        ]}),
    );
    assert_eq!(project_count(&app), 0);
}

#[test]
fn create_project_with_an_invalid_default_branch_returns_400() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"path": "x", "default_branch": "a..b"})),
        400,
        "message",
        json!({"default_branch": ["is invalid"]}),
    );
    assert_eq!(project_count(&app), 0);
}

#[test]
fn create_project_with_a_duplicate_path_reports_the_path_as_taken() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    json_of(app.post_json("/projects", Some(&alice.token), &json!({"name": "One", "path": "demo"})), 201);
    // Paths compare case-insensitively.
    for path in ["demo", "DEMO"] {
        assert_error(
            app.post_json("/projects", Some(&alice.token), &json!({"name": "Two", "path": path})),
            400,
            "message",
            json!({"path": ["has already been taken"]}),
        );
    }
    assert_eq!(project_count(&app), 1);
    assert_eq!(app.count("members"), 1);
}

#[test]
fn create_project_with_a_duplicate_name_and_path_reports_both() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    json_of(app.post_json("/projects", Some(&alice.token), &json!({"path": "demo"})), 201);
    let body = assert_error(
        app.post_json("/projects", Some(&alice.token), &json!({"path": "demo"})),
        400,
        "message",
        json!({"name": ["has already been taken"], "path": ["has already been taken"]}),
    );
    // GitLab lists `name` before `path`.
    let keys: Vec<&String> = body["message"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["name", "path"]);
    assert_eq!(project_count(&app), 1);
}

#[test]
fn the_same_path_in_another_namespace_is_allowed() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    json_of(app.post_json("/projects", Some(&alice.token), &json!({"path": "demo"})), 201);
    let body = json_of(app.post_json("/projects", Some(&bob.token), &json!({"path": "demo"})), 201);
    assert_eq!(body["path_with_namespace"], "bob/demo");
}

#[test]
fn initialize_with_readme_creates_the_default_branch() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = json_of(
        app.post_json("/projects", Some(&alice.token), &json!({"path": "a", "initialize_with_readme": true})),
        201,
    );
    assert_eq!(body["empty_repo"], false);
    assert_eq!(body["default_branch"], "main");
    let body = json_of(
        app.post_json(
            "/projects",
            Some(&alice.token),
            &json!({"path": "b", "initialize_with_readme": "true", "default_branch": "develop"}),
        ),
        201,
    );
    assert_eq!(body["default_branch"], "develop");
    let rows: Vec<(i64, String, String, String)> = app
        .db()
        .prepare("SELECT project_id, kind, name, sha FROM refs ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].1.as_str(), rows[0].2.as_str()), ("branch", "main"));
    assert_eq!(
        (rows[1].0, rows[1].1.as_str(), rows[1].2.as_str()),
        (body["id"].as_i64().unwrap(), "branch", "develop")
    );
    for (_, _, _, sha) in &rows {
        assert_eq!(sha.len(), 40);
        assert!(sha.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
    assert_ne!(rows[0].3, rows[1].3);
}

#[test]
fn create_project_needs_authentication_and_the_api_scope() {
    let app = spawn_app();
    assert_error(
        app.post_json("/projects", None, &json!({"path": "x"})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    let reader = app.seed_user("reader", false, &["read_api"]);
    assert_error(
        app.post_json("/projects", Some(&reader.token), &json!({"path": "x"})),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(project_count(&app), 0);
}

// ---------------------------------------------------------------- POST /projects/user/:user_id

#[test]
fn an_admin_creates_a_project_for_a_user_who_becomes_its_owner() {
    let app = spawn_app();
    let bob = app.create_user("bob");
    let body = json_of(
        app.post_json(
            &format!("/projects/user/{}", bob.id),
            Some(ROOT_TOKEN),
            &json!({"name": "Bobs", "path": "bobs"}),
        ),
        201,
    );
    assert_eq!(body["path_with_namespace"], "bob/bobs");
    assert_eq!(body["owner"]["username"], "bob");
    assert_eq!(body["creator_id"], bob.id);
    assert_eq!(body["namespace"]["id"], bob.id);
    // The admin is not a member.
    assert_eq!(body["permissions"]["project_access"], Value::Null);
    let pid = body["id"].as_i64().unwrap();
    let members: Vec<(i64, i64)> = app
        .db()
        .prepare("SELECT user_id, access_level FROM members WHERE project_id = ?1")
        .unwrap()
        .query_map([pid], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(members, vec![(bob.id, OWNER)]);
    // Bob sees it as its owner.
    let seen = json_of(app.get(&format!("/projects/{pid}"), Some(&bob.token)), 200);
    assert_eq!(seen["permissions"]["project_access"]["access_level"], 50);
}

#[test]
fn create_project_for_a_user_is_refused_to_non_admins_and_unknown_users() {
    let app = spawn_app();
    let bob = app.create_user("bob");
    let path = format!("/projects/user/{}", bob.id);
    assert_error(
        app.post_json(&path, None, &json!({"path": "x"})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(
        app.post_json(&path, Some(&bob.token), &json!({"path": "x"})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(
        app.post_json("/projects/user/9999", Some(ROOT_TOKEN), &json!({"path": "x"})),
        404,
        "message",
        json!("404 User Not Found"),
    );
    assert_error(
        app.post_json("/projects/user/abc", Some(ROOT_TOKEN), &json!({"path": "x"})),
        400,
        "error",
        json!("user_id is invalid"),
    );
    assert_error(
        app.post_json(&path, Some(ROOT_TOKEN), &json!({})),
        400,
        "error",
        json!("name, path are missing, at least one parameter must be provided"),
    );
    assert_eq!(project_count(&app), 0);
}

#[test]
fn create_project_for_a_user_reports_a_path_taken_in_that_namespace() {
    let app = spawn_app();
    let bob = app.create_user("bob");
    app.create_project(&bob, "demo", "private");
    assert_error(
        app.post_json(
            &format!("/projects/user/{}", bob.id),
            Some(ROOT_TOKEN),
            &json!({"name": "Other", "path": "demo"}),
        ),
        400,
        "message",
        json!({"path": ["has already been taken"]}),
    );
    assert_eq!(project_count(&app), 1);
}

// ---------------------------------------------------------------- GET /projects

/// private `owner/priv`, internal `owner/int`, public `owner/pub`, private `other/mine`
/// (with `member` a Developer of it).
struct Fixture {
    owner: TestUser,
    other: TestUser,
    member: TestUser,
    stranger: TestUser,
    private: i64,
    internal: i64,
    public: i64,
    others: i64,
}

fn fixture(app: &TestApp) -> Fixture {
    let owner = app.create_user("owner");
    let other = app.create_user("other");
    let member = app.create_user("member");
    let stranger = app.create_user("stranger");
    let private = app.create_project(&owner, "priv", "private");
    let internal = app.create_project(&owner, "int", "internal");
    let public = app.create_project(&owner, "pub", "public");
    let others = app.create_project(&other, "mine", "private");
    app.add_member(others, &member, DEVELOPER);
    Fixture { owner, other, member, stranger, private, internal, public, others }
}

#[test]
fn anonymous_callers_list_only_public_projects() {
    let app = spawn_app();
    let f = fixture(&app);
    let resp = app.get("/projects", None);
    assert_eq!(resp.headers()["x-total"], "1");
    let body = json_of(resp, 200);
    assert_eq!(ids(&body), vec![f.public]);
    assert!(body[0].get("permissions").is_none(), "anonymous callers get no permissions: {body}");
}

#[test]
fn signed_in_users_list_public_internal_and_their_own_projects() {
    let app = spawn_app();
    let f = fixture(&app);
    let body = json_of(app.get("/projects", Some(&f.stranger.token)), 200);
    assert_eq!(ids(&body), vec![f.public, f.internal]);
    let body = json_of(app.get("/projects", Some(&f.member.token)), 200);
    assert_eq!(ids(&body), vec![f.others, f.public, f.internal]);
    assert_eq!(body[0]["permissions"]["project_access"]["access_level"], 30);
    assert_eq!(body[1]["permissions"]["project_access"], Value::Null);
    let body = json_of(app.get("/projects", Some(&f.owner.token)), 200);
    assert_eq!(ids(&body), vec![f.public, f.internal, f.private]);
}

#[test]
fn admins_list_every_project() {
    let app = spawn_app();
    let f = fixture(&app);
    let body = json_of(app.get("/projects", Some(ROOT_TOKEN)), 200);
    assert_eq!(ids(&body), vec![f.others, f.public, f.internal, f.private]);
}

#[test]
fn list_projects_filters_by_membership_owned_search_visibility_and_level() {
    let app = spawn_app();
    let f = fixture(&app);
    let get = |q: &str, token: Option<&str>| ids(&json_of(app.get(&format!("/projects?{q}"), token), 200));
    assert_eq!(get("membership=true", Some(&f.member.token)), vec![f.others]);
    assert_eq!(get("owned=true", Some(&f.owner.token)), vec![f.public, f.internal, f.private]);
    assert_eq!(get("owned=true", Some(&f.member.token)), Vec::<i64>::new());
    assert_eq!(get("owned=true", Some(&f.other.token)), vec![f.others]);
    assert_eq!(get("search=PU", Some(&f.owner.token)), vec![f.public]);
    assert_eq!(get("visibility=internal", Some(&f.owner.token)), vec![f.internal]);
    assert_eq!(get("min_access_level=40", Some(&f.member.token)), Vec::<i64>::new());
    assert_eq!(get("min_access_level=30", Some(&f.member.token)), vec![f.others]);
    assert_eq!(get("simple=true", Some(&f.stranger.token)), vec![f.public, f.internal]);
    assert_eq!(get("archived=true", Some(ROOT_TOKEN)), Vec::<i64>::new());
    // Admins filtered by membership see only their own memberships.
    assert_eq!(get("membership=true", Some(ROOT_TOKEN)), Vec::<i64>::new());
    // Membership filters mean nothing without a user: anonymous callers still see public ones.
    assert_eq!(get("membership=true", None), vec![f.public]);
    assert_error(
        app.get("/projects?visibility=secret", None),
        400,
        "error",
        json!("visibility does not have a valid value"),
    );
    assert_error(
        app.get("/projects?min_access_level=35", Some(&f.member.token)),
        400,
        "error",
        json!("min_access_level does not have a valid value"),
    );
}

#[test]
fn list_projects_orders_and_sorts() {
    let app = spawn_app();
    let f = fixture(&app);
    let get = |q: &str| paths(&json_of(app.get(&format!("/projects?{q}"), Some(ROOT_TOKEN)), 200));
    assert_eq!(get("order_by=name&sort=asc"), ["owner/int", "other/mine", "owner/priv", "owner/pub"]);
    assert_eq!(get("order_by=path&sort=desc"), ["owner/pub", "owner/priv", "other/mine", "owner/int"]);
    let by_id = ids(&json_of(app.get("/projects?order_by=id&sort=asc", Some(ROOT_TOKEN)), 200));
    assert_eq!(by_id, vec![f.private, f.internal, f.public, f.others]);
    json_of(app.get("/projects?order_by=updated_at", Some(ROOT_TOKEN)), 200);
    json_of(app.get("/projects?order_by=created_at&sort=desc", Some(ROOT_TOKEN)), 200);
    assert_error(
        app.get("/projects?order_by=stars", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("order_by does not have a valid value"),
    );
    assert_error(
        app.get("/projects?sort=up", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("sort does not have a valid value"),
    );
}

#[test]
fn list_projects_is_paginated_with_gitlab_headers() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    for p in ["a", "b", "c"] {
        app.create_project(&alice, p, "public");
    }
    let resp = app.get("/projects?per_page=2&search=", None);
    let h = resp.headers().clone();
    let body = json_of(resp, 200);
    assert_eq!(body.as_array().unwrap().len(), 2);
    assert_eq!(h["x-total"], "3");
    assert_eq!(h["x-total-pages"], "2");
    assert_eq!(h["x-page"], "1");
    assert_eq!(h["x-per-page"], "2");
    assert_eq!(h["x-next-page"], "2");
    assert_eq!(h["x-prev-page"], "");
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains(&format!("<{}/api/v4/projects?search=&page=2&per_page=2>; rel=\"next\"", app.address)),
        "{link}"
    );
    let resp = app.get("/projects?per_page=2&page=2", None);
    assert_eq!(resp.headers()["x-next-page"], "");
    let body = json_of(resp, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_error(app.get("/projects?page=0", None), 400, "error", json!("page does not have a valid value"));
}

// ---------------------------------------------------------------- GET /projects/:id

#[test]
fn get_project_by_id_or_path_for_each_role_of_a_private_project() {
    let app = spawn_app();
    let r = app.roles();
    let cases = [
        (&r.owner, Some(50)),
        (&r.maintainer, Some(40)),
        (&r.developer, Some(30)),
        (&r.reporter, Some(20)),
        (&r.guest, Some(10)),
        (&r.admin, None),
    ];
    for (user, level) in cases {
        for path in [format!("/projects/{}", r.project_id), "/projects/owner%2Fdemo".to_string()] {
            let body = json_of(app.get(&path, Some(&user.token)), 200);
            assert_eq!(body["id"], r.project_id);
            assert_eq!(body["path_with_namespace"], "owner/demo");
            assert_eq!(
                body["permissions"]["project_access"]["access_level"],
                json!(level),
                "{}",
                user.username
            );
        }
    }
    for path in [format!("/projects/{}", r.project_id), "/projects/owner%2Fdemo".to_string()] {
        assert_error(
            app.get(&path, Some(&r.non_member.token)),
            404,
            "message",
            json!("404 Project Not Found"),
        );
        assert_error(app.get(&path, None), 404, "message", json!("404 Project Not Found"));
    }
}

#[test]
fn get_project_path_lookup_is_case_insensitive() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(app.get("/projects/OWNER%2FDemo", Some(&r.owner.token)), 200);
    assert_eq!(body["id"], r.project_id);
}

#[test]
fn internal_projects_need_a_signed_in_user_and_public_ones_do_not() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let stranger = app.create_user("stranger");
    let internal = app.create_project(&alice, "int", "internal");
    let public = app.create_project(&alice, "pub", "public");
    assert_error(
        app.get(&format!("/projects/{internal}"), None),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    let body = json_of(app.get(&format!("/projects/{internal}"), Some(&stranger.token)), 200);
    assert_eq!(body["permissions"]["project_access"], Value::Null);
    let body = json_of(app.get(&format!("/projects/{public}"), None), 200);
    assert_eq!(body["visibility"], "public");
    assert!(body.get("permissions").is_none());
    json_of(app.get("/projects/alice%2Fpub", None), 200);
}

#[test]
fn get_project_returns_404_for_unknown_or_malformed_ids() {
    let app = spawn_app();
    for path in ["/projects/9999", "/projects/abc", "/projects/nobody%2Fnothing", "/projects/-1"] {
        assert_error(app.get(path, Some(ROOT_TOKEN)), 404, "message", json!("404 Project Not Found"));
    }
}

#[test]
fn get_project_shows_whether_the_repository_is_empty() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    assert_eq!(json_of(app.get(&path, Some(&r.owner.token)), 200)["empty_repo"], true);
    app.seed_ref(r.project_id, "tag", "v1");
    assert_eq!(json_of(app.get(&path, Some(&r.owner.token)), 200)["empty_repo"], false);
}

#[test]
fn an_unsupported_method_on_a_project_is_405() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::PATCH, &format!("/projects/{}", r.project_id), Some(&r.owner.token))
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

// ---------------------------------------------------------------- PUT /projects/:id

fn stored(app: &TestApp, id: i64) -> (String, String, Option<String>, String, Option<String>, String) {
    app.db()
        .query_row(
            "SELECT name, path, description, visibility, default_branch, updated_at FROM projects WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .unwrap()
}

#[test]
fn maintainers_update_a_projects_description_but_only_owners_and_admins_rename_it_or_change_its_visibility() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    let body = json_of(
        app.put_json(&path, Some(&r.maintainer.token), &json!({"description": "by maintainer"})),
        200,
    );
    assert_eq!(body["description"], "by maintainer");
    let before = stored(&app, r.project_id);
    for change in
        [json!({"visibility": "public"}), json!({"visibility": "private"}), json!({"name": "Renamed"})]
    {
        assert_error(
            app.put_json(&path, Some(&r.maintainer.token), &change),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_eq!(stored(&app, r.project_id), before, "a refused update changes nothing");
    for (i, user) in [&r.owner, &r.admin].into_iter().enumerate() {
        let name = format!("Renamed {i}");
        let body = json_of(
            app.put_json(
                &path,
                Some(&user.token),
                &json!({"name": name, "description": format!("by {}", user.username), "visibility": "internal"}),
            ),
            200,
        );
        assert_eq!(body["name"], name);
        assert_eq!(body["name_with_namespace"], format!("owner / {name}"));
        assert_eq!(body["description"], format!("by {}", user.username));
        assert_eq!(body["visibility"], "internal");
        assert_eq!(body["path"], "demo");
        let (n, p, d, v, _, _) = stored(&app, r.project_id);
        assert_eq!(
            (n.as_str(), p.as_str(), d.as_deref(), v.as_str()),
            (name.as_str(), "demo", body["description"].as_str(), "internal")
        );
    }
}

#[test]
fn update_project_is_refused_below_maintainer_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    let before = stored(&app, r.project_id);
    let change = json!({"name": "Hacked", "visibility": "public"});
    for user in [&r.developer, &r.reporter, &r.guest] {
        assert_error(app.put_json(&path, Some(&user.token), &change), 403, "message", json!("403 Forbidden"));
    }
    assert_error(
        app.put_json(&path, Some(&r.non_member.token), &change),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_error(app.put_json(&path, None, &change), 401, "message", json!("401 Unauthorized"));
    assert_eq!(stored(&app, r.project_id), before);
}

#[test]
fn update_project_with_an_empty_body_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    let before = stored(&app, r.project_id);
    let body = json_of(app.put_json(&path, Some(&r.owner.token), &json!({})), 200);
    assert_eq!(body["name"], "demo");
    assert_eq!(body["updated_at"], before.5.as_str());
    let resp = app.request(Method::PUT, &path, Some(&r.owner.token)).send().unwrap();
    json_of(resp, 200);
    assert_eq!(stored(&app, r.project_id), before);
}

#[test]
fn update_project_renames_the_path() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(
        app.put_json(
            &format!("/projects/{}", r.project_id),
            Some(&r.maintainer.token),
            &json!({"path": "renamed"}),
        ),
        200,
    );
    assert_eq!(body["path_with_namespace"], "owner/renamed");
    assert_eq!(body["web_url"], format!("{}/owner/renamed", app.address));
    json_of(app.get("/projects/owner%2Frenamed", Some(&r.owner.token)), 200);
    assert_error(
        app.get("/projects/owner%2Fdemo", Some(&r.owner.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}

#[test]
fn update_project_rejects_a_taken_or_invalid_path_and_bad_values() {
    let app = spawn_app();
    let r = app.roles();
    app.create_project(&r.owner, "other", "private");
    let path = format!("/projects/{}", r.project_id);
    let before = stored(&app, r.project_id);
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"path": "OTHER"})),
        400,
        "message",
        json!({"path": ["has already been taken"]}),
    );
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"name": "other"})),
        400,
        "message",
        json!({"name": ["has already been taken"]}),
    );
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"path": "bad path"})),
        400,
        "message",
        json!({"path": [
            "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', end in '.git' or end in '.atom'"
        ]}),
    );
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"name": ""})),
        400,
        "message",
        json!({"name": ["can't be blank"]}),
    );
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"visibility": "everyone"})),
        400,
        "error",
        json!("visibility does not have a valid value"),
    );
    assert_eq!(stored(&app, r.project_id), before);
}

#[test]
fn update_project_default_branch_must_exist_once_the_repository_has_refs() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    // Empty repository: any valid name is kept as the preference.
    let body = json_of(app.put_json(&path, Some(&r.owner.token), &json!({"default_branch": "trunk"})), 200);
    assert_eq!(body["default_branch"], "trunk");
    app.seed_ref(r.project_id, "branch", "trunk");
    app.seed_ref(r.project_id, "branch", "develop");
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"default_branch": "nope"})),
        400,
        "message",
        json!("Could not set the default branch. Do you have a branch named 'nope' in your repository?"),
    );
    let body = json_of(app.put_json(&path, Some(&r.owner.token), &json!({"default_branch": "develop"})), 200);
    assert_eq!(body["default_branch"], "develop");
}

// ---------------------------------------------------------------- DELETE /projects/:id

/// Rows in every table that point at the project.
fn rows_referencing(app: &TestApp, pid: i64) -> i64 {
    let db = app.db();
    let q = |sql: &str| db.query_row(sql, [pid], |r| r.get::<_, i64>(0)).unwrap();
    q("SELECT COUNT(*) FROM projects WHERE id = ?1")
        + q("SELECT COUNT(*) FROM members WHERE project_id = ?1")
        + q("SELECT COUNT(*) FROM refs WHERE project_id = ?1")
        + q("SELECT COUNT(*) FROM triggers WHERE project_id = ?1")
        + q("SELECT COUNT(*) FROM pipelines WHERE project_id = ?1")
        + q(
            "SELECT COUNT(*) FROM pipeline_variables WHERE pipeline_id IN (SELECT id FROM pipelines WHERE project_id = ?1)",
        )
}

fn seed_pipeline(app: &TestApp, pid: i64, trigger_id: i64, user_id: i64) {
    let db = app.db();
    db.execute(
        "INSERT INTO pipelines (project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source,
                                created_at, updated_at)
         VALUES (?1, 1, ?2, ?3, 'main', ?4, ?5, 0, 'created', 'trigger', '2026-01-01T00:00:00.000Z',
                 '2026-01-01T00:00:00.000Z')",
        rusqlite::params![pid, trigger_id, user_id, "a".repeat(40), "0".repeat(40)],
    )
    .unwrap();
    let pipeline = db.last_insert_rowid();
    db.execute(
        "INSERT INTO pipeline_variables (pipeline_id, position, key, value, variable_type)
         VALUES (?1, 0, 'TRIGGER_PAYLOAD', '{}', 'file')",
        [pipeline],
    )
    .unwrap();
}

#[test]
fn deleting_a_project_removes_every_row_that_references_it() {
    let app = spawn_app();
    let r = app.roles();
    let keep = app.create_project(&r.owner, "keep", "private");
    for pid in [r.project_id, keep] {
        app.seed_ref(pid, "branch", "main");
        let trigger = app.seed_trigger(pid, &r.owner, "ci");
        seed_pipeline(&app, pid, trigger.id, r.owner.id);
    }
    assert!(rows_referencing(&app, r.project_id) > 5);
    let kept_before = rows_referencing(&app, keep);
    assert_error(
        app.delete(&format!("/projects/{}", r.project_id), Some(&r.owner.token)),
        202,
        "message",
        json!("202 Accepted"),
    );
    assert_eq!(rows_referencing(&app, r.project_id), 0);
    assert_eq!(rows_referencing(&app, keep), kept_before);
    assert_error(
        app.get(&format!("/projects/{}", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    // Users stay.
    assert_eq!(app.count("users"), 8);
}

#[test]
fn admins_delete_any_project_by_path() {
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        app.delete("/projects/owner%2Fdemo", Some(&r.admin.token)),
        202,
        "message",
        json!("202 Accepted"),
    );
    assert_eq!(project_count(&app), 0);
}

#[test]
fn delete_project_is_refused_below_owner_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}", r.project_id);
    let before = rows_referencing(&app, r.project_id);
    for user in [&r.maintainer, &r.developer, &r.reporter, &r.guest] {
        assert_error(app.delete(&path, Some(&user.token)), 403, "message", json!("403 Forbidden"));
    }
    assert_error(
        app.delete(&path, Some(&r.non_member.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_error(app.delete(&path, None), 401, "message", json!("401 Unauthorized"));
    assert_error(
        app.delete("/projects/9999", Some(ROOT_TOKEN)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_eq!(rows_referencing(&app, r.project_id), before);
}

#[test]
fn delete_project_honours_if_unmodified_since() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::DELETE, &format!("/projects/{}", r.project_id), Some(&r.owner.token))
        .header("If-Unmodified-Since", "Thu, 01 Jan 2015 00:00:00 GMT")
        .send()
        .unwrap();
    assert_error(resp, 412, "message", json!("412 Precondition Failed"));
    assert_eq!(project_count(&app), 1);
}
