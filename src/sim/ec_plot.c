/* ec_plot.c - SVG line charts and latency distributions for simulator
 * reports, with no dependency beyond libc: a string builder, axis scaling
 * with 1-2-5 ticks (or decades on a log axis), XML escaping. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/ec_plot.h"
#include "sim/ec_sim_int.h"

/* plot area inside the 800 x 480 canvas; the legend sits right of it */
#define PX0 75.0
#define PX1 610.0
#define PY0 45.0
#define PY1 415.0

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
	"#9467bd", "#8c564b", "#e377c2", "#17becf",
};
#define NPAL (sizeof palette / sizeof palette[0])
#define CDF_POINTS 1000

/* ---- string builder ----------------------------------------------------- */

typedef struct sb {
	char *p;
	size_t n, cap;
	int err;
} sb;

__attribute__((format(printf, 2, 3))) static void sbf(sb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		int w = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (w < 0) {
			b->err = EC_ERR_ARG;
			return;
		}
		if ((size_t)w < b->cap - b->n) {
			b->n += (size_t)w;
			return;
		}
		size_t ncap = (b->cap + (size_t)w + 1) * 2;
		char *np = realloc(b->p, ncap);
		if (!np) {
			b->err = EC_ERR_NOMEM;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

/* XML text/attribute escaping. */
static void sb_text(sb *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': sbf(b, "&amp;"); break;
		case '<': sbf(b, "&lt;"); break;
		case '>': sbf(b, "&gt;"); break;
		case '"': sbf(b, "&quot;"); break;
		case '\'': sbf(b, "&apos;"); break;
		default:
			/* XML 1.0 forbids most control characters */
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n')
				sbf(b, "?");
			else
				sbf(b, "%c", *s);
		}
	}
}

static int sb_finish(sb *b, char **out, size_t *len)
{
	if (b->err) {
		free(b->p);
		return b->err;
	}
	*out = b->p;
	if (len)
		*len = b->n;
	return EC_OK;
}

/* ---- axes --------------------------------------------------------------- */

typedef struct axis {
	int log;
	double lo, hi;   /* data range after rounding to ticks (log: exponents) */
	double step;     /* tick step (log: 1 decade) */
	int nticks;
} axis;

void ec_plot_fmt_tick(char *buf, size_t cap, double v)
{
	static const struct { double f; const char *s; } sfx[] = {
		{1e9, "G"}, {1e6, "M"}, {1e3, "k"},
	};
	if (fabs(v) < 1e-12)
		v = 0;
	for (size_t i = 0; i < 3; i++)
		if (fabs(v) >= sfx[i].f) {
			snprintf(buf, cap, "%.4g%s", v / sfx[i].f, sfx[i].s);
			return;
		}
	snprintf(buf, cap, "%.4g", v);
}

static double nice_step(double range)
{
	double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Fits the axis to [lo, hi] of the data (has = 0: no data). */
static void axis_fit(axis *a, int lg, double lo, double hi, int has)
{
	a->log = lg;
	if (!has) {
		lo = lg ? 1 : 0;
		hi = lg ? 10 : 1;
	}
	if (lg) {
		a->lo = floor(log10(lo));
		a->hi = ceil(log10(hi));
		if (a->hi <= a->lo)
			a->hi = a->lo + 1;
		a->step = 1;
		a->nticks = (int)(a->hi - a->lo) + 1;
		return;
	}
	if (hi <= lo) {
		double d = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
		lo -= d;
		hi += d;
	}
	a->step = nice_step(hi - lo);
	a->lo = floor(lo / a->step) * a->step;
	a->hi = ceil(hi / a->step) * a->step;
	a->nticks = (int)llround((a->hi - a->lo) / a->step) + 1;
}

/* Position of v in [0, 1] along the axis. */
static double axis_pos(const axis *a, double v)
{
	if (a->log)
		v = log10(v);
	return (v - a->lo) / (a->hi - a->lo);
}

static double tick_value(const axis *a, int i)
{
	double t = a->lo + a->step * i;
	return a->log ? pow(10, t) : t;
}

static int usable(double v, int lg)
{
	return isfinite(v) && (!lg || v > 0);
}

static double sx(const axis *a, double v)
{
	return PX0 + (PX1 - PX0) * axis_pos(a, v);
}
static double sy(const axis *a, double v)
{
	return PY1 - (PY1 - PY0) * axis_pos(a, v);
}

static void frame_open(sb *b, const char *title)
{
	sbf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	       "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	       "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
	       "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n",
	    EC_PLOT_WIDTH, EC_PLOT_HEIGHT, EC_PLOT_WIDTH, EC_PLOT_HEIGHT);
	sbf(b, "<text x=\"%.2f\" y=\"25\" text-anchor=\"middle\" font-size=\"16\" "
	       "font-weight=\"bold\">", (PX0 + PX1) / 2);
	sb_text(b, title);
	sbf(b, "</text>\n");
}

