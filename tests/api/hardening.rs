//! Hardening: out-of-range dates and numbers, private e-mail addresses in user search, length
//! limits on every stored string, long ref names in URLs, and credentials echoed in responses.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// Times with no UTC equivalent inside years 1–9999 (the first used to panic the handler).
const OUT_OF_RANGE_TIMES: &[&str] =
    &["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999-0001"];

/// Percent-encodes everything but unreserved characters (so `/` becomes `%2F`).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn too_long(field: &str, max: usize, unit: &str) -> Value {
    json!({ field: [format!("is too long (maximum is {max} {unit})")] })
}

// --- 2. Dates and numbers from input -------------------------------------------------------

#[test]
fn an_out_of_range_pipeline_date_filter_is_invalid_rather_than_a_crash() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    for key in ["created_after", "created_before", "updated_after", "updated_before"] {
        for time in OUT_OF_RANGE_TIMES {
            let path = format!("/projects/{}/pipelines?{key}={}", r.project_id, encode(time));
            assert_error(
                app.get(&path, Some(&r.reporter.token)),
                400,
                "error",
                json!(format!("{key} is invalid")),
            );
        }
    }
    // The server is still up and the same filter in range works.
    let path =
        format!("/projects/{}/pipelines?created_after={}", r.project_id, encode("9999-12-31T22:59:59-01:00"));
    assert_eq!(json_of(app.get(&path, Some(&r.reporter.token)), 200), json!([]));
}

#[test]
fn an_out_of_range_trigger_expiry_is_invalid_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    for time in OUT_OF_RANGE_TIMES {
        let body = json!({"description": "d", "expires_at": time});
        assert_error(
            app.post_json(&path, Some(&r.maintainer.token), &body),
            400,
            "error",
            json!("expires_at is invalid"),
        );
        // The update takes no expiry; the parameter is ignored rather than a crash.
        let t = app.seed_trigger(r.project_id, &r.maintainer, "seeded");
        let put = app.put_json(
            &format!("{path}/{}", t.id),
            Some(&r.maintainer.token),
            &json!({"expires_at": time}),
        );
        assert_eq!(put.status(), 200);
        app.delete(&format!("{path}/{}", t.id), Some(&r.maintainer.token));
    }
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn an_out_of_range_member_or_token_expiry_is_invalid() {
    let app = spawn_app();
    let r = app.roles();
    let carol = app.create_user("carol");
    let members = format!("/projects/{}/members", r.project_id);
    for time in OUT_OF_RANGE_TIMES {
        let body = json!({"user_id": carol.id, "access_level": 30, "expires_at": time});
        assert_error(
            app.post_json(&members, Some(&r.owner.token), &body),
            400,
            "error",
            json!("expires_at is invalid"),
        );
        let body = json!({"access_level": 20, "expires_at": time});
        let one = format!("{members}/{}", r.developer.id);
        assert_error(
            app.put_json(&one, Some(&r.owner.token), &body),
            400,
            "error",
            json!("expires_at is invalid"),
        );
    }
    let tokens = format!("/users/{}/personal_access_tokens", carol.id);
    for date in ["0000-01-01", "-0001-01-01", "+10000-01-01", "99999-01-01"] {
        let body = json!({"name": "t", "scopes": ["api"], "expires_at": date});
        assert_error(
            app.post_json(&tokens, Some(ROOT_TOKEN), &body),
            400,
            "error",
            json!("expires_at is invalid"),
        );
    }
    let body = json!({"name": "t", "scopes": ["api"], "expires_at": "9999-12-31"});
    assert_eq!(json_of(app.post_json(&tokens, Some(ROOT_TOKEN), &body), 201)["expires_at"], "9999-12-31");
}

#[test]
fn page_numbers_and_ids_beyond_i64_are_handled_without_overflow() {
    let app = spawn_app();
    let r = app.roles_with_visibility("public");
    let list = format!("/projects/{}/pipelines", r.project_id);
    // The largest page is simply empty: its offset saturates.
    let resp = app.get(&format!("{list}?page={}&per_page=100", i64::MAX), Some(&r.reporter.token));
    assert_eq!(resp.headers()["x-page"], i64::MAX.to_string().as_str());
    assert_eq!(json_of(resp, 200), json!([]));
    for (query, text) in [
        ("page=9223372036854775808", "page is invalid"),
        ("per_page=99999999999999999999", "per_page is invalid"),
        ("page=-0", "page does not have a valid value"),
        ("per_page=-0", "per_page does not have a valid value"),
        ("page=1e3", "page is invalid"),
    ] {
        assert_error(app.get(&format!("{list}?{query}"), Some(&r.reporter.token)), 400, "error", json!(text));
    }
    let huge = "99999999999999999999";
    assert_error(
        app.get(&format!("{list}/{huge}"), Some(&r.reporter.token)),
        400,
        "error",
        json!("pipeline_id is invalid"),
    );
    assert_error(app.get(&format!("/users/{huge}"), Some(ROOT_TOKEN)), 400, "error", json!("id is invalid"));
    assert_error(
        app.get(&format!("/projects/{huge}"), Some(ROOT_TOKEN)),
        404,
        "message",
        json!("404 Project Not Found"),
    );
    let body = json!({"user_id": huge, "access_level": 30});
    let members = format!("/projects/{}/members", r.project_id);
    assert_error(
        app.post_json(&members, Some(&r.owner.token), &body),
        404,
        "message",
        json!("404 User Not Found"),
    );
}

