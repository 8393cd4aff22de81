/* test_serve.c - the query service in conversation style at explicit
 * times: a store (memory, and the same suite on LMDB) holding an own chain
 * of 40 signed blocks with consensus proofs; every request type answered
 * and the answer decoded with the strict decoders, its signature checked
 * against the server's key and every field compared; every refusal path
 * (rate limit then allowed after time passes, refusal budget, not found,
 * bad signature / requester / timestamp, malformed input); Local,
 * Confirmed and Pending tokens; referral versus "no mapping"; range
 * boundaries (stop, genesis, max_blocks, max_bytes, gaps) and `complete`;
 * the evidence ring. */
#include <stdlib.h>

#include "ec/serve.h"
#include "testutil.h"
#include "tu_store.h"
#include "wiregen.h"

#define T0 1700000000000ull
#define NB 40         /* blocks in the own chain */
#define NOW (T0 + 100000)

static int g_lmdb;

typedef struct fx {
	ec_store *s;
	char dir[256];
	ec_keypair kp; /* server's lamppost key */
	ec_id self;
	ec_block blocks[NB];
	size_t blen[NB], plen[NB];
	ec_tx creation, transfer; /* token TOK: created at h1, moved at h2 */
	ec_id tok;
	ec_tx synced;   /* a tx learned by sync only (Confirmed token) */
	ec_tx pending;  /* in the "mempool" */
	ec_ratelimit *rl;
	ec_serve *srv;
	ec_store_txn *t; /* read txn for the test */
} fx;

static fx *g_fx; /* for hooks */

static ec_id idn(const char *tag, uint64_t n)
{
	ec_id x;
	tu_id(&x, tag, n);
	return x;
}

/* t + d on the ring (d may be negative). */
static ec_id ring_add(const ec_id *t, int d)
{
	ec_id x, zero = {{0}}, r;
	memset(&x, 0, sizeof x);
	x.b[31] = (uint8_t)(d < 0 ? -d : d);
	if (d < 0) {
		ec_ring_sub(&r, t, &x);
	} else {
		ec_id neg;
		ec_ring_sub(&neg, &zero, &x);
		ec_ring_sub(&r, t, &neg);
	}
	return r;
}

static ec_id keyhash(const ec_keypair *k)
{
	ec_id h;
	ec_keyhash(&h, k->pk);
	return h;
}

/* One-entry transaction. prev non-zero: signed by `by`. */
static void make_tx1(ec_tx *tx, const ec_id *token, const ec_id *prev,
		     const ec_id *next_key, ec_time ts, const ec_keypair *by)
{
	memset(tx, 0, sizeof *tx);
	tx->timestamp = ts;
	tx->n_entries = 1;
	tx->entries[0].token = *token;
	if (prev)
		tx->entries[0].prev = *prev;
	tx->entries[0].next_key = *next_key;
	if (prev)
		assert_int_equal(ec_tx_sign_entry(tx, 0, by->pk, by->sk), EC_OK);
	assert_int_equal(ec_tx_finalize(tx), EC_OK);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, EC_HASH_BYTES);
}

/* A proof with nv signed votes per transaction (voters ascending); returns
 * its encoding. */
static uint8_t *make_proof(const ec_block *b, const ec_tx *txs, unsigned nv,
			   size_t *len)
{
	ec_proof p;
	ec_id voters[16];
	uint8_t *enc;
	for (unsigned k = 0; k < nv; k++)
		voters[k] = idn("test/voter", k);
	qsort(voters, nv, sizeof voters[0], id_cmp);
	memset(&p, 0, sizeof p);
	p.n_txs = b->n_txs;
	for (unsigned i = 0; i < b->n_txs; i++) {
		ec_vote *v = calloc(nv, sizeof *v);
		assert_non_null(v);
		for (unsigned k = 0; k < nv; k++) {
			v[k].txid = b->txids[i];
			v[k].voter = voters[k];
			v[k].seq = 1;
			v[k].timestamp = b->timestamp;
			v[k].n_flags = txs[i].n_entries;
			for (unsigned j = 0; j < txs[i].n_entries; j++) {
				v[k].flags[j].token = txs[i].entries[j].token;
				v[k].flags[j].flag = EC_VOTE_YES;
			}
			assert_int_equal(ec_vote_sign(&v[k], wg_key(1)->sk), EC_OK);
		}
		p.txs[i].txid = b->txids[i];
		p.txs[i].n_votes = (uint8_t)nv;
		p.txs[i].votes = v;
	}
	assert_int_equal(ec_proof_encode(&p, &enc, len), EC_OK);
	ec_proof_free(&p);
	return enc;
}

static ec_store_txn *wtxn(ec_store *s)
{
	ec_store_txn *t;
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	return t;
}

/* ---- hooks ------------------------------------------------------------- */

static const ec_tx *hook_pending(void *ctx, const ec_id *txid)
{
	fx *f = ctx;
	return ec_id_eq(txid, &f->pending.id) ? &f->pending : NULL;
}

static size_t hook_endorse(void *ctx, const ec_id *block_id, ec_endorsement *out,
			   size_t max)
{
	size_t n = 0;
	(void)ctx;
	if (max > n) { /* another peer's endorsement */
		assert_int_equal(ec_endorsement_sign(&out[n], block_id, wg_key(3)->sk),
				 EC_OK);
		out[n++].peer = idn("test/endorser", 1);
	}
	if (max > n) { /* a bogus one naming us: dropped by the server */
		out[n] = out[0];
		out[n++].peer = g_fx->self;
	}
	return n;
}

static uint8_t hook_addr(void *ctx, const ec_id *peer, uint8_t *addr)
{
	(void)ctx;
	memset(addr, 0xAA, EC_ADDR_MAX); /* scribbles past what it returns */
	addr[0] = 10;
	addr[1] = peer->b[0];
	return 2;
}

