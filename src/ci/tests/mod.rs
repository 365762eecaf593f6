//! Tests of the CI compiler: tables per module, golden documents, property tests.

mod config_tests;
mod golden;
mod plan_tests;
mod properties;
mod rules_tests;
mod status_tests;
mod yaml_tests;

use super::Variables;

#[test]
fn variables_expand_as_gitlabs_expand_variables() {
    let v = vars(&[("GROUP", "ops"), ("REF", "main"), ("LOOP", "$GROUP")]);
    assert_eq!(v.expand("$GROUP/deployer"), "ops/deployer");
    assert_eq!(v.expand("${GROUP}/x-%REF%"), "ops/x-main");
    assert_eq!(v.expand("$MISSING/x"), "/x");
    assert_eq!(v.expand("$LOOP"), "$GROUP", "one pass");
    assert_eq!(v.expand("100% $ {GROUP} ${ $"), "100% $ {GROUP} ${ $");
    assert_eq!(v.expand("päth/ünïcode$REF"), "päth/ünïcodemain");
}

/// Variables from `KEY=value` pairs.
fn vars(pairs: &[(&str, &str)]) -> Variables {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}
