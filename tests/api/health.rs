use crate::helpers::*;
use serde_json::json;

#[test]
fn health_liveness_and_readiness_answer_ok_as_json() {
    let app = spawn_app();
    for path in ["/-/health", "/-/liveness", "/-/readiness"] {
        let resp = app.client.get(format!("{}{path}", app.address)).send().unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let body: serde_json::Value = resp.json().unwrap();
        assert_eq!(body["status"], "ok", "{path}");
    }
}

#[test]
fn an_unknown_route_is_a_json_404_with_gitlabs_error_body() {
    let app = spawn_app();
    for path in ["/api/v4/nothing/here", "/no/api/at/all", "/api/v4/projects/1/triggers/1/take_ownership"] {
        let resp = app.client.post(format!("{}{path}", app.address)).send().unwrap();
        assert_error(resp, 404, "error", json!("404 Not Found"));
    }
}

#[test]
fn every_response_carries_nosniff() {
    let app = spawn_app();
    let resp = app.client.get(format!("{}/api/v4/unknown", app.address)).send().unwrap();
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
}

#[test]
fn version_and_metadata_answer_signed_in_users_with_a_gitlab_version_and_ours_as_the_revision() {
    let app = spawn_app();
    let user = app.create_user("someone");
    let v = json_of(app.get("/version", Some(&user.token)), 200);
    assert_eq!(v["version"], triggerd::api::health::GITLAB_VERSION);
    assert_eq!(v["revision"], format!("triggerd-{}", env!("CARGO_PKG_VERSION")));
    let m = json_of(app.get("/metadata", Some(&user.token)), 200);
    assert_eq!(m["version"], v["version"]);
    assert_eq!(m["kas"]["enabled"], false);
    assert_eq!(m["enterprise"], false);
    assert_eq!(app.get("/version", None).status().as_u16(), 401);
    assert_eq!(app.get("/metadata", None).status().as_u16(), 401);
}
