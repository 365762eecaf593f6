//! Settings › CI/CD › Pipeline trigger tokens (Maintainer+, else 404 as in GitLab): the list,
//! the create form, the page that shows a new token exactly once, and revoke with confirmation.
//!
//! Tokens are hashed at rest, so the full token exists only in the response to the create POST
//! (never a redirect, never a flash, `no-store`). The form carries a one-time nonce recorded in
//! the same write as the token: a replayed POST (a reload) mints and shows nothing.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::projects::project_page;
use super::runners::{self, RunnersSection};
use super::session::{MaybeViewer, Viewer};
use super::trigger_events::{self, UnknownDay};
use super::view::{self, Chrome, When};
use super::{WebError, WebResult};
use crate::api::access::ProjectAccess;
use crate::api::limits;
use crate::api::trigger_lifetime;
use crate::auth;
use crate::db::triggers::{self as store, NewTrigger, TriggerRow};
use crate::db::{projects, web_sessions};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

/// Triggers listed on the settings page (GitLab's table is not paginated either).
const LIST_LIMIT: i64 = 500;
/// A token expiring within this many days gets an "expires in N days" badge.
const SOON_DAYS: i64 = trigger_lifetime::SOON_DAYS;

/// One row of the token table.
struct TokenItem {
    id: i64,
    short_token: String,
    description: String,
    owner: String,
    last_used: Option<When>,
    expires: Option<String>,
    /// "expired", "expires in N days", or empty.
    expiry_badge: String,
    expired: bool,
    /// The owner can no longer use it (blocked, or no longer Maintainer+).
    invalid: bool,
    /// The viewer may edit it (its owner, or an admin).
    can_edit: bool,
}

/// The settings page's data, shared by the page, its re-render with form errors and the
/// confirmation of a revoke.
struct Section {
    project_id: i64,
    path: String,
    tokens: Vec<TokenItem>,
    expiring: usize,
    expired: usize,
    trigger_url: String,
    default_ref: String,
    /// The newest days of calls with tokens that are no trigger token of the project.
    unknown: Vec<UnknownDay>,
    /// How many days have such calls in all.
    unknown_days: i64,
}

#[derive(Template)]
#[template(path = "settings_ci_cd.html")]
struct SettingsPage {
    chrome: Chrome,
    s: Section,
    r: RunnersSection,
    nonce: String,
    runner_nonce: String,
    description: String,
    expires_at: String,
    description_error: Option<String>,
    expires_error: Option<String>,
}

#[derive(Template)]
#[template(path = "trigger_created.html")]
struct CreatedPage {
    chrome: Chrome,
    /// After a rotation: until when the previous token keeps working.
    note: Option<String>,
    path: String,
    token: String,
    description: String,
    curl: String,
    curl_variables: String,
    webhook: String,
    ci_job: String,
}

#[derive(Template)]
#[template(path = "trigger_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    path: String,
    id: i64,
    short_token: String,
    description: String,
}

/// The project if the viewer may manage its triggers; otherwise 404 (or sign in first).
pub async fn maintained(
    state: &AppState,
    viewer: &MaybeViewer,
    req: &HttpRequest,
    ns: &str,
    project: &str,
) -> WebResult<(Viewer, ProjectAccess)> {
    let pa = project_page(state, viewer, req, ns, project).await?;
    let Some(v) = viewer.0.clone() else { return Err(WebError::SignIn(super::session::this_path(req))) };
    if !pa.at_least(AccessLevel::Maintainer) {
        return Err(WebError::NotFound);
    }
    Ok((v, pa))
}

async fn load_section(state: &AppState, req: &HttpRequest, pa: &ProjectAccess) -> WebResult<Section> {
    let pid = pa.project.id;
    let now = model::now();
    let soon = model::format_ts(time::OffsetDateTime::now_utc() + time::Duration::days(SOON_DAYS));
    let rows = state
        .db
        .read(move |c| {
            let (rows, _) = store::list(c, pid, LIST_LIMIT, 0)?;
            let mut out = Vec::with_capacity(rows.len());
            for t in rows {
                let level = projects::member_level(c, pid, t.owner.id)?;
                let valid = t.owner.is_active()
                    && (t.owner.is_admin || level.is_some_and(|l| l >= AccessLevel::Maintainer as i64));
                out.push((t, !valid));
            }
            Ok(out)
        })
        .await?;
    let (viewer_id, admin) = (pa.user_id, pa.admin);
    let tokens: Vec<TokenItem> = rows
        .into_iter()
        .map(|(t, invalid)| {
            let can_edit = admin || Some(t.owner.id) == viewer_id;
            token_item(t, invalid, can_edit, &now, &soon)
        })
        .collect();
    let base = crate::api::pagination::base_url(req, state);
    let (unknown, unknown_days) = trigger_events::unknown_days(state, pa).await?;
    Ok(Section {
        unknown,
        unknown_days,
        project_id: pid,
        path: pa.project.path_with_namespace(),
        expiring: tokens.iter().filter(|t| !t.expired && !t.expiry_badge.is_empty()).count(),
        expired: tokens.iter().filter(|t| t.expired).count(),
        tokens,
        trigger_url: format!("{base}/api/v4/projects/{pid}/trigger/pipeline"),
        default_ref: pa.project.default_branch.clone().unwrap_or_else(|| "main".into()),
    })
}

