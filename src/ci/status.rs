//! Job and pipeline statuses as pure functions: GitLab's status strings and named sets
//! (`Ci::HasStatus`), the job state machine (`commit_status.rb`), the composite status of a set
//! of jobs (`Gitlab::Ci::Status::Composite`) and stage progression (`AtomicProcessingService` +
//! `ProcessBuildService`, stage-ordered, without `needs:`).

use serde::Serialize;

use super::entry::When;

/// A job's status, spelled as GitLab spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Created,
    WaitingForResource,
    Preparing,
    Pending,
    Running,
    Success,
    Failed,
    Canceled,
    Skipped,
    Manual,
    Scheduled,
}

/// Pipelines (and stages) use the same status strings as jobs.
pub type PipelineStatus = JobStatus;

impl JobStatus {
    pub const ALL: [JobStatus; 11] = [
        JobStatus::Created,
        JobStatus::WaitingForResource,
        JobStatus::Preparing,
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Success,
        JobStatus::Failed,
        JobStatus::Canceled,
        JobStatus::Skipped,
        JobStatus::Manual,
        JobStatus::Scheduled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Created => "created",
            JobStatus::WaitingForResource => "waiting_for_resource",
            JobStatus::Preparing => "preparing",
            JobStatus::Pending => "pending",
            JobStatus::Running => "running",
            JobStatus::Success => "success",
            JobStatus::Failed => "failed",
            JobStatus::Canceled => "canceled",
            JobStatus::Skipped => "skipped",
            JobStatus::Manual => "manual",
            JobStatus::Scheduled => "scheduled",
        }
    }

    /// The status named by GitLab's string.
    pub fn parse(s: &str) -> Option<JobStatus> {
        JobStatus::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Taken or being taken by a runner (`ACTIVE_STATUSES`).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            JobStatus::WaitingForResource | JobStatus::Preparing | JobStatus::Pending | JobStatus::Running
        )
    }

    /// Finished (`COMPLETED_STATUSES`).
    pub fn is_completed(self) -> bool {
        matches!(self, JobStatus::Success | JobStatus::Failed | JobStatus::Canceled | JobStatus::Skipped)
    }

    /// What a pipeline cancel cancels.
    pub fn is_cancelable(self) -> bool {
        matches!(
            self,
            JobStatus::Created
                | JobStatus::WaitingForResource
                | JobStatus::Preparing
                | JobStatus::Pending
                | JobStatus::Running
                | JobStatus::Manual
                | JobStatus::Scheduled
        )
    }

    /// Waiting for a person or a time (`BLOCKED_STATUS`).
    pub fn is_blocked(self) -> bool {
        matches!(self, JobStatus::Manual | JobStatus::Scheduled)
    }

    /// Applies a state-machine event; `Err` when GitLab's machine has no such transition.
    pub fn apply(self, event: JobEvent) -> Result<JobStatus, InvalidTransition> {
        use JobStatus::*;
        let to = match (event, self) {
            (JobEvent::Process, Skipped | Manual) => Created,
            (JobEvent::Enqueue, Created | Skipped | Manual | Scheduled) => Pending,
            (JobEvent::Run, Pending) => Running,
            (JobEvent::Skip, Created | WaitingForResource | Preparing | Pending) => Skipped,
            (JobEvent::Succeed, Created | WaitingForResource | Preparing | Pending | Running) => Success,
            (
                JobEvent::Drop,
                Created | WaitingForResource | Preparing | Pending | Running | Manual | Scheduled,
            ) => Failed,
            (JobEvent::Cancel, s) if s.is_cancelable() => Canceled,
            (JobEvent::Block, Created) => Manual,
            (JobEvent::Delay, Created) => Scheduled,
            _ => return Err(InvalidTransition { from: self, event }),
        };
        Ok(to)
    }
}

