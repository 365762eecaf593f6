//! Groups and subgroups through HTTP: CRUD, full paths, projects in groups, inherited roles (a
//! table), transfers, nesting limits and hostile paths.

use crate::helpers::*;
use serde_json::{Value, json};

/// Creates a group (under `parent`) as `user` and returns its JSON.
fn group(app: &TestApp, user: &TestUser, path: &str, parent: Option<i64>, visibility: &str) -> Value {
    let mut body = json!({"name": path.to_uppercase(), "path": path, "visibility": visibility});
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    json_of(app.post_json("/groups", Some(&user.token), &body), 201)
}

fn project_in(app: &TestApp, user: &TestUser, namespace: i64, path: &str) -> Value {
    let body = json!({"name": path, "namespace_id": namespace, "visibility": "private"});
    json_of(app.post_json("/projects", Some(&user.token), &body), 201)
}

fn add_group_member(app: &TestApp, owner: &TestUser, group: i64, user: &TestUser, level: i64) {
    let body = json!({"user_id": user.id, "access_level": level});
    json_of(app.post_json(&format!("/groups/{group}/members"), Some(&owner.token), &body), 201);
}

/// `org/team/app`, created by `boss` (Owner of `org`), all private.
struct Layout {
    boss: TestUser,
    org: i64,
    team: i64,
    app_id: i64,
}

fn layout(app: &TestApp) -> Layout {
    let boss = app.create_user("boss");
    let org = group(app, &boss, "org", None, "private")["id"].as_i64().unwrap();
    let team = group(app, &boss, "team", Some(org), "private")["id"].as_i64().unwrap();
    let app_id = project_in(app, &boss, team, "app")["id"].as_i64().unwrap();
    Layout { boss, org, team, app_id }
}

#[test]
fn a_group_a_subgroup_and_a_project_in_it_get_gitlab_full_paths_and_urls() {
    let app = spawn_app();
    let l = layout(&app);
    let team = json_of(app.get(&format!("/groups/{}", l.team), Some(&l.boss.token)), 200);
    assert_eq!(team["full_path"], "org/team");
    assert_eq!(team["full_name"], "ORG / TEAM");
    assert_eq!(team["parent_id"], l.org);
    assert_eq!(team["web_url"], format!("{}/groups/org/team", app.address));
    assert_eq!(json_of(app.get("/groups/org%2Fteam", Some(&l.boss.token)), 200)["id"], l.team);

    let p = json_of(app.get("/projects/org%2Fteam%2Fapp", Some(&l.boss.token)), 200);
    assert_eq!(p["id"], l.app_id);
    assert_eq!(p["path_with_namespace"], "org/team/app");
    assert_eq!(p["name_with_namespace"], "ORG / TEAM / app");
    assert_eq!(p["web_url"], format!("{}/org/team/app", app.address));
    assert_eq!(p["namespace"]["kind"], "group");
    assert_eq!(p["namespace"]["full_path"], "org/team");
    assert_eq!(p["namespace"]["path"], "team");
    assert_eq!(p["namespace"]["parent_id"], l.org);
    assert!(p.get("owner").is_none(), "GitLab shows no owner for group projects: {p}");
    // The creator owns the groups, so the project needs no direct membership.
    assert_eq!(p["permissions"]["project_access"], Value::Null);
    assert_eq!(p["permissions"]["group_access"]["access_level"], 50);

    let subgroups = json_of(app.get(&format!("/groups/{}/subgroups", l.org), Some(&l.boss.token)), 200);
    assert_eq!(subgroups.as_array().unwrap().len(), 1);
    let projects = json_of(app.get("/groups/org%2Fteam/projects", Some(&l.boss.token)), 200);
    assert_eq!(projects[0]["id"], l.app_id);
    let mine = json_of(app.get("/groups", Some(&l.boss.token)), 200);
    assert_eq!(mine.as_array().unwrap().len(), 2);
}

/// (direct on the project, in org, in org/team, the effective level).
type Case = (Option<i64>, Option<i64>, Option<i64>, Option<i64>);

