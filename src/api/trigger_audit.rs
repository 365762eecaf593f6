//! The audit log of trigger calls (issue 14, point 7). Every call made with a trigger token of
//! the project — accepted, replayed (an idempotency key answered again) or rejected — is one row
//! of `trigger_events`, written in the call's own write (so it shares the group commit and a 2xx
//! means it is recorded); a call with a token that is no trigger token of the project at all is
//! only counted per project and day, without the secret. Dry runs and calls refused before the
//! database (malformed parameters, the failed-attempt throttle's 429) are not recorded.
//!
//! `GET /projects/:id/triggers/:trigger_id/events` and `GET /projects/:id/triggers/unknown_attempts`
//! (Maintainer+) read them; the sweeper keeps them bounded (`triggers.events_retention_days`,
//! `triggers.max_events_per_trigger`).

use std::net::IpAddr;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::access;
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::maintained_project;
use super::triggers::find_trigger;
use crate::auth::Caller;
use crate::db::trigger_events::{self as store, NewEvent};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    // Before `/triggers/{trigger_id}` would see `unknown_attempts` as an id.
    r.resource("/projects/{id}/triggers/unknown_attempts", |m| m.get(unknown_attempts));
    r.resource("/projects/{id}/triggers/{trigger_id}/events", |m| m.get(events));
}

/// What a call's write learned about who called, for its record.
#[derive(Debug, Default)]
pub struct Audit {
    /// The project, once found.
    pub project_id: Option<i64>,
    /// The trigger the token belongs to (also an expired one of this project).
    pub trigger_id: Option<i64>,
    /// The token was a CI/CD job token (recorded nowhere here: the job is its record).
    pub job_token: bool,
    /// A clearer reason than the answer's text (e.g. an expired token's plain 404).
    pub reason: Option<&'static str>,
}

/// The call as recorded: the client's address and the ref asked for.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub client_address: Option<String>,
    pub ref_name: String,
}

impl Attempt {
    pub fn new(addr: Option<IpAddr>, ref_name: &str) -> Attempt {
        Attempt { client_address: addr.map(|a| a.to_string()), ref_name: ref_name.to_string() }
    }
}

/// How a recorded call ended.
pub enum Answer<'a> {
    Accepted { pipeline_id: i64 },
    Replayed { status: u16, pipeline_id: Option<i64> },
    Rejected(&'a ApiError),
}

/// Records a call of a trigger token (nothing for a job token or before the token is known).
pub fn record(
    conn: &rusqlite::Connection,
    audit: &Audit,
    attempt: &Attempt,
    answer: Answer,
    now: &str,
) -> ApiResult<()> {
    let Some(trigger_id) = audit.trigger_id else {
        if let (Answer::Rejected(e), Some(project_id), false) = (&answer, audit.project_id, audit.job_token)
            && e.status_code() == actix_web::http::StatusCode::NOT_FOUND
        {
            store::count_unknown(conn, project_id, attempt.client_address.as_deref(), now)?;
        }
        return Ok(());
    };
    let text;
    let (outcome, status, reason, pipeline_id) = match answer {
        Answer::Accepted { pipeline_id } => ("accepted", 201, None, Some(pipeline_id)),
        Answer::Replayed { status, pipeline_id } => ("replayed", status, None, pipeline_id),
        Answer::Rejected(e) => {
            text = audit.reason.map(str::to_string).unwrap_or_else(|| reason_of(e));
            ("rejected", e.status_code().as_u16(), Some(text.as_str()), None)
        }
    };
    let event = NewEvent {
        trigger_id,
        client_address: attempt.client_address.as_deref(),
        ref_name: Some(&attempt.ref_name),
        outcome,
        status,
        reason,
        pipeline_id,
    };
    store::insert(conn, &event, now)?;
    Ok(())
}

/// The text of an error's JSON body (`message` or `error`).
fn reason_of(e: &ApiError) -> String {
    let body = e.body();
    match body.get("message").or_else(|| body.get("error")) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => body.to_string(),
    }
}

/// One recorded call.
#[derive(Debug, Serialize)]
struct EventJson {
    created_at: String,
    client_address: Option<String>,
    #[serde(rename = "ref")]
    ref_name: Option<String>,
    outcome: String,
    status: u16,
    reason: Option<String>,
    pipeline_id: Option<i64>,
}

/// `GET /projects/:id/triggers/:trigger_id/events` — the trigger's calls, newest first,
/// paginated (Maintainer+).
async fn events(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, raw_trigger_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let trigger_id = access::path_id(&raw_trigger_id, "trigger_id")?;
    let trigger = find_trigger(&state, pa.project.id, trigger_id).await?;
    Page::refuse_keyset(&params)?;
    let page = Page::from_params(&params)?;
    let trigger_id = trigger.id;
    let (rows, total) =
        state.db.read(move |c| Ok(store::list(c, trigger_id, page.limit(), page.offset())?)).await?;
    let items: Vec<EventJson> = rows
        .into_iter()
        .map(|e| EventJson {
            created_at: e.created_at,
            client_address: e.client_address,
            ref_name: e.ref_name,
            outcome: e.outcome,
            status: e.status,
            reason: e.reason,
            pipeline_id: e.pipeline_id,
        })
        .collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// One day of calls with unknown tokens.
#[derive(Debug, Serialize)]
struct UnknownJson {
    date: String,
    attempts: i64,
    last_attempt_at: String,
    last_client_address: Option<String>,
}

/// `GET /projects/:id/triggers/unknown_attempts` — calls to the project with tokens that are no
/// trigger token of it, per UTC day, newest first, paginated (Maintainer+).
async fn unknown_attempts(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    Page::refuse_keyset(&params)?;
    let page = Page::from_params(&params)?;
    let project_id = pa.project.id;
    let (rows, total) = state
        .db
        .read(move |c| Ok(store::unknown_attempts(c, project_id, page.limit(), page.offset())?))
        .await?;
    let items: Vec<UnknownJson> = rows
        .into_iter()
        .map(|u| UnknownJson {
            date: u.day,
            attempts: u.attempts,
            last_attempt_at: u.last_attempt_at,
            last_client_address: u.last_client_address,
        })
        .collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// How often the audit log is trimmed, and how many old rows one sweep write deletes at most.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_BATCH: i64 = 5000;

/// Every ten minutes: deletes records older than `triggers.events_retention_days` (in bounded
/// writes) and keeps the newest `triggers.max_events_per_trigger` of each trigger.
pub async fn sweep_events(state: web::Data<AppState>) {
    let cfg = &state.config.triggers;
    let days = i64::try_from(cfg.events_retention_days).unwrap_or(i64::MAX);
    let keep = i64::try_from(cfg.max_events_per_trigger).unwrap_or(i64::MAX);
    loop {
        let before = model::format_ts(
            OffsetDateTime::now_utc()
                .checked_sub(time::Duration::days(days))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        loop {
            let before = before.clone();
            match state.db.write(move |c| Ok(store::sweep_old(c, &before, SWEEP_BATCH)?)).await {
                Ok(n) if n as i64 == SWEEP_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    log::warn!("trigger audit log sweep: {e}");
                    break;
                }
            }
        }
        if let Err(e) = state.db.write(move |c| Ok(store::trim_per_trigger(c, keep)?)).await {
            log::warn!("trigger audit log trim: {e}");
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

/// Helper for the error type's status without importing the trait at every call site.
pub fn is_server_error(e: &ApiError) -> bool {
    e.status_code().is_server_error()
}
