//! The `triggers` table: pipeline trigger tokens, stored as a SHA-256 digest plus the 4-character
//! short token (never the token itself), each read joined with its owner and its `last_used` time.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::users::UserRow;

/// GitLab's default plan limit `pipeline_triggers`: triggers one project may have.
pub const MAX_PER_PROJECT: i64 = 25_000;

/// One trigger with its owner. The full token is not here: it is never stored.
#[derive(Debug, Clone)]
pub struct TriggerRow {
    pub id: i64,
    pub project_id: i64,
    pub description: Option<String>,
    /// The first 4 characters after `glptt-`.
    pub short_token: String,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// `created_at` of the pipeline with the highest id this trigger created; `None` if none.
    pub last_used: Option<String>,
    /// The client address of the newest accepted call in the audit log; `None` if none.
    pub last_used_ip: Option<String>,
    pub owner: UserRow,
    /// The token's limits (all empty when it has none).
    pub policy: TriggerPolicy,
    /// Secrets replaced by a rotation, oldest first, expired ones included (until the next
    /// rotation removes them).
    pub previous: Vec<PreviousSecret>,
}

/// A secret replaced by a rotation: its short form and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct PreviousSecret {
    pub short_token: String,
    pub expires_at: String,
}

/// A trigger token's limits (`trigger_policies`): empty lists and `None` mean no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TriggerPolicy {
    /// Ref names and `*` patterns a call may use.
    pub allowed_refs: Vec<String>,
    /// Variable names and `*` patterns a call may send.
    pub allowed_variables: Vec<String>,
    /// Variable names a call must send.
    pub required_variables: Vec<String>,
    /// The largest value (in bytes) of any variable a call sends.
    pub max_variable_value_bytes: Option<i64>,
}

impl TriggerPolicy {
    /// No limit at all (what a trigger without a `trigger_policies` row has).
    pub fn is_empty(&self) -> bool {
        *self == TriggerPolicy::default()
    }

    /// Reads the four policy columns starting at `at` (all NULL from a LEFT JOIN without a row).
    pub fn from_row_at(r: &Row, at: usize) -> rusqlite::Result<Self> {
        Ok(TriggerPolicy {
            allowed_refs: json_list(r, at)?,
            allowed_variables: json_list(r, at + 1)?,
            required_variables: json_list(r, at + 2)?,
            max_variable_value_bytes: r.get(at + 3)?,
        })
    }
}

