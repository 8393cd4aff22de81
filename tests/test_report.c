/* test_report.c - run outputs: summary.json and timeseries.csv bytes are
 * fixed for fixed inputs (golden text), strings are escaped, errors on an
 * unwritable directory; SVG charts are deterministic and well-formed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/ec_plot.h"
#include "sim/ec_report.h"
#include "testutil.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(1 << 20);
	size_t n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void tmpdir(char *out)
{
	strcpy(out, "/tmp/ec_report_XXXXXX");
	assert_non_null(mkdtemp(out));
}

static void rmtree(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static ec_summary small_summary(void)
{
	static ec_sum_snapshot snap = {"mid", 500, 10, 20, 3000};
	ec_summary s;
	memset(&s, 0, sizeof s);
	for (int i = 0; i < 32; i++)
		s.seed[i] = (uint8_t)i;
	s.version = "0.1 \"test\"\n";
	s.simulated_ms = 1000;
	s.events_applied = 2;
	s.peers_initial = 10;
	s.peers_online_final = 9;
	s.peers_crashed = 1;
	s.txs_submitted = 40;
	s.txs_committed = 30;
	s.messages = 4500;
	s.bytes = 123456;
	double lat[] = {10, 20, 30, 40, 1.0 / 3};
	assert_int_equal(ec_sum_dist_compute(&s.commit_latency_ms, lat, 5), EC_OK);
	s.sync[EC_SCN_SYNC_CHAIN] = (ec_sum_sync){1, 1, 40, 900, 1.0, 120, 50000, 30, 0};
	s.sync[EC_SCN_SYNC_POLLING] = (ec_sum_sync){1, 0, EC_SUM_NEVER, EC_SUM_NEVER,
						    NAN, 700, 90000, 0, 350};
	s.snapshots = &snap;
	s.nsnapshots = 1;
	return s;
}

static const char golden_summary[] =
	"{\n"
	"  \"format\": 1,\n"
	"  \"network\": {\n"
	"    \"bytes\": 123456,\n"
	"    \"dropped\": 0,\n"
	"    \"messages\": 4500,\n"
	"    \"messages_per_commit\": 150.0\n"
	"  },\n"
	"  \"peers\": {\n"
	"    \"crashed\": 1,\n"
	"    \"initial\": 10,\n"
	"    \"joined\": 0,\n"
	"    \"left\": 0,\n"
	"    \"online_final\": 9,\n"
	"    \"returned\": 0\n"
	"  },\n"
	"  \"run\": {\n"
	"    \"events_applied\": 2,\n"
	"    \"seed\": \"0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\",\n"
	"    \"simulated_ms\": 1000,\n"
	"    \"version\": \"0.1 \\\"test\\\"\\n\"\n"
	"  },\n"
	"  \"snapshots\": [\n"
	"    {\n"
	"      \"at_ms\": 500,\n"
	"      \"committed\": 20,\n"
	"      \"label\": \"mid\",\n"
	"      \"messages\": 3000,\n"
	"      \"online_peers\": 10\n"
	"    }\n"
	"  ],\n"
	"  \"sync\": {\n"
	"    \"chain\": {\n"
	"      \"blocks_fetched\": 30,\n"
	"      \"bytes\": 50000,\n"
	"      \"complete\": true,\n"
	"      \"complete_ms\": 900,\n"
	"      \"final_coverage\": 1.0,\n"
	"      \"first_head_ms\": 40,\n"
	"      \"messages\": 120,\n"
	"      \"queries\": 0\n"
	"    },\n"
	"    \"polling\": {\n"
	"      \"blocks_fetched\": 0,\n"
	"      \"bytes\": 90000,\n"
	"      \"complete\": false,\n"
	"      \"complete_ms\": null,\n"
	"      \"final_coverage\": null,\n"
	"      \"first_head_ms\": null,\n"
	"      \"messages\": 700,\n"
	"      \"queries\": 350\n"
	"    }\n"
	"  },\n"
	"  \"txs\": {\n"
	"    \"commit_latency_ms\": {\n"
	"      \"count\": 5,\n"
	"      \"max\": 40.0,\n"
	"      \"mean\": 20.0666666666667,\n"
	"      \"p50\": 20.0,\n"
	"      \"p90\": 40.0,\n"
	"      \"p95\": 40.0,\n"
	"      \"p99\": 40.0\n"
	"    },\n"
	"    \"committed\": 30,\n"
	"    \"conflicting_owners\": 0,\n"
	"    \"double_signed\": 0,\n"
	"    \"submitted\": 40\n"
	"  }\n"
	"}\n";

static void test_summary_golden(void **state)
{
	ec_summary s = small_summary();
	char dir[64], path[128], err[256];
	char *a = ec_summary_to_json(&s), *b = ec_summary_to_json(&s);
	assert_non_null(a);
	assert_string_equal(a, golden_summary);
	assert_string_equal(a, b);
	tmpdir(dir);
	/* created when missing, two levels deep */
	snprintf(path, sizeof path, "%s/x/y", dir);
	assert_int_equal(ec_summary_write(path, &s, err, sizeof err), EC_OK);
	snprintf(path, sizeof path, "%s/x/y/summary.json", dir);
	char *f = slurp(path);
	assert_string_equal(f, golden_summary);
	snprintf(path, sizeof path, "%s/x/y/summary.json.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	free(f);
	free(a);
	free(b);
	rmtree(dir);
}

