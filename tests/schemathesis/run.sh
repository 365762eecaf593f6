#!/usr/bin/env bash
# API fuzzing with schemathesis against the release binary and the OpenAPI document it serves.
#
# Validates openapi/openapi.json (openapi-spec-validator), starts triggerd on 127.0.0.1 with a
# fresh database and a bootstrap root token, seeds it over HTTP (seed.py), checks that
# GET /api/v4/openapi.json serves the file byte for byte, then runs `st run` four times:
#   admin      every operation as root, except the ones that revoke or remove credentials
#   outsider   the same as a user who is a member of nothing
#   destructive  token revocation, block, delete user: as the outsider, then as root (last,
#              because it may revoke root's own token)
# Checks: not_a_server_error, status_code_conformance, content_type_conformance,
# response_schema_conformance, response_headers_conformance, negative_data_rejection,
# unsupported_method, allow_header_conformance, use_after_free, ensure_resource_availability,
# with the per-operation exceptions in schemathesis.toml (ST_CHECKS=a,b replaces the list and
# the exceptions). Exits non-zero on any failure or error, after one summary line.
#
#   --long                 a campaign: ST_MAX_EXAMPLES defaults to 1000 instead of 30
#   TRIGGERD_BIN=path      the binary (default target/release/triggerd, built when missing)
#   ST_MAX_EXAMPLES=N      cases per operation and phase;  ST_SEED=N  (default 1)
#   ST_MAX_TIME=S          time budget of the admin and the outsider run each (fuzzing repeats
#                          until it is spent)
#   PYTHON=python3         the interpreter for the venv tests/schemathesis/.venv
# Reports (JUnit and the console output of each run) go to tests/schemathesis/reports/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="$here/.venv"

max_examples="${ST_MAX_EXAMPLES:-30}"
if [[ "${1:-}" == "--long" ]]; then
    max_examples="${ST_MAX_EXAMPLES:-1000}"
    shift
fi
seed="${ST_SEED:-1}"

if [[ -z "${TRIGGERD_BIN:-}" ]]; then
    if [[ ! -x "$repo/target/release/triggerd" ]]; then
        (cd "$repo" && cargo build --release)
    fi
    TRIGGERD_BIN="$repo/target/release/triggerd"
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

document="$repo/openapi/openapi.json"
"$venv/bin/openapi-spec-validator" "$document"

work="$(mktemp -d "${TMPDIR:-/tmp}/triggerd-schemathesis.XXXXXX")"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# The fuzzer refuses many trigger tokens from one address: the failed-attempt throttle is off
# (TRIGGERD_TRIGGERS__MAX_FAILED_ATTEMPTS=0) so its 429 does not hide the trigger call's handler.
root_token="glpat-schemathesis-root-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$root_token" \
TRIGGERD_DATABASE__PATH="$work/triggerd.db" \
TRIGGERD_SERVER__LISTEN=127.0.0.1:0 \
TRIGGERD_SERVER__WORKERS=2 \
TRIGGERD_RUNNERS__LONG_POLL_TIMEOUT_SECS=5 \
TRIGGERD_TRIGGERS__MAX_FAILED_ATTEMPTS=0 \
TRIGGERD_LOG__LEVEL=warn,triggerd=info \
    "$TRIGGERD_BIN" > "$work/server.log" 2>&1 &
server_pid=$!

base=""
for _ in $(seq 1 100); do
    base="$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | head -1 | sed 's/listening on //' || true)"
    [[ -n "$base" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; echo "triggerd did not start" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$base" ]] || { cat "$work/server.log"; echo "no 'listening on' line in the log" >&2; exit 1; }
curl --silent --fail --retry 20 --retry-connrefused --retry-delay 0 "$base/-/readiness" > /dev/null

curl --silent --fail "$base/api/v4/openapi.json" -o "$work/served.json"
cmp "$document" "$work/served.json" || { echo "GET /api/v4/openapi.json is not openapi/openapi.json" >&2; exit 1; }

eval "$("$venv/bin/python" "$here/seed.py" "$base" "$root_token")"

reports="$here/reports"
mkdir -p "$reports"
printf '"%s"\n' "$TRIGGER_TOKEN" > "$reports/trigger-token.dict"
credential_ops=(--include-operation-id revokeOwnPersonalAccessToken --include-operation-id revokePersonalAccessToken
                --include-operation-id blockUser --include-operation-id deleteUser)
excluded=()
for ((i = 0; i < ${#credential_ops[@]}; i += 2)); do excluded+=(--exclude-operation-id "${credential_ops[i + 1]}"); done

total_cases=0
failed_runs=()
run() { # name token [st options...]
    local name="$1" token="$2"
    shift 2
    local out="$reports/$name.txt" status=0
    echo "== schemathesis: $name"
    (cd "$here" && "$venv/bin/st" --no-color --config-file "$here/schemathesis.toml" run "$base/api/v4/openapi.json" \
        --url "$base" -H "PRIVATE-TOKEN: $token" ${ST_CHECKS:+-c "$ST_CHECKS"} -n "$max_examples" --seed "$seed" -w 1 \
        --report junit --report-junit-path "$reports/$name.xml" "$@") > "$out" 2>&1 || status=$?
    sed -n '/^=* SUMMARY =*$/,$p' "$out"
    local cases
    cases="$(grep -Eo '^ *[0-9]+ generated' "$out" | grep -Eo '[0-9]+' || echo 0)"
    total_cases=$((total_cases + cases))
    if [[ "$status" != 0 ]]; then
        failed_runs+=("$name")
    fi
}

time_box=(${ST_MAX_TIME:+--max-time "$ST_MAX_TIME"})
run admin "$root_token" "${excluded[@]}" "${time_box[@]}"
run outsider "$OUTSIDER_TOKEN" "${excluded[@]}" "${time_box[@]}"
run destructive-outsider "$OUTSIDER_TOKEN" "${credential_ops[@]}"
run destructive-admin "$root_token" "${credential_ops[@]}"

if grep -q "panicked" "$work/server.log"; then
    grep -A3 "panicked" "$work/server.log" | head -40
    failed_runs+=("server-panicked")
fi
cp "$work/server.log" "$reports/server.log"

if [[ ${#failed_runs[@]} -eq 0 ]]; then
    echo "schemathesis: PASS: $total_cases cases in 4 runs (max-examples $max_examples, seed $seed), 0 failures"
else
    echo "schemathesis: FAIL: $total_cases cases in 4 runs (max-examples $max_examples, seed $seed); failed: ${failed_runs[*]} (see tests/schemathesis/reports/)"
    exit 1
fi
