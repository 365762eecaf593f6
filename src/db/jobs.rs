//! The `jobs` and `job_traces` tables: a pipeline's CI jobs, their status changes and logs.
//!
//! Every change of a job's status is followed, in the same write, by [`advance`], which asks
//! the pure [`ci::status::advance`] what follows (later stages enqueued or skipped, the pipeline's
//! composite status) and applies it with GitLab's timestamps. Runner-facing changes ([`run`],
//! [`finish`], [`append_trace`]) are conditional UPDATEs, so a job is never taken twice.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::{Deserialize, Serialize};

use super::users::UserRow;
use crate::ci::status::{self, JobStatus, ProgressJob};
use crate::ci::{PipelinePlan, PlannedJob, When};
use crate::model;

/// The statuses a cancel acts on (GitLab's `CANCELABLE_STATUSES`), as SQL.
const CANCELABLE_SQL: &str =
    "('created', 'waiting_for_resource', 'preparing', 'pending', 'running', 'manual', 'scheduled')";

/// Seconds from the timestamp column `col` to the bound timestamp `?now`, to the millisecond.
fn secs_since(col: &str, now: &str) -> String {
    format!("round((julianday({now}) - julianday({col})) * 86400.0, 3)")
}

/// A variable as a job carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecVariable {
    pub key: String,
    pub value: String,
}

/// What the runner needs to run a job, stored as JSON in `jobs.spec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub script: Vec<String>,
    pub before_script: Vec<String>,
    pub after_script: Vec<String>,
    pub image: Option<String>,
    pub tags: Vec<String>,
    pub timeout_secs: Option<u64>,
    /// The job's YAML variables (global, workflow rule, job, job rule: the later winning).
    pub variables: Vec<SpecVariable>,
}

impl JobSpec {
    pub fn from_plan(job: &PlannedJob) -> JobSpec {
        JobSpec {
            script: job.script.clone(),
            before_script: job.before_script.clone(),
            after_script: job.after_script.clone(),
            image: job.image.clone(),
            tags: job.tags.clone(),
            timeout_secs: job.timeout_secs,
            variables: job
                .variables
                .iter()
                .map(|(k, v)| SpecVariable { key: k.to_string(), value: v.to_string() })
                .collect(),
        }
    }
}

/// One job with the user who created it.
#[derive(Debug, Clone)]
pub struct JobRow {
    pub id: i64,
    pub project_id: i64,
    pub pipeline_id: i64,
    pub user_id: Option<i64>,
    pub name: String,
    pub stage: String,
    pub stage_idx: i64,
    pub status: String,
    pub when: String,
    pub allow_failure: bool,
    /// JSON [`JobSpec`].
    pub spec: String,
    /// JSON array of tags.
    pub tag_list: String,
    pub runner_id: Option<i64>,
    pub failure_reason: Option<String>,
    pub coverage: Option<f64>,
    pub retried: bool,
    pub retry_of: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub queued_at: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub erased_at: Option<String>,
    pub duration: Option<f64>,
    pub queued_duration: Option<f64>,
    pub user: Option<UserRow>,
}

const SELECT: &str = "SELECT j.id, j.project_id, j.pipeline_id, j.user_id, j.name, j.stage, j.stage_idx, \
     j.status, j.run_when, j.allow_failure, j.spec, j.tag_list, j.runner_id, j.failure_reason, j.coverage, \
     j.retried, j.retry_of, j.created_at, j.updated_at, j.queued_at, j.started_at, j.finished_at, \
     j.erased_at, j.duration, j.queued_duration, \
     users.id, users.username, users.name, users.email, users.is_admin, users.state, users.created_at \
     FROM jobs j LEFT JOIN users ON users.id = j.user_id";

/// Index of `users.id` in [`SELECT`].
const USER_OFFSET: usize = 25;

