/* test_store.c - one suite, run against both store backends (memory and
 * LMDB): blocks and the (creator, height) index, heads, transactions and
 * the tx index, token state, proofs, peer records, sync progress, abort,
 * atomic visibility, the own-commit batch, txn rules.  Plus the two-slot
 * token transitions, table-driven, every row of upstream_notes.md §6.2,
 * checked on the pure function and through both backends. */
#include <stdio.h>
#include <stdlib.h>

#include "ec/crypto.h"
#include "testutil.h"
#include "tu_store.h"

static int g_lmdb; /* backend of the group being run */

typedef struct fixture {
	ec_store *s;
	char dir[256];
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	if (g_lmdb) {
		tu_tmpdir(f->dir, sizeof f->dir, "ec-test-store");
		assert_int_equal(ec_store_open_lmdb(&f->s, f->dir, NULL), EC_OK);
	} else {
		assert_int_equal(ec_store_open_memory(&f->s), EC_OK);
	}
	assert_int_equal(ec_store_format(f->s), EC_STORE_FORMAT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	ec_store_close(f->s);
	if (g_lmdb)
		tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* A chain of n blocks of creator c, one 2-tx... txs per block. */
static void make_chain(ec_block *blocks, ec_tx *txs, unsigned n, unsigned per,
		       const ec_id *c, uint64_t seed)
{
	for (unsigned h = 0; h < n; h++) {
		for (unsigned i = 0; i < per; i++)
			tu_make_tx(&txs[h * per + i], seed + h * per + i, 1 + i % 3,
				   1000 + h);
		tu_make_block(&blocks[h], c, h, h ? &blocks[h - 1].id : NULL, 1000 + h,
			      &txs[h * per], per);
	}
}

/* ---- blocks and heads ----------------------------------------------------- */

static int collect_chain(void *ctx, uint64_t height, const ec_id *id)
{
	uint64_t *hs = ctx;
	hs[++hs[0]] = height;
	(void)id;
	return hs[0] == 3 && height == 1000 ? 99 : 0;
}

static void test_blocks(void **state)
{
	fixture *f = *state;
	ec_id c, other;
	ec_block b[5], back, fork;
	ec_tx txs[10];
	ec_store_txn *t;
	const uint8_t *p;
	size_t n;
	uint8_t enc[EC_BLOCK_MAX_BYTES];
	ec_id at;

	tu_id(&c, "creator", 1);
	tu_id(&other, "creator", 2);
	make_chain(b, txs, 5, 2, &c, 100);

	t = tu_wtxn(f->s);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ec_store_put_block(t, &b[i], NULL, 0), EC_OK);
	/* idempotent */
	assert_int_equal(ec_store_put_block(t, &b[2], NULL, 0), EC_OK);
	/* a different block at an occupied (creator, height): a fork, refused */
	fork = b[3];
	fork.timestamp++;
	ec_block_compute_id(&fork, &fork.id);
	assert_int_equal(ec_store_put_block(t, &fork, NULL, 0), EC_ERR_EXISTS);
	assert_int_equal(ec_store_has_block(t, &fork.id), 0);
	/* explicit encoding */
	{
		ec_block ob = b[0];
		ob.creator = other;
		ec_block_compute_id(&ob, &ob.id);
		size_t len = ec_block_encode_to(&ob, enc);
		assert_int_equal(ec_store_put_block(t, &ob, enc, len), EC_OK);
	}
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ec_store_get_block(t, &b[i].id, &back), EC_OK);
		assert_memory_equal(back.id.b, b[i].id.b, 32);
		assert_int_equal(back.height, (uint64_t)i);
		assert_int_equal(ec_store_get_block_raw(t, &b[i].id, &p, &n), EC_OK);
		assert_int_equal(n, ec_block_encode_to(&b[i], enc));
		assert_memory_equal(p, enc, n);
		assert_int_equal(ec_store_get_block_at(t, &c, (uint64_t)i, &at), EC_OK);
		assert_true(ec_id_eq(&at, &b[i].id));
		assert_int_equal(ec_store_has_block(t, &b[i].id), 1);
	}
	assert_int_equal(ec_store_get_block_at(t, &c, 5, &at), EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_get_block(t, &fork.id, &back), EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_get_block_at(t, &other, 0, &at), EC_OK);
	/* chain iteration: ascending from a height, only that creator */
	{
		uint64_t hs[16] = {0};
		assert_int_equal(ec_store_iter_chain(t, &c, 2, collect_chain, hs), 0);
		assert_int_equal(hs[0], 3);
		assert_int_equal(hs[1], 2);
		assert_int_equal(hs[2], 3);
		assert_int_equal(hs[3], 4);
		memset(hs, 0, sizeof hs);
		assert_int_equal(ec_store_iter_chain(t, &other, 0, collect_chain, hs), 0);
		assert_int_equal(hs[0], 1);
	}
	ec_store_txn_abort(t);
}

