use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

const FILE_KEYS: &[&str] = &[
    "file_name",
    "file_path",
    "size",
    "encoding",
    "content_sha256",
    "ref",
    "blob_id",
    "commit_id",
    "last_commit_id",
    "execute_filemode",
    "content",
];

fn b64(data: &[u8]) -> String {
    triggerd::api::files::base64_encode(data)
}

fn unb64(text: &str) -> Vec<u8> {
    triggerd::api::files::base64_decode(text).unwrap()
}

/// `/projects/:id/repository/files/<encoded path>`.
fn file_url(project: i64, path: &str) -> String {
    format!("/projects/{project}/repository/files/{}", path.replace('/', "%2F"))
}

/// A private `owner/demo` with every role and a `main` branch at a made-up SHA.
fn setup(app: &TestApp) -> (Roles, String) {
    let roles = app.roles();
    let sha = app.seed_ref(roles.project_id, "branch", "main");
    (roles, sha)
}

fn create(app: &TestApp, r: &Roles, path: &str, content: &str) -> reqwest::blocking::Response {
    app.post_json(
        &file_url(r.project_id, path),
        Some(&r.developer.token),
        &json!({"branch": "main", "content": content, "commit_message": format!("add {path}")}),
    )
}

fn head_of(app: &TestApp, project: i64, branch: &str) -> String {
    app.db()
        .query_row(
            "SELECT sha FROM refs WHERE project_id = ?1 AND kind = 'branch' AND name = ?2",
            rusqlite::params![project, branch],
            |r| r.get(0),
        )
        .unwrap()
}

fn read(app: &TestApp, r: &Roles, path: &str, at: &str) -> Value {
    json_of(app.get(&format!("{}?ref={at}", file_url(r.project_id, path)), Some(&r.reporter.token)), 200)
}

#[test]
fn a_created_file_reads_back_with_gitlabs_entity_and_headers() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json_of(create(&app, &r, "ci/.gitlab-ci.yml", "job:\n  script: echo hi\n"), 201);
    assert_eq!(body, json!({"file_path": "ci/.gitlab-ci.yml", "branch": "main"}));
    let head = head_of(&app, r.project_id, "main");

    let resp = app
        .get(&format!("{}?ref=main", file_url(r.project_id, "ci/.gitlab-ci.yml")), Some(&r.reporter.token));
    let headers = resp.headers().clone();
    let f = json_of(resp, 200);
    let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, FILE_KEYS);
    assert_eq!(f["file_name"], ".gitlab-ci.yml");
    assert_eq!(f["file_path"], "ci/.gitlab-ci.yml");
    assert_eq!(f["size"], 23);
    assert_eq!(f["encoding"], "base64");
    assert_eq!(f["ref"], "main");
    assert_eq!(f["commit_id"], head);
    assert_eq!(f["last_commit_id"], head);
    assert_eq!(f["execute_filemode"], false);
    assert_eq!(unb64(f["content"].as_str().unwrap()), b"job:\n  script: echo hi\n");
    // git hash-object of the content.
    assert_eq!(f["blob_id"], triggerd::api::files::blob_sha(b"job:\n  script: echo hi\n"));
    assert_eq!(f["content_sha256"].as_str().unwrap().len(), 64);
    let h = |n: &str| headers.get(n).unwrap().to_str().unwrap().to_string();
    assert_eq!(h("x-gitlab-file-name"), ".gitlab-ci.yml");
    assert_eq!(h("x-gitlab-file-path"), "ci/.gitlab-ci.yml");
    assert_eq!(h("x-gitlab-size"), "23");
    assert_eq!(h("x-gitlab-encoding"), "base64");
    assert_eq!(h("x-gitlab-ref"), "main");
    assert_eq!(h("x-gitlab-commit-id"), head);
    assert_eq!(h("x-gitlab-last-commit-id"), head);
    assert_eq!(h("x-gitlab-blob-id"), f["blob_id"].as_str().unwrap());
    assert_eq!(h("x-gitlab-content-sha256"), f["content_sha256"].as_str().unwrap());
    assert_eq!(h("x-gitlab-execute-filemode"), "false");
}