impl std::fmt::Display for JobStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The job state machine's events (GitLab's names; `Block` is GitLab's `actionize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobEvent {
    Process,
    Enqueue,
    Run,
    Skip,
    Succeed,
    Drop,
    Cancel,
    Block,
    Delay,
}

impl JobEvent {
    pub const ALL: [JobEvent; 9] = [
        JobEvent::Process,
        JobEvent::Enqueue,
        JobEvent::Run,
        JobEvent::Skip,
        JobEvent::Succeed,
        JobEvent::Drop,
        JobEvent::Cancel,
        JobEvent::Block,
        JobEvent::Delay,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cannot {event:?} a {from} job")]
pub struct InvalidTransition {
    pub from: JobStatus,
    pub event: JobEvent,
}

/// The composite of a set of jobs: its status, and whether an allowed failure hides in a
/// `success` (GitLab's "passed with warnings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompositeStatus {
    pub status: JobStatus,
    pub warnings: bool,
}

/// The statuses the composite rules talk about: the job statuses plus GitLab's two
/// allow_failure stand-ins.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Seen {
    Job(JobStatus),
    SuccessWithWarnings,
    Ignored,
}

/// GitLab's composite status of `(status, allow_failure)` pairs, rules tried in order
/// (executor-reference §1.7). An empty set is `success`. (GitLab's `waiting_for_callback` and
/// `canceling` do not exist in triggerd, so their rules never apply.)
pub fn composite(jobs: impl IntoIterator<Item = (JobStatus, bool)>) -> CompositeStatus {
    use JobStatus::*;
    let mut seen: Vec<Seen> = Vec::new();
    for (status, allow_failure) in jobs {
        let s = match (status, allow_failure) {
            (Failed | Canceled, true) => Seen::SuccessWithWarnings,
            (Manual, true) => Seen::Ignored,
            (s, _) => Seen::Job(s),
        };
        if !seen.contains(&s) {
            seen.push(s);
        }
    }
    let warnings = seen.contains(&Seen::SuccessWithWarnings);
    let has = |s: JobStatus| seen.contains(&Seen::Job(s));
    // "only of": every distinct status present is in the list (the two stand-ins always are,
    // except SuccessWithWarnings in the first rule).
    let only_of = |allowed: &[JobStatus], with_warnings: bool| {
        seen.iter().all(|s| match s {
            Seen::Job(j) => allowed.contains(j),
            Seen::SuccessWithWarnings => with_warnings,
            Seen::Ignored => true,
        })
    };
    let status = if seen.is_empty() {
        Success
    } else if only_of(&[Skipped], false) {
        Skipped
    } else if only_of(&[Success, Skipped], true) {
        Success
    } else if only_of(&[Created], true) {
        Created
    } else if only_of(&[Preparing], true) {
        Preparing
    } else if only_of(&[Canceled, Success, Skipped], true) {
        Canceled
    } else if only_of(&[Pending, Created, Skipped], true) {
        Pending
    } else if has(Running) || has(Pending) {
        Running
    } else if has(WaitingForResource) {
        WaitingForResource
    } else if has(Manual) {
        Manual
    } else if has(Scheduled) {
        Scheduled
    } else if has(Preparing) {
        Preparing
    } else if has(Created) {
        Running
    } else {
        Failed
    };
    CompositeStatus { status, warnings }
}

/// What stage progression needs to know about a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProgressJob {
    pub stage_idx: usize,
    pub when: When,
    pub allow_failure: bool,
    pub status: JobStatus,
}

/// A job that must change status now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Index into the slice given to [`progress`].
    pub index: usize,
    pub to: JobStatus,
}