static int collect_heads(void *ctx, const ec_id *creator, const ec_id *id,
			 uint64_t height)
{
	ec_id *last = ctx;
	if (!ec_id_is_zero(last))
		assert_true(ec_id_cmp(last, creator) < 0);
	*last = *creator;
	last[1].b[0]++;
	return 0;
}

static void test_heads(void **state)
{
	fixture *f = *state;
	ec_id c[3], id;
	ec_block b[3][3];
	ec_tx txs[3][3];
	ec_store_txn *t;
	uint64_t h;

	t = tu_wtxn(f->s);
	for (int k = 0; k < 3; k++) {
		tu_id(&c[k], "creator", (uint64_t)k + 10);
		make_chain(b[k], txs[k], 3, 1, &c[k], 1000 * (uint64_t)k);
		for (int i = 0; i < 3; i++)
			assert_int_equal(ec_store_put_block(t, &b[k][i], NULL, 0), EC_OK);
	}
	assert_int_equal(ec_store_get_head(t, &c[0], &id, &h), EC_ERR_NOTFOUND);
	/* a head must point at a stored block of that chain and height */
	assert_int_equal(ec_store_set_head(t, &c[0], &b[0][2].id, 1), EC_ERR_VALUE);
	assert_int_equal(ec_store_set_head(t, &c[0], &b[0][2].id, 7), EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_set_head(t, &c[0], &b[1][2].id, 2), EC_ERR_VALUE);
	for (int k = 0; k < 3; k++)
		assert_int_equal(ec_store_set_head(t, &c[k], &b[k][1].id, 1), EC_OK);
	assert_int_equal(ec_store_set_head(t, &c[1], &b[1][2].id, 2), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_head(t, &c[0], &id, &h), EC_OK);
	assert_true(ec_id_eq(&id, &b[0][1].id));
	assert_int_equal(h, 1);
	assert_int_equal(ec_store_get_head(t, &c[1], &id, &h), EC_OK);
	assert_true(ec_id_eq(&id, &b[1][2].id));
	assert_int_equal(h, 2);
	{
		ec_id acc[2];
		memset(acc, 0, sizeof acc);
		assert_int_equal(ec_store_iter_heads(t, collect_heads, acc), 0);
		assert_int_equal(acc[1].b[0], 3);
	}
	ec_store_txn_abort(t);
}

/* ---- transactions and the index ------------------------------------------------ */

static void test_txs_and_index(void **state)
{
	fixture *f = *state;
	ec_tx tx[4], back;
	ec_id blk, got;
	uint8_t pos;
	ec_store_txn *t;
	const uint8_t *p;
	size_t n;
	uint8_t *enc;
	size_t len;

	for (int i = 0; i < 4; i++)
		tu_make_tx(&tx[i], 500 + (uint64_t)i, 1 + (unsigned)i, 77);
	tu_id(&blk, "block", 1);
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_tx(t, &tx[0], NULL, 0), EC_OK);
	assert_int_equal(ec_store_put_tx(t, &tx[0], NULL, 0), EC_OK); /* idempotent */
	assert_int_equal(ec_tx_encode(&tx[1], &enc, &len), EC_OK);
	assert_int_equal(ec_store_put_tx(t, &tx[1], enc, len), EC_OK);
	free(enc);
	assert_int_equal(ec_store_put_tx(t, &tx[3], NULL, 0), EC_OK);
	assert_int_equal(ec_store_put_tx_index(t, &tx[0].id, &blk, 0), EC_OK);
	assert_int_equal(ec_store_put_tx_index(t, &tx[1].id, &blk, 31), EC_OK);
	assert_int_equal(ec_store_put_tx_index(t, &tx[1].id, &blk, 32), EC_ERR_ARG);
	/* reads inside the write txn see its own writes */
	assert_int_equal(ec_store_get_tx(t, &tx[0].id, &back), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	for (int i = 0; i < 4; i++) {
		if (i == 2) {
			assert_int_equal(ec_store_get_tx(t, &tx[i].id, &back), EC_ERR_NOTFOUND);
			continue;
		}
		assert_int_equal(ec_store_get_tx(t, &tx[i].id, &back), EC_OK);
		assert_true(ec_id_eq(&back.id, &tx[i].id));
		assert_int_equal(back.n_entries, tx[i].n_entries);
		assert_int_equal(ec_store_get_tx_raw(t, &tx[i].id, &p, &n), EC_OK);
		assert_int_equal(ec_tx_encode(&tx[i], &enc, &len), EC_OK);
		assert_int_equal(n, len);
		assert_memory_equal(p, enc, n);
		free(enc);
	}
	assert_int_equal(ec_store_get_tx_index(t, &tx[1].id, &got, &pos), EC_OK);
	assert_true(ec_id_eq(&got, &blk));
	assert_int_equal(pos, 31);
	assert_int_equal(ec_store_get_tx_index(t, &tx[3].id, &got, &pos), EC_ERR_NOTFOUND);
	ec_store_txn_abort(t);
}