#[test]
fn effective_access_is_the_highest_of_direct_and_every_ancestor_groups_membership() {
    let app = spawn_app();
    let l = layout(&app);
    // (direct on the project, in org, in org/team) → the effective level (None: no access).
    let table: &[Case] = &[
        (None, None, None, None),
        (Some(DEVELOPER), None, None, Some(DEVELOPER)),
        (None, Some(MAINTAINER), None, Some(MAINTAINER)),
        (None, None, Some(REPORTER), Some(REPORTER)),
        (Some(MAINTAINER), Some(GUEST), None, Some(MAINTAINER)),
        (Some(REPORTER), Some(OWNER), None, Some(OWNER)),
        (None, Some(REPORTER), Some(MAINTAINER), Some(MAINTAINER)),
        (None, Some(MAINTAINER), Some(GUEST), Some(MAINTAINER)),
        (Some(DEVELOPER), Some(GUEST), Some(REPORTER), Some(DEVELOPER)),
        (Some(GUEST), Some(GUEST), Some(GUEST), Some(GUEST)),
    ];
    for (i, (direct, org, team, want)) in table.iter().enumerate() {
        let u = app.create_user(&format!("u{i}"));
        if let Some(level) = direct {
            app.add_member(l.app_id, &u, *level);
        }
        if let Some(level) = org {
            add_group_member(&app, &l.boss, l.org, &u, *level);
        }
        if let Some(level) = team {
            add_group_member(&app, &l.boss, l.team, &u, *level);
        }
        let case = format!("row {i}: direct {direct:?}, org {org:?}, team {team:?}");
        let triggers = app.get(&format!("/projects/{}/triggers", l.app_id), Some(&u.token)).status().as_u16();
        let member = app.get(&format!("/projects/{}/members/all/{}", l.app_id, u.id), Some(&l.boss.token));
        match want {
            None => {
                assert_eq!(triggers, 404, "{case}");
                assert_eq!(member.status().as_u16(), 404, "{case}");
            }
            Some(level) => {
                assert_eq!(triggers, if *level >= MAINTAINER { 200 } else { 403 }, "{case}");
                assert_eq!(json_of(member, 200)["access_level"], *level, "{case}");
            }
        }
        // The team's members/all shows the highest of org and team.
        let in_team = app.get(&format!("/groups/{}/members/all/{}", l.team, u.id), Some(&l.boss.token));
        match org.max(team) {
            Some(level) => assert_eq!(json_of(in_team, 200)["access_level"], *level, "{case}"),
            None => assert_eq!(in_team.status().as_u16(), 404, "{case}"),
        }
    }
}

#[test]
fn a_group_maintainer_manages_the_projects_trigger_tokens_and_triggers_it_by_full_path() {
    let app = spawn_app();
    let l = layout(&app);
    let maintainer = app.create_user("gm");
    let guest = app.create_user("gg");
    add_group_member(&app, &l.boss, l.org, &maintainer, MAINTAINER);
    add_group_member(&app, &l.boss, l.team, &guest, GUEST);
    app.seed_ref(l.app_id, "branch", "main");

    let created = json_of(
        app.post_json(
            "/projects/org%2Fteam%2Fapp/triggers",
            Some(&maintainer.token),
            &json!({"description": "ci"}),
        ),
        201,
    );
    let token = created["token"].as_str().unwrap().to_string();
    let refused = app.post_json(
        "/projects/org%2Fteam%2Fapp/triggers",
        Some(&guest.token),
        &json!({"description": "x"}),
    );
    assert_eq!(refused.status().as_u16(), 403);
    assert_eq!(app.get("/projects/org%2Fteam%2Fapp/triggers", Some(&guest.token)).status().as_u16(), 403);

    let pipeline = json_of(
        app.post_json(
            "/projects/org%2Fteam%2Fapp/trigger/pipeline",
            None,
            &json!({"token": token, "ref": "main"}),
        ),
        201,
    );
    assert_eq!(pipeline["project_id"], l.app_id);

    // Losing the group membership takes the inherited role (and the token's power) away.
    let resp = app.delete(&format!("/groups/{}/members/{}", l.org, maintainer.id), Some(&l.boss.token));
    assert_eq!(resp.status().as_u16(), 204);
    let resp = app.post_json(
        "/projects/org%2Fteam%2Fapp/trigger/pipeline",
        None,
        &json!({"token": token, "ref": "main"}),
    );
    assert!(resp.status().is_client_error(), "{}", resp.status());
}

