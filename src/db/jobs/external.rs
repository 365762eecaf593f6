//! External jobs (GitLab's `GenericCommitStatus`): rows of `jobs` in stage `external` with a
//! `commit_statuses` row, created and moved by the commit status API. They count in their
//! pipeline's status like any job, but never reach a runner, are never swept as stuck or timed
//! out, and are never retried or played (`IS_EXTERNAL` keeps them out of those queries). Each
//! status change is an ordinary UPDATE of `jobs.status` followed by [`advance`].

use rusqlite::{Connection, OptionalExtension, params};

use super::{advance, secs_since};
use crate::ci::status::JobStatus;

/// SQL condition: the job `j` is an external job.
pub(crate) const IS_EXTERNAL: &str = "EXISTS (SELECT 1 FROM commit_statuses cs WHERE cs.job_id = j.id)";

/// The stage of every external job, and its index (`GenericCommitStatus::EXTERNAL_STAGE_IDX`:
/// always after the CI stages).
pub const STAGE: &str = "external";
pub const STAGE_IDX: i64 = 1_000_000;

/// A new external job `name` in `created`, by `user_id`; returns its id.
pub fn insert(
    conn: &Connection,
    project_id: i64,
    pipeline_id: i64,
    user_id: i64,
    name: &str,
    now: &str,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO jobs (project_id, pipeline_id, user_id, name, stage, stage_idx, status, run_when,
                           allow_failure, spec, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'created', 'on_success', 0, '{}', ?7, ?7)",
    )?
    .execute(params![project_id, pipeline_id, user_id, name, STAGE, STAGE_IDX, now])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached("INSERT INTO commit_statuses (job_id) VALUES (?1)")?.execute([id])?;
    Ok(id)
}

/// The external job a post updates in place (GitLab reuses one only while it is `pending` or
/// `running`, of the same name and user): its id and status.
pub fn reusable(
    conn: &Connection,
    pipeline_id: i64,
    name: &str,
    user_id: i64,
) -> rusqlite::Result<Option<(i64, String)>> {
    conn.prepare_cached(&format!(
        "SELECT j.id, j.status FROM jobs j
         WHERE j.pipeline_id = ?1 AND j.name = ?2 AND j.user_id = ?3 AND j.retried = 0
           AND j.status IN ('pending', 'running') AND {IS_EXTERNAL}
         ORDER BY j.id DESC LIMIT 1"
    ))?
    .query_row(params![pipeline_id, name, user_id], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// Whether a latest CI job (a build or a bridge) of the pipeline has this name.
pub fn name_taken_by_ci_job(conn: &Connection, pipeline_id: i64, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM jobs j WHERE j.pipeline_id = ?1 AND j.name = ?2 AND j.retried = 0
                                              AND NOT {IS_EXTERNAL})"
    ))?
    .query_row(params![pipeline_id, name], |r| r.get(0))
}

/// What a post sets on the job besides its status; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Details {
    pub target_url: Option<String>,
    pub description: Option<String>,
    pub coverage: Option<f64>,
}

/// Sets the given details of an external job.
pub fn set_details(conn: &Connection, job_id: i64, d: &Details, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE commit_statuses SET target_url = COALESCE(?2, target_url), description = COALESCE(?3, description)
         WHERE job_id = ?1",
    )?
    .execute(params![job_id, d.target_url, d.description])?;
    if d.coverage.is_some() {
        conn.prepare_cached("UPDATE jobs SET coverage = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![job_id, d.coverage, now])?;
    }
    Ok(())
}

/// Moves an external job to `to` with GitLab's timestamps: `queued_at` on entering `pending`,
/// `started_at` (and `queued_duration`) on entering `running`, `finished_at` (and `duration`
/// when it ran) on entering `success`, `failed` (reason `api_failure`) or `canceled`.
pub fn move_to(conn: &Connection, job_id: i64, to: JobStatus, now: &str) -> rusqlite::Result<()> {
    let sql = match to {
        JobStatus::Pending => {
            "UPDATE jobs SET status = ?3, queued_at = ?2, updated_at = ?2 WHERE id = ?1".to_string()
        }
        JobStatus::Running => format!(
            "UPDATE jobs SET status = ?3, started_at = ?2, updated_at = ?2, queued_duration = {}
             WHERE id = ?1",
            secs_since("queued_at", "?2")
        ),
        JobStatus::Success | JobStatus::Failed | JobStatus::Canceled => format!(
            "UPDATE jobs SET status = ?3, finished_at = ?2, updated_at = ?2, duration = {},
                             failure_reason = CASE WHEN ?3 = 'failed' THEN 'api_failure' END
             WHERE id = ?1",
            secs_since("started_at", "?2")
        ),
        _ => "UPDATE jobs SET status = ?3, updated_at = ?2 WHERE id = ?1".to_string(),
    };
    conn.prepare_cached(&sql)?.execute(params![job_id, now, to.as_str()])?;
    Ok(())
}

/// The other latest external jobs of that name in the pipeline become `retried` (hidden from
/// the latest views and from the pipeline's status), as GitLab's `AddJobService` does.
pub fn retire_others(
    conn: &Connection,
    pipeline_id: i64,
    name: &str,
    keep: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE jobs SET retried = 1, updated_at = ?4
         WHERE id IN (SELECT j.id FROM jobs j WHERE j.pipeline_id = ?1 AND j.name = ?2 AND j.id <> ?3
                                                 AND j.retried = 0 AND {IS_EXTERNAL})"
    ))?
    .execute(params![pipeline_id, name, keep, now])?;
    Ok(())
}

/// After an external job changed: the pipeline advances (its composite status, with GitLab's
/// timestamps) and its `coverage` becomes the mean of its latest jobs' coverage (`"%.2f"`).
/// Returns whether a job became `pending` somewhere (through a `strategy: depend` bridge whose
/// downstream pipeline this is, an upstream stage may start): then runners need waking.
pub fn settle(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<bool> {
    let enqueued = advance(conn, pipeline_id, now)?;
    conn.prepare_cached(
        "UPDATE pipelines SET coverage = (SELECT CASE WHEN COUNT(coverage) > 0 THEN printf('%.2f', AVG(coverage)) END
                                          FROM jobs
                                          WHERE pipeline_id = ?1 AND retried = 0 AND coverage IS NOT NULL)
         WHERE id = ?1",
    )?
    .execute([pipeline_id])?;
    Ok(enqueued)
}

/// `target_url` and `description` of an external job (`None` for other jobs).
pub fn details(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<(Option<String>, Option<String>)>> {
    conn.prepare_cached("SELECT target_url, description FROM commit_statuses WHERE job_id = ?1")?
        .query_row([job_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}
