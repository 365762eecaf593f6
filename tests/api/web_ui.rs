//! The web UI over HTTP: sign-in and sessions, the security headers, CSRF refusals, the pipeline
//! pages, and who may see which page (the same rules as the API).

use serde_json::json;

use crate::helpers::*;
use crate::web_support::*;

#[test]
fn signing_in_sets_an_http_only_lax_cookie_whose_value_is_stored_only_as_a_digest() {
    let app = spawn_app();
    let r = app.roles();
    set_password(&app, &r.owner);
    let b = Browser::new(&app);
    let resp = b.post(
        "/users/sign_in",
        &[
            ("login", &format!("{}@example.com", r.owner.username)),
            ("password", PASSWORD),
            ("return_to", "/owner/demo"),
        ],
    );
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp), "/owner/demo");
    let set_cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(
        set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
            && set_cookie.contains("Path=/")
    );
    assert!(!set_cookie.contains("Secure"), "plain http must not get a Secure cookie: {set_cookie}");
    let value = session_cookie(&resp).unwrap();
    assert_eq!(value.len(), 64);
    let stored: Vec<u8> =
        app.db().query_row("SELECT token_digest FROM web_sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(stored, triggerd::auth::digest(&value));
    let raw: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM web_sessions WHERE CAST(token_digest AS TEXT) = ?1", [&value], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(raw, 0);
}

#[test]
fn a_return_to_pointing_at_another_site_is_ignored_after_sign_in() {
    let app = spawn_app();
    let r = app.roles();
    set_password(&app, &r.owner);
    let resp = Browser::new(&app).post(
        "/users/sign_in",
        &[("login", &r.owner.username), ("password", PASSWORD), ("return_to", "//evil.example/")],
    );
    assert_eq!(location(&resp), "/dashboard/projects");
}

#[test]
fn a_wrong_password_and_an_unknown_login_get_the_same_message_and_no_cookie() {
    let app = spawn_app();
    let r = app.roles();
    set_password(&app, &r.owner);
    let b = Browser::new(&app);
    for login in [r.owner.username.as_str(), "nobody"] {
        let resp = b.post("/users/sign_in", &[("login", login), ("password", "wrong password")]);
        assert_eq!(resp.status(), 401);
        assert!(session_cookie(&resp).is_none());
        assert!(resp.text().unwrap().contains("Invalid login or password."));
    }
    assert_eq!(app.count("web_sessions"), 0);
}

#[test]
fn failed_sign_ins_from_one_address_are_throttled_even_with_the_right_password_afterwards() {
    let app = spawn_app_with(|c| c.web.max_failed_sign_ins = 2);
    let r = app.roles();
    set_password(&app, &r.owner);
    let b = Browser::new(&app);
    for _ in 0..2 {
        assert_eq!(b.post("/users/sign_in", &[("login", "owner"), ("password", "nope")]).status(), 401);
    }
    let resp = b.post("/users/sign_in", &[("login", "owner"), ("password", PASSWORD)]);
    assert_eq!(resp.status(), 429);
    assert!(session_cookie(&resp).is_none());
}

#[test]
fn signing_out_deletes_the_session_so_the_old_cookie_no_longer_opens_pages() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.owner);
    let csrf = b.csrf("/dashboard/projects");
    let resp = b.post("/users/sign_out", &[("_csrf", &csrf)]);
    assert_eq!(resp.status(), 303);
    assert!(resp.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(app.count("web_sessions"), 0);
    let again = b.get("/dashboard/projects");
    assert_eq!(again.status(), 303);
    assert!(location(&again).starts_with("/users/sign_in?return_to=%2Fdashboard%2Fprojects"));
}

