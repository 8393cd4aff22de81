/* test_sim_swarm.c - the swarm generator (src/sim/ec_sim_swarm.h): every
 * generated scenario parses, a scenario is a function of its seed, 400
 * seeds cover every fault kind and the ranges the generator promises
 * (topologies, sparse degrees, regions, loss, jitter, bandwidth, 1..6
 * tokens per transaction, double-sign rates from 0 to 0.9), every fault
 * ends before the quiet tail; and a generated scenario run twice in one
 * process gives the same invariant results. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/ec_sim_swarm.h"

#define SEEDS 400

static void parse_ok(const char *text, ec_scenario *sc)
{
	char err[EC_SCN_ERR_MAX];
	int r = ec_scenario_parse(sc, "swarm.yaml", text, strlen(text), err, sizeof err);
	if (r)
		print_error("%s\n%s\n", err, text);
	assert_int_equal(r, EC_OK);
}

static void test_seed_derivation(void **state)
{
	(void)state;
	assert_true(ec_swarm_seed(1, 0) == ec_swarm_seed(1, 0));
	assert_true(ec_swarm_seed(1, 0) != ec_swarm_seed(1, 1));
	assert_true(ec_swarm_seed(1, 0) != ec_swarm_seed(2, 0));
	/* distinct over a campaign */
	uint64_t v[256];
	for (int i = 0; i < 256; i++) {
		v[i] = ec_swarm_seed(42, (uint64_t)i);
		for (int j = 0; j < i; j++)
			assert_true(v[i] != v[j]);
	}
}

/* The same seed gives the same text and parameters; its `seed:` is the
 * scenario seed, so the file replays it. */
static void test_function_of_seed(void **state)
{
	(void)state;
	ec_swarm_params p1, p2;
	char *a = ec_swarm_generate(77, &p1), *b = ec_swarm_generate(77, &p2),
	     *c = ec_swarm_generate(78, NULL);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_string_equal(a, b);
	assert_memory_equal(&p1, &p2, sizeof p1);
	assert_string_not_equal(a, c);
	ec_scenario sc;
	parse_ok(a, &sc);
	uint8_t want[EC_HASH_BYTES];
	assert_int_equal(ec_scenario_seed_parse(want, "77"), EC_OK);
	assert_true(sc.seed_set);
	assert_memory_equal(sc.seed, want, EC_HASH_BYTES);
	assert_int_equal(sc.duration_ms, p1.duration_ms);
	assert_int_equal(sc.peers.count, p1.peers);
	ec_scenario_free(&sc);
	free(a);
	free(b);
	free(c);
}

