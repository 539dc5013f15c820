#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Debian's prometheus and prometheus-node-exporter packages, unpacked, not
# installed: installing them would start and enable two daemons on the host,
# and the tests run them only in a guest (tests/fleet.sh) or as promtool.
# The .debs are kept in /var/cache/tcprtt/debs; the unpacked tree goes to
# DIR (default: the project's .cache/prometheus, which every guest sees).
# Prints DIR/usr/bin, which holds prometheus, promtool and
# prometheus-node-exporter.
#
#   scripts/prometheus.sh [DIR]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$top/.cache/prometheus}
debs=${TCPRTT_CACHE:-/var/cache/tcprtt}/debs
packages=(prometheus prometheus-node-exporter)

# The unpacked tree is keyed by the candidate versions: a point release
# replaces it.
candidates() {
	apt-cache policy "${packages[@]}" | awk '$1 == "Candidate:" { print $2 }'
}
mapfile -t versions < <(candidates)
if [ -x "$dir/usr/bin/promtool" ] && [ "$(cat "$dir/.versions" 2>/dev/null)" = "${versions[*]}" ]; then
	echo "$dir/usr/bin"
	exit 0
fi

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo mkdir -p "$debs"
# A machine that never ran apt-get update knows no candidate.
if [[ " ${versions[*]} " == *" (none) "* ]] || [ ${#versions[@]} -ne ${#packages[@]} ]; then
	$sudo apt-get update -qq
	mapfile -t versions < <(candidates)
fi
rm -rf "$dir"
mkdir -p "$dir"
for i in "${!packages[@]}"; do
	p=${packages[$i]} v=${versions[$i]}
	# apt-get download names the file with the epoch's colon as %3a.
	found=("$debs/${p}_${v//:/%3a}"_*.deb)
	if [ ! -e "${found[0]}" ]; then
		(cd "$debs" && $sudo apt-get download -q -o APT::Sandbox::User=root "$p" >&2)
		found=("$debs/${p}_${v//:/%3a}"_*.deb)
	fi
	deb=${found[0]}
	dpkg-deb -x "$deb" "$dir"
done
echo "${versions[*]}" >"$dir/.versions"
echo "$dir/usr/bin"
