#!/usr/bin/env bash
# debian.sh DIR [SUITE] — build a Debian minbase root filesystem in DIR with debootstrap.
#
# SUITE defaults to bookworm (Debian 12). Packages come from the apt mirror this machine is
# already configured with (/etc/apt/sources.list, /etc/apt/sources.list.d/*), because in CI and on
# the test VMs that mirror is the only Debian host we can reach. MIRROR=URL overrides it.
#
# The root is assembled in a sibling temp dir and renamed into place only when complete, so an
# interrupted run never leaves a half-built root at DIR. Re-running on a finished root of the same
# suite does nothing.
set -euo pipefail

usage() { echo "usage: $0 DIR [SUITE]   (SUITE defaults to bookworm; MIRROR=URL overrides the apt mirror)" >&2; exit 2; }
die() { echo "debian.sh: $*" >&2; exit 1; }

[[ $# -ge 1 && $# -le 2 ]] || usage
[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap creates device nodes and chowns files)"
DIR=$1
SUITE=${2:-bookworm}
# The suite is matched as a pattern against apt's sources below; plain names only.
[[ $SUITE =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "bad suite name '$SUITE'"

# realpath -m: DIR may not exist yet; we need the canonical form to refuse "/" in any spelling.
DIR=$(realpath -m -- "$DIR")
[[ $DIR != / ]] || die "refusing to build a root filesystem over /"

# A finished root of the same suite: nothing to do. os-release and dpkg's status file are written by
# debootstrap itself, so no marker file of ours has to live inside the image.
is_debian_root() {
    [[ -f $1/etc/debian_version && -f $1/var/lib/dpkg/status && -f $1/etc/os-release ]] &&
        grep -qx "VERSION_CODENAME=$SUITE" "$1/etc/os-release"
}
if [[ -d $DIR ]] && is_debian_root "$DIR"; then
    echo "debian.sh: $DIR already holds a Debian $SUITE root; nothing to do"
    exit 0
fi
if [[ -e $DIR && ! -d $DIR ]]; then
    die "$DIR exists and is not a directory"
fi
if [[ -d $DIR && -n $(ls -A -- "$DIR") ]]; then
    die "$DIR is not empty and is not a Debian $SUITE root built by this script; pick an empty or new directory"
fi

# find_mirror prints the URI of every enabled "deb" source that serves suite $1 with the main
# component, from both the one-line (.list) and the deb822 (.sources) formats. Files with other
# extensions (e.g. *.disabled) are ignored, as apt itself ignores them.
find_mirror() {
    local SUITE=$1
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f $f ]] || continue
        # Strip comments and the optional "[ options ]" block, then: deb URI SUITE COMPONENTS...
        sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v suite="^$SUITE\$" '
            $1 == "deb" && $3 ~ suite { for (i = 4; i <= NF; i++) if ($i == "main") { print $2; exit } }'
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f $f ]] || continue
        # deb822: paragraphs separated by blank lines; field names are case-insensitive and
        # values are space-separated lists. Continuation lines (leading space) are not needed
        # for the fields we read.
        awk -v suite="^$SUITE\$" '
            function flush(   i, n, t, s, c, ok) {
                if (enabled != "no" && types ~ /(^| )deb( |$)/) {
                    ok = 0
                    n = split(suites, s, " "); for (i = 1; i <= n; i++) if (s[i] ~ suite) { ok++; break }
                    n = split(comps, c, " "); for (i = 1; i <= n; i++) if (c[i] == "main") ok++
                    if (ok == 2 && !found) { split(uris, t, " "); print t[1]; found = 1 }
                }
                types = uris = suites = comps = enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[ \t]*/, "", val)
                if (key == "types") types = val
                else if (key == "uris") uris = val
                else if (key == "suites") suites = val
                else if (key == "components") comps = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { flush() }' "$f"
    done
}

# Prefer a source configured for SUITE itself; otherwise any source for a main suite (no
# "-security"/"-updates" in its name), since a Debian mirror carries every release.
MIRROR=${MIRROR:-$(find_mirror "$SUITE" | head -n1)}
MIRROR=${MIRROR:-$(find_mirror '[a-z]+' | head -n1)}
[[ -n $MIRROR ]] || die "no configured apt source serves a Debian suite with component main; set MIRROR=URL"

# Install debootstrap on first use. apt-get update only when apt has no package lists yet, since
# the update is the slow part and the lists are normally present.
if ! command -v debootstrap >/dev/null; then
    if ! apt-cache show debootstrap >/dev/null 2>&1; then
        apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

# Build next to DIR (same filesystem, so the final rename is atomic).
PARENT=$(dirname -- "$DIR")
mkdir -p -- "$PARENT"
WORK=$(mktemp -d -- "$PARENT/.debian-rootfs.XXXXXX")

cleanup() {
    # debootstrap mounts proc/sys/devpts inside the target while it runs; if we were interrupted
    # they are still there, and rm -rf must never descend into the host's /proc or /sys.
    if [[ -n ${WORK:-} && -d $WORK ]]; then
        # "|| true": grep finds nothing in the common case, and set -e also applies in this trap.
        findmnt -rno TARGET | grep -F -- "$WORK" | sort -r | while read -r m; do
            umount -l -- "$m" 2>/dev/null || true
        done || true
        rm -rf --one-file-system -- "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "debian.sh: debootstrap $SUITE (minbase) from $MIRROR into $DIR"
start=$(date +%s)
debootstrap --variant=minbase --arch="$(dpkg --print-architecture)" "$SUITE" "$WORK" "$MIRROR"

# Shrink the image: apt's downloaded .debs and package lists are caches a container can refetch
# with "apt-get update"; shipping them only makes every copy of the root bigger.
chroot "$WORK" apt-get clean
rm -rf "$WORK"/var/lib/apt/lists/* "$WORK"/var/cache/apt/*.bin "$WORK"/var/cache/debconf/*-old \
    "$WORK"/var/log/apt/* "$WORK"/var/log/dpkg.log "$WORK"/var/log/bootstrap.log
mkdir -p "$WORK/var/lib/apt/lists/partial"

# A container's /dev is its runtime's (a tmpfs with the usual nodes): debootstrap's device nodes
# would only make the root one that `berth import` refuses without --allow-devices.
find "$WORK/dev" -xdev -mindepth 1 -delete

# debootstrap copies the build host's resolv.conf and hostname in; they describe this machine, not
# the container. Keep the files (runtimes bind-mount over them) but drop the host's contents.
: >"$WORK/etc/resolv.conf"
echo localhost >"$WORK/etc/hostname"

# Publish: replace the (empty or absent) DIR with the finished root in one rename.
if [[ -d $DIR ]]; then rmdir -- "$DIR"; fi
mv -- "$WORK" "$DIR"
chmod 755 "$DIR"
WORK=

echo "debian.sh: done in $(( $(date +%s) - start )) s, $(du -sh --one-file-system -- "$DIR" | cut -f1) at $DIR"
