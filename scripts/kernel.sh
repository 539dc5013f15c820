#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install one kernel of the test matrix, with what builds modules for it, and
# print its release (KVER).  Packages of other suites come from their own
# sources files with a low pin priority, and only the kernel's own packages
# are taken from them; ABI numbers are read from the metapackages.
#
#   kernel.sh NAME        install what is missing, print KVER
#   kernel.sh -n NAME     print KVER from the package lists, install nothing
#
# NAME:
#   bookworm   Debian 12's linux-image-amd64 (6.1)
#   rt         Debian 12's linux-image-rt-amd64 (6.1, PREEMPT_RT)
#   bpo        linux-image-amd64 of bookworm-backports (6.12)
#   bullseye   linux-image-amd64 of bullseye (5.10; headers want gcc-10)
#   sid        linux-image-amd64 of sid, in a debootstrap'd sid root that is
#              also the guest's root (its headers want sid's gcc)
#   arm64      Debian 12's linux-image-arm64, unpacked with an arm64 root
#              for the guest and headers for cross builds (never installed)
#   debug      a debug kernel (KASAN, lockdep, kmemleak, fault injection)
#              built from linux-source-6.1: scripts/debug-kernel.sh bookworm
#   debug-sid  the same from sid's newest linux-source, in the sid root:
#              scripts/debug-kernel.sh sid
#
# Roots and unpacked packages live in $TCPRTT_CACHE (/var/cache/tcprtt), out
# of the work tree, so that every clone shares them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${TCPRTT_CACHE:-/var/cache/tcprtt}
install=1

usage() {
	sed -n 's/^#   //p' "$0" >&2
	exit 2
}

while getopts "n" opt; do
	case $opt in
	n) install= ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
name=$1

say() {
	echo "kernel.sh: $*" >&2
}

# The mirror the host already uses, for the suites added here.
mirror() {
	local uri

	uri=$(sed -n 's/^URIs: *\(.*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	echo "${uri:-http://deb.debian.org/debian}"
}

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return 0
	apt-get update -qq -o Acquire::Check-Valid-Until=false >&2
	apt_updated=1
}

# add_suite SUITE PIN: a sources file and a pin for SUITE, then update.
add_suite() {
	local suite=$1 pin=$2 list=/etc/apt/sources.list.d/tcprtt-$1.sources

	[ -e "$list" ] && return 0
	[ -n "$install" ] || { say "$suite is not in the sources; run without -n"; exit 1; }
	cat >"$list" <<-EOF
	# Added by tcprtt's scripts/kernel.sh: kernels for its test matrix only.
	Types: deb
	URIs: $(mirror)
	Suites: $suite
	Components: main
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	EOF
	cat >"/etc/apt/preferences.d/tcprtt-$suite" <<-EOF
	# Added by tcprtt's scripts/kernel.sh: nothing is upgraded from $suite.
	Package: *
	Pin: release n=$suite
	Pin-Priority: $pin
	EOF
	apt_updated=
	apt_update
}

add_arch() {
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	[ -n "$install" ] || { say "architecture $1 is not added; run without -n"; exit 1; }
	dpkg --add-architecture "$1"
	apt_updated=
	apt_update
}

# abi_package META [SUITE]: the versioned package that META (of SUITE, or
# the candidate) depends on, e.g. linux-image-6.1.0-56-amd64.
abi_package() {
	local meta=$1 suite=${2:-} version

	if [ -n "$suite" ]; then
		version=$(apt-cache madison "$meta" |
			awk -F' *[|] *' -v s=" $suite/" 'index($3, s) { print $2; exit }')
	else
		version=$(apt-cache policy "$meta" | sed -n 's/^ *Candidate: //p')
	fi
	[ -n "$version" ] && [ "$version" != "(none)" ] ||
		{ say "no $meta${suite:+ in $suite}"; exit 1; }
	apt-cache show "$meta=$version" | sed -n 's/^Depends: //p' | head -n 1 |
		tr ',' '\n' | sed -n 's/^ *\(linux-image-[^ ]*\).*/\1/p'
}

apt_install() {
	local missing=() p

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "${p%/*}" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	[ -n "$install" ] || { say "missing ${missing[*]}; run without -n"; exit 1; }
	say "installing ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2
}

