// SPDX-License-Identifier: GPL-2.0
/*
 * tcprtt_heatmap.c - --heatmap FILE: every interval report as a column of
 * an SVG heatmap.  Time runs across, one column per interval; the
 * module's log2 rows go up; a cell's colour is its count of samples.
 *
 * The file is rendered whole in memory and replaced by write_atomic()
 * after every interval, so a browser that reloads it never sees half a
 * picture, and once more, marked final, when the run ends.  Plain SVG 1.1
 * text: no script, no font or image from elsewhere.
 *
 * The cells carry their numbers as data-* attributes and a <title>
 * tooltip, so that tests and people can read the picture back.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcprtt_heatmap.h"
#include "tcprtt_netns.h"
#include "tcprtt_options.h"
#include "tcprtt_output.h"
#include "tcprtt_render.h"

/* The picture's geometry, in px. */
#define LEFT		96	/* room for the rtt labels */
#define TOP		64	/* the title's two lines */
#define BOTTOM		56	/* the time labels and their caption */
#define LEGEND		160	/* the colour scale, right of the plot */
#define ROW_H		20
#define PLOT_W		600	/* MIN_SLOTS or more columns share it */
#define MIN_SLOTS	20	/* so the first columns are not 600 px wide */
#define MIN_ROWS	8	/* rows drawn at least, around the counts */
#define LABEL_W		64	/* the width one HH:MM:SS label needs */
#define LABEL_MS_W	92	/* and one HH:MM:SS.mmm */
#define BAR_W		16	/* the legend's colour bar */

/* A cell measured with no samples; white is a slot not yet measured. */
#define EMPTY_FILL	"#eeeeee"
#define FRAME		"#888888"

/*
 * The palette: viridis (perceptually uniform, readable in grey and by the
 * colour-blind), reversed so that few samples are light and many dark,
 * at eleven stops, 0 to 1.  Its lightest, for one sample, is a clear
 * yellow, far from both the white page and EMPTY_FILL.
 */
static const unsigned char palette[][3] = {
	{ 0xfd, 0xe7, 0x25 }, { 0xbd, 0xdf, 0x26 }, { 0x7a, 0xd1, 0x51 },
	{ 0x44, 0xbf, 0x70 }, { 0x22, 0xa8, 0x84 }, { 0x21, 0x91, 0x8c },
	{ 0x2a, 0x78, 0x8e }, { 0x35, 0x5f, 0x8d }, { 0x41, 0x44, 0x87 },
	{ 0x48, 0x24, 0x75 }, { 0x44, 0x01, 0x54 },
};

#define NR_STOPS ARRAY_SIZE(palette)

/* One interval: its counts and when it ended. */
struct column {
	__u64 rows[TCPRTT_ROWS];
	struct timespec end;		/* CLOCK_REALTIME at its report */
	double seconds;			/* its length */
	unsigned long long nr;		/* 1 for the run's first interval */
};

static struct {
	struct column cols[HEATMAP_COLUMNS];	/* a ring: the oldest first */
	unsigned int first, nr;
	unsigned long long added;	/* intervals since the start */
	enum tcprtt_unit unit;		/* the newest column's */
	char filter[256];		/* the newest column's; "" when none */
	char source[320];		/* what was measured, for the title */
	bool final;
	bool broken;			/* a write failed: said once, not again */
} hm;

/* What is drawn this time: the rows and the geometry. */
struct frame {
	unsigned int lo, hi;		/* the rows drawn, bottom and top */
	__u64 max;			/* the largest count of a cell */
	unsigned int col_w, plot_w, plot_h;
};

static const struct column *col_at(unsigned int i)
{
	return &hm.cols[(hm.first + i) % HEATMAP_COLUMNS];
}

/*
 * log2(@c + 1), straight between the powers of two: monotonic and exact at
 * them, without libm.  The colour scale is logarithmic because a few busy
 * connections can outnumber the rest by orders of magnitude: linear, the
 * rare slow samples that a heatmap is for would all look empty.
 */
static double level(__u64 c)
{
	__u64 x = c + 1;
	unsigned int e;

	if (!x)
		return 64;
	e = tcprtt_fls64(x) - 1;
	return e + (double)(x - (1ULL << e)) / (double)(1ULL << e);
}

/* Where @c sits on the scale, 0 (one sample) to 1 (@max). */
static double scale_of(__u64 c, __u64 max)
{
	double lo = level(1), hi = level(max);

	if (hi <= lo)
		return 1;
	return (level(c) - lo) / (hi - lo);
}

