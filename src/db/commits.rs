//! The `commits` table: commits made through the Repository Files API (triggerd stores no git
//! objects; a commit is a row with its parent's SHA) and the history walk the Commits API lists.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Row, params};

/// One commit.
#[derive(Debug, Clone)]
pub struct CommitRow {
    pub id: i64,
    pub project_id: i64,
    pub sha: String,
    /// `None` for a root commit.
    pub parent_sha: Option<String>,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
}

const COLUMNS: &str = "id, project_id, sha, parent_sha, message, author_name, author_email, authored_date, \
                       committer_name, committer_email, committed_date";

impl CommitRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(CommitRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            sha: r.get(2)?,
            parent_sha: r.get(3)?,
            message: r.get(4)?,
            author_name: r.get(5)?,
            author_email: r.get(6)?,
            authored_date: r.get(7)?,
            committer_name: r.get(8)?,
            committer_email: r.get(9)?,
            committed_date: r.get(10)?,
        })
    }
}

/// A commit to insert.
#[derive(Debug, Clone)]
pub struct NewCommit<'a> {
    pub sha: &'a str,
    pub parent_sha: Option<&'a str>,
    pub message: &'a str,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub committer_name: &'a str,
    pub committer_email: &'a str,
    /// Authored and committed date.
    pub date: &'a str,
}

/// A commit by its full SHA.
pub fn find(conn: &Connection, project_id: i64, sha: &str) -> rusqlite::Result<Option<CommitRow>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM commits WHERE project_id = ?1 AND sha = ?2"))?
        .query_row(params![project_id, sha], CommitRow::from_row)
        .optional()
}

/// The one commit whose SHA starts with `prefix` (lowercase hex, shorter than 40); `None` when
/// none or several match.
pub fn find_by_prefix(
    conn: &Connection,
    project_id: i64,
    prefix: &str,
) -> rusqlite::Result<Option<CommitRow>> {
    // Hex digits sort below `g`: a range scan of the (project_id, sha) index.
    let upper = format!("{prefix}g");
    let mut rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM commits WHERE project_id = ?1 AND sha >= ?2 AND sha < ?3 LIMIT 2"
        ))?
        .query_map(params![project_id, prefix, upper], CommitRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(if rows.len() == 1 { rows.pop() } else { None })
}

/// The commits among `shas` that have a row, by SHA (for a page of branches or tags).
pub fn find_many(
    conn: &Connection,
    project_id: i64,
    shas: &[&str],
) -> rusqlite::Result<HashMap<String, CommitRow>> {
    let mut out = HashMap::new();
    for sha in shas {
        if !out.contains_key(*sha)
            && let Some(row) = find(conn, project_id, sha)?
        {
            out.insert(row.sha.clone(), row);
        }
    }
    Ok(out)
}

/// Inserts a commit.
pub fn insert(conn: &Connection, project_id: i64, c: &NewCommit) -> rusqlite::Result<CommitRow> {
    conn.prepare_cached(
        "INSERT INTO commits (project_id, sha, parent_sha, message, author_name, author_email, authored_date,
                              committer_name, committer_email, committed_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?7)",
    )?
    .execute(params![
        project_id,
        c.sha,
        c.parent_sha,
        c.message,
        c.author_name,
        c.author_email,
        c.date,
        c.committer_name,
        c.committer_email
    ])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM commits WHERE id = ?1"))?
        .query_row([id], CommitRow::from_row)
}

/// Filters of a history listing.
#[derive(Debug, Clone, Default)]
pub struct HistoryFilter {
    /// Only commits that changed this path.
    pub path: Option<String>,
    /// Only commits committed at or after this stored timestamp.
    pub since: Option<String>,
    /// Only commits committed at or before this stored timestamp.
    pub until: Option<String>,
}

