/* test_node_partial.c - partial peer sets and the bounded vote fan-out
 * (docs/PROTOCOL.md 14b "Partial peer sets" and "Vote fan-out").
 *
 *  - 64 nodes, each knowing only its 8 ring neighbours on each side plus
 *    2 random others (mutual), real Ed25519: random single-token creations,
 *    transfers and destructions, handed to random nodes (mostly far from
 *    the token), reach the token's neighbourhood by greedy relays and
 *    commit; the witness condition is met through the nearest peers each
 *    node knows to the txid (proxies, spec 8.9); every neighbourhood agrees,
 *    every chain verifies; mapping queries from random nodes follow
 *    referrals to a signed answer naming the committed state.
 *  - 1-3-token creations under partial peer sets (distant neighbourhoods
 *    counting each other's tokens through proxies) commit and agree.
 *  - The same full-mesh workload with vote_fanout 0 (every vote to the
 *    whole +-4 neighbourhoods, re-pushed to all) and with the default
 *    bounded fan-out: both commit everything and agree; messages per
 *    committed transaction are printed for both (and the partial run), and
 *    the bounded one must send fewer.  This one uses the INSECURE
 *    simulation signatures (ec_crypto_set_fake_signatures) to stay fast;
 *    it counts messages, not crypto. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "testutil.h"

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t check_chains(hn *h)
{
	uint64_t blocks = 0;
	for (size_t i = 0; i < h->n; i++) {
		uint64_t len;
		assert_int_equal(hn_verify_chain(h, i, &len), EC_OK);
		blocks += len;
		assert_int_equal(len, ec_node_stats_get(h->nodes[i].node)->blocks_sealed);
	}
	return blocks;
}

/* ---- mapping queries through referrals ------------------------------- */


/* Node q asks node r for tok and follows referrals (first peer named that
 * it has not asked yet); returns the verified response's txid in *txid,
 * the referrals followed as the result. */
static unsigned ask(hn *h, hn_capture *c, size_t q, size_t r, const ec_id *tok,
		    ec_id *txid)
{
	static uint64_t ctr;
	unsigned hops = 0;
	for (;;) {
		ec_mapping_req mq;
		ec_referral f;
		uint8_t *x;
		size_t xl;
		memset(&mq, 0, sizeof mq);
		ctr++;
		memcpy(mq.nonce, &ctr, sizeof ctr);
		mq.token = *tok;
		assert_int_equal(ec_mapping_req_encode(&mq, &x, &xl), EC_OK);
		c->from = r;
		c->to = q;
		memcpy(c->nonce, mq.nonce, EC_NONCE_BYTES);
		c->msg = NULL;
		hn_inject(h, &h->nodes[q].ident.peer_id, r, x, xl, h->now);
		free(x);
		hn_run_until(h, h->now + 40);
		assert_non_null(c->msg);
		if (c->msg[0] == EC_MSG_MAPPING_RESP) {
			ec_mapping_resp m;
			assert_int_equal(ec_mapping_resp_decode(&m, c->msg, c->len), EC_OK);
			free(c->msg);
			c->msg = NULL;
			assert_int_equal(ec_mapping_resp_verify(&m), EC_OK);
			assert_true(ec_id_eq(&m.token, tok));
			assert_true(ec_id_eq(&m.responder, &h->nodes[r].ident.peer_id));
			*txid = m.txid;
			return hops;
		}
		assert_int_equal(ec_referral_decode(&f, c->msg, c->len), EC_OK);
		free(c->msg);
		c->msg = NULL;
		assert_true(f.n_peers >= 1);
		/* each referral points nearer to the token */
		{
			size_t nr = hn_index_of(h, &f.peers[0].peer);
			assert_true(nr != SIZE_MAX && nr != q);
			assert_true(ec_ring_closer(tok, &h->nodes[nr].ident.peer_id,
						   &h->nodes[r].ident.peer_id) < 0);
			r = nr;
		}
		assert_true(++hops <= 16);
	}
}

/* ---- the workload ------------------------------------------------------ */

typedef struct run_result {
	size_t sent, committed, live, agree, off;
	uint64_t msgs, by_type[32], blocks;
} run_result;

/* 1-token creations then transfers (10% destructions) on h; counts the
 * messages delivered from the first submission to the end. */
