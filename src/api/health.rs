//! `GET /-/health`, `/-/liveness` and `/-/readiness` (the last one queries the database), and
//! the instance routes clients call first: `GET /version` and `GET /metadata`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/-/health", |m| m.get(health));
    r.resource("/-/liveness", |m| m.get(liveness));
    r.resource("/-/readiness", |m| m.get(readiness));
}

/// The GitLab version triggerd's API follows, as `GET /version` reports it: clients that gate
/// features on the version (python-gitlab, the terraform provider, glab) take the current paths.
pub const GITLAB_VERSION: &str = "17.11.0";

/// `revision`: triggerd's own version.
fn revision() -> String {
    format!("triggerd-{}", env!("CARGO_PKG_VERSION"))
}

pub fn configure_instance(r: &mut super::Routes) {
    r.resource("/version", |m| m.get(version));
    r.resource("/metadata", |m| m.get(metadata));
}

/// `GET /version` (signed in, as GitLab): `{"version", "revision"}`.
async fn version(_caller: crate::auth::Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({"version": GITLAB_VERSION, "revision": revision()}))
}

/// `GET /metadata` (signed in, as GitLab): the version, no KAS, not an enterprise edition.
async fn metadata(_caller: crate::auth::Caller) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "version": GITLAB_VERSION,
        "revision": revision(),
        "kas": {"enabled": false, "externalUrl": null, "externalK8sProxyUrl": null, "version": null},
        "enterprise": false,
    }))
}

/// GitLab answers `GitLab OK`; we answer JSON, like every other route.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

async fn liveness() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// 200 when a read on the database succeeds, else 503 with the failed check.
async fn readiness(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let db_ok = state.db.read(|c| Ok(crate::db::ping(c)?)).await.is_ok();
    let status = if db_ok { "ok" } else { "failed" };
    let body = json!({"status": status, "db_check": [{"status": status}]});
    Ok(if db_ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) })
}
