//! Hostile parameters (issue "No request can crash the server", finding 1): deeply nested
//! bracket keys, deeply nested JSON and huge numbers of keys get a 400 JSON error in GitLab's
//! shape on every route and in every encoding, and the server keeps answering afterwards.

use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

const TOO_DEEP: &str = "the parameters are nested too deeply (more than 100 levels)";
const TOO_MANY: &str = "too many parameters (more than 1000)";

/// The attack from the issue: a key 8000 bracket levels deep (a ~16 KB request).
fn deep_key() -> String {
    format!("a{}", "[]".repeat(8000))
}

/// `n` distinct short keys without values (`aaa&aab&…`), so 10,000 fit in a 40 KB URL.
fn distinct_keys(n: usize) -> String {
    let key = |i: usize| {
        let digit = |d: usize| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[d % 36]);
        [digit(i / 1296), digit(i / 36), digit(i)].iter().collect::<String>()
    };
    (0..n).map(key).collect::<Vec<_>>().join("&")
}

/// Sends the request, asserts a 400 `{"error": expected}` and then that the server still
/// answers its liveness check.
#[track_caller]
fn assert_refused_and_alive(app: &TestApp, rb: reqwest::blocking::RequestBuilder, expected: &str) {
    let resp = rb.send().unwrap_or_else(|e| panic!("the server must answer: {}", e.without_url()));
    assert_error(resp, 400, "error", json!(expected));
    let live = app.client.get(format!("{}/-/liveness", app.address)).send().unwrap();
    assert_eq!(live.status().as_u16(), 200);
}

fn multipart_field(name: &str) -> Vec<u8> {
    format!("--BOUNDARY\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n1\r\n--BOUNDARY--\r\n")
        .into_bytes()
}

#[test]
fn a_query_key_nested_eight_thousand_levels_deep_gets_a_400_and_the_server_survives() {
    let app = spawn_app();
    let url = format!("{}?{}=1", app.api("/projects"), deep_key());
    assert!(url.len() > 16_000);
    assert_refused_and_alive(&app, app.client.get(url), TOO_DEEP);
}

#[test]
fn an_urlencoded_body_key_nested_eight_thousand_levels_deep_gets_a_400_and_the_server_survives() {
    let app = spawn_app();
    let r = app.roles();
    // The trigger call needs no user authentication: the most exposed route.
    let rb = app
        .request(Method::POST, &format!("/projects/{}/trigger/pipeline", r.project_id), None)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("token=x&ref=main&{}=1", deep_key()));
    assert_refused_and_alive(&app, rb, TOO_DEEP);
    let rb = app
        .request(Method::POST, &format!("/projects/{}/triggers", r.project_id), Some(&r.owner.token))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("description=x&{}=1", deep_key()));
    assert_refused_and_alive(&app, rb, TOO_DEEP);
    assert_eq!(app.count("triggers"), 0);
    assert_eq!(app.count("pipelines"), 0);
}

#[test]
fn a_multipart_field_name_nested_eight_thousand_levels_deep_gets_a_400_and_the_server_survives() {
    let app = spawn_app();
    let r = app.roles();
    let rb = app
        .request(Method::POST, &format!("/projects/{}/trigger/pipeline", r.project_id), None)
        .header("Content-Type", "multipart/form-data; boundary=BOUNDARY")
        .body(multipart_field(&deep_key()));
    assert_refused_and_alive(&app, rb, TOO_DEEP);
    assert_eq!(app.count("pipelines"), 0);
}

#[test]
fn a_json_body_nested_a_hundred_thousand_levels_deep_gets_a_400_and_the_server_survives() {
    let app = spawn_app();
    let r = app.roles();
    let depth = 100_000;
    let body =
        format!("{{\"token\":\"x\",\"ref\":\"main\",\"a\":{}1{}}}", "[".repeat(depth), "]".repeat(depth));
    let rb = app
        .request(Method::POST, &format!("/projects/{}/trigger/pipeline", r.project_id), None)
        .header("Content-Type", "application/json")
        .body(body);
    assert_refused_and_alive(&app, rb, TOO_DEEP);
    assert_eq!(app.count("pipelines"), 0);
}

#[test]
fn ten_thousand_distinct_keys_get_a_400_in_the_query_and_in_every_body_encoding() {
    let app = spawn_app();
    let r = app.roles();
    let keys = distinct_keys(10_000);
    let url = format!("{}?{keys}", app.api("/projects"));
    assert_refused_and_alive(&app, app.client.get(url), TOO_MANY);
    let path = format!("/projects/{}/trigger/pipeline", r.project_id);
    let rb = app
        .request(Method::POST, &path, None)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(keys.clone());
    assert_refused_and_alive(&app, rb, TOO_MANY);
    let mut body = Vec::new();
    for i in 0..10_000 {
        body.extend_from_slice(
            format!("--BOUNDARY\r\nContent-Disposition: form-data; name=\"k{i}\"\r\n\r\n1\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(b"--BOUNDARY--\r\n");
    let rb = app
        .request(Method::POST, &path, None)
        .header("Content-Type", "multipart/form-data; boundary=BOUNDARY")
        .body(body);
    assert_refused_and_alive(&app, rb, TOO_MANY);
    assert_eq!(app.count("pipelines"), 0);
}

#[test]
fn parameters_within_the_limits_still_work_at_the_edges() {
    let app = spawn_app();
    let r = app.roles();
    // 100 levels and 1000 pairs are accepted: listing projects ignores unknown parameters.
    let url = format!("{}?a{}=1", app.api("/projects"), "[]".repeat(100));
    let resp = app.client.get(url).header("PRIVATE-TOKEN", &r.owner.token).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let url = format!("{}?{}", app.api("/projects"), distinct_keys(1000));
    let resp = app.client.get(url).header("PRIVATE-TOKEN", &r.owner.token).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let url = format!("{}?{}", app.api("/projects"), distinct_keys(1001));
    assert_refused_and_alive(&app, app.client.get(url), TOO_MANY);
}
