#!/usr/bin/env bash
# Runs the browser tests of the web UI against the triggerd release binary: playwright-core
# (pinned in package-lock.json; it never downloads a browser) drives Debian's chromium headless
# (tests/install-tools.sh installs it), axe-core checks accessibility, `node --test` runs them.
# Binary: $TRIGGERD_BIN, else target/release/triggerd (built if missing). Browser: $CHROMIUM_BIN,
# else /usr/bin/chromium. With --screenshots it takes the README's screenshots instead
# (screenshots.mjs writes docs/screenshots/*.png).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ -z "${TRIGGERD_BIN:-}" ] && [ ! -x "$repo/target/release/triggerd" ]; then
  (cd "$repo" && cargo build --release)
fi
if [ ! -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
  echo "chromium is missing: run tests/install-tools.sh" >&2
  exit 1
fi

cd "$here"
# Install exactly what package-lock.json pins; skip when node_modules is already from this lock.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
fi
if [ "${1:-}" = "--screenshots" ]; then
  node screenshots.mjs
else
  node --test
fi
