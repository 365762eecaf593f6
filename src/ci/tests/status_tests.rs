use crate::ci::When;
use crate::ci::status::{
    CompositeStatus, InvalidTransition, JobEvent, JobStatus, ProgressJob, Transition, composite,
    pipeline_status, progress,
};

use JobStatus::*;

fn st(s: &str) -> JobStatus {
    JobStatus::parse(s).unwrap_or_else(|| panic!("unknown status {s}"))
}

#[test]
fn every_status_round_trips_through_its_gitlab_string() {
    for status in JobStatus::ALL {
        assert_eq!(JobStatus::parse(status.as_str()), Some(status));
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
    assert_eq!(JobStatus::parse("success_with_warnings"), None);
}

#[test]
fn composite_status_follows_gitlabs_ordered_rules() {
    // (statuses with "!" meaning allow_failure, expected status, expected warnings)
    let table: &[(&[&str], &str, bool)] = &[
        (&[], "success", false),
        (&["pending"], "pending", false),
        (&["running"], "running", false),
        (&["success"], "success", false),
        (&["success", "failed"], "failed", false),
        (&["success", "canceled"], "canceled", false),
        (&["failed", "canceled"], "failed", false),
        (&["pending", "success"], "running", false),
        (&["pending", "skipped"], "pending", false),
        (&["running", "failed"], "running", false),
        (&["skipped"], "skipped", false),
        (&["skipped", "canceled"], "canceled", false),
        (&["success", "failed!"], "success", true),
        (&["failed!"], "success", true),
        (&["canceled!"], "success", true),
        (&["skipped", "failed!"], "success", true),
        (&["manual!"], "skipped", false),
        (&["manual!", "success"], "success", false),
        (&["manual"], "manual", false),
        (&["manual", "success"], "manual", false),
        (&["manual", "failed"], "manual", false),
        (&["created"], "created", false),
        (&["created", "failed!"], "created", true),
        (&["created", "success"], "running", false),
        (&["created", "pending"], "pending", false),
        (&["created", "skipped"], "pending", false),
        (&["preparing"], "preparing", false),
        (&["preparing", "success"], "preparing", false),
        (&["waiting_for_resource"], "waiting_for_resource", false),
        (&["waiting_for_resource", "pending"], "running", false),
        (&["scheduled"], "scheduled", false),
        (&["scheduled", "manual"], "manual", false),
        (&["created", "failed"], "running", false),
        (&["canceled", "failed"], "failed", false),
        (&["success", "skipped", "failed!", "manual!"], "success", true),
    ];
    for (statuses, expected, warnings) in table {
        let jobs = statuses.iter().map(|s| match s.strip_suffix('!') {
            Some(s) => (st(s), true),
            None => (st(s), false),
        });
        assert_eq!(
            composite(jobs),
            CompositeStatus { status: st(expected), warnings: *warnings },
            "{statuses:?}"
        );
    }
}

#[test]
fn the_state_machine_allows_exactly_gitlabs_transitions() {
    use JobEvent::*;
    let allowed: &[(JobEvent, &[JobStatus], JobStatus)] = &[
        (Process, &[Skipped, Manual], Created),
        (Enqueue, &[Created, Skipped, Manual, Scheduled], Pending),
        (Run, &[Pending], Running),
        (Skip, &[Created, WaitingForResource, Preparing, Pending], Skipped),
        (Succeed, &[Created, WaitingForResource, Preparing, Pending, Running], Success),
        (Drop, &[Created, WaitingForResource, Preparing, Pending, Running, Manual, Scheduled], Failed),
        (Cancel, &[Created, WaitingForResource, Preparing, Pending, Running, Manual, Scheduled], Canceled),
        (Block, &[Created], Manual),
        (Delay, &[Created], Scheduled),
    ];
    for event in JobEvent::ALL {
        let (_, from, to) =
            allowed.iter().find(|(e, _, _)| *e == event).expect("every event is in the table");
        for status in JobStatus::ALL {
            let expected =
                if from.contains(&status) { Ok(*to) } else { Err(InvalidTransition { from: status, event }) };
            assert_eq!(status.apply(event), expected, "{event:?} from {status}");
        }
    }
}

#[test]
fn named_status_sets_match_gitlab() {
    let completed: Vec<_> = JobStatus::ALL.into_iter().filter(|s| s.is_completed()).collect();
    assert_eq!(completed, [Success, Failed, Canceled, Skipped]);
    let blocked: Vec<_> = JobStatus::ALL.into_iter().filter(|s| s.is_blocked()).collect();
    assert_eq!(blocked, [Manual, Scheduled]);
    assert!(Running.is_active() && Pending.is_active() && !Created.is_active());
    assert!(Manual.is_cancelable() && !Success.is_cancelable());
}

fn job(stage_idx: usize, when: When, allow_failure: bool, status: JobStatus) -> ProgressJob {
    ProgressJob { stage_idx, when, allow_failure, status }
}

fn moves(jobs: &[ProgressJob]) -> Vec<(usize, JobStatus)> {
    progress(jobs).into_iter().map(|Transition { index, to }| (index, to)).collect()
}

#[test]
fn a_new_pipeline_enqueues_only_its_first_stage() {
    let jobs = [
        job(1, When::OnSuccess, false, Created),
        job(1, When::OnSuccess, false, Created),
        job(2, When::OnSuccess, false, Created),
    ];
    assert_eq!(moves(&jobs), [(0, Pending), (1, Pending)]);
}

#[test]
fn the_next_stage_starts_when_every_earlier_job_succeeded() {
    let jobs = [
        job(1, When::OnSuccess, false, Success),
        job(1, When::OnSuccess, false, Running),
        job(2, When::OnSuccess, false, Created),
    ];
    assert!(moves(&jobs).is_empty());
    let jobs = [
        job(1, When::OnSuccess, false, Success),
        job(1, When::OnSuccess, false, Success),
        job(2, When::OnSuccess, false, Created),
    ];
    assert_eq!(moves(&jobs), [(2, Pending)]);
}

#[test]
fn after_a_failure_on_success_jobs_are_skipped_and_on_failure_and_always_jobs_run() {
    let jobs = [
        job(1, When::OnSuccess, false, Failed),
        job(2, When::OnSuccess, false, Created),
        job(2, When::OnFailure, false, Created),
        job(2, When::Always, false, Created),
        job(2, When::Manual, false, Created),
    ];
    assert_eq!(moves(&jobs), [(1, Skipped), (2, Pending), (3, Pending), (4, Skipped)]);
}

#[test]
fn after_success_on_failure_jobs_are_skipped() {
    let jobs = [job(1, When::OnSuccess, false, Success), job(2, When::OnFailure, false, Created)];
    assert_eq!(moves(&jobs), [(1, Skipped)]);
}

#[test]
fn an_allowed_failure_counts_as_success_for_later_stages() {
    let jobs = [
        job(1, When::OnSuccess, true, Failed),
        job(2, When::OnSuccess, false, Created),
        job(2, When::OnFailure, false, Created),
    ];
    assert_eq!(moves(&jobs), [(1, Pending), (2, Skipped)]);
}

#[test]
fn skips_cascade_through_later_stages_in_one_pass() {
    let jobs = [
        job(0, When::OnSuccess, false, Failed),
        job(1, When::OnSuccess, false, Created),
        job(2, When::OnSuccess, false, Created),
        job(3, When::OnFailure, false, Created),
    ];
    assert_eq!(moves(&jobs), [(1, Skipped), (2, Skipped), (3, Pending)]);
}

#[test]
fn manual_jobs_become_manual_and_block_later_stages_unless_allowed_to_fail() {
    let jobs = [job(1, When::Manual, false, Created), job(2, When::OnSuccess, false, Created)];
    assert_eq!(moves(&jobs), [(0, Manual)]);
    let jobs = [job(1, When::Manual, false, Manual), job(2, When::OnSuccess, false, Created)];
    assert!(moves(&jobs).is_empty());
    let jobs = [job(1, When::Manual, true, Manual), job(2, When::OnSuccess, false, Created)];
    assert_eq!(moves(&jobs), [(1, Pending)]);
}

#[test]
fn a_canceled_earlier_stage_skips_the_created_jobs() {
    let jobs = [job(1, When::OnSuccess, false, Canceled), job(2, When::Always, false, Created)];
    assert_eq!(moves(&jobs), [(1, Skipped)]);
}

#[test]
fn jobs_that_are_not_created_are_never_moved() {
    let jobs = [job(1, When::OnSuccess, false, Pending), job(1, When::OnSuccess, false, Success)];
    assert!(moves(&jobs).is_empty());
}

#[test]
fn the_pipeline_status_is_the_composite_of_its_jobs() {
    let jobs = [job(1, When::OnSuccess, false, Success), job(2, When::OnSuccess, true, Failed)];
    assert_eq!(pipeline_status(&jobs), CompositeStatus { status: Success, warnings: true });
    let jobs = [job(1, When::OnSuccess, false, Success), job(2, When::OnSuccess, false, Created)];
    assert_eq!(pipeline_status(&jobs).status, Running);
}

fn pj(stage_idx: usize, when: When, allow_failure: bool, status: JobStatus) -> ProgressJob {
    ProgressJob { stage_idx, when, allow_failure, status }
}

#[test]
fn advancing_a_new_pipeline_enqueues_its_first_stage_and_makes_it_pending() {
    use crate::ci::status::advance;
    let jobs = [pj(1, When::OnSuccess, false, Created), pj(2, When::OnSuccess, false, Created)];
    let a = advance(Created, &jobs);
    assert_eq!(a.jobs, vec![Transition { index: 0, to: Pending }]);
    assert_eq!(a.pipeline, Pending);
}

#[test]
fn advancing_a_pipeline_without_jobs_keeps_its_status() {
    use crate::ci::status::advance;
    assert_eq!(advance(Created, &[]).pipeline, Created);
}

#[test]
fn a_retried_job_makes_a_finished_pipeline_running_not_pending() {
    use crate::ci::status::{advance, pipeline_target};
    let jobs = [pj(1, When::OnSuccess, false, Created)];
    assert_eq!(advance(Failed, &jobs).pipeline, Running);
    assert_eq!(pipeline_target(Created, Pending), Pending);
    assert_eq!(pipeline_target(Running, Created), Running);
    assert_eq!(pipeline_target(Canceled, Pending), Running);
}

#[test]
fn the_last_job_finishing_finishes_the_pipeline() {
    use crate::ci::status::advance;
    let jobs = [pj(1, When::OnSuccess, false, Success), pj(2, When::OnSuccess, false, Created)];
    let a = advance(Running, &jobs);
    assert_eq!(a.jobs, vec![Transition { index: 1, to: Pending }]);
    assert_eq!(a.pipeline, Running);
    let jobs = [pj(1, When::OnSuccess, false, Failed), pj(2, When::OnSuccess, false, Created)];
    let a = advance(Running, &jobs);
    assert_eq!(a.jobs, vec![Transition { index: 1, to: Skipped }]);
    assert_eq!(a.pipeline, Failed);
}

#[test]
fn the_union_of_run_intervals_counts_overlaps_once() {
    use crate::ci::status::union_length;
    assert_eq!(union_length(&[]), 0);
    assert_eq!(union_length(&[(0, 10)]), 10);
    assert_eq!(union_length(&[(0, 10), (5, 15)]), 15);
    assert_eq!(union_length(&[(0, 10), (20, 25)]), 15);
    assert_eq!(union_length(&[(20, 25), (0, 10), (2, 3), (9, 10)]), 15);
    assert_eq!(union_length(&[(5, 5), (7, 3)]), 0);
}
