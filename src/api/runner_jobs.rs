//! The runner's job calls (GitLab's `lib/api/ci/runner.rb`): `POST /jobs/request` (long-polled,
//! as Workhorse does), `PUT /jobs/:id` (state updates) and `PATCH /jobs/:id/trace` (log appends).
//!
//! A runner authenticates with its `glrt-…` token in the body; the job calls with the job's
//! `glcbt-…` token, which is generated when the job is handed out, kept only as a SHA-256
//! digest on the job row, and stops working when the job finishes.

use std::pin::pin;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::pagination;
use super::params::{self, Params};
use crate::auth;
use crate::ci::JobStatus;
use crate::db::jobs::{self as store, JobRow, JobSpec, RunnerScope as ClaimScope, SpecVariable};
use crate::db::pipelines::{self, PipelineRow, VariableRow};
use crate::db::projects::{self, ProjectRow};
use crate::db::runners::{self, RunnerInfo};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/jobs/request", |m| m.post(request_job));
    r.resource("/jobs/{job_id}", |m| m.put(update_job));
    r.resource("/jobs/{job_id}/trace", |m| m.patch(append_trace));
}

/// A runner records its contact at most this often while polling (GitLab: every ~40–55 min).
const CONTACT_EVERY_SECS: i64 = 3600;
/// `X-GitLab-Trace-Update-Interval`: seconds between the runner's log updates.
const TRACE_UPDATE_INTERVAL: &str = "3";
/// What replaces the job token in a stored log (padded with `*` to the token's length, so the
/// log's size stays the size the runner counts in its `Content-Range`).
const MASK: &str = "[MASKED]";
/// Failure reasons a runner may report (GitLab's `Ci::Build` `failure_reason` enum, runner side).
const FAILURE_REASONS: [&str; 12] = [
    "unknown_failure",
    "script_failure",
    "api_failure",
    "stuck_or_timeout_failure",
    "runner_system_failure",
    "missing_dependency_failure",
    "runner_unsupported",
    "job_execution_timeout",
    "archived_failure",
    "unmet_prerequisites",
    "scheduler_failure",
    "data_integrity_failure",
];
/// The job timeout when the job names none (GitLab's project default, 1 hour).
const DEFAULT_TIMEOUT_SECS: i64 = 3600;

// ---- POST /jobs/request ------------------------------------------------------------------------

/// Everything a job payload is built from, read in the write that claimed the job.
struct Claimed {
    job: JobRow,
    spec: JobSpec,
    pipeline: PipelineRow,
    project: ProjectRow,
    pipeline_variables: Vec<VariableRow>,
    played_variables: Vec<SpecVariable>,
    token: String,
    timeout: i64,
}

/// What one claim attempt found.
enum Attempt {
    Claimed(Box<Claimed>),
    Nothing,
    /// The runner is paused: it gets no job.
    Paused,
}

/// `POST /jobs/request` — 201 with a job, or (after waiting up to the long-poll timeout for a
/// job to become pending) 204 with `X-GitLab-Last-Update`; 403 for an unknown runner token.
async fn request_job(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let info = match params.get("info") {
        Some(Value::Object(_)) => Some(runner_info(&params)?),
        _ => None,
    };
    let presented = token.clone();
    let runner = state
        .db
        .read(move |c| Ok(runners::authenticate(c, &presented)?))
        .await?
        .ok_or_else(ApiError::forbidden)?;
    let contact_before =
        model::format_ts(OffsetDateTime::now_utc() - time::Duration::seconds(CONTACT_EVERY_SECS));
    // Runners poll every few seconds: record the contact (and what the runner says about
    // itself) only when the recorded one is old, not on every poll.
    if runners::contact_is_older_than(&runner, &contact_before) {
        let id = runner.id;
        state
            .db
            .write(move |c| {
                runners::touch_contacted(c, id, &model::now())?;
                if let Some(info) = &info {
                    runners::record_info(c, id, info)?;
                }
                Ok(())
            })
            .await?;
    }
    let base = pagination::base_url(&req, &state);
    let deadline =
        tokio::time::Instant::now() + Duration::from_secs(state.config.runners.long_poll_timeout_secs);
    loop {
        // Register for the next tick before looking, so a job made pending meanwhile wakes us.
        let mut notified = pin!(state.job_queue.notified());
        notified.as_mut().enable();
        match attempt(&state, runner.id).await? {
            Attempt::Claimed(claimed) => {
                log::info!("runner {} took job {}", runner.id, claimed.job.id);
                return Ok(HttpResponse::Created().json(payload(&claimed, &base)));
            }
            Attempt::Paused => {
                tokio::time::sleep_until(deadline).await;
                return Ok(no_job(&state));
            }
            Attempt::Nothing => {}
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(no_job(&state));
        }
    }
}

