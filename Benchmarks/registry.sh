#!/usr/bin/env bash
# registry.sh [--runs N] [--quick] — push and pull of a 5-layer, ~200 MB image to and from a local
# docker-registry: berth against `skopeo copy` (oci:DIR <-> docker://), side by side in one run.
# See Benchmarks/README.md.
#
#   push   berth --root STATE push REG/bench/img:1, against
#          skopeo copy --dest-tls-verify=false oci:SRC:1 docker://REG/bench/img:1.
#          Before every run the registry's storage is emptied, so every blob really goes up.
#   pull   berth --root FRESH pull -q REG/bench/img:1 (FRESH: a state root made new before every
#          run, so every blob really comes down), against
#          skopeo copy --src-tls-verify=false docker://REG/bench/img:1 oci:FRESH-DIR:1.
#
# The layers are gzip'd tars of one file each of seeded pseudo-random bytes (incompressible, so gzip
# neither shrinks the transfer nor gets fast on zeros). Prints hyperfine's tables, then medians,
# throughput, ratios berth/skopeo and each command's peak RSS (GNU time %M, runs apart from the
# timed ones).
#
# Environment: BERTH_BIN (default: <repo>/.build/release/berth); TMPDIR (default /tmp): where the
# image, the registry's storage and the state roots live.
set -euo pipefail

# shellcheck disable=SC2034  # read by lib.sh
BENCH_NAME=registry.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   timed runs per command (default 10, after 1 warm-up run); 5 layers of 40 MiB" >&2
    echo "  --quick    smoke run for CI: 2 runs, no warm-up, 5 layers of 4 MiB (~30 s)" >&2
    exit 2
}

bench_parse_runs 10 1 "$@"
LAYER_MIB=40
RSS_RUNS=3
if ((QUICK)); then
    RUNS=2 WARMUP=0 LAYER_MIB=4 RSS_RUNS=1
fi

[[ $(id -u) -eq 0 ]] || die "must run as root (berth's store is root's)"

bench_locate_berth
for tool in hyperfine skopeo docker-registry python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $BERTH ]] || die "berth binary not found at $BERTH (build it, or set BERTH_BIN)"
bench_need_gnu_time

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

TMP=$(mktemp -d -t berth-registry.XXXXXX)
SRC=$TMP/src-layout          # the image as an OCI layout: skopeo's push source
PUSH_STATE=$TMP/push-state   # berth's store holding the image: berth's push source
PULL_STATE=$TMP/pull-state   # made new before every berth pull
PULL_LAYOUT=$TMP/pull-layout # made new before every skopeo pull
REGISTRY_DIR=$TMP/registry
REGISTRY_PID=

cleanup() {
    if [[ -n $REGISTRY_PID ]]; then
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    rm -rf --one-file-system -- "$TMP"
}
trap cleanup EXIT
# Ctrl-C reaches hyperfine and the clients too (same process group); exit so the EXIT trap runs.
trap 'exit 130' INT TERM

# The image: 5 layers, each a tar of one file of LAYER_MIB MiB from a seeded PRNG, gzip'd at level
# 1 (incompressible data: level 1 is as small as 9 and many times faster to make), a config, a
# manifest, index.json tagged "1".
echo "== making a 5-layer image of $((5 * LAYER_MIB)) MiB"
python3 - "$SRC" "$LAYER_MIB" <<'EOF'
import gzip, hashlib, io, json, os, random, sys, tarfile
root, mib = sys.argv[1], int(sys.argv[2])
os.makedirs(root + "/blobs/sha256")

def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{digest}", "wb") as f:
        f.write(data)
    return "sha256:" + digest

rng = random.Random(17)
layers, diff_ids = [], []
for i in range(5):
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w", format=tarfile.USTAR_FORMAT) as t:
        data = rng.randbytes(mib << 20)
        info = tarfile.TarInfo(f"layer{i}/data")
        info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
        t.addfile(info, io.BytesIO(data))
    raw = tar.getvalue()
    diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
    packed = gzip.compress(raw, compresslevel=1, mtime=0)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(packed), "size": len(packed)})
config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
                       "layers": layers}).encode()
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest),
                                            "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "1"}}]}
json.dump(index, open(root + "/index.json", "w"))
json.dump({"imageLayoutVersion": "1.0.0"}, open(root + "/oci-layout", "w"))
EOF

# docker-registry (distribution 2.8) on 127.0.0.1 and a port the kernel picks, storage in TMP, no
# blob descriptor cache (so that emptying the storage between runs is all a reset needs).
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
mkdir -p "$REGISTRY_DIR/storage"
cat >"$REGISTRY_DIR/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $REGISTRY_DIR/storage
  delete:
    enabled: true
http:
  addr: $REG
EOF
docker-registry serve "$REGISTRY_DIR/config.yml" >"$REGISTRY_DIR/log" 2>&1 &
REGISTRY_PID=$!
for ((i = 0; i < 100; i++)); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null && break
    kill -0 "$REGISTRY_PID" 2>/dev/null || die "docker-registry exited: $(cat "$REGISTRY_DIR/log")"
    sleep 0.1
