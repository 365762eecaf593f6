#!/usr/bin/env bash
# Page weight and server time of the web UI with many pipelines, over loopback.
#
#   bench/web_pages.sh                      # 100,000 seeded pipelines, 30 requests per page
#   bench/web_pages.sh --pipelines 1000000 --requests 50 --no-build
#   bench/web_pages.sh --write              # also bench/results/web-pages.md, then BENCHMARKS.md
#
# Seeds a temp database through the API (a user with a password, a project with a two-stage
# .gitlab-ci.yml, trigger tokens, one real pipeline whose first job a runner finished), stops the
# server, bulk-inserts N pipelines into the same project with sqlite3 (as bench/run.sh does),
# restarts it, signs in with curl and requests each page: its size as sent (identity and gzip,
# the server compresses when asked) and the time to the first byte of a sequential, bounded loop
# of requests (median and slowest). Prints a Markdown table; with --write it also becomes
# bench/results/web-pages.md and BENCHMARKS.md is rebuilt (bench/run.sh --report-only).
# Needs: curl, jq, sqlite3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PIPELINES=100000
REQUESTS=30
BUILD=1
WRITE=0
while [ $# -gt 0 ]; do
    case "$1" in
        --pipelines) PIPELINES=$2; shift 2 ;;
        --requests) REQUESTS=$2; shift 2 ;;
        --no-build) BUILD=0; shift ;;
        --write) WRITE=1; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
say() { printf '[web-bench] %s\n' "$*" >&2; }
for tool in curl jq sqlite3; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done

if [ "$BUILD" = 1 ]; then (cd "$ROOT" && cargo build --release --quiet --bin triggerd); fi
BIN="$ROOT/target/release/triggerd"
[ -x "$BIN" ] || { echo "web-bench: $BIN missing" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/triggerd-web-bench.XXXXXX")
DB="$TMP/triggerd.db"
ROOT_TOKEN="glpat-webbench$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PASSWORD="web bench password $(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
PID=""
cleanup() {
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

PORT=""
for p in $(shuf -i 20000-60000 -n 100); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "web-bench: no free port" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"

start_server() {
    (cd "$TMP" && exec env TRIGGERD_SERVER__LISTEN="127.0.0.1:$PORT" TRIGGERD_DATABASE__PATH="$DB" \
        TRIGGERD_BOOTSTRAP__ROOT_TOKEN="$ROOT_TOKEN" TRIGGERD_LOG__LEVEL=warn "$BIN" serve >>"$TMP/server.log" 2>&1) &
    PID=$!
    local tries=0
    until curl -fs -o /dev/null "$BASE/-/liveness"; do
        kill -0 "$PID" 2>/dev/null || { echo "web-bench: the server died" >&2; cat "$TMP/server.log" >&2; exit 1; }
        tries=$((tries + 1)); [ "$tries" -lt 5000 ] || { echo "web-bench: no liveness" >&2; exit 1; }
        sleep 0.01
    done
}
stop_server() { kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }
api() { curl -fsS -H "PRIVATE-TOKEN: $ROOT_TOKEN" "$@"; }

say "seeding in $TMP"
start_server
USER_ID=$(api -X POST "$BASE/api/v4/users" --data-urlencode "password=$PASSWORD" \
    -d username=bench -d name=Bench -d email=bench@example.com | jq -r .id)
PROJECT=$(api -X POST "$BASE/api/v4/projects/user/$USER_ID" -d name=demo | jq -r .id)
PATH_NS=$(api "$BASE/api/v4/projects/$PROJECT" | jq -r .path_with_namespace)
CI=$'build:\n  stage: build\n  script: [make]\ntest:\n  stage: test\n  script: [make test]\n'
api -X POST "$BASE/api/v4/projects/$PROJECT/repository/files/.gitlab-ci.yml" -H 'Content-Type: application/json' \
    -d "$(jq -n --arg c "$CI" '{branch: "main", content: $c, commit_message: "ci"}')" >/dev/null
for i in $(seq 1 5); do api -X POST "$BASE/api/v4/projects/$PROJECT/triggers" -d "description=token $i" >/dev/null; done
TRIGGER_ID=$(api "$BASE/api/v4/projects/$PROJECT/triggers?per_page=1" | jq -r '.[0].id')
TOKEN=$(api -X POST "$BASE/api/v4/projects/$PROJECT/triggers" -d description=bench | jq -r .token)
PIPELINE=$(curl -fsS -d "token=$TOKEN" -d ref=main -d 'variables[DEPLOY_ENV]=staging' \
    "$BASE/api/v4/projects/$PROJECT/trigger/pipeline" | jq -r .id)
REG=$(api -X POST "$BASE/api/v4/projects/$PROJECT/runners/reset_registration_token" | jq -r .token)
RUNNER=$(curl -fsS -d "token=$REG" -d description=bench "$BASE/api/v4/runners" | jq -r .token)
JOB=$(curl -fsS -H 'Content-Type: application/json' -d "{\"token\":\"$RUNNER\"}" "$BASE/api/v4/jobs/request")
JOB_ID=$(jq -r .id <<<"$JOB"); JOB_TOKEN=$(jq -r .token <<<"$JOB")
LOG=$(for i in $(seq 1 200); do echo "line $i of the build log: compiling module $i"; done)
curl -fsS -o /dev/null -X PATCH -H "JOB-TOKEN: $JOB_TOKEN" -H "Content-Range: 0-$(( ${#LOG} - 1 ))" \
    --data-binary "$LOG" "$BASE/api/v4/jobs/$JOB_ID/trace"
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/json' \
    -d "{\"token\":\"$JOB_TOKEN\",\"state\":\"success\"}" "$BASE/api/v4/jobs/$JOB_ID"
SHA=$(api "$BASE/api/v4/projects/$PROJECT/repository/branches/main" | jq -r .commit.id)
stop_server

say "bulk-inserting $PIPELINES pipelines"
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $PIPELINES)
INSERT INTO pipelines (project_id, iid, trigger_id, user_id, ref, sha, before_sha, tag, status, source,
                       created_at, updated_at)
SELECT $PROJECT, i + 1, $TRIGGER_ID, $USER_ID, 'main', '$SHA', '0000000000000000000000000000000000000000', 0,
       CASE i % 5 WHEN 0 THEN 'success' WHEN 1 THEN 'failed' WHEN 2 THEN 'canceled' WHEN 3 THEN 'success'
                  ELSE 'canceled' END, 'trigger',
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($PIPELINES - i + 3600) || ' seconds'),
       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ($PIPELINES - i + 3600) || ' seconds')
