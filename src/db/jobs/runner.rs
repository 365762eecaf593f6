//! What a runner does to a job: take it (claim or run), keep it alive, finish it; and the
//! sweeps failing the running jobs whose runner went silent or that ran past their timeout.

use rusqlite::{Connection, OptionalExtension, params};

use super::bridges::IS_BRIDGE;
use super::external::IS_EXTERNAL;
use super::{advance, pipeline_of, seconds_between, secs_since};

use crate::ci::status::JobStatus;

/// A `pending` job starts `running` on a runner; `false` when it was no longer pending (another
/// runner took it, or it was canceled). The runner protocol's claim does the same in one UPDATE.
pub fn run(conn: &Connection, job_id: i64, runner_id: Option<i64>, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'running', runner_id = ?2, started_at = ?3, updated_at = ?3,
                             queued_duration = {}
             WHERE id = ?1 AND status = 'pending'",
            secs_since("queued_at", "?3")
        ))?
        .execute(params![job_id, runner_id, now])?;
    if n == 0 {
        return Ok(false);
    }
    advance(conn, pipeline_of(conn, job_id)?, now)?;
    Ok(true)
}

/// Which pending jobs a runner may take.
#[derive(Debug, Clone, Default)]
pub struct RunnerScope<'a> {
    /// A project runner's project; `None` for an instance runner (every project).
    pub project_id: Option<i64>,
    /// The runner's tags: a job runs only on a runner having all of its tags.
    pub tags: &'a [String],
    /// Whether the runner takes jobs without tags.
    pub run_untagged: bool,
}

/// Claims the oldest pending job the runner may take, in ONE conditional UPDATE (the
/// `jobs_pending` partial index finds candidates; `AND status = 'pending'` makes a second claimer
/// of the same job change nothing): it becomes `running` on `runner_id` with the job token's
/// digest, and the pipeline advances. Returns the job id, `None` when nothing matched.
pub fn claim(
    conn: &Connection,
    runner_id: i64,
    scope: &RunnerScope,
    token_digest: &[u8],
    now: &str,
) -> rusqlite::Result<Option<i64>> {
    let tags = serde_json::to_string(scope.tags).unwrap_or_else(|_| "[]".into());
    let claimed: Option<(i64, i64)> = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'running', runner_id = ?1, started_at = ?2, updated_at = ?2,
                             token_digest = ?3, queued_duration = {}
             WHERE id = (SELECT j.id FROM jobs j
                          WHERE j.status = 'pending' AND NOT {IS_BRIDGE} AND NOT {IS_EXTERNAL}
                            AND (?4 IS NULL OR j.project_id = ?4)
                            AND (?5 OR j.tag_list <> '[]')
                            AND NOT EXISTS (SELECT 1 FROM json_each(j.tag_list) t
                                             WHERE t.value NOT IN (SELECT value FROM json_each(?6)))
                          ORDER BY j.id LIMIT 1)
               AND status = 'pending'
             RETURNING id, pipeline_id",
            secs_since("queued_at", "?2")
        ))?
        .query_row(params![runner_id, now, token_digest, scope.project_id, scope.run_untagged, tags], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    let Some((id, pipeline_id)) = claimed else { return Ok(None) };
    advance(conn, pipeline_id, now)?;
    Ok(Some(id))
}

/// Whether any job (not a bridge) is pending: after a runner's claim, whether the next runner
/// must be woken. One probe of the `jobs_pending` partial index.
pub fn any_pending(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM jobs j WHERE j.status = 'pending' AND NOT {IS_BRIDGE})"
    ))?
    .query_row([], |r| r.get(0))
}

/// What [`finish`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The job was not pending or running: nothing changed.
    No,
    /// The job ended; `enqueued` when that made later jobs `pending` (runners need waking).
    Yes { enqueued: bool },
}

impl Finished {
    pub fn changed(self) -> bool {
        matches!(self, Finished::Yes { .. })
    }
}

