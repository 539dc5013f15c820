#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: for each kernel, install what is missing, build the
# module for it with W=1 (one warning fails it), then boot it in QEMU and run
# the guest suite with that build.  Prints KTAP, one "ok N matrix KVER" per
# kernel, then a table of results and wall times and "N passed, N failed".
# Each kernel's logs are in .cache/matrix/NAME/.
#
#   tests/matrix.sh [--ci] [--full] [NAME...]
#
# NAME, in the issue's order (default: all six):
#   bookworm   Debian 12's 6.1              rt      Debian 12's 6.1 PREEMPT_RT
#   bpo        6.12 from bookworm-backports sid     7.x from sid (sid root)
#   bullseye   5.10 from bullseye           arm64   Debian 12's arm64 6.1
# --ci runs bookworm, rt and bpo, then each other kernel whose expected time
# still fits in TCPRTT_MATRIX_BUDGET seconds (default 0) counted from the
# start.
# --full runs all the guests of tests/run.sh on each kernel.
# Every guest gets the builds of its kernel, not the tree's.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
# shellcheck source=tests/qemu/guests.sh
. tests/qemu/guests.sh
ALL=(bookworm rt bpo sid bullseye arm64)
# Wall seconds each took here with its kernel installed (README, "Kernel
# matrix"), plus a third for a busy host; --ci plans with them.
declare -A EXPECT=([bookworm]=250 [rt]=210 [bpo]=180 [sid]=180 [bullseye]=450 [arm64]=800)
cache=${TCPRTT_CACHE:-/var/cache/tcprtt}

ci=
full=
names=()
for arg in "$@"; do
	case $arg in
	--ci) ci=1 ;;
	--full) full=1 ;;
	-h|--help) sed -n 's/^#   //p' "$0"; exit 0 ;;
	*) [[ " ${ALL[*]} " == *" $arg "* ]] || { echo "matrix.sh: no kernel $arg" >&2; exit 2; }
	   names+=("$arg") ;;
	esac
