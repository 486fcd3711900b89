#!/usr/bin/env bash
# start.sh [--runs N] [--quick] — container start-time benchmark: berth against crun, runc and the
# kernel floor, side by side in one hyperfine run. See Benchmarks/README.md for what each line means.
#
# Every contender runs /bin/true in the same busybox root with the same namespaces (pid, mount,
# uts, ipc, net, cgroup); the runtimes also apply a 64 MiB memory limit. Prints hyperfine's table,
# then medians, CPU per run, ratios and each runtime's peak RSS.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp): where the
# roots, bundles and state live, so the filesystem under them can be chosen; BERTH_BASELINE_BIN:
# another berth measured in the same run as "before" (an earlier commit's, to compare a change).
set -euo pipefail

BENCH_NAME=start.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   timed runs per command (default 200, after 20 warm-up runs)" >&2
    echo "  --quick    smoke run for CI: 10 runs, 2 warm-up runs" >&2
    exit 2
}

ARGS=("$@")  # kept for the re-exec below
bench_parse_runs 200 20 "$@"

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, chroot)"

bench_locate_berth

# Re-executes in a private mount namespace without the cgroup2 mount of this hybrid host (crun
# refuses hybrid hosts); see lib.sh.
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

for tool in hyperfine crun runc python3 unshare chroot; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
bench_need_gnu_time

# Everything the benchmark creates lives under one temp dir: the busybox root, the OCI bundle, the
# runtimes' state dirs, berth's state, hyperfine's exports.
TMP=$(mktemp -d -t berth-bench.XXXXXX)
ROOT=$TMP/rootfs
BUNDLE=$TMP/bundle
CRUN_STATE=$TMP/crun-state
RUNC_STATE=$TMP/runc-state
BERTH_STATE=$TMP/berth-state

cleanup() {
    # A container left behind by an interrupted run still holds a cgroup (and maybe processes);
    # "delete -f" kills it and removes both. Each runtime only sees its own state dir here.
    bench_delete_oci_containers crun "$CRUN_STATE"
    bench_delete_oci_containers runc "$RUNC_STATE"
    # --one-file-system: should a container mount have leaked into this namespace, rm must not
    # descend into it.
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
# Ctrl-C reaches hyperfine and the runtimes too (same process group); exit so the EXIT trap runs.
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT"

# The OCI bundle for crun and runc: crun's default spec, narrowed to what the other contenders do.
mkdir -p "$CRUN_STATE" "$RUNC_STATE" "$BERTH_STATE"
bench_crun_bundle "$BUNDLE" "$ROOT"

# The commands, run by hyperfine directly (-N, no shell: subtracting a shell's start-up from a
# 3 ms floor made it noise). One fixed container id per runtime is enough, since "run" without
# --detach deletes the container when it exits (checked for crun 1.8.1 and runc 1.1.5).
FLOOR_CMD="unshare --fork --pid --mount --uts --ipc --net --cgroup chroot $ROOT /bin/true"
BERTH_CMD="$BERTH --root $BERTH_STATE run --rootfs $ROOT --network none --memory 64m -- /bin/true"
CRUN_CMD="crun --root $CRUN_STATE run --bundle $BUNDLE bench-crun"
RUNC_CMD="runc --root $RUNC_STATE run --bundle $BUNDLE bench-runc"

# berth's CLI is young: benchmark it only if it exists and a trial run succeeds, and say why not
# otherwise, so the others are still measured.
NAMES=(floor)
CMDS=("$FLOOR_CMD")
if [[ ! -x $BERTH ]]; then
    echo "start.sh: berth binary not found at $BERTH (build it with .ci/build-release or set BERTH_BIN); benchmarking the others only" >&2
elif ! out=$(sh -c "$BERTH_CMD" 2>&1); then
    echo "start.sh: berth failed its trial run, leaving it out: $BERTH_CMD" >&2
    echo "$out" | sed 's/^/  | /' >&2
else
    NAMES+=(berth)
    CMDS+=("$BERTH_CMD")
fi
# BERTH_BASELINE_BIN: another berth (an earlier commit's) in the same run, as "before", so a change
# is measured side by side with what it changes.
if [[ -n ${BERTH_BASELINE_BIN:-} ]]; then
    mkdir -p "$BERTH_STATE-before"
    BEFORE_CMD="$BERTH_BASELINE_BIN --root $BERTH_STATE-before run --rootfs $ROOT --network none --memory 64m -- /bin/true"
    out=$(sh -c "$BEFORE_CMD" 2>&1) || die "the baseline berth failed its trial run: $BEFORE_CMD"$'\n'"$out"
    NAMES+=(before)
    CMDS+=("$BEFORE_CMD")
fi
NAMES+=(crun runc)
CMDS+=("$CRUN_CMD" "$RUNC_CMD")

# The same trial for crun and runc, so a broken setup fails here with the runtime's own message
# rather than as a bare non-zero exit inside hyperfine.
for i in "${!NAMES[@]}"; do
    [[ ${NAMES[$i]} == berth ]] && continue
    out=$(sh -c "${CMDS[$i]}" 2>&1) || die "${NAMES[$i]} failed its trial run: ${CMDS[$i]}"$'\n'"$out"
done

HF_ARGS=(-N --runs "$RUNS" --warmup "$WARMUP" --export-json "$TMP/result.json" --export-markdown "$TMP/result.md")
for i in "${!NAMES[@]}"; do
    HF_ARGS+=(-n "${NAMES[$i]}" "${CMDS[$i]}")
done
echo
echo "== hyperfine: $RUNS runs, $WARMUP warm-up, /bin/true in a busybox root, 6 namespaces, 64 MiB limit"
hyperfine "${HF_ARGS[@]}"
echo
cat "$TMP/result.md"

# Peak RSS, measured apart from the timing runs (GNU time's wait4 adds its own overhead). ru_maxrss
# covers the runtime and the children it waits for (runc's "runc init", the container's /bin/true),
# so it is the whole runtime's footprint; the largest of a few runs counts.
RSS_RUNS=5
declare -A PEAK_RSS
for i in "${!NAMES[@]}"; do
    PEAK_RSS[${NAMES[$i]}]=$(bench_peak_rss "$RSS_RUNS" "${CMDS[$i]}")
done
RSS_ARGS=()
for n in "${NAMES[@]}"; do RSS_ARGS+=("$n=${PEAK_RSS[$n]}"); done

# The summary, from hyperfine's JSON: median wall time, mean user+sys CPU per run, ratios of the
# medians, peak RSS.
python3 - "$TMP/result.json" "${RSS_ARGS[@]}" <<'EOF'
import json, statistics, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
rss = dict(a.split("=", 1) for a in sys.argv[2:])
med = {n: statistics.median(r["times"]) * 1e3 for n, r in results.items()}

print()
print("== summary")
print(f"{'':8} {'median ms':>10} {'cpu ms/run':>11} {'peak RSS':>10}")
for n, r in results.items():
    cpu = (r["user"] + r["system"]) * 1e3
    print(f"{n:8} {med[n]:10.2f} {cpu:11.2f} {int(rss[n]) / 1024:7.1f} MiB")
print()
for other in ("crun", "runc", "floor", "before"):
    if "berth" in med and other in med:
        print(f"berth/{other:5} {med['berth'] / med[other]:6.2f}x  (median wall time)")
    elif other != "before":
        print(f"berth/{other:5}    n/a  (berth not benchmarked)")
EOF
