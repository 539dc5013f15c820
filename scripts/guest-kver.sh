#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the newest installed Debian kernel that has both an image in /boot
# and headers to build against: the kernel the guest boots by default.
set -euo pipefail

for image in $(ls /boot/vmlinuz-* 2>/dev/null | sort -rV); do
	kver=${image#/boot/vmlinuz-}
	if [ -e "/lib/modules/$kver/build/Makefile" ]; then
		echo "$kver"
		exit 0
	fi
done
echo "no kernel with both /boot/vmlinuz-KVER and headers; install linux-image-amd64 and linux-headers-amd64" >&2
exit 1
