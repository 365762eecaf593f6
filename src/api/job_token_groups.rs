//! GitLab's job token groups allowlist: `GET`/`POST /projects/:id/job_token_scope/groups_allowlist`
//! and `DELETE …/groups_allowlist/:target_group_id`. Jobs of every project in a listed group (or
//! a subgroup of it) may use their job token against the project. Maintainer+, as the project
//! allowlist; a group the caller cannot see is `404 target_group_id Not Found`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::access::{self};
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::maintained_project;
use crate::auth::Caller;
use crate::db::job_token_groups as store;
use crate::db::namespaces::{self, NamespaceRow};
use crate::error::{ApiError, ApiResult};
use crate::model::{self};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/job_token_scope/groups_allowlist", |m| m.get(list).post(add));
    r.resource("/projects/{id}/job_token_scope/groups_allowlist/{target_group_id}", |m| m.delete(remove));
}

/// GitLab's `BasicGroupDetails`.
fn group_json(g: &NamespaceRow, base: &str) -> Value {
    json!({"id": g.id, "web_url": super::namespaces::web_url(base, "group", &g.full_path), "name": g.name})
}

/// `GET …/groups_allowlist`: the listed groups, oldest entry first, paginated.
async fn list(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(&params)?;
    let pa = maintained_project(&state, &caller, &path).await?;
    let project_id = pa.project.id;
    let (rows, total) =
        state.db.read(move |c| Ok(store::list(c, project_id, page.limit(), page.offset())?)).await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> = rows.iter().map(|g| group_json(g, &base)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// `POST …/groups_allowlist` with `target_group_id`: 201 `{"source_project_id", "target_group_id"}`;
/// 400 when it is already listed.
async fn add(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let target = params.int("target_group_id")?.ok_or_else(|| ApiError::missing("target_group_id"))?;
    let pa = maintained_project(&state, &caller, &path).await?;
    let (project_id, user_id, admin) = (pa.project.id, caller.user.id, caller.is_admin());
    state
        .db
        .write(move |c| {
            let group = namespaces::find(c, target)?.filter(NamespaceRow::is_group);
            let group = group.ok_or(ApiError::NotFound("target_group_id"))?;
            let level = crate::db::access::group_level(c, group.id, user_id)?;
            if !access::can_see(&group.visibility, true, admin, level.is_some()) {
                return Err(ApiError::NotFound("target_group_id"));
            }
            if !store::allow(c, project_id, group.id, &model::now())? {
                return Err(ApiError::message(
                    StatusCode::BAD_REQUEST,
                    "Target group is already in the job token scope",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({"source_project_id": project_id, "target_group_id": target})))
}

/// `DELETE …/groups_allowlist/:target_group_id`: 204; 400 when the group was not listed.
async fn remove(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let target = access::path_id(&raw, "target_group_id")?;
    let pa = maintained_project(&state, &caller, &id).await?;
    let project_id = pa.project.id;
    state
        .db
        .write(move |c| {
            if namespaces::find(c, target)?.filter(NamespaceRow::is_group).is_none() {
                return Err(ApiError::NotFound("target_group_id"));
            }
            if !store::disallow(c, project_id, target)? {
                return Err(ApiError::message(
                    StatusCode::BAD_REQUEST,
                    "Target group is not in the job token scope",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
