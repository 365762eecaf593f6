//! What every request handler shares.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::db::Db;
pub use crate::job_queue::JobQueue;

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
