//! Storage: one SQLite file in WAL mode. Reads run on a small r2d2 pool of read-only
//! connections; every write goes to one writer thread that commits whatever is queued in a single
//! transaction (group commit) and answers each caller only after that commit returned.
//!
//! This module is the only place that leaves the async executor: [`Db::read`] and [`blocking`]
//! hop to actix's blocking pool, [`Db::write`] to the writer thread.

pub mod access;
#[cfg(test)]
mod batch_tests;
pub mod commit_statuses;
pub mod commits;
pub mod files;
pub mod group_members;
pub mod hook_data;
pub mod hook_deliveries;
pub mod hooks;
pub mod idempotency;
pub mod job_token_groups;
pub mod job_tokens;
pub mod jobs;
pub mod members;
pub mod migrate;
pub mod namespaces;
pub mod pipelines;
pub mod projects;
pub mod refs;
pub mod runners;
#[cfg(test)]
mod short_read_tests;
pub mod tokens;
pub mod trigger_events;
pub mod triggers;
pub mod users;
pub mod web_sessions;
mod writer;

use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
/// The connection a [`Db::read`] or [`Db::write`] closure is given, for code above `db/` that
/// passes it down to the queries here without naming the driver.
pub use rusqlite::Connection;
use rusqlite::OpenFlags;
use tokio::sync::oneshot;

use crate::config::DatabaseConfig;
use crate::error::{ApiError, ApiResult};

/// The read pool.
pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// SQLite 3.7.0–3.51.2 can corrupt a WAL shared by a pool and a writer (fixed in 3.51.3).
pub const MIN_SQLITE_VERSION: i32 = 3_051_003;

/// Prepared statements each connection keeps. rusqlite's default of 16 is fewer than the
/// distinct statements the writer runs (every resource's writes share it), so it would thrash.
const STATEMENT_CACHE: usize = 128;

/// Handle to the database: the read pool and the writer's queue. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    writer: mpsc::Sender<Box<dyn writer::Job>>,
    /// Notified after a commit that wrote webhook outbox rows (the deliverer waits on it).
    outbox: Arc<tokio::sync::Notify>,
}

/// Why the database could not be opened at start-up.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("SQLite {0} is too old: triggerd needs 3.51.3 or newer (WAL-reset bug)")]
    OldSqlite(String),
    #[error("cannot create the database directory {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("cannot create the database file {0}: {1}")]
    File(String, std::io::Error),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("{0}")]
    Schema(String),
    #[error("cannot start the writer thread: {0}")]
    Thread(std::io::Error),
}

