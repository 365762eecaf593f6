#!/usr/bin/env bash
# Bounded fuzzing of the request-parameter parser, for CI or a campaign.
#   fuzz/run.sh [seconds per target] [target ...]      (default: 30 s, every target)
# Installs cargo-fuzz if missing, runs each target on the stable toolchain without a sanitizer
# (`-s none`, see reliability.md §3.2) from the committed seed corpus, and exits non-zero on any
# crash, timeout or out-of-memory. New inputs go to a scratch corpus (FUZZ_WORK, default a
# temporary directory), never into fuzz/corpus/; findings go to fuzz/artifacts/<target>/.
# Inputs are capped at 4 KiB (-max_len): longer ones only repeat a structure (the committed
# 16 KB attack seed is truncated to 2,047 bracket levels, still far over the depth limit).
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(query urlencoded multipart json trigger_variables)
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

work="${FUZZ_WORK:-$(mktemp -d)}"
status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/$target"
    echo "== fuzzing $target for ${seconds}s"
    if ! cargo +stable fuzz run -s none "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -max_len=4096 -rss_limit_mb=256 -timeout=5 -print_final_stats=1; then
        echo "!! $target failed: see fuzz/artifacts/$target/" >&2
        status=1
    fi
done
exit "$status"
