//! The project a route acts on, with the role it needs: `404 Project Not Found` when the caller
//! cannot see it, then `403` below the role (admins pass). One call for the handlers' preamble.

use actix_web::HttpRequest;

use super::access::{self, ProjectAccess};
use crate::auth::Caller;
use crate::db::{self, ReadSize};
use crate::error::ApiResult;
use crate::model::AccessLevel;
use crate::state::AppState;

/// The project `id` when the caller holds `level` in it (or is an admin).
pub async fn project_at_least(
    state: &AppState,
    caller: &Caller,
    id: &str,
    level: AccessLevel,
) -> ApiResult<ProjectAccess> {
    let pa = access::project_for(state, Some(caller), id).await?;
    pa.require(level)?;
    Ok(pa)
}

/// A project the caller administers (Maintainer+ or admin; GitLab's `admin_project`): its
/// triggers, hooks, runners and job token scope.
pub async fn maintained_project(state: &AppState, caller: &Caller, id: &str) -> ApiResult<ProjectAccess> {
    project_at_least(state, caller, id, AccessLevel::Maintainer).await
}

/// [`maintained_project`] for a request whose credential is not resolved yet, with the handler's
/// own read: the caller (401 when anonymous), the project, the caller's level and `then` (which
/// runs only for a Maintainer+) in one read of `size` (see `Db::read_short`).
pub async fn request_maintained_project_then<T, F>(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
    size: ReadSize,
    then: F,
) -> ApiResult<(ProjectAccess, T)>
where
    F: FnOnce(&db::Connection, &ProjectAccess) -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    let found = access::authenticate_with_project_then(state, req, id, size, move |c, pa| {
        pa.require(AccessLevel::Maintainer)?;
        then(c, pa)
    })
    .await?;
    found.signed_in()?.project_and_read()
}
