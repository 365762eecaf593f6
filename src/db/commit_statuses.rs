//! The commit status API's storage side: which commit a SHA names (a commit row, a SHA a ref
//! points at, or a SHA some pipeline of the project ran on: triggerd stores no git objects), a
//! post ([`post`]: the pipeline it goes to, the external job it creates or moves, the pipeline
//! following), and the statuses of a commit.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::jobs::JobRow;
use super::jobs::external::{self, Details};
use super::pipelines::{self, NewPipeline, PipelineRow};
use crate::ci::commit_status::{self, Reported};
use crate::ci::status::JobStatus;

/// A commit status to post (GitLab's params, validated).
#[derive(Debug, Clone)]
pub struct NewStatus {
    pub project_id: i64,
    pub user_id: i64,
    /// The commit as the path names it (a SHA, a short SHA, a branch or tag name).
    pub commit: String,
    pub reported: Reported,
    pub ref_name: Option<String>,
    pub name: String,
    pub pipeline_id: Option<i64>,
    pub details: Details,
}

/// Why a post is refused. What the post wrote before must not stay (the caller rolls back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The project knows no such commit.
    UnknownCommit,
    /// `pipeline_id` names no pipeline of this commit (and ref).
    PipelineNotFound,
    /// `pipeline_id` names a pipeline that failed on its configuration.
    PipelineConfigErrors,
    /// No ref given, no pipeline of the commit, and no branch holds it.
    NoRef,
    /// The ref (this name) is both a branch and a tag.
    AmbiguousRef(String),
    /// A CI job of the pipeline has this name.
    NameTaken,
    /// GitLab's state machine refuses: its message.
    Transition(String),
}

/// A post's outcome: the job as a commit status, and whether a job became `pending` somewhere
/// (runners need waking).
#[derive(Debug, Clone)]
pub struct Posted {
    pub status: StatusRow,
    pub enqueued: bool,
}

/// Posts a commit status in GitLab's order (executor-reference §1.3): the commit, the pipeline
/// ([`pipeline_of_post`]), then the external job ([`apply`]) and the pipeline following.
pub fn post(conn: &Connection, p: &NewStatus, now: &str) -> rusqlite::Result<Result<Posted, Refusal>> {
    let Some(sha) = known_sha(conn, p.project_id, &p.commit)? else { return Ok(Err(Refusal::UnknownCommit)) };
    let pipeline_id = match pipeline_of_post(conn, p, &sha, now)? {
        Ok(id) => id,
        Err(r) => return Ok(Err(r)),
    };
    let (job_id, enqueued) = match apply(conn, p, pipeline_id, now)? {
        Ok(done) => done,
        Err(r) => return Ok(Err(r)),
    };
    let status = find(conn, job_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    Ok(Ok(Posted { status, enqueued }))
}

/// The branch or tag a post names: `refs/heads/x` and `refs/tags/x` say which; a plain name is a
/// tag only when no branch has it. Returns `(short name, is a tag)`.
fn split_ref(
    conn: &Connection,
    project_id: i64,
    wanted: &str,
) -> rusqlite::Result<Result<(String, bool), Refusal>> {
    if let Some(name) = wanted.strip_prefix("refs/heads/") {
        return Ok(Ok((name.to_string(), false)));
    }
    if let Some(name) = wanted.strip_prefix("refs/tags/") {
        return Ok(Ok((name.to_string(), true)));
    }
    if is_ambiguous_ref(conn, project_id, wanted)? {
        return Ok(Err(Refusal::AmbiguousRef(wanted.to_string())));
    }
    let tag = super::refs::resolve(conn, project_id, wanted)?.is_some_and(|r| r.tag);
    Ok(Ok((wanted.to_string(), tag)))
}

/// The pipeline a post goes to (GitLab's order): the one `pipeline_id` names, else the newest of
/// the commit (on `ref` when given) without configuration errors, else a new one of source
/// `external` by the poster on `ref`, that newest pipeline's ref, or the first branch holding
/// the commit.
fn pipeline_of_post(
    conn: &Connection,
    p: &NewStatus,
    sha: &str,
    now: &str,
) -> rusqlite::Result<Result<i64, Refusal>> {
    let wanted_ref = match &p.ref_name {
        Some(r) => match split_ref(conn, p.project_id, r)? {
            Ok(r) => Some(r),
            Err(refusal) => return Ok(Err(refusal)),
        },
        None => None,
    };
    let ref_filter = wanted_ref.as_ref().map(|(name, _)| name.as_str());
    let found = pipeline_for(conn, p.project_id, sha, ref_filter, p.pipeline_id)?;
    if p.pipeline_id.is_some() {
        match &found {
            None => return Ok(Err(Refusal::PipelineNotFound)),
            Some(f) if f.yaml_errors.is_some() => return Ok(Err(Refusal::PipelineConfigErrors)),
            Some(_) => {}
        }
    }
    if let Some(f) = found.as_ref().filter(|f| f.yaml_errors.is_none()) {
        return Ok(Ok(f.id));
    }
    // A new pipeline (a broken one stays as it is).
    let (ref_name, tag) = match (wanted_ref, found) {
        (Some(r), _) => r,
        (None, Some(f)) => (f.ref_name, f.tag),
        (None, None) => match branch_containing(conn, p.project_id, sha)? {
            Some(branch) => (branch, false),
            None => return Ok(Err(Refusal::NoRef)),
        },
    };
    let new = NewPipeline {
        project_id: p.project_id,
        trigger_id: None,
        user_id: Some(p.user_id),
        ref_name: &ref_name,
        sha,
        tag,
        status: "created",
        source: "external",
        inputs: None,
    };
    Ok(Ok(pipelines::insert(conn, &new, &[], now)?.0))
}

/// Creates or moves the external job of a post in its pipeline and lets the pipeline follow;
/// returns the job's id and whether a job became `pending`.
fn apply(
    conn: &Connection,
    p: &NewStatus,
    pipeline_id: i64,
    now: &str,
) -> rusqlite::Result<Result<(i64, bool), Refusal>> {
    if external::name_taken_by_ci_job(conn, pipeline_id, &p.name)? {
        return Ok(Err(Refusal::NameTaken));
    }
    let (job_id, from, fresh) = match external::reusable(conn, pipeline_id, &p.name, p.user_id)? {
        Some((id, status)) => (id, JobStatus::parse(&status).unwrap_or(JobStatus::Created), false),
        None => (
            external::insert(conn, p.project_id, pipeline_id, p.user_id, &p.name, now)?,
            JobStatus::Created,
            true,
        ),
    };
    let steps = match commit_status::apply(from, p.reported) {
        Ok(steps) => steps,
        Err(why) => return Ok(Err(Refusal::Transition(why))),
    };
    external::set_details(conn, job_id, &p.details, now)?;
    for to in steps {
        external::move_to(conn, job_id, to, now)?;
    }
    if fresh {
        external::retire_others(conn, pipeline_id, &p.name, job_id, now)?;
    }
    let enqueued = external::settle(conn, pipeline_id, now)?;
    Ok(Ok((job_id, enqueued)))
}

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
