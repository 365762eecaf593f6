use crate::helpers::*;
use serde_json::{Value, json};

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

fn file_url(project: i64, path: &str) -> String {
    format!("/projects/{project}/repository/files/{}", path.replace('/', "%2F"))
}

/// A private `owner/demo` with every role, `main` at a made-up SHA, then `n` commits on `main`
/// (each updating or creating `f.txt`); returns the roles, the made-up SHA and the commits.
fn setup(app: &TestApp, n: usize) -> (Roles, String, Vec<String>) {
    let r = app.roles();
    let root = app.seed_ref(r.project_id, "branch", "main");
    let mut shas = Vec::new();
    for i in 0..n {
        let body =
            json!({"branch": "main", "content": format!("v{i}"), "commit_message": format!("commit {i}")});
        let url = file_url(r.project_id, "f.txt");
        let resp = if i == 0 {
            app.post_json(&url, Some(&r.developer.token), &body)
        } else {
            app.put_json(&url, Some(&r.developer.token), &body)
        };
        assert!(resp.status().is_success(), "{}", resp.text().unwrap());
        shas.push(branch_sha(app, r.project_id, "main"));
    }
    (r, root, shas)
}

fn branch_sha(app: &TestApp, project: i64, name: &str) -> String {
    app.db()
        .query_row(
            "SELECT sha FROM refs WHERE project_id = ?1 AND name = ?2",
            rusqlite::params![project, name],
            |r| r.get(0),
        )
        .unwrap()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_commit_shows_gitlabs_entity() {
    let app = spawn_app();
    let (r, root, shas) = setup(&app, 1);
    let c = json_of(
        app.get(
            &format!("/projects/{}/repository/commits/{}", r.project_id, shas[0]),
            Some(&r.reporter.token),
        ),
        200,
    );
    let keys: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(&keys[..COMMIT_KEYS.len()], COMMIT_KEYS);
    assert_eq!(c["id"], shas[0]);
    assert_eq!(c["short_id"], &shas[0][..8]);
    assert_eq!(c["parent_ids"], json!([root]));
    assert_eq!(c["title"], "commit 0");
    assert_eq!(c["message"], "commit 0");
    assert_eq!(c["author_name"], "developer");
    assert_eq!(c["author_email"], "developer@example.com");
    assert_eq!(c["trailers"], json!({}));
    assert_eq!(c["extended_trailers"], json!({}));
    assert_eq!(c["project_id"], r.project_id);
    assert!(c["web_url"].as_str().unwrap().ends_with(&format!("/owner/demo/-/commit/{}", shas[0])));
    assert_eq!(c["created_at"], c["committed_date"]);
}

#[test]
fn a_commit_is_found_by_branch_tag_or_short_sha() {
    let app = spawn_app();
    let (r, root, shas) = setup(&app, 2);
    let get = |what: &str| {
        app.get(&format!("/projects/{}/repository/commits/{what}", r.project_id), Some(&r.reporter.token))
    };
    assert_eq!(json_of(get("main"), 200)["id"], shas[1]);
    assert_eq!(json_of(get(&shas[0][..10]), 200)["id"], shas[0]);
    assert_eq!(json_of(get(&shas[0].to_uppercase()), 200)["id"], shas[0]);
    // The made-up root a branch pointed at.
    let c = json_of(get(&root), 200);
    assert_eq!((c["parent_ids"].clone(), c["author_name"].clone()), (json!([]), json!("triggerd")));
    assert_error(get("nope"), 404, "message", json!("404 Commit Not Found"));
    assert_error(get(&"0".repeat(40)), 404, "message", json!("404 Commit Not Found"));
    // A branch with a slash, %2F-encoded.
    let body =
        json!({"branch": "feat/x", "start_branch": "main", "content": "y", "commit_message": "on feat"});
    json_of(app.post_json(&file_url(r.project_id, "g.txt"), Some(&r.developer.token), &body), 201);
    assert_eq!(json_of(get("feat%2Fx"), 200)["title"], "on feat");
}

#[test]
fn the_history_lists_newest_first_with_pagination() {
    let app = spawn_app();
    let (r, root, shas) = setup(&app, 3);
    let list = |q: &str| {
        app.get(&format!("/projects/{}/repository/commits{q}", r.project_id), Some(&r.reporter.token))
    };
    let resp = list("");
    assert_eq!(resp.headers()["x-total"], "4");
    let all = json_of(resp, 200);
    assert_eq!(ids(&all), vec![shas[2].clone(), shas[1].clone(), shas[0].clone(), root.clone()]);
    let resp = list("?per_page=2&page=2");
    assert_eq!(resp.headers()["x-total-pages"], "2");
    assert_eq!(ids(&json_of(resp, 200)), vec![shas[0].clone(), root.clone()]);
    assert_eq!(
        ids(&json_of(list(&format!("?ref_name={}", shas[1])), 200)),
        vec![shas[1].clone(), shas[0].clone(), root]
    );
    // Only commits that changed a path.
    let body = json!({"branch": "main", "content": "other", "commit_message": "other"});
    json_of(app.post_json(&file_url(r.project_id, "o.txt"), Some(&r.developer.token), &body), 201);
    assert_eq!(json_of(list("?path=o.txt"), 200).as_array().unwrap().len(), 1);
    assert_eq!(json_of(list("?path=f.txt"), 200).as_array().unwrap().len(), 3);
    // An unknown ref lists nothing; since/until filter by date.
    let resp = list("?ref_name=nope");
    assert_eq!(resp.headers()["x-total"], "0");
    assert_eq!(json_of(resp, 200), json!([]));
    assert_eq!(json_of(list("?since=2999-01-01"), 200), json!([]));
    assert_eq!(json_of(list("?until=2000-01-01T00:00:00Z"), 200), json!([]));
    assert_error(list("?since=soon"), 400, "error", json!("since is invalid"));
}

#[test]
fn a_branch_at_a_made_up_sha_lists_one_root_commit() {
    let app = spawn_app();
    let r = app.roles();
    let root = app.seed_ref(r.project_id, "branch", "main");
    let list = json_of(
        app.get(&format!("/projects/{}/repository/commits", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(ids(&list), vec![root]);
}

#[test]
fn commits_follow_the_branch_read_permissions() {
    let app = spawn_app();
    let (r, _, shas) = setup(&app, 1);
    for (who, token, status) in [
        ("anonymous", None, 404),
        ("non-member", Some(&r.non_member.token), 404),
        ("guest", Some(&r.guest.token), 403),
        ("reporter", Some(&r.reporter.token), 200),
        ("admin", Some(&r.admin.token), 200),
    ] {
        let token = token.map(String::as_str);
        let one = app.get(&format!("/projects/{}/repository/commits/{}", r.project_id, shas[0]), token);
        assert_eq!(one.status(), status, "{who} show");
        let list = app.get(&format!("/projects/{}/repository/commits", r.project_id), token);
        assert_eq!(list.status(), status, "{who} list");
    }
}

#[test]
fn another_projects_commit_is_not_found() {
    let app = spawn_app();
    let (r, _, shas) = setup(&app, 1);
    let other_owner = app.create_user("other");
    let other = app.create_project(&other_owner, "mine", "private");
    let resp =
        app.get(&format!("/projects/{other}/repository/commits/{}", shas[0]), Some(&other_owner.token));
    assert_error(resp, 404, "message", json!("404 Commit Not Found"));
    let _ = r;
}

#[test]
fn branches_and_tags_show_the_real_commit_once_there_is_one() {
    let app = spawn_app();
    let (r, _, shas) = setup(&app, 1);
    let b = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(b["commit"]["id"], shas[0]);
    assert_eq!(b["commit"]["title"], "commit 0");
    assert_eq!(b["commit"]["author_name"], "developer");
    let list = json_of(
        app.get(&format!("/projects/{}/repository/branches", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(list[0]["commit"]["message"], "commit 0");
    let created = json_of(
        app.post_json(
            &format!("/projects/{}/repository/branches", r.project_id),
            Some(&r.developer.token),
            &json!({"branch": "copy", "ref": "main"}),
        ),
        201,
    );
    assert_eq!(created["commit"]["parent_ids"].as_array().unwrap().len(), 1);
}
