//! The hint that jobs may be claimable (the `jobs` rows stay the truth), and who to wake for it.
//!
//! Every path that makes a job pending calls [`JobQueue::tick`] after its write committed. A tick
//! bumps a version and wakes ONE waiting runner (the one waiting longest), not all of them: every
//! woken runner runs a claim write, and with many runners waiting all but one of those found
//! nothing. A woken runner then passes the wake-up on ([`JobQueue::pass_on`]) as long as pending
//! jobs are left after its look:
//!
//! - it took a job and more are pending (a stage of several jobs): it wakes the next runner;
//! - it took nothing although jobs are pending (their tags or project are not its own, or it is
//!   paused): it wakes every runner that has not looked since the tick, the old broadcast, so a
//!   runner that can take the job is never left asleep behind runners that cannot.
//!
//! A runner waits only if the version it read *before* its look is still current
//! ([`JobQueue::wait`]), so a tick between its look and its wait is never missed; a waiter that
//! goes away (its long poll timed out, its client left) after a wake-up reached it passes that
//! wake-up on instead of losing it. The bridges worker and a graceful stop still hear every tick
//! ([`JobQueue::notified`] is a broadcast).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, futures::Notified, oneshot};

/// See the module documentation.
#[derive(Debug, Default)]
pub struct JobQueue {
    /// The tick count, also sent as `X-GitLab-Last-Update`; written under `waiters`' lock.
    version: AtomicU64,
    /// Waiting runners in arrival order, each with the version it looked at. The versions never
    /// decrease along the queue, so the ones that have not looked since the last tick are in front.
    waiters: Mutex<VecDeque<(u64, oneshot::Sender<()>)>>,
    /// Every tick, for the bridges worker.
    changes: Notify,
    stopping: AtomicBool,
}

/// What a woken runner's look left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looked {
    /// It took a job.
    Claimed,
    /// It took nothing.
    Nothing,
}

impl JobQueue {
    /// Jobs may have become pending: bump the version, wake the bridges worker and one runner.
    pub fn tick(&self) {
        let mut waiters = self.lock();
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        wake_one(&mut waiters, version);
        drop(waiters);
        self.changes.notify_waiters();
    }