/* ---- fixture ------------------------------------------------------------------ */

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	ec_store_txn *t;
	uint8_t seed[32];
	ec_serve_hooks hooks;
	assert_non_null(f);
	g_fx = f;
	assert_int_equal(ec_crypto_init(), EC_OK);
	if (g_lmdb) {
		tu_tmpdir(f->dir, sizeof f->dir, "ec-test-serve");
		assert_int_equal(ec_store_open_lmdb(&f->s, f->dir, NULL), EC_OK);
	} else {
		assert_int_equal(ec_store_open_memory(&f->s), EC_OK);
	}
	memset(seed, 0x5e, sizeof seed);
	assert_int_equal(ec_keypair_from_seed(&f->kp, seed), EC_OK);
	f->self = idn("test/self", 0);
	f->tok = idn("test/tok", 0);
	{
		ec_id ka = keyhash(wg_key(0)), kb = keyhash(wg_key(1));
		make_tx1(&f->creation, &f->tok, NULL, &ka, T0 + 1000, NULL);
		make_tx1(&f->transfer, &f->tok, &f->creation.id, &kb, T0 + 2000,
			 wg_key(0));
	}
	memset(&hooks, 0, sizeof hooks);
	hooks.ctx = f;
	hooks.pending_tx = hook_pending;
	hooks.endorsements = hook_endorse;
	hooks.addr_of = hook_addr;
	assert_int_equal(ec_serve_new(&f->srv, NULL, &f->self, &f->kp, NULL, &hooks),
			 EC_OK);

	/* the own chain: block h holds a filler creation tx, plus TOK's
	 * creation at h = 1 and its transfer at h = 2 */
	t = wtxn(f->s);
	for (unsigned h = 0; h < NB; h++) {
		ec_tx txs[2];
		ec_block *b = &f->blocks[h];
		unsigned n = 1;
		uint8_t *penc, *benc;
		tu_make_tx(&txs[0], 1000 + h, 1, T0 + h * 1000);
		if (h == 1)
			txs[n++] = f->creation;
		if (h == 2)
			txs[n++] = f->transfer;
		memset(b, 0, sizeof *b);
		b->creator = f->self;
		b->height = h;
		b->timestamp = T0 + h * 1000;
		if (h)
			b->prev = f->blocks[h - 1].id;
		b->n_txs = (uint8_t)n;
		for (unsigned i = 0; i < n; i++)
			b->txids[i] = txs[i].id;
		ec_merkle_root(&b->merkle_root, b->txids, n);
		/* the head's proof is big: 10 votes (> 2 KB) */
		penc = make_proof(b, txs, h == NB - 1 ? 10 : 1, &f->plen[h]);
		ec_hash(&b->proof_hash, EC_TAG_PROOF, penc, f->plen[h]);
		assert_int_equal(ec_block_sign(b, f->kp.sk), EC_OK);
		assert_int_equal(ec_block_encode(b, &benc, &f->blen[h]), EC_OK);
		free(benc);
		assert_int_equal(ec_store_put_own_block(t, b, NULL, 0, txs), EC_OK);
		if (h != 7) /* block 7's proof is not stored */
			assert_int_equal(ec_store_put_proof(t, &b->id, penc, f->plen[h]),
					 EC_OK);
		free(penc);
		ec_serve_note_block(f->srv, b, txs);
	}
	/* a token known through sync only: body stored, confirmed by 2 peers */
	{
		ec_id tk = idn("test/synctok", 0), k = keyhash(wg_key(2)), zero = {{0}};
		ec_id p1 = idn("test/peer", 1), p2 = idn("test/peer", 2);
		make_tx1(&f->synced, &tk, NULL, &k, T0 + 500, NULL);
		assert_int_equal(ec_store_put_tx(t, &f->synced, NULL, 0), EC_OK);
		assert_int_equal(ec_store_apply_sync_update(t, &tk, &f->synced.id, &zero,
							   T0 + 500, &p1, NULL),
				 EC_OK);
		assert_int_equal(ec_store_apply_sync_update(t, &tk, &f->synced.id, &zero,
							   T0 + 500, &p2, NULL),
				 EC_OK);
	}
	/* a token with only a Pending report (one peer) */
	{
		ec_id tk = idn("test/pendtok", 0), tx = idn("test/pendtx", 0), zero = {{0}};
		ec_id p1 = idn("test/peer", 1);
		assert_int_equal(ec_store_apply_sync_update(t, &tk, &tx, &zero, T0, &p1, NULL),
				 EC_OK);
	}
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	{
		ec_id k = keyhash(wg_key(3)), tk = idn("test/mempooltok", 0);
		make_tx1(&f->pending, &tk, NULL, &k, NOW - 10, NULL);
	}
	assert_int_equal(ec_store_txn_begin(f->s, 0, &f->t), EC_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	ec_store_txn_abort(f->t);
	ec_serve_free(f->srv);
	ec_ratelimit_free(f->rl);
	ec_store_close(f->s);
	if (g_lmdb)
		tu_rmrf(f->dir);
	free(f);
	return 0;
}

/* A fresh server with a rate limiter of this cfg. */
static void with_limits(fx *f, const ec_ratelimit_cfg *c)
{
	ec_serve_hooks hooks;
	memset(&hooks, 0, sizeof hooks);
	hooks.ctx = f;
	hooks.pending_tx = hook_pending;
	ec_serve_free(f->srv);
	assert_int_equal(ec_ratelimit_new(&f->rl, c), EC_OK);
	assert_int_equal(ec_serve_new(&f->srv, NULL, &f->self, &f->kp, f->rl, &hooks),
			 EC_OK);
}

/* ---- helpers ---------------------------------------------------------------- */

static const ec_id *requester(void)
{
	static ec_id r;
	r = idn("test/requester", 0);
	return &r;
}

static ec_mapping_req mreq(const ec_id *token, uint8_t flags, uint8_t nonce)
{
	ec_mapping_req q;
	memset(&q, 0, sizeof q);
	memset(q.nonce, nonce, sizeof q.nonce);
	q.token = *token;
	q.flags = flags;
	return q;
}

static void sign_auth(ec_req_auth *a, ec_time ts, uint8_t nonce)
{
	a->requester = *requester();
	a->timestamp = ts;
	memset(a->nonce, nonce, sizeof a->nonce);
}

static ec_block_req breq(const ec_id *id, uint8_t prio, ec_time ts, uint8_t nonce)
{
	ec_block_req q;
	memset(&q, 0, sizeof q);
	q.block_id = *id;
	q.priority = prio;
	sign_auth(&q.auth, ts, nonce);
	assert_int_equal(ec_block_req_sign(&q, wg_key(2)->sk), EC_OK);
	return q;
}

static ec_range_req rreq(const ec_id *start, const ec_id *stop, uint16_t maxb,
			 uint32_t maxbytes, uint8_t flags)
{
	ec_range_req q;
	memset(&q, 0, sizeof q);
	q.start = *start;
	if (stop)
		q.stop = *stop;
	q.max_blocks = maxb;
	q.max_bytes = maxbytes;
	q.flags = flags;
	q.priority = EC_PRIO_SYNC;
	sign_auth(&q.auth, NOW, 0x77);
	assert_int_equal(ec_range_req_sign(&q, wg_key(2)->sk), EC_OK);
	return q;
}

