//! A trigger token's audit log in the web UI (issue 14: "the web UI shows the audit log"): its
//! recorded calls, newest first, paginated, at `/:namespace/:project/-/triggers/:id/events`
//! (Maintainer+, as `GET /projects/:id/triggers/:trigger_id/events`), and the per-day counts of
//! calls with unknown tokens shown in Settings › CI/CD. The rows come from the same
//! `db::trigger_events` queries as the API's.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::session::MaybeViewer;
use super::triggers::maintained;
use super::view::{self, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::db::trigger_events::{self as store, EventRow};
use crate::db::triggers as triggers_store;
use crate::state::AppState;

/// Events per page.
const PER_PAGE: i64 = 50;
/// Days of unknown-token counts shown on the settings page.
pub const UNKNOWN_DAYS: i64 = 7;

/// One recorded call as the page shows it.
struct EventItem {
    when: When,
    address: String,
    ref_name: String,
    outcome: String,
    /// The outcome badge's CSS class.
    class: &'static str,
    status: u16,
    reason: String,
    pipeline_id: Option<i64>,
}

impl EventItem {
    fn of(e: EventRow) -> EventItem {
        let class = match e.outcome.as_str() {
            "accepted" => "ok",
            "rejected" => "bad",
            _ => "off",
        };
        EventItem {
            when: When::of(&e.created_at),
            address: e.client_address.unwrap_or_default(),
            ref_name: e.ref_name.unwrap_or_default(),
            outcome: e.outcome,
            class,
            status: e.status,
            reason: e.reason.unwrap_or_default(),
            pipeline_id: e.pipeline_id,
        }
    }
}

/// One day of calls with unknown tokens.
pub struct UnknownDay {
    pub day: String,
    pub attempts: i64,
    pub last: When,
    pub last_address: String,
}

#[derive(Template)]
#[template(path = "trigger_events.html")]
struct EventsPage {
    chrome: Chrome,
    path: String,
    short_token: String,
    description: String,
    total: i64,
    events: Vec<EventItem>,
    prev: Option<String>,
    next: Option<String>,
}

/// `GET /:namespace/:project/-/triggers/:id/events?page=N`
pub async fn events(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project, raw_id) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let page = Fields::from_query(req.query_string())?.page()?;
    let pid = pa.project.id;
    let (trigger, rows, total) = state
        .db
        .read(move |c| {
            let Some(trigger) = triggers_store::find(c, pid, id)? else { return Ok(None) };
            let (rows, total) = store::list(c, trigger.id, PER_PAGE, (page - 1) * PER_PAGE)?;
            Ok(Some((trigger, rows, total)))
        })
        .await?
        .ok_or(WebError::NotFound)?;
    let path = pa.project.path_with_namespace();
    let url = |n: i64| {
        let base = format!("/{path}/-/triggers/{id}/events");
        if n > 1 { format!("{base}?page={n}") } else { base }
    };
    let page_view = EventsPage {
        chrome: viewer.chrome(&format!("Trigger token audit log · {path}"), None),
        prev: (page > 1).then(|| url(page - 1)),
        next: (page * PER_PAGE < total).then(|| url(page + 1)),
        short_token: trigger.short_token,
        description: trigger.description.unwrap_or_default(),
        total,
        events: rows.into_iter().map(EventItem::of).collect(),
        path,
    };
    view::render(&page_view)
}

/// The newest days of unknown-token calls of the project (for Settings › CI/CD).
pub async fn unknown_days(state: &AppState, pa: &ProjectAccess) -> WebResult<(Vec<UnknownDay>, i64)> {
    let pid = pa.project.id;
    let (rows, total) = state.db.read(move |c| Ok(store::unknown_attempts(c, pid, UNKNOWN_DAYS, 0)?)).await?;
    let days = rows
        .into_iter()
        .map(|u| UnknownDay {
            day: u.day,
            attempts: u.attempts,
            last: When::of(&u.last_attempt_at),
            last_address: u.last_client_address.unwrap_or_default(),
        })
        .collect();
    Ok((days, total))
}
