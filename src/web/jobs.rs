//! `/:namespace/:project/-/jobs/:id`: a job and its log, which the page follows while the job
//! runs (app.js). Read with the API's rule for the project's pipelines.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pipelines::parse_id;
use super::projects::project_page;
use super::session::MaybeViewer;
use super::view::{self, Badge, Chrome};
use super::{WebError, WebResult};
use crate::db::jobs;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    chrome: Chrome,
    path: String,
    id: i64,
    name: String,
    stage: String,
    badge: Badge,
    pipeline_id: i64,
    failure_reason: Option<String>,
    duration: Option<String>,
    running: bool,
    log: String,
}

/// `GET /:namespace/:project/-/jobs/:id`: the job and its log (colour codes removed).
pub async fn job(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project, raw) = path.into_inner();
    let pa = project_page(&state, &viewer, &req, &ns, &project).await?;
    let id = parse_id(&raw)?;
    let pid = pa.project.id;
    let (job, trace) = state
        .db
        .read(move |c| {
            let Some(job) = jobs::find(c, pid, id)? else { return Ok(None) };
            let trace = jobs::trace(c, id)?.unwrap_or_default();
            Ok(Some((job, trace)))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let full = pa.project.path_with_namespace();
    let page = JobPage {
        chrome: viewer.chrome(&format!("{} · Job #{id} · {full}", job.name), None),
        id,
        badge: Badge::status(&job.status),
        running: job.status == "running",
        pipeline_id: job.pipeline_id,
        failure_reason: job.failure_reason.clone(),
        duration: view::duration(job.duration),
        stage: job.stage.clone(),
        name: job.name.clone(),
        log: view::plain_log(&trace),
        path: full,
    };
    view::render(&page)
}
