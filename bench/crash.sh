#!/usr/bin/env bash
# Crash test, full form: kill -9 the server while several clients call the trigger endpoint at
# full speed, restart it on the same database, and check that every pipeline whose 201 reached a
# client exists with all its variables and that PRAGMA integrity_check is ok; then check that
# SIGTERM lets in-flight calls finish with their 201 and keeps their pipelines.
#
#   bench/crash.sh                       # 20 rounds, 8 client threads, release build
#   bench/crash.sh --rounds 50 --clients 16 --acks 200
#
# It runs the same code as the bounded CI test (tests/crash.rs: 5 rounds, 4 clients), scaled up
# through TRIGGERD_CRASH_ROUNDS / _CLIENTS / _ACKS. Round r kills the server after r x ACKS
# acknowledged calls, so the kill lands at a different point of each round.
# Set TRIGGERD_CRASH_LOG=debug to see the servers' logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=20 CLIENTS=8 ACKS=200
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --acks) ACKS=$2; shift 2 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "unknown option: $1" >&2; exit 2 ;;
    esac
done
TRIGGERD_CRASH_ROUNDS=$ROUNDS TRIGGERD_CRASH_CLIENTS=$CLIENTS TRIGGERD_CRASH_ACKS=$ACKS \
    exec cargo test --release --test crash -- --nocapture --test-threads 1
