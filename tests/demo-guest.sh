#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The reference guide, replayed inside the guest: an idle histogram, one after
# request/response traffic, one after "netem delay 50ms 50ms 25%".  Each
# table counts only its own phase (the counters are reset before it).
source "$(dirname "$0")/lib.sh"
set -e

show() {
	echo "\$ $*"
	"$@"
}

histogram() {
	echo
	echo "\$ ip netns exec $CLI cat /proc/net/tcprtt"
	hist "$CLI"
	echo
}

trap cleanup_two_hosts EXIT
show insmod "$TCPRTT_KO"
setup_netns
start_server $SRV4
echo "# client namespace $CLI ($CLI4), server namespace $SRV ($SRV4)"
histogram

echo "# some requests, like the guide's two curl runs"
echo "$ echo 1 > $RESET"; echo 1 >$RESET
client $SRV4 -n 20 -s 100 >/dev/null
client $SRV4 -n 20 -s 100 >/dev/null
histogram

echo "# a random delay on the server's link, as in the guide"
show ip netns exec "$SRV" tc qdisc add dev s0 root netem delay 50ms 50ms 25%
echo "$ echo 1 > $RESET"; echo 1 >$RESET
client $SRV4 -n 20 -s 100 >/dev/null
client $SRV4 -n 20 -s 100 >/dev/null
histogram
