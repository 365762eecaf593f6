//! The `pipelines` and `pipeline_variables` tables, plus the few reads of `triggers` and `refs`
//! the trigger call makes inside its single write (token lookup and ref resolution happen where
//! the insert happens, so a trigger call costs one hop to the writer thread).

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::users::UserRow;
use super::{ListPage, Window};

/// `before_sha` of a triggered pipeline: GitLab's blank SHA.
pub const BLANK_SHA: &str = "0000000000000000000000000000000000000000";

/// One pipeline with the user who created it (`None` when there is none, e.g. deleted).
#[derive(Debug, Clone)]
pub struct PipelineRow {
    pub id: i64,
    pub project_id: i64,
    pub iid: i64,
    pub trigger_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ref_name: String,
    pub sha: String,
    pub before_sha: String,
    pub tag: bool,
    pub status: String,
    pub source: String,
    pub name: Option<String>,
    pub yaml_errors: Option<String>,
    pub inputs: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub committed_at: Option<String>,
    pub duration: Option<i64>,
    pub queued_duration: Option<i64>,
    pub coverage: Option<String>,
    pub user: Option<UserRow>,
}

/// Every [`PipelineRow`] column (the user LEFT JOINed as `users`); append `WHERE …`.
const SELECT: &str = "SELECT p.id, p.project_id, p.iid, p.trigger_id, p.user_id, p.ref, p.sha, p.before_sha, \
     p.tag, p.status, p.source, p.name, p.yaml_errors, p.inputs, p.created_at, p.updated_at, p.started_at, \
     p.finished_at, p.committed_at, p.duration, p.queued_duration, p.coverage, \
     users.id, users.username, users.name, users.email, users.is_admin, users.state, users.created_at \
     FROM pipelines p LEFT JOIN users ON users.id = p.user_id";

/// Index of `users.id` in [`SELECT`].
const USER_OFFSET: usize = 22;

impl PipelineRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let user = match r.get::<_, Option<i64>>(USER_OFFSET)? {
            Some(_) => Some(UserRow::from_row_at(r, USER_OFFSET)?),
            None => None,
        };
        Ok(PipelineRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            iid: r.get(2)?,
            trigger_id: r.get(3)?,
            user_id: r.get(4)?,
            ref_name: r.get(5)?,
            sha: r.get(6)?,
            before_sha: r.get(7)?,
            tag: r.get(8)?,
            status: r.get(9)?,
            source: r.get(10)?,
            name: r.get(11)?,
            yaml_errors: r.get(12)?,
            inputs: r.get(13)?,
            created_at: r.get(14)?,
            updated_at: r.get(15)?,
            started_at: r.get(16)?,
            finished_at: r.get(17)?,
            committed_at: r.get(18)?,
            duration: r.get(19)?,
            queued_duration: r.get(20)?,
            coverage: r.get(21)?,
            user,
        })
    }
}

/// A pipeline of a project by its global id.
/// The project a pipeline belongs to.
pub fn project_of(conn: &Connection, id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT project_id FROM pipelines WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
}

pub fn find(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<PipelineRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE p.project_id = ?1 AND p.id = ?2"))?
        .query_row(params![project_id, id], PipelineRow::from_row)
        .optional()
}

/// The newest pipeline of a project for a ref name at a given commit.
pub fn latest_for(
    conn: &Connection,
    project_id: i64,
    ref_name: &str,
    sha: &str,
) -> rusqlite::Result<Option<PipelineRow>> {
    conn.prepare_cached(&format!(
        "{SELECT} WHERE p.project_id = ?1 AND p.ref = ?2 AND p.sha = ?3 ORDER BY p.id DESC LIMIT 1"
    ))?
    .query_row(params![project_id, ref_name, sha], PipelineRow::from_row)
    .optional()
}

/// One pipeline variable.
#[derive(Debug, Clone)]
pub struct VariableRow {
    pub key: String,
    pub value: String,
    pub variable_type: String,
}

/// A pipeline's variables in the order they were sent.
pub fn variables(conn: &Connection, pipeline_id: i64) -> rusqlite::Result<Vec<VariableRow>> {
    conn.prepare_cached(
        "SELECT key, value, variable_type FROM pipeline_variables WHERE pipeline_id = ?1 ORDER BY position",
    )?
    .query_map([pipeline_id], |r| {
        Ok(VariableRow { key: r.get(0)?, value: r.get(1)?, variable_type: r.get(2)? })
    })?
    .collect()
}

