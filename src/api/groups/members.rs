//! GitLab's Members API for groups: list (`/members`, and `/members/all` with the members
//! inherited from ancestor groups), get, add, change and remove a group's members. Reading
//! needs a caller who can see the group; changing needs Owner (GitLab's `admin_group_member`).
//! A top-level group keeps at least one Owner.

use actix_web::{HttpRequest, HttpResponse, web};

use super::group_for;
use crate::api::access;
use crate::api::member_rules::{self, Who, access_level, check_expires_at};
use crate::api::members::member_json;
use crate::api::pagination::{self, Page};
use crate::api::params::Params;
use crate::auth::Caller;
use crate::db::group_members::{self, Scope};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut crate::api::Routes) {
    r.resource("/groups/{id}/members/all", |m| m.get(list_all));
    r.resource("/groups/{id}/members/all/{user_id}", |m| m.get(show_all));
    r.resource("/groups/{id}/members", |m| m.get(list).post(create));
    r.resource("/groups/{id}/members/{user_id}", |m| m.get(show).put(update).delete(destroy));
}

const LAST_OWNER: &str = "a top-level group must keep at least one Owner";

async fn page_of(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    params: Params,
    all: bool,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let query = params.string("query")?.filter(|q| !q.is_empty());
    let ga = group_for(&state, Some(&caller), &id).await?;
    let scope = if all { Scope::GroupAll(ga.group.id) } else { Scope::Group(ga.group.id) };
    let (rows, total) = state
        .db
        .read(move |c| Ok(group_members::list(c, scope, query.as_deref(), page.limit(), page.offset())?))
        .await?;
    Ok(member_rules::respond_page(&req, &state, page, total, &rows))
}

/// `GET /groups/:id/members` — the group's direct members, by user id.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    page_of(caller, req, state, path.into_inner(), params, false).await
}

/// `GET /groups/:id/members/all` — direct and inherited members, each with their highest level.
async fn list_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    page_of(caller, req, state, path.into_inner(), params, true).await
}

async fn one(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    user: String,
    all: bool,
) -> ApiResult<HttpResponse> {
    let user_id = access::path_id(&user, "user_id")?;
    let ga = group_for(&state, Some(&caller), &id).await?;
    let gid = ga.group.id;
    let member = state
        .db
        .read(move |c| {
            if all {
                Ok(group_members::find_in(c, Scope::GroupAll(gid), user_id)?)
            } else {
                Ok(group_members::find(c, gid, user_id)?)
            }
        })
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    Ok(HttpResponse::Ok().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `GET /groups/:id/members/:user_id` — one direct member.
async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user) = path.into_inner();
    one(caller, req, state, id, user, false).await
}

/// `GET /groups/:id/members/all/:user_id` — one member, direct or inherited.
async fn show_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user) = path.into_inner();
    one(caller, req, state, id, user, true).await
}

/// The caller's right to manage the group's members, read inside the write (a caller demoted
/// meanwhile acts with the rights they have now).
fn require_owner(c: &rusqlite::Connection, group_id: i64, user_id: i64) -> ApiResult<()> {
    let Some(user) = users::find(c, user_id)?.filter(|u| u.is_active()) else {
        return Err(ApiError::forbidden());
    };
    let level = crate::db::access::group_level(c, group_id, user_id)?.unwrap_or(0);
    if user.is_admin || level >= AccessLevel::Owner as i64 { Ok(()) } else { Err(ApiError::forbidden()) }
}

/// Refuses to take away the last direct Owner of a top-level group.
fn keep_an_owner(c: &rusqlite::Connection, group_id: i64, target_level: i64) -> ApiResult<()> {
    let top_level = crate::db::namespaces::find(c, group_id)?.is_some_and(|g| g.parent_id.is_none());
    if top_level && target_level == AccessLevel::Owner as i64 && group_members::owner_count(c, group_id)? <= 1
    {
        return Err(ApiError::Forbidden(Some(LAST_OWNER.into())));
    }
    Ok(())
}

/// `POST /groups/:id/members` — (Owner) adds a user (`user_id` or `username`) at `access_level`.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let level = access_level(&params)?;
    let who = Who::from_params(&params)?;
    check_expires_at(&params)?;
    let ga = group_for(&state, Some(&caller), &path.into_inner()).await?;
    let (gid, me) = (ga.group.id, caller.user.id);
    let member = state
        .db
        .write(move |c| {
            require_owner(c, gid, me)?;
            let user = users::find_by_id_or_username(c, who.id, who.username.as_deref())?
                .ok_or(ApiError::NotFound("User"))?;
            group_members::insert(c, gid, user.id, level, &model::now())
                .map_err(crate::error::conflict(member_rules::ALREADY_EXISTS))?;
            group_members::find(c, gid, user.id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    Ok(HttpResponse::Created().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `PUT /groups/:id/members/:user_id` — (Owner) changes a direct member's `access_level`.
async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let user_id = access::path_id(&user_id, "user_id")?;
    let level = access_level(&params)?;
    check_expires_at(&params)?;
    let ga = group_for(&state, Some(&caller), &id).await?;
    let (gid, me) = (ga.group.id, caller.user.id);
    let member = state
        .db
        .write(move |c| {
            let target = group_members::find(c, gid, user_id)?.ok_or(ApiError::RecordNotFound)?;
            require_owner(c, gid, me)?;
            if level != AccessLevel::Owner as i64 {
                keep_an_owner(c, gid, target.access_level)?;
            }
            group_members::set_level(c, gid, user_id, level)?;
            group_members::find(c, gid, user_id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `DELETE /groups/:id/members/:user_id` — (Owner, or the member leaving) removes a direct member.
async fn destroy(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let user_id = access::path_id(&user_id, "user_id")?;
    let ga = group_for(&state, Some(&caller), &id).await?;
    let (gid, me) = (ga.group.id, caller.user.id);
    state
        .db
        .write(move |c| {
            let target = group_members::find(c, gid, user_id)?.ok_or(ApiError::RecordNotFound)?;
            if user_id != me {
                require_owner(c, gid, me)?;
            }
            keep_an_owner(c, gid, target.access_level)?;
            group_members::delete(c, gid, user_id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
