//! What every request handler shares.

use std::sync::Arc;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::{Notify, Semaphore, futures::Notified};

use crate::config::Config;
use crate::db::Db;

/// Shared application state, registered as `web::Data<AppState>`.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// The configured `server.external_url` (no trailing slash), if any.
    pub external_url: Option<String>,
    /// `http://<bound address>`: the base URL when a request names no usable host.
    pub bound_url: String,
    /// Bounds concurrent argon2 work (each hash holds ~19 MiB and 25–35 ms of a core).
    pub password_hashes: Arc<Semaphore>,
    /// Wakes the runners waiting in `POST /jobs/request` when a job may have become pending,
    /// or when the server stops.
    pub job_queue: Arc<JobQueue>,
    /// Failed trigger calls per client address (`triggers.max_failed_attempts`).
    pub trigger_failures: Arc<crate::throttle::Throttle>,
}

/// A hint that jobs may be claimable (the `jobs` rows stay the truth): a version counter and a
/// [`Notify`]. Every path that makes a job pending calls [`JobQueue::tick`] after its write
/// committed; a waiting runner registers with [`JobQueue::notified`] *before* it tries to
/// claim, so a tick between its claim and its wait is never missed.
///
/// It also carries the "stopping" state of a graceful stop: once [`JobQueue::stop`] was called,
/// every waiting runner is woken and answered at once, and new requests wait no more.
#[derive(Debug, Default)]
pub struct JobQueue {
    version: AtomicU64,
    notify: Notify,
    stopping: AtomicBool,
}

impl JobQueue {
    /// Jobs may have become pending: bump the version and wake every waiter.
    pub fn tick(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// The current version (sent as `X-GitLab-Last-Update`).
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }

    /// A future completing at the next [`JobQueue::tick`]; call `enable()` on it (pinned) to
    /// register before checking for work.
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The server is stopping: wake every waiter for good (long polls answer 204 at once).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.tick();
    }

    /// Whether [`JobQueue::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}
