//! GitLab's Projects API (the subset triggerd needs): create a project in the caller's namespace
//! (or, for admins, in a user's), list the projects a caller can see, get, update and delete
//! one. The Project JSON is in [`super::project_json`], the field rules in
//! [`super::project_fields`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::access;
use super::member_rules;
use super::pagination::{self, Page};
use super::params::Params;
use super::project_fields::{
    Errors, branch_errors, description_errors, name_errors, parameterize, path_errors,
};
use super::project_json::project_json;
use crate::auth::{Caller, MaybeCaller};
use crate::db::projects::{self, ListFilter, NewProject, ProjectChanges, ProjectOrder};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};
use crate::state::AppState;

pub fn configure(r: &mut super::Routes) {
    r.resource("/projects", |m| m.get(list).post(create));
    r.resource("/projects/user/{user_id}", |m| m.post(create_for_user));
    r.resource("/projects/{id}", |m| m.get(show).put(update).delete(destroy));
    r.resource("/projects/{id}/transfer", |m| m.put(super::project_transfer::transfer));
}

const VISIBILITIES: &[&str] = &["private", "internal", "public"];
const DEFAULT_BRANCH: &str = "main";

const TAKEN: &str = "has already been taken";

/// `POST /projects` — creates a project in the caller's namespace (the caller becomes Owner),
/// or with `namespace_id` (an id or full path) in a group where the caller is Developer+ (they
/// become a Maintainer unless they inherit more) or, for admins, in any namespace.
async fn create(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let input = CreateInput::parse(&params)?;
    let wanted = params.string("namespace_id")?.filter(|s| !s.trim().is_empty());
    let Some(wanted) = wanted else {
        return create_in(&req, &state, &caller, caller.user.id, input).await;
    };
    let (me, admin) = (caller.user.id, caller.is_admin());
    let visibility = input.visibility.clone();
    let namespace = state
        .db
        .read(move |c| {
            let ns = super::namespaces::find_ref(c, wanted.trim())?.ok_or(ApiError::NotFound("Namespace"))?;
            if ns.is_group() {
                super::groups::may_create_project_in(c, &ns, me, admin)?;
                super::groups::visibility_error(&visibility, &ns)?;
            } else if ns.owner_id != Some(me) && !admin {
                return Err(ApiError::NotFound("Namespace"));
            }
            Ok(ns)
        })
        .await?;
    create_in(&req, &state, &caller, namespace.id, input).await
}

/// `POST /projects/user/:user_id` — (admins) creates a project in a user's namespace; that
/// user becomes its creator and Owner.
async fn create_for_user(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user_id = access::path_id(&path.into_inner(), "user_id")?;
    let input = CreateInput::parse(&params)?;
    if !caller.is_admin() {
        return Err(ApiError::forbidden());
    }
    let user =
        state.db.read(move |c| Ok(users::find(c, user_id)?)).await?.ok_or(ApiError::NotFound("User"))?;
    create_in(&req, &state, &caller, user.id, input).await
}

/// `GET /projects` — the projects the caller can see (anonymous: public; signed in: public,
/// internal and their own; admins: all), newest first, paginated.
async fn list(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let user = caller.0.as_ref().map(|c| c.user.id);
    let signed_in = user.is_some();
    let mut filter = list_filter(&params, user, caller.0.as_ref().is_some_and(Caller::is_admin))?;
    let membership = params.bool("membership")?.unwrap_or(false);
    let owned = params.bool("owned")?.unwrap_or(false);
    let _simple = params.bool("simple")?; // accepted; the full representation is returned
    let min_access_level = member_rules::optional_access_level(&params, "min_access_level")?;
    // Anonymous callers have no memberships: these filters do not apply to them.
    filter.membership = membership && signed_in;
    filter.owned = owned && signed_in;
    filter.min_access_level = min_access_level.filter(|_| signed_in);
    projects_page(&req, &state, &params, filter, signed_in).await
}

/// The list parameters `GET /projects` and `GET /groups/:id/projects` share: `order_by`,
/// `sort` (newest first by default), `visibility`, `archived` and `search`.
pub(crate) fn list_filter(params: &Params, caller: Option<i64>, admin: bool) -> ApiResult<ListFilter> {
    let order = match params
        .one_of("order_by", &["id", "name", "path", "created_at", "updated_at", "last_activity_at"])?
        .as_deref()
    {
        Some("id") => ProjectOrder::Id,
        Some("name") => ProjectOrder::Name,
        Some("path") => ProjectOrder::Path,
        Some("updated_at" | "last_activity_at") => ProjectOrder::UpdatedAt,
        _ => ProjectOrder::CreatedAt,
    };
    Ok(ListFilter {
        namespace_id: None,
        caller,
        admin,
        membership: false,
        owned: false,
        min_access_level: None,
        descending: params.one_of("sort", &["asc", "desc"])?.as_deref() != Some("asc"),
        visibility: params.one_of("visibility", VISIBILITIES)?,
        archived_only: params.bool("archived")?.unwrap_or(false),
        search: params.string("search")?.filter(|s| !s.is_empty()),
        order,
    })
}