/* Decodes a refusal answer, checks signature, responder, key and fields. */
static void check_refusal(fx *f, ec_serve_answer *a, uint8_t req_type,
			  uint8_t reason, uint32_t retry, uint8_t nonce)
{
	ec_refusal r;
	uint8_t want[EC_NONCE_BYTES];
	assert_non_null(a->msg);
	assert_int_equal(a->type, EC_MSG_REFUSAL);
	assert_int_equal(a->reason, reason);
	assert_int_equal(ec_refusal_decode(&r, a->msg, a->len), EC_OK);
	assert_int_equal(ec_refusal_verify(&r), EC_OK);
	assert_memory_equal(r.pk, f->kp.pk, 32);
	assert_true(ec_id_eq(&r.responder, &f->self));
	assert_int_equal(r.request_type, req_type);
	assert_int_equal(r.reason, reason);
	assert_int_equal(r.retry_after_ms, retry);
	memset(want, nonce, sizeof want);
	assert_memory_equal(r.nonce, want, EC_NONCE_BYTES);
	ec_serve_answer_clear(a);
}

static void get_mapping(fx *f, const ec_mapping_req *q, const ec_peerset *ps,
			ec_mapping_resp *m)
{
	ec_serve_answer a;
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), q, ps, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_MAPPING_RESP);
	assert_int_equal(ec_mapping_resp_decode(m, a.msg, a.len), EC_OK);
	assert_int_equal(ec_mapping_resp_verify(m), EC_OK);
	assert_memory_equal(m->pk, f->kp.pk, 32);
	assert_true(ec_id_eq(&m->responder, &f->self));
	assert_memory_equal(m->nonce, q->nonce, EC_NONCE_BYTES);
	assert_true(ec_id_eq(&m->token, &q->token));
	assert_int_equal(m->response_ts, NOW);
	assert_true(ec_id_eq(&m->head, &f->blocks[NB - 1].id));
	assert_int_equal(m->height, NB - 1);
	ec_serve_answer_clear(&a);
}

/* ---- mapping ------------------------------------------------------------------ */

static void test_mapping_local(void **state)
{
	fx *f = *state;
	ec_mapping_req q = mreq(&f->tok, EC_MAPPING_WANT_EVIDENCE, 0x11);
	ec_mapping_resp m;
	ec_id kb = keyhash(wg_key(1));
	get_mapping(f, &q, NULL, &m);
	assert_true(ec_id_eq(&m.txid, &f->transfer.id));
	assert_true(ec_id_eq(&m.owner_key_hash, &kb));
	assert_true(ec_id_eq(&m.prev_txid, &f->creation.id));
	assert_true(ec_id_eq(&m.commit_block, &f->blocks[2].id));
	assert_int_equal(m.commit_block_ts, T0 + 2000);
	/* evidence: the last 4 noted commits, newest first: blocks 39, 38, 37,
	 * 36 hold one filler creation each */
	assert_int_equal(m.n_evidence, 4);
	for (unsigned i = 0; i < 4; i++) {
		const ec_block *b = &f->blocks[NB - 1 - i];
		assert_true(ec_id_eq(&m.evidence[i].txid, &b->txids[0]));
		assert_int_equal(m.evidence[i].commit_ts, b->timestamp);
	}
	/* without the flag: no evidence */
	q = mreq(&f->tok, 0, 0x12);
	get_mapping(f, &q, NULL, &m);
	assert_int_equal(m.n_evidence, 0);
	assert_true(ec_id_eq(&m.txid, &f->transfer.id));
	{
		ec_serve_stats st;
		ec_serve_get_stats(f->srv, &st);
		assert_int_equal(st.kind[EC_SERVE_MAPPING].served, 2);
		assert_true(st.kind[EC_SERVE_MAPPING].bytes_out > 2 * 300);
	}
}

static void test_mapping_confirmed_and_pending(void **state)
{
	fx *f = *state;
	ec_id tk = idn("test/synctok", 0), k = keyhash(wg_key(2));
	ec_mapping_req q = mreq(&tk, 0, 0x21);
	ec_mapping_resp m;
	ec_serve_stats st;
	/* Confirmed (two peers), body known, not in our chain: commit_block
	 * zero, ts 0 */
	get_mapping(f, &q, NULL, &m);
	assert_true(ec_id_eq(&m.txid, &f->synced.id));
	assert_true(ec_id_eq(&m.owner_key_hash, &k));
	assert_true(ec_id_is_zero(&m.prev_txid));
	assert_true(ec_id_is_zero(&m.commit_block));
	assert_int_equal(m.commit_block_ts, 0);
	/* Pending only: never served, answered as "no mapping" */
	tk = idn("test/pendtok", 0);
	q = mreq(&tk, 0, 0x22);
	get_mapping(f, &q, NULL, &m);
	assert_true(ec_id_is_zero(&m.txid));
	assert_true(ec_id_is_zero(&m.owner_key_hash));
	assert_true(ec_id_is_zero(&m.commit_block));
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.mapping_pending_hidden, 1);
	assert_int_equal(st.mapping_nomap, 1);
}

/* Inconsistent stores: a current slot whose body is missing is served as
 * unknown; a tx index naming a missing block is a store failure: BUSY. */
static void test_inconsistent_store(void **state)
{
	fx *f = *state;
	ec_id tk = idn("test/nobody", 0), tx = idn("test/nobodytx", 0), zero = {{0}};
	ec_id blk = idn("test/lostblock", 0);
	ec_mapping_req q = mreq(&tk, 0, 0xb1);
	ec_mapping_resp m;
	ec_tx_req tq;
	ec_serve_answer a;
	ec_serve_stats st;
	ec_store_txn *w;
	ec_store_txn_abort(f->t);
	w = wtxn(f->s);
	assert_int_equal(ec_store_set_local(w, &tk, &tx, &zero, T0), EC_OK);
	assert_int_equal(ec_store_put_tx_index(w, &f->synced.id, &blk, 3), EC_OK);
	assert_int_equal(ec_store_txn_commit(w), EC_OK);
	assert_int_equal(ec_store_txn_begin(f->s, 0, &f->t), EC_OK);
	get_mapping(f, &q, NULL, &m);
	assert_true(ec_id_is_zero(&m.txid));
	memset(&tq, 0, sizeof tq);
	memset(tq.nonce, 0xb2, sizeof tq.nonce);
	tq.txid = f->synced.id;
	assert_int_equal(ec_serve_tx(f->srv, f->t, requester(), &tq, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_TX_REQ, EC_REFUSE_BUSY, 1000, 0xb2);
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.kind[EC_SERVE_TX].busy, 1);
	assert_int_equal(st.last_store_err, EC_ERR_CORRUPT);
}