/* ---- proofs, peers, progress --------------------------------------------------------- */

static void test_proofs(void **state)
{
	fixture *f = *state;
	ec_id b1, b2;
	size_t big = 300000, n;
	uint8_t *data = malloc(big);
	const uint8_t *p;
	uint64_t seed = 5;
	ec_store_txn *t;
	assert_non_null(data);
	tu_rand_bytes(&seed, data, big);
	tu_id(&b1, "block", 1);
	tu_id(&b2, "block", 2);
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_proof(t, &b1, data, 100), EC_OK);
	assert_int_equal(ec_store_put_proof(t, &b2, data, big), EC_OK);
	assert_int_equal(ec_store_put_proof(t, &b2, data, 0), EC_ERR_ARG);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_proof_raw(t, &b1, &p, &n), EC_OK);
	assert_int_equal(n, 100);
	assert_memory_equal(p, data, 100);
	assert_int_equal(ec_store_get_proof_raw(t, &b2, &p, &n), EC_OK);
	assert_int_equal(n, big);
	assert_memory_equal(p, data, big);
	tu_id(&b1, "block", 3);
	assert_int_equal(ec_store_get_proof_raw(t, &b1, &p, &n), EC_ERR_NOTFOUND);
	ec_store_txn_abort(t);
	free(data);
}

static void make_peer(ec_peer_rec *p, uint64_t i)
{
	uint64_t seed = i;
	memset(p, 0, sizeof(*p));
	tu_id(&p->peer, "peer", i);
	snprintf(p->addr, sizeof p->addr, "10.0.%u.%u:7000", (unsigned)(i >> 8) & 255,
		 (unsigned)i & 255);
	tu_rand_bytes(&seed, p->sign_pk, 32);
	tu_rand_bytes(&seed, p->kx_pk, 32);
	tu_id(&p->head, "head", i);
	p->height = 1000 + i;
	p->head_seen = 5000 + i;
	p->last_seen = 6000 + i;
	p->n_requests = 10 * i;
	p->n_responses = 9 * i;
	p->n_failures = i;
	p->rtt_ms = 12.5 + (double)i;
	p->reputation = -0.25 * (double)i;
}

static int collect_peers(void *ctx, const ec_peer_rec *p)
{
	ec_peer_rec *acc = ctx; /* acc[0].height counts, acc[1] is the last */
	if (acc[0].height)
		assert_true(ec_id_cmp(&acc[1].peer, &p->peer) < 0);
	acc[1] = *p;
	acc[0].height++;
	return 0;
}

static void test_peers(void **state)
{
	fixture *f = *state;
	ec_peer_rec p, q, acc[2];
	ec_store_txn *t;
	t = tu_wtxn(f->s);
	for (uint64_t i = 0; i < 20; i++) {
		make_peer(&p, i);
		assert_int_equal(ec_store_put_peer(t, &p), EC_OK);
	}
	make_peer(&p, 3);
	memset(p.addr, 'x', sizeof p.addr); /* not terminated */
	assert_int_equal(ec_store_put_peer(t, &p), EC_ERR_ARG);
	memset(p.addr, 'a', EC_PEER_ADDR_MAX); /* longest allowed */
	p.addr[EC_PEER_ADDR_MAX] = 0;
	assert_int_equal(ec_store_put_peer(t, &p), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_wtxn(f->s);
	tu_id(&q.peer, "peer", 7);
	assert_int_equal(ec_store_del_peer(t, &q.peer), EC_OK);
	assert_int_equal(ec_store_del_peer(t, &q.peer), EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	make_peer(&p, 5);
	assert_int_equal(ec_store_get_peer(t, &p.peer, &q), EC_OK);
	assert_memory_equal(&p, &q, sizeof p); /* every field round-trips */
	make_peer(&p, 3);
	assert_int_equal(ec_store_get_peer(t, &p.peer, &q), EC_OK);
	assert_int_equal(strlen(q.addr), EC_PEER_ADDR_MAX);
	make_peer(&p, 7);
	assert_int_equal(ec_store_get_peer(t, &p.peer, &q), EC_ERR_NOTFOUND);
	memset(acc, 0, sizeof acc);
	assert_int_equal(ec_store_iter_peers(t, collect_peers, acc), 0);
	assert_int_equal(acc[0].height, 19);
	ec_store_txn_abort(t);
}

static int count_progress(void *ctx, const ec_sync_progress *p)
{
	(*(int *)ctx)++;
	return 0;
}

static void test_progress(void **state)
{
	fixture *f = *state;
	ec_sync_progress p, q;
	ec_store_txn *t;
	int count = 0;
	memset(&p, 0, sizeof p);
	tu_id(&p.chain, "creator", 1);
	tu_id(&p.head, "head", 1);
	p.head_height = 900;
	tu_id(&p.low, "low", 1);
	p.low_height = 450;
	p.started = 123456;
	p.updated = 123999;
	p.complete = 0;
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_progress(t, &p), EC_OK);
	p.complete = 2;
	assert_int_equal(ec_store_put_progress(t, &p), EC_ERR_ARG);
	p.complete = 1;
	tu_id(&p.chain, "creator", 2);
	assert_int_equal(ec_store_put_progress(t, &p), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_progress(t, &p.chain, &q), EC_OK);
	assert_memory_equal(&p, &q, sizeof p);
	assert_int_equal(ec_store_iter_progress(t, count_progress, &count), 0);
	assert_int_equal(count, 2);
	ec_store_txn_abort(t);

	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_del_progress(t, &p.chain), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_progress(t, &p.chain, &q), EC_ERR_NOTFOUND);
	ec_store_txn_abort(t);
}

