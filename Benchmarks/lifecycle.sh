#!/usr/bin/env bash
# lifecycle.sh [--runs N] [--quick] — detached containers: `berth run -d`, `berth ps` with many
# containers, `berth exec`, next to crun, and the resident memory of the per-container monitors.
# See Benchmarks/README.md.
#
#   run-d    berth --root STATE run -d --name bench-run --cgroup-parent P --memory 64m IMAGE sleep 1000
#            until it returns (the container's process has exec'd), against
#            crun --root CSTATE run --detach --bundle B bench-crun-run (same busybox, sleep 1000).
#            A prepare step removes the previous run's container (rm -f / delete -f), untimed.
#   ps       berth ps, and berth ps -a -q, with N containers running (sleep 1000).
#   exec     berth exec C true against crun exec ID true, each on a running sleep 1000 container.
#   monitor  VmRSS and Pss (/proc/PID/smaps_rollup) of the N berth-monitor processes:
#            min / median / max, target <= 2 MiB each.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth; berth-monitor must sit next to it);
# TMPDIR (default /tmp): where the roots, bundles and state live; BERTH_BASELINE_BIN: another berth
# (berth-monitor beside it) measured in the same run as "before", for run -d and exec.
set -euo pipefail

# shellcheck disable=SC2034  # read by lib.sh
BENCH_NAME=lifecycle.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   timed runs per command (default 100, after 5 warm-up runs); 100 containers" >&2
    echo "  --quick    smoke run for CI: 10 runs, 2 warm-up runs, 10 containers (< 60 s)" >&2
    exit 2
}

ARGS=("$@")  # kept for the re-exec below
bench_parse_runs 100 5 "$@"
COUNT=$((QUICK ? 10 : 100))

[[ $(id -u) -eq 0 ]] || die "must run as root (namespaces, cgroups, mounts)"

bench_locate_berth

# A plain cgroup v1 host for berth and crun alike (crun refuses this hybrid host); see lib.sh.
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}

for tool in hyperfine crun python3 unshare; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"
[[ -x $(dirname "$BERTH")/berth-monitor ]] || die "berth-monitor not found next to $BERTH"

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

TMP=$(mktemp -d -t berth-lifecycle.XXXXXX)
ROOT=$TMP/rootfs
BUNDLE=$TMP/bundle
CRUN_STATE=$TMP/crun-state
STATE=$TMP/berth-state
CGROUP_PARENT=berth-bench-lifecycle-$$
IMAGE=bench/busybox:1

