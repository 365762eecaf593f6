//! The `projects` table; a project lives in a namespace (a user's or a group), and its full
//! path is the namespace's `full_path` followed by the project's path.

use rusqlite::{Connection, OptionalExtension, Row, named_params, params};

use super::users::UserRow;

/// One project with its namespace.
#[derive(Debug, Clone)]
pub struct ProjectRow {
    pub id: i64,
    pub namespace_id: i64,
    /// The namespace's full path (`alice`, `org/team`).
    pub namespace: String,
    /// The namespace's full name (`Alice`, `Org / Team`).
    pub namespace_name: String,
    pub creator_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub description: Option<String>,
    pub visibility: String,
    pub default_branch: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `user` or `group`.
    pub namespace_kind: String,
    /// The namespace's own path and name (the last segment of `namespace`).
    pub namespace_path: String,
    pub namespace_short_name: String,
    pub namespace_parent_id: Option<i64>,
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
            namespace_kind: r.get(12)?,
            namespace_path: r.get(13)?,
            namespace_short_name: r.get(14)?,
            namespace_parent_id: r.get(15)?,
        })
    }
}

/// `SELECT` of every [`ProjectRow`] column; append a `WHERE`.
pub const SELECT: &str = "SELECT p.id, p.namespace_id, n.full_path, n.full_name, p.creator_id, p.name, p.path, \
     p.description, p.visibility, p.default_branch, p.created_at, p.updated_at, n.kind, n.path, n.name, n.parent_id \
     FROM projects p JOIN namespaces n ON n.id = p.namespace_id";

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<ProjectRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE p.id = ?1"))?
        .query_row([id], ProjectRow::from_row)
        .optional()
}

/// Finds by `namespace/path` or `group/subgroup/path` (case-insensitive, as GitLab routes are).
pub fn find_by_full_path(conn: &Connection, full_path: &str) -> rusqlite::Result<Option<ProjectRow>> {
    let Some((namespace, path)) = full_path.rsplit_once('/') else { return Ok(None) };
    conn.prepare_cached(&format!("{SELECT} WHERE n.full_path = ?1 AND p.path = ?2 COLLATE NOCASE"))?
        .query_row(params![namespace, path], ProjectRow::from_row)
        .optional()
}

/// The user's effective level in the project (direct or inherited from its groups, the highest
/// wins: [`super::access::project_level`]), if any. Every permission check goes through this.
pub fn member_level(conn: &Connection, project_id: i64, user_id: i64) -> rusqlite::Result<Option<i64>> {
    super::access::project_level(conn, project_id, user_id)
}

/// A project to create.
pub struct NewProject<'a> {
    pub namespace_id: i64,
    pub creator_id: i64,
    /// The creator's direct membership (`None`: none, they inherit enough from the group).
    pub creator_level: Option<i64>,
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub visibility: &'a str,
    pub default_branch: Option<&'a str>,
}

/// Inserts a project and makes its creator a member at `creator_level`; a duplicate path in the
/// namespace is a unique violation.
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
    if let Some(level) = p.creator_level {
        super::members::upsert(conn, id, p.creator_id, level, now)?;
    }
    // New projects limit job-token access to their allowlist, as in current GitLab.
    super::job_tokens::set_inbound_enabled(conn, id, true, now)?;
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// A project with what its JSON needs beyond the row: the namespace's user, whether any
/// branch or tag exists, and the viewing user's membership level.
#[derive(Debug, Clone)]
pub struct ProjectView {
    pub project: ProjectRow,
    /// The user whose personal namespace holds the project (`None` in a group).
    pub owner: Option<UserRow>,
    /// No branch or tag exists yet.
    pub empty_repo: bool,
    /// The viewing user's effective access level (direct or inherited), if any.
    pub caller_level: Option<i64>,
    /// The viewing user's direct project membership, and their level through the project's groups.
    pub caller_direct_level: Option<i64>,
    pub caller_group_level: Option<i64>,
}

