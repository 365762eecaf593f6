//! The calls a runner makes itself, authenticated by its token parameter (GitLab's
//! `lib/api/ci/runner.rb`): registration with a project's registration token, verify,
//! unregister, deleting a manager and swapping its token.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::attributes::{Attributes, runner_info};
use super::{registration_details, store};
use crate::api::params::Params;
use crate::auth;
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// `POST /runners` — legacy registration with a project's registration token: a project runner.
/// 201 `{id, token, token_expires_at}`; an unknown token is `403 Forbidden`.
pub(super) async fn register(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let registration_token = params.required_string("token")?;
    let attributes = Attributes::from_params(&params)?;
    let info = runner_info(&params)?;
    let token = auth::new_runner_token()?;
    let mut new = attributes.into_new_runner(&token, info)?;
    new.runner_type = "project_type".into();
    new.registration_type = "registration_token".into();
    let runner = state
        .db
        .write(move |c| {
            let Some(project_id) = store::project_for_registration_token(c, &registration_token)? else {
                return Err(ApiError::forbidden());
            };
            let mut new = new.clone();
            new.project_id = Some(project_id);
            Ok(store::insert(c, &new, &model::now())?)
        })
        .await?;
    log::info!("registered runner {} with a project registration token", runner.id);
    Ok(HttpResponse::Created().json(registration_details(runner.id, &token)))
}

/// `POST /runners/verify` — 200 `{id, token, token_expires_at}` for a valid runner token
/// (recording the contact), 403 otherwise.
pub(super) async fn verify(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let _system_id = params.string("system_id")?;
    let info = runner_info(&params)?;
    let presented = token.clone();
    let runner = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &presented)? else { return Ok(None) };
            store::touch_contacted(c, runner.id, &model::now())?;
            store::record_info(c, runner.id, &info)?;
            Ok(Some(runner))
        })
        .await?
        .ok_or_else(ApiError::forbidden)?;
    Ok(HttpResponse::Ok().json(registration_details(runner.id, &token)))
}

/// `DELETE /runners` — the runner deletes itself with its token: 204, or 403.
pub(super) async fn unregister(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let token = params.required_string("token")?;
    let id = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &token)? else { return Err(ApiError::forbidden()) };
            store::delete(c, runner.id)?;
            Ok(runner.id)
        })
        .await?;
    log::info!("runner {id} unregistered itself");
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// `DELETE /runners/managers` — triggerd keeps no runner managers, so for a valid token there is
/// nothing to delete: 204; an unknown token is 403.
pub(super) async fn delete_manager(state: web::Data<AppState>, params: Params) -> ApiResult<HttpResponse> {
    let [token, _system_id] = params.required_strings(["token", "system_id"])?;
    state.db.read(move |c| Ok(store::authenticate(c, &token)?)).await?.ok_or_else(ApiError::forbidden)?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}

/// `POST /runners/reset_authentication_token` — the runner swaps its token for a new one: 201
/// `{token, token_expires_at}`; the old token stops working. An unknown token is 403.
pub(super) async fn reset_token_with_token(
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let old = params.required_string("token")?;
    let token = auth::new_runner_token()?;
    let (digest, short) = (auth::digest(&token), auth::runner_short_token(&token));
    let id = state
        .db
        .write(move |c| {
            let Some(runner) = store::authenticate(c, &old)? else { return Err(ApiError::forbidden()) };
            store::set_token(c, runner.id, &digest, &short)?;
            Ok(runner.id)
        })
        .await?;
    log::info!("runner {id} reset its authentication token");
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}
