//! Branches and tags: a subset of GitLab's Branches and Tags APIs over the `refs` table (names
//! pointing at commit SHAs; triggerd stores no git objects). Reading needs Reporter+ on a private
//! project (anyone who can see an internal or public one); creating and deleting need Developer+.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::access::{self, ProjectAccess};
use super::commits::{self, project_url};
use super::limits;
use super::pagination::{self, Page};
use super::params::Params;
use crate::auth::{Caller, MaybeCaller};
use crate::db::commits::{self as commit_rows, CommitRow};
use crate::db::refs::{self, BRANCH, Order, RefRow, Search, TAG};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel, Visibility};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/repository/branches", |m| m.get(list_branches).post(create_branch));
    // `.+`: a name with `/` may arrive raw as well as `%2F`-encoded.
    r.resource("/projects/{id}/repository/branches/{branch:.+}", |m| {
        m.get(show_branch).delete(delete_branch)
    });
    r.resource("/projects/{id}/repository/tags", |m| m.get(list_tags).post(create_tag));
    r.resource("/projects/{id}/repository/tags/{tag:.+}", |m| m.get(show_tag).delete(delete_tag));
}

/// Who may read code: Reporter+ in a private project; anyone who can see an internal or public one.
pub(super) async fn readable(
    state: &AppState,
    caller: Option<&Caller>,
    id: &str,
) -> ApiResult<ProjectAccess> {
    let pa = access::project_for(state, caller, id).await?;
    if !matches!(Visibility::parse(&pa.project.visibility), Some(Visibility::Public | Visibility::Internal)) {
        pa.require(AccessLevel::Reporter)?;
    }
    Ok(pa)
}

