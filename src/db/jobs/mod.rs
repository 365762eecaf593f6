//! The `jobs` and `job_traces` tables: a pipeline's CI jobs, their status changes and logs.
//!
//! Every change of a job's status is followed, in the same write, by [`advance`], which asks
//! the pure [`ci::status::advance`] what follows (later stages enqueued or skipped, the pipeline's
//! composite status) and applies it with GitLab's timestamps. Runner-facing changes ([`run`],
//! [`finish`], [`append_trace`]) are conditional UPDATEs, so a job is never taken twice.
//!
//! This module holds the row types and what the others share; `progress` creates a pipeline's
//! jobs and advances it, `reads` reads jobs, `runner` takes a job to its end for a runner (and
//! sweeps the silent and timed-out ones), `actions` cancels, retries and plays, `traces` keeps
//! the logs, `bridges` holds what `trigger:` jobs add (`job_bridges`: they never reach a runner,
//! and a `strategy: depend` one follows its downstream pipeline), `external` the jobs of the
//! commit status API (`commit_statuses`: never on a runner, never retried or played).

use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};

use super::users::UserRow;
use crate::ci::PlannedJob;

mod actions;
pub mod bridges;
pub mod external;
mod progress;
mod reads;
mod runner;
mod traces;

pub use actions::{cancel, cancel_pipeline, is_retryable, play, retry, retry_pipeline};
pub use progress::{advance, has_jobs, insert_plan, seconds_between};
pub use reads::{
    JobKind, JobTokenCheck, ListFilter, find, find_bridge, find_by_id, list, list_for_runner, page,
    played_variables, token_check,
};
pub use runner::{
    DEFAULT_TIMEOUT_SECS, Finished, RunnerScope, any_pending, claim, effective_timeout, fail_stuck_running,
    fail_timed_out, finish, run, touch_running,
};
pub use traces::{append_trace, replace_trace_from, trace, trace_size, trace_tail};

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

fn pipeline_of(conn: &Connection, job_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT pipeline_id FROM jobs WHERE id = ?1")?.query_row([job_id], |r| r.get(0))
}
