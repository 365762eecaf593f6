//! Users: a subset of GitLab's Users API — the current user, listing and reading users, and the
//! admin-only create, edit (`user_update.rs`), block, unblock and delete.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::entities::UserBasic;
use super::pagination::{self, Page};
use super::params::Params;
use super::user_fields::{check_email, check_name, check_password, check_unique, check_username};
use crate::auth::{self, Caller};
use crate::db::users::{self, AdminChange, NewUser, UserRow};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/user", |m| m.get(current));
    r.resource("/users", |m| m.get(list).post(create));
    r.resource("/users/{id}", |m| m.get(show).put(super::user_update::update).delete(delete));
    r.resource("/users/{id}/block", |m| m.post(block));
    r.resource("/users/{id}/unblock", |m| m.post(unblock));
}

/// GitLab's `UserBasic`, as everyone may see any user.
fn basic_json(u: &UserRow, base: &str) -> Value {
    serde_json::to_value(UserBasic::new(u, base)).unwrap_or(Value::Null)
}

/// The detailed view a user gets of themself and an admin of everyone (GitLab's `UserPublic` /
/// `UserWithAdmin`), with the profile fields triggerd does not keep at their GitLab defaults.
pub fn detailed_json(u: &UserRow, base: &str) -> Value {
    let mut v = basic_json(u, base);
    if let Value::Object(m) = &mut v {
        let extra = json!({
            "created_at": u.created_at,
            "bio": "",
            "location": null,
            "public_email": null,
            "skype": "",
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": null,
            "job_title": "",
            "pronouns": null,
            "bot": false,
            "work_information": null,
            "followers": 0,
            "following": 0,
            "is_followed": false,
            "local_time": null,
            "last_sign_in_at": null,
            "confirmed_at": u.created_at,
            "last_activity_on": null,
            "email": u.email,
            "theme_id": 1,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "current_sign_in_at": null,
            "identities": [],
            "can_create_group": false,
            "can_create_project": true,
            "two_factor_enabled": false,
            "external": false,
            "private_profile": false,
            "commit_email": u.email,
            "is_admin": u.is_admin,
            "namespace_id": u.id,
            "note": null,
        });
        if let Value::Object(e) = extra {
            m.extend(e);
        }
    }
    v
}

/// The view `viewer` gets of `u`: detailed for themself and for admins, `UserBasic` otherwise.
fn view_json(viewer: &Caller, u: &UserRow, base: &str) -> Value {
    if viewer.is_admin() || viewer.user.id == u.id { detailed_json(u, base) } else { basic_json(u, base) }
}

pub(super) fn admin_only(caller: &Caller) -> ApiResult<()> {
    if caller.is_admin() { Ok(()) } else { Err(ApiError::forbidden()) }
}

pub(super) fn user_id(raw: &str) -> ApiResult<i64> {
    super::access::path_id(raw, "id")
}

/// `GET /user`: the authenticated user.
async fn current(caller: Caller, req: HttpRequest, state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Ok().json(detailed_json(&caller.user, &base)))
}

/// `GET /users`: users ordered by id; filters `username` (exact, case-insensitive), `search`
/// (username or name; also e-mail for admins), `active`, `blocked`.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let username = params.string("username")?;
    let search = params.string("search")?.filter(|s| !s.is_empty());
    let active = params.bool("active")?.unwrap_or(false);
    let blocked = params.bool("blocked")?.unwrap_or(false);
    // E-mail addresses are private: only admins may find users by them (as in GitLab).
    let search_email = caller.is_admin();
    let (rows, total) = state
        .db
        .read(move |c| {
            Ok(users::list(
                c,
                username.as_deref(),
                search.as_deref(),
                search_email,
                active,
                blocked,
                page.limit(),
                page.offset(),
            )?)
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> = rows
        .iter()
        .map(|u| if caller.is_admin() { detailed_json(u, &base) } else { basic_json(u, &base) })
        .collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `GET /users/:id`.
async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let id = user_id(&path)?;
    let user = state.db.read(move |c| Ok(users::find(c, id)?)).await?.ok_or(ApiError::NotFound("User"))?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Ok().json(view_json(&caller, &user, &base)))
}

