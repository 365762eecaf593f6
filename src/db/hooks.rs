//! The `project_hooks` table (project webhooks and their health). The outbox and the delivery
//! log are in [`super::hook_deliveries`].

use rusqlite::{Connection, OptionalExtension, Row, params};

/// Most hooks one project may have (GitLab's plan limit `project_hooks` is 100).
pub const MAX_PER_PROJECT: i64 = 100;

/// A hook's settings: what the API creates and updates as a whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookSettings {
    pub url: String,
    pub name: Option<String>,
    pub description: Option<String>,
    pub token: Option<String>,
    pub signing_secret: Option<Vec<u8>>,
    pub enable_ssl_verification: bool,
    pub push_events: bool,
    pub pipeline_events: bool,
    pub job_events: bool,
    /// JSON object of the other GitLab event booleans (stored, never acted on).
    pub events: String,
    /// JSON array of `{key, value}`.
    pub custom_headers: String,
}

/// One hook with its health.
#[derive(Debug, Clone)]
pub struct HookRow {
    pub id: i64,
    pub project_id: i64,
    pub settings: HookSettings,
    pub recent_failures: i64,
    pub disabled_until: Option<String>,
    pub permanently_disabled: bool,
    pub created_at: String,
}

const COLUMNS: &str = "h.id, h.project_id, h.url, h.name, h.description, h.token, h.signing_secret, \
     h.enable_ssl_verification, h.push_events, h.pipeline_events, h.job_events, h.events, h.custom_headers, \
     h.recent_failures, h.disabled_until, h.permanently_disabled, h.created_at";

/// Number of columns in [`COLUMNS`] (for joins that read a hook first).
pub const COLUMN_COUNT: usize = 17;

impl HookRow {
    /// Columns for `SELECT {hook_columns()} FROM project_hooks h`.
    pub fn columns() -> &'static str {
        COLUMNS
    }

    pub fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(HookRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            settings: HookSettings {
                url: r.get(2)?,
                name: r.get(3)?,
                description: r.get(4)?,
                token: r.get(5)?,
                signing_secret: r.get(6)?,
                enable_ssl_verification: r.get(7)?,
                push_events: r.get(8)?,
                pipeline_events: r.get(9)?,
                job_events: r.get(10)?,
                events: r.get(11)?,
                custom_headers: r.get(12)?,
            },
            recent_failures: r.get(13)?,
            disabled_until: r.get(14)?,
            permanently_disabled: r.get(15)?,
            created_at: r.get(16)?,
        })
    }
}

pub fn find(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<HookRow>> {
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM project_hooks h WHERE h.project_id = ?1 AND h.id = ?2"
    ))?
    .query_row(params![project_id, id], HookRow::from_row)
    .optional()
}

/// One page of a project's hooks by id, and the total.
pub fn list(
    conn: &Connection,
    project_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<HookRow>, i64)> {
    let total = count(conn, project_id)?;
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM project_hooks h WHERE h.project_id = ?1 ORDER BY h.id {} OFFSET ?2",
            super::limit_clause(limit)
        ))?
        .query_map(params![project_id, offset], HookRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

pub fn count(conn: &Connection, project_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM project_hooks WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))
}

pub fn insert(conn: &Connection, project_id: i64, s: &HookSettings, now: &str) -> rusqlite::Result<HookRow> {
    conn.prepare_cached(
        "INSERT INTO project_hooks (project_id, url, name, description, token, signing_secret,
             enable_ssl_verification, push_events, pipeline_events, job_events, events, custom_headers, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        project_id,
        s.url,
        s.name,
        s.description,
        s.token,
        s.signing_secret,
        s.enable_ssl_verification,
        s.push_events,
        s.pipeline_events,
        s.job_events,
        s.events,
        s.custom_headers,
        now
    ])?;
    let id = conn.last_insert_rowid();
    find(conn, project_id, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Replaces a hook's settings (its health is left alone).
pub fn update(conn: &Connection, id: i64, s: &HookSettings) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE project_hooks SET url = ?2, name = ?3, description = ?4, token = ?5, signing_secret = ?6,
                 enable_ssl_verification = ?7, push_events = ?8, pipeline_events = ?9, job_events = ?10,
                 events = ?11, custom_headers = ?12
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            s.url,
            s.name,
            s.description,
            s.token,
            s.signing_secret,
            s.enable_ssl_verification,
            s.push_events,
            s.pipeline_events,
            s.job_events,
            s.events,
            s.custom_headers
        ])?;
    Ok(n > 0)
}

pub fn delete(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached("DELETE FROM project_hooks WHERE project_id = ?1 AND id = ?2")?
        .execute(params![project_id, id])?;
    Ok(n > 0)
}

/// A hook's health after a delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub recent_failures: i64,
    pub disabled_until: Option<String>,
    pub permanently_disabled: bool,
}

pub fn set_health(conn: &Connection, id: i64, h: &Health) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE project_hooks SET recent_failures = ?2, disabled_until = ?3, permanently_disabled = ?4 WHERE id = ?1",
    )?
    .execute(params![id, h.recent_failures, h.disabled_until, h.permanently_disabled])?;
    Ok(())
}

/// The hook's health as stored (the writer reads it again before changing it).
pub fn health(conn: &Connection, id: i64) -> rusqlite::Result<Option<Health>> {
    conn.prepare_cached(
        "SELECT recent_failures, disabled_until, permanently_disabled FROM project_hooks WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok(Health { recent_failures: r.get(0)?, disabled_until: r.get(1)?, permanently_disabled: r.get(2)? })
    })
    .optional()
}