#[test]
fn a_blocked_users_session_stops_working_and_a_deleted_users_sessions_are_removed() {
    let app = spawn_app();
    let r = app.roles();
    let blocked = Browser::sign_in(&app, &r.developer);
    let deleted = Browser::sign_in(&app, &r.reporter);
    assert_eq!(blocked.get("/dashboard/projects").status(), 200);
    let root = app.root();
    assert_eq!(
        app.request(reqwest::Method::POST, &format!("/users/{}/block", r.developer.id), Some(&root.token))
            .send()
            .unwrap()
            .status(),
        201
    );
    assert_eq!(blocked.get("/dashboard/projects").status(), 303);
    assert_eq!(app.delete(&format!("/users/{}", r.reporter.id), Some(&root.token)).status(), 204);
    let left: i64 = app
        .db()
        .query_row("SELECT COUNT(*) FROM web_sessions WHERE user_id = ?1", [r.reporter.id], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(deleted.get("/dashboard/projects").status(), 303);
}

#[test]
fn an_expired_session_sends_the_browser_to_sign_in() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.owner);
    app.db().execute("UPDATE web_sessions SET expires_at = '2000-01-01T00:00:00.000Z'", []).unwrap();
    assert_eq!(b.get("/owner/demo").status(), 303);
}

#[test]
fn pages_carry_a_strict_csp_and_no_framing_and_assets_are_cached_for_a_year() {
    let app = spawn_app();
    let b = Browser::new(&app);
    let resp = b.get("/users/sign_in");
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("script-src 'self'")
            && csp.contains("frame-ancestors 'none'")
    );
    assert!(!csp.contains("unsafe"));
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    assert!(!html.contains("<script>") && !html.contains(" style=") && !html.contains(" onclick="));
    for (path, kind) in [("/-/ui/static/app.css", "text/css"), ("/-/ui/static/app.js", "text/javascript")] {
        let resp = b.get(path);
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with(kind));
        assert!(resp.headers().get("cache-control").unwrap().to_str().unwrap().contains("max-age=31536000"));
    }
}

#[test]
fn the_api_keeps_its_json_404_and_pages_answer_html_404() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.client.get(format!("{}/api/v4/nothing/here", app.address)).send().unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.json::<serde_json::Value>().unwrap(), json!({"error": "404 Not Found"}));
    assert_eq!(app.client.get(format!("{}/-/health", app.address)).send().unwrap().status(), 200);
    let b = Browser::sign_in(&app, &r.owner);
    let resp = b.get("/owner/nothing-here");
    assert_eq!(resp.status(), 404);
    assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    assert!(resp.text().unwrap().contains("Page not found"));
}

#[test]
fn a_cross_origin_form_post_is_refused_with_403_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let settings = b.page("/owner/demo/-/settings/ci_cd", 200);
    let form = [
        ("_csrf", hidden(&settings, "_csrf")),
        ("nonce", hidden(&settings, "nonce")),
        ("description", "forged".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    for headers in [
        vec![("origin", "http://evil.example")],
        vec![("sec-fetch-site", "same-site"), ("origin", "http://127.0.0.1:1")],
        vec![("sec-fetch-site", "cross-site")],
    ] {
        let resp = b.post_with("/owner/demo/-/triggers", &pairs, &headers);
        assert_eq!(resp.status(), 403, "{headers:?}");
    }
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn a_post_without_this_sessions_form_token_is_refused_with_422_and_changes_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "keep");
    let b = Browser::sign_in(&app, &r.maintainer);
    let other = Browser::sign_in(&app, &r.owner);
    let foreign = other.csrf("/dashboard/projects");
    for csrf in ["", "0000", foreign.as_str()] {
        let resp = b.post(
            &format!("/owner/demo/-/triggers/{}/revoke", trigger.id),
            &[("_csrf", csrf), ("confirm", "1")],
        );
        assert_eq!(resp.status(), 422);
        let resp =
            b.post("/owner/demo/-/triggers", &[("_csrf", csrf), ("nonce", "n1"), ("description", "x")]);
        assert_eq!(resp.status(), 422);
    }
    assert_eq!(app.count("triggers"), 1);
}

