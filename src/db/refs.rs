//! The `refs` table: a project's branches and tags, each a name pointing at a 40-hex commit SHA
//! (triggerd stores no git objects). Also the ref resolution the trigger call uses.

use rand::Rng;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// `kind` of a branch.
pub const BRANCH: &str = "branch";
/// `kind` of a tag.
pub const TAG: &str = "tag";

/// One branch or tag.
#[derive(Debug, Clone)]
pub struct RefRow {
    pub id: i64,
    pub project_id: i64,
    /// [`BRANCH`] or [`TAG`].
    pub kind: String,
    pub name: String,
    pub sha: String,
    /// The message of an annotated tag; `None` for branches and lightweight tags.
    pub message: Option<String>,
    pub created_at: String,
}

const COLUMNS: &str = "id, project_id, kind, name, sha, message, created_at";

impl RefRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(RefRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            kind: r.get(2)?,
            name: r.get(3)?,
            sha: r.get(4)?,
            message: r.get(5)?,
            created_at: r.get(6)?,
        })
    }

    pub fn is_tag(&self) -> bool {
        self.kind == TAG
    }
}

/// A new random 40-hex commit SHA (for refs created without a source, such as a README commit).
pub fn random_sha() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    hex::encode(bytes)
}

/// True for a full 40-character hex SHA.
pub fn is_full_sha(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One branch or tag by exact name.
pub fn find(conn: &Connection, project_id: i64, kind: &str, name: &str) -> rusqlite::Result<Option<RefRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM refs WHERE project_id = ?1 AND kind = ?2 AND name = ?3"
    ))?
    .query_row(params![project_id, kind, name], RefRow::from_row)
    .optional()
}

/// A resolved ref: its short name, its commit and whether it is a tag.
#[derive(Debug, Clone)]
pub struct ResolvedRef {
    pub name: String,
    pub sha: String,
    pub tag: bool,
}

/// Resolves a ref as the trigger call and branch creation accept it: `main`, `refs/heads/main`
/// (branch only), `v1.0`, `refs/tags/v1.0` (tag only); a plain name is looked up as a branch
/// first, then as a tag. This is on the trigger call's hot path.
pub fn resolve(conn: &Connection, project_id: i64, wanted: &str) -> rusqlite::Result<Option<ResolvedRef>> {
    let (branch, tag) = if let Some(name) = wanted.strip_prefix("refs/heads/") {
        (Some(name), None)
    } else if let Some(name) = wanted.strip_prefix("refs/tags/") {
        (None, Some(name))
    } else {
        (Some(wanted), Some(wanted))
    };
    // Two probes of the (project_id, kind, name) unique index: cheaper than one OR query with
    // a sort (measured on the trigger call's hot path).
    let mut find =
        conn.prepare_cached("SELECT name, sha FROM refs WHERE project_id = ?1 AND kind = ?2 AND name = ?3")?;
    for (kind, name) in [(BRANCH, branch), (TAG, tag)] {
        let Some(name) = name else { continue };
        let found = find
            .query_row(params![project_id, kind, name], |r| {
                Ok(ResolvedRef { name: r.get(0)?, sha: r.get(1)?, tag: kind == TAG })
            })
            .optional()?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Inserts a branch or tag; an existing name of the same kind is a unique violation.
pub fn insert(
    conn: &Connection,
    project_id: i64,
    kind: &str,
    name: &str,
    sha: &str,
    message: Option<&str>,
    now: &str,
) -> rusqlite::Result<RefRow> {
    conn.prepare_cached(
        "INSERT INTO refs (project_id, kind, name, sha, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![project_id, kind, name, sha, message, now])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM refs WHERE id = ?1"))?
        .query_row([id], RefRow::from_row)
}

/// Points a branch (or tag) at another commit.
pub fn set_sha(conn: &Connection, id: i64, sha: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE refs SET sha = ?2 WHERE id = ?1")?.execute(params![id, sha])?;
    Ok(())
}

/// True when the project has no branch at all (GitLab's empty repository).
pub fn has_no_branches(conn: &Connection, project_id: i64) -> rusqlite::Result<bool> {
    Ok(!conn
        .prepare_cached("SELECT 1 FROM refs WHERE project_id = ?1 AND kind = 'branch' LIMIT 1")?
        .exists([project_id])?)
}

/// Deletes a branch or tag; false when there was none.
pub fn delete(conn: &Connection, project_id: i64, kind: &str, name: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM refs WHERE project_id = ?1 AND kind = ?2 AND name = ?3")?
        .execute(params![project_id, kind, name])?
        > 0)
}

/// How a listing's `search` matches names (GitLab: `^foo` prefix, `foo$` suffix, else substring;
/// always case-insensitive for ASCII).
#[derive(Debug, Clone)]
pub enum Search {
    All,
    Contains(String),
    Prefix(String),
    Suffix(String),
    Exact(String),
}

