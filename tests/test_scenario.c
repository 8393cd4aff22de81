/* test_scenario.c - scenario files: every shipped scenario parses; a table
 * of malformed snippets each names the exact line and field; defaults;
 * values survive parse -> JSON -> parse. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/ec_scenario.h"
#include "testutil.h"

/* Writes text to a fresh temp file; returns its path (static buffer). */
static const char *tmpfile_with(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/ec_scn_XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	return path;
}

static void test_shipped_scenarios_parse(void **state)
{
	DIR *d = opendir("scenarios");
	struct dirent *e;
	int seen = 0, quick = 0, sync100k = 0, steady = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 6 || strcmp(e->d_name + n - 5, ".yaml"))
			continue;
		char path[512], err[EC_SCN_ERR_MAX];
		ec_scenario sc;
		snprintf(path, sizeof path, "scenarios/%s", e->d_name);
		int r = ec_scenario_load(&sc, path, err, sizeof err);
		if (r)
			print_error("%s\n", err);
		assert_int_equal(r, EC_OK);
		seen++;
		if (!strcmp(sc.name, "quick")) {
			quick = 1;
			assert_int_equal(sc.peers.count, 32);
			assert_int_equal(sc.peers.nregions, 2);
			assert_int_equal(sc.workload.total_txs, 300);
			assert_int_equal(sc.sync.strategies, 3);
		} else if (!strcmp(sc.name, "sync-100k")) {
			sync100k = 1;
			assert_int_equal(sc.peers.count, 1000);
			assert_int_equal(sc.workload.total_txs, 100000);
			assert_int_equal(sc.links.def.delay_ms * 2, 50); /* RTT */
			assert_true(sc.links.def.bandwidth_kbps >= 1000 &&
				    sc.links.def.bandwidth_kbps <= 10000);
			assert_int_equal(sc.sync.strategies, 3);
			assert_true(sc.sync.join_at_ms > 0);
		} else if (!strcmp(sc.name, "steady-2000")) {
			steady = 1;
			assert_int_equal(sc.peers.count, 2000);
			/* one transaction per tick */
			assert_true(sc.workload.tx_rate * sc.tick_ms == 1000.0);
			assert_true(sc.workload.double_sign == 0.3);
		}
		ec_scenario_free(&sc);
	}
	closedir(d);
	assert_true(seen >= 3);
	assert_true(quick && sync100k && steady);
}

#define BASE "meta: {name: t}\nduration_ms: 10000\n"
#define PEERS "peers: {count: 4}\n"
#define REGIONS                                                               \
	"peers:\n  count: 10\n  regions:\n    - {name: eu, fraction: 0.5}\n" \
	"    - {name: us, fraction: 0.5}\n"

