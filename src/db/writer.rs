//! The writer thread: every write of the server runs here, on one connection, and whatever is
//! queued when the writer turns to the queue runs as one transaction (group commit). Each caller
//! is answered only after that transaction's `COMMIT` returned.
//!
//! A batch first runs its writes one after another with no savepoint of their own. A write that
//! fails (`Err` or a panic) without having changed a row — a validation refusal, a unique key
//! caught by its statement — leaves nothing to undo, so the batch goes on. Only a write that
//! fails after it changed rows makes the writer roll the batch back and run it again with each
//! write in a savepoint of its own, so that the failed write is undone alone and every other one
//! still commits. Savepoints cost every write a statement pair and a copy of each page it touches
//! (4–6 % of a trigger call; BENCHMARKS.md, round three); a failure after writing is rare.
//!
//! A write may thus run twice: its closure is `Fn`, and must not act outside the database.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::{execute_cached, hook_deliveries};
use crate::error::{ApiError, ApiResult, is_disk_full};

/// A queued write (or trial), type-erased for the queue.
pub(super) trait Job: Send {
    /// Runs the write on `conn`, inside the batch transaction, keeping its outcome. Returns
    /// `false` when the batch must be rolled back and replayed: a bare run failed after it
    /// changed rows (or panicked, or lost the transaction).
    fn run(&mut self, conn: &Connection, mode: Mode) -> bool;
    /// Answers the caller once the batch's fate is known (`Err` when it did not commit).
    fn answer(self: Box<Self>, commit: Result<(), CommitFailure>);
}

/// How a job runs in its batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Straight in the batch transaction.
    Bare,
    /// In a savepoint of its own, rolled back alone if the write fails (the replay).
    Savepoint,
}

/// Why a batch did not commit; each caller of the batch gets it.
#[derive(Debug, Clone)]
pub(super) enum CommitFailure {
    DiskFull,
    Other(String),
}

impl From<CommitFailure> for ApiError {
    fn from(f: CommitFailure) -> Self {
        match f {
            CommitFailure::DiskFull => {
                ApiError::Unavailable("the database disk is full; writes resume when space returns")
            }
            CommitFailure::Other(m) => ApiError::Internal(format!("commit: {m}")),
        }
    }
}

impl From<&rusqlite::Error> for CommitFailure {
    fn from(e: &rusqlite::Error) -> Self {
        if is_disk_full(e) { CommitFailure::DiskFull } else { CommitFailure::Other(e.to_string()) }
    }
}

/// A write: its outcome counts only if the batch commits.
pub(super) struct Write<T, F> {
    f: F,
    outcome: Option<ApiResult<T>>,
    reply: oneshot::Sender<ApiResult<T>>,
}

impl<T, F> Write<T, F>
where
    F: Fn(&Connection) -> ApiResult<T>,
{
    pub(super) fn new(f: F, reply: oneshot::Sender<ApiResult<T>>) -> Self {
        Write { f, outcome: None, reply }
    }

    /// Runs the write by `how` (which returns its outcome and whether it left the batch clean)
    /// and keeps the outcome; see [`Job::run`].
    fn run_by(
        &mut self,
        conn: &Connection,
        how: impl FnOnce(&Connection, &F) -> (ApiResult<T>, bool),
    ) -> bool {
        if conn.is_autocommit() {
            // The batch transaction is gone (SQLite rolls back by itself on some I/O errors):
            // running now would commit this write alone. Left unrun, it is answered with the
            // batch's failure.
            self.outcome = None;
            return false;
        }
        let (outcome, clean) = how(conn, &self.f);
        self.outcome = Some(outcome);
        clean && !conn.is_autocommit()
    }
}

/// Runs `f` straight in the batch: clean unless it failed after changing a row, or panicked.
fn bare<T>(conn: &Connection, f: impl Fn(&Connection) -> ApiResult<T>) -> (ApiResult<T>, bool) {
    let before = conn.total_changes();
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(conn))) {
        Ok(Ok(v)) => (Ok(v), true),
        Ok(Err(e)) => (Err(e), conn.total_changes() == before),
        Err(_) => (Err(ApiError::Internal("a write panicked".into())), false),
    }
}

impl<T, F> Job for Write<T, F>
where
    F: Fn(&Connection) -> ApiResult<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection, mode: Mode) -> bool {
        match mode {
            Mode::Savepoint => self.run_by(conn, |c, f| (in_savepoint(c, f), true)),
            Mode::Bare => self.run_by(conn, |c, f| bare(c, f)),
        }
    }

    fn answer(self: Box<Self>, commit: Result<(), CommitFailure>) {
        let reply = match (self.outcome, commit) {
            (Some(Ok(v)), Ok(())) => Ok(v),
            (Some(Err(e)), _) => Err(e),
            (_, Err(failure)) => Err(failure.into()),
            (None, Ok(())) => Err(ApiError::Internal("a write was not run".into())),
        };
        let _ = self.reply.send(reply); // the caller may have gone away; nothing to do then
    }
}