/// Which `created` jobs move now, after any job changed. Stage by stage, a created job looks at
/// the composite status of every earlier stage: while it is not finished the job waits; then
/// `on_success`/`manual` jobs run after success or skipped, `on_failure` after failed, `always`
/// after any of those three; otherwise the job is skipped. Running means `pending`, or `manual`
/// for manual jobs. Moves made in one stage are seen by the later stages.
pub fn progress(jobs: &[ProgressJob]) -> Vec<Transition> {
    let mut statuses: Vec<JobStatus> = jobs.iter().map(|j| j.status).collect();
    let mut stage_indices: Vec<usize> = jobs.iter().map(|j| j.stage_idx).collect();
    stage_indices.sort_unstable();
    stage_indices.dedup();
    let mut transitions = Vec::new();
    for stage in stage_indices {
        let prior = composite(
            jobs.iter()
                .zip(&statuses)
                .filter(|(j, _)| j.stage_idx < stage)
                .map(|(j, s)| (*s, j.allow_failure)),
        )
        .status;
        if !prior.is_completed() {
            continue;
        }
        for (index, job) in jobs.iter().enumerate() {
            if job.stage_idx != stage || statuses[index] != JobStatus::Created {
                continue;
            }
            let to = next_status(job.when, prior);
            statuses[index] = to;
            transitions.push(Transition { index, to });
        }
    }
    transitions
}

fn next_status(when: When, prior: JobStatus) -> JobStatus {
    use JobStatus::*;
    let runs = match when {
        When::OnSuccess | When::Manual => matches!(prior, Success | Skipped),
        When::OnFailure => prior == Failed,
        When::Always => matches!(prior, Success | Failed | Skipped),
        When::Never => false,
    };
    match (runs, when) {
        (true, When::Manual) => Manual,
        (true, _) => Pending,
        (false, _) => Skipped,
    }
}

/// The pipeline's status: the composite of all its jobs.
pub fn pipeline_status(jobs: &[ProgressJob]) -> CompositeStatus {
    composite(jobs.iter().map(|j| (j.status, j.allow_failure)))
}

/// What follows a job change: the jobs that move now and the pipeline's resulting status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    /// Jobs to move, indices into the slice given to [`advance`] (from [`progress`]).
    pub jobs: Vec<Transition>,
    /// The pipeline's status after those moves.
    pub pipeline: JobStatus,
}

/// The single decision made after any job of a pipeline changed: which `created` jobs move
/// ([`progress`]) and the pipeline status that follows from all its (latest) jobs
/// ([`pipeline_status`]) through GitLab's pipeline state machine ([`pipeline_target`]).
/// `current` is the pipeline's status before the change.
pub fn advance(current: JobStatus, jobs: &[ProgressJob]) -> Advance {
    let transitions = progress(jobs);
    let mut after = jobs.to_vec();
    for t in &transitions {
        after[t.index].status = t.to;
    }
    let pipeline =
        if jobs.is_empty() { current } else { pipeline_target(current, pipeline_status(&after).status) };
    Advance { jobs: transitions, pipeline }
}

/// GitLab's pipeline state machine, given the composite status of its jobs: a `created`
/// composite changes nothing, and `enqueue` on a finished pipeline (a retry) leads to `running`,
/// not `pending` (`Ci::Pipeline`'s `event :enqueue`).
pub fn pipeline_target(current: JobStatus, composite: JobStatus) -> JobStatus {
    use JobStatus::*;
    match composite {
        Created => current,
        Pending if matches!(current, Success | Failed | Canceled) => Running,
        other => other,
    }
}

/// A pipeline's `duration`: the total length of the union of its jobs' run intervals
/// (`[started, finished)` in any unit), as GitLab's `Ci::Pipeline::Duration` computes it.
pub fn union_length(intervals: &[(i64, i64)]) -> i64 {
    let mut sorted: Vec<(i64, i64)> = intervals.iter().copied().filter(|(s, e)| e > s).collect();
    sorted.sort_unstable();
    let mut total: i64 = 0;
    let mut current: Option<(i64, i64)> = None;
    for (s, e) in sorted {
        current = match current {
            Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total = total.saturating_add(ce - cs);
                Some((s, e))
            }
            None => Some((s, e)),
        };
    }
    if let Some((cs, ce)) = current {
        total = total.saturating_add(ce - cs);
    }
    total
}