static const struct bad {
	const char *text;
	int rc;
	unsigned line;
	const char *field; /* NULL: YAML syntax error, checked by line only */
	const char *what;  /* a substring of the message */
} bad[] = {
	/* 1: unknown key (a typo) */
	{BASE PEERS "durration: 5\n", EC_ERR_VALUE, 4, "durration", "unknown key"},
	/* missing required fields: reported at their mapping */
	{"meta: {name: t}\n" PEERS, EC_ERR_VALUE, 1, "duration_ms", "required field missing"},
	{BASE "peers:\n  degree: 3\n", EC_ERR_VALUE, 4, "peers.count", "required"},
	{"meta: {description: x}\nduration_ms: 5\n" PEERS, EC_ERR_VALUE, 1, "meta.name",
	 "required"},
	/* 5: wrong types */
	{BASE "peers:\n  count: many\n", EC_ERR_VALUE, 4, "peers.count",
	 "expected an integer, got 'many'"},
	{BASE "peers:\n  count: \"4\"\n", EC_ERR_VALUE, 4, "peers.count", "quoted string"},
	{BASE "peers:\n  count: [4]\n", EC_ERR_VALUE, 4, "peers.count", "got a list"},
	{"meta: t\nduration_ms: 5\n" PEERS, EC_ERR_VALUE, 1, "meta", "expected a mapping"},
	{BASE PEERS "swap:\n  enabled: yes\n", EC_ERR_VALUE, 5, "swap.enabled",
	 "expected true or false"},
	/* 10: out of range */
	{BASE "peers:\n  count: 0\n", EC_ERR_VALUE, 4, "peers.count", "out of range 1..1000000"},
	{BASE PEERS "links:\n  delay_ms: 10\n  loss: 1.0\n", EC_ERR_VALUE, 6, "links.loss",
	 "out of range"},
	{BASE PEERS "workload:\n  tokens_per_tx: {min: 1, max: 7}\n", EC_ERR_VALUE, 5,
	 "workload.tokens_per_tx.max", "out of range 1..6"},
	{BASE PEERS "workload:\n  tokens_per_tx:\n    min: 4\n    max: 2\n", EC_ERR_VALUE, 7,
	 "workload.tokens_per_tx.max", "below min"},
	{BASE PEERS "workload:\n  double_sign: 1.5\n", EC_ERR_VALUE, 5,
	 "workload.double_sign", "out of range"},
	{BASE PEERS "workload:\n  tx_rate: 1e\n", EC_ERR_VALUE, 5, "workload.tx_rate",
	 "expected a number"},
	/* 16: fractions */
	{BASE "peers:\n  count: 10\n  regions:\n    - {name: eu, fraction: 0.5}\n"
	      "    - {name: us, fraction: 0.4}\n",
	 EC_ERR_VALUE, 6, "peers.regions", "sum to 0.9"},
	{BASE PEERS "workload:\n  mix:\n    create: 0.5\n    transfer: 0.6\n", EC_ERR_VALUE, 6,
	 "workload.mix", "sum to 1.1"},
	{BASE PEERS "workload:\n  mix: {create: 0.5, swap: 0.5}\n", EC_ERR_VALUE, 5,
	 "workload.mix.swap", "unknown key"},
	{BASE "peers:\n  count: 10\n  regions:\n    - {name: eu, fraction: 0.5}\n"
	      "    - {name: eu, fraction: 0.5}\n",
	 EC_ERR_VALUE, 7, "peers.regions[1].name", "defined twice"},
	/* 20: names that must exist */
	{BASE REGIONS "links:\n  latency_ms:\n    eu: {asia: 100}\n", EC_ERR_VALUE, 10,
	 "links.latency_ms.eu.asia", "no region is named 'asia'"},
	{BASE PEERS "sync:\n  strategies: [chain, gossip]\n  join_at_ms: 5\n", EC_ERR_VALUE, 5,
	 "sync.strategies[1]", "'gossip' is not one of: chain, polling"},
	{BASE PEERS "sync:\n  strategies: [chain, chain]\n  join_at_ms: 5\n", EC_ERR_VALUE, 5,
	 "sync.strategies[1]", "listed twice"},
	{BASE PEERS "sync:\n  strategies: [chain]\n", EC_ERR_VALUE, 5, "sync.join_at_ms",
	 "required"},
	{BASE PEERS "report:\n  plots: [coverage_time, pie]\n", EC_ERR_VALUE, 5,
	 "report.plots[1]", "'pie' is not one of"},
	/* 25: events */
	{BASE PEERS "events:\n  - {at_ms: 500, kind: report}\n  - {at_ms: 400, kind: report}\n",
	 EC_ERR_VALUE, 6, "events[1].at_ms", "before the previous event"},
	{BASE PEERS "events:\n  - at_ms: 20000\n    kind: crash\n", EC_ERR_VALUE, 5,
	 "events[0].at_ms", "beyond duration_ms 10000"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: explode}\n", EC_ERR_VALUE, 5,
	 "events[0].kind", "'explode' is not one of"},
	{BASE PEERS "events:\n  - at_ms: 1\n    kind: crash\n    label: x\n", EC_ERR_VALUE, 7,
	 "events[0].label", "unknown key for a 'crash' event"},
	{BASE PEERS "events:\n  - {kind: crash}\n", EC_ERR_VALUE, 5, "events[0].at_ms",
	 "required"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: leave, count: 5}\n", EC_ERR_VALUE, 5,
	 "events[0].count", "at most 4 can be online"},
	{BASE REGIONS "events:\n  - {at_ms: 1, kind: partition, regions: [eu, us]}\n",
	 EC_ERR_VALUE, 9, "events[0].regions", "cuts off every region"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: partition, fraction: 0.3, name: a}\n"
		    "  - {at_ms: 2, kind: heal, name: b}\n",
	 EC_ERR_VALUE, 6, "events[1].name", "no earlier partition is named 'b'"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: net_condition, from: all}\n", EC_ERR_VALUE,
	 5, "events[0].delay_ms", "sets at least one of"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: attacker_group, count: 2}\n", EC_ERR_VALUE,
	 5, "events[0].name", "required"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: return, group: ghosts}\n", EC_ERR_VALUE, 5,
	 "events[0].group", "no earlier join or attacker_group"},
	{BASE PEERS "events:\n  - {at_ms: 1, kind: attacker_group, name: a, count: 2, "
		    "target: 12ab}\n",
	 EC_ERR_VALUE, 5, "events[0].target", "64 hex digits"},
	/* 37: everything else */
	{BASE PEERS "seed: 0xzz\n", EC_ERR_VALUE, 4, "seed", "decimal u64 or 64 hex"},
	{BASE PEERS "tick_ms: 5\ntick_ms: 6\n", EC_ERR_VALUE, 5, "tick_ms", "duplicate key"},
	{BASE PEERS "block_interval_ms: 0\n", EC_ERR_VALUE, 4, "block_interval_ms", ""},
	{BASE PEERS "workload:\n  start_ms: 5000\n  stop_ms: 4000\n", EC_ERR_VALUE, 6,
	 "workload.stop_ms", "before start_ms"},
	{BASE PEERS "workload:\n  mix: {transfer: 1}\n", EC_ERR_VALUE, 5, "workload.mix",
	 "need tokens"},
	{BASE PEERS "---\nmeta: {name: u}\n", EC_ERR_VALUE, 5, "(top level)",
	 "second YAML document"},
	{"", EC_ERR_VALUE, 1, "(top level)", "empty"},
	{BASE "peers:\n  count: 4\n   degree: 3\n", EC_ERR_FORMAT, 5, NULL, "YAML syntax"},
};

