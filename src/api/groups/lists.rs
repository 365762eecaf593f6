//! The group lists: `GET /groups`, a group's subgroups and its projects.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;

use super::{group_for, group_json};
use crate::api::member_rules;
use crate::api::pagination::{self, Page};
use crate::api::params::Params;
use crate::api::projects;
use crate::auth::{Caller, MaybeCaller};
use crate::db::namespaces::{self, ListFilter};
use crate::error::ApiResult;
use crate::state::AppState;

/// `GET /groups` — anonymous: public groups; users: the groups they belong to (directly or
/// through an ancestor), or with `all_available` every group they can see; admins: all.
pub(super) async fn list(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let caller = caller.0;
    let admin = caller.as_ref().is_some_and(Caller::is_admin);
    let all_available = params.bool("all_available")?.unwrap_or(admin || caller.is_none());
    let filter = list_filter(&params, caller.as_ref(), !all_available)?;
    groups_page(&req, &state, &params, filter).await
}

/// `GET /groups/:id/subgroups` — the group's direct subgroups the caller can see.
pub(super) async fn subgroups(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let ga = group_for(&state, caller.0.as_ref(), &path.into_inner()).await?;
    let all_available = params.bool("all_available")?.unwrap_or(true);
    let mut filter = list_filter(&params, caller.0.as_ref(), !all_available)?;
    filter.parent_id = Some(ga.group.id);
    groups_page(&req, &state, &params, filter).await
}

fn list_filter(params: &Params, caller: Option<&Caller>, membership: bool) -> ApiResult<ListFilter> {
    let order = match params.one_of("order_by", &["name", "path", "id", "similarity"])?.as_deref() {
        Some("path") => "path",
        Some("id") => "id",
        _ => "name",
    };
    let min_access_level = member_rules::optional_access_level(params, "min_access_level")?;
    let signed_in = caller.is_some();
    Ok(ListFilter {
        caller: caller.map(|c| c.user.id),
        admin: caller.is_some_and(Caller::is_admin),
        groups_only: true,
        membership: membership && signed_in && !caller.is_some_and(Caller::is_admin),
        owned: params.bool("owned")?.unwrap_or(false) && signed_in,
        min_access_level: min_access_level.filter(|_| signed_in),
        parent_id: None,
        top_level_only: params.bool("top_level_only")?.unwrap_or(false),
        search: params.string("search")?.filter(|s| !s.is_empty()),
        order,
        descending: params.one_of("sort", &["asc", "desc"])?.as_deref() == Some("desc"),
    })
}

async fn groups_page(
    req: &HttpRequest,
    state: &AppState,
    params: &Params,
    filter: ListFilter,
) -> ApiResult<HttpResponse> {
    let page = Page::from_params(params)?;
    let (rows, total) =
        state.db.read(move |c| Ok(namespaces::list(c, &filter, page.limit(), page.offset())?)).await?;
    let base = pagination::base_url(req, state);
    let items: Vec<Value> = rows.iter().map(|g| group_json(g, &base)).collect();
    Ok(pagination::respond(req, state, page, total, &items))
}

/// `GET /groups/:id/projects` — the projects directly in the group that the caller can see.
pub(super) async fn projects(
    caller: MaybeCaller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let ga = group_for(&state, caller.0.as_ref(), &path.into_inner()).await?;
    let user = caller.0.as_ref().map(|c| c.user.id);
    let mut filter = projects::list_filter(&params, user, ga.admin)?;
    filter.namespace_id = Some(ga.group.id);
    projects::projects_page(&req, &state, &params, filter, user.is_some()).await
}