# host_kernel META SUITE [PACKAGES...]: a kernel installed on the host; SUITE
# "" is the suites apt prefers.
host_kernel() {
	local meta=$1 suite=$2 image kver

	shift 2
	image=$(abi_package "$meta" "$suite")
	kver=${image#linux-image-}
	apt_install "$image${suite:+/$suite}" "linux-headers-$kver${suite:+/$suite}" "$@"
	echo "$kver"
}

sid_root() {
	local root=$cache/sid kver

	apt_install debootstrap
	if [ ! -x "$root/usr/bin/make" ]; then
		[ -n "$install" ] || { say "no sid root in $root; run without -n"; exit 1; }
		say "debootstrapping sid into $root"
		rm -rf "$root"
		mkdir -p "$cache"
		debootstrap --variant=minbase sid "$root" "$(mirror)" >&2
		echo "deb $(mirror) sid main" >"$root/etc/apt/sources.list"
	fi
	"$here/chroot.sh" "$root" sh -c '
		set -e
		export DEBIAN_FRONTEND=noninteractive
		need="linux-image-amd64 linux-headers-amd64 make kmod
		      iproute2 procps util-linux python3 diffutils gawk"
		missing=
		for p in $need; do
			dpkg-query -W -f="\${Status}" $p 2>/dev/null | grep -q "ok installed" ||
				missing="$missing $p"
		done
		[ -z "$missing" ] && exit 0
		[ -n "'"$install"'" ] || { echo "sid root misses$missing" >&2; exit 1; }
		apt-get -qq -o Acquire::Check-Valid-Until=false update
		apt-get install -y -qq --no-install-recommends $missing
	' >&2
	kver=$(chroot "$root" dpkg-query -W -f='${Depends}' linux-image-amd64 |
		tr ',' '\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p')
	echo "$kver"
}

# The arm64 root: unpacked only (nothing of it runs on the host), with the
# kernel's image and modules in it; headers unpacked beside it, their build
# tools taken from the host's linux-kbuild of the same release.
arm64_root() {
	local root=$cache/arm64/root hdr=$cache/arm64/headers debs=$cache/arm64/debs
	local image kver base common kbuild
	# Raise when the recipe below changes, so that roots are made anew.
	local recipe=4

	add_arch arm64
	apt_install mmdebstrap gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm
	image=$(abi_package linux-image-arm64:arm64)
	kver=${image#linux-image-}
	base=${kver%-arm64}
	if [ ! -e "$root/boot/vmlinuz-$kver" ] || [ ! -e "$hdr/.done-$kver-$recipe" ]; then
		[ -n "$install" ] || { say "no arm64 root for $kver; run without -n"; exit 1; }
		rm -rf "$cache/arm64"
		mkdir -p "$root" "$hdr" "$debs"
		say "unpacking an arm64 bookworm root into $root"
		mmdebstrap --variant=extract --architectures=arm64 \
			--include=bash,coreutils,libc-bin,mount,iproute2,procps,util-linux,kmod,python3,diffutils,gawk,sed,grep,findutils,busybox-static \
			bookworm "$root" "$(mirror)" >&2
		# What maintainer scripts would have made and the tests use.
		ln -sfn bash "$root/bin/sh"
		ln -sfn gawk "$root/usr/bin/awk"
		common=linux-headers-$base-common
		(cd "$debs" && apt-get download -qq "$image:arm64" \
			"linux-headers-$kver:arm64" "$common") >&2
		dpkg-deb -x "$debs/${image}_"*.deb "$root"
		depmod -b "$root" "$kver"
		dpkg-deb -x "$debs/linux-headers-${kver}_"*.deb "$hdr"
		dpkg-deb -x "$debs/${common}_"*.deb "$hdr"
		# The arch Makefile includes the common one by its absolute path.
		sed -i "s|^include /usr/src/|include $hdr/usr/src/|" \
			"$hdr/usr/src/linux-headers-$kver/Makefile"
		touch "$hdr/.done-$kver-$recipe"
	fi
	# The unpacked headers point at /usr/lib/linux-kbuild-X.Y through
	# relative links; the host's amd64 build of the same release fills in.
	kbuild=linux-kbuild-$(echo "$kver" | cut -d. -f1-2)
	apt_install "$kbuild"
	mkdir -p "$hdr/usr/lib"
	ln -sfn "/usr/lib/$kbuild" "$hdr/usr/lib/$kbuild"
	echo "$kver"
}

case $name in
bookworm)
	host_kernel linux-image-amd64 ""
	;;
rt)
	host_kernel linux-image-rt-amd64 ""
	;;
bpo)
	add_suite bookworm-backports 100
	host_kernel linux-image-amd64 bookworm-backports
	;;
bullseye)
	add_suite bullseye 50
	host_kernel linux-image-amd64 bullseye gcc-10
	;;
sid)
	sid_root
	;;
arm64)
	arm64_root
	;;
debug | debug-sid)
	suite=bookworm
	[ "$name" = debug ] || suite=sid
	# Building one takes 20 minutes or more: -n only reports a build.
	if [ -n "$install" ]; then
		"$here/debug-kernel.sh" "$suite"
	else
		"$here/debug-kernel.sh" -n "$suite"
	fi
	;;
*)
	usage
	;;
esac