/* Grid, ticks, tick labels and axis titles. */
static void draw_axes(sb *b, const axis *ax, const axis *ay, const char *xl,
		      const char *yl)
{
	char t[32];
	sbf(b, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
	for (int i = 0; i < ax->nticks; i++)
		sbf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n",
		    sx(ax, tick_value(ax, i)), PY0, sx(ax, tick_value(ax, i)), PY1);
	for (int i = 0; i < ay->nticks; i++)
		sbf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"/>\n", PX0,
		    sy(ay, tick_value(ay, i)), PX1, sy(ay, tick_value(ay, i)));
	sbf(b, "</g>\n<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
	       "fill=\"none\" stroke=\"#000000\"/>\n", PX0, PY0, PX1 - PX0, PY1 - PY0);
	sbf(b, "<g text-anchor=\"middle\">\n");
	for (int i = 0; i < ax->nticks; i++) {
		ec_plot_fmt_tick(t, sizeof t, tick_value(ax, i));
		sbf(b, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", sx(ax, tick_value(ax, i)),
		    PY1 + 16, t);
	}
	sbf(b, "</g>\n<g text-anchor=\"end\">\n");
	for (int i = 0; i < ay->nticks; i++) {
		ec_plot_fmt_tick(t, sizeof t, tick_value(ay, i));
		sbf(b, "<text x=\"%.2f\" y=\"%.2f\">%s</text>\n", PX0 - 6,
		    sy(ay, tick_value(ay, i)) + 4, t);
	}
	sbf(b, "</g>\n<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\">",
	    (PX0 + PX1) / 2, PY1 + 40);
	sb_text(b, xl);
	if (ax->log)
		sbf(b, " (log scale)");
	sbf(b, "</text>\n<text x=\"18\" y=\"%.2f\" text-anchor=\"middle\" "
	       "transform=\"rotate(-90 18 %.2f)\">", (PY0 + PY1) / 2, (PY0 + PY1) / 2);
	sb_text(b, yl);
	sbf(b, "</text>\n");
}

static void draw_legend_entry(sb *b, size_t i, const char *name, int bar)
{
	double y = PY0 + 10 + 20.0 * (double)i;
	const char *c = palette[i % NPAL];
	if (bar)
		sbf(b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"20\" height=\"10\" fill=\"%s\" "
		       "fill-opacity=\"0.5\" stroke=\"%s\"/>\n", PX1 + 15, y - 5, c, c);
	else
		sbf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"%s\" "
		       "stroke-width=\"2\"/>\n", PX1 + 15, y, PX1 + 35, y, c);
	sbf(b, "<text x=\"%.2f\" y=\"%.2f\">", PX1 + 42, y + 4);
	sb_text(b, name);
	sbf(b, "</text>\n");
}

static void no_data(sb *b)
{
	sbf(b, "<text x=\"%.2f\" y=\"%.2f\" text-anchor=\"middle\" fill=\"#888888\">"
	       "no data</text>\n", (PX0 + PX1) / 2, (PY0 + PY1) / 2);
}

/* ---- line chart ---------------------------------------------------------- */

