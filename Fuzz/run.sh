#!/usr/bin/env bash
# Fuzz/run.sh [--smoke | SECONDS] [TARGET...] — builds the fuzz targets (Fuzz/Package.swift) with
# libFuzzer and AddressSanitizer and runs each for SECONDS (default 60), or for 5 seconds with
# --smoke (CI). TARGETs are the names under Fuzz/Sources (image-reference, json, ...); default all.
#
# Each run starts from the committed seeds (Fuzz/corpus/TARGET) plus what earlier runs found
# (Fuzz/.build/corpus/TARGET, where new inputs go; the repository's corpus is never written).
# A crash, a broken property or a leak stops the run, keeps the input as
# Fuzz/.build/artifacts/TARGET-crash-*, prints how to replay it, and makes the script exit 1.
# The last lines are each target's figures: executions, executions a second, coverage (cov:
# edges, ft: features) and corpus size.
set -euo pipefail

FUZZ=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=/opt/swift/usr/bin:$PATH

seconds=60
case "${1:-}" in
    --smoke) seconds=5; shift ;;
    ''|-*) [[ "${1:-}" == -* ]] && { echo "usage: $0 [--smoke | SECONDS] [TARGET...]" >&2; exit 2; } ;;
    *[!0-9]*) ;;
    *) seconds=$1; shift ;;
esac
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for dir in "$FUZZ"/Sources/*/; do
        name=$(basename "$dir")
        [[ $name == FuzzSupport ]] || targets+=("$name")
    done
fi
for target in "${targets[@]}"; do
    [[ -d "$FUZZ/Sources/$target" && $target != FuzzSupport ]] || { echo "no fuzz target $target (see $FUZZ/Sources)" >&2; exit 2; }
done

# -sanitize=fuzzer instruments the Swift code for coverage and links libFuzzer; address adds
# AddressSanitizer (the C modules and libarchive are not instrumented). gold warns about each of
# ASan's local symbols it cannot export: noise, filtered out.
echo "=== building the fuzz targets ($(date +%T))"
start=$(date +%s)
swift build --package-path "$FUZZ" --scratch-path "$FUZZ/.build" -c debug -Xswiftc -sanitize=fuzzer,address 2>&1 \
    | { grep -v "warning: Cannot export local symbol" || true; } || { echo "the fuzz targets do not build" >&2; exit 1; }
echo "built in $(( $(date +%s) - start )) s"
bin=$(swift build --package-path "$FUZZ" --scratch-path "$FUZZ/.build" -c debug --show-bin-path)

# On tmpfs when there is one: the layer target writes and removes a tree for every input.
shm=""
[[ -d /dev/shm && -w /dev/shm ]] && shm=/dev/shm
work=$(mktemp -d ${shm:+-p "$shm"} -t berth-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=()
summary=()
for target in "${targets[@]}"; do
    corpus="$FUZZ/.build/corpus/$target"
    artifacts="$FUZZ/.build/artifacts"
    mkdir -p "$corpus" "$artifacts"
    echo "=== $target: $seconds s ($(date +%T))"
    log="$work/$target.log"
    status=0
    # TMPDIR: the layer target unpacks under it. Leaks are reported at exit, as a failure.
    # Swift's own backtracer would race libFuzzer's report of a crash (and trips ASan): off.
    TMPDIR=$work ASAN_OPTIONS=detect_leaks=1 SWIFT_BACKTRACE=enable=no "$bin/fuzz-$target" "$corpus" "$FUZZ/corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$artifacts/$target-" >"$log" 2>&1 || status=$?
    grep -E "^(INFO: seed corpus|#[0-9]+\s+(INITED|DONE))" "$log" | tail -2 || true
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+" "$log" | tail -1 || true)
    if [[ $status -ne 0 ]]; then
        failed+=("$target")
        grep -vE "^#[0-9]+ " "$log" | tail -40
        crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -1)
        [[ -n "$crash" ]] && echo "replay: SWIFT_BACKTRACE=enable=no TMPDIR=\$(mktemp -d) $bin/fuzz-$target $crash"
        summary+=("$target: FAILED (exit $status) after ${execs:-?} executions")
    else
        summary+=("$target: ${execs:-?} executions, ${rate:-?}/s, ${cov:-no coverage line}")
    fi
done

echo
echo "=== figures"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzzing found a failure in: ${failed[*]}" >&2
    exit 1
fi