/* The colour at @t of the scale, as "#rrggbb" into @buf. */
static void put_colour(char buf[8], double t)
{
	double pos = t * (NR_STOPS - 1), f;
	unsigned int i = pos, k;

	if (i >= NR_STOPS - 1) {
		i = NR_STOPS - 2;
		f = 1;
	} else {
		f = pos - i;
	}
	buf[0] = '#';
	for (k = 0; k < 3; k++)
		snprintf(buf + 1 + 2 * k, 3, "%02x",
			 (unsigned int)(palette[i][k] +
			 (palette[i + 1][k] - palette[i][k]) * f + 0.5) & 0xff);
}

/*
 * The rows that had samples in any kept column, a row more on each side,
 * and at least MIN_ROWS in all: a steady rtt fills one row, and the
 * picture should still say where it lies.
 */
static void frame_rows(struct frame *fr)
{
	unsigned int i, row, lo = TCPRTT_ROWS, hi = 0;

	fr->max = 0;
	for (i = 0; i < hm.nr; i++) {
		for (row = 0; row < TCPRTT_ROWS; row++) {
			__u64 c = col_at(i)->rows[row];

			if (!c)
				continue;
			if (row < lo)
				lo = row;
			if (row > hi)
				hi = row;
			if (c > fr->max)
				fr->max = c;
		}
	}
	if (!fr->max) {
		lo = 0;
		hi = MIN_ROWS - 1;
	} else {
		lo = lo ? lo - 1 : 0;
		hi = hi < TCPRTT_ROWS - 1 ? hi + 1 : hi;
	}
	while (hi - lo + 1 < MIN_ROWS) {
		if (hi < TCPRTT_ROWS - 1)
			hi++;
		if (lo > 0 && hi - lo + 1 < MIN_ROWS)
			lo--;
	}
	fr->lo = lo;
	fr->hi = hi;
}

static void frame_init(struct frame *fr)
{
	unsigned int slots = hm.nr > MIN_SLOTS ? hm.nr : MIN_SLOTS;

	frame_rows(fr);
	fr->col_w = PLOT_W / slots;
	fr->plot_w = fr->col_w * slots;
	fr->plot_h = (fr->hi - fr->lo + 1) * ROW_H;
}

/* The top edge of @row; row fr->hi + 1's is the plot's top. */
static unsigned int row_y(const struct frame *fr, unsigned int row)
{
	return TOP + (fr->hi - row) * ROW_H;
}

static const char *unit_text(void)
{
	return hm.unit == TCPRTT_UNIT_MS ? "ms" : "\xc2\xb5s";
}

/*
 * A row boundary of @v in the histogram's unit, for the axis: short,
 * three digits where they do ("512 µs", "2.05 ms", "1.05 s", "1049 s").
 * Tooltips give the exact values.
 */
static void put_rtt(FILE *m, __u64 v)
{
	double ms = hm.unit == TCPRTT_UNIT_MS ? v : v / 1e3;

	if (hm.unit == TCPRTT_UNIT_US && v < 1000)
		fprintf(m, "%llu \xc2\xb5s", (unsigned long long)v);
	else if (ms < 1000)
		fprintf(m, "%.3g ms", ms);
	else if (ms < 1000000)
		fprintf(m, "%.3g s", ms / 1e3);
	else
		fprintf(m, "%.0f s", ms / 1e3);
}

