/* ec_plot.h - dependency-free SVG charts for simulator reports: a line
 * chart of named series (linear or log x) and a latency distribution
 * (histogram or CDF) of named sample sets.
 *
 * Output is deterministic: fixed layout (800 x 480), fixed palette, every
 * coordinate printed with "%.2f", tick labels from a fixed format (1-2-5
 * steps, k/M/G suffixes).  Non-finite points are skipped (a line breaks
 * there); on a log axis so are values <= 0.  A chart without data says
 * "no data" instead of failing.  Text is XML-escaped.
 *
 * Ownership: *out is malloc'd, NUL-terminated, freed by the caller.
 * Returns EC_OK, EC_ERR_ARG (NULL chart/out), EC_ERR_NOMEM.  No clocks,
 * no RNG.  ec_report_write_file() puts the text into the output dir.
 */
#ifndef EC_SIM_PLOT_H
#define EC_SIM_PLOT_H

#include <stddef.h>

#include "ec/ec.h"

#define EC_PLOT_WIDTH 800
#define EC_PLOT_HEIGHT 480

typedef struct ec_plot_series {
	const char *name; /* legend text */
	const double *x, *y;
	size_t n;
} ec_plot_series;

typedef struct ec_plot_line {
	const char *title, *xlabel, *ylabel;
	int xlog;          /* log10 x axis */
	double ymin, ymax; /* y range; equal values: from the data */
	const ec_plot_series *series;
	size_t nseries;
} ec_plot_line;

enum ec_plot_dist_kind {
	EC_PLOT_HIST = 0, /* bars: fraction of each set per bin */
	EC_PLOT_CDF = 1,  /* empirical CDF, one step line per set */
};

typedef struct ec_plot_samples {
	const char *name;
	const double *v;
	size_t n;
} ec_plot_samples;

typedef struct ec_plot_dist {
	const char *title, *xlabel;
	enum ec_plot_dist_kind kind;
	int xlog;      /* log10 x axis (and log-spaced bins) */
	unsigned bins; /* histogram bins; 0 -> 20 */
	const ec_plot_samples *sets;
	size_t nsets;
} ec_plot_dist;

int ec_plot_line_svg(char **out, size_t *len, const ec_plot_line *c);
int ec_plot_dist_svg(char **out, size_t *len, const ec_plot_dist *d);

/* Tick label format: "0", "0.25", "1.5k", "20M" (buf >= 24 bytes). */
void ec_plot_fmt_tick(char *buf, size_t cap, double v);

#endif