static void test_summary_with_scenario(void **state)
{
	ec_scenario sc;
	char err[EC_SCN_ERR_MAX];
	assert_int_equal(ec_scenario_load(&sc, "scenarios/quick.yaml", err, sizeof err), EC_OK);
	ec_summary s = small_summary();
	s.scenario = &sc;
	char *a = ec_summary_to_json(&s), *b = ec_summary_to_json(&s);
	assert_string_equal(a, b);
	assert_non_null(strstr(a, "\n  \"scenario\": {\n"));
	assert_non_null(strstr(a, "\"name\": \"quick\""));
	/* sorted: scenario between run and snapshots */
	assert_true(strstr(a, "\"run\"") < strstr(a, "\"scenario\""));
	assert_true(strstr(a, "\"scenario\"") < strstr(a, "\"snapshots\""));
	/* no commits: messages_per_commit is null, not a division by zero */
	s.txs_committed = 0;
	free(a);
	a = ec_summary_to_json(&s);
	assert_non_null(strstr(a, "\"messages_per_commit\": null"));
	/* strings that are not UTF-8 are refused, not written */
	s.version = "\xff\xfe";
	assert_null(ec_summary_to_json(&s));
	assert_int_equal(ec_summary_write("/tmp", &s, err, sizeof err), EC_ERR_NOMEM);
	free(a);
	free(b);
	ec_scenario_free(&sc);
}

static void test_dist(void **state)
{
	ec_sum_dist d;
	double v[100];
	for (int i = 0; i < 100; i++)
		v[i] = 100 - i; /* 100 .. 1, unsorted */
	assert_int_equal(ec_sum_dist_compute(&d, v, 100), EC_OK);
	assert_int_equal(d.count, 100);
	assert_true(d.p50 == 50 && d.p90 == 90 && d.p95 == 95 && d.p99 == 99);
	assert_true(d.max == 100 && d.mean == 50.5);
	assert_true(v[0] == 100); /* input untouched */
	assert_int_equal(ec_sum_dist_compute(&d, v, 0), EC_OK);
	assert_int_equal(d.count, 0);
	assert_true(d.max == 0);
	assert_int_equal(ec_sum_dist_compute(&d, v, 1), EC_OK);
	assert_true(d.p50 == 100 && d.p99 == 100);
}

