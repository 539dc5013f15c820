#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The packaging paths, as a user takes them, for CI:
#  1. DKMS from a checkout: dkms add, build -k, install -k, status against
#     the installed headers of a kernel that is not the guest's default one
#     (6.12 from bookworm-backports), that kernel booted in the guest loading
#     the installed module, a kernel without kprobes skipped, dkms remove;
#  2. the Debian packages: dpkg-buildpackage, lintian, apt-get install of
#     both .debs, DKMS's build for the installed kernel, a smoke test in the
#     guest with the installed module and the installed printer; bookworm's
#     libbpf-tools, whose /usr/sbin/tcprtt tcprtt-tools diverts, installed
#     after tcprtt-tools and before it; then purge.
# Prints KTAP and "N passed, N failed"; exits non-zero on any failure.  Needs
# root.  Logs are in .cache/ci-packaging/.
#
#   tests/ci-packaging.sh [-k KVER]     KVER: the DKMS kernel (default: bpo)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
log=.cache/ci-packaging
dkms_kver=
while getopts "k:" opt; do
	case $opt in
	k) dkms_kver=$OPTARG ;;
	*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
	esac
done

n=0
passed=0
failed=0
started=$SECONDS

# step NAME COMMAND...: one KTAP line; the command's output goes to
# $log/NAME.log and, when it fails, its tail to the diagnostics.
step() {
	local name=$1 start=$SECONDS

	shift
	n=$((n + 1))
	if "$@" >"$log/$name.log" 2>&1; then
		passed=$((passed + 1))
		echo "# $name: $((SECONDS - start)) s"
		echo "ok $n $name"
		return 0
	fi
	failed=$((failed + 1))
	tail -n 30 "$log/$name.log" | sed 's/^/# /'
	echo "not ok $n $name"
	return 1
}