done
if [ ${#names[@]} -eq 0 ]; then
	if [ -n "$ci" ]; then
		names=(bookworm rt bpo)
	else
		names=("${ALL[@]}")
	fi
fi
optional=()
if [ -n "$ci" ]; then
	for n in "${ALL[@]}"; do
		[[ " ${names[*]} " == *" $n "* ]] || optional+=("$n")
	done
fi
budget=${TCPRTT_MATRIX_BUDGET:-0}

out=.cache/matrix
mkdir -p "$out"
results=$out/results.tsv
printf 'name\tkver\tresult\tpassed\tfailed\tskipped\twarnings\tseconds\n' >"$results"

# kmake NAME KVER DIR [ARGS...]: make a module in DIR for NAME's kernel.
kmake() {
	local name=$1 kver=$2 dir=$3 sid=$cache/sid sub

	shift 3
	case $name in
	sid)
		# Its headers want sid's compiler: build inside the sid root.
		sub=/usr/src/tcprtt-matrix/$(basename "$dir")
		rm -rf "$sid$sub"
		mkdir -p "$sid/usr/src/tcprtt-matrix"
		cp -r "$dir" "$sid$sub"
		scripts/chroot.sh "$sid" make -C "/lib/modules/$kver/build" \
			M="$sub" "$@" modules &&
			cp "$sid$sub"/*.ko "$dir/"
		;;
	arm64)
		make -C "$cache/arm64/headers/usr/src/linux-headers-$kver" \
			ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
			M="$PWD/$dir" "$@" modules
		;;
	*)
		make -C "/lib/modules/$kver/build" M="$PWD/$dir" "$@" modules
		;;
	esac
}

# build NAME KVER DIR: tcprtt.ko with W=1 in DIR/mod (its log: build.log);
# the test modules (tests/claim, a tcprtt whose probed function is missing)
# and, for arm64, the test program and the printer (build-tests.log).
build() {
	local name=$1 kver=$2 dir=$3 srcs

	mapfile -t srcs < <(make -s --no-print-directory dkms-files | tr ' ' '\n')
	mkdir -p "$dir/mod" "$dir/claim" "$dir/missing"
	cp "${srcs[@]}" "$dir/mod/"
	kmake "$name" "$kver" "$dir/mod" W=1 >"$dir/build.log" 2>&1 || return 1
	{
		cp tests/claim/Kbuild tests/claim/tcprtt_claim.c "$dir/claim/"
		make -s --no-print-directory missing-source MISSING="$PWD/$dir/missing"
		kmake "$name" "$kver" "$dir/claim" && kmake "$name" "$kver" "$dir/missing" || return 1
		if [ "$name" = arm64 ]; then
			aarch64-linux-gnu-gcc -O2 -g -Wall -Wextra -Werror \
				-o "$dir/tcprtt_load" tests/tcprtt_load.c &&
			(cd tools && aarch64-linux-gnu-gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror \
				-o "../$dir/tcprtt" tcprtt.c $(sed -n 's/^LIB_SRCS := //p' Makefile)) ||
				return 1
		fi
	} >"$dir/build-tests.log" 2>&1
}

# Guests, each "CPUS [-a KERNEL_ARGS] [VAR=VALUE...] SCRIPT...", "i" for
# one CPU on instruction-counted time (vm.sh -i).  By default the module's
# own tests, the fixed-delay rows, the printer against the module, both
# attach modes, and the load failures of hardening.sh: about 4 minutes a
# kernel here.  --full runs every guest of tests/run.sh instead (about 20
# minutes a kernel: scope.sh alone takes 8).
GUESTS=(
	"i rows.sh tools.sh attach.sh"
	"2 tcprtt.sh"
	"2 TCPRTT_TESTS=probe_shares_claimed,load_fail_probe_missing,load_fail_tracepoint_missing hardening.sh"
)
# arm64: rows, the printer, both attach modes, and the module's own tests
# (load, format, reset); TCG runs it slower, and its root has no bpftrace.
ARM64_GUESTS=(
	"i rows.sh tools.sh attach.sh"
	"2 tcprtt.sh"
)

# guest NAME KVER DIR: the guest suite with DIR's builds, in KVER's guests.
guest() {
	local name=$1 kver=$2 in=/run/tcprtt/src/$3 base guests g env status=0

	base=(-k "$kver")
	guests=("${GUESTS[@]}")
	[ -z "$full" ] || guests=("${TCPRTT_GUESTS[@]}")

	case $name in
	sid) base+=(-r "$cache/sid") ;;
	arm64) base+=(-r "$cache/arm64/root" -A arm64); guests=("${ARM64_GUESTS[@]}") ;;
	esac
	for g in "${guests[@]}"; do
		guest_parse "$g" "${base[@]}"
		env=(TCPRTT_KO="$in/mod/tcprtt.ko" TCPRTT_CLAIM_KO="$in/claim/tcprtt_claim.ko"
		     TCPRTT_MISSING_KO="$in/missing/tcprtt.ko")
		[ "$name" != arm64 ] || env+=(TCPRTT_LOAD="$in/tcprtt_load" TCPRTT_PRINTER="$in/tcprtt")
		echo "# guest: $g"
		tests/qemu/vm.sh "${guest_vm[@]}" -t 1800 -- env "${env[@]}" "${guest_env[@]}" \
			bash tests/guest.sh "${guest_scripts[@]}" || status=1
	done
	return $status
}

n=0
passed=0
failed=0
started=$SECONDS

# run NAME: one kernel, start to end; prints its KTAP line.
run() {
	local name=$1 dir=$out/$1 start=$SECONDS kver rc=0 warnings=0 p=0 f=0 s=0 verdict

	n=$((n + 1))
	rm -rf "$dir"
	mkdir -p "$dir"
	if ! kver=$(scripts/kernel.sh "$name" 2>"$dir/install.log"); then
		sed 's/^/# /' "$dir/install.log" | tail -n 20
		echo "not ok $n matrix $name # cannot install its kernel"
		failed=$((failed + 1))
		printf '%s\t-\tfail\t0\t0\t0\t-\t%d\n' "$name" $((SECONDS - start)) >>"$results"
		return
	fi
	if build "$name" "$kver" "$dir"; then
		warnings=$(grep -cE 'warning:|error:' "$dir/build.log")
		if guest "$name" "$kver" "$dir" >"$dir/guest.log" 2>&1; then
			rc=0
		else
			rc=$?
		fi
		p=$(grep -cE '^ok [0-9]+ [^#]*$' "$dir/guest.log")
		s=$(grep -cE '^ok [0-9]+ .*# SKIP' "$dir/guest.log")
		f=$(grep -cE '^not ok ' "$dir/guest.log")
	else
		rc=1
		warnings=$(cat "$dir/build.log" "$dir/build-tests.log" 2>/dev/null | grep -cE 'warning:|error:')
		echo "# $name: build failed"
		cat "$dir/build.log" "$dir/build-tests.log" 2>/dev/null |
			grep -E 'warning:|error:|Error' | head -n 20 | sed 's/^/# /'
	fi
	echo "# $name $kver: W=1 warnings $warnings; guest $p passed, $f failed, $s skipped (exit $rc); $((SECONDS - start)) s"
	if [ "$rc" -eq 0 ] && [ "$warnings" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
		verdict=pass
		passed=$((passed + 1))
		echo "ok $n matrix $kver"
	else
		verdict=fail
		failed=$((failed + 1))
		grep -E '^not ok |^# FAIL' "$dir/guest.log" 2>/dev/null | sed 's/^/# /'
		echo "not ok $n matrix $kver"
	fi
	printf '%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n' "$name" "$kver" "$verdict" \
		"$p" "$f" "$s" "$warnings" $((SECONDS - start)) >>"$results"
}

scripts/deps.sh >&2 || exit 1
make -s -C tests >&2 || exit 1
make -s -C tools tcprtt >&2 || exit 1

echo "TAP version 13"
for name in "${names[@]}"; do
	run "$name"
done
for name in "${optional[@]}"; do
	if [ $((SECONDS - started + EXPECT[$name])) -le "$budget" ]; then
		run "$name"
	else
		n=$((n + 1))
		echo "ok $n matrix $(scripts/kernel.sh -n "$name" 2>/dev/null || echo "$name") # SKIP expected ${EXPECT[$name]} s, beyond TCPRTT_MATRIX_BUDGET=$budget s"
	fi
done
echo "1..$n"

column -t -s $'\t' "$results" | sed 's/^/# /'
echo "# matrix: $((SECONDS - started)) s in all"
echo "matrix: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
