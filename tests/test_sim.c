/* test_sim.c - the ecsim engine's network model, observed through its
 * message trace (ec_sim_opts.trace): per-link delay between regions and
 * serialisation at the link bandwidth, loss, partitions and their healing,
 * crashed peers receiving nothing until they return, and determinism (the
 * same seed gives the same trace, another seed another).  Small networks
 * (8-10 peers, a few simulated seconds) with the fake signature provider,
 * which changes no message size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ec/crypto.h"
#include "sim/ec_sim.h"

typedef struct rec {
	uint64_t sent, t;
	uint32_t from, to, len;
	uint8_t type;
	int fate;
} rec;

typedef struct trace {
	rec *r;
	size_t n, cap;
	uint64_t hash;
} trace;

static void on_msg(void *ctx, uint64_t sent, uint64_t t, uint32_t from, uint32_t to,
		   uint32_t len, uint8_t type, int fate)
{
	trace *tr = ctx;
	if (tr->n == tr->cap) {
		tr->cap = tr->cap ? 2 * tr->cap : 4096;
		tr->r = realloc(tr->r, tr->cap * sizeof *tr->r);
		assert_non_null(tr->r);
	}
	tr->r[tr->n++] = (rec){sent, t, from, to, len, type, fate};
	uint64_t v[4] = {sent, t, (uint64_t)from << 32 | to, (uint64_t)fate << 40 | (uint64_t)len << 8 | type};
	for (int i = 0; i < 4; i++)
		tr->hash = (tr->hash ^ v[i]) * 0x100000001b3ull;
}

/* Parses text, runs it with the trace on; returns the engine (caller
 * frees) so the test can ask about peers. */
static ec_sim *run(const char *text, trace *tr, const char *seed, ec_scenario *sc)
{
	char err[EC_SCN_ERR_MAX];
	uint8_t sd[EC_HASH_BYTES];
	ec_sim *s;
	memset(tr, 0, sizeof *tr);
	tr->hash = 0xcbf29ce484222325ull;
	int r = ec_scenario_parse(sc, "test.yaml", text, strlen(text), err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, EC_OK);
	if (seed)
		assert_int_equal(ec_scenario_seed_parse(sd, seed), EC_OK);
	ec_sim_opts o = {.seed = seed ? sd : NULL, .fake_signatures = 1, .trace = on_msg,
			 .trace_ctx = tr};
	ec_crypto_set_fake_signatures(1);
	r = ec_sim_new(&s, sc, &o, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, EC_OK);
	r = ec_sim_run(s, err, sizeof err);
	if (r)
		print_error("%s\n", err);
	assert_int_equal(r, EC_OK);
	return s;
}

#define HEAD                                                                   \
	"meta: {name: t}\nseed: 3\ntick_ms: 50\nreport: {progress: false, plots: []}\n" \
	"peers:\n  count: 10\n  topology: full\n  regions:\n"                        \
	"    - {name: eu, fraction: 0.5}\n    - {name: us, fraction: 0.5}\n"          \
	"workload: {tx_rate: 20, initial_tokens: 12, tokens_per_tx: {min: 1, max: 2},\n" \
	"           mix: {create: 0.5, transfer: 0.5}, start_ms: 500}\n"

/* Delay = the region pair's latency + serialisation at the bandwidth +
 * waiting behind earlier messages on the same link; nothing is faster. */
static void test_links_delay_and_bandwidth(void **state)
{
	(void)state;
	static const char text[] = HEAD "duration_ms: 3000\n"
		"links: {delay_ms: 5, jitter_ms: 0, bandwidth_kbps: 800,\n"
		"        latency_ms: {eu: {us: 40}}}\n";
	ec_scenario sc;
	trace tr;
	ec_sim *s = run(text, &tr, NULL, &sc);
	size_t n = ec_sim_peer_count(s), exact = 0, queued = 0, cross = 0;
	uint64_t *last = calloc(n * n, sizeof *last);
	assert_non_null(last);
	for (size_t i = 0; i < tr.n; i++) {
		const rec *m = &tr.r[i];
		if (m->fate != EC_SIM_DELIVERED)
			continue;
		int ra = ec_sim_peer_region(s, m->from), rb = ec_sim_peer_region(s, m->to);
		uint64_t lat = (ra == rb ? 5 : 40) * 1000ull;
		uint64_t ser = ((uint64_t)m->len * 8 * 1000 + 799) / 800;
		assert_true(m->t >= m->sent + lat + ser);
		/* the link was idle: exactly latency + serialisation */
		uint64_t *l = &last[m->from * n + m->to];
		if (m->sent >= *l)
			exact += m->t == m->sent + lat + ser;
		else
			queued++;
		/* a message leaves its link after the one before it */
		if (*l)
			assert_true(m->t - lat >= *l + ser);
		*l = m->t - lat;
		cross += ra != rb;
	}
	print_message("delivered %zu, exact %zu, queued %zu, cross-region %zu\n", tr.n,
		      exact, queued, cross);
	assert_true(exact > 100);
	assert_true(queued > 0); /* 800 kbit/s: bursts do queue */
	assert_true(cross > 100);
	free(last);
	free(tr.r);
	ec_sim_free(s);
	ec_scenario_free(&sc);
}