/* @ts less @ms_before milliseconds, as local HH:MM:SS[.mmm]. */
static void put_clock(FILE *m, const struct timespec *ts, long long ms_before,
		      bool with_ms)
{
	long long ms = ts->tv_sec * 1000LL + ts->tv_nsec / 1000000 - ms_before;
	time_t sec = ms / 1000;
	char buf[16];
	struct tm tm;

	localtime_r(&sec, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	fputs(buf, m);
	if (with_ms)
		fprintf(m, ".%03lld", ms % 1000);
}

/* "12:00:01.250 to 12:00:02.250 (1.000 s)" */
static void put_span(FILE *m, const struct column *c)
{
	put_clock(m, &c->end, (long long)(c->seconds * 1000 + 0.5), true);
	fputs(" to ", m);
	put_clock(m, &c->end, 0, true);
	fprintf(m, " (%.3f s)", c->seconds);
}

static void put_row_range(FILE *m, unsigned int row)
{
	if (row == TCPRTT_ROWS - 1)
		fprintf(m, "%llu %s and more",
			(unsigned long long)tcprtt_row_low(row), unit_text());
	else
		fprintf(m, "%llu to %llu %s",
			(unsigned long long)tcprtt_row_low(row),
			(unsigned long long)tcprtt_row_high(row), unit_text());
}

/* "<rect ...", left open for more attributes; @cls may be NULL. */
static void open_rect(FILE *m, const char *cls, unsigned int x,
		      unsigned int y, unsigned int w, unsigned int h,
		      const char *fill)
{
	fputs("<rect", m);
	if (cls)
		fprintf(m, " class=\"%s\"", cls);
	fprintf(m, " x=\"%u\" y=\"%u\" width=\"%u\" height=\"%u\" fill=\"%s\"",
		x, y, w, h, fill);
}

/* "<text ...>", open for its text; @cls may be NULL. */
static void open_text(FILE *m, const char *cls, unsigned int x,
		      unsigned int y, const char *more)
{
	fputs("<text", m);
	if (cls)
		fprintf(m, " class=\"%s\"", cls);
	fprintf(m, " x=\"%u\" y=\"%u\"%s>", x, y, more);
}

static void put_tick(FILE *m, unsigned int x1, unsigned int y1,
		     unsigned int x2, unsigned int y2)
{
	fprintf(m, "<line x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\" stroke=\"%s\"/>",
		x1, y1, x2, y2, FRAME);
}

static void render_head(FILE *m, const struct frame *fr)
{
	unsigned int w = LEFT + fr->plot_w + LEGEND;
	unsigned int h = TOP + fr->plot_h + BOTTOM;

	fprintf(m, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" font-size=\"12\"",
		w, h, w, h);
	/* For readers of the file: its state and the plot's geometry. */
	fprintf(m, " data-state=\"%s\" data-unit=\"%s\" data-rows=\"%u %u\"",
		hm.final ? "final" : "running", tcprtt_unit_name(hm.unit),
		fr->lo, fr->hi);
	fprintf(m, " data-plot=\"%u %u %u %u\" data-row-height=\"%u\">\n",
		LEFT, TOP, fr->plot_w, fr->plot_h, ROW_H);
	fputs("<title>tcprtt heatmap: ", m);
	tcprtt_put_xml_text(m, hm.source);
	fprintf(m, "</title>\n<rect width=\"%u\" height=\"%u\" fill=\"#ffffff\"/>\n",
		w, h);

	open_text(m, "title", 8, 22, " font-size=\"15\" font-weight=\"bold\"");
	fputs("TCP round-trip time (srtt), ", m);
	tcprtt_put_xml_text(m, hm.source);
	fputs("</text>\n", m);
	open_text(m, "subtitle", 8, 42, "");
	fprintf(m, "%s rows, every %.9g s", unit_text(),
		env.interval.tv_sec + env.interval.tv_nsec / 1e9);
	if (hm.filter[0]) {
		fputs(env.session ? ", session filter: " : ", filter: ", m);
		tcprtt_put_xml_text(m, hm.filter);
	}
	if (hm.nr) {
		fprintf(m, "; %u interval%s, ", hm.nr, hm.nr == 1 ? "" : "s");
		put_clock(m, &col_at(0)->end,
			  (long long)(col_at(0)->seconds * 1000 + 0.5), false);
		fputs(" to ", m);
		put_clock(m, &col_at(hm.nr - 1)->end, 0, false);
		if (hm.added > hm.nr)
			fprintf(m, " (the newest %u)", HEATMAP_COLUMNS);
	}
	fprintf(m, "; %s</text>\n", hm.final ? "final" :
		"running: rewritten at every interval");
}

/* Each column: a measured slot with its tooltip, then its cells. */
static void render_cells(FILE *m, const struct frame *fr)
{
	unsigned int i, row, x;
	char fill[8];
	__u64 samples;

	fputs("<g class=\"cells\">\n", m);
	for (i = 0; i < hm.nr; i++) {
		const struct column *c = col_at(i);

		x = LEFT + i * fr->col_w;
		samples = 0;
		for (row = 0; row < TCPRTT_ROWS; row++)
			samples += c->rows[row];
		open_rect(m, "col", x, TOP, fr->col_w, fr->plot_h, EMPTY_FILL);
		fprintf(m, " data-col=\"%u\" data-interval=\"%llu\" data-samples=\"%llu\">",
			i, c->nr, (unsigned long long)samples);
		fprintf(m, "<title>interval %llu: ", c->nr);
		put_span(m, c);
		fprintf(m, "\n%llu samples</title></rect>\n",
			(unsigned long long)samples);
		for (row = fr->lo; row <= fr->hi; row++) {
			if (!c->rows[row])
				continue;
			put_colour(fill, scale_of(c->rows[row], fr->max));
			open_rect(m, "cell", x, row_y(fr, row), fr->col_w,
				  ROW_H, fill);
			fprintf(m, " data-col=\"%u\" data-row=\"%u\" data-count=\"%llu\"><title>",
				i, row, (unsigned long long)c->rows[row]);
			put_span(m, c);
			fputc('\n', m);
			put_row_range(m, row);
			fprintf(m, "\n%llu samples</title></rect>\n",
				(unsigned long long)c->rows[row]);
		}
	}
	fputs("</g>\n", m);
	if (!hm.nr) {
		open_text(m, NULL, LEFT + fr->plot_w / 2, TOP + fr->plot_h / 2,
			  " text-anchor=\"middle\" fill=\"#666666\"");
		fputs("waiting for the first interval</text>\n", m);
	}
	open_rect(m, NULL, LEFT, TOP, fr->plot_w, fr->plot_h, "none");
	fputs(" stroke=\"" FRAME "\"/>\n", m);
}

/* The rtt of every row boundary, up the left side. */
static void render_rtt_axis(FILE *m, const struct frame *fr)
{
	unsigned int b, y;

	fputs("<g class=\"rtt-axis\" text-anchor=\"end\">\n", m);
	for (b = fr->lo; b <= fr->hi + 1; b++) {
		/* Boundary b is row b's bottom edge: its low value. */
		y = row_y(fr, b) + ROW_H;
		put_tick(m, LEFT - 4, y, LEFT, y);
		fprintf(m, "<text class=\"ylabel\" x=\"%u\" y=\"%u\"",
			LEFT - 7, y + 4);
		if (b == TCPRTT_ROWS) {
			/* The last row counts everything above its low too. */
			fputs(" data-value=\"inf\">\xe2\x88\x9e</text>\n", m);
			continue;
		}
		fprintf(m, " data-value=\"%llu\">",
			(unsigned long long)tcprtt_row_low(b));
		put_rtt(m, tcprtt_row_low(b));
		fputs("</text>\n", m);
	}
	y = TOP + fr->plot_h / 2;
	fprintf(m, "<text x=\"16\" y=\"%u\" text-anchor=\"middle\"", y);
	fprintf(m, " transform=\"rotate(-90 16 %u)\">rtt (%s), log2 rows</text>\n",
		y, unit_text());
	fputs("</g>\n", m);
}

/*
 * The end of every k-th interval along the bottom, k such that labels do
 * not overlap; counted from the run's start, so that a label stays with
 * its column as the picture scrolls.  Intervals under a second get
 * milliseconds.
 */
static void render_time_axis(FILE *m, const struct frame *fr)
{
	bool with_ms = !env.interval.tv_sec;
	unsigned int label_w = with_ms ? LABEL_MS_W : LABEL_W;
	unsigned int every = (label_w + fr->col_w - 1) / fr->col_w;
	unsigned int i, x, y = TOP + fr->plot_h;

	fputs("<g class=\"time-axis\" text-anchor=\"middle\">\n", m);
	for (i = 0; i < hm.nr; i++) {
		if (col_at(i)->nr % every)
			continue;
		x = LEFT + (i + 1) * fr->col_w;
		put_tick(m, x, y, x, y + 4);
		fprintf(m, "<text class=\"xlabel\" x=\"%u\" y=\"%u\" data-col=\"%u\">",
			x, y + 17, i);
		put_clock(m, &col_at(i)->end, 0, with_ms);
		fputs("</text>\n", m);
	}
	open_text(m, NULL, LEFT + fr->plot_w / 2, y + 42, "");
	fputs("end of each interval (local time), one column per interval</text>\n",
	      m);
	fputs("</g>\n", m);
}

/* One tick of the legend, at count @c of the bar from @top, @h high. */
static void legend_tick(FILE *m, unsigned int x, unsigned int top,
			unsigned int h, __u64 c, __u64 max)
{
	unsigned int y = top + h - (unsigned int)(scale_of(c, max) * h + 0.5);

	put_tick(m, x + BAR_W, y, x + BAR_W + 4, y);
	fprintf(m, "<text class=\"legend\" x=\"%u\" y=\"%u\" data-count=\"%llu\">%llu</text>\n",
		x + BAR_W + 7, y + 4, (unsigned long long)c,
		(unsigned long long)c);
}

/*
 * The colour bar, the same ramp as the cells, with its counts: every
 * power of ten up to the largest cell, and that cell's count; below it,
 * the colour of a measured cell without samples.
 */
static void render_legend(FILE *m, const struct frame *fr)
{
	unsigned int x = LEFT + fr->plot_w + 24, h = fr->plot_h - 32, i;
	char fill[8];
	__u64 c;

	fprintf(m, "<g class=\"legend\">\n<text x=\"%u\" y=\"%u\">samples (log scale)</text>\n",
		x, TOP - 8);
	if (fr->max) {
		fputs("<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">",
		      m);
		for (i = 0; i < NR_STOPS; i++) {
			put_colour(fill, (double)i / (NR_STOPS - 1));
			fprintf(m, "<stop offset=\"%.3f\" stop-color=\"%s\"/>",
				(double)i / (NR_STOPS - 1), fill);
		}
		fputs("</linearGradient></defs>\n", m);
		open_rect(m, NULL, x, TOP, BAR_W, h, "url(#scale)");
		fputs(" stroke=\"" FRAME "\"/>\n", m);
		/* Powers of ten, unless too close to the largest's label. */
		for (c = 1; c < fr->max; c *= 10) {
			if (scale_of(c, fr->max) * h > h - 14)
				break;
			legend_tick(m, x, TOP, h, c, fr->max);
			if (c > ~0ULL / 10)
				break;
		}
		legend_tick(m, x, TOP, h, fr->max, fr->max);
	} else {
		fprintf(m, "<text x=\"%u\" y=\"%u\" fill=\"#666666\">no samples yet</text>\n",
			x, TOP + 14);
	}
	open_rect(m, "legend-empty", x, TOP + fr->plot_h - 16, BAR_W, 16,
		  EMPTY_FILL);
	fputs(" stroke=\"" FRAME "\"/>", m);
	fprintf(m, "<text class=\"legend\" x=\"%u\" y=\"%u\" data-count=\"0\">0</text>\n",
		x + BAR_W + 7, TOP + fr->plot_h - 4);
	fputs("</g>\n</svg>\n", m);
}

static int heatmap_write(void)
{
	struct frame fr;
	size_t len;
	char *buf;
	FILE *m;
	int ret;

	m = open_memstream(&buf, &len);
	if (!m) {
		error("out of memory");
		return -1;
	}
	frame_init(&fr);
	render_head(m, &fr);
	render_cells(m, &fr);
	render_rtt_axis(m, &fr);
	render_time_axis(m, &fr);
	render_legend(m, &fr);
	if (fclose(m)) {
		error("cannot render the heatmap: out of memory");
		return -1;
	}
	ret = write_atomic(env.heatmap, buf, len);
	free(buf);
	hm.broken |= ret < 0;
	return ret;
}

int heatmap_start(void)
{
	char host[256] = "";
	unsigned long netns;
	int n;

	hm.unit = env.milliseconds ? TCPRTT_UNIT_MS : TCPRTT_UNIT_US;
	if (env.input) {
		snprintf(hm.source, sizeof(hm.source), "read from %s",
			 env.input);
		return heatmap_write();
	}
	gethostname(host, sizeof(host) - 1);
	n = snprintf(hm.source, sizeof(hm.source), "host %s",
		     host[0] ? host : "(unknown)");
	netns = netns_self();
	if (netns && n > 0 && (size_t)n < sizeof(hm.source))
		snprintf(hm.source + n, sizeof(hm.source) - n, ", netns %lu",
			 netns);
	return heatmap_write();
}

int heatmap_add(const struct tcprtt_snapshot *shown, double seconds)
{
	const struct tcprtt_hist *h = &shown->total;
	struct column *c;

	/* Rows of another unit (the parameter changed): a new picture. */
	if (hm.nr && h->unit != hm.unit) {
		hm.first = 0;
		hm.nr = 0;
	}
	hm.unit = h->unit;
	snprintf(hm.filter, sizeof(hm.filter), "%s", shown->filter);
	if (hm.nr == HEATMAP_COLUMNS) {
		hm.first = (hm.first + 1) % HEATMAP_COLUMNS;
		hm.nr--;
	}
	c = &hm.cols[(hm.first + hm.nr) % HEATMAP_COLUMNS];
	hm.nr++;
	memcpy(c->rows, h->rows, sizeof(c->rows));
	clock_gettime(CLOCK_REALTIME, &c->end);
	c->seconds = seconds;
	c->nr = ++hm.added;
	return heatmap_write();
}

int heatmap_finish(void)
{
	/* The run has ended on that error already. */
	if (hm.broken)
		return 0;
	hm.final = true;
	return heatmap_write();
}