#[test]
fn head_answers_the_headers_without_a_body() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "A"), 201);
    let resp = app
        .request(
            Method::HEAD,
            &format!("{}?ref=main", file_url(r.project_id, "a.txt")),
            Some(&r.reporter.token),
        )
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-gitlab-file-name"], "a.txt");
    assert_eq!(resp.headers()["x-gitlab-size"], "1");
    assert!(resp.text().unwrap().is_empty());
    let missing = app
        .request(
            Method::HEAD,
            &format!("{}?ref=main", file_url(r.project_id, "b.txt")),
            Some(&r.reporter.token),
        )
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn raw_answers_the_bytes_at_the_default_branch_or_a_ref() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "dir/notes.md", "# hi\n"), 201);
    let resp = app.get(&format!("{}/raw", file_url(r.project_id, "dir/notes.md")), Some(&r.reporter.token));
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    assert_eq!(resp.headers()["x-gitlab-file-path"], "dir/notes.md");
    assert_eq!(resp.text().unwrap(), "# hi\n");
    let resp =
        app.get(&format!("{}/raw?ref=main", file_url(r.project_id, "dir/notes.md")), Some(&r.reporter.token));
    assert_eq!(resp.text().unwrap(), "# hi\n");
    // Binary content through base64.
    let bytes = [0u8, 159, 146, 150, 255];
    let body =
        json!({"branch": "main", "content": b64(&bytes), "encoding": "base64", "commit_message": "bin"});
    json_of(app.post_json(&file_url(r.project_id, "blob.bin"), Some(&r.developer.token), &body), 201);
    let resp = app.get(&format!("{}/raw", file_url(r.project_id, "blob.bin")), Some(&r.reporter.token));
    assert_eq!(resp.headers()["content-type"], "application/octet-stream");
    assert_eq!(resp.bytes().unwrap().as_ref(), &bytes);
    let resp =
        app.get(&format!("{}/raw?ref=nope", file_url(r.project_id, "blob.bin")), Some(&r.reporter.token));
    assert_error(resp, 404, "message", json!("404 Commit Not Found"));
}

#[test]
fn a_file_named_raw_is_a_file_and_not_the_raw_route() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "raw", "I am raw"), 201);
    let f = read(&app, &r, "raw", "main");
    assert_eq!(f["file_path"], "raw");
    let resp =
        app.get(&format!("/projects/{}/repository/files/raw/raw", r.project_id), Some(&r.reporter.token));
    assert_eq!(resp.text().unwrap(), "I am raw");
    // `dir%2Fraw` is the file `dir/raw`, not the raw content of `dir`.
    json_of(create(&app, &r, "dir/raw", "nested"), 201);
    assert_eq!(read(&app, &r, "dir/raw", "main")["file_path"], "dir/raw");
    // A write to `a/raw` with a literal slash reaches the files resource.
    let body = json!({"branch": "main", "content": "x", "commit_message": "m"});
    let resp = app.post_json(
        &format!("/projects/{}/repository/files/sub/raw", r.project_id),
        Some(&r.developer.token),
        &body,
    );
    assert_eq!(json_of(resp, 201)["file_path"], "sub/raw");
}

#[test]
fn update_and_delete_make_commits_and_answer_as_gitlab() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "one"), 201);
    let body = json!({"branch": "main", "content": "two", "commit_message": "edit"});
    let resp = app.put_json(&file_url(r.project_id, "a.txt"), Some(&r.developer.token), &body);
    assert_eq!(json_of(resp, 200), json!({"file_path": "a.txt", "branch": "main"}));
    assert_eq!(unb64(read(&app, &r, "a.txt", "main")["content"].as_str().unwrap()), b"two");
    let resp = app
        .request(Method::DELETE, &file_url(r.project_id, "a.txt"), Some(&r.developer.token))
        .json(&json!({"branch": "main", "commit_message": "gone"}))
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    let resp = app.get(&format!("{}?ref=main", file_url(r.project_id, "a.txt")), Some(&r.reporter.token));
    assert_error(resp, 404, "message", json!("404 File Not Found"));
    assert_eq!(app.count("commits"), 4, "a root for the made-up SHA and three writes");
}

