//! Settings › Webhooks (`/:namespace/:project/-/hooks`, GitLab's URL; Maintainer+, else 404):
//! the project's hooks with their events, state and recent deliveries, the add form (URL,
//! secret token, push/pipeline/job events, SSL verification, an optional signing secret shown
//! once), Test (a pipeline event) and delete with confirmation.
//!
//! Every write is the API's own handler (`POST /projects/:id/hooks`, `DELETE …/hooks/:id`,
//! `POST …/hooks/:id/test/pipeline_events`) called with the viewer as the caller, so the URL
//! checks (the SSRF guard included), the limits and the delivery are the API's.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;
use serde_json::Value;

use super::forms::Fields;
use super::session::{MaybeViewer, Viewer};
use super::trigger_edit::api_message;
use super::triggers::maintained;
use super::view::{self, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::api::params::{ParamLimits, Params};
use crate::api::{hook_events, hooks as rules};
use crate::auth;
use crate::db::hook_deliveries::{self as deliveries, LogFilter};
use crate::db::hooks as store;
use crate::state::AppState;

/// Recent deliveries shown per hook.
const RECENT: i64 = 5;

struct DeliveryItem {
    status: String,
    ok: bool,
    when: When,
    event_uuid: String,
    trigger: String,
}

struct HookItem {
    id: i64,
    url: String,
    events: String,
    /// "enabled", "temporarily disabled" or "disabled".
    state: &'static str,
    ssl: bool,
    signed: bool,
    deliveries: Vec<DeliveryItem>,
}

#[derive(Template)]
#[template(path = "hooks.html")]
struct HooksPage {
    chrome: Chrome,
    path: String,
    hooks: Vec<HookItem>,
    nonce: String,
    url: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "hook_created.html")]
struct CreatedPage {
    chrome: Chrome,
    path: String,
    url: String,
    signing_token: String,
}

#[derive(Template)]
#[template(path = "hook_delete.html")]
struct DeletePage {
    chrome: Chrome,
    path: String,
    id: i64,
    url: String,
}

/// The state GitLab's `alert_status` gives a hook, in words.
fn state_of(h: &store::HookRow) -> &'static str {
    match rules::hook_json(h, false).get("alert_status").and_then(Value::as_str) {
        Some("disabled") => "disabled",
        Some("temporarily_disabled") => "temporarily disabled",
        _ => "enabled",
    }
}

async fn load_hooks(state: &AppState, pa: &ProjectAccess) -> WebResult<Vec<HookItem>> {
    let pid = pa.project.id;
    let rows = state
        .db
        .read(move |c| {
            let (hooks, _) = store::list(c, pid, store::MAX_PER_PROJECT, 0)?;
            let mut out = Vec::with_capacity(hooks.len());
            for h in hooks {
                let (logs, _) = deliveries::list_logs(c, h.id, "", &LogFilter::default(), RECENT, 0)?;
                out.push((h, logs));
            }
            Ok(out)
        })
        .await?;
    Ok(rows
        .into_iter()
        .map(|(h, logs)| {
            let s = &h.settings;
            let events: Vec<&str> = [
                (s.push_events, "Push events"),
                (s.pipeline_events, "Pipeline events"),
                (s.job_events, "Job events"),
            ]
            .into_iter()
            .filter_map(|(on, name)| on.then_some(name))
            .collect();
            HookItem {
                id: h.id,
                url: s.url.clone(),
                events: if events.is_empty() { "none".into() } else { events.join(", ") },
                state: state_of(&h),
                ssl: s.enable_ssl_verification,
                signed: s.signing_secret.is_some(),
                deliveries: logs
                    .into_iter()
                    .map(|l| DeliveryItem {
                        ok: l.response_status.starts_with('2'),
                        status: l.response_status,
                        when: When::of(&l.created_at),
                        event_uuid: l.event_uuid,
                        trigger: l.trigger,
                    })
                    .collect(),
            }
        })
        .collect())
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    pa: &ProjectAccess,
    flash: Option<&'static str>,
) -> WebResult<HooksPage> {
    let path = pa.project.path_with_namespace();
    Ok(HooksPage {
        chrome: viewer.chrome(&format!("Webhooks · {path}"), flash),
        hooks: load_hooks(state, pa).await?,
        nonce: auth::new_nonce()?,
        url: String::new(),
        error: None,
        path,
    })
}

/// `GET /:namespace/:project/-/hooks`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let flash = view::flash_message(Fields::from_query(req.query_string())?.get("flash"));
    view::render(&page(&state, &viewer, &pa, flash).await?)
}