/// 204 with the queue version.
fn no_job(state: &AppState) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("X-GitLab-Last-Update", state.job_queue.version().to_string()))
        .finish()
}

/// Claims the oldest pending job the runner may take (one conditional UPDATE per project it
/// serves, inside one write) and reads what its payload needs.
async fn attempt(state: &AppState, runner_id: i64) -> ApiResult<Attempt> {
    let token = auth::new_job_token()?;
    let digest = auth::digest(&token);
    state
        .db
        .write(move |c| {
            let Some(scope) = runners::scope(c, runner_id)? else { return Err(ApiError::forbidden()) };
            if !scope.active {
                return Ok(Attempt::Paused);
            }
            let now = model::now();
            let projects: Vec<Option<i64>> = if scope.instance {
                vec![None]
            } else {
                scope.project_ids.iter().copied().map(Some).collect()
            };
            let mut claimed = None;
            for project_id in projects {
                let claim_scope =
                    ClaimScope { project_id, tags: &scope.tags, run_untagged: scope.run_untagged };
                if let Some(id) = store::claim(c, runner_id, &claim_scope, &digest, &now)? {
                    claimed = Some(id);
                    break;
                }
            }
            let Some(job_id) = claimed else { return Ok(Attempt::Nothing) };
            let job = store::find_by_id(c, job_id)?
                .ok_or_else(|| ApiError::Internal("claimed job vanished".into()))?;
            let pipeline = pipelines::find(c, job.project_id, job.pipeline_id)?
                .ok_or_else(|| ApiError::Internal("claimed job has no pipeline".into()))?;
            let project = projects::find(c, job.project_id)?
                .ok_or_else(|| ApiError::Internal("claimed job has no project".into()))?;
            let pipeline_variables = pipelines::variables(c, job.pipeline_id)?;
            let played_variables = store::played_variables(c, job_id)?
                .and_then(|v| serde_json::from_str::<Vec<SpecVariable>>(&v).ok())
                .unwrap_or_default();
            let maximum = runners::find(c, runner_id)?.and_then(|r| r.maximum_timeout);
            let spec = job.spec().unwrap_or_else(|| JobSpec {
                script: Vec::new(),
                before_script: Vec::new(),
                after_script: Vec::new(),
                image: None,
                tags: Vec::new(),
                timeout_secs: None,
                variables: Vec::new(),
            });
            let wanted =
                spec.timeout_secs.map_or(DEFAULT_TIMEOUT_SECS, |t| i64::try_from(t).unwrap_or(i64::MAX));
            let timeout = maximum.filter(|m| *m > 0).map_or(wanted, |m| wanted.min(m));
            Ok(Attempt::Claimed(Box::new(Claimed {
                job,
                spec,
                pipeline,
                project,
                pipeline_variables,
                played_variables,
                token,
                timeout,
            })))
        })
        .await
}

/// The runner's `info` object.
fn runner_info(p: &Params) -> ApiResult<RunnerInfo> {
    let field = |k: &str| -> ApiResult<Option<String>> {
        match p.get("info").and_then(|i| i.get(k)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.chars().take(255).collect())),
            Some(_) => Err(ApiError::invalid(&format!("info[{k}]"))),
        }
    };
    Ok(RunnerInfo {
        name: field("name")?,
        version: field("version")?,
        revision: field("revision")?,
        platform: field("platform")?,
        architecture: field("architecture")?,
    })
}

