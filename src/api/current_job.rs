//! `GET /job`: the job that owns the presented CI/CD job token, as GitLab's Job entity. The token
//! comes from the `JOB-TOKEN` header, a `job_token` parameter, HTTP Basic with the user
//! `gitlab-ci-token`, or `Authorization: Bearer glcbt-…`. No token: 401; a token whose job is
//! not running: 401 `Job is not running`; an unknown job token: 401; any other credential (a
//! personal access token): `404 Job Not Found`, as GitLab answers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::params::Params;
use crate::auth::{self, JOB_TOKEN_PREFIX};
use crate::db::projects;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/job", |m| m.get(show));
}

/// What the request presents as its credential.
enum Presented {
    JobToken(String),
    /// Some other credential (`PRIVATE-TOKEN`, a non-job Bearer token, …).
    Other,
    Nothing,
}

/// The job token of a request, wherever GitLab reads it from: where every job-token route does
/// (`auth::job_token_of`), in the body, or as `Authorization: Bearer glcbt-…`.
fn presented(req: &HttpRequest, params: &Params) -> Presented {
    if let Some(t) = auth::job_token_of(req) {
        return Presented::JobToken(t);
    }
    if let Ok(Some(t)) = params.string("job_token")
        && !t.is_empty()
    {
        return Presented::JobToken(t);
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(value) = header("authorization") {
        if let Some(token) = value.strip_prefix("Bearer ")
            && token.starts_with(JOB_TOKEN_PREFIX)
        {
            return Presented::JobToken(token.to_string());
        }
        return Presented::Other;
    }
    let other = header("private-token").is_some()
        || params.get("private_token").is_some()
        || params.get("access_token").is_some();
    if other { Presented::Other } else { Presented::Nothing }
}

/// `GET /job`
async fn show(req: HttpRequest, state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let token = match presented(&req, &params) {
        Presented::JobToken(t) => t,
        Presented::Other => return Err(ApiError::NotFound("Job")),
        Presented::Nothing => return Err(ApiError::Unauthorized),
    };
    let Some(job) = auth::job_of_token(&state, &token).await? else { return Err(ApiError::Unauthorized) };
    if job.status != "running" {
        return Err(ApiError::message(StatusCode::UNAUTHORIZED, "Job is not running"));
    }
    let project_id = job.project_id;
    let project = state.db.read(move |c| Ok(projects::find(c, project_id)?)).await?;
    let Some(project) = project else { return Err(ApiError::Unauthorized) };
    let shown = super::jobs::job_entity(&req, &state, &project, job.id).await?;
    Ok(HttpResponse::Ok().json(shown))
}