/// Who may push: Developer+.
pub(super) async fn writable(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ProjectAccess> {
    super::project_role::project_at_least(state, caller, id, AccessLevel::Developer).await
}

/// GitLab's `Commit` entity for the commit a ref points at: its commit row when the Repository
/// Files API made it, else a made-up root commit dated like the ref.
fn commit_json(r: &RefRow, commit: Option<&CommitRow>, project_url: &str) -> Value {
    match commit {
        Some(c) => commits::commit_json(c, project_url),
        None => commits::synthetic_json(&r.sha, &r.created_at, project_url),
    }
}

/// GitLab's `Branch` entity.
fn branch_json(r: &RefRow, commit: Option<&CommitRow>, pa: &ProjectAccess, base: &str) -> Value {
    let url = project_url(base, &pa.project);
    let default = pa.project.default_branch.as_deref() == Some(r.name.as_str());
    json!({
        "name": r.name,
        "commit": commit_json(r, commit, &url),
        "merged": false,
        "protected": default,
        "developers_can_push": false,
        "developers_can_merge": false,
        "can_push": pa.user_id.is_some() && pa.at_least(AccessLevel::Developer),
        "default": default,
        "web_url": format!("{url}/-/tree/{}", r.name),
    })
}

/// GitLab's `Tag` entity.
fn tag_json(r: &RefRow, commit: Option<&CommitRow>, pa: &ProjectAccess, base: &str) -> Value {
    let url = project_url(base, &pa.project);
    json!({
        "name": r.name,
        "message": r.message,
        "target": r.sha,
        "commit": commit_json(r, commit, &url),
        "release": null,
        "protected": false,
        "created_at": r.created_at,
    })
}

fn ref_json(kind: &str, r: &RefRow, commit: Option<&CommitRow>, pa: &ProjectAccess, base: &str) -> Value {
    if kind == TAG { tag_json(r, commit, pa, base) } else { branch_json(r, commit, pa, base) }
}

fn bad_request(text: impl Into<String>) -> ApiError {
    ApiError::message(StatusCode::BAD_REQUEST, text)
}

/// The SHA a `ref` parameter names: a full SHA as given (lowercased), else a branch or tag.
fn resolve_target(c: &rusqlite::Connection, project_id: i64, r: &str) -> rusqlite::Result<Option<String>> {
    if refs::is_full_sha(r) {
        return Ok(Some(r.to_ascii_lowercase()));
    }
    Ok(refs::resolve(c, project_id, r)?.map(|r| r.sha))
}

async fn list_refs(
    kind: &'static str,
    order: Order,
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let page = Page::from_params(&params)?;
    let search = Search::parse(params.string("search")?.as_deref());
    let project_id = pa.project.id;
    let (rows, total, found) = state
        .db
        .read(move |c| {
            let (rows, total) = refs::list(c, project_id, kind, &search, order, page.limit(), page.offset())?;
            let shas: Vec<&str> = rows.iter().map(|r| r.sha.as_str()).collect();
            let found = commit_rows::find_many(c, project_id, &shas)?;
            Ok((rows, total, found))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> = rows.iter().map(|r| ref_json(kind, r, found.get(&r.sha), &pa, &base)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

async fn show_ref(
    kind: &'static str,
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    id: String,
    name: String,
) -> ApiResult<HttpResponse> {
    let pa = readable(&state, caller.0.as_ref(), &id).await?;
    let project_id = pa.project.id;
    let (row, commit) = state
        .db
        .read(move |c| {
            let Some(row) = refs::find(c, project_id, kind, &name)? else { return Ok(None) };
            let commit = commit_rows::find(c, project_id, &row.sha)?;
            Ok(Some((row, commit)))
        })
        .await?
        .ok_or(ApiError::NotFound(if kind == TAG { "Tag" } else { "Branch" }))?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Ok().json(ref_json(kind, &row, commit.as_ref(), &pa, &base)))
}

/// `GET /projects/:id/repository/branches`: by name; `search` (`^prefix`, `suffix$`), `sort`
/// (`name_asc` default, `updated_asc`, `updated_desc`).
async fn list_branches(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let order = match params.one_of("sort", &["name_asc", "updated_asc", "updated_desc"])?.as_deref() {
        Some("updated_asc") => Order::UpdatedAsc,
        Some("updated_desc") => Order::UpdatedDesc,
        _ => Order::NameAsc,
    };
    list_refs(BRANCH, order, caller, req, state, path.into_inner(), params).await
}

/// `GET /projects/:id/repository/branches/:branch`.
async fn show_branch(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    show_ref(BRANCH, caller, req, state, id, name).await
}

/// `POST /projects/:id/repository/branches`: `branch` and `ref` (a branch, tag or 40-hex SHA).
async fn create_branch(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = writable(&state, &caller, &path).await?;
    let [name, target] = params.required_strings(["branch", "ref"])?;
    limits::REF_NAME.check("branch", &name)?;
    limits::REF_NAME.check("ref", &target)?;
    if !refs::valid_ref_name(&name) {
        return Err(bad_request("Branch name is invalid"));
    }
    let project_id = pa.project.id;
    let now = model::now();
    let row = state
        .db
        .write(move |c| {
            if refs::find(c, project_id, BRANCH, &name)?.is_some() {
                return Err(bad_request("Branch already exists"));
            }
            let sha = resolve_target(c, project_id, &target)?
                .ok_or_else(|| bad_request(format!("Invalid reference name: {target}")))?;
            let row = refs::insert(c, project_id, BRANCH, &name, &sha, None, &now)?;
            let commit = commit_rows::find(c, project_id, &sha)?;
            Ok((row, commit))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(branch_json(&row.0, row.1.as_ref(), &pa, &base)))
}

/// `DELETE /projects/:id/repository/branches/:branch`: `204`. The default branch cannot be
/// deleted (`400 Cannot remove the default branch`; GitLab answers 405 `Cannot remove HEAD branch`).
async fn delete_branch(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let pa = writable(&state, &caller, &id).await?;
    let project_id = pa.project.id;
    let default_branch = pa.project.default_branch.clone();
    state
        .db
        .write(move |c| {
            if refs::find(c, project_id, BRANCH, &name)?.is_none() {
                return Err(ApiError::NotFound("Branch"));
            }
            if default_branch.as_deref() == Some(name.as_str()) {
                return Err(bad_request("Cannot remove the default branch"));
            }
            refs::delete(c, project_id, BRANCH, &name)?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /projects/:id/repository/tags`: `search`, `order_by` (`updated` default, `name`,
/// `version` = by name), `sort` (`desc` default, `asc`).
async fn list_tags(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let by_name = params.one_of("order_by", &["name", "updated", "version"])?.is_some_and(|o| o != "updated");
    let asc = params.one_of("sort", &["asc", "desc"])?.is_some_and(|s| s == "asc");
    let order = match (by_name, asc) {
        (true, true) => Order::NameAsc,
        (true, false) => Order::NameDesc,
        (false, true) => Order::UpdatedAsc,
        (false, false) => Order::UpdatedDesc,
    };
    list_refs(TAG, order, caller, req, state, path.into_inner(), params).await
}

/// `GET /projects/:id/repository/tags/:tag_name`.
async fn show_tag(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    show_ref(TAG, caller, req, state, id, name).await
}

/// `POST /projects/:id/repository/tags`: `tag_name`, `ref`, optional `message` (annotated tag).
async fn create_tag(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = writable(&state, &caller, &path).await?;
    let [name, target] = params.required_strings(["tag_name", "ref"])?;
    let message = params.string("message")?.map(|m| m.trim().to_string()).filter(|m| !m.is_empty());
    limits::REF_NAME.check("tag_name", &name)?;
    limits::REF_NAME.check("ref", &target)?;
    limits::TAG_MESSAGE.check_opt("message", message.as_deref())?;
    if !refs::valid_ref_name(&name) {
        return Err(bad_request("Tag name invalid"));
    }
    let project_id = pa.project.id;
    let now = model::now();
    let row = state
        .db
        .write(move |c| {
            if refs::find(c, project_id, TAG, &name)?.is_some() {
                return Err(bad_request(format!("Tag {name} already exists")));
            }
            let sha = resolve_target(c, project_id, &target)?
                .ok_or_else(|| bad_request(format!("Target {target} is invalid")))?;
            let row = refs::insert(c, project_id, TAG, &name, &sha, message.as_deref(), &now)?;
            let commit = commit_rows::find(c, project_id, &sha)?;
            Ok((row, commit))
        })
        .await?;
    let base = pagination::base_url(&req, &state);
    Ok(HttpResponse::Created().json(tag_json(&row.0, row.1.as_ref(), &pa, &base)))
}

/// `DELETE /projects/:id/repository/tags/:tag_name`: `204`.
async fn delete_tag(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, name) = path.into_inner();
    let pa = writable(&state, &caller, &id).await?;
    let project_id = pa.project.id;
    let deleted = state.db.write(move |c| Ok(refs::delete(c, project_id, TAG, &name)?)).await?;
    if !deleted {
        return Err(ApiError::NotFound("Tag"));
    }
    Ok(HttpResponse::NoContent().finish())
}
