//! Bad input anywhere gets a 4xx JSON body in GitLab's shape and changes nothing; secrets are
//! never stored in plaintext.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

/// POSTs a raw body with a content type to create a trigger and returns (status, JSON body).
fn post_raw(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut rb = app.request(Method::POST, path, Some(token)).body(body);
    if let Some(ct) = content_type {
        rb = rb.header("Content-Type", ct);
    }
    let resp = rb.send().unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(ct.starts_with("application/json"), "content type {ct} for status {status}");
    (status, resp.json().unwrap())
}

#[test]
fn malformed_bodies_get_a_400_json_error_and_create_nothing() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{\"description\": ".to_vec()),
        ("application/json", b"[\"description\"]".to_vec()),
        ("application/json; charset=utf-8", b"not json at all".to_vec()),
        ("application/x-www-form-urlencoded", b"description=%zz".to_vec()),
        ("application/x-www-form-urlencoded", b"description=%ff%fe".to_vec()),
        (
            "multipart/form-data; boundary=XYZ",
            b"--XYZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nunterminated".to_vec(),
        ),
        ("multipart/form-data", b"--XYZ\r\n\r\n".to_vec()),
    ];
    for (ct, body) in cases {
        let (status, err) = post_raw(&app, &r.owner.token, &path, Some(ct), body);
        assert_eq!(status, 400, "{ct}: {err}");
        assert!(err["error"].is_string() || err["message"].is_string(), "{ct}: {err}");
    }
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn an_unsupported_content_type_gets_a_415_json_error() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    let (status, _) = post_raw(&app, &r.owner.token, &path, Some("text/plain"), b"description=x".to_vec());
    assert_eq!(status, 415);
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn an_empty_body_with_any_content_type_means_no_parameters() {
    let app = spawn_app();
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    for ct in [Some("application/json"), Some("text/plain"), Some("application/x-www-form-urlencoded"), None]
    {
        let (status, err) = post_raw(&app, &r.owner.token, &path, ct, Vec::new());
        assert_eq!((status, err), (400, json!({"error": "description is missing"})), "{ct:?}");
    }
    // With the description in the query string, the same empty JSON body creates the trigger.
    let (status, body) = post_raw(
        &app,
        &r.owner.token,
        &format!("{path}?description=q"),
        Some("application/json"),
        Vec::new(),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["description"], "q");
}

#[test]
fn a_body_over_the_size_limit_gets_a_413_json_error_and_creates_nothing() {
    let app = spawn_app_with(|c| c.server.max_body_bytes = 4096);
    let r = app.roles();
    let path = format!("/projects/{}/triggers", r.project_id);
    let big = json!({"description": "x".repeat(10_000)}).to_string().into_bytes();
    let (status, err) = post_raw(&app, &r.owner.token, &path, Some("application/json"), big);
    assert_eq!(status, 413, "{err}");
    assert_eq!(app.count("triggers"), 0);
}

#[test]
fn a_non_numeric_id_gets_a_400_json_error() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.get(&format!("/projects/{}/triggers/abc", r.project_id), Some(&r.owner.token));
    assert_error(resp, 400, "error", json!("trigger_id is invalid"));
    let resp = app.delete(&format!("/projects/{}/triggers/1x", r.project_id), Some(&r.owner.token));
    assert_error(resp, 400, "error", json!("trigger_id is invalid"));
}

#[test]
fn an_unsupported_method_on_a_known_route_gets_a_json_405() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app
        .request(Method::PATCH, &format!("/projects/{}/triggers", r.project_id), Some(&r.owner.token))
        .send()
        .unwrap();
    assert_error(resp, 405, "error", json!("405 Not Allowed"));
}

#[test]
fn a_malformed_query_string_gets_a_400_json_error() {
    let app = spawn_app();
    let r = app.roles();
    let resp = app.get(&format!("/projects/{}/triggers?page=%zz", r.project_id), Some(&r.owner.token));
    assert_eq!(resp.status(), 400);
    let resp = app.get(&format!("/projects/{}/triggers?page=0", r.project_id), Some(&r.owner.token));
    assert_error(resp, 400, "error", json!("page does not have a valid value"));
    let resp = app.get(&format!("/projects/{}/triggers?per_page=x", r.project_id), Some(&r.owner.token));
    assert_error(resp, 400, "error", json!("per_page is invalid"));
}

