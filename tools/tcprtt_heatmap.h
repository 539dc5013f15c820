/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tcprtt_heatmap.h - --heatmap: the interval reports drawn as one SVG
 * picture, rewritten whole at every interval.
 */
#ifndef TCPRTT_HEATMAP_H
#define TCPRTT_HEATMAP_H

#include "tcprtt_parse.h"

/*
 * The newest intervals drawn; older ones scroll out to the left.  About
 * 250 bytes each: 75 KiB in all.  The SVG takes some 250 bytes a cell
 * with samples: 2 MiB if every row of every column had some.
 */
#define HEATMAP_COLUMNS 300

/*
 * Writes the picture with no column yet to --heatmap's file, which finds
 * an unwritable path before the run starts.  Returns 0, or -1 after
 * saying why.
 */
int heatmap_start(void);

/*
 * Adds the main table of @shown, what an interval of @seconds counted,
 * as the newest column and rewrites the file.  Returns 0, or -1 after
 * saying why.
 */
int heatmap_add(const struct tcprtt_snapshot *shown, double seconds);

/* Rewrites the file once more, marked final: the run is over. */
int heatmap_finish(void);

#endif /* TCPRTT_HEATMAP_H */