# skip NAME REASON
skip() {
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

# Without set -e, a check that must end its function reads
# "cond || fail WHY || return".
fail() {
	echo "FAIL: $*" >&2
	return 1
}

# Nothing of an earlier run may stay: packages, DKMS trees, sources.
clean_slate() {
	if dpkg-query -W -f='${Status}' tcprtt-dkms tcprtt-tools libbpf-tools 2>/dev/null | grep -q installed; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq tcprtt-dkms tcprtt-tools libbpf-tools
	fi
	[ -z "$(dpkg-divert --listpackage /usr/sbin/tcprtt)" ] ||
		fail "a diversion of /usr/sbin/tcprtt stayed: $(dpkg-divert --list /usr/sbin/tcprtt)" || return
	dkms remove "tcprtt/$version" --all 2>/dev/null || true
	rm -rf "/usr/src/tcprtt-$version" "/var/lib/dkms/tcprtt"
	[ -z "$(dkms status tcprtt 2>/dev/null)" ] || fail "dkms still lists tcprtt"
}

check_version() {
	local tmp rc=0

	[ "$(scripts/version-check.sh)" = "$version" ] || fail "version-check printed another version"
	# A changelog that disagrees with tcprtt.h must fail it.
	tmp=$(mktemp -d)
	mkdir -p "$tmp/scripts" "$tmp/debian"
	cp scripts/version-check.sh "$tmp/scripts/"
	cp tcprtt.h dkms.conf "$tmp/"
	sed '1s/(\([^)]*\))/(\1.1)/' debian/changelog >"$tmp/debian/changelog"
	if "$tmp/scripts/version-check.sh"; then
		rc=1
		echo "FAIL: version-check accepted $(head -n 1 "$tmp/debian/changelog")" >&2
	fi
	rm -rf "$tmp"
	return $rc
}

dkms_installed_for() {
	local kver=$1 status

	status=$(dkms status "tcprtt/$version" -k "$kver")
	echo "$status"
	echo "$status" | grep -q ": installed" ||
		fail "dkms status for $kver: '$status', expected installed" || return
	[ -e "/lib/modules/$kver/updates/dkms/tcprtt.ko" ] ||
		[ -e "/lib/modules/$kver/updates/dkms/tcprtt.ko.xz" ] ||
		fail "no tcprtt.ko in /lib/modules/$kver/updates/dkms" || return
	modinfo -k "$kver" -F version tcprtt | grep -qx "$version" ||
		fail "modinfo -k $kver: version $(modinfo -k "$kver" -F version tcprtt), expected $version"
}

# dkms_skips WHAT CONFIG [DKMS_OPTION...]: a kernel whose .config is CONFIG
# (lines, \n between) is skipped, with the reason, and nothing is built.
dkms_skips() {
	local what=$1 config=$2 fake out rc=0

	shift 2
	fake=$(mktemp -d)
	printf "$config\n" >"$fake/.config"
	out=$(dkms build -k 0.0.0-tcprtt-skip --kernelsourcedir "$fake" "$@" "tcprtt/$version" 2>&1) || rc=$?
	rm -rf "$fake"
	echo "$out"
	[ $rc -eq 77 ] || fail "dkms build $what: exit $rc, expected 77 (skipped)"
	echo "$out" | grep -q 'BUILD_EXCLUSIVE directive' || fail "no BUILD_EXCLUSIVE reason in: $out"
}

# Kernels tcprtt cannot build for: without kprobes, 32-bit, or an
# architecture without regs_get_kernel_argument().
dkms_skips_unbuildable() {
	local ok='CONFIG_MODULES=y\nCONFIG_KPROBES=y\nCONFIG_64BIT=y'

	dkms_skips "without CONFIG_KPROBES" 'CONFIG_MODULES=y\n# CONFIG_KPROBES is not set\nCONFIG_64BIT=y' &&
	dkms_skips "for a 32-bit kernel" 'CONFIG_MODULES=y\nCONFIG_KPROBES=y\n# CONFIG_64BIT is not set' &&
	dkms_skips "for i686" "$ok" -a i686 &&
	dkms_skips "for mips64" "$ok" -a mips64 &&
	dkms_tries "$ok" -a x86_64 &&
	dkms_tries "$ok" -a aarch64
}

# dkms_tries CONFIG [DKMS_OPTION...]: the control: a kernel tcprtt can build
# for is not skipped (the build then fails for want of real headers).
dkms_tries() {
	local config=$1 fake out rc=0

	shift
	fake=$(mktemp -d)
	printf "$config\n" >"$fake/.config"
	out=$(dkms build -k 0.0.0-tcprtt-try --kernelsourcedir "$fake" "$@" "tcprtt/$version" 2>&1) || rc=$?
	rm -rf "$fake"
	[ $rc -ne 77 ] && ! echo "$out" | grep -q 'BUILD_EXCLUSIVE' ||
		fail "dkms build $*: skipped (exit $rc), expected an attempt: $out"
}

dkms_removed() {
	dkms remove "tcprtt/$version" --all
	[ -z "$(dkms status tcprtt)" ] || fail "dkms status still lists: $(dkms status tcprtt)"
	[ ! -e "/lib/modules/$dkms_kver/updates/dkms/tcprtt.ko" ] || fail "tcprtt.ko stayed in $dkms_kver"
	rm -rf "/usr/src/tcprtt-$version"
}

# guest KVER [PRINTER]: the smoke test in KVER's guest; without a printer,
# also what an unenrolled key does under lockdown.
guest() {
	tests/qemu/vm.sh -k "$1" -t 900 -- env TCPRTT_VERSION="$version" \
		TCPRTT_PRINTER="${2:-}" TCPRTT_LOCKDOWN=$([ -n "${2:-}" ] || echo 1) \
		bash tests/guest.sh smoke.sh
}

# A copy of the tracked files, so that the .debs and debian/'s droppings
# stay in .cache.
build_debs() {
	local dir=$log/deb

	rm -rf "$dir"
	mkdir -p "$dir/src"
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$dir/src"
	(cd "$dir/src" && dpkg-buildpackage -us -uc -b)
	ls "$dir"/tcprtt-dkms_"$version"_all.deb "$dir"/tcprtt-tools_"$version"_*.deb
}

run_lintian() {
	lintian --fail-on error "$log"/deb/tcprtt_"$version"_*.changes
}

apt_install_debs() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y \
		"./$log/deb/tcprtt-dkms_${version}_all.deb" \
		./"$log"/deb/tcprtt-tools_"$version"_*.deb || return
	[ -x /usr/sbin/tcprtt ] || fail "no /usr/sbin/tcprtt" || return
	man -w tcprtt >/dev/null || fail "no man page for tcprtt" || return
	[ -f /lib/systemd/system/tcprtt-exporter.service ] || fail "no tcprtt-exporter.service" || return
	# A package installed for the command starts no daemon by itself.
	[ ! -e /etc/systemd/system/multi-user.target.wants/tcprtt-exporter.service ] ||
		fail "tcprtt-exporter.service enabled on install" || return
	dpkg-query -W -f='${Conffiles}' tcprtt-tools | grep -q ' /etc/default/tcprtt-exporter ' ||
		fail "/etc/default/tcprtt-exporter is not a conffile"
}

