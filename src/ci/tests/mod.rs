//! Tests of the CI compiler: tables per module, golden documents, property tests.

mod config_tests;
mod golden;
mod plan_tests;
mod properties;
mod rules_tests;
mod status_tests;
mod yaml_tests;

use super::Variables;

/// Variables from `KEY=value` pairs.
fn vars(pairs: &[(&str, &str)]) -> Variables {
    pairs.iter().map(|(k, v)| (*k, *v)).collect()
}
