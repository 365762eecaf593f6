//! GitLab's Jobs API for the CI jobs of pipelines: list a pipeline's jobs, list a project's
//! jobs, get one, read its log, cancel, retry and play it.
//!
//! Reads (`read_build`): anyone who sees a public or internal project, Reporter+ on a private
//! one. Cancel, retry and play (`update_build`): Developer+. As in GitLab's `jobs.rb`, the role
//! is checked before the job is looked up (403 before 404); a job of another project is 404.
//!
//! Builds only, as in GitLab: a `trigger:` job (bridge) is 404 here, except that retry and play
//! take bridges and answer with GitLab's `Bridge` entity (`api::bridges`).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use serde_json::Value;

use super::access::{self, ProjectAccess};
use super::commits;
use super::entities::{ProjectIdentity, UserBasic};
use super::keyset::{KeysetOrders, Paging};
use super::pagination::{self, Page};
use super::params::Params;
use super::pipelines::{STATUSES, require_read};
use super::runners::RunnerJson;
use crate::auth::{Caller, MaybeCaller};
use crate::db::commits::{self as commit_store, CommitRow};
use crate::db::jobs::{self as store, JobRow, ListFilter};
use crate::db::pipelines::{self, PipelineRow};
use crate::db::projects::ProjectRow;
use crate::db::runners::{self as runner_store, RunnerRow};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/pipelines/{pipeline_id}/jobs", |m| m.get(pipeline_jobs));
    r.resource("/projects/{id}/jobs", |m| m.get(project_jobs));
    r.resource("/projects/{id}/jobs/{job_id}", |m| m.get(get));
    r.resource("/projects/{id}/jobs/{job_id}/trace", |m| m.get(trace));
    r.resource("/projects/{id}/jobs/{job_id}/cancel", |m| m.post(cancel));
    r.resource("/projects/{id}/jobs/{job_id}/retry", |m| m.post(retry));
    r.resource("/projects/{id}/jobs/{job_id}/play", |m| m.post(play));
}

/// GitLab's `PipelineBasic` as a job shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobPipeline {
    pub id: i64,
    pub iid: i64,
    pub project_id: i64,
    pub sha: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub status: String,
    pub source: String,
    pub created_at: String,
    pub updated_at: String,
    pub web_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobProject {
    pub ci_job_token_scope_enabled: bool,
}

/// GitLab's `JobBasic` entity without its `project` (which `Job` and `JobBasicWithProject` show
/// differently).
#[derive(Debug, Clone, Serialize)]
pub struct JobBasic {
    pub id: i64,
    pub status: String,
    pub stage: String,
    pub name: String,
    #[serde(rename = "ref")]
    pub ref_name: String,
    pub tag: bool,
    pub coverage: Option<f64>,
    pub allow_failure: bool,
    pub created_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub erased_at: Option<String>,
    pub duration: Option<f64>,
    pub queued_duration: Option<f64>,
    pub user: Option<UserBasic>,
    pub commit: Value,
    pub pipeline: JobPipeline,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    pub web_url: String,
}

/// GitLab's `Job` entity (`JobBasic` + artifacts, runner, `archived`, `tag_list`).
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    #[serde(flatten)]
    pub basic: JobBasic,
    pub project: JobProject,
    pub artifacts: Vec<Value>,
    /// The runner that took the job (`null` before, or once that runner is deleted).
    pub runner: Option<RunnerJson>,
    pub runner_manager: Option<Value>,
    pub artifacts_expire_at: Option<String>,
    pub archived: bool,
    pub tag_list: Vec<String>,
}

/// Seconds from `from` to `to` (or to `now` while `to` is unset), rounded to milliseconds.
fn live_seconds(from: Option<&str>, to: Option<&str>, now: &str) -> Option<f64> {
    let secs = store::seconds_between(from?, to.unwrap_or(now))?;
    Some((secs * 1000.0).round() / 1000.0)
}