/// A page of the projects `filter` selects, as Project JSON (`permissions` for a signed-in caller).
pub(crate) async fn projects_page(
    req: &HttpRequest,
    state: &AppState,
    params: &Params,
    filter: ListFilter,
    signed_in: bool,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(params)?;
    let (rows, total) =
        state.db.read(move |c| Ok(projects::list(c, &filter, page.limit(), page.offset())?)).await?;
    let base = pagination::base_url(req, state);
    let items: Vec<Value> = rows.iter().map(|v| project_json(v, &base, signed_in)).collect();
    Ok(pagination::respond(req, state, page, total, &items))
}

/// `GET /projects/:id` — one project (anonymous callers see public projects).
async fn show(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = access::project_for(&state, caller.0.as_ref(), &path.into_inner()).await?;
    let (id, user) = (pa.project.id, pa.user_id);
    let view = state
        .db
        .read(move |c| Ok(projects::view(c, id, user)?))
        .await?
        .ok_or(ApiError::NotFound("Project"))?;
    Ok(HttpResponse::Ok().json(project_json(&view, &pagination::base_url(&req, &state), user.is_some())))
}

/// `PUT /projects/:id` — (Maintainer+) changes path, description or default branch; `name` and
/// `visibility` need an Owner. An empty request changes nothing.
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
    let default_branch = params.string("default_branch")?;
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Maintainer)?;
    // GitLab's `authorize! :change_visibility_level` and `:rename_project`: sending `visibility`
    // (even unchanged) or `name` needs an Owner; admins pass as everywhere.
    if visibility.is_some() || name.is_some() {
        pa.require(AccessLevel::Owner)?;
    }

    let mut errors = Errors::default();
    if let Some(n) = &name {
        errors.add("name", name_errors(n));
    }
    if let Some(p) = &new_path
        && *p != pa.project.path
    {
        errors.add("path", path_errors(p));
    }
    if let Some(d) = &description {
        errors.add("description", description_errors(d));
    }
    if let Some(b) = &default_branch {
        errors.add("default_branch", branch_errors(b));
    }
    errors.into_result()?;

    let (id, user) = (pa.project.id, pa.user_id);
    let view = state
        .db
        .write(move |c| {
            let current = projects::find(c, id)?.ok_or(ApiError::NotFound("Project"))?;
            let next_name = name.clone().unwrap_or_else(|| current.name.clone());
            let next_path = new_path.clone().unwrap_or_else(|| current.path.clone());
            let next_description = description.clone().or_else(|| current.description.clone());
            let next_visibility = visibility.clone().unwrap_or_else(|| current.visibility.clone());
            let next_branch = default_branch.clone().or_else(|| current.default_branch.clone());
            let unchanged = next_name == current.name
                && next_path == current.path
                && next_description == current.description
                && next_visibility == current.visibility
                && next_branch == current.default_branch;
            if !unchanged {
                let (name_taken, path_taken) =
                    projects::taken(c, current.namespace_id, &next_name, &next_path, Some(id))?;
                let mut errors = Errors::default();
                if name_taken && next_name != current.name {
                    errors.add("name", vec![TAKEN.into()]);
                }
                if path_taken {
                    errors.add("path", vec![TAKEN.into()]);
                }
                errors.into_result()?;
                // Like GitLab: once the repository has refs, the default branch must exist.
                if let Some(b) = next_branch.as_deref()
                    && next_branch != current.default_branch
                    && !projects::has_branch(c, id, b)?
                    && projects::view(c, id, None)?.is_some_and(|v| !v.empty_repo)
                {
                    return Err(ApiError::message(
                        StatusCode::BAD_REQUEST,
                        format!("Could not set the default branch. Do you have a branch named '{b}' in your repository?"),
                    ));
                }
                let changes = ProjectChanges {
                    name: &next_name,
                    path: &next_path,
                    description: next_description.as_deref(),
                    visibility: &next_visibility,
                    default_branch: next_branch.as_deref(),
                };
                projects::update(c, id, &changes, &model::now()).map_err(crate::error::taken("path"))?;
            }
            projects::view(c, id, user)?.ok_or(ApiError::NotFound("Project"))
        })
        .await?;
    Ok(HttpResponse::Ok().json(project_json(&view, &pagination::base_url(&req, &state), true)))
}

