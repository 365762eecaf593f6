//! The `namespaces` table: user namespaces (one per user, with the user's id) and groups, which
//! nest through `parent_id`. `full_path` and `full_name` are stored on every row and rewritten
//! for a whole subtree when a group is renamed or moved ([`relabel`]).

use rusqlite::{Connection, OptionalExtension, Row, named_params, params};

/// GitLab's limit on group nesting: a group and its ancestors are at most this many levels.
pub const MAX_DEPTH: i64 = 20;

#[derive(Debug, Clone)]
pub struct NamespaceRow {
    pub id: i64,
    /// `user` or `group`.
    pub kind: String,
    pub owner_id: Option<i64>,
    pub parent_id: Option<i64>,
    pub name: String,
    pub path: String,
    pub full_path: String,
    pub full_name: String,
    pub description: Option<String>,
    pub visibility: String,
    pub created_at: String,
}

impl NamespaceRow {
    pub fn is_group(&self) -> bool {
        self.kind == "group"
    }

    pub(super) fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(NamespaceRow {
            id: r.get(0)?,
            kind: r.get(1)?,
            owner_id: r.get(2)?,
            parent_id: r.get(3)?,
            name: r.get(4)?,
            path: r.get(5)?,
            full_path: r.get(6)?,
            full_name: r.get(7)?,
            description: r.get(8)?,
            visibility: r.get(9)?,
            created_at: r.get(10)?,
        })
    }
}

pub(super) const SELECT: &str = "SELECT n.id, n.kind, n.owner_id, n.parent_id, n.name, n.path, n.full_path, n.full_name, \
     n.description, n.visibility, n.created_at FROM namespaces n";

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<NamespaceRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE n.id = ?1"))?
        .query_row([id], NamespaceRow::from_row)
        .optional()
}

/// Finds by full path (`alice`, `org/team`), case-insensitive.
pub fn find_by_full_path(conn: &Connection, full_path: &str) -> rusqlite::Result<Option<NamespaceRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE n.full_path = ?1"))?
        .query_row([full_path], NamespaceRow::from_row)
        .optional()
}

/// True when a namespace has this full path (case-insensitive).
pub fn full_path_taken(conn: &Connection, full_path: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM namespaces WHERE full_path = ?1)")?
        .query_row([full_path], |r| r.get(0))
}

/// How many levels namespace `id` is deep (a top-level group is 1).
pub fn depth(conn: &Connection, id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "WITH RECURSIVE anc(id, d) AS (SELECT ?1, 1 UNION ALL SELECT n.parent_id, anc.d + 1 FROM namespaces n
         JOIN anc ON n.id = anc.id WHERE n.parent_id IS NOT NULL AND anc.d <= 64) SELECT MAX(d) FROM anc",
    )?
    .query_row([id], |r| r.get(0))
}

/// How many levels the subtree under group `id` has, the group included (a leaf is 1).
pub fn height(conn: &Connection, id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "WITH RECURSIVE sub(id, d) AS (SELECT ?1, 1 UNION ALL SELECT n.id, sub.d + 1 FROM namespaces n
         JOIN sub ON n.parent_id = sub.id WHERE sub.d <= 64) SELECT MAX(d) FROM sub",
    )?
    .query_row([id], |r| r.get(0))
}

/// True when `id` is `ancestor` or lies below it.
pub fn is_within(conn: &Connection, id: i64, ancestor: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "WITH RECURSIVE anc(id, d) AS (SELECT ?1, 1 UNION ALL SELECT n.parent_id, anc.d + 1 FROM namespaces n
         JOIN anc ON n.id = anc.id WHERE n.parent_id IS NOT NULL AND anc.d <= 64)
         SELECT EXISTS (SELECT 1 FROM anc WHERE id = ?2)",
    )?
    .query_row(params![id, ancestor], |r| r.get(0))
}

/// A group to create.
pub struct NewGroup<'a> {
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub visibility: &'a str,
}

/// Inserts a group (its full path and name derived from the parent) and makes `creator` its
/// Owner; a taken full path is a unique violation.
pub fn insert_group(
    conn: &Connection,
    g: &NewGroup,
    creator: i64,
    now: &str,
) -> rusqlite::Result<NamespaceRow> {
    conn.prepare_cached(
        "INSERT INTO namespaces (kind, parent_id, name, path, full_path, full_name, description, visibility, created_at)
         SELECT 'group', :parent, :name, :path,
                COALESCE((SELECT full_path || '/' FROM namespaces WHERE id = :parent), '') || :path,
                COALESCE((SELECT full_name || ' / ' FROM namespaces WHERE id = :parent), '') || :name,
                :description, :visibility, :now",
    )?
    .execute(named_params! {
        ":parent": g.parent_id, ":name": g.name, ":path": g.path, ":description": g.description,
        ":visibility": g.visibility, ":now": now,
    })?;
    let id = conn.last_insert_rowid();
    super::group_members::upsert(conn, id, creator, 50, now)?;
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// A group's editable attributes, all set at once.
pub struct GroupChanges<'a> {
    pub name: &'a str,
    pub path: &'a str,
    pub description: Option<&'a str>,
    pub visibility: &'a str,
}

/// Writes a group's attributes and rewrites the full paths and names below it.
pub fn update_group(conn: &Connection, id: i64, c: &GroupChanges) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE namespaces SET name = ?2, path = ?3, description = ?4, visibility = ?5 WHERE id = ?1 AND kind = 'group'",
    )?
    .execute(params![id, c.name, c.path, c.description, c.visibility])?;
    relabel(conn, id)
}

