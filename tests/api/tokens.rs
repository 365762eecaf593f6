use crate::helpers::*;
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN_KEYS: &[&str] = &[
    "id",
    "name",
    "revoked",
    "created_at",
    "description",
    "scopes",
    "user_id",
    "last_used_at",
    "active",
    "expires_at",
];

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn future_date() -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(30);
    triggerd::model::format_date(d)
}

fn past_date() -> String {
    let d = time::OffsetDateTime::now_utc().date() - time::Duration::days(1);
    triggerd::model::format_date(d)
}

fn today() -> String {
    triggerd::model::format_date(time::OffsetDateTime::now_utc().date())
}

fn create_token(app: &TestApp, user_id: i64, body: &Value) -> Value {
    json_of(app.post_json(&format!("/users/{user_id}/personal_access_tokens"), Some(ROOT_TOKEN), body), 201)
}

/// The id of the token a request with `token` authenticates as.
fn self_id(app: &TestApp, token: &str) -> i64 {
    json_of(app.get("/personal_access_tokens/self", Some(token)), 200)["id"].as_i64().unwrap()
}

// ---- POST /users/:user_id/personal_access_tokens ------------------------------------------------

#[test]
fn create_token_returns_201_with_the_token_shown_once() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let expires = future_date();
    let body = create_token(&app, alice.id, &json!({"name": "ci", "scopes": ["api"], "expires_at": expires}));
    let mut expected_keys: Vec<String> = TOKEN_KEYS.iter().map(|s| s.to_string()).collect();
    expected_keys.push("token".into());
    assert_eq!(keys(&body), expected_keys);
    assert_eq!(body["name"], "ci");
    assert_eq!(body["revoked"], false);
    assert_eq!(body["active"], true);
    assert_eq!(body["description"], Value::Null);
    assert_eq!(body["last_used_at"], Value::Null);
    assert_eq!(body["scopes"], json!(["api"]));
    assert_eq!(body["user_id"], alice.id);
    assert_eq!(body["expires_at"], json!(expires));
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("glpat-") && token.len() >= 26, "{token}");
    // It works, as the user it was made for.
    assert_eq!(json_of(app.get("/user", Some(token)), 200)["username"], "alice");
    // Later reads never show it.
    let shown = json_of(app.get(&format!("/personal_access_tokens/{}", body["id"]), Some(ROOT_TOKEN)), 200);
    assert!(shown.get("token").is_none());
    assert_eq!(keys(&shown), TOKEN_KEYS);
}

#[test]
fn create_token_stores_only_the_sha256_digest() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = create_token(&app, alice.id, &json!({"name": "ci", "scopes": ["api", "read_api"]}));
    let token = body["token"].as_str().unwrap().to_string();
    let (digest, name, scopes): (Vec<u8>, String, String) = app
        .db()
        .query_row(
            "SELECT token_digest, name, scopes FROM personal_access_tokens WHERE id = ?1",
            [body["id"].as_i64().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(digest, triggerd::auth::digest(&token));
    assert_eq!(name, "ci");
    assert_eq!(scopes, "api,read_api");
    let raw = std::fs::read(&app.db_path).unwrap();
    let wal = std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default();
    let needle = token.as_bytes();
    for bytes in [raw, wal] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "the plaintext token reached the database"
        );
    }
}

#[test]
fn create_token_accepts_form_encoded_scopes_brackets() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let resp = app
        .request(Method::POST, &format!("/users/{}/personal_access_tokens", alice.id), Some(ROOT_TOKEN))
        .form(&[("name", "form"), ("scopes[]", "api"), ("scopes[]", "read_api")])
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 201)["scopes"], json!(["api", "read_api"]));
}

#[test]
fn create_token_without_expires_at_never_expires() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let body = create_token(&app, alice.id, &json!({"name": "ci", "scopes": "read_api"}));
    assert_eq!(body["expires_at"], Value::Null);
    assert_eq!(body["scopes"], json!(["read_api"]));
}

#[test]
fn create_token_returns_403_for_a_non_admin_even_for_themself() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let before = app.count("personal_access_tokens");
    assert_error(
        app.post_json(
            &format!("/users/{}/personal_access_tokens", alice.id),
            Some(&alice.token),
            &json!({"name": "x", "scopes": ["api"]}),
        ),
        403,
        "message",
        json!("403 Forbidden"),
    );
    assert_eq!(app.count("personal_access_tokens"), before);
}