/* One series as a path; a break (unusable point) starts a new subpath. */
static void draw_series(sb *b, const axis *ax, const axis *ay,
			const ec_plot_series *s, size_t i, int step)
{
	int pen = 0;
	double py = 0;
	sbf(b, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
	    palette[i % NPAL]);
	for (size_t k = 0; k < s->n; k++) {
		if (!usable(s->x[k], ax->log) || !usable(s->y[k], ay->log)) {
			pen = 0;
			continue;
		}
		double x = sx(ax, s->x[k]), y = sy(ay, s->y[k]);
		if (pen && step)
			sbf(b, " L%.2f %.2f", x, py);
		sbf(b, "%s%.2f %.2f", pen ? " L" : (k ? " M" : "M"), x, y);
		pen = 1;
		py = y;
	}
	sbf(b, "\"/>\n");
}

static int line_svg(char **out, size_t *len, const ec_plot_line *c, int step)
{
	sb b = {0};
	axis ax, ay;
	double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
	int has = 0;
	if (!out || !c || (c->nseries && !c->series))
		return EC_ERR_ARG;
	for (size_t i = 0; i < c->nseries; i++)
		for (size_t k = 0; k < c->series[i].n; k++) {
			double x = c->series[i].x[k], y = c->series[i].y[k];
			if (!usable(x, c->xlog) || !isfinite(y))
				continue;
			has = 1;
			xlo = fmin(xlo, x);
			xhi = fmax(xhi, x);
			ylo = fmin(ylo, y);
			yhi = fmax(yhi, y);
		}
	axis_fit(&ax, c->xlog, xlo, xhi, has);
	if (c->ymin < c->ymax)
		axis_fit(&ay, 0, c->ymin, c->ymax, 1);
	else
		axis_fit(&ay, 0, ylo, yhi, has);
	frame_open(&b, c->title);
	draw_axes(&b, &ax, &ay, c->xlabel, c->ylabel);
	sbf(&b, "<clipPath id=\"area\"><rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" "
		"height=\"%.2f\"/></clipPath>\n<g clip-path=\"url(#area)\">\n",
	    PX0, PY0, PX1 - PX0, PY1 - PY0);
	for (size_t i = 0; i < c->nseries; i++)
		draw_series(&b, &ax, &ay, &c->series[i], i, step);
	sbf(&b, "</g>\n");
	if (!has)
		no_data(&b);
	for (size_t i = 0; i < c->nseries; i++)
		draw_legend_entry(&b, i, c->series[i].name, 0);
	sbf(&b, "</svg>\n");
	return sb_finish(&b, out, len);
}

int ec_plot_line_svg(char **out, size_t *len, const ec_plot_line *c)
{
	return line_svg(out, len, c, 0);
}

/* ---- distributions ------------------------------------------------------- */

/* Usable samples of one set, sorted (malloc'd; *n updated). */
static double *sorted_usable(const ec_plot_samples *s, int lg, size_t *n)
{
	double *v = malloc((s->n ? s->n : 1) * sizeof *v);
	size_t m = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < s->n; i++)
		if (usable(s->v[i], lg))
			v[m++] = s->v[i];
	qsort(v, m, sizeof *v, ec_sim_cmp_double);
	*n = m;
	return v;
}