/// `POST /users` (admins): creates a user. `201` with the admin view.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    admin_only(&caller)?;
    // Grape reports every missing required parameter at once, in declaration order.
    let email = params.string("email")?;
    let password = params.string("password")?;
    let reset_password = params.bool("reset_password")?.unwrap_or(false);
    let force_random = params.bool("force_random_password")?.unwrap_or(false);
    let name = params.string("name")?;
    let username = params.string("username")?;
    let is_admin = params.bool("admin")?.unwrap_or(false);
    params.bool("skip_confirmation")?; // accepted and ignored: every user is confirmed
    let mut missing = Vec::new();
    if email.is_none() {
        missing.push("email is missing".to_string());
    }
    if password.is_none() && !reset_password && !force_random {
        missing.push(
            "password, reset_password, force_random_password are missing, at least one parameter must be provided"
                .to_string(),
        );
    }
    if name.is_none() {
        missing.push("name is missing".to_string());
    }
    if username.is_none() {
        missing.push("username is missing".to_string());
    }
    let (Some(email), Some(name), Some(username)) = (email, name, username) else {
        return Err(ApiError::Param(missing.join(", ")));
    };
    if !missing.is_empty() {
        return Err(ApiError::Param(missing.join(", ")));
    }
    let email = email.trim().to_string();
    let name = name.trim().to_string();

    check_email(&email)?;
    check_name(&name)?;
    check_username(&username)?;
    // reset_password / force_random_password: no usable password (sign-in is by token only).
    let password_hash = match password {
        Some(pw) => {
            check_password(&pw)?;
            // Cheap uniqueness pre-check so a duplicate does not cost an argon2 hash; the write
            // below checks again atomically.
            let (e, u) = (email.clone(), username.clone());
            state.db.read(move |c| check_unique(c, &e, &u)).await?;
            Some(auth::hash_password_async(&state, pw).await?)
        }
        None => None,
    };
    let now = model::now();
    let user = state
        .db
        .write(move |c| {
            check_unique(c, &email, &username)?;
            let new = NewUser {
                username: &username,
                name: &name,
                email: &email,
                password_hash: password_hash.as_deref(),
                is_admin,
            };
            users::insert(c, &new, &now).map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    ApiError::message(StatusCode::CONFLICT, "Username has already been taken")
                } else {
                    e.into()
                }
            })
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(detailed_json(&user, &base)))
}

/// Sets a user's state for block/unblock: `201 true`. The rules that depend on other rows (the
/// caller is still an active admin, an active admin remains) are checked inside the write.
async fn set_state(
    caller: Caller,
    state: web::Data<AppState>,
    raw_id: &str,
    to: &'static str,
) -> ApiResult<HttpResponse> {
    admin_only(&caller)?;
    let id = user_id(raw_id)?;
    if to == "blocked" && id == caller.user.id {
        return Err(ApiError::Forbidden(Some("you cannot block yourself".into())));
    }
    let actor = caller.user.id;
    let change = state.db.write(move |c| Ok(users::set_state_as(c, actor, id, to)?)).await?;
    admin_change(change, "cannot block the last active admin")?;
    Ok(HttpResponse::Created().json(true))
}

/// Maps a refused [`AdminChange`] to GitLab's error; `last_admin` is the reason for a 403 when
/// the change would leave no active admin.
fn admin_change(change: AdminChange, last_admin: &str) -> ApiResult<()> {
    match change {
        AdminChange::Done => Ok(()),
        AdminChange::ActorNotAdmin => Err(ApiError::forbidden()),
        AdminChange::NoSuchUser => Err(ApiError::NotFound("User")),
        AdminChange::LastActiveAdmin => Err(ApiError::Forbidden(Some(last_admin.into()))),
        AdminChange::SoleGroupOwner(group) => Err(ApiError::message(
            StatusCode::CONFLICT,
            format!("User cannot be removed while is the sole-owner of a group ({group})"),
        )),
        AdminChange::SoleOwner(project) => Err(ApiError::message(
            StatusCode::CONFLICT,
            format!("User cannot be removed while is the sole-owner of a project ({project})"),
        )),
    }
}

/// `POST /users/:id/block` (admins): the user's tokens stop working.
async fn block(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    set_state(caller, state, &path, "blocked").await
}

/// `POST /users/:id/unblock` (admins).
async fn unblock(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    set_state(caller, state, &path, "active").await
}

/// `DELETE /users/:id` (admins): deletes the user with their personal projects, memberships,
/// tokens and triggers; the last active admin cannot be deleted, nor the only Owner of a
/// project outside their namespace (`409`, as GitLab refuses the sole owner of a group).
async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    admin_only(&caller)?;
    let id = user_id(&path)?;
    let actor = caller.user.id;
    let change = state.db.write(move |c| Ok(users::delete_as(c, actor, id)?)).await?;
    admin_change(change, "cannot delete the last admin")?;
    Ok(HttpResponse::NoContent().finish())
}
