//! The trigger-token management endpoints: `GET|POST /projects/:id/triggers`,
//! `GET|PUT|DELETE /projects/:id/triggers/:trigger_id`. GitLab's request spec (reference §7,
//! items 16–44) adjusted for product.md: the full token appears only in the create response.

use crate::helpers::*;
use reqwest::Method;
use reqwest::blocking::Response;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use triggerd::model;

// ---------------------------------------------------------------------------------------------
// Helpers

fn triggers_path(r: &Roles) -> String {
    format!("/projects/{}/triggers", r.project_id)
}

fn trigger_path(r: &Roles, id: i64) -> String {
    format!("/projects/{}/triggers/{id}", r.project_id)
}

/// A private project with one user per role and a trigger owned by its maintainer.
fn setup(app: &TestApp) -> (Roles, SeededTrigger) {
    let r = app.roles();
    let t = app.seed_trigger(r.project_id, &r.maintainer, "maintainer's trigger");
    (r, t)
}

fn short(token: &str) -> &str {
    &token[6..10]
}

fn description_in_db(app: &TestApp, id: i64) -> Option<String> {
    app.db().query_row("SELECT description FROM triggers WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

fn updated_at_in_db(app: &TestApp, id: i64) -> String {
    app.db().query_row("SELECT updated_at FROM triggers WHERE id = ?1", [id], |r| r.get(0)).unwrap()
}

fn set_updated_at(app: &TestApp, id: i64, at: &str) {
    app.db().execute("UPDATE triggers SET updated_at = ?2 WHERE id = ?1", rusqlite::params![id, at]).unwrap();
}

/// Inserts a pipeline row created by `trigger_id` at `created_at`; returns its id.
fn insert_pipeline(
    app: &TestApp,
    project_id: i64,
    iid: i64,
    trigger_id: i64,
    user_id: i64,
    created_at: &str,
) -> i64 {
    let conn = app.db();
    conn.execute(
        "INSERT INTO pipelines (project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source,
                                created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'main', ?5, ?6, 0, 'created', 'trigger', ?7, ?7)",
        rusqlite::params![project_id, iid, trigger_id, user_id, "a".repeat(40), "0".repeat(40), created_at],
    )
    .unwrap();
    conn.last_insert_rowid()
}

/// Seeds `n` triggers straight into the database in one statement.
fn seed_many_triggers(app: &TestApp, project_id: i64, owner_id: i64, n: i64) {
    app.db()
        .execute(
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?3)
             INSERT INTO triggers (project_id, owner_id, description, token_digest, short_token, created_at,
                                   updated_at)
             SELECT ?1, ?2, 'seeded', randomblob(32), 'abcd', ?4, ?4 FROM seq",
            rusqlite::params![project_id, owner_id, n, model::now()],
        )
        .unwrap();
}

fn create_with(app: &TestApp, r: &Roles, token: &str, body: Value) -> Response {
    app.post_json(&triggers_path(r), Some(token), &body)
}

fn header(resp: &Response, name: &str) -> String {
    resp.headers().get(name).map(|v| v.to_str().unwrap().to_string()).unwrap_or_else(|| panic!("no {name}"))
}

/// The URL of `rel` in a `Link` header.
fn link(link_header: &str, rel: &str) -> Option<String> {
    link_header.split(", ").find(|l| l.ends_with(&format!("rel=\"{rel}\""))).map(|l| {
        let start = l.find('<').unwrap() + 1;
        let end = l.find('>').unwrap();
        l[start..end].to_string()
    })
}

fn in_days(days: i64) -> String {
    model::format_ts(OffsetDateTime::now_utc() + Duration::days(days))
}

fn max_date() -> String {
    model::format_date(model::today() + Duration::days(365))
}

// ---------------------------------------------------------------------------------------------
// GET /projects/:id/triggers

#[test]
fn list_triggers_returns_every_trigger_by_id_with_short_tokens_and_pagination_headers() {
    // §7 item 16, adjusted: even the owner sees the short token (the full one is create-only).
    let app = spawn_app();
    let r = app.roles();
    let own = app.seed_trigger(r.project_id, &r.maintainer, "mine");
    let other = app.seed_trigger(r.project_id, &r.developer, "theirs");
    let resp = app.get(&triggers_path(&r), Some(&r.maintainer.token));
    for h in ["x-page", "x-per-page", "x-total", "x-total-pages", "x-next-page", "x-prev-page", "link"] {
        assert!(resp.headers().contains_key(h), "missing {h}");
    }
    assert_eq!(header(&resp, "x-total"), "2");
    let body = json_of(resp, 200);
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], own.id);
    assert_eq!(items[0]["token"], short(&own.token));
    assert_eq!(items[0]["description"], "mine");
    assert_eq!(items[0]["owner"]["username"], "maintainer");
    assert_eq!(items[1]["id"], other.id);
    assert_eq!(items[1]["token"], short(&other.token));
    assert_eq!(items[1]["owner"]["username"], "developer");
}

#[test]
fn list_triggers_items_have_gitlabs_fields_in_gitlabs_order() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let body = json_of(app.get(&triggers_path(&r), Some(&r.owner.token)), 200);
    let keys: Vec<&str> = body[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "token",
            "description",
            "created_at",
            "updated_at",
            "last_used",
            "expires_at",
            "owner",
            // triggerd's policy and rotation fields (issue 14) come after GitLab's
            "allowed_refs",
            "allowed_variables",
            "required_variables",
            "max_variable_value_bytes",
            "previous_tokens",
            // the audit log's last address and GitLab's `expires_soon?`
            "last_used_ip",
            "expires_soon"
        ]
    );
    let owner: Vec<&str> = body[0]["owner"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(owner, ["id", "username", "name", "state", "locked", "avatar_url", "web_url"]);
    assert_eq!(body[0]["last_used"], Value::Null);
    assert_eq!(body[0]["expires_at"], Value::Null);
}