static void run_workload(hn *h, hn_wl *w, size_t n, run_result *r)
{
	size_t s1;
	uint64_t d0 = h->delivered, t0[32];
	memset(r, 0, sizeof *r);
	memcpy(t0, h->delivered_type, sizeof t0);
	hn_wl_creations(h, w, n, 1, h->now + 100, 2000);
	hn_run_until(h, h->now + 6000);
	r->committed = hn_wl_apply(h, w, 0, w->n_sent);
	s1 = w->n_sent;
	hn_wl_transfers(h, w, n, 1, 10, h->now + 100, 2000);
	hn_run_until(h, h->now + 6000);
	r->committed += hn_wl_apply(h, w, s1, w->n_sent);
	r->sent = w->n_sent;
	r->msgs = h->delivered - d0;
	for (int t = 0; t < 32; t++)
		r->by_type[t] = h->delivered_type[t] - t0[t];
	r->agree = hn_wl_agreement(h, w, &r->off);
	for (size_t i = 0; i < w->n_toks; i++)
		r->live += !ec_id_is_zero(&w->toks[i].head);
	r->blocks = check_chains(h);
}

static void print_result(const char *label, const hn *h, const run_result *r)
{
	printf("%s: %zu nodes, %zu/%zu txs committed, tokens agreeing %zu/%zu "
	       "(node states off %zu), %llu blocks, %llu msgs = %.1f per committed "
	       "tx (tx %.1f, vote %.1f, tx req %.1f, tx resp %.1f, refusal %.1f)\n",
	       label, h->n, r->committed, r->sent, r->agree, r->live, r->off,
	       (unsigned long long)r->blocks, (unsigned long long)r->msgs,
	       (double)r->msgs / (double)r->committed,
	       (double)r->by_type[EC_MSG_TX] / (double)r->committed,
	       (double)r->by_type[EC_MSG_VOTE] / (double)r->committed,
	       (double)r->by_type[EC_MSG_TX_REQ] / (double)r->committed,
	       (double)r->by_type[EC_MSG_TX_RESP] / (double)r->committed,
	       (double)r->by_type[EC_MSG_REFUSAL] / (double)r->committed);
}

static hn *net(size_t nodes, uint64_t seed, uint32_t near, uint32_t rnd, int fanout,
	       uint32_t loss_ppm)
{
	hn_cfg c;
	hn *h;
	hn_cfg_default(&c);
	c.n_nodes = nodes;
	c.seed = seed;
	c.near_peers = near;
	c.random_peers = rnd;
	c.vote_fanout = fanout;
	c.loss_ppm = loss_ppm;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_run_until(h, h->now + 3000); /* identity tokens */
	return h;
}

static void test_partial_peer_sets(void **state)
{
	hn *h = net(64, 21, 8, 2, -1, 5000); /* 0.5% loss */
	hn_wl w;
	run_result r;
	hn_capture cap;
	size_t max_peers = 0, min_peers = SIZE_MAX, asked = 0;
	unsigned hops = 0, max_hops = 0;
	double w0 = wall();
	(void)state;
	for (size_t i = 0; i < h->n; i++) {
		size_t k = ec_node_peer_count(h->nodes[i].node);
		max_peers = k > max_peers ? k : max_peers;
		min_peers = k < min_peers ? k : min_peers;
	}
	assert_true(max_peers < h->n / 2); /* really partial */
	hn_wl_init(&w, 21);
	run_workload(h, &w, 60, &r);
	print_result("partial (8 near + 2 random per node, 0.5% loss)", h, &r);
	assert_true(r.committed >= r.sent * 95 / 100);
	assert_int_equal(r.agree, r.live);
	assert_int_equal(r.off, 0);
	for (size_t i = 0; i < h->n; i++) {
		const ec_node_stats *st = ec_node_stats_get(h->nodes[i].node);
		assert_int_equal(st->dropped_bad_sig, 0);
		assert_int_equal(st->dropped_malformed, 0);
		assert_int_equal(st->lower_conflict_decided, 0);
	}
	/* queries: any node, about any committed token, reaches the answer
	 * through referrals that get nearer to the token at each hop */
	memset(&cap, 0, sizeof cap);
	h->drop = hn_capture_answer;
	h->drop_ctx = &cap;
	for (size_t k = 0; k < 200; k++) {
		const hn_tok *t = &w.toks[hn_rand(h) % w.n_toks];
		size_t q = hn_rand(h) % h->n, rr = hn_rand(h) % h->n;
		ec_id got;
		unsigned hp;
		if (ec_id_is_zero(&t->head))
			continue;
		if (rr == q)
			rr = (rr + 1) % h->n;
		hp = ask(h, &cap, q, rr, &t->id, &got);
		assert_true(ec_id_eq(&got, &t->head));
		hops += hp;
		max_hops = hp > max_hops ? hp : max_hops;
		asked++;
	}
	h->drop = NULL;
	assert_true(asked > 100);
	printf("partial: peers per node %zu..%zu of %zu; %zu queries answered with "
	       "the committed state after %.2f referrals on average (max %u); "
	       "wall %.2f s\n",
	       min_peers, max_peers, h->n - 1, asked, (double)hops / (double)asked,
	       max_hops, wall() - w0);
	hn_wl_free(&w);
	hn_free(h);
}