impl Db {
    /// Opens (creating if needed) and migrates the database, starts the writer thread and the
    /// read pool. `init` runs on the writer connection after migration, before anything else.
    pub fn open(
        cfg: &DatabaseConfig,
        init: impl FnOnce(&Connection) -> Result<(), OpenError>,
    ) -> Result<Db, OpenError> {
        if rusqlite::version_number() < MIN_SQLITE_VERSION {
            return Err(OpenError::OldSqlite(rusqlite::version().to_string()));
        }
        let path = cfg.path.as_path();
        let is_new = !path.exists();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(|e| OpenError::Directory(dir.display().to_string(), e))?;
        }
        if is_new {
            // SQLite would create it 0644, and gives `-wal`, `-shm` and `-journal` the main file's
            // mode: an empty 0600 file first keeps all of them private.
            create_private_file(path).map_err(|e| OpenError::File(path.display().to_string(), e))?;
        } else {
            tighten_permissions(path);
        }
        let writer = Connection::open(path)?;
        configure(&writer, cfg)?;
        enable_wal(&writer, Duration::from_millis(cfg.busy_timeout_ms))?;
        if is_new {
            // SQLite syncs the directory for a new WAL file but not for a new database file.
            sync_dir(path);
        }
        migrate::run(&writer)?;
        init(&writer)?;

        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX);
        let busy = cfg.busy_timeout_ms;
        let manager = manager.with_init(move |c| {
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            c.busy_timeout(Duration::from_millis(busy))?;
            c.pragma_update(None, "foreign_keys", "ON")
        });
        // No check on checkout: r2d2_sqlite's runs `SELECT 1;` through `execute_batch`, parsed anew
        // every time (4.5 % of a pipeline read, BENCHMARKS.md round four), and a connection to a
        // local file does not go stale the way a network connection does.
        let pool = r2d2::Pool::builder().max_size(cfg.pool_size).test_on_check_out(false).build(manager)?;

        let (tx, rx) = mpsc::channel::<Box<dyn writer::Job>>();
        let max_batch = cfg.max_batch;
        let outbox = Arc::new(tokio::sync::Notify::new());
        let watch = writer::OutboxWatch { last: hook_deliveries::last_id(&writer)?, notify: outbox.clone() };
        std::thread::Builder::new()
            .name("triggerd-writer".into())
            .spawn(move || writer::writer_loop(writer, rx, max_batch, watch))
            .map_err(OpenError::Thread)?;
        Ok(Db { pool, writer: tx, outbox })
    }

    /// Completes after a commit that wrote webhook outbox rows (a permit is kept when nobody
    /// waits, so a wake-up between two waits is not lost; rows written by other processes are
    /// only found by polling).
    pub async fn outbox_written(&self) {
        self.outbox.notified().await
    }

    /// Runs a read on a pooled read-only connection, off the async executor, in one read
    /// transaction: every statement of `f` sees the same snapshot (a credential and the rows it
    /// grants access to are read at one instant), and SQLite takes its WAL read lock once
    /// instead of once per statement (two `fcntl` calls each; see BENCHMARKS.md, round three).
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        blocking(move || {
            let conn = pool.get()?;
            ReadTransaction::begin(&conn)?.run(f)
        })
        .await
    }

    /// [`Db::read_short`] or [`Db::read`], as `size` says.
    pub async fn read_sized<T, F>(&self, size: ReadSize, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        match size {
            ReadSize::Short => self.read_short(f).await,
            ReadSize::Long => self.read(f).await,
        }
    }

    /// [`Db::read`] for a SHORT read — a handful of index lookups and at most a page of rows,
    /// never a scan or a count — run on the calling thread when a pooled connection is free at
    /// once (`try_get`, which never waits), else on the blocking pool like [`Db::read`]. Such a
    /// read costs less CPU than the trip to the blocking pool and back (two thread wake-ups,
    /// ~13 µs of server CPU per request on this machine, BENCHMARKS.md round three), so doing it
    /// in place is what makes an authenticated point read cheap; anything that may take longer
    /// (lists that count, searches, sorts) must use [`Db::read`], so that it never holds up the
    /// other connections of the HTTP worker.
    pub async fn read_short<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        match self.pool.try_get() {
            Some(conn) => ReadTransaction::begin(&conn)?.run(f),
            None => self.read(f).await,
        }
    }

    /// Runs `f` on the writer thread like [`Db::write`], but always rolls its savepoint back: a
    /// trial run (the trigger call's `dry_run`) that sees exactly what a write would see and
    /// leaves nothing behind, not even an AUTOINCREMENT counter.
    pub async fn trial<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: Fn(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<ApiResult<T>>();
        self.queue(Box::new(writer::Trial::new(f, tx)))?;
        rx.await.map_err(|_| ApiError::Internal("a trial was abandoned by the writer thread".into()))?
    }

    /// Runs a write on the writer thread, in the current batch transaction. Returns once the
    /// batch committed: `Ok` means the rows are durable. An `Err` from `f` undoes only this
    /// write; the others in the batch still commit. `f` may run more than once (see
    /// [`writer`]): it must not act outside the database.
    pub async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: Fn(&Connection) -> ApiResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<ApiResult<T>>();
        self.queue(Box::new(writer::Write::new(f, tx)))?;
        rx.await.map_err(|_| ApiError::Internal("a write was abandoned by the writer thread".into()))?
    }

    fn queue(&self, job: Box<dyn writer::Job>) -> ApiResult<()> {
        self.writer.send(job).map_err(|_| ApiError::Internal("the writer thread has stopped".into()))
    }
}

/// A read transaction on a pooled connection. Deferred: the snapshot is taken at the first
/// statement. It is begun and ended with cached statements: rusqlite's `Transaction` parses
/// `BEGIN DEFERRED` and `ROLLBACK` anew every time, 5 % of a pipeline read (BENCHMARKS.md, round
/// four). It is ended when dropped, also when `f` panics, so that no connection goes back to the
/// pool holding an old snapshot (which would also keep the WAL from being checkpointed).
struct ReadTransaction<'c> {
    conn: &'c Connection,
}

impl<'c> ReadTransaction<'c> {
    fn begin(conn: &'c Connection) -> rusqlite::Result<Self> {
        execute_cached(conn, "BEGIN")?;
        Ok(ReadTransaction { conn })
    }

    fn run<T>(self, f: impl FnOnce(&Connection) -> ApiResult<T>) -> ApiResult<T> {
        f(self.conn)
    }
}

impl Drop for ReadTransaction<'_> {
    fn drop(&mut self) {
        // A read-only transaction has nothing to keep: rolling it back releases the snapshot.
        // SQLite may have ended it already (after some errors); then there is nothing to end.
        if !self.conn.is_autocommit()
            && let Err(e) = execute_cached(self.conn, "ROLLBACK")
        {
            log::error!("cannot end a read transaction: {e}");
        }
    }
}

/// Runs a statement without parameters, prepared once per connection: `execute_batch` parses it
/// anew every time, which for the transaction statements of every request is measurable.
fn execute_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Runs CPU-heavy or blocking work (argon2, SQLite reads) on actix's blocking thread pool.
pub async fn blocking<T, F>(f: F) -> ApiResult<T>
where
    F: FnOnce() -> ApiResult<T> + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(f).await?
}

/// Switches the file to WAL. Changing the journal mode takes an exclusive lock and SQLite does
/// not call the busy handler for it: when several processes open a new file at once (the server
/// and an admin command), one of them can find it locked for a moment, so it retries until the
/// busy timeout.
fn enable_wal(conn: &Connection, timeout: Duration) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            other => return other,
        }
    }
}

