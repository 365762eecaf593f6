//! The `group_members` table: who has which access level in a group (and so, by inheritance,
//! in its subgroups and their projects), and the inherited member lists (`members/all`).

use rusqlite::{Connection, OptionalExtension, params};

use super::members::MemberRow;
use super::users::UserRow;

/// Adds a member or changes their level.
pub fn upsert(conn: &Connection, group_id: i64, user_id: i64, level: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO group_members (group_id, user_id, access_level, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (group_id, user_id) DO UPDATE SET access_level = excluded.access_level",
    )?
    .execute(params![group_id, user_id, level, now])?;
    Ok(())
}

/// Adds a member; an existing membership is a primary-key (unique) violation.
pub fn insert(conn: &Connection, group_id: i64, user_id: i64, level: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO group_members (group_id, user_id, access_level, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![group_id, user_id, level, now])?;
    Ok(())
}

fn member(r: &rusqlite::Row) -> rusqlite::Result<MemberRow> {
    Ok(MemberRow { user: UserRow::from_row(r)?, access_level: r.get(7)?, created_at: r.get(8)? })
}

/// One direct member of a group.
pub fn find(conn: &Connection, group_id: i64, user_id: i64) -> rusqlite::Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {}, m.access_level, m.created_at FROM group_members m JOIN users ON users.id = m.user_id
         WHERE m.group_id = ?1 AND m.user_id = ?2",
        UserRow::COLUMNS
    );
    conn.prepare_cached(&sql)?.query_row(params![group_id, user_id], member).optional()
}

/// Changes a member's level; false when not a member.
pub fn set_level(conn: &Connection, group_id: i64, user_id: i64, level: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE group_members SET access_level = ?3 WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![group_id, user_id, level])?
        > 0)
}

/// Removes a member; false when not a member.
pub fn delete(conn: &Connection, group_id: i64, user_id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2")?
        .execute(params![group_id, user_id])?
        > 0)
}

/// How many direct Owners a group has.
pub fn owner_count(conn: &Connection, group_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM group_members WHERE group_id = ?1 AND access_level = 50")?
        .query_row([group_id], |r| r.get(0))
}

/// Whose memberships a member list combines.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    /// Direct members of a group.
    Group(i64),
    /// Members of a group and of its ancestors (`/groups/:id/members/all`).
    GroupAll(i64),
    /// Direct members of a project and members of its groups (`/projects/:id/members/all`).
    ProjectAll(i64),
}

/// A page of the members `scope` names, one row per user with their highest level (the
/// earliest `created_at`), by user id, optionally filtered by username or name; with the total.
pub fn list(
    conn: &Connection,
    scope: Scope,
    query: Option<&str>,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<MemberRow>, i64)> {
    let ancestors = |ns: &str| {
        format!(
            "WITH RECURSIVE anc(id, d) AS (SELECT {ns}, 1 UNION ALL SELECT n.parent_id, anc.d + 1 FROM namespaces n \
             JOIN anc ON n.id = anc.id WHERE n.parent_id IS NOT NULL AND anc.d <= 64) SELECT id FROM anc"
        )
    };
    let (source, id) = match scope {
        Scope::Group(g) => ("SELECT user_id, access_level, created_at FROM group_members WHERE group_id = ?1".to_string(), g),
        Scope::GroupAll(g) => (
            format!(
                "SELECT user_id, access_level, created_at FROM group_members WHERE group_id IN ({})",
                ancestors("?1")
            ),
            g,
        ),
        Scope::ProjectAll(p) => (
            format!(
                "SELECT user_id, access_level, created_at FROM members WHERE project_id = ?1
                 UNION ALL SELECT user_id, access_level, created_at FROM group_members WHERE group_id IN ({})",
                ancestors("(SELECT namespace_id FROM projects WHERE id = ?1)")
            ),
            p,
        ),
    };
    let grouped = format!(
        "SELECT user_id, MAX(access_level) AS access_level, MIN(created_at) AS created_at FROM ({source}) GROUP BY user_id"
    );
    let filter = "(?2 IS NULL OR instr(lower(users.username), lower(?2)) > 0 OR instr(lower(users.name), lower(?2)) > 0)";
    let total: i64 = conn
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM ({grouped}) m JOIN users ON users.id = m.user_id WHERE {filter}"
        ))?
        .query_row(params![id, query], |r| r.get(0))?;
    let sql = format!(
        "SELECT {}, m.access_level, m.created_at FROM ({grouped}) m JOIN users ON users.id = m.user_id
         WHERE {filter} ORDER BY m.user_id {} OFFSET ?3",
        UserRow::COLUMNS,
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![id, query, offset], member)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// One member of what `scope` names, with their highest level.
pub fn find_in(conn: &Connection, scope: Scope, user_id: i64) -> rusqlite::Result<Option<MemberRow>> {
    let (rows, _) = list(conn, scope, None, i64::MAX, 0)?;
    Ok(rows.into_iter().find(|m| m.user.id == user_id))
}