#[test]
fn private_groups_are_hidden_from_non_members_and_internal_ones_are_read_only_to_them() {
    let app = spawn_app();
    let l = layout(&app);
    let stranger = app.create_user("stranger");
    assert_error(app.get("/groups/org", Some(&stranger.token)), 404, "message", json!("404 Group Not Found"));
    assert_error(app.get(&format!("/groups/{}", l.team), None), 404, "message", json!("404 Group Not Found"));
    let open = group(&app, &l.boss, "open", None, "internal");
    let id = open["id"].as_i64().unwrap();
    json_of(app.get(&format!("/groups/{id}"), Some(&stranger.token)), 200);
    let resp = app.put_json(&format!("/groups/{id}"), Some(&stranger.token), &json!({"description": "mine"}));
    assert_eq!(resp.status().as_u16(), 403);
    // A Developer of the group may create projects there; a Guest may not.
    let dev = app.create_user("dev");
    let guest = app.create_user("guest");
    add_group_member(&app, &l.boss, l.team, &dev, DEVELOPER);
    add_group_member(&app, &l.boss, l.team, &guest, GUEST);
    let p = project_in(&app, &dev, l.team, "devs");
    assert_eq!(p["permissions"]["project_access"]["access_level"], MAINTAINER, "{p}");
    let resp = app.post_json("/projects", Some(&guest.token), &json!({"name": "g", "namespace_id": l.team}));
    assert_eq!(resp.status().as_u16(), 403);
    let resp =
        app.post_json("/projects", Some(&stranger.token), &json!({"name": "s", "namespace_id": "org/team"}));
    assert_eq!(resp.status().as_u16(), 404);
}

