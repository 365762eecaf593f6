//! Settings › CI/CD › Runners (Maintainer+, the section `#js-runners-settings` of the settings
//! page): the project's runners and the instance runners with their status, Pause/Resume, and
//! registration with a new registration token shown once with its `gitlab-runner register`
//! command. Registration tokens are stored as digests, so a token cannot be shown again later:
//! "Reset registration token" makes a new one (the old one stops working), as the API does.
//!
//! The writes are the API's own handlers (`PUT /runners/:id` with `paused`, `POST
//! /projects/:id/runners/reset_registration_token`), called with the viewer as the caller, so
//! the rules are the same.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::session::MaybeViewer;
use super::triggers::maintained;
use super::view::{self, Badge, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::api::runners::{self as rules, manage};
use crate::db::runners::{self as store, RunnerFilter, RunnerRow, Visible};
use crate::state::AppState;

/// Runners listed at most.
const LIST_LIMIT: i64 = 200;

/// One runner in the table.
pub struct RunnerItem {
    pub id: i64,
    pub short_token: String,
    pub description: String,
    pub badge: Badge,
    pub instance: bool,
    pub paused: bool,
    pub tags: String,
    pub version: String,
    pub contacted: Option<When>,
    /// The viewer may pause or resume it (project runners; instance runners for admins).
    pub can_toggle: bool,
}

/// The runners section of the settings page.
pub struct RunnersSection {
    pub project: Vec<RunnerItem>,
    pub instance: Vec<RunnerItem>,
    /// The server's URL for `gitlab-runner register --url`.
    pub url: String,
}

/// A runner status as a badge (glyph and word).
fn status_badge(status: &str) -> Badge {
    let (class, glyph, text) = match status {
        "online" => ("ok", "●", "online"),
        "offline" => ("off", "○", "offline"),
        "never_contacted" => ("wait", "◷", "never contacted"),
        "stale" => ("bad", "✕", "stale"),
        "paused" => ("off", "⏸", "paused"),
        other => ("off", "○", other),
    };
    Badge { class, glyph, text: text.to_string() }
}

fn runner_item(r: RunnerRow, online: &str, stale: &str, admin: bool) -> RunnerItem {
    let status = r.status(online, stale);
    RunnerItem {
        id: r.id,
        badge: status_badge(status),
        instance: r.is_instance(),
        paused: !r.active,
        tags: r.tags.join(", "),
        version: r.version.clone().unwrap_or_default(),
        contacted: When::maybe(r.contacted_at.as_deref()),
        can_toggle: admin || !r.is_instance(),
        short_token: r.short_token,
        description: r.description.unwrap_or_default(),
    }
}

/// The project's runners and the instance runners (what `GET /projects/:id/runners` lists).
pub async fn load_section(
    state: &AppState,
    req: &HttpRequest,
    pa: &ProjectAccess,
) -> WebResult<RunnersSection> {
    let (online, stale) = rules::deadlines();
    let pid = pa.project.id;
    let (o, s) = (online.clone(), stale.clone());
    let (rows, _) = state
        .db
        .read(move |c| {
            Ok(store::list(c, &Visible::Project(pid), &RunnerFilter::default(), &o, &s, LIST_LIMIT, 0)?)
        })
        .await?;
    let (instance, project): (Vec<RunnerItem>, Vec<RunnerItem>) =
        rows.into_iter().map(|r| runner_item(r, &online, &stale, pa.admin)).partition(|r| r.instance);
    Ok(RunnersSection { project, instance, url: crate::api::pagination::base_url(req, state) })
}

/// `POST /:namespace/:project/-/runners/:id/pause` and `/resume`: a runner this project lists,
/// changed through `PUT /runners/:id` (`paused`), then back to the settings page.
pub async fn toggle(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (ns, project, raw_id, action) = path.into_inner();
    let paused = match action.as_str() {
        "pause" => true,
        "resume" => false,
        _ => return Err(WebError::NotFound),
    };
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    viewer.form(&body)?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let pid = pa.project.id;
    let listed = state
        .db
        .read(move |c| {
            Ok(match store::find(c, id)? {
                Some(r) => r.is_instance() || store::project_ids(c, id)?.contains(&pid),
                None => false,
            })
        })
        .await?;
    if !listed {
        return Err(WebError::NotFound);
    }
    let params = Fields::from_query(if paused { "paused=true" } else { "paused=false" })?
        .to_params(&state.config.limits)?;
    manage::update(viewer.caller(), req.clone(), state.clone(), web::Path::from(id.to_string()), params)
        .await?;
    let flash = if paused { "runner_paused" } else { "runner_resumed" };
    let full = pa.project.path_with_namespace();
    Ok(view::see_other(&format!("/{full}/-/settings/ci_cd?flash={flash}#js-runners-settings")))
}

#[derive(Template)]
#[template(path = "runner_token_reset.html")]
struct ResetAskPage {
    chrome: Chrome,
    path: String,
    nonce: String,
}

#[derive(Template)]
#[template(path = "runner_token.html")]
struct TokenPage {
    chrome: Chrome,
    path: String,
    token: String,
    command: String,
}

/// `POST /:namespace/:project/-/settings/ci_cd/reset_registration_token` (Maintainer+):
/// `confirm=1` makes a new registration token through the API's handler and shows it once with
/// the `gitlab-runner register` command (`no-store`); else a confirmation page. The form's
/// one-time nonce keeps a reload from resetting the token again.
pub async fn reset_registration_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let form = viewer.form(&body)?;
    let full = pa.project.path_with_namespace();
    let nonce = form.nonce()?;
    if form.get("confirm") != Some("1") {
        let page =
            ResetAskPage { chrome: viewer.chrome("Reset registration token", None), path: full, nonce };
        return view::render(&page);
    }
    if let Some(replayed) = viewer
        .replayed(
            &state,
            &nonce,
            "Token already created",
            format!("/{full}/-/settings/ci_cd#js-runners-settings"),
            "Back to runners",
        )
        .await?
    {
        return Ok(replayed);
    }
    let resp = manage::reset_registration_token(
        viewer.caller(),
        state.clone(),
        web::Path::from(pa.project.id.to_string()),
    )
    .await?;
    let body = actix_web::body::to_bytes(resp.into_body())
        .await
        .map_err(|e| WebError::Internal(format!("reading the new registration token: {e}")))?;
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string))
        .ok_or_else(|| WebError::Internal("the new registration token is missing".into()))?;
    let url = crate::api::pagination::base_url(&req, &state);
    let page = TokenPage {
        chrome: viewer.chrome("Runner registration token", None),
        command: format!(
            "gitlab-runner register --non-interactive \\\n  --url \"{url}\" \\\n  --registration-token \"{token}\" \\\n  --executor shell --description \"{}-runner\"",
            pa.project.path
        ),
        path: full,
        token,
    };
    view::render_with(StatusCode::CREATED, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runner_status_has_a_glyph_and_a_word() {
        for s in ["online", "offline", "never_contacted", "stale", "paused"] {
            let b = status_badge(s);
            assert!(!b.glyph.is_empty() && !b.text.contains('_'), "{s}");
        }
    }
}
