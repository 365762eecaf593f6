//! What a person does to jobs: cancel, retry, play.

use rusqlite::{Connection, OptionalExtension, params};

use super::external::IS_EXTERNAL;
use super::{CANCELABLE_SQL, advance, has_jobs, pipeline_of, secs_since};

/// Cancels one job if it is cancelable; returns whether it changed.
pub fn cancel(conn: &Connection, job_id: i64, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'canceled', finished_at = ?2, updated_at = ?2, duration = {}
             WHERE id = ?1 AND status IN {CANCELABLE_SQL}",
            secs_since("started_at", "?2")
        ))?
        .execute(params![job_id, now])?;
    if n == 0 {
        return Ok(false);
    }
    advance(conn, pipeline_of(conn, job_id)?, now)?;
    Ok(true)
}

/// Cancels every unfinished job of a pipeline and advances it. A pipeline without jobs is
/// canceled itself, as before jobs existed. The downstream pipelines of its unfinished
/// `strategy: depend` bridges are canceled too, and theirs (a worklist: no recursion). Returns
/// whether anything of `pipeline_id` changed.
pub fn cancel_pipeline(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<bool> {
    let mut work = vec![pipeline_id];
    let mut changed = None;
    while let Some(id) = work.pop() {
        work.extend(super::bridges::depend_downstreams(conn, id)?);
        let c = cancel_one_pipeline(conn, id, now)?;
        changed.get_or_insert(c);
    }
    Ok(changed.unwrap_or(false))
}

fn cancel_one_pipeline(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<bool> {
    // GitLab never cancels a pipeline of source `external` (`cancelable?`): a no-op.
    let external: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pipelines WHERE id = ?1 AND source = 'external')")?
        .query_row([pipeline_id], |r| r.get(0))?;
    if external {
        return Ok(false);
    }
    if !has_jobs(conn, pipeline_id)? {
        return crate::db::pipelines::cancel(conn, pipeline_id, now);
    }
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'canceled', finished_at = ?2, updated_at = ?2, duration = {}
             WHERE pipeline_id = ?1 AND retried = 0 AND status IN {CANCELABLE_SQL}",
            secs_since("started_at", "?2")
        ))?
        .execute(params![pipeline_id, now])?;
    advance(conn, pipeline_id, now)?;
    Ok(n > 0)
}

/// Whether GitLab would retry a job in this status (`Ci::Build#retryable?`).
pub fn is_retryable(status: &str) -> bool {
    matches!(status, "success" | "failed" | "canceled")
}

/// Replaces a job by a new `created` copy (GitLab's clone; the old row becomes `retried`) and
/// returns the new id. `pending` makes the copy pending at once (playing a finished manual job).
fn clone_job(
    conn: &Connection,
    job_id: i64,
    user_id: Option<i64>,
    pending: bool,
    now: &str,
) -> rusqlite::Result<i64> {
    let status = if pending { "pending" } else { "created" };
    let queued_at = pending.then_some(now);
    conn.prepare_cached(
        "INSERT INTO jobs (project_id, pipeline_id, user_id, name, stage, stage_idx, status, run_when,
                           allow_failure, spec, tag_list, job_variables, retry_of, created_at, updated_at,
                           queued_at)
         SELECT project_id, pipeline_id, COALESCE(?2, user_id), name, stage, stage_idx, ?3, run_when,
                allow_failure, spec, tag_list, job_variables, id, ?4, ?4, ?5
         FROM jobs WHERE id = ?1",
    )?
    .execute(params![job_id, user_id, status, now, queued_at])?;
    let new_id = conn.last_insert_rowid();
    super::bridges::copy(conn, job_id, new_id)?;
    conn.prepare_cached("UPDATE jobs SET retried = 1, updated_at = ?2 WHERE id = ?1")?
        .execute(params![job_id, now])?;
    Ok(new_id)
}