#[test]
fn groups_nest_twenty_levels_deep_and_no_deeper() {
    let app = spawn_app();
    let boss = app.create_user("boss");
    let mut parent = None;
    for level in 1..=20 {
        parent = Some(group(&app, &boss, &format!("l{level}"), parent, "private")["id"].as_i64().unwrap());
    }
    let deepest = json_of(app.get(&format!("/groups/{}", parent.unwrap()), Some(&boss.token)), 200);
    assert_eq!(deepest["full_path"].as_str().unwrap().split('/').count(), 20);
    let resp =
        app.post_json("/groups", Some(&boss.token), &json!({"name": "x", "path": "x", "parent_id": parent}));
    assert_eq!(resp.status().as_u16(), 400);
    // Moving a two-level tree under level 19 would make 21 levels.
    let top = group(&app, &boss, "top", None, "private")["id"].as_i64().unwrap();
    group(&app, &boss, "child", Some(top), "private");
    let l19: i64 =
        app.db().query_row("SELECT id FROM namespaces WHERE path = 'l19'", [], |r| r.get(0)).unwrap();
    let resp =
        app.post_json(&format!("/groups/{top}/transfer"), Some(&boss.token), &json!({"group_id": l19}));
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn a_group_cannot_move_into_itself_or_below_itself() {
    let app = spawn_app();
    let l = layout(&app);
    for target in [l.org, l.team] {
        let resp = app.post_json(
            &format!("/groups/{}/transfer", l.org),
            Some(&l.boss.token),
            &json!({"group_id": target}),
        );
        assert_eq!(resp.status().as_u16(), 400, "into {target}");
    }
    // A real move rewrites the paths below it.
    let other = group(&app, &l.boss, "other", None, "private")["id"].as_i64().unwrap();
    let moved = json_of(
        app.post_json(
            &format!("/groups/{}/transfer", l.team),
            Some(&l.boss.token),
            &json!({"group_id": other}),
        ),
        201,
    );
    assert_eq!(moved["full_path"], "other/team");
    json_of(app.get("/projects/other%2Fteam%2Fapp", Some(&l.boss.token)), 200);
    assert_eq!(app.get("/projects/org%2Fteam%2Fapp", Some(&l.boss.token)).status().as_u16(), 404);
    // And renaming a group renames everything below it.
    json_of(app.put_json(&format!("/groups/{other}"), Some(&l.boss.token), &json!({"path": "renamed"})), 200);
    json_of(app.get("/projects/renamed%2Fteam%2Fapp", Some(&l.boss.token)), 200);
}

#[test]
fn odd_group_paths_and_taken_paths_are_refused_with_400_and_change_nothing() {
    let app = spawn_app();
    let boss = app.create_user("boss");
    let before = app.count("namespaces");
    for path in ["a/b", "-x", "x.git", "a b", "..", "é", "", "a%2Fb", &"x".repeat(300)] {
        let resp = app.post_json("/groups", Some(&boss.token), &json!({"name": "n", "path": path}));
        assert_eq!(resp.status().as_u16(), 400, "{path:?}");
    }
    group(&app, &boss, "taken", None, "private");
    // A group path taken by a group or by a username, case-insensitively.
    for path in ["taken", "TAKEN", "boss"] {
        let resp = app.post_json("/groups", Some(&boss.token), &json!({"name": "n", "path": path}));
        assert_error(resp, 400, "message", json!({"path": ["has already been taken"]}));
    }
    let resp =
        app.post_json("/groups", Some(&boss.token), &json!({"name": "n", "path": "p", "parent_id": 999_999}));
    assert_eq!(resp.status().as_u16(), 404);
    let resp =
        app.post_json("/groups", Some(&boss.token), &json!({"name": "n", "path": "p", "parent_id": "x"}));
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(app.count("namespaces"), before + 1);
    // Top-level paths the web UI and GitLab use are reserved; below the top level they are free.
    for path in ["users", "API", "dashboard", "-"] {
        let resp = app.post_json("/groups", Some(&boss.token), &json!({"name": "n", "path": path}));
        assert_eq!(resp.status().as_u16(), 400, "{path}");
    }
    let taken = app
        .db()
        .query_row("SELECT id FROM namespaces WHERE path = 'taken'", [], |r| r.get::<_, i64>(0))
        .unwrap();
    group(&app, &boss, "users", Some(taken), "private");
    // A subgroup cannot be more visible than its parent.
    let parent = group(&app, &boss, "closed", None, "private")["id"].as_i64().unwrap();
    let resp = app.post_json(
        "/groups",
        Some(&boss.token),
        &json!({"name": "n", "path": "p", "parent_id": parent, "visibility": "public"}),
    );
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn deleting_a_group_deletes_its_subgroups_and_their_projects() {
    let app = spawn_app();
    let l = layout(&app);
    let maintainer = app.create_user("m");
    add_group_member(&app, &l.boss, l.org, &maintainer, MAINTAINER);
    assert_eq!(app.delete(&format!("/groups/{}", l.org), Some(&maintainer.token)).status().as_u16(), 403);
    assert_error(
        app.delete(&format!("/groups/{}", l.org), Some(&l.boss.token)),
        202,
        "message",
        json!("202 Accepted"),
    );
    assert_eq!(app.get(&format!("/projects/{}", l.app_id), Some(&l.boss.token)).status().as_u16(), 404);
    assert_eq!(app.get(&format!("/groups/{}", l.team), Some(&l.boss.token)).status().as_u16(), 404);
    assert_eq!(app.count("group_members"), 0);
}

#[test]
fn a_project_moves_between_namespaces_by_gitlabs_transfer_rules() {
    let app = spawn_app();
    let l = layout(&app);
    let alice = app.create_user("alice");
    let pid = app.create_project(&alice, "tool", "public");
    // Alice is no member of org/team yet: the group is hidden from her.
    let resp = app.put_json(
        &format!("/projects/{pid}/transfer"),
        Some(&alice.token),
        &json!({"namespace": "org/team"}),
    );
    assert_eq!(resp.status().as_u16(), 404);
    add_group_member(&app, &l.boss, l.team, &alice, DEVELOPER);
    let resp =
        app.put_json(&format!("/projects/{pid}/transfer"), Some(&alice.token), &json!({"namespace": l.team}));
    assert_eq!(resp.status().as_u16(), 403, "Developer in the target group");
    add_group_member(&app, &l.boss, l.org, &alice, MAINTAINER);
    let moved = json_of(
        app.put_json(&format!("/projects/{pid}/transfer"), Some(&alice.token), &json!({"namespace": l.team})),
        200,
    );
    assert_eq!(moved["path_with_namespace"], "org/team/tool");
    // A public project in a private group becomes private, as GitLab does.
    assert_eq!(moved["visibility"], "private");
    // Back home, by path; the same namespace again is 400.
    json_of(
        app.put_json(
            &format!("/projects/{pid}/transfer"),
            Some(&alice.token),
            &json!({"namespace": "alice"}),
        ),
        200,
    );
    let resp = app.put_json(
        &format!("/projects/{pid}/transfer"),
        Some(&alice.token),
        &json!({"namespace": "alice"}),
    );
    assert_eq!(resp.status().as_u16(), 400);
    // Someone else's personal namespace is not a target.
    let resp =
        app.put_json(&format!("/projects/{pid}/transfer"), Some(&alice.token), &json!({"namespace": "boss"}));
    assert_eq!(resp.status().as_u16(), 404);
    // A path taken in the target namespace is 400.
    project_in(&app, &l.boss, l.team, "tool");
    let resp =
        app.put_json(&format!("/projects/{pid}/transfer"), Some(&alice.token), &json!({"namespace": l.team}));
    assert_eq!(resp.status().as_u16(), 400);
}

#[test]
fn group_members_are_managed_by_owners_and_the_last_owner_of_a_top_level_group_stays() {
    let app = spawn_app();
    let l = layout(&app);
    let m = app.create_user("m");
    add_group_member(&app, &l.boss, l.org, &m, MAINTAINER);
    let x = app.create_user("x");
    let resp = app.post_json(
        &format!("/groups/{}/members", l.org),
        Some(&m.token),
        &json!({"user_id": x.id, "access_level": 10}),
    );
    assert_eq!(resp.status().as_u16(), 403, "GitLab: only Owners manage group members");
    let resp = app.post_json(
        &format!("/groups/{}/members", l.org),
        Some(&l.boss.token),
        &json!({"user_id": m.id, "access_level": 10}),
    );
    assert_error(resp, 409, "message", json!("Member already exists"));
    let resp = app.put_json(
        &format!("/groups/{}/members/{}", l.org, l.boss.id),
        Some(&l.boss.token),
        &json!({"access_level": 40}),
    );
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        app.delete(&format!("/groups/{}/members/{}", l.org, l.boss.id), Some(&l.boss.token))
            .status()
            .as_u16(),
        403
    );
    // Members leave by themselves.
    assert_eq!(
        app.delete(&format!("/groups/{}/members/{}", l.org, m.id), Some(&m.token)).status().as_u16(),
        204
    );
    let list = json_of(app.get(&format!("/groups/{}/members", l.org), Some(&l.boss.token)), 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[test]
fn the_only_owner_of_a_top_level_group_cannot_be_deleted() {
    let app = spawn_app();
    let l = layout(&app);
    let resp = app.delete(&format!("/users/{}", l.boss.id), Some(ROOT_TOKEN));
    assert_error(
        resp,
        409,
        "message",
        json!("User cannot be removed while is the sole-owner of a group (org)"),
    );
    let second = app.create_user("second");
    add_group_member(&app, &l.boss, l.org, &second, OWNER);
    assert_eq!(app.delete(&format!("/users/{}", l.boss.id), Some(ROOT_TOKEN)).status().as_u16(), 204);
    json_of(app.get("/projects/org%2Fteam%2Fapp", Some(&second.token)), 200);
}