impl JobRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let user = match r.get::<_, Option<i64>>(USER_OFFSET)? {
            Some(_) => Some(UserRow::from_row_at(r, USER_OFFSET)?),
            None => None,
        };
        Ok(JobRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            pipeline_id: r.get(2)?,
            user_id: r.get(3)?,
            name: r.get(4)?,
            stage: r.get(5)?,
            stage_idx: r.get(6)?,
            status: r.get(7)?,
            when: r.get(8)?,
            allow_failure: r.get(9)?,
            spec: r.get(10)?,
            tag_list: r.get(11)?,
            runner_id: r.get(12)?,
            failure_reason: r.get(13)?,
            coverage: r.get(14)?,
            retried: r.get(15)?,
            retry_of: r.get(16)?,
            created_at: r.get(17)?,
            updated_at: r.get(18)?,
            queued_at: r.get(19)?,
            started_at: r.get(20)?,
            finished_at: r.get(21)?,
            erased_at: r.get(22)?,
            duration: r.get(23)?,
            queued_duration: r.get(24)?,
            user,
        })
    }

    /// The job's tags.
    pub fn tags(&self) -> Vec<String> {
        serde_json::from_str(&self.tag_list).unwrap_or_default()
    }

    /// The job's runner spec (`None` if the stored JSON is unreadable).
    pub fn spec(&self) -> Option<JobSpec> {
        serde_json::from_str(&self.spec).ok()
    }
}

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
    }
    advance(conn, pipeline_id, now)
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
pub fn advance(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<()> {
    let latest: Vec<Latest> = conn
        .prepare_cached(
            "SELECT id, stage_idx, run_when, allow_failure, status, started_at, finished_at
             FROM jobs WHERE pipeline_id = ?1 AND retried = 0 ORDER BY stage_idx, id",
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
        return Ok(());
    }
    let Some((current, created_at, started_at)) = conn
        .prepare_cached("SELECT status, created_at, started_at FROM pipelines WHERE id = ?1")?
        .query_row([pipeline_id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?)))
        .optional()?
    else {
        return Ok(());
    };
    let started_at: Option<String> = started_at;
    let current = JobStatus::parse(&current).unwrap_or(JobStatus::Created);
    let jobs: Vec<ProgressJob> = latest.iter().map(|l| l.progress).collect();
    let decision = status::advance(current, &jobs);
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
        conn.prepare_cached(sql)?.execute(params![id, now])?;
    }
    let new = decision.pipeline;
    if new == current {
        return Ok(());
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
    Ok(())
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

/// A job of a project by its global id.
pub fn find(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE j.project_id = ?1 AND j.id = ?2"))?
        .query_row(params![project_id, id], JobRow::from_row)
        .optional()
}

/// Which jobs a list returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only a pipeline's jobs.
    pub pipeline_id: Option<i64>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<String>,
    /// Include jobs replaced by a retry.
    pub include_retried: bool,
}

/// A page of a project's jobs, newest first, with the total count.
pub fn list(
    conn: &Connection,
    project_id: i64,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<JobRow>, i64)> {
    let mut filter = String::from("j.project_id = ?1");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(project_id)];
    if let Some(p) = f.pipeline_id {
        args.push(SqlValue::Integer(p));
        filter.push_str(&format!(" AND j.pipeline_id = ?{}", args.len()));
    }
    if !f.include_retried {
        filter.push_str(" AND j.retried = 0");
    }
    if !f.statuses.is_empty() {
        let mut marks = Vec::new();
        for s in &f.statuses {
            args.push(SqlValue::Text(s.clone()));
            marks.push(format!("?{}", args.len()));
        }
        filter.push_str(&format!(" AND j.status IN ({})", marks.join(", ")));
    }
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"))?
        .query_row(params_from_iter(&args), |r| r.get(0))?;
    args.push(SqlValue::Integer(offset));
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY j.id DESC {} OFFSET ?{}",
        super::limit_clause(limit),
        args.len()
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&args), JobRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The jobs a runner took (retried ones included), by id (`ascending` or newest first), only
/// those with `status` when given; with the total count.
pub fn list_for_runner(
    conn: &Connection,
    runner_id: i64,
    status: Option<&str>,
    ascending: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<JobRow>, i64)> {
    let filter = "j.runner_id = ?1 AND (?2 IS NULL OR j.status = ?2)";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"))?
        .query_row(params![runner_id, status], |r| r.get(0))?;
    let order = if ascending { "ASC" } else { "DESC" };
    let sql =
        format!("{SELECT} WHERE {filter} ORDER BY j.id {order} {} OFFSET ?3", super::limit_clause(limit));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![runner_id, status, offset], JobRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// A job's log (`None` when nothing was written).
pub fn trace(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<Vec<u8>>> {
    // `||` makes text of two blobs; read either as bytes.
    conn.prepare_cached("SELECT content FROM job_traces WHERE job_id = ?1")?
        .query_row([job_id], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
                _ => Vec::new(),
            })
        })
        .optional()
}

/// Appends to a job's log.
pub fn append_trace(conn: &Connection, job_id: i64, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_traces (job_id, content) VALUES (?1, ?2)
         ON CONFLICT (job_id) DO UPDATE SET content = CAST(content || excluded.content AS BLOB)",
    )?
    .execute(params![job_id, bytes])?;
    Ok(())
}

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
                          WHERE j.status = 'pending'
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

/// A `pending` or `running` job ends as `success`, `failed` (with a failure reason, GitLab's
/// `script_failure` by default) or `canceled`; `false` when it was not pending or running.
pub fn finish(
    conn: &Connection,
    job_id: i64,
    to: JobStatus,
    failure_reason: Option<&str>,
    now: &str,
) -> rusqlite::Result<bool> {
    let to = match to {
        JobStatus::Success | JobStatus::Failed | JobStatus::Canceled => to,
        _ => return Ok(false),
    };
    let reason = match to {
        JobStatus::Failed => Some(failure_reason.unwrap_or("script_failure")),
        _ => None,
    };
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = ?2, failure_reason = ?3, finished_at = ?4, updated_at = ?4,
                             duration = {}, token_digest = NULL
             WHERE id = ?1 AND status IN ('pending', 'running')",
            secs_since("started_at", "?4")
        ))?
        .execute(params![job_id, to.as_str(), reason, now])?;
    if n == 0 {
        return Ok(false);
    }
    advance(conn, pipeline_of(conn, job_id)?, now)?;
    Ok(true)
}

