#!/usr/bin/env python3
"""link-order.py [--rounds N] [--from-scratch] — regenerates Sources/berth/link-order.txt, the
order in which the linker lays out the functions of berth's start path (see Benchmarks/README.md,
"Peak memory of a run").

Why: a page of berth's text that a run touches is mapped with its neighbours (the kernel's
fault-around maps the 64 KiB around a fault when the file is cached), so the functions a run calls,
spread over 18 MiB of text, cost far more resident memory than their size. Laid out side by side
they cost about their size. The list is measured, not guessed: each round builds the release
binary with the current list, runs the start-path workload below under the page-fault tracepoint,
and adds the functions whose first instruction fetch faulted outside the listed region, and the
small data sections (`.bss`, `.data`) whose pages a run touched (see DATA_SECTIONS). A window
that held several such functions shows the next one in the following round, so the list grows
until a round finds (almost) nothing new. Functions inside input sections too large to move (the
static Swift standard library's own .text, a C library's object) are left out: listing one would
move the whole section into the middle of the hot region.

Needs root (namespaces, cgroups), perf, and the tracefs event exceptions:page_fault_user.
"""
import argparse
import bisect
import os
import re
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORDER_FILE = os.path.join(REPO, "Sources", "berth", "link-order.txt")
SCRATCH = os.path.join(REPO, ".build-release")
BINARY = os.path.join(SCRATCH, "release", "berth")
# An input section larger than this is not moved (see above).
MOVABLE_SECTION_BYTES = 16 * 1024
STOP_WHEN_FEWER_THAN = 5


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, **kwargs)


def build(map_path):
    """Links berth with the current list (the binary is removed first: SwiftPM does not relink
    for a changed order file alone) and writes the linker's map to map_path."""
    if os.path.exists(BINARY):
        os.remove(BINARY)
    env = dict(os.environ, BERTH_LINK_MAP=map_path)
    env["BERTH_RELEASE_SCRATCH"] = SCRATCH
    run([os.path.join(REPO, ".ci", "build-release")], env=env, stdout=subprocess.DEVNULL)


def input_sections(map_path, kinds):
    """(start, size) of every input section in lld's map whose name starts with one of `kinds`
    (".text", ".bss", ...), sorted."""
    sections = []
    with open(map_path) as map_file:
        for line in map_file:
            fields = line.split(None, 4)
            if len(fields) == 5 and any(":(" + kind in fields[4] for kind in kinds):
                sections.append((int(fields[0], 16), int(fields[2], 16)))
    sections.sort()
    return sections


def defined_symbols(binary, types):
    """(address, name) of every symbol of nm's `types` ("tTwW": functions), sorted by address."""
    out = subprocess.run(["nm", "-n", "--defined-only", binary], check=True, capture_output=True,
                         text=True).stdout
    symbols = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[1] in types:
            symbols.append((int(fields[0], 16), fields[2]))
    return symbols


# Data faults too: a run's globals (swift_once tokens, lazy metadata caches) lie in the `.bss`
# and `.data` sections of some eighty object files, a page or two each, and every page faults
# once when first touched and again for its copy after the container's clone. Swift gives a
# file's globals one section, so what can be ordered is whole sections: listing one symbol of a
# small section gathers it with the others at the front of its output section.
DATA_SECTIONS = (".bss", ".data", ".tbss", ".tdata")


WORKLOAD = r"""
set -eu
B="$1"; S="$2"; ROOT="$3"
ip link set lo up
for i in 1 2 3; do
    "$B" --root "$S" run --rm --rootfs "$ROOT" --network none --memory 64m -- /bin/true
    "$B" --root "$S" run --rm --network none busybox:1.35 /bin/true
    "$B" --root "$S" run --rm busybox:1.35 /bin/true
done
"$B" --root "$S" run --rm -p 8080:80 busybox:1.35 /bin/true
"$B" --root "$S" run -d --name order-d busybox:1.35 sleep 60 >/dev/null
"$B" --root "$S" exec order-d /bin/true
"$B" --root "$S" ps >/dev/null
"$B" --root "$S" stop -t 1 order-d >/dev/null
"$B" --root "$S" rm order-d >/dev/null
"""


