#!/usr/bin/env bash
# busybox.sh DIR — build a minimal busybox root filesystem in DIR.
#
# The integration tests and the benchmarks run containers in this root: one static binary, a link
# per applet, and the few files and directories a process expects (/etc/passwd, /proc, /tmp, ...).
# Static matters: the root has no libc, so a dynamically linked busybox could not start in it.
#
# Idempotent: re-running on a root this script built refreshes it in place. It refuses any other
# non-empty directory, so a typo can't scatter files over real data. Runs in well under a second
# (mostly bash builtins; one fork per new link at most), so tests may call it freely.
set -euo pipefail

die() { echo "busybox.sh: $*" >&2; exit 1; }

[[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
# realpath -m: DIR may not exist yet; the canonical form lets us refuse "/" however it is spelt.
DIR=$(realpath -m -- "$1")
[[ $DIR != / ]] || die "refusing to build a root filesystem over /"

# Everything this script creates at the top level of the root. A directory holding only these names
# plus bin/busybox is taken to be a previous run's output.
TOP=(bin sbin usr etc proc sys dev tmp root var run home)

if [[ -e $DIR && ! -d $DIR ]]; then
    die "$DIR exists and is not a directory"
fi
if [[ -d $DIR ]]; then
    shopt -s nullglob dotglob
    entries=("$DIR"/*)
    shopt -u nullglob dotglob
    if (( ${#entries[@]} > 0 )); then
        [[ -f $DIR/bin/busybox && ! -L $DIR/bin/busybox ]] ||
            die "$DIR is not empty and is not a busybox root built by this script (no bin/busybox); pick an empty or new directory"
        for e in "${entries[@]}"; do
            name=${e##*/}
            [[ " ${TOP[*]} " == *" $name "* ]] ||
                die "$DIR is not empty and holds '$name', which this script never creates; refusing to touch it"
        done
    fi
fi

# Debian's busybox-static provides /bin/busybox statically linked; the plain "busybox" package
# provides a dynamic one at the same path. ldd fails on a static binary ("not a dynamic executable").
if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
    [[ $(id -u) -eq 0 ]] || die "/bin/busybox is missing or not static; run as root to install busybox-static"
    # apt-get update only if apt doesn't know the package yet: it's the slow, network-bound part.
    if ! apt-cache show busybox-static >/dev/null 2>&1; then
        apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
    ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is still dynamically linked after installing busybox-static"
fi

mkdir -p -- "$DIR"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run,home}
# /tmp is world-writable with the sticky bit and /root private, as on any Linux system; programs
# (and our tests) check these modes.
chmod 1777 "$DIR/tmp"
chmod 700 "$DIR/root"

# Copy through a temp name and rename: overwriting in place fails with ETXTBSY while a container
# from an earlier run still executes the old binary, and a rename is atomic for anyone reading.
if ! cmp -s /bin/busybox "$DIR/bin/busybox"; then
    cp -- /bin/busybox "$DIR/bin/.busybox.new"
    chmod 755 "$DIR/bin/.busybox.new"
    mv -f -- "$DIR/bin/.busybox.new" "$DIR/bin/busybox"
fi

# One relative symlink per applet at the path busybox itself reports (bin/sh, usr/bin/env, ...).
# Relative, so the links resolve the same inside the container and when inspected from the host
# (an absolute /bin/busybox would point at the host's copy from outside).
# Skipped: bin/busybox (a link there would replace the binary with a loop) and linuxrc (an
# initrd entry point that doesn't belong in a container root).
while read -r applet; do
    case $applet in
        bin/busybox | linuxrc | "") continue ;;
        bin/*) target=busybox ;;
        */*/*) target=../../bin/busybox ;;  # usr/bin/x, usr/sbin/x
        */*) target=../bin/busybox ;;       # sbin/x
        *) continue ;;                      # a top-level applet: nowhere sensible to put it
    esac
    link=$DIR/$applet
    # An existing link is left alone (it's ours from a previous run); this keeps re-runs fork-free.
    [[ -L $link ]] && continue
    ln -sfn -- "$target" "$link"
done < <(/bin/busybox --list-full)

# Written with shell redirections (no forks). Only the users and groups that busybox applets and
# our tests refer to: root, nobody for dropping privileges, tty for devpts' gid=5.
printf '%s\n' \
    'root:x:0:0:root:/root:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$DIR/etc/passwd"
printf '%s\n' \
    'root:x:0:' \
    'tty:x:5:' \
    'nobody:x:65534:' >"$DIR/etc/group"
printf '%s\n' 'busybox root filesystem built by berth rootfs-scripts/busybox.sh' >"$DIR/etc/motd"