/// A page of the history that ends at `head` (newest first, following parents), with the total
/// number of matching commits.
pub fn history(
    conn: &Connection,
    project_id: i64,
    head: &str,
    filter: &HistoryFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<CommitRow>, i64)> {
    // `depth` orders the walk; a cycle cannot occur (a parent exists before its child), but the
    // walk is bounded anyway.
    let walk = "WITH RECURSIVE chain(id, depth) AS (
            SELECT id, 0 FROM commits WHERE project_id = ?1 AND sha = ?2
            UNION ALL
            SELECT p.id, chain.depth + 1 FROM chain
              JOIN commits c ON c.id = chain.id
              JOIN commits p ON p.project_id = ?1 AND p.sha = c.parent_sha
             WHERE chain.depth < 1000000)";
    let filter_sql =
        "(?3 IS NULL OR EXISTS (SELECT 1 FROM commit_changes x WHERE x.commit_id = c.id AND x.path = ?3))
          AND (?4 IS NULL OR c.committed_date >= ?4)
          AND (?5 IS NULL OR c.committed_date <= ?5)";
    let args = params![project_id, head, filter.path, filter.since, filter.until];
    let total: i64 = conn
        .prepare_cached(&format!(
            "{walk} SELECT COUNT(*) FROM chain JOIN commits c ON c.id = chain.id WHERE {filter_sql}"
        ))?
        .query_row(args, |r| r.get(0))?;
    let columns: String = COLUMNS.split(", ").map(|col| format!("c.{col}")).collect::<Vec<_>>().join(", ");
    let rows = conn
        .prepare_cached(&format!(
            "{walk} SELECT {columns} FROM chain JOIN commits c ON c.id = chain.id WHERE {filter_sql}
             ORDER BY chain.depth {} OFFSET ?6",
            super::limit_clause(limit)
        ))?
        .query_map(
            params![project_id, head, filter.path, filter.since, filter.until, offset],
            CommitRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// The creation time of the oldest ref of the project that points at `sha`, if any: a commit
/// that may have no row yet (a made-up SHA of the Branches API), dated like the ref.
pub fn ref_points_at(conn: &Connection, project_id: i64, sha: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT created_at FROM refs WHERE project_id = ?1 AND sha = ?2 ORDER BY id LIMIT 1")?
        .query_row(params![project_id, sha], |r| r.get(0))
        .optional()
}

/// A commit a `ref` names: its SHA, its row when it has one (a SHA only a ref knows is a root
/// commit with an empty tree), and the date such a made-up commit shows.
#[derive(Debug, Clone)]
pub struct Target {
    pub sha: String,
    pub commit: Option<CommitRow>,
    /// For a commit without a row: the creation time of a ref pointing at it.
    pub ref_date: String,
}

/// Resolves what GitLab's `project.commit(ref)` accepts: a full SHA (a commit, or a SHA a ref
/// points at), a branch or tag name (`refs/heads/…`, `refs/tags/…` too), or an unambiguous SHA
/// prefix of 7+ hex digits naming a commit.
pub fn resolve(conn: &Connection, project_id: i64, wanted: &str) -> rusqlite::Result<Option<Target>> {
    let target = |sha: String, commit: Option<CommitRow>, ref_date: Option<String>| Target {
        sha,
        commit,
        ref_date: ref_date.unwrap_or_default(),
    };
    if super::refs::is_full_sha(wanted) {
        let sha = wanted.to_ascii_lowercase();
        if let Some(c) = find(conn, project_id, &sha)? {
            return Ok(Some(target(sha, Some(c), None)));
        }
        return Ok(ref_points_at(conn, project_id, &sha)?.map(|date| target(sha, None, Some(date))));
    }
    if let Some(r) = super::refs::resolve(conn, project_id, wanted)? {
        let commit = find(conn, project_id, &r.sha)?;
        let date = if commit.is_none() { ref_points_at(conn, project_id, &r.sha)? } else { None };
        return Ok(Some(target(r.sha, commit, date)));
    }
    if wanted.len() >= 7 && wanted.len() < 40 && wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        let prefix = wanted.to_ascii_lowercase();
        return Ok(find_by_prefix(conn, project_id, &prefix)?.map(|c| target(c.sha.clone(), Some(c), None)));
    }
    Ok(None)
}
