//! The listings: `GET /runners` (the caller's project runners), `GET /runners/all` (admins) and
//! `GET /projects/:id/runners`, with GitLab's filters and pagination.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::attributes::tag_list;
use super::entity::RunnerJson;
use super::{RUNNER_TYPES, SCOPES, STATUSES, deadlines, maintained_project, store};
use crate::api::pagination::{self, Page};
use crate::api::params::Params;
use crate::auth::Caller;
use crate::db::runners::{RunnerFilter, Visible};
use crate::db::users;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Which deprecated `scope` values a listing accepts.
#[derive(Debug, Clone, Copy)]
enum Scopes {
    /// `GET /runners`: statuses only.
    Statuses,
    /// `GET /runners/all` and `GET /projects/:id/runners`: types and statuses.
    All,
}

/// Reads the listing filters (`scope`, `type`, `status`, `paused`, `tag_list`,
/// `version_prefix`).
fn filter_from(p: &Params, scopes: Scopes) -> ApiResult<RunnerFilter> {
    let mut f = RunnerFilter::default();
    if let Some(scope) = p.one_of("scope", &SCOPES)? {
        let is_status = STATUSES.contains(&scope.as_str());
        match (scopes, scope.as_str()) {
            (_, _) if is_status => f.statuses.push(scope),
            (Scopes::Statuses, _) => {
                return Err(ApiError::message(StatusCode::BAD_REQUEST, "Scope contains invalid value"));
            }
            (Scopes::All, "specific") => f.types.push(vec!["project_type".into(), "group_type".into()]),
            (Scopes::All, "shared") => f.types.push(vec!["instance_type".into()]),
            (Scopes::All, _) => f.types.push(vec![scope]),
        }
    }
    if let Some(t) = p.one_of("type", &RUNNER_TYPES)? {
        f.types.push(vec![t]);
    }
    if let Some(s) = p.one_of("status", &STATUSES)? {
        f.statuses.push(s);
    }
    if let Some(paused) = p.bool("paused")? {
        f.statuses.push(if paused { "paused" } else { "active" }.into());
    }
    f.tags = tag_list(p, "tag_list")?;
    if let Some(prefix) = p.string("version_prefix")? {
        if !prefix.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+') {
            return Err(ApiError::invalid("version_prefix"));
        }
        f.version_prefix = Some(prefix);
    }
    Ok(f)
}

/// One page of runners in GitLab's `Runner` entity.
async fn respond_list(
    req: &HttpRequest,
    state: &AppState,
    params: &Params,
    visible: Visible,
    filter: RunnerFilter,
) -> ApiResult<HttpResponse> {
    Page::refuse_keyset(params)?;
    let page = Page::from_params(params)?;
    let (online_deadline, stale_deadline) = deadlines();
    let (rows, total) = state
        .db
        .read(move |c| {
            let (rows, total) = store::list(
                c,
                &visible,
                &filter,
                &online_deadline,
                &stale_deadline,
                page.limit(),
                page.offset(),
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let creator = match r.creator_id {
                    Some(u) => users::find(c, u)?,
                    None => None,
                };
                out.push((r, creator));
            }
            Ok((out, total))
        })
        .await?;
    let base = pagination::base_url(req, state);
    let items: Vec<RunnerJson> = rows.iter().map(|(r, u)| RunnerJson::new(r, u.as_ref(), &base)).collect();
    Ok(pagination::respond(req, state, page, total, &items))
}

/// `GET /runners` — project runners of projects where the caller is Maintainer+.
pub(super) async fn list_owned(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let filter = filter_from(&params, Scopes::Statuses)?;
    respond_list(&req, &state, &params, Visible::OwnedBy(caller.user.id), filter).await
}

/// `GET /runners/all` — every runner (admins).
pub(super) async fn list_all(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    params: Params,
) -> ApiResult<HttpResponse> {
    if !caller.is_admin() {
        return Err(ApiError::forbidden());
    }
    let filter = filter_from(&params, Scopes::All)?;
    respond_list(&req, &state, &params, Visible::All, filter).await
}

/// `GET /projects/:id/runners` — the project's runners and every instance runner (Maintainer+).
pub(super) async fn list_for_project(
    caller: Caller,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    params: Params,
) -> ApiResult<HttpResponse> {
    let pa = maintained_project(&state, &caller, &path).await?;
    let filter = filter_from(&params, Scopes::All)?;
    respond_list(&req, &state, &params, Visible::Project(pa.project.id), filter).await
}
