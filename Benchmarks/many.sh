#!/usr/bin/env bash
# many.sh [--runs N] [--quick] — many containers at once: 100 started one after another and 20
# started together, total wall time and total CPU, berth against crun and runc in one run. See
# Benchmarks/README.md.
#
# A round starts, for each contender in turn, N containers in a row (each waited for before the
# next) and then P at once (all launched, then all waited for), each running /bin/true in the
# same busybox files with a 64 MiB memory limit:
#
#   berth-image   berth --root STATE run --rm --cgroup-parent CG --network none --memory 64m bench/busybox:1 /bin/true
#   berth-rootfs  berth --root STATE run --rm --rootfs ROOT --cgroup-parent CG --network none --memory 64m -- /bin/true
#   berth-bridge  berth-image on berth's default bridge (in this script's own network namespace)
#   crun, runc    crun/runc --root STATE run --bundle B bench-crun-I / bench-runc-I (start.sh's bundle)
#
# A small Python driver spawns them and reaps each with wait4: wall time from the first spawn to
# the last reap, CPU as the sum of the children's user + system time (each runtime and every
# process it waits for). Prints each round (with the memory controller's cgroup count), then the
# median round's wall and CPU, both also per container, and berth's ratios against crun and runc.
# After every berth batch it checks that `berth ps -a -q` is empty (--rm removed everything) and
# warns otherwise.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp): where the
# roots, bundles and state live.
set -euo pipefail

BENCH_NAME=many.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   rounds (default 5), each 100 containers in a row and 20 at once per contender" >&2
    echo "  --quick    smoke run for CI: 1 round of 10 in a row and 4 at once" >&2
    exit 2
}

ARGS=("$@")  # kept for the re-exec below
bench_parse_runs 5 0 "$@"
SEQUENTIAL=100 PARALLEL=20
if ((QUICK)); then
    RUNS=1 SEQUENTIAL=10 PARALLEL=4
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts, networks)"

bench_locate_berth

# A plain cgroup v1 host for every contender, as in start.sh (crun refuses this hybrid host), and
# a network namespace of its own: berth's bridge and nftables table are made there, never on the
# host.
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

for tool in crun runc python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"

TMP=$(mktemp -d -t berth-many.XXXXXX)
ROOT=$TMP/rootfs
BUNDLE=$TMP/bundle
CRUN_STATE=$TMP/crun-state
RUNC_STATE=$TMP/runc-state
STATE=$TMP/berth-state
CGROUP_PARENT=berth-bench-many-$$

cleanup() {
    # The driver is gone by now (Ctrl-C reaches the whole process group); what an interrupted
    # batch left is removed with each runtime's own forced delete, which kills and unlinks its
    # cgroup too.
    bench_delete_oci_containers crun "$CRUN_STATE"
    bench_delete_oci_containers runc "$RUNC_STATE"
    bench_remove_berth_containers "$BERTH" "$STATE"
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT" >/dev/null
mkdir -p "$CRUN_STATE" "$RUNC_STATE"
bench_crun_bundle "$BUNDLE" "$ROOT"
"$BERTH" --root "$STATE" import "$ROOT" bench/busybox:1 >/dev/null

# {i} is the container's number in its batch: crun and runc need an id of their own for each of
# the containers that run together; berth generates a name for each.
FLAGS="--rm --cgroup-parent $CGROUP_PARENT --memory 64m"
NAMES=(berth-image berth-rootfs berth-bridge crun runc)
CMDS=(
    "$BERTH --root $STATE run $FLAGS --network none bench/busybox:1 /bin/true"
    "$BERTH --root $STATE run $FLAGS --network none --rootfs $ROOT -- /bin/true"
    "$BERTH --root $STATE run $FLAGS bench/busybox:1 /bin/true"
    "crun --root $CRUN_STATE run --bundle $BUNDLE bench-crun-{i}"
    "runc --root $RUNC_STATE run --bundle $BUNDLE bench-runc-{i}"
)
# A trial run each, so a broken setup fails here with its own message (and the image's layer is
# unpacked, berth's bridge made, before the timing starts).
for i in "${!NAMES[@]}"; do
    out=$(sh -c "${CMDS[$i]//\{i\}/trial}" 2>&1) || die "${NAMES[$i]} failed its trial run: ${CMDS[$i]}"$'\n'"$out"
done

CONTENDERS=()
for i in "${!NAMES[@]}"; do
    CONTENDERS+=("${NAMES[$i]}=${CMDS[$i]}")
done
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== $RUNS round(s): $SEQUENTIAL containers in a row, then $PARALLEL at once, per contender; /bin/true in a busybox root, 64 MiB limit"
python3 - "$TMP/result.json" "$RUNS" "$SEQUENTIAL" "$PARALLEL" "$BERTH --root $STATE ps -a -q" \
    "${CONTENDERS[@]}" <<'EOF'
import json, os, shlex, subprocess, sys, time

out, rounds, sequential, parallel, check = sys.argv[1], *map(int, sys.argv[2:5]), sys.argv[5]
contenders = [a.split("=", 1) for a in sys.argv[6:]]

def spawn(template, i):
    # stdin from /dev/null: the driver's own stdin is this heredoc.
    argv = shlex.split(template.replace("{i}", str(i)))
    devnull = [(os.POSIX_SPAWN_OPEN, fd, "/dev/null", os.O_RDWR, 0) for fd in (0, 1)]
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=devnull)