fn token_item(t: TriggerRow, invalid: bool, can_edit: bool, now: &str, soon: &str) -> TokenItem {
    let expired = t.expires_at.as_deref().is_some_and(|e| e <= now);
    let expiry_badge = match t.expires_at.as_deref() {
        Some(_) if expired => "expired".to_string(),
        Some(e) if e <= soon => format!("expires {}", view::ago(e)),
        _ => String::new(),
    };
    TokenItem {
        id: t.id,
        short_token: t.short_token,
        description: t.description.unwrap_or_default(),
        owner: t.owner.username,
        last_used: When::maybe(t.last_used.as_deref()),
        expires: t.expires_at.as_deref().map(|e| e.chars().take(10).collect()),
        expiry_badge,
        expired,
        invalid,
        can_edit,
    }
}

/// `GET /:namespace/:project/-/settings/ci_cd`
pub async fn settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String)>,
) -> WebResult<HttpResponse> {
    let (ns, project) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let flash = view::flash_message(Fields::from_query(req.query_string())?.get("flash"));
    let section = load_section(&state, &req, &pa).await?;
    let page = SettingsPage {
        chrome: viewer.chrome(&format!("CI/CD Settings · {}", section.path), flash),
        r: runners::load_section(&state, &req, &pa).await?,
        s: section,
        nonce: auth::new_nonce()?,
        runner_nonce: auth::new_nonce()?,
        description: String::new(),
        expires_at: String::new(),
        description_error: None,
        expires_error: None,
    };
    view::render(&page)
}

/// Checks the create form: the description (required, ≤ 255 characters) and the optional
/// expiration date (before `max`, today + `triggers.max_lifetime_days`, as the API). Errors are
/// per field.
pub(super) fn check_form(
    description: &str,
    expires_at: &str,
    max: time::Date,
) -> (Option<String>, Option<String>, Option<String>) {
    let description_error = if description.is_empty() {
        Some("Description can't be blank.".to_string())
    } else {
        limits::TRIGGER_DESCRIPTION.error(description).map(|m| format!("Description {m}."))
    };
    let mut expires = None;
    let mut expires_error = None;
    if !expires_at.is_empty() {
        match model::parse_date(expires_at) {
            None => expires_error = Some("Expiration date must be a date (YYYY-MM-DD).".to_string()),
            Some(d) if d >= max => {
                expires_error = Some(format!("Expiration date must be before {}.", model::format_date(max)))
            }
            Some(d) => expires = Some(model::format_ts(d.midnight().assume_utc())),
        }
    }
    (description_error, expires_error, expires)
}

/// What the create write found.
enum Created {
    Token(String),
    Replayed,
    TooMany,
}

/// `POST /:namespace/:project/-/triggers`: creates a trigger owned by the viewer and answers
/// with the page showing its token once (`no-store`).
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
    let description = form.text("description").unwrap_or_default().to_string();
    let expires_raw = form.text("expires_at").unwrap_or_default().to_string();
    let lifetimes = &state.config.triggers;
    let (description_error, expires_error, expires_at) =
        check_form(&description, &expires_raw, trigger_lifetime::max_date(lifetimes));
    // A token created without a date gets the instance's default lifetime, as in the API.
    let expires_at = expires_at.or_else(|| trigger_lifetime::default_expires_at(lifetimes));
    if description_error.is_some() || expires_error.is_some() {
        let section = load_section(&state, &req, &pa).await?;
        let page = SettingsPage {
            chrome: viewer.chrome(&format!("CI/CD Settings · {}", section.path), None),
            r: runners::load_section(&state, &req, &pa).await?,
            s: section,
            nonce,
            runner_nonce: auth::new_nonce()?,
            description,
            expires_at: expires_raw,
            description_error,
            expires_error,
        };
        return view::render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
    }

    let token = auth::new_trigger_token()?;
    let (digest, short) = (auth::digest(&token), auth::short_token(&token));
    let nonce_digest = auth::digest(&nonce);
    let (project_id, owner_id, session_id) = (pa.project.id, viewer.user.id, viewer.session_id);
    let stored_description = description.clone();
    let outcome = state
        .db
        .write(move |c| {
            let now = model::now();
            if !web_sessions::use_nonce(c, session_id, &nonce_digest, &now)? {
                return Ok(Created::Replayed);
            }
            if store::count(c, project_id)? >= store::MAX_PER_PROJECT {
                return Ok(Created::TooMany);
            }
            let new = NewTrigger {
                project_id,
                owner_id,
                description: &stored_description,
                token_digest: &digest,
                short_token: &short,
                expires_at: expires_at.as_deref(),
            };
            store::insert(c, &new, &now)?;
            Ok(Created::Token(token.clone()))
        })
        .await?;
    let path = pa.project.path_with_namespace();
    let token = match outcome {
        Created::Token(t) => t,
        Created::Replayed => {
            let page = view::ReplayedPage {
                chrome: viewer.chrome("Token already created", None),
                back: format!("/{path}/-/settings/ci_cd#js-pipeline-triggers"),
                back_label: "Back to pipeline trigger tokens",
            };
            return view::render_with(StatusCode::CONFLICT, &page);
        }
        Created::TooMany => {
            return Err(WebError::BadRequest(format!(
                "Maximum number of pipeline triggers ({}) exceeded.",
                store::MAX_PER_PROJECT
            )));
        }
    };
    let chrome = viewer.chrome("Pipeline trigger token created", None);
    token_page(&req, &state, &pa, chrome, token, description, None)
}

