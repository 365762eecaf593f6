#!/usr/bin/env bash
# Server CPU per request and throughput of the authenticated reads, for one release binary:
#
#   bench/reads.sh target/release/triggerd /tmp/reads-after [SECONDS]
#
# Starts BIN on a fresh database, creates project `listed` with 20 triggers and 200 pipelines
# (trigger calls), then runs two passes of: liveness, `GET /projects/:id/triggers` (20 items),
# `GET /projects/:id/pipelines` (page 1 of 20) and `GET /projects/:id/pipelines/:pipeline_id`,
# each with a personal access token (wrk, 2 threads, 32 connections, SECONDS each, default 6).
# Every run appends its wrk result, its ratio to the pass's liveness and the server's CPU µs per
# request (utime + stime over the run) to OUTDIR/results.txt. Run it for two binaries in turn
# (A B A B) on a busy machine: only the ratios and the CPU per request compare across runs.
# With PERF=1, the second pass also runs `perf record -F 999 -g -p <server>` during each scenario
# and writes OUTDIR/<scenario>.data (the CPU figures of that pass include perf's overhead).
# Needs curl, jq, wrk.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$1; OUT=$2; SECS=${3:-6}; mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/perfreads.XXXX)
PORT=$(shuf -i 30000-60000 -n 1)
BASE="http://127.0.0.1:$PORT"
ROOT_TOKEN="glpat-readsroot$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(cd "$TMP" && exec env TRIGGERD_SERVER__LISTEN="127.0.0.1:$PORT" TRIGGERD_DATABASE__PATH="$TMP/db" \
   TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$ROOT_TOKEN" TRIGGERD_LOG__LEVEL=info "$BIN" serve >"$TMP/log" 2>&1) &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
until curl -fs -o /dev/null "$BASE/-/liveness"; do sleep 0.05; done
api() { curl -fsS -H "PRIVATE-TOKEN: $ROOT_TOKEN" "$@"; }
P=$(api -X POST "$BASE/api/v4/projects" -d name=listed -d initialize_with_readme=true | jq -r .id)
for i in $(seq 1 20); do api -X POST "$BASE/api/v4/projects/$P/triggers" -d "description=t$i" >/dev/null; done
T=$(api -X POST "$BASE/api/v4/projects/$P/triggers" -d description=calls | jq -r .token)
for i in $(seq 1 200); do curl -fsS -o /dev/null -X POST "$BASE/api/v4/projects/$P/trigger/pipeline" -d token="$T" -d ref=main; done
PIPE=$(api "$BASE/api/v4/projects/$P/pipelines?per_page=1" | jq -r '.[0].id')
export BENCH_DIR="$ROOT/bench" BENCH_PAT="$ROOT_TOKEN"
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
LIVE=0
run() { # name url
  local b a line rps
  b=$(ticks)
  local perf=""
  if [ -n "${PERF:-}" ] && [ "$PASS" = 2 ]; then
    perf record -F 999 -g -p "$PID" -o "$OUT/$1.data" -- sleep "$SECS" >/dev/null 2>&1 &
    perf=$!
  fi
  line=$(cd "$ROOT" && wrk -t2 -c32 -d"$SECS"s -s bench/get.lua "$2" | grep ^RESULT)
  a=$(ticks)
  [ -n "$perf" ] && wait "$perf"
  req=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  rps=$(echo "$line" | sed -n 's/.*rps=\([0-9.]*\).*/\1/p')
  [ "$1" = liveness ] && LIVE=$rps
  echo "$1 $line ratio=$(awk -v r="$rps" -v l="$LIVE" 'BEGIN{printf "%.3f", r/l}') cpu_us=$(awk -v t=$((a-b)) -v n="$req" 'BEGIN{printf "%.1f", t*10000/n}')" | tee -a "$OUT/results.txt"
}
for PASS in 1 2; do
  run liveness "$BASE/-/liveness"
  run triggers_list "$BASE/api/v4/projects/$P/triggers"
  run pipelines_list "$BASE/api/v4/projects/$P/pipelines"
  run pipeline_get "$BASE/api/v4/projects/$P/pipelines/$PIPE"
done
uptime | tee -a "$OUT/results.txt"
