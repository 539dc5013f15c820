#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Extract checkpatch and kselftest (its headers, lib.mk and runner) from
# Debian's linux-source-6.1 into DEST.  They are tools of the build, never
# part of this repository.
set -euo pipefail

dest=${1:?usage: linux-source.sh DEST}
tarball=/usr/src/linux-source-6.1.tar.xz

if [ ! -f "$tarball" ]; then
	"$(dirname "$0")/deps.sh" linux-source-6.1
fi

members=(
	scripts/checkpatch.pl
	scripts/spelling.txt
	scripts/const_structs.checkpatch
	tools/testing/selftests/kselftest.h
	tools/testing/selftests/kselftest_harness.h
	tools/testing/selftests/kselftest/runner.sh
	tools/testing/selftests/kselftest/prefix.pl
	tools/testing/selftests/run_kselftest.sh
	tools/testing/selftests/lib.mk
)
mkdir -p "$dest"
tar -xJf "$tarball" -C "$dest" --strip-components=1 \
	"${members[@]/#/linux-source-6.1/}"
echo "extracted ${#members[@]} files from $tarball into $dest"
