/* test_endorse.c - block fetches and peer endorsement collection
 * (docs/PROTOCOL.md 14b "Endorsements"; src/core/ec_node_endorse.c).
 *
 * Small in-process networks (tests/util/harness.h, real Ed25519): nodes
 * seal their identity-token creations, then fetch one another's blocks
 * with ec_node_fetch_block.  Checked: a fetched block is stored (with its
 * proof) and the endorsements of its response are kept; the next node's
 * fetch carries the responder's own endorsement plus the collected ones,
 * ascending, each verifying; endorsements that were tampered with, carry
 * a key that is not the endorser's, or name an unknown peer are not kept;
 * a response whose signature breaks, an unsolicited response and a
 * refusal change nothing; the cache's bounds (block ids, endorsers per
 * block: lowest ids win) hold. */
#include <stdio.h>
#include <stdlib.h>

#include "ec/chain.h"
#include "harness.h"
#include "testutil.h"

#define N(i) (h->nodes[(i)].node)
#define ID(i) (&h->nodes[(i)].ident.peer_id)

typedef struct cfg_ctx {
	size_t node;     /* node whose cache size is set */
	uint32_t blocks; /* its endorse_cache_blocks; 0 = leave default */
} cfg_ctx;

static void set_cache(void *ctx, size_t i, ec_node_cfg *nc)
{
	const cfg_ctx *c = ctx;
	if (c->blocks && i == c->node)
		nc->endorse_cache_blocks = c->blocks;
}

static cfg_ctx g_cfg;

/* n nodes, run until every node sealed a block. */
static hn *net_new(size_t n, uint64_t seed, size_t small_node, uint32_t blocks)
{
	hn_cfg c;
	hn *h;
	hn_cfg_default(&c);
	c.n_nodes = n;
	c.seed = seed;
	g_cfg.node = small_node;
	g_cfg.blocks = blocks;
	c.node_cfg = set_cache;
	c.node_cfg_ctx = &g_cfg;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_run_until(h, h->now + 3000);
	for (size_t i = 0; i < n; i++) {
		ec_id id;
		uint64_t height;
		assert_int_equal(ec_node_head(N(i), &id, &height), EC_OK);
	}
	return h;
}

static ec_id head_of(hn *h, size_t i)
{
	ec_id id;
	uint64_t height;
	assert_int_equal(ec_node_head(N(i), &id, &height), EC_OK);
	return id;
}

static void fetch(hn *h, size_t who, size_t from, const ec_id *blk)
{
	assert_int_equal(ec_node_fetch_block(N(who), ID(from), blk, EC_PRIO_VALIDATION,
					     h->now),
			 EC_OK);
	hn_run_until(h, h->now + 200);
}

static int store_has(hn *h, size_t i, const ec_id *blk, int proof)
{
	ec_store_txn *t;
	const uint8_t *p;
	size_t n;
	int r;
	assert_int_equal(ec_store_txn_begin(h->nodes[i].store, 0, &t), EC_OK);
	r = proof ? ec_store_get_proof_raw(t, blk, &p, &n) == EC_OK
		  : ec_store_has_block(t, blk) == 1;
	ec_store_txn_abort(t);
	return r;
}

static int id_cmp(const void *a, const void *b)
{
	return ec_id_cmp(a, b);
}

/* The endorsements e[0..n) are exactly those of nodes idx[0..k), ascending
 * by peer, each with that node's key and verifying over blk. */
static void assert_endorsers(hn *h, const ec_endorsement *e, size_t n,
			     const size_t *idx, size_t k, const ec_id *blk)
{
	ec_id want[EC_RESP_MAX_ENDORSE];
	assert_int_equal(n, k);
	for (size_t i = 0; i < k; i++)
		want[i] = *ID(idx[i]);
	qsort(want, k, sizeof want[0], id_cmp);
	for (size_t i = 0; i < n; i++) {
		size_t j = hn_index_of(h, &e[i].peer);
		assert_true(ec_id_eq(&e[i].peer, &want[i]));
		assert_true(j != SIZE_MAX);
		assert_memory_equal(e[i].pk, h->nodes[j].key.pk, EC_PUBKEY_BYTES);
		assert_int_equal(ec_endorsement_verify(&e[i], blk), EC_OK);
	}
}

