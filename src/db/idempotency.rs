//! The `trigger_idempotency_keys` table: the first answer to a trigger call with an
//! `Idempotency-Key`, per trigger token and key, stored in the same transaction as its pipeline.

use rusqlite::{Connection, OptionalExtension, params};

/// A stored first answer.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    /// SHA-256 of the first call's ref, variables and inputs.
    pub fingerprint: Vec<u8>,
    pub status: u16,
    pub body: String,
    pub pipeline_id: Option<i64>,
}

/// The answer stored for `key` of trigger `trigger_id` at or after `since` (older rows no longer
/// count, even before the sweep removes them).
pub fn find(
    conn: &Connection,
    trigger_id: i64,
    key: &str,
    since: &str,
) -> rusqlite::Result<Option<StoredAnswer>> {
    conn.prepare_cached(
        "SELECT fingerprint, status, body, pipeline_id FROM trigger_idempotency_keys
         WHERE trigger_id = ?1 AND key = ?2 AND created_at >= ?3",
    )?
    .query_row(params![trigger_id, key, since], |r| {
        Ok(StoredAnswer {
            fingerprint: r.get(0)?,
            status: r.get(1)?,
            body: r.get(2)?,
            pipeline_id: r.get(3)?,
        })
    })
    .optional()
}

/// A first answer to store.
pub struct NewAnswer<'a> {
    pub trigger_id: i64,
    pub key: &'a str,
    pub fingerprint: &'a [u8],
    pub pipeline_id: Option<i64>,
    pub status: u16,
    pub body: &'a str,
}

/// Stores a first answer, replacing an expired row of the same key.
pub fn insert(conn: &Connection, a: &NewAnswer, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO trigger_idempotency_keys (trigger_id, key, fingerprint, pipeline_id, status, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (trigger_id, key) DO UPDATE SET fingerprint = excluded.fingerprint,
             pipeline_id = excluded.pipeline_id, status = excluded.status, body = excluded.body,
             created_at = excluded.created_at",
    )?
    .execute(params![a.trigger_id, a.key, a.fingerprint, a.pipeline_id, a.status, a.body, now])?;
    Ok(())
}

/// Deletes at most `limit` rows created before `before`; returns how many went.
pub fn sweep(conn: &Connection, before: &str, limit: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "DELETE FROM trigger_idempotency_keys WHERE (trigger_id, key) IN (
             SELECT trigger_id, key FROM trigger_idempotency_keys WHERE created_at < ?1 LIMIT ?2)",
    )?
    .execute(params![before, limit])
}
