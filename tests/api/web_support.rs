//! What the web UI tests share: a browser stand-in holding a session cookie, sign-in with a
//! known password, and readers for hidden fields, redirects and tokens in a page.

use std::sync::OnceLock;

use reqwest::blocking::Response;
use serde_json::json;

use crate::helpers::*;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

/// One argon2id hash of [`PASSWORD`] for every test user (hashing is slow in debug builds).
pub(crate) fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| triggerd::auth::hash_password(PASSWORD).unwrap())
}

/// A browser stand-in: the session cookie and the form token of the last page read.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) cookie: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        Browser { app, cookie: None }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app.address)
    }

    pub(crate) fn get(&self, path: &str) -> Response {
        let mut rb = self.app.client.get(self.url(path));
        if let Some(c) = &self.cookie {
            rb = rb.header("cookie", format!("triggerd_session={c}"));
        }
        rb.send().unwrap()
    }

    pub(crate) fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.post_with(path, form, &[])
    }

    pub(crate) fn post_with(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Response {
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
    pub(crate) fn sign_in(app: &'a TestApp, user: &TestUser) -> Self {
        set_password(app, user);
        let mut b = Browser::new(app);
        let resp = b.post("/users/sign_in", &[("login", &user.username), ("password", PASSWORD)]);
        assert_eq!(resp.status(), 303, "sign-in of {} failed", user.username);
        b.cookie = Some(session_cookie(&resp).expect("a session cookie"));
        b
    }

    /// The page's HTML (status checked).
    pub(crate) fn page(&self, path: &str, status: u16) -> String {
        let resp = self.get(path);
        assert_eq!(resp.status(), status, "GET {path}");
        resp.text().unwrap()
    }

    /// The form token on a page.
    pub(crate) fn csrf(&self, path: &str) -> String {
        hidden(&self.page(path, 200), "_csrf")
    }
}

pub(crate) fn set_password(app: &TestApp, user: &TestUser) {
    app.db()
        .execute(
            "UPDATE users SET password_hash = ?1 WHERE id = ?2",
            rusqlite::params![password_hash(), user.id],
        )
        .unwrap();
}

/// The value of `triggerd_session` in a response's `Set-Cookie`.
pub(crate) fn session_cookie(resp: &Response) -> Option<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("triggerd_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
}

/// The value of the first hidden input named `name`.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub(crate) fn location(resp: &Response) -> String {
    resp.headers().get("location").unwrap().to_str().unwrap().to_string()
}

/// Gives the project a `.gitlab-ci.yml` on `main` (two jobs in two stages).
pub(crate) fn add_ci_config(app: &TestApp, r: &Roles) {
    let resp = app.post_json(
        &format!("/projects/{}/repository/files/.gitlab-ci.yml", r.project_id),
        Some(&r.owner.token),
        &json!({"branch": "main", "commit_message": "ci", "content":
            "build:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n"}),
    );
    assert_eq!(resp.status(), 201, "{}", resp.text().unwrap());
}

/// Creates a trigger token through the settings page; returns the page answering the POST.
pub(crate) fn create_token(b: &Browser, path: &str, description: &str) -> (u16, String) {
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
pub(crate) fn tokens_in(html: &str) -> Vec<String> {
    let mut found: Vec<String> = html
        .match_indices("glptt-")
        .map(|(i, _)| html[i..].chars().take(46).collect::<String>())
        .filter(|t| t.len() == 46 && t[6..].chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    found.dedup();
    found
}
