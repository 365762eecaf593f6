//! Reading jobs: one by id, a project's list, what the runner protocol checks.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::bridges::IS_BRIDGE;
use super::external::IS_EXTERNAL;
use super::{JobRow, SELECT};
use crate::db::{ListPage, Window};

/// A CI build (not a bridge nor an external job: the Jobs API shows builds only) of a project by its global id.
pub fn find(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!(
        "{SELECT} WHERE j.project_id = ?1 AND j.id = ?2 AND NOT {IS_BRIDGE} AND NOT {IS_EXTERNAL}"
    ))?
    .query_row(params![project_id, id], JobRow::from_row)
    .optional()
}

/// Builds (what runners run) or bridges (`trigger:` jobs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum JobKind {
    #[default]
    Builds,
    Bridges,
}

/// A bridge (`trigger:` job) of a project by its global id: the Jobs API retries and plays
/// bridges too, as GitLab's does.
pub fn find_bridge(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE j.project_id = ?1 AND j.id = ?2 AND {IS_BRIDGE}"))?
        .query_row(params![project_id, id], JobRow::from_row)
        .optional()
}

/// Which jobs a list returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Builds (the Jobs API) or bridges (`…/bridges`).
    pub kind: JobKind,
    /// Only a pipeline's jobs.
    pub pipeline_id: Option<i64>,
    /// Only these statuses (empty: all).
    pub statuses: Vec<String>,
    /// Include jobs replaced by a retry.
    pub include_retried: bool,
}

/// The `WHERE` condition (on `jobs j`, `?1` the project id) and bound values of a job list.
fn conditions(project_id: i64, f: &ListFilter) -> (String, Vec<SqlValue>) {
    let mut filter = match f.kind {
        JobKind::Builds => format!("j.project_id = ?1 AND NOT {IS_BRIDGE} AND NOT {IS_EXTERNAL}"),
        JobKind::Bridges => format!("j.project_id = ?1 AND {IS_BRIDGE}"),
    };
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(project_id)];
    if let Some(p) = f.pipeline_id {
        // `+` keeps the project condition off the index: `jobs_project (project_id, id)` and
        // `jobs_pipeline (pipeline_id, id)` tie for SQLite's planner, and walking every job of the
        // project to find one pipeline's took 157 ms at a million jobs (0.13 ms by the pipeline).
        filter = filter.replacen("j.project_id = ?1", "+j.project_id = ?1", 1);
        args.push(SqlValue::Integer(p));
        filter.push_str(&format!(" AND j.pipeline_id = ?{}", args.len()));
    }
    if !f.include_retried {
        filter.push_str(" AND j.retried = 0");
    }
    if !f.statuses.is_empty() {
        let mut marks = Vec::new();
        for s in &f.statuses {
            args.push(SqlValue::Text(s.clone()));
            marks.push(format!("?{}", args.len()));
        }
        filter.push_str(&format!(" AND j.status IN ({})", marks.join(", ")));
    }
    (filter, args)
}

/// A page of a project's jobs, newest first, with the exact total count (a pipeline's jobs,
/// bridges, the web pages; `GET /projects/:id/jobs` uses [`page`]).
pub fn list(
    conn: &Connection,
    project_id: i64,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<JobRow>, i64)> {
    let (filter, mut args) = conditions(project_id, f);
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"))?
        .query_row(params_from_iter(&args), |r| r.get(0))?;
    args.push(SqlValue::Integer(offset));
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY j.id DESC {} OFFSET ?{}",
        crate::db::limit_clause(limit),
        args.len()
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&args), JobRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// A page of a project's jobs, newest first, for `GET /projects/:id/jobs`: by offset with the
/// total counted up to [`COUNT_LIMIT`](crate::db::COUNT_LIMIT) rows, or by keyset (the jobs
/// older than the given id, not counted). Both walk the `jobs_project (project_id, id)` index.
pub fn page(
    conn: &Connection,
    project_id: i64,
    f: &ListFilter,
    limit: i64,
    window: Window,
) -> rusqlite::Result<ListPage<JobRow>> {
    let (mut filter, mut args) = conditions(project_id, f);
    let (total, tail) = match window {
        Window::Offset(offset) => {
            let total = crate::db::bounded_count(conn, &format!("FROM jobs j WHERE {filter}"), &args)?;
            args.push(SqlValue::Integer(offset));
            (total, format!(" OFFSET ?{}", args.len()))
        }
        Window::After(after) => {
            if let Some(id) = after {
                args.push(SqlValue::Integer(id));
                filter.push_str(&format!(" AND j.id < ?{}", args.len()));
            }
            (None, String::new())
        }
    };
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY j.id DESC {}{tail}",
        crate::db::limit_clause(limit.saturating_add(1))
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&args), JobRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ListPage::from_extra(rows, limit, total))
}

