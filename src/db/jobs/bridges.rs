//! `trigger:` jobs (bridges): rows of `jobs` with a `job_bridges` row naming their downstream.
//! They never reach a runner; the bridge worker (`api::bridges::worker`) takes each `pending`
//! one to `running`, `success` or `failed` once it tried to create the downstream pipeline, and
//! a `strategy: depend` bridge then follows its downstream pipeline ([`inherit`], called by
//! `advance` whenever a pipeline's status changes).

use rusqlite::{Connection, OptionalExtension, params};

use super::{CANCELABLE_SQL, SpecVariable, actions, secs_since};
use crate::ci::PlannedJob;
use crate::ci::status::JobStatus;

/// SQL condition: the job `j` is a bridge.
pub(crate) const IS_BRIDGE: &str = "j.is_bridge = 1";

/// One bridge with what its worker needs of its job.
#[derive(Debug, Clone)]
pub struct BridgeRow {
    pub job_id: i64,
    pub pipeline_id: i64,
    pub project_id: i64,
    pub user_id: Option<i64>,
    pub status: String,
    /// The downstream project's full path.
    pub project: String,
    pub branch: Option<String>,
    pub depend: bool,
    pub forward_yaml: bool,
    pub forward_pipeline: bool,
    pub yaml_variables: Vec<SpecVariable>,
}

/// Records the downstream of a planned `trigger:` job just inserted as `job_id`.
pub(super) fn insert(conn: &Connection, job_id: i64, job: &PlannedJob) -> rusqlite::Result<()> {
    let Some(spec) = &job.trigger else { return Ok(()) };
    let vars: Vec<SpecVariable> = job
        .variables
        .iter()
        .map(|(k, v)| SpecVariable { key: k.to_string(), value: v.to_string() })
        .collect();
    let vars = serde_json::to_string(&vars).unwrap_or_else(|_| "[]".into());
    conn.prepare_cached(
        "INSERT INTO job_bridges (job_id, project, branch, depend, forward_yaml, forward_pipeline, yaml_variables)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        job_id,
        spec.project,
        spec.branch,
        spec.depend,
        spec.forward_yaml_variables,
        spec.forward_pipeline_variables,
        vars
    ])?;
    Ok(())
}

/// A retry's new job `to` keeps the downstream of the bridge `from` (nothing if `from` is a build).
pub(super) fn copy(conn: &Connection, from: i64, to: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_bridges (job_id, project, branch, depend, forward_yaml, forward_pipeline, yaml_variables)
         SELECT ?2, project, branch, depend, forward_yaml, forward_pipeline, yaml_variables
         FROM job_bridges WHERE job_id = ?1",
    )?
    .execute([from, to])?;
    Ok(())
}

/// The latest bridges waiting for their downstream pipeline, oldest first: a walk of the
/// `jobs_pending_bridges` partial index, which holds nothing else.
pub fn pending_ids(conn: &Connection) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(
        "SELECT id FROM jobs INDEXED BY jobs_pending_bridges
         WHERE status = 'pending' AND is_bridge = 1 AND retried = 0 ORDER BY id",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// A bridge by its job id.
pub fn find(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<BridgeRow>> {
    conn.prepare_cached(
        "SELECT j.id, j.pipeline_id, j.project_id, j.user_id, j.status, b.project, b.branch, b.depend,
                b.forward_yaml, b.forward_pipeline, b.yaml_variables
         FROM jobs j JOIN job_bridges b ON b.job_id = j.id WHERE j.id = ?1",
    )?
    .query_row([job_id], |r| {
        let vars: String = r.get(10)?;
        Ok(BridgeRow {
            job_id: r.get(0)?,
            pipeline_id: r.get(1)?,
            project_id: r.get(2)?,
            user_id: r.get(3)?,
            status: r.get(4)?,
            project: r.get(5)?,
            branch: r.get(6)?,
            depend: r.get(7)?,
            forward_yaml: r.get(8)?,
            forward_pipeline: r.get(9)?,
            yaml_variables: serde_json::from_str(&vars).unwrap_or_default(),
        })
    })
    .optional()
}

/// A `pending` bridge whose downstream pipeline was created starts: `running` when it depends on
/// it, else `success` at once. Then its pipeline advances. `false` when it was not pending.
pub fn start(conn: &Connection, job_id: i64, depend: bool, now: &str) -> rusqlite::Result<bool> {
    let sql = if depend {
        format!(
            "UPDATE jobs SET status = 'running', started_at = ?2, updated_at = ?2, queued_duration = {}
             WHERE id = ?1 AND status = 'pending'",
            secs_since("queued_at", "?2")
        )
    } else {
        format!(
            "UPDATE jobs SET status = 'success', started_at = ?2, finished_at = ?2, updated_at = ?2,
                             duration = 0, queued_duration = {}
             WHERE id = ?1 AND status = 'pending'",
            secs_since("queued_at", "?2")
        )
    };
    let n = conn.prepare_cached(&sql)?.execute(params![job_id, now])?;
    if n == 0 {
        return Ok(false);
    }
    super::advance(conn, super::pipeline_of(conn, job_id)?, now)?;
    Ok(true)
}

/// A `pending` bridge that could not create its downstream pipeline fails with `reason`, and its
/// pipeline advances. `false` when it was not pending.
pub fn fail(conn: &Connection, job_id: i64, reason: &str, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'failed', failure_reason = ?3, finished_at = ?2, updated_at = ?2,
                             queued_duration = {}
             WHERE id = ?1 AND status = 'pending'",
            secs_since("queued_at", "?2")
        ))?
        .execute(params![job_id, now, reason])?;
    if n == 0 {
        return Ok(false);
    }
    super::advance(conn, super::pipeline_of(conn, job_id)?, now)?;
    Ok(true)
}