static void test_csv(void **state)
{
	char dir[64], path[128], err[256];
	const char *cols[] = {"t_ms", "a,b", "say \"hi\"", "plain"};
	ec_csv *c;
	tmpdir(dir);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(ec_csv_open(&c, dir, "timeseries.csv", cols, 4, err, sizeof err),
				 EC_OK);
		double r1[] = {0, 1.5, -0.0, 1e300};
		double r2[] = {500, 1.0 / 3, NAN, 9007199254740993.0};
		double r3[] = {1000, -2, INFINITY, 0.1 + 0.2};
		assert_int_equal(ec_csv_row(c, r1), EC_OK);
		assert_int_equal(ec_csv_row(c, r2), EC_OK);
		assert_int_equal(ec_csv_row(c, r3), EC_OK);
		assert_int_equal(ec_csv_close(c, err, sizeof err), EC_OK);
		snprintf(path, sizeof path, "%s/timeseries.csv", dir);
		char *f = slurp(path);
		assert_string_equal(f, "t_ms,\"a,b\",\"say \"\"hi\"\"\",plain\n"
				       "0,1.5,0,1e+300\n"
				       "500,0.333333333,,9.00719925e+15\n"
				       "1000,-2,,0.3\n");
		free(f);
	}
	/* the engine's column list is there and well-formed */
	size_t n = 0;
	while (ec_report_ts_columns[n])
		assert_null(strpbrk(ec_report_ts_columns[n++], ",\"\n"));
	assert_string_equal(ec_report_ts_columns[0], "t_ms");
	assert_true(n >= 8);
	/* abort leaves nothing behind */
	assert_int_equal(ec_csv_open(&c, dir, "gone.csv", cols, 1, err, sizeof err), EC_OK);
	ec_csv_abort(c);
	snprintf(path, sizeof path, "%s/gone.csv.tmp", dir);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ec_csv_open(&c, dir, "a/b.csv", cols, 1, err, sizeof err), EC_ERR_ARG);
	assert_int_equal(ec_csv_open(&c, dir, "x.csv", cols, 0, err, sizeof err), EC_ERR_ARG);
	rmtree(dir);
}

static void test_unwritable_dir(void **state)
{
	char dir[64], file[128], sub[160], err[256];
	ec_csv *c = NULL;
	const char *cols[] = {"t"};
	ec_summary s = small_summary();
	tmpdir(dir);
	/* a regular file where a directory should be: fails even for root */
	snprintf(file, sizeof file, "%s/plainfile", dir);
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(sub, sizeof sub, "%s/out", file);
	assert_int_equal(ec_summary_write(sub, &s, err, sizeof err), EC_ERR_IO);
	assert_non_null(strstr(err, "cannot create directory"));
	assert_non_null(strstr(err, "plainfile"));
	assert_int_equal(ec_csv_open(&c, sub, "t.csv", cols, 1, err, sizeof err), EC_ERR_IO);
	assert_null(c);
	assert_int_equal(ec_report_write_file(file, "x.svg", "x", 1, err, sizeof err),
			 EC_ERR_IO);
	assert_non_null(strstr(err, "is not a directory"));
	assert_int_equal(ec_report_mkdir("", err, sizeof err), EC_ERR_ARG);
	/* the path exists as a directory: fine, twice */
	assert_int_equal(ec_report_mkdir(dir, err, sizeof err), EC_OK);
	assert_int_equal(ec_report_mkdir(dir, err, sizeof err), EC_OK);
	rmtree(dir);
}

/* ---- SVG ---------------------------------------------------------------- */

static size_t count(const char *s, const char *pat)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, pat)); p += strlen(pat))
		n++;
	return n;
}

/* Structure checks that need no XML parser. */
static void assert_svg_shape(const char *svg)
{
	assert_true(!strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44));
	size_t n = strlen(svg);
	assert_true(n > 7 && !strcmp(svg + n - 7, "</svg>\n"));
	assert_int_equal(count(svg, "<svg"), 1);
	assert_int_equal(count(svg, "<g"), count(svg, "</g>"));
	assert_int_equal(count(svg, "<text"), count(svg, "</text>"));
	assert_int_equal(count(svg, "<"), count(svg, ">"));
	assert_null(strstr(svg, "nan"));
	assert_null(strstr(svg, "inf"));
	/* every '&' starts an entity */
	for (const char *p = svg; (p = strchr(p, '&')); p++)
		assert_true(!strncmp(p, "&amp;", 5) || !strncmp(p, "&lt;", 4) ||
			    !strncmp(p, "&gt;", 4) || !strncmp(p, "&quot;", 6) ||
			    !strncmp(p, "&apos;", 6));
}

