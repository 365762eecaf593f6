//! Secrets and authentication: token generation and digests, argon2id passwords, and the
//! [`Caller`] extractor that resolves `PRIVATE-TOKEN`, `Authorization: Bearer` or `private_token`.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest, web};
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use rand::TryRngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::db::{self, tokens, users::UserRow};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// Prefix of trigger tokens (known to secret scanners).
pub const TRIGGER_TOKEN_PREFIX: &str = "glptt-";
/// Prefix of personal access tokens.
pub const PAT_PREFIX: &str = "glpat-";
/// Prefix of runner authentication tokens (GitLab's `CREATED_RUNNER_TOKEN_PREFIX`).
pub const RUNNER_TOKEN_PREFIX: &str = "glrt-";
/// Prefix of CI/CD job tokens (GitLab's `glcbt-`).
pub const JOB_TOKEN_PREFIX: &str = "glcbt-";
/// Prefix of runner registration tokens (GitLab's `RUNNERS_TOKEN_PREFIX`).
pub const RUNNER_REGISTRATION_TOKEN_PREFIX: &str = "GR1348941";

/// URL-safe alphabet of 64 characters: a random byte masked to 6 bits picks one uniformly.
const URL_SAFE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// SHA-256 of the whole token string: the lookup key stored instead of the token.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Constant-time digest comparison.
pub fn digests_match(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Fills `N` bytes from the operating system's RNG.
fn os_random<const N: usize>() -> ApiResult<[u8; N]> {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| ApiError::Internal(format!("OS random number generator: {e}")))?;
    Ok(bytes)
}

/// A new trigger token: `glptt-` + 40 lowercase hex (160 bits from the OS RNG).
pub fn new_trigger_token() -> ApiResult<String> {
    Ok(format!("{TRIGGER_TOKEN_PREFIX}{}", hex::encode(os_random::<20>()?)))
}

/// The 4-character short form shown on every read after creation.
pub fn short_token(token: &str) -> String {
    token.strip_prefix(TRIGGER_TOKEN_PREFIX).unwrap_or(token).chars().take(4).collect()
}

/// A new personal access token: `glpat-` + 32 URL-safe characters (~190 bits).
pub fn new_personal_access_token() -> ApiResult<String> {
    Ok(format!("{PAT_PREFIX}{}", url_safe::<32>()?))
}

/// `N` URL-safe characters from the OS RNG (6 bits each).
fn url_safe<const N: usize>() -> ApiResult<String> {
    Ok(os_random::<N>()?.iter().map(|b| URL_SAFE[(*b & 63) as usize] as char).collect())
}

/// A new runner authentication token: `glrt-` + 32 URL-safe characters (192 bits).
pub fn new_runner_token() -> ApiResult<String> {
    Ok(format!("{RUNNER_TOKEN_PREFIX}{}", url_safe::<32>()?))
}

/// A new CI/CD job token: `glcbt-` + 32 URL-safe characters (192 bits), valid while its job runs.
pub fn new_job_token() -> ApiResult<String> {
    Ok(format!("{JOB_TOKEN_PREFIX}{}", url_safe::<32>()?))
}

/// A new web UI session secret (the cookie's value): 64 lowercase hex (256 bits). Only its
/// [`digest`] is stored.
pub fn new_session_secret() -> ApiResult<String> {
    Ok(hex::encode(os_random::<32>()?))
}

/// A one-time form nonce: 32 lowercase hex (128 bits).
pub fn new_nonce() -> ApiResult<String> {
    Ok(hex::encode(os_random::<16>()?))
}

/// The 8 characters after `glrt-` a runner keeps for display (GitLab's `short_sha`).
pub fn runner_short_token(token: &str) -> String {
    token.strip_prefix(RUNNER_TOKEN_PREFIX).unwrap_or(token).chars().take(8).collect()
}

/// A new project runner registration token: `GR1348941` + 20 URL-safe characters (120 bits).
pub fn new_runner_registration_token() -> ApiResult<String> {
    Ok(format!("{RUNNER_REGISTRATION_TOKEN_PREFIX}{}", url_safe::<20>()?))
}

/// Hashes a password with argon2id (blocking: call through [`hash_password_async`] on requests).
pub fn hash_password(password: &str) -> ApiResult<String> {
    let salt =
        SaltString::encode_b64(&os_random::<16>()?).map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
}

/// Verifies a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Hashes off the executor, at most `limits.max_concurrent_password_hashes` at once.
pub async fn hash_password_async(state: &AppState, password: String) -> ApiResult<String> {
    let _permit = state
        .password_hashes
        .acquire()
        .await
        .map_err(|_| ApiError::Internal("password hashing closed".into()))?;
    db::blocking(move || hash_password(&password)).await
}

/// An authenticated caller: the user and the scopes of the token used.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: UserRow,
    pub scopes: Vec<String>,
    /// The personal access token this request authenticated with (0 for a CI/CD job token).
    pub token_id: i64,
    /// Set when a running job's CI/CD job token authenticated the request (as the job's user,
    /// on the read routes GitLab opens to job tokens only).
    pub job: Option<JobCaller>,
}

