//! The webhook outbox (`hook_deliveries`, filled by the SQL triggers of `schema.sql`'s
//! `add_webhooks` section in the transaction of each pipeline or job status change) and the
//! delivery log (`hook_logs`).

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::hooks::{COLUMN_COUNT, HookRow};

/// A pending delivery whose turn has come, with its hook.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    pub kind: String,
    pub object_id: i64,
    pub status: String,
    pub previous_status: Option<String>,
    pub event_uuid: String,
    pub payload: Option<String>,
    pub attempts: i64,
    pub hook: HookRow,
}

/// The oldest pending delivery of each hook that may be sent now (not disabled, its retry time
/// reached), oldest first, at most `limit`, skipping the hooks in `busy` (being delivered to).
/// One index probe per hook, so a large backlog costs nothing here.
pub fn due(conn: &Connection, now: &str, limit: i64, busy: &[i64]) -> rusqlite::Result<Vec<DueDelivery>> {
    let busy_json = serde_json::to_string(busy).unwrap_or_else(|_| "[]".into());
    let sql = format!(
        "SELECT {}, d.id, d.kind, d.object_id, d.status, d.previous_status, d.event_uuid, d.payload, d.attempts
         FROM project_hooks h
         JOIN hook_deliveries d ON d.id = (SELECT p.id FROM hook_deliveries p
                                           WHERE p.hook_id = h.id AND p.state = 'pending' ORDER BY p.id LIMIT 1)
         WHERE h.permanently_disabled = 0 AND (h.disabled_until IS NULL OR h.disabled_until <= ?1)
           AND d.next_attempt_at <= ?1
           AND h.id NOT IN (SELECT value FROM json_each(?2))
         ORDER BY d.id {}",
        HookRow::columns(),
        super::limit_clause(limit)
    );
    conn.prepare_cached(&sql)?
        .query_map(params![now, busy_json], |r| {
            let c = COLUMN_COUNT;
            Ok(DueDelivery {
                hook: HookRow::from_row(r)?,
                id: r.get(c)?,
                kind: r.get(c + 1)?,
                object_id: r.get(c + 2)?,
                status: r.get(c + 3)?,
                previous_status: r.get(c + 4)?,
                event_uuid: r.get(c + 5)?,
                payload: r.get(c + 6)?,
                attempts: r.get(c + 7)?,
            })
        })?
        .collect()
}

/// Stores the payload built at the first pick-up (only if none was stored meanwhile); returns
/// the stored one.
pub fn set_payload(conn: &Connection, id: i64, payload: &str) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("UPDATE hook_deliveries SET payload = ?2 WHERE id = ?1 AND payload IS NULL")?
        .execute(params![id, payload])?;
    conn.prepare_cached("SELECT payload FROM hook_deliveries WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

/// A delivery's new state after an attempt.
pub fn finish_attempt(
    conn: &Connection,
    id: i64,
    state: &str,
    next_attempt_at: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE hook_deliveries SET state = ?2, next_attempt_at = ?3, attempts = attempts + 1 WHERE id = ?1",
    )?
    .execute(params![id, state, next_attempt_at])?;
    Ok(())
}

/// Gives up every pending delivery of a hook (it was disabled for good).
pub fn fail_pending(conn: &Connection, hook_id: i64) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE hook_deliveries SET state = 'failed' WHERE hook_id = ?1 AND state = 'pending'",
    )?
    .execute([hook_id])
}

/// The pending deliveries of a hook (for tests and the README's "what is queued").
pub fn pending_count(conn: &Connection, hook_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM hook_deliveries WHERE hook_id = ?1 AND state = 'pending'")?
        .query_row([hook_id], |r| r.get(0))
}

/// One delivery log row.
#[derive(Debug, Clone, Default)]
pub struct LogRow {
    pub id: i64,
    pub hook_id: i64,
    pub delivery_id: Option<i64>,
    pub url: String,
    pub trigger: String,
    pub event_uuid: String,
    /// JSON object.
    pub request_headers: String,
    pub request_data: String,
    /// JSON object.
    pub response_headers: String,
    pub response_body: String,
    pub response_status: String,
    pub execution_duration: f64,
    pub internal_error_message: Option<String>,
    pub created_at: String,
}

const LOG_COLUMNS: &str = "id, hook_id, delivery_id, url, trigger_name, event_uuid, request_headers, \
     request_data, response_headers, response_body, response_status, execution_duration, internal_error_message, \
     created_at";

fn log_from_row(r: &Row) -> rusqlite::Result<LogRow> {
    Ok(LogRow {
        id: r.get(0)?,
        hook_id: r.get(1)?,
        delivery_id: r.get(2)?,
        url: r.get(3)?,
        trigger: r.get(4)?,
        event_uuid: r.get(5)?,
        request_headers: r.get(6)?,
        request_data: r.get(7)?,
        response_headers: r.get(8)?,
        response_body: r.get(9)?,
        response_status: r.get(10)?,
        execution_duration: r.get(11)?,
        internal_error_message: r.get(12)?,
        created_at: r.get(13)?,
    })
}

