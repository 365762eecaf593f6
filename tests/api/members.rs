//! Members API for projects: list, get, add, change, remove.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

fn level_of(app: &TestApp, pid: i64, user_id: i64) -> Option<i64> {
    app.db()
        .query_row(
            "SELECT access_level FROM members WHERE project_id = ?1 AND user_id = ?2",
            [pid, user_id],
            |r| r.get(0),
        )
        .ok()
}

fn usernames(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|m| m["username"].as_str().unwrap().to_string()).collect()
}

// ---------------------------------------------------------------- GET /projects/:id/members

#[test]
fn members_of_a_private_project_are_listed_to_every_member_and_admins() {
    let app = spawn_app();
    let r = app.roles();
    for path in
        ["/projects/owner%2Fdemo/members".to_string(), format!("/projects/{}/members/all", r.project_id)]
    {
        for user in [&r.owner, &r.maintainer, &r.developer, &r.reporter, &r.guest, &r.admin] {
            let body = json_of(app.get(&path, Some(&user.token)), 200);
            assert_eq!(usernames(&body), ["owner", "maintainer", "developer", "reporter", "guest"], "{path}");
        }
        assert_error(
            app.get(&path, Some(&r.non_member.token)),
            404,
            "message",
            json!("404 Project Not Found"),
        );
        assert_error(app.get(&path, None), 401, "message", json!("401 Unauthorized"));
    }
}

#[test]
fn member_json_has_gitlab_fields() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(app.get(&format!("/projects/{}/members", r.project_id), Some(&r.guest.token)), 200);
    let m = &body[2];
    assert_eq!(m["id"], r.developer.id);
    assert_eq!(m["username"], "developer");
    assert_eq!(m["name"], "developer");
    assert_eq!(m["state"], "active");
    assert_eq!(m["locked"], false);
    assert!(m["avatar_url"].as_str().unwrap().starts_with("https://www.gravatar.com/avatar/"));
    assert_eq!(m["web_url"], format!("{}/developer", app.address));
    assert_eq!(m["access_level"], 30);
    assert!(m["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(m["expires_at"], Value::Null);
    assert_eq!(m["membership_state"], "active");
}

#[test]
fn members_of_a_public_project_are_listed_to_any_signed_in_user() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    let body =
        json_of(app.get(&format!("/projects/{}/members", r.project_id), Some(&r.non_member.token)), 200);
    assert_eq!(body.as_array().unwrap().len(), 5);
}

#[test]
fn members_are_filtered_by_query() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(
        app.get(&format!("/projects/{}/members?query=MAIN", r.project_id), Some(&r.owner.token)),
        200,
    );
    assert_eq!(usernames(&body), ["maintainer"]);
    let body =
        json_of(app.get(&format!("/projects/{}/members?query=er", r.project_id), Some(&r.owner.token)), 200);
    assert_eq!(usernames(&body), ["owner", "maintainer", "developer", "reporter"]);
}

#[test]
fn members_are_paginated_with_gitlab_headers() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.get(&format!("/projects/{}/members?per_page=2", r.project_id), Some(&r.owner.token));
    let h = resp.headers().clone();
    let body = json_of(resp, 200);
    assert_eq!(usernames(&body), ["owner", "maintainer"]);
    assert_eq!(h["x-total"], "5");
    assert_eq!(h["x-total-pages"], "3");
    assert_eq!(h["x-next-page"], "2");
    let link = h["link"].to_str().unwrap();
    assert!(
        link.contains(&format!(
            "<{}/api/v4/projects/{}/members?page=2&per_page=2>; rel=\"next\"",
            app.address, r.project_id
        )),
        "{link}"
    );
    let resp =
        app.get(&format!("/projects/{}/members?per_page=2&page=3", r.project_id), Some(&r.owner.token));
    assert_eq!(resp.headers()["x-next-page"], "");
    assert_eq!(usernames(&json_of(resp, 200)), ["guest"]);
}

// ---------------------------------------------------------------- GET /projects/:id/members/:user_id

#[test]
fn a_single_member_is_shown_to_anyone_who_sees_the_project() {
    let app = spawn_app();
    let r = app.roles();
    for path in [
        format!("/projects/{}/members/{}", r.project_id, r.developer.id),
        format!("/projects/owner%2Fdemo/members/all/{}", r.developer.id),
    ] {
        for user in [&r.owner, &r.guest, &r.admin] {
            let body = json_of(app.get(&path, Some(&user.token)), 200);
            assert_eq!(body["username"], "developer");
            assert_eq!(body["access_level"], 30);
        }
        assert_error(
            app.get(&path, Some(&r.non_member.token)),
            404,
            "message",
            json!("404 Project Not Found"),
        );
        assert_error(app.get(&path, None), 401, "message", json!("401 Unauthorized"));
    }
}

