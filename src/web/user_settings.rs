//! User settings › Personal access tokens (`/-/user_settings/personal_access_tokens`): the
//! signed-in user's tokens, the create form with the new token shown exactly once on the page
//! answering the POST (a one-time nonce, as for trigger tokens), and revoke with confirmation.
//!
//! The rules are the API's: scopes are read by `api::tokens::scopes_param`, a token is visible
//! and revocable as `api::tokens::visible_token` / `revoke_by_id` decide, rows come from
//! `db::tokens`.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::forms::Fields;
use super::session::{MaybeViewer, Viewer};
use super::view::{self, Chrome, When};
use super::{WebError, WebResult};
use crate::api::{limits, tokens as rules};
use crate::auth;
use crate::db::tokens::{self as store, NewToken, TokenFilter, TokenRow};
use crate::db::web_sessions;
use crate::model;
use crate::state::AppState;

/// Where the page lives.
pub const PATH: &str = "/-/user_settings/personal_access_tokens";
/// Tokens listed at most (GitLab's page is not paginated either).
const LIST_LIMIT: i64 = 500;
/// The expiration date the form suggests, as GitLab's does: 30 days from today.
const DEFAULT_LIFETIME_DAYS: i64 = 30;

/// One row of a token table.
struct PatItem {
    id: i64,
    name: String,
    scopes: String,
    created: When,
    last_used: Option<When>,
    expires: Option<String>,
    /// "revoked", "expired", or empty.
    state: &'static str,
}

/// A scope checkbox.
struct ScopeBox {
    name: &'static str,
    help: &'static str,
    checked: bool,
}

#[derive(Template)]
#[template(path = "personal_access_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    active: Vec<PatItem>,
    inactive: Vec<PatItem>,
    nonce: String,
    name: String,
    expires_at: String,
    min_date: String,
    scopes: Vec<ScopeBox>,
    name_error: Option<String>,
    scopes_error: Option<String>,
    expires_error: Option<String>,
}

#[derive(Template)]
#[template(path = "pat_created.html")]
struct CreatedPage {
    chrome: Chrome,
    token: String,
    name: String,
    scopes: String,
    expires: String,
    curl: String,
}

#[derive(Template)]
#[template(path = "pat_revoke.html")]
struct RevokePage {
    chrome: Chrome,
    id: i64,
    name: String,
}

fn scope_help(scope: &str) -> &'static str {
    match scope {
        "api" => "Grants complete read/write access to the API.",
        "read_api" => "Grants read access to the API.",
        _ => "",
    }
}

fn scope_boxes(checked: &[String]) -> Vec<ScopeBox> {
    rules::SCOPES
        .iter()
        .map(|s| ScopeBox { name: s, help: scope_help(s), checked: checked.iter().any(|c| c == s) })
        .collect()
}

fn item(t: TokenRow, today: &str) -> PatItem {
    let state = if t.revoked {
        "revoked"
    } else if t.expires_at.as_deref().is_some_and(|e| e <= today) {
        "expired"
    } else {
        ""
    };
    PatItem {
        id: t.id,
        name: t.name,
        scopes: t.scopes.join(", "),
        created: When::of(&t.created_at),
        last_used: When::maybe(t.last_used_at.as_deref()),
        expires: t.expires_at,
        state,
    }
}

/// The viewer's tokens: usable ones, then revoked or expired ones.
async fn load(state: &AppState, viewer: &Viewer) -> WebResult<(Vec<PatItem>, Vec<PatItem>)> {
    let today = model::format_date(model::today());
    let filter = TokenFilter { user_id: Some(viewer.user.id), ..Default::default() };
    let day = today.clone();
    let (rows, _) = state.db.read(move |c| Ok(store::list(c, &filter, &day, LIST_LIMIT, 0)?)).await?;
    let (active, inactive): (Vec<PatItem>, Vec<PatItem>) =
        rows.into_iter().rev().map(|t| item(t, &today)).partition(|t| t.state.is_empty());
    Ok((active, inactive))
}

/// The page with the form filled as given (errors beside their fields).
struct FormState {
    name: String,
    expires_at: String,
    scopes: Vec<String>,
    name_error: Option<String>,
    scopes_error: Option<String>,
    expires_error: Option<String>,
}

impl FormState {
    fn blank() -> FormState {
        let suggested = model::today().saturating_add(time::Duration::days(DEFAULT_LIFETIME_DAYS));
        FormState {
            name: String::new(),
            expires_at: model::format_date(suggested),
            scopes: Vec::new(),
            name_error: None,
            scopes_error: None,
            expires_error: None,
        }
    }

    fn has_errors(&self) -> bool {
        self.name_error.is_some() || self.scopes_error.is_some() || self.expires_error.is_some()
    }
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    flash: Option<&'static str>,
    nonce: String,
    f: FormState,
    status: StatusCode,
) -> WebResult<HttpResponse> {
    let (active, inactive) = load(state, viewer).await?;
    let min_date = model::format_date(model::today().saturating_add(time::Duration::days(1)));
    let page = TokensPage {
        chrome: viewer.chrome("Personal access tokens", flash),
        active,
        inactive,
        nonce,
        name: f.name,
        expires_at: f.expires_at,
        min_date,
        scopes: scope_boxes(&f.scopes),
        name_error: f.name_error,
        scopes_error: f.scopes_error,
        expires_error: f.expires_error,
    };
    view::render_with(status, &page)
}