/// Most log rows kept per hook, whatever their age.
pub const MAX_LOGS_PER_HOOK: i64 = 1000;

/// Appends a log row and trims the hook's log to [`MAX_LOGS_PER_HOOK`]; returns its id.
pub fn insert_log(conn: &Connection, l: &LogRow) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO hook_logs (hook_id, delivery_id, url, trigger_name, event_uuid, request_headers, request_data,
             response_headers, response_body, response_status, execution_duration, internal_error_message, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?
    .execute(params![
        l.hook_id,
        l.delivery_id,
        l.url,
        l.trigger,
        l.event_uuid,
        l.request_headers,
        l.request_data,
        l.response_headers,
        l.response_body,
        l.response_status,
        l.execution_duration,
        l.internal_error_message,
        l.created_at
    ])?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "DELETE FROM hook_logs WHERE hook_id = ?1 AND id <= (SELECT id FROM hook_logs WHERE hook_id = ?1
             ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    )?
    .execute(params![l.hook_id, MAX_LOGS_PER_HOOK])?;
    Ok(id)
}

/// A status filter of the log: HTTP codes and the classes GitLab names.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub codes: Vec<String>,
    pub successful: bool,
    pub client_failure: bool,
    pub server_failure: bool,
}

/// One page of a hook's log since `since`, newest first, and the total.
pub fn list_logs(
    conn: &Connection,
    hook_id: i64,
    since: &str,
    filter: &LogFilter,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<LogRow>, i64)> {
    let codes = serde_json::to_string(&filter.codes).unwrap_or_else(|_| "[]".into());
    let any =
        filter.codes.is_empty() && !filter.successful && !filter.client_failure && !filter.server_failure;
    let cond =
        "hook_id = ?1 AND created_at >= ?2 AND (?3 OR response_status IN (SELECT value FROM json_each(?4))
         OR (?5 AND response_status GLOB '2[0-9][0-9]')
         OR (?6 AND response_status GLOB '4[0-9][0-9]')
         OR (?7 AND (response_status GLOB '5[0-9][0-9]' OR response_status = 'internal error')))";
    let args =
        params![hook_id, since, any, codes, filter.successful, filter.client_failure, filter.server_failure];
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM hook_logs WHERE {cond}"))?
        .query_row(args, |r| r.get(0))?;
    let rows = conn
        .prepare_cached(&format!(
            "SELECT {LOG_COLUMNS} FROM hook_logs WHERE {cond} ORDER BY id DESC {} OFFSET ?8",
            super::limit_clause(limit)
        ))?
        .query_map(
            params![
                hook_id,
                since,
                any,
                codes,
                filter.successful,
                filter.client_failure,
                filter.server_failure,
                offset
            ],
            log_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

pub fn find_log(conn: &Connection, hook_id: i64, id: i64) -> rusqlite::Result<Option<LogRow>> {
    conn.prepare_cached(&format!("SELECT {LOG_COLUMNS} FROM hook_logs WHERE hook_id = ?1 AND id = ?2"))?
        .query_row(params![hook_id, id], log_from_row)
        .optional()
}

/// Deletes log rows and finished outbox rows older than `before`; returns how many went.
pub fn prune(conn: &Connection, before: &str) -> rusqlite::Result<usize> {
    let logs = conn.prepare_cached("DELETE FROM hook_logs WHERE created_at < ?1")?.execute([before])?;
    let done = conn
        .prepare_cached("DELETE FROM hook_deliveries WHERE state <> 'pending' AND created_at < ?1")?
        .execute([before])?;
    Ok(logs + done)
}

/// The newest outbox row id (`sqlite_sequence`), to tell after a commit whether it wrote events.
pub fn last_id(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'hook_deliveries'), 0)",
    )?
    .query_row([], |r| r.get(0))
}

/// The newest pipeline of a project (the test call's sample).
pub fn latest_pipeline_id(conn: &Connection, project_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM pipelines WHERE project_id = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([project_id], |r| r.get(0))
        .optional()
}

/// The newest job of a project (the test call's sample).
pub fn latest_job_id(conn: &Connection, project_id: i64) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM jobs WHERE project_id = ?1 ORDER BY id DESC LIMIT 1")?
        .query_row([project_id], |r| r.get(0))
        .optional()
}

/// The current status of a pipeline (`kind` `pipeline`) or job.
pub fn object_status(conn: &Connection, kind: &str, id: i64) -> rusqlite::Result<Option<String>> {
    let sql = if kind == "job" {
        "SELECT status FROM jobs WHERE id = ?1"
    } else {
        "SELECT status FROM pipelines WHERE id = ?1"
    };
    conn.prepare_cached(sql)?.query_row([id], |r| r.get(0)).optional()
}
