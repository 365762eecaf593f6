//! The Namespaces API: user namespaces and groups in one id space.

use crate::helpers::*;
use serde_json::json;

#[test]
fn a_users_namespace_has_the_users_id_and_a_group_gets_an_id_no_user_ever_gets() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let mine = json_of(app.get(&format!("/namespaces/{}", alice.id), Some(&alice.token)), 200);
    assert_eq!(mine["kind"], "user");
    assert_eq!(mine["full_path"], "alice");
    assert_eq!(mine["web_url"], format!("{}/alice", app.address));
    assert_eq!(json_of(app.get("/namespaces/alice", Some(&alice.token)), 200)["id"], alice.id);

    let g =
        json_of(app.post_json("/groups", Some(&alice.token), &json!({"name": "Org", "path": "org"})), 201);
    let gid = g["id"].as_i64().unwrap();
    let ns = json_of(app.get("/namespaces/org", Some(&alice.token)), 200);
    assert_eq!(ns["id"], gid);
    assert_eq!(ns["kind"], "group");
    assert_eq!(ns["members_count_with_descendants"], 1);
    assert_eq!(ns["web_url"], format!("{}/groups/org", app.address));
    // The next user gets an id past the group's, so user and group namespaces never collide.
    let bob = app.create_user("bob");
    assert!(bob.id > gid, "bob {} group {gid}", bob.id);
    assert_eq!(
        json_of(app.get(&format!("/namespaces/{}", bob.id), Some(&bob.token)), 200)["full_path"],
        "bob"
    );
    // A project's namespace id is the namespace's.
    let p = json_of(app.post_json("/projects", Some(&bob.token), &json!({"name": "p"})), 201);
    assert_eq!(p["namespace"]["id"], bob.id);
}

#[test]
fn namespaces_list_the_callers_own_and_their_groups_and_admins_see_all() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    json_of(app.post_json("/groups", Some(&alice.token), &json!({"name": "A team", "path": "a-team"})), 201);
    json_of(
        app.post_json(
            "/groups",
            Some(&bob.token),
            &json!({"name": "B team", "path": "b-team", "visibility": "public"}),
        ),
        201,
    );
    let paths = |token: &str, query: &str| -> Vec<String> {
        let body = json_of(app.get(&format!("/namespaces{query}"), Some(token)), 200);
        let mut out: Vec<String> =
            body.as_array().unwrap().iter().map(|n| n["full_path"].as_str().unwrap().to_string()).collect();
        out.sort();
        out
    };
    assert_eq!(paths(&alice.token, ""), ["a-team", "alice"]);
    assert_eq!(paths(&alice.token, "?search=team"), ["a-team"]);
    assert_eq!(paths(&alice.token, "?owned_only=true"), ["a-team", "alice"]);
    let admin = paths(ROOT_TOKEN, "");
    for p in ["a-team", "alice", "b-team", "bob", "root"] {
        assert!(admin.contains(&p.to_string()), "{admin:?}");
    }
    // Another user's namespace and a private group of others are 404; a public group is visible.
    assert_error(
        app.get("/namespaces/bob", Some(&alice.token)),
        404,
        "message",
        json!("404 Namespace Not Found"),
    );
    assert_error(
        app.get("/namespaces/a-team", Some(&bob.token)),
        404,
        "message",
        json!("404 Namespace Not Found"),
    );
    json_of(app.get("/namespaces/b-team", Some(&alice.token)), 200);
    assert_eq!(app.get("/namespaces", None).status().as_u16(), 401);
}

#[test]
fn exists_answers_whether_a_path_is_taken_and_suggests_a_free_one() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let g =
        json_of(app.post_json("/groups", Some(&alice.token), &json!({"name": "Org", "path": "org"})), 201);
    json_of(app.post_json("/groups", Some(&alice.token), &json!({"name": "Org1", "path": "org1"})), 201);
    let body = json_of(app.get("/namespaces/org/exists", Some(&alice.token)), 200);
    assert_eq!(body, json!({"exists": true, "suggests": ["org2"]}));
    let body = json_of(app.get("/namespaces/alice/exists", Some(&alice.token)), 200);
    assert_eq!(body["exists"], true);
    let body = json_of(app.get("/namespaces/free/exists", Some(&alice.token)), 200);
    assert_eq!(body, json!({"exists": false, "suggests": []}));
    let sub = format!("/namespaces/org/exists?parent_id={}", g["id"]);
    assert_eq!(json_of(app.get(&sub, Some(&alice.token)), 200)["exists"], false);
    assert_eq!(app.get("/namespaces/org/exists?parent_id=x", Some(&alice.token)).status().as_u16(), 400);
}

#[test]
fn renaming_a_user_renames_their_namespace_and_their_projects_full_paths() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let pid = app.create_project(&alice, "tool", "private");
    let body = json_of(
        app.put_json(&format!("/users/{}", alice.id), Some(ROOT_TOKEN), &json!({"username": "alicia"})),
        200,
    );
    assert_eq!(body["username"], "alicia");
    let p = json_of(app.get("/projects/alicia%2Ftool", Some(&alice.token)), 200);
    assert_eq!(p["id"], pid);
    assert_eq!(p["namespace"]["full_path"], "alicia");
    assert_eq!(app.get("/projects/alice%2Ftool", Some(&alice.token)).status().as_u16(), 404);
}
