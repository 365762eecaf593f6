use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};
use triggerd::db::refs;

const BRANCH_KEYS: &[&str] = &[
    "name",
    "commit",
    "merged",
    "protected",
    "developers_can_push",
    "developers_can_merge",
    "can_push",
    "default",
    "web_url",
];
const TAG_KEYS: &[&str] = &["name", "message", "target", "commit", "release", "protected", "created_at"];
const COMMIT_KEYS: &[&str] = &[
    "id",
    "short_id",
    "created_at",
    "parent_ids",
    "title",
    "message",
    "author_name",
    "author_email",
    "authored_date",
    "committer_name",
    "committer_email",
    "committed_date",
    "trailers",
    "extended_trailers",
    "web_url",
];

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap().to_string()).collect()
}

/// A private `owner/demo` with every role, a `main` branch and a `v1.0` tag.
fn setup(app: &TestApp) -> (Roles, String) {
    let roles = app.roles();
    let sha = app.seed_ref(roles.project_id, "branch", "main");
    app.db()
        .execute(
            "INSERT INTO refs (project_id, kind, name, sha, created_at) VALUES (?1, 'tag', 'v1.0', ?2, ?3)",
            rusqlite::params![roles.project_id, sha, triggerd::model::now()],
        )
        .unwrap();
    (roles, sha)
}

/// Every caller of a project with the status a read by them gets on a private project.
fn readers(r: &Roles) -> Vec<(&'static str, Option<String>, u16)> {
    vec![
        ("anonymous", None, 404),
        ("non-member", Some(r.non_member.token.clone()), 404),
        ("guest", Some(r.guest.token.clone()), 403),
        ("reporter", Some(r.reporter.token.clone()), 200),
        ("developer", Some(r.developer.token.clone()), 200),
        ("maintainer", Some(r.maintainer.token.clone()), 200),
        ("owner", Some(r.owner.token.clone()), 200),
        ("admin", Some(r.admin.token.clone()), 200),
    ]
}

/// Every caller of a private project with the status a write by them gets (201 = allowed).
fn writers(r: &Roles) -> Vec<(&'static str, Option<String>, u16)> {
    vec![
        ("anonymous", None, 401),
        ("non-member", Some(r.non_member.token.clone()), 404),
        ("guest", Some(r.guest.token.clone()), 403),
        ("reporter", Some(r.reporter.token.clone()), 403),
        ("developer", Some(r.developer.token.clone()), 201),
        ("maintainer", Some(r.maintainer.token.clone()), 201),
        ("owner", Some(r.owner.token.clone()), 201),
        ("admin", Some(r.admin.token.clone()), 201),
    ]
}

#[track_caller]
fn assert_denied(resp: reqwest::blocking::Response, status: u16) {
    let expected = match status {
        401 => json!("401 Unauthorized"),
        403 => json!("403 Forbidden"),
        404 => json!("404 Project Not Found"),
        other => panic!("unexpected status {other}"),
    };
    assert_error(resp, status, "message", expected);
}