/// What the trigger call needs to know about a trigger token.
#[derive(Debug, Clone)]
pub struct TriggerAuth {
    pub id: i64,
    pub project_id: i64,
    pub owner_id: i64,
    pub expires_at: Option<String>,
    pub digest: Vec<u8>,
    /// The token's limits, read by the same lookup (a join on the policy's primary key).
    pub policy: super::triggers::TriggerPolicy,
    /// Set when the digest is a secret replaced by a rotation: when it stops working.
    pub secret_expires_at: Option<String>,
}

/// The trigger whose token has this SHA-256 digest: its current secret, or else one replaced by
/// a rotation (two probes of unique indexes in one statement; the second only runs on a miss).
pub fn find_trigger_by_digest(conn: &Connection, digest: &[u8]) -> rusqlite::Result<Option<TriggerAuth>> {
    conn.prepare_cached(
        "SELECT t.id, t.project_id, t.owner_id, t.expires_at, t.token_digest,
                tp.allowed_refs, tp.allowed_variables, tp.required_variables, tp.max_variable_value_bytes,
                NULL
         FROM triggers t LEFT JOIN trigger_policies tp ON tp.trigger_id = t.id
         WHERE t.token_digest = ?1
         UNION ALL
         SELECT t.id, t.project_id, t.owner_id, t.expires_at, s.token_digest,
                tp.allowed_refs, tp.allowed_variables, tp.required_variables, tp.max_variable_value_bytes,
                s.expires_at
         FROM trigger_secrets s JOIN triggers t ON t.id = s.trigger_id
              LEFT JOIN trigger_policies tp ON tp.trigger_id = t.id
         WHERE s.token_digest = ?1
         LIMIT 1",
    )?
    .query_row([digest], |r| {
        Ok(TriggerAuth {
            id: r.get(0)?,
            project_id: r.get(1)?,
            owner_id: r.get(2)?,
            expires_at: r.get(3)?,
            digest: r.get(4)?,
            policy: super::triggers::TriggerPolicy::from_row_at(r, 5)?,
            secret_expires_at: r.get(9)?,
        })
    })
    .optional()
}

/// A pipeline to create (the remaining columns start out null).
pub struct NewPipeline<'a> {
    pub project_id: i64,
    pub trigger_id: Option<i64>,
    pub user_id: Option<i64>,
    pub ref_name: &'a str,
    pub sha: &'a str,
    pub tag: bool,
    pub status: &'a str,
    pub source: &'a str,
    pub inputs: Option<&'a str>,
}

/// A variable to store with a new pipeline.
pub struct NewVariable<'a> {
    pub key: &'a str,
    pub value: &'a str,
    pub variable_type: &'a str,
}

/// Inserts a pipeline with the project's next iid (the counter is bumped in the same write) and
/// its variables in the given order; returns `(id, iid)`.
pub fn insert(
    conn: &Connection,
    p: &NewPipeline,
    vars: &[NewVariable],
    now: &str,
) -> rusqlite::Result<(i64, i64)> {
    let iid: i64 = conn
        .prepare_cached(
            "UPDATE projects SET last_pipeline_iid = last_pipeline_iid + 1 WHERE id = ?1 RETURNING last_pipeline_iid",
        )?
        .query_row([p.project_id], |r| r.get(0))?;
    conn.prepare_cached(
        "INSERT INTO pipelines (project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source,
                                inputs, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
    )?
    .execute(params![
        p.project_id,
        iid,
        p.trigger_id,
        p.user_id,
        p.ref_name,
        p.sha,
        BLANK_SHA,
        p.tag,
        p.status,
        p.source,
        p.inputs,
        now
    ])?;
    let id = conn.last_insert_rowid();
    let mut stmt = conn.prepare_cached(
        "INSERT INTO pipeline_variables (pipeline_id, position, key, value, variable_type)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (position, v) in vars.iter().enumerate() {
        stmt.execute(params![id, position as i64, v.key, v.value, v.variable_type])?;
    }
    Ok((id, iid))
}

/// Marks a just-created pipeline `failed` by its configuration (GitLab's `config_error`): its
/// `yaml_errors` and `finished_at` are set.
pub fn fail_with_yaml_errors(conn: &Connection, id: i64, errors: &str, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE pipelines SET status = 'failed', yaml_errors = ?2, finished_at = ?3, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, errors, now])?;
    Ok(())
}

/// `scope` of the pipeline list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Running,
    Pending,
    Finished,
    Branches,
    Tags,
}