/* When xmllint is installed, it must agree; without it, skipped. */
static void maybe_xmllint(const char *svg)
{
	if (access("/usr/bin/xmllint", X_OK) != 0)
		return;
	char path[] = "/tmp/ec_svg_XXXXXX", cmd[128];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, svg, strlen(svg)), (ssize_t)strlen(svg));
	close(fd);
	snprintf(cmd, sizeof cmd, "/usr/bin/xmllint --noout %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

static void test_line_chart(void **state)
{
	double x[50], y1[50], y2[50];
	for (int i = 0; i < 50; i++) {
		x[i] = 100.0 * (i + 1);
		y1[i] = 1 - exp(-i / 8.0);
		y2[i] = i == 20 ? NAN : 1 - exp(-i / 25.0); /* a gap */
	}
	ec_plot_series s[2] = {{"chain <traversal>", x, y1, 50}, {"polling & 'co'", x, y2, 50}};
	ec_plot_line c = {"Coverage \"over\" time", "simulated time (ms)", "coverage", 0, 0, 1,
			  s, 2};
	char *a, *b;
	size_t na, nb;
	assert_int_equal(ec_plot_line_svg(&a, &na, &c), EC_OK);
	assert_int_equal(ec_plot_line_svg(&b, &nb, &c), EC_OK);
	assert_int_equal(na, nb);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), na);
	assert_svg_shape(a);
	maybe_xmllint(a);
	assert_non_null(strstr(a, ">Coverage &quot;over&quot; time</text>"));
	assert_non_null(strstr(a, ">chain &lt;traversal&gt;</text>"));
	assert_non_null(strstr(a, ">polling &amp; &apos;co&apos;</text>"));
	assert_int_equal(count(a, "<path "), 2);
	/* the gap starts a new subpath in the second series only */
	const char *p2 = strstr(strstr(a, "<path ") + 1, "<path ");
	assert_non_null(strstr(p2, " M"));
	assert_non_null(strstr(a, ">5k</text>"));
	assert_non_null(strstr(a, ">0.2</text>"));
	free(a);
	free(b);
	/* log x: decade ticks */
	c.xlog = 1;
	assert_int_equal(ec_plot_line_svg(&a, &na, &c), EC_OK);
	assert_svg_shape(a);
	assert_non_null(strstr(a, ">100</text>"));
	assert_non_null(strstr(a, ">1k</text>"));
	assert_non_null(strstr(a, ">10k</text>"));
	assert_non_null(strstr(a, "(log scale)"));
	maybe_xmllint(a);
	free(a);
	/* no data at all: an empty chart saying so */
	c.nseries = 0;
	assert_int_equal(ec_plot_line_svg(&a, NULL, &c), EC_OK);
	assert_svg_shape(a);
	assert_non_null(strstr(a, "no data"));
	free(a);
	assert_int_equal(ec_plot_line_svg(NULL, NULL, &c), EC_ERR_ARG);
	assert_int_equal(ec_plot_line_svg(&a, NULL, NULL), EC_ERR_ARG);
}

static void test_distribution(void **state)
{
	double l1[400], l2[300];
	for (int i = 0; i < 400; i++)
		l1[i] = 20 + (i * 37) % 400;
	for (int i = 0; i < 300; i++)
		l2[i] = 50 + (i * 53) % 2000;
	ec_plot_samples sets[2] = {{"chain", l1, 400}, {"polling", l2, 300}};
	ec_plot_dist d = {"Commit latency", "latency (ms)", EC_PLOT_HIST, 0, 25, sets, 2};
	char *a, *b;
	size_t na, nb;
	assert_int_equal(ec_plot_dist_svg(&a, &na, &d), EC_OK);
	assert_int_equal(ec_plot_dist_svg(&b, &nb, &d), EC_OK);
	assert_string_equal(a, b);
	assert_svg_shape(a);
	maybe_xmllint(a);
	assert_non_null(strstr(a, "fraction of samples"));
	assert_true(count(a, "<rect ") > 10);
	free(a);
	free(b);
	d.kind = EC_PLOT_CDF;
	d.xlog = 1;
	assert_int_equal(ec_plot_dist_svg(&a, &na, &d), EC_OK);
	assert_svg_shape(a);
	maybe_xmllint(a);
	assert_int_equal(count(a, "<path "), 2);
	assert_non_null(strstr(a, ">1</text>")); /* CDF tops out at 1 */
	free(a);
	/* many samples: the CDF is cut to 1,000 steps, ending at the maximum */
	double *big = malloc(100000 * sizeof *big);
	for (int i = 0; i < 100000; i++)
		big[i] = 1 + (i * 7919) % 100000;
	ec_plot_samples one = {"all", big, 100000};
	ec_plot_dist bd = {"big", "ms", EC_PLOT_CDF, 0, 0, &one, 1};
	assert_int_equal(ec_plot_dist_svg(&a, &na, &bd), EC_OK);
	assert_svg_shape(a);
	assert_true(na < 60000);
	assert_int_equal(count(a, " L"), 2 * (1000 - 1)); /* M, then 2 per step */
	free(a);
	free(big);
	d.nsets = 0;
	assert_int_equal(ec_plot_dist_svg(&a, &na, &d), EC_OK);
	assert_non_null(strstr(a, "no data"));
	free(a);
	d.bins = 20000;
	assert_int_equal(ec_plot_dist_svg(&a, &na, &d), EC_ERR_ARG);
}