#[test]
fn a_missing_or_malformed_member_id_is_404_or_400() {
    let app = spawn_app();
    let r = app.roles();
    let base = format!("/projects/{}/members", r.project_id);
    assert_error(
        app.get(&format!("{base}/{}", r.non_member.id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(
        app.get(&format!("{base}/9999"), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(
        app.get(&format!("{base}/abc"), Some(&r.owner.token)),
        400,
        "error",
        json!("user_id is invalid"),
    );
    assert_error(
        app.get(&format!("{base}/all/abc"), Some(&r.owner.token)),
        400,
        "error",
        json!("user_id is invalid"),
    );
}

// ---------------------------------------------------------------- POST /projects/:id/members

#[test]
fn a_maintainer_adds_a_member_by_id_or_username() {
    let app = spawn_app();
    let r = app.roles();
    let carol = app.create_user("carol");
    let dave = app.create_user("dave");
    let path = format!("/projects/{}/members", r.project_id);
    let body = json_of(
        app.post_json(&path, Some(&r.maintainer.token), &json!({"user_id": carol.id, "access_level": 30})),
        201,
    );
    assert_eq!(body["id"], carol.id);
    assert_eq!(body["username"], "carol");
    assert_eq!(body["access_level"], 30);
    assert_eq!(body["expires_at"], Value::Null);
    assert_eq!(body["membership_state"], "active");
    assert_eq!(level_of(&app, r.project_id, carol.id), Some(30));
    // Form body, `username`, string level, an accepted (ignored) expiry.
    let resp = app
        .request(Method::POST, &path, Some(&r.maintainer.token))
        .form(&[("username", "DAVE"), ("access_level", "40"), ("expires_at", "2099-01-01")])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["username"], "dave");
    assert_eq!(level_of(&app, r.project_id, dave.id), Some(40));
    // The new member now sees the private project.
    json_of(app.get(&format!("/projects/{}", r.project_id), Some(&carol.token)), 200);
}

#[test]
fn adding_a_member_is_refused_below_maintainer_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let carol = app.create_user("carol");
    let path = format!("/projects/{}/members", r.project_id);
    let add = json!({"user_id": carol.id, "access_level": 10});
    for user in [&r.developer, &r.reporter, &r.guest] {
        assert_error(app.post_json(&path, Some(&user.token), &add), 403, "message", json!("403 Forbidden"));
    }
    assert_error(
        app.post_json(&path, Some(&r.non_member.token), &add),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_error(app.post_json(&path, None, &add), 401, "message", json!("401 Unauthorized"));
    assert_eq!(app.count("members"), 5);
}

#[test]
fn only_owners_and_admins_add_an_owner() {
    let app = spawn_app();
    let r = app.roles();
    let carol = app.create_user("carol");
    let dave = app.create_user("dave");
    let path = format!("/projects/{}/members", r.project_id);
    assert_error(
        app.post_json(&path, Some(&r.maintainer.token), &json!({"user_id": carol.id, "access_level": 50})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(level_of(&app, r.project_id, carol.id), None);
    json_of(
        app.post_json(&path, Some(&r.owner.token), &json!({"user_id": carol.id, "access_level": 50})),
        201,
    );
    json_of(
        app.post_json(&path, Some(&r.admin.token), &json!({"user_id": dave.id, "access_level": 50})),
        201,
    );
    assert_eq!(level_of(&app, r.project_id, carol.id), Some(50));
    assert_eq!(level_of(&app, r.project_id, dave.id), Some(50));
}

#[test]
fn adding_an_existing_member_is_409() {
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        app.post_json(
            &format!("/projects/{}/members", r.project_id),
            Some(&r.owner.token),
            &json!({"user_id": r.guest.id, "access_level": 40}),
        ),
        409,
        "message",
        json!("Member already exists"),
    );
    assert_eq!(level_of(&app, r.project_id, r.guest.id), Some(GUEST));
}

#[test]
fn adding_an_unknown_user_is_404() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/members", r.project_id);
    for body in [
        json!({"user_id": 9999, "access_level": 30}),
        json!({"user_id": "nobody", "access_level": 30}),
        json!({"username": "nobody", "access_level": 30}),
    ] {
        assert_error(
            app.post_json(&path, Some(&r.owner.token), &body),
            404,
            "message",
            json!("404 User Not Found"),
        );
    }
    assert_eq!(app.count("members"), 5);
}

#[test]
fn adding_a_member_validates_its_parameters() {
    let app = spawn_app();
    let r = app.roles();
    let carol = app.create_user("carol");
    let path = format!("/projects/{}/members", r.project_id);
    let cases = [
        (json!({"user_id": carol.id, "access_level": 35}), "access_level does not have a valid value"),
        (json!({"user_id": carol.id, "access_level": 60}), "access_level does not have a valid value"),
        (json!({"user_id": carol.id, "access_level": "high"}), "access_level is invalid"),
        (json!({"user_id": carol.id}), "access_level is missing"),
        (
            json!({"access_level": 30}),
            "user_id, username are missing, at least one parameter must be provided",
        ),
        (
            json!({"user_id": carol.id, "username": "carol", "access_level": 30}),
            "user_id, username are mutually exclusive",
        ),
        (json!({"user_id": carol.id, "access_level": 30, "expires_at": "someday"}), "expires_at is invalid"),
    ];
    for (body, error) in cases {
        assert_error(app.post_json(&path, Some(&r.owner.token), &body), 400, "error", json!(error));
    }
    // Parameter errors come before the project lookup, as in Grape.
    assert_error(
        app.post_json("/projects/9999/members", Some(&r.owner.token), &json!({"user_id": carol.id})),
        400,
        "error",
        json!("access_level is missing"),
    );
    assert_eq!(level_of(&app, r.project_id, carol.id), None);
    assert_eq!(app.count("members"), 5);
}

// ---------------------------------------------------------------- PUT /projects/:id/members/:user_id

#[test]
fn a_maintainer_changes_a_members_level() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/members/{}", r.project_id, r.developer.id);
    let body = json_of(app.put_json(&path, Some(&r.maintainer.token), &json!({"access_level": 20})), 200);
    assert_eq!(body["username"], "developer");
    assert_eq!(body["access_level"], 20);
    assert_eq!(level_of(&app, r.project_id, r.developer.id), Some(REPORTER));
    let body = json_of(app.put_json(&path, Some(&r.admin.token), &json!({"access_level": "40"})), 200);
    assert_eq!(body["access_level"], 40);
}

#[test]
fn changing_a_level_is_refused_below_maintainer_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/members/{}", r.project_id, r.guest.id);
    for user in [&r.developer, &r.reporter, &r.guest] {
        assert_error(
            app.put_json(&path, Some(&user.token), &json!({"access_level": 40})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_error(
        app.put_json(&path, Some(&r.non_member.token), &json!({"access_level": 40})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_error(
        app.put_json(&path, None, &json!({"access_level": 40})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(level_of(&app, r.project_id, r.guest.id), Some(GUEST));
}

#[test]
fn only_owners_and_admins_make_or_change_an_owner() {
    let app = spawn_app();
    let r = app.roles();
    let to_owner = json!({"access_level": 50});
    assert_error(
        app.put_json(
            &format!("/projects/{}/members/{}", r.project_id, r.developer.id),
            Some(&r.maintainer.token),
            &to_owner,
        ),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_error(
        app.put_json(
            &format!("/projects/{}/members/{}", r.project_id, r.owner.id),
            Some(&r.maintainer.token),
            &json!({"access_level": 30}),
        ),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(level_of(&app, r.project_id, r.developer.id), Some(DEVELOPER));
    assert_eq!(level_of(&app, r.project_id, r.owner.id), Some(OWNER));
    let body = json_of(
        app.put_json(
            &format!("/projects/{}/members/{}", r.project_id, r.developer.id),
            Some(&r.owner.token),
            &to_owner,
        ),
        200,
    );
    assert_eq!(body["access_level"], 50);
    // With two Owners, one may be demoted.
    let body = json_of(
        app.put_json(
            &format!("/projects/{}/members/{}", r.project_id, r.owner.id),
            Some(&r.developer.token),
            &json!({"access_level": 40}),
        ),
        200,
    );
    assert_eq!(body["access_level"], 40);
}

#[test]
fn the_last_owner_cannot_be_demoted() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/members/{}", r.project_id, r.owner.id);
    for user in [&r.owner, &r.admin] {
        assert_error(
            app.put_json(&path, Some(&user.token), &json!({"access_level": 40})),
            403,
            "message",
            json!("403 Forbidden - a project must keep at least one Owner"),
        );
    }
    assert_eq!(level_of(&app, r.project_id, r.owner.id), Some(OWNER));
    // Setting the same level is fine.
    json_of(app.put_json(&path, Some(&r.owner.token), &json!({"access_level": 50})), 200);
}

#[test]
fn changing_a_level_validates_its_parameters_and_the_member() {
    let app = spawn_app();
    let r = app.roles();
    let base = format!("/projects/{}/members", r.project_id);
    let path = format!("{base}/{}", r.guest.id);
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({})),
        400,
        "error",
        json!("access_level is missing"),
    );
    assert_error(
        app.put_json(&path, Some(&r.owner.token), &json!({"access_level": 5})),
        400,
        "error",
        json!("access_level does not have a valid value"),
    );
    assert_error(
        app.put_json(&format!("{base}/abc"), Some(&r.owner.token), &json!({"access_level": 30})),
        400,
        "error",
        json!("user_id is invalid"),
    );
    assert_error(
        app.put_json(
            &format!("{base}/{}", r.non_member.id),
            Some(&r.owner.token),
            &json!({"access_level": 30}),
        ),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_eq!(level_of(&app, r.project_id, r.non_member.id), None);
    assert_eq!(level_of(&app, r.project_id, r.guest.id), Some(GUEST));
}

// ---------------------------------------------------------------- DELETE /projects/:id/members/:user_id

#[test]
fn a_maintainer_removes_a_member() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .delete(&format!("/projects/{}/members/{}", r.project_id, r.developer.id), Some(&r.maintainer.token));
    assert_eq!(resp.status().as_u16(), 204);
    assert!(resp.text().unwrap().is_empty());
    assert_eq!(level_of(&app, r.project_id, r.developer.id), None);
    // The removed user no longer sees the private project.
    assert_error(
        app.get(&format!("/projects/{}", r.project_id), Some(&r.developer.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}

#[test]
fn removing_others_is_refused_below_maintainer_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/members/{}", r.project_id, r.reporter.id);
    for user in [&r.developer, &r.guest] {
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
        app.delete(&format!("/projects/{}/members/{}", r.project_id, r.non_member.id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(
        app.delete(&format!("/projects/{}/members/abc", r.project_id), Some(&r.owner.token)),
        400,
        "error",
        json!("user_id is invalid"),
    );
    assert_eq!(app.count("members"), 5);
}

#[test]
fn any_member_may_leave() {
    let app = spawn_app();
    let r = app.roles();
    for user in [&r.guest, &r.reporter, &r.developer, &r.maintainer] {
        let resp = app.delete(&format!("/projects/{}/members/{}", r.project_id, user.id), Some(&user.token));
        assert_eq!(resp.status().as_u16(), 204, "{}", user.username);
    }
    assert_eq!(app.count("members"), 1);
}

#[test]
fn removing_an_owner_takes_an_owner_and_never_the_last_one() {
    let app = spawn_app();
    let r = app.roles();
    let owner_path = format!("/projects/{}/members/{}", r.project_id, r.owner.id);
    assert_error(app.delete(&owner_path, Some(&r.maintainer.token)), 403, "message", json!("403 Forbidden"));
    for user in [&r.owner, &r.admin] {
        assert_error(
            app.delete(&owner_path, Some(&user.token)),
            403,
            "message",
            json!("403 Forbidden - a project must keep at least one Owner"),
        );
    }
    assert_eq!(level_of(&app, r.project_id, r.owner.id), Some(OWNER));
    // A second Owner: now the first may go, removed by an admin.
    app.add_member(r.project_id, &r.maintainer, OWNER);
    assert_eq!(app.delete(&owner_path, Some(&r.admin.token)).status().as_u16(), 204);
    assert_eq!(level_of(&app, r.project_id, r.owner.id), None);
}

// ------------------------------------------------ rules on other rows are checked inside the write

#[test]
fn two_owners_removing_or_demoting_each_other_at_the_same_time_always_leave_an_owner() {
    let app = spawn_app();
    let first = app.create_user("first");
    let second = app.create_user("second");
    for round in 0..40 {
        let pid = app.create_project(&first, &format!("p{round}"), "private");
        app.add_member(pid, &second, OWNER);
        let path = |u: &TestUser| format!("/projects/{pid}/members/{}", u.id);
        let (a, b) = if round % 2 == 0 {
            (
                app.request(Method::DELETE, &path(&second), Some(&first.token)),
                app.request(Method::DELETE, &path(&first), Some(&second.token)),
            )
        } else {
            let demote = json!({"access_level": MAINTAINER});
            (
                app.request(Method::PUT, &path(&second), Some(&first.token)).json(&demote),
                app.request(Method::PUT, &path(&first), Some(&second.token)).json(&demote),
            )
        };
        let statuses = at_once(a, b);
        let owners: i64 = app
            .db()
            .query_row(
                "SELECT COUNT(*) FROM members WHERE project_id = ?1 AND access_level = 50",
                [pid],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(owners, 1, "round {round}: statuses {statuses:?}");
        // The one that came second found a single Owner left (403), or was no longer a member.
        assert!(statuses.iter().any(|s| matches!(s, 403 | 404)), "round {round}: {statuses:?}");
    }
}
