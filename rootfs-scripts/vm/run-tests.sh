#!/usr/bin/env bash
# run-tests.sh — the one entry point for the tests that need the VM (pure cgroup v2, root,
# namespaces, pivot_root, OOM).
#
# Builds the test bundle on the host (building under TCG would be 10x slower), prepares the VM
# (setup-vm.sh), boots it with the package directory shared at the same path, runs the Swift
# Testing bundle filtered to the integration tests with BERTH_IN_VM=1, and ends with one line
#   N passed, M failed, K skipped
# Exit 0 only when M is 0 and N > 0. A build failure, a VM crash or timeout, or a bundle that
# dies before Swift Testing's summary line counts as one more failed test.
#
#   SWIFT_BUILD_FLAGS  extra `swift build` arguments, e.g. "--scratch-path /work/main/.build-vm"
#   TEST_FILTER        Swift Testing --filter regex (default IntegrationTests: the test target,
#                      i.e. the first component of every test ID in it)
#   TEST_ARGS          more bundle arguments, e.g. "--no-parallel" or "--xunit-output FILE"
#   PACKAGE_DIR        the Swift package (default: this repository)
#   VM_DIR, VM_CPUS, VM_MEM, VM_TIMEOUT, VM_ENV, VM_SHARES, VM_KERNEL_META: see vm-run.sh and
#                      setup-vm.sh
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG_DIR=$(realpath -s "${PACKAGE_DIR:-$HERE/../..}")
FILTER=${TEST_FILTER:-IntegrationTests}
export VM_DIR=${VM_DIR:-/tmp/berth-vm}
read -r -a BUILD_FLAGS <<<"${SWIFT_BUILD_FLAGS:-}"
read -r -a TEST_EXTRA <<<"${TEST_ARGS:-}"

say() { echo "run-tests: $*"; }
secs() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
# Every way out prints the summary line last, so CI can always grep for it.
finish() { # passed failed skipped
    echo "$1 passed, $2 failed, $3 skipped"
    if [[ $2 -eq 0 && $1 -gt 0 ]]; then exit 0; fi
    exit 1
}

cd "$PKG_DIR"

T=$EPOCHREALTIME
say "swift build --build-tests ${BUILD_FLAGS[*]}"
if ! swift build --build-tests "${BUILD_FLAGS[@]}"; then
    say "swift build failed"
    finish 0 1 0
fi
# The real path (not .build/debug, a symlink): it is what the bundle's RUNPATH and resource
# paths were built with.
BIN=$(realpath "$(swift build "${BUILD_FLAGS[@]}" --show-bin-path)")
BUILD_S=$(secs "$T")

shopt -s nullglob
BUNDLES=("$BIN"/*PackageTests.xctest)
shopt -u nullglob
if [[ ${#BUNDLES[@]} -ne 1 ]]; then
    say "expected one *PackageTests.xctest in $BIN, found ${#BUNDLES[@]}"
    finish 0 1 0
fi
BUNDLE=${BUNDLES[0]}
# The VM sees only the share (and the host's /usr /etc /opt): a build directory elsewhere
# (--scratch-path /tmp/...) is shared too, at the same path.
if [[ $BIN != "$(realpath "$PKG_DIR")"/* ]]; then
    export VM_SHARES="${VM_SHARES:-} $BIN"
fi

T=$EPOCHREALTIME
if ! "$HERE/setup-vm.sh" "$VM_DIR"; then
    say "setup-vm.sh failed"
    finish 0 1 0
fi
SETUP_S=$(secs "$T")

# The guest tees the bundle's output into this file on the share: the console also carries
# kernel messages (OOM kills, ...), which can land in the middle of a result line.
LOG=$PKG_DIR/.vm-tests.$$.log
trap 'rm -f "$LOG"' EXIT
T=$EPOCHREALTIME
say "running $(basename "$BUNDLE") --filter $FILTER in the VM"
set +e
# NO_COLOR: plain result lines; pipefail: the bundle's status, not tee's.
# shellcheck disable=SC2016 # expanded by the guest's bash
"$HERE/vm-run.sh" "$PKG_DIR" env NO_COLOR=1 /bin/bash -c \
    'set -o pipefail; b=$1; f=$2; log=$3; shift 3
     "$b" --testing-library swift-testing --filter "$f" "$@" 2>&1 | tee "$log"' \
    run-in-vm "$BUNDLE" "$FILTER" "$LOG" "${TEST_EXTRA[@]}"
VM_RC=$?
set -e
VM_S=$(secs "$T")

# Swift Testing's human output, one line per test function (parameterized tests included):
#   ✔ Test foo() passed after 0.1 seconds[ with 1 known issue].
#   ✘ Test foo() failed after 0.1 seconds with 2 issues.
#   ➜ Test foo() skipped[: "reason"]
#   ✔|✘ Test run with 12 tests in 3 suites passed|failed after ...   (the summary)
# "Test case ..." lines (single arguments) and "recorded an issue" lines are not results.
read -r PASSED FAILED SKIPPED TOTAL < <(
    { [[ -f $LOG ]] && sed -e 's/\x1b\[[0-9;]*m//g' -e 's/\r$//' "$LOG"; } |
        awk '$2 != "Test" || $3 == "case" || / recorded an issue/ { next }
             $3 == "run" && $4 == "with" && $5 ~ /^[0-9]+$/ { total = $5; next }
             / passed after [0-9.]+ seconds/ { p++; next }
             / failed after [0-9.]+ seconds/ { f++; next }
             / skipped(\.|:|$)/ { s++ }
             END { printf "%d %d %d %s\n", p, f, s, (total == "" ? "-" : total) }'
)

say "times: build ${BUILD_S} s, setup ${SETUP_S} s, VM ${VM_S} s"
if [[ $VM_RC -eq 125 ]]; then
    say "the VM crashed or timed out (vm-run.sh exit 125): counted as 1 failure"
    FAILED=$((FAILED + 1))
elif [[ $TOTAL == - ]]; then
    say "the test run did not finish (no summary line; exit code $VM_RC): counted as 1 failure"
    FAILED=$((FAILED + 1))
elif [[ $VM_RC -eq 69 && $TOTAL == 0 ]]; then
    # Swift Testing exits 69 (EX_UNAVAILABLE) when the filter leaves no test to run: not a
    # failed test, but N = 0 still makes the exit status 1.
    say "no test matched TEST_FILTER=$FILTER"
elif [[ $VM_RC -ne 0 && $FAILED -eq 0 ]]; then
    say "the test bundle exited $VM_RC without a failed test: counted as 1 failure"
    FAILED=$((FAILED + 1))
elif [[ $TOTAL != $((PASSED + FAILED + SKIPPED)) ]]; then
    say "warning: Swift Testing counted $TOTAL tests, the result lines $((PASSED + FAILED + SKIPPED))"
fi
finish "$PASSED" "$FAILED" "$SKIPPED"
