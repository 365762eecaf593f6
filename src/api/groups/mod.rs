//! GitLab's Groups API: groups and subgroups (`GET`/`POST`/`PUT`/`DELETE /groups[/:id]`, `:id`
//! an id or a URL-encoded full path), a group's projects and subgroups, and group transfer.
//! Group members live in [`members`]. Owns the Group JSON and [`group_for`], the group
//! counterpart of `access::project_for` (404 when hidden, then 403 by role).
//!
//! Rules, as GitLab's defaults: any active user may create a top-level group; a subgroup needs
//! Maintainer in the parent; editing, transferring and deleting need Owner. A group is never
//! more visible than its parent. Deleting a group deletes its subgroups and their projects.

mod lists;
pub mod members;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::pagination;
use super::params::Params;
use super::project_fields::{Errors, description_errors, name_errors, path_errors};
use crate::auth::{Caller, MaybeCaller};
use crate::db::namespaces::{self, GroupChanges, ListFilter, MAX_DEPTH, NamespaceRow, NewGroup};
use crate::db::projects;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/groups", |m| m.get(lists::list).post(create));
    r.resource("/groups/{id}/projects", |m| m.get(lists::projects));
    r.resource("/groups/{id}/subgroups", |m| m.get(lists::subgroups));
    r.resource("/groups/{id}/transfer", |m| m.post(transfer));
    members::configure(r);
    r.resource("/groups/{id}", |m| m.get(show).put(update).delete(destroy));
}

const VISIBILITIES: &[&str] = &["private", "internal", "public"];

/// Top-level paths the web UI or GitLab's own routes use (GitLab reserves these and more): a
/// group there would shadow, or be shadowed by, those pages.
const RESERVED_TOP_LEVEL: &[&str] = &[
    "-",
    "admin",
    "api",
    "assets",
    "dashboard",
    "explore",
    "groups",
    "help",
    "oauth",
    "projects",
    "search",
    "users",
];

/// `400 {"message":{"path":["<path> is a reserved name"]}}` for a reserved top-level path.
fn reserved(path: &str, top_level: bool) -> ApiResult<()> {
    if top_level && RESERVED_TOP_LEVEL.iter().any(|r| r.eq_ignore_ascii_case(path)) {
        return Err(ApiError::validation("path", format!("{path} is a reserved name")));
    }
    Ok(())
}

/// A group as seen by one caller.
#[derive(Debug, Clone)]
pub struct GroupAccess {
    pub group: NamespaceRow,
    /// The caller's effective level (direct or through an ancestor).
    pub level: Option<AccessLevel>,
    pub admin: bool,
}

impl GroupAccess {
    pub fn at_least(&self, level: AccessLevel) -> bool {
        self.admin || self.level.is_some_and(|l| l >= level)
    }

    pub fn require(&self, level: AccessLevel) -> ApiResult<()> {
        if self.at_least(level) { Ok(()) } else { Err(ApiError::forbidden()) }
    }
}

/// Loads the group `id` (a number or a full path) if the caller can see it: `404 Group Not
/// Found` otherwise (private groups: members of it or of an ancestor, and admins).
pub async fn group_for(state: &AppState, caller: Option<&Caller>, id: &str) -> ApiResult<GroupAccess> {
    let user = caller.map(|c| c.user.id);
    let admin = caller.is_some_and(Caller::is_admin);
    let id = id.to_string();
    let (group, level) = state
        .db
        .read(move |c| {
            let Some(g) = super::namespaces::find_ref(c, &id)?.filter(NamespaceRow::is_group) else {
                return Ok(None);
            };
            let level = match user {
                Some(u) => crate::db::access::group_level(c, g.id, u)?,
                None => None,
            };
            Ok(Some((g, level)))
        })
        .await?
        .ok_or(ApiError::NotFound("Group"))?;
    let level = level.and_then(AccessLevel::from_i64);
    if !super::access::can_see(&group.visibility, caller.is_some(), admin, level.is_some()) {
        return Err(ApiError::NotFound("Group"));
    }
    Ok(GroupAccess { group, level, admin })
}

/// GitLab's Group entity.
pub fn group_json(g: &NamespaceRow, base: &str) -> Value {
    json!({
        "id": g.id,
        "web_url": super::namespaces::web_url(base, "group", &g.full_path),
        "name": g.name,
        "path": g.path,
        "description": g.description.clone().unwrap_or_default(),
        "visibility": g.visibility,
        "share_with_group_lock": false,
        "require_two_factor_authentication": false,
        "two_factor_grace_period": 48,
        "project_creation_level": "developer",
        "auto_devops_enabled": null,
        "subgroup_creation_level": "maintainer",
        "emails_disabled": null,
        "emails_enabled": true,
        "mentions_disabled": null,
        "lfs_enabled": true,
        "default_branch_protection": 2,
        "avatar_url": null,
        "request_access_enabled": true,
        "full_name": g.full_name,
        "full_path": g.full_path,
        "created_at": g.created_at,
        "parent_id": g.parent_id,
        "ldap_cn": null,
        "ldap_access": null,
        "marked_for_deletion_on": null,
    })
}

