#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel the guest boots by default: the one Debian's installed
# linux-image-amd64 metapackage names, when it has both an image in /boot and
# headers; else the newest installed kernel that has both.  Other kernels
# installed for the test matrix (RT, backports, bullseye) never become the
# default by sorting higher.
set -euo pipefail

usable() {
	[ -e "/boot/vmlinuz-$1" ] && [ -e "/lib/modules/$1/build/Makefile" ]
}

kver=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null |
	tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p')
if [ -n "$kver" ] && usable "$kver"; then
	echo "$kver"
	exit 0
fi

for image in $(ls /boot/vmlinuz-* 2>/dev/null | sort -rV); do
	kver=${image#/boot/vmlinuz-}
	if usable "$kver"; then
		echo "$kver"
		exit 0
	fi
done
echo "no kernel with both /boot/vmlinuz-KVER and headers; install linux-image-amd64 and linux-headers-amd64" >&2
exit 1
