//! `PUT /jobs/:id`: the runner's state updates.

use actix_web::{HttpRequest, HttpResponse, web};

use super::{FAILURE_REASONS, TRACE_UPDATE_INTERVAL, authenticate_job, job_id};
use crate::api::params::Params;
use crate::ci::JobStatus;
use crate::db::jobs as store;
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// `PUT /jobs/:id` — `state=running` is a keep-alive; `success` and `failed` finish the job and
/// advance its pipeline. 200 with `Job-Status`; 403 (with `Job-Status`) once the job is no
/// longer running or for a wrong token; 400 for another state.
pub(super) async fn update_job(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let id = job_id(&req)?;
    let new_state = params.string("state")?;
    let failure_reason = params.string("failure_reason")?;
    let _exit_code = params.int("exit_code")?;
    if let Err(resp) = authenticate_job(&state, id, Some(token)).await? {
        return Ok(resp);
    }
    let now = model::now();
    let status = match new_state.as_deref() {
        Some("running") => {
            state.db.write(move |c| Ok(store::touch_running(c, id, &now)?)).await?;
            "running"
        }
        Some(to @ ("success" | "failed")) => {
            let to = if to == "success" { JobStatus::Success } else { JobStatus::Failed };
            let reason = failure_reason
                .filter(|r| FAILURE_REASONS.contains(&r.as_str()))
                .unwrap_or_else(|| "unknown_failure".to_string());
            let finished =
                state.db.write(move |c| Ok(store::finish(c, id, to, Some(&reason), &now)?)).await?;
            // Wake the waiting runners only when the next stage made jobs pending: every woken
            // runner runs a claim write.
            if finished == (store::Finished::Yes { enqueued: true }) {
                state.job_queue.tick();
            }
            to.as_str()
        }
        _ => return Err(ApiError::not_valid_value("state")),
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Job-Status", status))
        .insert_header(("X-GitLab-Trace-Update-Interval", TRACE_UPDATE_INTERVAL))
        .content_type("text/plain")
        .body("200"))
}
