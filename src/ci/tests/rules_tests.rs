use super::vars;
use crate::ci::rules::{Expression, MAX_PARENS};

fn holds(expr: &str, pairs: &[(&str, &str)]) -> bool {
    Expression::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).evaluate(&vars(pairs))
}

#[test]
fn expressions_evaluate_like_gitlab() {
    let source = [("CI_PIPELINE_SOURCE", "trigger"), ("EMPTY", ""), ("REF", "release/1.2"), ("NAME", "Main")];
    let table: &[(&str, bool)] = &[
        ("$CI_PIPELINE_SOURCE == \"trigger\"", true),
        ("$CI_PIPELINE_SOURCE == 'trigger'", true),
        ("$CI_PIPELINE_SOURCE != \"push\"", true),
        ("$CI_PIPELINE_SOURCE == \"push\"", false),
        ("\"trigger\" == $CI_PIPELINE_SOURCE", true),
        ("$CI_PIPELINE_SOURCE", true),
        ("$EMPTY", false),
        ("$UNDEFINED", false),
        ("$UNDEFINED == null", true),
        ("$EMPTY == null", false),
        ("$EMPTY == \"\"", true),
        ("$UNDEFINED == \"\"", false),
        ("$UNDEFINED != null", false),
        ("null == null", true),
        ("$REF =~ /^release\\/\\d+\\.\\d+$/", true),
        ("$REF =~ /^main$/", false),
        ("$REF !~ /^main$/", true),
        ("$NAME =~ /^main$/i", true),
        ("$NAME =~ /^main$/", false),
        ("$UNDEFINED =~ /^$/", true),
        ("$CI_PIPELINE_SOURCE == \"push\" || $REF =~ /release/", true),
        ("$CI_PIPELINE_SOURCE == \"push\" && $REF =~ /release/", false),
        ("$CI_PIPELINE_SOURCE == \"trigger\" && $REF =~ /release/", true),
        // && binds tighter than ||.
        ("$CI_PIPELINE_SOURCE == \"trigger\" || $UNDEFINED && $EMPTY", true),
        ("($CI_PIPELINE_SOURCE == \"trigger\" || $UNDEFINED) && $EMPTY", false),
        ("(($NAME))", true),
        // Ruby semantics: "" is truthy for ||, but the statement's value "" is not present.
        ("$EMPTY || $UNDEFINED", false),
        ("$UNDEFINED || $NAME", true),
        ("$NAME && $EMPTY", false),
        ("$NAME && $REF", true),
    ];
    for (expr, expected) in table {
        assert_eq!(holds(expr, &source), *expected, "{expr}");
    }
}

#[test]
fn a_variable_holding_a_pattern_can_be_matched_against() {
    let source = [("REF", "release/1.2"), ("PATTERN", "/^release/"), ("NOT_A_PATTERN", "release")];
    assert!(holds("$REF =~ $PATTERN", &source));
    assert!(!holds("$REF =~ $NOT_A_PATTERN", &source));
    assert!(holds("$REF !~ $NOT_A_PATTERN", &source));
    assert!(!holds("$REF =~ $UNDEFINED", &source));
    assert!(holds("$REF =~ \"/^release/\"", &source));
    assert!(!holds("$REF =~ \"release\"", &source));
}

#[test]
fn malformed_expressions_are_rejected_at_parse_time() {
    let table = [
        "",
        "$",
        "${VAR}",
        "$A ==",
        "== $A",
        "$A == \"unterminated",
        "$A && || $B",
        "($A",
        "$A)",
        "$A $B",
        "$A =~ /(unclosed/",
        "$A =~ //",
        "$A = \"x\"",
        "nil",
        "$A == nullx",
        "é",
        "$A =~ /x",
    ];
    for expr in table {
        assert!(Expression::parse(expr).is_err(), "{expr:?} should not parse");
    }
}

#[test]
fn parentheses_nested_beyond_the_limit_are_an_error_not_a_stack_overflow() {
    let ok = format!("{}$A{}", "(".repeat(MAX_PARENS), ")".repeat(MAX_PARENS));
    assert!(Expression::parse(&ok).is_ok());
    let deep = format!("{}$A{}", "(".repeat(MAX_PARENS + 1), ")".repeat(MAX_PARENS + 1));
    assert!(Expression::parse(&deep).unwrap_err().contains("nested deeper"));
    let huge = "(".repeat(100_000);
    assert!(Expression::parse(&huge).is_err());
}

#[test]
fn long_chains_of_operators_parse_and_evaluate_without_deep_recursion() {
    let chain = vec!["$A == \"x\""; 5000].join(" && ");
    assert!(holds(&chain, &[("A", "x")]));
    let chain = vec!["$A"; 5000].join(" || ");
    assert!(!holds(&chain, &[]));
}

#[test]
fn a_regex_too_large_to_compile_is_an_error() {
    let expr = format!("$A =~ /{}/", "(a{1000}){1000}");
    assert!(Expression::parse(&expr).is_err());
}