# Bookworm's libbpf-tools, whose eBPF tcprtt is /usr/sbin/tcprtt too; its
# tcprtt kept aside to compare with.
libbpf_fetch() {
	local dir=$log/libbpf-tools

	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$dir" && apt-get download libbpf-tools) || return 1
	libbpf_deb=$(ls "$dir"/libbpf-tools_*.deb) || return 1
	echo "$libbpf_deb"
	dpkg-deb --fsys-tarfile "$libbpf_deb" | tar -xOf - ./usr/sbin/tcprtt >"$dir/tcprtt" ||
		fail "no ./usr/sbin/tcprtt in $libbpf_deb"
}

# tcprtt-tools' printer at /usr/sbin/tcprtt, libbpf-tools' diverted.
libbpf_aside() {
	/usr/sbin/tcprtt --version | grep -qx "tcprtt $version" ||
		fail "/usr/sbin/tcprtt --version: $(/usr/sbin/tcprtt --version 2>&1)" || return
	cmp /usr/sbin/tcprtt.libbpf-tools "$log/libbpf-tools/tcprtt" ||
		fail "/usr/sbin/tcprtt.libbpf-tools is not libbpf-tools' tcprtt" || return
	dpkg-divert --list /usr/sbin/tcprtt
	[ "$(dpkg-divert --listpackage /usr/sbin/tcprtt)" = tcprtt-tools ] ||
		fail "no diversion of /usr/sbin/tcprtt by tcprtt-tools" || return
	[ "$(dpkg-divert --truename /usr/sbin/tcprtt)" = /usr/sbin/tcprtt.libbpf-tools ] ||
		fail "diverted to $(dpkg-divert --truename /usr/sbin/tcprtt)" || return
	dpkg-query -W -f='${Status}\n' libbpf-tools tcprtt-tools
}

# libbpf-tools' tcprtt back in its place, and no diversion.
libbpf_back() {
	cmp /usr/sbin/tcprtt "$log/libbpf-tools/tcprtt" ||
		fail "/usr/sbin/tcprtt is not libbpf-tools' tcprtt" || return
	[ ! -e /usr/sbin/tcprtt.libbpf-tools ] || fail "/usr/sbin/tcprtt.libbpf-tools stayed" || return
	[ -z "$(dpkg-divert --listpackage /usr/sbin/tcprtt)" ] ||
		fail "a diversion stayed: $(dpkg-divert --list /usr/sbin/tcprtt)" || return
	dpkg -S /usr/sbin/tcprtt | grep -qx 'libbpf-tools: /usr/sbin/tcprtt' ||
		fail "dpkg -S /usr/sbin/tcprtt: $(dpkg -S /usr/sbin/tcprtt 2>&1)"
}

