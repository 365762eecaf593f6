//! The rules for a user's `email`, `name`, `username` and `password` (user creation and
//! `PUT /users/:id` share them), with GitLab's messages, and the 409s of a taken email or username.

use actix_web::http::StatusCode;

use super::limits::{self, PASSWORD_MIN};
use crate::db::users::{self, UserRow};
use crate::error::{ApiError, ApiResult};

/// A trimmed email: not blank, not too long, plausible.
pub(crate) fn check_email(email: &str) -> ApiResult<()> {
    if email.is_empty() {
        return Err(ApiError::validation("email", "can't be blank"));
    }
    limits::EMAIL.check("email", email)?;
    if !email_valid(email) {
        return Err(ApiError::validation("email", "is invalid"));
    }
    Ok(())
}

/// A trimmed name: not blank, not too long.
pub(crate) fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty() {
        return Err(ApiError::validation("name", "can't be blank"));
    }
    limits::USER_NAME.check("name", name)
}

/// A username by [`username_error`].
pub(crate) fn check_username(username: &str) -> ApiResult<()> {
    match username_error(username) {
        Some(err) => Err(ApiError::validation("username", err)),
        None => Ok(()),
    }
}

/// A password: not too long, at least `PASSWORD_MIN` characters.
pub(crate) fn check_password(password: &str) -> ApiResult<()> {
    limits::PASSWORD.check("password", password)?;
    if password.chars().count() < PASSWORD_MIN {
        return Err(ApiError::validation(
            "password",
            format!("is too short (minimum is {PASSWORD_MIN} characters)"),
        ));
    }
    Ok(())
}

/// GitLab's username rule: letters, digits, `_`, `-`, `.`; not starting with `-` or `.`; not
/// ending in `.`, `.git` or `.atom`.
pub(crate) fn username_error(username: &str) -> Option<String> {
    if username.trim().is_empty() {
        return Some("can't be blank".into());
    }
    if let Some(too_long) = limits::USERNAME.error(username) {
        return Some(too_long);
    }
    let charset_ok = username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let lower = username.to_ascii_lowercase();
    let bad_edges = username.starts_with(['-', '.'])
        || username.ends_with('.')
        || lower.ends_with(".git")
        || lower.ends_with(".atom");
    if !charset_ok || bad_edges {
        return Some(
            "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-' or '.', or end in \
             '.', '.git' or '.atom'."
                .into(),
        );
    }
    None
}

/// A plausible email address: one `@` with something on both sides, a dot in the domain, no
/// whitespace.
pub(crate) fn email_valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// GitLab's 409s: the email is checked first, then the username (both case-insensitive; a
/// username is also taken by a top-level group of that path, as they share the namespace).
pub(crate) fn check_unique(c: &rusqlite::Connection, email: &str, username: &str) -> ApiResult<()> {
    check_unique_except(c, email, username, None)
}

/// [`check_unique`] ignoring user `except` (the one being edited).
pub(crate) fn check_unique_except(
    c: &rusqlite::Connection,
    email: &str,
    username: &str,
    except: Option<i64>,
) -> ApiResult<()> {
    let other = |u: Option<UserRow>| u.is_some_and(|u| Some(u.id) != except);
    if other(users::find_by_email(c, email)?) {
        return Err(ApiError::message(StatusCode::CONFLICT, "Email has already been taken"));
    }
    let namespace = crate::db::namespaces::find_by_full_path(c, username)?;
    if other(users::find_by_username(c, username)?)
        || namespace.is_some_and(|n| except.is_none() || n.owner_id != except)
    {
        return Err(ApiError::message(StatusCode::CONFLICT, "Username has already been taken"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_gitlabs_path_rules() {
        for ok in ["alice", "a", "A_b-c.d", "x1", "_x", "bob.smith"] {
            assert!(username_error(ok).is_none(), "{ok}");
        }
        for bad in ["", " ", "-x", ".x", "x.", "a b", "a/b", "é", "x.git", "x.ATOM", "a@b"] {
            assert!(username_error(bad).is_some(), "{bad:?}");
        }
        assert!(username_error(&"a".repeat(256)).is_some());
        assert!(username_error(&"a".repeat(255)).is_none());
    }

    #[test]
    fn emails_need_a_local_part_and_a_dotted_domain() {
        assert!(email_valid("a@example.com"));
        for bad in ["a", "@x.com", "a@", "a@b", "a b@x.com", "a@x@y.com", "a@.com", "a@x."] {
            assert!(!email_valid(bad), "{bad}");
        }
    }
}
