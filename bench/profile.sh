#!/usr/bin/env bash
# Server CPU per request and a perf profile of the trigger call, for one release binary:
#
#   bench/profile.sh target/release/triggerd /tmp/prof-after
#
# Starts BIN on a fresh database, creates project `hot` (no .gitlab-ci.yml) and `ci5`
# (bench/ci5.gitlab-ci.yml) with a trigger each, then runs two passes of: liveness, the trigger
# call on `hot`, the trigger call on `ci5` (6 s of wrk at 32 connections each). Every run appends
# its wrk result and the server's CPU µs per request (utime + stime over the run) to
# OUTDIR/results.txt; in the second pass `perf record -F 999 -g -p <server>` writes
# OUTDIR/trigger.data and OUTDIR/trigger5.data (read them with
# `perf report -i OUTDIR/trigger5.data --no-children --sort symbol -g none`).
# Needs curl, jq, wrk, perf (perf_event_paranoid <= 2 for one's own processes).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$1; OUT=$2; mkdir -p "$OUT"
TMP=$(mktemp -d /tmp/perfprof.XXXX)
PORT=$(shuf -i 30000-60000 -n 1)
BASE="http://127.0.0.1:$PORT"
ROOT_TOKEN="glpat-profroot$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
(cd "$TMP" && exec env TRIGGERD_SERVER__LISTEN="127.0.0.1:$PORT" TRIGGERD_DATABASE__PATH="$TMP/db" \
   TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$ROOT_TOKEN" TRIGGERD_LOG__LEVEL=info "$BIN" serve >"$TMP/log" 2>&1) &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$TMP"' EXIT
until curl -fs -o /dev/null "$BASE/-/liveness"; do sleep 0.05; done
api() { curl -fsS -H "PRIVATE-TOKEN: $ROOT_TOKEN" "$@"; }
HOT=$(api -X POST "$BASE/api/v4/projects" -d name=hot -d initialize_with_readme=true | jq -r .id)
CI5=$(api -X POST "$BASE/api/v4/projects" -d name=ci5 -d initialize_with_readme=true | jq -r .id)
api -X POST "$BASE/api/v4/projects/$CI5/repository/files/.gitlab-ci.yml" -H 'Content-Type: application/json' \
    -d "$(jq -n --rawfile c "$ROOT/bench/ci5.gitlab-ci.yml" '{branch: "main", content: $c, commit_message: "5 jobs"}')" >/dev/null
T_HOT=$(api -X POST "$BASE/api/v4/projects/$HOT/triggers" -d description=b | jq -r .token)
T_CI5=$(api -X POST "$BASE/api/v4/projects/$CI5/triggers" -d description=b | jq -r .token)
export BENCH_DIR="$ROOT/bench"
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
run() { # name url token conns secs perf?
  local b a line
  b=$(ticks)
  if [ "${6:-0}" = 1 ]; then
    perf record -F 999 -g -p "$PID" -o "$OUT/$1.data" -- sleep "$5" >/dev/null 2>&1 &
    PP=$!
  fi
  line=$(cd "$ROOT" && BENCH_TRIGGER_TOKEN=$3 wrk -t2 -c"$4" -d"$5"s -s bench/$( [ -n "$3" ] && echo trigger || echo get ).lua "$2" | grep ^RESULT)
  a=$(ticks)
  [ "${6:-0}" = 1 ] && wait $PP || true
  req=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
  echo "$1 $line cpu_us=$(awk -v t=$((a-b)) -v n=$req 'BEGIN{printf "%.1f", t*10000/n}')" | tee -a "$OUT/results.txt"
}
for r in 1 2; do
  run liveness "$BASE/-/liveness" "" 32 6
  run trigger "$BASE/api/v4/projects/$HOT/trigger/pipeline" "$T_HOT" 32 6 $([ $r = 2 ] && echo 1 || echo 0)
  run trigger5 "$BASE/api/v4/projects/$CI5/trigger/pipeline" "$T_CI5" 32 6 $([ $r = 2 ] && echo 1 || echo 0)
done
uptime | tee -a "$OUT/results.txt"