fn branches(app: &TestApp, project_id: i64) -> Vec<String> {
    let db = app.db();
    let mut stmt =
        db.prepare("SELECT name FROM refs WHERE project_id = ?1 AND kind = 'branch' ORDER BY name").unwrap();
    stmt.query_map([project_id], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

// ---- GET /projects/:id/repository/branches ------------------------------------------------------

#[test]
fn list_branches_returns_gitlabs_branch_json() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let body = json_of(
        app.get(&format!("/projects/{}/repository/branches", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(body.as_array().unwrap().len(), 1);
    let b = &body[0];
    assert_eq!(keys(b), BRANCH_KEYS);
    assert_eq!(b["name"], "main");
    assert_eq!(b["merged"], false);
    assert_eq!(b["protected"], true);
    assert_eq!(b["default"], true);
    assert_eq!(b["developers_can_push"], false);
    assert_eq!(b["developers_can_merge"], false);
    assert_eq!(b["can_push"], false);
    assert_eq!(b["web_url"], format!("{}/owner/demo/-/tree/main", app.address));
    let c = &b["commit"];
    assert_eq!(keys(c), COMMIT_KEYS);
    assert_eq!(c["id"], json!(sha));
    assert_eq!(c["short_id"], json!(&sha[..8]));
    assert_eq!(c["title"], format!("Commit {}", &sha[..8]));
    assert_eq!(c["parent_ids"], json!([]));
    assert_eq!(c["author_name"], "triggerd");
    assert_eq!(c["web_url"], format!("{}/owner/demo/-/commit/{sha}", app.address));
    assert!(c["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(c["committed_date"], c["created_at"]);
}

#[test]
fn list_branches_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/branches", r.project_id);
    for (role, token, status) in readers(&r) {
        let resp = app.get(&path, token.as_deref());
        if status == 200 {
            let body = json_of(resp, 200);
            assert_eq!(names(&body), ["main"], "{role}");
            let can_push = !matches!(role, "reporter");
            assert_eq!(body[0]["can_push"], can_push, "{role}");
        } else {
            assert_denied(resp, status);
        }
    }
}

#[test]
fn list_branches_of_a_public_project_is_open_to_everyone() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    app.seed_ref(r.project_id, "branch", "main");
    let path = format!("/projects/{}/repository/branches", r.project_id);
    for token in [None, Some(r.non_member.token.as_str()), Some(r.guest.token.as_str())] {
        let body = json_of(app.get(&path, token), 200);
        assert_eq!(names(&body), ["main"]);
        assert_eq!(body[0]["can_push"], false);
    }
}

#[test]
fn list_branches_of_an_internal_project_needs_a_signed_in_user() {
    let app = spawn_app();
    let r = app.roles_with_visibility("internal");
    app.seed_ref(r.project_id, "branch", "main");
    let path = format!("/projects/{}/repository/branches", r.project_id);
    assert_denied(app.get(&path, None), 404);
    assert_eq!(names(&json_of(app.get(&path, Some(&r.non_member.token)), 200)), ["main"]);
}

#[test]
fn list_branches_finds_the_project_by_its_encoded_path() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json_of(app.get("/projects/owner%2Fdemo/repository/branches", Some(&r.owner.token)), 200);
    assert_eq!(names(&body), ["main"]);
    assert_denied(app.get("/projects/999/repository/branches", Some(&r.admin.token)), 404);
    assert_denied(app.get("/projects/owner%2Fnothing/repository/branches", Some(&r.admin.token)), 404);
}

#[test]
fn list_branches_sorts_by_name_and_searches_with_anchors() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for name in ["feature/login", "Feature-two", "fix/feature", "release"] {
        app.seed_ref(r.project_id, "branch", name);
    }
    let get = |q: &str| {
        names(&json_of(
            app.get(&format!("/projects/{}/repository/branches?{q}", r.project_id), Some(&r.owner.token)),
            200,
        ))
    };
    assert_eq!(get(""), ["Feature-two", "feature/login", "fix/feature", "main", "release"]);
    assert_eq!(get("search=FEATURE"), ["Feature-two", "feature/login", "fix/feature"]);
    assert_eq!(get("search=%5Efeature"), ["Feature-two", "feature/login"]);
    assert_eq!(get("search=feature%24"), ["fix/feature"]);
    assert_eq!(get("search=%5Emain%24"), ["main"]);
    assert_eq!(get("search=nothing"), Vec::<String>::new());
    assert_eq!(get("sort=updated_desc")[0], "release");
    assert_eq!(get("sort=updated_asc")[0], "main");
    assert_error(
        app.get(&format!("/projects/{}/repository/branches?sort=random", r.project_id), Some(&r.owner.token)),
        400,
        "error",
        json!("sort does not have a valid value"),
    );
}

#[test]
fn list_branches_is_paginated() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for name in ["a", "b", "c", "d"] {
        app.seed_ref(r.project_id, "branch", name);
    }
    let resp = app.get(
        &format!("/projects/{}/repository/branches?per_page=2&page=3", r.project_id),
        Some(&r.owner.token),
    );
    assert_eq!(resp.headers()["x-total"], "5");
    assert_eq!(resp.headers()["x-total-pages"], "3");
    assert_eq!(resp.headers()["x-next-page"], "");
    assert!(resp.headers()["link"].to_str().unwrap().contains("rel=\"first\""));
    assert_eq!(names(&json_of(resp, 200)), ["main"]);
}

// ---- GET /projects/:id/repository/branches/:branch ----------------------------------------------

#[test]
fn get_branch_returns_the_branch() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let b = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.developer.token)),
        200,
    );
    assert_eq!(b["name"], "main");
    assert_eq!(b["commit"]["id"], json!(sha));
    assert_eq!(b["can_push"], true);
    assert_eq!(b["default"], true);
}

