#!/usr/bin/env bash
# build-initramfs.sh KERNEL_TREE OUT.cpio.gz
#
# Builds the test VM's initramfs: static busybox, our two-stage /init, and only the kernel
# modules the VM needs (plus whatever they depend on), unpacked so the busybox modprobe can
# load them. KERNEL_TREE is a Debian linux-image .deb unpacked with `dpkg-deb -x` (see
# setup-vm.sh). VM_EXTRA_MODULES adds module names to the list.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 KERNEL_TREE OUT.cpio.gz" >&2
    exit 2
fi
KT=$(realpath "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUSYBOX=/bin/busybox

# The initramfs has no libc, so a dynamic busybox (package "busybox") would not even start.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    echo "build-initramfs: $BUSYBOX is dynamically linked; install busybox-static" >&2
    exit 1
fi

KVERS=("$KT"/lib/modules/*)
if [[ ${#KVERS[@]} -ne 1 || ! -d ${KVERS[0]} ]]; then
    echo "build-initramfs: expected exactly one kernel under $KT/lib/modules" >&2
    exit 1
fi
KVER=$(basename "${KVERS[0]}")
MD=$KT/lib/modules/$KVER
# The .deb ships no modules.dep and kmod is not installed: busybox has a depmod.
[[ -f $MD/modules.dep ]] || "$BUSYBOX" depmod -b "$KT" "$KVER"

# 9p for the shares, overlay/veth/bridge for containers, virtio_blk+ext4 for a scratch disk
# (io.max needs a real block device). crc32c_generic is what ext4 needs but modules.dep does
# not list (it is a crypto alias).
WANT="virtio_pci 9pnet_virtio 9p overlay veth bridge br_netfilter virtio_blk virtio_net ext4"
WANT+=" crc32c_generic ${VM_EXTRA_MODULES:-}"

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/berth-initramfs.XXXXXX")
trap 'rm -rf "$ROOT" "$OUT.tmp"' EXIT
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,mnt/host,root,etc}
mkdir -p "$ROOT/lib/modules/$KVER"
cp "$BUSYBOX" "$ROOT/bin/busybox"
install -m 755 "$HERE/init" "$ROOT/init"
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
echo 'root:x:0:' >"$ROOT/etc/group"

for m in $WANT; do
    # Built in on this kernel (6.12 has virtio_pci built in): nothing to copy.
    grep -qE "/$m\.ko$" "$MD/modules.builtin" && continue
    if ! line=$(grep -E "/$m\.ko(\.xz|\.zst)?:" "$MD/modules.dep"); then
        echo "build-initramfs: kernel $KVER has no module $m" >&2
        exit 1
    fi
    for f in ${line%%:*} ${line#*:}; do
        # Stored uncompressed: busybox modprobe may lack xz/zstd support.
        d=$ROOT/lib/modules/$KVER/${f%.xz}
        d=${d%.zst}
        [[ -e $d ]] && continue
        mkdir -p "$(dirname "$d")"
        case "$f" in
            *.xz) xz -dc "$MD/$f" >"$d" ;;
            *.zst) zstd -qdc "$MD/$f" >"$d" ;;
            *) cp "$MD/$f" "$d" ;;
        esac
    done
done
cp "$MD/modules.builtin" "$MD/modules.order" "$ROOT/lib/modules/$KVER/"
"$BUSYBOX" depmod -b "$ROOT" "$KVER"

mkdir -p "$(dirname "$OUT")"
# gzip -1: the archive is small either way and the kernel unpacks it in well under a second.
(cd "$ROOT" && find . | "$BUSYBOX" cpio -o -H newc 2>/dev/null | gzip -1) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "build-initramfs: $OUT ($(du -h "$OUT" | cut -f1), kernel $KVER)"
