#!/usr/bin/env bash
# json.sh [--runs N] [--quick] — berth's own JSON (its Codable layer, and its parser with the
# hand-written readers of the start path) against FoundationEssentials' JSONDecoder/JSONEncoder,
# which the static binary already links through swift-crypto. See Benchmarks/README.md, "JSON:
# our parser against FoundationEssentials".
#
# 1. json-bench: steady-state CPU time per document, decode and encode, each way side by side,
#    with Foundation's time over each of ours.
# 2. Start-up: a fresh process that reads one image config (then the four documents `berth run`
#    reads) with each coder, under hyperfine against the same binary decoding nothing and an
#    empty static executable; the first decode's own time, measured inside the process; peak RSS.
#
# Builds Benchmarks/json in release mode, static, like the product, into the same scratch path as
# CI's release build (.build-release): the package depends on the root one by path, so berth's
# modules and swift-crypto are already built there and only the benchmark's own files compile.
# Environment: JSON_BENCH_SCRATCH (default: <repo>/.build-release); TMPDIR (the documents).
set -euo pipefail

BENCH_NAME=json.sh
# shellcheck source=Benchmarks/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    echo "usage: $0 [--runs N] [--quick]" >&2
    echo "  --runs N   timed start-up runs per command (default 300, after 30 warm-up runs)" >&2
    echo "  --quick    smoke run for CI: 10 runs, 2 warm-up runs, short json-bench rounds" >&2
    exit 2
}

bench_parse_runs 300 30 "$@"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCRATCH=$(realpath -m -- "${JSON_BENCH_SCRATCH:-$REPO/.build-release}")
export PATH=/opt/swift/usr/bin:$PATH
for tool in swift hyperfine python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
bench_need_gnu_time

TMP=$(mktemp -d -t berth-json-bench.XXXXXX)
trap 'rm -rf -- "$TMP"' EXIT
trap 'exit 130' INT TERM

echo "== build (release, static executable, scratch path $SCRATCH)"
# The root package's pins, so this package resolves swift-crypto and the others to the versions
# already checked out and built in the scratch path (a newer one would mean a rebuild of minutes).
if [[ -f $REPO/Package.resolved ]]; then
    cp -- "$REPO/Package.resolved" "$REPO/Benchmarks/json/Package.resolved"
fi
if ! swift build -c release --static-swift-stdlib -Xswiftc -static-executable \
    --package-path "$REPO/Benchmarks/json" --scratch-path "$SCRATCH" >"$TMP/build.log" 2>&1; then
    cat "$TMP/build.log" >&2
    die "the build of Benchmarks/json failed"
fi
tail -n1 "$TMP/build.log"
BIN=$SCRATCH/release
for exe in json-bench json-startup json-empty; do
    [[ -x $BIN/$exe ]] || die "the build did not produce $BIN/$exe"
done

echo
if ((QUICK)); then
    "$BIN/json-bench" --quick
else
    "$BIN/json-bench"
fi

DOCS=$TMP/documents
mkdir -p "$DOCS"
"$BIN/json-bench" --write "$DOCS"

# Start-up, twice: one image config (the medium one, 12 layers), then what `berth run IMAGE`
# reads before it starts anything (index.json, the manifest and the config of a medium image, and
# the container record it reads back).
CONFIG_SET=(config="$DOCS/config-medium.json")
RUN_SET=(index="$DOCS/index-medium.json" manifest="$DOCS/manifest-medium.json"
    config="$DOCS/config-medium.json" record="$DOCS/record.json")
MODES=(none ours-JSONValue ours-Codable Foundation)
FIRST_RUNS=$((QUICK ? 5 : 31))

