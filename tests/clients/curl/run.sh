#!/usr/bin/env bash
# Runs only the curl suite (the docs' curl command lines); see ../python/run.sh, which sets up the
# virtualenv for pytest and runs both suites by default.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$here/../python/run.sh" curl "$@"
