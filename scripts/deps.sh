#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install Debian packages that are missing; with no arguments, everything the
# build, the checks and the guest tests use.  Needs root (or sudo).
set -euo pipefail

packages=("$@")
if [ ${#packages[@]} -eq 0 ]; then
	packages=(
		make gcc libc6-dev kmod xz-utils
		linux-image-amd64 linux-headers-amd64
		linux-source-6.1 sparse
		qemu-system-x86 busybox-static
		iproute2 procps python3 bpftrace util-linux libcap2-bin
		# tools/'s host tests (tests/tools/deps.sh installs them too)
		python3-prometheus-client groff-base
	)
	# Debian's prometheus and node_exporter, unpacked for the guest's
	# fleet test and promtool, never installed: they are daemons.
	"$(dirname "$0")/prometheus.sh" >/dev/null
fi

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
	--no-install-recommends "${missing[@]}" >/dev/null
