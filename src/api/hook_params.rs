//! The parameters of `POST`/`PUT /projects/:id/hooks[/:hook_id]`: each one validated and
//! applied onto a hook's settings (GitLab's `lib/api/project_hooks.rb` params and the model rules
//! of `app/models/concerns/web_hooks/hook.rb`).

use serde_json::{Map, Value, json};

use super::params::Params;
use crate::db::hooks::HookSettings;
use crate::error::{ApiError, ApiResult};
use crate::hooks::{signature, ssrf};
use crate::state::AppState;

/// Event booleans GitLab knows besides the three columns; stored, shown, not acted on.
pub const OTHER_EVENTS: &[&str] = &[
    "tag_push_events",
    "merge_requests_events",
    "repository_update_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "confidential_note_events",
    "wiki_page_events",
    "deployment_events",
    "feature_flag_events",
    "releases_events",
    "milestone_events",
    "emoji_events",
    "resource_access_token_events",
    "resource_deploy_token_events",
    "vulnerability_events",
];

/// Most custom headers per hook (GitLab's documented limit).
pub const MAX_CUSTOM_HEADERS: usize = 20;
const MAX_HEADER_KEY: usize = 255;
const MAX_HEADER_VALUE: usize = 2048;
pub const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 2048;
const MAX_TOKEN: usize = 2048;
const MAX_BRANCH_FILTER: usize = 5000;

/// Headers a custom header may not set (the delivery's own and the connection's).
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "user-agent",
    "host",
    "connection",
    "transfer-encoding",
    "idempotency-key",
    "x-gitlab-event",
    "x-gitlab-webhook-uuid",
    "x-gitlab-instance",
    "x-gitlab-event-uuid",
    "x-gitlab-token",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Stored custom headers as pairs.
pub fn custom_headers(stored: &str) -> Vec<(String, String)> {
    serde_json::from_str::<Vec<Value>>(stored)
        .unwrap_or_default()
        .iter()
        .filter_map(|h| Some((h.get("key")?.as_str()?.to_string(), h.get("value")?.as_str()?.to_string())))
        .collect()
}

fn bounded(params: &Params, key: &str, max: usize) -> ApiResult<Option<String>> {
    let v = params.string(key)?;
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        return Err(ApiError::validation(key, format!("is too long (maximum is {max} characters)")));
    }
    Ok(v)
}

/// Applies the given parameters onto `base`, validating each; returns the settings and a newly
/// generated signing secret to show once.
pub fn apply(
    params: &Params,
    mut s: HookSettings,
    state: &AppState,
) -> ApiResult<(HookSettings, Option<String>)> {
    if let Some(url) = params.string("url")? {
        ssrf::check_saved(&url, state.config.webhooks.allow_local_network)
            .map_err(|_| ApiError::Unprocessable("Invalid url given".into()))?;
        s.url = url;
    }
    if let Some(name) = bounded(params, "name", MAX_NAME)? {
        s.name = Some(name).filter(|n| !n.is_empty());
    }
    if let Some(d) = bounded(params, "description", MAX_DESCRIPTION)? {
        s.description = Some(d).filter(|d| !d.is_empty());
    }
    if let Some(token) = bounded(params, "token", MAX_TOKEN)? {
        if token.contains(['\n', '\r']) {
            return Err(ApiError::Unprocessable("Token must not contain line breaks".into()));
        }
        s.token = Some(token).filter(|t| !t.is_empty());
    }
    let mut shown = None;
    if let Some(given) = params.string("signing_token")? {
        s.signing_secret = if given.is_empty() {
            None
        } else {
            let secret = signature::parse_secret(&given)
                .filter(|b| (24..=64).contains(&b.len()))
                .ok_or_else(|| {
                    ApiError::Unprocessable(
                        "Signing token must be whsec_ followed by the base64 of 24 to 64 bytes".into(),
                    )
                })?;
            Some(secret)
        };
    }
    if params.bool("generate_signing_token")? == Some(true) {
        let secret: [u8; 32] = rand::random();
        shown = Some(signature::show_secret(&secret));
        s.signing_secret = Some(secret.to_vec());
    }
    if let Some(v) = params.bool("enable_ssl_verification")? {
        s.enable_ssl_verification = v;
    }
    if let Some(v) = params.bool("push_events")? {
        s.push_events = v;
    }
    if let Some(v) = params.bool("pipeline_events")? {
        s.pipeline_events = v;
    }
    if let Some(v) = params.bool("job_events")? {
        s.job_events = v;
    }
    let mut events: Map<String, Value> = serde_json::from_str(&s.events).unwrap_or_default();
    for k in OTHER_EVENTS.iter().filter(|k| **k != "repository_update_events") {
        if let Some(v) = params.bool(k)? {
            events.insert((*k).into(), Value::Bool(v));
        }
    }
    if let Some(f) = bounded(params, "push_events_branch_filter", MAX_BRANCH_FILTER)? {
        events.insert("push_events_branch_filter".into(), Value::String(f));
    }
    if let Some(strategy) = params.one_of("branch_filter_strategy", &["wildcard", "regex", "all_branches"])? {
        events.insert("branch_filter_strategy".into(), Value::String(strategy));
    }
    s.events = Value::Object(events).to_string();
    if let Some(given) = params.get("custom_headers") {
        s.custom_headers = merge_headers(&s.custom_headers, given)?;
    }
    Ok((s, shown))
}

/// Merges given `[{key, value}]` into the stored ones (a given key replaces its value).
pub fn merge_headers(stored: &str, given: &Value) -> ApiResult<String> {
    let invalid = || ApiError::Unprocessable("Custom headers validation failed".into());
    let items = match given {
        Value::Array(items) => items,
        _ => return Err(ApiError::invalid("custom_headers")),
    };
    if items.len() > MAX_CUSTOM_HEADERS {
        return Err(ApiError::Param(format!("custom_headers has more than {MAX_CUSTOM_HEADERS} headers")));
    }
    let mut merged = custom_headers(stored);
    for item in items {
        let key = item
            .get("key")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing("custom_headers[key]"))?;
        let value = item
            .get("value")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::missing("custom_headers[value]"))?;
        if key.len() > MAX_HEADER_KEY {
            return Err(ApiError::Param(format!(
                "custom_headers[key] is too long (maximum is {MAX_HEADER_KEY})"
            )));
        }
        let key_ok = !key.is_empty()
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && !RESERVED_HEADERS.contains(&key.to_ascii_lowercase().as_str());
        let value_ok = !value.is_empty()
            && value.len() <= MAX_HEADER_VALUE
            && value.trim() == value
            && !value.chars().any(char::is_control)
            && !value.to_ascii_lowercase().contains("%0a")
            && !value.to_ascii_lowercase().contains("%0d");
        if !key_ok || !value_ok {
            return Err(invalid());
        }
        match merged.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(slot) => slot.1 = value.to_string(),
            None => merged.push((key.to_string(), value.to_string())),
        }
    }
    if merged.len() > MAX_CUSTOM_HEADERS {
        return Err(ApiError::Param(format!("custom_headers has more than {MAX_CUSTOM_HEADERS} headers")));
    }
    let list: Vec<Value> = merged.into_iter().map(|(k, v)| json!({"key": k, "value": v})).collect();
    Ok(Value::Array(list).to_string())
}
