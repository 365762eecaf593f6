//! Trees and blobs: the files each commit holds (`commit_files`, the whole tree per commit),
//! their contents stored once per project (`blobs`), and what each commit changed
//! (`commit_changes`).

use rusqlite::{Connection, OptionalExtension, params};

/// One file of a commit's tree.
#[derive(Debug, Clone)]
pub struct FileEntry {
    pub path: String,
    /// `blobs.id`.
    pub blob_row: i64,
    /// The git blob id.
    pub blob_sha: String,
    pub size: i64,
    pub executable: bool,
    /// SHA of the commit that last changed this path.
    pub last_commit_sha: String,
    /// `commits.id` of that commit.
    pub last_commit_row: i64,
    /// The content, when asked for.
    pub content: Option<Vec<u8>>,
}

/// The file at `path` in the tree of the commit with row id `commit_row`; `content` loads the
/// blob's bytes too.
pub fn get(
    conn: &Connection,
    commit_row: i64,
    path: &str,
    content: bool,
) -> rusqlite::Result<Option<FileEntry>> {
    let content_col = if content { "b.content" } else { "NULL" };
    conn.prepare_cached(&format!(
        "SELECT f.path, b.id, b.sha, b.size, f.executable, lc.sha, lc.id, {content_col}
           FROM commit_files f
           JOIN blobs b ON b.id = f.blob_id
           JOIN commits lc ON lc.id = f.last_commit_id
          WHERE f.commit_id = ?1 AND f.path = ?2"
    ))?
    .query_row(params![commit_row, path], |r| {
        Ok(FileEntry {
            path: r.get(0)?,
            blob_row: r.get(1)?,
            blob_sha: r.get(2)?,
            size: r.get(3)?,
            executable: r.get(4)?,
            last_commit_sha: r.get(5)?,
            last_commit_row: r.get(6)?,
            content: r.get(7)?,
        })
    })
    .optional()
}

/// How many files the tree of `commit_row` holds.
pub fn count(conn: &Connection, commit_row: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM commit_files WHERE commit_id = ?1")?
        .query_row([commit_row], |r| r.get(0))
}

/// True when the tree holds a file named exactly like one of `dirs` (a file where `path` needs
/// a directory).
pub fn any_file_named(conn: &Connection, commit_row: i64, dirs: &[&str]) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM commit_files WHERE commit_id = ?1 AND path = ?2")?;
    for d in dirs {
        if stmt.exists(params![commit_row, d])? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// True when the tree holds a file under `dir/` (so `dir` is a directory).
pub fn is_directory(conn: &Connection, commit_row: i64, dir: &str) -> rusqlite::Result<bool> {
    // Paths under `dir/` sort between `dir/` and `dir0` (`0` follows `/` in ASCII).
    conn.prepare_cached(
        "SELECT 1 FROM commit_files WHERE commit_id = ?1 AND path >= ?2 AND path < ?3 LIMIT 1",
    )?
    .exists(params![commit_row, format!("{dir}/"), format!("{dir}0")])
}

/// Stores `content` once per project under its git blob id; returns the blob's row id.
pub fn put_blob(conn: &Connection, project_id: i64, sha: &str, content: &[u8]) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO blobs (project_id, sha, size, content) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (project_id, sha) DO NOTHING",
    )?
    .execute(params![project_id, sha, content.len() as i64, content])?;
    conn.prepare_cached("SELECT id FROM blobs WHERE project_id = ?1 AND sha = ?2")?
        .query_row(params![project_id, sha], |r| r.get(0))
}

/// Copies the tree of `from` (when there is one) into `to`, leaving out `except`.
pub fn copy_tree(conn: &Connection, from: Option<i64>, to: i64, except: &str) -> rusqlite::Result<()> {
    let Some(from) = from else { return Ok(()) };
    conn.prepare_cached(
        "INSERT INTO commit_files (commit_id, path, blob_id, executable, last_commit_id)
         SELECT ?2, path, blob_id, executable, last_commit_id FROM commit_files
          WHERE commit_id = ?1 AND path <> ?3",
    )?
    .execute(params![from, to, except])?;
    Ok(())
}

/// Adds one file to the tree of `commit_row`, changed by that commit.
pub fn put_entry(
    conn: &Connection,
    commit_row: i64,
    path: &str,
    blob_row: i64,
    executable: bool,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO commit_files (commit_id, path, blob_id, executable, last_commit_id) VALUES (?1, ?2, ?3, ?4, ?1)",
    )?
    .execute(params![commit_row, path, blob_row, executable])?;
    Ok(())
}

/// Records what a commit changed.
pub fn record_change(conn: &Connection, commit_row: i64, path: &str, action: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO commit_changes (commit_id, path, action) VALUES (?1, ?2, ?3)")?
        .execute(params![commit_row, path, action])?;
    Ok(())
}

/// The blob SHA and content of `path` in the commit `sha` of a project (see [`content_at`]).
pub fn blob_at(
    conn: &Connection,
    project_id: i64,
    sha: &str,
    path: &str,
) -> rusqlite::Result<Option<(String, Vec<u8>)>> {
    conn.prepare_cached(
        "SELECT b.sha, b.content
           FROM commits c
           JOIN commit_files f ON f.commit_id = c.id AND f.path = ?3
           JOIN blobs b ON b.id = f.blob_id
          WHERE c.project_id = ?1 AND c.sha = ?2",
    )?
    .query_row(params![project_id, sha, path], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

/// The content of `path` in the commit `sha` of a project; `None` when the commit has no row
/// (a SHA no Files API write made: an empty tree) or no such file. One lookup of the
/// `(project_id, sha)` and `(commit_id, path)` keys: the pipeline creation's config read.
pub fn content_at(
    conn: &Connection,
    project_id: i64,
    sha: &str,
    path: &str,
) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached(
        "SELECT b.content
           FROM commits c
           JOIN commit_files f ON f.commit_id = c.id AND f.path = ?3
           JOIN blobs b ON b.id = f.blob_id
          WHERE c.project_id = ?1 AND c.sha = ?2",
    )?
    .query_row(params![project_id, sha, path], |r| r.get(0))
    .optional()
}