#[test]
fn three_writes_chain_three_commits_and_old_commits_keep_their_content() {
    let app = spawn_app();
    let (r, root) = setup(&app);
    json_of(create(&app, &r, "f.txt", "v1"), 201);
    let c1 = head_of(&app, r.project_id, "main");
    let put = |content: &str| {
        let body = json!({"branch": "main", "content": content, "commit_message": format!("to {content}")});
        json_of(app.put_json(&file_url(r.project_id, "f.txt"), Some(&r.developer.token), &body), 200);
        head_of(&app, r.project_id, "main")
    };
    let c2 = put("v2");
    let c3 = put("v3");
    assert!(c1 != c2 && c2 != c3 && c1 != root);
    let commit = |sha: &str| {
        json_of(
            app.get(&format!("/projects/{}/repository/commits/{sha}", r.project_id), Some(&r.reporter.token)),
            200,
        )
    };
    assert_eq!(commit(&c1)["parent_ids"], json!([root]));
    assert_eq!(commit(&c2)["parent_ids"], json!([c1]));
    assert_eq!(commit(&c3)["parent_ids"], json!([c2]));
    assert_eq!(commit(&root)["parent_ids"], json!([]));
    assert_eq!(unb64(read(&app, &r, "f.txt", &c1)["content"].as_str().unwrap()), b"v1");
    assert_eq!(unb64(read(&app, &r, "f.txt", &c2)["content"].as_str().unwrap()), b"v2");
    let now = read(&app, &r, "f.txt", "main");
    assert_eq!(unb64(now["content"].as_str().unwrap()), b"v3");
    assert_eq!(now["last_commit_id"], c3);
    // A short SHA names a commit as well.
    assert_eq!(read(&app, &r, "f.txt", &c2[..8])["commit_id"], c2);
    // The made-up root has an empty tree.
    let resp = app.get(&format!("{}?ref={root}", file_url(r.project_id, "f.txt")), Some(&r.reporter.token));
    assert_error(resp, 404, "message", json!("404 File Not Found"));
}

#[test]
fn last_commit_id_refuses_an_update_of_a_file_that_changed_since() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "one"), 201);
    json_of(create(&app, &r, "b.txt", "other"), 201);
    let f = read(&app, &r, "a.txt", "main");
    let seen = f["last_commit_id"].as_str().unwrap().to_string();
    assert_ne!(seen, f["commit_id"].as_str().unwrap(), "b.txt's commit did not touch a.txt");
    let put = |content: &str, last: &str| {
        let body =
            json!({"branch": "main", "content": content, "commit_message": "m", "last_commit_id": last});
        app.put_json(&file_url(r.project_id, "a.txt"), Some(&r.developer.token), &body)
    };
    json_of(put("two", &seen), 200);
    let before = app.count("commits");
    assert_error(
        put("three", &seen),
        400,
        "message",
        json!("You are attempting to update a file that has changed since you started editing it."),
    );
    assert_eq!(app.count("commits"), before);
}

