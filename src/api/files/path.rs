//! A `file_path` as GitLab's `file_path` validator and git's tree rules accept it.

use crate::api::limits::{Limit, Unit};
use crate::error::{ApiError, ApiResult};

/// Longest `file_path`, in bytes (git allows 4096; a path must fit a request line when encoded).
pub const FILE_PATH: Limit = Limit { max: 1024, unit: Unit::Bytes };

fn invalid_path() -> ApiError {
    ApiError::Param("file_path should be a valid file path".into())
}

/// Checks a decoded `file_path` as GitLab's `file_path` validator and git's tree rules would:
/// no `.`/`..`/`.git` or empty segments, no leading or trailing `/`, no control characters. The
/// raw endpoint accepts (and drops) one leading `/`.
pub fn check_path(raw: &str, leading_slash_allowed: bool) -> ApiResult<String> {
    let path = if leading_slash_allowed { raw.strip_prefix('/').unwrap_or(raw) } else { raw };
    FILE_PATH.check("file_path", path)?;
    if path.is_empty() || path.chars().any(char::is_control) {
        return Err(invalid_path());
    }
    let bad_segment = |s: &str| s.is_empty() || s == "." || s == ".." || s.eq_ignore_ascii_case(".git");
    if path.split('/').any(bad_segment) {
        return Err(invalid_path());
    }
    Ok(path.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths_follow_gits_rules() {
        for ok in [".gitlab-ci.yml", "a/b/c.txt", "dir/.hidden", "ünï code.md", "a..b"] {
            assert_eq!(check_path(ok, false).unwrap(), ok);
        }
        for bad in [
            "",
            "/abs",
            "trail/",
            "a//b",
            "../x",
            "a/../b",
            "a/./b",
            ".",
            "..",
            ".git/config",
            "a\0b",
            "a\nb",
        ] {
            assert!(check_path(bad, false).is_err(), "{bad:?}");
        }
        assert_eq!(check_path("/x.txt", true).unwrap(), "x.txt");
        assert!(check_path(&"a".repeat(1025), false).is_err());
        assert!(check_path(&"a".repeat(1024), false).is_ok());
    }
}
