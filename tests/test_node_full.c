/* test_node_full.c - a node whose store runs out of space (include/ec/node.h
 * "Store full"), on the in-memory network of tests/util/harness.h.
 *
 * Node 0's memory store is wrapped so that write batches fail on demand
 * with EC_ERR_FULL (at put, as a memory backend would, or at commit, as
 * LMDB does when the file system is full) or with EC_ERR_IO.  Asserted:
 *   - a FULL seal pauses writing instead of stopping the node: ticks return
 *     EC_OK, the paused block's transactions stay DECIDED (not committed),
 *     ec_node_head and hellos name the last stored block, block requests
 *     for the paused block are refused, no message of node 0 carries the
 *     paused block's id, and nothing new is decided meanwhile;
 *   - retries come on a doubling backoff (bounded count);
 *   - when space returns the very block that was signed is stored (same id
 *     at that height: nothing else was ever signed there), the paused
 *     transactions commit, transactions that arrived meanwhile are decided
 *     and commit after it, and the chain verifies;
 *   - a crash while paused restarts from the last stored block;
 *   - any other store error while sealing stays fatal. */
#include <stdlib.h>
#include <string.h>

#include "ec/chain.h"
#include "ec/node.h"
#include "harness.h"
#include "store/ec_store_int.h"
#include "testutil.h"

/* ---- the failing store -------------------------------------------------- */

enum { FAIL_NONE = 0, FAIL_PUT, FAIL_COMMIT };
static const struct ec_store_ops *g_orig; /* the wrapped backend's ops */
static int g_mode;                        /* FAIL_* */
static int g_err = EC_ERR_FULL;           /* what a failing write returns */
static uint64_t g_failed;                 /* write batches refused */

static int w_begin(ec_store *s, int write, void **impl)
{
	return g_orig->txn_begin(s, write, impl);
}

static int w_commit(ec_store *s, void *impl)
{
	if (g_mode == FAIL_COMMIT) {
		g_orig->txn_abort(s, impl);
		g_failed++;
		return g_err;
	}
	return g_orig->txn_commit(s, impl);
}

static void w_abort(ec_store *s, void *impl)
{
	g_orig->txn_abort(s, impl);
}

static int w_get(void *impl, int table, const uint8_t *k, size_t kn, const uint8_t **v,
		 size_t *vn)
{
	return g_orig->get(impl, table, k, kn, v, vn);
}

static int w_put(void *impl, int table, const uint8_t *k, size_t kn, const uint8_t *v,
		 size_t vn, int flags)
{
	if (g_mode == FAIL_PUT) {
		g_failed++;
		return g_err;
	}
	return g_orig->put(impl, table, k, kn, v, vn, flags);
}

static int w_del(void *impl, int table, const uint8_t *k, size_t kn)
{
	return g_orig->del(impl, table, k, kn);
}

static int w_iter(void *impl, int table, const uint8_t *start, size_t kn, size_t plen,
		  ec_kv_fn fn, void *ctx)
{
	return g_orig->iter(impl, table, start, kn, plen, fn, ctx);
}

static uint64_t w_txn_id(void *impl)
{
	return g_orig->txn_id(impl);
}

static const char *w_why(ec_store *s)
{
	return g_orig->why ? g_orig->why(s) : NULL;
}

static void w_close(ec_store *s)
{
	g_orig->close(s);
}

static const struct ec_store_ops wrap_ops = {
	.txn_begin = w_begin,
	.txn_commit = w_commit,
	.txn_abort = w_abort,
	.get = w_get,
	.put = w_put,
	.del = w_del,
	.iter = w_iter,
	.txn_id = w_txn_id,
	.why = w_why,
	.close = w_close,
};

static void wrap_store(ec_store *s)
{
	g_orig = s->ops;
	s->ops = &wrap_ops;
	g_mode = FAIL_NONE;
	g_err = EC_ERR_FULL;
	g_failed = 0;
}

/* ---- watching node 0's messages ------------------------------------------ */

