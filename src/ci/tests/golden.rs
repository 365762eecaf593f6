//! Golden documents (Gitea's `jobparser/testdata` style): every `tests/ci_configs/<case>.gitlab-ci.yml`
//! is compiled and planned, with the variables of `<case>.vars` (`KEY=value` lines; default
//! `CI_PIPELINE_SOURCE=trigger`), and compared with `<case>.plan.json`, or with `<case>.errors.txt`
//! (one error per line) when there is no pipeline. `UPDATE_GOLDEN=1` rewrites the expected files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::ci::{Limits, Variables, compile, plan};

fn folder() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ci_configs")
}

fn outcome(text: &str, vars: &Variables) -> (&'static str, String) {
    let config = match compile(text, &Limits::default()) {
        Ok(c) => c,
        Err(e) => return ("errors.txt", e.0.join("\n") + "\n"),
    };
    match plan(&config, vars) {
        Ok(p) => ("plan.json", serde_json::to_string_pretty(&p).unwrap() + "\n"),
        Err(e) => ("errors.txt", format!("{e}\n")),
    }
}

#[test]
fn every_golden_document_compiles_to_its_expected_plan_or_errors() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut cases: Vec<PathBuf> = fs::read_dir(folder())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".gitlab-ci.yml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 8, "the golden folder lost its cases");
    let mut failures = Vec::new();
    for case in cases {
        let base = case.to_string_lossy().trim_end_matches(".gitlab-ci.yml").to_string();
        let text = fs::read_to_string(&case).unwrap();
        let vars: Variables = match fs::read_to_string(format!("{base}.vars")) {
            Ok(lines) => lines.lines().filter_map(|l| l.split_once('=')).collect(),
            Err(_) => [("CI_PIPELINE_SOURCE", "trigger")].into_iter().collect(),
        };
        let (ext, actual) = outcome(&text, &vars);
        let expected_path = format!("{base}.{ext}");
        if update {
            for stale in ["plan.json", "errors.txt"] {
                let _ = fs::remove_file(format!("{base}.{stale}"));
            }
            fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => {
                failures.push(format!("{expected_path}:\n--- expected\n{expected}--- actual\n{actual}"))
            }
            Err(_) => failures.push(format!("{expected_path} is missing; actual:\n{actual}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