static void test_mapping_referral_rule(void **state)
{
	fx *f = *state;
	ec_id tk = idn("test/unknown", 0);
	ec_mapping_req q = mreq(&tk, 0, 0x31);
	ec_mapping_resp m;
	ec_peerset ps;
	ec_serve_answer a;
	ec_referral r;
	ec_id near[8];
	/* peers NULL: never refer */
	get_mapping(f, &q, NULL, &m);
	assert_true(ec_id_is_zero(&m.txid));
	/* 20 peers, 10 of them right next to the token: we are far away */
	ec_peerset_init(&ps);
	for (unsigned i = 0; i < 10; i++) {
		ec_id x = idn("test/far", i);
		ec_id y = ring_add(&tk, i < 5 ? (int)i + 1 : -(int)(i - 4));
		assert_int_equal(ec_peerset_add(&ps, &x), EC_OK);
		assert_int_equal(ec_peerset_add(&ps, &y), EC_OK);
	}
	/* the requester is one of the closest: never referred to itself */
	{
		ec_id c[1];
		ec_peerset_closest(&ps, &tk, 1, c);
		assert_int_equal(ec_serve_mapping(f->srv, f->t, &c[0], &q, &ps, NOW, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_REFERRAL);
		assert_int_equal(ec_referral_decode(&r, a.msg, a.len), EC_OK);
		ec_serve_answer_clear(&a);
		assert_int_equal(r.n_peers, 4);
		assert_int_equal(ec_peerset_closest(&ps, &tk, 5, near), 5);
		for (unsigned i = 0; i < 4; i++) {
			assert_true(ec_id_eq(&r.peers[i].peer, &near[i + 1]));
			assert_int_equal(r.peers[i].addr_len, 2);
			assert_int_equal(r.peers[i].addr[1], near[i + 1].b[0]);
		}
		assert_true(ec_id_eq(&r.target, &tk));
		assert_true(ec_id_eq(&r.responder, &f->self));
		assert_memory_equal(r.nonce, q.nonce, EC_NONCE_BYTES);
	}
	/* a known token is answered even when we are far from it */
	{
		ec_mapping_req q2 = mreq(&f->tok, 0, 0x32);
		get_mapping(f, &q2, &ps, &m);
		assert_true(ec_id_eq(&m.txid, &f->transfer.id));
	}
	/* the token sits right next to us: we are in its neighbourhood and
	 * answer "no mapping" */
	{
		ec_id t2 = f->self;
		ec_mapping_req q3;
		t2.b[31] ^= 0x80;
		q3 = mreq(&t2, 0, 0x33);
		get_mapping(f, &q3, &ps, &m);
		assert_true(ec_id_is_zero(&m.txid));
		/* ... and when self is a member of the set */
		assert_int_equal(ec_peerset_add(&ps, &f->self), EC_OK);
		get_mapping(f, &q3, &ps, &m);
		assert_true(ec_id_is_zero(&m.txid));
		assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, &ps, NOW, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_REFERRAL);
		ec_serve_answer_clear(&a);
	}
	/* a small set (with us, 8 or fewer): everyone is a neighbour */
	ec_peerset_free(&ps);
	for (int i = 1; i <= 4; i++) { /* +1..+4, -1..-3 */
		ec_id y = ring_add(&tk, i);
		assert_int_equal(ec_peerset_add(&ps, &y), EC_OK);
		if (i < 4) {
			y = ring_add(&tk, -i);
			assert_int_equal(ec_peerset_add(&ps, &y), EC_OK);
		}
	}
	get_mapping(f, &q, &ps, &m);
	assert_true(ec_id_is_zero(&m.txid));
	{ /* 4 on each side of the token, none of them us: refer */
		ec_id y = ring_add(&tk, -4);
		assert_int_equal(ec_peerset_add(&ps, &y), EC_OK);
	}
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, &ps, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_REFERRAL);
	ec_serve_answer_clear(&a);
	ec_peerset_free(&ps);
}

/* ---- transactions --------------------------------------------------------- */

