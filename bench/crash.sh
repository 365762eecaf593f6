#!/usr/bin/env bash
# Crash test, full form: kill -9 the server while several clients call the trigger endpoint at
# full speed, restart it on the same database, and check that every pipeline whose 201 reached a
# client exists with all its variables and that PRAGMA integrity_check is ok; then check that
# SIGTERM lets in-flight calls finish with their 201 and keeps their pipelines; then kill -9 it
# while runners run jobs and check that every acknowledged job state and log chunk survived, that
# no job is handed out twice, and that every job ends (jobs left running fail by the sweeper).
#
#   bench/crash.sh                       # 20 rounds, 8 clients; 10 job rounds, 6 runners
#   bench/crash.sh --rounds 50 --clients 16 --acks 200 --job-rounds 20 --runners 8 --job-acks 40
#
# It runs the same code as the bounded CI test (tests/crash.rs: 5 rounds, 4 clients; 3 job
# rounds, 3 runners, 12 job acks), scaled up through TRIGGERD_CRASH_ROUNDS / _CLIENTS / _ACKS /
# _JOB_ROUNDS / _RUNNERS / _JOB_ACKS. Round r kills the server after r x ACKS acknowledged calls
# (r x JOB_ACKS acknowledged final job states), so the kill lands at a different point of each round.
# Set TRIGGERD_CRASH_LOG=debug to see the servers' logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=20 CLIENTS=8 ACKS=200 JOB_ROUNDS=10 RUNNERS=6 JOB_ACKS=30
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --acks) ACKS=$2; shift 2 ;;
        --job-rounds) JOB_ROUNDS=$2; shift 2 ;;
        --runners) RUNNERS=$2; shift 2 ;;
        --job-acks) JOB_ACKS=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
TRIGGERD_CRASH_ROUNDS=$ROUNDS TRIGGERD_CRASH_CLIENTS=$CLIENTS TRIGGERD_CRASH_ACKS=$ACKS \
TRIGGERD_CRASH_JOB_ROUNDS=$JOB_ROUNDS TRIGGERD_CRASH_RUNNERS=$RUNNERS TRIGGERD_CRASH_JOB_ACKS=$JOB_ACKS \
    exec cargo test --release --test crash -- --nocapture --test-threads 1