fn var(key: &str, value: impl Into<String>, public: bool, masked: bool) -> Value {
    json!({"key": key, "value": value.into(), "public": public, "masked": masked})
}

/// GitLab's `CI_COMMIT_REF_SLUG`: lower case, every other character than `a-z0-9` a `-`, at most
/// 63 characters, no leading or trailing `-`.
fn slug(s: &str) -> String {
    let lower: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() { c } else { '-' })
        .collect();
    let cut: String = lower.chars().take(63).collect();
    cut.trim_matches('-').to_string()
}

/// The job's variables as the runner receives them: predefined, then YAML, then the pipeline's
/// (trigger) variables, then those a manual job was played with.
fn variables(c: &Claimed, base: &str) -> Vec<Value> {
    let (job, pipeline, project) = (&c.job, &c.pipeline, &c.project);
    let path = project.path_with_namespace();
    let project_url = format!("{base}/{path}");
    let mut v = vec![
        var("CI", "true", true, false),
        var("GITLAB_CI", "true", true, false),
        var("CI_JOB_TOKEN", c.token.clone(), false, true),
        var("CI_JOB_ID", job.id.to_string(), true, false),
        var("CI_JOB_URL", format!("{project_url}/-/jobs/{}", job.id), true, false),
        var("CI_JOB_NAME", job.name.clone(), true, false),
        var("CI_JOB_STAGE", job.stage.clone(), true, false),
    ];
    if let Some(started) = &job.started_at {
        v.push(var("CI_JOB_STARTED_AT", started.clone(), true, false));
    }
    if job.when == "manual" {
        v.push(var("CI_JOB_MANUAL", "true", true, false));
    }
    v.extend([
        var("CI_PIPELINE_ID", pipeline.id.to_string(), true, false),
        var("CI_PIPELINE_IID", pipeline.iid.to_string(), true, false),
        var("CI_PIPELINE_URL", format!("{project_url}/-/pipelines/{}", pipeline.id), true, false),
        var("CI_PIPELINE_SOURCE", pipeline.source.clone(), true, false),
    ]);
    if pipeline.source == "trigger" {
        v.push(var("CI_PIPELINE_TRIGGERED", "true", true, false));
    }
    v.extend([
        var("CI_COMMIT_SHA", pipeline.sha.clone(), true, false),
        var("CI_COMMIT_SHORT_SHA", pipeline.sha.chars().take(8).collect::<String>(), true, false),
        var("CI_COMMIT_BEFORE_SHA", pipeline.before_sha.clone(), true, false),
        var("CI_COMMIT_REF_NAME", pipeline.ref_name.clone(), true, false),
        var("CI_COMMIT_REF_SLUG", slug(&pipeline.ref_name), true, false),
    ]);
    if pipeline.tag {
        v.push(var("CI_COMMIT_TAG", pipeline.ref_name.clone(), true, false));
    } else {
        v.push(var("CI_COMMIT_BRANCH", pipeline.ref_name.clone(), true, false));
    }
    if let Some(default) = &project.default_branch {
        v.push(var("CI_DEFAULT_BRANCH", default.clone(), true, false));
    }
    v.extend([
        var("CI_PROJECT_ID", project.id.to_string(), true, false),
        var("CI_PROJECT_PATH", path.clone(), true, false),
        var("CI_PROJECT_PATH_SLUG", slug(&path), true, false),
        var("CI_PROJECT_NAME", project.path.clone(), true, false),
        var("CI_PROJECT_TITLE", project.name.clone(), true, false),
        var("CI_PROJECT_NAMESPACE", project.namespace.clone(), true, false),
        var("CI_PROJECT_URL", project_url.clone(), true, false),
        var("CI_PROJECT_VISIBILITY", project.visibility.clone(), true, false),
        var("CI_API_V4_URL", format!("{base}/api/v4"), true, false),
        var("CI_SERVER_URL", base.to_string(), true, false),
        var("CI_SERVER_NAME", "GitLab", true, false),
        var("CI_CONFIG_PATH", ".gitlab-ci.yml", true, false),
    ]);
    if let Some(u) = &job.user {
        v.extend([
            var("GITLAB_USER_ID", u.id.to_string(), true, false),
            var("GITLAB_USER_EMAIL", u.email.clone(), true, false),
            var("GITLAB_USER_LOGIN", u.username.clone(), true, false),
            var("GITLAB_USER_NAME", u.name.clone(), true, false),
        ]);
    }
    v.push(var("GIT_STRATEGY", "none", true, false));
    v.extend(c.spec.variables.iter().map(|y| var(&y.key, y.value.clone(), true, false)));
    for p in &c.pipeline_variables {
        let mut item = var(&p.key, p.value.clone(), false, false);
        if p.variable_type == "file" {
            item["file"] = json!(true);
        }
        v.push(item);
    }
    v.extend(c.played_variables.iter().map(|p| var(&p.key, p.value.clone(), false, false)));
    v
}