#[test]
fn get_branch_accepts_a_slash_encoded_or_raw() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let sha = app.seed_ref(r.project_id, "branch", "feature/deep/x");
    for path in ["feature%2Fdeep%2Fx", "feature/deep/x"] {
        let b = json_of(
            app.get(&format!("/projects/owner%2Fdemo/repository/branches/{path}"), Some(&r.owner.token)),
            200,
        );
        assert_eq!(b["name"], "feature/deep/x", "{path}");
        assert_eq!(b["commit"]["id"], json!(sha));
        assert_eq!(b["default"], false);
        assert_eq!(b["protected"], false);
        assert_eq!(b["web_url"], format!("{}/owner/demo/-/tree/feature/deep/x", app.address));
    }
}

#[test]
fn get_branch_returns_404_branch_not_found_for_a_missing_branch() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(&format!("/projects/{}/repository/branches/nope", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Branch Not Found"),
    );
    // A tag is not a branch.
    assert_error(
        app.get(&format!("/projects/{}/repository/branches/v1.0", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Branch Not Found"),
    );
}

#[test]
fn get_branch_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/branches/main", r.project_id);
    for (role, token, status) in readers(&r) {
        let resp = app.get(&path, token.as_deref());
        if status == 200 {
            assert_eq!(json_of(resp, 200)["name"], "main", "{role}");
        } else {
            assert_denied(resp, status);
        }
    }
}

// ---- POST /projects/:id/repository/branches -----------------------------------------------------

#[test]
fn create_branch_from_a_branch_copies_its_sha() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let b = json_of(
        app.post_json(
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&r.developer.token),
            &json!({"branch": "feature/new", "ref": "main"}),
        ),
        201,
    );
    assert_eq!(keys(&b), BRANCH_KEYS);
    assert_eq!(b["name"], "feature/new");
    assert_eq!(b["commit"]["id"], json!(sha));
    assert_eq!(b["default"], false);
    assert_eq!(b["protected"], false);
    assert_eq!(b["can_push"], true);
    let fetched = json_of(
        app.get(
            &format!("/projects/{}/repository/branches/feature%2Fnew", r.project_id),
            Some(&r.reporter.token),
        ),
        200,
    );
    assert_eq!(fetched["commit"]["id"], json!(sha));
}

#[test]
fn create_branch_accepts_a_tag_a_full_ref_or_a_sha() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let other = app.seed_ref(r.project_id, "tag", "v2.0");
    let given = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
    let cases = [
        ("from-tag", "v2.0", other.clone()),
        ("from-full-branch", "refs/heads/main", sha.clone()),
        ("from-full-tag", "refs/tags/v2.0", other.clone()),
        ("from-sha", given, given.to_ascii_lowercase()),
    ];
    for (name, from, expected) in cases {
        let b = json_of(
            app.post_json(
                &format!("/projects/{}/repository/branches", r.project_id),
                Some(&r.owner.token),
                &json!({"branch": name, "ref": from}),
            ),
            201,
        );
        assert_eq!(b["commit"]["id"], json!(expected), "{name}");
    }
}

