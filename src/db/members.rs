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

/// Adds a member; an existing membership is a primary-key (unique) violation.
pub fn insert(
    conn: &Connection,
    project_id: i64,
    user_id: i64,
    level: i64,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO members (project_id, user_id, access_level, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![project_id, user_id, level, now])?;
    Ok(())
}

/// A page of a project's members ordered by user id, optionally only those whose username or
/// name contains `query` (case-insensitive), with the total count.
pub fn list(
    conn: &Connection,
    project_id: i64,
    query: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<MemberRow>, i64)> {
    let filter = "m.project_id = ?1
         AND (?2 IS NULL OR instr(lower(users.username), lower(?2)) > 0
              OR instr(lower(users.name), lower(?2)) > 0)";
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM members m JOIN users ON users.id = m.user_id WHERE {filter}"
        ))?
        .query_row(params![project_id, query], |r| r.get(0))?;
    let sql = format!(
        "SELECT {}, m.access_level, m.created_at FROM members m JOIN users ON users.id = m.user_id
         WHERE {filter} ORDER BY m.user_id {} OFFSET ?3",
        UserRow::COLUMNS,
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project_id, query, offset], |r| {
            Ok(MemberRow { user: UserRow::from_row(r)?, access_level: r.get(7)?, created_at: r.get(8)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Changes a member's level; false when not a member.
pub fn set_level(conn: &Connection, project_id: i64, user_id: i64, level: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE members SET access_level = ?3 WHERE project_id = ?1 AND user_id = ?2")?
        .execute(params![project_id, user_id, level])?
        > 0)
}

/// Removes a member; false when not a member.
pub fn delete(conn: &Connection, project_id: i64, user_id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM members WHERE project_id = ?1 AND user_id = ?2")?
        .execute(params![project_id, user_id])?
        > 0)
}

/// How many Owners (level 50) a project has.
pub fn owner_count(conn: &Connection, project_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM members WHERE project_id = ?1 AND access_level = 50")?
        .query_row([project_id], |r| r.get(0))
}