def faulting_addresses(workdir, state, root):
    """Faults of berth processes while the workload runs: (instruction fetches, data accesses)."""
    data = os.path.join(workdir, "faults.data")
    script = os.path.join(workdir, "workload.sh")
    with open(script, "w") as f:
        f.write(WORKLOAD)
    run(["perf", "record", "-q", "-e", "exceptions:page_fault_user", "-o", data, "--",
         "unshare", "--net", "--", "sh", script, BINARY, state, root], stdout=subprocess.DEVNULL)
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,trace"], check=True,
                         capture_output=True, text=True).stdout
    fetches, accesses = [], []
    for line in out.splitlines():
        match = re.match(r"\s*(\S+)\s+address=0x([0-9a-f]+)\s+ip=0x[0-9a-f]+\s+error_code=0x([0-9a-f]+)", line)
        if match and match.group(1) == "berth":
            # Bit 4 of the error code: the fault was an instruction fetch.
            (fetches if int(match.group(3), 16) & 0x10 else accesses).append(int(match.group(2), 16))
    return fetches, accesses


def symbols_to_list(faults, sections, symbols, first_in_section):
    """The symbol that moves each movable section a fault fell in: the function at the fault, or
    (`first_in_section`) any symbol of the section, the section's first."""
    starts = [start for start, _ in sections]
    addresses = [address for address, _ in symbols]
    names = []
    for fault in faults:
        section = bisect.bisect_right(starts, fault) - 1
        if section < 0:
            continue
        start, size = sections[section]
        if not start <= fault < start + size or size > MOVABLE_SECTION_BYTES:
            continue
        index = bisect.bisect_left(addresses, start) if first_in_section else bisect.bisect_right(addresses, fault) - 1
        if 0 <= index < len(symbols) and start <= symbols[index][0] < start + max(size, 1):
            names.append(symbols[index][1])
    return names


def peak_rss_kib(state, root):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", BINARY, "--root", state, "run", "--rm",
                          "--rootfs", root, "--network", "none", "--memory", "64m", "--", "/bin/true"],
                         check=True, capture_output=True, text=True).stderr
    return int(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--from-scratch", action="store_true", help="start from an empty list")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("link-order.py: must run as root (namespaces, cgroups)")
    for tool in ("perf", "swift", "nm", "unshare"):
        if shutil.which(tool) is None:
            sys.exit(f"link-order.py: {tool} is not installed")

    order = []
    if not args.from_scratch and os.path.exists(ORDER_FILE):
        with open(ORDER_FILE) as f:
            order = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    with tempfile.TemporaryDirectory(prefix="berth-link-order.") as workdir:
        root = os.path.join(workdir, "rootfs")
        state = os.path.join(workdir, "state")
        map_path = os.path.join(workdir, "berth.map")
        run([os.path.join(REPO, "rootfs-scripts", "busybox.sh"), root], stdout=subprocess.DEVNULL)
        for round_number in range(1, args.rounds + 1):
            write_order(order)
            build(map_path)
            if round_number == 1:
                run([BINARY, "--root", state, "import", root, "busybox:1.35"], stdout=subprocess.DEVNULL)
            fetches, accesses = faulting_addresses(workdir, state, root)
            names = symbols_to_list(fetches, input_sections(map_path, (".text",)),
                                    defined_symbols(BINARY, "tTwW"), first_in_section=False)
            names += symbols_to_list(accesses, input_sections(map_path, DATA_SECTIONS),
                                     defined_symbols(BINARY, "bBdD"), first_in_section=True)
            listed = set(order)
            added = []
            for name in names:
                if name not in listed:
                    listed.add(name)
                    added.append(name)
            order.extend(added)
            print(f"round {round_number}: {len(added)} symbols added, {len(order)} listed, "
                  f"peak RSS of run --rootfs {peak_rss_kib(state, root)} KiB", flush=True)
            if len(added) < STOP_WHEN_FEWER_THAN:
                break
        write_order(order)
        build(map_path)
        print(f"final: peak RSS of run --rootfs {peak_rss_kib(state, root)} KiB")


def write_order(order):
    with open(ORDER_FILE, "w") as f:
        f.write("# Generated by Benchmarks/link-order.py; see there. One symbol per line.\n")
        f.writelines(name + "\n" for name in order)


if __name__ == "__main__":
    main()
