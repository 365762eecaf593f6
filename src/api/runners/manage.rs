//! A person's calls on runners: creating one (`POST /user/runners`), resetting a project's
//! registration token, and showing, updating, deleting or re-keying one runner, each after
//! checking what the caller may do with it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::attributes::Attributes;
use super::entity::Details;
use super::{RUNNER_TYPES, maintained_project, registration_details, store};
use crate::api::pagination;
use crate::api::params::Params;
use crate::auth::{self, Caller};
use crate::db::projects;
use crate::db::runners::{RunnerChanges, RunnerInfo};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

/// `POST /runners/:id/reset_authentication_token` — a new token for a runner the caller may
/// update (admins; Maintainers+ of a project runner's project): 201 `{token, token_expires_at}`.
pub(super) async fn reset_token_by_id(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let id = details.runner.id;
    let token = auth::new_runner_token()?;
    let (digest, short) = (auth::digest(&token), auth::runner_short_token(&token));
    state
        .db
        .write(
            move |c| {
                if store::set_token(c, id, &digest, &short)? { Ok(()) } else { Err(ApiError::RecordNotFound) }
            },
        )
        .await?;
    log::info!("user {} reset the authentication token of runner {id}", caller.user.id);
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}

/// `POST /user/runners` — a project runner (Maintainer+ of `project_id`) or an instance runner
/// (admins); 201 `{id, token, token_expires_at}`, the only time the token is shown.
pub(super) async fn create_for_user(
    caller: Caller,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let runner_type = params.required_string("runner_type")?;
    if !RUNNER_TYPES.contains(&runner_type.as_str()) {
        return Err(ApiError::not_valid_value("runner_type"));
    }
    let _group_id = params.int("group_id")?;
    let project_id = params.int("project_id")?;
    let attributes = Attributes::from_params(&params)?;
    let insufficient = || ApiError::Forbidden(Some("Insufficient permissions".into()));
    let invalid_scope = || ApiError::BadRequest("Missing/invalid scope".into());
    let scope = match runner_type.as_str() {
        "instance_type" => {
            if !caller.is_admin() {
                return Err(insufficient());
            }
            None
        }
        "project_type" => {
            let Some(project_id) = project_id else { return Err(invalid_scope()) };
            let user_id = caller.user.id;
            let found = state
                .db
                .read(move |c| {
                    let Some(p) = projects::find(c, project_id)? else { return Ok(None) };
                    Ok(Some((p.id, projects::member_level(c, p.id, user_id)?)))
                })
                .await?;
            let Some((project_id, level)) = found else { return Err(invalid_scope()) };
            let maintainer =
                level.and_then(AccessLevel::from_i64).is_some_and(|l| l >= AccessLevel::Maintainer);
            if !(caller.is_admin() || maintainer) {
                return Err(insufficient());
            }
            Some(project_id)
        }
        // triggerd has no groups: no group id names one.
        _ => return Err(invalid_scope()),
    };
    let token = auth::new_runner_token()?;
    let mut new = attributes.into_new_runner(&token, RunnerInfo::default())?;
    new.runner_type = runner_type;
    new.registration_type = "authenticated_user".into();
    new.project_id = scope;
    new.creator_id = Some(caller.user.id);
    let runner = state
        .db
        .write(move |c| {
            if let Some(project_id) = new.project_id
                && projects::find(c, project_id)?.is_none()
            {
                return Err(ApiError::BadRequest("Missing/invalid scope".into()));
            }
            Ok(store::insert(c, &new, &model::now())?)
        })
        .await?;
    log::info!("user {} created {} runner {}", caller.user.id, runner.runner_type, runner.id);
    Ok(HttpResponse::Created().json(registration_details(runner.id, &token)))
}

/// `POST /projects/:id/runners/reset_registration_token` — a new registration token for the
/// project (Maintainer+), shown in this response only; the previous one stops working.
pub(crate) async fn reset_registration_token(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let token = auth::new_runner_registration_token()?;
    let digest = auth::digest(&token);
    let project_id = pa.project.id;
    state
        .db
        .write(move |c| {
            if projects::find(c, project_id)?.is_none() {
                return Err(ApiError::NotFound("Project"));
            }
            Ok(store::set_registration_token(c, project_id, &digest, &model::now())?)
        })
        .await?;
    log::info!("user {} reset the runner registration token of project {project_id}", caller.user.id);
    Ok(HttpResponse::Created().json(json!({"token": token, "token_expires_at": null})))
}