/* ---- response rewriting (the harness's mutate hook) -------------------------- */

enum { MUT_PASS = 0, MUT_TAMPER, MUT_BREAK, MUT_REPLACE };

typedef struct mut {
	size_t from, to;
	int mode;
	uint8_t *cap; /* last 0x15 from -> to, as sent (after rewriting) */
	size_t cap_len;
	ec_endorsement repl[EC_RESP_MAX_ENDORSE];
	size_t n_repl;
	size_t wrong_key_peer; /* MUT_TAMPER: node index given bad endorsements */
	int hits;
	uint64_t n_endorse; /* endorsements in the responses matched */
} mut;

static int endorse_cmp(const void *a, const void *b)
{
	return ec_id_cmp(&((const ec_endorsement *)a)->peer,
			 &((const ec_endorsement *)b)->peer);
}

static void key_from(ec_keypair *kp, uint64_t seed)
{
	uint8_t s[32];
	uint64_t st = seed;
	tu_rand_bytes(&st, s, sizeof s);
	assert_int_equal(ec_keypair_from_seed(kp, s), EC_OK);
}

static void mutate(void *ctx, const hn *h, size_t from, size_t to, uint8_t **msg,
		   size_t *len)
{
	mut *m = ctx;
	ec_block_resp r;
	uint8_t *enc;
	size_t elen;
	if ((m->from != SIZE_MAX && from != m->from) ||
	    (m->to != SIZE_MAX && to != m->to) || *len == 0 ||
	    (*msg)[0] != EC_MSG_BLOCK_RESP)
		return;
	m->hits++;
	if (m->mode == MUT_PASS && m->from == SIZE_MAX) { /* counting only */
		assert_int_equal(ec_block_resp_decode(&r, *msg, *len), EC_OK);
		m->n_endorse += r.n_endorse;
		ec_block_resp_free(&r);
		return;
	}
	if (m->mode == MUT_BREAK) {
		(*msg)[*len - 1] ^= 0x01; /* the responder's signature */
	} else if (m->mode != MUT_PASS) {
		assert_int_equal(ec_block_resp_decode(&r, *msg, *len), EC_OK);
		if (m->mode == MUT_REPLACE) {
			memcpy(r.endorse, m->repl, m->n_repl * sizeof m->repl[0]);
			r.n_endorse = (uint8_t)m->n_repl;
		} else {
			ec_keypair wrong, unknown;
			ec_endorsement *e;
			key_from(&wrong, 77);
			key_from(&unknown, 78);
			/* every endorsement but the responder's: a flipped bit */
			for (unsigned i = 0; i < r.n_endorse; i++)
				if (!ec_id_eq(&r.endorse[i].peer, ID(from)))
					r.endorse[i].sig[5] ^= 0x20;
			assert_true(r.n_endorse + 3 <= EC_RESP_MAX_ENDORSE);
			/* a real peer's id with another key, validly signed */
			e = &r.endorse[r.n_endorse++];
			assert_int_equal(ec_endorsement_sign(e, &r.block.id, wrong.sk), EC_OK);
			e->peer = *ID(m->wrong_key_peer);
			/* the same peer's own key, signature by another key: would
			 * be the same peer twice, so use its ring neighbour */
			e = &r.endorse[r.n_endorse++];
			assert_int_equal(ec_endorsement_sign(e, &r.block.id, wrong.sk), EC_OK);
			e->peer = *ID(m->wrong_key_peer + 1);
			memcpy(e->pk, h->nodes[m->wrong_key_peer + 1].key.pk, EC_PUBKEY_BYTES);
			/* an unknown peer, validly self-signed */
			e = &r.endorse[r.n_endorse++];
			assert_int_equal(ec_endorsement_sign(e, &r.block.id, unknown.sk),
					 EC_OK);
			memset(&e->peer, 0x5a, sizeof e->peer);
			qsort(r.endorse, r.n_endorse, sizeof r.endorse[0], endorse_cmp);
		}
		assert_int_equal(ec_block_resp_sign(&r, h->nodes[from].key.sk), EC_OK);
		assert_int_equal(ec_block_resp_encode(&r, &enc, &elen), EC_OK);
		ec_block_resp_free(&r);
		free(*msg);
		*msg = enc;
		*len = elen;
	}
	free(m->cap);
	m->cap = malloc(*len);
	assert_non_null(m->cap);
	memcpy(m->cap, *msg, *len);
	m->cap_len = *len;
}

