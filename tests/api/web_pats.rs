//! User settings › Personal access tokens over HTTP: the token shown once, the API's rules on
//! the form, revoke with confirmation, and nobody else's tokens.

use crate::helpers::*;
use crate::web_support::*;

const PAGE: &str = "/-/user_settings/personal_access_tokens";

/// The `glpat-…` tokens in a page.
fn pats_in(html: &str) -> Vec<String> {
    let mut found: Vec<String> = html
        .match_indices("glpat-")
        .map(|(i, _)| html[i..].chars().take(38).collect::<String>())
        .filter(|t| {
            t.len() == 38 && t[6..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .collect();
    found.dedup();
    found
}

/// Posts the create form (fields after the form token and nonce of a fresh page).
fn create(b: &Browser, fields: &[(&str, &str)]) -> (u16, String, Vec<(String, String)>) {
    let page = b.page(PAGE, 200);
    let mut form =
        vec![("_csrf".to_string(), hidden(&page, "_csrf")), ("nonce".to_string(), hidden(&page, "nonce"))];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let resp = b.post(PAGE, &pairs);
    (resp.status().as_u16(), resp.text().unwrap(), form)
}

fn tokens_of(app: &TestApp, user_id: i64) -> i64 {
    app.db()
        .query_row("SELECT COUNT(*) FROM personal_access_tokens WHERE user_id = ?1", [user_id], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_personal_access_token_is_shown_once_works_for_the_api_and_a_replayed_form_mints_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.developer);
    let before = tokens_of(&app, r.developer.id);
    let (status, html, form) = create(&b, &[("name", "laptop"), ("scopes", "read_api"), ("expires_at", "")]);
    assert_eq!(status, 201, "{html}");
    let tokens = pats_in(&html);
    assert_eq!(tokens.len(), 1, "exactly one token on the page");
    let token = &tokens[0];
    assert!(html.contains("will not be shown again"));
    assert!(html.contains("Scopes: read_api"));

    let me = app.client.get(app.api("/user")).header("PRIVATE-TOKEN", token.as_str()).send().unwrap();
    assert_eq!(me.status(), 200);
    let write = app
        .client
        .post(app.api("/projects"))
        .header("PRIVATE-TOKEN", token.as_str())
        .form(&[("name", "x")])
        .send()
        .unwrap();
    assert_eq!(write.status(), 403, "a read_api token cannot write");

    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let replay = b.post(PAGE, &pairs);
    assert_eq!(replay.status(), 409);
    assert!(pats_in(&replay.text().unwrap()).is_empty());
    assert_eq!(tokens_of(&app, r.developer.id), before + 1);

    let list = b.page(PAGE, 200);
    assert!(pats_in(&list).is_empty(), "the list never shows a token");
    assert!(list.contains("laptop") && list.contains("read_api"));
}

#[test]
fn the_create_form_holds_to_the_apis_rules_and_an_invalid_form_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.developer);
    let before = tokens_of(&app, r.developer.id);
    let long = "n".repeat(256);
    for (fields, message) in [
        (vec![("name", "  "), ("scopes", "api")], "Name can"),
        (vec![("name", long.as_str()), ("scopes", "api")], "Name is too long"),
        (vec![("name", "ci")], "Select at least one scope."),
        (vec![("name", "ci"), ("scopes", "sudo")], "Select at least one scope."),
        (vec![("name", "ci"), ("scopes", "api"), ("expires_at", "2001-01-01")], "must be in the future"),
        (vec![("name", "ci"), ("scopes", "api"), ("expires_at", "99999-01-01")], "must be a date"),
    ] {
        let (status, html, _) = create(&b, &fields);
        assert_eq!(status, 422, "{fields:?}");
        assert!(html.contains(message), "{fields:?}: {message}");
        assert!(html.contains("aria-invalid=\"true\"") || html.contains("scopes-error"));
        assert!(pats_in(&html).is_empty());
    }
    // Hostile shapes: a deeply nested key and a scope list instead of a value are 4xx pages.
    let deep = format!("scopes{}", "[a]".repeat(200));
    let (status, _, _) = create(&b, &[("name", "ci"), (deep.as_str(), "api")]);
    assert_eq!(status, 400);
    let (status, html, _) = create(&b, &[("name", "ci"), ("scopes[]", "api"), ("scopes[]", "nope")]);
    assert_eq!(status, 422, "{html}");
    assert_eq!(tokens_of(&app, r.developer.id), before);
}

#[test]
fn revoking_asks_on_a_page_first_then_the_token_stops_working_and_others_tokens_are_404() {
    let app = spawn_app();
    let r = app.roles();
    let b = Browser::sign_in(&app, &r.developer);
    let (_, html, _) = create(&b, &[("name", "to-revoke"), ("scopes", "api")]);
    let token = pats_in(&html).remove(0);
    let id: i64 = app
        .db()
        .query_row("SELECT id FROM personal_access_tokens WHERE name = 'to-revoke'", [], |r| r.get(0))
        .unwrap();
    let csrf = b.csrf(PAGE);
    let path = format!("{PAGE}/{id}/revoke");
    let ask = b.post(&path, &[("_csrf", &csrf), ("confirm", "0")]);
    assert_eq!(ask.status(), 200);
    assert!(ask.text().unwrap().contains("Revoke personal access token to-revoke?"));
    let ok = app.client.get(app.api("/user")).header("PRIVATE-TOKEN", token.as_str()).send().unwrap();
    assert_eq!(ok.status(), 200, "asking revokes nothing");

    let done = b.post(&path, &[("_csrf", &csrf), ("confirm", "1")]);
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), format!("{PAGE}?flash=pat_revoked"));
    let list = b.page(&location(&done), 200);
    assert!(list.contains("The personal access token was revoked."));
    assert!(list.contains("Inactive personal access tokens (1)"));
    let gone = app.client.get(app.api("/user")).header("PRIVATE-TOKEN", token.as_str()).send().unwrap();
    assert_eq!(gone.status(), 401);

    // The owner's API token is not the developer's to see or revoke.
    let owners: i64 = app
        .db()
        .query_row("SELECT MIN(id) FROM personal_access_tokens WHERE user_id = ?1", [r.owner.id], |r| {
            r.get(0)
        })
        .unwrap();
    for confirm in ["0", "1"] {
        let resp = b.post(&format!("{PAGE}/{owners}/revoke"), &[("_csrf", &csrf), ("confirm", confirm)]);
        assert_eq!(resp.status(), 404);
    }
    for bad in ["x", "-1", "99999999999999999999"] {
        assert_eq!(
            b.post(&format!("{PAGE}/{bad}/revoke"), &[("_csrf", &csrf), ("confirm", "1")]).status(),
            404
        );
    }
    let still =
        app.client.get(app.api("/user")).header("PRIVATE-TOKEN", r.owner.token.as_str()).send().unwrap();
    assert_eq!(still.status(), 200);
}

#[test]
fn a_visitor_is_sent_to_sign_in_and_a_forged_form_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let visitor = Browser::new(&app);
    let resp = visitor.get(PAGE);
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).starts_with("/users/sign_in?return_to="));
    let resp = visitor.post(PAGE, &[("name", "x"), ("scopes", "api"), ("nonce", "n")]);
    assert_eq!(resp.status(), 303);

    let b = Browser::sign_in(&app, &r.developer);
    let before = tokens_of(&app, r.developer.id);
    let resp = b.post(PAGE, &[("_csrf", "wrong"), ("nonce", "n"), ("name", "x"), ("scopes", "api")]);
    assert_eq!(resp.status(), 422);
    let csrf = b.csrf(PAGE);
    let resp = b.post_with(
        PAGE,
        &[("_csrf", &csrf), ("nonce", "n"), ("name", "x"), ("scopes", "api")],
        &[("origin", "http://evil.example")],
    );
    assert_eq!(resp.status(), 403);
    assert_eq!(tokens_of(&app, r.developer.id), before);
}
