//! The `job_traces` table: a job's log.

use rusqlite::{Connection, OptionalExtension, params};

/// A job's log (`None` when nothing was written).
pub fn trace(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<Vec<u8>>> {
    // `||` makes text of two blobs; read either as bytes.
    conn.prepare_cached("SELECT content FROM job_traces WHERE job_id = ?1")?
        .query_row([job_id], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
                _ => Vec::new(),
            })
        })
        .optional()
}

/// Appends to a job's log.
pub fn append_trace(conn: &Connection, job_id: i64, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO job_traces (job_id, content) VALUES (?1, ?2)
         ON CONFLICT (job_id) DO UPDATE SET content = CAST(content || excluded.content AS BLOB)",
    )?
    .execute(params![job_id, bytes])?;
    Ok(())
}

/// The size of a job's log in bytes (0 when nothing was written).
pub fn trace_size(conn: &Connection, job_id: i64) -> rusqlite::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT length(CAST(content AS BLOB)) FROM job_traces WHERE job_id = ?1")?
        .query_row([job_id], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .unwrap_or(0))
}

/// The last `n` bytes of a job's log (fewer when it is shorter).
pub fn trace_tail(conn: &Connection, job_id: i64, n: i64) -> rusqlite::Result<Vec<u8>> {
    Ok(conn
        .prepare_cached(
            "SELECT substr(CAST(content AS BLOB), -?2) FROM job_traces WHERE job_id = ?1 AND ?2 > 0",
        )?
        .query_row(params![job_id, n], |r| {
            Ok(match r.get_ref(0)? {
                rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
                _ => Vec::new(),
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// Replaces a job's log from byte `keep` on by `bytes` (for masking a secret that spans two
/// appends).
pub fn replace_trace_from(conn: &Connection, job_id: i64, keep: i64, bytes: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE job_traces SET content = CAST(substr(CAST(content AS BLOB), 1, ?2) || ?3 AS BLOB) WHERE job_id = ?1",
    )?
    .execute(params![job_id, keep, bytes])?;
    Ok(())
}