#[test]
fn list_triggers_returns_403_for_a_developer() {
    // §7 item 17
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(&triggers_path(&r), Some(&r.developer.token)),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn list_triggers_returns_403_for_a_guest_and_a_reporter() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for u in [&r.guest, &r.reporter] {
        assert_error(app.get(&triggers_path(&r), Some(&u.token)), 403, "message", json!("403 Forbidden"));
    }
}

#[test]
fn list_triggers_returns_401_without_credentials() {
    // §7 item 18
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(app.get(&triggers_path(&r), None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn list_triggers_returns_401_without_credentials_even_for_a_missing_project() {
    let app = spawn_app();
    assert_error(app.get("/projects/999/triggers", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn list_triggers_returns_404_project_not_found_for_a_non_member_of_a_private_project() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(&triggers_path(&r), Some(&r.non_member.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}

#[test]
fn list_triggers_returns_403_for_a_non_member_of_a_public_project() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    assert_error(
        app.get(&triggers_path(&r), Some(&r.non_member.token)),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn list_triggers_returns_404_project_not_found_for_a_missing_project() {
    let app = spawn_app();
    let root = app.root();
    for id in ["999", "nobody%2Fnothing", "not-a-path"] {
        assert_error(
            app.get(&format!("/projects/{id}/triggers"), Some(&root.token)),
            404,
            "message",
            json!("404 Project Not Found"),
        );
    }
}

#[test]
fn list_triggers_is_allowed_for_a_maintainer_the_owner_and_an_admin_with_short_tokens() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    for u in [&r.maintainer, &r.owner, &r.admin] {
        let body = json_of(app.get(&triggers_path(&r), Some(&u.token)), 200);
        assert_eq!(body.as_array().unwrap().len(), 1, "{}", u.username);
        assert_eq!(body[0]["token"], short(&t.token), "{}", u.username);
    }
}

#[test]
fn list_triggers_accepts_the_url_encoded_project_path() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body = json_of(app.get("/projects/owner%2Fdemo/triggers", Some(&r.maintainer.token)), 200);
    assert_eq!(body[0]["id"], t.id);
}

#[test]
fn list_triggers_shows_only_the_projects_own_triggers() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let other = app.create_project(&r.owner, "other", "private");
    app.seed_trigger(other, &r.owner, "elsewhere");
    let body = json_of(app.get(&triggers_path(&r), Some(&r.owner.token)), 200);
    let ids: Vec<i64> = body.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [t.id]);
}

#[test]
fn list_triggers_of_a_project_without_triggers_is_an_empty_array() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.get(&triggers_path(&r), Some(&r.owner.token));
    assert_eq!(header(&resp, "x-total"), "0");
    assert_eq!(header(&resp, "x-total-pages"), "1");
    assert_eq!(json_of(resp, 200), json!([]));
}

#[test]
fn list_triggers_paginates_and_its_next_link_works_when_followed() {
    let app = spawn_app();
    let r = app.roles();
    let ids: Vec<i64> =
        (0..5).map(|i| app.seed_trigger(r.project_id, &r.maintainer, &format!("t{i}")).id).collect();
    let resp = app.get(&format!("{}?per_page=2", triggers_path(&r)), Some(&r.maintainer.token));
    assert_eq!(header(&resp, "x-total"), "5");
    assert_eq!(header(&resp, "x-total-pages"), "3");
    assert_eq!(header(&resp, "x-per-page"), "2");
    assert_eq!(header(&resp, "x-page"), "1");
    assert_eq!(header(&resp, "x-next-page"), "2");
    assert_eq!(header(&resp, "x-prev-page"), "");
    let links = header(&resp, "link");
    assert!(link(&links, "prev").is_none(), "{links}");
    let mut seen: Vec<i64> =
        json_of(resp, 200).as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()).collect();
    let mut next = link(&links, "next");
    let mut pages = 1;
    while let Some(url) = next {
        assert!(url.starts_with(&app.address), "absolute URL on the server: {url}");
        let resp = app.client.get(&url).header("PRIVATE-TOKEN", &r.maintainer.token).send().unwrap();
        assert_eq!(header(&resp, "x-per-page"), "2");
        next = link(&header(&resp, "link"), "next");
        let body = json_of(resp, 200);
        seen.extend(body.as_array().unwrap().iter().map(|t| t["id"].as_i64().unwrap()));
        pages += 1;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
}

#[test]
fn list_triggers_links_use_the_host_the_client_named() {
    // python-gitlab warns on every page whose Link base differs from its own URL, so a client
    // that connects as `localhost` must get `localhost` links from a server bound to 127.0.0.1.
    let app = spawn_app();
    let r = app.roles();
    for i in 0..3 {
        app.seed_trigger(r.project_id, &r.maintainer, &format!("t{i}"));
    }
    let port = app.address.rsplit(':').next().unwrap().to_string();
    let resp = app
        .request(Method::GET, &format!("{}?per_page=2", triggers_path(&r)), Some(&r.maintainer.token))
        .header("Host", format!("localhost:{port}"))
        .send()
        .unwrap();
    let links = header(&resp, "link");
    let base = format!("http://localhost:{port}/api/v4/projects/{}/triggers?", r.project_id);
    for rel in ["next", "first", "last"] {
        assert!(link(&links, rel).is_some_and(|u| u.starts_with(&base)), "{rel}: {links}");
    }
    let body = json_of(resp, 200);
    assert_eq!(
        body[0]["owner"]["web_url"],
        json!(format!("http://localhost:{port}/{}", r.maintainer.username))
    );
}

#[test]
fn list_triggers_links_fall_back_to_the_bound_address_for_an_implausible_host() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::GET, &triggers_path(&r), Some(&r.maintainer.token))
        .header("Host", "a b")
        .send()
        .unwrap();
    let first = link(&header(&resp, "link"), "first").unwrap();
    assert!(first.starts_with(&format!("{}/api/v4/", app.address)), "{first}");
}

#[test]
fn list_triggers_links_use_the_configured_external_url_whatever_the_host() {
    let app = spawn_app_with(|c| c.server.external_url = "https://ci.example.com/".into());
    let r = app.roles();
    let resp = app
        .request(Method::GET, &triggers_path(&r), Some(&r.maintainer.token))
        .header("Host", "localhost:1")
        .send()
        .unwrap();
    let first = link(&header(&resp, "link"), "first").unwrap();
    assert!(first.starts_with("https://ci.example.com/api/v4/projects/"), "{first}");
}

#[test]
fn list_triggers_returns_the_requested_page() {
    let app = spawn_app();
    let r = app.roles();
    let ids: Vec<i64> =
        (0..5).map(|i| app.seed_trigger(r.project_id, &r.maintainer, &format!("t{i}")).id).collect();
    let resp = app.get(&format!("{}?per_page=2&page=3", triggers_path(&r)), Some(&r.maintainer.token));
    assert_eq!(header(&resp, "x-prev-page"), "2");
    assert_eq!(header(&resp, "x-next-page"), "");
    let body = json_of(resp, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    assert_eq!(body[0]["id"], ids[4]);
}

#[test]
fn list_triggers_refuses_keyset_pagination_with_405() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(
            &format!("{}?pagination=keyset&per_page=50&order_by=id", triggers_path(&r)),
            Some(&r.owner.token),
        ),
        405,
        "error",
        json!("Keyset pagination is not yet available for this type of request"),
    );
}

