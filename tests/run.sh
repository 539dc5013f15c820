#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole test suite: install what is missing, build the module, the printer
# and the test programs, run the printer's host tests, then boot Debian's
# kernel in QEMU and run the guest tests there, through kselftest's runner
# (tests/guest.sh).  Ends with one line
# "N passed, N failed, N skipped"; exits non-zero on any failure.
#
#   tests/run.sh [-k KVER] [GUEST_SCRIPT...]
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
kver=${KVER:-}
while getopts "k:" opt; do
	case $opt in
	k) kver=$OPTARG ;;
	*) sed -n 's/^#   //p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

# shellcheck source=tests/qemu/guests.sh
. tests/qemu/guests.sh
guests=("${TCPRTT_GUESTS[@]}")
[ -z "${TCPRTT_STRESS:-}" ] || guests+=("2 -a slub_debug=FZPU tcprtt.sh hardening.sh")
[ $# -eq 0 ] || guests=("2 $*")
# The hardening counts, when set here, reach the guest.
counts=()
for v in TCPRTT_CYCLES TCPRTT_READERS TCPRTT_READ_SECONDS TCPRTT_REQUESTS; do
	[ -z "${!v:-}" ] || counts+=("$v=${!v}")
done

scripts/deps.sh || exit 1
[ -n "$kver" ] || kver=$(scripts/guest-kver.sh) || exit 1
mkdir -p .cache
log=.cache/test-$kver.log
: >"$log"

build() {
	make -s module test-modules KVER="$kver" && make -s -C tests && make -s -C tools
}

{
	echo "# building for $kver"
	if build >.cache/build.log 2>&1; then
		echo "ok 1 build"
	else
		sed 's/^/# /' .cache/build.log
		echo "not ok 1 build"
	fi
	if [ -z "${TCPRTT_SKIP_HOST:-}" ]; then
		make -s -C tools --no-print-directory check 2>&1
	fi
	for guest in "${guests[@]}"; do
		guest_parse "$guest" -k "$kver"
		echo "# guest: $guest"
		tests/qemu/vm.sh "${guest_vm[@]}" -- env "${counts[@]}" "${guest_env[@]}" \
			bash tests/guest.sh "${guest_scripts[@]}" 2>&1 ||
			echo "not ok guest ($guest) ended with status $?"
	done
} | tee -a "$log"

# Count every test of every KTAP stream above, and those kselftest's runner
# nests in the guests' streams, once each.
awk -f tests/ktap-totals.awk "$log"
