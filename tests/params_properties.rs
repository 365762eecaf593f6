//! Property tests of the request-parameter parser (`triggerd::api::params`), reliability.md §3:
//! no input makes it panic or answer anything but 400, accepted parameters respect the limits
//! exactly, and the same logical request gives the same parameters whether it arrives as a
//! query string, a urlencoded body, a multipart body or JSON (a differential oracle).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/src/checks.rs"]
mod checks;

use proptest::prelude::*;
use serde_json::{Map, Value};
use triggerd::api::params::{ParamLimits, Params, parse_request_params};

/// Cases per property: ≥ 20,000 as reliability.md §3 asks (each property runs in well under a
/// few seconds in a debug build; `PROPTEST_CASES` overrides for a longer run).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(20_000);
    // XorShift: the default ChaCha generator dominates the run time in a debug build.
    ProptestConfig {
        cases,
        max_shrink_iters: 10_000,
        rng_algorithm: proptest::test_runner::RngAlgorithm::XorShift,
        ..ProptestConfig::default()
    }
}

const BOUNDARY: &str = "triggerd-proptest-boundary-7f3a9c";

/// Pieces that make the parser's interesting paths likely: brackets, escapes, separators,
/// multipart framing and JSON punctuation.
const TOKENS: &[&str] = &[
    "a",
    "b",
    "variables",
    "K_1",
    "[",
    "]",
    "[]",
    "[x]",
    "][",
    "&",
    "=",
    "%5B",
    "%5D",
    "%",
    "%2",
    "%zz",
    "%ff",
    "+",
    " ",
    "\u{e9}",
    "\r\n",
    "--b",
    "--b--",
    "\r\nContent-Disposition: form-data; name=\"",
    "\"",
    "\r\n\r\n",
    "{",
    "}",
    ":",
    ",",
    "\"k\"",
    "[1,",
    "null",
    "\\",
    "\\\"",
    "1e5",
    "-0",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(TOKENS), 0..48).prop_map(|t| t.concat().into_bytes()),
        prop::collection::vec(any::<u8>(), 0..96),
    ]
}

/// Keys safe in every encoding (no brackets, quotes or separators).
fn key() -> impl Strategy<Value = String> {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
    prop::collection::vec(prop::sample::select(CHARS), 1..7)
        .prop_map(|b| b.into_iter().map(char::from).collect())
}

/// Any text (control characters, `\r\n`, non-ASCII), often with the separators of every encoding.
fn text() -> impl Strategy<Value = String> {
    let special =
        prop::sample::select(&['&', '=', '%', '+', '[', ']', '"', ' ', '\r', '\n', '\u{feff}', 'é'][..]);
    prop::collection::vec(prop_oneof![any::<char>(), special], 0..12).prop_map(String::from_iter)
}

/// A parameter value every encoding can express: a string, a non-empty array of strings or a
/// non-empty object, a few levels deep.
fn value() -> impl Strategy<Value = Value> {
    text().prop_map(Value::String).prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(text().prop_map(Value::String), 1..3).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 1..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn request() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), value()), 0..5).prop_map(|kv| kv.into_iter().collect())
}

/// The bracket-key pairs of a map, written independently of the parser's own `to_pairs`.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => out.push((prefix.to_string(), s.clone())),
        Value::Array(items) => items.iter().for_each(|v| flatten(&format!("{prefix}[]"), v, out)),
        Value::Object(obj) => obj.iter().for_each(|(k, v)| flatten(&format!("{prefix}[{k}]"), v, out)),
        other => panic!("not generated: {other}"),
    }
}

fn pairs_of(map: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (k, v) in map {
        flatten(k, v, &mut out);
    }
    out
}

/// `%XX` for every byte but ASCII letters and digits (a different encoder from the crate's).
fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { char::from(b).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn urlencoded(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(k, v)| format!("{}={}", percent(k), percent(v))).collect::<Vec<_>>().join("&")
}

