//! The `runners`, `runner_tags`, `runner_projects` and `project_runner_registration_tokens`
//! tables. Runner authentication tokens (`glrt-…`) and project registration tokens are stored as
//! SHA-256 digests only; a runner keeps the 8 characters after `glrt-` for display.
//!
//! The runner protocol (`POST /jobs/request`, …) authenticates with [`authenticate`], records
//! contact with [`touch_contacted`] / [`record_info`] and matches jobs with [`scope`] and
//! [`RunnerScope::can_pick`].

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::projects::{self, ProjectRow};
use crate::auth;

mod list;
mod scope;

pub use list::{RunnerFilter, Visible, list};
pub use scope::{RunnerScope, scope, scopes_for_project, tags_match};

/// GitLab's `TAG_LIST_MAX_LENGTH`: tags one runner may have.
pub const MAX_TAGS: usize = 50;

/// `Ci::Runner::ONLINE_CONTACT_TIMEOUT`: a runner contacted within this many seconds is online.
pub const ONLINE_CONTACT_TIMEOUT_SECS: i64 = 2 * 3600;

/// `Ci::Runner::STALE_TIMEOUT`: a runner neither created nor contacted within this many seconds
/// is stale.
pub const STALE_TIMEOUT_SECS: i64 = 7 * 24 * 3600;

/// One runner (never its token).
#[derive(Debug, Clone)]
pub struct RunnerRow {
    pub id: i64,
    /// The first 8 characters after `glrt-`.
    pub short_token: String,
    /// `instance_type` or `project_type`.
    pub runner_type: String,
    /// `registration_token` or `authenticated_user`.
    pub registration_type: String,
    pub description: Option<String>,
    pub maintenance_note: Option<String>,
    /// Not paused: a paused runner still authenticates but gets no jobs.
    pub active: bool,
    pub run_untagged: bool,
    pub locked: bool,
    /// `not_protected` or `ref_protected`.
    pub access_level: String,
    pub maximum_timeout: Option<i64>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub revision: Option<String>,
    pub platform: Option<String>,
    pub architecture: Option<String>,
    pub contacted_at: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: String,
    /// In the order they were given.
    pub tags: Vec<String>,
}

impl RunnerRow {
    pub fn is_instance(&self) -> bool {
        self.runner_type == "instance_type"
    }

    /// Contacted after `online_deadline` (now − [`ONLINE_CONTACT_TIMEOUT_SECS`], stored format).
    pub fn online(&self, online_deadline: &str) -> bool {
        self.contacted_at.as_deref().is_some_and(|c| c > online_deadline)
    }

    /// Neither created nor contacted after `stale_deadline` (now − [`STALE_TIMEOUT_SECS`]).
    pub fn stale(&self, stale_deadline: &str) -> bool {
        self.created_at.as_str() <= stale_deadline
            && self.contacted_at.as_deref().is_none_or(|c| c <= stale_deadline)
    }

    /// GitLab's REST `status` (`deprecated_rest_status`): `stale`, `never_contacted`, `online`,
    /// `offline`, or `paused` for a contacted paused runner.
    pub fn status(&self, online_deadline: &str, stale_deadline: &str) -> &'static str {
        if self.stale(stale_deadline) {
            "stale"
        } else if self.contacted_at.is_none() {
            "never_contacted"
        } else if !self.active {
            "paused"
        } else if self.online(online_deadline) {
            "online"
        } else {
            "offline"
        }
    }

    fn from_row(r: &Row) -> rusqlite::Result<Self> {
        let tags: String = r.get(20)?;
        Ok(RunnerRow {
            id: r.get(0)?,
            short_token: r.get(1)?,
            runner_type: r.get(2)?,
            registration_type: r.get(3)?,
            description: r.get(4)?,
            maintenance_note: r.get(5)?,
            active: r.get(6)?,
            run_untagged: r.get(7)?,
            locked: r.get(8)?,
            access_level: r.get(9)?,
            maximum_timeout: r.get(10)?,
            name: r.get(11)?,
            version: r.get(12)?,
            revision: r.get(13)?,
            platform: r.get(14)?,
            architecture: r.get(15)?,
            contacted_at: r.get(16)?,
            creator_id: r.get(17)?,
            created_at: r.get(18)?,
            tags: serde_json::from_str(&tags).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(20, rusqlite::types::Type::Text, Box::new(e))
            })?,
        })
    }
}