/* ---- batches ------------------------------------------------------------------------- */

static void test_abort_discards(void **state)
{
	fixture *f = *state;
	ec_id c, tok, peer;
	ec_block b[2];
	ec_tx txs[2];
	ec_token_state st;
	ec_peer_rec pr;
	ec_store_txn *t;
	ec_id id;
	uint64_t h;
	tu_id(&c, "creator", 1);
	make_chain(b, txs, 2, 1, &c, 1);
	tu_id(&tok, "token", 1);
	make_peer(&pr, 1);
	peer = pr.peer;

	/* committed baseline: block 0 and its head */
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_own_block(t, &b[0], NULL, 0, &txs[0]), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_own_block(t, &b[1], NULL, 0, &txs[1]), EC_OK);
	assert_int_equal(ec_store_set_local(t, &tok, &txs[1].id, &txs[0].id, 9), EC_OK);
	assert_int_equal(ec_store_put_peer(t, &pr), EC_OK);
	ec_store_txn_abort(t);

	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_has_block(t, &b[1].id), 0);
	assert_int_equal(ec_store_get_head(t, &c, &id, &h), EC_OK);
	assert_true(ec_id_eq(&id, &b[0].id));
	assert_int_equal(h, 0);
	assert_int_equal(ec_store_get_token(t, &tok, &st), EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_get_tx_raw(t, &txs[1].id, &(const uint8_t *){0},
					     &(size_t){0}),
			 EC_ERR_NOTFOUND);
	assert_int_equal(ec_store_get_peer(t, &peer, &pr), EC_ERR_NOTFOUND);
	ec_store_txn_abort(t);

	/* a write txn can be started again after an abort */
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_own_block(t, &b[1], NULL, 0, &txs[1]), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_head(t, &c, &id, &h), EC_OK);
	assert_int_equal(h, 1);
	ec_store_txn_abort(t);
}

static void test_atomic_visibility(void **state)
{
	fixture *f = *state;
	ec_id c, id;
	ec_block b[4];
	ec_tx txs[8];
	ec_store_txn *w, *r;
	uint64_t h;
	tu_id(&c, "creator", 1);
	make_chain(b, txs, 4, 2, &c, 40);

	w = tu_wtxn(f->s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_store_put_own_block(w, &b[i], NULL, 0, &txs[2 * i]),
				 EC_OK);
	/* a reader during the batch sees none of it */
	r = tu_rtxn(f->s);
	assert_int_equal(ec_store_has_block(r, &b[0].id), 0);
	assert_int_equal(ec_store_get_head(r, &c, &id, &h), EC_ERR_NOTFOUND);
	ec_store_txn_abort(r);
	/* the writer sees all of it */
	assert_int_equal(ec_store_has_block(w, &b[3].id), 1);
	assert_int_equal(ec_store_txn_commit(w), EC_OK);
	/* after commit, a new reader sees all of it */
	r = tu_rtxn(f->s);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_store_has_block(r, &b[i].id), 1);
	assert_int_equal(ec_store_get_head(r, &c, &id, &h), EC_OK);
	assert_int_equal(h, 3);
	ec_store_txn_abort(r);
}

