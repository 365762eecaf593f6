//! What a webhook payload is built from: one read gathering a pipeline (or a job) with its
//! project, variables, jobs and upstream link. `hooks::payload` turns it into GitLab's JSON.

use rusqlite::Connection;

use super::job_tokens::{self, PipelineSource};
use super::jobs::{self, JobKind, JobRow, ListFilter};
use super::pipelines::{self, PipelineRow, VariableRow};
use super::projects::{self, ProjectRow};
use super::runners::{self, RunnerRow};

/// Most jobs (and bridges) listed in one payload.
const MAX_JOBS: i64 = 500;

/// A pipeline and everything its `Pipeline Hook` shows.
#[derive(Debug, Clone)]
pub struct PipelineData {
    pub pipeline: PipelineRow,
    pub project: ProjectRow,
    pub variables: Vec<VariableRow>,
    /// Latest (not retried) builds, oldest first.
    pub builds: Vec<JobRow>,
    /// Latest bridges (`trigger:` jobs), oldest first.
    pub bridges: Vec<JobRow>,
    /// The runner of each build that has one (by runner id).
    pub runners: Vec<RunnerRow>,
    /// The upstream link and the upstream project, for a downstream pipeline.
    pub source: Option<(PipelineSource, ProjectRow)>,
    /// The top pipeline of a parent/child or multi-project chain (itself when none).
    pub root_pipeline_id: i64,
}

/// A job and everything its `Job Hook` shows.
#[derive(Debug, Clone)]
pub struct JobData {
    pub job: JobRow,
    pub pipeline: PipelineRow,
    pub project: ProjectRow,
    pub runner: Option<RunnerRow>,
}

fn latest(
    conn: &Connection,
    project_id: i64,
    pipeline_id: i64,
    kind: JobKind,
) -> rusqlite::Result<Vec<JobRow>> {
    let filter =
        ListFilter { kind, pipeline_id: Some(pipeline_id), statuses: Vec::new(), include_retried: false };
    let (mut rows, _) = jobs::list(conn, project_id, &filter, MAX_JOBS, 0)?;
    rows.sort_by_key(|j| j.id);
    Ok(rows)
}

pub fn pipeline_data(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<Option<PipelineData>> {
    let Some(project_id) = pipelines::project_of(conn, pipeline_id)? else { return Ok(None) };
    let Some(pipeline) = pipelines::find(conn, project_id, pipeline_id)? else { return Ok(None) };
    let Some(project) = projects::find(conn, project_id)? else { return Ok(None) };
    let variables = pipelines::variables(conn, pipeline_id)?;
    let builds = latest(conn, project_id, pipeline_id, JobKind::Builds)?;
    let bridges = latest(conn, project_id, pipeline_id, JobKind::Bridges)?;
    let mut runner_ids: Vec<i64> = builds.iter().filter_map(|j| j.runner_id).collect();
    runner_ids.sort_unstable();
    runner_ids.dedup();
    let mut found = Vec::new();
    for id in runner_ids {
        if let Some(r) = runners::find(conn, id)? {
            found.push(r);
        }
    }
    let source = match job_tokens::source_of(conn, pipeline_id)? {
        Some(s) => projects::find(conn, s.source_project_id)?.map(|p| (s, p)),
        None => None,
    };
    let root_pipeline_id = root_of(conn, pipeline_id)?;
    Ok(Some(PipelineData {
        pipeline,
        project,
        variables,
        builds,
        bridges,
        runners: found,
        source,
        root_pipeline_id,
    }))
}

/// Follows the upstream links to the top (upstream pipelines are older, so this ends).
fn root_of(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<i64> {
    let mut id = pipeline_id;
    for _ in 0..100 {
        match job_tokens::source_of(conn, id)? {
            Some(s) if s.source_pipeline_id < id => id = s.source_pipeline_id,
            _ => break,
        }
    }
    Ok(id)
}

pub fn job_data(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<JobData>> {
    let Some(job) = jobs::find_by_id(conn, job_id)? else { return Ok(None) };
    let Some(pipeline) = pipelines::find(conn, job.project_id, job.pipeline_id)? else { return Ok(None) };
    let Some(project) = projects::find(conn, job.project_id)? else { return Ok(None) };
    let runner = match job.runner_id {
        Some(id) => runners::find(conn, id)?,
        None => None,
    };
    Ok(Some(JobData { job, pipeline, project, runner }))
}