/// A read that touches a table: the readiness probe's database check.
pub fn ping(conn: &Connection) -> rusqlite::Result<()> {
    conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0)).map(|_| ())
}

/// `LIMIT <n>` for a list query. The limit (a page size, always an integer) is written into the
/// SQL rather than bound: SQLite re-prepares a statement on every execution whose `LIMIT` is a
/// bound parameter, which made each list request re-parse its query. `OFFSET` stays bound.
pub fn limit_clause(limit: i64) -> String {
    format!("LIMIT {limit}")
}

/// GitLab's count limit for large lists: a list counts at most this many matching rows; past it
/// the total is unknown and left out of the response (`X-Total`, `X-Total-Pages`, `rel="last"`).
pub const COUNT_LIMIT: i64 = 10_000;

/// The largest offset of a list page that still counts as a short read (10 pages of 100): a
/// deeper page walks its offset (see [`ReadSize`]).
pub const SHORT_OFFSET: i64 = 1_000;

/// How long a read may take, which decides where it runs (see [`Db::read_short`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadSize {
    /// A handful of index lookups and at most a page of rows: in place when a connection is free.
    Short,
    /// Anything that may scan, count or sort: always on the blocking pool.
    Long,
}

/// Where a page of a large list starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Skip this many rows (offset pagination, counted up to [`COUNT_LIMIT`]).
    Offset(i64),
    /// Keyset pagination: the rows after this id in the list's order (`None`: the first page).
    /// Not counted.
    After(Option<i64>),
}

/// One page of a large list.
#[derive(Debug, Clone)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    /// The number of matching rows when it is at most [`COUNT_LIMIT`]; `None` past that bound
    /// and in keyset mode.
    pub total: Option<i64>,
    /// Whether rows follow this page (read as one extra row, so known without a count).
    pub more: bool,
}

impl<T> ListPage<T> {
    /// Splits off the extra row a page query reads past `limit` to learn whether more follow.
    pub fn from_extra(mut rows: Vec<T>, limit: i64, total: Option<i64>) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = rows.len() > limit;
        rows.truncate(limit);
        ListPage { rows, total, more }
    }
}

/// Counts the rows of `from_where` (`FROM … WHERE …`, its `?n` bound to `args`), reading at most
/// [`COUNT_LIMIT`] + 1 of them: `None` when there are more than [`COUNT_LIMIT`]. The cost is
/// bounded however large the table grows.
pub fn bounded_count(
    conn: &Connection,
    from_where: &str,
    args: &[rusqlite::types::Value],
) -> rusqlite::Result<Option<i64>> {
    let n: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM (SELECT 1 {from_where} LIMIT {})", COUNT_LIMIT + 1))?
        .query_row(rusqlite::params_from_iter(args), |r| r.get(0))?;
    Ok((n <= COUNT_LIMIT).then_some(n))
}

/// Per-connection settings for the writer (and for the admin commands' connections).
pub fn configure(conn: &Connection, cfg: &DatabaseConfig) -> rusqlite::Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(Duration::from_millis(cfg.busy_timeout_ms))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", cfg.synchronous.to_ascii_uppercase())?;
    // Every write runs in a savepoint, whose sub-journal SQLite spills to a temporary FILE past
    // 64 KiB unless temporary storage is in memory: a 5-job pipeline touches more pages than
    // that, and the spill's pwrite calls were a quarter of its write (BENCHMARKS.md, round three).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// fsyncs a file's directory so a newly created entry survives power loss.
pub fn sync_dir(path: &Path) {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Creates a directory (and missing parents) with mode 0700, fsyncing the parent of each new
/// one; an existing directory is left as it is.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {
            sync_dir(dir);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates an empty file with mode 0600 and fsyncs its directory; one that appeared meanwhile
/// is left as it is.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    match private_file_options().open(path) {
        Ok(f) => {
            f.sync_all()?;
            sync_dir(path);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Options that create a new file (never an existing one) readable by its owner only.
pub fn private_file_options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Sets an existing database and its `-wal`, `-shm` and `-journal` to 0600 when others may read
/// them (databases created before triggerd made them private), logging each change. Only files
/// this process's user owns are changed, so a root run never locks the real owner out.
#[cfg(unix)]
fn tighten_permissions(path: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let Some(me) = effective_uid() else { return };
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let file = Path::new(&name);
        let Ok(meta) = std::fs::metadata(file) else { continue };
        let mode = meta.mode() & 0o777;
        if !meta.is_file() || mode & 0o077 == 0 {
            continue;
        }
        if meta.uid() != me {
            log::warn!("{} has mode {mode:o} but belongs to another user; left as it is", file.display());
            continue;
        }
        match std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => log::warn!("{} had mode {mode:o}; set it to 600", file.display()),
            Err(e) => log::warn!("{} has mode {mode:o} and could not be set to 600: {e}", file.display()),
        }
    }
}

#[cfg(not(unix))]
fn tighten_permissions(_path: &Path) {}

/// This process's effective user id: the owner of `/proc/self` (Linux). `None` elsewhere, where
/// existing files are then left alone.
#[cfg(unix)]
fn effective_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}
