#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# deps.sh - install what `make -C tools check` needs, where it is missing:
# clang with its libFuzzer runtime, the Prometheus client's parser for the
# system python3, promtool (Debian's prometheus package, unpacked), groff,
# systemd-analyze, strace and chromium (headless, for the heatmap's
# screenshot).  Installs only as root with apt-get
# (Debian); else it names what is missing and the tests that need it
# report SKIP.
# NO_DEPS=1 turns it off; FORCE=1 (make deps) reports even when complete.

[ -n "$NO_DEPS" ] && exit 0

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
need=

py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import prometheus_client.parser' 2>/dev/null ||
	need="$need python3-prometheus-client"

clang=$(command -v clang-14 || command -v clang)
if [ -z "$clang" ]; then
	need="$need clang libclang-rt-dev"
else
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$tmp/f.c"
	"$clang" -fsanitize=fuzzer,address,undefined -o "$tmp/f" "$tmp/f.c" \
		>/dev/null 2>&1 || need="$need libclang-rt-dev"
fi

command -v groff >/dev/null || need="$need groff-base"
# promtool lints the printer's Prometheus output: Debian's package,
# unpacked (scripts/prometheus.sh: installing it would start a daemon).
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	"$(dirname "$0")/../../scripts/prometheus.sh" >/dev/null ||
		echo "deps: could not unpack prometheus: the promtool test will SKIP" >&2
fi
# systemd-analyze checks the exporter's unit; strace, the calls it allows.
command -v systemd-analyze >/dev/null || need="$need systemd"
command -v strace >/dev/null || need="$need strace"
# chromium takes the screenshot of a --heatmap picture that the test reads.
command -v chromium >/dev/null || need="$need chromium"

if [ -z "$need" ]; then
	[ -n "$FORCE" ] && echo "deps: all present"
	exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
	echo "deps: missing:$need (not root with apt-get: the tests that need them will SKIP)" >&2
	exit 0
fi
echo "deps: installing$need" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -qq --no-install-recommends $need >"$tmp/log" 2>&1; then
	apt-get update -qq >"$tmp/log" 2>&1 &&
	apt-get install -y -qq --no-install-recommends $need >"$tmp/log" 2>&1 || {
		tail -n 20 "$tmp/log" >&2
		echo "deps: could not install$need: the tests that need them will SKIP" >&2
	}
fi
exit 0
