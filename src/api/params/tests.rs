//! Unit tests of the parameter parser and the typed accessors.

use super::*;
use actix_web::http::StatusCode;
use serde_json::json;

const LIMITS: ParamLimits = ParamLimits { max_depth: 100, max_params: 1000 };

fn from_pairs(pairs: &[(&str, &str)]) -> Params {
    Params::try_from_pairs(pairs.iter().copied(), &LIMITS).unwrap()
}

fn parse_json(body: &[u8]) -> ApiResult<Params> {
    super::parse::parse_json(body, &LIMITS)
}

fn error_text(result: ApiResult<Params>) -> String {
    match result {
        Err(ApiError::Param(m)) => m,
        other => panic!("expected a parameter error, got {other:?}"),
    }
}

#[test]
fn array_of_hashes_keys_fill_the_last_hash_as_rack_does() {
    let p = from_pairs(&[
        ("variables[][key]", "A"),
        ("variables[][value]", "1"),
        ("variables[][key]", "B"),
        ("variables[][value]", "2"),
        ("variables[][variable_type]", "file"),
    ]);
    assert_eq!(
        p.get("variables"),
        Some(&json!([{"key": "A", "value": "1"}, {"key": "B", "value": "2", "variable_type": "file"}]))
    );
    let p = from_pairs(&[("a[]", "x"), ("a[]", "y")]);
    assert_eq!(p.get("a"), Some(&json!(["x", "y"])));
}

#[test]
fn bracket_keys_nest_into_objects_and_arrays() {
    let p = from_pairs(&[
        ("ref", "main"),
        ("variables[A]", "1"),
        ("variables[B]", "two"),
        ("variables[C][]", "x"),
        ("variables[C][]", "y"),
        ("list[]", "a"),
    ]);
    assert_eq!(
        Value::Object(p.map),
        json!({"ref": "main", "variables": {"A": "1", "B": "two", "C": ["x", "y"]}, "list": ["a"]})
    );
}

#[test]
fn a_repeated_plain_key_is_the_last_value_but_a_list_of_all_of_them() {
    let p = from_pairs(&[("tag_list", "a"), ("x", "1"), ("tag_list", "b,c"), ("tag_list", "d")]);
    assert_eq!(p.string("tag_list").unwrap().as_deref(), Some("d"));
    assert_eq!(p.string_list("tag_list").unwrap().unwrap(), vec!["a", "b,c", "d"]);
    assert_eq!(p.string_list("x").unwrap().unwrap(), vec!["1"]);
    // A body key replaces the query's values, repeated or not.
    let form = "application/x-www-form-urlencoded";
    let p = parse_request_params(b"t=q1&t=q2&u=q1&u=q2", form, b"t=b1&v=b1&v=b2", &LIMITS).unwrap();
    assert_eq!(p.string_list("t").unwrap().unwrap(), vec!["b1"]);
    assert_eq!(p.string_list("u").unwrap().unwrap(), vec!["q1", "q2"]);
    assert_eq!(p.string_list("v").unwrap().unwrap(), vec!["b1", "b2"]);
}

#[test]
fn urlencoded_data_is_decoded_strictly() {
    let pairs = decode_urlencoded(b"variables%5BK%5D=a+b%21&ref=main&flag").unwrap();
    assert_eq!(
        pairs,
        vec![
            ("variables[K]".to_string(), "a b!".to_string()),
            ("ref".to_string(), "main".to_string()),
            ("flag".to_string(), String::new())
        ]
    );
    assert!(decode_urlencoded(b"a=%zz").is_err());
    assert!(decode_urlencoded(b"a=%4").is_err());
    assert!(decode_urlencoded(b"a=%ff%fe").is_err());
}

