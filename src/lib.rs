//! triggerd: GitLab's REST API v4 for pipeline trigger tokens and pipelines, in one binary
//! with one SQLite file. `build` assembles the server; `main.rs` only parses the command line.

pub mod api;
pub mod auth;
pub mod base64;
pub mod bootstrap;
pub mod ci;
pub mod cli;
pub mod config;
pub mod db;
pub mod error;
pub mod hooks;
pub mod job_queue;
pub mod model;
pub mod state;
pub mod throttle;
pub mod web;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, DefaultHeaders, Logger, from_fn};
use actix_web::{App, HttpServer, web as actix};

use crate::config::Config;
use crate::db::Db;
use crate::state::{AppState, JobQueue};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Database(#[from] db::OpenError),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
}

/// Headers on every response (names in lower case). The panic guard adds them to its 500 too.
pub const RESPONSE_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "SAMEORIGIN"),
    ("cache-control", "no-store"),
];

/// Opens the database (creating and bootstrapping it on first start) and builds the HTTP
/// server on an already-bound listener. The server runs when the returned future is awaited;
/// SIGTERM stops it gracefully, SIGINT and SIGQUIT at once (see [`Stopper`]).
pub fn build(config: Config, listener: TcpListener) -> Result<Server, StartupError> {
    start(config, listener).map(|(server, _)| server)
}

/// Stops a server built by [`start`]: first the long polls waiting in `POST /jobs/request`
/// (they answer 204 at once, so a graceful stop does not wait for them), then actix's own stop
/// (no new connections; a graceful one lets in-flight requests finish within
/// `server.shutdown_timeout_secs`).
#[derive(Clone)]
pub struct Stopper {
    handle: ServerHandle,
    job_queue: Arc<JobQueue>,
    hooks: Arc<hooks::Deliverer>,
}

impl Stopper {
    /// Stops the server; completes once it has stopped.
    pub async fn stop(&self, graceful: bool) {
        self.job_queue.stop();
        self.hooks.stop();
        self.handle.stop(graceful).await;
    }
}

/// [`build`], also returning the [`Stopper`] (tests stop their servers with it).
pub fn start(config: Config, listener: TcpListener) -> Result<(Server, Stopper), StartupError> {
    let db = Db::open(&config.database, |conn| bootstrap::root_user(conn, &config))?;
    let addr = listener.local_addr()?;
    let external_url =
        Some(config.server.external_url.trim_end_matches('/')).filter(|u| !u.is_empty()).map(str::to_string);
    let bound_url = format!("http://{addr}");
    if !addr.ip().is_loopback() && !external_url.as_deref().is_some_and(|u| u.starts_with("https://")) {
        log::warn!(
            "the web UI's sign-in and session cookie travel over plain http on {addr}: put TLS in front and set \
             server.external_url to its https:// URL"
        );
    }
    log::info!(
        "listening on http://{addr} (database {}, SQLite {})",
        config.database.path.display(),
        rusqlite::version()
    );
    let state = actix::Data::new(AppState {
        db,
        external_url,
        bound_url,
        password_hashes: Arc::new(tokio::sync::Semaphore::new(config.limits.max_concurrent_password_hashes)),
        config: Arc::new(config.clone()),
        job_queue: Arc::new(JobQueue::default()),
        trigger_failures: Arc::new(throttle::Throttle::default()),
    });
    // Fails jobs whose runner went silent; started at every boot, so it also covers jobs that
    // were running when the server stopped.
    if tokio::runtime::Handle::try_current().is_ok() {
        actix_web::rt::spawn(api::runner_jobs::sweep_stuck_jobs(state.clone()));
        // Creates the downstream pipelines of `trigger:` jobs (and catches up after a restart).
        actix_web::rt::spawn(api::bridges::run_bridges(state.clone()));
        // Deletes idempotency keys of trigger calls older than their 24-hour window.
        actix_web::rt::spawn(api::idempotency::sweep_expired_keys(state.clone()));
        // Keeps the audit log of trigger calls within its retention.
        actix_web::rt::spawn(api::trigger_audit::sweep_events(state.clone()));
    }
    let job_queue = state.job_queue.clone();
    // Delivers the webhook outbox (and catches up after a restart: the outbox is durable).
    let deliverer = hooks::Deliverer::new(
        state.db.clone(),
        config.webhooks.clone(),
        state.external_url.clone().unwrap_or_else(|| state.bound_url.clone()),
    );
    if tokio::runtime::Handle::try_current().is_ok() {
        actix_web::rt::spawn(deliverer.clone().run());
    }
    let web_state = actix::Data::new(crate::web::WebState::default());
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web_state.clone())
            // Innermost: a panicking handler still gets the headers, compression and access log.
            .wrap(from_fn(api::panic_guard::catch_panics))
            .wrap(Compress::default())
            .wrap(RESPONSE_HEADERS.iter().fold(DefaultHeaders::new(), |h, pair| h.add(*pair)))
            .wrap(access_log())
            .configure(api::configure)
            // After the API: `/api/v4/…` and `/-/health` match first; pages are not API routes.
            .configure(crate::web::configure)
            .default_service(actix::to(api::no_route))
    })
    .shutdown_timeout(config.server.shutdown_timeout_secs)
    .client_request_timeout(Duration::from_secs(5))
    // Blocking work is reads (at most `pool_size` connections) and argon2 (its own limit): more
    // threads than that only wait, each with its own stack and malloc arena.
    .worker_max_blocking_threads(
        config.database.pool_size as usize + config.limits.max_concurrent_password_hashes,
    );
    if config.server.workers > 0 {
        server = server.workers(config.server.workers);
    }
    // The signals are ours, not actix's: a stop must reach the long polls first.
    let server = server.disable_signals().listen(listener)?.run();
    let stopper = Stopper { handle: server.handle(), job_queue, hooks: deliverer };
    if tokio::runtime::Handle::try_current().is_ok() {
        actix_web::rt::spawn(stop_on_signal(stopper.clone()));
    }
    Ok((server, stopper))
}

/// Waits for SIGTERM (a graceful stop), SIGINT or SIGQUIT (an immediate one), as actix would.
#[cfg(unix)]
async fn stop_on_signal(stopper: Stopper) {
    use futures_util::future::{Either, select};
    use std::pin::pin;
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int), Ok(mut quit)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()), signal(SignalKind::quit()))
    else {
        log::warn!("cannot listen for signals: stop the server with SIGKILL");
        return;
    };
    let (term, int, quit) = (pin!(term.recv()), pin!(int.recv()), pin!(quit.recv()));
    let graceful = matches!(select(term, select(int, quit)).await, Either::Left(_));
    if graceful {
        log::info!("SIGTERM received: stopping gracefully");
    } else {
        log::info!("SIGINT or SIGQUIT received: stopping now");
    }
    stopper.stop(graceful).await;
}

/// Waits for Ctrl-C (an immediate stop), as actix would.
#[cfg(not(unix))]
async fn stop_on_signal(stopper: Stopper) {
    if tokio::signal::ctrl_c().await.is_ok() {
        log::info!("Ctrl-C received: stopping now");
        stopper.stop(false).await;
    }
}

/// The access log: method, path without the query string (clients put `token=` and
/// `private_token=` there), status, size and time. Never headers or bodies.
fn access_log() -> Logger {
    Logger::new("%a \"%{METHOD}xi %U\" %s %b %Dms")
        .custom_request_replace("METHOD", |req| req.method().to_string())
        .log_target("triggerd::access")
}
