/* test_reject.c - what a node tells the client about a transaction that
 * will not commit (PROTOCOL 16.1 "Transaction states"): the mempool's
 * bounded table of recent rejections, and the node's verdicts: refused at
 * submission (not owner, conflict lost, bad timestamp, mempool full),
 * judged while pending (a twin won), and noted when a client's
 * transaction expires (with the verdict of our state, else "expired").
 * The network runs in the in-process harness (tests/util/harness.h). */
#include <stdio.h>
#include <stdlib.h>

#include "ec/mempool.h"
#include "harness.h"
#include "testutil.h"

static ec_id idn(uint32_t k)
{
	ec_id id;
	memset(&id, 0, sizeof id);
	id.b[0] = 0xA5;
	memcpy(id.b + 1, &k, sizeof k);
	return id;
}

static void test_table(void **state)
{
	ec_mempool *mp;
	uint8_t r = 0;
	ec_time at = 0;
	ec_id a = idn(1);
	(void)state;
	assert_int_equal(ec_mempool_new(&mp, NULL), EC_OK);
	assert_int_equal(ec_mempool_rejected(mp, &a, &r, &at), EC_ERR_NOTFOUND);
	ec_mempool_note_rejected(mp, &a, EC_MP_R_NONE, 5);    /* ignored */
	ec_mempool_note_rejected(mp, &a, EC_MP_R_COUNT, 5);   /* ignored */
	assert_int_equal(ec_mempool_rejected(mp, &a, &r, &at), EC_ERR_NOTFOUND);
	ec_mempool_note_rejected(mp, &a, EC_MP_R_EXPIRED, 7);
	assert_int_equal(ec_mempool_rejected(mp, &a, &r, &at), EC_OK);
	assert_int_equal(r, EC_MP_R_EXPIRED);
	assert_int_equal(at, 7);
	/* noted again: reason and time replaced, still one entry */
	ec_mempool_note_rejected(mp, &a, EC_MP_R_CONFLICT, 9);
	assert_int_equal(ec_mempool_rejected(mp, &a, &r, NULL), EC_OK);
	assert_int_equal(r, EC_MP_R_CONFLICT);
	/* bounded: past EC_MP_REJECT_MAX the oldest go first */
	for (uint32_t k = 2; k < 2 + EC_MP_REJECT_MAX; k++) {
		ec_id x = idn(k);
		ec_mempool_note_rejected(mp, &x, EC_MP_R_FULL, 100 + k);
	}
	assert_int_equal(ec_mempool_rejected(mp, &a, &r, &at), EC_ERR_NOTFOUND);
	{
		ec_id first = idn(2), last = idn(1 + EC_MP_REJECT_MAX);
		assert_int_equal(ec_mempool_rejected(mp, &first, &r, &at), EC_OK);
		assert_int_equal(at, 102);
		assert_int_equal(ec_mempool_rejected(mp, &last, &r, &at), EC_OK);
		assert_int_equal(r, EC_MP_R_FULL);
	}
	{
		ec_id next = idn(2 + EC_MP_REJECT_MAX), first = idn(2), second = idn(3);
		ec_mempool_note_rejected(mp, &next, EC_MP_R_NOT_OWNER, 1);
		assert_int_equal(ec_mempool_rejected(mp, &first, &r, &at), EC_ERR_NOTFOUND);
		assert_int_equal(ec_mempool_rejected(mp, &second, &r, &at), EC_OK);
		assert_int_equal(ec_mempool_rejected(mp, &next, &r, &at), EC_OK);
		assert_int_equal(r, EC_MP_R_NOT_OWNER);
	}
	/* names are the RPC's reason strings */
	assert_string_equal(ec_mp_reason_name(EC_MP_R_FULL), "mempool_full");
	assert_string_equal(ec_mp_reason_name(EC_MP_R_NOT_OWNER), "not_owner");
	assert_string_equal(ec_mp_reason_name(EC_MP_R_CONFLICT), "conflict_lost");
	assert_string_equal(ec_mp_reason_name(EC_MP_R_TIMESTAMP), "bad_timestamp");
	assert_string_equal(ec_mp_reason_name(EC_MP_R_EXPIRED), "expired");
	assert_string_equal(ec_mp_reason_name(200), "none");
	ec_mempool_free(mp);
}

/* ---- the node's verdicts ------------------------------------------------ */

static int submit(hn *h, size_t i, const ec_tx *tx, uint8_t *reason)
{
	uint8_t *enc;
	size_t len;
	int err;
	assert_int_equal(ec_tx_encode(tx, &enc, &len), EC_OK);
	err = ec_node_submit_tx_checked(h->nodes[i].node, enc, len, h->now, reason);
	free(enc);
	return err;
}

static uint8_t verdict(hn *h, size_t i, const ec_id *txid)
{
	uint8_t r = 0;
	if (ec_node_tx_rejection(h->nodes[i].node, txid, &r, NULL) != EC_OK)
		return EC_MP_R_NONE;
	assert_int_not_equal(r, EC_MP_R_NONE);
	return r;
}

