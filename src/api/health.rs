//! `GET /-/health`, `/-/liveness` and `/-/readiness` (the last one queries the database).

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiResult;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/-/health", |m| m.get(health));
    r.resource("/-/liveness", |m| m.get(liveness));
    r.resource("/-/readiness", |m| m.get(readiness));
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
    let db_ok = state
        .db
        .read(|c| Ok(c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))?))
        .await
        .is_ok();
    let status = if db_ok { "ok" } else { "failed" };
    let body = json!({"status": status, "db_check": [{"status": status}]});
    Ok(if db_ok { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) })
}