#[test]
fn a_hidden_project_is_404_for_a_non_member_and_asks_a_visitor_to_sign_in() {
    let app = spawn_app();
    let r = app.roles();
    let stranger = Browser::sign_in(&app, &r.non_member);
    let guest = Browser::sign_in(&app, &r.guest);
    for path in ["/owner/demo", "/owner/demo/-/pipelines", "/owner/demo/-/settings/ci_cd"] {
        assert_eq!(stranger.get(path).status(), 404, "{path}");
        assert_eq!(guest.get(path).status(), 404, "guest {path}");
        let anonymous = Browser::new(&app).get(path);
        assert_eq!(anonymous.status(), 303);
        assert!(location(&anonymous).starts_with("/users/sign_in?return_to="));
    }
    assert!(!stranger.page("/dashboard/projects", 200).contains("owner/demo"));
    assert!(!stranger.page("/owner", 200).contains("owner/demo"), "the user page hides it too");
    assert!(Browser::sign_in(&app, &r.developer).page("/owner", 200).contains("owner/demo"));
}

#[test]
fn bad_filter_values_and_ids_get_an_html_4xx_never_a_500() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.owner);
    let missing_commit = format!("/owner/demo/-/commit/{}", "f".repeat(40));
    for (path, status) in [
        ("/owner/demo/-/pipelines?status=bogus", 400),
        ("/owner/demo/-/pipelines?scope=%00", 400),
        ("/owner/demo/-/pipelines?page=0", 400),
        ("/owner/demo/-/pipelines/abc", 404),
        ("/owner/demo/-/pipelines/99999999999999999999", 404),
        ("/owner/demo/-/jobs/-1", 404),
        ("/dashboard/projects?page=x", 400),
        ("/owner/demo/-/commit/not-a-sha", 404),
        (missing_commit.as_str(), 404),
        ("/no-such-user", 404),
    ] {
        let resp = b.get(path);
        assert_eq!(resp.status(), status, "{path}");
        assert!(resp.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/html"));
    }
    let bad_body = b.post_with("/users/sign_in", &[("login", "\u{0}"), ("password", "")], &[]);
    assert_eq!(bad_body.status(), 401);
}

/// The page's outcome for an API status: allowed (2xx) pages answer 200 (or 303 after a
/// write); refused ones (403 or 404 in the API) are 404 pages, as GitLab shows them.
fn page_outcome(api_status: u16, allowed_page: u16) -> u16 {
    if (200..300).contains(&api_status) { allowed_page } else { 404 }
}

#[test]
fn every_role_meets_the_same_rules_on_the_pages_as_in_the_api() {
    let app = spawn_app();
    let r = app.roles();
    let pipeline = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"b".repeat(40));
    let pid = r.project_id;
    for (name, user) in [
        ("guest", &r.guest),
        ("reporter", &r.reporter),
        ("developer", &r.developer),
        ("maintainer", &r.maintainer),
        ("owner", &r.owner),
        ("stranger", &r.non_member),
        ("admin", &r.admin),
    ] {
        let b = Browser::sign_in(&app, user);
        let api = |path: &str| app.get(path, Some(&user.token)).status().as_u16();
        let checks = [
            ("settings", api(&format!("/projects/{pid}/triggers")), "/owner/demo/-/settings/ci_cd"),
            ("pipelines", api(&format!("/projects/{pid}/pipelines")), "/owner/demo/-/pipelines"),
            (
                "pipeline",
                api(&format!("/projects/{pid}/pipelines/{pipeline}")),
                &format!("/owner/demo/-/pipelines/{pipeline}"),
            ),
        ];
        for (what, api_status, path) in checks {
            assert_eq!(
                b.get(path).status().as_u16(),
                page_outcome(api_status, 200),
                "{name}: {what} (API {api_status})"
            );
        }
        let variables = api(&format!("/projects/{pid}/pipelines/{pipeline}/variables"));
        if b.get(&format!("/owner/demo/-/pipelines/{pipeline}")).status() == 200 {
            let shown =
                b.page(&format!("/owner/demo/-/pipelines/{pipeline}"), 200).contains("TRIGGER_PAYLOAD");
            assert_eq!(shown, variables == 200, "{name}: variables (API {variables})");
        }
        // The page first (a pipeline already canceled stays so, and the API answers 200 again).
        let csrf = b.csrf("/dashboard/projects");
        let page_cancel = b.post(
            &format!("/owner/demo/-/pipelines/{pipeline}/cancel"),
            &[("_csrf", &csrf), ("confirm", "1")],
        );
        let api_cancel = app
            .request(
                reqwest::Method::POST,
                &format!("/projects/{pid}/pipelines/{pipeline}/cancel"),
                Some(&user.token),
            )
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(
            page_cancel.status().as_u16(),
            page_outcome(api_cancel, 303),
            "{name}: cancel (API {api_cancel})"
        );
        // Delete: the page asks (200) exactly for whom the API deletes (each role its own pipeline).
        let doomed = app.seed_pipeline(pid, Some(r.owner.id), "main", &"e".repeat(40));
        let page_delete = b
            .post(&format!("/owner/demo/-/pipelines/{doomed}/delete"), &[("_csrf", &csrf), ("confirm", "0")]);
        let api_delete = app
            .request(
                reqwest::Method::DELETE,
                &format!("/projects/{pid}/pipelines/{doomed}"),
                Some(&user.token),
            )
            .send()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(
            page_delete.status().as_u16(),
            page_outcome(api_delete, 200),
            "{name}: delete (API {api_delete})"
        );
    }
}