static void test_malformed_table(void **state)
{
	assert_true(sizeof bad / sizeof bad[0] >= 20);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *path = tmpfile_with(bad[i].text);
		char err[EC_SCN_ERR_MAX], want[300];
		ec_scenario sc;
		int r = ec_scenario_load(&sc, path, err, sizeof err);
		if (bad[i].field)
			snprintf(want, sizeof want, "%s:%u: field '%s': ", path, bad[i].line,
				 bad[i].field);
		else
			snprintf(want, sizeof want, "%s:%u: ", path, bad[i].line);
		if (r != bad[i].rc || strncmp(err, want, strlen(want)) ||
		    !strstr(err, bad[i].what)) {
			print_error("case %zu: rc %d\n  got:  %s\n  want: %s...%s\n", i + 1, r,
				    err, want, bad[i].what);
			fail();
		}
		assert_null(sc.events);
		unlink(path);
	}
}

static void test_defaults(void **state)
{
	const char *text = BASE PEERS;
	ec_scenario sc;
	char err[EC_SCN_ERR_MAX];
	assert_int_equal(ec_scenario_parse(&sc, "d", text, strlen(text), err, sizeof err),
			 EC_OK);
	assert_string_equal(sc.name, "t");
	assert_string_equal(sc.description, "");
	assert_false(sc.seed_set);
	assert_int_equal(sc.duration_ms, 10000);
	assert_int_equal(sc.tick_ms, 50);
	assert_int_equal(sc.block_interval_ms, 50); /* = tick_ms when not given */
	assert_int_equal(sc.peers.identity_difficulty, 0);
	assert_int_equal(sc.peers.topology, EC_SCN_TOPO_RING);
	assert_int_equal(sc.peers.degree, 8);
	assert_int_equal(sc.peers.nregions, 1);
	assert_string_equal(sc.peers.regions[0].name, "all");
	assert_true(sc.peers.regions[0].fraction == 1.0);
	assert_int_equal(sc.links.def.delay_ms, 25);
	assert_int_equal(sc.links.def.jitter_ms, 0);
	assert_true(sc.links.def.loss == 0);
	assert_int_equal(sc.links.def.bandwidth_kbps, 0);
	assert_int_equal(sc.links.latency_ms[0][0], 25);
	assert_true(sc.workload.tx_rate == 1.0);
	assert_int_equal(sc.workload.total_txs, 0);
	assert_int_equal(sc.workload.tokens_min, 1);
	assert_int_equal(sc.workload.tokens_max, 3);
	assert_true(sc.workload.mix_create == 1.0);
	assert_int_equal(sc.workload.start_ms, 0);
	assert_int_equal(sc.workload.stop_ms, 10000);
	assert_false(sc.sync.enabled);
	assert_int_equal(sc.sync.strategies, 1u << EC_SCN_SYNC_CHAIN);
	assert_false(sc.swap.enabled);
	assert_int_equal(sc.swap.interval_ms, 60000);
	assert_int_equal(sc.swap.max_simultaneous, 1);
	assert_int_equal(sc.report.interval_ms, 1000);
	assert_string_equal(sc.report.dir, "out/t");
	assert_int_equal(sc.report.plots, 7);
	assert_true(sc.report.progress);
	assert_int_equal(sc.nevents, 0);
	assert_null(sc.events);
	ec_scenario_free(&sc);
}