/// `GET /-/user_settings/personal_access_tokens`
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
) -> WebResult<HttpResponse> {
    let viewer = viewer.require(&req)?;
    let flash = view::flash_message(Fields::from_query(req.query_string())?.get("flash"));
    page(&state, &viewer, flash, auth::new_nonce()?, FormState::blank(), StatusCode::OK).await
}

/// Checks the create form with the API's rules: a name (≤ 255 characters), at least one known
/// scope, and an optional expiration date after today.
fn check_form(form: &Fields, state: &AppState) -> WebResult<(FormState, Option<String>)> {
    let name = form.text("name").unwrap_or_default().to_string();
    let expires_at = form.text("expires_at").unwrap_or_default().to_string();
    let params = form.to_params(&state.config.limits)?;
    let scopes_raw = params.string_list("scopes").ok().flatten().unwrap_or_default();
    let mut f = FormState {
        name,
        expires_at,
        scopes: scopes_raw,
        name_error: None,
        scopes_error: None,
        expires_error: None,
    };
    f.name_error = if f.name.is_empty() {
        Some("Name can't be blank.".into())
    } else {
        limits::TOKEN_NAME.error(&f.name).map(|m| format!("Name {m}."))
    };
    if rules::scopes_param(&params).is_err() {
        f.scopes_error = Some("Select at least one scope.".into());
    }
    let mut expires = None;
    if !f.expires_at.is_empty() {
        match model::parse_date(&f.expires_at) {
            None => f.expires_error = Some("Expiration date must be a date (YYYY-MM-DD).".into()),
            Some(d) if d <= model::today() => {
                f.expires_error = Some("Expiration date must be in the future.".into())
            }
            Some(d) => expires = Some(model::format_date(d)),
        }
    }
    Ok((f, expires))
}

/// `POST /-/user_settings/personal_access_tokens`: creates a token for the viewer and answers
/// with the page showing it once (`no-store`); a replayed form mints nothing.
pub async fn create(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let viewer = viewer.require(&req)?;
    let form = viewer.form(&body)?;
    let nonce = form.text("nonce").filter(|n| n.len() <= 64).unwrap_or_default().to_string();
    if nonce.is_empty() {
        return Err(WebError::BadRequest("The form is incomplete: reload the page and try again.".into()));
    }
    let (f, expires_at) = check_form(&form, &state)?;
    if f.has_errors() {
        return page(&state, &viewer, None, nonce, f, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let params = form.to_params(&state.config.limits)?;
    let scopes = rules::scopes_param(&params)?;
    let secret = auth::new_personal_access_token()?;
    let digest = auth::digest(&secret);
    let nonce_digest = auth::digest(&nonce);
    let (user_id, session_id) = (viewer.user.id, viewer.session_id);
    let (name, stored_scopes, stored_expiry) = (f.name.clone(), scopes.clone(), expires_at.clone());
    let created = state
        .db
        .write(move |c| {
            let now = model::now();
            if !web_sessions::use_nonce(c, session_id, &nonce_digest, &now)? {
                return Ok(false);
            }
            let new = NewToken {
                user_id,
                name: &name,
                digest: &digest,
                scopes: &stored_scopes,
                expires_at: stored_expiry.as_deref(),
            };
            store::insert(c, &new, &now)?;
            Ok(true)
        })
        .await?;
    if !created {
        let page = view::ReplayedPage {
            chrome: viewer.chrome("Token already created", None),
            back: PATH.into(),
            back_label: "Back to personal access tokens",
        };
        return view::render_with(StatusCode::CONFLICT, &page);
    }
    let base = crate::api::pagination::base_url(&req, &state);
    let page = CreatedPage {
        chrome: viewer.chrome("Personal access token created", None),
        curl: format!("curl --header \"PRIVATE-TOKEN: {secret}\" \"{base}/api/v4/user\""),
        token: secret,
        name: f.name,
        scopes: scopes.join(", "),
        expires: expires_at.unwrap_or_else(|| "Never".into()),
    };
    view::render_with(StatusCode::CREATED, &page)
}

/// `POST /-/user_settings/personal_access_tokens/:id/revoke`: `confirm=1` revokes (the API's
/// rule: the viewer's own token, or any for an admin), anything else asks on a page first.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    path: web::Path<String>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let viewer = viewer.require(&req)?;
    let form = viewer.form(&body)?;
    let id = path.parse::<i64>().map_err(|_| WebError::NotFound)?;
    let caller = viewer.caller();
    let token = rules::visible_token(&caller, &state, id).await?;
    if form.get("confirm") != Some("1") {
        let page =
            RevokePage { chrome: viewer.chrome("Revoke personal access token", None), id, name: token.name };
        return view::render(&page);
    }
    rules::revoke_by_id(&caller, &state, id).await?;
    Ok(view::see_other(&format!("{PATH}?flash=pat_revoked")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_the_api_knows_has_a_checkbox_with_help() {
        let boxes = scope_boxes(&["read_api".to_string()]);
        assert_eq!(boxes.len(), rules::SCOPES.len());
        assert!(boxes.iter().all(|b| !b.help.is_empty()));
        assert!(boxes.iter().any(|b| b.name == "read_api" && b.checked));
        assert!(boxes.iter().any(|b| b.name == "api" && !b.checked));
    }
}
