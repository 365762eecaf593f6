//! Effective access levels: the one place that decides what level a user has in a project or a
//! group. GitLab's `members/all` rule: the highest of the user's direct membership and their
//! membership in every ancestor group (a group's members are members of its subgroups and of
//! the projects in them).
//!
//! The rule is written once, as SQL expressions ([`project_level_sql`], [`group_level_sql`]) that
//! list filters embed and that [`project_level`] and [`group_level`] evaluate for one pair. The
//! ancestors are a recursive CTE over `namespaces.parent_id` (at most 20 rows), walked only for
//! projects in groups; a project in a personal namespace costs two extra primary-key lookups.

use rusqlite::{Connection, OptionalExtension, params};

/// The ids of namespace `{ns}` and its ancestors, as a `SELECT` (for `… IN (…)`).
pub(super) fn ancestors_sql(ns: &str) -> String {
    format!(
        "WITH RECURSIVE anc(id) AS (SELECT {ns} UNION ALL SELECT n.parent_id FROM namespaces n JOIN anc ON n.id = anc.id \
         WHERE n.parent_id IS NOT NULL) SELECT id FROM anc"
    )
}

/// SQL expression: the level user `{user}` has in group `{group}` through that group and its
/// ancestors, NULL when none. Both arguments are SQL expressions (columns or parameters).
pub fn group_level_sql(group: &str, user: &str) -> String {
    format!(
        "(SELECT MAX(gm.access_level) FROM group_members gm WHERE gm.user_id = {user} AND gm.group_id IN ({}))",
        ancestors_sql(group)
    )
}

/// SQL expression: the effective level of user `{user}` in project `{project}` (direct or
/// inherited from the project's groups, the highest wins), NULL when none. The group part runs
/// only for a project in a group: for one in a personal namespace this costs what the direct
/// membership lookup alone cost (measured: 10 µs against 9 µs a check; walking the ancestors
/// unconditionally cost 45 µs).
pub fn project_level_sql(project: &str, user: &str) -> String {
    format!(
        "(SELECT MAX(l) FROM (SELECT access_level AS l FROM members WHERE project_id = {project} AND user_id = {user} \
         UNION ALL SELECT {} FROM projects gp JOIN namespaces gn ON gn.id = gp.namespace_id \
         WHERE gp.id = {project} AND gn.kind = 'group'))",
        group_level_sql("gn.id", user)
    )
}

/// The user's effective level in the project, if any.
pub fn project_level(conn: &Connection, project_id: i64, user_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(&format!("SELECT {}", project_level_sql("?1", "?2")))?
        .query_row(params![project_id, user_id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

/// The user's effective level in the group (direct or through an ancestor), if any.
pub fn group_level(conn: &Connection, group_id: i64, user_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached(&format!("SELECT {}", group_level_sql("?1", "?2")))?
        .query_row(params![group_id, user_id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}