    /// The current version (sent as `X-GitLab-Last-Update`). A runner reads it before it looks
    /// for a job and hands it to [`JobQueue::wait`].
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// A future completing at the next tick, for every listener (the bridges worker); call
    /// `enable()` on it (pinned) to register before checking for work.
    pub fn notified(&self) -> Notified<'_> {
        self.changes.notified()
    }

    /// Queues a runner that looked at version `seen` and found nothing: `None` when it must look
    /// again at once (a tick came since, or the server is stopping).
    pub fn wait(self: &Arc<Self>, seen: u64) -> Option<Waiter> {
        let mut waiters = self.lock();
        if self.version.load(Ordering::SeqCst) != seen || self.is_stopping() {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        waiters.push_back((seen, tx));
        Some(Waiter { rx, queue: Arc::clone(self), received: false })
    }

    /// After a woken runner's look: passes the wake-up on while pending jobs are left (see the
    /// module documentation).
    pub fn pass_on(&self, looked: Looked, pending_left: bool) {
        if !pending_left {
            return;
        }
        let mut waiters = self.lock();
        let version = self.version.load(Ordering::SeqCst);
        match looked {
            Looked::Claimed => {
                wake_one(&mut waiters, version);
            }
            Looked::Nothing => while wake_one(&mut waiters, version) {},
        }
    }

    /// A runner's own settings changed (paused, tags, projects): wake every waiting runner, so
    /// that one looks again whichever it is (rare: an API call by a person).
    pub fn wake_all(&self) {
        let mut waiters = self.lock();
        let version = self.version.fetch_add(1, Ordering::SeqCst) + 1;
        while wake_one(&mut waiters, version) {}
        drop(waiters);
        self.changes.notify_waiters();
    }

    /// The server is stopping: wake every waiter for good (long polls answer 204 at once).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut waiters = self.lock();
        self.version.fetch_add(1, Ordering::SeqCst);
        for (_, tx) in waiters.drain(..) {
            let _ = tx.send(());
        }
        drop(waiters);
        self.changes.notify_waiters();
    }

    /// Whether [`JobQueue::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// How many runners wait (for tests and diagnostics).
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(u64, oneshot::Sender<()>)>> {
        // The queue stays consistent whatever panicked while holding the lock.
        self.waiters.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Wakes the longest-waiting runner that has not looked at `version`, skipping those that went
/// away; false when there is none.
fn wake_one(waiters: &mut VecDeque<(u64, oneshot::Sender<()>)>, version: u64) -> bool {
    while waiters.front().is_some_and(|(seen, _)| *seen < version) {
        if let Some((_, tx)) = waiters.pop_front()
            && tx.send(()).is_ok()
        {
            return true;
        }
    }
    false
}

/// A queued runner. Await [`Waiter::woken`]; dropping it (a timeout, a client that left) after a
/// wake-up reached it passes that wake-up to the next runner.
#[derive(Debug)]
pub struct Waiter {
    rx: oneshot::Receiver<()>,
    queue: Arc<JobQueue>,
    received: bool,
}

impl Waiter {
    /// Completes when a tick (or a passed-on wake-up, or the stop) reaches this runner. The
    /// runner then owes a look and a [`JobQueue::pass_on`].
    pub async fn woken(&mut self) {
        if (&mut self.rx).await.is_ok() {
            self.received = true;
        }
    }
}

impl Drop for Waiter {
    fn drop(&mut self) {
        if self.received {
            return;
        }
        self.rx.close();
        if self.rx.try_recv().is_ok() {
            // Woken, but gone before looking: the next runner looks instead.
            let mut waiters = self.queue.lock();
            let version = self.queue.version.load(Ordering::SeqCst);
            wake_one(&mut waiters, version);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> Arc<JobQueue> {
        Arc::new(JobQueue::default())
    }

    /// Whether the waiter has been woken, without waiting.
    fn is_woken(w: &mut Waiter) -> bool {
        let got = w.rx.try_recv().is_ok();
        w.received |= got;
        got
    }

    #[test]
    fn a_tick_wakes_one_runner_the_one_waiting_longest() {
        let q = queue();
        let v = q.version();
        let mut a = q.wait(v).unwrap();
        let mut b = q.wait(v).unwrap();
        q.tick();
        assert!(is_woken(&mut a));
        assert!(!is_woken(&mut b));
        assert_eq!(q.waiting(), 1);
    }

    #[test]
    fn a_runner_that_looked_before_a_tick_does_not_wait() {
        let q = queue();
        let v = q.version();
        q.tick();
        assert!(q.wait(v).is_none(), "it must look again");
        assert!(q.wait(q.version()).is_some());
    }

    #[test]
    fn a_runner_that_cannot_take_the_job_wakes_every_runner_that_has_not_looked() {
        let q = queue();
        let v = q.version();
        let mut tagged = q.wait(v).unwrap();
        let mut b = q.wait(v).unwrap();
        let mut c = q.wait(v).unwrap();
        q.tick();
        assert!(is_woken(&mut tagged));
        assert!(!is_woken(&mut b));
        // The woken runner looked at the new version, found a job it may not take, and waits again.
        let seen = q.version();
        let mut tagged_again = q.wait(seen).unwrap();
        q.pass_on(Looked::Nothing, true);
        assert!(is_woken(&mut b) && is_woken(&mut c), "the wake-up was lost");
        assert!(!is_woken(&mut tagged_again), "it already looked at this version");
    }

    #[test]
    fn a_runner_that_took_a_job_wakes_one_more_while_jobs_are_pending() {
        let q = queue();
        let v = q.version();
        let mut a = q.wait(v).unwrap();
        let mut b = q.wait(v).unwrap();
        let mut c = q.wait(v).unwrap();
        q.tick();
        assert!(is_woken(&mut a));
        q.pass_on(Looked::Claimed, true);
        assert!(is_woken(&mut b));
        assert!(!is_woken(&mut c));
        q.pass_on(Looked::Claimed, false);
        q.pass_on(Looked::Nothing, false);
        assert!(!is_woken(&mut c), "nothing is pending: nobody else needs to look");
    }

    #[test]
    fn a_runner_that_leaves_after_its_wake_up_passes_it_on() {
        let q = queue();
        let v = q.version();
        let a = q.wait(v).unwrap();
        let mut b = q.wait(v).unwrap();
        q.tick();
        drop(a); // its long poll ended just as the wake-up came
        assert!(is_woken(&mut b), "the wake-up was lost with the runner that left");
    }

    #[test]
    fn a_runner_that_left_before_the_tick_is_skipped() {
        let q = queue();
        let v = q.version();
        drop(q.wait(v).unwrap());
        let mut b = q.wait(v).unwrap();
        q.tick();
        assert!(is_woken(&mut b));
    }

    #[test]
    fn stopping_wakes_every_runner_and_stops_the_waiting() {
        let q = queue();
        let v = q.version();
        let mut a = q.wait(v).unwrap();
        let mut b = q.wait(v).unwrap();
        q.stop();
        assert!(is_woken(&mut a) && is_woken(&mut b));
        assert!(q.wait(q.version()).is_none());
    }
}
