//! The project a route acts on, with the role it needs: `404 Project Not Found` when the caller
//! cannot see it, then `403` below the role (admins pass). One call for the handlers' preamble.

use super::access::{self, ProjectAccess};
use crate::auth::Caller;
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