#[test]
fn list_triggers_rejects_a_page_below_one() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(&format!("{}?page=0", triggers_path(&r)), Some(&r.owner.token)),
        400,
        "error",
        json!("page does not have a valid value"),
    );
}

// ---------------------------------------------------------------------------------------------
// last_used

#[test]
fn last_used_is_the_created_at_of_the_triggers_newest_pipeline_by_id() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let other = app.seed_trigger(r.project_id, &r.maintainer, "other");
    let get = || json_of(app.get(&trigger_path(&r, t.id), Some(&r.maintainer.token)), 200);
    assert_eq!(get()["last_used"], Value::Null);

    insert_pipeline(&app, r.project_id, 1, t.id, r.maintainer.id, "2024-01-02T00:00:00.000Z");
    assert_eq!(get()["last_used"], "2024-01-02T00:00:00.000Z");
    // The highest id wins, even when its created_at is earlier (GitLab's model spec).
    insert_pipeline(&app, r.project_id, 2, t.id, r.maintainer.id, "2023-06-01T12:34:56.789Z");
    assert_eq!(get()["last_used"], "2023-06-01T12:34:56.789Z");
    // Another trigger's pipeline does not count.
    insert_pipeline(&app, r.project_id, 3, other.id, r.maintainer.id, "2025-01-01T00:00:00.000Z");
    assert_eq!(get()["last_used"], "2023-06-01T12:34:56.789Z");
}

#[test]
fn last_used_is_shown_on_the_list_too() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let unused = app.seed_trigger(r.project_id, &r.maintainer, "unused");
    insert_pipeline(&app, r.project_id, 1, t.id, r.maintainer.id, "2024-01-01T00:00:00.000Z");
    insert_pipeline(&app, r.project_id, 2, t.id, r.maintainer.id, "2024-03-04T05:06:07.890Z");
    let body = json_of(app.get(&triggers_path(&r), Some(&r.maintainer.token)), 200);
    assert_eq!(body[0]["id"], t.id);
    assert_eq!(body[0]["last_used"], "2024-03-04T05:06:07.890Z");
    assert_eq!(body[1]["id"], unused.id);
    assert_eq!(body[1]["last_used"], Value::Null);
}

// ---------------------------------------------------------------------------------------------
// GET /projects/:id/triggers/:trigger_id

#[test]
fn get_trigger_returns_the_trigger_to_a_maintainer() {
    // §7 item 20
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body = json_of(app.get(&trigger_path(&r, t.id), Some(&r.maintainer.token)), 200);
    assert!(body.is_object());
    assert_eq!(body["id"], t.id);
    assert_eq!(body["token"], short(&t.token));
    assert_eq!(body["description"], "maintainer's trigger");
    assert_eq!(body["owner"]["id"], r.maintainer.id);
    assert_eq!(body["owner"]["web_url"], format!("{}/maintainer", app.address));
    let created = body["created_at"].as_str().unwrap();
    assert_eq!(created.len(), 24, "{created}");
    assert!(created.ends_with('Z'));
    assert_eq!(body["updated_at"], body["created_at"]);
}

#[test]
fn get_trigger_returns_404_not_found_for_id_minus_5() {
    // §7 item 21
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.get(&trigger_path(&r, -5), Some(&r.maintainer.token)),
        404,
        "message",
        json!("404 Not found"),
    );
}

#[test]
fn get_trigger_returns_404_for_a_missing_id_and_for_another_projects_trigger() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let other = app.create_project(&r.owner, "other", "private");
    let foreign = app.seed_trigger(other, &r.owner, "elsewhere");
    for id in [9999, foreign.id] {
        assert_error(
            app.get(&trigger_path(&r, id), Some(&r.owner.token)),
            404,
            "message",
            json!("404 Not found"),
        );
    }
}

#[test]
fn get_trigger_returns_400_for_a_non_integer_id() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    for id in ["abc", "1.5", "1e3"] {
        assert_error(
            app.get(&format!("{}/{id}", triggers_path(&r)), Some(&r.maintainer.token)),
            400,
            "error",
            json!("trigger_id is invalid"),
        );
    }
}

