#!/usr/bin/env bash
# Runs the @gitbeaker/rest compatibility suite against the triggerd release binary.
# Needs node >= 20 and npm. Binary: $TRIGGERD_BIN, else target/release/triggerd (built if missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"

if [ -z "${TRIGGERD_BIN:-}" ] && [ ! -x "$repo/target/release/triggerd" ]; then
  (cd "$repo" && cargo build --release)
fi

cd "$here"
# Install exactly what package-lock.json pins; skip when node_modules is already from this lock.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
node --test