static void test_own_commit_batch(void **state)
{
	fixture *f = *state;
	ec_id c, id, blk;
	ec_block b;
	ec_tx txs[3], back;
	ec_token_state st;
	ec_store_txn *t;
	uint64_t h;
	uint8_t pos;
	tu_id(&c, "creator", 9);
	for (int i = 0; i < 3; i++)
		tu_make_tx(&txs[i], 900 + (uint64_t)i, 2 + (unsigned)i, 50 + (uint64_t)i);
	tu_make_block(&b, &c, 0, NULL, 60, txs, 3);

	/* a sync report of the first token first: pending, then overridden */
	t = tu_wtxn(f->s);
	{
		ec_id peer, big;
		int ch;
		tu_id(&peer, "peer", 1);
		memset(big.b, 0xff, 32);
		assert_int_equal(ec_store_apply_sync_update(t, &txs[0].entries[0].token, &big,
							    &big, 1, &peer, &ch),
				 EC_OK);
		assert_int_equal(ch, EC_TOKEN_PENDING_SET);
	}
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	/* wrong transaction list: refused, nothing written */
	t = tu_wtxn(f->s);
	{
		ec_tx wrong[3] = {txs[1], txs[0], txs[2]};
		assert_int_equal(ec_store_put_own_block(t, &b, NULL, 0, wrong), EC_ERR_ID);
	}
	assert_int_equal(ec_store_put_own_block(t, &b, NULL, 0, txs), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_head(t, &c, &id, &h), EC_OK);
	assert_true(ec_id_eq(&id, &b.id));
	assert_int_equal(h, 0);
	assert_int_equal(ec_store_get_block_at(t, &c, 0, &id), EC_OK);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(ec_store_get_tx(t, &txs[i].id, &back), EC_OK);
		assert_int_equal(ec_store_get_tx_index(t, &txs[i].id, &blk, &pos), EC_OK);
		assert_true(ec_id_eq(&blk, &b.id));
		assert_int_equal(pos, i);
		for (unsigned e = 0; e < txs[i].n_entries; e++) {
			assert_int_equal(ec_store_get_token(t, &txs[i].entries[e].token, &st),
					 EC_OK);
			assert_int_equal(st.has_current, 1);
			assert_int_equal(st.has_pending, 0); /* own commit clears it */
			assert_int_equal(st.current.source, EC_TOKEN_LOCAL);
			assert_true(ec_id_eq(&st.current.txid, &txs[i].id));
			assert_int_equal(st.current.time, txs[i].timestamp);
		}
	}
	ec_store_txn_abort(t);
}

/* Own commit with a responsibility mask: Local only where the mask's bit
 * is set; the other tokens keep whatever state they had (here: none, or a
 * Pending sync report); bodies, tx index and head as always. */
