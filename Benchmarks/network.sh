#!/usr/bin/env bash
# network.sh [--runs N] [--quick] — what a container's network adds to its start: `berth run --rm
# IMAGE /bin/true` with --network none, on the default bridge, on the bridge with -p 8080:80 and
# on a CNI network (Debian's bridge + host-local + portmap plugins); and the first three with Debian's podman (runc, its CNI bridge and portmap) on the same busybox
# files, side by side in one hyperfine run. See Benchmarks/README.md.
#
# Runs in a network namespace of its own (a stand-in host: only lo), so neither berth's bridge and
# nftables table nor podman's CNI bridge and iptables chains touch the host's network.
#
# Prints hyperfine's table, then medians, CPU per run, bridge − none and -p − bridge in ms
# (targets: at most 5 ms and 2 ms), cni − bridge, and podman's figures beside berth's. Then the
# same three berth commands again, alternating (none, bridge, -p, none, ...): hyperfine runs each
# command's runs as one block, minutes apart on a machine whose speed drifts, and the
# differences the targets are about are smaller than that drift; alternating, they are not.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp).
set -euo pipefail

BENCH_NAME=network.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   timed runs per command (default 100, after 10 warm-up runs)" >&2
    echo "  --quick    smoke run for CI: 10 runs, 2 warm-up runs" >&2
    exit 2
}

ARGS=("$@")
bench_parse_runs 100 10 "$@"
[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts, networks)"
bench_locate_berth

# A stand-in host: a fresh network namespace (lo up), entered once by re-executing this script.
if [[ -z ${BERTH_BENCH_IN_NETNS:-} ]]; then
    exec unshare --net env BERTH_BENCH_IN_NETNS=1 BERTH_BIN="$BERTH" "$0" ${ARGS[@]+"${ARGS[@]}"}
fi
ip link set lo up

for tool in hyperfine podman python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
for plugin in bridge host-local portmap; do
    [[ -x /usr/lib/cni/$plugin ]] || die "the CNI plugin $plugin is not in /usr/lib/cni (apt-get install containernetworking-plugins)"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"

TMP=$(mktemp -d -t berth-network.XXXXXX)
ROOT=$TMP/rootfs
STATE=$TMP/berth-state
PODMAN_ROOT=$TMP/podman-root
PODMAN_RUN=$TMP/podman-run
CGROUP_PARENT=berth-bench-network-$$