/// Moves a group under `parent` (or to the top level) and rewrites the full paths below it.
/// Callers check for cycles and depth first.
pub fn set_parent(conn: &Connection, id: i64, parent: Option<i64>) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE namespaces SET parent_id = ?2 WHERE id = ?1 AND kind = 'group'")?
        .execute(params![id, parent])?;
    relabel(conn, id)
}

/// Recomputes `full_path` and `full_name` of group `id` and everything below it.
fn relabel(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "WITH RECURSIVE t(id, fp, fname) AS (
             SELECT n.id, COALESCE(p.full_path || '/', '') || n.path, COALESCE(p.full_name || ' / ', '') || n.name
             FROM namespaces n LEFT JOIN namespaces p ON p.id = n.parent_id WHERE n.id = ?1
             UNION ALL
             SELECT c.id, t.fp || '/' || c.path, t.fname || ' / ' || c.name FROM namespaces c JOIN t ON c.parent_id = t.id)
         UPDATE namespaces SET full_path = (SELECT fp FROM t WHERE t.id = namespaces.id),
                               full_name = (SELECT fname FROM t WHERE t.id = namespaces.id)
         WHERE id IN (SELECT id FROM t)",
    )?
    .execute([id])?;
    Ok(())
}

/// Deletes a group with its subgroups, their projects (and everything in them) and
/// memberships (foreign keys cascade). False when it did not exist.
pub fn delete_group(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM namespaces WHERE id = ?1 AND kind = 'group'")?.execute([id])? > 0)
}

/// What a list of groups or namespaces asks for.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// The viewing user (`None`: anonymous).
    pub caller: Option<i64>,
    pub admin: bool,
    /// Groups only (`GET /groups`), or user namespaces too (`GET /namespaces`).
    pub groups_only: bool,
    /// Only namespaces the caller belongs to (a group member, direct or inherited; their own
    /// user namespace); otherwise every namespace the caller can see.
    pub membership: bool,
    /// Only the caller's own namespace and groups where they are Owner.
    pub owned: bool,
    pub min_access_level: Option<i64>,
    /// Only direct children of this group.
    pub parent_id: Option<i64>,
    pub top_level_only: bool,
    /// Name or path containing this (case-insensitive).
    pub search: Option<String>,
    /// Order by `name` (default), `path` or `id`.
    pub order: &'static str,
    pub descending: bool,
}

/// A page of the namespaces `f` selects, with the total.
pub fn list(
    conn: &Connection,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<NamespaceRow>, i64)> {
    let level = super::access::group_level_sql("n.id", ":caller");
    let filter = format!(
        "(:groups_only = 0 OR n.kind = 'group')
         AND (n.kind = 'group' OR :admin = 1 OR n.owner_id = :caller)
         AND (n.kind = 'user' OR :admin = 1 OR n.visibility = 'public'
              OR (:caller IS NOT NULL AND (n.visibility = 'internal' OR {level} IS NOT NULL)))
         AND (:membership = 0 OR n.owner_id = :caller OR {level} IS NOT NULL)
         AND (:owned = 0 OR n.owner_id = :caller OR {level} = 50)
         AND (:min_level IS NULL OR n.owner_id = :caller OR {level} >= :min_level)
         AND (:parent IS NULL OR n.parent_id = :parent)
         AND (:top = 0 OR n.parent_id IS NULL)
         AND (:search IS NULL OR instr(lower(n.name), lower(:search)) > 0 OR instr(lower(n.path), lower(:search)) > 0)"
    );
    let p = named_params! {
        ":groups_only": f.groups_only, ":admin": f.admin, ":caller": f.caller, ":membership": f.membership,
        ":owned": f.owned, ":min_level": f.min_access_level, ":parent": f.parent_id, ":top": f.top_level_only,
        ":search": f.search,
    };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM namespaces n WHERE {filter}"))?
        .query_row(p, |r| r.get(0))?;
    let col = match f.order {
        "id" => "n.id",
        "path" => "n.full_path",
        _ => "n.full_name",
    };
    let dir = if f.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY {col} {dir}, n.id {dir} {} OFFSET :offset",
        super::limit_clause(limit)
    );
    let mut all: Vec<(&str, &dyn rusqlite::ToSql)> = p.to_vec();
    all.push((":offset", &offset));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(all.as_slice(), NamespaceRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// How many projects and subgroups are directly in a namespace.
pub fn children_count(conn: &Connection, id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT (SELECT COUNT(*) FROM projects WHERE namespace_id = ?1) + (SELECT COUNT(*) FROM namespaces WHERE parent_id = ?1)",
    )?
    .query_row([id], |r| r.get(0))
}

/// How many distinct users are members of group `id` or a group below it.
pub fn members_count_with_descendants(conn: &Connection, id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "WITH RECURSIVE sub(id, d) AS (SELECT ?1, 1 UNION ALL SELECT n.id, sub.d + 1 FROM namespaces n
         JOIN sub ON n.parent_id = sub.id WHERE sub.d <= 64)
         SELECT COUNT(DISTINCT user_id) FROM group_members WHERE group_id IN (SELECT id FROM sub)",
    )?
    .query_row([id], |r| r.get(0))
}