static void get_txresp(fx *f, const ec_id *txid, ec_tx_resp *x)
{
	ec_tx_req q;
	ec_serve_answer a;
	memset(&q, 0, sizeof q);
	memset(q.nonce, 0x41, sizeof q.nonce);
	q.txid = *txid;
	assert_int_equal(ec_serve_tx(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(a.type, EC_MSG_TX_RESP);
	assert_int_equal(ec_tx_resp_decode(x, a.msg, a.len), EC_OK);
	assert_int_equal(ec_tx_resp_verify(x), EC_OK);
	assert_memory_equal(x->pk, f->kp.pk, 32);
	assert_memory_equal(x->nonce, q.nonce, EC_NONCE_BYTES);
	assert_true(ec_id_eq(&x->tx.id, txid));
	ec_serve_answer_clear(&a);
}

static void test_tx(void **state)
{
	fx *f = *state;
	ec_tx_resp x;
	ec_tx_req q;
	ec_serve_answer a;
	ec_serve_stats st;
	/* committed at height 2, position 1: 37 confirmations */
	get_txresp(f, &f->transfer.id, &x);
	assert_true(ec_id_eq(&x.commit_block, &f->blocks[2].id));
	assert_int_equal(x.position, 1);
	assert_int_equal(x.confirmations, NB - 1 - 2);
	/* the head block's own tx: 0 confirmations */
	get_txresp(f, &f->blocks[NB - 1].txids[0], &x);
	assert_int_equal(x.position, 0);
	assert_int_equal(x.confirmations, 0);
	/* body learned by sync: not in our chain */
	get_txresp(f, &f->synced.id, &x);
	assert_true(ec_id_is_zero(&x.commit_block));
	assert_int_equal(x.confirmations, 0);
	/* pending in the mempool */
	get_txresp(f, &f->pending.id, &x);
	assert_true(ec_id_is_zero(&x.commit_block));
	assert_int_equal(x.position, 0);
	/* unknown */
	memset(&q, 0, sizeof q);
	memset(q.nonce, 0x42, sizeof q.nonce);
	q.txid = idn("test/nosuchtx", 0);
	assert_int_equal(ec_serve_tx(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_TX_REQ, EC_REFUSE_NOTFOUND, 0, 0x42);
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.kind[EC_SERVE_TX].served, 4);
	assert_int_equal(st.kind[EC_SERVE_TX].not_found, 1);
	assert_int_equal(st.tx_pending, 1);
}

/* ---- blocks ------------------------------------------------------------------- */

static void test_block(void **state)
{
	fx *f = *state;
	ec_block_req q = breq(&f->blocks[5].id, EC_PRIO_VALIDATION, NOW - 1000, 0x51);
	ec_serve_answer a;
	ec_block_resp r;
	ec_id ph, endorser = idn("test/endorser", 1);
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
	assert_int_equal(ec_block_resp_decode(&r, a.msg, a.len), EC_OK);
	assert_int_equal(ec_block_resp_verify(&r), EC_OK);
	assert_memory_equal(r.pk, f->kp.pk, 32);
	assert_memory_equal(r.nonce, q.auth.nonce, EC_NONCE_BYTES);
	assert_true(ec_id_eq(&r.responder, &f->self));
	assert_true(ec_id_eq(&r.block.id, &f->blocks[5].id));
	assert_memory_equal(r.block.sig, f->blocks[5].sig, 64);
	assert_int_equal(r.has_proof, 1);
	assert_int_equal(ec_proof_hash(&r.proof, &ph), EC_OK);
	assert_true(ec_id_eq(&ph, &f->blocks[5].proof_hash));
	/* ours and the hook's, ascending, the bogus self entry dropped */
	assert_int_equal(r.n_endorse, 2);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(ec_endorsement_verify(&r.endorse[i], &r.block.id), EC_OK);
	assert_true(ec_id_cmp(&r.endorse[0].peer, &r.endorse[1].peer) < 0);
	{
		unsigned own = ec_id_eq(&r.endorse[0].peer, &f->self) ? 0 : 1;
		assert_true(ec_id_eq(&r.endorse[own].peer, &f->self));
		assert_memory_equal(r.endorse[own].pk, f->kp.pk, 32);
		assert_true(ec_id_eq(&r.endorse[1 - own].peer, &endorser));
	}
	ec_block_resp_free(&r);
	ec_serve_answer_clear(&a);
	/* block 7: no proof stored */
	q = breq(&f->blocks[7].id, EC_PRIO_SYNC, NOW, 0x52);
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(ec_block_resp_decode(&r, a.msg, a.len), EC_OK);
	assert_int_equal(ec_block_resp_verify(&r), EC_OK);
	assert_int_equal(r.has_proof, 0);
	ec_block_resp_free(&r);
	ec_serve_answer_clear(&a);
}

static void test_block_refusals(void **state)
{
	fx *f = *state;
	ec_id nosuch = idn("test/nosuchblock", 0);
	ec_block_req q = breq(&nosuch, EC_PRIO_HISTORICAL, NOW, 0x61);
	ec_serve_answer a;
	ec_serve_stats st;
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_NOTFOUND, 0, 0x61);
	/* bad signature */
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW, 0x62);
	q.auth.sig[10] ^= 1;
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_BAD, 0, 0x62);
	/* signed field changed after signing */
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW, 0x63);
	q.priority = EC_PRIO_VALIDATION;
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_BAD, 0, 0x63);
	/* sent by someone other than the signed requester */
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW, 0x64);
	{
		ec_id other = idn("test/other", 0);
		assert_int_equal(ec_serve_block(f->srv, f->t, &other, &q, NOW, &a), EC_OK);
		check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_BAD, 0, 0x64);
	}
	/* replay window: 5 minutes either side */
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW - 5 * 60 * 1000 - 1, 0x65);
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_BAD, 0, 0x65);
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW + 5 * 60 * 1000 + 1, 0x66);
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_BAD, 0, 0x66);
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW - 5 * 60 * 1000, 0x67);
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
	ec_serve_answer_clear(&a);
	/* a struct the decoder would reject: nothing signed, nothing sent */
	q = breq(&f->blocks[3].id, EC_PRIO_SYNC, NOW, 0x68);
	q.priority = 0;
	assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &q, NOW, &a),
			 EC_ERR_VALUE);
	assert_null(a.msg);
	{
		ec_range_req rq = rreq(&f->blocks[3].id, NULL, 5, EC_MSG_MAX_BYTES, 0);
		rq.max_bytes = EC_RANGE_MIN_MAX_BYTES - 1;
		assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &rq, NOW, &a),
				 EC_ERR_VALUE);
		assert_null(a.msg);
	}
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].malformed, 1);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].bad, 5);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].not_found, 1);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].served, 1);
}

/* ---- ranges ---------------------------------------------------------------- */

typedef struct range_out {
	ec_range_resp r;
} range_out;

static void get_range(fx *f, const ec_range_req *q, ec_range_resp *r)
{
	ec_serve_answer a;
	assert_int_equal(ec_serve_range(f->srv, f->t, requester(), q, NOW, &a), EC_OK);
	assert_int_equal(a.type, EC_MSG_RANGE_RESP);
	assert_int_equal(ec_range_resp_decode(r, a.msg, a.len), EC_OK);
	assert_int_equal(ec_range_resp_verify(r), EC_OK);
	assert_memory_equal(r->pk, f->kp.pk, 32);
	assert_true(ec_id_eq(&r->start, &q->start));
	assert_memory_equal(r->nonce, q->auth.nonce, EC_NONCE_BYTES);
	assert_true(a.len <= q->max_bytes);
	ec_serve_answer_clear(&a);
}

/* Items are blocks top, top-1, ..., each with a proof iff want (and
 * stored). */
static void check_items(fx *f, const ec_range_resp *r, unsigned top, unsigned n,
			int proofs)
{
	assert_int_equal(r->n_items, n);
	for (unsigned i = 0; i < n; i++) {
		unsigned h = top - i;
		assert_true(ec_id_eq(&r->items[i].block.id, &f->blocks[h].id));
		assert_int_equal(r->items[i].has_proof, proofs && h != 7);
	}
}

static size_t item_bytes(fx *f, unsigned h, int proofs)
{
	return f->blen[h] + 1 + (proofs && h != 7 ? f->plen[h] : 0);
}