#[test]
fn start_branch_creates_a_branch_from_another_ones_head() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "main's"), 201);
    let main_head = head_of(&app, r.project_id, "main");
    let body = json!({"branch": "feature", "start_branch": "main", "content": "new", "commit_message": "m"});
    json_of(app.post_json(&file_url(r.project_id, "b.txt"), Some(&r.developer.token), &body), 201);
    let feature = head_of(&app, r.project_id, "feature");
    let c = json_of(
        app.get(&format!("/projects/{}/repository/commits/feature", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(c["id"], feature);
    assert_eq!(c["parent_ids"], json!([main_head]));
    assert_eq!(read(&app, &r, "a.txt", "feature")["commit_id"], feature, "feature sees main's files");
    let resp = app.get(&format!("{}?ref=main", file_url(r.project_id, "b.txt")), Some(&r.reporter.token));
    assert_error(resp, 404, "message", json!("404 File Not Found"));
    assert_eq!(head_of(&app, r.project_id, "main"), main_head, "main did not move");

    // An existing branch with another start_branch, an unknown start branch, an invalid name.
    let again = json!({"branch": "feature", "start_branch": "main", "content": "x", "commit_message": "m"});
    assert_error(
        app.post_json(&file_url(r.project_id, "c.txt"), Some(&r.developer.token), &again),
        400,
        "message",
        json!("A branch called 'feature' already exists. Switch to that branch in order to make changes"),
    );
    let unknown = json!({"branch": "x", "start_branch": "nope", "content": "x", "commit_message": "m"});
    assert_error(
        app.post_json(&file_url(r.project_id, "c.txt"), Some(&r.developer.token), &unknown),
        400,
        "message",
        json!("You can only create or edit files when you are on a branch"),
    );
    let invalid =
        json!({"branch": "bad..name", "start_branch": "main", "content": "x", "commit_message": "m"});
    assert_error(
        app.post_json(&file_url(r.project_id, "c.txt"), Some(&r.developer.token), &invalid),
        400,
        "message",
        json!("Something went wrong when we tried to create 'bad..name' for you: Branch name is invalid"),
    );
}

#[test]
fn a_write_to_a_missing_branch_without_start_branch_is_refused() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json!({"branch": "nope", "content": "x", "commit_message": "m"});
    assert_error(
        app.post_json(&file_url(r.project_id, "a.txt"), Some(&r.developer.token), &body),
        400,
        "message",
        json!("You can only create or edit files when you are on a branch"),
    );
    assert_eq!(app.count("commits"), 0);
}

#[test]
fn the_first_commit_of_an_empty_project_creates_its_branch() {
    let app = spawn_app();
    let r = app.roles();
    json_of(create(&app, &r, ".gitlab-ci.yml", "x: 1\n"), 201);
    let head = head_of(&app, r.project_id, "main");
    let c = json_of(
        app.get(&format!("/projects/{}/repository/commits/{head}", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(c["parent_ids"], json!([]));
    assert_eq!(read(&app, &r, ".gitlab-ci.yml", "main")["commit_id"], head);
}

#[test]
fn a_tag_sees_the_files_of_its_commit() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "v.txt", "1.0"), 201);
    let tagged = head_of(&app, r.project_id, "main");
    let tag = json_of(
        app.post_json(
            &format!("/projects/{}/repository/tags", r.project_id),
            Some(&r.developer.token),
            &json!({"tag_name": "v1.0", "ref": "main"}),
        ),
        201,
    );
    assert_eq!(tag["commit"]["id"], tagged);
    assert_eq!(tag["commit"]["title"], "add v.txt");
    let body = json!({"branch": "main", "content": "2.0", "commit_message": "bump"});
    json_of(app.put_json(&file_url(r.project_id, "v.txt"), Some(&r.developer.token), &body), 200);
    assert_eq!(unb64(read(&app, &r, "v.txt", "v1.0")["content"].as_str().unwrap()), b"1.0");
    assert_eq!(unb64(read(&app, &r, "v.txt", "refs/tags/v1.0")["content"].as_str().unwrap()), b"1.0");
    assert_eq!(unb64(read(&app, &r, "v.txt", "main")["content"].as_str().unwrap()), b"2.0");
}

#[test]
fn reads_follow_the_branch_permissions() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "A"), 201);
    let url = format!("{}?ref=main", file_url(r.project_id, "a.txt"));
    let raw = format!("{}/raw", file_url(r.project_id, "a.txt"));
    for (who, token, status) in [
        ("anonymous", None, 404),
        ("non-member", Some(&r.non_member.token), 404),
        ("guest", Some(&r.guest.token), 403),
        ("reporter", Some(&r.reporter.token), 200),
        ("developer", Some(&r.developer.token), 200),
        ("maintainer", Some(&r.maintainer.token), 200),
        ("owner", Some(&r.owner.token), 200),
        ("admin", Some(&r.admin.token), 200),
    ] {
        let token = token.map(String::as_str);
        assert_eq!(app.get(&url, token).status(), status, "{who} GET");
        assert_eq!(app.get(&raw, token).status(), status, "{who} raw");
    }
}

#[test]
fn anyone_reads_files_of_a_public_project_and_signed_in_users_of_an_internal_one() {
    let app = spawn_app();
    let owner = app.create_user("owner");
    let public = app.create_project(&owner, "pub", "public");
    let internal = app.create_project(&owner, "int", "internal");
    let stranger = app.create_user("stranger");
    for p in [public, internal] {
        let body = json!({"branch": "main", "content": "x", "commit_message": "m"});
        json_of(app.post_json(&file_url(p, "a.txt"), Some(&owner.token), &body), 201);
    }
    assert_eq!(app.get(&format!("{}?ref=main", file_url(public, "a.txt")), None).status(), 200);
    assert_eq!(app.get(&format!("{}?ref=main", file_url(internal, "a.txt")), None).status(), 404);
    assert_eq!(
        app.get(&format!("{}?ref=main", file_url(internal, "a.txt")), Some(&stranger.token)).status(),
        200
    );
    let body = json!({"branch": "main", "content": "y", "commit_message": "m"});
    assert_eq!(app.put_json(&file_url(public, "a.txt"), Some(&stranger.token), &body).status(), 403);
}

