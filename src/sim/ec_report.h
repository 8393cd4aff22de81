/* ec_report.h - simulator run outputs: summary.json (stable keys, fixed
 * number format, documented in docs/SCENARIOS.md "Outputs") and
 * timeseries.csv (a header of named columns, then rows), written into an
 * output directory that is created when missing.
 *
 * Byte stability: the same inputs give the same bytes.  JSON keys are
 * sorted, indented by 2, reals printed with %.15g (non-finite -> null), the
 * file ends in "\n".  CSV numbers: integral values below 2^53 as integers,
 * others with %.9g, non-finite as an empty field.  Files are written to
 * NAME.tmp and renamed, so a reader never sees half a file.
 *
 * Errors: EC_ERR_IO / EC_ERR_NOMEM / EC_ERR_ARG with one line in err
 * ("cannot create directory 'x': Permission denied").  No clocks, no RNG.
 */
#ifndef EC_SIM_REPORT_H
#define EC_SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/ec_scenario.h"

#define EC_SUMMARY_FORMAT 1      /* summary.json "format"; bump on key changes */
#define EC_SUM_NEVER UINT64_MAX  /* a time not reached: JSON null */

/* Distribution of one quantity (nearest-rank percentiles). */
typedef struct ec_sum_dist {
	uint64_t count;
	double mean, p50, p90, p95, p99, max; /* all 0 when count == 0 */
} ec_sum_dist;

/* One sync strategy's result for the joining peer(s). */
typedef struct ec_sum_sync {
	int measured;                 /* the strategy ran; others are left out */
	int complete;                 /* target coverage reached */
	uint64_t first_head_ms;       /* join -> first chain head known */
	uint64_t complete_ms;         /* join -> target coverage (or NEVER) */
	double final_coverage;        /* fraction of neighbourhood tokens known */
	uint64_t messages;            /* sync messages sent + received by joiners */
	uint64_t bytes;
	uint64_t blocks_fetched;      /* chain: blocks received */
	uint64_t queries;             /* polling: mapping queries sent */
} ec_sum_sync;

/* A `report` event's snapshot. */
typedef struct ec_sum_snapshot {
	char label[EC_SCN_NAME_MAX];
	uint64_t at_ms;
	uint64_t online_peers;
	uint64_t committed;
	uint64_t messages;
} ec_sum_snapshot;

typedef struct ec_summary {
	const ec_scenario *scenario;  /* embedded as "scenario" (may be NULL) */
	uint8_t seed[EC_HASH_BYTES];  /* the seed the run used */
	const char *version;          /* ecsim version string (NULL -> "") */
	uint64_t simulated_ms;
	uint64_t events_applied;
	/* peers */
	uint64_t peers_initial, peers_joined, peers_left, peers_crashed,
		peers_returned, peers_online_final;
	/* transactions */
	uint64_t txs_submitted, txs_committed, txs_double_signed;
	uint64_t conflicting_owners;  /* tokens two peers commit differently */
	ec_sum_dist commit_latency_ms;
	/* network */
	uint64_t messages, bytes, messages_dropped;
	/* sync, indexed by enum ec_scn_strategy */
	ec_sum_sync sync[EC_SCN_SYNC_COUNT];
	const ec_sum_snapshot *snapshots;
	size_t nsnapshots;
	/* Optional (NULL = none; borrowed): a JSON object merged into the
	 * summary recursively (json_object_update_recursive), so the engine
	 * can add keys inside existing sections ("run.signatures",
	 * "network.by_type", "sync.chain.status", ...) and new sections. */
	struct json_t *extra;
} ec_summary;

/* Sorts a copy of v[0..n) and fills *out.  EC_OK or EC_ERR_NOMEM. */
int ec_sum_dist_compute(ec_sum_dist *out, const double *v, size_t n);

/* summary.json text (malloc'd, NUL-terminated, ends in "\n"); NULL on
 * allocation failure or non-UTF-8 strings. */
char *ec_summary_to_json(const ec_summary *s);
/* Writes DIR/summary.json. */
int ec_summary_write(const char *dir, const ec_summary *s, char *err,
		     size_t errlen);

/* Any jansson value in the summary's format (malloc'd, ends in "\n"). */
struct json_t;
char *ec_report_json_text(const struct json_t *o);

/* mkdir -p DIR (mode 0755). */
int ec_report_mkdir(const char *dir, char *err, size_t errlen);
/* Writes DIR/NAME (creating DIR) via DIR/NAME.tmp + rename. */
int ec_report_write_file(const char *dir, const char *name, const void *data,
			 size_t len, char *err, size_t errlen);

/* ---- timeseries.csv ----------------------------------------------------- */

/* Columns the engine is expected to write, in this order (docs/SCENARIOS.md
 * "timeseries.csv"); NULL-terminated. */
extern const char *const ec_report_ts_columns[];

typedef struct ec_csv ec_csv;

/* Creates DIR (if needed) and DIR/NAME.tmp with the header line; names are
 * quoted per RFC 4180 where they hold ',', '"', CR or LF.  ncols >= 1. */
int ec_csv_open(ec_csv **out, const char *dir, const char *name,
		const char *const *cols, size_t ncols, char *err, size_t errlen);
/* Appends one row of ncols values. */
int ec_csv_row(ec_csv *c, const double *vals);
/* Flushes, closes and renames to DIR/NAME; frees c (also on error). */
int ec_csv_close(ec_csv *c, char *err, size_t errlen);
/* Drops the temporary file and frees c. */
void ec_csv_abort(ec_csv *c);

/* The CSV number format into buf (>= 32 bytes). */
void ec_report_fmt_num(char *buf, size_t cap, double v);

/* ---- the standard plots (docs/SCENARIOS.md "Plots") --------------------- */

/* One strategy's joiner, sampled at report intervals. */
typedef struct ec_report_sync_curve {
	const double *since_join_ms; /* x of coverage_time */
	const double *messages;      /* x of coverage_messages (cumulative) */
	const double *coverage;      /* y, 0..1 */
	size_t n;                    /* 0: strategy not measured, no line */
} ec_report_sync_curve;

typedef struct ec_report_plot_data {
	const char *title_suffix;    /* e.g. the scenario name; may be NULL */
	ec_report_sync_curve sync[EC_SCN_SYNC_COUNT];
	const double *latency_ms;    /* commit latency samples */
	size_t nlatency;
} ec_report_plot_data;

/* Writes the plots named by `plots` (bits 1 << EC_SCN_PLOT_*) into DIR:
 * coverage_time.svg, coverage_messages.svg, commit_latency_hist.svg and
 * commit_latency_cdf.svg. */
int ec_report_plots(const char *dir, uint32_t plots,
		    const ec_report_plot_data *d, char *err, size_t errlen);

#endif
