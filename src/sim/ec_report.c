/* ec_report.c - summary.json and timeseries.csv writers, the output
 * directory, and the one place that fixes how numbers are printed. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "sim/ec_report.h"
#include "sim/ec_sim_int.h"

const char *const ec_report_ts_columns[] = {
	"t_ms",           "online_peers",        "submitted",
	"committed",      "pending",             "messages",
	"bytes",          "dropped",             "coverage_chain",
	"coverage_polling", "sync_messages_chain", "sync_messages_polling",
	NULL,
};

__attribute__((format(printf, 4, 5))) static int
seterr(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* ---- files -------------------------------------------------------------- */

int ec_report_mkdir(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	size_t n = dir ? strlen(dir) : 0;
	struct stat st;
	if (!n || n >= sizeof path)
		return seterr(err, errlen, EC_ERR_ARG, "output directory '%s': empty or too long",
			      dir ? dir : "");
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != 0)
			continue;
		char c = path[i];
		path[i] = 0;
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return seterr(err, errlen, EC_ERR_IO,
				      "cannot create directory '%s': %s", path,
				      strerror(errno));
		path[i] = c;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return seterr(err, errlen, EC_ERR_IO, "'%s' is not a directory", dir);
	return EC_OK;
}

static int join_file(char *out, size_t cap, const char *dir, const char *name,
		     const char *suffix)
{
	if (!name || !*name || strchr(name, '/'))
		return EC_ERR_ARG;
	int w = snprintf(out, cap, "%s/%s%s", dir, name, suffix);
	return w < 0 || (size_t)w >= cap ? EC_ERR_ARG : EC_OK;
}

int ec_report_write_file(const char *dir, const char *name, const void *data,
			 size_t len, char *err, size_t errlen)
{
	char tmp[4096], fin[4096];
	int r = ec_report_mkdir(dir, err, errlen);
	if (r)
		return r;
	if (join_file(tmp, sizeof tmp, dir, name, ".tmp") ||
	    join_file(fin, sizeof fin, dir, name, ""))
		return seterr(err, errlen, EC_ERR_ARG, "bad output file name '%s'",
			      name ? name : "");
	FILE *f = fopen(tmp, "wb");
	if (!f)
		return seterr(err, errlen, EC_ERR_IO, "cannot create '%s': %s", tmp,
			      strerror(errno));
	int ok = fwrite(data, 1, len, f) == len;
	ok &= fclose(f) == 0;
	if (!ok) {
		int e = errno;
		remove(tmp);
		return seterr(err, errlen, EC_ERR_IO, "cannot write '%s': %s", tmp,
			      strerror(e));
	}
	if (rename(tmp, fin) != 0) {
		int e = errno;
		remove(tmp);
		return seterr(err, errlen, EC_ERR_IO, "cannot rename to '%s': %s", fin,
			      strerror(e));
	}
	return EC_OK;
}

/* ---- numbers ------------------------------------------------------------ */

void ec_report_fmt_num(char *buf, size_t cap, double v)
{
	if (!isfinite(v))
		buf[0] = 0;
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(buf, cap, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
	else
		snprintf(buf, cap, "%.9g", v);
}


char *ec_report_json_text(const json_t *o)
{
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = 0;
	return t;
}

/* ---- summary ------------------------------------------------------------ */

int ec_sum_dist_compute(ec_sum_dist *out, const double *v, size_t n)
{
	memset(out, 0, sizeof *out);
	if (!n)
		return EC_OK;
	double *s = malloc(n * sizeof *s), sum = 0;
	if (!s)
		return EC_ERR_NOMEM;
	memcpy(s, v, n * sizeof *s);
	qsort(s, n, sizeof *s, ec_sim_cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	/* nearest rank: the smallest value with at least p% at or below it */
#define RANK(p) s[(size_t)ceil((p) / 100.0 * (double)n) - 1]
	out->count = n;
	out->mean = sum / (double)n;
	out->p50 = RANK(50);
	out->p90 = RANK(90);
	out->p95 = RANK(95);
	out->p99 = RANK(99);
	out->max = s[n - 1];
#undef RANK
	free(s);
	return EC_OK;
}

static json_t *u64j(uint64_t v)
{
	return v == EC_SUM_NEVER ? json_null() : json_integer((json_int_t)v);
}

json_t *ec_report_dist_json(const ec_sum_dist *d, int *ok)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "count", u64j(d->count), ok);
	ec_sim_json_put(o, "mean", ec_sim_json_real(d->mean), ok);
	ec_sim_json_put(o, "p50", ec_sim_json_real(d->p50), ok);
	ec_sim_json_put(o, "p90", ec_sim_json_real(d->p90), ok);
	ec_sim_json_put(o, "p95", ec_sim_json_real(d->p95), ok);
	ec_sim_json_put(o, "p99", ec_sim_json_real(d->p99), ok);
	ec_sim_json_put(o, "max", ec_sim_json_real(d->max), ok);
	return o;
}

