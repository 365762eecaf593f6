#!/usr/bin/env bash
# Benchmarks triggerd over loopback with wrk and regenerates BENCHMARKS.md.
#
#   bench/run.sh                        # 100,000 seeded pipelines, 3 runs of 10 s per scenario
#   bench/run.sh --pipelines 1000000    # the same with 1,000,000 seeded pipelines
#
# Options: --pipelines N (default 100000), --runs N (3), --duration SECONDS (10),
#          --log-level LEVEL (server log filter, default "info" = the shipped default, access log
#          on, written to a file), --no-build (use the existing target/release/triggerd),
#          --keep (keep the temp dir with the database, the server log and the raw results),
#          --report-only (only rebuild BENCHMARKS.md from the files below).
#
# Scenarios: liveness, the trigger call on a project without .gitlab-ci.yml and on one with the
# 5-job bench/ci5.gitlab-ci.yml (side by side, with the per-run ratio), the triggers list, page 1
# of the pipelines list at N and at 1,000 pipelines, and one pipeline read; after all runs of
# those, the trigger call on projects with 0, 1 and 10 pipeline webhooks (to bench/hook_receiver.py
# on loopback), whose delivery backlog would otherwise load every later scenario; then the
# webhook delivery throughput while the backlog drains. Each wrk run also reads
# the server's CPU time (utime + stime) before and after: the report gives it per request.
# Each invocation writes bench/results/pipelines-N.md and then rebuilds BENCHMARKS.md from
# bench/analysis.md (the hand-written findings) plus every bench/results/*.md.
# Needs: cargo; curl, jq, sqlite3 (for the bulk seed) and wrk are installed with apt-get if missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH="$ROOT/bench"
PIPELINES=100000
RUNS=3
DURATION=10
LOG_LEVEL=info
BUILD=1
KEEP=0
REPORT_ONLY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --pipelines) PIPELINES=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --log-level) LOG_LEVEL=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --keep) KEEP=1; shift ;;
        --report-only) REPORT_ONLY=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done

say() { printf '[bench] %s\n' "$*" >&2; }

