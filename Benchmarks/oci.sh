#!/usr/bin/env bash
# oci.sh [--runs N] [--podman-runs N] [--quick] — berth-oci, the OCI runtime (issue 18), against
# crun and runc, each part side by side in one hyperfine run. See Benchmarks/README.md ("oci.sh").
#
# (a) youki's published recipe: `create`, `start`, `delete -f` of a busybox bundle running
#     /bin/true (crun's default spec, narrowed as start.sh's: no pty, a 64 MiB limit, a cgroup
#     namespace), one shell command per runtime. youki's recipe also drops the page cache before
#     each run; this does not (it would slow every other user of the machine, and all three read
#     the same files).
# (b) `podman --runtime X run --rm busybox true`, sequential runs: the whole path a user sees,
#     conmon included. podman's storage and run state are under the temp dir (the host's podman
#     is untouched), the image is the busybox root imported there (no registry), `--network none`
#     (network setup is podman's, the same for every runtime). The runtimes keep their state in
#     their default roots (/run/berth-oci, /run/crun, /run/runc): podman's cleanup process calls
#     `delete --force` without the flags `--runtime-flag` gives, so a root given there would leave
#     every container's state and cgroup behind.
#
# Environment: BERTH_OCI_BIN (default: <repo>/.build-release/release/berth-oci, then
# <repo>/.build/release/berth-oci); TMPDIR: where the roots, bundles and state live.
set -euo pipefail

BENCH_NAME=oci.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--podman-runs N] [--quick]" >&2
    echo "  --runs N          runs of (a), create/start/delete (default 100, after 10 warm-up runs)" >&2
    echo "  --podman-runs N   runs of (b), podman run --rm (default 100, after 3 warm-up runs)" >&2
    echo "  --quick           smoke run for CI: 10 runs of (a), 3 of (b)" >&2
    exit 2
}

ARGS=("$@")  # kept for the re-exec below
PODMAN_RUNS=100
REST=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --podman-runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; PODMAN_RUNS=$2; shift 2 ;;
        *) REST+=("$1"); shift ;;
    esac
done
bench_parse_runs 100 10 ${REST[@]+"${REST[@]}"}
PODMAN_WARMUP=3
if ((QUICK)); then PODMAN_RUNS=3 PODMAN_WARMUP=1; fi

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts)"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${BERTH_OCI_BIN:-} ]]; then
    OCI=$(realpath -m -- "$BERTH_OCI_BIN")
elif [[ -x $REPO/.build-release/release/berth-oci ]]; then
    OCI=$REPO/.build-release/release/berth-oci
else
    OCI=$REPO/.build/release/berth-oci
fi
export BERTH_OCI_BIN=$OCI

# A private mount namespace without the hybrid host's cgroup2 mount, which crun refuses (lib.sh).
# BERTH is lib.sh's name for the binary it passes through the re-exec; here it is unused.
BERTH=$OCI
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

BUILD=".ci/build-release"
[[ -x $OCI ]] || die "berth-oci not found at $OCI (build it: $BUILD --product berth-oci; or set BERTH_OCI_BIN)"
[[ -x $(dirname "$OCI")/berth-entry ]] ||
    die "berth-entry must sit beside $OCI: every container process execs it ($BUILD --product berth-entry)"
for tool in hyperfine crun runc podman python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
CRUN=$(command -v crun)
RUNC=$(command -v runc)

TMP=$(mktemp -d -t berth-oci-bench.XXXXXX)
ROOT=$TMP/rootfs
BUNDLE=$TMP/bundle
PODMAN_DIR=$TMP/podman
NAMES=(berth-oci crun runc)
declare -A BINARY=([berth-oci]=$OCI [crun]=$CRUN [runc]=$RUNC)

podman_global() {
    echo "--root $PODMAN_DIR/storage --runroot $PODMAN_DIR/run --tmpdir $PODMAN_DIR/tmp" \
        "--network-config-dir $PODMAN_DIR/net --cgroup-manager cgroupfs --storage-driver vfs" \
        "--events-backend file --runtime ${BINARY[$1]}"
}