/* Multi-token transactions whose tokens lie in distant neighbourhoods,
 * partial peer sets (fake signatures, 64 nodes): each neighbourhood counts
 * the other tokens' balances through the peers it knows nearest to them,
 * proxies and decided fellows (spec 8.9).  At least 95% commit by a
 * majority and 90% by every node of every token's neighbourhood; no node
 * holds any other state of those tokens (there are no conflicts: a node
 * state is the creation or nothing); every chain verifies.  (At 128 nodes
 * fewer commit: PROTOCOL 14b "Multi-token transactions under partial peer
 * sets".) */
static void test_partial_multi_token(void **state)
{
	hn *h;
	hn_wl w;
	size_t sent, committed, full = 0, wrong = 0;
	double w0 = wall();
	(void)state;
	ec_crypto_set_fake_signatures(1);
	h = net(64, 55, 8, 2, -1, 0);
	hn_wl_init(&w, 55);
	sent = hn_wl_creations(h, &w, 40, 3, h->now + 100, 1000);
	hn_run_until(h, h->now + 6000);
	committed = hn_wl_apply(h, &w, 0, w.n_sent);
	for (size_t k = 0; k < w.n_sent; k++) {
		const hn_sent *sn = &w.sent[k];
		int all = 1;
		for (int j = 0; j < sn->n_tok; j++) {
			size_t nb[8], m = hn_neighbourhood(h, &w.toks[sn->tok[j]].id, nb);
			for (size_t i = 0; i < m; i++) {
				ec_id cur;
				if (!hn_token_current(h, nb[i], &w.toks[sn->tok[j]].id, &cur))
					all = 0;
				else if (!ec_id_eq(&cur, &sn->tx.id))
					wrong++;
			}
		}
		full += (size_t)all;
	}
	check_chains(h);
	ec_crypto_set_fake_signatures(0);
	printf("partial multi-token (1-3 tokens, fake signatures): %zu nodes, %zu/%zu "
	       "creations committed by a majority, %zu by every node of every token's "
	       "neighbourhood, %llu msgs, wall %.2f s\n",
	       h->n, committed, sent, full, (unsigned long long)h->delivered,
	       wall() - w0);
	assert_int_equal(wrong, 0);
	assert_true(committed >= sent * 95 / 100);
	assert_true(full >= sent * 90 / 100);
	hn_wl_free(&w);
	hn_free(h);
}

static void test_fanout_messages(void **state)
{
	run_result rl, rb;
	hn *h;
	hn_wl w;
	double w0 = wall();
	(void)state;
	ec_crypto_set_fake_signatures(1);
	h = net(64, 33, 0, 0, 0, 0);
	hn_wl_init(&w, 33);
	run_workload(h, &w, 100, &rl);
	print_result("fan-out full +-4 (vote_fanout 0, fake signatures)", h, &rl);
	hn_wl_free(&w);
	hn_free(h);
	h = net(64, 33, 0, 0, 4, 0);
	hn_wl_init(&w, 33);
	run_workload(h, &w, 100, &rb);
	print_result("fan-out bounded (vote_fanout 4, fake signatures)", h, &rb);
	hn_wl_free(&w);
	hn_free(h);
	ec_crypto_set_fake_signatures(0);
	printf("fan-out: messages per committed tx %.1f -> %.1f (ratio %.2f), "
	       "wall %.2f s\n",
	       (double)rl.msgs / (double)rl.committed, (double)rb.msgs / (double)rb.committed,
	       ((double)rb.msgs / (double)rb.committed) / ((double)rl.msgs / (double)rl.committed),
	       wall() - w0);
	assert_int_equal(rl.committed, rl.sent);
	assert_int_equal(rb.committed, rb.sent);
	assert_int_equal(rl.agree, rl.live);
	assert_int_equal(rb.agree, rb.live);
	assert_int_equal(rb.off, 0);
	assert_true(rb.msgs * 10 < rl.msgs * 7); /* at least 30% fewer */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_peer_sets),
		cmocka_unit_test(test_partial_multi_token),
		cmocka_unit_test(test_fanout_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