/* ---- tests ----------------------------------------------------------------- */

/* B fetches C's head from C, A fetches it from B, D from A: each hop keeps
 * the endorsements of the hop before, D's response carries A's own plus
 * B's and C's, ascending, each verifying; the block and its proof travel
 * along; fetching again adds nothing. */
static void test_endorse_relay(void **state)
{
	(void)state;
	hn *h = net_new(8, 11, 0, 0);
	const size_t C = 0, B = 1, A = 2, D = 3;
	ec_id blk = head_of(h, C);
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	ec_block_resp r;
	mut m = {.from = A, .to = D, .mode = MUT_PASS};
	size_t n;
	h->mutate = mutate;
	h->mutate_ctx = &m;

	assert_false(store_has(h, B, &blk, 0));
	fetch(h, B, C, &blk);
	assert_int_equal(ec_node_stats_get(N(B))->blocks_fetched_stored, 1);
	assert_true(store_has(h, B, &blk, 0));
	assert_true(store_has(h, B, &blk, 1));
	n = ec_node_endorsements(N(B), &blk, e, EC_RESP_MAX_ENDORSE);
	assert_endorsers(h, e, n, (size_t[]){C}, 1, &blk);

	fetch(h, A, B, &blk);
	n = ec_node_endorsements(N(A), &blk, e, EC_RESP_MAX_ENDORSE);
	assert_endorsers(h, e, n, (size_t[]){B, C}, 2, &blk);
	assert_true(store_has(h, A, &blk, 1));

	fetch(h, D, A, &blk);
	assert_int_equal(m.hits, 1);
	/* the response A sent: A's own endorsement plus B's and C's */
	assert_int_equal(ec_block_resp_decode(&r, m.cap, m.cap_len), EC_OK);
	assert_int_equal(ec_block_resp_verify(&r), EC_OK);
	assert_true(ec_id_eq(&r.block.id, &blk));
	assert_int_equal(r.has_proof, 1);
	assert_endorsers(h, r.endorse, r.n_endorse, (size_t[]){A, B, C}, 3, &blk);
	ec_block_resp_free(&r);
	n = ec_node_endorsements(N(D), &blk, e, EC_RESP_MAX_ENDORSE);
	assert_endorsers(h, e, n, (size_t[]){A, B, C}, 3, &blk);
	assert_int_equal(ec_node_stats_get(N(D))->endorsements_kept, 3);
	assert_int_equal(ec_node_stats_get(N(D))->endorsements_rejected, 0);

	/* again: same set, nothing new kept, the block is held already */
	fetch(h, D, A, &blk);
	assert_int_equal(ec_node_stats_get(N(D))->endorsements_kept, 3);
	assert_int_equal(ec_node_stats_get(N(D))->blocks_fetched, 2);
	assert_int_equal(ec_node_stats_get(N(D))->blocks_fetched_stored, 1);
	n = ec_node_endorsements(N(D), &blk, e, EC_RESP_MAX_ENDORSE);
	assert_int_equal(n, 3);

	/* the creator serves its own block with the collected ones too: C
	 * fetches nothing, so C's cache is empty and its answer carries C */
	assert_int_equal(ec_node_endorsements(N(C), &blk, e, EC_RESP_MAX_ENDORSE), 0);
	free(m.cap);
	hn_free(h);
}

