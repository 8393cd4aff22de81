/* test_swap.c - peer swapping at explicit times (swap.h): the composite
 * score (weights, components, latency normalisation, windows), ordering
 * and thresholds, the schedule (jitter bounds over many draws, the rollout
 * curve and its back-off, simultaneous limit, emergencies, rotation),
 * diversity of replacements and related peers, the swap state machine with
 * its min-size and pending-commit guards, failures and timeouts, every
 * safety mode, the manual override, peers leaving mid-swap, the pool,
 * determinism, bad inputs, and persistence through both store backends. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ec/swap.h"
#include "testutil.h"
#include "tu_store.h"

#define T0 1700000000000ull
#define MIN_MS 60000ull
#define HOUR_MS 3600000ull

static void rng(void *ctx, void *out, size_t len)
{
	tu_rand_bytes((uint64_t *)ctx, out, len);
}

static ec_id pid(uint64_t n)
{
	ec_id x;
	memset(&x, 0, sizeof x);
	for (int i = 0; i < 8; i++)
		x.b[i] = (uint8_t)(n >> (56 - 8 * i));
	x.b[31] = 1; /* never the zero id */
	return x;
}

static void cfg_init(ec_swap_cfg *c, uint64_t *seed)
{
	ec_swap_cfg_default(c);
	c->rng = rng;
	c->rng_ctx = seed;
}

/* Neighbours 1..n (operator "opK", region "rK", all distinct) and warm
 * backups 101..100+b (operator "bK", region "brK"). */
static void populate(ec_swap *sw, int n, int b, ec_time now)
{
	char op[16], rg[16];
	for (int i = 1; i <= n; i++) {
		ec_id p = pid((uint64_t)i);
		snprintf(op, sizeof op, "op%d", i);
		snprintf(rg, sizeof rg, "r%d", i);
		assert_int_equal(ec_swap_add_neighbour(sw, &p, rg, op, now), EC_OK);
	}
	for (int i = 1; i <= b; i++) {
		ec_id p = pid(100 + (uint64_t)i);
		snprintf(op, sizeof op, "b%d", i);
		snprintf(rg, sizeof rg, "br%d", i);
		assert_int_equal(ec_swap_pool_add(sw, &p, rg, op, now), EC_OK);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p, 0, now), EC_OK);
	}
}

/* 20 cross-checks that disagree: accuracy 0, reputation ~0: score ~0.50,
 * a candidate but no emergency. */
static void make_bad(ec_swap *sw, uint64_t n, ec_time now)
{
	ec_id p = pid(n);
	for (int i = 0; i < 20; i++)
		assert_int_equal(ec_swap_observe_check(sw, &p, 0, now), EC_OK);
}

static size_t drain(ec_swap *sw, ec_swap_action *a, size_t max)
{
	size_t k = 0;
	ec_swap_action x;
	while (ec_swap_poll(sw, &x)) {
		assert_true(k < max);
		a[k++] = x;
	}
	return k;
}

static void drain_none(ec_swap *sw)
{
	ec_swap_action x;
	assert_int_equal(ec_swap_poll(sw, &x), 0);
}

/* Drives op from CONNECT to DONE with every guard open; returns the time
 * at which the old peer was disconnected. */
static ec_time complete(ec_swap *sw, uint32_t op, ec_time now)
{
	ec_swap_action a[16];
	size_t k;
	assert_int_equal(ec_swap_connected(sw, op, 1, now), EC_OK);
	assert_int_equal(ec_swap_synced(sw, op, 1, now), EC_OK);
	for (int i = 0; i < 100; i++) {
		ec_time d = ec_swap_next_deadline(sw);
		assert_true(d != UINT64_MAX);
		if (d > now)
			now = d;
		assert_int_equal(ec_swap_tick(sw, now), EC_OK);
		if (ec_swap_list_ops(sw, NULL, 0) == 0)
			break;
		{
			ec_swap_op_info oi[EC_SWAP_MAX_OPS];
			size_t n = ec_swap_list_ops(sw, oi, EC_SWAP_MAX_OPS);
			int still = 0;
			for (size_t j = 0; j < n; j++)
				still |= oi[j].id == op;
			if (!still)
				break;
		}
	}
	k = drain(sw, a, 16);
	assert_true(k >= 1);
	assert_int_equal(a[k - 1].kind, EC_SWAP_ACT_DISCONNECT);
	return now;
}

static uint32_t first_op(ec_swap *sw, ec_swap_op_info *oi)
{
	ec_swap_op_info tmp;
	if (!oi)
		oi = &tmp;
	assert_true(ec_swap_list_ops(sw, oi, 1) >= 1);
	return oi->id;
}

/* ---- scoring ------------------------------------------------------------------ */

static void test_score_weights(void **state)
{
	ec_swap_cfg c;
	ec_peer_metrics m;
	double comp[EC_SWAP_COMPONENTS];
	uint64_t seed = 1;
	(void)state;
	cfg_init(&c, &seed);
	/* the design's weights */
	assert_true(ec_swap_weights[EC_SWAP_C_ACCURACY] == 0.30);
	assert_true(ec_swap_weights[EC_SWAP_C_AVAILABILITY] == 0.20);
	assert_true(ec_swap_weights[EC_SWAP_C_SYNC] == 0.20);
	assert_true(ec_swap_weights[EC_SWAP_C_REPUTATION] == 0.20);
	assert_true(ec_swap_weights[EC_SWAP_C_LATENCY] == 0.10);

	/* no evidence: every component neutral (1) but reputation */
	memset(&m, 0, sizeof m);
	m.reputation = 1;
	assert_true(fabs(ec_swap_score(&c, &m, comp) - 1.0) < 1e-12);
	for (int i = 0; i < EC_SWAP_COMPONENTS; i++)
		assert_true(comp[i] == 1.0);

	/* each component alone at 0 costs exactly its weight */
	for (int i = 0; i < EC_SWAP_COMPONENTS; i++) {
		memset(&m, 0, sizeof m);
		m.reputation = 1;
		switch (i) {
		case EC_SWAP_C_ACCURACY:
			m.n_checked = 10; /* none agreed */
			break;
		case EC_SWAP_C_AVAILABILITY:
			m.n_requests = 10; /* none answered */
			break;
		case EC_SWAP_C_SYNC:
			m.n_sync = 10; /* sum 0 */
			break;
		case EC_SWAP_C_REPUTATION:
			m.reputation = 0;
			break;
		case EC_SWAP_C_LATENCY:
			m.n_latency = 1;
			m.latency_ms = 1e300; /* component -> 0 */
			break;
		}
		assert_true(fabs(ec_swap_score(&c, &m, comp) - (1.0 - ec_swap_weights[i])) <
			    1e-9);
		assert_true(comp[i] < 1e-9);
	}

	/* mixed: accuracy 3/4, availability 1/2, sync 0.8, reputation 0.6,
	 * latency = ref -> 0.5 */
	memset(&m, 0, sizeof m);
	m.n_checked = 4;
	m.n_agreed = 3;
	m.n_requests = 10;
	m.n_responses = 5;
	m.n_sync = 5;
	m.sync_sum = 4;
	m.reputation = 0.6;
	m.n_latency = 3;
	m.latency_ms = 200;
	assert_true(fabs(ec_swap_score(&c, &m, comp) -
			 (0.3 * 0.75 + 0.2 * 0.5 + 0.2 * 0.8 + 0.2 * 0.6 + 0.1 * 0.5)) < 1e-12);
	assert_true(comp[EC_SWAP_C_LATENCY] == 0.5);
	/* equivocation zeroes the reputation component whatever the value */
	m.n_equivocations = 1;
	ec_swap_score(&c, &m, comp);
	assert_true(comp[EC_SWAP_C_REPUTATION] == 0);
	assert_int_equal(ec_swap_samples(&m), 4 + 10 + 5);
}

