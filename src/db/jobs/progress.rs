//! Creating a pipeline's jobs and advancing a pipeline after a job change.

use rusqlite::{Connection, OptionalExtension, params};

use super::JobSpec;
use super::external::IS_EXTERNAL;

use crate::ci::status::{self, JobStatus, ProgressJob};
use crate::ci::{PipelinePlan, When};
use crate::model;

/// Inserts the planned jobs of a new pipeline (all `created`) and advances it: the first
/// stage's jobs become `pending` (or `manual`/`skipped`) and the pipeline `pending`.
pub fn insert_plan(
    conn: &Connection,
    pipeline_id: i64,
    project_id: i64,
    user_id: Option<i64>,
    plan: &PipelinePlan,
    now: &str,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO jobs (project_id, pipeline_id, user_id, name, stage, stage_idx, status, run_when,
                           allow_failure, spec, tag_list, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'created', ?7, ?8, ?9, ?10, ?11, ?11)",
    )?;
    for job in &plan.jobs {
        let spec = serde_json::to_string(&JobSpec::from_plan(job)).unwrap_or_else(|_| "{}".into());
        let tags = serde_json::to_string(&job.tags).unwrap_or_else(|_| "[]".into());
        stmt.execute(params![
            project_id,
            pipeline_id,
            user_id,
            job.name,
            job.stage,
            job.stage_idx as i64,
            job.when.as_str(),
            job.allow_failure,
            spec,
            tags,
            now
        ])?;
        super::bridges::insert(conn, conn.last_insert_rowid(), job)?;
    }
    advance(conn, pipeline_id, now)?;
    Ok(())
}

/// Whether the pipeline has any job.
pub fn has_jobs(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM jobs WHERE pipeline_id = ?1)")?
        .query_row([pipeline_id], |r| r.get(0))
}

/// What [`advance`] reads of each latest job.
struct Latest {
    id: i64,
    progress: ProgressJob,
    started_at: Option<String>,
    finished_at: Option<String>,
}

