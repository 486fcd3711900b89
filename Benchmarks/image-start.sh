#!/usr/bin/env bash
# image-start.sh [--runs N] [--quick] — what an image's overlay root adds to a container's start:
# `berth run --rm IMAGE /bin/true` against `berth run --rootfs DIR /bin/true` on the same busybox
# files, with crun as the reference, side by side in one hyperfine run. See Benchmarks/README.md.
#
#   overlay  berth --root STATE run --rm --cgroup-parent P --memory 64m bench/busybox:1 /bin/true
#            image lookup, container record and dirs (upper, work, links), overlayfs mount over the
#            image's unpacked layer, and the removal of all of it at exit (--rm).
#   rootfs   berth --root STATE run --rootfs ROOT --cgroup-parent P --memory 64m -- /bin/true
#            the same flags, the busybox directory itself as the root; nothing kept.
#   crun     crun --root STATE run --bundle B ID, the bundle start.sh uses (lib.sh).
#
# Prints hyperfine's table, then medians, CPU per run, overlay − rootfs in ms (target < 1 ms),
# ratios against crun, and peak RSS (GNU time %M) of each.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp): where the
# roots, bundles and state live, so the filesystem under them can be chosen.
set -euo pipefail

BENCH_NAME=image-start.sh
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

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts)"

bench_locate_berth

# A plain cgroup v1 host for every contender, as in start.sh (crun refuses this hybrid host).
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

for tool in hyperfine crun python3 unshare; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"
bench_need_gnu_time

# Everything under one temp dir; berth's container cgroups under a parent of our own.
TMP=$(mktemp -d -t berth-image-start.XXXXXX)
ROOT=$TMP/rootfs
BUNDLE=$TMP/bundle
CRUN_STATE=$TMP/crun-state
STATE=$TMP/berth-state
CGROUP_PARENT=berth-bench-start-$$

cleanup() {
    bench_delete_oci_containers crun "$CRUN_STATE"
    # An interrupted --rm run can leave its container behind.
    bench_remove_berth_containers "$BERTH" "$STATE"
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT"
mkdir -p "$CRUN_STATE"
bench_crun_bundle "$BUNDLE" "$ROOT"
"$BERTH" --root "$STATE" import "$ROOT" bench/busybox:1 >/dev/null

FLAGS="--cgroup-parent $CGROUP_PARENT --network none --memory 64m"
NAMES=(overlay rootfs crun)
CMDS=(
    "$BERTH --root $STATE run --rm $FLAGS bench/busybox:1 /bin/true"
    "$BERTH --root $STATE run --rootfs $ROOT $FLAGS -- /bin/true"
    "crun --root $CRUN_STATE run --bundle $BUNDLE bench-crun"
)
# A trial run each, so a broken setup fails here with its own message (and the image's layer is
# unpacked before the timing starts).
for i in "${!NAMES[@]}"; do
    out=$(sh -c "${CMDS[$i]}" 2>&1) || die "${NAMES[$i]} failed its trial run: ${CMDS[$i]}"$'\n'"$out"
done

HF_ARGS=(-N --runs "$RUNS" --warmup "$WARMUP" --export-json "$TMP/result.json" --export-markdown "$TMP/result.md")
for i in "${!NAMES[@]}"; do
    HF_ARGS+=(-n "${NAMES[$i]}" "${CMDS[$i]}")
done
echo
echo "== hyperfine: $RUNS runs, $WARMUP warm-up, /bin/true in a busybox root, 64 MiB limit"
hyperfine "${HF_ARGS[@]}"
echo
cat "$TMP/result.md"

RSS_ARGS=()
for i in "${!NAMES[@]}"; do
    RSS_ARGS+=("${NAMES[$i]}=$(bench_peak_rss 5 "${CMDS[$i]}")")
done
# --rm must have removed every container the timed runs made.
left=$("$BERTH" --root "$STATE" ps -a -q | wc -l)
((left == 0)) || echo "image-start.sh: $left container(s) left behind by run --rm" >&2

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
diff = med["overlay"] - med["rootfs"]
print(f"overlay - rootfs {diff:+6.2f} ms  (median wall time; target < 1 ms: {'ok' if diff < 1 else 'missed'})")
for n in ("overlay", "rootfs"):
    print(f"{n}/crun {med[n] / med['crun']:9.2f}x  (median wall time)")
EOF
