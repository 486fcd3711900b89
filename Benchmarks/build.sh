#!/usr/bin/env bash
# build.sh [--quick] — `berth build` against Debian's `buildah bud` (1.28) on the same context and
# Dockerfile, side by side in one hyperfine run per scenario. See Benchmarks/README.md.
#
# The Dockerfile has 10 steps on busybox: ENV, WORKDIR, a COPY of 1 000 small files, three RUNs,
# ARG, LABEL, EXPOSE and CMD. Scenarios:
#   cold       every step built again (berth --no-cache; buildah bud --no-cache --layers)
#   unchanged  a rebuild with nothing changed: every step from the cache
#   one-file   a rebuild after one copied file changed (hyperfine's --prepare rewrites it): the
#              COPY and every step after it run again
# buildah runs with vfs storage and chroot isolation (its RUN steps on the host's network; berth's
# have none), both store under this run's temp dir. Goals (issue 16): unchanged under 0.2 s and at
# most 0.25x buildah's; cold at most 0.6x buildah's.
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp).
set -euo pipefail

BENCH_NAME=build.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--quick]" >&2
    echo "  --quick    smoke run for CI: fewer runs" >&2
    exit 2
}

ARGS=("$@")
QUICK=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) QUICK=1; shift ;;
        *) usage ;;
    esac
done

[[ $(id -u) -eq 0 ]] || die "must run as root (berth's RUN steps need namespaces and cgroups)"
bench_locate_berth
bench_enter_mount_namespace ${ARGS[@]+"${ARGS[@]}"}
for tool in hyperfine python3 buildah; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"

if ((QUICK)); then COLD_RUNS=2 RUNS=5; else COLD_RUNS=5 RUNS=20; fi

TMP=$(mktemp -d -t berth-build-bench.XXXXXX)
ROOT=$TMP/rootfs
STATE=$TMP/state
CONTEXT=$TMP/context
CGROUP_PARENT=berth-bench-build-$$
BUILDAH=(buildah --root "$TMP/buildah" --runroot "$TMP/buildah-run" --storage-driver vfs)

cleanup() {
    "${BUILDAH[@]}" rm -a >/dev/null 2>&1 || true
    bench_remove_cgroup_parent "$CGROUP_PARENT"
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$REPO/rootfs-scripts/busybox.sh" "$ROOT" >/dev/null
"$BERTH" --root "$STATE" import "$ROOT" bench/busybox:1 >/dev/null
container=$("${BUILDAH[@]}" from scratch)
"${BUILDAH[@]}" copy "$container" "$ROOT" / >/dev/null
"${BUILDAH[@]}" commit -q "$container" localhost/bench/busybox:1 >/dev/null
"${BUILDAH[@]}" rm "$container" >/dev/null

# 1 000 files of 100-4000 bytes, 100 a directory (fixed seed: every run copies the same bytes).
python3 - "$CONTEXT/files" <<'PY'
import os, random, sys
rng = random.Random(4242)
for i in range(1000):
    d = os.path.join(sys.argv[1], f"d{i // 100}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.txt"), "w") as f:
        f.write("".join(rng.choice("abcdefghij ") for _ in range(rng.randint(100, 4000))))
PY
cat > "$CONTEXT/Dockerfile" <<'DOCKERFILE'
ARG BASE
FROM $BASE
ENV APP=/app MODE=bench
WORKDIR /app
COPY files/ ./files/
RUN find files -type f | wc -l > count
RUN echo step > step.txt && sha256sum count step.txt > sums
ARG V=1
LABEL bench=build version=$V
EXPOSE 8080
RUN cat sums > /dev/null
CMD ["sh", "-c", "cat count"]
DOCKERFILE

berth_build="$BERTH --root $STATE build -q --network none --cgroup-parent $CGROUP_PARENT --build-arg BASE=bench/busybox:1 -t bench/app"
buildah_build="${BUILDAH[*]} bud --pull=never --layers --isolation chroot -q --build-arg BASE=localhost/bench/busybox:1 -t bench/app"
touch_one="sh -c 'date +%s%N > $CONTEXT/files/d5/f500.txt'"

echo "== cold: $COLD_RUNS runs"
hyperfine -N --runs "$COLD_RUNS" --export-json "$TMP/cold.json" \
    -n berth "$berth_build --no-cache $CONTEXT" -n buildah "$buildah_build --no-cache $CONTEXT"
echo "== unchanged: $RUNS runs"
hyperfine -N --runs "$RUNS" --warmup 1 --export-json "$TMP/unchanged.json" -n berth "$berth_build $CONTEXT" -n buildah "$buildah_build $CONTEXT"
echo "== one file changed: $RUNS runs"
hyperfine -N --runs "$RUNS" --prepare "$touch_one" --export-json "$TMP/one-file.json" \
    -n berth "$berth_build $CONTEXT" -n buildah "$buildah_build $CONTEXT"

python3 - "$TMP" <<'PY'
import json, statistics, sys
print("\n== summary (median wall ms)")
print(f"{'scenario':>10} {'berth':>9} {'buildah':>9} {'berth/buildah':>14}")
goals = {"cold": 0.6, "unchanged": 0.25}
for name in ["cold", "unchanged", "one-file"]:
    r = {x["command"]: statistics.median(x["times"]) * 1e3 for x in json.load(open(f"{sys.argv[1]}/{name}.json"))["results"]}
    ratio = r["berth"] / r["buildah"]
    note = ""
    if name in goals:
        note = "ok" if ratio <= goals[name] else f"above the {goals[name]}x goal"
    if name == "unchanged" and r["berth"] > 200:
        note += " (over 0.2 s)"
    print(f"{name:>10} {r['berth']:9.1f} {r['buildah']:9.1f} {ratio:13.2f}x  {note}")
PY