impl Scope {
    pub const NAMES: &'static [&'static str] = &["running", "pending", "finished", "branches", "tags"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "running" => Self::Running,
            "pending" => Self::Pending,
            "finished" => Self::Finished,
            "branches" => Self::Branches,
            "tags" => Self::Tags,
            _ => return None,
        })
    }

    /// A fixed SQL condition (no user input; `?1` is the project id).
    fn condition(self) -> &'static str {
        match self {
            Self::Running => " AND p.status = 'running'",
            Self::Pending => " AND p.status = 'pending'",
            Self::Finished => " AND p.status IN ('success', 'failed', 'canceled', 'skipped')",
            // GitLab: the newest pipeline of each existing branch (tag).
            // One `MAX` per ref, each a single probe of `pipelines_project_ref`.
            Self::Branches => {
                " AND p.id IN (SELECT (SELECT MAX(id) FROM pipelines WHERE project_id = ?1 AND ref = r.name)
                   FROM refs r WHERE r.project_id = ?1 AND r.kind = 'branch')"
            }
            Self::Tags => {
                " AND p.id IN (SELECT (SELECT MAX(id) FROM pipelines WHERE project_id = ?1 AND ref = r.name)
                   FROM refs r WHERE r.project_id = ?1 AND r.kind = 'tag')"
            }
        }
    }
}

/// `order_by` of the pipeline list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderBy {
    Id,
    Status,
    Ref,
    UpdatedAt,
    UserId,
}

impl OrderBy {
    pub const NAMES: &'static [&'static str] = &["id", "status", "ref", "updated_at", "user_id"];

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "id" => Self::Id,
            "status" => Self::Status,
            "ref" => Self::Ref,
            "updated_at" => Self::UpdatedAt,
            "user_id" => Self::UserId,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            Self::Id => "p.id",
            Self::Status => "p.status",
            Self::Ref => "p.ref",
            Self::UpdatedAt => "p.updated_at",
            Self::UserId => "p.user_id",
        }
    }
}

/// Filters of `GET /projects/:id/pipelines`; timestamps already in the stored format.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub scope: Option<Scope>,
    pub status: Option<String>,
    pub source: Option<String>,
    pub ref_name: Option<String>,
    pub sha: Option<String>,
    pub username: Option<String>,
    pub yaml_errors: Option<bool>,
    pub updated_after: Option<String>,
    pub updated_before: Option<String>,
    pub created_after: Option<String>,
    pub created_before: Option<String>,
    pub name: Option<String>,
    pub order_by: OrderBy,
    pub descending: bool,
}

/// The `WHERE` condition (on `pipelines p`, `?1` the project id), the join it needs and the
/// bound values of a filtered pipeline list.
///
/// Only the filters actually given become SQL conditions, and the `users` join is there only for
/// the `username` filter: unfiltered, a count reads entries of the `pipelines_project` index alone.
fn conditions(project_id: i64, f: &ListFilter) -> (String, &'static str, Vec<SqlValue>) {
    let mut filter = String::from("p.project_id = ?1");
    let mut args: Vec<SqlValue> = vec![SqlValue::Integer(project_id)];
    // `condition` is fixed SQL with one `?` for the value, which is always bound.
    let mut add = |condition: &str, value: Option<SqlValue>| {
        if let Some(v) = value {
            args.push(v);
            filter.push_str(" AND ");
            filter.push_str(&condition.replace('?', &format!("?{}", args.len())));
        }
    };
    let text = |v: &Option<String>| v.clone().map(SqlValue::Text);
    add("p.status = ?", text(&f.status));
    add("p.source = ?", text(&f.source));
    add("p.ref = ?", text(&f.ref_name));
    add("p.sha = ?", text(&f.sha));
    add("users.username = ?", text(&f.username));
    add("(p.yaml_errors IS NOT NULL) = ?", f.yaml_errors.map(|b| SqlValue::Integer(b.into())));
    add("p.updated_at > ?", text(&f.updated_after));
    add("p.updated_at < ?", text(&f.updated_before));
    add("p.created_at > ?", text(&f.created_after));
    add("p.created_at < ?", text(&f.created_before));
    add("p.name = ?", text(&f.name));
    if let Some(scope) = f.scope {
        filter.push_str(scope.condition());
    }
    let join = if f.username.is_some() { " LEFT JOIN users ON users.id = p.user_id" } else { "" };
    (filter, join, args)
}