/// Jobs of later stages that were skipped are processed again (GitLab's
/// `ResetSkippedJobsService`): they go back to `created`.
pub(super) fn reset_skipped_after(
    conn: &Connection,
    pipeline_id: i64,
    stage_idx: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE jobs SET status = 'created', updated_at = ?3
         WHERE id IN (SELECT j.id FROM jobs j WHERE j.pipeline_id = ?1 AND j.retried = 0 AND j.status = 'skipped'
                                                 AND j.stage_idx > ?2 AND NOT {IS_EXTERNAL})"
    ))?
    .execute(params![pipeline_id, stage_idx, now])?;
    Ok(())
}

/// Retries one job: a new job replaces it (its later skipped jobs are processed again) and the
/// pipeline advances. `None` when the job is not retryable (or already retried).
pub fn retry(
    conn: &Connection,
    job_id: i64,
    user_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<Option<i64>> {
    let Some((pipeline_id, stage_idx, status, retried)) = conn
        .prepare_cached("SELECT pipeline_id, stage_idx, status, retried FROM jobs WHERE id = ?1")?
        .query_row([job_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    if retried || !is_retryable(&status) {
        return Ok(None);
    }
    let new_id = clone_job(conn, job_id, user_id, false, now)?;
    reset_skipped_after(conn, pipeline_id, stage_idx, now)?;
    advance(conn, pipeline_id, now)?;
    Ok(Some(new_id))
}

/// Retries a pipeline: each latest failed or canceled job is replaced by a new one, skipped jobs
/// are processed again, and the pipeline advances. A pipeline without jobs goes back to
/// `pending` when it failed or was canceled, as before jobs existed. Returns whether it changed.
pub fn retry_pipeline(
    conn: &Connection,
    pipeline_id: i64,
    user_id: Option<i64>,
    now: &str,
) -> rusqlite::Result<bool> {
    if !has_jobs(conn, pipeline_id)? {
        return crate::db::pipelines::retry(conn, pipeline_id, now);
    }
    let ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT j.id FROM jobs j WHERE j.pipeline_id = ?1 AND j.retried = 0 AND j.status IN ('failed', 'canceled')
                                     AND NOT {IS_EXTERNAL}
             ORDER BY j.id"
        ))?
        .query_map([pipeline_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if ids.is_empty() {
        return Ok(false);
    }
    for id in &ids {
        clone_job(conn, *id, user_id, false, now)?;
    }
    reset_skipped_after(conn, pipeline_id, -1, now)?;
    advance(conn, pipeline_id, now)?;
    Ok(true)
}

/// Plays a manual job: a `manual` job becomes `pending`; a finished manual job is retried as a
/// new pending job. `job_variables` (JSON) are kept with the job that runs. Returns the id of
/// the job that now runs, or `None` when the job is not playable.
pub fn play(
    conn: &Connection,
    job_id: i64,
    user_id: Option<i64>,
    job_variables: Option<&str>,
    now: &str,
) -> rusqlite::Result<Option<i64>> {
    let Some((pipeline_id, status, when, retried)) = conn
        .prepare_cached("SELECT pipeline_id, status, run_when, retried FROM jobs WHERE id = ?1")?
        .query_row([job_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })
        .optional()?
    else {
        return Ok(None);
    };
    if retried || when != "manual" {
        return Ok(None);
    }
    let id = if status == "manual" {
        conn.prepare_cached(
            "UPDATE jobs SET status = 'pending', queued_at = ?2, updated_at = ?2, user_id = COALESCE(?3, user_id)
             WHERE id = ?1 AND status = 'manual'",
        )?
        .execute(params![job_id, now, user_id])?;
        job_id
    } else if is_retryable(&status) {
        clone_job(conn, job_id, user_id, true, now)?
    } else {
        return Ok(None);
    };
    if let Some(vars) = job_variables {
        conn.prepare_cached("UPDATE jobs SET job_variables = ?2 WHERE id = ?1")?
            .execute(params![id, vars])?;
    }
    advance(conn, pipeline_id, now)?;
    Ok(Some(id))
}
