//! The OpenAPI document (`openapi/openapi.json`): it describes exactly the routes the server
//! registers, and the server serves it verbatim.

use std::collections::BTreeSet;

use crate::helpers::*;
use serde_json::Value;
use triggerd::api::{openapi, route_table};

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/// An actix pattern as an OpenAPI path: `{ref:.+}` → `{ref}`.
fn openapi_path(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut in_segment_regex = false;
    for c in pattern.chars() {
        match c {
            ':' if out.rfind('{') > out.rfind('}') => in_segment_regex = true,
            '}' => {
                in_segment_regex = false;
                out.push(c);
            }
            _ if in_segment_regex => {}
            _ => out.push(c),
        }
    }
    out
}

fn document() -> Value {
    serde_json::from_str(openapi::DOCUMENT).expect("openapi/openapi.json is not valid JSON")
}

/// Every `(METHOD, path)` operation the document describes.
fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths is an object") {
        for method in METHODS {
            if item.get(*method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn actix_patterns_map_to_openapi_paths() {
    assert_eq!(
        openapi_path("/api/v4/projects/{id}/ref/{ref:.+}/trigger/pipeline"),
        "/api/v4/projects/{id}/ref/{ref}/trigger/pipeline"
    );
    assert_eq!(
        openapi_path("/api/v4/projects/{id}/repository/tags/{tag:.+}"),
        "/api/v4/projects/{id}/repository/tags/{tag}"
    );
    assert_eq!(openapi_path("/-/health"), "/-/health");
}

#[test]
fn the_openapi_document_is_json_of_version_3_1_with_unique_operation_ids() {
    let doc = document();
    let version = doc["openapi"].as_str().expect("openapi is a string");
    assert!(version.starts_with("3.1."), "openapi is {version}, not 3.1.x");
    let mut ids = BTreeSet::new();
    for item in doc["paths"].as_object().unwrap().values() {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                let id = op["operationId"].as_str().expect("every operation has an operationId");
                assert!(ids.insert(id.to_string()), "operationId {id} is used twice");
                assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()), "{id} has no responses");
            }
        }
    }
}

#[test]
fn every_registered_route_is_documented_and_every_documented_operation_is_registered() {
    let registered: BTreeSet<(String, String)> =
        route_table().into_iter().map(|(method, path)| (method, openapi_path(&path))).collect();
    let documented = documented_operations(&document());
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    let dead: Vec<_> = documented.difference(&registered).collect();
    assert!(undocumented.is_empty(), "routes missing from openapi/openapi.json: {undocumented:?}");
    assert!(dead.is_empty(), "operations in openapi/openapi.json the server does not register: {dead:?}");
}

#[test]
fn the_server_serves_the_openapi_document_verbatim_without_authentication() {
    let app = spawn_app();
    let resp = app.get("/openapi.json", None);
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.bytes().unwrap().as_ref(), openapi::DOCUMENT.as_bytes());
}

// Regressions found by schemathesis against this document.

#[test]
fn a_list_asked_for_the_largest_page_number_answers_an_empty_last_page() {
    let app = spawn_app();
    let resp = app.get("/projects?page=9223372036854775807&per_page=1", Some(ROOT_TOKEN));
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-next-page"], "");
    assert_eq!(resp.json::<Value>().unwrap(), serde_json::json!([]));
}

#[test]
fn an_unsupported_method_is_a_json_405_that_names_the_allowed_methods() {
    let app = spawn_app();
    for (method, path, allow) in [
        ("TRACE", "/-/health", "GET"),
        ("PATCH", "/api/v4/projects", "GET, POST"),
        ("POST", "/api/v4/projects/1/triggers/1", "GET, PUT, DELETE"),
    ] {
        let resp = app
            .client
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}{path}", app.address),
            )
            .send()
            .unwrap();
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
        assert_error(resp, 405, "error", serde_json::json!("405 Not Allowed"));
    }
}