/* A partition drops every message across it while it lasts, none after. */
static void test_partition_and_heal(void **state)
{
	(void)state;
	static const char text[] = HEAD "duration_ms: 4000\n"
		"links: {delay_ms: 5, jitter_ms: 1}\n"
		"events:\n"
		"  - {at_ms: 1000, kind: partition, name: sea, regions: [us]}\n"
		"  - {at_ms: 2500, kind: heal, name: sea}\n";
	ec_scenario sc;
	trace tr;
	ec_sim *s = run(text, &tr, NULL, &sc);
	size_t lost_in = 0, cross_after = 0, same_in = 0;
	for (size_t i = 0; i < tr.n; i++) {
		const rec *m = &tr.r[i];
		int cross = ec_sim_peer_region(s, m->from) != ec_sim_peer_region(s, m->to);
		int during = m->sent >= 1000000 && m->sent < 2500000;
		if (during && cross) {
			assert_int_equal(m->fate, EC_SIM_LOST);
			lost_in++;
		}
		if (during && !cross && m->fate == EC_SIM_DELIVERED)
			same_in++;
		if (m->sent >= 2500000 && cross && m->fate == EC_SIM_DELIVERED)
			cross_after++;
		if (!during)
			assert_int_equal(m->fate, EC_SIM_DELIVERED); /* no loss configured */
	}
	print_message("cut %zu, inside %zu, across after heal %zu\n", lost_in, same_in,
		      cross_after);
	assert_true(lost_in > 50 && same_in > 50 && cross_after > 50);
	free(tr.r);
	ec_sim_free(s);
	ec_scenario_free(&sc);
}

/* A crashed peer receives nothing until it returns; loss is near its rate. */
static void test_crash_return_and_loss(void **state)
{
	(void)state;
	static const char text[] = HEAD "duration_ms: 4000\n"
		"links: {delay_ms: 5, jitter_ms: 3, loss: 0.2}\n"
		"events:\n"
		"  - {at_ms: 1000, kind: crash, count: 3}\n"
		"  - {at_ms: 2500, kind: return, count: 3}\n";
	ec_scenario sc;
	trace tr;
	ec_sim *s = run(text, &tr, NULL, &sc);
	size_t n = ec_sim_peer_count(s), offline = 0, lost = 0, total = 0;
	int *down = calloc(n, sizeof *down);
	assert_non_null(down);
	for (size_t i = 0; i < tr.n; i++)
		if (tr.r[i].fate == EC_SIM_OFFLINE) {
			down[tr.r[i].to] = 1;
			assert_true(tr.r[i].t >= 1000000 && tr.r[i].t < 2500000);
			offline++;
		}
	size_t crashed = 0;
	for (size_t i = 0; i < n; i++)
		crashed += (size_t)down[i];
	assert_int_equal(crashed, 3);
	for (size_t i = 0; i < tr.n; i++) {
		const rec *m = &tr.r[i];
		if (down[m->to] && m->t >= 1000000 && m->t < 2500000)
			assert_int_not_equal(m->fate, EC_SIM_DELIVERED);
		total++;
		lost += m->fate == EC_SIM_LOST;
	}
	for (size_t i = 0; i < n; i++)
		assert_true(ec_sim_peer_online(s, i));
	double f = (double)lost / (double)total;
	print_message("offline drops %zu, loss %.3f of %zu\n", offline, f, total);
	assert_true(offline > 10);
	assert_true(f > 0.17 && f < 0.23);
	free(down);
	free(tr.r);
	ec_sim_free(s);
	ec_scenario_free(&sc);
}

/* Same seed, same trace bit for bit; another seed, another trace. */
static void test_determinism(void **state)
{
	(void)state;
	static const char text[] = HEAD "duration_ms: 2000\n"
		"links: {delay_ms: 5, jitter_ms: 4, loss: 0.01, bandwidth_kbps: 2000}\n";
	ec_scenario a, b, c;
	trace ta, tb, tc;
	ec_sim *sa = run(text, &ta, NULL, &a);
	ec_sim *sb = run(text, &tb, NULL, &b);
	ec_sim *sc = run(text, &tc, "4", &c);
	char *ja = ec_sim_summary_json(sa), *jb = ec_sim_summary_json(sb),
	     *jc = ec_sim_summary_json(sc);
	assert_true(ta.n > 1000);
	assert_int_equal(ta.n, tb.n);
	assert_true(ta.hash == tb.hash);
	for (size_t i = 0; i < ta.n; i++) {
		assert_true(ta.r[i].sent == tb.r[i].sent && ta.r[i].t == tb.r[i].t);
		assert_true(ta.r[i].from == tb.r[i].from && ta.r[i].to == tb.r[i].to);
		assert_true(ta.r[i].len == tb.r[i].len && ta.r[i].fate == tb.r[i].fate);
	}
	assert_string_equal(ja, jb);
	assert_true(ta.hash != tc.hash);
	assert_string_not_equal(ja, jc);
	free(ja);
	free(jb);
	free(jc);
	free(ta.r);
	free(tb.r);
	free(tc.r);
	ec_sim_free(sa);
	ec_sim_free(sb);
	ec_sim_free(sc);
	ec_scenario_free(&a);
	ec_scenario_free(&b);
	ec_scenario_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_links_delay_and_bandwidth),
		cmocka_unit_test(test_partition_and_heal),
		cmocka_unit_test(test_crash_return_and_loss),
		cmocka_unit_test(test_determinism),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