impl ProjectView {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(ProjectView {
            project: ProjectRow::from_row(r)?,
            owner: match r.get::<_, Option<i64>>(16)? {
                Some(_) => Some(UserRow::from_row_at(r, 16)?),
                None => None,
            },
            empty_repo: r.get(23)?,
            caller_level: r.get(24)?,
            caller_direct_level: r.get(25)?,
            caller_group_level: r.get(26)?,
        })
    }
}

/// `SELECT` of every [`ProjectView`] column; the viewing user's id is the named parameter
/// `:caller` (NULL for anonymous). Append a `WHERE`.
fn view_select() -> String {
    format!(
        "SELECT p.id, p.namespace_id, n.full_path, n.full_name, p.creator_id, p.name, p.path, \
         p.description, p.visibility, p.default_branch, p.created_at, p.updated_at, n.kind, n.path, n.name, n.parent_id, \
         u.id, u.username, u.name, u.email, u.is_admin, u.state, u.created_at, \
         NOT EXISTS (SELECT 1 FROM refs r WHERE r.project_id = p.id), {}, \
         (SELECT m.access_level FROM members m WHERE m.project_id = p.id AND m.user_id = :caller), {} \
         FROM projects p JOIN namespaces n ON n.id = p.namespace_id LEFT JOIN users u ON u.id = n.owner_id",
        super::access::project_level_sql("p.id", ":caller"),
        super::access::group_level_sql("p.namespace_id", ":caller"),
    )
}

/// One project as seen by `caller` (no access check: callers decide visibility first).
pub fn view(conn: &Connection, id: i64, caller: Option<i64>) -> rusqlite::Result<Option<ProjectView>> {
    conn.prepare_cached(&format!("{} WHERE p.id = :id", view_select()))?
        .query_row(named_params! {":id": id, ":caller": caller}, ProjectView::from_row)
        .optional()
}

/// The column a project list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectOrder {
    Id,
    Name,
    Path,
    CreatedAt,
    UpdatedAt,
}

impl ProjectOrder {
    fn column(self) -> &'static str {
        match self {
            ProjectOrder::Id => "p.id",
            ProjectOrder::Name => "p.name",
            ProjectOrder::Path => "p.path",
            ProjectOrder::CreatedAt => "p.created_at",
            ProjectOrder::UpdatedAt => "p.updated_at",
        }
    }
}

/// What `GET /projects` asks for.
#[derive(Debug, Clone)]
pub struct ListFilter {
    /// The viewing user; `None` for anonymous (public projects only).
    pub caller: Option<i64>,
    /// Admins see every project.
    pub admin: bool,
    /// Only projects the caller is a member of.
    pub membership: bool,
    /// Only projects in the caller's namespace.
    pub owned: bool,
    /// Only projects where the caller has at least this level.
    pub min_access_level: Option<i64>,
    /// Name or path containing this (case-insensitive).
    pub search: Option<String>,
    pub visibility: Option<String>,
    /// `archived=true`: nothing is ever archived here, so no project matches.
    pub archived_only: bool,
    pub order: ProjectOrder,
    pub descending: bool,
    /// Only projects directly in this namespace (`GET /groups/:id/projects`).
    pub namespace_id: Option<i64>,
}

