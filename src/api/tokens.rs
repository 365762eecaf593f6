//! Personal access tokens: GitLab's admin create (`POST /users/:user_id/personal_access_tokens`)
//! and the Personal Access Tokens API (list, read, `self`, revoke). The secret is returned only
//! by the create call; the database keeps its SHA-256 digest.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::{self, Caller};
use crate::db::tokens::{self, NewToken, TokenFilter, TokenRow};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// The scopes triggerd knows.
pub(crate) const SCOPES: &[&str] = &["api", "read_api"];

pub fn configure(r: &mut super::Routes) {
    // `self` is registered before `{id}` so it is not read as an id.
    r.resource("/users/{user_id}/personal_access_tokens", |m| m.post(create));
    r.resource("/personal_access_tokens", |m| m.get(list));
    r.resource("/personal_access_tokens/self", |m| m.get(show_self).delete(revoke_self));
    r.resource("/personal_access_tokens/{id}", |m| m.get(show).delete(revoke));
}

fn today() -> String {
    model::format_date(model::today())
}

/// GitLab's `PersonalAccessToken` entity (never the secret).
fn token_json(t: &TokenRow, today: &str) -> Value {
    let expired = t.expires_at.as_deref().is_some_and(|e| e <= today);
    json!({
        "id": t.id,
        "name": t.name,
        "revoked": t.revoked,
        "created_at": t.created_at,
        "description": null,
        "scopes": t.scopes,
        "user_id": t.user_id,
        "last_used_at": t.last_used_at,
        "active": !t.revoked && !expired,
        "expires_at": t.expires_at,
    })
}

/// Reads `scopes`: required, each `api` or `read_api`; duplicates dropped.
pub(crate) fn scopes_param(params: &Params) -> ApiResult<Vec<String>> {
    let list = params.string_list("scopes")?.ok_or_else(|| ApiError::missing("scopes"))?;
    let mut scopes: Vec<String> = Vec::new();
    for s in list {
        let s = s.trim().to_string();
        if !SCOPES.contains(&s.as_str()) {
            return Err(ApiError::not_valid_value("scopes"));
        }
        if !scopes.contains(&s) {
            scopes.push(s);
        }
    }
    if scopes.is_empty() {
        return Err(ApiError::validation("scopes", "can't be blank"));
    }
    Ok(scopes)
}

/// `POST /users/:user_id/personal_access_tokens` (admins): `201` with the token, shown only here.
async fn create(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if !caller.is_admin() {
        return Err(ApiError::forbidden());
    }
    let user_id = super::access::path_id(&path, "user_id")?;
    // Grape reports every missing required parameter at once.
    let name = params.string("name")?;
    params.check_present(&["name", "scopes"])?;
    let name = name.unwrap_or_default().trim().to_string();
    let scopes = scopes_param(&params)?;
    let expires_at = match params.string("expires_at")?.filter(|s| !s.trim().is_empty()) {
        None => None,
        Some(raw) => {
            let date = model::parse_date(&raw).ok_or_else(|| ApiError::invalid("expires_at"))?;
            if date <= model::today() {
                return Err(ApiError::validation("expires_at", "must be in the future"));
            }
            Some(model::format_date(date))
        }
    };
    if name.is_empty() {
        return Err(ApiError::validation("name", "can't be blank"));
    }
    super::limits::TOKEN_NAME.check("name", &name)?;
    let secret = auth::new_personal_access_token()?;
    let digest = auth::digest(&secret);
    let now = model::now();
    let row = state
        .db
        .write(move |c| {
            users::find(c, user_id)?.ok_or(ApiError::NotFound("User"))?;
            let new = NewToken {
                user_id,
                name: &name,
                digest: &digest,
                scopes: &scopes,
                expires_at: expires_at.as_deref(),
            };
            Ok(tokens::insert(c, &new, &now)?)
        })
        .await?;
    let mut body = token_json(&row, &today());
    if let Value::Object(m) = &mut body {
        m.insert("token".into(), Value::String(secret));
    }
    Ok(HttpResponse::Created().json(body))
}

/// `GET /personal_access_tokens`: the caller's tokens; admins see everyone's (`user_id` narrows).
/// Filters `revoked`, `state` (`active`/`inactive`), `search`.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let requested_user = params.int("user_id")?;
    let filter = TokenFilter {
        user_id: if caller.is_admin() { requested_user } else { Some(caller.user.id) },
        revoked: params.bool("revoked")?,
        active: params.one_of("state", &["active", "inactive"])?.map(|s| s == "active"),
        search: params.string("search")?.filter(|s| !s.is_empty()),
    };
    let today = today();
    let day = today.clone();
    let (rows, total) =
        state.db.read(move |c| Ok(tokens::list(c, &filter, &day, page.limit(), page.offset())?)).await?;
    let items: Vec<Value> = rows.iter().map(|t| token_json(t, &today)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// Loads a token the caller may see (their own, or any for admins); others are `404 Not Found`.
pub(crate) async fn visible_token(caller: &Caller, state: &AppState, id: i64) -> ApiResult<TokenRow> {
    let token = state.db.read(move |c| Ok(tokens::find(c, id)?)).await?;
    match token {
        Some(t) if caller.is_admin() || t.user_id == caller.user.id => Ok(t),
        _ => Err(ApiError::NotFound("")),
    }
}

/// `GET /personal_access_tokens/:id`.
async fn show(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = super::access::path_id(&path, "id")?;
    let token = visible_token(&caller, &state, id).await?;
    Ok(HttpResponse::Ok().json(token_json(&token, &today())))
}

/// `GET /personal_access_tokens/self`: the token this request authenticated with.
async fn show_self(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let token = visible_token(&caller, &state, caller.token_id).await?;
    Ok(HttpResponse::Ok().json(token_json(&token, &today())))
}

pub(crate) async fn revoke_by_id(caller: &Caller, state: &AppState, id: i64) -> ApiResult<HttpResponse> {
    let (admin, me) = (caller.is_admin(), caller.user.id);
    state
        .db
        .write(move |c| match tokens::find(c, id)? {
            Some(t) if admin || t.user_id == me => Ok(tokens::revoke(c, id)?),
            _ => Err(ApiError::NotFound("")),
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /personal_access_tokens/:id`: revokes a token (own, or any for admins).
async fn revoke(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = super::access::path_id(&path, "id")?;
    revoke_by_id(&caller, &state, id).await
}

/// `DELETE /personal_access_tokens/self`: revokes the token this request authenticated with.
async fn revoke_self(caller: Caller, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    revoke_by_id(&caller, &state, caller.token_id).await
}
