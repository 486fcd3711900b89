#!/usr/bin/env bash
# commit.sh [--quick] — `berth commit` against the floor of packing the same files with the
# standard tools, for upper dirs of 10, 1 000 and 10 000 small files. See Benchmarks/README.md.
#
# What is compared, per size, side by side in one hyperfine run:
#   commit  berth --root STATE commit cN bench/commit:N
#           the whole command: CLI, store lock, walk of the container's overlay upper dir, tar
#           (pax) + gzip (libarchive's default, level 6) + sha256 of both the tar (diff_id) and the
#           gzip (blob digest), fsync and rename of the blob, new config, manifest and index.
#   floor   sh -c 'tar -C UPPER -cf - . | gzip | sha256sum'
#           GNU tar, gzip at its default level (6) and one sha256, a 3-process pipeline (so up to
#           3 cores); nothing is written to disk.
# Both read the same upper dir, hot in the page cache after the warm-up runs. The files are
# 100–4000 bytes of word-like text (gzip shrinks it about 2×), spread over nested directories of at
# most 100 files. Every commit stores the same layer (deduplicated by digest) under a new config
# (the date differs) and moves the one tag, so repeated commits do not grow the image index.
#
# Prints hyperfine's tables, then the medians and the ratio commit/floor per size (target ≤ 1.2×).
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp): where the
# roots, bundles and state live, so the filesystem under them can be chosen.
set -euo pipefail

BENCH_NAME=commit.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--quick]" >&2
    echo "  --quick    smoke run for CI: fewer runs per size" >&2
    exit 2
}

ARGS=("$@")  # kept for the re-exec below
QUICK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1; shift ;;
        *) usage ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root (berth run needs namespaces and cgroups)"

bench_locate_berth

# Only the setup runs a container, but berth's run is measured the same way everywhere (a plain v1
# host), and any mount that leaks stays in this private namespace.
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

for tool in hyperfine python3 unshare tar gzip sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"

# Sizes, and runs per size (timed, warm-up): a 10 000-file commit takes about a second.
SIZES=(10 1000 10000)
if ((QUICK)); then
    declare -A RUNS=([10]=10 [1000]=5 [10000]=3) WARMUP=([10]=1 [1000]=1 [10000]=1)
else
    declare -A RUNS=([10]=100 [1000]=30 [10000]=10) WARMUP=([10]=5 [1000]=3 [10000]=2)
fi

# Everything lives under one temp dir (busybox root, berth's state, hyperfine's exports); the
# containers' cgroups go under a parent of our own, removed at the end.
TMP=$(mktemp -d -t berth-commit-bench.XXXXXX)
ROOT=$TMP/rootfs
STATE=$TMP/state
CGROUP_PARENT=berth-bench-commit-$$

cleanup() {
    bench_remove_berth_containers "$BERTH" "$STATE"
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    # --one-file-system: should a container mount have leaked into this namespace, rm must not
    # descend into it.
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
# Ctrl-C reaches hyperfine and berth too (same process group); exit so the EXIT trap runs.
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT"
"$BERTH" --root "$STATE" import "$ROOT" bench/busybox:1 >/dev/null

# fill_upper DIR COUNT: COUNT files of 100–4000 bytes under DIR/bench/dI/eJ/, at most 100 files a
# directory. Slices of one pseudo-random text (fixed seed: every run packs the same bytes).
fill_upper() {
    python3 - "$1" "$2" <<'EOF'
import os, random, sys
top, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(4242)
letters = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(4000)]
text = (" ".join(rng.choice(words) for _ in range(300_000))).encode()
for i in range(count):
    d = os.path.join(top, "bench", f"d{i // 1000}", f"e{i // 100 % 10}")
    os.makedirs(d, exist_ok=True)
    size = rng.randint(100, 4000)
    start = rng.randrange(len(text) - size)
    with open(os.path.join(d, f"f{i}.txt"), "wb") as f:
        f.write(text[start:start + size])
EOF
}

# One container per size: it runs /bin/true (so berth made its overlay upper dir), then its upper
# dir is filled from the host. commit only reads the upper dir, so this is what files created inside
# the container would give, minus the busybox loop.
declare -A UPPER
for n in "${SIZES[@]}"; do
    "$BERTH" --root "$STATE" run --name "c$n" --network none --cgroup-parent "$CGROUP_PARENT" bench/busybox:1 /bin/true
    id=$("$BERTH" --root "$STATE" inspect -f '{{.Id}}' "c$n")
    UPPER[$n]=$STATE/containers/$id/upper
    [[ -d ${UPPER[$n]} ]] || die "container c$n has no upper dir at ${UPPER[$n]}"
    fill_upper "${UPPER[$n]}" "$n"
    echo "c$n: $n files, $(du -sk --apparent-size "${UPPER[$n]}" | cut -f1) KiB apparent"
done

for n in "${SIZES[@]}"; do
    echo
    echo "== hyperfine: $n files, ${RUNS[$n]} runs, ${WARMUP[$n]} warm-up"
    hyperfine -N --runs "${RUNS[$n]}" --warmup "${WARMUP[$n]}" --export-json "$TMP/result-$n.json" \
        -n "commit-$n" "$BERTH --root $STATE commit c$n bench/commit:$n" \
        -n "floor-$n" "sh -c 'tar -C ${UPPER[$n]} -cf - . | gzip | sha256sum'"
done

# The summary, from hyperfine's JSON: medians, mean CPU (user + sys, all processes) and the ratio.
python3 - "$TMP" "${SIZES[@]}" <<'EOF'
import json, statistics, sys
tmp, sizes = sys.argv[1], sys.argv[2:]
print()
print("== summary (median wall ms; cpu = mean user+sys ms per run)")
print(f"{'files':>6} {'commit ms':>10} {'floor ms':>9} {'commit cpu':>11} {'floor cpu':>10} {'commit/floor':>13}")
for n in sizes:
    r = {x["command"].split("-")[0]: x for x in json.load(open(f"{tmp}/result-{n}.json"))["results"]}
    med = {k: statistics.median(v["times"]) * 1e3 for k, v in r.items()}
    cpu = {k: (v["user"] + v["system"]) * 1e3 for k, v in r.items()}
    ratio = med["commit"] / med["floor"]
    mark = "ok" if ratio <= 1.2 else "above the 1.2x target"
    print(f"{n:>6} {med['commit']:10.2f} {med['floor']:9.2f} {cpu['commit']:11.2f} {cpu['floor']:10.2f} {ratio:12.2f}x  {mark}")
EOF