static void test_report_plots(void **state)
{
	double t[40], cov_c[40], cov_p[40], msg_c[40], msg_p[40], lat[200];
	for (int i = 0; i < 40; i++) {
		t[i] = 500.0 * i;
		cov_c[i] = fmin(1, i / 10.0);
		cov_p[i] = fmin(1, i / 35.0);
		msg_c[i] = 20.0 * i;
		msg_p[i] = 400.0 * i;
	}
	for (int i = 0; i < 200; i++)
		lat[i] = 80 + (i * 29) % 300;
	ec_report_plot_data d = {
		"quick",
		{[EC_SCN_SYNC_CHAIN] = {t, msg_c, cov_c, 40},
		 [EC_SCN_SYNC_POLLING] = {t, msg_p, cov_p, 40}},
		lat,
		200,
	};
	static const char *const files[] = {"coverage_time.svg", "coverage_messages.svg",
					    "commit_latency_hist.svg", "commit_latency_cdf.svg"};
	char dir[2][64], path[160], err[256];
	for (int k = 0; k < 2; k++) {
		tmpdir(dir[k]);
		assert_int_equal(ec_report_plots(dir[k], 7, &d, err, sizeof err), EC_OK);
	}
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof path, "%s/%s", dir[0], files[i]);
		char *a = slurp(path);
		snprintf(path, sizeof path, "%s/%s", dir[1], files[i]);
		char *b = slurp(path);
		assert_string_equal(a, b);
		assert_svg_shape(a);
		maybe_xmllint(a);
		assert_non_null(strstr(a, "quick</text>"));
		if (i < 2) {
			assert_non_null(strstr(a, ">chain traversal</text>"));
			assert_non_null(strstr(a, ">polling</text>"));
		}
		free(a);
		free(b);
	}
	rmtree(dir[1]);
	/* only what is asked for; an unmeasured strategy has no line */
	d.sync[EC_SCN_SYNC_POLLING].n = 0;
	assert_int_equal(ec_report_plots(dir[1], 1u << EC_SCN_PLOT_COVERAGE_TIME, &d, err,
					 sizeof err), EC_OK);
	snprintf(path, sizeof path, "%s/coverage_time.svg", dir[1]);
	char *a = slurp(path);
	assert_null(strstr(a, "polling"));
	assert_int_equal(count(a, "<path "), 1);
	free(a);
	snprintf(path, sizeof path, "%s/commit_latency_cdf.svg", dir[1]);
	assert_int_equal(access(path, F_OK), -1);
	rmtree(dir[0]);
	rmtree(dir[1]);
}

static void test_fmt(void **state)
{
	char b[32];
	static const struct {
		double v;
		const char *s;
	} t[] = {{0, "0"}, {-0.0, "0"}, {0.25, "0.25"}, {1e-13, "0"}, {999, "999"},
		 {1000, "1k"}, {1500, "1.5k"}, {2e6, "2M"}, {3.5e9, "3.5G"},
		 {-20000, "-20k"}, {0.1 + 0.2, "0.3"}};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		ec_plot_fmt_tick(b, sizeof b, t[i].v);
		assert_string_equal(b, t[i].s);
	}
	ec_report_fmt_num(b, sizeof b, -0.0);
	assert_string_equal(b, "0");
	ec_report_fmt_num(b, sizeof b, 123456789012.0);
	assert_string_equal(b, "123456789012");
	ec_report_fmt_num(b, sizeof b, NAN);
	assert_string_equal(b, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_golden),
		cmocka_unit_test(test_summary_with_scenario),
		cmocka_unit_test(test_dist),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_unwritable_dir),
		cmocka_unit_test(test_line_chart),
		cmocka_unit_test(test_distribution),
		cmocka_unit_test(test_report_plots),
		cmocka_unit_test(test_fmt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
