//! `GET /runners/:id/jobs` (GitLab's `RunnerJobsFinder`): the jobs a runner took, for admins and
//! the Maintainers+ of a project runner's project (GitLab's `read_builds` on the runner; anyone
//! else `403 No access granted`). Those callers see every job of the runner, since a project
//! runner belongs to exactly one project.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::manage::{Right, load_runner};
use crate::api::entities::ProjectIdentity;
use crate::api::jobs::{JobBasic, JobWithProject, pipelines_of};
use crate::api::pagination::{self, Page};
use crate::api::params::Params;
use crate::api::pipelines::STATUSES;
use crate::auth::Caller;
use crate::db::jobs as store;
use crate::db::projects;
use crate::error::ApiResult;
use crate::model;
use crate::state::AppState;

/// `GET /runners/:id/jobs` — `status`, `order_by` (`id`), `sort` (`desc` by default), pagination;
/// `system_id` and `cursor` are ignored (runner managers are not stored; pages are by offset).
pub(super) async fn list_jobs(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let status = params.one_of("status", STATUSES)?;
    params.one_of("order_by", &["id"])?;
    let ascending = params.one_of("sort", &["asc", "desc"])?.as_deref() == Some("asc");
    let page = Page::from_params(&params)?;
    let runner_id = load_runner(&state, &caller, &path, Right::Update).await?.runner.id;
    let ((rows, pipelines, projects), total) = state
        .db
        .read(move |c| {
            let (rows, total) = store::list_for_runner(
                c,
                runner_id,
                status.as_deref(),
                ascending,
                page.limit(),
                page.offset(),
            )?;
            let pipelines = pipelines_of(c, &rows)?;
            let mut projects = HashMap::new();
            for job in &rows {
                if !projects.contains_key(&job.project_id)
                    && let Some(p) = projects::find(c, job.project_id)?
                {
                    projects.insert(p.id, p);
                }
            }
            Ok(((rows, pipelines, projects), total))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let now = model::now();
    let items: Vec<JobWithProject> = rows
        .iter()
        .filter_map(|job| {
            let (pipeline, project) = (pipelines.get(&job.pipeline_id)?, projects.get(&job.project_id)?);
            Some(JobWithProject {
                basic: JobBasic::new(job, pipeline, project, &base, &now),
                project: ProjectIdentity::new(project),
            })
        })
        .collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}
