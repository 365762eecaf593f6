//! The `personal_access_tokens` table. Tokens are stored as SHA-256 digests only.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::users::UserRow;

/// One personal access token (never its secret).
#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub digest: Vec<u8>,
    pub scopes: Vec<String>,
    pub expires_at: Option<String>,
    pub revoked: bool,
    pub last_used_at: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "t.id, t.user_id, t.name, t.token_digest, t.scopes, t.expires_at, t.revoked, t.last_used_at, t.created_at";

impl TokenRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let scopes: String = r.get(4)?;
        Ok(TokenRow {
            id: r.get(0)?,
            user_id: r.get(1)?,
            name: r.get(2)?,
            digest: r.get(3)?,
            scopes: scopes.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            expires_at: r.get(5)?,
            revoked: r.get(6)?,
            last_used_at: r.get(7)?,
            created_at: r.get(8)?,
        })
    }
}

/// A token to create.
pub struct NewToken<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub digest: &'a [u8],
    pub scopes: &'a [String],
    pub expires_at: Option<&'a str>,
}

pub fn insert(conn: &Connection, t: &NewToken, now: &str) -> rusqlite::Result<TokenRow> {
    conn.prepare_cached(
        "INSERT INTO personal_access_tokens (user_id, name, token_digest, scopes, expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![t.user_id, t.name, t.digest, t.scopes.join(","), t.expires_at, now])?;
    find(conn, conn.last_insert_rowid())?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<TokenRow>> {
    let sql = format!("SELECT {COLUMNS} FROM personal_access_tokens t WHERE t.id = ?1");
    conn.prepare_cached(&sql)?.query_row([id], TokenRow::from_row).optional()
}

/// The token with this digest and its user, for authentication.
pub fn find_by_digest(conn: &Connection, digest: &[u8]) -> rusqlite::Result<Option<(TokenRow, UserRow)>> {
    let sql = format!(
        "SELECT {COLUMNS}, {} FROM personal_access_tokens t JOIN users ON users.id = t.user_id
         WHERE t.token_digest = ?1",
        UserRow::COLUMNS
    );
    conn.prepare_cached(&sql)?
        .query_row([digest], |r| Ok((TokenRow::from_row(r)?, UserRow::from_row_at(r, 9)?)))
        .optional()
}

/// Which tokens a listing shows.
#[derive(Debug, Clone, Default)]
pub struct TokenFilter {
    /// One user's tokens; `None` = everyone's.
    pub user_id: Option<i64>,
    /// Only revoked (`Some(true)`) or only unrevoked (`Some(false)`) tokens.
    pub revoked: Option<bool>,
    /// Only usable (`Some(true)`: not revoked, not expired) or only unusable tokens.
    pub active: Option<bool>,
    /// Name contains this (case-insensitive).
    pub search: Option<String>,
}

/// A page of tokens matching `f` ordered by id, with the total. `today` is `YYYY-MM-DD`: a
/// token expiring today is no longer active.
pub fn list(
    conn: &Connection,
    f: &TokenFilter,
    today: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<TokenRow>, i64)> {
    let filter = "(?1 IS NULL OR t.user_id = ?1)
         AND (?2 IS NULL OR t.revoked = ?2)
         AND (?3 IS NULL OR (t.revoked = 0 AND (t.expires_at IS NULL OR t.expires_at > ?5)) = ?3)
         AND (?4 IS NULL OR instr(lower(t.name), lower(?4)) > 0)";
    let args = params![f.user_id, f.revoked, f.active, f.search, today];
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM personal_access_tokens t WHERE {filter}"))?
        .query_row(args, |r| r.get(0))?;
    let sql = format!(
        "SELECT {COLUMNS} FROM personal_access_tokens t WHERE {filter} ORDER BY t.id {} OFFSET ?6",
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![f.user_id, f.revoked, f.active, f.search, today, offset], TokenRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Marks a token revoked; false when there is no such token.
pub fn revoke(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("UPDATE personal_access_tokens SET revoked = 1 WHERE id = ?1")?.execute([id])? > 0)
}

pub fn touch(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE personal_access_tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}
