#!/usr/bin/env bash
# deploy.sh [--runs N] [--quick] — issue 15's deploy figures: a service of 2 actives and 2 backups
# (Tests/IntegrationTests/Fixtures/testapp.c, 300 ms boot) behind HAProxy, N deploys in a row
# under the open-loop load of Fixtures/loadgen.c at 200 req/s (keep-alive and new connections
# mixed). Prints each cycle's time and their median (goal: at most 4 s), p99 in the steady
# state and during the cycles (goal: within 1.5x), and the failed requests (must be 0).
#
# Runs in a network namespace of its own (a stand-in host: only lo), so neither berth's bridge
# nor HAProxy's listener touches the host's network. A compose.yaml per version, through
# `berth compose up -d` and `berth compose deploy web`.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp);
# BERTH_BENCH_KEEP=DIR keeps loadgen's records (one line a request, see loadgen.c) and the cycles'
# windows (BEGAN_MS ENDED_MS, unix time) in DIR, to see which requests were slow and when.
set -euo pipefail

BENCH_NAME=deploy.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   deploys in a row (default 10)" >&2
    echo "  --quick    smoke run for CI: 2 deploys" >&2
    exit 2
}

ARGS=("$@")
bench_parse_runs 10 0 "$@"
[[ $QUICK -eq 0 ]] || RUNS=2
[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts, networks)"
bench_locate_berth
[[ $RUNS -le 30 ]] || die "--runs: at most 30 deploys (the load is bounded to 120 s)"

if [[ -z ${BERTH_BENCH_IN_NETNS:-} ]]; then
    exec unshare --net env BERTH_BENCH_IN_NETNS=1 BERTH_BIN="$BERTH" BERTH_BENCH_KEEP="${BERTH_BENCH_KEEP:+$(realpath -m -- "$BERTH_BENCH_KEEP")}" \
        "$0" ${ARGS[@]+"${ARGS[@]}"}
fi
ip link set lo up
for tool in gcc chrt /usr/sbin/haproxy; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "$BERTH is not built (build it with .ci/build-release)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/berth-deploy-bench.XXXXXX")
ROOT=$WORK/state
CGROUP=berth-bench-deploy-$$
cleanup() {
    "$BERTH" --root "$ROOT" compose -p bench down -v >/dev/null 2>&1 || true
    if [[ -f $ROOT/compose/bench/haproxy.pid ]]; then
        kill -KILL "$(cat "$ROOT/compose/bench/haproxy.pid")" 2>/dev/null || true
    fi
    "$BERTH" --root "$ROOT" rm -f $("$BERTH" --root "$ROOT" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
    rm -rf "$WORK"
    bench_remove_cgroup_parent "$CGROUP" 2>/dev/null || true
}
trap cleanup EXIT

FIXTURES=$REPO/Tests/IntegrationTests/Fixtures
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/etc" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev" "$WORK/rootfs/tmp"
echo 'root:x:0:0:root:/root:/bin/sh' >"$WORK/rootfs/etc/passwd"
gcc -static -O2 -o "$WORK/rootfs/bin/testapp" "$FIXTURES/testapp.c"
gcc -static -O2 -o "$WORK/loadgen" "$FIXTURES/loadgen.c"
"$BERTH" --root "$ROOT" import "$WORK/rootfs" app:1 >/dev/null

spec() { # spec VERSION FILE: the service answering VERSION (15 s for a new instance to be healthy)
    cat >"$2" <<YAML
services:
  web:
    image: app:1
    command: ["/bin/testapp", "--port", "3000", "--version", "$1", "--boot-ms", "300"]
    healthcheck: { test: ["NONE"], interval: 100ms, timeout: 1s, retries: 3, start_period: 10600ms }
    stop_grace_period: 10s
    deploy: { replicas: 2 }
    cgroup_parent: $CGROUP
    x-berth:
      port: 3000
      proxy: { listen: "127.0.0.1:8080", backups: 2, health_path: /up }
YAML
}
spec v0 "$WORK/v0.yaml"
"$BERTH" --root "$ROOT" compose -f "$WORK/v0.yaml" -p bench up -d >/dev/null

now_ms() { date +%s%3N; }
SECONDS_OF_LOAD=$((RUNS * 4 + 6))
[[ $SECONDS_OF_LOAD -le 120 ]] || SECONDS_OF_LOAD=120
# The load generator stands for clients on other machines: as a real-time task it is never queued
# behind the deploy's work on this machine's two CPUs, so its own wake-up delays (which a remote
# client would not have) are not counted as the server's latency, in the steady state or in a cycle.
chrt --fifo 50 "$WORK/loadgen" 127.0.0.1 8080 200 "$SECONDS_OF_LOAD" 3000 "$WORK/records" >"$WORK/summary" &
LOAD=$!
sleep 3
WINDOWS=()
CYCLES=()
for n in $(seq 1 "$RUNS"); do
    spec "v$n" "$WORK/v$n.yaml"
    began=$(now_ms)
    "$BERTH" --root "$ROOT" compose -f "$WORK/v$n.yaml" -p bench deploy web >/dev/null
    ended=$(now_ms)
    CYCLES+=($((ended - began)))
    WINDOWS+=("$began:$ended")
    echo "deploy $n: $((ended - began)) ms"
done
LAST_END=$ended
wait "$LOAD"
if [[ -n ${BERTH_BENCH_KEEP:-} ]]; then
    mkdir -p "$BERTH_BENCH_KEEP"
    cp "$WORK/records" "$BERTH_BENCH_KEEP/records"
    printf '%s\n' "${WINDOWS[@]}" | tr ':' ' ' >"$BERTH_BENCH_KEEP/windows"
fi

median=$(printf '%s\n' "${CYCLES[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
# p99 of the passing requests scheduled inside a deploy window, and outside every one.
p99() { # p99 during|steady
    awk -v mode="$1" -v windows="${WINDOWS[*]}" '
        BEGIN { n = split(windows, w, " "); for (i = 1; i <= n; i++) { split(w[i], b, ":"); lo[i] = b[1]; hi[i] = b[2] } }
        $3 == "ok" { inside = 0; for (i = 1; i <= n; i++) if ($1 >= lo[i] && $1 <= hi[i]) inside = 1
                     if ((mode == "during") == inside) print $2 }' "$WORK/records" |
        sort -n | awk '{a[NR]=$1} END {k = int(NR * 0.99); if (k < 1) k = 1; if (NR) print a[k]; else print "n/a"}'
}
failed=$(awk '$3 != "ok"' "$WORK/records" | wc -l)
stale=$(awk -v t="$LAST_END" -v v="v$RUNS" '$1 > t && $3 == "ok" && $5 != v' "$WORK/records" | wc -l)
echo
echo "load: $(cat "$WORK/summary")"
echo "cycle median: $median ms over $RUNS deploys (goal: at most 4000 ms)"
echo "p99 steady: $(p99 steady) ms, during the cycles: $(p99 during) ms (goal: within 1.5x)"
echo "failed requests: $failed; answered by an older version after the last deploy: $stale"
[[ $failed -eq 0 && $stale -eq 0 ]]
