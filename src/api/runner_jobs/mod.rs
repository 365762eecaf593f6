//! The runner's job calls (GitLab's `lib/api/ci/runner.rb`): `POST /jobs/request` (long-polled,
//! as Workhorse does), `PUT /jobs/:id` (state updates) and `PATCH /jobs/:id/trace` (log appends).
//!
//! A runner authenticates with its `glrt-…` token in the body; the job calls with the job's
//! `glcbt-…` token, which is generated when the job is handed out, kept only as a SHA-256
//! digest on the job row, and stops working when the job finishes.
//!
//! This module registers the routes and holds the job-token check the job calls share;
//! `request` answers the long poll and claims a job, `payload` builds what the runner receives
//! (with the predefined variables), `update` takes state updates, `trace` log appends (masking
//! the job token) and `sweeper` fails jobs whose runner went silent.

use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use crate::auth;
use crate::db::jobs as store;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

mod payload;
mod request;
mod sweeper;
mod trace;
mod update;

pub use sweeper::sweep_stuck_jobs;

pub fn configure(r: &mut super::Routes) {
    r.resource("/jobs/request", |m| m.post(request::request_job));
    r.resource("/jobs/{job_id}", |m| m.put(update::update_job));
    r.resource("/jobs/{job_id}/trace", |m| m.patch(trace::append_trace));
}

/// `X-GitLab-Trace-Update-Interval`: seconds between the runner's log updates.
const TRACE_UPDATE_INTERVAL: &str = "3";
/// Failure reasons a runner may report (GitLab's `Ci::Build` `failure_reason` enum, runner side).
const FAILURE_REASONS: [&str; 12] = [
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "missing_dependency_failure",
    "runner_unsupported",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
];

// ---- job-token calls --------------------------------------------------------------------------

/// The job id in the path: anything else is a job that does not exist (403, as GitLab).
pub(super) fn job_id(req: &HttpRequest) -> ApiResult<i64> {
    req.match_info()
        .get("job_id")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::forbidden)
}

/// A 403 carrying `Job-Status` (the runner aborts the job on it).
pub(super) fn forbidden_with_status(status: &str, reason: Option<&str>) -> HttpResponse {
    let mut resp = ApiError::Forbidden(reason.map(str::to_string)).error_response();
    if let Ok(v) = HeaderValue::from_str(status) {
        resp.headers_mut().insert(actix_web::http::header::HeaderName::from_static("job-status"), v);
    }
    resp
}

/// GitLab's `authenticate_job!`: the job exists, `token` is its job token, and it is running.
/// `Err(response)` is the 403 to send.
pub(super) async fn authenticate_job(
    state: &AppState,
    job_id: i64,
    token: Option<String>,
) -> ApiResult<Result<(), HttpResponse>> {
    let check = state.db.read(move |c| Ok(store::token_check(c, job_id)?)).await?;
    let Some(check) = check else { return Ok(Err(ApiError::forbidden().error_response())) };
    let presented = token.filter(|t| !t.is_empty()).map(|t| auth::digest(&t));
    let matches = match (&check.token_digest, &presented) {
        (Some(stored), Some(given)) => auth::digests_match(stored, given),
        _ => false,
    };
    if check.status != "running" {
        return Ok(Err(forbidden_with_status(&check.status, Some("Job is not processing on runner"))));
    }
    if !matches {
        return Ok(Err(forbidden_with_status(&check.status, None)));
    }
    Ok(Ok(()))
}