impl JobBasic {
    /// `commit` is the pipeline's commit row (`None`: a SHA no Files API write made).
    pub fn new(
        job: &JobRow,
        (pipeline, commit): &(PipelineRow, Option<CommitRow>),
        project: &ProjectRow,
        base: &str,
        now: &str,
    ) -> Self {
        let project_url = format!("{base}/{}", project.path_with_namespace());
        // Stored once the job finished (started); computed live before, as GitLab does.
        let duration = job.duration.or_else(|| {
            if job.finished_at.is_some() {
                return None;
            }
            live_seconds(job.started_at.as_deref(), None, now)
        });
        let queued_duration = job.queued_duration.or_else(|| {
            live_seconds(
                job.queued_at.as_deref(),
                job.started_at.as_deref().or(job.finished_at.as_deref()),
                now,
            )
        });
        JobBasic {
            id: job.id,
            status: job.status.clone(),
            stage: job.stage.clone(),
            name: job.name.clone(),
            ref_name: pipeline.ref_name.clone(),
            tag: pipeline.tag,
            coverage: job.coverage,
            allow_failure: job.allow_failure,
            created_at: job.created_at.clone(),
            started_at: job.started_at.clone(),
            finished_at: job.finished_at.clone(),
            erased_at: job.erased_at.clone(),
            duration,
            queued_duration,
            user: job.user.as_ref().map(|u| UserBasic::new(u, base)),
            commit: match commit {
                Some(c) => commits::commit_json(c, &project_url),
                None => commits::synthetic_json(&pipeline.sha, &pipeline.created_at, &project_url),
            },
            pipeline: JobPipeline {
                id: pipeline.id,
                iid: pipeline.iid,
                project_id: pipeline.project_id,
                sha: pipeline.sha.clone(),
                ref_name: pipeline.ref_name.clone(),
                status: pipeline.status.clone(),
                source: pipeline.source.clone(),
                created_at: pipeline.created_at.clone(),
                updated_at: pipeline.updated_at.clone(),
                web_url: format!("{project_url}/-/pipelines/{}", pipeline.id),
            },
            failure_reason: if job.status == "failed" { job.failure_reason.clone() } else { None },
            web_url: format!("{project_url}/-/jobs/{}", job.id),
        }
    }
}

impl Job {
    /// As [`JobBasic::new`]; `runner` is the runner that took the job, if it still exists.
    pub fn new(
        job: &JobRow,
        pipeline: &PipelineAndCommit,
        runner: Option<&RunnerRow>,
        project: &ProjectRow,
        base: &str,
        now: &str,
    ) -> Self {
        Job {
            basic: JobBasic::new(job, pipeline, project, base, now),
            project: JobProject { ci_job_token_scope_enabled: false },
            artifacts: Vec::new(),
            runner: runner.map(|r| RunnerJson::new(r, None, base)),
            runner_manager: None,
            artifacts_expire_at: None,
            archived: false,
            tag_list: job.tags(),
        }
    }
}

/// GitLab's `JobBasicWithProject`: a job as a runner's job list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobWithProject {
    #[serde(flatten)]
    pub basic: JobBasic,
    pub project: ProjectIdentity,
}

/// Jobs with their pipelines and runners, ready to be shown.
type WithPipelines = (Vec<JobRow>, HashMap<i64, PipelineAndCommit>, HashMap<i64, RunnerRow>);

/// A pipeline and its commit row (if a Files API write made that commit).
pub(crate) type PipelineAndCommit = (PipelineRow, Option<CommitRow>);

/// A pipeline with its commit row.
pub(crate) fn with_commit(
    conn: &rusqlite::Connection,
    pipeline: PipelineRow,
) -> rusqlite::Result<PipelineAndCommit> {
    let commit = commit_store::find(conn, pipeline.project_id, &pipeline.sha)?;
    Ok((pipeline, commit))
}