# libbpf-tools after tcprtt-tools: its tcprtt goes to the diverted name.
libbpf_after() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y "./$libbpf_deb" && libbpf_aside
}

# Without tcprtt-tools, libbpf-tools' tcprtt is back.
libbpf_tools_removed() {
	DEBIAN_FRONTEND=noninteractive apt-get remove -y tcprtt-tools && libbpf_back
}

# tcprtt-tools after libbpf-tools: preinst moves its tcprtt aside.
libbpf_before() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y ./"$log"/deb/tcprtt-tools_"$version"_*.deb &&
		libbpf_aside
}

libbpf_purge() {
	libbpf_back || return 1
	DEBIAN_FRONTEND=noninteractive apt-get purge -y libbpf-tools || return 1
	[ ! -e /usr/sbin/tcprtt ] || fail "/usr/sbin/tcprtt stayed"
}

purge() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y tcprtt-dkms tcprtt-tools || return
	[ -z "$(dkms status tcprtt)" ] || fail "dkms status still lists: $(dkms status tcprtt)" || return
	[ ! -e "/lib/modules/$guest_kver/updates/dkms/tcprtt.ko" ] || fail "tcprtt.ko stayed in $guest_kver"
}

mkdir -p "$log"
echo "TAP version 13"
version=$(sed -n 's/^#define TCPRTT_VERSION "\(.*\)"/\1/p' tcprtt.h)
step deps scripts/deps.sh dkms dh-dkms debhelper lintian devscripts fakeroot \
	build-essential man-db
[ -n "$dkms_kver" ] || dkms_kver=$(scripts/kernel.sh bpo 2>"$log/kernel.log")
guest_kver=$(scripts/guest-kver.sh)
echo "# DKMS kernel $dkms_kver; guest's default kernel $guest_kver; version $version"
make -s -C tests >"$log/tests-build.log" 2>&1 || echo "# cannot build tests/tcprtt_load"

step version_check check_version
step clean_slate clean_slate

# 1. DKMS from a checkout, for a kernel that is not the default one.
if [ "$dkms_kver" = "$guest_kver" ]; then
	echo "# $dkms_kver is also the guest's default kernel: pick another with -k"
fi
if step dkms_add_source make -s dkms-source &&
   step dkms_add dkms add "tcprtt/$version" &&
   step dkms_build dkms build -k "$dkms_kver" "tcprtt/$version" &&
   step dkms_install dkms install -k "$dkms_kver" "tcprtt/$version" &&
   step dkms_status dkms_installed_for "$dkms_kver"; then
	step dkms_guest_load guest "$dkms_kver"
else
	skip dkms_guest_load "DKMS did not install the module"
fi
step dkms_skips_unbuildable dkms_skips_unbuildable
step dkms_remove dkms_removed

# 2. The Debian packages.
if step deb_build build_debs; then
	step deb_lintian run_lintian
	if step deb_apt_install apt_install_debs &&
	   step deb_dkms_built dkms_installed_for "$guest_kver"; then
		step deb_guest_smoke guest "$guest_kver" /usr/sbin/tcprtt
	else
		skip deb_guest_smoke "the packages did not install the module"
	fi
	libbpf_deb=
	if step deb_libbpf_fetch libbpf_fetch &&
	   step deb_libbpf_after libbpf_after; then
		step deb_libbpf_tools_removed libbpf_tools_removed &&
			step deb_libbpf_before libbpf_before
	fi
	step deb_purge purge
	[ -z "$libbpf_deb" ] || step deb_libbpf_purge libbpf_purge
fi

echo "1..$n"
echo "# ci-packaging: $((SECONDS - started)) s"
echo "ci-packaging: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
