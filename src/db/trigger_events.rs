//! `trigger_events` and `trigger_unknown_attempts`: the audit log of trigger calls (issue 14,
//! point 7). One insert per call, in the call's own write; the sweeper keeps both bounded.

use rusqlite::{Connection, Row, params};

/// Longest `ref` and `reason` stored, in characters (longer ones are cut).
pub const MAX_TEXT_CHARS: usize = 255;

/// One recorded call.
#[derive(Debug, Clone)]
pub struct EventRow {
    pub created_at: String,
    pub client_address: Option<String>,
    pub ref_name: Option<String>,
    pub outcome: String,
    pub status: u16,
    pub reason: Option<String>,
    pub pipeline_id: Option<i64>,
}

impl EventRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(EventRow {
            created_at: r.get(0)?,
            client_address: r.get(1)?,
            ref_name: r.get(2)?,
            outcome: r.get(3)?,
            status: r.get(4)?,
            reason: r.get(5)?,
            pipeline_id: r.get(6)?,
        })
    }
}

/// A call to record.
pub struct NewEvent<'a> {
    pub trigger_id: i64,
    pub client_address: Option<&'a str>,
    pub ref_name: Option<&'a str>,
    /// `accepted`, `replayed` or `rejected`.
    pub outcome: &'a str,
    pub status: u16,
    pub reason: Option<&'a str>,
    pub pipeline_id: Option<i64>,
}

/// At most [`MAX_TEXT_CHARS`] characters of `s`.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(MAX_TEXT_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Records a call.
pub fn insert(conn: &Connection, e: &NewEvent, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO trigger_events (trigger_id, created_at, client_address, ref, outcome, status, reason, pipeline_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        e.trigger_id,
        now,
        e.client_address,
        e.ref_name.map(cut),
        e.outcome,
        e.status,
        e.reason.map(cut),
        e.pipeline_id
    ])?;
    Ok(())
}

/// Counts a call to `project_id` with an unknown token (one row per project and UTC day).
pub fn count_unknown(
    conn: &Connection,
    project_id: i64,
    client_address: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO trigger_unknown_attempts (project_id, day, attempts, last_attempt_at, last_client_address)
         VALUES (?1, substr(?2, 1, 10), 1, ?2, ?3)
         ON CONFLICT (project_id, day) DO UPDATE SET attempts = attempts + 1,
             last_attempt_at = excluded.last_attempt_at, last_client_address = excluded.last_client_address",
    )?
    .execute(params![project_id, now, client_address])?;
    Ok(())
}

/// A page of a trigger's calls, newest first, with their count.
pub fn list(
    conn: &Connection,
    trigger_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<EventRow>, i64)> {
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM trigger_events WHERE trigger_id = ?1")?
        .query_row([trigger_id], |r| r.get(0))?;
    let rows = conn
        .prepare_cached(&format!(
            "SELECT created_at, client_address, ref, outcome, status, reason, pipeline_id
             FROM trigger_events WHERE trigger_id = ?1 ORDER BY id DESC {} OFFSET ?2",
            super::limit_clause(limit)
        ))?
        .query_map(params![trigger_id, offset], EventRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// A project's unknown-token calls per day.
#[derive(Debug, Clone)]
pub struct UnknownAttempts {
    pub day: String,
    pub attempts: i64,
    pub last_attempt_at: String,
    pub last_client_address: Option<String>,
}

/// A page of a project's unknown-token days, newest first, with their count.
pub fn unknown_attempts(
    conn: &Connection,
    project_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<UnknownAttempts>, i64)> {
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM trigger_unknown_attempts WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))?;
    let rows = conn
        .prepare_cached(&format!(
            "SELECT day, attempts, last_attempt_at, last_client_address FROM trigger_unknown_attempts
             WHERE project_id = ?1 ORDER BY day DESC {} OFFSET ?2",
            super::limit_clause(limit)
        ))?
        .query_map(params![project_id, offset], |r| {
            Ok(UnknownAttempts {
                day: r.get(0)?,
                attempts: r.get(1)?,
                last_attempt_at: r.get(2)?,
                last_client_address: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Rows this connection changed so far (SQLite's `total_changes`): a write compares it before
/// and after a step to know whether the step wrote anything.
pub fn changes_so_far(conn: &Connection) -> u64 {
    conn.total_changes()
}

/// Deletes the events created before `before` among the oldest `limit` (by id, which is creation
/// order: no index on `created_at` is kept for this sweep alone), and the unknown-token days
/// before it; returns how many events went. Fewer than `limit` means none older is left.
pub fn sweep_old(conn: &Connection, before: &str, limit: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM trigger_unknown_attempts WHERE day < substr(?1, 1, 10)")?
        .execute([before])?;
    conn.prepare_cached(
        "DELETE FROM trigger_events WHERE id IN (
             SELECT id FROM trigger_events ORDER BY id LIMIT ?2) AND created_at < ?1",
    )?
    .execute(params![before, limit])
}

/// Keeps the newest `keep` events of every trigger that has more; returns how many went.
pub fn trim_per_trigger(conn: &Connection, keep: i64) -> rusqlite::Result<usize> {
    let over: Vec<i64> = conn
        .prepare_cached("SELECT trigger_id FROM trigger_events GROUP BY trigger_id HAVING COUNT(*) > ?1")?
        .query_map([keep], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut deleted = 0;
    let mut trim = conn.prepare_cached(
        "DELETE FROM trigger_events WHERE trigger_id = ?1 AND id <= (
             SELECT id FROM trigger_events WHERE trigger_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )?;
    for trigger_id in over {
        deleted += trim.execute(params![trigger_id, keep])?;
    }
    Ok(deleted)
}
