//! A trigger call's variables: GitLab's shape rule (a map of strings to strings) and triggerd's
//! limits (count, key length and characters, value size), shared with the pipeline and job
//! APIs that take variables.

use actix_web::http::StatusCode;
use serde_json::Value;

use super::params::Params;
use crate::config::LimitsConfig;
use crate::error::{ApiError, ApiResult};

/// The user's variables in the order sent, checked against GitLab's shape rule and our limits.
/// Pure (no request, no database), so the fuzz target `trigger_variables` calls it directly.
pub fn user_variables(params: &Params, limits: &LimitsConfig) -> ApiResult<Vec<(String, String)>> {
    let bad = |text: String| ApiError::message(StatusCode::BAD_REQUEST, text);
    let Some(Value::Object(map)) = params.get("variables") else { return Ok(Vec::new()) };
    let mut out = Vec::with_capacity(map.len());
    for (key, value) in map {
        match value {
            Value::String(s) => out.push((key.clone(), s.clone())),
            _ => return Err(bad("variables needs to be a map of key-valued strings".into())),
        }
    }
    check_variable_limits(out.iter().map(|(k, v)| (k.as_str(), v.as_str())), limits)?;
    Ok(out)
}

/// Our limits on a pipeline's variables (count, key length and characters, value size): 400
/// `{"message":…}` naming the limit.
pub fn check_variable_limits<'a>(
    vars: impl ExactSizeIterator<Item = (&'a str, &'a str)>,
    limits: &LimitsConfig,
) -> ApiResult<()> {
    let bad = |text: String| ApiError::message(StatusCode::BAD_REQUEST, text);
    let count = vars.len();
    if count > limits.max_variables {
        return Err(bad(format!(
            "variables must not have more than {} entries (limits.max_variables)",
            limits.max_variables
        )));
    }
    for (key, value) in vars {
        if key.chars().count() > limits.max_variable_key_len {
            return Err(bad(format!(
                "variable keys must not be longer than {} characters (limits.max_variable_key_len)",
                limits.max_variable_key_len
            )));
        }
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(bad("variable keys may contain only letters, digits and underscores".into()));
        }
        if value.len() > limits.max_variable_value_bytes {
            return Err(bad(format!(
                "the value of variable {key} must not be larger than {} bytes (limits.max_variable_value_bytes)",
                limits.max_variable_value_bytes
            )));
        }
    }
    Ok(())
}