static uint8_t state_of(hn *h, size_t i, const ec_id *txid)
{
	ec_node_tx_info info;
	assert_int_equal(ec_node_tx_info_get(h->nodes[i].node, txid, &info), EC_OK);
	return info.state;
}

static void net(hn **h, size_t n)
{
	hn_cfg c;
	hn_cfg_default(&c);
	c.n_nodes = n;
	c.seed = 3;
	c.delay_ms = 2;
	c.jitter_ms = 2;
	c.block_interval_ms = 50;
	c.tx_timeout_ms = 4000;
	assert_int_equal(hn_new(h, &c), EC_OK);
	hn_run_until(*h, (*h)->now + 2000); /* identity tokens */
}

/* Creates token `tok` owned by o through node 0; asserts it committed. */
static void create(hn *h, const ec_id *tok, const hn_owner *o, ec_tx *out)
{
	hn_entry e = {*tok, {{0}}, o, NULL};
	uint8_t r = 0xff;
	assert_int_equal(hn_tx_build(out, h->now, &e, 1), EC_OK);
	assert_int_equal(submit(h, 0, out, &r), EC_OK);
	assert_int_equal(r, EC_MP_R_NONE);
	hn_run_until(h, h->now + 1500);
	assert_true(hn_committed(h, 0, &out->id));
	assert_int_equal(verdict(h, 0, &out->id), EC_MP_R_NONE);
}