/* Every kind of event and the latency matrix, read back exactly. */
static const char full[] =
	"meta:\n  name: full\n  description: \"all the \\\"parts\\\" & more\"\n"
	"seed: 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n"
	"duration_ms: 100_000\ntick_ms: 40\n"
	"peers:\n  count: 100\n  identity_difficulty: 3\n  topology: random\n  degree: 6\n"
	"  regions:\n    - {name: eu, fraction: 0.25}\n    - {name: us, fraction: 0.5}\n"
	"    - {name: asia, fraction: 0.25}\n"
	"links:\n  delay_ms: 5\n  jitter_ms: 1\n  loss: 0.01\n  bandwidth_kbps: 2000\n"
	"  latency_ms:\n    eu: {us: 40, asia: 120}\n    asia: {eu: 110}\n"
	"workload:\n  tx_rate: 2.5\n  total_txs: 1000\n  initial_tokens: 50\n"
	"  tokens_per_tx: {min: 2, max: 6}\n  mix: {create: 0.1, transfer: 0.7, destroy: 0.2}\n"
	"  double_sign: 0.3\n  start_ms: 100\n  stop_ms: 90000\n"
	"sync: {strategies: [polling], join_at_ms: 50000, joiners: 2, target_coverage: 0.99}\n"
	"swap: {enabled: true, interval_ms: 30000, jitter_ms: 500, max_simultaneous: 3}\n"
	"report: {interval_ms: 250, dir: /tmp/x y, plots: [], progress: false}\n"
	"events:\n"
	"  - {at_ms: 0, kind: join, count: 3, region: asia, group: late}\n"
	"  - {at_ms: 10, kind: leave, count: 2, region: eu}\n"
	"  - {at_ms: 10, kind: crash, count: 1, group: late}\n"
	"  - {at_ms: 20, kind: return, count: 1, group: late}\n"
	"  - {at_ms: 30, kind: partition, name: split, regions: [asia]}\n"
	"  - {at_ms: 31, kind: partition, fraction: 0.25}\n"
	"  - {at_ms: 40, kind: heal, name: split}\n"
	"  - {at_ms: 41, kind: heal}\n"
	"  - {at_ms: 50, kind: net_condition, loss: 0.2, bandwidth_kbps: 100, from: eu, to: us}\n"
	"  - {at_ms: 60, kind: attacker_group, name: evil, count: 5, target: random}\n"
	"  - {at_ms: 61, kind: attacker_group, name: evil2, count: 5, region: us,\n"
	"     target: ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100}\n"
	"  - {at_ms: 100000, kind: report, label: end}\n";