/// The status a `strategy: depend` bridge takes from its downstream pipeline's final status
/// (GitLab's `Ci::Bridge#inherit_status_from_downstream!`); `None` while it is not final.
fn inherited(downstream: &str) -> Option<(JobStatus, Option<&'static str>)> {
    match downstream {
        "success" => Some((JobStatus::Success, None)),
        "canceled" => Some((JobStatus::Canceled, None)),
        "failed" | "skipped" => Some((JobStatus::Failed, Some("unknown_failure"))),
        _ => None,
    }
}

/// After the status of `pipeline_id` changed to `status`: the `strategy: depend` bridge that
/// created it (the latest one, whatever its status: a retried downstream that succeeds turns a
/// failed bridge into a success, as GitLab's `inherit_success` does) takes the inherited status.
/// Returns the bridge's pipeline when the bridge changed, which the caller then advances; a
/// bridge's pipeline is always older than its downstream, so following these links ends.
pub(super) fn inherit(
    conn: &Connection,
    pipeline_id: i64,
    status: JobStatus,
    now: &str,
) -> rusqlite::Result<Option<i64>> {
    let Some((to, reason)) = inherited(status.as_str()) else { return Ok(None) };
    let bridge: Option<(i64, i64, i64, String)> = conn
        .prepare_cached(
            "SELECT j.id, j.pipeline_id, j.stage_idx, j.status
             FROM pipeline_sources s JOIN jobs j ON j.id = s.source_bridge_id
             JOIN job_bridges b ON b.job_id = j.id
             WHERE s.pipeline_id = ?1 AND b.depend = 1 AND j.retried = 0 AND j.status <> 'pending'",
        )?
        .query_row([pipeline_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    let Some((bridge_id, upstream, stage_idx, from)) = bridge else { return Ok(None) };
    if from == to.as_str() {
        return Ok(None);
    }
    conn.prepare_cached(&format!(
        "UPDATE jobs SET status = ?2, failure_reason = ?3, finished_at = ?4, updated_at = ?4,
                         duration = {}
         WHERE id = ?1",
        secs_since("started_at", "?4")
    ))?
    .execute(params![bridge_id, to.as_str(), reason, now])?;
    // A bridge that failed and now succeeds lets the stages it had skipped run.
    if to == JobStatus::Success {
        actions::reset_skipped_after(conn, upstream, stage_idx, now)?;
    }
    Ok(Some(upstream))
}

/// The downstream pipelines of the `strategy: depend` bridges of `pipeline_id` that a cancel of
/// the pipeline will cancel.
pub(super) fn depend_downstreams(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached(&format!(
        "SELECT s.pipeline_id FROM jobs j JOIN job_bridges b ON b.job_id = j.id
         JOIN pipeline_sources s ON s.source_bridge_id = j.id
         WHERE j.pipeline_id = ?1 AND j.retried = 0 AND b.depend = 1 AND j.status IN {CANCELABLE_SQL}
         ORDER BY s.pipeline_id"
    ))?
    .query_map([pipeline_id], |r| r.get(0))?
    .collect()
}

/// `running` depend bridges whose downstream pipeline already ended (a change the worker
/// catches up with, e.g. after a restart): the downstream pipelines and their statuses.
pub fn settled_downstreams(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    conn.prepare_cached(
        "SELECT p.id, p.status FROM jobs j INDEXED BY jobs_running
         JOIN job_bridges b ON b.job_id = j.id
         JOIN pipeline_sources s ON s.source_bridge_id = j.id JOIN pipelines p ON p.id = s.pipeline_id
         WHERE j.status = 'running' AND j.is_bridge = 1 AND j.retried = 0 AND b.depend = 1
           AND p.status IN ('success', 'failed', 'canceled', 'skipped')",
    )?
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect()
}

/// Applies [`inherit`] for a downstream pipeline found by [`settled_downstreams`].
pub fn catch_up(conn: &Connection, downstream: i64, status: &str, now: &str) -> rusqlite::Result<()> {
    let Some(status) = JobStatus::parse(status) else { return Ok(()) };
    if let Some(upstream) = inherit(conn, downstream, status, now)? {
        super::advance(conn, upstream, now)?;
    }
    Ok(())
}

/// The pipelines above `pipeline_id` (itself first) by their upstream links, as
/// `(project_id, ref, source)`, at most `limit` of them.
pub fn self_and_upstreams(
    conn: &Connection,
    pipeline_id: i64,
    limit: usize,
) -> rusqlite::Result<Vec<(i64, String, String)>> {
    let mut out = Vec::new();
    let mut next = Some(pipeline_id);
    while let Some(id) = next.take() {
        if out.len() >= limit {
            break;
        }
        let row: Option<(i64, String, String, Option<i64>)> = conn
            .prepare_cached(
                "SELECT p.project_id, p.ref, p.source, s.source_pipeline_id
                 FROM pipelines p LEFT JOIN pipeline_sources s ON s.pipeline_id = p.id WHERE p.id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((project, ref_name, source, up)) = row else { break };
        out.push((project, ref_name, source));
        // Upstream pipelines are older: a link to a newer one would be a cycle.
        next = up.filter(|u| *u < id);
    }
    Ok(out)
}

/// The downstream pipeline a bridge created, if any.
pub fn downstream_of(conn: &Connection, bridge_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT pipeline_id FROM pipeline_sources WHERE source_bridge_id = ?1")?
        .query_row([bridge_id], |r| r.get(0))
        .optional()
}