static void test_refused_at_submission(void **state)
{
	hn *h;
	hn_owner alice, bob;
	ec_tx c0, t, ok;
	ec_id tok = idn(77);
	uint8_t r;
	(void)state;
	net(&h, 8);
	hn_owner_make(&alice, 1);
	hn_owner_make(&bob, 2);
	create(h, &tok, &alice, &c0);

	/* signed by bob, who does not own it: refused, noted */
	{
		hn_entry e = {tok, c0.id, &bob, &bob};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	r = 0;
	assert_int_equal(submit(h, 3, &t, &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_NOT_OWNER);
	assert_int_equal(verdict(h, 3, &t.id), EC_MP_R_NOT_OWNER);
	assert_int_equal(verdict(h, 4, &t.id), EC_MP_R_NONE); /* not submitted there */
	/* a forged signature stays a signature error */
	t.sigs[0].sig[5] ^= 1;
	r = 0xff;
	assert_int_equal(submit(h, 5, &t, &r), EC_ERR_SIGNATURE);
	assert_int_equal(r, EC_MP_R_NONE);

	/* the owner's key but a timestamp not after the creation's */
	{
		hn_entry e = {tok, c0.id, &bob, &alice};
		assert_int_equal(hn_tx_build(&t, c0.timestamp, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 2, &t, &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_TIMESTAMP);

	/* a second creation of the token: conflict lost */
	{
		hn_entry e = {tok, {{0}}, &bob, NULL};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 1, &t, &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_CONFLICT);

	/* the right key: accepted and committed, no verdict */
	{
		hn_entry e = {tok, c0.id, &bob, &alice};
		assert_int_equal(hn_tx_build(&ok, h->now, &e, 1), EC_OK);
	}
	r = 0xff;
	assert_int_equal(submit(h, 6, &ok, &r), EC_OK);
	assert_int_equal(r, EC_MP_R_NONE);
	assert_int_equal(verdict(h, 6, &ok.id), EC_MP_R_NONE); /* pending, may commit */
	hn_run_until(h, h->now + 1500);
	assert_true(hn_committed(h, 6, &ok.id));
	assert_int_equal(verdict(h, 6, &ok.id), EC_MP_R_NONE);

	/* alice again, spending the state bob now holds: not owner; and
	 * spending the creation (spent): conflict lost */
	{
		hn_entry e = {tok, ok.id, &alice, &alice};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 0, &t, &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_NOT_OWNER);
	{
		hn_entry e = {tok, c0.id, &alice, &alice};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 0, &t, &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_CONFLICT);
	/* a destroyed token: nobody owns it */
	{
		hn_entry e = {tok, ok.id, NULL, &bob};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 0, &t, &r), EC_OK);
	hn_run_until(h, h->now + 1500);
	assert_true(hn_committed(h, 0, &t.id));
	{
		ec_tx t2;
		hn_entry e = {tok, t.id, &alice, &bob};
		assert_int_equal(hn_tx_build(&t2, h->now, &e, 1), EC_OK);
		assert_int_equal(submit(h, 0, &t2, &r), EC_ERR_REFUSED);
		assert_int_equal(r, EC_MP_R_NOT_OWNER);
	}
	/* a committed transaction submitted again, after the token moved
	 * on and the pool forgot it: a duplicate, not a verdict */
	hn_run_until(h, h->now + 5000);
	assert_int_equal(state_of(h, 6, &ok.id), EC_NODE_TX_COMMITTED);
	r = 0xff;
	assert_int_equal(submit(h, 6, &ok, &r), EC_ERR_EXISTS);
	assert_int_equal(r, EC_MP_R_NONE);
	assert_int_equal(verdict(h, 6, &ok.id), EC_MP_R_NONE);
	hn_free(h);
}

/* Twins pending together: one commits; the other's verdict at the node
 * it was submitted to is "conflict lost" while it waits in the pool and,
 * noted when it expires, after it left. */
static void test_conflict_lost(void **state)
{
	hn *h;
	hn_owner alice, bob, carol;
	ec_tx c0, tw[2];
	ec_id tok = idn(91);
	uint8_t r;
	int win;
	(void)state;
	net(&h, 8);
	hn_owner_make(&alice, 1);
	hn_owner_make(&bob, 2);
	hn_owner_make(&carol, 3);
	create(h, &tok, &alice, &c0);
	for (int k = 0; k < 2; k++) {
		hn_entry e = {tok, c0.id, k ? &carol : &bob, &alice};
		assert_int_equal(hn_tx_build(&tw[k], h->now + (ec_time)k, &e, 1), EC_OK);
		assert_int_equal(submit(h, (size_t)(2 + 3 * k), &tw[k], &r), EC_OK);
		assert_int_equal(r, EC_MP_R_NONE);
	}
	hn_run_until(h, h->now + 1500);
	win = hn_committed(h, 2, &tw[0].id) ? 0 : 1;
	assert_true(hn_committed(h, 2, &tw[win].id));
	assert_true(hn_committed(h, 5, &tw[win].id));
	assert_false(hn_committed(h, 2, &tw[!win].id));
	/* the loser, at the node it was submitted to, still in the pool */
	assert_int_equal(verdict(h, (size_t)(2 + 3 * !win), &tw[!win].id), EC_MP_R_CONFLICT);
	assert_int_equal(verdict(h, (size_t)(2 + 3 * win), &tw[win].id), EC_MP_R_NONE);
	/* after the pool dropped it: from the table */
	hn_run_until(h, h->now + 5000);
	assert_int_equal(state_of(h, (size_t)(2 + 3 * !win), &tw[!win].id), EC_NODE_TX_UNKNOWN);
	assert_int_equal(verdict(h, (size_t)(2 + 3 * !win), &tw[!win].id), EC_MP_R_CONFLICT);
	assert_int_equal(verdict(h, (size_t)(2 + 3 * win), &tw[win].id), EC_MP_R_NONE);
	/* submitted again: refused at once */
	assert_int_equal(submit(h, 0, &tw[!win], &r), EC_ERR_REFUSED);
	assert_int_equal(r, EC_MP_R_CONFLICT);
	hn_free(h);
}

/* A transaction nobody can judge (prev unknown everywhere) expires:
 * "expired" from the table once the pool dropped it. */
static void test_expired(void **state)
{
	hn *h;
	hn_owner alice;
	ec_tx t;
	ec_id tok = idn(5), prev = idn(6);
	uint8_t r;
	(void)state;
	net(&h, 8);
	hn_owner_make(&alice, 1);
	{
		hn_entry e = {tok, prev, &alice, &alice};
		assert_int_equal(hn_tx_build(&t, h->now, &e, 1), EC_OK);
	}
	assert_int_equal(submit(h, 1, &t, &r), EC_OK);
	assert_int_equal(r, EC_MP_R_NONE);
	hn_run_until(h, h->now + 2000);
	assert_int_equal(state_of(h, 1, &t.id), EC_NODE_TX_PENDING);
	assert_int_equal(verdict(h, 1, &t.id), EC_MP_R_NONE); /* still open */
	hn_run_until(h, h->now + 4000);
	assert_int_equal(state_of(h, 1, &t.id), EC_NODE_TX_UNKNOWN);
	assert_int_equal(verdict(h, 1, &t.id), EC_MP_R_EXPIRED);
	/* only the submitting node's client is told; the relays note nothing */
	assert_int_equal(verdict(h, 4, &t.id), EC_MP_R_NONE);
	hn_free(h);
}

static void small_pool(void *ctx, size_t i, ec_node_cfg *nc)
{
	(void)ctx;
	(void)i;
	nc->mempool.max_entries = 3;
}

static void test_mempool_full(void **state)
{
	hn *h;
	hn_cfg c;
	hn_owner alice;
	ec_tx t[4];
	uint8_t r;
	(void)state;
	hn_cfg_default(&c);
	c.n_nodes = 4;
	c.identity_tx = 0;
	c.node_cfg = small_pool;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_owner_make(&alice, 1);
	for (uint32_t k = 0; k < 4; k++) {
		hn_entry e = {idn(200 + k), {{0}}, &alice, NULL};
		assert_int_equal(hn_tx_build(&t[k], h->now, &e, 1), EC_OK);
		r = 0xff;
		if (k < 3) {
			assert_int_equal(submit(h, 0, &t[k], &r), EC_OK);
			assert_int_equal(r, EC_MP_R_NONE);
		} else {
			assert_int_equal(submit(h, 0, &t[k], &r), EC_ERR_REFUSED);
			assert_int_equal(r, EC_MP_R_FULL);
			assert_int_equal(verdict(h, 0, &t[k].id), EC_MP_R_FULL);
		}
	}
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_refused_at_submission),
		cmocka_unit_test(test_conflict_lost),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_mempool_full),
	};
	assert_int_equal(ec_crypto_init(), EC_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
