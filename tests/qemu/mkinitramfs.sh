#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest's initramfs: static busybox, the virtio and 9p modules of
# KVER (none when KVER has them built in, as the debug kernels do), and an
# /init that mounts the host's / over 9p and switches to it.
# ROOT (default /) is where the modules are, and for ARCH arm64 also the
# busybox-static to take.
#
#   mkinitramfs.sh KVER OUT [ROOT [x86_64|arm64]]
set -euo pipefail

kver=${1:?usage: mkinitramfs.sh KVER OUT [ROOT [ARCH]]}
out=${2:?usage: mkinitramfs.sh KVER OUT [ROOT [ARCH]]}
sysroot=${3:-/}
arch=${4:-x86_64}
here=$(cd "$(dirname "$0")" && pwd)
busybox=/bin/busybox
[ "$arch" = x86_64 ] || busybox=$sysroot/bin/busybox

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"

# modprobe knows the load order, and says "builtin NAME" for what needs no
# loading; compressed modules are unpacked for busybox's insmod.
deps=$(modprobe -a -d "$sysroot" -S "$kver" --show-depends virtio_pci 9pnet_virtio 9p) ||
	{ echo "no virtio/9p modules for $kver" >&2; exit 1; }
echo "$deps" | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' |
	while read -r ko; do
		name=$(basename "$ko")
		name=${name%.xz}
		name=${name%.zst}
		case "$ko" in
		*.xz) xz -dc "$ko" >"$root/modules/$name" ;;
		*.zst) zstd -qdc "$ko" >"$root/modules/$name" ;;
		*) cp "$ko" "$root/modules/$name" ;;
		esac
		echo "$name"
	done >"$root/modules/order"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