static void test_observations_latency_window(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_peer_metrics m;
	ec_id a = pid(1);
	double comp[EC_SWAP_COMPONENTS];
	uint64_t seed = 2;
	(void)state;
	cfg_init(&c, &seed);
	c.window = 8;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a, NULL, NULL, T0), EC_OK);
	/* latency: first sample taken as is, then EWMA 1/8 */
	assert_int_equal(ec_swap_observe_response(sw, &a, 1, 100, T0), EC_OK);
	assert_int_equal(ec_swap_observe_response(sw, &a, 1, 900, T0 + 1), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(m.latency_ms == 200); /* 100 + 800/8 */
	ec_swap_score(&c, &m, comp);
	assert_true(comp[EC_SWAP_C_LATENCY] == 0.5); /* ref 200 / (200 + 200) */
	assert_int_equal(m.updated, T0 + 1);
	/* a timeout counts a request, not a latency sample */
	assert_int_equal(ec_swap_observe_response(sw, &a, 0, NAN, T0 + 2), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_int_equal(m.n_requests, 3);
	assert_int_equal(m.n_responses, 2);
	assert_int_equal(m.n_latency, 2);
	/* window 8: the 9th request halves the pair (9,8) -> (4,4) */
	for (int i = 0; i < 6; i++)
		assert_int_equal(ec_swap_observe_response(sw, &a, 1, 200, T0 + 3), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_int_equal(m.n_requests, 4);
	assert_int_equal(m.n_responses, 4);
	/* sync samples: lag within grace = 1, else grace/lag; window keeps the mean */
	assert_int_equal(ec_swap_observe_sync(sw, &a, 500, 1000, T0), EC_OK);
	assert_int_equal(ec_swap_observe_sync(sw, &a, 4000, 1000, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_int_equal(m.n_sync, 2);
	assert_true(m.sync_sum == 1.25);
	assert_int_equal(ec_swap_observe_sync(sw, &a, 1000, 1000, T0), EC_OK); /* = grace */
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(m.sync_sum == 2.25);
	for (int i = 0; i < 6; i++)
		assert_int_equal(ec_swap_observe_sync(sw, &a, 4000, 1000, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_int_equal(m.n_sync, 4); /* 9 -> 4 */
	assert_true(fabs(m.sync_sum / 4 - (2.25 + 6 * 0.25) / 9) < 1e-12);
	/* reputation: +gain toward 1 per agreeing check, x(1-loss) per
	 * disagreeing one, halved by a penalty, 0 by equivocation */
	assert_int_equal(ec_swap_observe_check(sw, &a, 1, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(fabs(m.reputation - (0.5 + 0.5 * 0.02)) < 1e-12);
	assert_int_equal(ec_swap_observe_check(sw, &a, 0, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(fabs(m.reputation - 0.51 * 0.8) < 1e-12);
	assert_int_equal(ec_swap_observe_penalty(sw, &a, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(fabs(m.reputation - 0.51 * 0.8 * 0.5) < 1e-12);
	assert_int_equal(m.n_penalties, 1);
	assert_int_equal(ec_swap_observe_equivocation(sw, &a, T0), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	assert_true(m.reputation == 0);
	assert_int_equal(m.n_equivocations, 1);
	ec_swap_free(sw);
}

static void test_ordering_and_thresholds(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_row rows[8];
	uint64_t seed = 3;
	ec_id A = pid(1), B = pid(2), C = pid(3), D = pid(4), E = pid(5);
	(void)state;
	cfg_init(&c, &seed);
	c.rep_initial = 1;
	c.rep_gain = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 5, 0, T0);
	/* A: 20 instant answers -> 1.0 */
	for (int i = 0; i < 20; i++)
		ec_swap_observe_response(sw, &A, 1, 0, T0);
	/* B: half its requests time out -> 0.9 */
	for (int i = 0; i < 20; i++)
		ec_swap_observe_response(sw, &B, i & 1, 0, T0);
	/* C: 20 disagreeing checks -> ~0.502: candidate, no emergency */
	make_bad(sw, 3, T0);
	/* D: 5 disagreeing checks -> ~0.566 but only 5 samples: no candidate */
	for (int i = 0; i < 5; i++)
		ec_swap_observe_check(sw, &D, 0, T0);
	/* E: equivocation, no other evidence -> 0.8, emergency regardless */
	ec_swap_observe_equivocation(sw, &E, T0);
	assert_int_equal(ec_swap_list(sw, rows, 8), 5);
	assert_true(ec_id_eq(&rows[0].peer, &C));
	assert_true(ec_id_eq(&rows[1].peer, &D));
	assert_true(ec_id_eq(&rows[2].peer, &E));
	assert_true(ec_id_eq(&rows[3].peer, &B));
	assert_true(ec_id_eq(&rows[4].peer, &A));
	assert_true(fabs(rows[0].score - (0.2 + 0.2 + 0.1 + 0.2 * pow(0.8, 20))) < 1e-12);
	assert_true(fabs(rows[1].score - (0.2 + 0.2 + 0.1 + 0.2 * pow(0.8, 5))) < 1e-12);
	assert_true(fabs(rows[2].score - 0.8) < 1e-12);
	assert_true(fabs(rows[3].score - 0.9) < 1e-12);
	assert_true(fabs(rows[4].score - 1.0) < 1e-12);
	assert_int_equal(rows[0].candidate, 1);
	assert_int_equal(rows[0].emergency, 0);
	assert_int_equal(rows[1].candidate, 0); /* too few samples */
	assert_int_equal(rows[2].candidate, 1);
	assert_int_equal(rows[2].emergency, 1);
	assert_int_equal(rows[3].candidate, 0);
	assert_int_equal(rows[4].candidate, 0);
	/* raising the threshold above 0.9 makes B a candidate too */
	ec_swap_free(sw);
	seed = 3;
	c.candidate_threshold = 0.95;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 2, 0, T0);
	for (int i = 0; i < 20; i++)
		ec_swap_observe_response(sw, &B, i & 1, 0, T0);
	assert_int_equal(ec_swap_list(sw, rows, 8), 2);
	assert_true(ec_id_eq(&rows[0].peer, &B));
	assert_int_equal(rows[0].candidate, 1);
	assert_int_equal(rows[1].candidate, 0); /* A: no samples, 1.0 */
	/* emergency threshold: 20 timeouts and 20 disagreements -> 0.3 - tiny */
	ec_swap_free(sw);
	seed = 3;
	cfg_init(&c, &seed);
	c.rep_initial = 1;
	c.rep_gain = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 1, 0, T0);
	for (int i = 0; i < 20; i++) {
		ec_swap_observe_response(sw, &A, 0, 0, T0);
		ec_swap_observe_check(sw, &A, 0, T0);
	}
	assert_int_equal(ec_swap_observe_sync(sw, &A, 1000000, 1, T0), EC_OK);
	assert_int_equal(ec_swap_list(sw, rows, 8), 1);
	assert_true(rows[0].score < 0.3);
	assert_int_equal(rows[0].emergency, 1);
	/* the same low score on 7 observations: neither emergency nor candidate */
	assert_int_equal(ec_swap_add_neighbour(sw, &B, NULL, NULL, T0), EC_OK);
	for (int i = 0; i < 3; i++) {
		ec_swap_observe_response(sw, &B, 0, 0, T0);
		ec_swap_observe_check(sw, &B, 0, T0);
	}
	assert_int_equal(ec_swap_observe_sync(sw, &B, 1000000, 1, T0), EC_OK);
	assert_int_equal(ec_swap_list(sw, rows, 8), 2);
	assert_true(ec_id_eq(&rows[1].peer, &B));
	assert_true(rows[1].score < 0.3);
	assert_int_equal(rows[1].samples, 7);
	assert_int_equal(rows[1].emergency, 0);
	assert_int_equal(rows[1].candidate, 0);
	ec_swap_free(sw);
}

/* ---- schedule ---------------------------------------------------------------- */

static void test_jitter_bounds(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	uint64_t seed = 4, lo = UINT64_MAX, hi = 0;
	double sum = 0;
	const uint64_t I = 30 * MIN_MS;
	const int N = 4000;
	ec_time now = T0;
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = I;
	assert_int_equal(ec_swap_new(&sw, &c, now), EC_OK);
	for (int i = 0; i < N; i++) {
		uint64_t w;
		ec_swap_get_status(sw, &st);
		w = st.next_round - now;
		assert_true(w >= I / 2);       /* interval x (1 - 0.5) */
		assert_true(w < I + I / 2);    /* interval x (1 + 0.5), exclusive */
		lo = w < lo ? w : lo;
		hi = w > hi ? w : hi;
		sum += (double)w;
		now = st.next_round;
		assert_int_equal(ec_swap_next_deadline(sw), now);
		assert_int_equal(ec_swap_tick(sw, now), EC_OK);
	}
	/* the draws cover the range and centre on the interval */
	assert_true(lo < I / 2 + I / 50);
	assert_true(hi > I + I / 2 - I / 50);
	assert_true(fabs(sum / N - (double)I) < 0.02 * (double)I);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.rounds, N);
	ec_swap_free(sw);

	/* jitter 0: exactly the interval */
	seed = 4;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.next_round, T0 + I);
	assert_int_equal(ec_swap_tick(sw, T0 + I), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.next_round, T0 + 2 * I);
	/* a tick before the round does not run it */
	assert_int_equal(ec_swap_tick(sw, T0 + 2 * I - 1), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.rounds, 1);
	ec_swap_free(sw);
}

static void test_rollout_curve(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	uint64_t seed = 5;
	ec_time now = T0;
	double expect = 6.0 * HOUR_MS;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 2;
	c.cooldown_ms = 1; /* swapped-out peers may come back as backups */
	assert_int_equal(ec_swap_new(&sw, &c, now), EC_OK);
	populate(sw, 4, 40, now);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.interval_ms, 6 * HOUR_MS);
	/* the first round comes within 6 h +- 50 % */
	assert_true(st.next_round >= now + 3 * HOUR_MS && st.next_round < now + 9 * HOUR_MS);
	for (int k = 1; k <= 30; k++) {
		uint32_t op;
		assert_int_equal(ec_swap_force(sw, NULL, NULL, now, &op), EC_OK);
		now = complete(sw, op, now);
		expect *= 0.9;
		if (expect < 30.0 * MIN_MS)
			expect = 30.0 * MIN_MS;
		ec_swap_get_status(sw, &st);
		assert_true(fabs((double)st.interval_ms - expect) <= 1.0);
		if (k == 23)
			assert_true(st.interval_ms > 30 * MIN_MS); /* 6 h x 0.9^23 */
		if (k == 24)
			assert_int_equal(st.interval_ms, 30 * MIN_MS); /* clamped */
	}
	assert_int_equal(st.done, 30);
	/* a failed swap takes one step back: 30 min / 0.9 */
	{
		uint32_t op;
		assert_int_equal(ec_swap_force(sw, NULL, NULL, now, &op), EC_OK);
		assert_int_equal(ec_swap_connected(sw, op, 0, now), EC_OK);
		ec_swap_get_status(sw, &st);
		assert_int_equal(st.interval_ms, (uint64_t)(30.0 * MIN_MS / 0.9));
		assert_int_equal(st.aborted, 1);
	}
	ec_swap_free(sw);

	/* adaptation 0: the interval never leaves the conservative start */
	seed = 5;
	c.adaptation = 0;
	now = T0;
	assert_int_equal(ec_swap_new(&sw, &c, now), EC_OK);
	populate(sw, 4, 3, now);
	{
		uint32_t op;
		assert_int_equal(ec_swap_force(sw, NULL, NULL, now, &op), EC_OK);
		now = complete(sw, op, now);
	}
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.interval_ms, 6 * HOUR_MS);
	ec_swap_free(sw);
}

static void test_simultaneous_limit(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	ec_swap_op_info oi[EC_SWAP_MAX_OPS];
	ec_swap_action a[32];
	uint64_t seed = 6;
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 12, 10, T0);
	for (uint64_t i = 1; i <= 6; i++)
		make_bad(sw, i, T0);
	assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, oi, EC_SWAP_MAX_OPS), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(oi[i].reason, EC_SWAP_R_CANDIDATE);
		assert_int_equal(oi[i].phase, EC_SWAP_PH_CONNECT);
	}
	assert_int_equal(drain(sw, a, 32), 3); /* three CONNECTs */
	for (int i = 0; i < 3; i++)
		assert_int_equal(a[i].kind, EC_SWAP_ACT_CONNECT);
	/* the next round finds no free slot */
	for (int i = 0; i < 3; i++) /* keep the ops alive past their timeout */
		assert_int_equal(ec_swap_connected(sw, oi[i].id, 1, T0 + 60 * MIN_MS - 1), EC_OK);
	assert_int_equal(ec_swap_tick(sw, T0 + 60 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 3);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.rounds, 2);
	assert_int_equal(st.started, 3);
	assert_int_equal(st.inflight, 3);
	/* force too is refused at the limit */
	assert_int_equal(ec_swap_force(sw, NULL, NULL, T0 + 60 * MIN_MS, NULL), EC_ERR_BUSY);
	ec_swap_free(sw);
}

static void test_emergency(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_op_info oi;
	ec_swap_action a[8];
	ec_swap_status st;
	uint64_t seed = 7;
	ec_id bad = pid(3), cold = pid(101);
	(void)state;
	cfg_init(&c, &seed);
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 0, T0);
	assert_int_equal(ec_swap_pool_add(sw, &cold, "x", "y", T0), EC_OK); /* cold */
	assert_int_equal(ec_swap_tick(sw, T0), EC_OK);
	assert_true(ec_swap_next_deadline(sw) > T0 + HOUR_MS); /* nothing due */
	/* ordinary observations, even bad ones short of an emergency, cost no tick */
	for (int i = 0; i < 20; i++)
		assert_int_equal(ec_swap_observe_check(sw, &bad, 0, T0 + 1), EC_OK);
	assert_true(ec_swap_next_deadline(sw) > T0 + HOUR_MS);
	/* equivocation evidence: due at once, long before the next round */
	assert_int_equal(ec_swap_observe_equivocation(sw, &bad, T0 + 5), EC_OK);
	assert_int_equal(ec_swap_next_deadline(sw), 0);
	assert_int_equal(ec_swap_tick(sw, T0 + 5), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_int_equal(oi.reason, EC_SWAP_R_EMERGENCY);
	assert_true(ec_id_eq(&oi.out, &bad));
	assert_true(ec_id_eq(&oi.in, &cold)); /* a cold backup is used in an emergency */
	assert_int_equal(drain(sw, a, 8), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_CONNECT);
	assert_true(ec_id_eq(&a[0].peer, &cold));
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.emergencies, 1);
	assert_int_equal(st.rounds, 0);
	complete(sw, oi.id, T0 + 5);
	assert_int_equal(ec_swap_role(sw, &bad), EC_SWAP_RETIRED);
	assert_int_equal(ec_swap_role(sw, &cold), EC_SWAP_NEIGHBOUR);
	ec_swap_free(sw);

	/* an equivocating backup is never a replacement */
	seed = 7;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 1, T0);
	{
		ec_id liar = pid(101);
		assert_int_equal(ec_swap_observe_equivocation(sw, &liar, T0), EC_OK);
		assert_int_equal(ec_swap_force(sw, &bad, NULL, T0, NULL), EC_ERR_NOTFOUND);
		ec_id honest = pid(150);
		assert_int_equal(ec_swap_pool_add(sw, &honest, NULL, NULL, T0), EC_OK);
		assert_int_equal(ec_swap_force(sw, &bad, NULL, T0, NULL), EC_OK);
	}
	ec_swap_free(sw);

	/* an emergency with no backup at all waits and is counted; a backup
	 * arriving starts it */
	seed = 7;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 0, T0);
	assert_int_equal(ec_swap_observe_equivocation(sw, &bad, T0), EC_OK);
	assert_int_equal(ec_swap_tick(sw, T0), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.no_replacement, 1);
	assert_true(ec_swap_next_deadline(sw) > T0); /* no busy loop */
	assert_int_equal(ec_swap_pool_add(sw, &cold, NULL, NULL, T0 + 1), EC_OK);
	assert_int_equal(ec_swap_next_deadline(sw), 0);
	assert_int_equal(ec_swap_tick(sw, T0 + 1), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
	ec_swap_free(sw);
}

static void test_rotation(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_op_info oi;
	int seen[11] = {0}, distinct = 0;
	(void)state;
	/* all neighbours behave: each round still swaps one, picked at random */
	for (uint64_t s = 0; s < 40; s++) {
		uint64_t seed = 1000 + s;
		cfg_init(&c, &seed);
		c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
		c.jitter = 0;
		assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
		populate(sw, 10, 2, T0);
		assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
		assert_int_equal(oi.reason, EC_SWAP_R_ROTATION);
		{
			uint64_t n = 0;
			for (int i = 0; i < 8; i++)
				n = (n << 8) | oi.out.b[i];
			assert_true(n >= 1 && n <= 10);
			seen[n]++;
		}
		ec_swap_free(sw);
	}
	for (int i = 1; i <= 10; i++)
		distinct += seen[i] > 0;
	assert_true(distinct >= 6); /* not always the same neighbour */

	/* rotate = 0: performance-only swapping, a good neighbourhood stays */
	{
		uint64_t seed = 9;
		ec_swap_status st;
		cfg_init(&c, &seed);
		c.rotate = 0;
		c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
		c.jitter = 0;
		assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
		populate(sw, 10, 2, T0);
		assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
		ec_swap_get_status(sw, &st);
		assert_int_equal(st.rounds, 1);
		ec_swap_free(sw);
	}
}

/* ---- diversity ------------------------------------------------------------- */

static void test_diversity(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_op_info oi;
	uint64_t seed = 10;
	ec_id n1 = pid(1), n2 = pid(2), n3 = pid(3), n4 = pid(4);
	ec_id same_op = pid(101), same_region = pid(102), fresh = pid(103),
	      fresh_cold = pid(104), fresh2 = pid(105);
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 1;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &n1, "eu", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &n2, "eu", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &n3, "us", "globex", T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &n4, "asia", "initech", T0), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &same_op, "sa", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &same_region, "eu", "umbrella", T0), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &fresh, "sa", "hooli", T0), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &fresh_cold, "af", "wonka", T0), EC_OK);
	for (uint64_t i = 101; i <= 103; i++) {
		ec_id p = pid(i);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p, 2, T0), EC_OK);
	}
	/* swapping out n3 (us/globex): acme already twice, eu twice: the new
	 * operator in a new region wins; the colder, even more diverse one is
	 * not warm */
	assert_int_equal(ec_swap_force(sw, &n3, NULL, T0, NULL), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_true(ec_id_eq(&oi.in, &fresh));
	assert_int_equal(ec_swap_connected(sw, oi.id, 0, T0), EC_OK); /* abort */
	/* without `fresh`: the operator counts first: umbrella (new operator,
	 * crowded region) beats acme (crowded operator, new region) */
	assert_int_equal(ec_swap_role(sw, &fresh), EC_SWAP_RETIRED);
	assert_int_equal(ec_swap_force(sw, &n3, NULL, T0, NULL), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_true(ec_id_eq(&oi.in, &fresh_cold) == 0);
	assert_true(ec_id_eq(&oi.in, &same_region));
	assert_int_equal(ec_swap_connected(sw, oi.id, 0, T0), EC_OK);
	/* equal diversity: smaller lag first */
	assert_int_equal(ec_swap_pool_add(sw, &fresh2, "oc", "vandelay", T0), EC_OK);
	assert_int_equal(ec_swap_pool_set_lag(sw, &fresh2, 0, T0), EC_OK);
	assert_int_equal(ec_swap_pool_set_lag(sw, &fresh_cold, 3, T0), EC_OK); /* warm now */
	assert_int_equal(ec_swap_force(sw, &n3, NULL, T0, NULL), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_true(ec_id_eq(&oi.in, &fresh2)); /* lag 0 < 3, same score */
	assert_int_equal(ec_swap_connected(sw, oi.id, 0, T0), EC_OK);
	/* equal diversity and lag: the higher score, even against a smaller id */
	{
		ec_id fresh3 = pid(106);
		assert_int_equal(ec_swap_pool_add(sw, &fresh3, "an", "gamma", T0), EC_OK);
		assert_int_equal(ec_swap_pool_set_lag(sw, &fresh3, 3, T0), EC_OK);
		assert_int_equal(ec_swap_force(sw, &n3, NULL, T0, NULL), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
		assert_true(ec_id_eq(&oi.in, &fresh_cold)); /* tie: smaller id */
		assert_int_equal(ec_swap_remove_peer(sw, &n3, T0), EC_OK); /* back to pool */
		assert_int_equal(ec_swap_role(sw, &fresh_cold), EC_SWAP_BACKUP);
		assert_int_equal(ec_swap_observe_check(sw, &fresh_cold, 0, T0), EC_OK);
		assert_int_equal(ec_swap_force(sw, &n4, NULL, T0, NULL), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
		assert_true(ec_id_eq(&oi.in, &fresh3));
	}
	ec_swap_free(sw);
}

static void test_related_never_together(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_op_info oi[EC_SWAP_MAX_OPS];
	uint64_t seed = 11;
	size_t n;
	ec_id a1 = pid(1), a2 = pid(2), b1 = pid(3);
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a1, "eu", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a2, "us", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &b1, "eu", "globex", T0), EC_OK);
	for (int i = 4; i <= 10; i++) {
		ec_id p = pid((uint64_t)i);
		assert_int_equal(ec_swap_add_neighbour(sw, &p, NULL, NULL, T0), EC_OK);
	}
	for (int i = 101; i <= 105; i++) {
		ec_id p = pid((uint64_t)i);
		assert_int_equal(ec_swap_pool_add(sw, &p, NULL, NULL, T0), EC_OK);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p, 0, T0), EC_OK);
	}
	make_bad(sw, 1, T0);
	make_bad(sw, 2, T0);
	make_bad(sw, 3, T0);
	assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
	n = ec_swap_list_ops(sw, oi, EC_SWAP_MAX_OPS);
	assert_int_equal(n, 2); /* a1 or a2 (not both) and b1 */
	{
		int acme = 0, globex = 0;
		for (size_t i = 0; i < n; i++) {
			acme += ec_id_eq(&oi[i].out, &a1) || ec_id_eq(&oi[i].out, &a2);
			globex += ec_id_eq(&oi[i].out, &b1);
		}
		assert_int_equal(acme, 1);
		assert_int_equal(globex, 1);
	}
	/* forcing the other acme peer now is refused */
	{
		int a1_busy = ec_id_eq(&oi[0].out, &a1) || ec_id_eq(&oi[1].out, &a1);
		assert_int_equal(ec_swap_force(sw, a1_busy ? &a2 : &a1, NULL, T0 + 30 * MIN_MS,
					       NULL),
				 EC_ERR_BUSY);
	}
	/* untagged peers are never related to each other */
	{
		ec_id p4 = pid(4);
		assert_int_equal(ec_swap_force(sw, &p4, NULL, T0 + 30 * MIN_MS, NULL), EC_OK);
	}
	ec_swap_free(sw);
}