#[test]
fn writes_need_developer_or_more() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for (who, token, status) in [
        ("anonymous", None, 401),
        ("non-member", Some(&r.non_member.token), 404),
        ("guest", Some(&r.guest.token), 403),
        ("reporter", Some(&r.reporter.token), 403),
        ("developer", Some(&r.developer.token), 201),
        ("maintainer", Some(&r.maintainer.token), 201),
        ("owner", Some(&r.owner.token), 201),
        ("admin", Some(&r.admin.token), 201),
    ] {
        let body = json!({"branch": "main", "content": who, "commit_message": "m"});
        let resp =
            app.post_json(&file_url(r.project_id, &format!("{who}.txt")), token.map(String::as_str), &body);
        assert_eq!(resp.status(), status, "{who} POST");
        if status != 201 {
            let put =
                app.put_json(&file_url(r.project_id, "developer.txt"), token.map(String::as_str), &body);
            assert_eq!(put.status(), status, "{who} PUT");
            let del = app.delete(
                &format!("{}?branch=main&commit_message=m", file_url(r.project_id, "developer.txt")),
                token.map(String::as_str),
            );
            assert_eq!(del.status(), status, "{who} DELETE");
        }
    }
    assert_eq!(app.count("commits"), 5, "a root and four creates");
}

#[test]
fn a_read_only_token_cannot_write() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let user = app.seed_user("reader", false, &["read_api"]);
    app.add_member(r.project_id, &user, MAINTAINER);
    let body = json!({"branch": "main", "content": "x", "commit_message": "m"});
    assert_eq!(app.post_json(&file_url(r.project_id, "a.txt"), Some(&user.token), &body).status(), 403);
}

#[test]
fn missing_and_blank_parameters_get_grapes_messages() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "A"), 201);
    let t = Some(r.developer.token.as_str());
    let url = file_url(r.project_id, "b.txt");
    assert_error(
        app.post_json(&url, t, &json!({})),
        400,
        "error",
        json!("branch is missing, commit_message is missing, content is missing"),
    );
    assert_error(
        app.post_json(&url, t, &json!({"branch": "main", "commit_message": "m"})),
        400,
        "error",
        json!("content is missing"),
    );
    assert_error(
        app.post_json(&url, t, &json!({"branch": "", "commit_message": "m", "content": "x"})),
        400,
        "error",
        json!("branch is empty"),
    );
    assert_error(
        app.post_json(&url, t, &json!({"branch": "main", "commit_message": " ", "content": "x"})),
        400,
        "error",
        json!("commit_message is empty"),
    );
    assert_error(
        app.post_json(
            &url,
            t,
            &json!({"branch": "main", "commit_message": "m", "content": "x", "encoding": "utf8"}),
        ),
        400,
        "error",
        json!("encoding does not have a valid value"),
    );
    assert_error(
        app.delete(&file_url(r.project_id, "a.txt"), t),
        400,
        "error",
        json!("branch is missing, commit_message is missing"),
    );
    assert_error(app.get(&file_url(r.project_id, "a.txt"), t), 400, "error", json!("ref is missing"));
    assert_error(
        app.get(&format!("{}?ref=", file_url(r.project_id, "a.txt")), t),
        400,
        "error",
        json!("ref is empty"),
    );
    assert_eq!(app.count("commits"), 2);
}

