//! The sweeper: fails running jobs whose runner went silent.

use std::time::Duration;

use actix_web::web;
use time::OffsetDateTime;

use crate::db::jobs as store;
use crate::model;
use crate::state::AppState;

/// Every `runners.sweep_interval_secs`, fails the running jobs whose runner sent nothing (no
/// state update, no log) for `runners.stuck_running_timeout_secs` with
/// `stuck_or_timeout_failure` (GitLab's `StuckCiJobsWorker`), and those that ran longer than
/// their timeout with `job_execution_timeout` (the runner enforces it too; this covers a runner
/// that died or never reports), advancing their pipelines.
pub async fn sweep_stuck_jobs(state: web::Data<AppState>) {
    let every = Duration::from_secs(state.config.runners.sweep_interval_secs.max(1));
    let silent = i64::try_from(state.config.runners.stuck_running_timeout_secs).unwrap_or(i64::MAX);
    loop {
        let before = model::format_ts(
            OffsetDateTime::now_utc()
                .checked_sub(time::Duration::seconds(silent))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        let now = model::now();
        match state.db.write(move |c| Ok(store::fail_stuck_running(c, &before, &now)?)).await {
            Ok(failed) if !failed.is_empty() => {
                log::warn!("failed {} job(s) whose runner went silent: {failed:?}", failed.len());
                state.job_queue.tick();
            }
            Ok(_) => {}
            Err(e) => log::warn!("stuck job sweep: {e}"),
        }
        let now = model::now();
        match state.db.write(move |c| Ok(store::fail_timed_out(c, &now)?)).await {
            Ok(failed) if !failed.is_empty() => {
                log::warn!("failed {} job(s) that ran past their timeout: {failed:?}", failed.len());
                state.job_queue.tick();
            }
            Ok(_) => {}
            Err(e) => log::warn!("job timeout sweep: {e}"),
        }
        tokio::time::sleep(every).await;
    }
}
