//! A trigger token's limits (issue 14, points 1 and 2): which refs a call may use
//! (`allowed_refs`) and which variables it may or must send (`allowed_variables`,
//! `required_variables`, `max_variable_value_bytes`). Parsing the management parameters and
//! checking a trigger call against a policy; pure (no database, no request).
//!
//! Entries are exact names or patterns where `*` matches any run of characters, `/` included
//! (`release/*`, `v*`, `DEPLOY_*`). Matching is linear-ish (one backtrack point) and entries are
//! bounded in number, length and stars, so hostile patterns cost microseconds.

use actix_web::http::StatusCode;

use super::params::Params;
use crate::config::LimitsConfig;
use crate::db::triggers::TriggerPolicy;
use crate::error::{ApiError, ApiResult};

/// At most this many entries in each list.
pub const MAX_ENTRIES: usize = 100;
/// At most this many characters in one `allowed_refs` entry (a ref name's own limit is larger,
/// but a pattern this long is never needed).
pub const MAX_REF_PATTERN_CHARS: usize = 255;
/// At most this many `*` in one entry.
pub const MAX_STARS: usize = 5;

/// The policy parameters a create or update sent; `None` leaves that part as it is.
#[derive(Debug, Default, Clone)]
pub struct PolicyPatch {
    allowed_refs: Option<Vec<String>>,
    allowed_variables: Option<Vec<String>>,
    required_variables: Option<Vec<String>>,
    max_variable_value_bytes: Option<Option<i64>>,
}

impl PolicyPatch {
    /// Reads and validates the policy parameters: 400 `{"message":…}` naming the parameter and
    /// the entry for anything malformed. A blank string (or `[]`) empties a list; a blank
    /// `max_variable_value_bytes` removes the maximum.
    pub fn from_params(params: &Params, limits: &LimitsConfig) -> ApiResult<Self> {
        let allowed_refs = list(params, "allowed_refs", check_ref_pattern)?;
        let key_len = limits.max_variable_key_len;
        let allowed_variables =
            list(params, "allowed_variables", |e| check_variable_entry(e, key_len, true))?;
        let required_variables =
            list(params, "required_variables", |e| check_variable_entry(e, key_len, false))?;
        let max_variable_value_bytes = match params.get("max_variable_value_bytes") {
            None => None,
            Some(v) if v.as_str().is_some_and(|s| s.trim().is_empty()) => Some(None),
            Some(_) => {
                let max = limits.max_variable_value_bytes as i64;
                match params.int("max_variable_value_bytes") {
                    Ok(Some(n)) if (1..=max).contains(&n) => Some(Some(n)),
                    _ => {
                        return Err(bad(format!(
                            "max_variable_value_bytes must be an integer from 1 to {max} (limits.max_variable_value_bytes)"
                        )));
                    }
                }
            }
        };
        Ok(PolicyPatch { allowed_refs, allowed_variables, required_variables, max_variable_value_bytes })
    }

    /// Whether the request sent any policy parameter.
    pub fn is_empty(&self) -> bool {
        self.allowed_refs.is_none()
            && self.allowed_variables.is_none()
            && self.required_variables.is_none()
            && self.max_variable_value_bytes.is_none()
    }

    /// `current` with this patch applied; 400 when a required variable is not allowed.
    pub fn apply(&self, current: &TriggerPolicy) -> ApiResult<TriggerPolicy> {
        let mut p = current.clone();
        if let Some(v) = &self.allowed_refs {
            p.allowed_refs = v.clone();
        }
        if let Some(v) = &self.allowed_variables {
            p.allowed_variables = v.clone();
        }
        if let Some(v) = &self.required_variables {
            p.required_variables = v.clone();
        }
        if let Some(v) = self.max_variable_value_bytes {
            p.max_variable_value_bytes = v;
        }
        if let Some(name) = p.required_variables.iter().find(|n| !variable_allowed(&p, n)) {
            return Err(bad(format!("required_variables: {name} is not matched by allowed_variables")));
        }
        Ok(p)
    }
}

fn bad(text: String) -> ApiError {
    ApiError::message(StatusCode::BAD_REQUEST, text)
}

/// A list parameter, each entry checked, duplicates dropped (first one kept).
fn list(
    params: &Params,
    key: &str,
    check: impl Fn(&str) -> Result<(), &'static str>,
) -> ApiResult<Option<Vec<String>>> {
    let Some(items) = params.string_list(key)? else { return Ok(None) };
    if items.len() > MAX_ENTRIES {
        return Err(bad(format!("{key} must not have more than {MAX_ENTRIES} entries")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        if let Err(why) = check(&item) {
            return Err(bad(format!("{key}: {:?} {why}", shorten(&item))));
        }
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Some(out))
}

/// The first 64 characters of a rejected entry, for the error message.
fn shorten(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(64).collect::<String>())
    }
}

/// A ref name or pattern: what git allows in a ref name (no control characters, blanks,
/// `~^:?[\`), plus `*`, bounded in length and stars.
fn check_ref_pattern(entry: &str) -> Result<(), &'static str> {
    if entry.is_empty() {
        return Err("is empty");
    }
    if entry.chars().count() > MAX_REF_PATTERN_CHARS {
        return Err("is longer than 255 characters");
    }
    if entry.chars().any(|c| c.is_control() || c.is_whitespace() || "~^:?[\\".contains(c)) {
        return Err("contains a character a ref name cannot have");
    }
    check_stars(entry)
}