done
((i < 100)) || die "docker-registry did not listen on $REG within 10 s"

IMAGE=$REG/bench/img:1
SKOPEO_PUSH="skopeo copy --quiet --dest-tls-verify=false oci:$SRC:1 docker://$IMAGE"
BERTH_PUSH="$BERTH --root $PUSH_STATE push -q $IMAGE"
SKOPEO_PULL="skopeo copy --quiet --src-tls-verify=false docker://$IMAGE oci:$PULL_LAYOUT:1"
BERTH_PULL="$BERTH --root $PULL_STATE pull -q $IMAGE"

# Reset steps, run by hyperfine before every run (-N: no shell, so each is a script). The
# registry's storage goes whole: distribution makes its directories again as it writes.
cat >"$TMP/reset-registry" <<EOF
#!/bin/sh
rm -rf "$REGISTRY_DIR/storage/docker"
EOF
cat >"$TMP/reset-berth-pull" <<EOF
#!/bin/sh
rm -rf "$PULL_STATE"
EOF
cat >"$TMP/reset-skopeo-pull" <<EOF
#!/bin/sh
rm -rf "$PULL_LAYOUT"
EOF
chmod +x "$TMP/reset-registry" "$TMP/reset-berth-pull" "$TMP/reset-skopeo-pull"

# berth's push source: the image pulled from the registry once, skopeo having put it there. Trial
# runs of all four commands follow, so a broken setup fails here with the client's own message.
trial() {
    local out
    out=$(sh -c "$1" 2>&1 </dev/null) || die "trial run failed: $1"$'\n'"$out"
}
trial "$SKOPEO_PUSH"
trial "$BERTH --root $PUSH_STATE pull -q $IMAGE"
"$TMP/reset-registry"
trial "$BERTH_PUSH"
"$TMP/reset-registry"
trial "$SKOPEO_PUSH"
trial "$BERTH_PULL"
trial "$SKOPEO_PULL"
"$TMP/reset-berth-pull"
"$TMP/reset-skopeo-pull"

HF=(hyperfine -N --runs "$RUNS" --warmup "$WARMUP")
echo
echo "== push: $RUNS runs, $WARMUP warm-up, the registry emptied before each"
"${HF[@]}" --export-json "$TMP/push.json" \
    --prepare "$TMP/reset-registry" -n "berth push" "$BERTH_PUSH" \
    --prepare "$TMP/reset-registry" -n "skopeo push" "$SKOPEO_PUSH"

# The pulls need the image in the registry: the last push run left it there (skopeo's); put it
# there again anyway, in case a run failed half-way.
"$TMP/reset-registry"
trial "$SKOPEO_PUSH"
echo
echo "== pull: $RUNS runs, $WARMUP warm-up, into a new store / layout each"
"${HF[@]}" --export-json "$TMP/pull.json" \
    --prepare "$TMP/reset-berth-pull" -n "berth pull" "$BERTH_PULL" \
    --prepare "$TMP/reset-skopeo-pull" -n "skopeo pull" "$SKOPEO_PULL"

# Peak RSS, apart from the timed runs: the largest of RSS_RUNS runs, each after its reset. Pulls
# first, while the registry holds the image.
RSS_ARGS=(
    "berth pull=$(bench_peak_rss "$RSS_RUNS" "$BERTH_PULL" "$TMP/reset-berth-pull")"
    "skopeo pull=$(bench_peak_rss "$RSS_RUNS" "$SKOPEO_PULL" "$TMP/reset-skopeo-pull")"
    "berth push=$(bench_peak_rss "$RSS_RUNS" "$BERTH_PUSH" "$TMP/reset-registry")"
    "skopeo push=$(bench_peak_rss "$RSS_RUNS" "$SKOPEO_PUSH" "$TMP/reset-registry")"
)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
BYTES=$(du -sb "$SRC/blobs" | cut -f1)

python3 - "$TMP/push.json" "$TMP/pull.json" "$BYTES" "${RSS_ARGS[@]}" <<'EOF'
import json, statistics, sys
results = {}
for path in sys.argv[1:3]:
    results.update({r["command"]: r for r in json.load(open(path))["results"]})
size = int(sys.argv[3])
rss = dict(a.split("=", 1) for a in sys.argv[4:])
print()
print(f"== summary ({size / 2**20:.0f} MiB of blobs)")
print(f"{'':12} {'median s':>9} {'MiB/s':>7} {'cpu s/run':>10} {'peak RSS':>10}")
med = {}
for n, r in results.items():
    med[n] = statistics.median(r["times"])
    print(f"{n:12} {med[n]:9.3f} {size / 2**20 / med[n]:7.0f} {r['user'] + r['system']:10.3f} {int(rss[n]) / 1024:6.1f} MiB")
print()
for op in ("push", "pull"):
    print(f"berth/skopeo {op}: {med['berth ' + op] / med['skopeo ' + op]:.2f}x time, "
          f"{int(rss['berth ' + op]) / int(rss['skopeo ' + op]):.2f}x peak RSS (goal: time <= 0.8x, RSS < 1x)")
EOF
echo "load average before: $LOAD_BEFORE, after: $LOAD_AFTER"