#[test]
fn create_token_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    let before = app.count("personal_access_tokens");
    assert_error(
        app.post_json("/users/1/personal_access_tokens", None, &json!({"name": "x", "scopes": ["api"]})),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(app.count("personal_access_tokens"), before);
}

#[test]
fn create_token_returns_404_for_a_missing_user_and_400_for_a_bad_user_id() {
    let app = spawn_app();
    let before = app.count("personal_access_tokens");
    assert_error(
        app.post_json(
            "/users/999/personal_access_tokens",
            Some(ROOT_TOKEN),
            &json!({"name": "x", "scopes": ["api"]}),
        ),
        404,
        "message",
        json!("404 User Not Found"),
    );
    assert_error(
        app.post_json(
            "/users/bob/personal_access_tokens",
            Some(ROOT_TOKEN),
            &json!({"name": "x", "scopes": ["api"]}),
        ),
        400,
        "error",
        json!("user_id is invalid"),
    );
    assert_eq!(app.count("personal_access_tokens"), before);
}

#[test]
fn create_token_validates_its_parameters_and_creates_nothing_on_error() {
    let app = spawn_app();
    let path = "/users/1/personal_access_tokens";
    let before = app.count("personal_access_tokens");
    let cases: Vec<(Value, &str, Value)> = vec![
        (json!({"scopes": ["api"]}), "error", json!("name is missing")),
        (json!({"name": "x"}), "error", json!("scopes is missing")),
        (json!({}), "error", json!("name is missing, scopes is missing")),
        (
            json!({"name": "x", "scopes": ["write_repository"]}),
            "error",
            json!("scopes does not have a valid value"),
        ),
        (
            json!({"name": "x", "scopes": ["api", "sudo"]}),
            "error",
            json!("scopes does not have a valid value"),
        ),
        (json!({"name": "x", "scopes": {"a": 1}}), "error", json!("scopes is invalid")),
        (json!({"name": "x", "scopes": []}), "message", json!({"scopes": ["can't be blank"]})),
        (json!({"name": " ", "scopes": ["api"]}), "message", json!({"name": ["can't be blank"]})),
        (
            json!({"name": "x", "scopes": ["api"], "expires_at": "soon"}),
            "error",
            json!("expires_at is invalid"),
        ),
        (
            json!({"name": "x", "scopes": ["api"], "expires_at": "2050-13-01"}),
            "error",
            json!("expires_at is invalid"),
        ),
        (
            json!({"name": "x", "scopes": ["api"], "expires_at": past_date()}),
            "message",
            json!({"expires_at": ["must be in the future"]}),
        ),
        (
            json!({"name": "x", "scopes": ["api"], "expires_at": today()}),
            "message",
            json!({"expires_at": ["must be in the future"]}),
        ),
    ];
    for (body, key, expected) in cases {
        let resp = app.post_json(path, Some(ROOT_TOKEN), &body);
        let status = resp.status().as_u16();
        let got: Value = resp.json().unwrap();
        assert_eq!(status, 400, "{body} gave {got}");
        assert_eq!(got[key], expected, "{body} gave {got}");
    }
    assert_eq!(app.count("personal_access_tokens"), before);
}

#[test]
fn create_token_with_a_read_api_admin_token_returns_403_insufficient_scope() {
    let app = spawn_app();
    let reader = app.seed_user("readadmin", true, &["read_api"]);
    let before = app.count("personal_access_tokens");
    assert_error(
        app.post_json(
            &format!("/users/{}/personal_access_tokens", reader.id),
            Some(&reader.token),
            &json!({"name": "x", "scopes": ["api"]}),
        ),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(app.count("personal_access_tokens"), before);
}

// ---- GET /personal_access_tokens ----------------------------------------------------------------

#[test]
fn list_tokens_shows_a_user_only_their_own_without_secrets() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    app.create_user("bob");
    app.seed_token(alice.id, &["read_api"], None);
    let body = json_of(app.get("/personal_access_tokens", Some(&alice.token)), 200);
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for t in items {
        assert_eq!(t["user_id"], alice.id);
        assert_eq!(keys(t), TOKEN_KEYS);
    }
    // A user_id filter cannot widen a non-admin's view.
    let body = json_of(app.get("/personal_access_tokens?user_id=1", Some(&alice.token)), 200);
    assert!(body.as_array().unwrap().iter().all(|t| t["user_id"] == alice.id));
}