/// The 201 body (`API::Entities::Ci::JobRequest::Response`).
fn payload(c: &Claimed, base: &str) -> Value {
    let (job, pipeline, project) = (&c.job, &c.pipeline, &c.project);
    let path = project.path_with_namespace();
    let refspecs = if pipeline.tag {
        vec![
            format!("+{}:refs/pipelines/{}", pipeline.sha, pipeline.id),
            format!("+refs/tags/{0}:refs/tags/{0}", pipeline.ref_name),
        ]
    } else {
        vec![
            format!("+{}:refs/pipelines/{}", pipeline.sha, pipeline.id),
            format!("+refs/heads/{0}:refs/remotes/origin/{0}", pipeline.ref_name),
        ]
    };
    let mut script = c.spec.before_script.clone();
    script.extend(c.spec.script.iter().cloned());
    let mut steps = vec![json!({
        "name": "script", "script": script, "timeout": c.timeout, "when": "on_success",
        "allow_failure": job.allow_failure,
    })];
    if !c.spec.after_script.is_empty() {
        steps.push(json!({
            "name": "after_script", "script": c.spec.after_script, "timeout": c.timeout, "when": "always",
            "allow_failure": true,
        }));
    }
    let image = c.spec.image.as_ref().map(|name| json!({"name": name, "entrypoint": null, "ports": []}));
    json!({
        "id": job.id,
        "token": c.token,
        "allow_git_fetch": false,
        "job_info": {
            "id": job.id,
            "name": job.name,
            "stage": job.stage,
            "pipeline_id": pipeline.id,
            "project_id": project.id,
            "project_name": project.name,
            "project_full_path": path,
            "user_id": job.user_id,
            "time_in_queue_seconds": job.queued_duration.unwrap_or(0.0),
            "project_jobs_running_on_instance_runners_count": "+Inf",
        },
        "git_info": {
            "repo_url": format!("{base}/{path}.git"),
            "ref": pipeline.ref_name,
            "sha": pipeline.sha,
            "before_sha": pipeline.before_sha,
            "ref_type": if pipeline.tag { "tag" } else { "branch" },
            "refspecs": refspecs,
            "depth": 0,
            "repo_object_format": "sha1",
            "protected": false,
        },
        "runner_info": {"timeout": c.timeout, "runner_session_url": null},
        "variables": variables(c, base),
        "steps": steps,
        "image": image,
        "services": [],
        "artifacts": [],
        "cache": [],
        "credentials": [],
        "dependencies": [],
        "features": {
            "trace_sections": true,
            "token_mask_prefixes": [auth::JOB_TOKEN_PREFIX, auth::RUNNER_TOKEN_PREFIX, auth::PAT_PREFIX,
                                    auth::TRIGGER_TOKEN_PREFIX],
            "failure_reasons": FAILURE_REASONS,
        },
    })
}

// ---- job-token calls --------------------------------------------------------------------------

/// The job id in the path: anything else is a job that does not exist (403, as GitLab).
fn job_id(req: &HttpRequest) -> ApiResult<i64> {
    req.match_info()
        .get("job_id")
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(ApiError::forbidden)
}