static void test_range_walks(void **state)
{
	fx *f = *state;
	const ec_id *head = &f->blocks[NB - 1].id;
	ec_range_req q;
	ec_range_resp r;
	/* max_blocks cut */
	q = rreq(head, NULL, 10, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	check_items(f, &r, NB - 1, 10, 0);
	assert_int_equal(r.complete, 0);
	ec_range_resp_free(&r);
	/* to genesis */
	q = rreq(head, NULL, 1024, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	check_items(f, &r, NB - 1, NB, 0);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
	/* max_blocks lands exactly on genesis: complete */
	q = rreq(&f->blocks[9].id, NULL, 10, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	check_items(f, &r, 9, 10, 0);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
	/* stop: down to (not including) block 30 */
	q = rreq(head, &f->blocks[30].id, 1024, EC_MSG_MAX_BYTES, EC_RANGE_WITH_PROOFS);
	get_range(f, &q, &r);
	check_items(f, &r, NB - 1, NB - 1 - 30, 1);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
	/* max_blocks cuts exactly before stop: complete (nothing is missing) */
	q = rreq(head, &f->blocks[30].id, NB - 1 - 30, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	check_items(f, &r, NB - 1, NB - 1 - 30, 0);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
	/* one short of stop: not complete */
	q = rreq(head, &f->blocks[30].id, NB - 2 - 30, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	assert_int_equal(r.n_items, NB - 2 - 30);
	assert_int_equal(r.complete, 0);
	ec_range_resp_free(&r);
	/* start == stop: nothing, complete */
	q = rreq(head, head, 5, EC_MSG_MAX_BYTES, 0);
	get_range(f, &q, &r);
	assert_int_equal(r.n_items, 0);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
	/* proofs across block 7 (none stored) */
	q = rreq(&f->blocks[9].id, NULL, 5, EC_MSG_MAX_BYTES, EC_RANGE_WITH_PROOFS);
	get_range(f, &q, &r);
	check_items(f, &r, 9, 5, 1);
	ec_range_resp_free(&r);
	{
		ec_serve_stats st;
		ec_serve_get_stats(f->srv, &st);
		assert_int_equal(st.kind[EC_SERVE_RANGE].served, 8);
		assert_int_equal(st.range_incomplete, 3);
	}
}

static void test_range_bytes(void **state)
{
	fx *f = *state;
	const unsigned top = 20;
	ec_range_req q;
	ec_range_resp r;
	size_t total = EC_RANGE_RESP_FIXED_BYTES;
	for (int proofs = 0; proofs <= 1; proofs++) {
		uint8_t fl = proofs ? EC_RANGE_WITH_PROOFS : 0;
		total = EC_RANGE_RESP_FIXED_BYTES;
		for (unsigned k = 1; k <= 6; k++) {
			total += item_bytes(f, top - k + 1, proofs);
			if (total <= EC_RANGE_MIN_MAX_BYTES)
				continue; /* total - 1 would be an invalid request */
			/* exactly k items fit */
			q = rreq(&f->blocks[top].id, NULL, 100, (uint32_t)total, fl);
			get_range(f, &q, &r);
			check_items(f, &r, top, k, proofs);
			assert_int_equal(r.complete, 0);
			ec_range_resp_free(&r);
			/* one byte less: k - 1 */
			q = rreq(&f->blocks[top].id, NULL, 100, (uint32_t)total - 1, fl);
			get_range(f, &q, &r);
			if (k > 1) {
				check_items(f, &r, top, k - 1, proofs);
			} else { /* the first block always goes, without proof */
				assert_int_equal(r.n_items, 1);
				assert_int_equal(r.items[0].has_proof, 0);
			}
			assert_int_equal(r.complete, 0);
			ec_range_resp_free(&r);
		}
	}
	/* the smallest max_bytes and a head whose proof alone passes it: the
	 * head goes without its proof, its parent with */
	assert_true(item_bytes(f, NB - 1, 1) + EC_RANGE_RESP_FIXED_BYTES >
		    EC_RANGE_MIN_MAX_BYTES);
	q = rreq(&f->blocks[NB - 1].id, NULL, 100, EC_RANGE_MIN_MAX_BYTES,
		 EC_RANGE_WITH_PROOFS);
	get_range(f, &q, &r);
	assert_int_equal(r.n_items, 2);
	assert_int_equal(r.items[0].has_proof, 0);
	assert_int_equal(r.items[1].has_proof, 1);
	assert_int_equal(r.complete, 0);
	ec_range_resp_free(&r);
	/* the bytes limit landing on genesis still says complete */
	total = EC_RANGE_RESP_FIXED_BYTES;
	for (unsigned h = 0; h <= 3; h++)
		total += item_bytes(f, h, 0);
	q = rreq(&f->blocks[3].id, NULL, 100, (uint32_t)total, 0);
	get_range(f, &q, &r);
	check_items(f, &r, 3, 4, 0);
	assert_int_equal(r.complete, 1);
	ec_range_resp_free(&r);
}

static void test_range_server_cap_and_gap(void **state)
{
	fx *f = *state;
	ec_serve *srv2;
	ec_serve_cfg c = ec_serve_default_cfg;
	ec_range_req q;
	ec_range_resp r;
	ec_serve_answer a;
	/* the server's caps: 3 blocks, and the smallest byte cap */
	c.max_range_blocks = 3;
	assert_int_equal(ec_serve_new(&srv2, &c, &f->self, &f->kp, NULL, NULL), EC_OK);
	q = rreq(&f->blocks[NB - 1].id, NULL, 1024, EC_MSG_MAX_BYTES, 0);
	assert_int_equal(ec_serve_range(srv2, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(ec_range_resp_decode(&r, a.msg, a.len), EC_OK);
	assert_int_equal(r.n_items, 3);
	ec_range_resp_free(&r);
	ec_serve_answer_clear(&a);
	ec_serve_free(srv2);
	c = ec_serve_default_cfg;
	c.max_range_bytes = EC_RANGE_MIN_MAX_BYTES;
	assert_int_equal(ec_serve_new(&srv2, &c, &f->self, &f->kp, NULL, NULL), EC_OK);
	assert_int_equal(ec_serve_range(srv2, f->t, requester(), &q, NOW, &a), EC_OK);
	assert_int_equal(ec_range_resp_decode(&r, a.msg, a.len), EC_OK);
	assert_int_equal(r.n_items, 3); /* 3 small blocks fit in 1,609 bytes */
	assert_true(a.len <= EC_RANGE_MIN_MAX_BYTES);
	ec_range_resp_free(&r);
	ec_serve_answer_clear(&a);
	ec_serve_free(srv2);
	/* bad caps */
	c = ec_serve_default_cfg;
	c.max_range_bytes = EC_MSG_MAX_BYTES + 1;
	assert_int_equal(ec_serve_new(&srv2, &c, &f->self, &f->kp, NULL, NULL), EC_ERR_ARG);
	c = ec_serve_default_cfg;
	c.max_range_blocks = 0;
	assert_int_equal(ec_serve_new(&srv2, &c, &f->self, &f->kp, NULL, NULL), EC_ERR_ARG);

	/* a chain of another creator whose parent we do not hold */
	{
		ec_store_txn *w;
		ec_block b[2];
		ec_tx tx[2];
		ec_id other = idn("test/othercreator", 0), missing = idn("test/missing", 0);
		tu_make_tx(&tx[0], 5000, 1, T0);
		tu_make_tx(&tx[1], 5001, 1, T0);
		tu_make_block(&b[0], &other, 10, &missing, T0, &tx[0], 1);
		tu_make_block(&b[1], &other, 11, &b[0].id, T0, &tx[1], 1);
		ec_store_txn_abort(f->t);
		w = wtxn(f->s);
		assert_int_equal(ec_store_put_block(w, &b[0], NULL, 0), EC_OK);
		assert_int_equal(ec_store_put_block(w, &b[1], NULL, 0), EC_OK);
		assert_int_equal(ec_store_txn_commit(w), EC_OK);
		assert_int_equal(ec_store_txn_begin(f->s, 0, &f->t), EC_OK);
		q = rreq(&b[1].id, NULL, 100, EC_MSG_MAX_BYTES, EC_RANGE_WITH_PROOFS);
		get_range(f, &q, &r);
		assert_int_equal(r.n_items, 2);
		assert_int_equal(r.complete, 0);
		assert_int_equal(r.items[0].has_proof, 0);
		ec_range_resp_free(&r);
	}
	/* unknown start */
	{
		ec_id nosuch = idn("test/nosuchblock", 1);
		q = rreq(&nosuch, NULL, 10, EC_MSG_MAX_BYTES, 0);
		assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
		check_refusal(f, &a, EC_MSG_RANGE_REQ, EC_REFUSE_NOTFOUND, 0, 0x77);
		q = rreq(&nosuch, &nosuch, 10, EC_MSG_MAX_BYTES, 0);
		assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
		check_refusal(f, &a, EC_MSG_RANGE_REQ, EC_REFUSE_NOTFOUND, 0, 0x77);
	}
	/* bad signature */
	q = rreq(&f->blocks[3].id, NULL, 10, EC_MSG_MAX_BYTES, 0);
	q.max_blocks = 11;
	assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &q, NOW, &a), EC_OK);
	check_refusal(f, &a, EC_MSG_RANGE_REQ, EC_REFUSE_BAD, 0, 0x77);
}

/* ---- rate limits ---------------------------------------------------------------- */

static void test_rate_limits(void **state)
{
	fx *f = *state;
	ec_ratelimit_cfg c;
	ec_mapping_req q = mreq(&f->tok, 0, 0x81);
	ec_serve_answer a;
	ec_serve_stats st;
	ec_id other = idn("test/other", 0);
	memset(&c, 0, sizeof c);
	c.max_entries = 64;
	c.per_peer[EC_RL_MAPPING] = (ec_rl_limit){1, 2};
	c.per_peer[EC_RL_REFUSAL] = (ec_rl_limit){1, 1};
	c.per_peer[EC_RL_BLOCK_HISTORICAL] = (ec_rl_limit){1, 1};
	c.per_peer[EC_RL_BLOCK_SYNC] = (ec_rl_limit){32, 40};
	with_limits(f, &c);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, NULL, NOW, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_MAPPING_RESP);
		ec_serve_answer_clear(&a);
	}
	/* third: explicit refusal with the wait */
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, NULL, NOW, &a),
			 EC_OK);
	check_refusal(f, &a, EC_MSG_MAPPING_REQ, EC_REFUSE_RATE, 1000, 0x81);
	/* fourth, same ms: the refusal budget is spent too: nothing sent */
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, NULL, NOW, &a),
			 EC_ERR_REFUSED);
	assert_null(a.msg);
	/* another requester is not affected */
	assert_int_equal(ec_serve_mapping(f->srv, f->t, &other, &q, NULL, NOW, &a), EC_OK);
	assert_int_equal(a.type, EC_MSG_MAPPING_RESP);
	ec_serve_answer_clear(&a);
	/* 1 ms early: still limited, and the refusal budget (1/s) too */
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, NULL, NOW + 999,
					  &a),
			 EC_ERR_REFUSED);
	assert_null(a.msg);
	/* after the wait: allowed again */
	assert_int_equal(ec_serve_mapping(f->srv, f->t, requester(), &q, NULL, NOW + 1000,
					  &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_MAPPING_RESP);
	ec_serve_answer_clear(&a);
	/* priorities are separate classes: historical is dry after one */
	{
		ec_block_req b = breq(&f->blocks[1].id, EC_PRIO_HISTORICAL, NOW, 0x82);
		assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &b, NOW, &a), EC_OK);
		assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
		ec_serve_answer_clear(&a);
		assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &b, NOW + 2000, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
		ec_serve_answer_clear(&a);
		assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &b, NOW + 2000, &a),
				 EC_OK);
		check_refusal(f, &a, EC_MSG_BLOCK_REQ, EC_REFUSE_RATE, 1000, 0x82);
		b = breq(&f->blocks[1].id, EC_PRIO_SYNC, NOW, 0x83);
		assert_int_equal(ec_serve_block(f->srv, f->t, requester(), &b, NOW + 2000, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
		ec_serve_answer_clear(&a);
	}
	/* a range of 1,024 blocks costs 32 tokens; sync (32/s, burst 40)
	 * is full again at NOW + 3000 */
	{
		ec_range_req r = rreq(&f->blocks[NB - 1].id, NULL, 1024, EC_MSG_MAX_BYTES, 0);
		assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &r, NOW + 3000, &a),
				 EC_OK);
		assert_int_equal(a.type, EC_MSG_RANGE_RESP);
		ec_serve_answer_clear(&a);
		/* 8 tokens left, 32 needed at 32/s: 750 ms */
		assert_int_equal(ec_serve_range(f->srv, f->t, requester(), &r, NOW + 3000, &a),
				 EC_OK);
		check_refusal(f, &a, EC_MSG_RANGE_REQ, EC_REFUSE_RATE, 750, 0x77);
	}
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.kind[EC_SERVE_MAPPING].rate_limited, 1);
	assert_int_equal(st.kind[EC_SERVE_MAPPING].dropped, 2);
	assert_int_equal(st.kind[EC_SERVE_MAPPING].served, 4);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].rate_limited, 1);
	assert_int_equal(st.kind[EC_SERVE_RANGE].rate_limited, 1);
}