static void check_full(const ec_scenario *sc, int from_yaml)
{
	assert_string_equal(sc->name, "full");
	assert_string_equal(sc->description, "all the \"parts\" & more");
	assert_true(sc->seed_set);
	assert_int_equal(sc->seed[0], 0x00);
	assert_int_equal(sc->seed[31], 0xff);
	assert_int_equal(sc->duration_ms, 100000);
	assert_int_equal(sc->tick_ms, 40);
	assert_int_equal(sc->peers.topology, EC_SCN_TOPO_RANDOM);
	assert_int_equal(sc->peers.nregions, 3);
	/* matrix: given, mirrored, given both ways, default */
	assert_int_equal(sc->links.latency_ms[0][1], 40);
	assert_int_equal(sc->links.latency_ms[1][0], 40);
	assert_int_equal(sc->links.latency_ms[0][2], 120);
	assert_int_equal(sc->links.latency_ms[2][0], 110);
	assert_int_equal(sc->links.latency_ms[1][2], 5);
	assert_int_equal(sc->links.latency_ms[1][1], 5);
	assert_true(sc->workload.tx_rate == 2.5);
	assert_int_equal(sc->workload.tokens_min, 2);
	assert_int_equal(sc->workload.tokens_max, 6);
	assert_true(sc->workload.mix_destroy == 0.2);
	assert_int_equal(sc->sync.strategies, 1u << EC_SCN_SYNC_POLLING);
	assert_int_equal(sc->sync.joiners, 2);
	assert_true(sc->swap.enabled);
	assert_int_equal(sc->swap.max_simultaneous, 3);
	assert_string_equal(sc->report.dir, "/tmp/x y");
	assert_int_equal(sc->report.plots, 0);
	assert_int_equal(sc->nevents, 12);
	const ec_scn_event *e = sc->events;
	assert_int_equal(e[0].kind, EC_SCN_EV_JOIN);
	assert_int_equal(e[0].region, 2);
	assert_string_equal(e[0].group, "late");
	assert_int_equal(e[1].region, 0);
	assert_int_equal(e[2].kind, EC_SCN_EV_CRASH);
	assert_int_equal(e[4].regions_mask, 4);
	assert_string_equal(e[5].group, "p5"); /* unnamed partition */
	assert_true(e[5].fraction == 0.25);
	assert_string_equal(e[7].group, "");
	assert_int_equal(e[8].net_set, EC_SCN_NET_LOSS | EC_SCN_NET_BANDWIDTH);
	assert_int_equal(e[8].region, 0);
	assert_int_equal(e[8].region_to, 1);
	assert_false(e[9].target_set);
	assert_true(e[10].target_set);
	assert_int_equal(e[10].target[0], 0xff);
	if (from_yaml)
		assert_int_equal(e[10].line, 47);
	assert_string_equal(e[11].label, "end");
}

static void test_round_trip(void **state)
{
	ec_scenario a, b;
	char err[EC_SCN_ERR_MAX];
	int r = ec_scenario_parse(&a, "full", full, strlen(full), err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, EC_OK);
	check_full(&a, 1);
	char *j = ec_scenario_to_json(&a);
	assert_non_null(j);
	r = ec_scenario_parse(&b, "json", j, strlen(j), err, sizeof err);
	if (r)
		print_error("%s\n%s\n", err, j);
	assert_int_equal(r, EC_OK);
	check_full(&b, 0);
	/* all of it, not just what check_full looks at (lines differ) */
	assert_int_equal(a.nevents, b.nevents);
	for (size_t i = 0; i < a.nevents; i++)
		b.events[i].line = a.events[i].line;
	assert_memory_equal(a.events, b.events, a.nevents * sizeof *a.events);
	ec_scn_event *ea = a.events, *eb = b.events;
	a.events = b.events = NULL;
	assert_memory_equal(&a, &b, sizeof a);
	a.events = ea;
	b.events = eb;
	/* and the dump is stable */
	char *j2 = ec_scenario_to_json(&b);
	assert_string_equal(j, j2);
	free(j);
	free(j2);
	ec_scenario_free(&a);
	ec_scenario_free(&b);
}