#[test]
fn json_null_counts_as_absent() {
    let p = parse_json(br#"{"token": null, "ref": "main"}"#).unwrap();
    assert!(p.get("token").is_none());
    assert!(matches!(p.required_string("token"), Err(ApiError::Param(m)) if m == "token is missing"));
}

#[test]
fn malformed_json_is_a_parameter_error() {
    assert!(matches!(parse_json(b"{nope"), Err(ApiError::Param(_))));
    assert!(matches!(parse_json(b"[1,2]"), Err(ApiError::Param(_))));
}

#[test]
fn typed_accessors_follow_grape_coercion() {
    let p = parse_json(br#"{"n": "12", "b": "true", "o": {"x": 1}, "f": 1.5}"#).unwrap();
    assert_eq!(p.int("n").unwrap(), Some(12));
    assert_eq!(p.bool("b").unwrap(), Some(true));
    assert!(p.string("o").is_err());
    assert!(p.int("f").is_err());
}

#[test]
fn a_key_nested_exactly_to_the_limit_is_accepted_and_one_level_more_is_refused() {
    let at_limit = format!("a{}=1", "[]".repeat(100));
    let p = parse_request_params(at_limit.as_bytes(), "", b"", &LIMITS).unwrap();
    assert_eq!(p.depth(), 100);
    let over = format!("a{}=1", "[]".repeat(101));
    assert_eq!(
        error_text(parse_request_params(over.as_bytes(), "", b"", &LIMITS)),
        "the parameters are nested too deeply (more than 100 levels)"
    );
    let named = format!("a{}=1", "[k]".repeat(101));
    assert!(parse_request_params(named.as_bytes(), "", b"", &LIMITS).is_err());
}

#[test]
fn eight_thousand_bracket_levels_get_a_parameter_error_in_every_encoding() {
    let key = format!("a{}", "[]".repeat(8000));
    let expected = "the parameters are nested too deeply (more than 100 levels)";
    let form = format!("{key}=1");
    assert_eq!(error_text(parse_request_params(form.as_bytes(), "", b"", &LIMITS)), expected);
    let ct = "application/x-www-form-urlencoded";
    assert_eq!(error_text(parse_request_params(b"", ct, form.as_bytes(), &LIMITS)), expected);
    let multipart = format!("--b\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n1\r\n--b--\r\n");
    let ct = "multipart/form-data; boundary=b";
    assert_eq!(error_text(parse_request_params(b"", ct, multipart.as_bytes(), &LIMITS)), expected);
}

#[test]
fn json_nested_beyond_the_limit_is_refused_before_serde_json_recurses() {
    let expected = "the parameters are nested too deeply (more than 100 levels)";
    for depth in [102, 129, 100_000] {
        let body = format!("{{\"a\":{}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
        let result = parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS);
        assert_eq!(error_text(result), expected, "depth {depth}");
    }
    // 100 levels below the top-level object are fine; brackets inside strings do not count.
    let body = format!("{{\"a\":{}\"[[[{{{{\"{}}}", "[".repeat(100), "]".repeat(100));
    let p = parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS).unwrap();
    assert_eq!(p.depth(), 100);
    // Unclosed deep nesting is also refused as too deep, not handed to serde_json.
    let body = "[".repeat(100_000);
    assert_eq!(error_text(parse_request_params(b"", "application/json", body.as_bytes(), &LIMITS)), expected);
}

#[test]
fn parameters_at_the_depth_limit_are_parsed_cloned_serialised_and_dropped_on_a_small_stack() {
    // A worker thread has 2 MiB; everything a handler does with accepted parameters must
    // fit in far less, in a debug build.
    let run = std::thread::Builder::new().stack_size(256 * 1024).spawn(|| {
        let form = format!("a{}=1", "[k]".repeat(100));
        let json = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        for (ct, body) in [("application/x-www-form-urlencoded", form), ("application/json", json)] {
            let p = parse_request_params(b"", ct, body.as_bytes(), &LIMITS).unwrap();
            assert_eq!(p.depth(), 100);
            let copy = p.clone();
            let text = Value::Object(copy.map.clone()).to_string();
            assert!(text.len() > 200);
            assert_eq!(p.to_pairs().len(), 1);
            drop((p, copy));
        }
    });
    run.unwrap().join().unwrap();
}

#[test]
fn more_pairs_than_the_limit_are_refused_across_query_and_body() {
    let limits = ParamLimits { max_depth: 100, max_params: 3 };
    let ct = "application/x-www-form-urlencoded";
    assert!(parse_request_params(b"a=1&b=2", ct, b"c=3", &limits).is_ok());
    assert_eq!(
        error_text(parse_request_params(b"a=1&b=2", ct, b"c=3&d=4", &limits)),
        "too many parameters (more than 3)"
    );
    assert!(parse_request_params(b"a=1&b=2&c=3&d=4", "", b"", &limits).is_err());
    let multipart = "--b\r\nContent-Disposition: form-data; name=\"c\"\r\n\r\n3\r\n\
                     --b\r\nContent-Disposition: form-data; name=\"d\"\r\n\r\n4\r\n--b--\r\n";
    let ct = "multipart/form-data; boundary=b";
    assert!(parse_request_params(b"a=1", ct, multipart.as_bytes(), &limits).is_ok());
    assert!(parse_request_params(b"a=1&b=2", ct, multipart.as_bytes(), &limits).is_err());
    // JSON members do not count against the pair limit.
    let json = br#"{"c":"3","d":"4","e":"5","f":"6"}"#;
    assert!(parse_request_params(b"a=1", "application/json", json, &limits).is_ok());
}

#[test]
fn body_keys_replace_query_keys_whole() {
    let ct = "application/x-www-form-urlencoded";
    let p = parse_request_params(b"v[a]=1&ref=q", ct, b"v[b]=2", &LIMITS).unwrap();
    assert_eq!(Value::Object(p.map), json!({"v": {"b": "2"}, "ref": "q"}));
}

#[test]
fn a_blank_body_means_no_body_parameters_whatever_the_content_type() {
    let p = parse_request_params(b"a=1", "text/plain", b" \r\n", &LIMITS).unwrap();
    assert_eq!(Value::Object(p.map), json!({"a": "1"}));
    assert!(matches!(
        parse_request_params(b"", "text/plain", b"a=1", &LIMITS),
        Err(ApiError::Message(StatusCode::UNSUPPORTED_MEDIA_TYPE, _))
    ));
}

#[test]
fn to_urlencoded_gives_back_the_same_parameters() {
    let raw =
        b"ref=main&variables%5BA%5D=x+y&variables%5BB%5D%5B%5D=1&variables%5BB%5D%5B%5D=%26&l%5B%5D%5B%5D=z";
    let p = parse_request_params(raw, "", b"", &LIMITS).unwrap();
    let again = parse_request_params(p.to_urlencoded().as_bytes(), "", b"", &LIMITS).unwrap();
    assert_eq!(again, p);
    assert_eq!(p.to_pairs()[2], ("variables[B][]".to_string(), "1".to_string()));
}

#[test]
fn a_multipart_body_is_parsed_synchronously() {
    let body = "--xyz\r\nContent-Disposition: form-data; name=\"variables[K]\"\r\n\r\nv\r\n\
                --xyz\r\nContent-Disposition: form-data; name=\"ref\"\r\n\r\nmain\r\n--xyz--\r\n";
    let p = parse_request_params(b"", "multipart/form-data; boundary=xyz", body.as_bytes(), &LIMITS).unwrap();
    assert_eq!(Value::Object(p.map), json!({"variables": {"K": "v"}, "ref": "main"}));
}