#[test]
fn get_trigger_returns_403_for_a_developer() {
    // §7 item 22
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.get(&trigger_path(&r, t.id), Some(&r.developer.token)),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn get_trigger_returns_403_for_a_guest_and_a_reporter() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    for u in [&r.guest, &r.reporter] {
        assert_error(
            app.get(&trigger_path(&r, t.id), Some(&u.token)),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
}

#[test]
fn get_trigger_returns_401_without_credentials() {
    // §7 item 23
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(app.get(&trigger_path(&r, t.id), None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn get_trigger_returns_404_project_not_found_for_a_non_member_of_a_private_project() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.get(&trigger_path(&r, t.id), Some(&r.non_member.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
}

#[test]
fn get_trigger_is_allowed_for_another_maintainer_the_owner_and_an_admin_with_the_short_token() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let owners = app.seed_trigger(r.project_id, &r.owner, "owner's");
    // The maintainer does not own this one; the owner and the admin see it short like everyone.
    for u in [&r.maintainer, &r.owner, &r.admin] {
        let body = json_of(app.get(&trigger_path(&r, owners.id), Some(&u.token)), 200);
        assert_eq!(body["token"], short(&owners.token), "{}", u.username);
    }
}

#[test]
fn get_trigger_accepts_the_url_encoded_project_path() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body =
        json_of(app.get(&format!("/projects/owner%2Fdemo/triggers/{}", t.id), Some(&r.owner.token)), 200);
    assert_eq!(body["id"], t.id);
}

// ---------------------------------------------------------------------------------------------
// POST /projects/:id/triggers

#[test]
fn create_trigger_returns_201_and_stores_the_trigger_for_a_maintainer() {
    // §7 item 24
    let app = spawn_app();
    let r = app.roles();
    let before = app.count("triggers");
    let body = json_of(create_with(&app, &r, &r.maintainer.token, json!({"description": "trigger"})), 201);
    assert_eq!(app.count("triggers"), before + 1);
    assert_eq!(body["description"], "trigger");
    assert_eq!(body["owner"]["id"], r.maintainer.id);
    assert_eq!(body["owner"]["username"], "maintainer");
    assert_eq!(body["last_used"], Value::Null);
    assert_eq!(body["expires_at"], Value::Null);
    assert_eq!(body["created_at"], body["updated_at"]);
    let keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "token",
            "description",
            "created_at",
            "updated_at",
            "last_used",
            "expires_at",
            "owner",
            // triggerd's policy and rotation fields (issue 14) come after GitLab's
            "allowed_refs",
            "allowed_variables",
            "required_variables",
            "max_variable_value_bytes",
            "previous_tokens",
            // the audit log's last address and GitLab's `expires_soon?`
            "last_used_ip",
            "expires_soon"
        ]
    );
    let (project_id, owner_id): (i64, i64) = app
        .db()
        .query_row(
            "SELECT project_id, owner_id FROM triggers WHERE id = ?1",
            [body["id"].as_i64().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((project_id, owner_id), (r.project_id, r.maintainer.id));
}

#[test]
fn create_trigger_shows_the_full_token_once_and_the_short_token_afterwards() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(create_with(&app, &r, &r.maintainer.token, json!({"description": "once"})), 201);
    let token = body["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 46, "{token}");
    assert!(token.starts_with("glptt-"));
    assert!(token[6..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{token}");
    let id = body["id"].as_i64().unwrap();
    // Every later read, by anyone including the creator and an admin, shows the short token.
    for u in [&r.maintainer, &r.owner, &r.admin] {
        let got = json_of(app.get(&trigger_path(&r, id), Some(&u.token)), 200);
        assert_eq!(got["token"], &token[6..10], "{}", u.username);
        let listed = json_of(app.get(&triggers_path(&r), Some(&u.token)), 200);
        assert_eq!(listed[0]["token"], &token[6..10], "{}", u.username);
    }
    let updated = json_of(
        app.put_json(&trigger_path(&r, id), Some(&r.maintainer.token), &json!({"description": "x"})),
        200,
    );
    assert_eq!(updated["token"], &token[6..10]);
}

#[test]
fn create_trigger_generates_a_different_token_each_time() {
    let app = spawn_app();
    let r = app.roles();
    let a = json_of(create_with(&app, &r, &r.owner.token, json!({"description": "a"})), 201);
    let b = json_of(create_with(&app, &r, &r.owner.token, json!({"description": "b"})), 201);
    assert_ne!(a["token"], b["token"]);
}

#[test]
fn create_trigger_never_stores_the_token_in_the_database_files() {
    let app = spawn_app();
    let r = app.roles();
    let tokens: Vec<String> = (0..3)
        .map(|i| {
            let body =
                json_of(create_with(&app, &r, &r.owner.token, json!({"description": format!("t{i}")})), 201);
            body["token"].as_str().unwrap().to_string()
        })
        .collect();
    let mut files = vec![std::fs::read(&app.db_path).unwrap()];
    let wal = app.db_path.with_extension("db-wal");
    if let Ok(bytes) = std::fs::read(&wal) {
        files.push(bytes);
    }
    for token in &tokens {
        let secret_part = &token.as_bytes()[6..];
        for bytes in &files {
            assert!(!bytes.windows(token.len()).any(|w| w == token.as_bytes()), "the full token was stored");
            assert!(
                !bytes.windows(secret_part.len()).any(|w| w == secret_part),
                "the token's hex was stored"
            );
        }
        // What is stored: the digest and the short token.
        let (digest, short_token): (Vec<u8>, String) = app
            .db()
            .query_row(
                "SELECT token_digest, short_token FROM triggers WHERE token_digest = ?1",
                [triggerd::auth::digest(token)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(digest.len(), 32);
        assert_eq!(short_token, &token[6..10]);
    }
}

#[test]
fn create_trigger_returns_400_when_description_is_missing() {
    // §7 item 25
    let app = spawn_app();
    let r = app.roles();
    let before = app.count("triggers");
    assert_error(
        create_with(&app, &r, &r.maintainer.token, json!({})),
        400,
        "error",
        json!("description is missing"),
    );
    let resp = app.request(Method::POST, &triggers_path(&r), Some(&r.maintainer.token)).send().unwrap();
    assert_error(resp, 400, "error", json!("description is missing"));
    assert_error(
        create_with(&app, &r, &r.maintainer.token, json!({"description": null})),
        400,
        "error",
        json!("description is missing"),
    );
    assert_eq!(app.count("triggers"), before);
}

#[test]
fn create_trigger_with_a_go_style_empty_json_body_returns_400_description_is_missing() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::POST, &triggers_path(&r), Some(&r.maintainer.token))
        .header("Content-Type", "application/json")
        .body("")
        .send()
        .unwrap();
    assert_error(resp, 400, "error", json!("description is missing"));
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_accepts_an_empty_description() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(create_with(&app, &r, &r.maintainer.token, json!({"description": ""})), 201);
    assert_eq!(body["description"], "");
}

#[test]
fn create_trigger_rejects_a_description_that_is_not_a_string() {
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        create_with(&app, &r, &r.maintainer.token, json!({"description": ["a"]})),
        400,
        "error",
        json!("description is invalid"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_accepts_a_urlencoded_body() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::POST, &triggers_path(&r), Some(&r.maintainer.token))
        .form(&[("description", "from a form")])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["description"], "from a form");
}

#[test]
fn create_trigger_accepts_a_multipart_body() {
    let app = spawn_app();
    let r = app.roles();
    let form = reqwest::blocking::multipart::Form::new()
        .text("description", "from multipart")
        .text("expires_at", "2020-01-01T00:00:00Z");
    let resp = app
        .request(Method::POST, &triggers_path(&r), Some(&r.maintainer.token))
        .multipart(form)
        .send()
        .unwrap();
    let body = json_of(resp, 201);
    assert_eq!(body["description"], "from multipart");
    assert_eq!(body["expires_at"], "2020-01-01T00:00:00.000Z");
}

#[test]
fn create_trigger_accepts_description_in_the_query_string() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(
            Method::POST,
            &format!("{}?description=queried", triggers_path(&r)),
            Some(&r.maintainer.token),
        )
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["description"], "queried");
}

#[test]
fn create_trigger_stores_and_echoes_expires_at_in_utc_with_milliseconds() {
    // §7 item 26
    let app = spawn_app();
    let r = app.roles();
    let at = in_days(20);
    let body = json_of(
        create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": at})),
        201,
    );
    assert_eq!(body["expires_at"], at);
    let id = body["id"].as_i64().unwrap();
    assert_eq!(json_of(app.get(&trigger_path(&r, id), Some(&r.maintainer.token)), 200)["expires_at"], at);
}

#[test]
fn create_trigger_converts_an_expires_at_offset_to_utc() {
    let app = spawn_app();
    let r = app.roles();
    let year = model::today().year() + 1;
    let at = format!("{year}-01-01T10:00:00+02:00");
    let body = json_of(
        create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": at})),
        201,
    );
    assert_eq!(body["expires_at"], format!("{year}-01-01T08:00:00.000Z"));
}

#[test]
fn create_trigger_returns_400_for_expires_at_20_years_ahead() {
    // §7 item 27
    let app = spawn_app();
    let r = app.roles();
    let before = app.count("triggers");
    let resp = create_with(
        &app,
        &r,
        &r.maintainer.token,
        json!({"description": "x", "expires_at": in_days(20 * 365)}),
    );
    let expected = format!("400 Bad request - {{\"expires_at\":[\"must be before {}\"]}}", max_date());
    assert_error(resp, 400, "message", json!(expected));
    assert_eq!(app.count("triggers"), before);
}

#[test]
fn create_trigger_accepts_expires_at_up_to_the_day_before_the_limit() {
    let app = spawn_app();
    let r = app.roles();
    let last_ok = model::format_date(model::today() + Duration::days(364));
    let body = json_of(
        create_with(
            &app,
            &r,
            &r.maintainer.token,
            json!({"description": "x", "expires_at": format!("{last_ok}T23:59:59Z")}),
        ),
        201,
    );
    assert_eq!(body["expires_at"], format!("{last_ok}T23:59:59.000Z"));
    let resp =
        create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": max_date()}));
    assert_eq!(resp.status(), 400);
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn create_trigger_accepts_a_past_expires_at() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(
        create_with(
            &app,
            &r,
            &r.maintainer.token,
            json!({"description": "x", "expires_at": "2001-02-03T04:05:06.007Z"}),
        ),
        201,
    );
    assert_eq!(body["expires_at"], "2001-02-03T04:05:06.007Z");
}

#[test]
fn create_trigger_treats_a_blank_expires_at_as_none() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(
        create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": ""})),
        201,
    );
    assert_eq!(body["expires_at"], Value::Null);
}

#[test]
fn create_trigger_returns_400_for_an_unparsable_expires_at() {
    // §7 item 28
    let app = spawn_app();
    let r = app.roles();
    for bad in ["abc", "01/01/2050", "25/26/27", "2308"] {
        assert_error(
            create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": bad})),
            400,
            "error",
            json!("expires_at is invalid"),
        );
    }
    assert_error(
        create_with(&app, &r, &r.maintainer.token, json!({"description": "x", "expires_at": {"a": 1}})),
        400,
        "error",
        json!("expires_at is invalid"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_returns_400_with_gitlabs_message_beyond_the_plan_limit_of_25000() {
    // §7 items 29/30 (service stubs) map to our real validation failures: this and expires_at.
    let app = spawn_app();
    let r = app.roles();
    seed_many_triggers(&app, r.project_id, r.owner.id, 24_999);
    json_of(create_with(&app, &r, &r.maintainer.token, json!({"description": "the 25000th"})), 201);
    assert_eq!(app.count("triggers"), 25_000);
    assert_error(
        create_with(&app, &r, &r.maintainer.token, json!({"description": "one too many"})),
        400,
        "message",
        json!("400 Bad request - {\"base\":[\"Maximum number of pipeline triggers (25000) exceeded\"]}"),
    );
    assert_eq!(app.count("triggers"), 25_000);
    // The limit is per project.
    let other = app.create_project(&r.owner, "other", "private");
    let resp = app.post_json(
        &format!("/projects/{other}/triggers"),
        Some(&r.owner.token),
        &json!({"description": "x"}),
    );
    assert_eq!(resp.status(), 201);
}

#[test]
fn create_trigger_returns_403_for_a_developer() {
    // §7 item 31
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        create_with(&app, &r, &r.developer.token, json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_returns_403_for_a_guest_and_a_reporter() {
    let app = spawn_app();
    let r = app.roles();
    for u in [&r.guest, &r.reporter] {
        assert_error(
            create_with(&app, &r, &u.token, json!({"description": "x"})),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_returns_403_before_validating_the_body_of_a_developer() {
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        create_with(&app, &r, &r.developer.token, json!({})),
        403,
        "message",
        json!("403 Forbidden"),
    );
}

#[test]
fn create_trigger_returns_401_without_credentials() {
    // §7 item 32
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        app.post_json(&triggers_path(&r), None, &json!({"description": "x"})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_error(
        app.post_json(&triggers_path(&r), None, &json!({})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_returns_403_insufficient_scope_for_a_read_api_token() {
    let app = spawn_app();
    let r = app.roles();
    let token = app.seed_token(r.maintainer.id, &["read_api"], None);
    assert_error(
        create_with(&app, &r, &token, json!({"description": "x"})),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_returns_404_project_not_found_for_a_non_member_of_a_private_project() {
    let app = spawn_app();
    let r = app.roles();
    assert_error(
        create_with(&app, &r, &r.non_member.token, json!({"description": "x"})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn create_trigger_is_allowed_for_the_owner_and_an_admin_who_become_its_owner() {
    let app = spawn_app();
    let r = app.roles();
    for u in [&r.owner, &r.admin] {
        let body = json_of(create_with(&app, &r, &u.token, json!({"description": "x"})), 201);
        assert_eq!(body["owner"]["id"], u.id);
        assert_eq!(body["token"].as_str().unwrap().len(), 46);
    }
    assert_eq!(app.count("triggers"), 2);
}

#[test]
fn create_trigger_accepts_the_url_encoded_project_path() {
    let app = spawn_app();
    let r = app.roles();
    let resp =
        app.post_json("/projects/owner%2Fdemo/triggers", Some(&r.owner.token), &json!({"description": "x"}));
    let body = json_of(resp, 201);
    let project_id: i64 = app
        .db()
        .query_row("SELECT project_id FROM triggers WHERE id = ?1", [body["id"].as_i64().unwrap()], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(project_id, r.project_id);
}

#[test]
fn create_trigger_ignores_unknown_parameters() {
    let app = spawn_app();
    let r = app.roles();
    let body = json_of(
        create_with(
            &app,
            &r,
            &r.owner.token,
            json!({"description": "x", "token": "glptt-mine", "owner_id": 1}),
        ),
        201,
    );
    assert_ne!(body["token"], "glptt-mine");
    assert_eq!(body["owner"]["id"], r.owner.id);
}

// ---------------------------------------------------------------------------------------------
// PUT /projects/:id/triggers/:trigger_id

#[test]
fn update_trigger_changes_the_description_for_its_owning_maintainer() {
    // §7 item 33
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body = json_of(
        app.put_json(
            &trigger_path(&r, t.id),
            Some(&r.maintainer.token),
            &json!({"description": "new description"}),
        ),
        200,
    );
    assert_eq!(body["description"], "new description");
    assert_eq!(body["id"], t.id);
    assert_eq!(body["token"], short(&t.token));
    assert_eq!(body["owner"]["id"], r.maintainer.id);
    assert_eq!(description_in_db(&app, t.id).as_deref(), Some("new description"));
}

#[test]
fn update_trigger_returns_403_for_a_maintainer_who_does_not_own_it() {
    // §7 item 34
    let app = spawn_app();
    let (r, _) = setup(&app);
    let other = app.seed_trigger(r.project_id, &r.owner, "owner's");
    assert_error(
        app.put_json(&trigger_path(&r, other.id), Some(&r.maintainer.token), &json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
    );
    assert_eq!(description_in_db(&app, other.id).as_deref(), Some("owner's"));
}

#[test]
fn update_trigger_returns_403_for_the_project_owner_who_does_not_own_the_trigger() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.put_json(&trigger_path(&r, t.id), Some(&r.owner.token), &json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
    );
    assert_eq!(description_in_db(&app, t.id).as_deref(), Some("maintainer's trigger"));
}

#[test]
fn update_trigger_returns_403_for_a_developer_on_their_own_trigger() {
    // §7 item 35
    let app = spawn_app();
    let r = app.roles();
    let own = app.seed_trigger(r.project_id, &r.developer, "dev's");
    assert_error(
        app.put_json(&trigger_path(&r, own.id), Some(&r.developer.token), &json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
    );
    assert_eq!(description_in_db(&app, own.id).as_deref(), Some("dev's"));
}

#[test]
fn update_trigger_returns_403_for_a_developer_on_someone_elses_trigger() {
    // §7 item 36
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.put_json(&trigger_path(&r, t.id), Some(&r.developer.token), &json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
    );
}

#[test]
fn update_trigger_returns_403_for_a_guest_and_a_reporter_even_on_their_own_trigger() {
    let app = spawn_app();
    let r = app.roles();
    for u in [&r.guest, &r.reporter] {
        let own = app.seed_trigger(r.project_id, u, "theirs");
        assert_error(
            app.put_json(&trigger_path(&r, own.id), Some(&u.token), &json!({"description": "x"})),
            403,
            "message",
            json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
        );
        assert_eq!(description_in_db(&app, own.id).as_deref(), Some("theirs"));
    }
}

#[test]
fn update_trigger_returns_403_for_its_owner_once_demoted_to_developer() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    app.add_member(r.project_id, &r.maintainer, DEVELOPER);
    assert_error(
        app.put_json(&trigger_path(&r, t.id), Some(&r.maintainer.token), &json!({"description": "x"})),
        403,
        "message",
        json!("403 Forbidden - The current user is not authorized to update the pipeline trigger token"),
    );
}

#[test]
fn update_trigger_looks_up_the_trigger_before_checking_permission() {
    // GitLab finds the trigger first: a developer gets 404 for a missing id, 403 for an existing one.
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.put_json(&trigger_path(&r, 9999), Some(&r.developer.token), &json!({"description": "x"})),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_error(
        app.put_json(&trigger_path(&r, -5), Some(&r.guest.token), &json!({"description": "x"})),
        404,
        "message",
        json!("404 Not found"),
    );
}

#[test]
fn update_trigger_returns_401_without_credentials() {
    // §7 item 37
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.put_json(&trigger_path(&r, t.id), None, &json!({"description": "x"})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(description_in_db(&app, t.id).as_deref(), Some("maintainer's trigger"));
}

#[test]
fn update_trigger_returns_404_project_not_found_for_a_non_member_of_a_private_project() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.put_json(&trigger_path(&r, t.id), Some(&r.non_member.token), &json!({"description": "x"})),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_eq!(description_in_db(&app, t.id).as_deref(), Some("maintainer's trigger"));
}

#[test]
fn update_trigger_is_allowed_for_an_admin_on_anyones_trigger() {
    // §7 items 38/39 are service stubs; the admin path of :admin_trigger is the real counterpart.
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body = json_of(
        app.put_json(&trigger_path(&r, t.id), Some(&r.admin.token), &json!({"description": "by admin"})),
        200,
    );
    assert_eq!(body["description"], "by admin");
    assert_eq!(body["token"], short(&t.token));
    assert_eq!(body["owner"]["id"], r.maintainer.id, "the owner does not change");
}

#[test]
fn update_trigger_is_allowed_for_the_project_owner_on_their_own_trigger() {
    let app = spawn_app();
    let r = app.roles();
    let own = app.seed_trigger(r.project_id, &r.owner, "owner's");
    let body = json_of(
        app.put_json(&trigger_path(&r, own.id), Some(&r.owner.token), &json!({"description": "y"})),
        200,
    );
    assert_eq!(body["description"], "y");
}

#[test]
fn update_trigger_without_description_keeps_the_description() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let old = "2020-01-01T00:00:00.000Z";
    set_updated_at(&app, t.id, old);
    for body in [json!({}), json!({"expires_at": "2020-01-01"}), json!({"description": null})] {
        let got = json_of(app.put_json(&trigger_path(&r, t.id), Some(&r.maintainer.token), &body), 200);
        assert_eq!(got["description"], "maintainer's trigger", "{body}");
        assert_eq!(got["updated_at"], old, "{body}");
        assert_eq!(got["expires_at"], Value::Null, "expires_at is not updatable");
    }
    // An empty body too (as gitlab4j sends with Content-Type text/plain).
    let resp = app
        .request(Method::PUT, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .header("Content-Type", "text/plain")
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 200)["description"], "maintainer's trigger");
    assert_eq!(description_in_db(&app, t.id).as_deref(), Some("maintainer's trigger"));
    assert_eq!(updated_at_in_db(&app, t.id), old);
}

#[test]
fn update_trigger_bumps_updated_at_only_when_the_description_changes() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let old = "2020-01-01T00:00:00.000Z";
    set_updated_at(&app, t.id, old);
    let same = json_of(
        app.put_json(
            &trigger_path(&r, t.id),
            Some(&r.maintainer.token),
            &json!({"description": "maintainer's trigger"}),
        ),
        200,
    );
    assert_eq!(same["updated_at"], old);
    let changed = json_of(
        app.put_json(&trigger_path(&r, t.id), Some(&r.maintainer.token), &json!({"description": "new"})),
        200,
    );
    let bumped = changed["updated_at"].as_str().unwrap();
    assert!(bumped > old, "{bumped}");
    assert_eq!(updated_at_in_db(&app, t.id), bumped);
    assert_ne!(changed["created_at"], changed["updated_at"]);
}

#[test]
fn update_trigger_accepts_an_empty_description_and_form_bodies() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let body = json_of(
        app.put_json(&trigger_path(&r, t.id), Some(&r.maintainer.token), &json!({"description": ""})),
        200,
    );
    assert_eq!(body["description"], "");
    let resp = app
        .request(Method::PUT, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .form(&[("description", "from a form")])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 200)["description"], "from a form");
}

#[test]
fn update_trigger_returns_404_for_id_minus_5_and_another_projects_trigger() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let other = app.create_project(&r.maintainer, "mine", "private");
    let foreign = app.seed_trigger(other, &r.maintainer, "elsewhere");
    for id in [-5, foreign.id] {
        assert_error(
            app.put_json(&trigger_path(&r, id), Some(&r.maintainer.token), &json!({"description": "x"})),
            404,
            "message",
            json!("404 Not found"),
        );
    }
    assert_eq!(description_in_db(&app, foreign.id).as_deref(), Some("elsewhere"));
}

#[test]
fn update_trigger_returns_400_for_a_non_integer_id() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.put_json(
            &format!("{}/abc", triggers_path(&r)),
            Some(&r.maintainer.token),
            &json!({"description": "x"}),
        ),
        400,
        "error",
        json!("trigger_id is invalid"),
    );
}

#[test]
fn update_trigger_accepts_the_url_encoded_project_path() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let resp = app.put_json(
        &format!("/projects/owner%2Fdemo/triggers/{}", t.id),
        Some(&r.maintainer.token),
        &json!({"description": "via path"}),
    );
    assert_eq!(json_of(resp, 200)["description"], "via path");
}

// ---------------------------------------------------------------------------------------------
// DELETE /projects/:id/triggers/:trigger_id

#[test]
fn delete_trigger_returns_204_with_an_empty_body_and_removes_it() {
    // §7 item 40
    let app = spawn_app();
    let (r, t) = setup(&app);
    let before = app.count("triggers");
    let resp = app.delete(&trigger_path(&r, t.id), Some(&r.maintainer.token));
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().unwrap(), "");
    assert_eq!(app.count("triggers"), before - 1);
    assert_error(
        app.get(&trigger_path(&r, t.id), Some(&r.maintainer.token)),
        404,
        "message",
        json!("404 Not found"),
    );
}

#[test]
fn delete_trigger_returns_404_for_id_minus_5() {
    // §7 item 41
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.delete(&trigger_path(&r, -5), Some(&r.maintainer.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_returns_404_for_another_projects_trigger() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    let other = app.create_project(&r.owner, "other", "private");
    let foreign = app.seed_trigger(other, &r.owner, "elsewhere");
    assert_error(
        app.delete(&trigger_path(&r, foreign.id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
    assert_eq!(app.count("triggers"), 2);
}

#[test]
fn delete_trigger_returns_400_for_a_non_integer_id() {
    let app = spawn_app();
    let (r, _) = setup(&app);
    assert_error(
        app.delete(&format!("{}/abc", triggers_path(&r)), Some(&r.owner.token)),
        400,
        "error",
        json!("trigger_id is invalid"),
    );
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_returns_412_when_modified_since_if_unmodified_since() {
    // §7 item 42
    let app = spawn_app();
    let (r, t) = setup(&app);
    let resp = app
        .request(Method::DELETE, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .header("If-Unmodified-Since", "1990-01-12T00:00:48-0600")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 412);
    let body: Value = serde_json::from_str(&resp.text().unwrap()).unwrap();
    assert_eq!(body, json!({"message": "412 Precondition Failed"}));
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_with_if_unmodified_since_now_returns_204() {
    // §7 item 42, second half
    let app = spawn_app();
    let (r, t) = setup(&app);
    let now = model::format_ts(OffsetDateTime::now_utc() + Duration::seconds(1));
    let resp = app
        .request(Method::DELETE, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .header("If-Unmodified-Since", now)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(resp.text().unwrap(), "");
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn delete_trigger_accepts_an_http_date_and_ignores_an_unparsable_if_unmodified_since() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let resp = app
        .request(Method::DELETE, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .header("If-Unmodified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 412);
    let resp = app
        .request(Method::DELETE, &trigger_path(&r, t.id), Some(&r.maintainer.token))
        .header("If-Unmodified-Since", "not a date")
        .send()
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn delete_trigger_returns_403_for_a_developer() {
    // §7 item 43
    let app = spawn_app();
    let (r, t) = setup(&app);
    let own = app.seed_trigger(r.project_id, &r.developer, "dev's");
    for id in [t.id, own.id] {
        assert_error(
            app.delete(&trigger_path(&r, id), Some(&r.developer.token)),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_eq!(app.count("triggers"), 2);
}

#[test]
fn delete_trigger_returns_403_for_a_guest_and_a_reporter() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    for u in [&r.guest, &r.reporter] {
        assert_error(
            app.delete(&trigger_path(&r, t.id), Some(&u.token)),
            403,
            "message",
            json!("403 Forbidden"),
        );
    }
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_returns_401_without_credentials() {
    // §7 item 44
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(app.delete(&trigger_path(&r, t.id), None), 401, "message", json!("401 Unauthorized"));
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_returns_404_project_not_found_for_a_non_member_of_a_private_project() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_error(
        app.delete(&trigger_path(&r, t.id), Some(&r.non_member.token)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn delete_trigger_is_allowed_for_a_maintainer_the_owner_and_an_admin_on_any_trigger() {
    let app = spawn_app();
    let r = app.roles();
    // Each deletes a trigger someone else owns.
    for (u, owner) in [(&r.maintainer, &r.owner), (&r.owner, &r.maintainer), (&r.admin, &r.developer)] {
        let t = app.seed_trigger(r.project_id, owner, "x");
        let resp = app.delete(&trigger_path(&r, t.id), Some(&u.token));
        assert_eq!(resp.status(), 204, "{}", u.username);
    }
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn delete_trigger_accepts_the_url_encoded_project_path_and_keeps_its_pipelines() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let pipeline = insert_pipeline(&app, r.project_id, 1, t.id, r.maintainer.id, "2024-01-01T00:00:00.000Z");
    let resp = app.delete(&format!("/projects/owner%2Fdemo/triggers/{}", t.id), Some(&r.owner.token));
    assert_eq!(resp.status(), 204);
    let trigger_id: Option<i64> = app
        .db()
        .query_row("SELECT trigger_id FROM pipelines WHERE id = ?1", [pipeline], |r| r.get(0))
        .unwrap();
    assert_eq!(trigger_id, None);
}

#[test]
fn delete_trigger_twice_returns_404_the_second_time() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    assert_eq!(app.delete(&trigger_path(&r, t.id), Some(&r.owner.token)).status(), 204);
    assert_error(
        app.delete(&trigger_path(&r, t.id), Some(&r.owner.token)),
        404,
        "message",
        json!("404 Not found"),
    );
}

// ---------------------------------------------------------------------------------------------
// Routing

#[test]
fn unsupported_methods_on_trigger_routes_get_a_json_405() {
    let app = spawn_app();
    let (r, t) = setup(&app);
    let resp = app.request(Method::PATCH, &trigger_path(&r, t.id), Some(&r.owner.token)).send().unwrap();
    assert_eq!(resp.status(), 405);
    let resp = app.request(Method::DELETE, &triggers_path(&r), Some(&r.owner.token)).send().unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(app.count("triggers"), 1);
}