/// Loads the pipelines of some jobs (one lookup per distinct pipeline).
pub(crate) fn pipelines_of(
    conn: &rusqlite::Connection,
    jobs: &[JobRow],
) -> rusqlite::Result<HashMap<i64, PipelineAndCommit>> {
    let mut out = HashMap::new();
    for job in jobs {
        if !out.contains_key(&job.pipeline_id)
            && let Some(p) = pipelines::find(conn, job.project_id, job.pipeline_id)?
        {
            out.insert(p.id, with_commit(conn, p)?);
        }
    }
    Ok(out)
}

/// Loads the runners that took some jobs (one lookup per distinct runner; deleted ones are left out).
fn runners_of(conn: &rusqlite::Connection, jobs: &[JobRow]) -> rusqlite::Result<HashMap<i64, RunnerRow>> {
    let mut out = HashMap::new();
    for id in jobs.iter().filter_map(|j| j.runner_id) {
        if !out.contains_key(&id)
            && let Some(r) = runner_store::find(conn, id)?
        {
            out.insert(id, r);
        }
    }
    Ok(out)
}

/// The runner that took a job, if it still exists.
fn runner_of(conn: &rusqlite::Connection, job: &JobRow) -> rusqlite::Result<Option<RunnerRow>> {
    match job.runner_id {
        Some(id) => runner_store::find(conn, id),
        None => Ok(None),
    }
}

fn entities(
    req: &HttpRequest,
    state: &AppState,
    project: &ProjectRow,
    (jobs, pipelines, runners): &WithPipelines,
) -> Vec<Job> {
    let base = pagination::base_url(req, state);
    let now = model::now();
    jobs.iter()
        .filter_map(|j| {
            let runner = j.runner_id.and_then(|id| runners.get(&id));
            pipelines.get(&j.pipeline_id).map(|p| Job::new(j, p, runner, project, &base, &now))
        })
        .collect()
}

/// `scope` / `scope[]`: job statuses; anything else → `scope does not have a valid value`.
pub(crate) fn scope(params: &Params) -> ApiResult<Vec<String>> {
    let list =
        params.string_list("scope").map_err(|_| ApiError::not_valid_value("scope"))?.unwrap_or_default();
    if list.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        return Err(ApiError::not_valid_value("scope"));
    }
    // One SQL parameter per status, however often a status is repeated.
    Ok(STATUSES.iter().filter(|s| list.iter().any(|l| l == *s)).map(|s| s.to_string()).collect())
}

/// `read_build` on the project.
pub(crate) async fn read_access(
    state: &AppState,
    caller: &MaybeCaller,
    id: &str,
) -> ApiResult<ProjectAccess> {
    let pa = access::project_for(state, caller.0.as_ref(), id).await?;
    require_read(&pa)?;
    Ok(pa)
}

