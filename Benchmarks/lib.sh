# shellcheck shell=bash
# lib.sh — pieces shared by the benchmark scripts (sourced, not run). Each script sets
# BENCH_NAME (for messages) and BERTH (the berth binary, absolute) before calling these.

die() { echo "$BENCH_NAME: $*" >&2; exit 1; }

# bench_parse_runs DEFAULT_RUNS DEFAULT_WARMUP ARGS...: the options the timing scripts share.
# Sets RUNS and WARMUP; --quick (CI's smoke run) sets 10 and 2, and QUICK=1. Anything else calls
# the script's own usage function.
bench_parse_runs() {
    RUNS=$1 WARMUP=$2 QUICK=0
    shift 2
    while [[ $# -gt 0 ]]; do
        case $1 in
            --runs) [[ ${2:-} =~ ^[1-9][0-9]*$ ]] || usage; RUNS=$2; shift 2 ;;
            --quick) RUNS=10; WARMUP=2; QUICK=1; shift ;;
            *) usage ;;
        esac
    done
}

# bench_locate_berth: sets REPO and BERTH (BERTH_BIN, or the repo's release build), resolved
# before the re-exec of bench_enter_mount_namespace, so a relative BERTH_BIN means relative to the
# caller's cwd.
bench_locate_berth() {
    REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    BERTH=$(realpath -m -- "${BERTH_BIN:-$REPO/.build/release/berth}")
}

# The host's cgroups are hybrid: v1 controllers under /sys/fs/cgroup/*, plus a cgroup2 mount at
# /sys/fs/cgroup/unified that holds no controllers. crun refuses to run on such a host ("cgroups in
# hybrid mode not supported"). So a benchmark re-executes itself in a private mount namespace and
# unmounts the unified hierarchy there: every contender sees a plain v1 host, and the host's own
# mounts are never touched (the namespace, and the unmount with it, goes away when the last process
# in it exits, Ctrl-C included). A network namespace of its own too (only lo, up): a contender run
# with a default network (a baseline berth from before `--network none` was passed, say) makes its
# bridge and firewall rules there, never on the host. Call with the script's own arguments.
bench_enter_mount_namespace() {
    if [[ -z ${BERTH_BENCH_IN_MOUNTNS:-} ]]; then
        exec unshare --mount --propagation private --net \
            env BERTH_BENCH_IN_MOUNTNS=1 BERTH_BIN="$BERTH" "$0" "$@"
    fi
    ip link set lo up
    if mountpoint -q /sys/fs/cgroup/unified; then
        umount /sys/fs/cgroup/unified
    fi
}

# GNU time reports a process's peak RSS (%M); bash's "time" keyword can't.
bench_need_gnu_time() {
    if [[ ! -x /usr/bin/time ]]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
            die "/usr/bin/time is missing and the 'time' package could not be installed"
    fi
}

# bench_crun_bundle BUNDLE ROOT: an OCI bundle for crun and runc running /bin/true in ROOT — crun's
# default spec, narrowed to what berth does (no pty, a 64 MiB limit, a cgroup namespace).
bench_crun_bundle() {
    mkdir -p "$1"
    (cd "$1" && crun spec)
    python3 - "$1/config.json" "$2" <<'EOF'
import json, sys
path, root = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)
c["root"] = {"path": root, "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False          # no pty: berth and the floor don't allocate one either
linux = c.setdefault("linux", {})
linux.setdefault("resources", {})["memory"] = {"limit": 64 * 1024 * 1024}
ns = linux.setdefault("namespaces", [])
if not any(n["type"] == "cgroup" for n in ns):
    ns.append({"type": "cgroup"})         # the default spec lacks it; the others all unshare it
with open(path, "w") as f:
    json.dump(c, f, indent=2)
EOF
}

# bench_peak_rss RUNS CMD [RESET]: the largest ru_maxrss (KiB) of CMD over RUNS separate runs,
# measured apart from the timing runs (GNU time's wait4 adds its own overhead), RESET (a command,
# like hyperfine's --prepare) run before each. ru_maxrss covers the process and the children it
# waits for, so it is a runtime's whole footprint.
bench_peak_rss() {
    local runs=$1 cmd=$2 reset=${3:-} max=0 kb r
    for ((r = 0; r < runs; r++)); do
        [[ -z $reset ]] || "$reset"
        kb=$(/usr/bin/time -f %M sh -c "exec $cmd" 2>&1 >/dev/null | tail -n1)
        [[ $kb =~ ^[0-9]+$ ]] || die "could not measure the RSS of: $cmd: $kb"
        ((kb > max)) && max=$kb
    done
    echo "$max"
}

# bench_remove_cgroup_parent NAME: removes the (empty) cgroup NAME that berth's --cgroup-parent
# created in each v1 hierarchy (and a v2 one, if mounted). rmdir, never rm -r: a cgroup that still
# holds a child or a process is left alone and reported.
bench_remove_cgroup_parent() {
    local dir
    for dir in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
        [[ -d $dir ]] || continue
        rmdir "$dir" 2>/dev/null || echo "$BENCH_NAME: could not remove cgroup $dir" >&2
    done
}

# bench_delete_oci_containers RUNTIME STATE: force-deletes every container that RUNTIME (crun,
# runc, berth-oci) lists under its state dir STATE. A container left behind by an interrupted run
# still holds a cgroup and maybe processes: "delete -f" kills it and removes both.
bench_delete_oci_containers() {
    local id
    [[ -d $2 ]] || return 0
    for id in $("$1" --root "$2" list -q 2>/dev/null); do
        "$1" --root "$2" delete -f "$id" >/dev/null 2>&1 || true
    done
}

# bench_remove_berth_containers BERTH STATE: removes (rm -f, in one call) every container under
# the berth state root STATE, which an interrupted run or a failed --rm can leave behind.
bench_remove_berth_containers() {
    local ids
    [[ -d $2/containers ]] || return 0
    ids=$("$1" --root "$2" ps -a -q --no-trunc 2>/dev/null </dev/null) || true
    # shellcheck disable=SC2086  # one argument per id
    [[ -z $ids ]] || "$1" --root "$2" rm -f $ids >/dev/null 2>&1 </dev/null || true
}
