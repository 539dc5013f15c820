#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which guest runs which test scripts, and how one such line becomes vm.sh's
# options.  Sourced by tests/run.sh and tests/matrix.sh, never run.

# Each line: "CPUS [-a KERNEL_ARGS] [VAR=VALUE...] SCRIPT...".  "i" is one
# CPU with guest time counted in instructions (vm.sh -i), so host load adds
# no jitter to the rows' rtts.  Lockdown cannot be lowered: security.sh has
# a guest of its own.
TCPRTT_GUESTS=(
	"i rows.sh tools.sh attach.sh"
	"2 tcprtt.sh fine.sh scope.sh hardening.sh"
	"8 TCPRTT_TESTS=totals hardening.sh"
	"2 -a debugfs=off TCPRTT_TESTS=load_without_debugfs lifetime.sh"
	"2 lifetime.sh sessions.sh fleet.sh security.sh"
)

# guest_parse LINE [VM_OPTION...]: split a guest line into guest_vm (the
# VM_OPTIONs, then the line's CPUs and kernel arguments), guest_env (its
# VAR=VALUE words) and guest_scripts.
guest_parse() {
	local cpus rest

	read -r cpus rest <<<"$1"
	shift
	guest_vm=("$@") guest_env=() guest_scripts=()
	if [ "$cpus" = i ]; then
		guest_vm+=(-i)
	else
		guest_vm+=(-c "$cpus")
	fi
	# Word splitting is the point: the line's words are separate options.
	# shellcheck disable=SC2086
	set -- $rest
	while [ $# -gt 0 ]; do
		case $1 in
		-a) guest_vm+=(-a "$2"); shift ;;
		*=*) guest_env+=("$1") ;;
		*) guest_scripts+=("$1") ;;
		esac
		shift
	done
}