/* ---- dispatch and malformed input -------------------------------------------- */

static void test_dispatch_and_malformed(void **state)
{
	fx *f = *state;
	ec_mapping_req q = mreq(&f->tok, 0, 0x91);
	ec_block_req b = breq(&f->blocks[4].id, EC_PRIO_SYNC, NOW, 0x92);
	ec_range_req r = rreq(&f->blocks[4].id, NULL, 2, EC_MSG_MAX_BYTES, 0);
	ec_tx_req tq;
	uint8_t *enc;
	size_t len;
	ec_serve_answer a;
	ec_serve_stats st;
	memset(&tq, 0, sizeof tq);
	tq.txid = f->transfer.id;
	assert_int_equal(ec_mapping_req_encode(&q, &enc, &len), EC_OK);
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_MAPPING_RESP);
	ec_serve_answer_clear(&a);
	/* truncated, trailing byte, bad flag: the decoder's error, no answer */
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len - 1, NULL, NOW,
					  &a),
			 EC_ERR_SHORT);
	assert_null(a.msg);
	enc[len - 1] = 0x80;
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_ERR_VALUE);
	assert_null(a.msg);
	free(enc);
	assert_int_equal(ec_tx_req_encode(&tq, &enc, &len), EC_OK);
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_TX_RESP);
	ec_serve_answer_clear(&a);
	free(enc);
	assert_int_equal(ec_block_req_encode(&b, &enc, &len), EC_OK);
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_BLOCK_RESP);
	ec_serve_answer_clear(&a);
	enc[2 + 32] = 9; /* priority out of range */
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_ERR_VALUE);
	assert_null(a.msg);
	free(enc);
	assert_int_equal(ec_range_req_encode(&r, &enc, &len), EC_OK);
	assert_int_equal(ec_serve_request(f->srv, f->t, requester(), enc, len, NULL, NOW, &a),
			 EC_OK);
	assert_int_equal(a.type, EC_MSG_RANGE_RESP);
	ec_serve_answer_clear(&a);
	{
		uint8_t *big = malloc(len + 1);
		memcpy(big, enc, len);
		big[len] = 0;
		assert_int_equal(ec_serve_request(f->srv, f->t, requester(), big, len + 1, NULL,
						  NOW, &a),
				 EC_ERR_TRAILING);
		free(big);
	}
	free(enc);
	/* not a request */
	{
		uint8_t blk[EC_BLOCK_MAX_BYTES];
		size_t n = ec_block_encode_to(&f->blocks[0], blk);
		assert_int_equal(ec_serve_request(f->srv, f->t, requester(), blk, n, NULL, NOW,
						  &a),
				 EC_ERR_TYPE);
		assert_int_equal(ec_serve_request(f->srv, f->t, requester(), blk, 1, NULL, NOW,
						  &a),
				 EC_ERR_SHORT);
	}
	ec_serve_get_stats(f->srv, &st);
	assert_int_equal(st.kind[EC_SERVE_MAPPING].malformed, 2);
	assert_int_equal(st.kind[EC_SERVE_BLOCK].malformed, 1);
	assert_int_equal(st.kind[EC_SERVE_RANGE].malformed, 1);
	assert_int_equal(st.kind[EC_SERVE_MAPPING].served, 1);
}