/// A page of the projects `f` selects, visibility filtered in SQL, with the total count.
pub fn list(
    conn: &Connection,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<ProjectView>, i64)> {
    let level = super::access::project_level_sql("p.id", ":caller");
    let filter = format!(
        "(:admin = 1 OR p.visibility = 'public'
              OR (:caller IS NOT NULL AND (p.visibility = 'internal' OR {level} IS NOT NULL)))
         AND (:membership = 0 OR {level} IS NOT NULL)
         AND (:owned = 0 OR p.namespace_id = :caller)
         AND (:group IS NULL OR p.namespace_id = :group)
         AND (:min_level IS NULL OR {level} >= :min_level)
         AND (:search IS NULL OR instr(lower(p.name), lower(:search)) > 0
              OR instr(lower(p.path), lower(:search)) > 0)
         AND (:visibility IS NULL OR p.visibility = :visibility)
         AND :archived = 0"
    );
    let filter_params = named_params! {
        ":admin": f.admin,
        ":caller": f.caller,
        ":membership": f.membership,
        ":owned": f.owned,
        ":min_level": f.min_access_level,
        ":search": f.search,
        ":visibility": f.visibility,
        ":archived": f.archived_only,
        ":group": f.namespace_id,
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM projects p WHERE {filter}"))?
        .query_row(filter_params, |r| r.get(0))?;
    let dir = if f.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "{} WHERE {filter} ORDER BY {col} {dir}, p.id {dir} {limit} OFFSET :offset",
        view_select(),
        col = f.order.column(),
        limit = super::limit_clause(limit)
    );
    let mut all: Vec<(&str, &dyn rusqlite::ToSql)> = filter_params.to_vec();
    all.push((":offset", &offset));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(all.as_slice(), ProjectView::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Which of `name` (exact) and `path` (case-insensitive) another project in the namespace
/// already uses, ignoring project `except` (the one being renamed).
pub fn taken(
    conn: &Connection,
    namespace_id: i64,
    name: &str,
    path: &str,
    except: Option<i64>,
) -> rusqlite::Result<(bool, bool)> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM projects WHERE namespace_id = ?1 AND name = ?2
                        AND (?4 IS NULL OR id <> ?4)),
                EXISTS (SELECT 1 FROM projects WHERE namespace_id = ?1 AND path = ?3 COLLATE NOCASE
                        AND (?4 IS NULL OR id <> ?4))",
    )?
    .query_row(params![namespace_id, name, path, except], |r| Ok((r.get(0)?, r.get(1)?)))
}

/// The editable attributes of a project, all set at once.
pub struct ProjectChanges<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub visibility: &'a str,
    pub default_branch: Option<&'a str>,
}

/// Writes a project's editable attributes and `updated_at`; false when it does not exist.
pub fn update(conn: &Connection, id: i64, c: &ProjectChanges, now: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE projects SET name = ?2, path = ?3, description = ?4, visibility = ?5,
                                 default_branch = ?6, updated_at = ?7
             WHERE id = ?1",
        )?
        .execute(params![id, c.name, c.path, c.description, c.visibility, c.default_branch, now])?
        > 0)
}

/// Moves a project to another namespace (its path must be free there).
pub fn set_namespace(conn: &Connection, id: i64, namespace_id: i64, now: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE projects SET namespace_id = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, namespace_id, now])?
        > 0)
}

/// Deletes a project; members, refs, triggers, pipelines and their variables, commits, their
/// trees and blobs go with it
/// (foreign keys cascade). False when it did not exist.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM projects WHERE id = ?1")?.execute([id])? > 0)
}

/// Inserts a project as [`insert`] does, plus its default branch at `sha` (for
/// `initialize_with_readme`); `p.default_branch` must be set.
pub fn insert_with_branch(
    conn: &Connection,
    p: &NewProject,
    sha: &str,
    now: &str,
) -> rusqlite::Result<ProjectRow> {
    let row = insert(conn, p, now)?;
    if let Some(branch) = p.default_branch {
        super::refs::insert(conn, row.id, "branch", branch, sha, None, now)?;
    }
    Ok(row)
}

/// Makes `branch` the default branch of a project that has none (its first commit's branch).
pub fn set_default_branch_if_unset(conn: &Connection, id: i64, branch: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE projects SET default_branch = ?2 WHERE id = ?1 AND default_branch IS NULL")?
        .execute(params![id, branch])?;
    Ok(())
}

/// True when the project has a branch with this exact name.
pub fn has_branch(conn: &Connection, project_id: i64, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM refs WHERE project_id = ?1 AND kind = 'branch' AND name = ?2)",
    )?
    .query_row(params![project_id, name], |r| r.get(0))
}

/// Ids of the projects in a user's namespace, by path (at most `limit`); callers decide which
/// of them a viewer may see.
pub fn ids_in_namespace(conn: &Connection, namespace_id: i64, limit: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached("SELECT id FROM projects WHERE namespace_id = ?1 ORDER BY path LIMIT ?2")?
        .query_map(params![namespace_id, limit], |r| r.get(0))?
        .collect()
}