/// `GET /projects/:id/pipelines/:pipeline_id/jobs` (`scope[]`, `include_retried`, pagination).
async fn pipeline_jobs(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let pipeline_id = access::path_id(&raw, "pipeline_id")?;
    let statuses = scope(&params)?;
    let include_retried = params.bool("include_retried")?.unwrap_or(false);
    let page = Page::from_params(&params)?;
    let pa = read_access(&state, &caller, &id).await?;
    let pid = pa.project.id;
    let filter =
        ListFilter { pipeline_id: Some(pipeline_id), statuses, include_retried, ..Default::default() };
    let (found, total) = state
        .db
        .read(move |c| {
            let Some(pipeline) = pipelines::find(c, pid, pipeline_id)? else { return Ok(None) };
            let (rows, total) = store::list(c, pid, &filter, page.limit(), page.offset())?;
            let map = HashMap::from([(pipeline.id, with_commit(c, pipeline)?)]);
            let runners = runners_of(c, &rows)?;
            Ok(Some(((rows, map, runners), total)))
        })
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    let items = entities(&req, &state, &pa.project, &found);
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /projects/:id/jobs` (`scope`, pagination), newest first, retried jobs included.
async fn project_jobs(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let statuses = scope(&params)?;
    let paging = Paging::from_params(&params, KeysetOrders::IdDesc)?;
    let pa = read_access(&state, &caller, &path).await?;
    let pid = pa.project.id;
    let filter = ListFilter { pipeline_id: None, statuses, include_retried: true, ..Default::default() };
    let (found, listed) = state
        .db
        .read(move |c| {
            let mut listed = store::page(c, pid, &filter, paging.limit(), paging.window())?;
            let rows = std::mem::take(&mut listed.rows);
            let map = pipelines_of(c, &rows)?;
            let runners = runners_of(c, &rows)?;
            Ok(((rows, map, runners), listed))
        })
        .await?;
    let items = entities(&req, &state, &pa.project, &found);
    Ok(paging.respond(&req, &state, &listed, found.0.last().map(|r| r.id), &items))
}

/// One job with its pipeline and runner.
type FoundJob = (JobRow, PipelineAndCommit, Option<RunnerRow>);

/// Loads one job of the project with its pipeline and runner: `404 Not found` when there is none.
async fn find_job(state: &AppState, project_id: i64, job_id: i64) -> ApiResult<FoundJob> {
    state
        .db
        .read(move |c| {
            let Some(job) = store::find(c, project_id, job_id)? else { return Ok(None) };
            let Some(pipeline) = pipelines::find(c, project_id, job.pipeline_id)? else { return Ok(None) };
            let runner = runner_of(c, &job)?;
            Ok(Some((job, with_commit(c, pipeline)?, runner)))
        })
        .await?
        .ok_or(ApiError::RecordNotFound)
}

/// One job of the project as GitLab's Job entity (`GET /job` shows the token's job this way).
pub async fn job_entity(
    req: &HttpRequest,
    state: &AppState,
    project: &ProjectRow,
    job_id: i64,
) -> ApiResult<Job> {
    let (job, pipeline, runner) = find_job(state, project.id, job_id).await?;
    let base = pagination::base_url(req, state);
    Ok(Job::new(&job, &pipeline, runner.as_ref(), project, &base, &model::now()))
}

/// `GET /projects/:id/jobs/:job_id`
async fn get(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let job_id = access::path_id(&raw, "job_id")?;
    let pa = read_access(&state, &caller, &id).await?;
    let (job, pipeline, runner) = find_job(&state, pa.project.id, job_id).await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Ok().json(Job::new(&job, &pipeline, runner.as_ref(), &pa.project, &base, &model::now())))
}

/// `GET /projects/:id/jobs/:job_id/trace`: the stored log as `text/plain`, empty if none.
async fn trace(
    caller: MaybeCaller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let job_id = access::path_id(&raw, "job_id")?;
    let pa = read_access(&state, &caller, &id).await?;
    let (job, _, _) = find_job(&state, pa.project.id, job_id).await?;
    let log = state.db.read(move |c| Ok(store::trace(c, job.id)?)).await?.unwrap_or_default();
    Ok(HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header(("Content-Disposition", format!("infile; filename=\"{job_id}.log\"")))
        .body(log))
}

/// `update_build` (Developer+), checked before the job is looked up; then the job (a build, or
/// also a bridge when `bridges` is set: retry and play take bridges, as GitLab's do).
async fn for_update(
    state: &AppState,
    caller: &Caller,
    path: (String, String),
    bridges: bool,
) -> ApiResult<(ProjectAccess, JobRow)> {
    let (id, raw) = path;
    let job_id = access::path_id(&raw, "job_id")?;
    let pa = access::project_for(state, Some(caller), &id).await?;
    pa.require(AccessLevel::Developer)?;
    if bridges {
        let pid = pa.project.id;
        if let Some(bridge) = state.db.read(move |c| Ok(store::find_bridge(c, pid, job_id)?)).await? {
            return Ok((pa, bridge));
        }
    }
    let (job, _, _) = find_job(state, pa.project.id, job_id).await?;
    Ok((pa, job))
}

/// Runs a job change in one write and answers with the job `shown` as it then is (a bridge as
/// GitLab's `Bridge` entity).
async fn respond_with(
    req: &HttpRequest,
    state: &AppState,
    pa: &ProjectAccess,
    status: StatusCode,
    shown: i64,
    caller: &Caller,
) -> ApiResult<HttpResponse> {
    let pid = pa.project.id;
    if state.db.read(move |c| Ok(store::find_bridge(c, pid, shown)?.is_some())).await? {
        let base = pagination::base_url(req, state);
        let bridge = super::bridges::one(state, Some(caller), &pa.project, shown, base).await?;
        return Ok(HttpResponse::build(status).json(bridge));
    }
    let (job, pipeline, runner) = find_job(state, pa.project.id, shown).await?;
    let base = pagination::base_url(req, state);
    let now = model::now();
    Ok(HttpResponse::build(status).json(Job::new(&job, &pipeline, runner.as_ref(), &pa.project, &base, &now)))
}

/// `POST /projects/:id/jobs/:job_id/cancel`: 201 with the job; a job that cannot be canceled
/// any more is returned unchanged.
async fn cancel(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pa, job) = for_update(&state, &caller, path.into_inner(), false).await?;
    let (id, now) = (job.id, model::now());
    state.db.write(move |c| Ok(store::cancel(c, id, &now)?)).await?;
    respond_with(&req, &state, &pa, StatusCode::CREATED, id, &caller).await
}

/// `POST /projects/:id/jobs/:job_id/retry`: 201 with the new job;
/// 403 `Job is not retryable` unless it succeeded, failed or was canceled (and is the latest).
async fn retry(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (pa, job) = for_update(&state, &caller, path.into_inner(), true).await?;
    let (id, user, now) = (job.id, caller.user.id, model::now());
    let new_id = state
        .db
        .write(move |c| {
            store::retry(c, id, Some(user), &now)?
                .ok_or(ApiError::Forbidden(Some("Job is not retryable".into())))
        })
        .await?;
    state.job_queue.tick();
    respond_with(&req, &state, &pa, StatusCode::CREATED, new_id, &caller).await
}

/// `POST /projects/:id/jobs/:job_id/play`: 200 with the job that now runs; 400 `Unplayable Job`
/// unless it is a manual job. `job_variables_attributes`: `[{key, value}]`.
async fn play(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let vars = job_variables(&params, &state)?;
    let (pa, job) = for_update(&state, &caller, path.into_inner(), true).await?;
    let (id, user, now) = (job.id, caller.user.id, model::now());
    let played = state
        .db
        .write(move |c| {
            store::play(c, id, Some(user), vars.as_deref(), &now)?
                .ok_or_else(|| ApiError::BadRequest("Unplayable Job".into()))
        })
        .await?;
    state.job_queue.tick();
    respond_with(&req, &state, &pa, StatusCode::OK, played, &caller).await
}

/// `job_variables_attributes` as stored JSON `[{key, value}]`, within our variable limits.
fn job_variables(params: &Params, state: &AppState) -> ApiResult<Option<String>> {
    let Some(raw) = params.get("job_variables_attributes") else { return Ok(None) };
    let items: Vec<&Value> = match raw {
        Value::Array(items) => items.iter().collect(),
        Value::Object(map) => map.values().collect(),
        _ => return Err(ApiError::invalid("job_variables_attributes")),
    };
    let mut out: Vec<store::SpecVariable> = Vec::with_capacity(items.len());
    for item in items {
        let text = |k: &str| match item.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            _ => None,
        };
        let (Some(key), Some(value)) = (text("key"), text("value")) else {
            return Err(ApiError::invalid("job_variables_attributes"));
        };
        out.push(store::SpecVariable { key, value });
    }
    super::trigger_call::check_variable_limits(
        out.iter().map(|v| (v.key.as_str(), v.value.as_str())),
        &state.config.limits,
    )?;
    serde_json::to_string(&out).map(Some).map_err(|e| ApiError::Internal(e.to_string()))
}