/// A JSON array of strings in column `i` (NULL → empty).
fn json_list(r: &Row, i: usize) -> rusqlite::Result<Vec<String>> {
    let Some(text) = r.get::<_, Option<String>>(i)? else { return Ok(Vec::new()) };
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// The JSON array of previous secrets in column `i`.
fn previous_secrets(r: &Row, i: usize) -> rusqlite::Result<Vec<PreviousSecret>> {
    let Some(text) = r.get::<_, Option<String>>(i)? else { return Ok(Vec::new()) };
    serde_json::from_str(&text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}

/// At most this many previous secrets of one trigger may still be working at once.
pub const MAX_LIVE_PREVIOUS_SECRETS: usize = 5;

/// A rotation: the new secret's digest and short form, and when the current one stops working.
pub struct Rotation<'a> {
    pub token_digest: &'a [u8],
    pub short_token: &'a str,
    /// `None`: the current secret stops at once (a grace period of 0).
    pub old_expires_at: Option<&'a str>,
}

/// Replaces a trigger's secret: the current one moves to `trigger_secrets` (unless it stops at
/// once), previous secrets that expired by `now` are deleted, `updated_at` moves. Returns false
/// when the trigger is gone.
pub fn rotate(conn: &Connection, id: i64, rot: &Rotation, now: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached("DELETE FROM trigger_secrets WHERE trigger_id = ?1 AND expires_at <= ?2")?
        .execute(params![id, now])?;
    if let Some(expires_at) = rot.old_expires_at {
        let moved = conn
            .prepare_cached(
                "INSERT INTO trigger_secrets (trigger_id, token_digest, short_token, expires_at, created_at)
                 SELECT id, token_digest, short_token, ?2, ?3 FROM triggers WHERE id = ?1",
            )?
            .execute(params![id, expires_at, now])?;
        if moved == 0 {
            return Ok(false);
        }
    }
    let n = conn
        .prepare_cached(
            "UPDATE triggers SET token_digest = ?2, short_token = ?3, updated_at = ?4 WHERE id = ?1",
        )?
        .execute(params![id, rot.token_digest, rot.short_token, now])?;
    Ok(n > 0)
}

/// How many previous secrets of a trigger still work at `now`.
pub fn live_previous_secrets(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached("SELECT COUNT(*) FROM trigger_secrets WHERE trigger_id = ?1 AND expires_at > ?2")?
        .query_row(params![id, now], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
}

fn json_text(list: &[String]) -> rusqlite::Result<String> {
    serde_json::to_string(list).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

/// Replaces a trigger's policy; an empty policy deletes its row (the trigger call then reads
/// nothing extra).
pub fn set_policy(conn: &Connection, trigger_id: i64, policy: &TriggerPolicy) -> rusqlite::Result<()> {
    if policy.is_empty() {
        conn.prepare_cached("DELETE FROM trigger_policies WHERE trigger_id = ?1")?.execute([trigger_id])?;
        return Ok(());
    }
    conn.prepare_cached(
        "INSERT INTO trigger_policies (trigger_id, allowed_refs, allowed_variables, required_variables,
                                       max_variable_value_bytes)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (trigger_id) DO UPDATE SET allowed_refs = excluded.allowed_refs,
             allowed_variables = excluded.allowed_variables, required_variables = excluded.required_variables,
             max_variable_value_bytes = excluded.max_variable_value_bytes",
    )?
    .execute(params![
        trigger_id,
        json_text(&policy.allowed_refs)?,
        json_text(&policy.allowed_variables)?,
        json_text(&policy.required_variables)?,
        policy.max_variable_value_bytes
    ])?;
    Ok(())
}

impl TriggerRow {
    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Ok(TriggerRow {
            id: r.get(0)?,
            project_id: r.get(1)?,
            description: r.get(2)?,
            short_token: r.get(3)?,
            expires_at: r.get(4)?,
            created_at: r.get(5)?,
            updated_at: r.get(6)?,
            last_used: r.get(7)?,
            policy: TriggerPolicy::from_row_at(r, 8)?,
            previous: previous_secrets(r, 12)?,
            last_used_ip: r.get(13)?,
            owner: UserRow::from_row_at(r, 14)?,
        })
    }
}

/// `SELECT` of every [`TriggerRow`] column (the owner joined, `last_used` from the newest
/// pipeline by id through the `pipelines_trigger` index); append a `WHERE`.
fn select() -> String {
    format!(
        "SELECT t.id, t.project_id, t.description, t.short_token, t.expires_at, t.created_at, t.updated_at,
                (SELECT p.created_at FROM pipelines p WHERE p.trigger_id = t.id ORDER BY p.id DESC LIMIT 1),
                tp.allowed_refs, tp.allowed_variables, tp.required_variables, tp.max_variable_value_bytes,
                (SELECT json_group_array(json_object('short_token', s.short_token, 'expires_at', s.expires_at))
                 FROM (SELECT short_token, expires_at FROM trigger_secrets WHERE trigger_id = t.id ORDER BY id) s),
                (SELECT e.client_address FROM trigger_events e
                 WHERE e.trigger_id = t.id AND e.outcome = 'accepted' ORDER BY e.id DESC LIMIT 1),
                {}
         FROM triggers t JOIN users ON users.id = t.owner_id
              LEFT JOIN trigger_policies tp ON tp.trigger_id = t.id",
        UserRow::COLUMNS
    )
}

/// A trigger of `project_id` by id (`None` when missing or in another project).
pub fn find(conn: &Connection, project_id: i64, id: i64) -> rusqlite::Result<Option<TriggerRow>> {
    conn.prepare_cached(&format!("{} WHERE t.id = ?1 AND t.project_id = ?2", select()))?
        .query_row(params![id, project_id], TriggerRow::from_row)
        .optional()
}

/// A page of a project's triggers ordered by id ascending, with the project's trigger count.
pub fn list(
    conn: &Connection,
    project_id: i64,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<TriggerRow>, i64)> {
    let total = count(conn, project_id)?;
    let rows = conn
        .prepare_cached(&format!(
            "{} WHERE t.project_id = ?1 ORDER BY t.id {} OFFSET ?2",
            select(),
            super::limit_clause(limit)
        ))?
        .query_map(params![project_id, offset], TriggerRow::from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// How many triggers a project has.
pub fn count(conn: &Connection, project_id: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM triggers WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))
}

/// A trigger to create: only the token's digest and short form, never the token.
pub struct NewTrigger<'a> {
    pub project_id: i64,
    pub owner_id: i64,
    pub description: &'a str,
    pub token_digest: &'a [u8],
    pub short_token: &'a str,
    pub expires_at: Option<&'a str>,
}

/// Inserts a trigger and returns it as read back (owner joined).
pub fn insert(conn: &Connection, t: &NewTrigger, now: &str) -> rusqlite::Result<TriggerRow> {
    conn.prepare_cached(
        "INSERT INTO triggers (project_id, owner_id, description, token_digest, short_token, expires_at,
                               created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
    )?
    .execute(params![
        t.project_id,
        t.owner_id,
        t.description,
        t.token_digest,
        t.short_token,
        t.expires_at,
        now
    ])?;
    find(conn, t.project_id, conn.last_insert_rowid())?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// Sets the description; `updated_at` moves only when the description actually changes.
/// Returns false when the trigger no longer exists in the project.
pub fn update_description(
    conn: &Connection,
    project_id: i64,
    id: i64,
    description: &str,
    now: &str,
) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "UPDATE triggers SET description = ?3, updated_at = ?4
         WHERE id = ?1 AND project_id = ?2 AND description IS NOT ?3",
    )?
    .execute(params![id, project_id, description, now])?;
    Ok(conn
        .prepare_cached("SELECT 1 FROM triggers WHERE id = ?1 AND project_id = ?2")?
        .query_row(params![id, project_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Moves `updated_at` to `now` (a change outside the `triggers` row, e.g. its policy).
pub fn touch(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE triggers SET updated_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
    Ok(())
}

/// Deletes a trigger of the project; with `if_updated_at`, only while its `updated_at` is still
/// that value. Returns false when nothing was deleted. Its pipelines keep existing (trigger_id
/// becomes NULL).
pub fn delete(
    conn: &Connection,
    project_id: i64,
    id: i64,
    if_updated_at: Option<&str>,
) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "DELETE FROM triggers WHERE id = ?1 AND project_id = ?2 AND (?3 IS NULL OR updated_at = ?3)",
        )?
        .execute(params![id, project_id, if_updated_at])?;
    Ok(n > 0)
}
