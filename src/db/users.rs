//! The `users` table.

use rusqlite::{Connection, OptionalExtension, Row, params};

/// One user row (the password hash stays in the database layer).
#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub state: String,
    pub created_at: String,
}

impl UserRow {
    /// Columns in the order [`UserRow::from_row`] reads them, for `SELECT {COLUMNS} FROM users`.
    pub const COLUMNS: &'static str =
        "users.id, users.username, users.name, users.email, users.is_admin, users.state, users.created_at";

    pub fn from_row(r: &Row) -> rusqlite::Result<Self> {
        Self::from_row_at(r, 0)
    }

    /// Reads the user columns starting at `offset` (for joins).
    pub fn from_row_at(r: &Row, offset: usize) -> rusqlite::Result<Self> {
        Ok(UserRow {
            id: r.get(offset)?,
            username: r.get(offset + 1)?,
            name: r.get(offset + 2)?,
            email: r.get(offset + 3)?,
            is_admin: r.get(offset + 4)?,
            state: r.get(offset + 5)?,
            created_at: r.get(offset + 6)?,
        })
    }

    pub fn is_active(&self) -> bool {
        self.state == "active"
    }
}

/// A user to create.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub is_admin: bool,
}

pub fn find(conn: &Connection, id: i64) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE id = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([id], UserRow::from_row).optional()
}

pub fn find_by_username(conn: &Connection, username: &str) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE username = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([username], UserRow::from_row).optional()
}

/// The user named by `id`, else by `username` (the Members API's `user_id` or `username`).
pub fn find_by_id_or_username(
    conn: &Connection,
    id: Option<i64>,
    username: Option<&str>,
) -> rusqlite::Result<Option<UserRow>> {
    match (id, username) {
        (Some(id), _) => find(conn, id),
        (None, Some(name)) => find_by_username(conn, name),
        (None, None) => Ok(None),
    }
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
}

/// Inserts a user; a duplicate username or email is a unique violation.
pub fn insert(conn: &Connection, u: &NewUser, now: &str) -> rusqlite::Result<UserRow> {
    conn.prepare_cached(
        // Users and groups share the namespace id space and a user's namespace has the user's
        // id: the new id is past both sequences (the trigger `users_namespace` adds the namespace).
        "INSERT INTO users (id, username, name, email, password_hash, is_admin, state, created_at)
         VALUES ((SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name IN ('users', 'namespaces')),
                 ?1, ?2, ?3, ?4, ?5, 'active', ?6)",
    )?
    .execute(params![u.username, u.name, u.email, u.password_hash, u.is_admin, now])?;
    let id = conn.last_insert_rowid();
    find(conn, id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)
}

/// A user's editable attributes, all set at once.
pub struct UserChanges<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub is_admin: bool,
}

/// Writes a user's attributes (the trigger `users_namespace_rename` renames their namespace);
/// a taken username or email is a unique violation. False when the user does not exist.
pub fn update(conn: &Connection, id: i64, c: &UserChanges) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE users SET username = ?2, name = ?3, email = ?4, is_admin = ?5 WHERE id = ?1")?
        .execute(params![id, c.username, c.name, c.email, c.is_admin])?
        > 0)
}

/// Sets `state` (`active` or `blocked`); returns false when the user does not exist.
pub fn set_state(conn: &Connection, id: i64, state: &str) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("UPDATE users SET state = ?2 WHERE id = ?1")?.execute(params![id, state])? > 0)
}

/// Deletes a user with their personal projects, memberships, tokens and triggers (cascades);
/// pipelines they started keep existing with no user.
pub fn delete(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM users WHERE id = ?1")?.execute([id])? > 0)
}

/// A page of users ordered by id, optionally filtered by exact username or a search term
/// (username or name containing it; also the email when `search_email`, which only admins may
/// ask for, as e-mail addresses are private), with the total count.
#[allow(clippy::too_many_arguments)]
pub fn list(
    conn: &Connection,
    username: Option<&str>,
    search: Option<&str>,
    search_email: bool,
    active_only: bool,
    blocked_only: bool,
    limit: i64,
    offset: i64,
) -> rusqlite::Result<(Vec<UserRow>, i64)> {
    let filter = "(?1 IS NULL OR username = ?1)
         AND (?2 IS NULL OR instr(lower(username), lower(?2)) > 0 OR instr(lower(name), lower(?2)) > 0
              OR (?5 AND instr(lower(email), lower(?2)) > 0))
         AND (?3 = 0 OR state = 'active') AND (?4 = 0 OR state = 'blocked')";
    let total: i64 = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM users WHERE {filter}"))?
        .query_row(params![username, search, active_only, blocked_only, search_email], |r| r.get(0))?;
    let sql = format!(
        "SELECT {} FROM users WHERE {filter} ORDER BY id {} OFFSET ?6",
        UserRow::COLUMNS,
        super::limit_clause(limit)
    );
    let rows = conn
        .prepare_cached(&sql)?
        .query_map(
            params![username, search, active_only, blocked_only, search_email, offset],
            UserRow::from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((rows, total))
}

/// Replaces a user's password hash (an argon2id PHC string); `false` for an unknown user.
pub fn set_password_hash(conn: &Connection, id: i64, hash: &str) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
        .execute(params![id, hash])?
        == 1)
}

