//! The rules for a project's (and a group's) `name`, `path`, `description` and `default_branch`,
//! with GitLab's messages, and [`Errors`], the `{"message":{field:[…]}}` they are reported in.

use actix_web::http::StatusCode;
use serde_json::{Map, Value};

use super::limits;
use crate::error::{ApiError, ApiResult};

const PATH_FORMAT: &str = "can contain only letters, digits, '_', '-' and '.'. Cannot start with '-', \
                           end in '.git' or end in '.atom'";
const PATH_SPECIAL: &str =
    "must not start or end with a special character and must not contain consecutive special characters.";
const NAME_FORMAT: &str = "can contain only letters, digits, emoji, '_', '.', '+', dashes, or spaces. \
                           It must start with a letter, digit, emoji, or '_'.";
const BLANK: &str = "can't be blank";

/// Validation messages per field, in GitLab's `{"message":{field:[…]}}` shape.
#[derive(Default)]
pub(crate) struct Errors(Map<String, Value>);

impl Errors {
    pub(crate) fn add(&mut self, field: &str, messages: Vec<String>) {
        if messages.is_empty() {
            return;
        }
        let entry = self.0.entry(field.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.extend(messages.into_iter().map(Value::String));
        }
    }

    pub(crate) fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Message(StatusCode::BAD_REQUEST, Value::Object(self.0)))
        }
    }
}

/// GitLab's project name rule: letters, digits, emoji, `_`, `.`, `+`, dashes, spaces; starting
/// with a letter, digit, emoji or `_`.
pub(crate) fn name_errors(name: &str) -> Vec<String> {
    if name.trim().is_empty() {
        return vec![BLANK.into()];
    }
    let mut out = Vec::new();
    let emoji = |c: char| ('\u{00A9}'..='\u{1F9FF}').contains(&c) && !c.is_alphanumeric();
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_alphanumeric() || c == '_' || emoji(c));
    let rest_ok = chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '+' | '-' | ' ') || emoji(c));
    if !first_ok || !rest_ok {
        out.push(NAME_FORMAT.into());
    }
    out.extend(limits::PROJECT_NAME.error(name));
    out
}

/// GitLab's project path rules: `[A-Za-z0-9_.-]`, not starting with `-`, not ending in `.git`
/// or `.atom`; no special character first or last and no two in a row.
pub(crate) fn path_errors(path: &str) -> Vec<String> {
    if path.trim().is_empty() {
        return vec![BLANK.into()];
    }
    let mut out = Vec::new();
    let special = |c: char| matches!(c, '_' | '.' | '-');
    let charset_ok = path.chars().all(|c| c.is_ascii_alphanumeric() || special(c));
    if !charset_ok || path.starts_with('-') || path.ends_with(".git") || path.ends_with(".atom") {
        out.push(PATH_FORMAT.into());
    }
    let chars: Vec<char> = path.chars().collect();
    let edges = chars.first().is_some_and(|c| special(*c)) || chars.last().is_some_and(|c| special(*c));
    let doubled = chars.windows(2).any(|w| special(w[0]) && special(w[1]));
    if charset_ok && (edges || doubled) {
        out.push(PATH_SPECIAL.into());
    }
    out.extend(limits::PROJECT_PATH.error(path));
    out
}

pub(crate) fn description_errors(description: &str) -> Vec<String> {
    limits::PROJECT_DESCRIPTION.error(description).into_iter().collect()
}

/// A branch name git would accept (`git check-ref-format --branch`, simplified).
pub(crate) fn branch_errors(branch: &str) -> Vec<String> {
    let bad_char = |c: char| {
        c.is_control() || c.is_whitespace() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
    };
    if let Some(too_long) = limits::REF_NAME.error(branch) {
        return vec![too_long];
    }
    let ok = !branch.is_empty()
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("@{")
        && branch != "@"
        && !branch.chars().any(bad_char);
    if ok { Vec::new() } else { vec!["is invalid".into()] }
}

/// Rails' `parameterize`: lower-case, runs of anything but `[a-z0-9_-]` become one `-`, no
/// leading or trailing `-`.
pub(crate) fn parameterize(s: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    // Collapse `-` runs produced by literal dashes next to replaced characters.
    let mut collapsed = String::with_capacity(out.len());
    for c in out.chars() {
        if !(c == '-' && collapsed.ends_with('-')) {
            collapsed.push(c);
        }
    }
    collapsed.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parameterize_into_paths() {
        assert_eq!(parameterize("My Project"), "my-project");
        assert_eq!(parameterize("  Hello, World! "), "hello-world");
        assert_eq!(parameterize("a - b"), "a-b");
        assert_eq!(parameterize("snake_case"), "snake_case");
    }

    #[test]
    fn gitlab_path_rules_apply() {
        for ok in ["demo", "Demo", "my-project", "a.b_c", "x1"] {
            assert!(path_errors(ok).is_empty(), "{ok}");
        }
        for bad in ["-x", ".x", "x.git", "x.atom", "a b", "a/b", "x-", "a--b", "a._b", ""] {
            assert!(!path_errors(bad).is_empty(), "{bad}");
        }
    }

    #[test]
    fn gitlab_name_rules_apply() {
        for ok in ["Demo", "My Project", "a+b", "_x", "Ünïcödé"] {
            assert!(name_errors(ok).is_empty(), "{ok}");
        }
        for bad in ["-x", ".x", "a/b", "", "   "] {
            assert!(!name_errors(bad).is_empty(), "{bad}");
        }
    }
}