fn visibility_rank(v: &str) -> u8 {
    match v {
        "public" => 2,
        "internal" => 1,
        _ => 0,
    }
}

/// GitLab refuses a group or project more visible than the group it is in.
pub fn visibility_error(visibility: &str, parent: &NamespaceRow) -> ApiResult<()> {
    if parent.is_group() && visibility_rank(visibility) > visibility_rank(&parent.visibility) {
        return Err(ApiError::validation(
            "visibility_level",
            format!(
                "{visibility} is not allowed since the parent group has a {} visibility.",
                parent.visibility
            ),
        ));
    }
    Ok(())
}

/// `GET /groups/:id` — one group.
async fn show(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let ga = group_for(&state, caller.0.as_ref(), &path.into_inner()).await?;
    Ok(HttpResponse::Ok().json(group_json(&ga.group, &pagination::base_url(&req, &state))))
}

fn check_group_fields(name: Option<&str>, path: Option<&str>, description: Option<&str>) -> ApiResult<()> {
    let mut errors = Errors::default();
    if let Some(n) = name {
        errors.add("name", name_errors(n));
    }
    if let Some(p) = path {
        errors.add("path", path_errors(p));
    }
    if let Some(d) = description {
        errors.add("description", description_errors(d));
    }
    errors.into_result()
}

/// `POST /groups` — creates a group (`parent_id`: a subgroup); the caller becomes its Owner.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let [name, path] = params.required_strings(["name", "path"])?;
    let description = params.string("description")?;
    let visibility = params.one_of("visibility", VISIBILITIES)?;
    let parent_id = params.int("parent_id")?;
    check_group_fields(Some(&name), Some(&path), description.as_deref())?;
    let me = caller.user.id;
    let admin = caller.is_admin();
    let group = state
        .db
        .write(move |c| {
            let parent = match parent_id {
                Some(p) => {
                    let parent = namespaces::find(c, p)?
                        .filter(NamespaceRow::is_group)
                        .ok_or(ApiError::NotFound("Parent group"))?;
                    let level = crate::db::access::group_level(c, parent.id, me)?;
                    if !admin && !super::access::can_see(&parent.visibility, true, false, level.is_some()) {
                        return Err(ApiError::NotFound("Parent group"));
                    }
                    if !admin && level.unwrap_or(0) < AccessLevel::Maintainer as i64 {
                        return Err(ApiError::forbidden());
                    }
                    if namespaces::depth(c, parent.id)? >= MAX_DEPTH {
                        return Err(ApiError::BadRequest(format!(
                            "groups can be nested at most {MAX_DEPTH} levels deep"
                        )));
                    }
                    Some(parent)
                }
                None => None,
            };
            let visibility = visibility.clone().unwrap_or_else(|| match &parent {
                Some(p) => p.visibility.clone(),
                None => "private".into(),
            });
            if let Some(p) = &parent {
                visibility_error(&visibility, p)?;
            }
            reserved(&path, parent.is_none())?;
            let new = NewGroup {
                parent_id: parent.as_ref().map(|p| p.id),
                name: &name,
                path: &path,
                description: description.as_deref(),
                visibility: &visibility,
            };
            namespaces::insert_group(c, &new, me, &model::now()).map_err(crate::error::taken("path"))
        })
        .await?;
    Ok(HttpResponse::Created().json(group_json(&group, &pagination::base_url(&req, &state))))
}