#[test]
fn service_errors_are_gitlabs_400s_and_change_nothing() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "A"), 201);
    json_of(create(&app, &r, "dir/b.txt", "B"), 201);
    let before = (app.count("commits"), head_of(&app, r.project_id, "main"));
    assert_error(
        create(&app, &r, "a.txt", "again"),
        400,
        "message",
        json!("A file with this name already exists"),
    );
    assert_error(
        create(&app, &r, "a.txt/under", "x"),
        400,
        "message",
        json!("A file with this name already exists"),
    );
    assert_error(
        create(&app, &r, "dir", "x"),
        400,
        "message",
        json!("A directory with this name already exists"),
    );
    let body = json!({"branch": "main", "content": "x", "commit_message": "m"});
    assert_error(
        app.put_json(&file_url(r.project_id, "nope.txt"), Some(&r.developer.token), &body),
        400,
        "message",
        json!("A file with this name doesn't exist"),
    );
    assert_error(
        app.delete(
            &format!("{}?branch=main&commit_message=m", file_url(r.project_id, "nope.txt")),
            Some(&r.developer.token),
        ),
        400,
        "message",
        json!("A file with this name doesn't exist"),
    );
    assert_eq!((app.count("commits"), head_of(&app, r.project_id, "main")), before);
}

#[test]
fn reads_at_unknown_refs_and_paths_are_404s() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a.txt", "A"), 201);
    let t = Some(r.reporter.token.as_str());
    let at = |path: &str, r_: &str| app.get(&format!("{}?ref={r_}", file_url(r.project_id, path)), t);
    assert_error(at("a.txt", "nope"), 404, "message", json!("404 Commit Not Found"));
    assert_error(at("a.txt", &"ab".repeat(20)), 404, "message", json!("404 Commit Not Found"));
    assert_error(at("b.txt", "main"), 404, "message", json!("404 File Not Found"));
    let resp = app.get(&format!("{}?ref=main", file_url(r.project_id + 1000, "a.txt")), t);
    assert_error(resp, 404, "message", json!("404 Project Not Found"));
}

#[test]
fn hostile_paths_are_refused_before_anything_is_written() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json!({"branch": "main", "content": "x", "commit_message": "m"});
    for path in [
        "..%2Fetc%2Fpasswd",
        "a%2F..%2Fb",
        "a%2F%2Fb",
        "%2Fabs",
        "trail%2F",
        "%2e%2e%2Fx",
        ".git%2Fconfig",
        "a%00b",
        "a%0Ab",
    ] {
        let url = format!("/projects/{}/repository/files/{path}", r.project_id);
        assert_error(
            app.post_json(&url, Some(&r.developer.token), &body),
            400,
            "error",
            json!("file_path should be a valid file path"),
        );
    }
    // `.` and `..` as the whole path: clients normalise them away, so send them by hand.
    for path in [".", "..", "%2E%2E"] {
        let answer = raw_post(
            &app,
            &format!("/api/v4/projects/{}/repository/files/{path}", r.project_id),
            &r.developer.token,
        );
        assert!(answer.starts_with("HTTP/1.1 400"), "{path}: {answer}");
        assert!(answer.contains("file_path should be a valid file path"), "{path}: {answer}");
    }
    let long = "a".repeat(1025);
    assert_error(
        app.post_json(&file_url(r.project_id, &long), Some(&r.developer.token), &body),
        400,
        "message",
        json!({"file_path": ["is too long (maximum is 1024 bytes)"]}),
    );
    // 1000-character paths in segments are fine.
    let ok = format!("{}/{}", "d".repeat(500), "f".repeat(499));
    json_of(create(&app, &r, &ok, "deep"), 201);
    assert_eq!(read(&app, &r, &ok, "main")["file_path"], ok);
    assert_eq!(app.count("commits"), 2);
}

#[test]
fn invalid_base64_is_refused() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body =
        json!({"branch": "main", "content": "not base64!", "encoding": "base64", "commit_message": "m"});
    assert_error(
        app.post_json(&file_url(r.project_id, "a.bin"), Some(&r.developer.token), &body),
        400,
        "message",
        json!("400 Bad request - content is not valid base64"),
    );
    assert_eq!(app.count("commits"), 0);
}