/// `SELECT` of every [`RunnerRow`] column (tags as a JSON array, in order) and the digest
/// (column 19); append a `WHERE`.
const SELECT: &str = "SELECT r.id, r.short_token, r.runner_type, r.registration_type, r.description,
        r.maintenance_note, r.active, r.run_untagged, r.locked, r.access_level, r.maximum_timeout, r.name,
        r.version, r.revision, r.platform, r.architecture, r.contacted_at, r.creator_id, r.created_at,
        r.token_digest,
        (SELECT json_group_array(name) FROM (SELECT t.name FROM runner_tags t WHERE t.runner_id = r.id
                                             ORDER BY t.position))
     FROM runners r";

/// What a runner reports about itself (`info` on registration and on every request).
#[derive(Debug, Clone, Default)]
pub struct RunnerInfo {
    pub name: Option<String>,
    pub version: Option<String>,
    pub revision: Option<String>,
    pub platform: Option<String>,
    pub architecture: Option<String>,
}

/// A runner to create: only its token's digest and short form, never the token.
#[derive(Debug, Clone)]
pub struct NewRunner {
    pub token_digest: Vec<u8>,
    pub short_token: String,
    pub runner_type: String,
    pub registration_type: String,
    /// The project of a `project_type` runner.
    pub project_id: Option<i64>,
    pub creator_id: Option<i64>,
    pub description: Option<String>,
    pub maintenance_note: Option<String>,
    pub active: bool,
    pub run_untagged: bool,
    pub locked: bool,
    pub access_level: String,
    pub maximum_timeout: Option<i64>,
    /// Already normalised (see [`normalize_tags`]).
    pub tags: Vec<String>,
    pub info: RunnerInfo,
}

/// Trims tags, drops empty ones and duplicates (first wins), keeping the order. Linear: a
/// request may carry a hundred thousand repeated `tag_list` fields.
pub fn normalize_tags(tags: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<String> = Vec::new();
    for t in tags {
        let t = t.trim();
        if !t.is_empty() && seen.insert(t.to_string()) {
            out.push(t.to_string());
        }
    }
    out
}

pub fn insert(conn: &Connection, n: &NewRunner, now: &str) -> rusqlite::Result<RunnerRow> {
    conn.prepare_cached(
        "INSERT INTO runners (token_digest, short_token, runner_type, registration_type, description,
                              maintenance_note, active, run_untagged, locked, access_level, maximum_timeout,
                              name, version, revision, platform, architecture, creator_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        n.token_digest,
        n.short_token,
        n.runner_type,
        n.registration_type,
        n.description,
        n.maintenance_note,
        n.active,
        n.run_untagged,
        n.locked,
        n.access_level,
        n.maximum_timeout,
        n.info.name,
        n.info.version,
        n.info.revision,
        n.info.platform,
        n.info.architecture,
        n.creator_id,
        now
    ])?;
    let id = conn.last_insert_rowid();
    set_tags(conn, id, &n.tags)?;
    if let Some(project_id) = n.project_id {
        conn.prepare_cached(
            "INSERT INTO runner_projects (runner_id, project_id, created_at) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![id, project_id, now])?;
    }
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

fn set_tags(conn: &Connection, id: i64, tags: &[String]) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM runner_tags WHERE runner_id = ?1")?.execute([id])?;
    let mut stmt =
        conn.prepare_cached("INSERT INTO runner_tags (runner_id, position, name) VALUES (?1, ?2, ?3)")?;
    for (i, t) in tags.iter().enumerate() {
        stmt.execute(params![id, i as i64, t])?;
    }
    Ok(())
}

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<RunnerRow>> {
    conn.prepare_cached(&format!("{SELECT} WHERE r.id = ?1"))?.query_row([id], RunnerRow::from_row).optional()
}

/// The runner holding this authentication token (looked up by digest, compared in constant
/// time). Paused runners authenticate too; they just get no jobs.
pub fn authenticate(conn: &Connection, token: &str) -> rusqlite::Result<Option<RunnerRow>> {
    let wanted = auth::digest(token);
    let found = conn
        .prepare_cached(&format!("{SELECT} WHERE r.token_digest = ?1"))?
        .query_row([&wanted], |r| Ok((RunnerRow::from_row(r)?, r.get::<_, Vec<u8>>(19)?)))
        .optional()?;
    Ok(found.filter(|(_, digest)| auth::digests_match(digest, &wanted)).map(|(row, _)| row))
}

/// Records that the runner talked to us.
pub fn touch_contacted(conn: &Connection, id: i64, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE runners SET contacted_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
    Ok(())
}

/// True when the runner's recorded contact is older than `before` (or missing): a poller can
/// skip the write of [`touch_contacted`] otherwise (GitLab also updates it only every ~40–55
/// minutes, well inside the 2-hour online window).
pub fn contact_is_older_than(runner: &RunnerRow, before: &str) -> bool {
    runner.contacted_at.as_deref().is_none_or(|c| c < before)
}