static void test_own_commit_local_mask(void **state)
{
	fixture *f = *state;
	ec_id c, id, blk, peer, other;
	ec_block b;
	ec_tx txs[3];
	ec_token_state st;
	ec_store_txn *t;
	uint64_t h;
	uint8_t pos;
	/* tx 0: entries 0 and 2 ours; tx 1: none; tx 2: all (3 entries) */
	const uint8_t mask[3] = {0x05, 0x00, 0x07};
	tu_id(&c, "creator", 10);
	tu_id(&peer, "peer", 2);
	tu_id(&other, "other", 3);
	tu_make_tx(&txs[0], 1900, 3, 70);
	tu_make_tx(&txs[1], 1901, 2, 71);
	tu_make_tx(&txs[2], 1902, 3, 72);
	tu_make_block(&b, &c, 0, NULL, 80, txs, 3);

	/* a Pending report on a token outside our mask stays untouched */
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_apply_sync_update(t, &txs[1].entries[0].token, &other,
						    &other, 1, &peer, NULL),
			 EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_own_block_mask(t, &b, NULL, 0, txs, NULL, NULL, mask),
			 EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	t = tu_rtxn(f->s);
	assert_int_equal(ec_store_get_head(t, &c, &id, &h), EC_OK);
	assert_true(ec_id_eq(&id, &b.id));
	for (unsigned i = 0; i < 3; i++) {
		ec_tx back;
		assert_int_equal(ec_store_get_tx(t, &txs[i].id, &back), EC_OK);
		assert_int_equal(ec_store_get_tx_index(t, &txs[i].id, &blk, &pos), EC_OK);
		assert_true(ec_id_eq(&blk, &b.id));
		assert_int_equal(pos, i);
		for (unsigned e = 0; e < txs[i].n_entries; e++) {
			int r = ec_store_get_token(t, &txs[i].entries[e].token, &st);
			if (mask[i] & (1u << e)) {
				assert_int_equal(r, EC_OK);
				assert_int_equal(st.has_current, 1);
				assert_int_equal(st.current.source, EC_TOKEN_LOCAL);
				assert_true(ec_id_eq(&st.current.txid, &txs[i].id));
			} else if (i == 1 && e == 0) {
				assert_int_equal(r, EC_OK);
				assert_int_equal(st.has_current, 0);
				assert_int_equal(st.has_pending, 1);
				assert_true(ec_id_eq(&st.pending.txid, &other));
			} else {
				assert_int_equal(r, EC_ERR_NOTFOUND);
			}
		}
	}
	ec_store_txn_abort(t);

	/* NULL mask = every entry (the _enc behaviour) */
	tu_make_tx(&txs[0], 1910, 2, 90);
	id = b.id;
	tu_make_block(&b, &c, 1, &id, 95, txs, 1);
	t = tu_wtxn(f->s);
	assert_int_equal(ec_store_put_own_block_mask(t, &b, NULL, 0, txs, NULL, NULL, NULL),
			 EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	t = tu_rtxn(f->s);
	for (unsigned e = 0; e < txs[0].n_entries; e++) {
		assert_int_equal(ec_store_get_token(t, &txs[0].entries[e].token, &st), EC_OK);
		assert_int_equal(st.current.source, EC_TOKEN_LOCAL);
	}
	ec_store_txn_abort(t);
}

static void test_txn_rules(void **state)
{
	fixture *f = *state;
	ec_store_txn *w, *w2, *r;
	ec_id x;
	tu_id(&x, "x", 1);
	w = tu_wtxn(f->s);
	assert_int_equal(ec_store_txn_begin(f->s, 1, &w2), EC_ERR_BUSY);
	assert_null(w2);
	r = tu_rtxn(f->s);
	assert_int_equal(ec_store_put_proof(r, &x, (const uint8_t *)"ab", 2),
			 EC_ERR_READONLY);
	assert_int_equal(ec_store_txn_commit(r), EC_OK);
	ec_store_txn_abort(w);
	w = tu_wtxn(f->s); /* free again */
	assert_int_equal(ec_store_txn_commit(w), EC_OK); /* empty batch */
	ec_store_txn_abort(NULL);
	assert_int_equal(ec_store_txn_begin(NULL, 0, &r), EC_ERR_ARG);
}

static int stop_at_two(void *ctx, const ec_peer_rec *p)
{
	return ++*(int *)ctx == 2 ? 42 : 0;
}

static void test_iter_stop(void **state)
{
	fixture *f = *state;
	ec_peer_rec p;
	ec_store_txn *t = tu_wtxn(f->s);
	int n = 0;
	for (uint64_t i = 0; i < 5; i++) {
		make_peer(&p, i);
		assert_int_equal(ec_store_put_peer(t, &p), EC_OK);
	}
	/* iteration inside the write txn sees its buffered writes */
	assert_int_equal(ec_store_iter_peers(t, stop_at_two, &n), 42);
	assert_int_equal(n, 2);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
}

/* ---- two-slot token state ---------------------------------------------------------------
 * Ids: A < B < C (first byte 0x10, 0x20, 0x30); peers P1, P2. */
enum { NONE = 0, IA = 0x10, IB = 0x20, IC = 0x30 };
enum { P1 = 1, P2 = 2 };

struct row {
	const char *name;
	/* before */
	uint8_t cur, cur_src, pend, pend_peer;
	/* update */
	uint8_t tx, peer;
	/* expected */
	int change;
	uint8_t ecur, ecur_src, epend, epend_peer;
};

#define L EC_TOKEN_LOCAL
#define CF EC_TOKEN_CONFIRMED
static const struct row rows[] = {
	/* (None, None) -> pending(A) */
	{"none,none +A", NONE, 0, NONE, 0, IA, P1, EC_TOKEN_PENDING_SET, NONE, 0, IA, P1},
	/* (None, P(A)): same txid, different peer -> Confirmed, pending cleared */
	{"none,P(A,1) +A/2", NONE, 0, IA, P1, IA, P2, EC_TOKEN_CONFIRMED_SET, IA, CF, NONE, 0},
	/* same txid, same peer -> ignore */
	{"none,P(A,1) +A/1", NONE, 0, IA, P1, IA, P1, EC_TOKEN_IGNORED, NONE, 0, IA, P1},
	/* higher txid -> replace pending */
	{"none,P(B,1) +C/2", NONE, 0, IB, P1, IC, P2, EC_TOKEN_PENDING_REPLACED, NONE, 0, IC, P2},
	{"none,P(B,1) +C/1", NONE, 0, IB, P1, IC, P1, EC_TOKEN_PENDING_REPLACED, NONE, 0, IC, P1},
	/* lower txid -> ignore */
	{"none,P(B,1) +A/2", NONE, 0, IB, P1, IA, P2, EC_TOKEN_IGNORED, NONE, 0, IB, P1},
	/* (Current C, *): txid < C -> ignore */
	{"L(B),none +A", IB, L, NONE, 0, IA, P1, EC_TOKEN_IGNORED, IB, L, NONE, 0},
	/* txid == C -> ignore */
	{"L(B),none +B", IB, L, NONE, 0, IB, P1, EC_TOKEN_IGNORED, IB, L, NONE, 0},
	{"CF(B),none +B", IB, CF, NONE, 0, IB, P2, EC_TOKEN_IGNORED, IB, CF, NONE, 0},
	/* txid > C, no pending -> pending */
	{"L(B),none +C", IB, L, NONE, 0, IC, P1, EC_TOKEN_PENDING_SET, IB, L, IC, P1},
	{"CF(A),none +B", IA, CF, NONE, 0, IB, P2, EC_TOKEN_PENDING_SET, IA, CF, IB, P2},
	/* txid > C, pending same txid from a different peer -> Confirmed */
	{"CF(A),P(B,1) +B/2", IA, CF, IB, P1, IB, P2, EC_TOKEN_CONFIRMED_SET, IB, CF, NONE, 0},
	{"L(A),P(B,1) +B/2", IA, L, IB, P1, IB, P2, EC_TOKEN_CONFIRMED_SET, IB, CF, NONE, 0},
	/* ... from the same peer -> ignore */
	{"CF(A),P(B,1) +B/1", IA, CF, IB, P1, IB, P1, EC_TOKEN_IGNORED, IA, CF, IB, P1},
	/* txid > C, higher than pending -> replace pending */
	{"CF(A),P(B,1) +C/2", IA, CF, IB, P1, IC, P2, EC_TOKEN_PENDING_REPLACED, IA, CF, IC, P2},
	/* txid > C, lower than pending -> ignore */
	{"CF(A),P(C,1) +B/2", IA, CF, IC, P1, IB, P2, EC_TOKEN_IGNORED, IA, CF, IC, P1},
	/* txid <= C with a pending slot -> ignore */
	{"L(B),P(C,1) +A/2", IB, L, IC, P1, IA, P2, EC_TOKEN_IGNORED, IB, L, IC, P1},
	{"L(B),P(C,1) +B/2", IB, L, IC, P1, IB, P2, EC_TOKEN_IGNORED, IB, L, IC, P1},
};
#undef L
#undef CF

static void mkid(ec_id *id, uint8_t v)
{
	memset(id->b, 0, 32);
	id->b[0] = v;
	id->b[31] = v ^ 0x5a;
}

static void row_state(ec_token_state *st, uint8_t cur, uint8_t src, uint8_t pend,
		      uint8_t peer)
{
	memset(st, 0, sizeof(*st));
	if (cur) {
		st->has_current = 1;
		mkid(&st->current.txid, cur);
		mkid(&st->current.parent, (uint8_t)(cur - 1));
		st->current.time = cur;
		st->current.source = src;
	}
	if (pend) {
		st->has_pending = 1;
		mkid(&st->pending.txid, pend);
		mkid(&st->pending.parent, (uint8_t)(pend - 1));
		st->pending.time = pend;
		mkid(&st->pending.source_peer, peer);
	}
}

static void apply_row(const struct row *r, ec_token_state *st, int *change)
{
	ec_id tx, parent, peer;
	mkid(&tx, r->tx);
	mkid(&parent, (uint8_t)(r->tx - 1));
	mkid(&peer, r->peer);
	*change = ec_token_apply_sync(st, &tx, &parent, r->tx, &peer);
}

static void check_row(const struct row *r, const ec_token_state *got, int change)
{
	ec_token_state want;
	row_state(&want, r->ecur, r->ecur_src, r->epend, r->epend_peer);
	if (change != r->change || memcmp(&want, got, sizeof want) != 0)
		fail_msg("row \"%s\": change %d (want %d), state differs: %d", r->name,
			 change, r->change, memcmp(&want, got, sizeof want) != 0);
}

static void test_token_table_pure(void **state)
{
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		ec_token_state st;
		int change;
		row_state(&st, rows[i].cur, rows[i].cur_src, rows[i].pend, rows[i].pend_peer);
		apply_row(&rows[i], &st, &change);
		check_row(&rows[i], &st, change);
	}
}

