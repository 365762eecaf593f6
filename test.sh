#!/usr/bin/env bash
# The whole test suite: formatting, lints, the Rust unit and integration tests, then the
# real-client suites (python-gitlab, curl, a real GitLab runner, gitbeaker, go-gitlab), the web
# UI's browser tests (chromium), schemathesis and a bounded fuzzing run against the release binary. It passes on a bare machine
# of the project's kind: tests/install-tools.sh installs whatever a suite needs and is missing (Debian packages,
# rustfmt, clippy). A suite whose toolchain cannot be installed is an error, not a skip.
set -euo pipefail
cd "$(dirname "$0")"

echo "== tools";                         tests/install-tools.sh

echo "== cargo fmt --check";             cargo fmt --check
echo "== cargo clippy";                  cargo clippy --all-targets -- -D warnings
echo "== cargo test";                    cargo test --all-targets

echo "== release build for the client suites"
cargo build --release
export TRIGGERD_BIN="$PWD/target/release/triggerd"

echo "== python-gitlab and curl suites"; tests/clients/python/run.sh -q
echo "== a real runner (gitlab-python-runner) runs triggered pipelines"; tests/clients/runner/run.sh -q
echo "== gitbeaker suite";               tests/clients/node/run.sh
echo "== go-gitlab suite";               tests/clients/go/run.sh
echo "== web UI in chromium (playwright-core, axe-core)"; tests/ui/run.sh
echo "== schemathesis against the OpenAPI document"; tests/schemathesis/run.sh
echo "== bounded fuzzing of the parameter parser";   fuzz/run.sh "${FUZZ_SECONDS:-20}"