impl Search {
    /// Reads a `search` parameter value.
    pub fn parse(term: Option<&str>) -> Search {
        let Some(term) = term.filter(|t| !t.is_empty()) else { return Search::All };
        let (prefix, rest) = match term.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, term),
        };
        let (suffix, core) = match rest.strip_suffix('$') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let core = core.to_string();
        match (prefix, suffix) {
            _ if core.is_empty() => Search::All,
            (true, true) => Search::Exact(core),
            (true, false) => Search::Prefix(core),
            (false, true) => Search::Suffix(core),
            (false, false) => Search::Contains(core),
        }
    }

    fn mode_and_term(&self) -> (i64, &str) {
        match self {
            Search::All => (0, ""),
            Search::Contains(t) => (1, t),
            Search::Prefix(t) => (2, t),
            Search::Suffix(t) => (3, t),
            Search::Exact(t) => (4, t),
        }
    }
}

/// Sort orders of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    NameAsc,
    NameDesc,
    UpdatedAsc,
    UpdatedDesc,
}

impl Order {
    fn sql(self) -> &'static str {
        match self {
            Order::NameAsc => "name ASC",
            Order::NameDesc => "name DESC",
            Order::UpdatedAsc => "created_at ASC, id ASC",
            Order::UpdatedDesc => "created_at DESC, id DESC",
        }
    }
}

/// A page of a project's branches or tags matching `search`, with the total.
pub fn list(
    conn: &Connection,
    project_id: i64,
    kind: &str,
    search: &Search,
    order: Order,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<RefRow>, i64)> {
    let filter = "project_id = ?1 AND kind = ?2 AND (
            ?3 = 0
            OR (?3 = 1 AND instr(lower(name), lower(?4)) > 0)
            OR (?3 = 2 AND lower(substr(name, 1, length(?4))) = lower(?4))
            OR (?3 = 3 AND length(name) >= length(?4) AND lower(substr(name, -length(?4))) = lower(?4))
            OR (?3 = 4 AND lower(name) = lower(?4)))";
    let (mode, term) = search.mode_and_term();
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM refs WHERE {filter}"))?
        .query_row(params![project_id, kind, mode, term], |r| r.get(0))?;
    let sql = format!(
        "SELECT {COLUMNS} FROM refs WHERE {filter} ORDER BY {} {} OFFSET ?5",
        order.sql(),
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![project_id, kind, mode, term, offset], RefRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Git's ref-name rules (`git check-ref-format --branch`) plus GitLab's extra ones: no leading
/// `-`, not `HEAD`, no `refs/heads/`-style prefix, not a 40-hex SHA (it would be ambiguous).
pub fn valid_ref_name(name: &str) -> bool {
    const FORBIDDEN: &[char] = &[' ', '~', '^', ':', '?', '*', '[', '\\'];
    if name.is_empty()
        || name == "HEAD"
        || name == "@"
        || name.starts_with('-')
        || name.starts_with('/')
        || name.ends_with('/')
        || name.ends_with('.')
        || name.contains("..")
        || name.contains("//")
        || name.contains("@{")
        || name.chars().any(|c| c.is_control() || FORBIDDEN.contains(&c))
        || ["refs/heads/", "refs/tags/", "refs/remotes/"].iter().any(|p| name.starts_with(p))
        || is_full_sha(name)
    {
        return false;
    }
    name.split('/').all(|part| !part.starts_with('.') && !part.ends_with(".lock"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_ref_name_rules_are_enforced() {
        for ok in ["main", "feature/x", "v1.0", "release-1_2", "a.b/c-d", "ünïcode"] {
            assert!(valid_ref_name(ok), "{ok} should be valid");
        }
        for bad in [
            "",
            "has space",
            "a..b",
            "-lead",
            "trail/",
            "/lead",
            "x.lock",
            "dir/x.lock/y",
            "ctl\u{1}",
            "del\u{7f}",
            "t~1",
            "c^",
            "a:b",
            "q?",
            "s*",
            "b[",
            "back\\slash",
            "dot.",
            "a//b",
            ".hidden",
            "dir/.hidden",
            "a@{1}",
            "HEAD",
            "@",
            "refs/heads/main",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            assert!(!valid_ref_name(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn search_terms_anchor_with_caret_and_dollar() {
        assert!(matches!(Search::parse(None), Search::All));
        assert!(matches!(Search::parse(Some("^")), Search::All));
        assert!(matches!(Search::parse(Some("^fe")), Search::Prefix(t) if t == "fe"));
        assert!(matches!(Search::parse(Some("ure$")), Search::Suffix(t) if t == "ure"));
        assert!(matches!(Search::parse(Some("^main$")), Search::Exact(t) if t == "main"));
        assert!(matches!(Search::parse(Some("ai")), Search::Contains(t) if t == "ai"));
    }

    #[test]
    fn random_shas_are_40_lowercase_hex() {
        let s = random_sha();
        assert!(is_full_sha(&s) && !s.chars().any(|c| c.is_ascii_uppercase()));
        assert_ne!(s, random_sha());
    }
}
