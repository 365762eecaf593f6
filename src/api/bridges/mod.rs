//! `trigger:` jobs (bridges): `GET /projects/:id/pipelines/:pipeline_id/bridges` lists a
//! pipeline's bridges as GitLab's `Bridge` entity (`JobBasic` + `downstream_pipeline`), and the
//! [`worker`] creates their downstream pipelines. The Jobs API's reads and cancel show builds
//! only (as GitLab's); its retry and play take bridges too and answer with [`one`].
//!
//! Reads (`read_build`) as for the pipeline's jobs. A downstream pipeline in a project the
//! caller cannot see shows as `null`.

pub mod worker;

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::access;
use super::jobs::{JobBasic, JobPipeline, JobProject, PipelineAndCommit, read_access, scope, with_commit};
use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::{Caller, MaybeCaller};
use crate::db::jobs::{self as store, JobKind, JobRow, ListFilter, bridges};
use crate::db::projects::ProjectRow;
use crate::db::{pipelines, projects};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub use worker::run_bridges;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/pipelines/{pipeline_id}/bridges", |m| m.get(list));
}

/// GitLab's `Bridge` entity.
#[derive(Debug, Clone, Serialize)]
pub struct Bridge {
    #[serde(flatten)]
    pub basic: JobBasic,
    pub project: JobProject,
    /// The pipeline the bridge created (`PipelineBasic`), once it did.
    pub downstream_pipeline: Option<JobPipeline>,
}

/// `GET /projects/:id/pipelines/:pipeline_id/bridges` (`scope[]`, pagination), newest first.
async fn list(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let pipeline_id = access::path_id(&raw, "pipeline_id")?;
    let statuses = scope(&params)?;
    let page = Page::from_params(&params)?;
    let pa = read_access(&state, &caller, &id).await?;
    let pid = pa.project.id;
    let viewer = caller.0.as_ref().map(|c| (c.user.id, c.is_admin()));
    let base = pagination::base_url(&req, &state);
    let filter = ListFilter {
        kind: JobKind::Bridges,
        pipeline_id: Some(pipeline_id),
        statuses,
        include_retried: false,
    };
    let project = pa.project.clone();
    let (items, total) = state
        .db
        .read(move |c| {
            let Some(pipeline) = pipelines::find(c, pid, pipeline_id)? else { return Ok(None) };
            let (rows, total) = store::list(c, pid, &filter, page.limit(), page.offset())?;
            let pipeline = with_commit(c, pipeline)?;
            let now = model::now();
            let mut seen: HashMap<i64, bool> = HashMap::new();
            let items = rows
                .iter()
                .map(|row| bridge_json(c, row, &pipeline, &project, viewer, &base, &now, &mut seen))
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(Some((items, total)))
        })
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// One bridge of `project` as GitLab's `Bridge` entity (the Jobs API's answer to a retried or
/// played bridge); `404 Not found` when there is none.
pub async fn one(
    state: &AppState,
    caller: Option<&Caller>,
    project: &ProjectRow,
    id: i64,
    base: String,
) -> ApiResult<Bridge> {
    let viewer = caller.map(|c| (c.user.id, c.is_admin()));
    let project = project.clone();
    state
        .db
        .read(move |c| {
            let Some(row) = store::find_bridge(c, project.id, id)? else { return Ok(None) };
            let Some(pipeline) = pipelines::find(c, project.id, row.pipeline_id)? else { return Ok(None) };
            let pipeline = with_commit(c, pipeline)?;
            let now = model::now();
            let bridge = bridge_json(c, &row, &pipeline, &project, viewer, &base, &now, &mut HashMap::new())?;
            Ok(Some(bridge))
        })
        .await?
        .ok_or(ApiError::RecordNotFound)
}

/// A bridge row as the entity.
#[allow(clippy::too_many_arguments)]
fn bridge_json(
    c: &rusqlite::Connection,
    row: &JobRow,
    pipeline: &PipelineAndCommit,
    project: &ProjectRow,
    viewer: Option<(i64, bool)>,
    base: &str,
    now: &str,
    seen: &mut HashMap<i64, bool>,
) -> rusqlite::Result<Bridge> {
    let downstream = match bridges::downstream_of(c, row.id)? {
        Some(d) => downstream_json(c, d, viewer, base, seen)?,
        None => None,
    };
    Ok(Bridge {
        basic: JobBasic::new(row, pipeline, project, base, now),
        project: JobProject { ci_job_token_scope_enabled: false },
        downstream_pipeline: downstream,
    })
}

/// A downstream pipeline as `PipelineBasic`, if the viewer sees its project.
fn downstream_json(
    c: &rusqlite::Connection,
    pipeline_id: i64,
    viewer: Option<(i64, bool)>,
    base: &str,
    visible_projects: &mut HashMap<i64, bool>,
) -> rusqlite::Result<Option<JobPipeline>> {
    let Some(project_id) = pipelines::project_of(c, pipeline_id)? else { return Ok(None) };
    let Some(project) = projects::find(c, project_id)? else { return Ok(None) };
    let visible = match visible_projects.get(&project_id) {
        Some(v) => *v,
        None => {
            let v = super::access::viewer_sees(c, viewer, &project)?;
            visible_projects.insert(project_id, v);
            v
        }
    };
    if !visible {
        return Ok(None);
    }
    let Some(p) = pipelines::find(c, project_id, pipeline_id)? else { return Ok(None) };
    Ok(Some(JobPipeline {
        id: p.id,
        iid: p.iid,
        project_id: p.project_id,
        sha: p.sha,
        ref_name: p.ref_name,
        status: p.status,
        source: p.source,
        created_at: p.created_at,
        updated_at: p.updated_at,
        web_url: format!("{base}/{}/-/pipelines/{}", project.path_with_namespace(), p.id),
    }))
}
