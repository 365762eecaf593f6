#!/usr/bin/env bash
# Runs the real-runner suite: gitlab-python-runner 14.3.20 from PyPI (shell executor, no docker)
# registers against the release binary and runs triggered pipelines end to end.
# Idempotent: creates or reuses the virtualenv tests/clients/runner/.venv.
#   TRIGGERD_BIN=/path/to/triggerd   the binary to test (default: target/release/triggerd, built
#                                    with `cargo build --release` when missing)
#   PYTHON=python3                    the interpreter for the venv
# Extra arguments go to pytest (e.g. `-k manual`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../venv.sh"
ensure_binary
ensure_venv "$here/.venv" "$here/requirements.txt"
# The tests start the runner as `$RUNNER_PYTHON -m GitlabPyRunner`.
export RUNNER_PYTHON="$here/.venv/bin/python"

cd "$clients_dir"
exec "$here/.venv/bin/python" -m pytest runner "$@"
