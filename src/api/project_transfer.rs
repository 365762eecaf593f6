//! `PUT /projects/:id/transfer`: moving a project to another namespace, by GitLab's rules.

use actix_web::{HttpRequest, HttpResponse, web};

use super::access;
use super::pagination;
use super::params::Params;
use crate::auth::Caller;
use crate::db::projects::{self, ProjectChanges};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

/// `PUT /projects/:id/transfer` — (Owner) moves the project to `namespace` (an id or full path):
/// the caller's own namespace, or a group where they are Maintainer+ (admins: anywhere). A
/// project more visible than its new group becomes as visible as the group, as in GitLab.
pub async fn transfer(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let wanted = params.required_string("namespace")?;
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Owner)?;
    let (id, me, admin) = (pa.project.id, caller.user.id, caller.is_admin());
    let view = state
        .db
        .write(move |c| {
            let current = projects::find(c, id)?.ok_or(ApiError::NotFound("Project"))?;
            let ns = super::namespaces::find_ref(c, wanted.trim())?.ok_or(ApiError::NotFound("Namespace"))?;
            if ns.is_group() {
                let level = crate::db::access::group_level(c, ns.id, me)?;
                if !admin && !access::can_see(&ns.visibility, true, false, level.is_some()) {
                    return Err(ApiError::NotFound("Namespace"));
                }
                if !admin && level.unwrap_or(0) < AccessLevel::Maintainer as i64 {
                    return Err(ApiError::forbidden());
                }
            } else if ns.owner_id != Some(me) && !admin {
                return Err(ApiError::NotFound("Namespace"));
            }
            if ns.id == current.namespace_id {
                return Err(ApiError::BadRequest("Transfer failed: Please provide a new namespace.".into()));
            }
            if projects::taken(c, ns.id, &current.name, &current.path, Some(id))? != (false, false) {
                return Err(ApiError::BadRequest(
                    "Transfer failed: Project with same name or path in target namespace already exists"
                        .into(),
                ));
            }
            let now = model::now();
            projects::set_namespace(c, id, ns.id, &now)?;
            if ns.is_group() && super::groups::visibility_error(&current.visibility, &ns).is_err() {
                let changes = ProjectChanges {
                    name: &current.name,
                    path: &current.path,
                    description: current.description.as_deref(),
                    visibility: &ns.visibility,
                    default_branch: current.default_branch.as_deref(),
                };
                projects::update(c, id, &changes, &now)?;
            }
            projects::view(c, id, Some(me))?.ok_or(ApiError::NotFound("Project"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(super::project_json::project_json(
        &view,
        &pagination::base_url(&req, &state),
        true,
    )))
}
