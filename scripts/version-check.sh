#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print TCPRTT_VERSION from tcprtt.h, the one version source, and exit 0
# only if debian/changelog's upstream version and the dkms.conf that DKMS
# gets agree with it.  debian/rules and the CI call this.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^#define TCPRTT_VERSION "\(.*\)"/\1/p' "$top/tcprtt.h")
[ -n "$version" ] || { echo "version-check: no TCPRTT_VERSION in tcprtt.h" >&2; exit 1; }

# Upstream part of the changelog's newest entry: no epoch, no revision.
changelog=$(sed -n '1s/^[^ ]* (\([^)]*\)).*/\1/p' "$top/debian/changelog")
upstream=${changelog#*:}
upstream=${upstream%-*}
if [ "$upstream" != "$version" ]; then
	echo "version-check: debian/changelog has $changelog, tcprtt.h has $version" >&2
	exit 1
fi

grep -q '^PACKAGE_VERSION="@VERSION@"$' "$top/dkms.conf" || {
	echo "version-check: dkms.conf must say PACKAGE_VERSION=\"@VERSION@\"" >&2
	exit 1
}
echo "$version"
