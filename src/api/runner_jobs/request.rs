//! `POST /jobs/request`: the runner's long poll, and the claim of a pending job.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use time::OffsetDateTime;

use super::payload::{Claimed, payload};
use crate::api::pagination;
use crate::api::params::Params;
use crate::auth;
use crate::db::jobs::{self as store, JobSpec, RunnerScope as ClaimScope, SpecVariable};
use crate::db::pipelines;
use crate::db::projects;
use crate::db::runners::{self, RunnerInfo};
use crate::error::{ApiError, ApiResult};
use crate::job_queue::{JobQueue, Looked};
use crate::model;
use crate::state::AppState;

/// A runner records its contact at most this often while polling (GitLab: every ~40–55 min).
const CONTACT_EVERY_SECS: i64 = 3600;

/// What one claim attempt found.
enum Attempt {
    Claimed(Box<Claimed>),
    Nothing,
    /// The runner is paused: it gets no job.
    Paused,
}

/// `POST /jobs/request` — 201 with a job, or (after waiting up to the long-poll timeout for a
/// job to become pending) 204 with `X-GitLab-Last-Update`; 403 for an unknown runner token.
/// While the server stops gracefully, 204 at once.
pub(super) async fn request_job(
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
    // Whether an earlier look found the runner active (then a pause ends the poll).
    let mut was_active = false;
    // Set while this runner owes the queue a look after a wake-up (see `job_queue`): if the
    // request ends before that look (an error, a client that left), the guard passes it on.
    let mut owed: Option<OwedLook> = None;
    loop {
        // A graceful stop answers every poll at once, so runners reconnect to the next server.
        if state.job_queue.is_stopping() {
            return Ok(no_job(&state));
        }
        // Read before looking: a tick after this makes the wait below return at once.
        let seen = state.job_queue.version();
        let (attempt, pending_left) = attempt(&state, runner.id).await?;
        let looked = if matches!(attempt, Attempt::Claimed(_)) { Looked::Claimed } else { Looked::Nothing };
        if let Some(o) = owed.take() {
            o.done(looked, pending_left);
        }
        match attempt {
            Attempt::Claimed(claimed) => {
                log::info!("runner {} took job {}", runner.id, claimed.job.id);
                return Ok(HttpResponse::Created().json(payload(&claimed, &base)));
            }
            // Paused while it waited: the poll ends now, with no job.
            Attempt::Paused if was_active => return Ok(no_job(&state)),
            // A paused runner waits like one without a job (it would otherwise poll again at
            // once): a tick (its runner unpaused, the server stopping) makes it look again.
            Attempt::Paused => {}
            Attempt::Nothing => was_active = true,
        }
        let Some(mut waiter) = state.job_queue.wait(seen) else { continue };
        if tokio::time::timeout_at(deadline, waiter.woken()).await.is_err() {
            return Ok(no_job(&state));
        }
        owed = Some(OwedLook::new(&state.job_queue));
    }
}

/// A look owed to the queue after a wake-up; dropped unpaid (the request ended first), it wakes
/// the next runners as if this one had found nothing it could take.
struct OwedLook(Option<Arc<JobQueue>>);

impl OwedLook {
    fn new(queue: &Arc<JobQueue>) -> Self {
        OwedLook(Some(Arc::clone(queue)))
    }

    fn done(mut self, looked: Looked, pending_left: bool) {
        if let Some(q) = self.0.take() {
            q.pass_on(looked, pending_left);
        }
    }
}

impl Drop for OwedLook {
    fn drop(&mut self) {
        if let Some(q) = self.0.take() {
            q.pass_on(Looked::Nothing, true);
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
/// serves, inside one write) and reads what its payload needs; also says whether jobs are still
/// pending after the look (then the queue wakes another runner).
async fn attempt(state: &AppState, runner_id: i64) -> ApiResult<(Attempt, bool)> {
    let token = auth::new_job_token()?;
    let digest = auth::digest(&token);
    state
        .db
        .write(move |c| {
            let Some(scope) = runners::scope(c, runner_id)? else { return Err(ApiError::forbidden()) };
            if !scope.active {
                return Ok((Attempt::Paused, store::any_pending(c)?));
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
            let pending_left = store::any_pending(c)?;
            let Some(job_id) = claimed else { return Ok((Attempt::Nothing, pending_left)) };
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
            let timeout = store::effective_timeout(spec.timeout_secs, maximum);
            let claimed = Claimed {
                job,
                spec,
                pipeline,
                project,
                pipeline_variables,
                played_variables,
                token: token.clone(),
                timeout,
            };
            Ok((Attempt::Claimed(Box::new(claimed)), pending_left))
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
