//! Our additive fields on a pipeline's JSON (`GET /projects/:id/pipelines/:pipeline_id`): the
//! pipeline a job created it from (`upstream_pipeline`) and the pipelines its jobs created
//! (`downstream_pipelines`), so a client can walk a multi-project chain both ways. GitLab shows
//! these links only in GraphQL, webhooks and its UI. A linked pipeline whose project the caller
//! cannot see is left out.

use serde::Serialize;

use crate::auth::Caller;
use crate::db::job_tokens::{self, PipelineSource};
use crate::db::{self, pipelines, projects};
use crate::error::ApiResult;
use crate::state::AppState;

/// One end of a link.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedPipeline {
    pub id: i64,
    pub project_id: i64,
    pub status: String,
    pub source: String,
    pub web_url: String,
    /// The job whose token (or `trigger:` keyword) created the downstream pipeline.
    pub job_id: i64,
}

/// The links of one pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct PipelineLinks {
    pub upstream_pipeline: Option<LinkedPipeline>,
    pub downstream_pipelines: Vec<LinkedPipeline>,
}

/// Loads the links of `pipeline_id`, keeping only pipelines of projects the caller can see.
pub async fn load(
    state: &AppState,
    caller: Option<&Caller>,
    pipeline_id: i64,
    base: String,
) -> ApiResult<PipelineLinks> {
    let viewer = viewer_of(caller);
    state.db.read(move |c| Ok(links_in(c, viewer, pipeline_id, &base)?)).await
}

/// The viewer [`links_in`] filters for: `(user id, admin)`, `None` for anonymous.
pub fn viewer_of(caller: Option<&Caller>) -> Option<(i64, bool)> {
    caller.map(|c| (c.user.id, c.is_admin()))
}

/// [`load`] inside a read the caller already makes.
pub fn links_in(
    c: &db::Connection,
    viewer: Option<(i64, bool)>,
    pipeline_id: i64,
    base: &str,
) -> rusqlite::Result<PipelineLinks> {
    let linked =
        |pipeline_project: i64, pipeline: i64, job_id: i64| -> rusqlite::Result<Option<LinkedPipeline>> {
            let Some(project) = projects::find(c, pipeline_project)? else { return Ok(None) };
            let visible = super::access::viewer_sees(c, viewer, &project)?;
            let Some(row) = pipelines::find(c, project.id, pipeline)?.filter(|_| visible) else {
                return Ok(None);
            };
            Ok(Some(LinkedPipeline {
                id: row.id,
                project_id: project.id,
                status: row.status,
                source: row.source,
                web_url: format!("{base}/{}/-/pipelines/{}", project.path_with_namespace(), row.id),
                job_id,
            }))
        };
    let upstream = match job_tokens::source_of(c, pipeline_id)? {
        Some(s) => linked(s.source_project_id, s.source_pipeline_id, s.source_job_id)?,
        None => None,
    };
    let mut downstream = Vec::new();
    for PipelineSource { pipeline_id: down, source_job_id, .. } in job_tokens::downstreams_of(c, pipeline_id)?
    {
        let Some(project_id) = pipelines::project_of(c, down)? else { continue };
        if let Some(l) = linked(project_id, down, source_job_id)? {
            downstream.push(l);
        }
    }
    Ok(PipelineLinks { upstream_pipeline: upstream, downstream_pipelines: downstream })
}