FROM n;
UPDATE projects SET last_pipeline_iid = $PIPELINES + 1 WHERE id = $PROJECT;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
SQL

start_server
JAR="$TMP/cookies"
curl -fsS -o /dev/null -c "$JAR" "$BASE/users/sign_in"
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "login=bench" --data-urlencode "password=$PASSWORD" \
    "$BASE/users/sign_in"
grep -q triggerd_session "$JAR" || { echo "web-bench: sign-in failed" >&2; exit 1; }
# Warm the page cache once.
curl -fsS -o /dev/null -b "$JAR" "$BASE/$PATH_NS/-/pipelines"

pages=(
    "sign in (signed out)|/users/sign_in"
    "dashboard|/dashboard/projects"
    "project overview|/$PATH_NS"
    "pipelines, page 1|/$PATH_NS/-/pipelines"
    "pipelines, status=failed|/$PATH_NS/-/pipelines?status=failed"
    "pipelines, page 2,000|/$PATH_NS/-/pipelines?page=2000"
    "pipelines table (refresh)|/$PATH_NS/-/pipelines?fragment=table"
    "pipeline with 2 jobs|/$PATH_NS/-/pipelines/$PIPELINE"
    "job with a 200-line log|/$PATH_NS/-/jobs/$JOB_ID"
    "settings: CI/CD|/$PATH_NS/-/settings/ci_cd"
    "personal access tokens|/-/user_settings/personal_access_tokens"
    "app.css|/-/ui/static/app.css"
    "app.js|/-/ui/static/app.js"
)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
TABLE="$TMP/table.md"
{
echo "| page | bytes | gzip bytes | median ms | slowest ms |"
echo "|---|---:|---:|---:|---:|"
for entry in "${pages[@]}"; do
    name=${entry%%|*}; path=${entry#*|}
    # The sign-in page is for visitors: a signed-in request is redirected.
    if [ "$path" = /users/sign_in ]; then jar=/dev/null; else jar=$JAR; fi
    status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$BASE$path")
    [ "$status" = 200 ] || { echo "web-bench: $path answered $status" >&2; exit 1; }
    raw=$(curl -s -o /dev/null -w '%{size_download}' -b "$jar" "$BASE$path")
    gz=$(curl -s -o /dev/null -w '%{size_download}' -H 'Accept-Encoding: gzip' -b "$jar" "$BASE$path")
    times=$(for _ in $(seq 1 "$REQUESTS"); do
        curl -s -o /dev/null -w '%{time_starttransfer}\n' -H 'Accept-Encoding: gzip' -b "$jar" "$BASE$path"
    done | sort -n)
    median=$(awk '{ a[NR] = $1 } END { printf "%.1f", a[int((NR + 1) / 2)] * 1000 }' <<<"$times")
    slowest=$(tail -1 <<<"$times" | awk '{ printf "%.1f", $1 * 1000 }')
    echo "| $name | $raw | $gz | $median | $slowest |"
done
} | tee "$TABLE"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
say "$PIPELINES pipelines, $REQUESTS sequential requests per page, load average $LOAD_BEFORE -> $LOAD_AFTER"
if [ "$WRITE" = 1 ]; then
    out="$ROOT/bench/results/web-pages.md"
    {
        echo "## Web UI pages with $PIPELINES pipelines"
        echo
        echo "Generated by \`bench/web_pages.sh --pipelines $PIPELINES --requests $REQUESTS\` on $(date -u '+%Y-%m-%d %H:%M') UTC,"
        echo "commit \`$(cd "$ROOT" && git rev-parse --short HEAD)\`; $(nproc) CPUs, load average before: $LOAD_BEFORE, after: $LOAD_AFTER."
        echo "One project holds all the pipelines (seeded with sqlite3, 1 in 5 failed) plus one real pipeline with"
        echo "two jobs in two stages; the user is signed in (a session cookie). *bytes* is the body as sent"
        echo "without compression, *gzip bytes* with \`Accept-Encoding: gzip\`; the times are curl's time to the"
        echo "first byte of $REQUESTS sequential requests over loopback (gzip), so they include the compression."
        echo
        cat "$TABLE"
    } >"$out"
    say "wrote $out"
    "$ROOT/bench/run.sh" --report-only
fi