/* ---- execution ------------------------------------------------------------- */

static void test_state_machine(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a[16];
	ec_swap_op_info oi;
	ec_swap_status st;
	uint64_t seed = 12;
	ec_id out = pid(2), in = pid(101);
	uint32_t op;
	ec_time t = T0 + 10;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 4;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 4, 1, T0);
	assert_int_equal(ec_swap_force(sw, &out, &in, t, &op), EC_OK);
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	/* 1. connect */
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_CONNECT);
	assert_int_equal(a[0].op, op);
	assert_true(ec_id_eq(&a[0].peer, &in));
	assert_int_equal(ec_swap_role(sw, &in), EC_SWAP_JOINING);
	assert_int_equal(ec_swap_next_deadline(sw), t + c.phase_timeout_ms);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.active, 4); /* the newcomer does not count yet */
	/* 2. sync */
	assert_int_equal(ec_swap_connected(sw, op, 1, t + 100), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_SYNC);
	assert_true(ec_id_eq(&a[0].peer, &in));
	assert_int_equal(ec_swap_connected(sw, op, 1, t + 100), EC_ERR_VALUE); /* dup */
	/* 3. load shifted in 4 steps, 30 s apart */
	assert_int_equal(ec_swap_synced(sw, op, 1, t + 1000), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_LOAD);
	assert_true(ec_id_eq(&a[0].peer, &in));
	assert_true(ec_id_eq(&a[0].peer2, &out));
	assert_true(a[0].weight == 0.25);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.active, 5);
	assert_int_equal(ec_swap_next_deadline(sw), t + 1000 + 30000);
	assert_int_equal(ec_swap_tick(sw, t + 1000 + 29999), EC_OK);
	drain_none(sw);
	assert_int_equal(ec_swap_tick(sw, t + 1000 + 30000), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_true(a[0].weight == 0.5);
	/* a late tick catches up every step due, in order */
	assert_int_equal(ec_swap_tick(sw, t + 1000 + 90000), EC_OK);
	assert_int_equal(drain(sw, a, 16), 2);
	assert_true(a[0].weight == 0.75);
	assert_true(a[1].weight == 1.0);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_int_equal(oi.phase, EC_SWAP_PH_SHIFT);
	assert_int_equal(oi.step, 4);
	/* 4. disconnect one step after full load, 5. records */
	assert_int_equal(ec_swap_tick(sw, t + 1000 + 120000), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	assert_true(ec_id_eq(&a[0].peer, &out));
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	assert_int_equal(ec_swap_role(sw, &out), EC_SWAP_RETIRED);
	assert_int_equal(ec_swap_role(sw, &in), EC_SWAP_NEIGHBOUR);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.neighbours, 4);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.forced, 1);
	/* reports for a finished op */
	assert_int_equal(ec_swap_synced(sw, op, 1, t), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_connected(sw, 9999, 1, t), EC_ERR_NOTFOUND);
	/* the swapped-out peer is refused by the pool during its cooldown */
	assert_int_equal(ec_swap_pool_add(sw, &out, NULL, NULL, t + 1000 + 120000),
			 EC_ERR_REFUSED);
	assert_int_equal(ec_swap_pool_add(sw, &out, NULL, NULL,
					  t + 1000 + 120000 + c.cooldown_ms),
			 EC_OK);
	ec_swap_free(sw);
}