/* B's response to A is rewritten (and re-signed with B's key): C's
 * endorsement tampered, a real peer's id with a key that is not its own,
 * a real peer's key with a signature by another key, an unknown peer:
 * only B's own is kept, four are rejected. */
static void test_endorse_rejects_bad(void **state)
{
	(void)state;
	hn *h = net_new(8, 12, 0, 0);
	const size_t C = 0, B = 1, A = 2;
	ec_id blk = head_of(h, C);
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	mut m = {.from = B, .to = A, .mode = MUT_TAMPER, .wrong_key_peer = 4};
	size_t n;
	fetch(h, B, C, &blk);
	h->mutate = mutate;
	h->mutate_ctx = &m;
	fetch(h, A, B, &blk);
	assert_int_equal(m.hits, 1);
	assert_int_equal(ec_node_stats_get(N(A))->blocks_fetched, 1);
	assert_true(store_has(h, A, &blk, 0)); /* the block itself is fine */
	n = ec_node_endorsements(N(A), &blk, e, EC_RESP_MAX_ENDORSE);
	assert_endorsers(h, e, n, (size_t[]){B}, 1, &blk);
	assert_int_equal(ec_node_stats_get(N(A))->endorsements_kept, 1);
	assert_int_equal(ec_node_stats_get(N(A))->endorsements_rejected, 4);
	free(m.cap);
	hn_free(h);
}

/* A response whose signature breaks is not believed: nothing stored or
 * kept, the fetch times out.  An unsolicited response (injected, no fetch
 * waiting) and a response from another peer than the one asked change
 * nothing.  A fetch of a block the peer does not hold ends with its
 * refusal. */
static void test_endorse_unbelieved(void **state)
{
	(void)state;
	hn *h = net_new(8, 13, 0, 0);
	const size_t C = 0, B = 1, A = 2, E = 5;
	ec_id blk = head_of(h, C), nothing;
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	mut m = {.from = C, .to = A, .mode = MUT_BREAK};
	const ec_node_stats *sa = ec_node_stats_get(N(A));
	uint64_t bad, unsol;
	h->mutate = mutate;
	h->mutate_ctx = &m;
	bad = sa->dropped_bad_sig;
	fetch(h, A, C, &blk);
	assert_int_equal(m.hits, 1);
	assert_int_equal(sa->dropped_bad_sig, bad + 1);
	assert_int_equal(sa->blocks_fetched, 0);
	assert_false(store_has(h, A, &blk, 0));
	assert_int_equal(ec_node_endorsements(N(A), &blk, e, EC_RESP_MAX_ENDORSE), 0);
	hn_run_until(h, h->now + 6000);
	assert_int_equal(sa->block_fetch_timeouts, 1);

	/* unsolicited: C's genuine answer to B, replayed to E */
	m.mode = MUT_PASS;
	m.to = B;
	fetch(h, B, C, &blk);
	assert_int_equal(m.hits, 2);
	unsol = ec_node_stats_get(N(E))->dropped_unsolicited;
	hn_inject(h, ID(C), E, m.cap, m.cap_len, h->now + 1);
	hn_run_until(h, h->now + 100);
	assert_int_equal(ec_node_stats_get(N(E))->dropped_unsolicited, unsol + 1);
	assert_int_equal(ec_node_stats_get(N(E))->blocks_fetched, 0);
	assert_false(store_has(h, E, &blk, 0));
	/* ... and to A while A waits for its own fetch from B: neither the
	 * nonce nor the sender (C) is the one A waits for */
	assert_int_equal(ec_node_fetch_block(N(A), ID(B), &blk, EC_PRIO_VALIDATION,
					     h->now),
			 EC_OK);
	unsol = sa->dropped_unsolicited;
	hn_inject(h, ID(C), A, m.cap, m.cap_len, h->now);
	hn_run_until(h, h->now + 1);
	assert_int_equal(sa->dropped_unsolicited, unsol + 1);
	hn_run_until(h, h->now + 200);
	assert_int_equal(sa->blocks_fetched, 1); /* B's own answer */

	/* refusal: B holds no block under that id */
	memset(&nothing, 0x33, sizeof nothing);
	fetch(h, A, B, &nothing);
	assert_int_equal(sa->block_fetch_refused, 1);
	assert_false(store_has(h, A, &nothing, 0));
	hn_run_until(h, h->now + 6000);
	assert_int_equal(sa->block_fetch_timeouts, 1); /* the refusal ended it */

	/* arguments */
	assert_int_equal(ec_node_fetch_block(N(A), ID(B), &blk, 0, h->now), EC_ERR_ARG);
	assert_int_equal(ec_node_fetch_block(N(A), &nothing, &blk, EC_PRIO_SYNC, h->now),
			 EC_ERR_NOTFOUND);
	free(m.cap);
	hn_free(h);
}

