//! A hook's test call and delivery log: `POST /projects/:id/hooks/:hook_id/test/:trigger`,
//! `GET /projects/:id/hooks/:hook_id/events` and `POST …/events/:hook_log_id/resend`
//! (GitLab's `lib/api/hooks/{trigger_test,events,resend_hook}.rb`), Maintainer+.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::hooks::find_hook;
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::maintained_project;
use crate::auth::Caller;
use crate::db::hook_deliveries::{self as outbox, LogFilter, LogRow};
use crate::error::{ApiError, ApiResult};
use crate::hooks::payload::TimeStyle;
use crate::hooks::send::{self, Limits, Outcome};
use crate::hooks::{HookEvent, attempt_and_record, payload_for};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/hooks/{hook_id}/test/{trigger}", |m| m.post(test));
    r.resource("/projects/{id}/hooks/{hook_id}/events", |m| m.get(events));
    r.resource("/projects/{id}/hooks/{hook_id}/events/{hook_log_id}/resend", |m| m.post(resend));
}

/// The trigger names GitLab's test endpoint accepts.
const TRIGGERS: &[&str] = &[
    "push_events",
    "tag_push_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "confidential_note_events",
    "merge_requests_events",
    "job_events",
    "pipeline_events",
    "wiki_page_events",
    "releases_events",
    "milestone_events",
    "emoji_events",
    "resource_access_token_events",
    "resource_deploy_token_events",
];

/// Largest `per_page` of the log (GitLab: 20).
const MAX_LOG_PER_PAGE: i64 = 20;

fn instance(state: &AppState) -> String {
    state.external_url.clone().unwrap_or_else(|| state.bound_url.clone())
}

fn limits(state: &AppState) -> Limits {
    Limits {
        allow_local_network: state.config.webhooks.allow_local_network,
        timeout: Duration::from_secs(state.config.webhooks.timeout_secs),
    }
}

/// GitLab's answer to a failed synchronous delivery: 422 with the receiver's body (or the error).
fn failed(outcome: &Outcome) -> ApiError {
    let text = if outcome.status.is_some() {
        outcome.response_body.clone()
    } else {
        outcome.error.clone().unwrap_or_else(|| "internal error".into())
    };
    ApiError::message(StatusCode::UNPROCESSABLE_ENTITY, text)
}

/// `POST /projects/:id/hooks/:hook_id/test/:trigger` — sends a sample of the project's newest
/// pipeline or job now (disabled or not); a success re-enables a disabled hook.
pub(crate) async fn test(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, hook_id, trigger) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    if !TRIGGERS.contains(&trigger.as_str()) {
        return Err(ApiError::not_valid_value("trigger"));
    }
    let kind = match trigger.as_str() {
        "pipeline_events" => "pipeline",
        "job_events" => "job",
        _ => {
            return Err(ApiError::message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Testing not available for this hook",
            ));
        }
    };
    let project_id = pa.project.id;
    let latest = state
        .db
        .read(move |c| {
            Ok(if kind == "job" {
                outbox::latest_job_id(c, project_id)?
            } else {
                outbox::latest_pipeline_id(c, project_id)?
            })
        })
        .await?;
    let missing =
        if kind == "job" { "Ensure the project has jobs." } else { "Ensure the project has CI pipelines." };
    let Some(object_id) = latest else {
        return Err(ApiError::message(StatusCode::UNPROCESSABLE_ENTITY, missing));
    };
    let status = state
        .db
        .read(move |c| Ok(outbox::object_status(c, kind, object_id)?))
        .await?
        .ok_or_else(|| ApiError::message(StatusCode::UNPROCESSABLE_ENTITY, missing))?;
    let base = instance(&state);
    let event = HookEvent { kind: kind.into(), object_id, status };
    let body = payload_for(&state.db, &event, &base, TimeStyle::Iso)
        .await?
        .ok_or_else(|| ApiError::message(StatusCode::UNPROCESSABLE_ENTITY, missing))?;
    let event_name = if kind == "job" { "Job Hook" } else { "Pipeline Hook" };
    let req = crate::hooks::request_for(&hook, event_name, &send::new_uuid(), body, &base);
    let outcome =
        attempt_and_record(&state.db, &state.config.webhooks, &hook, &req, "test", None, limits(&state))
            .await?;
    if !outcome.ok() {
        return Err(failed(&outcome));
    }
    Ok(HttpResponse::Created().json(json!({"message": "201 Created"})))
}