typedef struct watch {
	ec_id secret;   /* an id that must not leave node 0 (zero = none) */
	uint64_t leaks; /* messages of node 0 carrying it */
	uint64_t sent;  /* messages of node 0 */
	uint8_t nonce[EC_NONCE_BYTES];
	uint8_t answer; /* type of node 0's answer carrying nonce to node 1 */
} watch;

static int has_bytes(const uint8_t *m, size_t len, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i + n <= len; i++)
		if (!memcmp(m + i, b, n))
			return 1;
	return 0;
}

static int watch_drop(void *ctx, const hn *h, size_t from, size_t to, const uint8_t *msg,
		      size_t len)
{
	watch *w = ctx;
	(void)h;
	if (from != 0)
		return 0;
	w->sent++;
	if (!ec_id_is_zero(&w->secret) && has_bytes(msg, len, w->secret.b, 32))
		w->leaks++;
	if (to == 1 && len > 0 && (msg[0] == EC_MSG_BLOCK_RESP || msg[0] == EC_MSG_REFUSAL) &&
	    has_bytes(msg, len, w->nonce, EC_NONCE_BYTES))
		w->answer = msg[0];
	return 0;
}

/* Node 1 asks node 0 for block `id`; returns the type of the answer. */
static uint8_t ask_block(hn *h, watch *w, const ec_id *id, uint8_t tag)
{
	ec_block_req q;
	uint8_t *enc;
	size_t len;
	memset(&q, 0, sizeof q);
	q.block_id = *id;
	q.priority = EC_PRIO_VALIDATION;
	q.auth.requester = h->nodes[1].ident.peer_id;
	q.auth.timestamp = h->now;
	memset(q.auth.nonce, tag, EC_NONCE_BYTES);
	memcpy(q.auth.pk, h->nodes[1].key.pk, 32);
	assert_int_equal(ec_block_req_sign(&q, h->nodes[1].key.sk), EC_OK);
	assert_int_equal(ec_block_req_encode(&q, &enc, &len), EC_OK);
	memcpy(w->nonce, q.auth.nonce, EC_NONCE_BYTES);
	w->answer = 0;
	hn_inject(h, &h->nodes[1].ident.peer_id, 0, enc, len, h->now + 1);
	free(enc);
	hn_run_until(h, h->now + 200);
	return w->answer;
}

/* ---- set-up --------------------------------------------------------------- */

static hn_owner g_owner;

static hn *net_new(void)
{
	hn_cfg c;
	hn *h;
	hn_cfg_default(&c);
	c.n_nodes = 5;
	c.seed = 13;
	c.tx_timeout_ms = 60000;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_run_until(h, c.start + 3000); /* identity tokens */
	wrap_store(h->nodes[0].store);
	hn_owner_make(&g_owner, 5);
	return h;
}

/* A one-token creation submitted to node `to` (not 0: node 0's own
 * submissions are not what is tested). */
static void create(hn *h, ec_tx *tx, uint64_t seed, size_t to)
{
	hn_entry e;
	uint64_t s = seed;
	memset(&e, 0, sizeof e);
	tu_rand_bytes(&s, e.token.b, 32);
	e.next = &g_owner;
	assert_int_equal(hn_tx_build(tx, h->now, &e, 1), EC_OK);
	hn_submit_tx(h, to, tx, h->now + 1);
}

static uint8_t state_at(hn *h, size_t i, const ec_id *txid)
{
	ec_node_tx_info ti;
	assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, txid, &ti), EC_OK);
	return ti.state;
}

static int committed_on_others(hn *h, const ec_id *txid)
{
	for (size_t i = 1; i < h->n; i++)
		if (!hn_committed(h, i, txid))
			return 0;
	return 1;
}

/* A fresh network whose node 0 is paused: its store refuses commits
 * (FULL) while tx a (seed) is sealed.  *ss = node 0's store state. */