static void test_token_set_local_pure(void **state)
{
	ec_token_state st, want;
	ec_id a, b;
	mkid(&a, IA);
	mkid(&b, IB);
	/* always Local, pending cleared, even below the current txid */
	row_state(&st, IC, EC_TOKEN_CONFIRMED, IC + 1, P1);
	ec_token_set_local(&st, &a, &b, 7);
	memset(&want, 0, sizeof want);
	want.has_current = 1;
	want.current.txid = a;
	want.current.parent = b;
	want.current.time = 7;
	want.current.source = EC_TOKEN_LOCAL;
	assert_memory_equal(&st, &want, sizeof st);
}

/* The same table through the store: state written raw via set_local /
 * sync updates is not possible for every row, so each row's "before"
 * state is built by a sequence of store calls that must reach it. */
static void reach(ec_store_txn *t, const ec_id *tok, const struct row *r)
{
	ec_id tx, par, p1, p2;
	int ch;
	if (r->cur) {
		mkid(&tx, r->cur);
		mkid(&par, (uint8_t)(r->cur - 1));
		if (r->cur_src == EC_TOKEN_LOCAL) {
			assert_int_equal(ec_store_set_local(t, tok, &tx, &par, r->cur), EC_OK);
		} else {
			mkid(&p1, 0x71);
			mkid(&p2, 0x72);
			assert_int_equal(ec_store_apply_sync_update(t, tok, &tx, &par, r->cur,
								    &p1, &ch),
					 EC_OK);
			assert_int_equal(ec_store_apply_sync_update(t, tok, &tx, &par, r->cur,
								    &p2, &ch),
					 EC_OK);
			assert_int_equal(ch, EC_TOKEN_CONFIRMED_SET);
		}
	}
	if (r->pend) {
		mkid(&tx, r->pend);
		mkid(&par, (uint8_t)(r->pend - 1));
		mkid(&p1, r->pend_peer);
		assert_int_equal(ec_store_apply_sync_update(t, tok, &tx, &par, r->pend, &p1, &ch),
				 EC_OK);
		assert_int_equal(ch, EC_TOKEN_PENDING_SET);
	}
}

