#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Inside the guest: run the test scripts named on the command line (default:
# all of the kselftest target's TEST_PROGS) through kselftest's runner, as
# `make run_tests` would, and exit non-zero if any failed.  The runner's
# KTAP nests each script's own KTAP under "# " (tests/ktap-totals.awk
# counts the tests inside).
cd "$(dirname "$0")" || exit 1

scripts=("$@")
# TEST_PROGS of the Makefile, over its continuation lines.
[ ${#scripts[@]} -gt 0 ] || mapfile -t scripts < <(awk '
	/^TEST_PROGS :=/ { on = 1; sub(/^TEST_PROGS :=/, "") }
	on { for (i = 1; i <= NF; i++) if ($i ~ /\.sh$/) print $i; on = /\\$/ }' Makefile)

export BASE_DIR
BASE_DIR=$(cd ../.cache/linux-source/tools/testing/selftests 2>/dev/null && pwd)
if [ ! -r "$BASE_DIR/kselftest/runner.sh" ]; then
	echo "not ok 1 guest: no kselftest runner in .cache/linux-source (make -C tests)"
	exit 1
fi
# shellcheck source=/dev/null
. "$BASE_DIR/kselftest/runner.sh"
# The runner looks for settings in the kernel's tree; ours are here.  The
# debug kernels, ten times slower, need longer: TCPRTT_KSFT_TIMEOUT (6.1's
# runner has no override of its own).
# shellcheck disable=SC2034 # a variable of runner.sh, as logfile below
kselftest_default_timeout=${TCPRTT_KSFT_TIMEOUT:-$(sed -n 's/^timeout=//p' settings)}
# It appends the tests' output to /dev/stdout, which only udev makes: the
# guest has none, and would write a file of that name instead.
# shellcheck disable=SC2034
[ -e /dev/stdout ] || logfile=/proc/self/fd/1

echo "# kselftest on $(uname -r), $(nproc) CPUs: ${scripts[*]}"
start=$SECONDS
# The runner reports failures only in its output: read them from there,
# line by line as they come (mawk would wait for a buffer's worth).
status=0
while IFS= read -r line; do
	printf '%s\n' "$line"
	[[ $line != "not ok "* ]] || status=1
done < <(run_many "${scripts[@]/#/./}")
echo "# kselftest: exit $status in $((SECONDS - start)) s"
exit $status