/* Cache bounds: node A keeps 2 block ids (the oldest is evicted), and at
 * most 7 endorsers per block, the lowest peer ids, whatever the order they
 * arrive in. */
static void test_endorse_bounds(void **state)
{
	(void)state;
	hn *h = net_new(12, 14, 2, 2);
	const size_t A = 2, B = 1;
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	ec_id b0 = head_of(h, 0), b1 = head_of(h, 1), b3 = head_of(h, 3);
	mut m = {.from = B, .to = A, .mode = MUT_REPLACE};
	size_t order[12], k = 0, n;

	fetch(h, A, 0, &b0);
	fetch(h, A, 1, &b1);
	assert_int_equal(ec_node_endorsements(N(A), &b0, e, 8), 1);
	fetch(h, A, 3, &b3);
	assert_int_equal(ec_node_endorsements(N(A), &b0, e, 8), 0); /* evicted */
	n = ec_node_endorsements(N(A), &b1, e, 8);
	assert_endorsers(h, e, n, (size_t[]){1}, 1, &b1);
	n = ec_node_endorsements(N(A), &b3, e, 8);
	assert_endorsers(h, e, n, (size_t[]){3}, 1, &b3);
	assert_true(store_has(h, A, &b0, 0)); /* the store keeps the block */

	/* per block: B's answers for b1 carry endorsements of all nodes but
	 * A, signed with their real keys: 8 in the first, the rest in the
	 * second; A ends with the 7 lowest ids of all 11 */
	for (size_t i = 0; i < h->n; i++)
		if (i != A)
			order[k++] = i;
	/* sort node indexes by id, highest first: the first answer brings
	 * the 8 highest, the second the 3 lowest */
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (ec_id_cmp(ID(order[j]), ID(order[i])) > 0) {
				size_t t = order[i];
				order[i] = order[j];
				order[j] = t;
			}
	for (size_t round = 0; round < 2; round++) {
		size_t lo = round ? 8 : 0, hi = round ? k : 8;
		m.n_repl = 0;
		for (size_t i = lo; i < hi; i++) {
			ec_endorsement *x = &m.repl[m.n_repl++];
			assert_int_equal(ec_endorsement_sign(x, &b1, h->nodes[order[i]].key.sk),
					 EC_OK);
			x->peer = *ID(order[i]);
		}
		qsort(m.repl, m.n_repl, sizeof m.repl[0], endorse_cmp);
		h->mutate = mutate;
		h->mutate_ctx = &m;
		fetch(h, A, B, &b1);
		h->mutate = NULL;
	}
	assert_int_equal(m.hits, 2);
	n = ec_node_endorsements(N(A), &b1, e, 8);
	{
		size_t low[7];
		for (size_t i = 0; i < 7; i++)
			low[i] = order[k - 1 - i];
		assert_endorsers(h, e, n, low, 7, &b1);
	}
	/* A serves b1 with its own and those 7: 8, the wire maximum */
	{
		mut m2 = {.from = A, .to = 5, .mode = MUT_PASS};
		ec_block_resp r;
		h->mutate = mutate;
		h->mutate_ctx = &m2;
		fetch(h, 5, A, &b1);
		assert_int_equal(ec_block_resp_decode(&r, m2.cap, m2.cap_len), EC_OK);
		assert_int_equal(r.n_endorse, EC_RESP_MAX_ENDORSE);
		for (unsigned i = 0; i < r.n_endorse; i++)
			assert_int_equal(ec_endorsement_verify(&r.endorse[i], &b1), EC_OK);
		ec_block_resp_free(&r);
		free(m2.cap);
		h->mutate = NULL;
	}
	free(m.cap);
	hn_free(h);
}