/// The stored argon2id PHC string of a user, if any.
pub fn password_hash(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

/// A user by email (case-insensitive, as the column's collation makes it).
pub fn find_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<UserRow>> {
    let sql = format!("SELECT {} FROM users WHERE email = ?1", UserRow::COLUMNS);
    conn.prepare_cached(&sql)?.query_row([email], UserRow::from_row).optional()
}

/// How many active admins there are, not counting `except` (the user about to be removed).
pub fn count_active_admins_except(conn: &Connection, except: i64) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT COUNT(*) FROM users WHERE is_admin = 1 AND state = 'active' AND id <> ?1")?
        .query_row([except], |r| r.get(0))
}

/// Whether `id` is an admin whose account is active, read in the caller's transaction.
pub fn is_active_admin(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM users WHERE id = ?1 AND is_admin = 1 AND state = 'active'")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// What an admin's block, unblock or delete of a user did, or why it changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminChange {
    Done,
    /// The acting user is no longer an active admin (blocked, demoted or deleted meanwhile).
    ActorNotAdmin,
    NoSuchUser,
    /// The change would leave no active admin.
    LastActiveAdmin,
    /// Deleting the user would leave this project (`namespace/path`) without an Owner.
    SoleOwner(String),
    /// The user is the only direct Owner of this top-level group (its full path).
    SoleGroupOwner(String),
}

/// Blocks (`blocked`) or unblocks (`active`) `id` on behalf of `actor`. Every rule that depends
/// on other rows is checked here, in the same transaction as the write, so two admins blocking
/// each other at the same time cannot both succeed: the actor must still be an active admin,
/// and at least one active admin must remain.
pub fn set_state_as(conn: &Connection, actor: i64, id: i64, state: &str) -> rusqlite::Result<AdminChange> {
    if !is_active_admin(conn, actor)? {
        return Ok(AdminChange::ActorNotAdmin);
    }
    let Some(user) = find(conn, id)? else { return Ok(AdminChange::NoSuchUser) };
    if state != "active" && user.is_admin && user.is_active() && count_active_admins_except(conn, id)? == 0 {
        return Ok(AdminChange::LastActiveAdmin);
    }
    set_state(conn, id, state)?;
    Ok(AdminChange::Done)
}

/// Deletes `id` on behalf of `actor` (see [`delete`]), checking in the same transaction that
/// the actor is still an active admin, that an active admin remains, and that no project outside
/// the user's own namespace (those go with the user) loses its last Owner.
pub fn delete_as(conn: &Connection, actor: i64, id: i64) -> rusqlite::Result<AdminChange> {
    if !is_active_admin(conn, actor)? {
        return Ok(AdminChange::ActorNotAdmin);
    }
    let Some(user) = find(conn, id)? else { return Ok(AdminChange::NoSuchUser) };
    if user.is_admin && user.is_active() && count_active_admins_except(conn, id)? == 0 {
        return Ok(AdminChange::LastActiveAdmin);
    }
    if let Some(project) = sole_owned_project(conn, id)? {
        return Ok(AdminChange::SoleOwner(project));
    }
    if let Some(group) = sole_owned_group(conn, id)? {
        return Ok(AdminChange::SoleGroupOwner(group));
    }
    delete(conn, id)?;
    Ok(AdminChange::Done)
}

/// A top-level group whose only direct Owner is `id` (deleting them would leave it ownerless;
/// GitLab refuses too), as its full path.
fn sole_owned_group(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT n.full_path FROM group_members m JOIN namespaces n ON n.id = m.group_id
         WHERE m.user_id = ?1 AND m.access_level = 50 AND n.parent_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM group_members o
                           WHERE o.group_id = m.group_id AND o.access_level = 50 AND o.user_id <> ?1)
         ORDER BY n.id LIMIT 1",
    )?
    .query_row([id], |r| r.get(0))
    .optional()
}

