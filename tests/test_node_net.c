/* test_node_net.c - 64 ec_nodes over the in-process harness (delay, jitter,
 * loss): random workloads commit (multi-token creations, transfers signed
 * by the owners, destructions), the nodes of every token's neighbourhood
 * agree on its state, every chain verifies with the chain module, and a
 * conflict storm (owners double-sign) never gives a token two committed
 * successors on any node; where both conflicting txs reached a node before
 * it decided, the higher id won there. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "testutil.h"

#define N_NODES 64
#define N_OWNERS 16

typedef struct tok {
	ec_id id;
	ec_id head;  /* expected current txid (zero = never committed) */
	int owner;   /* -1 = destroyed */
} tok;

typedef struct sent {
	ec_tx tx;
	int n_tok;
	int tok[EC_TX_MAX_ENTRIES];
	int new_owner[EC_TX_MAX_ENTRIES];
} sent;

static hn_owner owners[N_OWNERS];

/* NET_TXS=n in the environment changes the workload size (default 150). */
static size_t n_txs(void)
{
	const char *e = getenv("NET_TXS");
	size_t n = e ? (size_t)strtoul(e, NULL, 10) : 150;
	return n < 10 ? 10 : n > 400 ? 400 : n;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static hn *net_new(uint64_t seed, uint32_t loss_ppm)
{
	hn_cfg c;
	hn *h;
	hn_cfg_default(&c);
	c.n_nodes = N_NODES;
	c.seed = seed;
	c.loss_ppm = loss_ppm;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	for (int i = 0; i < N_OWNERS; i++)
		hn_owner_make(&owners[i], (uint64_t)i + 1);
	return h;
}

/* 1 when every node of the token's neighbourhood holds `expect`. */
static int neighbourhood_agrees(hn *h, const ec_id *token, const ec_id *expect,
				size_t *disagree)
{
	size_t nb[8], k = hn_neighbourhood(h, token, nb), bad = 0;
	for (size_t i = 0; i < k; i++) {
		ec_id cur;
		if (!hn_token_current(h, nb[i], token, &cur) || !ec_id_eq(&cur, expect))
			bad++;
	}
	if (disagree)
		*disagree += bad;
	return bad == 0;
}

/* Did the tx commit "network-wide": at a majority of a token's
 * neighbourhood. */
static int committed_majority(hn *h, const ec_tx *tx)
{
	size_t nb[8], k = hn_neighbourhood(h, &tx->entries[0].token, nb), c = 0;
	for (size_t i = 0; i < k; i++)
		c += (size_t)hn_committed(h, nb[i], &tx->id);
	return 2 * c > k;
}

static void check_chains(hn *h, uint64_t *blocks)
{
	*blocks = 0;
	for (size_t i = 0; i < h->n; i++) {
		uint64_t len;
		assert_int_equal(hn_verify_chain(h, i, &len), EC_OK);
		*blocks += len;
	}
}

/* Creations: n_tx txs of 1..3 new tokens each. */
static size_t run_creations(hn *h, tok *toks, size_t *n_toks, sent *s, size_t n_tx,
			    ec_time t0, ec_time spread)
{
	for (size_t k = 0; k < n_tx; k++) {
		hn_entry e[3];
		size_t m = 1 + hn_rand(h) % 3;
		for (size_t j = 0; j < m; j++) {
			int o = (int)(hn_rand(h) % N_OWNERS);
			toks[*n_toks].id = hn_rand_id(h);
			toks[*n_toks].owner = o;
			memset(&toks[*n_toks].head, 0, sizeof(ec_id));
			e[j].token = toks[*n_toks].id;
			memset(&e[j].prev, 0, sizeof(ec_id));
			e[j].next = &owners[o];
			e[j].signer = NULL;
			s[k].tok[j] = (int)*n_toks;
			s[k].new_owner[j] = o;
			(*n_toks)++;
		}
		s[k].n_tok = (int)m;
		ec_time at = t0 + hn_rand(h) % spread;
		assert_int_equal(hn_tx_build(&s[k].tx, at, e, m), EC_OK);
		hn_submit_tx(h, hn_rand(h) % h->n, &s[k].tx, at);
	}
	return n_tx;
}

/* Applies the committed txs to the expected token table; returns how many
 * committed (at a majority of the first token's neighbourhood). */
static size_t apply_committed(hn *h, tok *toks, sent *s, size_t n)
{
	size_t c = 0;
	for (size_t k = 0; k < n; k++) {
		if (!committed_majority(h, &s[k].tx))
			continue;
		c++;
		for (int j = 0; j < s[k].n_tok; j++) {
			toks[s[k].tok[j]].head = s[k].tx.id;
			toks[s[k].tok[j]].owner = s[k].new_owner[j];
		}
	}
	return c;
}

static void test_net_workload(void **state)
{
	hn *h = net_new(42, 5000); /* 0.5% loss */
	static tok toks[2048];
	static sent s1[400], s2[400];
	size_t n_toks = 0, n1 = n_txs(), n2 = 0, c1, c2, disagree = 0, agree = 0;
	uint64_t blocks, committed = 0, sealed = 0;
	ec_time t0 = h->now;
	double w0 = wall();
	(void)state;

	/* phase 1: creations over 2 s of simulated time */
	run_creations(h, toks, &n_toks, s1, n1, t0 + 500, 2000);
	hn_run_until(h, t0 + 6000);
	c1 = apply_committed(h, toks, s1, n1);

	/* phase 2: transfers of live tokens, 1..3 tokens per tx, 10% destroy */
	{
		size_t next = 0;
		ec_time t1 = h->now;
		while (n2 < n1 && next < n_toks) {
			hn_entry e[3];
			size_t m = 1 + hn_rand(h) % 3, got = 0;
			while (got < m && next < n_toks) {
				tok *t = &toks[next];
				if (!ec_id_is_zero(&t->head) && t->owner >= 0) {
					int no = (int)(hn_rand(h) % N_OWNERS);
					int destroy = hn_rand(h) % 10 == 0;
					e[got].token = t->id;
					e[got].prev = t->head;
					e[got].signer = &owners[t->owner];
					e[got].next = destroy ? NULL : &owners[no];
					s2[n2].tok[got] = (int)next;
					s2[n2].new_owner[got] = destroy ? -1 : no;
					got++;
				}
				next++;
			}
			if (!got)
				break;
			s2[n2].n_tok = (int)got;
			ec_time at = t1 + 100 + hn_rand(h) % 2000;
			assert_int_equal(hn_tx_build(&s2[n2].tx, at, e, got), EC_OK);
			hn_submit_tx(h, hn_rand(h) % h->n, &s2[n2].tx, at);
			n2++;
		}
		hn_run_until(h, t1 + 6000);
	}
	c2 = apply_committed(h, toks, s2, n2);

	/* phase 3: a transfer of a destroyed token never commits */
	{
		size_t d = 0;
		ec_time t2 = h->now;
		ec_tx bad[8];
		size_t nb = 0;
		for (size_t i = 0; i < n_toks && nb < 8; i++) {
			if (toks[i].owner >= 0 || ec_id_is_zero(&toks[i].head))
				continue;
			hn_entry e = {toks[i].id, toks[i].head, &owners[0], &owners[0]};
			assert_int_equal(hn_tx_build(&bad[nb], t2 + 10, &e, 1), EC_OK);
			hn_submit_tx(h, hn_rand(h) % h->n, &bad[nb], t2 + 10);
			nb++;
		}
		hn_run_until(h, t2 + 3000);
		for (size_t i = 0; i < nb; i++)
			for (size_t j = 0; j < h->n; j++)
				d += (size_t)hn_committed(h, j, &bad[i].id);
		assert_int_equal(d, 0);
	}

	/* agreement: every committed token's neighbourhood holds its head */
	for (size_t i = 0; i < n_toks; i++) {
		if (ec_id_is_zero(&toks[i].head))
			continue;
		agree += (size_t)neighbourhood_agrees(h, &toks[i].id, &toks[i].head,
						      &disagree);
	}
	check_chains(h, &blocks);
	for (size_t i = 0; i < h->n; i++) {
		const ec_node_stats *st = ec_node_stats_get(h->nodes[i].node);
		committed += st->txs_committed;
		sealed += st->blocks_sealed;
		assert_int_equal(st->dropped_bad_sig, 0);
		assert_int_equal(st->dropped_malformed, 0);
	}
	printf("net: %zu nodes, creations %zu/%zu committed, transfers %zu/%zu "
	       "committed, tokens %zu, neighbourhoods agreeing %zu "
	       "(node states off %zu), %llu blocks (%llu tx commits), "
	       "%llu msgs delivered, %llu lost, sim %.1f s, wall %.2f s\n",
	       h->n, c1, n1, c2, n2, n_toks, agree, disagree,
	       (unsigned long long)blocks, (unsigned long long)committed,
	       (unsigned long long)h->delivered, (unsigned long long)h->lost,
	       (h->now - t0) / 1000.0, wall() - w0);
	assert_true(blocks == sealed);
	assert_true(c1 >= n1 * 95 / 100);
	assert_true(c2 >= n2 * 95 / 100);
	assert_int_equal(disagree, 0);
	hn_free(h);
}

static void test_net_conflict_storm(void **state)
{
	hn *h = net_new(7, 0);
	static tok toks[512];
	static sent s1[128];
	ec_tx a[128], b[128];
	size_t n_toks = 0, n1 = 48, np = 0, two = 0, higher_won = 0, lower_won = 0,
	       none = 0, in_time_violations = 0, in_time_checked = 0;
	ec_time t0 = h->now;
	double w0 = wall();
	uint64_t blocks;
	(void)state;

	run_creations(h, toks, &n_toks, s1, n1, t0 + 200, 1000);
	hn_run_until(h, t0 + 4000);
	apply_committed(h, toks, s1, n1);

	/* every live token double-signed: two transfers from the same owner,
	 * handed to two different nodes at nearly the same time */
	for (size_t i = 0; i < n_toks && np < 80; i++) {
		tok *t = &toks[i];
		ec_time at = h->now + 100 + hn_rand(h) % 1000;
		hn_entry ea = {t->id, t->head, &owners[(t->owner + 1) % N_OWNERS],
			       &owners[t->owner]};
		hn_entry eb = {t->id, t->head, &owners[(t->owner + 2) % N_OWNERS],
			       &owners[t->owner]};
		if (ec_id_is_zero(&t->head))
			continue;
		assert_int_equal(hn_tx_build(&a[np], at, &ea, 1), EC_OK);
		assert_int_equal(hn_tx_build(&b[np], at + hn_rand(h) % 30, &eb, 1), EC_OK);
		hn_submit_tx(h, hn_rand(h) % h->n, &a[np], at);
		hn_submit_tx(h, hn_rand(h) % h->n, &b[np], at + hn_rand(h) % 30);
		np++;
	}
	hn_run_until(h, h->now + 5000);

	for (size_t k = 0; k < np; k++) {
		const ec_tx *hi = ec_id_cmp(&a[k].id, &b[k].id) > 0 ? &a[k] : &b[k];
		const ec_tx *lo = hi == &a[k] ? &b[k] : &a[k];
		size_t maj_hi = committed_majority(h, hi), maj_lo = committed_majority(h, lo);
		for (size_t i = 0; i < h->n; i++) {
			int ch = hn_committed(h, i, &hi->id), cl = hn_committed(h, i, &lo->id);
			ec_node_tx_info ih, il;
			if (ch && cl)
				two++;
			if (!cl)
				continue;
			/* the lower one committed here: the higher must not have
			 * been known before the decision */
			assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, &hi->id, &ih), EC_OK);
			assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, &lo->id, &il), EC_OK);
			in_time_checked++;
			if (il.decided_at && ih.body_at && ih.body_at < il.decided_at)
				in_time_violations++;
		}
		if (maj_hi)
			higher_won++;
		else if (maj_lo)
			lower_won++;
		else
			none++;
	}
	check_chains(h, &blocks);
	printf("storm: %zu nodes, %zu double-signed tokens: higher id won %zu, "
	       "lower won %zu, neither %zu; nodes with both committed %zu; "
	       "lower commits checked %zu, higher known in time %zu; "
	       "%llu blocks, wall %.2f s\n",
	       h->n, np, higher_won, lower_won, none, two, in_time_checked,
	       in_time_violations, (unsigned long long)blocks, wall() - w0);
	assert_int_equal(two, 0);
	assert_int_equal(in_time_violations, 0);
	assert_true(np > 64);
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_net_workload),
		cmocka_unit_test(test_net_conflict_storm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