// --- 3. Private e-mail addresses -------------------------------------------------------------

#[test]
fn a_non_admin_cannot_find_users_by_their_private_email() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    app.create_user("bob");
    for term in ["@example", "example.com", "bob@example.com", "@"] {
        let found = json_of(app.get(&format!("/users?search={}", encode(term)), Some(&alice.token)), 200);
        assert_eq!(found, json!([]), "a non-admin searching {term:?}");
    }
    // Username and name still match.
    let found = json_of(app.get("/users?search=bo", Some(&alice.token)), 200);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["username"], "bob");
    // Admins may search by e-mail.
    let found = json_of(app.get("/users?search=bob%40example", Some(ROOT_TOKEN)), 200);
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["email"], "bob@example.com");
}

// --- 4. Length limits on stored strings ------------------------------------------------------

#[test]
fn a_megabyte_branch_name_is_refused_and_creates_nothing() {
    let app = spawn_app();
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    let path = format!("/projects/{}/repository/branches", r.project_id);
    let before = app.count("refs");
    let huge = "b".repeat(1_000_000);
    let resp = app.post_json(&path, Some(&r.developer.token), &json!({"branch": huge, "ref": "main"}));
    assert_error(resp, 400, "message", too_long("branch", 255, "bytes"));
    // A ref to start from that could not exist is not echoed back either.
    let resp =
        app.post_json(&path, Some(&r.developer.token), &json!({"branch": "ok", "ref": "r".repeat(100_000)}));
    let body = assert_error(resp, 400, "message", too_long("ref", 255, "bytes"));
    assert!(body.to_string().len() < 200);
    assert_eq!(app.count("refs"), before);
}

#[test]
fn tag_names_and_messages_have_length_limits() {
    let app = spawn_app();
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    let path = format!("/projects/{}/repository/tags", r.project_id);
    let before = app.count("refs");
    let resp =
        app.post_json(&path, Some(&r.developer.token), &json!({"tag_name": "t".repeat(256), "ref": "main"}));
    assert_error(resp, 400, "message", too_long("tag_name", 255, "bytes"));
    // 128 two-byte characters are 256 bytes.
    let resp =
        app.post_json(&path, Some(&r.developer.token), &json!({"tag_name": "ä".repeat(128), "ref": "main"}));
    assert_error(resp, 400, "message", too_long("tag_name", 255, "bytes"));
    let body = json!({"tag_name": "v1", "ref": "main", "message": "m".repeat(65_536)});
    assert_error(
        app.post_json(&path, Some(&r.developer.token), &body),
        400,
        "message",
        too_long("message", 65_535, "characters"),
    );
    assert_eq!(app.count("refs"), before);
    let body = json!({"tag_name": "v1", "ref": "main", "message": "m".repeat(65_535)});
    assert_eq!(
        json_of(app.post_json(&path, Some(&r.developer.token), &body), 201)["message"]
            .as_str()
            .unwrap()
            .len(),
        65_535
    );
}

#[test]
fn a_trigger_description_over_255_characters_is_refused_on_create_and_update() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    let long = "d".repeat(256);
    let resp = app.post_json(&path, Some(&r.maintainer.token), &json!({"description": long}));
    assert_error(resp, 400, "message", too_long("description", 255, "characters"));
    assert_eq!(app.count("triggers"), 0);
    let t = app.seed_trigger(r.project_id, &r.maintainer, "before");
    let resp =
        app.put_json(&format!("{path}/{}", t.id), Some(&r.maintainer.token), &json!({"description": long}));
    assert_error(resp, 400, "message", too_long("description", 255, "characters"));
    let stored: String = app
        .db()
        .query_row("SELECT description FROM triggers WHERE id = ?1", [t.id], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, "before");
    let ok = app.post_json(&path, Some(&r.maintainer.token), &json!({"description": "é".repeat(255)}));
    assert_eq!(ok.status(), 201);
}