/* Spread: 16 nodes; C's head is first fetched from C by two nodes, then
 * in every round every node (C too: it learns the others' endorsements of
 * its own block that way) fetches it from a random other node that holds
 * it.  Endorsements per response grow round by round to the wire maximum
 * of 8 (the responder's own + the 7 lowest ids of its cache), and every
 * node ends with 7 collected endorsements (PROTOCOL 14b: measured numbers
 * in docs/RESULTS.md "Endorsements"). */
static void test_endorse_spread(void **state)
{
	(void)state;
	hn *h = net_new(16, 15, 0, 0);
	enum { R = 8 };
	const size_t C = 0;
	ec_id blk = head_of(h, C);
	ec_endorsement e[EC_RESP_MAX_ENDORSE];
	int holds[16] = {0};
	mut m = {.from = SIZE_MAX, .to = SIZE_MAX, .mode = MUT_PASS};
	double avg[R];
	h->mutate = mutate;
	h->mutate_ctx = &m;
	holds[C] = 1;
	for (size_t r = 0; r < R; r++) {
		size_t src[16], ns = 0;
		int got[16];
		m.hits = 0;
		m.n_endorse = 0;
		for (size_t i = 0; i < h->n; i++)
			if (holds[i])
				src[ns++] = i;
		for (size_t i = 0; i < h->n; i++) {
			size_t from;
			got[i] = 0;
			if (r == 0 && (i == C || i > 2))
				continue;
			do
				from = src[hn_rand(h) % ns];
			while (from == i);
			assert_int_equal(ec_node_fetch_block(N(i), ID(from), &blk,
							     EC_PRIO_VALIDATION, h->now),
					 EC_OK);
			got[i] = 1;
		}
		hn_run_until(h, h->now + 300);
		for (size_t i = 0; i < h->n; i++)
			holds[i] |= got[i];
		assert_true(m.hits > 0);
		avg[r] = (double)m.n_endorse / (double)m.hits;
		fprintf(stderr, "round %zu: %d responses, %.2f endorsements each\n", r,
			m.hits, avg[r]);
	}
	assert_true(avg[0] == 1.0); /* only C's own */
	for (size_t r = 1; r < R; r++)
		assert_true(avg[r] >= avg[r - 1]);
	assert_true(avg[R - 1] == (double)EC_RESP_MAX_ENDORSE);
	for (size_t i = 0; i < h->n; i++) {
		size_t n = ec_node_endorsements(N(i), &blk, e, EC_RESP_MAX_ENDORSE);
		assert_int_equal(n, EC_RESP_MAX_ENDORSE - 1);
		for (size_t j = 0; j < n; j++)
			assert_int_equal(ec_endorsement_verify(&e[j], &blk), EC_OK);
	}
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endorse_relay),
		cmocka_unit_test(test_endorse_rejects_bad),
		cmocka_unit_test(test_endorse_unbelieved),
		cmocka_unit_test(test_endorse_bounds),
		cmocka_unit_test(test_endorse_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
