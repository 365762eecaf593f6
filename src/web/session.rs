//! Signing in and out, and who is looking at a page.
//!
//! The session cookie holds 256 random bits; the database keeps only their SHA-256 digest
//! (`web_sessions`). A session ends at its `expires_at` (`web.session_ttl_secs` after sign-in),
//! on sign-out, when its user is deleted (cascade) and, checked on every use, while its user is
//! blocked. Each signed-in form carries a token derived from the cookie's secret, which a page on
//! another site cannot read.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use sha2::{Digest, Sha256};

use super::forms::Fields;
use super::view::{self, Chrome};
use super::{WebError, WebResult, WebState};
use crate::auth::{self, Caller};
use crate::db::users::UserRow;
use crate::db::{self, users, web_sessions};
use crate::model;
use crate::state::AppState;

/// The session cookie's name.
pub const COOKIE: &str = "triggerd_session";
/// Name of the hidden form field carrying the session's form token.
pub const CSRF_FIELD: &str = "_csrf";
/// GitLab's message for every failed sign-in (it does not tell which part was wrong).
pub const INVALID_LOGIN: &str = "Invalid login or password.";

/// A signed-in user looking at a page.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: UserRow,
    pub session_id: i64,
    /// The form token of this session.
    pub csrf: String,
}

impl Viewer {
    /// A POSTed form of this session: its fields once the form token checks out.
    pub fn form(&self, body: &Bytes) -> WebResult<Fields> {
        let form = Fields::from_body(body)?;
        self.check_form(&form)?;
        Ok(form)
    }

    /// Spends a form's one-time nonce. `Some(409 page)` when it was spent already (a reload of a
    /// form whose answer showed a secret once): nothing may be minted or shown again.
    pub async fn replayed(
        &self,
        state: &AppState,
        nonce: &str,
        title: &str,
        back: String,
        back_label: &'static str,
    ) -> WebResult<Option<HttpResponse>> {
        let (session_id, digest) = (self.session_id, auth::digest(nonce));
        let fresh = state
            .db
            .write(move |c| Ok(web_sessions::use_nonce(c, session_id, &digest, &model::now())?))
            .await?;
        if fresh {
            return Ok(None);
        }
        let page = view::ReplayedPage { chrome: self.chrome(title, None), back, back_label };
        Ok(Some(view::render_with(StatusCode::CONFLICT, &page)?))
    }

    /// The user as the API's access rules know callers.
    pub fn caller(&self) -> Caller {
        Caller { user: self.user.clone(), scopes: vec!["api".into()], token_id: 0, job: None }
    }

    /// The page chrome for this viewer.
    pub fn chrome(&self, title: &str, flash: Option<&'static str>) -> Chrome {
        Chrome {
            title: title.into(),
            user: Some(self.user.username.clone()),
            csrf: self.csrf.clone(),
            flash,
            version: view::VERSION,
        }
    }

    /// 422 unless the form carries this session's token.
    pub fn check_form(&self, form: &Fields) -> WebResult<()> {
        let sent = form.get(CSRF_FIELD).unwrap_or_default();
        if auth::digests_match(sent.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(WebError::FormToken)
        }
    }
}

/// The viewer, or `None` when nobody (or an expired or blocked session) is signed in.
#[derive(Debug, Clone)]
pub struct MaybeViewer(pub Option<Viewer>);

impl MaybeViewer {
    /// The viewer, or a redirect to sign in that comes back to this request's path.
    pub fn require(self, req: &HttpRequest) -> WebResult<Viewer> {
        self.0.ok_or_else(|| WebError::SignIn(this_path(req)))
    }

    pub fn caller(&self) -> Option<Caller> {
        self.0.as_ref().map(Viewer::caller)
    }

    pub fn chrome(&self, title: &str, flash: Option<&'static str>) -> Chrome {
        match &self.0 {
            Some(v) => v.chrome(title, flash),
            None => Chrome { flash, ..Chrome::anonymous(title) },
        }
    }
}

/// The request's path and query (to come back to after signing in).
pub fn this_path(req: &HttpRequest) -> String {
    req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
}

/// The session secret in the request's cookie, if it looks like one.
fn session_secret(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The form token of a session: derived from its secret, so it needs no storage and cannot be
/// computed without the cookie.
fn form_token(secret: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"triggerd web form token\0");
    h.update(secret.as_bytes());
    hex::encode(&h.finalize()[..20])
}

async fn resolve(req: HttpRequest) -> WebResult<Option<Viewer>> {
    let Some(secret) = session_secret(&req) else { return Ok(None) };
    let state = app_state(&req)?;
    let digest = auth::digest(&secret);
    let now = model::now();
    let found = state.db.read(move |c| Ok(web_sessions::find_live(c, &digest, &now)?)).await?;
    let Some(session) = found.filter(|s| s.user.is_active()) else { return Ok(None) };
    Ok(Some(Viewer { user: session.user, session_id: session.id, csrf: form_token(&secret) }))
}

fn app_state(req: &HttpRequest) -> WebResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| WebError::Internal("application state missing".into()))
}

impl FromRequest for MaybeViewer {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeViewer) })
    }
}

/// Whether the cookie must be `Secure`: the request came over https, or the configured external
/// URL is https (behind a TLS-terminating proxy). On plain http a `Secure` cookie would be dropped.
fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.external_url.as_deref().is_some_and(|u| u.starts_with("https://"))
        || req.connection_info().scheme() == "https"
}

fn session_cookie(value: &str, max_age: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    login: String,
    return_to: String,
    error: Option<String>,
}

fn sign_in_page(
    status: StatusCode,
    login: String,
    return_to: String,
    error: Option<String>,
) -> WebResult<HttpResponse> {
    sign_in_page_with(status, login, return_to, error, None)
}