static int cdf_svg(char **out, size_t *len, const ec_plot_dist *d)
{
	ec_plot_series *ser = calloc(d->nsets ? d->nsets : 1, sizeof *ser);
	double **mem = calloc(d->nsets ? d->nsets * 2 : 1, sizeof *mem);
	int r = EC_ERR_NOMEM;
	if (!ser || !mem)
		goto done;
	for (size_t i = 0; i < d->nsets; i++) {
		size_t n = 0;
		double *x = sorted_usable(&d->sets[i], d->xlog, &n);
		double *y = malloc((n ? n : 1) * sizeof *y);
		mem[2 * i] = x;
		mem[2 * i + 1] = y;
		if (!x || !y)
			goto done;
		/* at most CDF_POINTS steps: the sample at each 1/CDF_POINTS quantile
		 * (all samples when fewer), so 100k latencies stay a small file */
		size_t m = n < CDF_POINTS ? n : CDF_POINTS;
		for (size_t j = 0; j < m; j++) {
			size_t k = m == n ? j : (size_t)(((double)(j + 1) * (double)n) / (double)m) - 1;
			x[j] = x[k]; /* k >= j: never overwrites a sample still needed */
			y[j] = (double)(k + 1) / (double)n;
		}
		ser[i] = (ec_plot_series){d->sets[i].name, x, y, m};
	}
	ec_plot_line c = {d->title, d->xlabel, "fraction of samples at or below",
			  d->xlog, 0, 1, ser, d->nsets};
	r = line_svg(out, len, &c, 1);
done:
	for (size_t i = 0; mem && i < 2 * d->nsets; i++)
		free(mem[i]);
	free(mem);
	free(ser);
	return r;
}

static int hist_svg(char **out, size_t *len, const ec_plot_dist *d)
{
	unsigned nb = d->bins ? d->bins : 20;
	double lo = INFINITY, hi = -INFINITY, ymax = 0;
	double *frac = calloc((size_t)nb * (d->nsets ? d->nsets : 1), sizeof *frac);
	sb b = {0};
	axis ax, ay;
	int has = 0;
	if (!frac)
		return EC_ERR_NOMEM;
	for (size_t i = 0; i < d->nsets; i++)
		for (size_t k = 0; k < d->sets[i].n; k++)
			if (usable(d->sets[i].v[k], d->xlog)) {
				has = 1;
				lo = fmin(lo, d->sets[i].v[k]);
				hi = fmax(hi, d->sets[i].v[k]);
			}
	axis_fit(&ax, d->xlog, lo, hi, has);
	/* bins split the whole axis evenly (in log space on a log axis) */
	for (size_t i = 0; i < d->nsets; i++) {
		size_t used = 0;
		for (size_t k = 0; k < d->sets[i].n; k++) {
			double v = d->sets[i].v[k];
			if (!usable(v, d->xlog))
				continue;
			long bi = (long)floor(axis_pos(&ax, v) * nb);
			bi = bi < 0 ? 0 : bi >= (long)nb ? (long)nb - 1 : bi;
			frac[i * nb + (size_t)bi] += 1;
			used++;
		}
		for (unsigned k = 0; used && k < nb; k++) {
			frac[i * nb + k] /= (double)used;
			ymax = fmax(ymax, frac[i * nb + k]);
		}
	}
	axis_fit(&ay, 0, 0, ymax > 0 ? ymax * 1.05 : 1, 1); /* headroom */
	frame_open(&b, d->title);
	draw_axes(&b, &ax, &ay, d->xlabel, "fraction of samples");
	double bw = (PX1 - PX0) / nb;
	for (size_t i = 0; i < d->nsets; i++) {
		const char *c = palette[i % NPAL];
		sbf(&b, "<g fill=\"%s\" fill-opacity=\"0.5\" stroke=\"%s\">\n", c, c);
		for (unsigned k = 0; k < nb; k++) {
			double f = frac[i * nb + k];
			if (f <= 0)
				continue;
			double top = PY1 - (PY1 - PY0) * axis_pos(&ay, f);
			sbf(&b, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>\n",
			    PX0 + bw * k, top, bw, PY1 - top);
		}
		sbf(&b, "</g>\n");
	}
	if (!has)
		no_data(&b);
	for (size_t i = 0; i < d->nsets; i++)
		draw_legend_entry(&b, i, d->sets[i].name, 1);
	sbf(&b, "</svg>\n");
	free(frac);
	return sb_finish(&b, out, len);
}

int ec_plot_dist_svg(char **out, size_t *len, const ec_plot_dist *d)
{
	if (!out || !d || (d->nsets && !d->sets) || d->bins > 10000)
		return EC_ERR_ARG;
	return d->kind == EC_PLOT_CDF ? cdf_svg(out, len, d) : hist_svg(out, len, d);
}