fn pipeline_of(conn: &Connection, job_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT pipeline_id FROM jobs WHERE id = ?1")?.query_row([job_id], |r| r.get(0))
}

/// Cancels one job if it is cancelable; returns whether it changed.
pub fn cancel(conn: &Connection, job_id: i64, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'canceled', finished_at = ?2, updated_at = ?2, duration = {},
                             token_digest = NULL
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
/// canceled itself, as before jobs existed. Returns whether anything changed.
pub fn cancel_pipeline(conn: &Connection, pipeline_id: i64, now: &str) -> rusqlite::Result<bool> {
    if !has_jobs(conn, pipeline_id)? {
        return super::pipelines::cancel(conn, pipeline_id, now);
    }
    let n = conn
        .prepare_cached(&format!(
            "UPDATE jobs SET status = 'canceled', finished_at = ?2, updated_at = ?2, duration = {},
                             token_digest = NULL
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
    conn.prepare_cached("UPDATE jobs SET retried = 1, updated_at = ?2 WHERE id = ?1")?
        .execute(params![job_id, now])?;
    Ok(new_id)
}

/// Jobs of later stages that were skipped are processed again (GitLab's
/// `ResetSkippedJobsService`): they go back to `created`.
fn reset_skipped_after(
    conn: &Connection,
    pipeline_id: i64,
    stage_idx: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE jobs SET status = 'created', updated_at = ?3
         WHERE pipeline_id = ?1 AND retried = 0 AND status = 'skipped' AND stage_idx > ?2",
    )?
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
        return super::pipelines::retry(conn, pipeline_id, now);
    }
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT id FROM jobs WHERE pipeline_id = ?1 AND retried = 0 AND status IN ('failed', 'canceled')
             ORDER BY id",
        )?
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

/// A job as the runner protocol authenticates it: status and the digest of its job token
/// (`None` once finished).
#[derive(Debug, Clone)]
pub struct JobTokenCheck {
    pub status: String,
    pub token_digest: Option<Vec<u8>>,
}

/// The status and job-token digest of a job by its global id.
pub fn token_check(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<JobTokenCheck>> {
    conn.prepare_cached("SELECT status, token_digest FROM jobs WHERE id = ?1")?
        .query_row([job_id], |r| Ok(JobTokenCheck { status: r.get(0)?, token_digest: r.get(1)? }))
        .optional()
}

/// A job by its global id (any project).
pub fn find_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE j.id = ?1"))?.query_row([id], JobRow::from_row).optional()
}

/// The variables a manual job was played with (JSON `[{key, value}]`), if any.
pub fn played_variables(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT job_variables FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The runner's heartbeat: a running job's `updated_at` becomes `now`.
pub fn touch_running(conn: &Connection, job_id: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE jobs SET updated_at = ?2 WHERE id = ?1 AND status = 'running'")?
        .execute(params![job_id, now])?;
    Ok(())
}

/// The size of a job's log in bytes (0 when nothing was written).
pub fn trace_size(conn: &Connection, job_id: i64) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT length(CAST(content AS BLOB)) FROM job_traces WHERE job_id = ?1")?
        .query_row([job_id], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .unwrap_or(0))
}

/// Fails every running job not updated since `before` (its runner went silent) with
/// `stuck_or_timeout_failure`, advancing each pipeline; returns the ids of the failed jobs.
pub fn fail_stuck_running(conn: &Connection, before: &str, now: &str) -> rusqlite::Result<Vec<i64>> {
    let ids: Vec<i64> = conn
        .prepare_cached("SELECT id FROM jobs WHERE status = 'running' AND updated_at < ?1 ORDER BY id")?
        .query_map([before], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut failed = Vec::with_capacity(ids.len());
    for id in ids {
        if finish(conn, id, JobStatus::Failed, Some("stuck_or_timeout_failure"), now)? {
            failed.push(id);
        }
    }
    Ok(failed)
}

/// The last `n` bytes of a job's log (fewer when it is shorter).
pub fn trace_tail(conn: &Connection, job_id: i64, n: i64) -> rusqlite::Result<Vec<u8>> {
    Ok(conn
        .prepare_cached(
            "SELECT substr(CAST(content AS BLOB), -?2) FROM job_traces WHERE job_id = ?1 AND ?2 > 0",
        )?
        .query_row(params![job_id, n], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
                _ => Vec::new(),
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// Replaces a job's log from byte `keep` on by `bytes` (for masking a secret that spans two
/// appends).
pub fn replace_trace_from(conn: &Connection, job_id: i64, keep: i64, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE job_traces SET content = CAST(substr(CAST(content AS BLOB), 1, ?2) || ?3 AS BLOB) WHERE job_id = ?1",
    )?
    .execute(params![job_id, keep, bytes])?;
    Ok(())
}