/// A `pending` or `running` job ends as `success`, `failed` (with a failure reason, GitLab's
/// `script_failure` by default) or `canceled`.
pub fn finish(
    conn: &Connection,
    job_id: i64,
    to: JobStatus,
    failure_reason: Option<&str>,
    now: &str,
) -> rusqlite::Result<Finished> {
    let to = match to {
        JobStatus::Success | JobStatus::Failed | JobStatus::Canceled => to,
        _ => return Ok(Finished::No),
    };
    let reason = match to {
        JobStatus::Failed => Some(failure_reason.unwrap_or("script_failure")),
        _ => None,
    };
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = ?2, failure_reason = ?3, finished_at = ?4, updated_at = ?4,
                             duration = {}
             WHERE id = ?1 AND status IN ('pending', 'running')",
            secs_since("started_at", "?4")
        ))?
        .execute(params![job_id, to.as_str(), reason, now])?;
    if n == 0 {
        return Ok(Finished::No);
    }
    let enqueued = advance(conn, pipeline_of(conn, job_id)?, now)?;
    Ok(Finished::Yes { enqueued })
}

/// The runner's heartbeat: a running job's `updated_at` becomes `now`.
pub fn touch_running(conn: &Connection, job_id: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE jobs SET updated_at = ?2 WHERE id = ?1 AND status = 'running'")?
        .execute(params![job_id, now])?;
    Ok(())
}

/// Fails every running job not updated since `before` (its runner went silent) with
/// `stuck_or_timeout_failure`, advancing each pipeline; returns the ids of the failed jobs.
pub fn fail_stuck_running(conn: &Connection, before: &str, now: &str) -> rusqlite::Result<Vec<i64>> {
    let ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT j.id FROM jobs j INDEXED BY jobs_running
             WHERE j.status = 'running' AND j.updated_at < ?1 AND NOT {IS_BRIDGE}
               AND NOT {IS_EXTERNAL}
             ORDER BY j.id"
        ))?
        .query_map([before], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut failed = Vec::with_capacity(ids.len());
    for id in ids {
        if finish(conn, id, JobStatus::Failed, Some("stuck_or_timeout_failure"), now)?.changed() {
            failed.push(id);
        }
    }
    Ok(failed)
}

/// A job's timeout when it names none (GitLab's project default, 1 hour).
pub const DEFAULT_TIMEOUT_SECS: i64 = 3600;

/// A job's timeout in seconds: its `timeout:` (else [`DEFAULT_TIMEOUT_SECS`]), capped by the
/// runner's `maximum_timeout` when it has one (GitLab's `Ci::Build#timeout`).
pub fn effective_timeout(job_timeout: Option<u64>, runner_maximum: Option<i64>) -> i64 {
    let wanted = job_timeout.map_or(DEFAULT_TIMEOUT_SECS, |t| i64::try_from(t).unwrap_or(i64::MAX));
    runner_maximum.filter(|m| *m > 0).map_or(wanted, |m| wanted.min(m))
}

/// Fails every running job that has run (since `started_at`) longer than its timeout (see
/// [`effective_timeout`], with the runner's current `maximum_timeout`) with
/// `job_execution_timeout`, advancing each pipeline; returns the ids of the failed jobs.
pub fn fail_timed_out(conn: &Connection, now: &str) -> rusqlite::Result<Vec<i64>> {
    let timed_out: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT j.id, j.started_at, json_extract(j.spec, '$.timeout_secs'), r.maximum_timeout
             FROM jobs j INDEXED BY jobs_running LEFT JOIN runners r ON r.id = j.runner_id
             WHERE j.status = 'running' AND NOT {IS_BRIDGE} AND NOT {IS_EXTERNAL} ORDER BY j.id"
        ))?
        .query_map([], |r| {
            let timeout =
                effective_timeout(r.get::<_, Option<i64>>(2)?.and_then(|t| u64::try_from(t).ok()), r.get(3)?);
            let ran = r.get::<_, Option<String>>(1)?.and_then(|s| seconds_between(&s, now));
            Ok((r.get::<_, i64>(0)?, ran.is_some_and(|secs| secs > timeout as f64)))
        })?
        .filter_map(|row| match row {
            Ok((id, true)) => Some(Ok(id)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<rusqlite::Result<_>>()?;
    let mut failed = Vec::with_capacity(timed_out.len());
    for id in timed_out {
        if finish(conn, id, JobStatus::Failed, Some("job_execution_timeout"), now)?.changed() {
            failed.push(id);
        }
    }
    Ok(failed)
}
