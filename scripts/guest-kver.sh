#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel the guest boots by default: the one Debian 12's
# linux-image-amd64 metapackage points at, when its headers are installed.
# Other kernels (backports, bullseye, rt) are only ever booted when named.
set -euo pipefail

kver=$(dpkg-query -W -f '${Depends}' linux-image-amd64 2>/dev/null |
	sed -n 's/^linux-image-\([^ ,]*\).*/\1/p')
if [ -n "$kver" ] && [ -e "/boot/vmlinuz-$kver" ] &&
	[ -e "/lib/modules/$kver/build/Makefile" ]; then
	echo "$kver"
	exit 0
fi
echo "no Debian 12 kernel with headers; install linux-image-amd64 and linux-headers-amd64" >&2
exit 1