static hn *paused_net(ec_tx *a, uint64_t seed, ec_node_store_state *ss)
{
	hn *h = net_new();
	g_mode = FAIL_COMMIT;
	create(h, a, seed, 1);
	hn_run_until(h, h->now + 2000);
	ec_node_store_state_get(h->nodes[0].node, ss);
	assert_int_equal(ss->paused, 1);
	return h;
}

static void store_head(hn *h, ec_id *id, uint64_t *height)
{
	ec_store_txn *t;
	assert_int_equal(ec_store_txn_begin(h->nodes[0].store, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_head(t, &h->nodes[0].ident.peer_id, id, height), EC_OK);
	ec_store_txn_abort(t);
}

/* ---- tests ------------------------------------------------------------------ */

static void full_pause_resume(int mode)
{
	hn *h = net_new();
	watch w;
	ec_tx a, b, c;
	ec_id head0, head, id;
	uint64_t h0, height, len;
	ec_node_store_state ss;
	const ec_node_stats *st = ec_node_stats_get(h->nodes[0].node);
	uint64_t sealed0, retries;

	memset(&w, 0, sizeof w);
	h->drop = watch_drop;
	h->drop_ctx = &w;
	store_head(h, &head0, &h0);

	/* the disk fills: tx a is decided and sealed, its write fails */
	g_mode = mode;
	sealed0 = st->blocks_sealed;
	create(h, &a, 100, 1);
	hn_run_until(h, h->now + 2000);
	assert_true(committed_on_others(h, &a.id));
	assert_true(g_failed > 0);
	ec_node_store_state_get(h->nodes[0].node, &ss);
	assert_int_equal(ss.paused, 1);
	assert_int_equal(ss.height, h0 + 1);
	assert_int_equal(st->store_full_pauses, 1);
	assert_int_equal(st->blocks_sealed, sealed0);
	assert_int_equal(ec_node_tick(h->nodes[0].node, h->now), EC_OK);
	assert_int_equal(state_at(h, 0, &a.id), EC_NODE_TX_DECIDED);
	assert_false(hn_committed(h, 0, &a.id));
	/* the head reported (and put in hellos) is the stored one */
	assert_int_equal(ec_node_head(h->nodes[0].node, &head, &height), EC_OK);
	assert_true(ec_id_eq(&head, &head0));
	assert_int_equal(height, h0);
	w.secret = ss.block;
	assert_int_equal(ec_node_send_hello(h->nodes[0].node, &h->nodes[1].ident.peer_id,
					    h->now),
			 EC_OK);
	/* reads go on from the store: the stored head is served, the paused
	 * block is not (refused: the store does not hold it) */
	assert_int_equal(ask_block(h, &w, &head0, 0x31), EC_MSG_BLOCK_RESP);
	assert_int_equal(ask_block(h, &w, &ss.block, 0x32), EC_MSG_REFUSAL);

	/* while paused: b arrives and commits elsewhere, not decided here */
	create(h, &b, 200, 2);
	hn_run_until(h, h->now + 3000);
	assert_true(committed_on_others(h, &b.id));
	assert_int_equal(state_at(h, 0, &b.id), EC_NODE_TX_PENDING);
	assert_int_equal(state_at(h, 0, &a.id), EC_NODE_TX_DECIDED);

	/* backoff: 1, 2, 4, 8, 10, 10... s; in 40 s at most 8 retries */
	retries = st->store_retries_failed;
	hn_run_until(h, h->now + 40000);
	ec_node_store_state_get(h->nodes[0].node, &ss);
	assert_int_equal(ss.paused, 1);
	assert_true(st->store_retries_failed > retries);
	assert_true(st->store_retries_failed - retries <= 8);
	assert_true(ss.next_retry > h->now && ss.next_retry <= h->now + EC_NODE_STORE_RETRY_MAX_MS);
	assert_int_equal(ss.retries, st->store_retries_failed);
	assert_int_equal(ec_node_tick(h->nodes[0].node, h->now), EC_OK);
	assert_int_equal(w.leaks, 0);
	assert_true(w.sent > 0);

	/* space returns: the signed block is stored as it was, then b */
	g_mode = FAIL_NONE;
	hn_run_until(h, h->now + EC_NODE_STORE_RETRY_MAX_MS + 3000);
	ec_node_store_state_get(h->nodes[0].node, &ss);
	assert_int_equal(ss.paused, 0);
	assert_true(hn_committed(h, 0, &a.id));
	assert_true(hn_committed(h, 0, &b.id));
	{
		ec_store_txn *t;
		assert_int_equal(ec_store_txn_begin(h->nodes[0].store, 0, &t), EC_OK);
		assert_int_equal(ec_store_get_block_at(t, &h->nodes[0].ident.peer_id, h0 + 1,
						       &id),
				 EC_OK);
		ec_store_txn_abort(t);
		assert_true(ec_id_eq(&id, &w.secret));
	}
	store_head(h, &head, &height);
	assert_true(height >= h0 + 2);
	assert_int_equal(hn_verify_chain(h, 0, &len), EC_OK);
	assert_int_equal(len, height + 1);

	/* and the node goes on committing */
	create(h, &c, 300, 3);
	hn_run_until(h, h->now + 2000);
	assert_true(hn_committed(h, 0, &c.id));
	assert_true(committed_on_others(h, &c.id));
	hn_free(h);
}

static void test_full_at_commit(void **state)
{
	(void)state;
	full_pause_resume(FAIL_COMMIT);
}

static void test_full_at_put(void **state)
{
	(void)state;
	full_pause_resume(FAIL_PUT);
}

/* A crash while paused: the paused block was never written nor disclosed;
 * the node restarts from the last stored block and commits again. */
static void test_crash_while_paused(void **state)
{
	hn *h;
	ec_tx a, c;
	ec_id head0, head;
	uint64_t h0, height, len;
	ec_node_store_state ss;
	(void)state;
	h = paused_net(&a, 400, &ss);
	store_head(h, &head0, &h0); /* the paused block is not stored */
	assert_int_equal(h0 + 1, ss.height);
	g_mode = FAIL_NONE;
	assert_int_equal(hn_restart_node(h, 0), EC_OK);
	ec_node_store_state_get(h->nodes[0].node, &ss);
	assert_int_equal(ss.paused, 0);
	assert_int_equal(ec_node_head(h->nodes[0].node, &head, &height), EC_OK);
	assert_true(ec_id_eq(&head, &head0));
	assert_false(hn_committed(h, 0, &a.id));
	create(h, &c, 500, 2);
	hn_run_until(h, h->now + 3000);
	assert_true(hn_committed(h, 0, &c.id));
	assert_int_equal(hn_verify_chain(h, 0, &len), EC_OK);
	assert_true(len >= h0 + 2);
	hn_free(h);
}

/* Any other store error while sealing stops the node, as before. */
static void test_io_error_fatal(void **state)
{
	hn *h = net_new();
	ec_tx a;
	ec_node_store_state ss;
	(void)state;
	g_mode = FAIL_COMMIT;
	g_err = EC_ERR_IO;
	create(h, &a, 600, 1);
	hn_run_until(h, h->now + 2000);
	assert_true(g_failed > 0);
	assert_int_equal(ec_node_tick(h->nodes[0].node, h->now), EC_ERR_IO);
	ec_node_store_state_get(h->nodes[0].node, &ss);
	assert_int_equal(ss.paused, 0);
	assert_false(hn_committed(h, 0, &a.id));
	assert_true(committed_on_others(h, &a.id));
	/* also when the pause's retry meets an IO error */
	hn_free(h);
	h = paused_net(&a, 700, &ss);
	g_err = EC_ERR_IO;
	hn_run_until(h, ss.next_retry + 100);
	assert_int_equal(ec_node_tick(h->nodes[0].node, h->now), EC_ERR_IO);
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_at_commit),
		cmocka_unit_test(test_full_at_put),
		cmocka_unit_test(test_crash_while_paused),
		cmocka_unit_test(test_io_error_fatal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