/// Replaces a runner's authentication token (digest and short form); false when it is gone.
pub fn set_token(conn: &Connection, id: i64, digest: &[u8], short_token: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE runners SET token_digest = ?2, short_token = ?3 WHERE id = ?1")?
        .execute(params![id, digest, short_token])?
        > 0)
}

/// Stores what the runner reported about itself; absent fields keep their value.
pub fn record_info(conn: &Connection, id: i64, info: &RunnerInfo) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE runners SET name = coalesce(?2, name), version = coalesce(?3, version),
                revision = coalesce(?4, revision), platform = coalesce(?5, platform),
                architecture = coalesce(?6, architecture)
         WHERE id = ?1",
    )?
    .execute(params![id, info.name, info.version, info.revision, info.platform, info.architecture])?;
    Ok(())
}

/// Ids of the projects a runner belongs to (none for instance runners), ascending.
pub fn project_ids(conn: &Connection, runner_id: i64) -> rusqlite::Result<Vec<i64>> {
    conn.prepare_cached("SELECT project_id FROM runner_projects WHERE runner_id = ?1 ORDER BY project_id")?
        .query_map([runner_id], |r| r.get(0))?
        .collect()
}

/// The projects a runner belongs to, ascending by id.
pub fn projects_of(conn: &Connection, runner_id: i64) -> rusqlite::Result<Vec<ProjectRow>> {
    conn.prepare_cached(&format!(
        "{} WHERE p.id IN (SELECT project_id FROM runner_projects WHERE runner_id = ?1) ORDER BY p.id",
        projects::SELECT
    ))?
    .query_map([runner_id], ProjectRow::from_row)?
    .collect()
}

/// True when the user is Maintainer or above in one of the runner's projects.
pub fn maintained_by(conn: &Connection, runner_id: i64, user_id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached(&format!(
        "SELECT EXISTS (SELECT 1 FROM runner_projects rp WHERE rp.runner_id = ?1 AND {} >= 40)",
        super::access::project_level_sql("rp.project_id", "?2")
    ))?
    .query_row(params![runner_id, user_id], |r| r.get(0))
}

/// Changes to a runner; `None` keeps a value (`maximum_timeout: Some(None)` clears it).
#[derive(Debug, Clone, Default)]
pub struct RunnerChanges {
    pub description: Option<String>,
    pub maintenance_note: Option<String>,
    pub active: Option<bool>,
    pub run_untagged: Option<bool>,
    pub locked: Option<bool>,
    pub access_level: Option<String>,
    pub maximum_timeout: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
}

/// Applies the changes; false when the runner no longer exists.
pub fn update(conn: &Connection, id: i64, c: &RunnerChanges) -> rusqlite::Result<bool> {
    let (timeout_given, timeout) = match c.maximum_timeout {
        Some(t) => (true, t),
        None => (false, None),
    };
    let n = conn
        .prepare_cached(
            "UPDATE runners SET description = coalesce(?2, description),
                    maintenance_note = coalesce(?3, maintenance_note), active = coalesce(?4, active),
                    run_untagged = coalesce(?5, run_untagged), locked = coalesce(?6, locked),
                    access_level = coalesce(?7, access_level),
                    maximum_timeout = CASE WHEN ?8 THEN ?9 ELSE maximum_timeout END
             WHERE id = ?1",
        )?
        .execute(params![
            id,
            c.description,
            c.maintenance_note,
            c.active,
            c.run_untagged,
            c.locked,
            c.access_level,
            timeout_given,
            timeout
        ])?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(tags) = &c.tags {
        set_tags(conn, id, tags)?;
    }
    Ok(true)
}

/// Deletes a runner (its tags and project links go with it); false when there was none.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM runners WHERE id = ?1")?.execute([id])? > 0)
}

/// Replaces the project's runner registration token with this digest.
pub fn set_registration_token(
    conn: &Connection,
    project_id: i64,
    digest: &[u8],
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO project_runner_registration_tokens (project_id, token_digest, created_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (project_id) DO UPDATE SET token_digest = excluded.token_digest, created_at = excluded.created_at",
    )?
    .execute(params![project_id, digest, now])?;
    Ok(())
}