def reap(pid, name):
    # wait4's rusage covers the child and every descendant it waited for.
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        sys.exit(f"many.sh: a {name} container failed (wait status {status})")
    return usage.ru_utime + usage.ru_stime

def memory_cgroups():
    # num_cgroups of the memory controller counts the dying ones too (a removed cgroup lingers
    # while page cache is still charged to it): printed per round, so that a drift across rounds
    # can be told apart from a pile-up of them.
    for line in open("/proc/cgroups"):
        fields = line.split()
        if fields[0] == "memory":
            return fields[2]
    return "?"

def batch(name, template, count, together):
    cpu = 0.0
    start = time.perf_counter()
    if together:
        pids = [spawn(template, i) for i in range(count)]
        cpu = sum(reap(pid, name) for pid in pids)
    else:
        for i in range(count):
            cpu += reap(spawn(template, i), name)
    wall = time.perf_counter() - start
    if name.startswith("berth"):
        left = subprocess.run(shlex.split(check), capture_output=True, text=True).stdout.split()
        if left:
            print(f"many.sh: {len(left)} container(s) left behind by {name} run --rm", file=sys.stderr)
    return {"wall": wall * 1e3, "cpu": cpu * 1e3}

results = {mode: {name: [] for name, _ in contenders} for mode in ("sequential", "parallel")}
for r in range(rounds):
    for mode, count, together in (("sequential", sequential, False), ("parallel", parallel, True)):
        line = []
        for name, template in contenders:
            m = batch(name, template, count, together)
            results[mode][name].append(m)
            line.append(f"{name} {m['wall']:.0f}/{m['cpu']:.0f}")
        line.append(f"memcgs {memory_cgroups()}")
        print(f"round {r + 1} {mode:10} (wall/cpu ms)  " + "  ".join(line), flush=True)
json.dump({"counts": {"sequential": sequential, "parallel": parallel}, "results": results}, open(out, "w"))
EOF
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$TMP/result.json" "$LOAD_BEFORE" "$LOAD_AFTER" "$(nproc)" <<'EOF'
import json, statistics, sys
data = json.load(open(sys.argv[1]))
counts, results = data["counts"], data["results"]

print()
print(f"== summary: median round (load average before: {sys.argv[2]}, after: {sys.argv[3]}; {sys.argv[4]} CPUs)")
med = {}
for mode, by_name in results.items():
    n = counts[mode]
    print()
    print(f"{mode}, {n} containers {'in a row' if mode == 'sequential' else 'at once'}")
    print(f"{'':13} {'wall ms':>9} {'cpu ms':>9} {'wall/ctr':>9} {'cpu/ctr':>9}")
    for name, rounds in by_name.items():
        wall = statistics.median(r["wall"] for r in rounds)
        cpu = statistics.median(r["cpu"] for r in rounds)
        med[mode, name] = (wall, cpu)
        print(f"{name:13} {wall:9.1f} {cpu:9.1f} {wall / n:9.2f} {cpu / n:9.2f}")
print()
print("ratios of the medians (wall, cpu); below 1 means berth is faster or cheaper")
for mode in results:
    for berth in (n for n in results[mode] if n.startswith("berth")):
        for other in ("crun", "runc"):
            (bw, bc), (ow, oc) = med[mode, berth], med[mode, other]
            print(f"{mode:10} {berth + '/' + other:18} {bw / ow:5.2f}x wall {bc / oc:5.2f}x cpu")
EOF
