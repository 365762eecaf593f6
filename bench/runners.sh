#!/usr/bin/env bash
# Benchmarks many runners long-polling at once and regenerates BENCHMARKS.md.
#
#   bench/runners.sh                    # 500 runners, 60 s idle window, 200 trigger calls (~3 min)
#   bench/runners.sh --runners 100 --triggers 50 --idle 30 --baseline 10 --no-build   # quicker
#
# Options: --runners N (500), --triggers N (200), --idle SECONDS (60: spans one long-poll expiry),
#          --baseline SECONDS (30: server CPU with no runner), --gap-ms MS (100: pause after each
#          job's PUT before the next trigger call), --long-poll SECONDS (server's
#          runners.long_poll_timeout_secs, default 50 = the shipped default), --log-level LEVEL
#          ("info", to a file), --no-build, --keep (keep the temp dir: database, server log, raw JSON),
#          --out FILE (default bench/results/runners.md; another path leaves BENCHMARKS.md alone),
#          --nofile N (start the server with this soft open-files limit, e.g. 256 to see what
#          happens when the runners' connections exhaust it; use with --out).
#
# Starts the release binary on a fresh database in a temp dir (loopback only), creates project
# `one` whose .gitlab-ci.yml has one untagged job and a trigger token, then runs bench/runners.py
# (Python standard library only; see its docstring for the phases) and writes
# bench/results/runners.md, then BENCHMARKS.md (bench/run.sh --report-only).
# Needs: cargo, curl, jq, python3 (3.8+).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
RUNNERS=500
TRIGGERS=200
IDLE=60
BASELINE=30
GAP_MS=100
LONG_POLL=50
LOG_LEVEL=info
BUILD=1
KEEP=0
NOFILE=""
OUT="$ROOT/bench/results/runners.md"
while [ $# -gt 0 ]; do
    case "$1" in
        --runners) RUNNERS=$2; shift 2 ;;
        --triggers) TRIGGERS=$2; shift 2 ;;
        --idle) IDLE=$2; shift 2 ;;
        --baseline) BASELINE=$2; shift 2 ;;
        --gap-ms) GAP_MS=$2; shift 2 ;;
        --long-poll) LONG_POLL=$2; shift 2 ;;
        --log-level) LOG_LEVEL=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --out) OUT=$2; shift 2 ;;
        --nofile) NOFILE=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

say() { printf '[runners] %s\n' "$*" >&2; }
for tool in curl jq python3; do
    command -v "$tool" >/dev/null || { echo "runners: $tool is missing" >&2; exit 1; }
done
if [ "$BUILD" = 1 ]; then
    say "building the release binary"
    (cd "$ROOT" && cargo build --release --quiet --bin triggerd)
fi
BIN="$ROOT/target/release/triggerd"
[ -x "$BIN" ] || { echo "runners: $BIN missing (run without --no-build)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/triggerd-runners.XXXXXX")
DB="$TMP/triggerd.db"
SERVER_LOG="$TMP/server.log"
ROOT_TOKEN="glpat-benchroot$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
    if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() {
    local p
    for p in $(shuf -i 20000-60000 -n 100); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "runners: no free port" >&2; exit 1
}
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# cwd = the temp dir, so no config.toml is picked up.
(cd "$TMP" && if [ -n "$NOFILE" ]; then ulimit -Sn "$NOFILE"; fi && exec env TRIGGERD_SERVER__LISTEN="127.0.0.1:$PORT" TRIGGERD_DATABASE__PATH="$DB" \
    TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$ROOT_TOKEN" TRIGGERD_LOG__LEVEL="$LOG_LEVEL" \
    TRIGGERD_RUNNERS__LONG_POLL_TIMEOUT_SECS="$LONG_POLL" "$BIN" serve >>"$SERVER_LOG" 2>&1) &
PID=$!
until curl -fs -o /dev/null "$BASE/-/liveness"; do
    kill -0 "$PID" 2>/dev/null || { echo "runners: the server died (log: $SERVER_LOG)" >&2; exit 1; }
    sleep 0.01
done

api() { curl -fsS -H "PRIVATE-TOKEN: $ROOT_TOKEN" "$@"; }
say "seeding (server pid $PID, $BASE, temp dir $TMP)"
ONE=$(api -X POST "$BASE/api/v4/projects" -d name=one -d initialize_with_readme=true | jq -r .id)
CI='stages: [test]
job:
  stage: test
  script:
    - "true"
'
api -X POST "$BASE/api/v4/projects/$ONE/repository/files/.gitlab-ci.yml" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg c "$CI" '{branch: "main", content: $c, commit_message: "one job"}')" >/dev/null
TRIGGER_TOKEN=$(api -X POST "$BASE/api/v4/projects/$ONE/triggers" -d description=bench | jq -r .token)

say "load tool: $RUNNERS runners, ${BASELINE} s baseline, ${IDLE} s idle window, $TRIGGERS trigger calls (load average now: $LOAD_BEFORE)"
RAW="$TMP/runners.json"
python3 "$BENCH/runners.py" --base "$BASE" --pid "$PID" --pat "$ROOT_TOKEN" --project "$ONE" \
    --trigger-token "$TRIGGER_TOKEN" --runners "$RUNNERS" --baseline-secs "$BASELINE" \
    --idle-secs "$IDLE" --triggers "$TRIGGERS" --gap-ms "$GAP_MS" \
    --max-secs $((BASELINE + IDLE + TRIGGERS * 2 + 300)) >"$RAW"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
kill -TERM "$PID"
wait "$PID" 2>/dev/null || true
PID=""
SQLITE=$(grep -o 'SQLite [0-9.]*' "$SERVER_LOG" | head -1 | cut -d' ' -f2)

mkdir -p "$(dirname "$OUT")"
python3 "$BENCH/runners_report.py" "$RAW" \
    --command "bench/runners.sh --runners $RUNNERS --triggers $TRIGGERS --idle $IDLE --baseline $BASELINE --gap-ms $GAP_MS --long-poll $LONG_POLL --log-level $LOG_LEVEL${NOFILE:+ --nofile $NOFILE}" \
    --commit "$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src || echo '+local changes')" \
    --machine "$(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)" \
    --software "$(cd "$ROOT" && rustc --version), bundled SQLite $SQLITE, $(python3 --version)" \
    --load-before "$LOAD_BEFORE" --load-after "$LOAD_AFTER" --long-poll "$LONG_POLL" \
    --shell-nofile "$(ulimit -Sn)/$(ulimit -Hn)" --nofile "$NOFILE" >"$OUT"
say "wrote $OUT"
if [ "$OUT" -ef "$BENCH/results/runners.md" ]; then "$BENCH/run.sh" --report-only; fi
cat "$OUT"
