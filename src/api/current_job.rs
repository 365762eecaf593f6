//! `GET /job`: the job that owns the presented CI/CD job token, as GitLab's Job entity. The token
//! comes from the `JOB-TOKEN` header, a `job_token` parameter, HTTP Basic with the user
//! `gitlab-ci-token`, or `Authorization: Bearer glcbt-…`. No token: 401; a token whose job is
//! not running: 401 `Job is not running`; an unknown job token: 401; any other credential (a
//! personal access token): `404 Job Not Found`, as GitLab answers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::params::Params;
use crate::auth::{self, JOB_TOKEN_PREFIX};
use crate::db::{job_tokens, jobs, projects};
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

/// The job token of a request, wherever GitLab reads it from.
fn presented(req: &HttpRequest, params: &Params) -> Presented {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if let Some(t) = header("job-token").filter(|t| !t.is_empty()) {
        return Presented::JobToken(t);
    }
    if let Ok(Some(t)) = params.string("job_token")
        && !t.is_empty()
    {
        return Presented::JobToken(t);
    }
    if let Some(value) = header("authorization") {
        if let Some(token) = value.strip_prefix("Bearer ")
            && token.starts_with(JOB_TOKEN_PREFIX)
        {
            return Presented::JobToken(token.to_string());
        }
        if let Some(encoded) = value.strip_prefix("Basic ")
            && let Some(decoded) = auth::basic_credentials(encoded.trim())
            && let Some(("gitlab-ci-token", password)) = decoded.split_once(':')
        {
            return Presented::JobToken(password.to_string());
        }
        return Presented::Other;
    }
    let other = ["private-token"].iter().any(|h| header(h).is_some())
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
    let digest = auth::digest(&token);
    let found = state
        .db
        .read(move |c| {
            let Some(id) = job_tokens::job_id_by_token_digest(c, &digest)? else { return Ok(None) };
            let Some(job) = jobs::find_by_id(c, id)? else { return Ok(None) };
            let project = projects::find(c, job.project_id)?;
            Ok(Some((job, project)))
        })
        .await?;
    let Some((job, Some(project))) = found else { return Err(ApiError::Unauthorized) };
    if job.status != "running" {
        return Err(ApiError::message(StatusCode::UNAUTHORIZED, "Job is not running"));
    }
    let shown = super::jobs::job_entity(&req, &state, &project, job.id).await?;
    Ok(HttpResponse::Ok().json(shown))
}