static void test_min_size_guard(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a[16];
	ec_swap_status st;
	uint64_t seed = 13;
	ec_id out = pid(1), in = pid(101), gone = pid(2), extra = pid(50);
	uint32_t op;
	ec_time t = T0;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 4;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 4, 1, T0);
	assert_int_equal(ec_swap_force(sw, &out, &in, t, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, t), EC_OK);
	assert_int_equal(ec_swap_synced(sw, op, 1, t), EC_OK);
	/* another neighbour leaves mid-swap: 3 + newcomer = 4 active, a
	 * disconnect would leave 3 < 4 */
	assert_int_equal(ec_swap_remove_peer(sw, &gone, t), EC_OK);
	t += 4 * 30000;
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	drain(sw, a, 16);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ec_swap_next_deadline(sw) <= t + 30000, 1);
		t += 30000;
		assert_int_equal(ec_swap_tick(sw, t), EC_OK);
		assert_int_equal(drain(sw, a, 16), 0); /* no DISCONNECT */
		ec_swap_get_status(sw, &st);
		assert_true(st.active >= c.min_neighbours);
	}
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.waits_min_size, 6);
	assert_int_equal(st.active, 4);
	assert_int_equal(ec_swap_role(sw, &out), EC_SWAP_NEIGHBOUR);
	/* a new neighbour arrives: the disconnect goes through */
	assert_int_equal(ec_swap_add_neighbour(sw, &extra, NULL, NULL, t), EC_OK);
	t += 30000;
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.done, 1);
	ec_swap_free(sw);
}