/// A page of a project's pipelines matching the filter, with the exact total count (the web
/// pages' list; the API uses [`page`], whose count is bounded).
pub fn list(
    conn: &Connection,
    project_id: i64,
    f: &ListFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<PipelineRow>, i64)> {
    let (filter, join, mut args) = conditions(project_id, f);
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM pipelines p{join} WHERE {filter}"))?
        .query_row(params_from_iter(&args), |r| r.get(0))?;
    let dir = if f.descending { "DESC" } else { "ASC" };
    args.push(SqlValue::Integer(offset));
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY {} {dir}, p.id {dir} {} OFFSET ?{}",
        f.order_by.column(),
        super::limit_clause(limit),
        args.len()
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&args), PipelineRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Whether [`page`] is a short read (see `Db::read_short`): no filter, so the count is the
/// project's counter; ordered by id, so the page is an index walk; and a keyset page or an
/// offset of at most [`super::SHORT_OFFSET`] rows.
pub fn page_is_short(f: &ListFilter, window: Window) -> bool {
    unfiltered(f, &conditions(0, f).2)
        && f.order_by == OrderBy::Id
        && match window {
            Window::Offset(offset) => offset <= super::SHORT_OFFSET,
            Window::After(_) => true,
        }
}

/// Whether `f` filters nothing: [`conditions`] bound only the project id (its `args`) and no
/// `scope` narrows the list, so its count is the project's `pipelines_count`.
fn unfiltered(f: &ListFilter, args: &[SqlValue]) -> bool {
    args.len() == 1 && f.scope.is_none()
}

/// A page of a project's pipelines matching the filter, for `GET /projects/:id/pipelines`.
///
/// By offset, the total is counted up to [`super::COUNT_LIMIT`] rows only (unfiltered, it is the
/// project's `pipelines_count`), so a page costs the same at a million pipelines as at a thousand. By keyset ([`Window::After`], `order_by` must
/// be `id`), the page starts after the given id in the list's direction and nothing is counted;
/// both walk the `pipelines_project (project_id, id)` index.
pub fn page(
    conn: &Connection,
    project_id: i64,
    f: &ListFilter,
    limit: i64,
    window: Window,
) -> rusqlite::Result<ListPage<PipelineRow>> {
    let (mut filter, join, mut args) = conditions(project_id, f);
    let dir = if f.descending { "DESC" } else { "ASC" };
    let (total, tail) = match window {
        Window::Offset(offset) => {
            let total = if unfiltered(f, &args) {
                // Unfiltered: the project's counter, kept by triggers on `pipelines`.
                let n: i64 = conn
                    .prepare_cached("SELECT pipelines_count FROM projects WHERE id = ?1")?
                    .query_row([project_id], |r| r.get(0))
                    .optional()?
                    .unwrap_or(0);
                (n <= super::COUNT_LIMIT).then_some(n)
            } else {
                super::bounded_count(conn, &format!("FROM pipelines p{join} WHERE {filter}"), &args)?
            };
            args.push(SqlValue::Integer(offset));
            (total, format!(" OFFSET ?{}", args.len()))
        }
        Window::After(after) => {
            if let Some(id) = after {
                args.push(SqlValue::Integer(id));
                let op = if f.descending { "<" } else { ">" };
                filter.push_str(&format!(" AND p.id {op} ?{}", args.len()));
            }
            (None, String::new())
        }
    };
    let sql = format!(
        "{SELECT} WHERE {filter} ORDER BY {} {dir}, p.id {dir} {}{tail}",
        f.order_by.column(),
        super::limit_clause(limit.saturating_add(1)),
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(&args), PipelineRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(ListPage::from_extra(rows, limit, total))
}

/// Cancels the pipeline if its status allows it; returns whether it changed.
pub fn cancel(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE pipelines SET status = 'canceled', finished_at = ?2, updated_at = ?2
             WHERE id = ?1 AND status IN ('created', 'waiting_for_resource', 'preparing', 'waiting_for_callback',
                                          'pending', 'running', 'scheduled', 'manual')",
        )?
        .execute(params![id, now])?;
    Ok(n > 0)
}

/// Retries a failed or canceled pipeline (back to `pending`); returns whether it changed.
pub fn retry(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE pipelines SET status = 'pending', finished_at = NULL, updated_at = ?2
             WHERE id = ?1 AND status IN ('failed', 'canceled')",
        )?
        .execute(params![id, now])?;
    Ok(n > 0)
}

/// Deletes a pipeline (its variables cascade); returns whether it existed.
pub fn delete(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM pipelines WHERE project_id = ?1 AND id = ?2")?
        .execute(params![project_id, id])?
        > 0)
}
