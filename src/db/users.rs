//! The `users` table.

use rusqlite::{Connection, OptionalExtension, Row, params};

/// One user row (the password hash stays in the database layer).
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub state: String,
    pub created_at: String,
}

impl UserRow {
    /// Columns in the order [`UserRow::from_row`] reads them, for `SELECT {COLUMNS} FROM users`.
    pub const COLUMNS: &'static str =
        "users.id, users.username, users.name, users.email, users.is_admin, users.state, users.created_at";

    pub fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Self::from_row_at(r, 0)
    }

    /// Reads the user columns starting at `offset` (for joins).
    pub fn from_row_at(r: &Row, offset: usize) -> rusqlite::Result<Self> {
        Ok(UserRow {
            id: r.get(offset)?,
            username: r.get(offset + 1)?,
            name: r.get(offset + 2)?,
            email: r.get(offset + 3)?,
            is_admin: r.get(offset + 4)?,
            state: r.get(offset + 5)?,
            created_at: r.get(offset + 6)?,
        })
    }

    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// A user to create.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
}

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE id = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([id], UserRow::from_row).optional()
}

pub fn find_by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE username = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([username], UserRow::from_row).optional()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
}

/// Inserts a user; a duplicate username or email is a unique violation.
pub fn insert(conn: &Connection, u: &NewUser, now: &str) -> rusqlite::Result<UserRow> {
    conn.prepare_cached(
        "INSERT INTO users (username, name, email, password_hash, is_admin, state, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'active', ?6)",
    )?
    .execute(params![u.username, u.name, u.email, u.password_hash, u.is_admin, now])?;
    let id = conn.last_insert_rowid();
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Sets `state` (`active` or `blocked`); returns false when the user does not exist.
pub fn set_state(conn: &Connection, id: i64, state: &str) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("UPDATE users SET state = ?2 WHERE id = ?1")?.execute(params![id, state])? > 0)
}

/// Deletes a user with their personal projects, memberships, tokens and triggers (cascades);
/// pipelines they started keep existing with no user.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([id])? > 0)
}

/// A page of users ordered by id, optionally filtered by exact username or a search term
/// (username or name containing it; also the email when `search_email`, which only admins may
/// ask for, as e-mail addresses are private), with the total count.
#[allow(clippy::too_many_arguments)]
pub fn list(
    conn: &Connection,
    username: Option<&str>,
    search: Option<&str>,
    search_email: bool,
    active_only: bool,
    blocked_only: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<UserRow>, i64)> {
    let filter = "(?1 IS NULL OR username = ?1)
         AND (?2 IS NULL OR instr(lower(username), lower(?2)) > 0 OR instr(lower(name), lower(?2)) > 0
              OR (?5 AND instr(lower(email), lower(?2)) > 0))
         AND (?3 = 0 OR state = 'active') AND (?4 = 0 OR state = 'blocked')";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM users WHERE {filter}"))?
        .query_row(params![username, search, active_only, blocked_only, search_email], |r| r.get(0))?;
    let sql = format!(
        "SELECT {} FROM users WHERE {filter} ORDER BY id {} OFFSET ?6",
        UserRow::COLUMNS,
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(
            params![username, search, active_only, blocked_only, search_email, offset],
            UserRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The stored argon2id PHC string of a user, if any.
pub fn password_hash(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

/// A user by email (case-insensitive, as the column's collation makes it).
pub fn find_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE email = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([email], UserRow::from_row).optional()
}

/// How many active admins there are, not counting `except` (the user about to be removed).
pub fn count_active_admins_except(conn: &Connection, except: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND state = 'active' AND id <> ?1")?
        .query_row([except], |r| r.get(0))
}