/// The page showing a trigger token once (`201`, `no-store`), with ready-made commands: after
/// a create, or after a rotation (`note` says until when the previous token works).
pub(super) fn token_page(
    req: &HttpRequest,
    state: &AppState,
    pa: &ProjectAccess,
    chrome: Chrome,
    token: String,
    description: String,
    note: Option<String>,
) -> WebResult<HttpResponse> {
    let project_id = pa.project.id;
    let base = crate::api::pagination::base_url(req, state);
    let url = format!("{base}/api/v4/projects/{project_id}/trigger/pipeline");
    let default_ref = pa.project.default_branch.clone().unwrap_or_else(|| "main".into());
    let page = CreatedPage {
        chrome,
        curl: format!("curl --request POST --fail --form token={token} --form ref={default_ref} \"{url}\""),
        curl_variables: format!(
            "curl --request POST --fail --form token={token} --form ref={default_ref} \
             --form \"variables[RUN_NIGHTLY_BUILD]=true\" \"{url}\""
        ),
        webhook: format!(
            "{base}/api/v4/projects/{project_id}/ref/{default_ref}/trigger/pipeline?token={token}"
        ),
        ci_job: format!(
            "trigger-downstream:\n  script:\n    - curl --request POST --fail --form token=\"$TRIGGER_TOKEN\" \
             --form ref={default_ref} \"{url}\""
        ),
        path: pa.project.path_with_namespace(),
        token,
        description,
        note,
    };
    view::render_with(StatusCode::CREATED, &page)
}

/// `POST /:namespace/:project/-/triggers/:id/revoke`: `confirm=1` deletes the trigger and
/// returns to the list; anything else shows the confirmation page (the `<dialog>` of app.js
/// sends `confirm=1` itself).
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<(String, String, String)>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let (ns, project, raw_id) = path.into_inner();
    let (viewer, pa) = maintained(&state, &viewer, &req, &ns, &project).await?;
    let form = viewer.form(&body)?;
    let id = raw_id.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let pid = pa.project.id;
    let trigger = state.db.read(move |c| Ok(store::find(c, pid, id)?)).await?.ok_or(WebError::NotFound)?;
    let path = pa.project.path_with_namespace();
    if form.get("confirm") != Some("1") {
        let page = RevokePage {
            chrome: viewer.chrome("Revoke trigger token", None),
            path,
            id,
            short_token: trigger.short_token,
            description: trigger.description.unwrap_or_default(),
        };
        return view::render(&page);
    }
    state.db.write(move |c| Ok(store::delete(c, pid, id, None)?)).await?;
    Ok(view::see_other(&format!("/{path}/-/settings/ci_cd?flash=trigger_removed#js-pipeline-triggers")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year() -> time::Date {
        model::today().saturating_add(time::Duration::days(365))
    }

    #[test]
    fn the_create_form_needs_a_description_and_a_date_within_a_year() {
        let (d, e, at) = check_form("", "", year());
        assert!(d.is_some() && e.is_none() && at.is_none());
        let (d, e, _) = check_form(&"x".repeat(256), "2001-13-01", year());
        assert!(d.unwrap().contains("maximum is 255"));
        assert!(e.unwrap().contains("YYYY-MM-DD"));
        let (_, e, _) = check_form("ok", "9999-01-01", year());
        assert!(e.unwrap().starts_with("Expiration date must be before"));
        let tomorrow = model::format_date(model::today().saturating_add(time::Duration::days(1)));
        let (d, e, at) = check_form("ok", &tomorrow, year());
        assert!(d.is_none() && e.is_none());
        assert_eq!(at.unwrap(), format!("{tomorrow}T00:00:00.000Z"));
    }
}
