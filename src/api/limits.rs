//! The length limit of every string a client can make triggerd store, in one place. Handlers check
//! them before anything is written; the OpenAPI document can quote the same constants.
//!
//! Text is measured in characters, as Rails' `length` validations count (GitLab's wording
//! `is too long (maximum is 255 characters)`). Ref names are measured in bytes: they travel in
//! URL paths and git's own limits are in bytes, and at 255 bytes even a fully percent-encoded
//! name fits in a request line.
//!
//! A value over its limit is `400 {"message":{"<field>":["is too long (maximum is N characters)"]}}`.

use crate::error::{ApiError, ApiResult};

/// How a [`Limit`] measures a string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values (`str::chars`), as Rails counts.
    Chars,
    /// UTF-8 bytes.
    Bytes,
}

/// The largest length a stored string may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: usize,
    pub unit: Unit,
}

impl Limit {
    const fn chars(max: usize) -> Limit {
        Limit { max, unit: Unit::Chars }
    }

    const fn bytes(max: usize) -> Limit {
        Limit { max, unit: Unit::Bytes }
    }

    /// True when `value` fits. Counting stops just past the limit, so a huge value costs little.
    pub fn fits(&self, value: &str) -> bool {
        match self.unit {
            Unit::Bytes => value.len() <= self.max,
            Unit::Chars => value.len() <= self.max || value.chars().nth(self.max).is_none(),
        }
    }

    /// GitLab's (Rails') text for a value over the limit.
    pub fn message(&self) -> String {
        let unit = match self.unit {
            Unit::Chars => "characters",
            Unit::Bytes => "bytes",
        };
        format!("is too long (maximum is {} {unit})", self.max)
    }

    /// `None` when `value` fits, else [`Limit::message`] (for handlers that collect errors).
    pub fn error(&self, value: &str) -> Option<String> {
        (!self.fits(value)).then(|| self.message())
    }

    /// `400 {"message":{field:["is too long (maximum is N …)"]}}` when `value` is too long.
    pub fn check(&self, field: &str, value: &str) -> ApiResult<()> {
        match self.error(value) {
            None => Ok(()),
            Some(text) => Err(ApiError::validation(field, text)),
        }
    }

    /// [`Limit::check`] for an optional value.
    pub fn check_opt(&self, field: &str, value: Option<&str>) -> ApiResult<()> {
        value.map_or(Ok(()), |v| self.check(field, v))
    }
}

/// Users (`POST /users`): GitLab's `username` 255, `name` 255, `email` 255.
pub const USERNAME: Limit = Limit::chars(255);
pub const USER_NAME: Limit = Limit::chars(255);
pub const EMAIL: Limit = Limit::chars(255);
/// Passwords: 8 to 128 characters (GitLab's Devise `password_length` default).
pub const PASSWORD: Limit = Limit::chars(128);
pub const PASSWORD_MIN: usize = 8;

/// Personal access token `name` (GitLab: 255).
pub const TOKEN_NAME: Limit = Limit::chars(255);

/// Projects: `name` and `path` 255, `description` 2000 (GitLab's `Project` validations).
pub const PROJECT_NAME: Limit = Limit::chars(255);
pub const PROJECT_PATH: Limit = Limit::chars(255);
pub const PROJECT_DESCRIPTION: Limit = Limit::chars(2000);

/// Branch and tag names, a project's `default_branch`, and the `ref` a new branch or tag starts
/// from: 255 bytes (git allows longer names; triggerd does not, so every ref fits in a URL).
pub const REF_NAME: Limit = Limit::bytes(255);

/// An annotated tag's `message`.
pub const TAG_MESSAGE: Limit = Limit::chars(65_535);

/// A pipeline trigger's `description` (GitLab sets none; triggerd keeps it to a line).
pub const TRIGGER_DESCRIPTION: Limit = Limit::chars(255);

/// A runner's `description` and `maintenance_note` (GitLab's `Ci::Runner` validations: 1024).
pub const RUNNER_DESCRIPTION: Limit = Limit::chars(1024);
pub const RUNNER_MAINTENANCE_NOTE: Limit = Limit::chars(1024);
/// One runner tag (GitLab's `ci_tags.name` is a 255-character string).
pub const RUNNER_TAG: Limit = Limit::chars(255);
/// What a runner reports about itself in `info` (`name`, `version`, …) is cut to this length.
pub const RUNNER_INFO: Limit = Limit::chars(255);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_count_as_rails_counts_them() {
        let l = Limit::chars(3);
        assert!(l.fits("abc"));
        assert!(l.fits("äöü"), "three characters in six bytes fit a three-character limit");
        assert!(!l.fits("abcd"));
        assert_eq!(l.error("abcd").as_deref(), Some("is too long (maximum is 3 characters)"));
    }

    #[test]
    fn bytes_count_utf8_bytes() {
        let l = Limit::bytes(3);
        assert!(l.fits("abc"));
        assert!(!l.fits("äö"));
        assert_eq!(l.message(), "is too long (maximum is 3 bytes)");
    }

    #[test]
    fn a_too_long_value_is_a_gitlab_validation_error() {
        let err = REF_NAME.check("branch", &"a".repeat(256)).unwrap_err();
        assert!(matches!(err, ApiError::Message(s, v)
            if s == 400 && v == serde_json::json!({"branch": ["is too long (maximum is 255 bytes)"]})));
        assert!(REF_NAME.check("branch", &"a".repeat(255)).is_ok());
    }
}