/// A variable name (`pattern`: or `*` pattern): letters, digits and underscores.
fn check_variable_entry(entry: &str, max_len: usize, pattern: bool) -> Result<(), &'static str> {
    if entry.is_empty() {
        return Err("is empty");
    }
    if entry.len() > max_len {
        return Err("is longer than a variable key may be (limits.max_variable_key_len)");
    }
    if !entry.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || (pattern && b == b'*')) {
        return Err(if pattern {
            "may contain only letters, digits, underscores and *"
        } else {
            "may contain only letters, digits and underscores"
        });
    }
    check_stars(entry)
}

fn check_stars(entry: &str) -> Result<(), &'static str> {
    if entry.bytes().filter(|&b| b == b'*').count() > MAX_STARS {
        return Err("has more than 5 *");
    }
    Ok(())
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (also none).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it currently stands for the end of.
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, mark)) = backtrack {
            backtrack = Some((star, mark + 1));
            pi = star + 1;
            ti = mark + 1;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

fn any_match(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| glob_match(p, text))
}

fn variable_allowed(policy: &TriggerPolicy, name: &str) -> bool {
    policy.allowed_variables.is_empty() || any_match(&policy.allowed_variables, name)
}

/// A trigger call's ref against `allowed_refs` (`refs/heads/` and `refs/tags/` are ignored):
/// 403 naming the ref when the token does not allow it.
pub fn check_ref(policy: &TriggerPolicy, ref_name: &str) -> ApiResult<()> {
    if policy.allowed_refs.is_empty() {
        return Ok(());
    }
    let name = ref_name
        .strip_prefix("refs/heads/")
        .or_else(|| ref_name.strip_prefix("refs/tags/"))
        .unwrap_or(ref_name);
    if any_match(&policy.allowed_refs, name) {
        return Ok(());
    }
    Err(ApiError::Forbidden(Some(format!(
        "the trigger token does not allow the ref {:?}",
        shorten(ref_name)
    ))))
}

/// A trigger call's variables against the policy: 400 naming the first variable that is not
/// allowed, too large, or (then) the first required one that is missing.
pub fn check_variables(policy: &TriggerPolicy, variables: &[(String, String)]) -> ApiResult<()> {
    for (key, value) in variables {
        if !variable_allowed(policy, key) {
            return Err(bad(format!("variable {key} is not allowed by the trigger token")));
        }
        if let Some(max) = policy.max_variable_value_bytes
            && value.len() as i64 > max
        {
            return Err(bad(format!(
                "the value of variable {key} is larger than the trigger token allows ({max} bytes)"
            )));
        }
    }
    if let Some(missing) = policy.required_variables.iter().find(|r| !variables.iter().any(|(k, _)| k == *r))
    {
        return Err(bad(format!("variable {missing} is required by the trigger token")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_any_run_of_characters_including_slashes() {
        assert!(glob_match("release/*", "release/1.2"));
        assert!(glob_match("release/*", "release/a/b"));
        assert!(glob_match("release/*", "release/"));
        assert!(!glob_match("release/*", "releases/1"));
        assert!(glob_match("v*", "v1.0.0"));
        assert!(!glob_match("v*", "main"));
        assert!(glob_match("main", "main"));
        assert!(!glob_match("main", "main2"));
        assert!(glob_match("*a*b*", "xxaxxbxx"));
        assert!(!glob_match("*a*b*", "xxbxxaxx"));
        assert!(glob_match("**", ""));
        assert!(glob_match("DEPLOY_*", "DEPLOY_ENV"));
    }

    #[test]
    fn a_hostile_pattern_against_a_long_ref_ends_quickly() {
        let text = "a".repeat(100_000);
        assert!(!glob_match("*a*a*a*a*b", &text));
    }

    #[test]
    fn refs_prefixes_are_ignored_when_checking_a_ref() {
        let p = TriggerPolicy { allowed_refs: vec!["v*".into()], ..Default::default() };
        assert!(check_ref(&p, "refs/tags/v1").is_ok());
        assert!(check_ref(&p, "refs/heads/main").is_err());
        assert!(check_ref(&TriggerPolicy::default(), "anything").is_ok());
    }

    #[test]
    fn variables_outside_the_policy_are_named() {
        let p = TriggerPolicy {
            allowed_variables: vec!["VERSION".into(), "DEPLOY_*".into()],
            required_variables: vec!["VERSION".into()],
            max_variable_value_bytes: Some(3),
            ..Default::default()
        };
        let v = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        assert!(check_variables(&p, &v(&[("VERSION", "1"), ("DEPLOY_X", "ok")])).is_ok());
        let e = check_variables(&p, &v(&[("VERSION", "1"), ("OTHER", "x")])).unwrap_err();
        assert!(e.to_string().contains("OTHER") || format!("{e:?}").contains("OTHER"));
        let e = check_variables(&p, &v(&[("VERSION", "1234")])).unwrap_err();
        assert!(format!("{e:?}").contains("VERSION"));
        let e = check_variables(&p, &v(&[("DEPLOY_X", "1")])).unwrap_err();
        assert!(format!("{e:?}").contains("VERSION is required"));
    }
}