fn sign_in_page_with(
    status: StatusCode,
    login: String,
    return_to: String,
    error: Option<String>,
    flash: Option<&'static str>,
) -> WebResult<HttpResponse> {
    let page =
        SignInPage { chrome: Chrome { flash, ..Chrome::anonymous("Sign in") }, login, return_to, error };
    view::render_with(status, &page)
}

/// `GET /`: the dashboard when signed in, else the sign-in page.
pub async fn root(viewer: MaybeViewer) -> HttpResponse {
    match viewer.0 {
        Some(_) => view::see_other("/dashboard/projects"),
        None => view::see_other("/users/sign_in"),
    }
}

/// `GET /users/sign_in`
pub async fn sign_in_form(req: HttpRequest, viewer: MaybeViewer) -> WebResult<HttpResponse> {
    let query = Fields::from_query(req.query_string())?;
    let return_to = view::local_path(query.get("return_to"), "/dashboard/projects");
    if viewer.0.is_some() {
        return Ok(view::see_other(&return_to));
    }
    let flash = view::flash_message(query.get("flash"));
    sign_in_page_with(StatusCode::OK, String::new(), return_to, None, flash)
}

/// An argon2id hash no password matches, verified when the login names no user, so an unknown
/// login costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        auth::hash_password("triggerd: no such user").unwrap_or_else(|_| {
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8Lf2Q3kq3M6p3p3wRZsYGm0bX5l8o8p0t1Xw7i4bF2U".into()
        })
    })
}

/// `POST /users/sign_in`: `login` (username or e-mail) and `password`. Failures are counted
/// per client address; past `web.max_failed_sign_ins` within the window the address gets 429.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    web_state: web::Data<WebState>,
    body: Bytes,
) -> WebResult<HttpResponse> {
    let form = Fields::from_body(&body)?;
    let login = form.text("login").unwrap_or_default().to_string();
    let password = form.get("password").unwrap_or_default().to_string();
    let return_to = view::local_path(form.get("return_to"), "/dashboard/projects");
    let cfg = &state.config.web;
    let window = Duration::from_secs(cfg.sign_in_window_secs);
    let addr = req.peer_addr().map(|a| a.ip());
    if web_state.throttled(addr, cfg.max_failed_sign_ins, window) {
        let message = "Too many failed sign-in attempts. Try again later.".to_string();
        return sign_in_page(StatusCode::TOO_MANY_REQUESTS, login, return_to, Some(message));
    }
    if login.is_empty() || password.is_empty() || login.len() > 255 || password.len() > 1024 {
        web_state.record_failure(addr, window);
        return sign_in_page(StatusCode::UNAUTHORIZED, login, return_to, Some(INVALID_LOGIN.into()));
    }
    let wanted = login.clone();
    let found = state
        .db
        .read(move |c| {
            let user = match users::find_by_username(c, &wanted)? {
                Some(u) => Some(u),
                None if wanted.contains('@') => users::find_by_email(c, &wanted)?,
                None => None,
            };
            let Some(user) = user else { return Ok(None) };
            let hash = users::password_hash(c, user.id)?;
            Ok(Some((user, hash)))
        })
        .await?;
    let phc = found.as_ref().and_then(|(_, h)| h.clone()).unwrap_or_else(|| dummy_hash().to_string());
    let permit = state
        .password_hashes
        .acquire()
        .await
        .map_err(|_| WebError::Internal("password hashing closed".into()))?;
    let matches = db::blocking(move || Ok(auth::verify_password(&password, &phc))).await?;
    drop(permit);
    let user = match found {
        Some((user, Some(_))) if matches && user.is_active() => user,
        _ => {
            web_state.record_failure(addr, window);
            log::info!("failed web sign-in");
            return sign_in_page(StatusCode::UNAUTHORIZED, login, return_to, Some(INVALID_LOGIN.into()));
        }
    };
    web_state.forget(addr);
    let secret = auth::new_session_secret()?;
    let digest = auth::digest(&secret);
    let ttl = cfg.session_ttl_secs;
    let now = time::OffsetDateTime::now_utc();
    let expires = now.saturating_add(time::Duration::seconds(i64::try_from(ttl).unwrap_or(i64::MAX)));
    let (now, expires) = (model::format_ts(now), model::format_ts(expires));
    let user_id = user.id;
    state
        .db
        .write(move |c| {
            web_sessions::purge_expired(c, &now)?;
            Ok(web_sessions::insert(c, user_id, &digest, &now, &expires)?)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, return_to))
        .insert_header((header::SET_COOKIE, session_cookie(&secret, ttl, secure(&req, &state))))
        .finish())
}

/// `POST /users/sign_out`: ends the session (its row is deleted) and clears the cookie.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    body: Bytes,
) -> WebResult<HttpResponse> {
    if let Some(viewer) = viewer.0 {
        viewer.check_form(&Fields::from_body(&body)?)?;
        let id = viewer.session_id;
        state.db.write(move |c| Ok(web_sessions::delete(c, id)?)).await?;
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, "/users/sign_in?flash=signed_out"))
        .insert_header((header::SET_COOKIE, session_cookie("", 0, secure(&req, &state))))
        .finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_token_depends_on_the_session_secret() {
        let a = form_token(&"a".repeat(64));
        assert_eq!(a.len(), 40);
        assert_eq!(a, form_token(&"a".repeat(64)));
        assert_ne!(a, form_token(&"b".repeat(64)));
    }

    #[test]
    fn the_session_cookie_is_http_only_lax_and_secure_only_when_asked() {
        let c = session_cookie("abc", 60, false);
        assert_eq!(c, "triggerd_session=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=60");
        assert!(session_cookie("abc", 60, true).ends_with("; Secure"));
    }
}
