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
clients="$(dirname "$here")"
repo="$(cd "$clients/../.." && pwd)"
venv="$here/.venv"

if [[ -z "${TRIGGERD_BIN:-}" ]]; then
    if [[ ! -x "$repo/target/release/triggerd" ]]; then
        (cd "$repo" && cargo build --release)
    fi
    export TRIGGERD_BIN="$repo/target/release/triggerd"
fi

if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi
# The runner is started by the tests as `$RUNNER_PYTHON -m GitlabPyRunner`.
export RUNNER_PYTHON="$venv/bin/python"

cd "$clients"
exec "$venv/bin/python" -m pytest runner "$@"