/// Applies what follows a job change (called in the same write as the change): created jobs
/// whose stage is reached move (`pending` with `queued_at`, `manual` or `skipped`), and the
/// pipeline takes the status of its latest jobs with GitLab's `started_at`, `finished_at`,
/// `duration` and `queued_duration`. A pipeline without jobs is left as it is.
///
/// When the pipeline's status changes and a `strategy: depend` bridge created it, the bridge
/// takes the inherited status and its pipeline advances in turn, up the chain of upstream
/// pipelines (each older than the one below it, so the walk ends).
///
/// Returns whether a job (a build or a bridge) became `pending` anywhere in that chain: only then
/// do waiting runners and the bridge worker need waking.
pub fn advance(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<bool> {
    let mut enqueued = false;
    let mut next = Some(pipeline_id);
    while let Some(id) = next.take() {
        let (changed, pending) = advance_one(conn, id, now)?;
        enqueued |= pending;
        if let Some(status) = changed {
            next = super::bridges::inherit(conn, id, status, now)?;
        }
    }
    Ok(enqueued)
}

/// [`advance`] for one pipeline: its new status when it changed, and whether a job became
/// `pending`.
fn advance_one(
    conn: &Connection,
    pipeline_id: i64,
    now: &str,
) -> rusqlite::Result<(Option<JobStatus>, bool)> {
    let latest: Vec<Latest> = conn
        .prepare_cached(
            // External jobs count in the status but not in the duration (GitLab's
            // `Ci::Pipeline::Duration` reads builds only): their run has no start here.
            &format!(
                "SELECT j.id, j.stage_idx, j.run_when, j.allow_failure, j.status,
                        CASE WHEN {IS_EXTERNAL} THEN NULL ELSE j.started_at END, j.finished_at
                 FROM jobs j WHERE j.pipeline_id = ?1 AND j.retried = 0 ORDER BY j.stage_idx, j.id"
            ),
        )?
        .query_map([pipeline_id], |r| {
            let when: String = r.get(2)?;
            let status: String = r.get(4)?;
            Ok(Latest {
                id: r.get(0)?,
                progress: ProgressJob {
                    stage_idx: r.get::<_, i64>(1)?.max(0) as usize,
                    when: When::parse(&when).unwrap_or(When::OnSuccess),
                    allow_failure: r.get(3)?,
                    status: JobStatus::parse(&status).unwrap_or(JobStatus::Failed),
                },
                started_at: r.get(5)?,
                finished_at: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if latest.is_empty() {
        return Ok((None, false));
    }
    let Some((current, created_at, started_at)) = conn
        .prepare_cached("SELECT status, created_at, started_at FROM pipelines WHERE id = ?1")?
        .query_row([pipeline_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)))
        .optional()?
    else {
        return Ok((None, false));
    };
    let started_at: Option<String> = started_at;
    let current = JobStatus::parse(&current).unwrap_or(JobStatus::Created);
    let jobs: Vec<ProgressJob> = latest.iter().map(|l| l.progress).collect();
    let decision = status::advance(current, &jobs);
    let mut enqueued = false;
    for t in &decision.jobs {
        let id = latest[t.index].id;
        let sql = match t.to {
            JobStatus::Pending => {
                "UPDATE jobs SET status = 'pending', queued_at = ?2, updated_at = ?2 WHERE id = ?1 AND status = 'created'"
            }
            JobStatus::Manual => {
                "UPDATE jobs SET status = 'manual', updated_at = ?2 WHERE id = ?1 AND status = 'created'"
            }
            _ => "UPDATE jobs SET status = 'skipped', updated_at = ?2 WHERE id = ?1 AND status = 'created'",
        };
        let moved = conn.prepare_cached(sql)?.execute(params![id, now])?;
        enqueued |= moved > 0 && t.to == JobStatus::Pending;
    }
    let new = decision.pipeline;
    if new == current {
        return Ok((None, enqueued));
    }
    use JobStatus::*;
    let started_at = match (new, started_at) {
        (Running, None) => Some(now.to_string()),
        (_, s) => s,
    };
    let finished_at: Option<String> = match new {
        Success | Failed | Canceled => Some(now.to_string()),
        Created | Pending | Running | WaitingForResource | Preparing => None,
        _ => conn
            .prepare_cached("SELECT finished_at FROM pipelines WHERE id = ?1")?
            .query_row([pipeline_id], |r| r.get(0))?,
    };
    let duration: Option<i64> = if matches!(new, Success | Failed | Canceled | Manual | Skipped) {
        started_at.as_ref().map(|_| run_seconds(&latest, now))
    } else {
        conn.prepare_cached("SELECT duration FROM pipelines WHERE id = ?1")?
            .query_row([pipeline_id], |r| r.get(0))?
    };
    let queued_duration = started_at
        .as_deref()
        .or(finished_at.as_deref())
        .and_then(|t| seconds_between(&created_at, t))
        .map(|s| s.floor() as i64)
        .filter(|s| *s > 0);
    conn.prepare_cached(
        "UPDATE pipelines SET status = ?2, updated_at = ?3, started_at = ?4, finished_at = ?5, duration = ?6,
                              queued_duration = ?7
         WHERE id = ?1",
    )?
    .execute(params![
        pipeline_id,
        new.as_str(),
        now,
        started_at,
        finished_at,
        duration,
        queued_duration
    ])?;
    Ok((Some(new), enqueued))
}

/// Whole seconds of the union of the latest jobs' run intervals (running ones up to `now`).
fn run_seconds(latest: &[Latest], now: &str) -> i64 {
    let millis = |t: &str| model::parse_stored(t).map(|t| (t.unix_timestamp_nanos() / 1_000_000) as i64);
    let intervals: Vec<(i64, i64)> = latest
        .iter()
        .filter_map(|l| {
            let start = millis(l.started_at.as_deref()?)?;
            let end = millis(l.finished_at.as_deref().unwrap_or(now))?;
            Some((start, end))
        })
        .collect();
    status::union_length(&intervals) / 1000
}

/// Seconds from `a` to `b` (stored timestamps).
pub fn seconds_between(a: &str, b: &str) -> Option<f64> {
    let (a, b) = (model::parse_stored(a)?, model::parse_stored(b)?);
    Some((b - a).as_seconds_f64())
}