/// `PUT /groups/:id` — (Owner) changes name, path, description or visibility; a new path
/// moves every project and subgroup below it with it.
async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let name = params.string("name")?;
    let new_path = params.string("path")?;
    let description = params.string("description")?;
    let visibility = params.one_of("visibility", VISIBILITIES)?;
    check_group_fields(name.as_deref(), new_path.as_deref(), description.as_deref())?;
    let ga = group_for(&state, Some(&caller), &path.into_inner()).await?;
    ga.require(AccessLevel::Owner)?;
    let id = ga.group.id;
    let group = state
        .db
        .write(move |c| {
            let current = namespaces::find(c, id)?.ok_or(ApiError::NotFound("Group"))?;
            let next_visibility = visibility.clone().unwrap_or_else(|| current.visibility.clone());
            if let Some(parent) = current.parent_id.map(|p| namespaces::find(c, p)).transpose()?.flatten() {
                visibility_error(&next_visibility, &parent)?;
            }
            // GitLab: a group cannot be less visible than what is in it.
            if visibility_rank(&next_visibility) < visibility_rank(&current.visibility)
                && more_visible_child(c, id, &next_visibility)?
            {
                return Err(ApiError::validation(
                    "visibility_level",
                    format!("{next_visibility} is not allowed since there are sub-groups or projects with a higher visibility."),
                ));
            }
            reserved(new_path.as_deref().unwrap_or(&current.path), current.parent_id.is_none())?;
            let changes = GroupChanges {
                name: name.as_deref().unwrap_or(&current.name),
                path: new_path.as_deref().unwrap_or(&current.path),
                description: description.as_deref().or(current.description.as_deref()),
                visibility: &next_visibility,
            };
            namespaces::update_group(c, id, &changes).map_err(crate::error::taken("path"))?;
            namespaces::find(c, id)?.ok_or(ApiError::NotFound("Group"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(group_json(&group, &pagination::base_url(&req, &state))))
}

/// True when a project or subgroup directly in group `id` is more visible than `visibility`.
fn more_visible_child(c: &rusqlite::Connection, id: i64, visibility: &str) -> rusqlite::Result<bool> {
    let rank = visibility_rank(visibility);
    let (groups, _) = namespaces::list(
        c,
        &ListFilter { admin: true, groups_only: true, parent_id: Some(id), ..ListFilter::default() },
        1000,
        0,
    )?;
    if groups.iter().any(|g| visibility_rank(&g.visibility) > rank) {
        return Ok(true);
    }
    for pid in projects::ids_in_namespace(c, id, 10_000)? {
        if projects::find(c, pid)?.is_some_and(|p| visibility_rank(&p.visibility) > rank) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `DELETE /groups/:id` — (Owner) deletes the group with its subgroups and every project in
/// them (GitLab does the same, after a delay on Premium); `202 Accepted`.
async fn destroy(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let ga = group_for(&state, Some(&caller), &path.into_inner()).await?;
    ga.require(AccessLevel::Owner)?;
    let id = ga.group.id;
    let deleted = state.db.write(move |c| Ok(namespaces::delete_group(c, id)?)).await?;
    if !deleted {
        return Err(ApiError::NotFound("Group"));
    }
    Ok(HttpResponse::Accepted().json(json!({"message": "202 Accepted"})))
}

/// `POST /groups/:id/transfer` — (Owner) moves the group under `group_id` (Maintainer there),
/// or to the top level without it. A move into itself or below itself, or past 20 levels, is 400.
async fn transfer(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let target = params.int("group_id")?;
    let ga = group_for(&state, Some(&caller), &path.into_inner()).await?;
    ga.require(AccessLevel::Owner)?;
    let (id, me, admin) = (ga.group.id, caller.user.id, caller.is_admin());
    let group = state
        .db
        .write(move |c| {
            let current = namespaces::find(c, id)?.ok_or(ApiError::NotFound("Group"))?;
            if let Some(t) = target {
                let parent = namespaces::find(c, t)?.filter(NamespaceRow::is_group).ok_or(ApiError::NotFound("Group"))?;
                let level = crate::db::access::group_level(c, parent.id, me)?;
                if !admin && !super::access::can_see(&parent.visibility, true, false, level.is_some()) {
                    return Err(ApiError::NotFound("Group"));
                }
                if !admin && level.unwrap_or(0) < AccessLevel::Maintainer as i64 {
                    return Err(ApiError::forbidden());
                }
                if namespaces::is_within(c, parent.id, id)? {
                    return Err(ApiError::BadRequest(
                        "Transfer failed: Cannot transfer group to one of its subgroups or to itself.".into(),
                    ));
                }
                if namespaces::depth(c, parent.id)? + namespaces::height(c, id)? > MAX_DEPTH {
                    return Err(ApiError::BadRequest(format!("groups can be nested at most {MAX_DEPTH} levels deep")));
                }
                visibility_error(&current.visibility, &parent)?;
                if current.parent_id == Some(parent.id) {
                    return Err(ApiError::BadRequest("Transfer failed: Group is already associated to the parent group.".into()));
                }
            } else if current.parent_id.is_none() {
                return Err(ApiError::BadRequest("Transfer failed: Group is already a root group.".into()));
            } else {
                reserved(&current.path, true)?;
            }
            namespaces::set_parent(c, id, target).map_err(|e| {
                if crate::error::is_unique_violation(&e) {
                    ApiError::BadRequest("Transfer failed: The parent group already has a subgroup or a project with the same path.".into())
                } else {
                    e.into()
                }
            })?;
            namespaces::find(c, id)?.ok_or(ApiError::NotFound("Group"))
        })
        .await?;
    Ok(HttpResponse::Created().json(group_json(&group, &pagination::base_url(&req, &state))))
}

/// `403`/`400` helpers shared with project creation in a group: the caller needs Developer in
/// the group (GitLab's default `project_creation_level`).
pub fn may_create_project_in(
    c: &rusqlite::Connection,
    group: &NamespaceRow,
    user: i64,
    admin: bool,
) -> ApiResult<()> {
    if admin {
        return Ok(());
    }
    let level = crate::db::access::group_level(c, group.id, user)?;
    if !super::access::can_see(&group.visibility, true, false, level.is_some()) {
        return Err(ApiError::NotFound("Namespace"));
    }
    if level.unwrap_or(0) < AccessLevel::Developer as i64 {
        return Err(ApiError::message(
            StatusCode::FORBIDDEN,
            "403 Forbidden - You cannot create projects in this group",
        ));
    }
    Ok(())
}
