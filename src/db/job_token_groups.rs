//! The job token groups allowlist (`job_token_group_allowlist`): jobs of every project in a
//! listed group, or in a group below it, may use their job token against the project.

use rusqlite::{Connection, params};

use super::namespaces::{self, NamespaceRow};

/// True when a group on `target_project_id`'s groups allowlist holds `source_project_id`
/// (directly or through a subgroup). A project in a personal namespace is in no group: one lookup.
pub fn allows(conn: &Connection, target_project_id: i64, source_project_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM projects sp JOIN namespaces sn ON sn.id = sp.namespace_id
                        WHERE sp.id = ?2 AND sn.kind = 'group'
                          AND EXISTS (SELECT 1 FROM job_token_group_allowlist a
                                      WHERE a.project_id = ?1 AND a.group_id IN ({})))",
        super::access::ancestors_sql("sn.id")
    ))?
    .query_row(params![target_project_id, source_project_id], |r| r.get(0))
}

/// One page of the groups on `project_id`'s groups allowlist, oldest entry first, and their count.
pub fn list(
    conn: &Connection,
    project_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<NamespaceRow>, i64)> {
    let rows = conn
        .prepare_cached(&format!(
            "{} JOIN job_token_group_allowlist a ON a.group_id = n.id
             WHERE a.project_id = ?1 ORDER BY a.created_at, n.id LIMIT ?2 OFFSET ?3",
            namespaces::SELECT
        ))?
        .query_map(params![project_id, limit, offset], NamespaceRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let total = conn
        .prepare_cached("SELECT COUNT(*) FROM job_token_group_allowlist WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))?;
    Ok((rows, total))
}

/// Adds a group; `false` if it was already there.
pub fn allow(conn: &Connection, project_id: i64, group_id: i64, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT INTO job_token_group_allowlist (project_id, group_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![project_id, group_id, now])?;
    Ok(n == 1)
}

/// Removes a group; `false` if it was not there.
pub fn disallow(conn: &Connection, project_id: i64, group_id: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM job_token_group_allowlist WHERE project_id = ?1 AND group_id = ?2")?
        .execute([project_id, group_id])?;
    Ok(n == 1)
}
