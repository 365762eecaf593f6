//! Arbitrary input never panics the loader, the compiler or the expression language.

use proptest::prelude::*;

use super::vars;
use crate::ci::duration::parse_duration;
use crate::ci::rules::Expression;
use crate::ci::{Limits, compile, plan};

fn small_limits() -> Limits {
    Limits { max_bytes: 4096, max_depth: 20, max_nodes: 2000, max_expanded_bytes: 20_000, max_jobs: 20 }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_the_compiler(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = compile(&text, &small_limits());
    }

    #[test]
    fn yaml_shaped_text_never_panics_the_compiler_or_the_planner(
        text in "([a-z.]{1,4}:( |\n  )([a-z$\"' =|&!~/()\\[\\]{},*&:-]{0,12})\n){0,8}"
    ) {
        if let Ok(config) = compile(&text, &small_limits()) {
            let _ = plan(&config, &vars(&[("CI_PIPELINE_SOURCE", "trigger")]));
        }
    }

    #[test]
    fn arbitrary_expressions_never_panic_parse_or_evaluate(text in "\\PC{0,64}") {
        if let Ok(expr) = Expression::parse(&text) {
            let _ = expr.evaluate(&vars(&[("A", "x"), ("B", ""), ("P", "/x/")]));
        }
    }

    #[test]
    fn expression_shaped_text_never_panics_parse_or_evaluate(
        text in "([$]?[AB]|\"[a-z]*\"|'[a-z]*'|/[a-z.*]{0,3}/i?|null|==|!=|=~|!~|&&|\\|\\||[()]| ){0,24}"
    ) {
        if let Ok(expr) = Expression::parse(&text) {
            let _ = expr.evaluate(&vars(&[("A", "x"), ("B", "")]));
        }
    }

    #[test]
    fn arbitrary_durations_never_panic(text in "\\PC{0,32}") {
        let _ = parse_duration(&text);
    }
}

#[test]
fn durations_read_like_gitlabs() {
    let table: &[(&str, Option<u64>)] = &[
        ("1h 30m", Some(5400)),
        ("1h30m", Some(5400)),
        ("10 minutes", Some(600)),
        ("3600", Some(3600)),
        ("1 hour and 30 minutes", Some(5400)),
        ("2 days", Some(172_800)),
        ("1.5h", Some(5400)),
        ("45s", Some(45)),
        ("1 week", Some(604_800)),
        ("", None),
        ("soon", None),
        ("1 fortnight", None),
        ("-5m", None),
    ];
    for (text, expected) in table {
        assert_eq!(parse_duration(text), *expected, "{text:?}");
    }
}
