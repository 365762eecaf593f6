//! GitLab's CI/CD job token scope ("Limit access to this project"): whether jobs of other projects
//! may use their job token against this project, and the allowlist of projects whose jobs may.
//! Every route needs Maintainer+ (GitLab's `admin_project`), checked after visibility (404 before
//! 403). New projects have the scope on; projects from before schema version 6 have it off.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::access::{self, ProjectRef};
use super::pagination::{self, Page};
use super::params::Params;
use super::project_role::maintained_project;
use crate::auth::Caller;
use crate::db::job_tokens as store;
use crate::db::projects::ProjectRow;
use crate::error::{ApiError, ApiResult};
use crate::model::{self};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects/{id}/job_token_scope", |m| m.get(show).patch(update));
    r.resource("/projects/{id}/job_token_scope/allowlist", |m| m.get(allowlist).post(add));
    r.resource("/projects/{id}/job_token_scope/allowlist/{target_project_id}", |m| m.delete(remove));
}

/// `GET /projects/:id/job_token_scope`: `{"inbound_enabled", "outbound_enabled"}` (the legacy
/// outbound scope does not exist here: always `false`).
async fn show(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let project_id = pa.project.id;
    let enabled = state.db.read(move |c| Ok(store::inbound_enabled(c, project_id)?)).await?;
    Ok(HttpResponse::Ok().json(json!({"inbound_enabled": enabled, "outbound_enabled": false})))
}

/// `PATCH /projects/:id/job_token_scope` with `enabled` (required Boolean): 204.
async fn update(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let enabled = params.bool("enabled")?.ok_or_else(|| ApiError::missing("enabled"))?;
    let pa = maintained_project(&state, &caller, &path).await?;
    let project_id = pa.project.id;
    state.db.write(move |c| Ok(store::set_inbound_enabled(c, project_id, enabled, &model::now())?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /projects/:id/job_token_scope/allowlist`: the projects whose jobs may use their token
/// here, oldest entry first, paginated.
async fn allowlist(
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
        state.db.read(move |c| Ok(store::allowlist(c, project_id, page.limit(), page.offset())?)).await?;
    let base = pagination::base_url(&req, &state);
    let items: Vec<Value> = rows.iter().map(|p| super::project_json::basic_project_json(p, &base)).collect();
    Ok(pagination::respond(&req, &state, page, total, &items))
}

/// The target project of an allowlist change, if the caller may see it: `404 target_project_id
/// Not Found` otherwise (an existing but hidden project looks the same).
fn visible_target(caller: &Caller, target: Option<ProjectRow>, level: Option<i64>) -> ApiResult<ProjectRow> {
    let target = target.ok_or(ApiError::NotFound("target_project_id"))?;
    if access::can_see(&target.visibility, true, caller.is_admin(), level.is_some()) {
        Ok(target)
    } else {
        Err(ApiError::NotFound("target_project_id"))
    }
}

/// `POST /projects/:id/job_token_scope/allowlist` with `target_project_id`: 201
/// `{"source_project_id", "target_project_id"}`; 400 when it is already allowed.
async fn add(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let target_id = params.int("target_project_id")?.ok_or_else(|| ApiError::missing("target_project_id"))?;
    let pa = maintained_project(&state, &caller, &path).await?;
    let project_id = pa.project.id;
    let user_id = caller.user.id;
    let who = caller.clone();
    state
        .db
        .write(move |c| {
            let target = access::find_project(c, &ProjectRef::Id(target_id))?;
            let level = match &target {
                Some(t) => crate::db::projects::member_level(c, t.id, user_id)?,
                None => None,
            };
            let target = visible_target(&who, target, level)?;
            // A project's own jobs are always allowed: GitLab reports it as already there.
            if target.id == project_id || !store::allow(c, project_id, target.id, &model::now())? {
                return Err(ApiError::message(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "Target project is already in the job token scope",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created().json(json!({"source_project_id": project_id, "target_project_id": target_id})))
}

/// `DELETE /projects/:id/job_token_scope/allowlist/:target_project_id`: 204; 400 when the
/// project was not on the allowlist.
async fn remove(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> ApiResult<HttpResponse> {
    let (id, raw) = path.into_inner();
    let target_id = access::path_id(&raw, "target_project_id")?;
    let pa = maintained_project(&state, &caller, &id).await?;
    let project_id = pa.project.id;
    state
        .db
        .write(move |c| {
            if access::find_project(c, &ProjectRef::Id(target_id))?.is_none() {
                return Err(ApiError::NotFound("target_project_id"));
            }
            if !store::disallow(c, project_id, target_id)? {
                return Err(ApiError::message(
                    actix_web::http::StatusCode::BAD_REQUEST,
                    "Target project is not in the job token scope",
                ));
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