/// A project outside `id`'s own namespace whose only Owner is `id`, as `namespace/path`.
fn sole_owned_project(conn: &Connection, id: i64) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT n.full_path || '/' || p.path
         FROM members m JOIN projects p ON p.id = m.project_id JOIN namespaces n ON n.id = p.namespace_id
         WHERE m.user_id = ?1 AND m.access_level = 50 AND p.namespace_id <> ?1
           AND NOT EXISTS (SELECT 1 FROM members o
                           WHERE o.project_id = m.project_id AND o.access_level = 50 AND o.user_id <> ?1)
         ORDER BY p.id LIMIT 1",
    )?
    .query_row([id], |r| r.get(0))
    .optional()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.pragma_update(None, "foreign_keys", "ON").unwrap();
        super::super::migrate::run(&c).unwrap();
        c
    }

    fn user(c: &Connection, name: &str, admin: bool) -> i64 {
        let email = format!("{name}@example.com");
        let new = NewUser { username: name, name, email: &email, password_hash: None, is_admin: admin };
        insert(c, &new, "2026-01-01T00:00:00.000Z").unwrap().id
    }

    fn state_of(c: &Connection, id: i64) -> String {
        find(c, id).unwrap().unwrap().state
    }

    #[test]
    fn an_admin_blocked_by_another_can_no_longer_block_or_delete_anyone() {
        let c = db();
        let (a, b, x) = (user(&c, "a", true), user(&c, "b", true), user(&c, "x", true));
        assert_eq!(set_state_as(&c, a, b, "blocked").unwrap(), AdminChange::Done);
        // `b`'s request was authenticated before the block; its write comes after it.
        assert_eq!(set_state_as(&c, b, a, "blocked").unwrap(), AdminChange::ActorNotAdmin);
        assert_eq!(set_state_as(&c, b, x, "blocked").unwrap(), AdminChange::ActorNotAdmin);
        assert_eq!(set_state_as(&c, b, b, "active").unwrap(), AdminChange::ActorNotAdmin);
        assert_eq!(delete_as(&c, b, x).unwrap(), AdminChange::ActorNotAdmin);
        assert_eq!(
            (state_of(&c, a), state_of(&c, b), state_of(&c, x)),
            ("active".into(), "blocked".into(), "active".into())
        );
    }

    #[test]
    fn the_last_active_admin_can_be_neither_blocked_nor_deleted() {
        let c = db();
        let (a, b) = (user(&c, "a", true), user(&c, "b", true));
        let plain = user(&c, "plain", false);
        assert_eq!(set_state_as(&c, a, b, "blocked").unwrap(), AdminChange::Done);
        // `a` is the only active admin left: not even `a` may remove `a`.
        assert_eq!(set_state_as(&c, a, a, "blocked").unwrap(), AdminChange::LastActiveAdmin);
        assert_eq!(delete_as(&c, a, a).unwrap(), AdminChange::LastActiveAdmin);
        assert_eq!(state_of(&c, a), "active");
        // Non-admins and blocked admins are not protected by the rule.
        assert_eq!(set_state_as(&c, a, plain, "blocked").unwrap(), AdminChange::Done);
        assert_eq!(delete_as(&c, a, b).unwrap(), AdminChange::Done);
        assert_eq!(set_state_as(&c, a, 999, "blocked").unwrap(), AdminChange::NoSuchUser);
        // With a second active admin, `a` may go.
        let d = user(&c, "d", true);
        assert_eq!(delete_as(&c, d, a).unwrap(), AdminChange::Done);
    }

    #[test]
    fn a_user_who_is_the_only_owner_of_someone_elses_project_cannot_be_deleted() {
        let c = db();
        let admin = user(&c, "admin", true);
        let (y, x) = (user(&c, "y", false), user(&c, "x", false));
        let now = "2026-01-01T00:00:00.000Z";
        let p = super::super::projects::insert(
            &c,
            &super::super::projects::NewProject {
                namespace_id: y,
                creator_id: y,
                creator_level: Some(50),
                name: "p",
                path: "p",
                description: None,
                visibility: "private",
                default_branch: None,
            },
            now,
        )
        .unwrap();
        super::super::members::upsert(&c, p.id, x, 50, now).unwrap();
        // Both own it: either may go.
        assert_eq!(sole_owned_project(&c, x).unwrap(), None);
        super::super::members::delete(&c, p.id, y).unwrap();
        assert_eq!(delete_as(&c, admin, x).unwrap(), AdminChange::SoleOwner("y/p".into()));
        assert!(find(&c, x).unwrap().is_some());
        // The namespace's user takes their own projects with them.
        super::super::members::upsert(&c, p.id, y, 50, now).unwrap();
        super::super::members::delete(&c, p.id, x).unwrap();
        assert_eq!(delete_as(&c, admin, y).unwrap(), AdminChange::Done);
    }
}
