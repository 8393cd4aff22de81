/* ec_report_plots.c - the standard plots of a run (docs/SCENARIOS.md
 * "Plots"): which chart, which file name, which titles and legends.  The
 * drawing itself is ec_plot.c. */
#include <stdio.h>
#include <stdlib.h>

#include "sim/ec_plot.h"
#include "sim/ec_report.h"

static const char *const legend[EC_SCN_SYNC_COUNT] = {
	[EC_SCN_SYNC_CHAIN] = "chain traversal",
	[EC_SCN_SYNC_POLLING] = "polling",
};

/* Renders (rc from the renderer) and writes one file. */
static int emit(const char *dir, const char *name, int rc, char *svg, size_t len,
		char *err, size_t errlen)
{
	if (rc == EC_OK)
		rc = ec_report_write_file(dir, name, svg, len, err, errlen);
	else if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, ec_strerror(rc));
	free(svg);
	return rc;
}

static void title(char *out, size_t cap, const char *what, const char *suffix)
{
	if (suffix && *suffix)
		snprintf(out, cap, "%s: %s", what, suffix);
	else
		snprintf(out, cap, "%s", what);
}

static int coverage_plot(const char *dir, const ec_report_plot_data *d, int by_msgs,
			 char *err, size_t errlen)
{
	ec_plot_series s[EC_SCN_SYNC_COUNT];
	size_t n = 0;
	char t[300], *svg = NULL;
	size_t len = 0;
	for (int i = 0; i < EC_SCN_SYNC_COUNT; i++) {
		const ec_report_sync_curve *c = &d->sync[i];
		if (!c->n)
			continue;
		s[n++] = (ec_plot_series){legend[i], by_msgs ? c->messages : c->since_join_ms,
					  c->coverage, c->n};
	}
	title(t, sizeof t, by_msgs ? "Sync coverage over messages" : "Sync coverage over time",
	      d->title_suffix);
	ec_plot_line c = {t, by_msgs ? "sync messages" : "time since join (ms)",
			  "coverage of the neighbourhood", by_msgs, 0, 1, s, n};
	int rc = ec_plot_line_svg(&svg, &len, &c);
	return emit(dir, by_msgs ? "coverage_messages.svg" : "coverage_time.svg", rc, svg,
		    len, err, errlen);
}

static int latency_plot(const char *dir, const ec_report_plot_data *d, int cdf,
			char *err, size_t errlen)
{
	ec_plot_samples set = {"commit latency", d->latency_ms, d->nlatency};
	char t[300], *svg = NULL;
	size_t len = 0;
	title(t, sizeof t, cdf ? "Commit latency (CDF)" : "Commit latency", d->title_suffix);
	ec_plot_dist pd = {t, "submit to commit (ms)", cdf ? EC_PLOT_CDF : EC_PLOT_HIST, 0,
			   30, &set, d->nlatency ? 1 : 0};
	int rc = ec_plot_dist_svg(&svg, &len, &pd);
	return emit(dir, cdf ? "commit_latency_cdf.svg" : "commit_latency_hist.svg", rc, svg,
		    len, err, errlen);
}

int ec_report_plots(const char *dir, uint32_t plots, const ec_report_plot_data *d,
		    char *err, size_t errlen)
{
	int rc = EC_OK;
	if (!d)
		return EC_ERR_ARG;
	if (!rc && (plots & (1u << EC_SCN_PLOT_COVERAGE_TIME)))
		rc = coverage_plot(dir, d, 0, err, errlen);
	if (!rc && (plots & (1u << EC_SCN_PLOT_COVERAGE_MESSAGES)))
		rc = coverage_plot(dir, d, 1, err, errlen);
	if (!rc && (plots & (1u << EC_SCN_PLOT_COMMIT_LATENCY)))
		rc = latency_plot(dir, d, 0, err, errlen);
	if (!rc && (plots & (1u << EC_SCN_PLOT_COMMIT_LATENCY)))
		rc = latency_plot(dir, d, 1, err, errlen);
	return rc;
}