/// `POST /:namespace/:project/-/hooks`: `POST /projects/:id/hooks` with the form's fields; a
/// refused hook re-renders the form with the API's message (422). A generated signing secret is
/// shown once (`201`, `no-store`); the form's one-time nonce keeps a reload from adding again.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let form = viewer.form(&body)?;
    let nonce = form.nonce()?;
    let full = pa.project.path_with_namespace();
    if let Some(replayed) = viewer
        .replayed(&state, &nonce, "Webhook already added", format!("/{full}/-/hooks"), "Back to webhooks")
        .await?
    {
        return Ok(replayed);
    }
    let url = form.text("url").unwrap_or_default().to_string();
    let checked = |k: &str| if form.get(k).is_some() { "true" } else { "false" }.to_string();
    let mut pairs = vec![
        ("url".to_string(), url.clone()),
        ("push_events".to_string(), checked("push_events")),
        ("pipeline_events".to_string(), checked("pipeline_events")),
        ("job_events".to_string(), checked("job_events")),
        ("enable_ssl_verification".to_string(), checked("enable_ssl_verification")),
        ("generate_signing_token".to_string(), checked("generate_signing_token")),
    ];
    if let Some(token) = form.text("token") {
        pairs.push(("token".to_string(), token.to_string()));
    }
    let params = Params::try_from_pairs(pairs, &ParamLimits::from_config(&state.config.limits))?;
    let target = web::Path::from(pa.project.id.to_string());
    let resp = match rules::create(viewer.caller(), state.clone(), target, params).await {
        Ok(resp) => resp,
        Err(e) if e.status_code().is_client_error() && e.status_code() != StatusCode::NOT_FOUND => {
            let mut p = page(&state, &viewer, &pa, None).await?;
            p.url = url;
            p.error = Some(api_message(&e));
            return view::render_with(StatusCode::UNPROCESSABLE_ENTITY, &p);
        }
        Err(e) => return Err(e.into()),
    };
    let body = actix_web::body::to_bytes(resp.into_body())
        .await
        .map_err(|e| WebError::Internal(format!("reading the new hook: {e}")))?;
    let secret = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("signing_token").and_then(Value::as_str).map(str::to_string));
    match secret {
        Some(signing_token) => {
            let page =
                CreatedPage { chrome: viewer.chrome("Webhook added", None), path: full, url, signing_token };
            view::render_with(StatusCode::CREATED, &page)
        }
        None => Ok(view::see_other(&format!("/{full}/-/hooks?flash=hook_added"))),
    }
}

/// The hook of the path if the viewer may manage it.
async fn hook_of(
    state: &AppState,
    viewer: &MaybeViewer,
    req: &HttpRequest,
    path: (String, String, String),
    body: &Bytes,
) -> WebResult<(Viewer, ProjectAccess, store::HookRow, Fields)> {
    let (ns, project, raw_id) = path;
    let (viewer, pa) = maintained(state, viewer, req, &ns, &project).await?;
    let form = viewer.form(body)?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let pid = pa.project.id;
    let hook = state.db.read(move |c| Ok(store::find(c, pid, id)?)).await?.ok_or(WebError::NotFound)?;
    Ok((viewer, pa, hook, form))
}

/// `POST /:namespace/:project/-/hooks/:id/test`: `POST …/hooks/:id/test/pipeline_events`; the
/// result is in the flash and the delivery in the hook's recent deliveries.
pub async fn test(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (viewer, pa, hook, _) = hook_of(&state, &viewer, &req, path.into_inner(), &body).await?;
    let target =
        web::Path::from((pa.project.id.to_string(), hook.id.to_string(), "pipeline_events".to_string()));
    let full = pa.project.path_with_namespace();
    let flash = match hook_events::test(viewer.caller(), state.clone(), target).await {
        Ok(_) => "hook_tested",
        Err(e) if e.status_code() == StatusCode::UNPROCESSABLE_ENTITY => {
            if api_message(&e).starts_with("Ensure the project has") {
                "hook_test_no_pipeline"
            } else {
                "hook_test_failed"
            }
        }
        Err(e) => return Err(e.into()),
    };
    Ok(view::see_other(&format!("/{full}/-/hooks?flash={flash}")))
}

/// `POST /:namespace/:project/-/hooks/:id/delete`: `confirm=1` deletes the hook (`DELETE
/// …/hooks/:id`); anything else shows the confirmation page.
pub async fn delete(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (viewer, pa, hook, form) = hook_of(&state, &viewer, &req, path.into_inner(), &body).await?;
    let full = pa.project.path_with_namespace();
    if form.get("confirm") != Some("1") {
        let page = DeletePage {
            chrome: viewer.chrome("Delete webhook", None),
            path: full,
            id: hook.id,
            url: hook.settings.url,
        };
        return view::render(&page);
    }
    let target = web::Path::from((pa.project.id.to_string(), hook.id.to_string()));
    rules::delete(viewer.caller(), state.clone(), target).await?;
    Ok(view::see_other(&format!("/{full}/-/hooks?flash=hook_removed")))
}