/// A 403 carrying `Job-Status` (the runner aborts the job on it).
fn forbidden_with_status(status: &str, reason: Option<&str>) -> HttpResponse {
    let mut resp = ApiError::Forbidden(reason.map(str::to_string)).error_response();
    if let Ok(v) = HeaderValue::from_str(status) {
        resp.headers_mut().insert(actix_web::http::header::HeaderName::from_static("job-status"), v);
    }
    resp
}

/// GitLab's `authenticate_job!`: the job exists, `token` is its job token, and it is running.
/// `Err(response)` is the 403 to send.
async fn authenticate_job(
    state: &AppState,
    job_id: i64,
    token: Option<String>,
) -> ApiResult<Result<(), HttpResponse>> {
    let check = state.db.read(move |c| Ok(store::token_check(c, job_id)?)).await?;
    let Some(check) = check else { return Ok(Err(ApiError::forbidden().error_response())) };
    let presented = token.filter(|t| !t.is_empty()).map(|t| auth::digest(&t));
    let matches = match (&check.token_digest, &presented) {
        (Some(stored), Some(given)) => auth::digests_match(stored, given),
        _ => false,
    };
    if check.status != "running" {
        return Ok(Err(forbidden_with_status(&check.status, Some("Job is not processing on runner"))));
    }
    if !matches {
        return Ok(Err(forbidden_with_status(&check.status, None)));
    }
    Ok(Ok(()))
}

