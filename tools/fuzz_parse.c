// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_parse.c - libFuzzer target for the /proc/net/tcprtt parser.
 *
 * Besides surviving any input under ASan and UBSan, the parser must name a
 * line that exists when it refuses input, and what it accepts must come
 * back unchanged from the module's format, fine buckets included:
 * parse(render(parse(x))) == parse(x).  Every renderer then runs on the
 * accepted histogram.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcprtt_parse.h"
#include "tcprtt_render.h"

static bool same_hist(const struct tcprtt_hist *a, const struct tcprtt_hist *b)
{
	return a->unit == b->unit && a->samples == b->samples &&
	       a->sum_us == b->sum_us &&
	       !memcmp(a->rows, b->rows, sizeof(a->rows));
}

static bool same_fine(const struct tcprtt_fine *a, const struct tcprtt_fine *b)
{
	size_t n = a->shift ? tcprtt_fine_buckets(a->shift) : 0;

	return a->shift == b->shift && !strcmp(a->error, b->error) &&
	       !memcmp(a->counts, b->counts, n * sizeof(a->counts[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	struct tcprtt_snapshot snap, again;
	struct tcprtt_report_meta meta = {
		.timestamp = "1970-01-01T00:00:00.000Z",
		.interval_s = 1,
	};
	struct tcprtt_parse_error err;
	unsigned int lines = 1;
	size_t i, len;
	char *buf;
	FILE *m;

	if (!sink)
		sink = fopen("/dev/null", "w");
	if (!sink)
		abort();

	if (tcprtt_parse((const char *)data, size, &snap, &err)) {
		for (i = 0; i < size; i++)
			lines += data[i] == '\n';
		if (!err.line || err.line > lines ||
		    !memchr(err.msg, '\0', sizeof(err.msg)) || !err.msg[0])
			abort();
		return 0;
	}

	m = open_memstream(&buf, &len);
	if (!m)
		abort();
	tcprtt_render_proc(m, &snap.total);
	tcprtt_render_proc_fine(m, &snap.fine);
	if (fclose(m))
		abort();
	if (tcprtt_parse(buf, len, &again, &err) ||
	    !same_hist(&snap.total, &again.total) ||
	    !same_fine(&snap.fine, &again.fine))
		abort();
	free(buf);

	tcprtt_render_table(sink, &snap.total);
	tcprtt_render_extended(sink, &snap.total, &snap.fine);
	tcprtt_render_json(sink, &snap.total, &snap.fine, &meta);
	tcprtt_render_prometheus(sink, &snap.total);
	if (snap.fine.shift)
		tcprtt_render_prometheus_fine_series(sink, TCPRTT_RTT_FINE_NAME,
						     &snap.fine,
						     snap.total.sum_us, "");
	return 0;
}