cleanup() {
    bench_remove_berth_containers "$BERTH" "$STATE"
    podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUN" rm -af >/dev/null 2>&1 || true
    umount -R "$PODMAN_ROOT" 2>/dev/null || true
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT" >/dev/null
"$BERTH" --root "$STATE" import "$ROOT" bench/busybox:1 >/dev/null
cat >"$TMP/bench.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "berth-bench", "plugins": [
  {"type": "bridge", "bridge": "cni-bench", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "dataDir": "$TMP/cni-ipam", "ranges": [[{"subnet": "10.99.250.0/24"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
EOF
"$BERTH" --root "$STATE" network create --driver cni --config "$TMP/bench.conflist" cnibench >/dev/null
PODMAN="podman --root $PODMAN_ROOT --runroot $PODMAN_RUN --runtime /usr/sbin/runc --cgroup-manager cgroupfs --events-backend none"
tar -C "$ROOT" -c . | $PODMAN import - bench/busybox:1 >/dev/null
# Root here cannot raise rlimits past their hard limits (no CAP_SYS_RESOURCE): podman's defaults would fail.
PODMAN_RUN_FLAGS="--rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

NAMES=(berth-none berth-bridge berth-publish podman-none podman-bridge podman-publish berth-cni)
CMDS=(
    "$BERTH --root $STATE run --rm --cgroup-parent $CGROUP_PARENT --network none bench/busybox:1 /bin/true"
    "$BERTH --root $STATE run --rm --cgroup-parent $CGROUP_PARENT bench/busybox:1 /bin/true"
    "$BERTH --root $STATE run --rm --cgroup-parent $CGROUP_PARENT -p 8080:80 bench/busybox:1 /bin/true"
    "$PODMAN run $PODMAN_RUN_FLAGS --network none bench/busybox:1 /bin/true"
    "$PODMAN run $PODMAN_RUN_FLAGS bench/busybox:1 /bin/true"
    "$PODMAN run $PODMAN_RUN_FLAGS -p 8080:80 bench/busybox:1 /bin/true"
    "$BERTH --root $STATE run --rm --cgroup-parent $CGROUP_PARENT --network cnibench bench/busybox:1 /bin/true"
)
for i in "${!NAMES[@]}"; do
    out=$(sh -c "${CMDS[$i]}" 2>&1) || die "${NAMES[$i]} failed its trial run: ${CMDS[$i]}"$'\n'"$out"
done

# podman takes hundreds of ms a run: fewer of its runs keep the whole under a few minutes.
PODMAN_RUNS=$(( RUNS < 20 ? RUNS : 20 ))
HF_ARGS=(-N --warmup "$WARMUP" --export-json "$TMP/result.json" --export-markdown "$TMP/result.md")
echo
echo "== hyperfine: berth $RUNS runs, podman $PODMAN_RUNS runs, $WARMUP warm-up, /bin/true in a busybox image"
hyperfine "${HF_ARGS[@]}" --runs "$RUNS" -n "${NAMES[0]}" "${CMDS[0]}" -n "${NAMES[1]}" "${CMDS[1]}" -n "${NAMES[2]}" "${CMDS[2]}" \
    -n "${NAMES[6]}" "${CMDS[6]}"
cp "$TMP/result.json" "$TMP/berth.json"
cat "$TMP/result.md"
HF_ARGS=(-N --warmup 2 --export-json "$TMP/result.json" --export-markdown "$TMP/result.md")
hyperfine "${HF_ARGS[@]}" --runs "$PODMAN_RUNS" -n "${NAMES[3]}" "${CMDS[3]}" -n "${NAMES[4]}" "${CMDS[4]}" -n "${NAMES[5]}" "${CMDS[5]}"
cat "$TMP/result.md"

left=$("$BERTH" --root "$STATE" ps -a -q | wc -l)
((left == 0)) || echo "network.sh: $left container(s) left behind by run --rm" >&2
veths=$(ip -o link show | grep -c ': vb' || true)
((veths == 0)) || echo "network.sh: $veths veth(s) left behind" >&2
addresses=$(find "$TMP/cni-ipam" -name '[0-9]*.[0-9]*' 2>/dev/null | wc -l)
((addresses == 0)) || echo "network.sh: $addresses CNI address(es) left held in host-local" >&2

python3 - "$TMP/berth.json" "$TMP/result.json" <<'PY'
import json, statistics, sys
results = {}
for path in sys.argv[1:]:
    results.update({r["command"]: r for r in json.load(open(path))["results"]})
med = {n: statistics.median(r["times"]) * 1e3 for n, r in results.items()}
print()
print("== summary")
print(f"{'':15} {'median ms':>10} {'cpu ms/run':>11}")
for n, r in results.items():
    print(f"{n:15} {med[n]:10.2f} {(r['user'] + r['system']) * 1e3:11.2f}")
print()
bridge = med["berth-bridge"] - med["berth-none"]
publish = med["berth-publish"] - med["berth-bridge"]
print(f"berth bridge - none   {bridge:+7.2f} ms  (target at most 5 ms: {'ok' if bridge <= 5 else 'missed'})")
print(f"berth -p - bridge     {publish:+7.2f} ms  (target at most 2 ms: {'ok' if publish <= 2 else 'missed'})")
print(f"berth cni - bridge    {med['berth-cni'] - med['berth-bridge']:+7.2f} ms  (the CNI plugins' execs)")
print(f"podman bridge - none  {med['podman-bridge'] - med['podman-none']:+7.2f} ms")
print(f"podman -p - bridge    {med['podman-publish'] - med['podman-bridge']:+7.2f} ms")
for mode in ("none", "bridge", "publish"):
    print(f"berth/podman {mode:8} {med['berth-' + mode] / med['podman-' + mode]:6.3f}x  (median wall time)")
PY

# The three berth commands alternating, each run timed alone (wall time, monotonic clock).
echo
echo "== alternating: none, bridge, -p in turn, $RUNS rounds"
python3 - "$RUNS" "${CMDS[0]}" "${CMDS[1]}" "${CMDS[2]}" <<'PY'
import shlex, statistics, subprocess, sys, time
rounds, commands = int(sys.argv[1]), [shlex.split(c) for c in sys.argv[2:5]]
times = [[], [], []]
for _ in range(rounds):
    for i, command in enumerate(commands):
        started = time.monotonic()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times[i].append((time.monotonic() - started) * 1e3)
none, bridge, publish = (statistics.median(t) for t in times)
print(f"medians: none {none:.2f}  bridge {bridge:.2f}  -p {publish:.2f} ms")
print(f"berth bridge - none   {bridge - none:+7.2f} ms  (target at most 5 ms: {'ok' if bridge - none <= 5 else 'missed'})")
print(f"berth -p - bridge     {publish - bridge:+7.2f} ms  (target at most 2 ms: {'ok' if publish - bridge <= 2 else 'missed'})")
PY
