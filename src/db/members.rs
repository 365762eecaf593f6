//! The `members` table: who has which access level in a project.

use rusqlite::{Connection, OptionalExtension, params};

use super::users::UserRow;

/// A member: the user and their access level.
#[derive(Debug, Clone)]
pub struct MemberRow {
    pub user: UserRow,
    pub access_level: i64,
    pub created_at: String,
}

/// Adds a member or changes their level.
pub fn upsert(
    conn: &Connection,
    project_id: i64,
    user_id: i64,
    level: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO members (project_id, user_id, access_level, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, user_id) DO UPDATE SET access_level = excluded.access_level",
    )?
    .execute(params![project_id, user_id, level, now])?;
    Ok(())
}

/// One member of a project.
pub fn find(conn: &Connection, project_id: i64, user_id: i64) -> rusqlite::Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {}, m.access_level, m.created_at FROM members m JOIN users ON users.id = m.user_id
         WHERE m.project_id = ?1 AND m.user_id = ?2",
        UserRow::COLUMNS
    );
    conn.prepare_cached(&sql)?
        .query_row(params![project_id, user_id], |r| {
            Ok(MemberRow { user: UserRow::from_row(r)?, access_level: r.get(7)?, created_at: r.get(8)? })
        })
        .optional()
}