static void test_coverage(void **state)
{
	(void)state;
	uint32_t faults[EC_SWARM_FAULTS] = {0}, topo[3] = {0}, regions[4] = {0};
	uint32_t sparse = 0, loss = 0, jitter = 0, bw = 0, ds0 = 0, ds_hi = 0, tok6 = 0, tok1 = 0;
	uint32_t multi = 0, quiet = 0, none = 0;
	for (uint64_t i = 0; i < SEEDS; i++) {
		ec_swarm_params p;
		ec_scenario sc;
		uint64_t seed = ec_swarm_seed(5, i);
		char *t = ec_swarm_generate(seed, &p);
		assert_non_null(t);
		parse_ok(t, &sc);
		/* the parsed scenario is what the parameters say */
		assert_int_equal(sc.peers.count, p.peers);
		assert_int_equal((int)sc.peers.topology, p.topology);
		assert_int_equal(sc.peers.nregions, p.regions);
		assert_int_equal(sc.workload.tokens_min, p.tokens_min);
		assert_int_equal(sc.workload.tokens_max, p.tokens_max);
		assert_true(sc.workload.double_sign == p.double_sign);
		assert_true(sc.links.def.loss == p.loss);
		assert_true(p.peers >= 4 && p.peers <= 24);
		assert_true(p.tokens_min >= 1 && p.tokens_max <= 6);
		topo[p.topology]++;
		regions[p.regions]++;
		sparse += p.topology != EC_SCN_TOPO_FULL && p.degree <= 2;
		loss += p.loss > 0;
		jitter += p.jitter_ms > 0;
		bw += p.bandwidth_kbps > 0;
		ds0 += p.double_sign == 0;
		ds_hi += p.double_sign >= 0.9;
		tok6 += p.tokens_max == 6;
		tok1 += p.tokens_max == 1;
		multi += p.tokens_max >= 2;
		uint32_t nf = 0;
		for (int k = 0; k < EC_SWARM_FAULTS; k++) {
			faults[k] += p.faults[k] != 0;
			nf += p.faults[k];
		}
		none += nf == 0;
		/* every fault (partitions, link changes) is over, and the
		 * workload has stopped, a quiet tail before the end */
		uint64_t last = sc.workload.stop_ms;
		for (size_t e = 0; e < sc.nevents; e++)
			if (sc.events[e].at_ms > last)
				last = sc.events[e].at_ms;
		assert_int_equal(sc.duration_ms,
				 last + EC_SWARM_TAIL_MS + (sc.swap.enabled ? EC_SWARM_MEMPOOL_MS : 0));
		assert_int_equal(sc.swap.enabled, p.faults[EC_SWARM_SWAP]);
		quiet++;
		/* partitions are healed: each partition has its heal later */
		for (size_t e = 0; e < sc.nevents; e++) {
			if (sc.events[e].kind != EC_SCN_EV_PARTITION)
				continue;
			int healed = 0;
			for (size_t h = e + 1; h < sc.nevents; h++)
				healed |= sc.events[h].kind == EC_SCN_EV_HEAL &&
					  !strcmp(sc.events[h].group, sc.events[e].group);
			assert_true(healed);
		}
		ec_scenario_free(&sc);
		free(t);
	}
	print_message("topologies full/ring/random %u/%u/%u, regions 1/2/3 %u/%u/%u, degree<=2 %u, "
		      "loss %u, jitter %u, bandwidth %u, double-sign 0 %u / 0.9 %u, "
		      "6 tokens %u, 1 token %u, no fault %u\n",
		      topo[0 + EC_SCN_TOPO_FULL], topo[EC_SCN_TOPO_RING], topo[EC_SCN_TOPO_RANDOM],
		      regions[1], regions[2], regions[3], sparse, loss, jitter, bw, ds0, ds_hi, tok6,
		      tok1, none);
	for (int k = 0; k < EC_SWARM_FAULTS; k++) {
		print_message("fault kind %d: in %u of %d scenarios\n", k, faults[k], SEEDS);
		assert_true(faults[k] >= 10);
	}
	for (int k = 0; k < 3; k++)
		assert_true(topo[k] >= 40);
	assert_true(regions[1] >= 40 && regions[2] >= 40 && regions[3] >= 10);
	assert_true(sparse >= 20);
	assert_true(loss >= 40 && jitter >= 40 && bw >= 10);
	assert_true(ds0 >= 40 && ds_hi >= 20);
	assert_true(tok6 >= 40 && tok1 >= 10 && multi >= 200);
	assert_true(none >= 10);
	assert_int_equal(quiet, SEEDS);
}

/* A generated scenario run twice in one process: the same results (no
 * state leaks from one run into the next). */
static void test_run_twice(void **state)
{
	(void)state;
	/* campaign 19's first scenario: 5 peers, ring/6, a leave (cheap) */
	uint64_t seed = ec_swarm_seed(19, 0);
	char *t = ec_swarm_generate(seed, NULL), err[EC_SCN_ERR_MAX];
	ec_swarm_result a, b;
	assert_non_null(t);
	assert_int_equal(ec_swarm_run(t, "a.yaml", &a, err, sizeof err), EC_OK);
	assert_int_equal(ec_swarm_run(t, "b.yaml", &b, err, sizeof err), EC_OK);
	assert_true(a.submitted > 0);
	assert_int_equal(a.submitted, b.submitted);
	assert_int_equal(a.committed, b.committed);
	assert_int_equal(a.events, b.events);
	assert_int_equal(a.inv.commits, b.inv.commits);
	assert_true(a.inv.commits > 0);
	for (int k = 0; k < EC_CHK_KINDS; k++)
		assert_int_equal(a.inv.count[k], b.inv.count[k]);
	assert_memory_equal(&a.live, &b.live, sizeof a.live);
	/* a text that does not parse: an error with the file's name */
	assert_int_not_equal(ec_swarm_run("meta: {name: x}\n", "bad.yaml", &a, err, sizeof err),
			     EC_OK);
	assert_non_null(strstr(err, "bad.yaml"));
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_derivation),
		cmocka_unit_test(test_function_of_seed),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_run_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