/// A trial: runs like a write, always in a savepoint that is rolled back, so it leaves nothing
/// behind (not even an AUTOINCREMENT counter) and its outcome does not depend on the commit.
pub(super) struct Trial<T, F>(Write<T, F>);

impl<T, F> Trial<T, F>
where
    F: Fn(&Connection) -> ApiResult<T>,
{
    pub(super) fn new(f: F, reply: oneshot::Sender<ApiResult<T>>) -> Self {
        Trial(Write::new(f, reply))
    }
}

impl<T, F> Job for Trial<T, F>
where
    F: Fn(&Connection) -> ApiResult<T> + Send,
    T: Send,
{
    fn run(&mut self, conn: &Connection, _mode: Mode) -> bool {
        self.0.run_by(conn, |c, f| (in_rolled_back_savepoint(c, f), true))
    }

    fn answer(self: Box<Self>, _commit: Result<(), CommitFailure>) {
        // Nothing of a trial is in the batch, so the batch's commit does not concern it.
        let reply = self.0.outcome.unwrap_or_else(|| Err(ApiError::Internal("a trial was not run".into())));
        let _ = self.0.reply.send(reply);
    }
}

fn in_savepoint<T>(conn: &Connection, f: impl Fn(&Connection) -> ApiResult<T>) -> ApiResult<T> {
    // Prepared once and reused: this runs twice for every replayed write.
    execute_cached(conn, "SAVEPOINT job")?;
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(ApiError::Internal("a write panicked".into())));
    if result.is_ok() {
        execute_cached(conn, "RELEASE job")?;
    } else {
        conn.execute_batch("ROLLBACK TO job; RELEASE job")?;
    }
    result
}

fn in_rolled_back_savepoint<T>(conn: &Connection, f: impl Fn(&Connection) -> ApiResult<T>) -> ApiResult<T> {
    execute_cached(conn, "SAVEPOINT trial")?;
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(conn)))
        .unwrap_or_else(|_| Err(ApiError::Internal("a trial panicked".into())));
    conn.execute_batch("ROLLBACK TO trial; RELEASE trial")?;
    result
}

/// What the writer needs to wake the webhook deliverer after a commit that wrote outbox rows:
/// the outbox's newest id seen so far (one `sqlite_sequence` lookup per batch).
pub(super) struct OutboxWatch {
    pub(super) last: i64,
    pub(super) notify: Arc<tokio::sync::Notify>,
}

impl OutboxWatch {
    fn after_commit(&mut self, conn: &Connection) {
        if let Ok(last) = hook_deliveries::last_id(conn)
            && last > self.last
        {
            self.last = last;
            self.notify.notify_one();
        }
    }
}

/// The writer thread's loop: takes up to `max_batch` queued jobs at a time and runs them as one
/// transaction, until every sender is gone.
pub(super) fn writer_loop(
    conn: Connection,
    rx: mpsc::Receiver<Box<dyn Job>>,
    max_batch: usize,
    mut watch: OutboxWatch,
) {
    // recv() fails only when every sender is gone: the server has stopped and the queue is empty.
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let committed = run_batch(&conn, &mut batch);
        if committed.is_ok() {
            watch.after_commit(&conn);
        }
        for job in batch {
            job.answer(committed.clone());
        }
    }
    log::debug!("writer thread stopped");
}

/// Runs one batch and commits it: bare first, replayed in savepoints if a write failed after it
/// had written.
fn run_batch(conn: &Connection, batch: &mut [Box<dyn Job>]) -> Result<(), CommitFailure> {
    begin(conn)?;
    if !batch.iter_mut().all(|job| job.run(conn, Mode::Bare)) {
        if !conn.is_autocommit() {
            conn.execute_batch("ROLLBACK").map_err(|e| failed("roll back a batch for its replay", &e))?;
        }
        begin(conn)?;
        for job in batch.iter_mut() {
            job.run(conn, Mode::Savepoint);
        }
    }
    if conn.is_autocommit() {
        return Err(CommitFailure::Other("the batch transaction was rolled back by SQLite".into()));
    }
    execute_cached(conn, "COMMIT").map_err(|e| {
        let _ = conn.execute_batch("ROLLBACK");
        failed("commit", &e)
    })
}

fn begin(conn: &Connection) -> Result<(), CommitFailure> {
    execute_cached(conn, "BEGIN IMMEDIATE").map_err(|e| failed("begin a write transaction", &e))
}

fn failed(what: &str, e: &rusqlite::Error) -> CommitFailure {
    log::error!("cannot {what}: {e}");
    CommitFailure::from(e)
}