#[test]
fn create_branch_accepts_a_form_body_and_query_parameters() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let resp = app
        .request(
            Method::POST,
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&r.owner.token),
        )
        .form(&[("branch", "formed"), ("ref", "main")])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["name"], "formed");
    let resp = app
        .request(
            Method::POST,
            &format!("/projects/{}/repository/branches?branch=queried&ref=main", r.project_id),
            Some(&r.owner.token),
        )
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["name"], "queried");
}

#[test]
fn create_branch_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/branches", r.project_id);
    for (role, token, status) in writers(&r) {
        let before = app.count("refs");
        let resp =
            app.post_json(&path, token.as_deref(), &json!({"branch": format!("by-{role}"), "ref": "main"}));
        if status == 201 {
            assert_eq!(json_of(resp, 201)["name"], format!("by-{role}"));
            assert_eq!(app.count("refs"), before + 1);
        } else {
            assert_denied(resp, status);
            assert_eq!(app.count("refs"), before, "{role}");
        }
    }
}

#[test]
fn create_branch_in_a_public_project_still_needs_developer() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    app.seed_ref(r.project_id, "branch", "main");
    let path = format!("/projects/{}/repository/branches", r.project_id);
    let body = json!({"branch": "x", "ref": "main"});
    assert_denied(app.post_json(&path, None, &body), 401);
    assert_denied(app.post_json(&path, Some(&r.non_member.token), &body), 403);
    assert_denied(app.post_json(&path, Some(&r.reporter.token), &body), 403);
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn create_branch_with_a_read_api_token_returns_403_insufficient_scope() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let reader = app.seed_token(r.owner.id, &["read_api"], None);
    assert_error(
        app.post_json(
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&reader),
            &json!({"branch": "x", "ref": "main"}),
        ),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn create_branch_reports_missing_parameters() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/branches", r.project_id);
    let cases = [
        (json!({"ref": "main"}), "branch is missing"),
        (json!({"branch": "x"}), "ref is missing"),
        (json!({}), "branch is missing, ref is missing"),
        (json!({"branch": null, "ref": "main"}), "branch is missing"),
    ];
    for (body, expected) in cases {
        assert_error(app.post_json(&path, Some(&r.owner.token), &body), 400, "error", json!(expected));
    }
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn create_branch_rejects_invalid_git_ref_names() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/branches", r.project_id);
    for bad in [
        "",
        "has space",
        "a..b",
        "-lead",
        "trail/",
        "x.lock",
        "tab\tchar",
        "t~1",
        "c^2",
        "a:b",
        "q?",
        "s*",
        "b[x",
        "back\\slash",
        "HEAD",
        "refs/heads/main2",
        "0123456789abcdef0123456789abcdef01234567",
    ] {
        assert_error(
            app.post_json(&path, Some(&r.owner.token), &json!({"branch": bad, "ref": "main"})),
            400,
            "message",
            json!("Branch name is invalid"),
        );
    }
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn create_branch_returns_400_when_the_branch_exists() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    assert_error(
        app.post_json(
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&r.owner.token),
            &json!({"branch": "main", "ref": "v1.0"}),
        ),
        400,
        "message",
        json!("Branch already exists"),
    );
    let b = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    assert_eq!(b["commit"]["id"], json!(sha));
}

#[test]
fn create_branch_returns_400_for_an_unknown_ref() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for bad in ["nope", "refs/heads/v1.0", "refs/tags/main", "abc123"] {
        assert_error(
            app.post_json(
                &format!("/projects/{}/repository/branches", r.project_id),
                Some(&r.owner.token),
                &json!({"branch": "new", "ref": bad}),
            ),
            400,
            "message",
            json!(format!("Invalid reference name: {bad}")),
        );
    }
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn create_branch_does_not_see_another_projects_refs() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let other = app.create_project(&r.owner, "other", "private");
    app.seed_ref(other, "branch", "elsewhere");
    assert_error(
        app.post_json(
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&r.owner.token),
            &json!({"branch": "new", "ref": "elsewhere"}),
        ),
        400,
        "message",
        json!("Invalid reference name: elsewhere"),
    );
}