cleanup() {
    # A container left behind by an interrupted run still holds a cgroup and maybe processes:
    # "delete -f" kills it and removes both. Each runtime only sees its own state dirs here.
    local name
    for name in "${NAMES[@]}"; do
        bench_delete_oci_containers "${BINARY[$name]}" "$TMP/$name-state"
    done
    if [[ -d $PODMAN_DIR ]]; then
        # Removes podman's containers (through their runtime, in its default root) and storage.
        for name in "${NAMES[@]}"; do
            # shellcheck disable=SC2046  # podman_global is a list of words
            podman $(podman_global "$name") rm --all --force --time 0 >/dev/null 2>&1 || true
        done
        # shellcheck disable=SC2046
        podman $(podman_global berth-oci) system reset --force >/dev/null 2>&1 || true
    fi
    # --one-file-system: should a mount have leaked into this namespace, rm must not descend.
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
# Ctrl-C reaches hyperfine and the runtimes too (same process group); exit so the EXIT trap runs.
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT"
bench_crun_bundle "$BUNDLE" "$ROOT"

# (a) youki's recipe. The commands are shell lines (create && start && delete), as youki's are.
CMDS=()
for name in "${NAMES[@]}"; do
    mkdir -p "$TMP/$name-state"
    rt="${BINARY[$name]} --root $TMP/$name-state"
    cmd="$rt create --bundle $BUNDLE bench && $rt start bench && $rt delete -f bench"
    out=$(sh -c "$cmd" 2>&1) || die "$name failed its trial run: $cmd"$'\n'"$out"
    CMDS+=(-n "$name" "$cmd")
done
echo
echo "== (a) create, start, delete -f of a busybox bundle running /bin/true: $RUNS runs, $WARMUP warm-up"
hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$TMP/recipe.json" "${CMDS[@]}"

# (b) podman run --rm, sequential. The image is made once, in storage all runtimes share.
# shellcheck disable=SC2046
tar -C "$ROOT" -cf "$TMP/busybox.tar" . &&
    podman $(podman_global berth-oci) import "$TMP/busybox.tar" localhost/busybox:bench >/dev/null ||
    die "podman import of the busybox root failed"
# root lacks CAP_SYS_RESOURCE on this machine: podman's default nofile limit is higher than it may set.
PODMAN_RUN="run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 localhost/busybox:bench true"
CMDS=()
for name in "${NAMES[@]}"; do
    cmd="podman $(podman_global "$name") $PODMAN_RUN"
    out=$($cmd 2>&1) || die "podman with $name failed its trial run: $cmd"$'\n'"$out"
    CMDS+=(-n "podman+$name" "$cmd")
done
echo
echo "== (b) podman --runtime X run --rm busybox true: $PODMAN_RUNS sequential runs, $PODMAN_WARMUP warm-up"
hyperfine -N --runs "$PODMAN_RUNS" --warmup "$PODMAN_WARMUP" --export-json "$TMP/podman.json" "${CMDS[@]}"

# The summary: medians, CPU per run, ratios of the medians against the issue's goals.
python3 - "$TMP/recipe.json" "$TMP/podman.json" <<'EOF'
import json, statistics, sys

def medians(path):
    results = json.load(open(path))["results"]
    return {r["command"]: (statistics.median(r["times"]) * 1e3, (r["user"] + r["system"]) * 1e3) for r in results}

for title, path, prefix in (("(a) create/start/delete", sys.argv[1], ""), ("(b) podman run --rm", sys.argv[2], "podman+")):
    m = medians(path)
    print()
    print(f"== summary {title}")
    print(f"{'':18} {'median ms':>10} {'cpu ms/run':>11}")
    for name, (median, cpu) in m.items():
        print(f"{name:18} {median:10.2f} {cpu:11.2f}")
    ours = m[prefix + "berth-oci"][0]
    for other in ("crun", "runc"):
        print(f"berth-oci/{other:5} {ours / m[prefix + other][0]:6.2f}x  (median wall time)")
a = medians(sys.argv[1])
b = medians(sys.argv[2])
print()
goal_a = a["berth-oci"][0] <= 0.7 * a["crun"][0]
goal_b = b["podman+berth-oci"][0] <= min(b["podman+crun"][0], b["podman+runc"][0])
print(f"goal (a) berth-oci <= 0.7x crun: {'met' if goal_a else 'not met'}")
print(f"goal (b) berth-oci fastest under podman: {'met' if goal_b else 'not met'}")
EOF
