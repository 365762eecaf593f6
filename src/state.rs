//! What every request handler shares.

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::Config;
use crate::db::Db;

/// Shared application state, registered as `web::Data<AppState>`.
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    /// Base URL for `web_url` and `Link`; `None` = take it from the request's `Host` header.
    pub external_url: Option<String>,
    /// Bounds concurrent argon2 work (each hash holds ~19 MiB and 25–35 ms of a core).
    pub password_hashes: Arc<Semaphore>,
}