static int g_pending;
static ec_id g_pending_peer;
static ec_time g_pending_since;
static int pending_fn(void *ctx, const ec_id *peer, ec_time since)
{
	(void)ctx;
	g_pending_peer = *peer;
	g_pending_since = since;
	return g_pending;
}

static void test_pending_commit_guard(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a[16];
	ec_swap_status st;
	uint64_t seed = 14;
	ec_id out = pid(3), in = pid(101);
	uint32_t op;
	ec_time t = T0;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 2;
	c.pending_commit = pending_fn;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 4, 1, T0);
	g_pending = 1;
	assert_int_equal(ec_swap_force(sw, &out, &in, t, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, t), EC_OK);
	assert_int_equal(ec_swap_synced(sw, op, 1, t), EC_OK);
	drain(sw, a, 16);
	for (int i = 1; i <= 10; i++) {
		t += 30000;
		assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	}
	/* steps 2..4 happened, the disconnect never did */
	assert_int_equal(drain(sw, a, 16), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(a[i].kind, EC_SWAP_ACT_LOAD);
	assert_true(ec_id_eq(&g_pending_peer, &out));
	/* the guard asks about commits pending when the disconnect step began
	 * (after 4 load steps of 30 s), not about ones begun since: a fixed
	 * instant, however long the wait */
	assert_int_equal(g_pending_since, T0 + 4 * 30000);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.waits_pending, 7);
	assert_int_equal(ec_swap_role(sw, &out), EC_SWAP_NEIGHBOUR);
	/* the commit completes: disconnected at the next check */
	g_pending = 0;
	t += 30000;
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	assert_true(ec_id_eq(&a[0].peer, &out));
	ec_swap_free(sw);
}

static void test_failures_and_timeouts(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a[16];
	ec_swap_status st;
	ec_peer_metrics m;
	uint64_t seed = 15;
	ec_id out = pid(1), in1 = pid(101), in2 = pid(102), in3 = pid(103);
	uint32_t op;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 2;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 4, 3, T0);
	/* connect fails: no DISCONNECT (never connected), newcomer retired */
	assert_int_equal(ec_swap_force(sw, &out, &in1, T0, &op), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_connected(sw, op, 0, T0 + 1), EC_OK);
	drain_none(sw);
	assert_int_equal(ec_swap_role(sw, &out), EC_SWAP_NEIGHBOUR);
	assert_int_equal(ec_swap_role(sw, &in1), EC_SWAP_RETIRED);
	assert_int_equal(ec_swap_get_metrics(sw, &in1, &m), EC_OK);
	assert_int_equal(m.n_requests, 1);
	assert_int_equal(m.n_responses, 0);
	/* sync fails: the connected newcomer is disconnected */
	assert_int_equal(ec_swap_force(sw, &out, &in2, T0 + 2, &op), EC_OK);
	assert_int_equal(ec_swap_synced(sw, op, 1, T0 + 2), EC_ERR_VALUE); /* not yet */
	assert_int_equal(ec_swap_connected(sw, op, 1, T0 + 3), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_synced(sw, op, 0, T0 + 4), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	assert_true(ec_id_eq(&a[0].peer, &in2));
	/* sync never reported: aborted at the phase timeout */
	assert_int_equal(ec_swap_force(sw, &out, &in3, T0 + 10, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, T0 + 20), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_tick(sw, T0 + 20), EC_OK);
	assert_int_equal(ec_swap_next_deadline(sw), T0 + 20 + c.phase_timeout_ms);
	assert_int_equal(ec_swap_tick(sw, T0 + 20 + c.phase_timeout_ms - 1), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
	assert_int_equal(ec_swap_tick(sw, T0 + 20 + c.phase_timeout_ms), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	assert_true(ec_id_eq(&a[0].peer, &in3));
	assert_int_equal(ec_swap_synced(sw, op, 1, T0 + 30), EC_ERR_NOTFOUND); /* late */
	/* a tick with an earlier time (a caller's clock stepping back) is no
	 * timeout */
	{
		ec_id o4 = pid(2), in4 = pid(150);
		assert_int_equal(ec_swap_pool_add(sw, &in4, NULL, NULL, T0 + 1000), EC_OK);
		assert_int_equal(ec_swap_force(sw, &o4, &in4, T0 + 1000, &op), EC_OK);
		assert_int_equal(ec_swap_tick(sw, T0 + 500), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
		assert_int_equal(ec_swap_connected(sw, op, 0, T0 + 1000), EC_OK);
		drain(sw, a, 16);
	}
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.aborted, 4);
	assert_int_equal(st.done, 0);
	assert_int_equal(st.neighbours, 4);
	/* pool empty now: force has no replacement */
	assert_int_equal(ec_swap_force(sw, &out, NULL, T0 + 40, NULL), EC_ERR_NOTFOUND);
	ec_swap_free(sw);
}

static void test_peer_leaves_mid_swap(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a[16];
	ec_swap_status st;
	uint64_t seed = 16;
	ec_id o1 = pid(1), o2 = pid(2), o3 = pid(3);
	ec_id i1 = pid(101), i2 = pid(102), i3 = pid(103);
	uint32_t op;
	(void)state;
	cfg_init(&c, &seed);
	c.min_neighbours = 2;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 6, 3, T0);
	/* old peer leaves after its newcomer synced: the newcomer takes over */
	assert_int_equal(ec_swap_force(sw, &o1, &i1, T0, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, T0), EC_OK);
	assert_int_equal(ec_swap_synced(sw, op, 1, T0), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_remove_peer(sw, &o1, T0 + 1), EC_OK);
	drain_none(sw);
	assert_int_equal(ec_swap_role(sw, &o1), EC_SWAP_NONE);
	assert_int_equal(ec_swap_role(sw, &i1), EC_SWAP_NEIGHBOUR);
	/* old peer leaves before the newcomer synced: aborted, newcomer back
	 * in the pool (not its fault), disconnected since it was connected */
	assert_int_equal(ec_swap_force(sw, &o2, &i2, T0, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, T0), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_remove_peer(sw, &o2, T0 + 2), EC_OK);
	assert_int_equal(drain(sw, a, 16), 1);
	assert_int_equal(a[0].kind, EC_SWAP_ACT_DISCONNECT);
	assert_true(ec_id_eq(&a[0].peer, &i2));
	assert_int_equal(ec_swap_role(sw, &i2), EC_SWAP_BACKUP);
	/* one done swap moved the rollout one step; an abort that is not the
	 * newcomer's fault does not move it back */
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.interval_ms, (uint64_t)(6.0 * HOUR_MS * 0.9));
	/* the newcomer leaves: aborted, old peer stays */
	assert_int_equal(ec_swap_force(sw, &o3, &i3, T0, &op), EC_OK);
	assert_int_equal(ec_swap_connected(sw, op, 1, T0), EC_OK);
	drain(sw, a, 16);
	assert_int_equal(ec_swap_remove_peer(sw, &i3, T0 + 3), EC_OK);
	drain_none(sw);
	assert_int_equal(ec_swap_role(sw, &i3), EC_SWAP_NONE);
	assert_int_equal(ec_swap_role(sw, &o3), EC_SWAP_NEIGHBOUR);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.interval_ms, 6 * HOUR_MS); /* the newcomer failed: back */
	assert_int_equal(st.done, 1);
	assert_int_equal(st.aborted, 2);
	assert_int_equal(st.neighbours, 5); /* 6 - o1 - o2 + i1 */
	assert_int_equal(ec_swap_remove_peer(sw, &o1, T0 + 4), EC_ERR_NOTFOUND);
	ec_swap_free(sw);
}

/* ---- safety modes ---------------------------------------------------------- */

static void test_health_gate_and_static(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	uint64_t seed = 17;
	ec_id bad = pid(2);
	ec_time t;
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 4, T0);
	make_bad(sw, 1, T0);
	/* health under the gate: the round is skipped, rescheduled */
	assert_int_equal(ec_swap_set_health(sw, 0.6, T0), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_GATED);
	t = T0 + 30 * MIN_MS;
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.rounds, 0);
	assert_int_equal(st.rounds_skipped, 1);
	assert_int_equal(st.next_round, t + 30 * MIN_MS);
	/* ... but an emergency still goes through */
	assert_int_equal(ec_swap_observe_equivocation(sw, &bad, t), EC_OK);
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
	{
		uint32_t op = first_op(sw, NULL);
		complete(sw, op, t);
	}
	/* health below the static threshold: emergency static, even for
	 * emergencies */
	assert_int_equal(ec_swap_set_health(sw, 0.3, t), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_STATIC);
	assert_int_equal(st.auto_static, 1);
	{
		ec_id b3 = pid(3);
		assert_int_equal(ec_swap_observe_equivocation(sw, &b3, t), EC_OK);
	}
	t += 30 * MIN_MS;
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	/* hysteresis: back above the static threshold but below the gate:
	 * still static */
	assert_int_equal(ec_swap_set_health(sw, 0.5, t), EC_OK);
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_STATIC);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	/* healthy again: normal; the pending emergency starts at once */
	assert_int_equal(ec_swap_set_health(sw, 0.9, t), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_NORMAL);
	assert_int_equal(ec_swap_next_deadline(sw), 0);
	assert_int_equal(ec_swap_tick(sw, t), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
	ec_swap_free(sw);

	/* manual static: no round, no emergency, until cleared */
	seed = 17;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 4, T0);
	assert_int_equal(ec_swap_set_static(sw, 1, T0), EC_OK);
	assert_int_equal(ec_swap_observe_equivocation(sw, &bad, T0), EC_OK);
	make_bad(sw, 1, T0);
	assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_STATIC);
	assert_int_equal(st.manual_static, 1);
	assert_int_equal(st.rounds_skipped, 1);
	assert_int_equal(ec_swap_set_static(sw, 0, T0 + 30 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1); /* the emergency */
	ec_swap_free(sw);
}

