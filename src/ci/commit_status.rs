//! What a commit status post does to an external job (GitLab's `GenericCommitStatus`, moved by
//! `Ci::CreateCommitStatusService`): the states the API accepts and the job state-machine events
//! each one fires (executor-reference §1.4), as pure functions.

use super::status::{JobEvent, JobStatus};

/// The `state` values `POST /projects/:id/statuses/:sha` accepts, in GitLab's order.
pub const STATES: [&str; 6] = ["pending", "running", "success", "failed", "canceled", "skipped"];

/// A state an external CI reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reported {
    Pending,
    Running,
    Success,
    Failed,
    Canceled,
    Skipped,
}

impl Reported {
    /// The state named by one of [`STATES`].
    pub fn parse(s: &str) -> Option<Reported> {
        Some(match s {
            "pending" => Reported::Pending,
            "running" => Reported::Running,
            "success" => Reported::Success,
            "failed" => Reported::Failed,
            "canceled" => Reported::Canceled,
            "skipped" => Reported::Skipped,
            _ => return None,
        })
    }
}

/// GitLab's name of a state-machine event, as its transition errors spell it.
fn event_name(event: JobEvent) -> &'static str {
    match event {
        JobEvent::Process => "process",
        JobEvent::Enqueue => "enqueue",
        JobEvent::Run => "run",
        JobEvent::Skip => "skip",
        JobEvent::Succeed => "success",
        JobEvent::Drop => "drop",
        JobEvent::Cancel => "cancel",
        JobEvent::Block => "actionize",
        JobEvent::Delay => "delay",
    }
}

/// GitLab's `StateMachines::InvalidTransition` message.
fn refusal(from: JobStatus, event: JobEvent) -> String {
    let e = event_name(event);
    format!(
        "Cannot transition status via :{e} from :{from} (Reason(s): Status cannot transition via \"{e}\")"
    )
}

/// The statuses an external job in status `from` passes through when `reported`, in order (the
/// last is where it ends), or GitLab's refusal message. `running` first enqueues when it can (a
/// new job goes created → pending → running); the other states fire one event: `enqueue!`,
/// `success!`, `drop!`, `cancel!`, `skip!`.
pub fn apply(from: JobStatus, reported: Reported) -> Result<Vec<JobStatus>, String> {
    let fire = |from: JobStatus, event: JobEvent| from.apply(event).map_err(|_| refusal(from, event));
    let mut path = Vec::new();
    let mut at = from;
    let event = match reported {
        Reported::Pending => JobEvent::Enqueue,
        Reported::Running => {
            if let Ok(pending) = at.apply(JobEvent::Enqueue) {
                path.push(pending);
                at = pending;
            }
            JobEvent::Run
        }
        Reported::Success => JobEvent::Succeed,
        Reported::Failed => JobEvent::Drop,
        Reported::Canceled => JobEvent::Cancel,
        Reported::Skipped => JobEvent::Skip,
    };
    path.push(fire(at, event)?);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use JobStatus::*;

    #[test]
    fn a_new_job_reaches_every_reported_state() {
        assert_eq!(apply(Created, Reported::Pending), Ok(vec![Pending]));
        assert_eq!(apply(Created, Reported::Running), Ok(vec![Pending, Running]));
        assert_eq!(apply(Created, Reported::Success), Ok(vec![Success]));
        assert_eq!(apply(Created, Reported::Failed), Ok(vec![Failed]));
        assert_eq!(apply(Created, Reported::Canceled), Ok(vec![Canceled]));
        assert_eq!(apply(Created, Reported::Skipped), Ok(vec![Skipped]));
    }

    #[test]
    fn a_pending_job_moves_on_but_is_not_enqueued_twice() {
        assert_eq!(apply(Pending, Reported::Running), Ok(vec![Running]));
        assert_eq!(apply(Pending, Reported::Success), Ok(vec![Success]));
        assert_eq!(apply(Pending, Reported::Skipped), Ok(vec![Skipped]));
        assert_eq!(
            apply(Pending, Reported::Pending).unwrap_err(),
            "Cannot transition status via :enqueue from :pending (Reason(s): Status cannot transition via \"enqueue\")"
        );
    }

    #[test]
    fn a_running_job_may_finish_but_not_run_enqueue_or_skip_again() {
        assert_eq!(apply(Running, Reported::Failed), Ok(vec![Failed]));
        assert_eq!(apply(Running, Reported::Canceled), Ok(vec![Canceled]));
        assert_eq!(
            apply(Running, Reported::Running).unwrap_err(),
            "Cannot transition status via :run from :running (Reason(s): Status cannot transition via \"run\")"
        );
        assert!(apply(Running, Reported::Pending).unwrap_err().contains(":enqueue from :running"));
        assert!(apply(Running, Reported::Skipped).unwrap_err().contains(":skip from :running"));
    }

    #[test]
    fn only_the_six_api_states_parse() {
        for s in STATES {
            assert!(Reported::parse(s).is_some());
        }
        for s in ["created", "manual", "scheduled", "Success", ""] {
            assert!(Reported::parse(s).is_none(), "{s}");
        }
    }
}