/// The job whose token authenticated a request.
#[derive(Debug, Clone, Copy)]
pub struct JobCaller {
    pub job_id: i64,
    pub project_id: i64,
}

/// The read routes GitLab opens to CI/CD job tokens (`job_token_allowed`) that triggerd has;
/// anywhere else a job token is no credential at all.
const JOB_TOKEN_ROUTES: &[&str] = &[
    "/api/v4/projects/{id}/pipelines",
    "/api/v4/projects/{id}/pipelines/latest",
    "/api/v4/projects/{id}/pipelines/{pipeline_id}",
    "/api/v4/projects/{id}/pipelines/{pipeline_id}/jobs",
    "/api/v4/projects/{id}/pipelines/{pipeline_id}/bridges",
    "/api/v4/projects/{id}/jobs",
    "/api/v4/projects/{id}/jobs/{job_id}",
    "/api/v4/projects/{id}/jobs/{job_id}/trace",
];

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.user.is_admin
    }
}

/// The caller when credentials were sent, `None` for an anonymous request. Invalid credentials
/// are an error even where anonymous access is allowed (GitLab does the same).
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

/// The credential a request carries, if any: `PRIVATE-TOKEN`, `Authorization: Bearer`, or the
/// `private_token` / `access_token` query parameter. Empty values count as absent.
fn presented_token(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    };
    if let Some(t) = header("private-token") {
        return Some(t.to_string());
    }
    if let Some(auth) = header("authorization") {
        let mut parts = auth.splitn(2, ' ');
        if parts.next().is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
            && let Some(t) = parts.next().map(str::trim).filter(|t| !t.is_empty())
        {
            return Some(t.to_string());
        }
    }
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, v)| (k == "private_token" || k == "access_token") && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// A CI/CD job token on a read route open to job tokens: the `JOB-TOKEN` header, the `job_token`
/// query parameter, or HTTP Basic with the user `gitlab-ci-token`.
fn presented_job_token(req: &HttpRequest) -> Option<String> {
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if !readable || !req.match_pattern().is_some_and(|p| JOB_TOKEN_ROUTES.contains(&p.as_str())) {
        return None;
    }
    job_token_of(req)
}

/// A CI/CD job token in the `JOB-TOKEN` header, HTTP Basic as `gitlab-ci-token`, or the
/// `job_token` query parameter, wherever the route.
pub fn job_token_of(req: &HttpRequest) -> Option<String> {
    let header = |name: &str| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
    };
    if let Some(t) = header("job-token") {
        return Some(t.to_string());
    }
    if let Some(encoded) = header("authorization").and_then(|a| a.strip_prefix("Basic "))
        && let Some(decoded) = basic_credentials(encoded.trim())
        && let Some(("gitlab-ci-token", password)) = decoded.split_once(':')
    {
        return Some(password.to_string());
    }
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, v)| k == "job_token" && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// Decodes HTTP Basic credentials (standard base64 of `user:password`).
pub fn basic_credentials(encoded: &str) -> Option<String> {
    crate::base64::base64_decode(encoded).and_then(|b| String::from_utf8(b).ok())
}

fn app_state(req: &HttpRequest) -> ApiResult<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("application state missing".into()))
}

/// The job a CI/CD job token names, whatever its status (a finished job's token still names it).
pub async fn job_of_token(state: &AppState, token: &str) -> ApiResult<Option<db::jobs::JobRow>> {
    let wanted = digest(token);
    state.db.read(move |c| job_of_digest(c, &wanted)).await
}

fn job_of_digest(c: &db::Connection, wanted: &[u8]) -> ApiResult<Option<db::jobs::JobRow>> {
    let Some(id) = db::job_tokens::job_id_by_token_digest(c, wanted)? else { return Ok(None) };
    Ok(db::jobs::find_by_id(c, id)?)
}

/// The credential a request presents, read from its headers and query string only: resolving it
/// is [`resolve_in`], inside whatever read the request makes first.
#[derive(Debug, Clone)]
pub struct Presented {
    credential: Credential,
    /// GET or HEAD: a `read_api` token may be used.
    reading: bool,
}

#[derive(Debug, Clone)]
enum Credential {
    Nothing,
    /// A personal access token's digest.
    Personal(Vec<u8>),
    /// A CI/CD job token's digest (on a route open to job tokens).
    Job(Vec<u8>),
}

impl Presented {
    pub fn of(req: &HttpRequest) -> Presented {
        let credential = match presented_token(req) {
            Some(token) => Credential::Personal(digest(&token)),
            None => match presented_job_token(req) {
                Some(token) => Credential::Job(digest(&token)),
                None => Credential::Nothing,
            },
        };
        Presented { credential, reading: req.method() == Method::GET || req.method() == Method::HEAD }
    }
}

/// A resolved credential: the caller, and whether its token's last use is due to be recorded.
#[derive(Debug)]
pub struct Resolved {
    caller: Caller,
    stale: bool,
}

impl Resolved {
    pub fn caller(&self) -> &Caller {
        &self.caller
    }
}

