# Sourced by the Python client suites' run.sh: the binary under test and a pinned virtualenv.
#   ensure_binary            exports TRIGGERD_BIN (default target/release/triggerd, built with
#                            `cargo build --release` when missing)
#   ensure_venv DIR REQS     creates or reuses the virtualenv DIR (with $PYTHON, default python3)
#                            and installs REQS into it when REQS changed since the last install
clients_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(cd "$clients_dir/../.." && pwd)"

ensure_binary() {
    if [[ -z "${TRIGGERD_BIN:-}" ]]; then
        if [[ ! -x "$repo_dir/target/release/triggerd" ]]; then
            (cd "$repo_dir" && cargo build --release)
        fi
        export TRIGGERD_BIN="$repo_dir/target/release/triggerd"
    fi
}

ensure_venv() {
    local venv="$1" requirements="$2"
    if [[ ! -x "$venv/bin/python" ]]; then
        "${PYTHON:-python3}" -m venv "$venv"
    fi
    local stamp="$venv/.requirements.sha256" want
    want="$(sha256sum "$requirements" | cut -d' ' -f1)"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
        echo "$want" > "$stamp"
    fi
}
