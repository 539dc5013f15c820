#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A debug kernel (KASAN, UBSAN, lockdep, PROVE_RCU, kmemleak, fault
# injection: tests/debug/config) built from Debian's own source package,
# installed where the guest boots it; prints its release (KVER).
#
#   debug-kernel.sh [-n] bookworm|sid
#
# bookworm  linux-source-6.1, built on the host with the host's gcc
# sid       the newest linux-source-X.Y of sid, built in the sid root
#           (scripts/kernel.sh sid) with sid's gcc; the guest boots that root
# Config: x86_64_defconfig + kvm_guest.config + tests/debug/config; the build
# fails if any line of the fragment does not survive olddefconfig.  A build
# is kept in $TCPRTT_CACHE (/var/cache/tcprtt; sid's inside the sid root) and
# made again only when its key changes: the source package's version, the
# fragment and the recipe number below.  It takes about 20 minutes of both
# cores here from scratch; a change of the fragment alone rebuilds what it
# touches in the kept tree.
# -n prints the release of a build already made, and builds nothing.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/../tests/debug/config
cache=${TCPRTT_CACHE:-/var/cache/tcprtt}
# Raise when build() changes, so that cached kernels are built anew.
recipe=1
check_only=

say() {
	echo "debug-kernel.sh: $*" >&2
}

# build TARBALL TREE KEY FRAGMENT SOURCE: extract (unless TREE holds SOURCE,
# the same package's tree, already), configure, check, make: when only the
# fragment changed, Kbuild rebuilds only what its options touch.  Runs on
# the host or, for sid, as this script's copy inside the sid root.
build() {
	local tarball=$1 tree=$2 key=$3 frag=$4 source=$5 line missing=0

	if [ "$(cat "$tree/.tcprtt-source" 2>/dev/null)" != "$source" ]; then
		rm -rf "$tree"
		mkdir -p "$tree"
		say "extracting $tarball into $tree"
		tar -xaf "$tarball" -C "$tree" --strip-components=1
		echo "$source" >"$tree/.tcprtt-source"
	fi
	cd "$tree"
	rm -f .tcprtt-key
	cp "$frag" tcprtt-debug.config
	make -s x86_64_defconfig
	scripts/kconfig/merge_config.sh -m -O . .config \
		kernel/configs/kvm_guest.config tcprtt-debug.config >/dev/null
	make -s olddefconfig
	while IFS= read -r line; do
		case $line in
		CONFIG_*=* | "# CONFIG_"*" is not set")
			grep -Fxq "$line" .config && continue
			say "not in the final .config: $line"
			missing=1
			;;
		esac
	done <tcprtt-debug.config
	[ $missing -eq 0 ] || exit 1
	say "building in $tree (log: build.log)"
	make -j"$(nproc)" LOCALVERSION= all >build.log 2>&1 ||
		{ tail -n 40 build.log >&2; exit 1; }
	echo "$key" >.tcprtt-key
}

if [ "${1:-}" = --build ]; then
	shift
	build "$@"
	exit 0
fi

while getopts "n" opt; do
	case $opt in
	n) check_only=1 ;;
	*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || { sed -n 's/^#   //p' "$0" >&2; exit 2; }
name=$1

# run COMMAND...: on the host, or in the sid root for sid.
case $name in
bookworm)
	root=/
	run=()
	[ -n "$check_only" ] ||
		"$here/deps.sh" linux-source-6.1 flex bison bc libelf-dev libssl-dev cpio kmod
	pkg=linux-source-6.1
	;;
sid)
	root=$cache/sid
	run=("$here/chroot.sh" "$root")
	[ -x "$root/usr/bin/make" ] || [ -z "$check_only" ] || { say "no sid root in $root"; exit 1; }
	[ -n "$check_only" ] || "$here/kernel.sh" sid >/dev/null
	pkg=$(chroot "$root" apt-cache show linux-source 2>/dev/null |
		sed -n 's/^Depends: \(linux-source-[0-9.]*\).*/\1/p' | sort -V | tail -n 1)
	[ -n "$pkg" ] || { say "sid has no linux-source package"; exit 1; }
	[ -n "$check_only" ] || "${run[@]}" sh -c "
		dpkg-query -W -f='\${Status}' $pkg gcc flex bison bc libelf-dev libssl-dev openssl cpio xz-utils 2>/dev/null |
			grep -c 'ok installed' | grep -qx 9 && exit 0
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends \
			$pkg gcc flex bison bc libelf-dev libssl-dev openssl cpio xz-utils" >&2
	;;
*)
	sed -n 's/^#   //p' "$0" >&2
	exit 2
	;;
esac

version=$(chroot "$root" dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) ||
	{ say "$pkg is not installed"; exit 1; }
tarball=/usr/src/$pkg.tar.xz
# Where it is built, as the builder sees it (sid: inside its root).
case $name in
bookworm) tree=$cache/debug-bookworm/linux ;;
sid) tree=/usr/src/tcprtt-debug/linux ;;
esac
source="$pkg $version recipe $recipe"
key=$( (echo "$source"; cat "$fragment") | sha256sum | cut -c1-16)

if [ "$(cat "$root$tree/.tcprtt-key" 2>/dev/null)" != "$key" ]; then
	[ -z "$check_only" ] || { say "no build of $pkg $version with this fragment"; exit 1; }
	if [ "$name" = sid ]; then
		mkdir -p "$root/usr/src/tcprtt-debug"
		cp "$0" "$root/usr/src/tcprtt-debug/debug-kernel.sh"
		cp "$fragment" "$root/usr/src/tcprtt-debug/config"
		"${run[@]}" bash /usr/src/tcprtt-debug/debug-kernel.sh --build \
			"$tarball" "$tree" "$key" /usr/src/tcprtt-debug/config "$source"
	else
		(build "$tarball" "$tree" "$key" "$fragment" "$source")
	fi
fi

# What the suite needs (tests/config, kselftest's fragment) must be in the
# debug kernels too, built in or as a module: a test must not fail for want
# of an option, as rows.sh once did for want of INET_DIAG.
lacking=$(sed -n 's/^\(CONFIG_[A-Z0-9_]*\)=[ym]$/\1/p' "$here/../tests/config" |
	while read -r opt; do
		grep -Eq "^$opt=[ym]\$" "$root$tree/.config" || echo "$opt"
	done)
if [ -n "$lacking" ]; then
	say "tests/config needs what this build lacks: $(echo $lacking); add it to tests/debug/config"
	exit 1
fi

kver=$(make -s -C "$root$tree" kernelrelease LOCALVERSION=)
# Installed like a Debian kernel: the image in /boot, the list of built-in
# modules for modprobe, and build/ for out-of-tree modules.
if [ ! -e "$root/lib/modules/$kver/.tcprtt-key-$key" ] && [ -z "$check_only" ]; then
	install -D -m 0644 "$root$tree/arch/x86/boot/bzImage" "$root/boot/vmlinuz-$kver"
	"${run[@]}" make -s -C "$tree" LOCALVERSION= modules_install >/dev/null
	ln -sfn "$tree" "$root/lib/modules/$kver/build"
	rm -f "$root/lib/modules/$kver"/.tcprtt-key-*
	touch "$root/lib/modules/$kver/.tcprtt-key-$key"
fi
echo "$kver"
