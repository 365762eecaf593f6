//! What the commit status API reads besides jobs: which commit a SHA names (a commit row, a SHA a
//! ref points at, or a SHA some pipeline of the project ran on: triggerd stores no git objects),
//! the pipeline a status goes to, the branch a commit is on, and the statuses of a commit.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::jobs::JobRow;
use super::pipelines::{self, PipelineRow};

/// The full SHA of the commit `wanted` names in the project (what `commits::resolve` accepts,
/// or a full SHA some pipeline of the project has), `None` when the project knows no such commit.
pub fn known_sha(conn: &Connection, project_id: i64, wanted: &str) -> rusqlite::Result<Option<String>> {
    if let Some(t) = super::commits::resolve(conn, project_id, wanted)? {
        return Ok(Some(t.sha));
    }
    if !super::refs::is_full_sha(wanted) {
        return Ok(None);
    }
    let sha = wanted.to_ascii_lowercase();
    let seen: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM pipelines WHERE project_id = ?1 AND sha = ?2)")?
        .query_row(params![project_id, sha], |r| r.get(0))?;
    Ok(seen.then_some(sha))
}

/// The newest pipeline of the project at `sha`, on `ref_name` and with id `pipeline_id` when
/// given (GitLab's first matching pipeline).
pub fn pipeline_for(
    conn: &Connection,
    project_id: i64,
    sha: &str,
    ref_name: Option<&str>,
    pipeline_id: Option<i64>,
) -> rusqlite::Result<Option<PipelineRow>> {
    let id: Option<i64> = conn
        .prepare_cached(
            "SELECT id FROM pipelines WHERE project_id = ?1 AND sha = ?2 AND (?3 IS NULL OR ref = ?3)
                                        AND (?4 IS NULL OR id = ?4)
             ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![project_id, sha, ref_name, pipeline_id], |r| r.get(0))
        .optional()?;
    match id {
        Some(id) => pipelines::find(conn, project_id, id),
        None => Ok(None),
    }
}

/// The first branch (by name) whose history holds `sha`: its head, or an ancestor through the
/// commits the Repository Files API made (GitLab's `branch_names_contains(sha).first`).
pub fn branch_containing(conn: &Connection, project_id: i64, sha: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "WITH RECURSIVE reach(name, sha) AS (
             SELECT name, sha FROM refs WHERE project_id = ?1 AND kind = 'branch'
             UNION
             SELECT reach.name, c.parent_sha FROM reach
             JOIN commits c ON c.project_id = ?1 AND c.sha = reach.sha
             WHERE c.parent_sha IS NOT NULL
         )
         SELECT MIN(name) FROM reach WHERE sha = ?2",
    )?
    .query_row(params![project_id, sha], |r| r.get(0))
}

/// Whether the project has both a branch and a tag named `name`.
pub fn is_ambiguous_ref(conn: &Connection, project_id: i64, name: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT COUNT(DISTINCT kind) = 2 FROM refs WHERE project_id = ?1 AND name = ?2")?
        .query_row(params![project_id, name], |r| r.get(0))
}

/// One commit status: a job of any kind with its pipeline's ref and SHA and, for an external
/// job, its `target_url` and `description`.
#[derive(Debug, Clone)]
pub struct StatusRow {
    pub job: JobRow,
    pub ref_name: String,
    pub sha: String,
    pub target_url: Option<String>,
    pub description: Option<String>,
}

/// A job by id as a commit status.
pub fn find(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<StatusRow>> {
    let Some(job) = super::jobs::find_by_id(conn, job_id)? else { return Ok(None) };
    let (ref_name, sha, target_url, description) = conn
        .prepare_cached(
            "SELECT p.ref, p.sha, cs.target_url, cs.description
             FROM jobs j JOIN pipelines p ON p.id = j.pipeline_id LEFT JOIN commit_statuses cs ON cs.job_id = j.id
             WHERE j.id = ?1",
        )?
        .query_row([job_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(Some(StatusRow { job, ref_name, sha, target_url, description }))
}

/// Which statuses a list returns and in what order.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub ref_name: Option<String>,
    pub stage: Option<String>,
    pub name: Option<String>,
    pub pipeline_id: Option<i64>,
    /// Include jobs replaced by a retry or a later post (`all`).
    pub all: bool,
    /// Order by `pipeline_id` (then id) instead of id.
    pub by_pipeline: bool,
    pub descending: bool,
}

/// A page of the statuses (jobs of every kind) of the project's pipelines at `sha`, with the
/// total count.
pub fn list(
    conn: &Connection,
    project_id: i64,
    sha: &str,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<StatusRow>, i64)> {
    let mut filter = String::from(
        "j.pipeline_id IN (SELECT p.id FROM pipelines p WHERE p.project_id = ?1 AND p.sha = ?2 AND (?3 IS NULL OR p.ref = ?3))",
    );
    let mut args: Vec<SqlValue> = vec![
        SqlValue::Integer(project_id),
        SqlValue::Text(sha.to_string()),
        f.ref_name.clone().map_or(SqlValue::Null, SqlValue::Text),
    ];
    let mut add = |cond: &str, v: SqlValue| {
        args.push(v);
        filter.push_str(&format!(" AND {cond} ?{}", args.len()));
    };
    if let Some(s) = &f.stage {
        add("j.stage =", SqlValue::Text(s.clone()));
    }
    if let Some(n) = &f.name {
        add("j.name =", SqlValue::Text(n.clone()));
    }
    if let Some(p) = f.pipeline_id {
        add("j.pipeline_id =", SqlValue::Integer(p));
    }
    if !f.all {
        filter.push_str(" AND j.retried = 0");
    }
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"))?
        .query_row(params_from_iter(&args), |r| r.get(0))?;
    let dir = if f.descending { "DESC" } else { "ASC" };
    let order =
        if f.by_pipeline { format!("j.pipeline_id {dir}, j.id {dir}") } else { format!("j.id {dir}") };
    args.push(SqlValue::Integer(offset));
    let ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT j.id FROM jobs j WHERE {filter} ORDER BY {order} {} OFFSET ?{}",
            super::limit_clause(limit),
            args.len()
        ))?
        .query_map(params_from_iter(&args), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(row) = find(conn, id)? {
            rows.push(row);
        }
    }
    Ok((rows, total))
}
