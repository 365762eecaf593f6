//! The `web_sessions` and `web_form_nonces` tables: web UI sign-ins, stored as the SHA-256
//! digest of the cookie value (never the value), and the one-time nonces of forms that reveal a
//! secret once.

use rusqlite::{Connection, OptionalExtension, params};

use super::users::UserRow;

/// A live session with its user (the caller checks that the user is still active).
#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: i64,
    pub expires_at: String,
    pub user: UserRow,
}

/// Creates a session; returns its id.
pub fn insert(
    conn: &Connection,
    user_id: i64,
    token_digest: &[u8],
    now: &str,
    expires_at: &str,
) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO web_sessions (user_id, token_digest, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![user_id, token_digest, now, expires_at])?;
    Ok(conn.last_insert_rowid())
}

/// The session with this digest that has not expired at `now`, with its user.
pub fn find_live(conn: &Connection, token_digest: &[u8], now: &str) -> rusqlite::Result<Option<SessionRow>> {
    conn.prepare_cached(&format!(
        "SELECT s.id, s.expires_at, {} FROM web_sessions s JOIN users ON users.id = s.user_id
         WHERE s.token_digest = ?1 AND s.expires_at > ?2",
        UserRow::COLUMNS
    ))?
    .query_row(params![token_digest, now], |r| {
        Ok(SessionRow { id: r.get(0)?, expires_at: r.get(1)?, user: UserRow::from_row_at(r, 2)? })
    })
    .optional()
}

/// Ends a session (sign-out); returns whether it existed.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM web_sessions WHERE id = ?1")?.execute([id])? > 0)
}

/// Ends every session of a user (a blocked user is also refused on use).
pub fn delete_for_user(conn: &Connection, user_id: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM web_sessions WHERE user_id = ?1")?.execute([user_id])
}

/// Removes sessions that expired before `now` (their nonces cascade).
pub fn purge_expired(conn: &Connection, now: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("DELETE FROM web_sessions WHERE expires_at <= ?1")?.execute([now])
}

/// Records a form nonce as used by `session_id`; false when it was used before (a replay).
pub fn use_nonce(
    conn: &Connection,
    session_id: i64,
    nonce_digest: &[u8],
    now: &str,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO web_form_nonces (nonce_digest, session_id, used_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (nonce_digest) DO NOTHING",
        )?
        .execute(params![nonce_digest, session_id, now])?;
    Ok(n > 0)
}