// ---- DELETE /projects/:id/repository/branches/:branch -------------------------------------------

#[test]
fn delete_branch_returns_204_and_removes_it() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    app.seed_ref(r.project_id, "branch", "feature/x");
    let resp = app.delete(
        &format!("/projects/{}/repository/branches/feature%2Fx", r.project_id),
        Some(&r.developer.token),
    );
    assert_eq!(resp.status(), 204);
    assert!(resp.text().unwrap().is_empty());
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn delete_branch_refuses_the_default_branch() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.delete(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.owner.token)),
        400,
        "message",
        json!("Cannot remove the default branch"),
    );
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn delete_branch_returns_404_for_a_missing_branch() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.delete(&format!("/projects/{}/repository/branches/nope", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Branch Not Found"),
    );
    // The tag of that name stays: deleting a branch never touches tags.
    assert_error(
        app.delete(&format!("/projects/{}/repository/branches/v1.0", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Branch Not Found"),
    );
    assert_eq!(app.count("refs"), 2);
}

#[test]
fn delete_branch_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for (role, token, status) in writers(&r) {
        let name = format!("doomed-{role}");
        app.seed_ref(r.project_id, "branch", &name);
        let resp =
            app.delete(&format!("/projects/{}/repository/branches/{name}", r.project_id), token.as_deref());
        if status == 201 {
            assert_eq!(resp.status(), 204, "{role}");
            assert!(!branches(&app, r.project_id).contains(&name));
        } else {
            assert_denied(resp, status);
            assert!(branches(&app, r.project_id).contains(&name), "{role}");
        }
    }
}

// ---- Tags ---------------------------------------------------------------------------------------

#[test]
fn list_tags_returns_gitlabs_tag_json_newest_first() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    app.seed_ref(r.project_id, "tag", "a-later");
    let body = json_of(
        app.get(&format!("/projects/{}/repository/tags", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(names(&body), ["a-later", "v1.0"]);
    let t = &body[1];
    assert_eq!(keys(t), TAG_KEYS);
    assert_eq!(t["target"], json!(sha));
    assert_eq!(t["message"], Value::Null);
    assert_eq!(t["release"], Value::Null);
    assert_eq!(t["protected"], false);
    assert_eq!(t["commit"]["id"], json!(sha));
    assert_eq!(keys(&t["commit"]), COMMIT_KEYS);
    assert!(t["created_at"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn list_tags_orders_and_searches() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    app.seed_ref(r.project_id, "tag", "v2.0");
    app.seed_ref(r.project_id, "tag", "beta");
    let get = |q: &str| {
        names(&json_of(
            app.get(&format!("/projects/{}/repository/tags?{q}", r.project_id), Some(&r.owner.token)),
            200,
        ))
    };
    assert_eq!(get("order_by=name&sort=asc"), ["beta", "v1.0", "v2.0"]);
    assert_eq!(get("order_by=name"), ["v2.0", "v1.0", "beta"]);
    assert_eq!(get("sort=asc"), ["v1.0", "v2.0", "beta"]);
    assert_eq!(get("search=%5Ev"), ["v2.0", "v1.0"]);
    assert_error(
        app.get(&format!("/projects/{}/repository/tags?order_by=size", r.project_id), Some(&r.owner.token)),
        400,
        "error",
        json!("order_by does not have a valid value"),
    );
    assert_error(
        app.get(&format!("/projects/{}/repository/tags?sort=up", r.project_id), Some(&r.owner.token)),
        400,
        "error",
        json!("sort does not have a valid value"),
    );
}

#[test]
fn list_and_get_tags_answer_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for path in [
        format!("/projects/{}/repository/tags", r.project_id),
        format!("/projects/{}/repository/tags/v1.0", r.project_id),
    ] {
        for (role, token, status) in readers(&r) {
            let resp = app.get(&path, token.as_deref());
            if status == 200 {
                assert_eq!(resp.status(), 200, "{role} {path}");
            } else {
                assert_denied(resp, status);
            }
        }
    }
}

#[test]
fn get_tag_returns_the_tag_or_404_tag_not_found() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let t = json_of(
        app.get(&format!("/projects/{}/repository/tags/v1.0", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(t["name"], "v1.0");
    assert_eq!(t["target"], json!(sha));
    assert_error(
        app.get(&format!("/projects/{}/repository/tags/main", r.project_id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Tag Not Found"),
    );
}

#[test]
fn create_tag_makes_lightweight_and_annotated_tags() {
    let app = spawn_app();
    let (r, sha) = setup(&app);
    let path = format!("/projects/{}/repository/tags", r.project_id);
    let light = json_of(
        app.post_json(&path, Some(&r.developer.token), &json!({"tag_name": "v1.1", "ref": "main"})),
        201,
    );
    assert_eq!(keys(&light), TAG_KEYS);
    assert_eq!(light["name"], "v1.1");
    assert_eq!(light["target"], json!(sha));
    assert_eq!(light["message"], Value::Null);
    let blank = json_of(
        app.post_json(
            &path,
            Some(&r.developer.token),
            &json!({"tag_name": "v1.2", "ref": "v1.0", "message": "  "}),
        ),
        201,
    );
    assert_eq!(blank["message"], Value::Null);
    let annotated = json_of(
        app.post_json(
            &path,
            Some(&r.developer.token),
            &json!({"tag_name": "release/2", "ref": "refs/heads/main", "message": "Release two"}),
        ),
        201,
    );
    assert_eq!(annotated["message"], "Release two");
    assert_eq!(annotated["commit"]["id"], json!(sha));
    let fetched = json_of(
        app.get(&format!("/projects/{}/repository/tags/release%2F2", r.project_id), Some(&r.owner.token)),
        200,
    );
    assert_eq!(fetched["message"], "Release two");
    // A tag may share a branch's name.
    let same =
        json_of(app.post_json(&path, Some(&r.owner.token), &json!({"tag_name": "main", "ref": "main"})), 201);
    assert_eq!(same["name"], "main");
}

#[test]
fn create_tag_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/tags", r.project_id);
    for (role, token, status) in writers(&r) {
        let before = app.count("refs");
        let resp =
            app.post_json(&path, token.as_deref(), &json!({"tag_name": format!("t-{role}"), "ref": "main"}));
        if status == 201 {
            assert_eq!(resp.status(), 201, "{role}");
            assert_eq!(app.count("refs"), before + 1);
        } else {
            assert_denied(resp, status);
            assert_eq!(app.count("refs"), before, "{role}");
        }
    }
}

#[test]
fn create_tag_reports_each_error_and_changes_nothing() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/tags", r.project_id);
    let before = app.count("refs");
    let cases: Vec<(Value, &str, Value)> = vec![
        (json!({"ref": "main"}), "error", json!("tag_name is missing")),
        (json!({"tag_name": "x"}), "error", json!("ref is missing")),
        (json!({}), "error", json!("tag_name is missing, ref is missing")),
        (json!({"tag_name": "bad name", "ref": "main"}), "message", json!("Tag name invalid")),
        (json!({"tag_name": "v..1", "ref": "main"}), "message", json!("Tag name invalid")),
        (json!({"tag_name": "v1.0", "ref": "main"}), "message", json!("Tag v1.0 already exists")),
        (json!({"tag_name": "v9", "ref": "nope"}), "message", json!("Target nope is invalid")),
    ];
    for (body, key, expected) in cases {
        assert_error(app.post_json(&path, Some(&r.owner.token), &body), 400, key, expected);
    }
    assert_eq!(app.count("refs"), before);
}

#[test]
fn delete_tag_returns_204_and_404_afterwards() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let path = format!("/projects/{}/repository/tags/v1.0", r.project_id);
    let resp = app.delete(&path, Some(&r.developer.token));
    assert_eq!(resp.status(), 204);
    assert!(resp.text().unwrap().is_empty());
    assert_error(app.delete(&path, Some(&r.developer.token)), 404, "message", json!("404 Tag Not Found"));
    assert_error(app.get(&path, Some(&r.developer.token)), 404, "message", json!("404 Tag Not Found"));
    // The branch is untouched.
    assert_eq!(branches(&app, r.project_id), ["main"]);
}

#[test]
fn delete_tag_answers_each_role_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for (role, token, status) in writers(&r) {
        let name = format!("doomed-{role}");
        app.seed_ref(r.project_id, "tag", &name);
        let before = app.count("refs");
        let resp =
            app.delete(&format!("/projects/{}/repository/tags/{name}", r.project_id), token.as_deref());
        if status == 201 {
            assert_eq!(resp.status(), 204, "{role}");
            assert_eq!(app.count("refs"), before - 1);
        } else {
            assert_denied(resp, status);
            assert_eq!(app.count("refs"), before, "{role}");
        }
    }
}

#[test]
fn unsupported_methods_on_refs_are_a_json_405() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let resp = app.put_json(
        &format!("/projects/{}/repository/branches/main", r.project_id),
        Some(&r.owner.token),
        &json!({}),
    );
    assert_error(resp, 405, "error", json!("405 Not Allowed"));
    let resp = app.delete(&format!("/projects/{}/repository/tags", r.project_id), Some(&r.owner.token));
    assert_error(resp, 405, "error", json!("405 Not Allowed"));
}

// ---- db::refs: what the trigger call and project creation use -----------------------------------

#[test]
fn resolve_accepts_short_and_full_branch_and_tag_names() {
    let app = spawn_app();
    let (r, main_sha) = setup(&app);
    let pid = r.project_id;
    let both_branch = app.seed_ref(pid, "branch", "both");
    let both_tag = app.seed_ref(pid, "tag", "both");
    let db = app.db();
    let got = |s: &str| refs::resolve(&db, pid, s).unwrap().map(|r| (r.name, r.sha, r.tag));
    assert_eq!(got("main"), Some(("main".into(), main_sha.clone(), false)));
    assert_eq!(got("refs/heads/main"), Some(("main".into(), main_sha.clone(), false)));
    assert_eq!(got("v1.0"), Some(("v1.0".into(), main_sha.clone(), true)));
    assert_eq!(got("refs/tags/v1.0"), Some(("v1.0".into(), main_sha.clone(), true)));
    assert_eq!(got("both"), Some(("both".into(), both_branch, false)));
    assert_eq!(got("refs/tags/both"), Some(("both".into(), both_tag, true)));
    assert_eq!(got("refs/heads/v1.0"), None);
    assert_eq!(got("refs/tags/main"), None);
    assert_eq!(got("nothing"), None);
    assert!(refs::resolve(&db, pid + 100, "main").unwrap().is_none());
}

#[test]
fn insert_creates_a_ref_that_the_api_then_serves() {
    let app = spawn_app();
    let r = app.roles();
    let sha = refs::random_sha();
    let row =
        refs::insert(&app.db(), r.project_id, refs::BRANCH, "main", &sha, None, &triggerd::model::now())
            .unwrap();
    assert_eq!(row.name, "main");
    assert_eq!(row.sha, sha);
    assert!(!row.is_tag());
    let dup =
        refs::insert(&app.db(), r.project_id, refs::BRANCH, "main", &sha, None, &triggerd::model::now());
    assert!(dup.is_err());
    let tag =
        refs::insert(&app.db(), r.project_id, refs::TAG, "v1", &sha, Some("msg"), &triggerd::model::now())
            .unwrap();
    assert!(tag.is_tag());
    assert_eq!(tag.message.as_deref(), Some("msg"));
    let b = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    assert_eq!(b["commit"]["id"], json!(sha));
    assert_eq!(b["default"], true);
}
