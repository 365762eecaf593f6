//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the same checks
//! the cargo-fuzz targets run (`fuzz/src/checks.rs`, included here by path), so CI keeps the
//! corpus green without installing cargo-fuzz.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// A fuzz target's name and its checks.
type Target = (&'static str, fn(&[u8]));

const TARGETS: [Target; 5] = [
    ("query", checks::query),
    ("urlencoded", checks::urlencoded),
    ("multipart", checks::multipart),
    ("json", checks::json),
    ("trigger_variables", checks::trigger_variables),
];

#[test]
fn every_committed_fuzz_corpus_file_passes_its_targets_checks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, check) in TARGETS {
        let dir = root.join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no corpus for {target}");
        for file in files {
            let data = std::fs::read(&file).unwrap();
            let replay = std::panic::catch_unwind(|| check(&data));
            assert!(replay.is_ok(), "{target}: {} fails its checks", file.display());
        }
    }
}

#[test]
fn the_checks_catch_the_issues_attack_in_every_target() {
    // The attack itself must be refused, not accepted, so its replay is meaningful.
    let deep = format!("a{}=1", "[]".repeat(8000));
    for (_, check) in TARGETS {
        check(deep.as_bytes());
    }
    let limits = triggerd::api::params::ParamLimits::default();
    let form = "application/x-www-form-urlencoded";
    assert!(triggerd::api::params::parse_request_params(b"", form, deep.as_bytes(), &limits).is_err());
}
