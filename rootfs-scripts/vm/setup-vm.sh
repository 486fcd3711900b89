#!/usr/bin/env bash
# setup-vm.sh [DIR]   (default: $VM_DIR or /tmp/berth-vm)
#
# Prepares everything vm-run.sh boots: installs the host packages it needs, fetches Debian's
# generic kernel package and unpacks it into DIR (never installs a kernel on the host), and
# builds DIR/vmlinux (or DIR/vmlinuz) and DIR/initramfs.cpio.gz.
#
# Idempotent: a complete DIR is reused in well under a second. The kernel is fetched again only
# when VM_KERNEL_META changes (or DIR is removed); the initramfs is rebuilt when init,
# build-initramfs.sh or VM_EXTRA_MODULES change.
#
#   VM_KERNEL_META  meta package naming the kernel (default linux-image-amd64, i.e. Debian 12's
#                   6.1; linux-image-6.12-amd64 gives 6.12). Not the cloud kernel: it has no 9p.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=$(realpath -m "${1:-${VM_DIR:-/tmp/berth-vm}}")
META=${VM_KERNEL_META:-linux-image-amd64}
export DEBIAN_FRONTEND=noninteractive
START=$SECONDS

say() { echo "setup-vm: $*"; }
die() {
    echo "setup-vm: $*" >&2
    exit 1
}

