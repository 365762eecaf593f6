//! GitLab's Members API for projects: list (`/members`, and `/members/all` with the members
//! inherited from the project's groups, each with their highest level), get, add, change the
//! access level of, and remove a project's members. Owns the Member JSON.
//!
//! As in GitLab, every route needs authentication (`before { authenticate! }`) and a member
//! missing under a found project is `404 {"message":"404 Not found"}` (`find_by!`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::access;
use super::entities::UserBasic;
use super::member_rules::{self, Who, access_level, check_expires_at};
use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::Caller;
use crate::db::group_members;
use crate::db::members::{self, MemberRow};
use crate::db::{projects, users};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    // `/members/all…` first, so `all` is never taken for a `:user_id`.
    r.resource("/projects/{id}/members/all", |m| m.get(list_all));
    r.resource("/projects/{id}/members/all/{user_id}", |m| m.get(show_all));
    r.resource("/projects/{id}/members", |m| m.get(list).post(create));
    r.resource("/projects/{id}/members/{user_id}", |m| m.get(show).put(update).delete(destroy));
}

const LAST_OWNER: &str = "a project must keep at least one Owner";

/// `GET /projects/:id/members/all` — direct and inherited members (from every ancestor group),
/// one row per user with their highest level.
async fn list_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    page_of(caller, req, state, path.into_inner(), params, true).await
}

/// `GET /projects/:id/members/all/:user_id` — one member, direct or inherited.
async fn show_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let user_id = access::path_id(&user_id, "user_id")?;
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    let scope = group_members::Scope::ProjectAll(pa.project.id);
    let member = state
        .db
        .read(move |c| Ok(group_members::find_in(c, scope, user_id)?))
        .await?
        .ok_or(ApiError::RecordNotFound)?;
    Ok(HttpResponse::Ok().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `GET /projects/:id/members` — the project's direct members, by user id, optionally filtered
/// by `query` (username or name), paginated.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    page_of(caller, req, state, path.into_inner(), params, false).await
}

/// A page of the project's direct members, or with `all` of its direct and inherited ones.
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
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    let pid = pa.project.id;
    let (rows, total) = state
        .db
        .read(move |c| {
            let (q, limit, offset) = (query.as_deref(), page.limit(), page.offset());
            Ok(if all {
                group_members::list(c, group_members::Scope::ProjectAll(pid), q, limit, offset)?
            } else {
                members::list(c, pid, q, limit, offset)?
            })
        })
        .await?;
    Ok(member_rules::respond_page(&req, &state, page, total, &rows))
}

/// `GET /projects/:id/members/:user_id` and `GET /projects/:id/members/all/:user_id` — one member.
async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let user_id = access::path_id(&user_id, "user_id")?;
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    let pid = pa.project.id;
    let member =
        state.db.read(move |c| Ok(members::find(c, pid, user_id)?)).await?.ok_or(ApiError::RecordNotFound)?;
    Ok(HttpResponse::Ok().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `POST /projects/:id/members` — (Maintainer+) adds a user (`user_id` or `username`) with an
/// `access_level`; only Owners and admins may add an Owner.
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
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Maintainer)?;
    let may_grant_owner = pa.at_least(AccessLevel::Owner);
    let pid = pa.project.id;
    let member = state
        .db
        .write(move |c| {
            let user = users::find_by_id_or_username(c, who.id, who.username.as_deref())?
                .ok_or(ApiError::NotFound("User"))?;
            if members::find(c, pid, user.id)?.is_some() {
                return Err(member_rules::already_exists());
            }
            if level == AccessLevel::Owner as i64 && !may_grant_owner {
                return Err(ApiError::forbidden());
            }
            members::insert(c, pid, user.id, level, &model::now())
                .map_err(crate::error::conflict(member_rules::ALREADY_EXISTS))?;
            members::find(c, pid, user.id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    Ok(HttpResponse::Created().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `PUT /projects/:id/members/:user_id` — (Maintainer+) changes a member's `access_level`; only
/// Owners and admins may make or change an Owner, and the last Owner cannot be demoted.
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
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    let pid = pa.project.id;
    let me = caller.user.id;
    let member = state
        .db
        .write(move |c| {
            let target = members::find(c, pid, user_id)?.ok_or(ApiError::RecordNotFound)?;
            let rights = Rights::current(c, pid, me)?;
            let owner = AccessLevel::Owner as i64;
            if !rights.maintainer || ((target.access_level == owner || level == owner) && !rights.owner) {
                return Err(ApiError::forbidden());
            }
            if target.access_level == owner && level != owner && members::owner_count(c, pid)? <= 1 {
                return Err(ApiError::Forbidden(Some(LAST_OWNER.into())));
            }
            if target.access_level != level {
                members::set_level(c, pid, user_id, level)?;
            }
            members::find(c, pid, user_id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    Ok(HttpResponse::Ok().json(member_json(&member, &pagination::base_url(&req, &state))))
}

/// `DELETE /projects/:id/members/:user_id` — removes a member: Maintainers remove others,
/// anyone may leave; removing an Owner takes an Owner or admin, and the last Owner stays.
async fn destroy(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, user_id) = path.into_inner();
    let user_id = access::path_id(&user_id, "user_id")?;
    let pa = access::project_for(&state, Some(&caller), &id).await?;
    let me = caller.user.id;
    let is_self = me == user_id;
    let pid = pa.project.id;
    state
        .db
        .write(move |c| {
            let target = members::find(c, pid, user_id)?.ok_or(ApiError::RecordNotFound)?;
            let rights = Rights::current(c, pid, me)?;
            let target_is_owner = target.access_level == AccessLevel::Owner as i64;
            let allowed =
                if target_is_owner { rights.owner || is_self } else { rights.maintainer || is_self };
            if !allowed {
                return Err(ApiError::forbidden());
            }
            if target_is_owner && members::owner_count(c, pid)? <= 1 {
                return Err(ApiError::Forbidden(Some(LAST_OWNER.into())));
            }
            members::delete(c, pid, user_id)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What the caller may do to memberships. Read inside the write, in the same transaction as
/// the change: a caller demoted, removed or blocked by a concurrent request acts with the rights
/// they have now, not those they had when the request was authenticated.
#[derive(Clone, Copy)]
struct Rights {
    maintainer: bool,
    owner: bool,
}

impl Rights {
    fn current(c: &rusqlite::Connection, project_id: i64, user_id: i64) -> ApiResult<Rights> {
        let Some(user) = users::find(c, user_id)?.filter(|u| u.is_active()) else {
            return Ok(Rights { maintainer: false, owner: false });
        };
        let level = projects::member_level(c, project_id, user_id)?.unwrap_or(0);
        let admin = user.is_admin;
        Ok(Rights {
            maintainer: admin || level >= AccessLevel::Maintainer as i64,
            owner: admin || level >= AccessLevel::Owner as i64,
        })
    }
}

/// GitLab's Member JSON: the user's `UserBasic` fields plus the membership.
pub fn member_json(m: &MemberRow, base: &str) -> Value {
    let mut out = serde_json::to_value(UserBasic::new(&m.user, base)).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut out {
        map.insert("access_level".into(), json!(m.access_level));
        map.insert("created_at".into(), json!(m.created_at));
        map.insert("expires_at".into(), Value::Null);
        map.insert("membership_state".into(), json!("active"));
    }
    out
}
