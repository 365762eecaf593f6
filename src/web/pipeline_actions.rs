//! What a pipeline page's buttons do: cancel and retry (Developer+, as the API) and delete
//! (Owner, through the API's `DELETE /projects/:id/pipelines/:id` handler). Cancel and delete ask
//! on a page of their own first (a `<dialog>` with JavaScript).

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::pipelines::{find_pipeline, parse_id};
use super::projects::project_page;
use super::session::{MaybeViewer, Viewer};
use super::view::{self, Chrome};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::db::jobs;
use crate::db::pipelines::PipelineRow;
use crate::model::{self, AccessLevel};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pipeline_cancel.html")]
struct CancelPage {
    chrome: Chrome,
    path: String,
    id: i64,
    return_to: String,
}

/// A pipeline button's POST: the pipeline of the path and the checked form, when the viewer
/// has `level` on its project (404 otherwise, as for a pipeline that is not there).
async fn pipeline_form(
    state: &AppState,
    viewer: MaybeViewer,
    req: &HttpRequest,
    (ns, project, raw): (String, String, String),
    body: &Bytes,
    level: AccessLevel,
) -> WebResult<(Viewer, ProjectAccess, PipelineRow, Fields)> {
    let pa = project_page(state, &viewer, req, &ns, &project).await?;
    let viewer = viewer.require(req)?;
    let form = viewer.form(body)?;
    let row = find_pipeline(state, &pa, parse_id(&raw)?).await?;
    if !pa.at_least(level) {
        return Err(WebError::NotFound);
    }
    Ok((viewer, pa, row, form))
}

/// Which write a pipeline action makes.
#[derive(Clone, Copy)]
enum Action {
    Cancel,
    Retry,
}

async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: (String, String, String),
    body: Bytes,
    action: Action,
) -> WebResult<HttpResponse> {
    let (viewer, pa, row, form) =
        pipeline_form(&state, viewer, &req, path, &body, AccessLevel::Developer).await?;
    let id = row.id;
    let full = pa.project.path_with_namespace();
    let return_to = view::local_path(form.get("return_to"), &format!("/{full}/-/pipelines/{id}"));
    if matches!(action, Action::Cancel) && form.get("confirm") != Some("1") {
        let page = CancelPage {
            chrome: viewer.chrome(&format!("Stop pipeline #{id}?"), None),
            path: full,
            id,
            return_to,
        };
        return view::render(&page);
    }
    let (user, now) = (viewer.user.id, model::now());
    let pipeline_id = row.id;
    state
        .db
        .write(move |c| {
            Ok(match action {
                Action::Cancel => jobs::cancel_pipeline(c, pipeline_id, &now)?,
                Action::Retry => jobs::retry_pipeline(c, pipeline_id, Some(user), &now)?,
            })
        })
        .await?;
    let flash = match action {
        Action::Cancel => "pipeline_canceled",
        Action::Retry => {
            // A retry makes jobs pending: wake the waiting runners (as the API does).
            state.job_queue.tick();
            "pipeline_retried"
        }
    };
    let sep = if return_to.contains('?') { '&' } else { '?' };
    Ok(view::see_other(&format!("{return_to}{sep}flash={flash}")))
}

/// `POST /:namespace/:project/-/pipelines/:id/cancel` (Developer+; `confirm=1`, else a
/// confirmation page), then back to `return_to`.
pub async fn cancel(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    act(req, state, viewer, path.into_inner(), body, Action::Cancel).await
}

/// `POST /:namespace/:project/-/pipelines/:id/retry` (Developer+), then back to `return_to`.
pub async fn retry(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    act(req, state, viewer, path.into_inner(), body, Action::Retry).await
}

#[derive(Template)]
#[template(path = "pipeline_delete.html")]
struct DeletePage {
    chrome: Chrome,
    path: String,
    id: i64,
}

/// `POST /:namespace/:project/-/pipelines/:id/delete` (Owner, as GitLab shows Delete only to
/// Owners; others 404): `confirm=1` deletes through the API's handler and goes to the list,
/// anything else asks on a page first.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (viewer, pa, row, form) =
        pipeline_form(&state, viewer, &req, path.into_inner(), &body, AccessLevel::Owner).await?;
    let id = row.id;
    let full = pa.project.path_with_namespace();
    if form.get("confirm") != Some("1") {
        let page =
            DeletePage { chrome: viewer.chrome(&format!("Delete pipeline #{id}?"), None), path: full, id };
        return view::render(&page);
    }
    let target = web::Path::from((pa.project.id.to_string(), row.id.to_string()));
    crate::api::pipelines::delete(viewer.caller(), req.clone(), state.clone(), target).await?;
    Ok(view::see_other(&format!("/{full}/-/pipelines?flash=pipeline_deleted")))
}