write_report() {
    {
        cat "$BENCH/analysis.md"
        for f in "$BENCH"/results/*.md; do echo; cat "$f"; done
    } >"$ROOT/BENCHMARKS.md"
    say "wrote $ROOT/BENCHMARKS.md"
}
if [ "$REPORT_ONLY" = 1 ]; then write_report; exit 0; fi

missing=()
for tool in curl jq sqlite3 wrk; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; }
fi

if [ "$BUILD" = 1 ]; then
    say "building the release binary"
    (cd "$ROOT" && cargo build --release --quiet --bin triggerd)
fi
BIN="$ROOT/target/release/triggerd"
[ -x "$BIN" ] || { echo "bench: $BIN missing (run without --no-build)" >&2; exit 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/triggerd-bench.XXXXXX")
DB="$TMP/triggerd.db"
ROOT_TOKEN="glpat-benchroot$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PID=""
SAMPLER=""
RECEIVER=""
cleanup() {
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null || true
    [ -n "$RECEIVER" ] && kill "$RECEIVER" 2>/dev/null || true
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
    if [ "$KEEP" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

free_port() {
    local p
    for p in $(shuf -i 20000-60000 -n 100); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
    done
    echo "bench: no free port" >&2; exit 1
}
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

# Starts the server (cwd = the temp dir, so no config.toml is picked up) and sets READY_MS to the
# time from spawning the process to its first successful request.
start_server() {
    local t0 t1
    t0=$(date +%s%N)
    (cd "$TMP" && exec env TRIGGERD_SERVER__LISTEN="127.0.0.1:$PORT" TRIGGERD_DATABASE__PATH="$DB" \
        TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$ROOT_TOKEN" TRIGGERD_LOG__LEVEL="$LOG_LEVEL" \
        TRIGGERD_WEBHOOKS__ALLOW_LOCAL_NETWORK=true \
        "$BIN" serve >>"$SERVER_LOG" 2>&1) &
    PID=$!
    until curl -fs -o /dev/null "$BASE/-/liveness"; do
        kill -0 "$PID" 2>/dev/null || { echo "bench: the server died (log: $SERVER_LOG)" >&2; exit 1; }
        sleep 0.002
    done
    t1=$(date +%s%N)
    READY_MS=$(( (t1 - t0) / 1000000 ))
}

stop_server() {
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null || true
    PID=""
}

status_kib() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$PID/status"; }

api() { curl -fsS -H "PRIVATE-TOKEN: $ROOT_TOKEN" "$@"; }

# --- seed -------------------------------------------------------------------------------------
say "seeding in $TMP"
SERVER_LOG="$TMP/server.log"
start_server
ROOT_ID=$(api "$BASE/api/v4/user" | jq -r .id)
LISTED=$(api -X POST "$BASE/api/v4/projects" -d name=listed -d initialize_with_readme=true | jq -r .id)
HOT=$(api -X POST "$BASE/api/v4/projects" -d name=hot -d initialize_with_readme=true | jq -r .id)
# A third project whose default branch has a 5-job .gitlab-ci.yml (3 stages, untagged): its trigger
# calls also parse the file, create 5 jobs (the first stage's pending) and wake waiting runners
# (there are none in this run). It must see as many calls as `hot`, so it is its own project.
CI5=$(api -X POST "$BASE/api/v4/projects" -d name=ci5 -d initialize_with_readme=true | jq -r .id)
# A fourth project with 1,000 seeded pipelines: page 1 of its list against page 1 of `listed`'s
# N shows whether the list's cost grows with its size.
SMALL=$(api -X POST "$BASE/api/v4/projects" -d name=small -d initialize_with_readme=true | jq -r .id)
SMALL_PIPELINES=1000
api -X POST "$BASE/api/v4/projects/$CI5/repository/files/.gitlab-ci.yml" -H 'Content-Type: application/json' \
    -d "$(jq -n --rawfile c "$BENCH/ci5.gitlab-ci.yml" '{branch: "main", content: $c, commit_message: "5 jobs"}')" >/dev/null
# Two projects like `hot` with 1 and 10 pipeline webhooks to a fast receiver on loopback.
HOOK_PORT=$(free_port)
python3 "$BENCH/hook_receiver.py" "$HOOK_PORT" &
RECEIVER=$!
HOOKS1=$(api -X POST "$BASE/api/v4/projects" -d name=hooks1 -d initialize_with_readme=true | jq -r .id)
HOOKS10=$(api -X POST "$BASE/api/v4/projects" -d name=hooks10 -d initialize_with_readme=true | jq -r .id)
api -X POST "$BASE/api/v4/projects/$HOOKS1/hooks" -d "url=http://127.0.0.1:$HOOK_PORT/h" -d pipeline_events=true >/dev/null
for i in $(seq 1 10); do
    api -X POST "$BASE/api/v4/projects/$HOOKS10/hooks" -d "url=http://127.0.0.1:$HOOK_PORT/h$i" -d pipeline_events=true >/dev/null
done
HOOKS1_TRIGGER_TOKEN=$(api -X POST "$BASE/api/v4/projects/$HOOKS1/triggers" -d description=bench | jq -r .token)
HOOKS10_TRIGGER_TOKEN=$(api -X POST "$BASE/api/v4/projects/$HOOKS10/triggers" -d description=bench | jq -r .token)
for i in $(seq 1 20); do
    api -X POST "$BASE/api/v4/projects/$LISTED/triggers" -d "description=listed trigger $i" >/dev/null
done
LISTED_TRIGGER=$(api "$BASE/api/v4/projects/$LISTED/triggers?per_page=1" | jq -r '.[0].id')
TRIGGER_TOKEN=$(api -X POST "$BASE/api/v4/projects/$HOT/triggers" -d description=bench | jq -r .token)
CI5_TRIGGER_TOKEN=$(api -X POST "$BASE/api/v4/projects/$CI5/triggers" -d description=bench | jq -r .token)
PAT=$(api -X POST "$BASE/api/v4/users/$ROOT_ID/personal_access_tokens" -d name=bench -d 'scopes[]=api' | jq -r .token)
SHA=$(api "$BASE/api/v4/projects/$LISTED/repository/branches/main" | jq -r .commit.id)
# One trigger call through the API, to copy its variables' shape into the bulk rows.
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    -d "{\"token\":\"$TRIGGER_TOKEN\",\"ref\":\"main\",\"variables\":{\"A\":\"1\"}}" \
    "$BASE/api/v4/projects/$HOT/trigger/pipeline"
# The same against ci5: the pipeline must have its 5 jobs, else the scenario measures nothing.
CI5_PIPELINE=$(curl -fsS -H 'Content-Type: application/json' \
    -d "{\"token\":\"$CI5_TRIGGER_TOKEN\",\"ref\":\"main\",\"variables\":{\"A\":\"1\"}}" \
    "$BASE/api/v4/projects/$CI5/trigger/pipeline" | jq -r .id)
CI5_JOBS=$(api "$BASE/api/v4/projects/$CI5/pipelines/$CI5_PIPELINE/jobs" | jq length)
[ "$CI5_JOBS" = 5 ] || { echo "bench: the ci5 pipeline has $CI5_JOBS jobs, expected 5" >&2; exit 1; }
stop_server

say "bulk-inserting $PIPELINES + $SMALL_PIPELINES pipelines (server stopped, one sqlite3 transaction)"
# seed_sql PROJECT COUNT TRIGGER_ID: COUNT pipelines with 4 variables each, as a trigger call makes.
seed_sql() {
    cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2)
INSERT INTO pipelines (project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source,
                       created_at, updated_at)
SELECT $1, i, $3, $ROOT_ID, 'main', '$SHA', '0000000000000000000000000000000000000000', 0,
       CASE i % 5 WHEN 0 THEN 'success' WHEN 1 THEN 'failed' WHEN 2 THEN 'created' WHEN 3 THEN 'running'
                  ELSE 'canceled' END, 'trigger',
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($2 - i) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($2 - i) || ' seconds')
FROM n;
INSERT INTO pipeline_variables (pipeline_id, position, key, value, variable_type)
SELECT p.id, v.position, v.key, v.value, v.variable_type
FROM pipelines p
CROSS JOIN (SELECT 0 AS position, 'DEPLOY_ENV' AS key, 'staging' AS value, 'env_var' AS variable_type
            UNION ALL SELECT 1, 'SERVICE', 'api', 'env_var'
            UNION ALL SELECT 2, 'BUILD_NOTES', 'seeded by bench/run.sh', 'env_var'
            UNION ALL SELECT 3, 'TRIGGER_PAYLOAD',
                   '{"ref":"main","id":"$1","variables":{"DEPLOY_ENV":"staging","SERVICE":"api","BUILD_NOTES":"seeded by bench/run.sh"}}',
                   'file') v
WHERE p.project_id = $1;
UPDATE projects SET last_pipeline_iid = $2 WHERE id = $1;
SQL
}
t0=$(date +%s%N)
{
    echo "PRAGMA journal_mode = WAL;"
    echo "BEGIN IMMEDIATE;"
    seed_sql "$LISTED" "$PIPELINES" "$LISTED_TRIGGER"
    seed_sql "$SMALL" "$SMALL_PIPELINES" NULL
    echo "COMMIT;"
    echo "PRAGMA wal_checkpoint(TRUNCATE);"
} | sqlite3 "$DB" >/dev/null
SEED_S=$(awk -v n="$(( $(date +%s%N) - t0 ))" 'BEGIN { printf "%.1f", n / 1e9 }')
DB_MB=$(du -m "$DB" | cut -f1)
# Counted here: above 10,000 the list answers without X-Total, as GitLab's does.
[ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM pipelines WHERE project_id = $LISTED")" = "$PIPELINES" ]
# The pipeline read: the newest seeded pipeline of `listed`.
GET_PIPELINE=$(sqlite3 "$DB" "SELECT MAX(id) FROM pipelines WHERE project_id = $LISTED")

# --- measure ----------------------------------------------------------------------------------
# The access log of millions of requests is not kept (it would be gigabytes) unless --keep.
if [ "$KEEP" = 1 ]; then SERVER_LOG="$TMP/server-load.log"; else SERVER_LOG=/dev/null; fi
start_server
sleep 1
IDLE_KIB=$(status_kib VmRSS)
( while kill -0 "$PID" 2>/dev/null; do status_kib VmRSS >>"$TMP/rss.log" 2>/dev/null || true; sleep 0.2; done ) &
SAMPLER=$!

export BENCH_DIR="$BENCH" BENCH_PAT="$PAT" BENCH_TRIGGER_TOKEN="$TRIGGER_TOKEN"
RESULTS="$TMP/results.tsv"
: >"$RESULTS"
declare -A URL SCRIPT CONNS TOKEN
URL[liveness_c32]="$BASE/-/liveness";                           SCRIPT[liveness_c32]=get;     CONNS[liveness_c32]=32
URL[liveness_c128]="$BASE/-/liveness";                          SCRIPT[liveness_c128]=get;    CONNS[liveness_c128]=128
URL[trigger_c32]="$BASE/api/v4/projects/$HOT/trigger/pipeline"; SCRIPT[trigger_c32]=trigger;  CONNS[trigger_c32]=32
URL[trigger_c128]="$BASE/api/v4/projects/$HOT/trigger/pipeline"; SCRIPT[trigger_c128]=trigger; CONNS[trigger_c128]=128
URL[trigger5_c32]="$BASE/api/v4/projects/$CI5/trigger/pipeline"; SCRIPT[trigger5_c32]=trigger; CONNS[trigger5_c32]=32
URL[trigger5_c128]="$BASE/api/v4/projects/$CI5/trigger/pipeline"; SCRIPT[trigger5_c128]=trigger; CONNS[trigger5_c128]=128
TOKEN[trigger5_c32]=$CI5_TRIGGER_TOKEN; TOKEN[trigger5_c128]=$CI5_TRIGGER_TOKEN
URL[hooks0_c32]="$BASE/api/v4/projects/$HOT/trigger/pipeline";      SCRIPT[hooks0_c32]=trigger;  CONNS[hooks0_c32]=32
URL[hooks1_c32]="$BASE/api/v4/projects/$HOOKS1/trigger/pipeline";   SCRIPT[hooks1_c32]=trigger;  CONNS[hooks1_c32]=32
URL[hooks10_c32]="$BASE/api/v4/projects/$HOOKS10/trigger/pipeline"; SCRIPT[hooks10_c32]=trigger; CONNS[hooks10_c32]=32
TOKEN[hooks1_c32]=$HOOKS1_TRIGGER_TOKEN; TOKEN[hooks10_c32]=$HOOKS10_TRIGGER_TOKEN
URL[triggers_list]="$BASE/api/v4/projects/$LISTED/triggers";    SCRIPT[triggers_list]=get;    CONNS[triggers_list]=32
URL[pipelines_list]="$BASE/api/v4/projects/$LISTED/pipelines";  SCRIPT[pipelines_list]=get;   CONNS[pipelines_list]=32
URL[pipelines_small]="$BASE/api/v4/projects/$SMALL/pipelines";  SCRIPT[pipelines_small]=get;  CONNS[pipelines_small]=32
URL[pipeline_get]="$BASE/api/v4/projects/$LISTED/pipelines/$GET_PIPELINE"; SCRIPT[pipeline_get]=get; CONNS[pipeline_get]=32
# The webhook scenarios come after every run of the others: each leaves a backlog of deliveries
# that takes minutes to drain on these two cores, and the deliverer would compete with every
# scenario measured after it. hooks0 is the call without hooks measured again in that phase,
# under the same backlog, as the base of the hooks' ratios.
MAIN_SCENARIOS="liveness_c32 liveness_c128 trigger_c32 trigger_c128 trigger5_c32 trigger5_c128 triggers_list pipelines_list pipelines_small pipeline_get"
HOOK_SCENARIOS="hooks0_c32 hooks1_c32 hooks10_c32"
SCENARIOS="$MAIN_SCENARIOS $HOOK_SCENARIOS"

# Sanity: each scenario's request succeeds once, and the list sizes are what we claim.
[ "$(curl -fsS -H "PRIVATE-TOKEN: $PAT" "${URL[triggers_list]}" | jq length)" = 20 ]
[ "$(curl -fsS -H "PRIVATE-TOKEN: $PAT" "${URL[pipelines_list]}" | jq length)" = 20 ]
[ "$(curl -fsS -H "PRIVATE-TOKEN: $PAT" "${URL[pipeline_get]}" | jq .id)" = "$GET_PIPELINE" ]
TOTAL=$(curl -fsS -D - -o /dev/null -H "PRIVATE-TOKEN: $PAT" "${URL[pipelines_small]}" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-total" { print $2 }')
[ "$TOTAL" = "$SMALL_PIPELINES" ] || { echo "bench: expected $SMALL_PIPELINES pipelines, X-Total says $TOTAL" >&2; exit 1; }

wrk_cmd() { # scenario seconds
    echo "wrk -t2 -c${CONNS[$1]} -d${2}s -s bench/${SCRIPT[$1]}.lua ${URL[$1]}"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; } # the server's utime + stime, in clock ticks
TICK_US=$(( 1000000 / $(getconf CLK_TCK) ))
run_wrk() { # scenario seconds -> RESULT line, with the server's CPU µs per request appended
    local before after line requests
    before=$(cpu_ticks)
    line=$( (cd "$ROOT" && BENCH_TRIGGER_TOKEN=${TOKEN[$1]:-$TRIGGER_TOKEN} wrk -t2 -c"${CONNS[$1]}" -d"${2}s" -s "bench/${SCRIPT[$1]}.lua" "${URL[$1]}") | grep '^RESULT')
    after=$(cpu_ticks)
    requests=$(echo "$line" | sed -n 's/.*requests=\([0-9]*\).*/\1/p')
    echo "$line cpu_us=$(awk -v t="$(( after - before ))" -v u="$TICK_US" -v n="$requests" 'BEGIN { printf "%.1f", n ? t * u / n : 0 }')"
}

say "warm-up (2 s per scenario, discarded)"
for s in $MAIN_SCENARIOS; do run_wrk "$s" 2 >/dev/null; done
for scenarios in "$MAIN_SCENARIOS" "$HOOK_SCENARIOS"; do
    for run in $(seq 1 "$RUNS"); do
        for s in $scenarios; do
            line=$(run_wrk "$s" "$DURATION")
            say "run $run $s: ${line#RESULT }"
            echo "$run $s $line" >>"$RESULTS"
        done
    done
done
PEAK_KIB=$(status_kib VmHWM)
LOAD_MAX_KIB=$(sort -n "$TMP/rss.log" | tail -1)
# Webhook delivery throughput: the hooks scenarios left a backlog; count what the receiver gets
# in a 20 s window with no other load (11 hooks, each delivered in order, 8 at once).
hook_count() { curl -fsS "http://127.0.0.1:$HOOK_PORT/count"; }
BACKLOG=$(sqlite3 "file:$DB?mode=ro" "SELECT COUNT(*) FROM hook_deliveries WHERE state = 'pending'")
c0=$(hook_count); t0=$(date +%s%N)
sleep 20
c1=$(hook_count); t1=$(date +%s%N)
DELIVERY_RPS=$(awk -v n="$((c1 - c0))" -v ns="$((t1 - t0))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
HOOK_EVENTS=$(sqlite3 "file:$DB?mode=ro" "SELECT COUNT(*) FROM hook_deliveries")
HOOK_FAILED=$(sqlite3 "file:$DB?mode=ro" "SELECT COUNT(*) FROM hook_logs WHERE response_status <> '200'")
sleep 2
AFTER_KIB=$(status_kib VmRSS)
stop_server
HOT_PIPELINES=$(sqlite3 "$DB" "SELECT COUNT(*) FROM pipelines WHERE project_id = $HOT")
CI5_PIPELINES=$(sqlite3 "$DB" "SELECT COUNT(*) FROM pipelines WHERE project_id = $CI5")
INTEGRITY=$(sqlite3 "$DB" 'PRAGMA integrity_check')

# --- report -----------------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
values() { grep " $1 RESULT" "$RESULTS" | field "$2"; }
# Per run: the ceiling (a) is the better of the two liveness runs; each ratio uses its own run's (a).
ceilings() {
    for run in $(seq 1 "$RUNS"); do
        a=$(grep "^$run liveness_c32 " "$RESULTS" | field rps)
        b=$(grep "^$run liveness_c128 " "$RESULTS" | field rps)
        awk -v a="$a" -v b="$b" 'BEGIN { print (a > b ? a : b) }'
    done
}
# Per run: scenario $1's requests/s over scenario $2's.
ratio_to() {
    for run in $(seq 1 "$RUNS"); do
        v=$(grep "^$run $1 " "$RESULTS" | field rps)
        w=$(grep "^$run $2 " "$RESULTS" | field rps)
        awk -v v="$v" -v w="$w" 'BEGIN { printf "%.3f\n", v / w }'
    done
}
ratios() {
    for run in $(seq 1 "$RUNS"); do
        c=$(ceilings | sed -n "${run}p")
        v=$(grep "^$run $1 " "$RESULTS" | field rps)
        awk -v v="$v" -v c="$c" 'BEGIN { printf "%.3f\n", v / c }'
    done
}
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

mkdir -p "$BENCH/results"
OUT="$BENCH/results/pipelines-$PIPELINES.md"
{
    echo "## $(printf "%'d" "$PIPELINES" 2>/dev/null || echo "$PIPELINES") seeded pipelines"
    echo
    echo "Generated by \`bench/run.sh --pipelines $PIPELINES --runs $RUNS --duration $DURATION --log-level $LOG_LEVEL\`"
    echo "on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$(cd "$ROOT" && git rev-parse --short HEAD)$(cd "$ROOT" && git diff --quiet HEAD -- src || echo '+local changes')\`."
    echo
    echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
    echo "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r);"
    echo "load average before the run: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg) (the run itself keeps both cores busy)."
    echo "wrk and the server share the same cores."
    echo "$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(cd "$ROOT" && rustc --version), bundled SQLite $(grep -o 'SQLite [0-9.]*' "$TMP/server.log" | head -1 | cut -d' ' -f2),"
    echo "\`synchronous = FULL\`, default configuration (2 HTTP workers = one per core, 4 read connections, log level \`$LOG_LEVEL\` to a file)."
    echo
    echo "Median of $RUNS runs of ${DURATION} s each (after a 2 s discarded warm-up per scenario)."
    echo "Ratios compare with the liveness ceiling (a) = the better of the two liveness scenarios in the same run."
    echo
    echo "| scenario | connections | requests/s | ratio to (a) | p50 ms | p99 ms | server CPU µs per request | errors |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for s in $SCENARIOS; do
        case $s in
            liveness_c32|liveness_c128) name="(a) \`GET /-/liveness\`" ;;
            trigger_c32|trigger_c128) name="(b) trigger call, JSON, 3 variables, no \`.gitlab-ci.yml\`" ;;
            trigger5_c32|trigger5_c128) name="(b5) the same call, 5-job \`.gitlab-ci.yml\` (3 stages)" ;;
            hooks0_c32) name="(b) again after every other scenario, before the hooks (no webhook)" ;;
            hooks1_c32) name="(b) with 1 pipeline webhook" ;;
            hooks10_c32) name="(b) with 10 pipeline webhooks" ;;
            triggers_list) name="(c) \`GET /projects/:id/triggers\` (20 items, PAT)" ;;
            pipelines_list) name="(c) \`GET /projects/:id/pipelines\` (page 1 of $PIPELINES, PAT)" ;;
            pipelines_small) name="(c) \`GET /projects/:id/pipelines\` (page 1 of $SMALL_PIPELINES, PAT)" ;;
            pipeline_get) name="(d) \`GET /projects/:id/pipelines/:pipeline_id\` (PAT)" ;;
        esac
        printf '| %s | %s | %.0f | %s | %s | %s | %s | %s |\n' "$name" "${CONNS[$s]}" \
            "$(values "$s" rps | median)" "$(ratios "$s" | median)" \
            "$(values "$s" p50_ms | median)" "$(values "$s" p99_ms | median)" "$(values "$s" cpu_us | median)" \
            "$(values "$s" errors | awk '{ t += $1 } END { print t " (all runs)" }')"
    done
    echo
    echo "Trigger call with the 5-job \`.gitlab-ci.yml\` (b5) against the call without one (b), same runs:"
    echo
    echo "| connections | (b) no config, requests/s | (b5) 5 jobs, requests/s | (b5) / (b), median of per-run ratios | per run |"
    echo "|---:|---:|---:|---:|---|"
    for c in 32 128; do
        printf '| %s | %.0f | %.0f | %s | %s |\n' "$c" "$(values "trigger_c$c" rps | median)" \
            "$(values "trigger5_c$c" rps | median)" "$(ratio_to "trigger5_c$c" "trigger_c$c" | median)" \
            "$(ratio_to "trigger5_c$c" "trigger_c$c" | paste -sd' ')"
    done
    echo
    echo "Trigger call (b), 32 connections, with pipeline webhooks configured, measured after all the other"
    echo "scenarios (their deliveries run in the same process, on the same 2 cores, while the calls are"
    echo "measured; the backlog grows from run to run, and 0 hooks is measured again in each run under it):"
    echo
    echo "| webhooks on the project | requests/s | ratio to 0 hooks, median of per-run ratios | per run |"
    echo "|---:|---:|---:|---|"
    printf '| 0 | %.0f | 1 | |\n' "$(values hooks0_c32 rps | median)"
    for h in 1 10; do
        printf '| %s | %.0f | %s | %s |\n' "$h" "$(values "hooks${h}_c32" rps | median)" \
            "$(ratio_to "hooks${h}_c32" hooks0_c32 | median)" "$(ratio_to "hooks${h}_c32" hooks0_c32 | paste -sd' ')"
    done
    echo
    echo "Webhook delivery to a fast loopback receiver (bench/hook_receiver.py, one asyncio process) while"
    echo "the backlog of the hooks scenarios drains, no other load: **${DELIVERY_RPS} deliveries/s** over 20 s"
    echo "(backlog at the start: ${BACKLOG}; events queued in the whole run: ${HOOK_EVENTS}; attempts not answered 200: ${HOOK_FAILED})."
    echo
    echo "| resource | value |"
    echo "|---|---|"
    echo "| binary size (release) | $(mib "$(( $(stat -c %s "$BIN") / 1024 ))") MiB |"
    echo "| process start → first successful request (${PIPELINES} pipelines in the file) | ${READY_MS} ms |"
    echo "| RSS idle after start | $(mib "$IDLE_KIB") MiB |"
    echo "| RSS peak (VmHWM, whole run) | $(mib "$PEAK_KIB") MiB |"
    echo "| RSS highest sample under load (every 200 ms) | $(mib "$LOAD_MAX_KIB") MiB |"
    echo "| RSS idle 2 s after the load | $(mib "$AFTER_KIB") MiB |"
    echo "| database file after the seed | ${DB_MB} MiB (bulk seed took ${SEED_S} s) |"
    echo "| pipelines created by the trigger runs (other projects) | ${HOT_PIPELINES} without config, ${CI5_PIPELINES} with 5 jobs each (no runner: they stay pending) |"
    echo "| \`PRAGMA integrity_check\` after the run | ${INTEGRITY} |"
    echo
    echo "Page 1 of the pipelines list at $PIPELINES against $SMALL_PIPELINES pipelines, same runs (requests/s ratio; 1.0 = no cost of size):"
    echo
    echo "| median of per-run ratios | per run |"
    echo "|---:|---|"
    printf '| %s | %s |\n' "$(ratio_to pipelines_list pipelines_small | median)" "$(ratio_to pipelines_list pipelines_small | paste -sd' ')"
    echo
    echo "Server CPU per request is the server's \`utime + stime\` (\`/proc/<pid>/stat\`, ${TICK_US} µs ticks) over the wrk run divided by the requests wrk completed; it includes the access log and idle wake-ups."
    echo
    echo "Per-run figures (requests/s, p50 ms, p99 ms, errors, server CPU µs per request):"
    echo
    echo '```'
    awk '{ printf "run %s %-15s", $1, $2; for (i = 3; i <= NF; i++) if ($i ~ /^(rps|p50_ms|p99_ms|errors|cpu_us)=/) printf " %s", $i; print "" }' "$RESULTS"
    echo '```'
    echo
    echo "Commands (per run, in this order, the last three after all runs of the others; \`bench/get.lua\` sends \`PRIVATE-TOKEN\` for the list routes,"
    echo "\`bench/trigger.lua\` the trigger token of the project in the URL from \`BENCH_TRIGGER_TOKEN\`):"
    echo
    echo '```'
    for s in $SCENARIOS; do wrk_cmd "$s" "$DURATION"; done
    echo '```'
    echo
} >"$OUT"
say "wrote $OUT"

write_report
cat "$OUT"
