//! `PUT /users/:id` (admins, as in GitLab): changes a user's name, email, username, admin flag
//! and password with the rules of user creation (uniqueness, formats, lengths). A new password
//! is hashed with argon2id and ends the user's web sessions, as `triggerd set-password` does;
//! the last active admin cannot lose the flag. Renaming a user renames their namespace, so the
//! full paths of their projects change with it, as on GitLab.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::pagination;
use super::params::Params;
use super::user_fields::{check_email, check_name, check_password, check_unique_except, check_username};
use super::users::{admin_only, detailed_json, user_id};
use crate::auth::{self, Caller};
use crate::db::users::{self, UserChanges};
use crate::db::web_sessions;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// `PUT /users/:id`.
pub async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    admin_only(&caller)?;
    let id = user_id(&path)?;
    let email = params.string("email")?.map(|e| e.trim().to_string());
    let name = params.string("name")?.map(|n| n.trim().to_string());
    let username = params.string("username")?;
    let is_admin = params.bool("admin")?;
    let password = params.string("password")?;
    // Accepted and ignored: every user is confirmed, and triggerd keeps no such settings.
    params.bool("skip_reconfirmation")?;
    params.bool("can_create_group")?;
    if let Some(email) = &email {
        check_email(email)?;
    }
    if let Some(name) = &name {
        check_name(name)?;
    }
    if let Some(username) = &username {
        check_username(username)?;
    }
    let hash = match password {
        Some(pw) => {
            check_password(&pw)?;
            // The user must exist before an argon2 hash is spent on them.
            state.db.read(move |c| Ok(users::find(c, id)?)).await?.ok_or(ApiError::NotFound("User"))?;
            Some(auth::hash_password_async(&state, pw).await?)
        }
        None => None,
    };
    let actor = caller.user.id;
    let user = state
        .db
        .write(move |c| {
            if !users::is_active_admin(c, actor)? {
                return Err(ApiError::forbidden());
            }
            let current = users::find(c, id)?.ok_or(ApiError::NotFound("User"))?;
            let next = UserChanges {
                username: username.as_deref().unwrap_or(&current.username),
                name: name.as_deref().unwrap_or(&current.name),
                email: email.as_deref().unwrap_or(&current.email),
                is_admin: is_admin.unwrap_or(current.is_admin),
            };
            check_unique_except(c, next.email, next.username, Some(id))?;
            if current.is_admin
                && !next.is_admin
                && current.is_active()
                && users::count_active_admins_except(c, id)? == 0
            {
                return Err(ApiError::Forbidden(Some("cannot remove the last active admin".into())));
            }
            users::update(c, id, &next).map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    ApiError::message(StatusCode::CONFLICT, "Username has already been taken")
                } else {
                    e.into()
                }
            })?;
            if let Some(hash) = &hash {
                users::set_password_hash(c, id, hash)?;
                web_sessions::delete_for_user(c, id)?;
            }
            users::find(c, id)?.ok_or(ApiError::NotFound("User"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(detailed_json(&user, &pagination::base_url(&req, &state))))
}