static void test_conservative_mode(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	uint64_t seed = 18;
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 12, 6, T0);
	for (uint64_t i = 1; i <= 5; i++)
		make_bad(sw, i, T0);
	assert_int_equal(ec_swap_set_load(sw, 0.9, T0), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_CONSERVATIVE);
	assert_int_equal(st.interval_ms, 30 * MIN_MS);
	assert_int_equal(st.effective_ms, 120 * MIN_MS);
	/* the round already drawn keeps its time; it starts one swap, not 3 */
	assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 1);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.next_round, T0 + 30 * MIN_MS + 120 * MIN_MS);
	/* load back to normal: full rate */
	assert_int_equal(ec_swap_set_load(sw, 0.5, T0 + 31 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_tick(sw, T0 + 150 * MIN_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 3);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_NORMAL);
	assert_int_equal(st.next_round, T0 + 150 * MIN_MS + 30 * MIN_MS);
	ec_swap_free(sw);
}

static void test_manual_override(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	ec_swap_row rows[16];
	ec_swap_op_info oi;
	uint64_t seed = 19;
	ec_id bad = pid(4);
	uint32_t op;
	(void)state;
	cfg_init(&c, &seed);
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 3, T0);
	make_bad(sw, 4, T0);
	assert_int_equal(ec_swap_tick(sw, T0), EC_OK);
	assert_int_equal(ec_swap_pause(sw, T0), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.mode, EC_SWAP_MODE_PAUSED);
	assert_int_equal(st.next_round, UINT64_MAX);
	assert_int_equal(ec_swap_next_deadline(sw), UINT64_MAX);
	/* nothing happens while paused, not even an emergency */
	assert_int_equal(ec_swap_observe_equivocation(sw, &bad, T0), EC_OK);
	assert_int_equal(ec_swap_tick(sw, T0 + 100 * HOUR_MS), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.rounds + st.rounds_skipped, 0);
	/* show the scores: the worst neighbour first, backups after */
	assert_int_equal(ec_swap_list(sw, rows, 16), 13);
	assert_true(ec_id_eq(&rows[0].peer, &bad));
	assert_int_equal(rows[0].emergency, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(rows[i].role, EC_SWAP_NEIGHBOUR);
	for (int i = 10; i < 13; i++) {
		assert_int_equal(rows[i].role, EC_SWAP_BACKUP);
		assert_int_equal(rows[i].warm, 1);
	}
	assert_int_equal(ec_swap_list(sw, rows, 2), 13); /* truncated copy */
	/* force works while paused: out NULL = the highest priority */
	assert_int_equal(ec_swap_force(sw, NULL, NULL, T0 + 100 * HOUR_MS, &op), EC_OK);
	assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
	assert_int_equal(oi.id, op);
	assert_int_equal(oi.reason, EC_SWAP_R_FORCED);
	assert_true(ec_id_eq(&oi.out, &bad));
	assert_int_equal(ec_swap_force(sw, &bad, NULL, T0, NULL), EC_ERR_BUSY); /* in op */
	{
		ec_id nobody = pid(999), nb = pid(1);
		assert_int_equal(ec_swap_force(sw, &nobody, NULL, T0, NULL), EC_ERR_NOTFOUND);
		assert_int_equal(ec_swap_force(sw, &nb, &nobody, T0, NULL), EC_ERR_NOTFOUND);
		assert_int_equal(ec_swap_force(sw, &nb, &oi.in, T0, NULL), EC_ERR_NOTFOUND);
	}
	/* resume: a fresh round from now */
	assert_int_equal(ec_swap_resume(sw, T0 + 200 * HOUR_MS), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(st.paused, 0);
	assert_int_equal(st.next_round, T0 + 200 * HOUR_MS + 30 * MIN_MS);
	assert_int_equal(ec_swap_resume(sw, T0 + 200 * HOUR_MS), EC_OK); /* idempotent */
	ec_swap_free(sw);
}

/* ---- pool ------------------------------------------------------------------ */

static void test_pool(void **state)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_status st;
	uint64_t seed = 20;
	ec_id n1 = pid(1);
	(void)state;
	cfg_init(&c, &seed);
	c.pool_max = 3;
	c.initial_interval_ms = c.target_interval_ms = 30 * MIN_MS;
	c.jitter = 0;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	populate(sw, 10, 0, T0);
	for (uint64_t i = 101; i <= 103; i++) {
		ec_id p = pid(i);
		assert_int_equal(ec_swap_pool_add(sw, &p, NULL, NULL, T0 + i), EC_OK);
	}
	{
		ec_id p101 = pid(101), p102 = pid(102), p103 = pid(103), p104 = pid(104);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p101, 5, T0), EC_OK);  /* warm */
		assert_int_equal(ec_swap_pool_set_lag(sw, &p102, 9, T0), EC_OK);  /* cold */
		/* p103: unknown lag (cold, the coldest) */
		ec_swap_get_status(sw, &st);
		assert_int_equal(st.backups, 3);
		assert_int_equal(st.warm_backups, 1);
		/* full: the coldest (unknown lag) goes */
		assert_int_equal(ec_swap_pool_add(sw, &p104, NULL, NULL, T0 + 200), EC_OK);
		assert_int_equal(ec_swap_role(sw, &p103), EC_SWAP_NONE);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p104, 1, T0), EC_OK);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p102, UINT64_MAX, T0), EC_OK);
		ec_swap_get_status(sw, &st);
		assert_int_equal(st.warm_backups, 2);
		/* set_lag only for backups */
		assert_int_equal(ec_swap_pool_set_lag(sw, &n1, 0, T0), EC_ERR_NOTFOUND);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p103, 0, T0), EC_ERR_NOTFOUND);
		/* known in another role */
		assert_int_equal(ec_swap_pool_add(sw, &n1, NULL, NULL, T0), EC_ERR_EXISTS);
		assert_int_equal(ec_swap_add_neighbour(sw, &p101, NULL, NULL, T0), EC_ERR_EXISTS);
		/* a scheduled round uses warm backups only */
		assert_int_equal(ec_swap_pool_set_lag(sw, &p101, 100, T0), EC_OK);
		assert_int_equal(ec_swap_pool_set_lag(sw, &p104, 100, T0), EC_OK);
		make_bad(sw, 1, T0);
		assert_int_equal(ec_swap_tick(sw, T0 + 30 * MIN_MS), EC_OK);
		assert_int_equal(ec_swap_list_ops(sw, NULL, 0), 0);
		ec_swap_get_status(sw, &st);
		assert_int_equal(st.no_replacement, 1);
		/* the sync engine reports p104 within 8 blocks: the next round
		 * takes it */
		assert_int_equal(ec_swap_pool_set_lag(sw, &p104, 8, T0 + 31 * MIN_MS), EC_OK);
		assert_int_equal(ec_swap_tick(sw, T0 + 60 * MIN_MS), EC_OK);
		{
			ec_swap_op_info oi;
			assert_int_equal(ec_swap_list_ops(sw, &oi, 1), 1);
			assert_true(ec_id_eq(&oi.in, &p104));
			assert_true(ec_id_eq(&oi.out, &n1));
		}
	}
	ec_swap_free(sw);
}

/* ---- determinism and bad inputs -------------------------------------------- */

static void run_script(uint64_t seed0, ec_swap_action *log, size_t *nlog, ec_swap_status *st)
{
	ec_swap_cfg c;
	ec_swap *sw;
	uint64_t seed = seed0;
	ec_time t = T0;
	ec_swap_action a;
	*nlog = 0;
	cfg_init(&c, &seed);
	c.initial_interval_ms = HOUR_MS;
	c.target_interval_ms = 10 * MIN_MS;
	c.min_neighbours = 6;
	c.cooldown_ms = HOUR_MS;
	assert_int_equal(ec_swap_new(&sw, &c, t), EC_OK);
	populate(sw, 8, 12, t);
	for (int step = 0; step < 400; step++) {
		ec_time d = ec_swap_next_deadline(sw);
		t = d > t ? d : t + 1;
		if (step % 7 == 3) {
			ec_id p = pid(1 + (uint64_t)(step % 8));
			for (int i = 0; i < 20; i++)
				(void)ec_swap_observe_check(sw, &p, 0, t);
		}
		assert_int_equal(ec_swap_tick(sw, t), EC_OK);
		while (ec_swap_poll(sw, &a)) {
			log[(*nlog)++] = a;
			if (a.kind == EC_SWAP_ACT_CONNECT)
				ec_swap_connected(sw, a.op, (a.op % 5) != 0, t);
			else if (a.kind == EC_SWAP_ACT_SYNC)
				ec_swap_synced(sw, a.op, 1, t);
			else if (a.kind == EC_SWAP_ACT_DISCONNECT && ec_swap_role(sw, &a.peer) == EC_SWAP_RETIRED) {
				char rg[8];
				snprintf(rg, sizeof rg, "z%d", step % 3);
				(void)ec_swap_pool_add(sw, &a.peer, rg, NULL, t + HOUR_MS);
			}
			ec_swap_status s2;
			ec_swap_get_status(sw, &s2);
			assert_true(s2.active >= c.min_neighbours);
		}
	}
	ec_swap_get_status(sw, st);
	ec_swap_free(sw);
}

