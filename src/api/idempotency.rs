//! Idempotency keys on the trigger call (issue 14, point 5): `Idempotency-Key: <key>` makes a
//! retried call safe. The first call's answer (its status and body) is stored with a fingerprint
//! of its parameters in the same write as its pipeline (`db::idempotency`); within
//! [`WINDOW_SECS`] the same key with the same trigger token gets that answer again (a `201`
//! becomes `200`, with `Idempotent-Replayed: true`) and creates nothing, and the same key with
//! another ref, other variables or other inputs gets a 422. Keys are per trigger token; expired
//! rows are swept by [`sweep_expired_keys`].

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db::idempotency::{self as store, StoredAnswer};
use crate::error::{ApiError, ApiResult};
use crate::model;
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The response header of a replayed answer.
pub const REPLAYED_HEADER: &str = "Idempotent-Replayed";
/// Longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;
/// How long a key keeps its first answer: 24 hours.
pub const WINDOW_SECS: i64 = 24 * 3600;
/// How often expired keys are swept, and how many rows one sweep write deletes at most.
const SWEEP_EVERY: Duration = Duration::from_secs(600);
const SWEEP_BATCH: i64 = 1000;

/// A call's key, with what it is compared and stored with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    /// SHA-256 of the call's ref, variables and inputs.
    pub fingerprint: Vec<u8>,
    /// Rows created before this no longer count.
    pub since: String,
}

/// The `Idempotency-Key` header: absent → `None`; 1 to 255 printable ASCII characters, sent once
/// → the key; anything else → 400.
pub fn key_of(req: &HttpRequest) -> ApiResult<Option<String>> {
    let mut values = req.headers().get_all(HEADER);
    let Some(value) = values.next() else { return Ok(None) };
    let invalid = || {
        ApiError::Param(format!(
            "{HEADER} must be sent once, with 1 to {MAX_KEY_LEN} printable ASCII characters"
        ))
    };
    if values.next().is_some() {
        return Err(invalid());
    }
    let key = value.to_str().map_err(|_| invalid())?;
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(invalid());
    }
    Ok(Some(key.to_string()))
}

/// The key's comparison data for a call at `now_at`.
pub fn for_call(
    key: String,
    ref_name: &str,
    variables: &[(String, String)],
    inputs: Option<&Value>,
    now_at: OffsetDateTime,
) -> Idempotency {
    let since = model::format_ts(
        now_at.checked_sub(time::Duration::seconds(WINDOW_SECS)).unwrap_or(OffsetDateTime::UNIX_EPOCH),
    );
    Idempotency { key, fingerprint: fingerprint(ref_name, variables, inputs), since }
}

/// SHA-256 over the ref, the variables sorted by name and the inputs with their object keys
/// sorted, each length-prefixed: the order a client happens to send them in does not matter.
pub fn fingerprint(ref_name: &str, variables: &[(String, String)], inputs: Option<&Value>) -> Vec<u8> {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(ref_name.as_bytes());
    let mut vars: Vec<&(String, String)> = variables.iter().collect();
    vars.sort();
    field(&(vars.len() as u64).to_be_bytes());
    for (k, v) in vars {
        field(k.as_bytes());
        field(v.as_bytes());
    }
    match inputs {
        None => field(b"-"),
        Some(v) => field(canonical(v).as_bytes()),
    }
    h.finalize().to_vec()
}

/// JSON text with every object's keys sorted.
fn canonical(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(v).to_string()
}

/// The 422 for a key reused with other parameters.
pub fn mismatch() -> ApiError {
    ApiError::message(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "{HEADER} was already used with this trigger token for a call with another ref, other \
             variables or other inputs; use a new key for a different call"
        ),
    )
}

/// The stored first answer again: a `201` as `200`, any other status as it was, the same body,
/// and `Idempotent-Replayed: true`.
pub fn replay(stored: StoredAnswer) -> HttpResponse {
    let status = match StatusCode::from_u16(stored.status) {
        Ok(StatusCode::CREATED) | Err(_) => StatusCode::OK,
        Ok(s) => s,
    };
    HttpResponse::build(status)
        .insert_header((REPLAYED_HEADER, "true"))
        .content_type("application/json")
        .body(stored.body)
}

/// Every ten minutes, deletes the keys older than the window (in bounded writes, so a large
/// backlog never holds the writer for long).
pub async fn sweep_expired_keys(state: web::Data<AppState>) {
    loop {
        let before = model::format_ts(
            OffsetDateTime::now_utc()
                .checked_sub(time::Duration::seconds(WINDOW_SECS))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        loop {
            let before = before.clone();
            match state.db.write(move |c| Ok(store::sweep(c, &before, SWEEP_BATCH)?)).await {
                Ok(n) if n as i64 == SWEEP_BATCH => continue,
                Ok(_) => break,
                Err(e) => {
                    log::warn!("idempotency key sweep: {e}");
                    break;
                }
            }
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_fingerprint_ignores_the_order_of_variables_and_input_keys() {
        let a = fingerprint(
            "main",
            &vars(&[("A", "1"), ("B", "2")]),
            Some(&json!({"x": 1, "y": [{"b": 1, "a": 2}]})),
        );
        let b = fingerprint(
            "main",
            &vars(&[("B", "2"), ("A", "1")]),
            Some(&json!({"y": [{"a": 2, "b": 1}], "x": 1})),
        );
        assert_eq!(a, b);
    }

    #[test]
    fn the_fingerprint_changes_with_the_ref_a_variable_or_the_inputs() {
        let base = fingerprint("main", &vars(&[("A", "1")]), None);
        assert_ne!(base, fingerprint("dev", &vars(&[("A", "1")]), None));
        assert_ne!(base, fingerprint("main", &vars(&[("A", "2")]), None));
        assert_ne!(base, fingerprint("main", &vars(&[("A1", "")]), None));
        assert_ne!(base, fingerprint("main", &vars(&[("A", "1")]), Some(&json!({}))));
    }
}
