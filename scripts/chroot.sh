#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run a command in a chroot with /proc, /sys and /dev mounted (objtool and
# apt want them), and unmount them again however the command ends.
#
#   chroot.sh ROOT COMMAND...
set -euo pipefail

root=${1:?usage: chroot.sh ROOT COMMAND...}
shift
[ $# -gt 0 ] || { echo "usage: chroot.sh ROOT COMMAND..." >&2; exit 2; }

mounted=()
cleanup() {
	local i

	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount -l "${mounted[i]}" 2>/dev/null || true
	done
}
trap cleanup EXIT

for fs in proc sys dev dev/pts; do
	mountpoint -q "$root/$fs" && continue
	mkdir -p "$root/$fs"
	case $fs in
	proc) mount -t proc proc "$root/proc" ;;
	sys) mount -t sysfs sysfs "$root/sys" ;;
	*) mount --bind "/$fs" "$root/$fs" ;;
	esac
	mounted+=("$root/$fs")
done
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
chroot "$root" "$@"