# startup KEY TITLE DOCUMENT...: the start-up figures of each of MODES on the documents; with
# ENCODE=--encode the timed work is writing the documents rather than reading them.
startup() {
    local label=$1 title=$2 mode i
    shift 2
    # A trial of each mode first, so a broken document fails here with its message.
    for mode in "${MODES[@]}"; do
        "$BIN/json-startup" "$mode" ${ENCODE:+"$ENCODE"} "$@" || die "json-startup $mode failed"
    done
    local args=(-N --runs "$RUNS" --warmup "$WARMUP" --export-json "$TMP/$label.json" --style basic
        -n empty "$BIN/json-empty")
    for mode in "${MODES[@]}"; do
        args+=(-n "$mode" "$BIN/json-startup $mode $ENCODE $*")
    done
    echo
    echo "== start-up, $title: $RUNS runs, $WARMUP warm-up"
    # hyperfine's own table is left out (the summary below has its medians), and so are its
    # warnings about outliers, which on a shared 2-core machine come with every run.
    hyperfine "${args[@]}" >"$TMP/$label.log" 2>&1 || { cat "$TMP/$label.log"; die "hyperfine failed"; }
    # The decodes timed inside the process, apart from exec and the runtime's own start: the
    # first pass over the documents, then the same again.
    : >"$TMP/$label.first"
    for mode in "${MODES[@]:1}"; do
        for ((i = 0; i < FIRST_RUNS; i++)); do
            echo "$mode $("$BIN/json-startup" "$mode" --time ${ENCODE:+"$ENCODE"} "$@")" >>"$TMP/$label.first"
        done
    done
    local rss=("empty=$(bench_peak_rss 5 "$BIN/json-empty")")
    for mode in "${MODES[@]}"; do
        rss+=("$mode=$(bench_peak_rss 5 "$BIN/json-startup $mode $ENCODE $*")")
    done
    python3 - "$TMP/$label.json" "$TMP/$label.first" "${rss[@]}" <<'EOF'
import json, statistics, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
first = {}
for line in open(sys.argv[2]):
    mode, _, f, _, again = line.split()
    first.setdefault(mode, ([], [], []))
    first[mode][0].append(int(f))
    first[mode][1].append(int(again))
    first[mode][2].append(int(f) - int(again))
rss = dict(a.split("=", 1) for a in sys.argv[3:])
med = {n: statistics.median(r["times"]) * 1e3 for n, r in results.items()}
# CPU (user + system, hyperfine's mean per run) rather than wall time for the cost of decoding:
# on a shared machine the wall time of a 2 ms process is mostly how long it waited for a core.
cpu = {n: (r["user"] + r["system"]) * 1e3 for n, r in results.items()}
print(f"{'':15} {'median ms':>10} {'cpu ms/run':>11} {'cpu - none':>11} {'1st pass µs':>12} {'2nd pass µs':>12} {'once µs':>8} {'peak RSS':>10}")
for n, r in results.items():
    extra = f"{cpu[n] - cpu['none']:+11.3f}" if n not in ("empty", "none") else f"{'':11}"
    if n in first:
        f = " ".join(f"{statistics.median(first[n][k]) / 1e3:{w}.1f}" for k, w in ((0, 12), (1, 12), (2, 8)))
    else:
        f = f"{'':12} {'':12} {'':8}"
    print(f"{n:15} {med[n]:10.3f} {cpu[n]:11.3f} {extra} {f} {int(rss[n]) / 1024:6.2f} MiB")
def ratio(a, b, k):
    return statistics.median(first[a][k]) / statistics.median(first[b][k])
print("; ".join(f"Foundation/{ours}: first pass {ratio('Foundation', ours, 0):.2f}x, once {ratio('Foundation', ours, 2):.2f}x"
                for ours in ("ours-Codable", "ours-JSONValue") if ours in first))
EOF
    page_faults "$@"
}

# page_faults DOCUMENT...: the page faults of one process per mode (perf stat's mean), where perf
# can count them: most of a first decode's cost is faulting in code pages of the 45 MB static
# binary that run once, so the count says how much code each coder touches.
page_faults() {
    command -v perf >/dev/null && perf stat -e page-faults true >/dev/null 2>&1 || return 0
    local mode line=() n
    for mode in "${MODES[@]}"; do
        n=$(perf stat -x, -e page-faults -r "$FIRST_RUNS" "$BIN/json-startup" "$mode" ${ENCODE:+"$ENCODE"} "$@" 2>&1 >/dev/null |
            awk -F, '/page-faults/ {print $1}')
        line+=("$mode $n")
    done
    local IFS=,
    echo "page faults per process (perf stat, $FIRST_RUNS runs):${line[*]/#/ }"
}

ENCODE=
startup config "one image config" "${CONFIG_SET[@]}"
startup run "the documents berth run reads" "${RUN_SET[@]}"
# What `berth commit` writes: a config, a manifest and index.json, all through the Codable layer
# (the hand-written writer exists for the record only, so ours-JSONValue sits this one out).
ENCODE=--encode
MODES=(none ours-Codable Foundation)
startup commit "writing what berth commit writes (config, manifest, index of 20 images)" \
    config="$DOCS/config-medium.json" manifest="$DOCS/manifest-medium.json" index="$DOCS/index-medium.json"
