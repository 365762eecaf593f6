//! Who a trigger call acts as (GitLab's `Ci::PipelineTriggerService`): a trigger token of the
//! project acting as its owner, or a running job's CI/CD job token acting as the job's user (a
//! multi-project pipeline); the rules a job's user must meet in another project, shared with
//! `trigger:` jobs; and GitLab's expiry rule.

use actix_web::http::StatusCode;

use super::ci_pipeline::Upstream;
use super::trigger_audit::Audit;
use crate::auth;
use crate::db::pipelines as store;
use crate::db::triggers::TriggerPolicy;
use crate::db::{job_tokens, jobs, projects, users};
use crate::error::{ApiError, ApiResult};
use crate::model::{self, AccessLevel};

/// Who a trigger call acts as.
pub(super) enum Credential {
    /// A trigger token of the project: its owner, and its policy when it has one.
    Trigger { id: i64, owner: users::UserRow, policy: Option<TriggerPolicy> },
    /// A running job's token: the job's user, and the job as the new pipeline's upstream.
    Job { user: users::UserRow, upstream: Upstream },
}

/// Resolves the token (GitLab's `Ci::PipelineTriggerService`): first as a trigger token —
/// unknown, expired and other projects' tokens all look the same (404) — then as a CI/CD job
/// token: 401 `Job is not running` once its job stopped, 404 when the job's project is not on
/// this project's job token allowlist or its user cannot see this project. Either user must be
/// allowed to create pipelines here (400).
pub(super) fn credential(
    conn: &rusqlite::Connection,
    project: &projects::ProjectRow,
    digest: &[u8],
    now: &str,
    audit: &mut Audit,
) -> ApiResult<Credential> {
    let trigger = store::find_trigger_by_digest(conn, digest)?
        .filter(|t| auth::digests_match(&t.digest, digest))
        .filter(|t| t.project_id == project.id);
    if let Some(t) = trigger {
        // A token of this project: its calls are recorded against it from here on.
        audit.trigger_id = Some(t.id);
        if is_expired(t.expires_at.as_deref(), now) {
            audit.reason = Some("the trigger token has expired");
            return Err(ApiError::NotFound(""));
        }
        if t.secret_expires_at.as_deref().is_some_and(|e| is_expired(Some(e), now)) {
            audit.reason = Some("the grace period of this previous token has ended");
            return Err(ApiError::NotFound(""));
        }
        let owner = users::find(conn, t.owner_id)?.filter(|u| u.is_active());
        let owner = owner.filter(|u| may_create(conn, project, u).unwrap_or(false));
        let Some(owner) = owner else { return Err(insufficient_permissions()) };
        let policy = (!t.policy.is_empty()).then_some(t.policy);
        return Ok(Credential::Trigger { id: t.id, owner, policy });
    }
    let job_id = job_tokens::job_id_by_token_digest(conn, digest)?.ok_or(ApiError::NotFound(""))?;
    audit.job_token = true;
    let job = jobs::find_by_id(conn, job_id)?.ok_or(ApiError::NotFound(""))?;
    if job.status != "running" {
        return Err(ApiError::message(StatusCode::UNAUTHORIZED, "Job is not running"));
    }
    let user = job.user.filter(|u| u.is_active()).ok_or(ApiError::NotFound(""))?;
    match job_user_may_create(conn, project, job.project_id, &user)? {
        Ok(()) => {}
        Err(JobDenied::NotVisible | JobDenied::OutOfScope) => return Err(ApiError::NotFound("")),
        Err(JobDenied::CannotCreate) => return Err(insufficient_permissions()),
    }
    let upstream = Upstream {
        project_id: job.project_id,
        pipeline_id: job.pipeline_id,
        job_id: job.id,
        bridge_id: None,
    };
    Ok(Credential::Job { user, upstream })
}

/// Why a job's user may not create a pipeline in another project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobDenied {
    /// The user cannot see the target project.
    NotVisible,
    /// The target's job token scope does not allow the job's project.
    OutOfScope,
    /// The user is below Developer on the target.
    CannotCreate,
}

/// The rules for a job creating a pipeline in `target` as its (active) `user`, shared by the
/// trigger call with a job token and `trigger:` jobs: the user sees the target, the target's
/// job token scope allows `source_project_id`, and the user may create pipelines there.
pub(crate) fn job_user_may_create(
    conn: &rusqlite::Connection,
    target: &projects::ProjectRow,
    source_project_id: i64,
    user: &users::UserRow,
) -> rusqlite::Result<Result<(), JobDenied>> {
    let level = projects::member_level(conn, target.id, user.id)?.and_then(AccessLevel::from_i64);
    if !super::access::can_see(&target.visibility, true, user.is_admin, level.is_some()) {
        return Ok(Err(JobDenied::NotVisible));
    }
    if !job_tokens::may_access(conn, target.id, source_project_id)? {
        return Ok(Err(JobDenied::OutOfScope));
    }
    if !may_create(conn, target, user)? {
        return Ok(Err(JobDenied::CannotCreate));
    }
    Ok(Ok(()))
}

/// GitLab's `create_pipeline` ability: Developer+ (or an admin).
pub(crate) fn may_create(
    conn: &rusqlite::Connection,
    project: &projects::ProjectRow,
    user: &users::UserRow,
) -> rusqlite::Result<bool> {
    if user.is_admin {
        return Ok(true);
    }
    Ok(projects::member_level(conn, project.id, user.id)?
        .and_then(AccessLevel::from_i64)
        .is_some_and(|l| l >= AccessLevel::Developer))
}

pub(super) fn insufficient_permissions() -> ApiError {
    ApiError::validation("base", "Insufficient permissions to create a new pipeline")
}

/// A trigger expires at `expires_at` (GitLab's `Expirable`: `expires_at <= now`).
pub(crate) fn is_expired(expires_at: Option<&str>, now: &str) -> bool {
    let Some(e) = expires_at else { return false };
    match (model::parse_stored(e), model::parse_stored(now)) {
        (Some(e), Some(n)) => e <= n,
        // Not our timestamp format: fall back to a date comparison (`YYYY-MM-DD` sorts the same).
        _ => e <= now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_inclusive_of_now() {
        let now = "2030-01-01T00:00:00.000Z";
        assert!(is_expired(Some(now), now));
        assert!(is_expired(Some("2029-12-31T23:59:59.999Z"), now));
        assert!(!is_expired(Some("2030-01-01T00:00:00.001Z"), now));
        assert!(!is_expired(None, now));
        assert!(is_expired(Some("2029-12-31"), now));
    }
}