cleanup() {
    bench_delete_oci_containers crun "$CRUN_STATE"
    bench_remove_berth_containers "$BERTH" "$STATE"
    [[ -z ${BEFORE:-} ]] || bench_remove_berth_containers "$BEFORE" "$STATE-before"
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# berth run -d: stdout and stderr always go to files. The monitor inherits the CLI's stdout and
# stderr, so `id=$(berth run -d ...)` would wait for the monitor, i.e. for the container's end.
berth_run_detached() {
    "$BERTH" --root "$STATE" run -d --network none --cgroup-parent "$CGROUP_PARENT" "$@" \
        >"$TMP/run.out" 2>"$TMP/run.err" </dev/null ||
        die "berth run -d $*: $(cat "$TMP/run.err")"
    cat "$TMP/run.out"
}

"$REPO/rootfs-scripts/busybox.sh" "$ROOT" >/dev/null
mkdir -p "$CRUN_STATE"
bench_crun_bundle "$BUNDLE" "$ROOT"
python3 - "$BUNDLE/config.json" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"] = ["sleep", "1000"]
json.dump(c, open(sys.argv[1], "w"), indent=2)
EOF
"$BERTH" --root "$STATE" import "$ROOT" "$IMAGE" >/dev/null
# BERTH_BASELINE_BIN: an earlier berth (berth-monitor beside it) measured in the same run as
# "before", on a state root of its own.
BEFORE=${BERTH_BASELINE_BIN:-}
if [[ -n $BEFORE ]]; then
    BEFORE=$(realpath -- "$BEFORE")
    "$BEFORE" --root "$STATE-before" import "$ROOT" "$IMAGE" >/dev/null
fi

# Prepare steps (hyperfine -N runs them without a shell too): remove the last run's container.
cat >"$TMP/reset-berth" <<EOF
#!/bin/sh
"$BERTH" --root "$STATE" rm -f bench-run >/dev/null 2>&1 </dev/null || true
EOF
cat >"$TMP/reset-before" <<EOF
#!/bin/sh
[ -z "$BEFORE" ] || "$BEFORE" --root "$STATE-before" rm -f bench-run >/dev/null 2>&1 </dev/null || true
EOF
cat >"$TMP/reset-crun" <<EOF
#!/bin/sh
crun --root "$CRUN_STATE" delete -f bench-crun-run >/dev/null 2>&1 || true
EOF
chmod +x "$TMP/reset-berth" "$TMP/reset-before" "$TMP/reset-crun"

HF=(hyperfine -N --runs "$RUNS" --warmup "$WARMUP")
JSONS=()
bench() {  # bench LABEL hyperfine-args...: one hyperfine run, its JSON kept for the summary
    local label=$1
    shift
    echo
    echo "== $label"
    "${HF[@]}" --export-json "$TMP/$label.json" "$@"
    JSONS+=("$TMP/$label.json")
}

# 1. run -d until the container's process has exec'd, against crun run --detach.
RUN_D="$BERTH --root $STATE run -d --name bench-run --network none --cgroup-parent $CGROUP_PARENT --memory 64m $IMAGE sleep 1000"
CRUN_RUN_D="crun --root $CRUN_STATE run --detach --bundle $BUNDLE bench-crun-run"
# Trial runs; their output goes to a file, never into $(...): the detached process keeps it open.
for cmd in "$RUN_D" "$CRUN_RUN_D"; do
    sh -c "$cmd" </dev/null >"$TMP/trial.out" 2>&1 || die "trial run failed: $cmd"$'\n'"$(cat "$TMP/trial.out")"
done
BEFORE_ARGS=()
if [[ -n $BEFORE ]]; then
    RUN_D_BEFORE="$BEFORE --root $STATE-before run -d --name bench-run --network none --cgroup-parent $CGROUP_PARENT --memory 64m $IMAGE sleep 1000"
    sh -c "$RUN_D_BEFORE" </dev/null >"$TMP/trial.out" 2>&1 || die "trial run failed: $RUN_D_BEFORE"$'\n'"$(cat "$TMP/trial.out")"
    "$TMP/reset-before"
    BEFORE_ARGS=(--prepare "$TMP/reset-before" -n "before run -d" "$RUN_D_BEFORE")
fi
"$TMP/reset-berth"
"$TMP/reset-crun"
bench run-d \
    --prepare "$TMP/reset-berth" -n "berth run -d" "$RUN_D" \
    ${BEFORE_ARGS[@]+"${BEFORE_ARGS[@]}"} \
    --prepare "$TMP/reset-crun" -n "crun run --detach" "$CRUN_RUN_D"
"$TMP/reset-berth"
"$TMP/reset-before"
"$TMP/reset-crun"

# 1b. With a baseline: exec into the one container each root holds, so both see the same number
# of containers (a berth before 2026-12-07 tidied every record of its root before an exec).
if [[ -n $BEFORE ]]; then
    for b in "$BERTH --root $STATE" "$BEFORE --root $STATE-before"; do
        $b run -d --name bench-exec --network none --cgroup-parent "$CGROUP_PARENT" "$IMAGE" sleep 1000 </dev/null >"$TMP/trial.out" 2>&1 ||
            die "run -d bench-exec failed: $(cat "$TMP/trial.out")"
    done
    bench exec-1 -n "berth exec (1 container)" "$BERTH --root $STATE exec bench-exec true" \
        -n "before exec (1 container)" "$BEFORE --root $STATE-before exec bench-exec true"
    for b in "$BERTH --root $STATE" "$BEFORE --root $STATE-before"; do
        $b rm -f bench-exec </dev/null >/dev/null 2>&1 || true
    done
fi

# 2. COUNT running containers, then ps.
echo
echo "== starting $COUNT detached containers (sleep 1000)"
start=$(date +%s.%N)
for ((i = 0; i < COUNT; i++)); do
    berth_run_detached "$IMAGE" sleep 1000 >>"$TMP/ids"
done
end=$(date +%s.%N)
running=$("$BERTH" --root "$STATE" ps -q </dev/null | wc -l)
echo "started $COUNT in $(python3 -c "print(f'{$end - $start:.2f}')") s; ps shows $running running"
((running == COUNT)) || die "expected $COUNT running containers, ps shows $running"
bench "ps-$COUNT" \
    -n "berth ps ($COUNT running)" "$BERTH --root $STATE ps" \
    -n "berth ps -a -q ($COUNT)" "$BERTH --root $STATE ps -a -q"

# 3. exec into a running container, against crun exec.
TARGET=$(head -n1 "$TMP/ids")
crun --root "$CRUN_STATE" run --detach --bundle "$BUNDLE" bench-crun-exec </dev/null >/dev/null 2>&1 ||
    die "crun run --detach bench-crun-exec failed"
EXEC="$BERTH --root $STATE exec $TARGET true"
CRUN_EXEC="crun --root $CRUN_STATE exec bench-crun-exec true"
for cmd in "$EXEC" "$CRUN_EXEC"; do
    out=$(sh -c "$cmd" 2>&1 </dev/null) || die "trial run failed: $cmd"$'\n'"$out"
done
bench exec -n "berth exec" "$EXEC" -n "crun exec" "$CRUN_EXEC"

# 4. The monitors' resident memory: every berth-monitor whose command line names our state root.
MON_PIDS=()
for comm in /proc/[0-9]*/comm; do
    [[ $(cat "$comm" 2>/dev/null) == berth-monitor ]] || continue
    pid=${comm#/proc/}
    pid=${pid%/comm}
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$STATE/" || continue
    MON_PIDS+=("$pid")
done
echo
echo "== berth-monitor memory (${#MON_PIDS[@]} monitors)"
((${#MON_PIDS[@]} == COUNT)) || echo "lifecycle.sh: expected $COUNT monitors, found ${#MON_PIDS[@]}" >&2
python3 - "$COUNT" "${MON_PIDS[@]}" <<'EOF' | tee "$TMP/monitor.txt"
import statistics, sys
def kib(path, key):
    for line in open(path):
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {key} in {path}")
rss, pss = [], []
for pid in sys.argv[2:]:
    try:
        rss.append(kib(f"/proc/{pid}/status", "VmRSS"))
        pss.append(kib(f"/proc/{pid}/smaps_rollup", "Pss"))
    except FileNotFoundError:
        pass
for name, v in (("VmRSS", rss), ("Pss", pss)):
    if v:
        print(f"{name:6} min {min(v):6} KiB  median {statistics.median(v):8.0f} KiB  max {max(v):6} KiB"
              f"  (target <= 2048 KiB: {'ok' if max(v) <= 2048 else 'missed'})")
EOF

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "${JSONS[@]}" <<EOF
import json, statistics, sys
print()
print("== summary (load average before: $LOAD_BEFORE, after: $LOAD_AFTER; $(nproc) CPUs)")
print(f"{'':28} {'median ms':>10} {'mean ms':>9} {'cpu ms/run':>11}")
med = {}
for path in sys.argv[1:]:
    for r in json.load(open(path))["results"]:
        n = r["command"]
        med[n] = statistics.median(r["times"]) * 1e3
        cpu = (r["user"] + r["system"]) * 1e3
        print(f"{n:28} {med[n]:10.2f} {r['mean'] * 1e3:9.2f} {cpu:11.2f}")
print()
for a, b in (("berth run -d", "crun run --detach"), ("berth exec", "crun exec")):
    print(f"{a} / {b}: {med[a] / med[b]:.2f}x  (median wall time)")
EOF