#[test]
fn behind_an_https_external_url_the_cookie_is_secure_and_that_origin_may_post() {
    let app = spawn_app_with(|c| c.server.external_url = "https://ci.example.org".into());
    let r = app.roles();
    set_password(&app, &r.maintainer);
    let b = Browser::new(&app);
    let resp = b.post_with(
        "/users/sign_in",
        &[("login", "maintainer"), ("password", PASSWORD)],
        &[("origin", "https://ci.example.org")],
    );
    assert_eq!(resp.status(), 303);
    let set_cookie = resp.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(set_cookie.ends_with("; Secure"), "{set_cookie}");
    let refused = b.post_with(
        "/users/sign_in",
        &[("login", "maintainer"), ("password", PASSWORD)],
        &[("origin", "http://ci.example.org")],
    );
    assert_eq!(refused.status(), 403, "http is another origin than https");
}

#[test]
fn pages_of_a_project_in_a_subgroup_live_under_its_full_path() {
    let app = spawn_app();
    let boss = app.create_user("boss");
    let org =
        json_of(app.post_json("/groups", Some(&boss.token), &json!({"name": "Org", "path": "org"})), 201);
    let team = json_of(
        app.post_json(
            "/groups",
            Some(&boss.token),
            &json!({"name": "Team", "path": "team", "parent_id": org["id"]}),
        ),
        201,
    );
    let p = json_of(
        app.post_json("/projects", Some(&boss.token), &json!({"name": "app", "namespace_id": team["id"]})),
        201,
    );
    let pid = p["id"].as_i64().unwrap();
    let sha = app.seed_ref(pid, "branch", "main");
    let pipeline = app.seed_pipeline(pid, Some(boss.id), "main", &sha);
    let b = Browser::sign_in(&app, &boss);
    let overview = b.page("/org/team/app", 200);
    assert!(overview.contains("/org/team/app/-/pipelines"), "{overview}");
    let list = b.page("/org/team/app/-/pipelines", 200);
    assert!(list.contains(&format!("/org/team/app/-/pipelines/{pipeline}")), "{list}");
    b.page(&format!("/org/team/app/-/pipelines/{pipeline}"), 200);
    b.page("/org/team/app/-/settings/ci_cd", 200);
    let (status, page) = create_token(&b, "org/team/app", "from the web");
    assert_eq!(status, 201, "{page}");
    assert_eq!(tokens_in(&page).len(), 1);
    // Paths that are no project: 404, not a wrong project.
    b.page("/org/team", 404);
    b.page("/org/team/app/-/nothing", 404);
    b.page("/org/nope/app/-/pipelines", 404);
}