static void test_evidence_ring_and_key_rotation(void **state)
{
	fx *f = *state;
	ec_evidence ev[4];
	ec_id t1 = idn("test/ev", 1), x1 = idn("test/evtx", 1);
	ec_mapping_req q = mreq(&f->tok, EC_MAPPING_WANT_EVIDENCE, 0xa1);
	ec_mapping_resp m;
	ec_keypair k2;
	uint8_t seed[32];
	ec_serve_note_commit(f->srv, &t1, &x1, NOW - 5);
	assert_int_equal(ec_serve_evidence(f->srv, ev), 4);
	assert_true(ec_id_eq(&ev[0].token, &t1));
	assert_true(ec_id_eq(&ev[1].txid, &f->blocks[NB - 1].txids[0]));
	assert_true(ec_id_eq(&ev[3].txid, &f->blocks[NB - 3].txids[0]));
	/* a restarted server reloads the same ring from the store */
	{
		ec_serve *srv2;
		ec_evidence e2[4];
		ec_keypair k = f->kp;
		assert_int_equal(ec_serve_new(&srv2, NULL, &f->self, &k, NULL, NULL), EC_OK);
		assert_int_equal(ec_serve_evidence(srv2, e2), 0);
		assert_int_equal(ec_serve_load_evidence(srv2, f->t), EC_OK);
		assert_int_equal(ec_serve_evidence(srv2, e2), 4);
		/* the original ring before the extra note: blocks 39..36 */
		for (unsigned i = 0; i < 4; i++) {
			const ec_block *b = &f->blocks[NB - 1 - i];
			assert_true(ec_id_eq(&e2[i].txid, &b->txids[0]));
			assert_int_equal(e2[i].commit_ts, b->timestamp);
		}
		ec_serve_free(srv2);
	}
	{ /* a server whose own chain is empty loads nothing */
		ec_serve *srv2;
		ec_evidence e[4];
		ec_id other = idn("test/nochain", 0);
		ec_keypair k = f->kp;
		assert_int_equal(ec_serve_new(&srv2, NULL, &other, &k, NULL, NULL), EC_OK);
		assert_int_equal(ec_serve_load_evidence(srv2, f->t), EC_OK); /* no chain */
		assert_int_equal(ec_serve_evidence(srv2, e), 0);
		ec_serve_free(srv2);
	}
	/* a new lamppost key signs from now on */
	memset(seed, 0x6f, sizeof seed);
	assert_int_equal(ec_keypair_from_seed(&k2, seed), EC_OK);
	ec_serve_set_key(f->srv, &k2);
	f->kp = k2;
	get_mapping(f, &q, NULL, &m);
	assert_int_equal(m.n_evidence, 4);
	assert_int_equal(m.evidence[0].commit_ts, NOW - 5);
}

static int run_group(int lmdb)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mapping_local),
		T(test_mapping_confirmed_and_pending),
		T(test_mapping_referral_rule),
		T(test_inconsistent_store),
		T(test_tx),
		T(test_block),
		T(test_block_refusals),
		T(test_range_walks),
		T(test_range_bytes),
		T(test_range_server_cap_and_gap),
		T(test_rate_limits),
		T(test_dispatch_and_malformed),
		T(test_evidence_ring_and_key_rotation),
	};
	g_lmdb = lmdb;
	return cmocka_run_group_tests_name(lmdb ? "serve/lmdb" : "serve/memory", tests,
					   NULL, NULL);
}

int main(void)
{
	int r = run_group(0);
	return r + run_group(1);
}