static void test_determinism(void **state)
{
	static ec_swap_action l1[20000], l2[20000];
	size_t n1, n2;
	ec_swap_status s1, s2;
	(void)state;
	run_script(77, l1, &n1, &s1);
	run_script(77, l2, &n2, &s2);
	assert_true(n1 > 50);
	assert_int_equal(n1, n2);
	assert_memory_equal(l1, l2, n1 * sizeof(l1[0]));
	assert_memory_equal(&s1, &s2, sizeof s1);
	assert_true(s1.done > 5);
	assert_true(s1.aborted > 0);
	/* another seed: another history */
	run_script(78, l2, &n2, &s2);
	assert_true(n1 != n2 || memcmp(l1, l2, n1 * sizeof(l1[0])) != 0);
}

static void test_bad_inputs(void **state)
{
	ec_swap_cfg c, d;
	ec_swap *sw = (ec_swap *)1;
	ec_swap_status st, st2;
	ec_peer_metrics m, m2;
	uint64_t seed = 21;
	ec_id zero, a = pid(1), unknown = pid(77);
	char longtag[40];
	(void)state;
	memset(&zero, 0, sizeof zero);
	memset(longtag, 'x', sizeof longtag - 1);
	longtag[sizeof longtag - 1] = 0;
	cfg_init(&c, &seed);
	/* configurations */
#define BAD(field, val)                                                        \
	do {                                                                   \
		d = c;                                                         \
		d.field = val;                                                 \
		assert_int_equal(ec_swap_new(&sw, &d, T0), EC_ERR_ARG);        \
		assert_null(sw);                                               \
	} while (0)
	BAD(rng, NULL);
	BAD(target_interval_ms, 0);
	BAD(target_interval_ms, 7 * HOUR_MS);
	BAD(adaptation, 1.0);
	BAD(adaptation, -0.1);
	BAD(adaptation, NAN);
	BAD(jitter, 1.0);
	BAD(max_simultaneous, 0);
	BAD(max_simultaneous, EC_SWAP_MAX_OPS + 1);
	BAD(candidate_threshold, 1.5);
	BAD(emergency_threshold, 0.7); /* above the candidate threshold */
	BAD(static_threshold, 0.8);    /* above the health threshold */
	BAD(latency_ref_ms, 0);
	BAD(shift_steps, 0);
	BAD(window, 1);
	BAD(pool_max, 0);
	BAD(max_peers, 0);
	BAD(rep_initial, INFINITY);
	BAD(initial_interval_ms, EC_SWAP_MAX_DURATION + 1);
	BAD(cooldown_ms, UINT64_MAX);
	BAD(phase_timeout_ms, UINT64_MAX);
	BAD(shift_step_ms, UINT64_MAX);
	BAD(shift_steps, 256);
	BAD(conservative_factor, 0);
	BAD(conservative_factor, 1001);
#undef BAD
	assert_int_equal(ec_swap_new(NULL, &c, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_new(&sw, NULL, T0), EC_ERR_ARG);

	c.max_peers = 3;
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &zero, NULL, NULL, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_add_neighbour(sw, NULL, NULL, NULL, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_add_neighbour(sw, &a, longtag, NULL, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_pool_add(sw, &a, NULL, longtag, T0), EC_ERR_ARG);
	longtag[EC_PEER_TAG_MAX] = 0; /* exactly the maximum is fine */
	assert_int_equal(ec_swap_add_neighbour(sw, &a, longtag, longtag, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a, NULL, NULL, T0), EC_ERR_EXISTS);
	{
		ec_id b = pid(2), cc = pid(3), dd = pid(4);
		assert_int_equal(ec_swap_add_neighbour(sw, &b, NULL, NULL, T0), EC_OK);
		assert_int_equal(ec_swap_pool_add(sw, &cc, NULL, NULL, T0), EC_OK);
		assert_int_equal(ec_swap_pool_add(sw, &dd, NULL, NULL, T0), EC_ERR_FULL);
	}
	/* bad numbers change nothing */
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m), EC_OK);
	ec_swap_get_status(sw, &st);
	assert_int_equal(ec_swap_observe_response(sw, &a, 1, NAN, T0 + 9), EC_ERR_ARG);
	assert_int_equal(ec_swap_observe_response(sw, &a, 1, -1, T0 + 9), EC_ERR_ARG);
	assert_int_equal(ec_swap_observe_response(sw, &a, 1, INFINITY, T0 + 9), EC_ERR_ARG);
	assert_int_equal(ec_swap_observe_sync(sw, &a, 5, 0, T0 + 9), EC_ERR_ARG);
	assert_int_equal(ec_swap_set_health(sw, 1.5, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_set_health(sw, NAN, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_set_load(sw, -0.5, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m2), EC_OK);
	assert_memory_equal(&m, &m2, sizeof m);
	ec_swap_get_status(sw, &st2);
	assert_true(st2.health == st.health && st2.load == st.load && st2.mode == st.mode);
	/* unknown peers */
	assert_int_equal(ec_swap_observe_response(sw, &unknown, 1, 1, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_observe_check(sw, &unknown, 1, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_observe_sync(sw, &unknown, 1, 1, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_observe_penalty(sw, &unknown, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_observe_equivocation(sw, &unknown, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_remove_peer(sw, &unknown, T0), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_get_metrics(sw, &unknown, &m), EC_ERR_NOTFOUND);
	assert_int_equal(ec_swap_role(sw, &unknown), EC_SWAP_NONE);
	/* NULLs */
	assert_int_equal(ec_swap_tick(NULL, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_next_deadline(NULL), UINT64_MAX);
	assert_int_equal(ec_swap_pause(NULL, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_connected(NULL, 1, 1, T0), EC_ERR_ARG);
	assert_int_equal(ec_swap_poll(NULL, NULL), 0);
	assert_int_equal(ec_swap_save(sw, NULL), EC_ERR_ARG);
	ec_swap_free(sw);
	ec_swap_free(NULL);
}

/* ---- random calls, invariants ---------------------------------------------- */

static uint64_t g_epoch; /* the pending predicate changes between calls */
static int pending_rand(void *ctx, const ec_id *peer, ec_time since)
{
	(void)ctx;
	(void)since;
	return ((peer->b[0] ^ peer->b[7] ^ (uint8_t)g_epoch) & 3) == 0;
}

static void test_random_invariants(void **state)
{
	uint64_t checked_disc = 0, done = 0, aborted = 0, emerg = 0, waits = 0;
	(void)state;
	for (uint64_t run = 0; run < 12; run++) {
		ec_swap_cfg c;
		ec_swap *sw;
		uint64_t seed = 500 + run, r = 9000 + run;
		ec_time t = T0;
		ec_swap_status st;
		uint32_t ops_seen[64];
		size_t nops = 0;
		cfg_init(&c, &seed);
		c.initial_interval_ms = 20 * MIN_MS;
		c.target_interval_ms = 2 * MIN_MS;
		c.min_neighbours = 6;
		c.min_samples = 4;
		c.cooldown_ms = 30 * MIN_MS;
		c.pool_max = 12;
		c.max_peers = 64;
		c.pending_commit = pending_rand;
		assert_int_equal(ec_swap_new(&sw, &c, t), EC_OK);
		populate(sw, 8, 6, t);
		for (int step = 0; step < 3000; step++) {
			uint64_t x = tu_rand_u64(&r);
			ec_id p = pid((x % 40) >= 20 ? 100 + x % 30 : 1 + (x >> 8) % 20);
			ec_swap_status before;
			ec_swap_action a;
			ec_swap_op_info snap[EC_SWAP_MAX_OPS];
			size_t nsnap;
			g_epoch = x >> 40;
			ec_swap_get_status(sw, &before);
			nsnap = ec_swap_list_ops(sw, snap, EC_SWAP_MAX_OPS);
			switch ((x >> 16) % 16) {
			case 0:
				(void)ec_swap_observe_response(sw, &p, (x >> 20) & 1,
							       (x >> 21) & 1 ? 50.0 : NAN, t);
				break;
			case 1:
				(void)ec_swap_observe_check(sw, &p, (x >> 20) % 3 == 0, t);
				break;
			case 2:
				(void)ec_swap_observe_sync(sw, &p, (x >> 20) % 5000, (x >> 33) % 3, t);
				break;
			case 3:
				if ((x >> 20) % 8 == 0)
					(void)ec_swap_observe_equivocation(sw, &p, t);
				else
					(void)ec_swap_observe_penalty(sw, &p, t);
				break;
			case 4:
				(void)ec_swap_pool_add(sw, &p, (x >> 20) & 1 ? "eu" : "us",
						       (x >> 21) % 3 ? NULL : "acme", t);
				break;
			case 5:
				(void)ec_swap_pool_set_lag(sw, &p, (x >> 20) % 16, t);
				break;
			case 6:
				if ((x >> 20) % 6 == 0)
					(void)ec_swap_remove_peer(sw, &p, t);
				else
					(void)ec_swap_add_neighbour(sw, &p, NULL,
								    (x >> 21) & 1 ? "acme" : NULL, t);
				break;
			case 7:
				(void)ec_swap_set_health(sw, (double)((x >> 20) % 12) / 10, t);
				break;
			case 8:
				(void)ec_swap_set_load(sw, (double)((x >> 20) % 11) / 10, t);
				break;
			case 9:
				if ((x >> 20) % 4 == 0)
					(void)ec_swap_pause(sw, t);
				else if ((x >> 20) % 4 == 1)
					(void)ec_swap_set_static(sw, (x >> 22) & 1, t);
				else
					(void)ec_swap_resume(sw, t);
				break;
			case 10:
				(void)ec_swap_force(sw, (x >> 20) & 1 ? &p : NULL, NULL, t, NULL);
				break;
			case 11:
			case 12: {
				/* a report, often for the wrong phase or an old op */
				uint32_t op = nops ? ops_seen[(x >> 20) % nops] : 1;
				if ((x >> 24) & 1)
					(void)ec_swap_connected(sw, op, (x >> 25) % 5 != 0, t);
				else
					(void)ec_swap_synced(sw, op, (x >> 25) % 5 != 0, t);
				break;
			}
			default: {
				ec_time d = ec_swap_next_deadline(sw);
				t = d > t && d - t < 10 * HOUR_MS ? d : t + 1 + (x >> 20) % 60000;
				assert_int_equal(ec_swap_tick(sw, t), EC_OK);
				break;
			}
			}
			while (ec_swap_poll(sw, &a)) {
				if (a.kind == EC_SWAP_ACT_CONNECT && nops < 64)
					ops_seen[nops++] = a.op;
				/* the node mostly answers at once, sometimes fails,
				 * sometimes never answers (timeout) */
				if (a.kind == EC_SWAP_ACT_CONNECT && (x >> 27) % 6 != 0)
					assert_int_equal(ec_swap_connected(sw, a.op, (x >> 30) % 8 != 0, t),
							 EC_OK);
				if (a.kind == EC_SWAP_ACT_SYNC && (x >> 33) % 6 != 0)
					assert_int_equal(ec_swap_synced(sw, a.op, (x >> 36) % 8 != 0, t),
							 EC_OK);
				/* the old peer of a swap is disconnected only when no
				 * commit needs it (the predicate as it was during
				 * this call) */
				for (size_t i = 0; i < nsnap; i++)
					if (a.kind == EC_SWAP_ACT_DISCONNECT && a.op == snap[i].id &&
					    ec_id_eq(&a.peer, &snap[i].out)) {
						assert_false(pending_rand(NULL, &a.peer, 0));
						checked_disc++;
					}
			}
			ec_swap_get_status(sw, &st);
			assert_true(st.inflight <= c.max_simultaneous);
			assert_true(st.backups <= c.pool_max);
			/* a swap's disconnect never takes the neighbourhood below its
			 * minimum: only the caller's removals can */
			if (st.done > before.done && (x >> 16) % 16 != 6)
				assert_true(st.active >= c.min_neighbours);
			/* every newcomer belongs to exactly one swap in flight */
			{
				ec_swap_op_info oi[EC_SWAP_MAX_OPS];
				size_t n = ec_swap_list_ops(sw, oi, EC_SWAP_MAX_OPS);
				assert_int_equal(n, st.inflight);
				for (size_t i = 0; i < n; i++) {
					assert_int_equal(ec_swap_role(sw, &oi[i].in), EC_SWAP_JOINING);
					assert_int_equal(ec_swap_role(sw, &oi[i].out), EC_SWAP_NEIGHBOUR);
					for (size_t j = i + 1; j < n; j++) {
						assert_false(ec_id_eq(&oi[i].out, &oi[j].out));
						assert_false(ec_id_eq(&oi[i].in, &oi[j].in));
					}
				}
			}
		}
		ec_swap_get_status(sw, &st);
		done += st.done;
		aborted += st.aborted;
		emerg += st.emergencies;
		waits += st.waits_pending + st.waits_min_size;
		ec_swap_free(sw);
	}
	/* the runs exercised what the invariants guard */
	if (getenv("EC_SWAP_VERBOSE"))
		printf("random: %llu done, %llu aborted, %llu emergencies, %llu guard waits, "
		       "%llu disconnects checked\n",
		       (unsigned long long)done, (unsigned long long)aborted,
		       (unsigned long long)emerg, (unsigned long long)waits,
		       (unsigned long long)checked_disc);
	assert_true(done >= 20);
	assert_true(aborted >= 20);
	assert_true(emerg >= 5);
	assert_true(waits >= 20);
	assert_true(checked_disc >= 20);
}

/* ---- persistence through both store backends ------------------------------- */

static void persist_roundtrip(ec_store *s)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_store_txn *t;
	ec_peer_metrics m1, m2;
	uint64_t seed = 22;
	ec_id a = pid(1), b = pid(101);
	size_t skipped = 99;
	cfg_init(&c, &seed);
	assert_int_equal(ec_swap_new(&sw, &c, T0), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a, "eu-west", "acme", T0), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &b, "us", NULL, T0), EC_OK);
	for (int i = 0; i < 30; i++) {
		ec_swap_observe_response(sw, &a, i % 3 != 0, 10.0 * i, T0 + (uint64_t)i);
		ec_swap_observe_check(sw, &a, i % 4 != 0, T0 + (uint64_t)i);
		ec_swap_observe_sync(sw, &a, 100u * (uint64_t)i, 700, T0 + (uint64_t)i);
	}
	ec_swap_observe_penalty(sw, &a, T0 + 40);
	ec_swap_observe_equivocation(sw, &b, T0 + 41);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_swap_save(sw, t), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m1), EC_OK);
	ec_swap_free(sw);

	/* a restarted node: same peers, metrics back from the store */
	seed = 22;
	assert_int_equal(ec_swap_new(&sw, &c, T0 + HOUR_MS), EC_OK);
	assert_int_equal(ec_swap_add_neighbour(sw, &a, NULL, NULL, T0 + HOUR_MS), EC_OK);
	assert_int_equal(ec_swap_pool_add(sw, &b, "us-east", NULL, T0 + HOUR_MS), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_swap_load(sw, t, &skipped), EC_OK);
	ec_store_txn_abort(t);
	assert_int_equal(skipped, 0);
	assert_int_equal(ec_swap_get_metrics(sw, &a, &m2), EC_OK);
	assert_memory_equal(&m1, &m2, sizeof m1); /* tags came back too */
	assert_string_equal(m2.region, "eu-west");
	assert_int_equal(ec_swap_get_metrics(sw, &b, &m2), EC_OK);
	assert_int_equal(m2.n_equivocations, 1);
	assert_string_equal(m2.region, "us-east"); /* the tag given now wins */
	{
		ec_swap_row r[2];
		assert_int_equal(ec_swap_list(sw, r, 2), 2);
		assert_true(r[0].score == ec_swap_score(&c, &m1, NULL));
	}
	ec_swap_free(sw);
}

static void test_persistence_memory(void **state)
{
	ec_store *s;
	(void)state;
	assert_int_equal(ec_store_open_memory(&s), EC_OK);
	persist_roundtrip(s);
	ec_store_close(s);
}

static void test_persistence_lmdb(void **state)
{
	ec_store *s;
	char dir[256];
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-test-swap");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	persist_roundtrip(s);
	ec_store_close(s);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_score_weights),
		cmocka_unit_test(test_observations_latency_window),
		cmocka_unit_test(test_ordering_and_thresholds),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_rollout_curve),
		cmocka_unit_test(test_simultaneous_limit),
		cmocka_unit_test(test_emergency),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_diversity),
		cmocka_unit_test(test_related_never_together),
		cmocka_unit_test(test_state_machine),
		cmocka_unit_test(test_min_size_guard),
		cmocka_unit_test(test_pending_commit_guard),
		cmocka_unit_test(test_failures_and_timeouts),
		cmocka_unit_test(test_peer_leaves_mid_swap),
		cmocka_unit_test(test_health_gate_and_static),
		cmocka_unit_test(test_conservative_mode),
		cmocka_unit_test(test_manual_override),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_random_invariants),
		cmocka_unit_test(test_persistence_memory),
		cmocka_unit_test(test_persistence_lmdb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
