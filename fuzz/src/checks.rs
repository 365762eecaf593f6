//! The checks behind every fuzz target, one public function per target taking the raw input.
//! Each one panics on a violated property; libFuzzer reports that panic as a crash.
//!
//! The main crate's `tests/fuzz_corpus.rs` includes this file by path and replays the committed
//! corpus (`fuzz/corpus/<target>/`) through the same functions, so CI needs no fuzzing tool.
//!
//! Properties, under both the default limits and small ones the fuzzer can reach cheaply:
//! - no panic, and every refusal is a 400 `ApiError::Param` (never a 5xx);
//! - accepted parameters nest at most `max_depth` levels and, for the query string and form
//!   bodies, hold at most `max_params` leaves;
//! - round trips: parameters from form data (query, urlencoded, multipart) re-encoded as
//!   urlencoded data parse back to the same parameters; JSON parameters re-serialised parse
//!   back the same; the same bytes as a query string and as a urlencoded body agree;
//! - the trigger call's variables, when accepted, respect every `[limits]` variable limit.

use serde_json::Value;
use triggerd::api::params::{ParamLimits, Params, parse_request_params};
use triggerd::api::trigger_call::user_variables;
use triggerd::config::LimitsConfig;
use triggerd::error::ApiError;

const FORM: &str = "application/x-www-form-urlencoded";
const JSON: &str = "application/json";

/// The configured defaults and small limits that short inputs can exceed.
fn limit_sets() -> [ParamLimits; 2] {
    [ParamLimits::default(), ParamLimits { max_depth: 3, max_params: 8 }]
}

/// Fails unless a refusal is a parameter error (400 `{"error":…}`).
fn assert_param_error(result: &Result<Params, ApiError>) {
    if let Err(e) = result {
        assert!(matches!(e, ApiError::Param(_)), "not a 400 parameter error: {e:?}");
    }
}

/// Depth and leaf-count limits of parameters built from `key=value` pairs, and their
/// urlencoded round trip.
fn check_form_params(params: &Params, limits: &ParamLimits) {
    assert!(params.depth() <= limits.max_depth, "depth {} > {}", params.depth(), limits.max_depth);
    let pairs = params.to_pairs();
    assert!(pairs.len() <= limits.max_params, "{} leaves > {}", pairs.len(), limits.max_params);
    let again = parse_request_params(params.to_urlencoded().as_bytes(), "", b"", limits);
    assert!(again.as_ref().ok() == Some(params), "urlencoded round trip: {params:?} became {again:?}");
}

/// The query-string parser; the same bytes as a urlencoded body must give the same answer.
pub fn query(data: &[u8]) {
    for limits in limit_sets() {
        let result = parse_request_params(data, "", b"", &limits);
        assert_param_error(&result);
        let as_body = parse_request_params(b"", FORM, data, &limits);
        // A blank body is no parameters at all, where a blank query string is a key made of
        // spaces (or malformed); otherwise both must give the same answer.
        if !data.iter().all(u8::is_ascii_whitespace) {
            match (&result, &as_body) {
                (Ok(q), Ok(b)) => assert_eq!(q, b, "query and urlencoded body disagree"),
                (Err(_), Err(_)) => {}
                _ => panic!("query and urlencoded body disagree: {result:?} vs {as_body:?}"),
            }
        }
        if let Ok(params) = result {
            check_form_params(&params, &limits);
        }
    }
}

/// A urlencoded body, with the input's first `?`-separated part as the query string (the two
/// share the pair budget).
pub fn urlencoded(data: &[u8]) {
    let (query, body) = split_once(data, b'?');
    for limits in limit_sets() {
        let result = parse_request_params(query, FORM, body, &limits);
        assert_param_error(&result);
        if let Ok(params) = result {
            check_form_params(&params, &limits);
        }
    }
}

/// A multipart body. The input's first line (up to `\n`) is the boundary.
pub fn multipart(data: &[u8]) {
    let (boundary, body) = split_once(data, b'\n');
    let content_type = format!("multipart/form-data; boundary={}", String::from_utf8_lossy(boundary));
    for limits in limit_sets() {
        let result = parse_request_params(b"", &content_type, body, &limits);
        assert_param_error(&result);
        if let Ok(params) = result {
            check_form_params(&params, &limits);
        }
    }
}

/// A JSON body: depth within the limit, and serialising the parameters and parsing them again
/// gives them back (floats aside: serde_json may round one last digit).
pub fn json(data: &[u8]) {
    for limits in limit_sets() {
        let result = parse_request_params(b"", JSON, data, &limits);
        assert_param_error(&result);
        let Ok(params) = result else { continue };
        assert!(params.depth() <= limits.max_depth, "depth {} > {}", params.depth(), limits.max_depth);
        let text = Value::Object(params.as_map().clone()).to_string();
        if !has_float(&params) {
            let again = parse_request_params(b"", JSON, text.as_bytes(), &limits);
            assert!(again.as_ref().ok() == Some(&params), "JSON round trip: {params:?} became {again:?}");
        }
    }
}

/// The trigger call's `variables` validation on parameters from a urlencoded body (or a JSON
/// one when the input starts with `{`): accepted variables respect every limit and are exactly
/// the `variables` parameter's members.
pub fn trigger_variables(data: &[u8]) {
    let content_type = if data.first() == Some(&b'{') { JSON } else { FORM };
    let small = LimitsConfig {
        max_variables: 3,
        max_variable_key_len: 4,
        max_variable_value_bytes: 8,
        ..LimitsConfig::default()
    };
    for config in [LimitsConfig::default(), small] {
        let Ok(params) = parse_request_params(b"", content_type, data, &ParamLimits::from_config(&config))
        else {
            continue;
        };
        let Ok(variables) = user_variables(&params, &config) else { continue };
        assert!(variables.len() <= config.max_variables);
        for (key, value) in &variables {
            assert!(!key.is_empty() && key.chars().count() <= config.max_variable_key_len, "key {key:?}");
            assert!(key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "key {key:?}");
            assert!(value.len() <= config.max_variable_value_bytes, "value of {key}");
        }
        match params.get("variables") {
            Some(Value::Object(map)) => {
                assert_eq!(variables.len(), map.len());
                for (key, value) in &variables {
                    assert_eq!(map.get(key), Some(&Value::String(value.clone())));
                }
            }
            _ => assert!(variables.is_empty()),
        }
    }
}

fn split_once(data: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == separator) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (b"", data),
    }
}

/// Whether any number in the parameters is not an integer.
fn has_float(params: &Params) -> bool {
    let mut stack: Vec<&Value> = params.as_map().values().collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::Number(n) if n.is_f64() => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(obj) => stack.extend(obj.values()),
            _ => {}
        }
    }
    false
}