/// Resolves a presented credential on a read connection: every check that needs the token's or
/// the job's row (unknown, revoked or expired token, job no longer running, blocked user, a
/// `read_api` token on a write). `Ok(None)` when no credential was presented. It reads the rows
/// at once, so a revocation or a block committed before the request's read refuses it.
pub fn resolve_in(c: &db::Connection, presented: &Presented) -> ApiResult<Option<Resolved>> {
    match &presented.credential {
        Credential::Nothing => Ok(None),
        Credential::Job(wanted) => {
            let found = job_of_digest(c, wanted)?;
            let Some(job) = found.filter(|j| j.status == "running") else {
                return Err(ApiError::Unauthorized);
            };
            let Some(user) = job.user.filter(UserRow::is_active) else { return Err(ApiError::Unauthorized) };
            let job = Some(JobCaller { job_id: job.id, project_id: job.project_id });
            let caller = Caller { user, scopes: vec!["read_api".into()], token_id: 0, job };
            Ok(Some(Resolved { caller, stale: false }))
        }
        Credential::Personal(wanted) => resolve_personal(c, wanted, presented.reading).map(Some),
    }
}

fn resolve_personal(c: &db::Connection, wanted: &[u8], reading: bool) -> ApiResult<Resolved> {
    let Some((tok, user)) = tokens::find_by_digest(c, wanted)? else {
        log::warn!("rejected an unknown personal access token");
        return Err(ApiError::Unauthorized);
    };
    if !digests_match(&tok.digest, wanted) {
        return Err(ApiError::Unauthorized);
    }
    if tok.revoked {
        return Err(ApiError::InvalidToken("Token was revoked. You have to re-authorize from the user."));
    }
    let today = model::format_date(model::today());
    if tok.expires_at.as_deref().is_some_and(|e| e <= today.as_str()) {
        return Err(ApiError::InvalidToken(
            "Token is expired. You can either do re-authorization or token refresh.",
        ));
    }
    if !user.is_active() {
        return Err(ApiError::Unauthorized);
    }
    let read_only = !tok.scopes.iter().any(|s| s == "api");
    if read_only && !reading {
        return Err(ApiError::InsufficientScope);
    }
    // GitLab records last use at most every 10 minutes; so do we.
    let stale = tok
        .last_used_at
        .as_deref()
        .and_then(model::parse_stored)
        .is_none_or(|t| time::OffsetDateTime::now_utc() - t > time::Duration::minutes(10));
    Ok(Resolved { caller: Caller { user, scopes: tok.scopes, token_id: tok.id, job: None }, stale })
}

/// The caller of a resolved credential, recording its token's use when due without delaying the
/// request.
pub fn record_use(state: &AppState, resolved: Resolved) -> Caller {
    if resolved.stale {
        let (db, id) = (state.db.clone(), resolved.caller.token_id);
        actix_web::rt::spawn(async move {
            let now = model::now();
            if let Err(e) = db.write(move |c| Ok(tokens::touch(c, id, &now)?)).await {
                log::debug!("could not record token use: {e}");
            }
        });
    }
    resolved.caller
}

async fn resolve(req: HttpRequest) -> ApiResult<Option<Caller>> {
    let presented = Presented::of(&req);
    if matches!(presented.credential, Credential::Nothing) {
        return Ok(None);
    }
    let state = app_state(&req)?;
    let resolved = state.db.read_short(move |c| resolve_in(c, &presented)).await?;
    Ok(resolved.map(|r| record_use(&state, r)))
}

impl FromRequest for MaybeCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await.map(MaybeCaller) })
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { resolve(req).await?.ok_or(ApiError::Unauthorized) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_tokens_have_the_glptt_prefix_and_160_bits_of_hex() {
        let t = new_trigger_token().unwrap();
        assert!(t.starts_with("glptt-"));
        assert_eq!(t.len(), 46);
        assert!(t[6..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(t, new_trigger_token().unwrap());
    }

    #[test]
    fn the_short_token_is_four_characters_after_the_prefix() {
        assert_eq!(short_token("glptt-1a2b3c4d"), "1a2b");
        assert_eq!(short_token("12345678"), "1234");
    }

    #[test]
    fn personal_access_tokens_are_url_safe() {
        let t = new_personal_access_token().unwrap();
        assert!(t.starts_with("glpat-") && t.len() >= 26);
        assert!(t[6..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn runner_tokens_are_glrt_plus_32_url_safe_characters_and_registration_tokens_gr1348941_plus_20() {
        let t = new_runner_token().unwrap();
        assert!(t.starts_with("glrt-") && t.len() == 37, "{t}");
        assert!(t[5..].chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(t, new_runner_token().unwrap());
        assert_eq!(runner_short_token(&t), &t[5..13]);
        let r = new_runner_registration_token().unwrap();
        assert!(r.starts_with("GR1348941") && r.len() == 29, "{r}");
        assert_ne!(r, new_runner_registration_token().unwrap());
    }

    #[test]
    fn passwords_verify_against_their_argon2id_hash_only() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
    }
}