/// A job as the runner protocol authenticates it: status and the digest of its job token
/// (`None` before a runner took it; kept once it ended, so its token still names it).
#[derive(Debug, Clone)]
pub struct JobTokenCheck {
    pub status: String,
    pub token_digest: Option<Vec<u8>>,
}

/// The status and job-token digest of a job by its global id.
pub fn token_check(conn: &Connection, job_id: i64) -> rusqlite::Result<Option<JobTokenCheck>> {
    conn.prepare_cached("SELECT status, token_digest FROM jobs WHERE id = ?1")?
        .query_row([job_id], |r| Ok(JobTokenCheck { status: r.get(0)?, token_digest: r.get(1)? }))
        .optional()
}

/// A job by its global id (any project).
pub fn find_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<JobRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE j.id = ?1"))?.query_row([id], JobRow::from_row).optional()
}

/// The variables a manual job was played with (JSON `[{key, value}]`), if any.
pub fn played_variables(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT job_variables FROM jobs WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// The jobs a runner took (retried ones included), by id (`ascending` or newest first), only
/// those with `status` when given; with the total count.
pub fn list_for_runner(
    conn: &Connection,
    runner_id: i64,
    status: Option<&str>,
    ascending: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<JobRow>, i64)> {
    let filter = "j.runner_id = ?1 AND (?2 IS NULL OR j.status = ?2)";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"))?
        .query_row(params![runner_id, status], |r| r.get(0))?;
    let order = if ascending { "ASC" } else { "DESC" };
    let sql =
        format!("{SELECT} WHERE {filter} ORDER BY j.id {order} {} OFFSET ?3", crate::db::limit_clause(limit));
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params![runner_id, status, offset], JobRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    /// The detail lines of SQLite's plan for `sql` on a database with the current schema.
    fn plan(sql: &str, args: &[SqlValue]) -> String {
        let conn = Connection::open_in_memory().unwrap();
        crate::db::migrate::run(&conn).unwrap();
        let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = st.query_map(params_from_iter(args), |r| r.get::<_, String>(3)).unwrap();
        rows.collect::<rusqlite::Result<Vec<_>>>().unwrap().join("\n")
    }

    #[test]
    fn a_pipelines_job_list_walks_the_pipelines_jobs_not_the_projects() {
        for kind in [JobKind::Builds, JobKind::Bridges] {
            let f = ListFilter { kind, pipeline_id: Some(7), ..ListFilter::default() };
            let (filter, args) = conditions(1, &f);
            for sql in [
                format!("SELECT COUNT(*) FROM jobs j WHERE {filter}"),
                format!("{SELECT} WHERE {filter} ORDER BY j.id DESC LIMIT 20"),
            ] {
                let plan = plan(&sql, &args);
                assert!(plan.contains("INDEX jobs_pipeline"), "{sql}\n{plan}");
            }
        }
        let (filter, args) = conditions(1, &ListFilter::default());
        let plan = plan(&format!("{SELECT} WHERE {filter} ORDER BY j.id DESC LIMIT 20"), &args);
        assert!(plan.contains("INDEX jobs_project"), "a project's jobs list keeps its index:\n{plan}");
    }
}