#[test]
fn project_fields_have_gitlabs_length_limits() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    let cases = [
        (json!({"name": "n".repeat(256), "path": "p"}), too_long("name", 255, "characters")),
        (
            json!({"path": "p".repeat(256)}),
            json!({"name": ["is too long (maximum is 255 characters)"], "path": ["is too long (maximum is 255 characters)"]}),
        ),
        (json!({"path": "p", "description": "d".repeat(2001)}), too_long("description", 2000, "characters")),
        (json!({"path": "p", "default_branch": "b".repeat(256)}), too_long("default_branch", 255, "bytes")),
    ];
    for (body, expected) in cases {
        assert_error(app.post_json("/projects", Some(&alice.token), &body), 400, "message", expected);
    }
    assert_eq!(app.count("projects"), 0);
    let id = json_of(app.post_json("/projects", Some(&alice.token), &json!({"path": "p"})), 201)["id"]
        .as_i64()
        .unwrap();
    let resp = app.put_json(
        &format!("/projects/{id}"),
        Some(&alice.token),
        &json!({"description": "d".repeat(2001)}),
    );
    assert_error(resp, 400, "message", too_long("description", 2000, "characters"));
}

#[test]
fn user_and_token_fields_have_length_limits() {
    let app = spawn_app();
    let before = app.count("users");
    let user = |field: &str, value: String| {
        let mut body = json!({"username": "carol", "name": "Carol", "email": "carol@example.org", "password": "secret-password"});
        body[field] = json!(value);
        app.post_json("/users", Some(ROOT_TOKEN), &body)
    };
    let email = format!("{}@example.org", "e".repeat(250));
    assert_error(user("email", email), 400, "message", too_long("email", 255, "characters"));
    assert_error(user("name", "n".repeat(256)), 400, "message", too_long("name", 255, "characters"));
    assert_error(user("password", "p".repeat(129)), 400, "message", too_long("password", 128, "characters"));
    assert_error(user("username", "u".repeat(256)), 400, "message", too_long("username", 255, "characters"));
    assert_eq!(app.count("users"), before);
    let tokens_before = app.count("personal_access_tokens");
    let body = json!({"name": "t".repeat(256), "scopes": ["api"]});
    let resp = app.post_json("/users/1/personal_access_tokens", Some(ROOT_TOKEN), &body);
    assert_error(resp, 400, "message", too_long("name", 255, "characters"));
    assert_eq!(app.count("personal_access_tokens"), tokens_before);
}

// --- 5. Every ref fits in a URL ----------------------------------------------------------------

#[test]
fn a_255_byte_branch_name_can_be_created_read_and_deleted_through_its_url() {
    let app = spawn_app();
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    // 2 + 126 × 2 + 1 = 255 bytes, with a `/` and multibyte characters to encode.
    let name = format!("x/{}z", "ä".repeat(126));
    assert_eq!(name.len(), 255);
    let path = format!("/projects/{}/repository/branches", r.project_id);
    let created =
        json_of(app.post_json(&path, Some(&r.developer.token), &json!({"branch": name, "ref": "main"})), 201);
    assert_eq!(created["name"], name.as_str());
    let one = format!("{path}/{}", encode(&name));
    assert_eq!(json_of(app.get(&one, Some(&r.developer.token)), 200)["name"], name.as_str());
    assert_eq!(app.delete(&one, Some(&r.developer.token)).status(), 204);
    assert_error(app.get(&one, Some(&r.developer.token)), 404, "message", json!("404 Branch Not Found"));
    // One byte more is refused.
    let resp =
        app.post_json(&path, Some(&r.developer.token), &json!({"branch": format!("{name}z"), "ref": "main"}));
    assert_error(resp, 400, "message", too_long("branch", 255, "bytes"));
}

// --- 8. No credential echoed ----------------------------------------------------------------

#[test]
fn pagination_links_never_repeat_a_credential_from_the_query() {
    let app = spawn_app();
    let alice = app.create_user("alice");
    app.create_user("bob");
    app.create_user("carol");
    for key in ["private_token", "access_token"] {
        let url = format!("/users?{key}={}&per_page=1&page=2&search=&job_token=j0b&token=t0k", alice.token);
        let resp = app.request(Method::GET, &url, None).send().unwrap();
        assert_eq!(resp.status(), 200);
        let link = resp.headers()["link"].to_str().unwrap().to_string();
        assert_eq!(link.matches("per_page=1").count(), 4, "prev, next, first and last: {link}");
        for (name, value) in resp.headers() {
            let value = value.to_str().unwrap_or_default();
            for secret in [alice.token.as_str(), "j0b", "t0k", "token="] {
                assert!(!value.contains(secret), "header {name} repeats {secret:?}: {value}");
            }
        }
        let body = resp.text().unwrap();
        assert!(!body.contains(&alice.token));
        assert!(link.contains("search="), "other parameters are kept: {link}");
    }
}