#[test]
fn list_tokens_shows_an_admin_everyones_and_filters_by_user_id() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let resp = app.get("/personal_access_tokens", Some(ROOT_TOKEN));
    assert_eq!(resp.headers()["x-total"], "3");
    let all = json_of(resp, 200);
    let owners: Vec<i64> = all.as_array().unwrap().iter().map(|t| t["user_id"].as_i64().unwrap()).collect();
    assert_eq!(owners, vec![1, alice.id, bob.id]);
    let bobs =
        json_of(app.get(&format!("/personal_access_tokens?user_id={}", bob.id), Some(ROOT_TOKEN)), 200);
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["user_id"], bob.id);
    let nobody = json_of(app.get("/personal_access_tokens?user_id=999", Some(ROOT_TOKEN)), 200);
    assert_eq!(nobody, json!([]));
}

#[test]
fn list_tokens_is_paginated() {
    let app = spawn_app();
    for _ in 0..4 {
        app.seed_token(1, &["api"], None);
    }
    let resp = app.get("/personal_access_tokens?per_page=2&page=2", Some(ROOT_TOKEN));
    assert_eq!(resp.headers()["x-total"], "5");
    assert_eq!(resp.headers()["x-total-pages"], "3");
    assert_eq!(resp.headers()["x-prev-page"], "1");
    assert_eq!(resp.headers()["x-next-page"], "3");
    assert_eq!(json_of(resp, 200).as_array().unwrap().len(), 2);
}

#[test]
fn list_tokens_filters_by_state_revoked_and_search() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let revoked = create_token(&app, alice.id, &json!({"name": "old deploy", "scopes": ["api"]}));
    app.seed_token(alice.id, &["api"], Some(&past_date()));
    assert_eq!(
        app.delete(&format!("/personal_access_tokens/{}", revoked["id"]), Some(ROOT_TOKEN)).status(),
        204
    );
    let get = |q: &str| json_of(app.get(&format!("/personal_access_tokens?{q}"), Some(&alice.token)), 200);
    assert_eq!(get("").as_array().unwrap().len(), 3);
    let active = get("state=active");
    assert_eq!(active.as_array().unwrap().len(), 1);
    assert_eq!(active[0]["active"], true);
    let inactive = get("state=inactive");
    assert_eq!(inactive.as_array().unwrap().len(), 2);
    assert!(inactive.as_array().unwrap().iter().all(|t| t["active"] == false));
    let rev = get("revoked=true");
    assert_eq!(rev.as_array().unwrap().len(), 1);
    assert_eq!(rev[0]["id"], revoked["id"]);
    assert_eq!(rev[0]["revoked"], true);
    assert_eq!(get("revoked=false").as_array().unwrap().len(), 2);
    let found = get("search=DEPLOY");
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["name"], "old deploy");
    assert_error(
        app.get("/personal_access_tokens?state=sleeping", Some(&alice.token)),
        400,
        "error",
        json!("state does not have a valid value"),
    );
}

#[test]
fn list_tokens_returns_401_for_an_anonymous_caller() {
    let app = spawn_app();
    assert_error(app.get("/personal_access_tokens", None), 401, "message", json!("401 Unauthorized"));
}

// ---- GET /personal_access_tokens/:id and /self --------------------------------------------------

#[test]
fn get_token_shows_the_owner_their_token_and_admins_any() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let id = self_id(&app, &alice.token);
    let own = json_of(app.get(&format!("/personal_access_tokens/{id}"), Some(&alice.token)), 200);
    assert_eq!(own["id"], id);
    assert_eq!(own["user_id"], alice.id);
    assert_eq!(own["scopes"], json!(["api"]));
    assert_eq!(own["active"], true);
    let by_admin = json_of(app.get(&format!("/personal_access_tokens/{id}"), Some(ROOT_TOKEN)), 200);
    assert_eq!(by_admin["id"], id);
}

