#!/usr/bin/env bash
# Runs the real-client suites (python-gitlab in tests/clients/python, curl in tests/clients/curl)
# against the release binary. Idempotent: creates or reuses the virtualenv
# tests/clients/python/.venv and installs the pinned requirements into it.
#   TRIGGERD_BIN=/path/to/triggerd   the binary to test (default: target/release/triggerd, built
#                                    with `cargo build --release` when missing)
#   PYTHON=python3                    the interpreter for the venv
# Extra arguments go to pytest (e.g. `-k trigger`, or a path such as ../curl).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../venv.sh"
ensure_binary
ensure_venv "$here/.venv" "$here/requirements.txt"

# From tests/clients, pytest.ini's testpaths (python curl) apply when no path is given.
cd "$clients_dir"
exec "$here/.venv/bin/python" -m pytest "$@"