/// What the caller may do with a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Right {
    Read,
    Update,
}

/// Loads a runner for the caller: `{"error":"id is invalid"}` for a non-integer id, `404 Not
/// found` when missing, `403 Forbidden - No access granted` without the right. Instance runners
/// are readable by every signed-in user and changed by admins only; a project runner by admins
/// and Maintainers+ of one of its projects.
pub(super) async fn load_runner(
    state: &AppState,
    caller: &Caller,
    raw_id: &str,
    right: Right,
) -> ApiResult<Details> {
    let id = raw_id.parse::<i64>().map_err(|_| ApiError::invalid("id"))?;
    let (user_id, admin) = (caller.user.id, caller.is_admin());
    let found = state
        .db
        .read(move |c| {
            let Some(runner) = store::find(c, id)? else { return Ok(None) };
            let maintainer = !runner.is_instance() && store::maintained_by(c, id, user_id)?;
            let creator = match runner.creator_id {
                Some(u) => users::find(c, u)?,
                None => None,
            };
            let mut projects = Vec::new();
            for p in store::projects_of(c, id)? {
                if admin || projects::member_level(c, p.id, user_id)?.is_some() {
                    projects.push(p);
                }
            }
            Ok(Some((runner, maintainer, creator, projects)))
        })
        .await?;
    let Some((runner, maintainer, creator, projects)) = found else { return Err(ApiError::RecordNotFound) };
    let may_update = admin || maintainer;
    let may_read = may_update || runner.is_instance();
    let allowed = match right {
        Right::Read => may_read,
        Right::Update => may_update,
    };
    if !allowed {
        return Err(ApiError::Forbidden(Some("No access granted".into())));
    }
    Ok(Details { runner, creator, projects, may_update })
}

/// `GET /runners/:id` — the runner's details.
pub(super) async fn show(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Read).await?;
    Ok(HttpResponse::Ok().json(details.json(&pagination::base_url(&req, &state))))
}

/// The parameters `PUT /runners/:id` accepts; at least one is required.
const UPDATABLE: [&str; 9] = [
    "description",
    "active",
    "paused",
    "tag_list",
    "run_untagged",
    "locked",
    "access_level",
    "maximum_timeout",
    "maintenance_note",
];

/// `PUT /runners/:id` — changes description, paused/active, tags, run_untagged, locked,
/// access_level, maximum_timeout, maintenance_note; answers the details.
pub(crate) async fn update(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if UPDATABLE.iter().all(|k| params.get(k).is_none()) {
        return Err(ApiError::Param(format!(
            "{} are missing, at least one parameter must be provided",
            UPDATABLE.join(", ")
        )));
    }
    let attributes = Attributes::from_params(&params)?;
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let runner = &details.runner;
    let tags = attributes.tags.clone().unwrap_or_else(|| runner.tags.clone());
    attributes.validate(&tags, attributes.run_untagged.unwrap_or(runner.run_untagged))?;
    let id = runner.id;
    // What decides which jobs the runner takes changed: its waiting long polls look again.
    let rescope =
        attributes.tags.is_some() || attributes.run_untagged.is_some() || attributes.active.is_some();
    let changes = RunnerChanges {
        description: attributes.description,
        maintenance_note: attributes.maintenance_note,
        active: attributes.active,
        run_untagged: attributes.run_untagged,
        locked: attributes.locked,
        access_level: attributes.access_level,
        maximum_timeout: attributes.maximum_timeout.map(Some),
        tags: attributes.tags,
    };
    let updated = state
        .db
        .write(move |c| {
            if !store::update(c, id, &changes)? {
                return Err(ApiError::RecordNotFound);
            }
            store::find(c, id)?.ok_or(ApiError::RecordNotFound)
        })
        .await?;
    if rescope {
        // Its own waiting polls must look again (a paused one answers 204): wake them all.
        state.job_queue.wake_all();
    }
    let details = Details { runner: updated, ..details };
    Ok(HttpResponse::Ok().json(details.json(&pagination::base_url(&req, &state))))
}

/// `DELETE /runners/:id` — 204 (admins; Maintainers+ of the project runner's project).
pub(super) async fn delete(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let details = load_runner(&state, &caller, &path, Right::Update).await?;
    let id = details.runner.id;
    state
        .db
        .write(move |c| if store::delete(c, id)? { Ok(()) } else { Err(ApiError::RecordNotFound) })
        .await?;
    log::info!("user {} deleted runner {id}", caller.user.id);
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}