#[test]
fn no_token_or_password_is_stored_in_plaintext() {
    let app = spawn_app();
    let r = app.roles();
    let mut secrets = vec![ROOT_TOKEN.to_string(), r.owner.token.clone(), r.admin.token.clone()];
    // Trigger tokens through the API.
    for i in 0..3 {
        let body = json_of(
            app.post_json(
                &format!("/projects/{}/triggers", r.project_id),
                Some(&r.owner.token),
                &json!({"description": format!("t{i}")}),
            ),
            201,
        );
        secrets.push(body["token"].as_str().unwrap().to_string());
    }
    // A personal access token and a user password through the API.
    let user = json_of(
        app.post_json(
            "/users",
            Some(ROOT_TOKEN),
            &json!({"username": "carol", "name": "Carol", "email": "carol@example.com", "password": "carol-password-1"}),
        ),
        201,
    );
    secrets.push("carol-password-1".into());
    let pat = json_of(
        app.post_json(
            &format!("/users/{}/personal_access_tokens", user["id"]),
            Some(ROOT_TOKEN),
            &json!({"name": "ci", "scopes": ["api"]}),
        ),
        201,
    );
    secrets.push(pat["token"].as_str().unwrap().to_string());
    let mut bytes = std::fs::read(&app.db_path).unwrap();
    bytes.extend(std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default());
    for s in &secrets {
        assert!(s.len() >= 16);
        assert!(!bytes.windows(s.len()).any(|w| w == s.as_bytes()), "{s} is stored in plaintext");
    }
}

#[test]
fn a_variable_value_of_the_full_64_kib_is_accepted_in_every_body_encoding() {
    let app = spawn_app();
    let r = app.roles();
    app.seed_ref(r.project_id, "branch", "main");
    let trigger = app.seed_trigger(r.project_id, &r.owner, "big");
    let value = "v".repeat(64 * 1024);
    let path = format!("/projects/{}/trigger/pipeline", r.project_id);
    let urlencoded = format!("token={}&ref=main&variables%5BBIG%5D={value}", trigger.token);
    let json = json!({"token": trigger.token, "ref": "main", "variables": {"BIG": value}}).to_string();
    let boundary = "XyZ";
    let multipart = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"ref\"\r\n\r\nmain\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"variables[BIG]\"\r\n\r\n{value}\r\n--{boundary}--\r\n",
        trigger.token
    );
    let cases = [
        ("application/x-www-form-urlencoded".to_string(), urlencoded),
        ("application/json".to_string(), json),
        (format!("multipart/form-data; boundary={boundary}"), multipart),
    ];
    for (ct, body) in cases {
        let resp =
            app.request(Method::POST, &path, None).header("Content-Type", &ct).body(body).send().unwrap();
        let body = json_of(resp, 201);
        let vars = json_of(
            app.get(
                &format!("/projects/{}/pipelines/{}/variables", r.project_id, body["id"]),
                Some(&r.owner.token),
            ),
            200,
        );
        assert_eq!(vars[0]["value"].as_str().unwrap().len(), 64 * 1024, "{ct}");
    }
    // One byte more is refused with a message naming the limit, and creates nothing.
    let before = app.count("pipelines");
    let over = json!({"token": trigger.token, "ref": "main", "variables": {"BIG": format!("{value}v")}});
    let resp = app.post_json(&path, None, &over);
    let err = json_of(resp, 400);
    assert!(err["message"].as_str().unwrap().contains("max_variable_value_bytes"), "{err}");
    assert_eq!(app.count("pipelines"), before);
}

#[test]
fn a_body_that_never_finishes_arriving_gets_a_408_json_error() {
    use std::io::{Read, Write};
    let app = spawn_app_with(|c| c.server.body_read_timeout_secs = 1);
    let r = app.roles();
    let addr = app.address.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    let head = format!(
        "POST /api/v4/projects/{}/triggers HTTP/1.1\r\nHost: {addr}\r\nPRIVATE-TOKEN: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"descr",
        r.project_id, r.owner.token
    );
    conn.write_all(head.as_bytes()).unwrap();
    // Send nothing more: the server must give up on its own and answer.
    conn.set_read_timeout(Some(std::time::Duration::from_secs(60))).unwrap();
    let mut buf = [0u8; 4096];
    let n = conn.read(&mut buf).unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/json"), "{answer}");
    assert_eq!(app.count("triggers"), 0);
}
