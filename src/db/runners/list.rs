//! The runner listings (`GET /runners`, `/runners/all`, `/projects/:id/runners`): whose runners,
//! and GitLab's filters on them.

use rusqlite::Connection;

use super::{RunnerRow, SELECT};

/// Whose runners a listing shows.
#[derive(Debug, Clone)]
pub enum Visible {
    /// Every runner (`GET /runners/all`).
    All,
    /// Project runners of projects where this user is Maintainer or above (`GET /runners`).
    OwnedBy(i64),
    /// A project's runners and every instance runner (`GET /projects/:id/runners`).
    Project(i64),
}

/// Listing filters: GitLab's `type`, `status`, `paused`, `tag_list`, `version_prefix` and the
/// deprecated `scope`. Every condition must hold.
#[derive(Debug, Clone, Default)]
pub struct RunnerFilter {
    /// Each entry: the runner type is one of these.
    pub types: Vec<Vec<String>>,
    /// Each entry: `online`, `offline`, `never_contacted`, `stale`, `active` or `paused`.
    pub statuses: Vec<String>,
    /// Runners having all of these tags.
    pub tags: Option<Vec<String>>,
    /// The last reported version starts with this.
    pub version_prefix: Option<String>,
}

/// A page of runners ordered by id, with the total. Deadlines are in the stored format.
pub fn list(
    conn: &Connection,
    visible: &Visible,
    f: &RunnerFilter,
    online_deadline: &str,
    stale_deadline: &str,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<RunnerRow>, i64)> {
    use rusqlite::types::Value;
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let arg = |args: &mut Vec<Value>, v: Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    match visible {
        Visible::All => {}
        Visible::OwnedBy(user) => {
            let u = arg(&mut args, Value::Integer(*user));
            conds.push(format!(
                "EXISTS (SELECT 1 FROM runner_projects rp WHERE rp.runner_id = r.id AND {} >= 40)",
                crate::db::access::project_level_sql("rp.project_id", &u)
            ));
        }
        Visible::Project(project) => {
            let p = arg(&mut args, Value::Integer(*project));
            conds.push(format!(
                "(r.runner_type = 'instance_type'
                  OR EXISTS (SELECT 1 FROM runner_projects rp WHERE rp.runner_id = r.id AND rp.project_id = {p}))"
            ));
        }
    }
    for types in &f.types {
        let list = arg(&mut args, Value::Text(serde_json::Value::from(types.clone()).to_string()));
        conds.push(format!("r.runner_type IN (SELECT value FROM json_each({list}))"));
    }
    for status in &f.statuses {
        let cond = match status.as_str() {
            "online" => format!("r.contacted_at > {}", arg(&mut args, Value::Text(online_deadline.into()))),
            "offline" => format!("r.contacted_at <= {}", arg(&mut args, Value::Text(online_deadline.into()))),
            "never_contacted" => "r.contacted_at IS NULL".to_string(),
            "stale" => {
                let d = arg(&mut args, Value::Text(stale_deadline.into()));
                format!("(r.created_at <= {d} AND (r.contacted_at IS NULL OR r.contacted_at <= {d}))")
            }
            "active" => "r.active = 1".to_string(),
            "paused" => "r.active = 0".to_string(),
            _ => "0".to_string(),
        };
        conds.push(cond);
    }
    if let Some(tags) = &f.tags {
        let list = arg(&mut args, Value::Text(serde_json::Value::from(tags.clone()).to_string()));
        conds.push(format!(
            "(SELECT COUNT(*) FROM runner_tags t WHERE t.runner_id = r.id
                  AND t.name IN (SELECT value FROM json_each({list}))) = json_array_length({list})"
        ));
    }
    if let Some(prefix) = &f.version_prefix {
        let v = arg(&mut args, Value::Text(prefix.clone()));
        conds.push(format!("substr(r.version, 1, length({v})) = {v}"));
    }
    let filter = if conds.is_empty() { "1".to_string() } else { conds.join(" AND ") };
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM runners r WHERE {filter}"))?
        .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
    let off = arg(&mut args, Value::Integer(offset));
    let rows = conn
        .prepare_cached(&format!(
            "{SELECT} WHERE {filter} ORDER BY r.id {} OFFSET {off}",
            crate::db::limit_clause(limit)
        ))?
        .query_map(rusqlite::params_from_iter(args.iter()), RunnerRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}
