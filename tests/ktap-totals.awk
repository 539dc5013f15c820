# SPDX-License-Identifier: GPL-2.0
#
# ktap-totals.awk LOG...: count every test of KTAP streams, nested or not,
# once; print "N passed, N failed, N skipped"; exit 1 if any failed or none
# passed.  Used by tests/run.sh and .ci/run.
#
# kselftest's runner nests each script's KTAP under "# ", then prints its
# own line for the script:
#
#   # ok 1 load
#   # not ok 2 reset
#   not ok 3 selftests: tcprtt: tcprtt.sh # exit=1
#
# A result line with results nested right above it (since its previous
# sibling) is their parent and does not count again, unless it fails where
# none of them did: a script that died, timed out or lost its plan.  Any
# other result line is a test.  A "TAP version" line opens a stream at its
# depth; below the top, a result line outside a stream is a test's output.

# The depth of a line: how many "# " prefix it.
function depth(line,    d) {
	d = 0
	while (substr(line, 1, 2) == "# ") {
		line = substr(line, 3)
		d++
	}
	rest = line
	return d
}

# Forget what was nested below depth d.
function close_below(d,    k) {
	for (k = d + 1; k <= 32; k++) {
		delete kids[k]
		delete failed[k]
		delete stream[k]
	}
}

{
	d = depth($0)
	if (rest ~ /^TAP version /) {
		close_below(d - 1)
		stream[d] = 1
		next
	}
	if (rest !~ /^(not )?ok / || (d > 0 && !(d in stream)))
		next
	nok = rest ~ /^not ok /
	if (kids[d + 1] + 0 == 0) {
		# A test.
		if (rest ~ / # SKIP/)
			skip++
		else if (nok)
			fail++
		else
			pass++
		f = nok
	} else if (nok && failed[d + 1] + 0 == 0) {
		# A parent that failed beyond its tests.
		fail++
		f = 1
	} else {
		f = failed[d + 1] + 0
	}
	close_below(d)
	kids[d]++
	failed[d] += f
}

END {
	printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
	exit (fail > 0 || pass == 0)
}