/// `DELETE /projects/:id` — (Owner or admin) deletes the project with everything in it
/// (members, refs, triggers, pipelines); answers `202 Accepted` as GitLab does.
async fn destroy(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let pa = access::project_for(&state, Some(&caller), &path.into_inner()).await?;
    pa.require(AccessLevel::Owner)?;
    access::check_unmodified_since(&req, &pa.project.updated_at)?;
    let id = pa.project.id;
    let deleted = state.db.write(move |c| Ok(projects::delete(c, id)?)).await?;
    if !deleted {
        return Err(ApiError::NotFound("Project"));
    }
    Ok(HttpResponse::Accepted().json(json!({"message": "202 Accepted"})))
}

/// The parameters of a project creation that Grape checks before the endpoint runs.
struct CreateInput {
    name: Option<String>,
    path: Option<String>,
    description: Option<String>,
    visibility: String,
    default_branch: String,
    initialize_with_readme: bool,
}

impl CreateInput {
    fn parse(params: &Params) -> ApiResult<CreateInput> {
        let name = params.string("name")?;
        let path = params.string("path")?;
        if name.is_none() && path.is_none() {
            return Err(ApiError::Param(
                "name, path are missing, at least one parameter must be provided".into(),
            ));
        }
        Ok(CreateInput {
            name,
            path,
            description: params.string("description")?,
            visibility: params.one_of("visibility", VISIBILITIES)?.unwrap_or_else(|| "private".into()),
            default_branch: params
                .string("default_branch")?
                .filter(|b| !b.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_BRANCH.into()),
            initialize_with_readme: params.bool("initialize_with_readme")?.unwrap_or(false),
        })
    }

    /// The name and path to store: a missing one is derived from the other as GitLab does
    /// (name = path; path = name when that is a valid path, else the name parameterized).
    fn name_and_path(&self) -> (String, String) {
        let name = self.name.clone().filter(|n| !n.trim().is_empty());
        let path = self.path.clone().filter(|p| !p.trim().is_empty());
        match (name, path) {
            (Some(n), Some(p)) => (n, p),
            (None, Some(p)) => (p.clone(), p),
            (Some(n), None) => {
                let p = if path_errors(&n).is_empty() { n.clone() } else { parameterize(&n) };
                (n, p)
            }
            (None, None) => (String::new(), String::new()),
        }
    }
}

/// Validates and stores a new project in `namespace_id`: in a user's namespace that user becomes
/// creator and Owner; in a group the caller is the creator and a Maintainer unless they inherit
/// Maintainer or more.
async fn create_in(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    namespace_id: i64,
    input: CreateInput,
) -> ApiResult<HttpResponse> {
    let (name, path) = input.name_and_path();
    let mut errors = Errors::default();
    errors.add("name", name_errors(&name));
    errors.add("path", path_errors(&path));
    if let Some(d) = &input.description {
        errors.add("description", description_errors(d));
    }
    errors.add("default_branch", branch_errors(&input.default_branch));
    errors.into_result()?;

    let sha = input.initialize_with_readme.then(crate::db::refs::random_sha);
    let viewer = caller.user.id;
    let view = state
        .db
        .write(move |c| {
            let (name_taken, path_taken) = projects::taken(c, namespace_id, &name, &path, None)?;
            let mut errors = Errors::default();
            if name_taken {
                errors.add("name", vec![TAKEN.into()]);
            }
            if path_taken {
                errors.add("path", vec![TAKEN.into()]);
            }
            errors.into_result()?;
            let ns = crate::db::namespaces::find(c, namespace_id)?.ok_or(ApiError::NotFound("Namespace"))?;
            let (creator_id, creator_level) = match ns.owner_id {
                Some(owner) => (owner, Some(AccessLevel::Owner as i64)),
                None => {
                    let inherited = crate::db::access::group_level(c, ns.id, viewer)?.unwrap_or(0);
                    (
                        viewer,
                        (inherited < AccessLevel::Maintainer as i64)
                            .then_some(AccessLevel::Maintainer as i64),
                    )
                }
            };
            let new = NewProject {
                namespace_id,
                creator_id,
                creator_level,
                name: &name,
                path: &path,
                description: input.description.as_deref(),
                visibility: &input.visibility,
                default_branch: Some(&input.default_branch),
            };
            let now = model::now();
            let row = match &sha {
                Some(sha) => projects::insert_with_branch(c, &new, sha, &now),
                None => projects::insert(c, &new, &now),
            }
            .map_err(crate::error::taken("path"))?;
            projects::view(c, row.id, Some(viewer))?.ok_or(ApiError::NotFound("Project"))
        })
        .await?;
    Ok(HttpResponse::Created().json(project_json(&view, &pagination::base_url(req, state), true)))
}