/// The project whose registration token this is (digest lookup, constant-time compare).
pub fn project_for_registration_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<i64>> {
    let wanted = auth::digest(token);
    let found: Option<(i64, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT project_id, token_digest FROM project_runner_registration_tokens WHERE token_digest = ?1",
        )?
        .query_row([&wanted], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(found.filter(|(_, d)| auth::digests_match(d, &wanted)).map(|(id, _)| id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    /// A database with users 1 (root) and 2, projects 1 and 2 (user 2 is Maintainer of 1).
    fn database() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        super::super::migrate::run(&c).unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        c.execute_batch(
            "INSERT INTO users (username, name, email, is_admin, created_at) VALUES
                 ('root', 'R', 'r@x', 1, 't'), ('m', 'M', 'm@x', 0, 't');
             INSERT INTO projects (namespace_id, name, path, created_at, updated_at) VALUES
                 (1, 'a', 'a', 't', 't'), (1, 'b', 'b', 't', 't');
             INSERT INTO members (project_id, user_id, access_level, created_at) VALUES (1, 2, 40, 't');",
        )
        .unwrap();
        c
    }

    fn new_runner(token: &str, project_id: Option<i64>, tags: &[&str]) -> NewRunner {
        NewRunner {
            token_digest: auth::digest(token),
            short_token: auth::runner_short_token(token),
            runner_type: if project_id.is_some() { "project_type" } else { "instance_type" }.into(),
            registration_type: "authenticated_user".into(),
            project_id,
            creator_id: Some(1),
            description: None,
            maintenance_note: None,
            active: true,
            run_untagged: tags.is_empty(),
            locked: false,
            access_level: "not_protected".into(),
            maximum_timeout: None,
            tags: strings(tags),
            info: RunnerInfo::default(),
        }
    }

    #[test]
    fn a_runner_authenticates_by_its_token_and_reports_its_projects_and_tags() {
        let c = database();
        let a = insert(&c, &new_runner("glrt-aaaaaaaaaaaaaaaaaaaa", Some(1), &["x", "y"]), "t1").unwrap();
        let shared = insert(&c, &new_runner("glrt-bbbbbbbbbbbbbbbbbbbb", None, &[]), "t1").unwrap();
        insert(&c, &new_runner("glrt-cccccccccccccccccccc", Some(2), &[]), "t1").unwrap();
        assert_eq!(a.short_token, "aaaaaaaa");
        assert_eq!(authenticate(&c, "glrt-aaaaaaaaaaaaaaaaaaaa").unwrap().unwrap().id, a.id);
        assert!(authenticate(&c, "glrt-aaaaaaaaaaaaaaaaaaab").unwrap().is_none());
        let s = scope(&c, a.id).unwrap().unwrap();
        assert_eq!(s.project_ids, vec![1]);
        assert_eq!(s.tags, strings(&["x", "y"]));
        assert!(s.can_pick(1, &strings(&["y"])) && !s.can_pick(1, &[]) && !s.can_pick(2, &strings(&["x"])));
        let for_1: Vec<i64> = scopes_for_project(&c, 1).unwrap().iter().map(|s| s.runner_id).collect();
        assert_eq!(for_1, vec![a.id, shared.id]);
        assert!(maintained_by(&c, a.id, 2).unwrap() && !maintained_by(&c, shared.id, 2).unwrap());

        assert!(contact_is_older_than(&a, "t5"));
        touch_contacted(&c, a.id, "t9").unwrap();
        let a = find(&c, a.id).unwrap().unwrap();
        assert_eq!(a.contacted_at.as_deref(), Some("t9"));
        assert!(!contact_is_older_than(&a, "t5"));

        assert!(set_token(&c, a.id, &auth::digest("glrt-new"), "new").unwrap());
        assert!(authenticate(&c, "glrt-aaaaaaaaaaaaaaaaaaaa").unwrap().is_none());
        assert_eq!(authenticate(&c, "glrt-new").unwrap().unwrap().id, a.id);
    }

    #[test]
    fn deleting_a_runners_last_project_deletes_the_runner() {
        let c = database();
        let a = insert(&c, &new_runner("glrt-a", Some(1), &[]), "t").unwrap();
        let shared = insert(&c, &new_runner("glrt-b", None, &[]), "t").unwrap();
        c.execute("DELETE FROM projects WHERE id = 1", []).unwrap();
        assert!(find(&c, a.id).unwrap().is_none());
        assert!(find(&c, shared.id).unwrap().is_some());
        let tags: i64 = c.query_row("SELECT COUNT(*) FROM runner_tags", [], |r| r.get(0)).unwrap();
        assert_eq!(tags, 0);
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated_in_order() {
        assert_eq!(normalize_tags(strings(&[" b", "a", "", "b ", "c"])), strings(&["b", "a", "c"]));
    }
}