/* The example in docs/SCENARIOS.md parses (the page cannot rot). */
static void test_doc_example(void **state)
{
	FILE *f = fopen("docs/SCENARIOS.md", "rb");
	assert_non_null(f);
	static char doc[1 << 17];
	size_t n = fread(doc, 1, sizeof doc - 1, f);
	fclose(f);
	doc[n] = 0;
	char *ex = strstr(doc, "\n## Example\n");
	assert_non_null(ex);
	char *start = strstr(ex, "```yaml\n");
	assert_non_null(start);
	start += 8;
	char *end = strstr(start, "```");
	assert_non_null(end);
	ec_scenario sc;
	char err[EC_SCN_ERR_MAX];
	int r = ec_scenario_parse(&sc, "SCENARIOS.md", start, (size_t)(end - start), err,
				  sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, EC_OK);
	assert_string_equal(sc.name, "example");
	assert_int_equal(sc.nevents, 7);
	ec_scenario_free(&sc);
}

static void test_seed_parse(void **state)
{
	uint8_t s[32];
	assert_int_equal(ec_scenario_seed_parse(s, "258"), EC_OK);
	assert_int_equal(s[31], 2);
	assert_int_equal(s[30], 1);
	assert_int_equal(s[0], 0);
	assert_int_equal(ec_scenario_seed_parse(s, "18446744073709551615"), EC_OK);
	assert_int_equal(s[24], 0xff);
	assert_int_equal(s[23], 0);
	assert_int_equal(ec_scenario_seed_parse(s, "18446744073709551616"), EC_ERR_VALUE);
	assert_int_equal(ec_scenario_seed_parse(s, "0x" "0102030405060708091011121314151617"
						   "18192021222324252627282930313233"),
			 EC_ERR_VALUE); /* 66 digits */
	assert_int_equal(ec_scenario_seed_parse(s, "0102030405060708091011121314151617"
						   "181920212223242526272829303132"),
			 EC_OK);
	assert_int_equal(s[0], 0x01);
	assert_int_equal(s[31], 0x32);
	assert_int_equal(ec_scenario_seed_parse(s, ""), EC_ERR_VALUE);
	assert_int_equal(ec_scenario_seed_parse(s, "-1"), EC_ERR_VALUE);
	assert_int_equal(ec_scenario_seed_parse(s, NULL), EC_ERR_VALUE);
}

static void test_load_missing_file(void **state)
{
	ec_scenario sc;
	char err[EC_SCN_ERR_MAX];
	assert_int_equal(ec_scenario_load(&sc, "/nonexistent/x.yaml", err, sizeof err),
			 EC_ERR_IO);
	assert_non_null(strstr(err, "/nonexistent/x.yaml: cannot open"));
	/* a tiny error buffer truncates but stays terminated */
	char small[8];
	const char *text = BASE "peers: {count: 0}\n";
	assert_int_equal(ec_scenario_parse(&sc, "f", text, strlen(text), small, sizeof small),
			 EC_ERR_VALUE);
	assert_int_equal(strlen(small), 7);
	assert_int_equal(ec_scenario_parse(&sc, "f", text, strlen(text), NULL, 0),
			 EC_ERR_VALUE);
	assert_string_equal(ec_scn_event_kind_name(EC_SCN_EV_NET_CONDITION), "net_condition");
	assert_null(ec_scn_event_kind_name(EC_SCN_EV_COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_scenarios_parse),
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_seed_parse),
		cmocka_unit_test(test_load_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