/// `PUT /jobs/:id` — `state=running` is a keep-alive; `success` and `failed` finish the job and
/// advance its pipeline. 200 with `Job-Status`; 403 (with `Job-Status`) once the job is no
/// longer running or for a wrong token; 400 for another state.
async fn update_job(req: HttpRequest, state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
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
            let changed = state.db.write(move |c| Ok(store::finish(c, id, to, Some(&reason), &now)?)).await?;
            if changed {
                // Stage progression may have made later jobs pending.
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

/// `start` of a `Content-Range: <start>-<end>` header (the end is ignored, as GitLab does).
fn range_start(req: &HttpRequest) -> ApiResult<i64> {
    let raw = req
        .headers()
        .get("Content-Range")
        .ok_or_else(|| ApiError::BadRequest("Missing header Content-Range".into()))?;
    let start =
        raw.to_str().ok().and_then(|s| s.trim().split('-').next()).and_then(|s| s.trim().parse::<i64>().ok());
    start.filter(|s| *s >= 0).ok_or_else(|| ApiError::BadRequest("Content-Range is invalid".into()))
}

/// Replaces each occurrence of `secret` by `[MASKED]` padded with `*` to the secret's length.
fn mask(bytes: &[u8], secret: &[u8]) -> Vec<u8> {
    if secret.len() < MASK.len() {
        return bytes.to_vec();
    }
    let mut replacement = MASK.as_bytes().to_vec();
    replacement.resize(secret.len(), b'*');
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(secret) {
            out.extend_from_slice(&replacement);
            i += secret.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// What an append did.
enum Appended {
    /// The new size the runner should count from.
    Size(i64),
    /// The offset did not match: the current size.
    WrongOffset(i64),
}

/// `PATCH /jobs/:id/trace` — appends the body to the log when `Content-Range` starts at its
/// current size (416 with `Range: 0-<size>` otherwise); 202 with `Job-Status`, `Range` and
/// `X-GitLab-Trace-Update-Interval`. The job token is masked in what is stored; beyond
/// `runners.max_trace_bytes` output is dropped (still 202).
async fn append_trace(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let id = job_id(&req)?;
    let from_query = params::decode_urlencoded(req.query_string().as_bytes())
        .ok()
        .and_then(|pairs| pairs.into_iter().rev().find(|(k, _)| k == "token").map(|(_, v)| v));
    let token =
        req.headers().get("JOB-TOKEN").and_then(|v| v.to_str().ok()).map(str::to_string).or(from_query);
    let Some(token) = token else { return Ok(ApiError::forbidden().error_response()) };
    if let Err(resp) = authenticate_job(&state, id, Some(token.clone())).await? {
        return Ok(resp);
    }
    let start = range_start(&req)?;
    let max = i64::try_from(state.config.runners.max_trace_bytes).unwrap_or(i64::MAX);
    let secret = token.into_bytes();
    let body = body.to_vec();
    let now = model::now();
    let outcome = state
        .db
        .write(move |c| {
            let size = store::trace_size(c, id)?;
            store::touch_running(c, id, &now)?;
            let received = body.len() as i64;
            if size >= max {
                // Full: the rest of the output is dropped, the runner carries on.
                return Ok(Appended::Size(start + received));
            }
            if start != size {
                return Ok(Appended::WrongOffset(size));
            }
            // Mask the job token, also when it spans this chunk and the stored tail.
            let tail = store::trace_tail(c, id, secret.len() as i64 - 1)?;
            let mut joined = tail.clone();
            joined.extend_from_slice(&body);
            let masked = mask(&joined, &secret);
            let (new_tail, chunk) = masked.split_at(tail.len());
            if new_tail != tail.as_slice() {
                store::replace_trace_from(c, id, size - tail.len() as i64, new_tail)?;
            }
            let room = usize::try_from(max - size).unwrap_or(0);
            if chunk.len() > room {
                let mut kept = chunk[..room].to_vec();
                kept.extend_from_slice(b"\n[job log truncated: size limit reached]\n");
                store::append_trace(c, id, &kept)?;
            } else if !chunk.is_empty() {
                store::append_trace(c, id, chunk)?;
            }
            Ok(Appended::Size(size + received))
        })
        .await?;
    match outcome {
        Appended::Size(size) => Ok(HttpResponse::Accepted()
            .insert_header(("Job-Status", "running"))
            .insert_header(("Range", format!("0-{size}")))
            .insert_header(("X-GitLab-Trace-Update-Interval", TRACE_UPDATE_INTERVAL))
            .finish()),
        Appended::WrongOffset(size) => {
            let mut resp = ApiError::message(StatusCode::RANGE_NOT_SATISFIABLE, "416 Range Not Satisfiable")
                .error_response();
            if let Ok(v) = HeaderValue::from_str(&format!("0-{size}")) {
                resp.headers_mut().insert(actix_web::http::header::RANGE, v);
            }
            Ok(resp)
        }
    }
}

// ---- the sweeper -------------------------------------------------------------------------------

/// Every `runners.sweep_interval_secs`, fails the running jobs whose runner sent nothing (no
/// state update, no log) for `runners.stuck_running_timeout_secs` with
/// `stuck_or_timeout_failure` (GitLab's `StuckCiJobsWorker`), advancing their pipelines.
pub async fn sweep_stuck_jobs(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.config.runners.sweep_interval_secs.max(1));
    let silent = i64::try_from(state.config.runners.stuck_running_timeout_secs).unwrap_or(i64::MAX);
    loop {
        let before = model::format_ts(
            OffsetDateTime::now_utc()
                .checked_sub(time::Duration::seconds(silent))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        let now = model::now();
        match state.db.write(move |c| Ok(store::fail_stuck_running(c, &before, &now)?)).await {
            Ok(failed) if !failed.is_empty() => {
                log::warn!("failed {} job(s) whose runner went silent: {failed:?}", failed.len());
                state.job_queue.tick();
            }
            Ok(_) => {}
            Err(e) => log::warn!("stuck job sweep: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_keeps_the_length_and_hides_every_occurrence() {
        let secret = b"glcbt-abcdefghijklmnop";
        let out = mask(b"a glcbt-abcdefghijklmnop b glcbt-abcdefghijklmnop", secret);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.len(), 2 + 22 + 3 + 22);
        assert!(!text.contains("glcbt-"));
        assert!(text.starts_with("a [MASKED]**************"));
    }

    #[test]
    fn ref_slugs_are_lower_case_dashed_and_trimmed() {
        assert_eq!(slug("Feature/Foo_bar-"), "feature-foo-bar");
        assert_eq!(slug(&"a".repeat(70)).len(), 63);
    }
}
