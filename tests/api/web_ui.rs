//! The web UI over HTTP: sign-in and sessions, the security headers, CSRF refusals, the trigger
//! token shown once, and who may see which page (the same rules as the API).

use std::sync::OnceLock;

use reqwest::blocking::Response;
use serde_json::json;

use crate::helpers::*;

const PASSWORD: &str = "correct horse battery staple";

/// One argon2id hash of [`PASSWORD`] for every test user (hashing is slow in debug builds).
fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| triggerd::auth::hash_password(PASSWORD).unwrap())
}

/// A browser stand-in: the session cookie and the form token of the last page read.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: Option<String>,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    fn get(&self, path: &str) -> Response {
        let mut rb = self.app.client.get(self.url(path));
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", format!("triggerd_session={c}"));
        }
        rb.send().unwrap()
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_with(path, form, &[])
    }

    fn post_with(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
        let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut rb = self
            .app
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", format!("triggerd_session={c}"));
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        rb.send().unwrap()
    }

    /// Signs in (the user gets [`PASSWORD`] first); panics unless it worked.
    fn sign_in(app: &'a TestApp, user: &TestUser) -> Self {
        set_password(app, user);
        let mut b = Browser::new(app);
        let resp = b.post("/users/sign_in", &[("login", &user.username), ("password", PASSWORD)]);
        assert_eq!(resp.status(), 303, "sign-in of {} failed", user.username);
        b.cookie = Some(session_cookie(&resp).expect("a session cookie"));
        b
    }

    /// The page's HTML (status checked).
    fn page(&self, path: &str, status: u16) -> String {
        let resp = self.get(path);
        assert_eq!(resp.status(), status, "GET {path}");
        resp.text().unwrap()
    }

    /// The form token on a page.
    fn csrf(&self, path: &str) -> String {
        hidden(&self.page(path, 200), "_csrf")
    }
}

fn set_password(app: &TestApp, user: &TestUser) {
    app.db()
        .execute(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2",
            rusqlite::params![password_hash(), user.id],
        )
        .unwrap();
}

/// The value of `triggerd_session` in a response's `Set-Cookie`.
fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("triggerd_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
}

/// The value of the first hidden input named `name`.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn location(resp: &Response) -> String {
    resp.headers().get("location").unwrap().to_str().unwrap().to_string()
}

/// Gives the project a `.gitlab-ci.yml` on `main` (two jobs in two stages).
fn add_ci_config(app: &TestApp, r: &Roles) {
    let resp = app.post_json(
        &format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id),
        Some(&r.owner.token),
        &json!({"branch": "main", "commit_message": "ci", "content":
            "build:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n"}),
    );
    assert_eq!(resp.status(), 201, "{}", resp.text().unwrap());
}