#[test]
fn get_token_returns_404_for_another_users_token_and_a_missing_one() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let bobs = self_id(&app, &bob.token);
    assert_error(
        app.get(&format!("/personal_access_tokens/{bobs}"), Some(&alice.token)),
        404,
        "message",
        json!("404 Not Found"),
    );
    assert_error(
        app.get("/personal_access_tokens/999", Some(ROOT_TOKEN)),
        404,
        "message",
        json!("404 Not Found"),
    );
    assert_error(
        app.get("/personal_access_tokens/abc", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("id is invalid"),
    );
    assert_error(app.get("/personal_access_tokens/1", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn get_token_self_returns_the_token_used_for_the_request() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let first = self_id(&app, &alice.token);
    let second_token = app.seed_token(alice.id, &["read_api"], None);
    let second = json_of(app.get("/personal_access_tokens/self", Some(&second_token)), 200);
    assert_ne!(second["id"], first);
    assert_eq!(second["scopes"], json!(["read_api"]));
    assert_eq!(second["user_id"], alice.id);
    assert!(second.get("token").is_none());
    assert_eq!(self_id(&app, ROOT_TOKEN), 1);
    assert_error(app.get("/personal_access_tokens/self", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn last_used_at_is_recorded_when_a_token_is_used() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let id = self_id(&app, &alice.token);
    // The use is recorded in the background after the first request; poll briefly.
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen =
            json_of(app.get(&format!("/personal_access_tokens/{id}"), Some(ROOT_TOKEN)), 200)["last_used_at"]
                .clone();
        if !seen.is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(seen.as_str().is_some_and(|s| s.ends_with('Z')), "{seen}");
}

// ---- DELETE /personal_access_tokens/:id and /self -----------------------------------------------

#[test]
fn revoke_own_token_returns_204_and_the_token_then_gets_401_revoked() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let spare = app.seed_token(alice.id, &["api"], None);
    let id = self_id(&app, &spare);
    let resp = app.delete(&format!("/personal_access_tokens/{id}"), Some(&alice.token));
    assert_eq!(resp.status(), 204);
    assert!(resp.text().unwrap().is_empty());
    let body = assert_error(app.get("/user", Some(&spare)), 401, "error", json!("invalid_token"));
    assert_eq!(body["error_description"], "Token was revoked. You have to re-authorize from the user.");
    let row = json_of(app.get(&format!("/personal_access_tokens/{id}"), Some(&alice.token)), 200);
    assert_eq!(row["revoked"], true);
    assert_eq!(row["active"], false);
    // The other token still works.
    assert_eq!(app.get("/user", Some(&alice.token)).status(), 200);
}

#[test]
fn revoke_returns_404_for_another_users_token_and_leaves_it_working() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let bob = app.create_user("bob");
    let bobs = self_id(&app, &bob.token);
    assert_error(
        app.delete(&format!("/personal_access_tokens/{bobs}"), Some(&alice.token)),
        404,
        "message",
        json!("404 Not Found"),
    );
    assert_eq!(app.get("/user", Some(&bob.token)).status(), 200);
    assert_error(
        app.delete("/personal_access_tokens/999", Some(ROOT_TOKEN)),
        404,
        "message",
        json!("404 Not Found"),
    );
    assert_error(
        app.delete("/personal_access_tokens/x", Some(ROOT_TOKEN)),
        400,
        "error",
        json!("id is invalid"),
    );
    assert_error(
        app.delete(&format!("/personal_access_tokens/{bobs}"), None),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    assert_eq!(app.get("/user", Some(&bob.token)).status(), 200);
}

#[test]
fn an_admin_can_revoke_any_token() {
    let app = spawn_app();
    let bob = app.create_user("bob");
    let bobs = self_id(&app, &bob.token);
    assert_eq!(app.delete(&format!("/personal_access_tokens/{bobs}"), Some(ROOT_TOKEN)).status(), 204);
    assert_error(app.get("/user", Some(&bob.token)), 401, "error", json!("invalid_token"));
}

#[test]
fn revoking_an_already_revoked_token_returns_204_again() {
    let app = spawn_app();
    let bob = app.create_user("bob");
    let bobs = self_id(&app, &bob.token);
    for _ in 0..2 {
        assert_eq!(app.delete(&format!("/personal_access_tokens/{bobs}"), Some(ROOT_TOKEN)).status(), 204);
    }
}

#[test]
fn revoke_self_revokes_the_token_used_for_the_request_only() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let spare = app.seed_token(alice.id, &["api"], None);
    assert_eq!(app.delete("/personal_access_tokens/self", Some(&spare)).status(), 204);
    assert_error(app.get("/user", Some(&spare)), 401, "error", json!("invalid_token"));
    assert_eq!(app.get("/user", Some(&alice.token)).status(), 200);
    assert_error(app.delete("/personal_access_tokens/self", None), 401, "message", json!("401 Unauthorized"));
}

#[test]
fn a_read_api_token_cannot_revoke() {
    let app = spawn_app();
    let reader = app.seed_user("reader", false, &["read_api"]);
    assert_error(
        app.delete("/personal_access_tokens/self", Some(&reader.token)),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(app.get("/user", Some(&reader.token)).status(), 200);
}

// ---- Authentication in general ------------------------------------------------------------------

#[test]
fn the_private_token_header_authenticates() {
    let app = spawn_app();
    let resp = app.client.get(app.api("/user")).header("PRIVATE-TOKEN", ROOT_TOKEN).send().unwrap();
    assert_eq!(json_of(resp, 200)["username"], "root");
}

#[test]
fn an_authorization_bearer_header_authenticates() {
    let app = spawn_app();
    let resp = app
        .client
        .get(app.api("/user"))
        .header("Authorization", format!("Bearer {ROOT_TOKEN}"))
        .send()
        .unwrap();
    assert_eq!(json_of(resp, 200)["username"], "root");
    let lower = app
        .client
        .get(app.api("/user"))
        .header("Authorization", format!("bearer {ROOT_TOKEN}"))
        .send()
        .unwrap();
    assert_eq!(lower.status(), 200);
}

#[test]
fn the_private_token_query_parameter_authenticates() {
    let app = spawn_app();
    assert_eq!(json_of(app.get(&format!("/user?private_token={ROOT_TOKEN}"), None), 200)["username"], "root");
    assert_eq!(json_of(app.get(&format!("/user?access_token={ROOT_TOKEN}"), None), 200)["username"], "root");
}

#[test]
fn an_empty_private_token_header_is_anonymous() {
    let app = spawn_app();
    let resp = app.client.get(app.api("/user")).header("PRIVATE-TOKEN", "").send().unwrap();
    assert_error(resp, 401, "message", json!("401 Unauthorized"));
    let resp = app.client.get(app.api("/user")).header("Authorization", "Bearer ").send().unwrap();
    assert_error(resp, 401, "message", json!("401 Unauthorized"));
}

#[test]
fn an_unknown_token_is_401_unauthorized() {
    let app = spawn_app();
    assert_error(
        app.get("/user", Some("glpat-doesnotexistdoesnotexist")),
        401,
        "message",
        json!("401 Unauthorized"),
    );
    let resp = app.client.get(app.api("/user")).header("Authorization", "Bearer nope").send().unwrap();
    assert_error(resp, 401, "message", json!("401 Unauthorized"));
}

#[test]
fn an_expired_token_is_401_invalid_token() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    for expiry in [past_date(), today()] {
        let expired = app.seed_token(alice.id, &["api"], Some(&expiry));
        let body = assert_error(app.get("/user", Some(&expired)), 401, "error", json!("invalid_token"));
        assert_eq!(
            body["error_description"],
            "Token is expired. You can either do re-authorization or token refresh."
        );
    }
    let fresh = app.seed_token(alice.id, &["api"], Some(&future_date()));
    assert_eq!(app.get("/user", Some(&fresh)).status(), 200);
}

#[test]
fn a_read_api_token_can_get_but_not_post() {
    let app = spawn_app();
    let reader = app.seed_user("reader", true, &["read_api"]);
    assert_eq!(app.get("/personal_access_tokens", Some(&reader.token)).status(), 200);
    let body = assert_error(
        app.post_json(
            &format!("/users/{}/personal_access_tokens", reader.id),
            Some(&reader.token),
            &json!({"name": "x", "scopes": ["api"]}),
        ),
        403,
        "error",
        json!("insufficient_scope"),
    );
    assert_eq!(body["scope"], "api");
    assert_eq!(
        body["error_description"],
        "The request requires higher privileges than provided by the access token."
    );
}

#[test]
fn a_blocked_users_token_is_401() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    assert_eq!(
        app.post_json(&format!("/users/{}/block", alice.id), Some(ROOT_TOKEN), &json!({})).status(),
        201
    );
    assert_error(app.get("/user", Some(&alice.token)), 401, "message", json!("401 Unauthorized"));
    assert_error(
        app.get("/personal_access_tokens", Some(&alice.token)),
        401,
        "message",
        json!("401 Unauthorized"),
    );
}
