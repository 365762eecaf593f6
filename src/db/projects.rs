//! The `projects` table; a project's namespace is its creator's username.

use rusqlite::{Connection, OptionalExtension, Row, params};

/// One project with its namespace (the owning user's username).
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: i64,
    pub namespace_id: i64,
    pub namespace: String,
    pub namespace_name: String,
    pub creator_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub default_branch: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl ProjectRow {
    /// `namespace/path`.
    pub fn path_with_namespace(&self) -> String {
        format!("{}/{}", self.namespace, self.path)
    }

    /// `Namespace Name / Project Name`.
    pub fn name_with_namespace(&self) -> String {
        format!("{} / {}", self.namespace_name, self.name)
    }

    pub fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ProjectRow {
            id: r.get(0)?,
            namespace_id: r.get(1)?,
            namespace: r.get(2)?,
            namespace_name: r.get(3)?,
            creator_id: r.get(4)?,
            name: r.get(5)?,
            path: r.get(6)?,
            description: r.get(7)?,
            visibility: r.get(8)?,
            default_branch: r.get(9)?,
            created_at: r.get(10)?,
            updated_at: r.get(11)?,
        })
    }
}

/// `SELECT` of every [`ProjectRow`] column; append a `WHERE`.
pub const SELECT: &str = "SELECT p.id, p.namespace_id, u.username, u.name, p.creator_id, p.name, p.path, \
     p.description, p.visibility, p.default_branch, p.created_at, p.updated_at \
     FROM projects p JOIN users u ON u.id = p.namespace_id";

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<ProjectRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE p.id = ?1"))?
        .query_row([id], ProjectRow::from_row)
        .optional()
}

/// Finds by `namespace/path` (case-insensitive, as GitLab routes are).
pub fn find_by_full_path(conn: &Connection, full_path: &str) -> rusqlite::Result<Option<ProjectRow>> {
    let Some((namespace, path)) = full_path.split_once('/') else { return Ok(None) };
    conn.prepare_cached(&format!(
        "{SELECT} WHERE u.username = ?1 COLLATE NOCASE AND p.path = ?2 COLLATE NOCASE"
    ))?
    .query_row(params![namespace, path], ProjectRow::from_row)
    .optional()
}

/// The user's membership level in the project, if a member.
pub fn member_level(conn: &Connection, project_id: i64, user_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT access_level FROM members WHERE project_id = ?1 AND user_id = ?2")?
        .query_row(params![project_id, user_id], |r| r.get(0))
        .optional()
}

/// A project to create.
pub struct NewProject<'a> {
    pub namespace_id: i64,
    pub creator_id: i64,
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub visibility: &'a str,
    pub default_branch: Option<&'a str>,
}

/// Inserts a project and makes its creator an Owner member; a duplicate path in the namespace
/// is a unique violation.
pub fn insert(conn: &Connection, p: &NewProject, now: &str) -> rusqlite::Result<ProjectRow> {
    conn.prepare_cached(
        "INSERT INTO projects (namespace_id, creator_id, name, path, description, visibility, default_branch,
                               created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
    )?
    .execute(params![
        p.namespace_id,
        p.creator_id,
        p.name,
        p.path,
        p.description,
        p.visibility,
        p.default_branch,
        now
    ])?;
    let id = conn.last_insert_rowid();
    super::members::upsert(conn, id, p.creator_id, 50, now)?;
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}