static json_t *sync_json(const ec_sum_sync *y, int *ok)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	ec_sim_json_put(o, "complete", json_boolean(y->complete), ok);
	ec_sim_json_put(o, "first_head_ms", u64j(y->first_head_ms), ok);
	ec_sim_json_put(o, "complete_ms", u64j(y->complete_ms), ok);
	ec_sim_json_put(o, "final_coverage", ec_sim_json_real(y->final_coverage), ok);
	ec_sim_json_put(o, "messages", u64j(y->messages), ok);
	ec_sim_json_put(o, "bytes", u64j(y->bytes), ok);
	ec_sim_json_put(o, "blocks_fetched", u64j(y->blocks_fetched), ok);
	ec_sim_json_put(o, "queries", u64j(y->queries), ok);
	return o;
}

static json_t *summary_json(const ec_summary *s)
{
	int ok = 1;
	char hex[2 * EC_HASH_BYTES + 3] = "0x";
	json_t *o = json_object(), *x;
	if (!o)
		return NULL;
	ec_sim_json_put(o, "format", json_integer(EC_SUMMARY_FORMAT), &ok);

	ec_hex_encode(hex + 2, s->seed, EC_HASH_BYTES);
	x = json_object();
	ec_sim_json_put(o, "run", x, &ok);
	if (x) {
		ec_sim_json_put(x, "seed", json_string(hex), &ok);
		ec_sim_json_put(x, "version", json_string(s->version ? s->version : ""), &ok);
		ec_sim_json_put(x, "simulated_ms", u64j(s->simulated_ms), &ok);
		ec_sim_json_put(x, "events_applied", u64j(s->events_applied), &ok);
	}
	x = json_object();
	ec_sim_json_put(o, "peers", x, &ok);
	if (x) {
		ec_sim_json_put(x, "initial", u64j(s->peers_initial), &ok);
		ec_sim_json_put(x, "joined", u64j(s->peers_joined), &ok);
		ec_sim_json_put(x, "left", u64j(s->peers_left), &ok);
		ec_sim_json_put(x, "crashed", u64j(s->peers_crashed), &ok);
		ec_sim_json_put(x, "returned", u64j(s->peers_returned), &ok);
		ec_sim_json_put(x, "online_final", u64j(s->peers_online_final), &ok);
	}
	x = json_object();
	ec_sim_json_put(o, "txs", x, &ok);
	if (x) {
		ec_sim_json_put(x, "submitted", u64j(s->txs_submitted), &ok);
		ec_sim_json_put(x, "committed", u64j(s->txs_committed), &ok);
		ec_sim_json_put(x, "double_signed", u64j(s->txs_double_signed), &ok);
		ec_sim_json_put(x, "conflicting_owners", u64j(s->conflicting_owners), &ok);
		ec_sim_json_put(x, "commit_latency_ms", ec_report_dist_json(&s->commit_latency_ms, &ok), &ok);
	}
	x = json_object();
	ec_sim_json_put(o, "network", x, &ok);
	if (x) {
		ec_sim_json_put(x, "messages", u64j(s->messages), &ok);
		ec_sim_json_put(x, "bytes", u64j(s->bytes), &ok);
		ec_sim_json_put(x, "dropped", u64j(s->messages_dropped), &ok);
		ec_sim_json_put(x, "messages_per_commit",
		    s->txs_committed ? json_real((double)s->messages / (double)s->txs_committed)
				     : json_null(), &ok);
	}
	x = json_object();
	ec_sim_json_put(o, "sync", x, &ok);
	for (int i = 0; x && i < EC_SCN_SYNC_COUNT; i++)
		if (s->sync[i].measured)
			ec_sim_json_put(x, ec_scn_strategy_name((enum ec_scn_strategy)i),
			    sync_json(&s->sync[i], &ok), &ok);
	x = json_array();
	ec_sim_json_put(o, "snapshots", x, &ok);
	for (size_t i = 0; x && i < s->nsnapshots; i++) {
		const ec_sum_snapshot *sn = &s->snapshots[i];
		json_t *e = json_object();
		if (e) {
			ec_sim_json_put(e, "label", json_string(sn->label), &ok);
			ec_sim_json_put(e, "at_ms", u64j(sn->at_ms), &ok);
			ec_sim_json_put(e, "online_peers", u64j(sn->online_peers), &ok);
			ec_sim_json_put(e, "committed", u64j(sn->committed), &ok);
			ec_sim_json_put(e, "messages", u64j(sn->messages), &ok);
		}
		if (!e || json_array_append_new(x, e))
			ok = 0;
	}
	if (s->scenario)
		ec_sim_json_put(o, "scenario", ec_scenario_json(s->scenario), &ok);
	if (ok && s->extra && json_object_update_recursive(o, s->extra))
		ok = 0;
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *ec_summary_to_json(const ec_summary *s)
{
	json_t *o = summary_json(s);
	if (!o)
		return NULL;
	char *t = ec_report_json_text(o);
	json_decref(o);
	return t;
}

int ec_summary_write(const char *dir, const ec_summary *s, char *err, size_t errlen)
{
	char *t = ec_summary_to_json(s);
	if (!t)
		return seterr(err, errlen, EC_ERR_NOMEM,
			      "summary.json: out of memory or a non-UTF-8 string");
	int r = ec_report_write_file(dir, "summary.json", t, strlen(t), err, errlen);
	free(t);
	return r;
}

/* ---- timeseries.csv ----------------------------------------------------- */

struct ec_csv {
	FILE *f;
	size_t ncols;
	int failed;
	char tmp[4096], fin[4096];
};

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int ec_csv_open(ec_csv **out, const char *dir, const char *name,
		const char *const *cols, size_t ncols, char *err, size_t errlen)
{
	*out = NULL;
	if (!ncols || !cols)
		return seterr(err, errlen, EC_ERR_ARG, "%s: no columns", name ? name : "");
	int r = ec_report_mkdir(dir, err, errlen);
	if (r)
		return r;
	ec_csv *c = calloc(1, sizeof *c);
	if (!c)
		return EC_ERR_NOMEM;
	if (join_file(c->tmp, sizeof c->tmp, dir, name, ".tmp") ||
	    join_file(c->fin, sizeof c->fin, dir, name, "")) {
		free(c);
		return seterr(err, errlen, EC_ERR_ARG, "bad output file name '%s'",
			      name ? name : "");
	}
	c->f = fopen(c->tmp, "wb");
	if (!c->f) {
		r = seterr(err, errlen, EC_ERR_IO, "cannot create '%s': %s", c->tmp,
			   strerror(errno));
		free(c);
		return r;
	}
	c->ncols = ncols;
	for (size_t i = 0; i < ncols; i++) {
		if (i)
			fputc(',', c->f);
		csv_field(c->f, cols[i] ? cols[i] : "");
	}
	fputc('\n', c->f);
	*out = c;
	return EC_OK;
}

int ec_csv_row(ec_csv *c, const double *vals)
{
	char b[40];
	for (size_t i = 0; i < c->ncols; i++) {
		ec_report_fmt_num(b, sizeof b, vals[i]);
		if (i)
			fputc(',', c->f);
		fputs(b, c->f);
	}
	if (fputc('\n', c->f) == EOF)
		c->failed = 1;
	return c->failed ? EC_ERR_IO : EC_OK;
}

void ec_csv_abort(ec_csv *c)
{
	if (!c)
		return;
	fclose(c->f);
	remove(c->tmp);
	free(c);
}

int ec_csv_close(ec_csv *c, char *err, size_t errlen)
{
	int r = EC_OK;
	if (!c)
		return EC_ERR_ARG;
	int bad = c->failed | ferror(c->f);
	bad |= fclose(c->f) != 0;
	if (bad) {
		r = seterr(err, errlen, EC_ERR_IO, "cannot write '%s': %s", c->tmp,
			   strerror(errno));
		remove(c->tmp);
	} else if (rename(c->tmp, c->fin) != 0) {
		r = seterr(err, errlen, EC_ERR_IO, "cannot rename to '%s': %s", c->fin,
			   strerror(errno));
		remove(c->tmp);
	}
	free(c);
	return r;
}