# --- host packages -------------------------------------------------------------------------
# qemu-system-x86 brings qemu-system-data (qboot.rom); busybox-static provides /bin/busybox with
# depmod, modprobe, cpio and switch_root (kmod is not needed); xz-utils and zstd unpack the kernel
# image and modules (6.1 uses xz, 6.12 zstd and .ko.xz).
NEED=(qemu-system-x86 busybox-static xz-utils zstd)
MISSING=()
for p in "${NEED[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || MISSING+=("$p")
done
APT_UPDATED=
apt_update() {
    [[ -n $APT_UPDATED ]] && return 0
    [[ $EUID -eq 0 ]] || die "apt-get update needs root"
    say "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
}
if ((${#MISSING[@]})); then
    [[ $EUID -eq 0 ]] || die "missing packages ${MISSING[*]}; run as root to install them"
    apt_update
    say "installing ${MISSING[*]}"
    apt-get install -y -qq --no-install-recommends "${MISSING[@]}" >/dev/null
fi
[[ -f /usr/share/qemu/qboot.rom ]] || die "/usr/share/qemu/qboot.rom missing (qemu-system-data)"

# --- lock: two setups on the same DIR (parallel CI steps) must not interleave ----------------
mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9

TMP=
trap 'rm -rf "$TMP"' EXIT

kernel_image() {
    local f
    for f in "$DIR/vmlinux" "$DIR/vmlinuz"; do
        if [[ -f $f ]]; then
            echo "$f"
            return
        fi
    done
}

# Uncompressed ELF from a bzImage: QEMU boots it through PVH, skipping the real-mode setup and
# the in-guest decompression, which under TCG is about 3 s of every boot. Same idea as the
# kernel's scripts/extract-vmlinux: try each compressor's magic until an ELF comes out.
extract_vmlinux() {
    local img=$1 out=$2 name magic cmd off
    for spec in 'xz|\xFD7zXZ\x00|xz -dc --single-stream' 'zstd|\x28\xB5\x2F\xFD|zstd -qdc' \
        'gzip|\x1F\x8B\x08|gzip -dc'; do
        IFS='|' read -r name magic cmd <<<"$spec"
        for off in $(LC_ALL=C grep -obUaP "$magic" "$img" | cut -d: -f1); do
            # Trailing data after the compressed payload makes some decompressors fail after
            # they wrote everything: judge by the output, not the exit code.
            tail -c "+$((off + 1))" "$img" | $cmd >"$out" 2>/dev/null || true
            if [[ $(head -c 4 "$out" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
                say "unpacked $name vmlinux ($(du -h --apparent-size "$out" | cut -f1))"
                return 0
            fi
        done
    done
    rm -f "$out"
    return 1
}

# --- kernel --------------------------------------------------------------------------------
if [[ -f $DIR/kernel.stamp && $(cut -d' ' -f1 "$DIR/kernel.stamp") == "$META" &&
    -n $(kernel_image) && -d $DIR/kernel/lib/modules ]]; then
    say "reusing kernel $(cut -d' ' -f2 "$DIR/kernel.stamp")"
else
    # The versioned package name changes with every Debian kernel update: resolve it.
    resolve() { apt-cache depends "$META" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
    PKG=$(resolve)
    if [[ -z $PKG ]]; then
        apt_update
        PKG=$(resolve)
    fi
    [[ -n $PKG ]] || die "apt-cache depends $META names no linux-image package"
    say "fetching $PKG (from $META)"
    TMP=$(mktemp -d "$DIR/.fetch.XXXXXX")
    # apt-get download drops privileges to _apt, which must be able to write here.
    chmod 777 "$TMP"
    if ! (cd "$TMP" && apt-get download -qq "$PKG"); then
        # A stale package list names a .deb the mirror no longer has.
        apt_update
        (cd "$TMP" && apt-get download -qq "$PKG")
    fi
    DEB=("$TMP"/*.deb)
    [[ -f ${DEB[0]} ]] || die "apt-get download $PKG produced no .deb"
    dpkg-deb -x "${DEB[0]}" "$TMP/kernel"
    rm -f "${DEB[@]}"
    rm -rf "$TMP/kernel/usr/share/doc"
    KVER=$(basename "$(echo "$TMP"/kernel/lib/modules/*)")
    say "depmod $KVER (about 10 s)"
    busybox depmod -b "$TMP/kernel" "$KVER"
    BZ=$TMP/kernel/boot/vmlinuz-$KVER
    [[ -f $BZ ]] || die "no boot/vmlinuz-$KVER in $PKG"
    # PVH boot needs the PVH ELF note, which CONFIG_PVH puts into vmlinux.
    if grep -qx 'CONFIG_PVH=y' "$TMP/kernel/boot/config-$KVER" &&
        extract_vmlinux "$BZ" "$TMP/vmlinux"; then
        IMG=vmlinux
    else
        say "cannot unpack $BZ for PVH boot; booting the bzImage (about 2 s slower)"
        cp "$BZ" "$TMP/vmlinuz"
        IMG=vmlinuz
    fi
    # Replace the old state only now that the new one is complete.
    rm -rf "$DIR/kernel" "$DIR/vmlinux" "$DIR/vmlinuz" "$DIR/kernel.stamp" \
        "$DIR/initramfs.cpio.gz" "$DIR/initramfs.stamp"
    mv "$TMP/kernel" "$DIR/kernel"
    mv "$TMP/$IMG" "$DIR/$IMG"
    echo "$META $PKG $KVER" >"$DIR/kernel.stamp"
    rm -rf "$TMP"
    TMP=
fi

# --- initramfs -----------------------------------------------------------------------------
# Keyed on content, not mtimes: a git checkout touches every file.
WANT_STAMP=$(cat "$HERE/init" "$HERE/build-initramfs.sh" <(echo "${VM_EXTRA_MODULES:-}") \
    "$DIR/kernel.stamp" | sha256sum | cut -d' ' -f1)
if [[ -f $DIR/initramfs.cpio.gz && -f $DIR/initramfs.stamp &&
    $(cat "$DIR/initramfs.stamp") == "$WANT_STAMP" ]]; then
    say "reusing initramfs"
else
    "$HERE/build-initramfs.sh" "$DIR/kernel" "$DIR/initramfs.cpio.gz"
    echo "$WANT_STAMP" >"$DIR/initramfs.stamp"
fi

say "ready in $DIR: $(basename "$(kernel_image)"), initramfs.cpio.gz ($((SECONDS - START)) s)"
