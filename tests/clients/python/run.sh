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
# Reinstall only when requirements.txt changed since the last successful install.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

# From tests/clients, pytest.ini's testpaths (python curl) apply when no path is given.
cd "$clients"
exec "$venv/bin/python" -m pytest "$@"