fn multipart(pairs: &[(String, String)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in pairs {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn depth_of(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(obj) => 1 + obj.values().map(depth_of).max().unwrap_or(0),
        _ => 0,
    }
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary bytes in every encoding: no panic, only 400s, limits respected, round trips.
    #[test]
    fn arbitrary_input_never_panics_and_accepted_parameters_respect_the_limits(data in token_soup()) {
        checks::query(&data);
        checks::urlencoded(&data);
        checks::multipart(&[b"b\n".as_slice(), &data].concat());
        checks::json(&data);
        checks::trigger_variables(&data);
    }

    /// The same logical request as JSON, a urlencoded body, a query string and a multipart body
    /// gives identical parameters, and the urlencoded form round-trips through `to_urlencoded`.
    #[test]
    fn every_encoding_of_the_same_request_gives_the_same_parameters(map in request()) {
        let limits = ParamLimits::default();
        let json = Value::Object(map.clone()).to_string();
        let from_json = parse_request_params(b"", "application/json", json.as_bytes(), &limits).unwrap();
        prop_assert_eq!(from_json.as_map(), &map);
        let pairs = pairs_of(&map);
        let form = urlencoded(&pairs);
        let from_form = parse_request_params(b"", "application/x-www-form-urlencoded", form.as_bytes(), &limits);
        prop_assert_eq!(from_form.as_ref().ok(), Some(&from_json));
        let from_query = parse_request_params(form.as_bytes(), "", b"", &limits);
        prop_assert_eq!(from_query.as_ref().ok(), Some(&from_json));
        let ct = format!("multipart/form-data; boundary={BOUNDARY}");
        let from_multipart = parse_request_params(b"", &ct, &multipart(&pairs), &limits);
        prop_assert_eq!(from_multipart.as_ref().ok(), Some(&from_json));
        let again = parse_request_params(from_json.to_urlencoded().as_bytes(), "", b"", &limits);
        prop_assert_eq!(again.as_ref().ok(), Some(&from_json));
        prop_assert_eq!(from_json.depth(), map.values().map(depth_of).max().unwrap_or(0));
    }

    /// The limits are exact: a request is accepted if and only if its deepest key and its pair
    /// count are within them, whichever encoding carries it.
    #[test]
    fn a_request_is_accepted_exactly_when_it_is_within_the_depth_and_pair_limits(
        max_depth in 0usize..6,
        max_params in 1usize..8,
        depth in 0usize..9,
        extra in 0usize..10,
        named in any::<bool>(),
        encoding in 0usize..4,
    ) {
        let limits = ParamLimits { max_depth, max_params };
        let segment = if named { "[k]" } else { "[]" };
        let mut pairs = vec![(format!("deep{}", segment.repeat(depth)), "v".to_string())];
        pairs.extend((0..extra).map(|i| (format!("p{i}"), i.to_string())));
        let result = match encoding {
            0 => parse_request_params(urlencoded(&pairs).as_bytes(), "", b"", &limits),
            1 => parse_request_params(b"", "application/x-www-form-urlencoded", urlencoded(&pairs).as_bytes(), &limits),
            2 => parse_request_params(
                b"",
                &format!("multipart/form-data; boundary={BOUNDARY}"),
                &multipart(&pairs),
                &limits,
            ),
            _ => {
                // JSON: the same nesting; JSON members do not count against the pair limit.
                let mut value = Value::String("v".into());
                for _ in 0..depth {
                    value = if named { serde_json::json!({ "k": value }) } else { Value::Array(vec![value]) };
                }
                let mut map: Map<String, Value> = Map::new();
                map.insert("deep".into(), value);
                let json = Value::Object(map).to_string();
                let result = parse_request_params(b"", "application/json", json.as_bytes(), &limits);
                prop_assert_eq!(result.is_ok(), depth <= max_depth, "{:?}", result);
                return Ok(());
            }
        };
        let within = depth <= max_depth && pairs.len() <= max_params;
        prop_assert_eq!(result.is_ok(), within, "{:?}", result);
        if let Ok(params) = result {
            prop_assert_eq!(params.depth(), depth);
        }
    }
}

#[test]
fn the_differential_oracle_notices_a_difference() {
    // Guard against a vacuous oracle: different requests give different parameters.
    let limits = ParamLimits::default();
    let a = parse_request_params(b"a[b]=1", "", b"", &limits).unwrap();
    let b = parse_request_params(b"a[c]=1", "", b"", &limits).unwrap();
    assert_ne!(a, b);
    assert_ne!(a, Params::default());
}