static void test_token_table_store(void **state)
{
	fixture *f = *state;
	ec_store_txn *t = tu_wtxn(f->s);
	ec_token_state st;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct row *r = &rows[i];
		ec_id tok, tx, parent, peer;
		int change;
		tu_id(&tok, "tabletoken", i);
		reach(t, &tok, r);
		mkid(&tx, r->tx);
		mkid(&parent, (uint8_t)(r->tx - 1));
		mkid(&peer, r->peer);
		assert_int_equal(ec_store_apply_sync_update(t, &tok, &tx, &parent, r->tx, &peer,
							    &change),
				 EC_OK);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
		t = tu_rtxn(f->s);
		assert_int_equal(ec_store_get_token(t, &tok, &st), EC_OK);
		check_row(r, &st, change);
		ec_store_txn_abort(t);
		t = tu_wtxn(f->s);
	}
	/* the "Byzantine higher id" case: a fabricated highest id from one
	 * peer stays pending and never becomes current */
	{
		ec_id tok, hi, par, p1, a;
		int ch;
		tu_id(&tok, "byz", 1);
		mkid(&a, IA);
		mkid(&par, 0);
		mkid(&p1, P1);
		memset(hi.b, 0xff, 32);
		assert_int_equal(ec_store_set_local(t, &tok, &a, &par, 1), EC_OK);
		assert_int_equal(ec_store_apply_sync_update(t, &tok, &hi, &par, 2, &p1, &ch),
				 EC_OK);
		assert_int_equal(ec_store_apply_sync_update(t, &tok, &hi, &par, 2, &p1, &ch),
				 EC_OK);
		assert_int_equal(ch, EC_TOKEN_IGNORED);
		assert_int_equal(ec_store_get_token(t, &tok, &st), EC_OK);
		assert_true(ec_id_eq(&st.current.txid, &a));
		assert_true(st.has_pending);
	}
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
}

#define SUITE(name)                                                                    \
	const struct CMUnitTest name[] = {                                             \
		cmocka_unit_test_setup_teardown(test_blocks, setup, teardown),         \
		cmocka_unit_test_setup_teardown(test_heads, setup, teardown),          \
		cmocka_unit_test_setup_teardown(test_txs_and_index, setup, teardown),  \
		cmocka_unit_test_setup_teardown(test_proofs, setup, teardown),         \
		cmocka_unit_test_setup_teardown(test_peers, setup, teardown),          \
		cmocka_unit_test_setup_teardown(test_progress, setup, teardown),       \
		cmocka_unit_test_setup_teardown(test_abort_discards, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_atomic_visibility, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_own_commit_batch, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_own_commit_local_mask, setup, teardown), \
		cmocka_unit_test_setup_teardown(test_txn_rules, setup, teardown),      \
		cmocka_unit_test_setup_teardown(test_iter_stop, setup, teardown),      \
		cmocka_unit_test_setup_teardown(test_token_table_store, setup, teardown), \
	}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_token_table_pure),
		cmocka_unit_test(test_token_set_local_pure),
	};
	SUITE(suite);
	int fails = 0;
	if (ec_crypto_init() != EC_OK)
		return 1;
	fails += cmocka_run_group_tests_name("token transitions", pure, NULL, NULL);
	g_lmdb = 0;
	fails += cmocka_run_group_tests_name("store/memory", suite, NULL, NULL);
	g_lmdb = 1;
	fails += cmocka_run_group_tests_name("store/lmdb", suite, NULL, NULL);
	return fails ? 1 : 0;
}
