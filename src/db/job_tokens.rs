//! CI/CD job tokens across projects: finding a job by its token, each project's inbound job
//! token scope ("Limit access to this project") with its allowlist, and the upstream link of a
//! pipeline a job created (`pipeline_sources`, GitLab's `ci_sources_pipelines`).

use rusqlite::{Connection, OptionalExtension, params};

use super::projects::{self, ProjectRow};
use crate::auth;

/// The job whose token has this digest (compared in constant time), whatever its status: a
/// finished job's token still names its job, so the caller can answer "Job is not running".
pub fn job_id_by_token_digest(conn: &Connection, digest: &[u8]) -> rusqlite::Result<Option<i64>> {
    let found = conn
        .prepare_cached("SELECT id, token_digest FROM jobs WHERE token_digest = ?1")?
        .query_row([digest], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
        .optional()?;
    Ok(found.filter(|(_, stored)| auth::digests_match(stored, digest)).map(|(id, _)| id))
}

/// Whether the project limits job-token access to its allowlist (no row: off).
pub fn inbound_enabled(conn: &Connection, project_id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT inbound_enabled FROM job_token_scopes WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get::<_, bool>(0))
        .optional()?
        .unwrap_or(false))
}

/// Turns the project's inbound scope on or off.
pub fn set_inbound_enabled(
    conn: &Connection,
    project_id: i64,
    enabled: bool,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_token_scopes (project_id, inbound_enabled, updated_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (project_id) DO UPDATE SET inbound_enabled = excluded.inbound_enabled,
                                                updated_at = excluded.updated_at",
    )?
    .execute(params![project_id, enabled, now])?;
    Ok(())
}

/// Whether jobs of `source_project_id` may use their token against `target_project_id`: always
/// within one project; otherwise when the target's scope is off or lists the source, or a group
/// the source is in (directly or below).
pub fn may_access(
    conn: &Connection,
    target_project_id: i64,
    source_project_id: i64,
) -> rusqlite::Result<bool> {
    if target_project_id == source_project_id || !inbound_enabled(conn, target_project_id)? {
        return Ok(true);
    }
    let listed = conn
        .prepare_cached(
            "SELECT 1 FROM job_token_allowlist WHERE project_id = ?1 AND allowed_project_id = ?2",
        )?
        .query_row([target_project_id, source_project_id], |_| Ok(()))
        .optional()?
        .is_some();
    Ok(listed || super::job_token_groups::allows(conn, target_project_id, source_project_id)?)
}

/// One page of the projects on `project_id`'s allowlist, oldest entry first, and their count.
pub fn allowlist(
    conn: &Connection,
    project_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<ProjectRow>, i64)> {
    let rows = conn
        .prepare_cached(&format!(
            "{} JOIN job_token_allowlist a ON a.allowed_project_id = p.id
             WHERE a.project_id = ?1 ORDER BY a.created_at, p.id LIMIT ?2 OFFSET ?3",
            projects::SELECT
        ))?
        .query_map(params![project_id, limit, offset], ProjectRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM job_token_allowlist WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))?;
    Ok((rows, total))
}

/// Adds `allowed_project_id` to `project_id`'s allowlist; `false` if it was already there.
pub fn allow(
    conn: &Connection,
    project_id: i64,
    allowed_project_id: i64,
    now: &str,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO job_token_allowlist (project_id, allowed_project_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![project_id, allowed_project_id, now])?;
    Ok(n == 1)
}

/// Removes `allowed_project_id` from `project_id`'s allowlist; `false` if it was not there.
pub fn disallow(conn: &Connection, project_id: i64, allowed_project_id: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM job_token_allowlist WHERE project_id = ?1 AND allowed_project_id = ?2")?
        .execute([project_id, allowed_project_id])?;
    Ok(n == 1)
}

/// Where a pipeline came from when a job created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineSource {
    pub pipeline_id: i64,
    pub source_project_id: i64,
    pub source_pipeline_id: i64,
    pub source_job_id: i64,
    /// The `trigger:` job that created it; `None` for the trigger call with a job token.
    pub source_bridge_id: Option<i64>,
}

/// Records the upstream link of a new pipeline.
pub fn insert_source(conn: &Connection, s: &PipelineSource) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO pipeline_sources (pipeline_id, source_project_id, source_pipeline_id, source_job_id,
                                       source_bridge_id)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        s.pipeline_id,
        s.source_project_id,
        s.source_pipeline_id,
        s.source_job_id,
        s.source_bridge_id
    ])?;
    Ok(())
}

const SOURCE_COLUMNS: &str =
    "pipeline_id, source_project_id, source_pipeline_id, source_job_id, source_bridge_id";

fn source_from_row(r: &rusqlite::Row) -> rusqlite::Result<PipelineSource> {
    Ok(PipelineSource {
        pipeline_id: r.get(0)?,
        source_project_id: r.get(1)?,
        source_pipeline_id: r.get(2)?,
        source_job_id: r.get(3)?,
        source_bridge_id: r.get(4)?,
    })
}

/// The upstream link of a pipeline, if a job created it.
pub fn source_of(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<Option<PipelineSource>> {
    conn.prepare_cached(&format!("SELECT {SOURCE_COLUMNS} FROM pipeline_sources WHERE pipeline_id = ?1"))?
        .query_row([pipeline_id], source_from_row)
        .optional()
}

/// The pipelines the jobs of `pipeline_id` created, oldest first.
pub fn downstreams_of(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<Vec<PipelineSource>> {
    conn.prepare_cached(&format!(
        "SELECT {SOURCE_COLUMNS} FROM pipeline_sources WHERE source_pipeline_id = ?1 ORDER BY pipeline_id"
    ))?
    .query_map([pipeline_id], source_from_row)?
    .collect()
}