fn log_json(l: &LogRow) -> Value {
    let obj = |s: &str| serde_json::from_str::<Value>(s).unwrap_or_else(|_| json!({}));
    let data = serde_json::from_str::<Value>(&l.request_data)
        .unwrap_or_else(|_| Value::String(l.request_data.clone()));
    json!({
        "id": l.id,
        "url": l.url,
        "trigger": l.trigger,
        "request_headers": obj(&l.request_headers),
        "request_data": data,
        "response_headers": obj(&l.response_headers),
        "response_body": l.response_body,
        "response_status": l.response_status,
        "execution_duration": l.execution_duration,
        "internal_error_message": l.internal_error_message,
        "event_uuid": l.event_uuid,
        "created_at": l.created_at,
        "updated_at": l.created_at,
    })
}

/// `GET /projects/:id/hooks/:hook_id/events` — the last 7 days of attempts, newest first.
async fn events(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, hook_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    if params.int("per_page")?.is_some_and(|n| !(1..=MAX_LOG_PER_PAGE).contains(&n)) {
        return Err(ApiError::not_valid_value("per_page"));
    }
    let page = Page::from_params(&params)?;
    let mut filter = LogFilter::default();
    if let Some(list) = params.string_list("status")? {
        for s in list {
            match s.as_str() {
                "successful" => filter.successful = true,
                "client_failure" => filter.client_failure = true,
                "server_failure" => filter.server_failure = true,
                code if code.len() == 3
                    && code.bytes().all(|b| b.is_ascii_digit())
                    && (100..600).contains(&code.parse::<u16>().unwrap_or(0)) =>
                {
                    filter.codes.push(code.to_string())
                }
                _ => return Err(ApiError::not_valid_value("status")),
            }
        }
    }
    let days = state.config.webhooks.log_retention_days.min(36_500) as i64;
    let since = model::format_ts(time::OffsetDateTime::now_utc() - time::Duration::days(days));
    let hid = hook.id;
    let (rows, total) = state
        .db
        .read(move |c| Ok(outbox::list_logs(c, hid, &since, &filter, page.limit(), page.offset())?))
        .await?;
    let items: Vec<Value> = rows.iter().map(log_json).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `POST /projects/:id/hooks/:hook_id/events/:hook_log_id/resend` — sends the logged body again
/// with the same event UUID (`Idempotency-Key`); 422 when the hook's URL changed since.
async fn resend(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, hook_id, raw_log_id) = path.into_inner();
    let pa = maintained_project(&state, &caller, &id).await?;
    let hook = find_hook(&state, pa.project.id, &hook_id).await?;
    let log_id = super::access::path_id(&raw_log_id, "hook_log_id")?;
    let hid = hook.id;
    let log = state
        .db
        .read(move |c| Ok(outbox::find_log(c, hid, log_id)?))
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    if log.url != hook.settings.url {
        return Err(ApiError::message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The hook URL has changed. This log entry cannot be retried.",
        ));
    }
    let event_name = if log.trigger == "job_hooks" { "Job Hook" } else { "Pipeline Hook" };
    let req = crate::hooks::request_for(
        &hook,
        event_name,
        &log.event_uuid,
        log.request_data.clone(),
        &instance(&state),
    );
    let outcome = attempt_and_record(
        &state.db,
        &state.config.webhooks,
        &hook,
        &req,
        &log.trigger,
        None,
        limits(&state),
    )
    .await?;
    Ok(HttpResponse::Created().json(json!({"response_status": outcome.status})))
}