#[test]
fn a_file_over_the_size_limit_is_refused_and_nothing_is_written() {
    let app = spawn_app_with(|c| c.limits.max_file_bytes = 100);
    let (r, _) = setup(&app);
    assert_error(
        create(&app, &r, "big.txt", &"x".repeat(101)),
        400,
        "message",
        json!({"content": ["is too long (maximum is 100 bytes)"]}),
    );
    let body =
        json!({"branch": "main", "content": b64(&[7u8; 101]), "encoding": "base64", "commit_message": "m"});
    assert_eq!(
        app.post_json(&file_url(r.project_id, "big.bin"), Some(&r.developer.token), &body).status(),
        400
    );
    json_of(create(&app, &r, "ok.txt", &"x".repeat(100)), 201);
    assert_eq!(app.count("blobs"), 1);
    // A body over server.max_body_bytes is a 413.
    let huge = "x".repeat(1024 * 1024 + 10);
    let resp = create(&app, &r, "huge.txt", &huge);
    assert_eq!(resp.status(), 413);
    assert_eq!(app.count("blobs"), 1);
}

#[test]
fn the_tree_holds_at_most_the_configured_number_of_files() {
    let app = spawn_app_with(|c| c.limits.max_repository_files = 2);
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "1", "a"), 201);
    json_of(create(&app, &r, "2", "b"), 201);
    let resp = create(&app, &r, "3", "c");
    assert_eq!(resp.status(), 400);
    // An update is still possible.
    let body = json!({"branch": "main", "content": "z", "commit_message": "m"});
    json_of(app.put_json(&file_url(r.project_id, "1"), Some(&r.developer.token), &body), 200);
}

#[test]
fn identical_contents_share_one_blob() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "a", "same"), 201);
    json_of(create(&app, &r, "b", "same"), 201);
    assert_eq!(app.count("blobs"), 1);
    assert_eq!(read(&app, &r, "a", "main")["blob_id"], read(&app, &r, "b", "main")["blob_id"]);
}

#[test]
fn author_parameters_and_execute_filemode_are_kept() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json!({"branch": "main", "content": "#!/bin/sh\n", "commit_message": "script\n\nbody",
                      "author_name": "Ann", "author_email": "ann@example.com", "execute_filemode": true});
    json_of(app.post_json(&file_url(r.project_id, "run.sh"), Some(&r.developer.token), &body), 201);
    let f = read(&app, &r, "run.sh", "main");
    assert_eq!(f["execute_filemode"], true);
    let c = json_of(
        app.get(&format!("/projects/{}/repository/commits/main", r.project_id), Some(&r.reporter.token)),
        200,
    );
    assert_eq!(c["author_name"], "Ann");
    assert_eq!(c["author_email"], "ann@example.com");
    assert_eq!(c["committer_name"], "developer");
    assert_eq!(c["committer_email"], "developer@example.com");
    assert_eq!(c["title"], "script");
    assert_eq!(c["message"], "script\n\nbody");
    // An update without execute_filemode keeps the flag.
    let body = json!({"branch": "main", "content": "#!/bin/sh\nexit 0\n", "commit_message": "m"});
    json_of(app.put_json(&file_url(r.project_id, "run.sh"), Some(&r.developer.token), &body), 200);
    assert_eq!(read(&app, &r, "run.sh", "main")["execute_filemode"], true);
}

#[test]
fn another_projects_files_are_out_of_reach() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    json_of(create(&app, &r, "secret.txt", "s"), 201);
    let sha = head_of(&app, r.project_id, "main");
    let other_owner = app.create_user("other");
    let other = app.create_project(&other_owner, "mine", "private");
    app.seed_ref(other, "branch", "main");
    let resp = app.get(&format!("{}?ref={sha}", file_url(other, "secret.txt")), Some(&other_owner.token));
    assert_error(resp, 404, "message", json!("404 Commit Not Found"));
    let resp =
        app.get(&format!("{}?ref=main", file_url(r.project_id, "secret.txt")), Some(&other_owner.token));
    assert_error(resp, 404, "message", json!("404 Project Not Found"));
}

#[test]
fn form_encoded_writes_work_like_json() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let resp = app
        .request(Method::POST, &file_url(r.project_id, "f.txt"), Some(&r.developer.token))
        .form(&[("branch", "main"), ("content", "a b+c"), ("commit_message", "m")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(unb64(read(&app, &r, "f.txt", "main")["content"].as_str().unwrap()), b"a b+c");
}

/// Sends a POST with a request line exactly as given (no URL normalisation) and returns the
/// whole answer.
fn raw_post(app: &TestApp, target: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let addr = app.address.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let body = r#"{"branch":"main","content":"x","commit_message":"m"}"#;
    let req = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nPRIVATE-TOKEN: {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    answer
}
