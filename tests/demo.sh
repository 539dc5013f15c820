#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Replay the reference guide end to end: install what is missing, build,
# boot Debian's kernel in QEMU (this host may not load modules), load tcprtt,
# and print the three histograms.
#
#   tests/demo.sh [-k KVER]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
kver=${KVER:-}
[ "${1:-}" != -k ] || kver=${2:?}

scripts/deps.sh
[ -n "$kver" ] || kver=$(scripts/guest-kver.sh)
make -s module KVER="$kver" >/dev/null
make -s -C tests >/dev/null
tests/qemu/vm.sh -k "$kver" -c 2 -- bash tests/demo-guest.sh | grep -v '^\[ *[0-9.]*\]'
