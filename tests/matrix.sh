#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel matrix: for each kernel, install what is missing, build the
# module for it with W=1 (one warning fails it), then boot it in QEMU and run
# the guest suite with that build.  Prints KTAP, one "ok N matrix KVER" per
# kernel, then a table of results and wall times and "N passed, N failed".
# Each kernel's logs are in .cache/matrix/NAME/.
#
#   tests/matrix.sh [--ci] [NAME...]
#
# NAME, in the issue's order (default: all six):
#   bookworm   Debian 12's 6.1              rt      Debian 12's 6.1 PREEMPT_RT
#   bpo        6.12 from bookworm-backports sid     7.x from sid (sid root)
#   bullseye   5.10 from bullseye           arm64   Debian 12's arm64 6.1
# --ci runs bookworm, rt and bpo, then each other kernel whose expected time
# still fits in TCPRTT_MATRIX_BUDGET seconds (default 0) counted from the
# start.  On arm64, ARM64_TESTS picks the guest tests (default: all).
#
# Guests run with one vCPU and -icount without sleep (vm.sh -i): their clock
# follows the instructions they execute and skips idle time, so the stack's
# own share of each round trip and netem's delays are the same whatever else
# loads the host, and waits cost no wall time.  TCPRTT_MATRIX_ICOUNT=0
# runs them as tests/run.sh does (two vCPUs, wall clock).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
ALL=(bookworm rt bpo sid bullseye arm64)
# Wall seconds each one took here with its kernel already installed, guest
# suite included (README, "Kernel matrix"); --ci plans with them.
declare -A EXPECT=([bookworm]=420 [rt]=420 [bpo]=420 [sid]=420 [bullseye]=420 [arm64]=600)
cache=${TCPRTT_CACHE:-/var/cache/tcprtt}
arm64_tests=${ARM64_TESTS:-}

ci=
names=()
for arg in "$@"; do
	case $arg in
	--ci) ci=1 ;;
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

# build NAME KVER DIR: the module (and for arm64 the test program) in DIR.
build() {
	local name=$1 kver=$2 dir=$3 sid=$cache/sid hdr

	cp $(make -s --no-print-directory dkms-files) "$dir/"
	case $name in
	sid)
		# Its headers want sid's compiler: build inside the sid root.
		rm -rf "$sid/usr/src/tcprtt-matrix"
		cp -r "$dir" "$sid/usr/src/tcprtt-matrix"
		scripts/chroot.sh "$sid" make -C "/lib/modules/$kver/build" \
			M=/usr/src/tcprtt-matrix W=1 modules &&
			cp "$sid/usr/src/tcprtt-matrix/tcprtt.ko" "$dir/"
		;;
	arm64)
		hdr=$cache/arm64/headers/usr/src/linux-headers-$kver
		make -C "$hdr" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
			M="$PWD/$dir" W=1 modules &&
			aarch64-linux-gnu-gcc -O2 -g -Wall -Wextra -Werror \
				-o "$dir/tcprtt_load" tests/tcprtt_load.c
		;;
	*)
		make -C "/lib/modules/$kver/build" M="$PWD/$dir" W=1 modules
		;;
	esac
}

# guest NAME KVER DIR: the guest suite with DIR's module, in KVER's guest.
guest() {
	local name=$1 kver=$2 dir=$3 vm=(-k "$kver") env=(TCPRTT_KO=/run/tcprtt/src/$dir/tcprtt.ko)

	[ "${TCPRTT_MATRIX_ICOUNT:-1}" = 0 ] || vm+=(-i)

	case $name in
	sid) vm+=(-r "$cache/sid") ;;
	arm64)
		vm+=(-r "$cache/arm64/root" -A arm64)
		env+=(TCPRTT_LOAD=/run/tcprtt/src/$dir/tcprtt_load)
		[ -z "$arm64_tests" ] || env+=(TESTS="${arm64_tests// /,}")
		;;
	esac
	tests/qemu/vm.sh "${vm[@]}" -t 1800 -- env "${env[@]}" bash tests/guest.sh
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
	if build "$name" "$kver" "$dir" >"$dir/build.log" 2>&1; then
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
		warnings=$(grep -cE 'warning:|error:' "$dir/build.log")
		echo "# $name: build failed"
		grep -E 'warning:|error:' "$dir/build.log" | head -n 20 | sed 's/^/# /'
	fi
	echo "# $name $kver: W=1 warnings $warnings; guest $p passed, $f failed, $s skipped (exit $rc); $((SECONDS - start)) s"
	if [ "$rc" -eq 0 ] && [ "$warnings" -eq 0 ] && [ "$f" -eq 0 ] && [ "$p" -gt 0 ]; then
		verdict=pass
		passed=$((passed + 1))
		echo "ok $n matrix $kver"
	else
		verdict=fail
		failed=$((failed + 1))
		grep -E '^not ok |^# FAIL' "$dir/guest.log" | sed 's/^/# /'
		echo "not ok $n matrix $kver"
	fi
	printf '%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n' "$name" "$kver" "$verdict" \
		"$p" "$f" "$s" "$warnings" $((SECONDS - start)) >>"$results"
}

scripts/deps.sh >&2 || exit 1
make -s -C tests >&2 || exit 1

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