/// Creates a trigger token through the settings page; returns the page answering the POST.
fn create_token(b: &Browser, path: &str, description: &str) -> (u16, String) {
    let settings = b.page(&format!("/{path}/-/settings/ci_cd"), 200);
    let form = [
        ("_csrf", hidden(&settings, "_csrf")),
        ("nonce", hidden(&settings, "nonce")),
        ("description", description.to_string()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = b.post(&format!("/{path}/-/triggers"), &pairs);
    (resp.status().as_u16(), resp.text().unwrap())
}

/// The `glptt-…` tokens in a page.
fn tokens_in(html: &str) -> Vec<String> {
    let mut found: Vec<String> = html
        .match_indices("glptt-")
        .map(|(i, _)| html[i..].chars().take(46).collect::<String>())
        .filter(|t| t.len() == 46 && t[6..].chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    found.dedup();
    found
}

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
fn a_new_trigger_token_is_shown_once_and_a_replayed_form_mints_and_shows_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let settings = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(settings.contains("No trigger tokens have been created yet."));
    let form = [
        ("_csrf", hidden(&settings, "_csrf")),
        ("nonce", hidden(&settings, "nonce")),
        ("description", "nightly".to_string()),
    ];
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resp = b.post("/owner/demo/-/triggers", &pairs);
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    let html = resp.text().unwrap();
    let tokens = tokens_in(&html);
    assert_eq!(tokens.len(), 1, "exactly one token on the page");
    let token = &tokens[0];
    assert!(html.contains("will not be shown again"));
    assert!(html.contains(&format!("--form token={token}")));
    assert!(html.contains(&format!("/api/v4/projects/{}/trigger/pipeline", r.project_id)));
    assert!(html.contains("$TRIGGER_TOKEN"), "the CI snippet uses a variable, not the token");

    let replay = b.post("/owner/demo/-/triggers", &pairs);
    assert_eq!(replay.status(), 409);
    let replay = replay.text().unwrap();
    assert!(replay.contains("This token was already created; it cannot be shown again."));
    assert!(tokens_in(&replay).is_empty());
    assert_eq!(app.count("triggers"), 1);

    let list = b.page("/owner/demo/-/settings/ci_cd", 200);
    assert!(tokens_in(&list).is_empty(), "the list never shows a full token");
    assert!(list.contains(&format!("{}…", &token[6..10])));
    assert!(list.contains("nightly"));
    // The token works for the API's trigger call.
    add_ci_config(&app, &r);
    let resp = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 201);
}

#[test]
fn a_blank_description_re_renders_the_form_with_the_error_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.maintainer);
    let (status, html) = create_token(&b, "owner/demo", "   ");
    assert_eq!(status, 422);
    assert!(html.contains("Description can&#39;t be blank.") || html.contains("Description can't be blank."));
    assert!(html.contains("aria-invalid=\"true\""));
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn revoking_asks_on_a_page_first_then_deletes_and_the_token_stops_working() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "deploy");
    let b = Browser::sign_in(&app, &r.maintainer);
    let csrf = b.csrf("/owner/demo/-/settings/ci_cd");
    let path = format!("/owner/demo/-/triggers/{}/revoke", trigger.id);
    let ask = b.post(&path, &[("_csrf", &csrf), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Revoke trigger token"));
    assert_eq!(app.count("triggers"), 1);
    let done = b.post(&path, &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    let back = location(&done);
    assert!(back.starts_with("/owner/demo/-/settings/ci_cd?flash=trigger_removed"));
    assert!(b.page(&back, 200).contains("Trigger removed."));
    assert_eq!(app.count("triggers"), 0);
    let resp = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[test]
fn a_reporter_sees_pipelines_but_no_settings_and_no_variables() {
    let app = spawn_app();
    let r = app.roles();
    let pipeline = app.seed_pipeline(r.project_id, Some(r.owner.id), "main", &"a".repeat(40));
    let reporter = Browser::sign_in(&app, &r.reporter);
    assert_eq!(reporter.get("/owner/demo/-/settings/ci_cd").status(), 404);
    let page = reporter.page(&format!("/owner/demo/-/pipelines/{pipeline}"), 200);
    assert!(!page.contains("TRIGGER_PAYLOAD") && !page.contains("Variables"));
    assert!(!page.contains("/cancel"), "a Reporter gets no cancel button");
    let csrf = reporter.csrf("/owner/demo/-/pipelines");
    let resp = reporter
        .post(&format!("/owner/demo/-/pipelines/{pipeline}/cancel"), &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(resp.status(), 404);
    assert_eq!(app.pipeline_status(pipeline), "created");
    let maintainer = Browser::sign_in(&app, &r.maintainer);
    let page = maintainer.page(&format!("/owner/demo/-/pipelines/{pipeline}"), 200);
    assert!(page.contains("TRIGGER_PAYLOAD") && page.contains("••••••"));
    assert!(maintainer.page("/owner/demo/-/settings/ci_cd", 200).contains("Add new pipeline trigger token"));
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
fn every_web_url_of_a_triggered_pipeline_opens_its_page() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "from ci");
    let created = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main"), ("variables[GREETING]", "hello")])
        .send()
        .unwrap();
    let pipeline = json_of(created, 201);
    let b = Browser::sign_in(&app, &r.developer);
    let open = |url: &str| {
        let path = url.strip_prefix(&app.address).unwrap_or_else(|| panic!("{url}"));
        b.page(path, 200)
    };
    let page = open(pipeline["web_url"].as_str().unwrap());
    assert!(page.contains(&format!("Pipeline #{}", pipeline["id"])));
    assert!(page.contains("from ci"), "the trigger token's description is shown");
    assert!(page.contains("build") && page.contains("test"));
    let jobs = json_of(
        app.get(
            &format!("/projects/{}/pipelines/{}/jobs", r.project_id, pipeline["id"]),
            Some(&r.owner.token),
        ),
        200,
    );
    for job in jobs.as_array().unwrap() {
        assert!(open(job["web_url"].as_str().unwrap()).contains(job["name"].as_str().unwrap()));
    }
    let project = json_of(app.get(&format!("/projects/{}", r.project_id), Some(&r.owner.token)), 200);
    assert!(open(project["web_url"].as_str().unwrap()).contains(&format!(">{}<", r.project_id)));
    let namespace = open(project["namespace"]["web_url"].as_str().unwrap());
    assert!(namespace.contains("owner/demo"), "the namespace's page lists the project");
    assert!(open(pipeline["user"]["web_url"].as_str().unwrap()).contains("@owner"));
    let commit = json_of(
        app.get(&format!("/projects/{}/repository/commits/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    let page = open(commit["web_url"].as_str().unwrap());
    assert!(page.contains(commit["id"].as_str().unwrap()) && page.contains(&format!("#{}", pipeline["id"])));
    let branch = json_of(
        app.get(&format!("/projects/{}/repository/branches/main", r.project_id), Some(&r.owner.token)),
        200,
    );
    let tree = b.get(branch["web_url"].as_str().unwrap().strip_prefix(&app.address).unwrap());
    assert_eq!(tree.status(), 303);
    assert_eq!(location(&tree), "/owner/demo/-/pipelines?ref=main");
    let list = b.page("/owner/demo/-/pipelines?source=trigger", 200);
    assert!(list.contains(&format!("#{}", pipeline["id"])) && list.contains("trigger token"));
    assert!(b.page("/dashboard/projects", 200).contains("owner/demo"));
}

#[test]
fn cancel_asks_first_then_stops_the_pipeline_and_returns_to_the_filtered_list() {
    let app = spawn_app();
    let r = app.roles();
    add_ci_config(&app, &r);
    let trigger = app.seed_trigger(r.project_id, &r.owner, "t");
    let created = app
        .client
        .post(app.api(&format!("/projects/{}/trigger/pipeline", r.project_id)))
        .form(&[("token", trigger.token.as_str()), ("ref", "main")])
        .send()
        .unwrap();
    let id = json_of(created, 201)["id"].as_i64().unwrap();
    let b = Browser::sign_in(&app, &r.developer);
    let list = b.page("/owner/demo/-/pipelines?status=pending", 200);
    let csrf = hidden(&list, "_csrf");
    let return_to = "/owner/demo/-/pipelines?status=pending";
    let path = format!("/owner/demo/-/pipelines/{id}/cancel");
    let ask = b.post(&path, &[("_csrf", &csrf), ("return_to", return_to), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains(&format!("Stop pipeline #{id}?")));
    assert_eq!(app.pipeline_status(id), "pending");
    let done = b.post(&path, &[("_csrf", &csrf), ("return_to", return_to), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), format!("{return_to}&flash=pipeline_canceled"));
    assert_eq!(app.pipeline_status(id), "canceled");
    let page = b.page(&format!("/owner/demo/-/pipelines/{id}"), 200);
    assert!(page.contains("Status: canceled"));
    let retry = b.post(&format!("/owner/demo/-/pipelines/{id}/retry"), &[("_csrf", &csrf)]);
    assert_eq!(retry.status(), 303);
    assert_ne!(app.pipeline_status(id), "canceled");
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
fn only_a_triggers_owner_may_edit_its_description_and_another_maintainer_gets_404() {
    let app = spawn_app();
    let r = app.roles();
    let trigger = app.seed_trigger(r.project_id, &r.maintainer, "old words");
    let edit = format!("/owner/demo/-/triggers/{}/edit", trigger.id);
    let owner = Browser::sign_in(&app, &r.maintainer);
    assert!(owner.page("/owner/demo/-/settings/ci_cd", 200).contains(&edit));
    let csrf = hidden(&owner.page(&edit, 200), "_csrf");
    let blank = owner.post(&edit, &[("_csrf", &csrf), ("description", " ")]);
    assert_eq!(blank.status(), 422);
    let done = owner.post(&edit, &[("_csrf", &csrf), ("description", "new words")]);
    assert_eq!(done.status(), 303);
    let list = owner.page(&location(&done), 200);
    assert!(list.contains("Trigger was successfully updated.") && list.contains("new words"));

    let other = Browser::sign_in(&app, &r.owner);
    assert!(!other.page("/owner/demo/-/settings/ci_cd", 200).contains(&edit), "no Edit link for a non-owner");
    assert_eq!(other.get(&edit).status(), 404);
    let csrf = other.csrf("/owner/demo/-/settings/ci_cd");
    assert_eq!(other.post(&edit, &[("_csrf", &csrf), ("description", "hijacked")]).status(), 404);
    let api = json_of(
        app.get(&format!("/projects/{}/triggers/{}", r.project_id, trigger.id), Some(&r.maintainer.token)),
        200,
    );
    assert_eq!(api["description"], "new words");
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
