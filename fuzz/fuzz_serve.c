/* fuzz_serve.c - libFuzzer target for the query service (serve.h): peer
 * bytes in, an answer (or nothing) out, never a crash.  Every request type
 * the service answers (mapping, tx, block, range, tx-batch queries) and
 * every answer type it produces is checked.
 *
 * Input: u8 flags, u16 time offset (s), then one message.
 *   flags bit 0: if the message decodes as a block/range request, re-sign
 *                it as the fixture's requester at `now` (reaches the paths
 *                after the signature check);
 *   flags bit 1: pass a peer set (referral paths);
 *   flags bit 2: tight rate limits (refusal and drop paths).
 * Ids whose first byte is 0xEE are replaced, after decoding, by a fixture
 * object picked by their second byte (token, txid, block; each txid of a
 * tx-batch unless two would become equal), so that short
 * inputs reach stored data.  The service has the hooks a node gives it:
 * one pending transaction (served by tx and tx-batch queries), one
 * collected endorsement per block, addresses for half the referral peers.
 * Invariants (abort otherwise): a request that decodes gets an answer the
 * first time, anything else none; EC_OK comes with an answer, anything
 * else with none; an answer is at most 4 MiB, decodes strictly as the type
 * it claims, is a type that answers the request given (mapping: mapping
 * response or referral; tx, block, range, tx-batch: their response; any:
 * refusal), echoes the request's nonce, and (unless a referral) verifies
 * with the server's key.  Each answer says what the fixture holds: the
 * mapping of a fixture token names its txid and commit block; a tx, block
 * or range answer carries exactly the ids asked (a range: the chain from
 * start down, each block its successor's parent, within max_blocks and
 * max_bytes, "complete" only at genesis or stop; a block answer carries
 * both endorsements, ordered, verifying); a tx-batch answer holds the
 * bodies of the held (stored or pending) ids in request order and flags
 * exactly the others missing; a referral only for a token not held, only
 * peers of the set, with the hook's addresses; a refusal names the request's type, and "not found" only for
 * an id not held, "bad" only for a request not re-signed.
 * The store is built once (read only afterwards); the server and its rate
 * limiter are new for every input, so a replay is deterministic.
 * FUZZ_SERVE_VERBOSE=1 prints what each input got. */
#include <stdio.h>

#include "ec/serve.h"
#include "fuzz_common.h"

#define FZ_BLOCKS 6
#define FZ_T0 1700000000000ull

static ec_store *g_store;
static ec_keypair g_srv_kp, g_req_kp;
static ec_id g_self, g_requester;
static ec_id g_blocks[FZ_BLOCKS];
static ec_id g_tokens[FZ_BLOCKS * 2];
static ec_id g_txids[FZ_BLOCKS * 2];
static ec_peerset g_peers;
/* The hooks a node gives its service: one pending (mempool) transaction,
 * one collected endorsement per block (by g_endo_kp, peer g_endo_id), and
 * a 6-byte address for referral peers whose id starts with an even byte. */
static ec_tx g_pending;
static ec_keypair g_endo_kp;
static ec_id g_endo_id;
/* txids the 0xEE substitution picks from: the stored ones, then the
 * pending one */
static ec_id g_any_txids[FZ_BLOCKS * 2 + 1];

static void fz_id(ec_id *out, const char *tag, uint64_t n)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(n >> (56 - 8 * i));
	ec_hash(out, tag, b, 8);
}

static void fz_key(ec_keypair *kp, uint8_t fill)
{
	uint8_t seed[32];
	memset(seed, fill, sizeof seed);
	fuzz_check(ec_keypair_from_seed(kp, seed) == EC_OK);
}

static void fixture(void)
{
	ec_store_txn *t;
	ec_id prev;
	if (g_store)
		return;
	fuzz_init();
	fz_key(&g_srv_kp, 0x5e);
	fz_key(&g_req_kp, 0x02);
	fz_id(&g_self, "fuzz/self", 0);
	fz_id(&g_requester, "fuzz/requester", 0);
	memset(&prev, 0, sizeof prev);
	fuzz_check(ec_store_open_memory(&g_store) == EC_OK);
	fuzz_check(ec_store_txn_begin(g_store, 1, &t) == EC_OK);
	for (unsigned h = 0; h < FZ_BLOCKS; h++) {
		ec_tx txs[2];
		ec_block b;
		ec_proof p;
		uint8_t *pe;
		size_t pn;
		memset(&b, 0, sizeof b);
		memset(&p, 0, sizeof p);
		for (unsigned i = 0; i < 2; i++) {
			ec_tx *x = &txs[i];
			memset(x, 0, sizeof *x);
			x->timestamp = FZ_T0 + h * 1000;
			x->n_entries = 1;
			fz_id(&x->entries[0].token, "fuzz/token", h * 2 + i);
			fz_id(&x->entries[0].next_key, "fuzz/key", h * 2 + i);
			fuzz_check(ec_tx_finalize(x) == EC_OK);
			g_tokens[h * 2 + i] = x->entries[0].token;
			g_txids[h * 2 + i] = x->id;
			b.txids[i] = p.txs[i].txid = x->id;
		}
		b.creator = g_self;
		b.height = h;
		b.timestamp = FZ_T0 + h * 1000;
		b.prev = prev;
		b.n_txs = p.n_txs = 2;
		ec_merkle_root(&b.merkle_root, b.txids, 2);
		fuzz_check(ec_proof_encode(&p, &pe, &pn) == EC_OK);
		ec_hash(&b.proof_hash, EC_TAG_PROOF, pe, pn);
		fuzz_check(ec_block_sign(&b, g_srv_kp.sk) == EC_OK);
		fuzz_check(ec_store_put_own_block(t, &b, NULL, 0, txs) == EC_OK);
		if (h != 3)
			fuzz_check(ec_store_put_proof(t, &b.id, pe, pn) == EC_OK);
		free(pe);
		g_blocks[h] = prev = b.id;
	}
	fuzz_check(ec_store_txn_commit(t) == EC_OK);
	ec_peerset_init(&g_peers);
	for (unsigned i = 0; i < 24; i++) {
		ec_id x;
		fz_id(&x, "fuzz/peer", i);
		fuzz_check(ec_peerset_add(&g_peers, &x) == EC_OK);
	}
	memset(&g_pending, 0, sizeof g_pending);
	g_pending.timestamp = FZ_T0 + 99000;
	g_pending.n_entries = 1;
	fz_id(&g_pending.entries[0].token, "fuzz/pending-token", 0);
	fz_id(&g_pending.entries[0].next_key, "fuzz/key", 99);
	fuzz_check(ec_tx_finalize(&g_pending) == EC_OK);
	memcpy(g_any_txids, g_txids, sizeof g_txids);
	g_any_txids[FZ_BLOCKS * 2] = g_pending.id;
	fz_key(&g_endo_kp, 0x3e);
	fz_id(&g_endo_id, "fuzz/endorser", 0);
}

static const ec_tx *hook_pending(void *ctx, const ec_id *txid)
{
	(void)ctx;
	return ec_id_eq(txid, &g_pending.id) ? &g_pending : NULL;
}

static size_t hook_endorsements(void *ctx, const ec_id *block_id, ec_endorsement *out,
				size_t max)
{
	(void)ctx;
	if (max < 1)
		return 0;
	fuzz_check(ec_endorsement_sign(&out[0], block_id, g_endo_kp.sk) == EC_OK);
	out[0].peer = g_endo_id;
	return 1;
}

static uint8_t hook_addr(void *ctx, const ec_id *peer, uint8_t *addr)
{
	(void)ctx;
	if (peer->b[0] & 1)
		return 0;
	memcpy(addr, peer->b, 6);
	return 6;
}

/* 0xEE-prefixed ids name fixture objects. */
static void pick(ec_id *id, const ec_id *table, size_t n)
{
	if (id->b[0] == 0xEE)
		*id = table[id->b[1] % n];
}

/* Index of id in table, or -1. */
static int find(const ec_id *id, const ec_id *table, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ec_id_eq(id, &table[i]))
			return (int)i;
	return -1;
}

static void resign(ec_req_auth *a, ec_time now)
{
	a->requester = g_requester;
	a->timestamp = now;
}

/* The request as the server will decode it (after substitution). */
typedef struct fz_req {
	uint8_t type;
	uint8_t flags; /* the input's flags byte */
	ec_time now;
	uint8_t nonce[EC_NONCE_BYTES];
	union {
		ec_mapping_req mapping;
		ec_tx_req tx;
		ec_block_req block;
		ec_range_req range;
		ec_txbatch_req batch;
	} u;
} fz_req;

/* txbatch ids after substitution: 0 when two became equal (the request
 * would no longer decode; the input is then served as it came). */
static int pick_batch(ec_txbatch_req *q)
{
	ec_txbatch_req c = *q;
	for (unsigned i = 0; i < c.n; i++)
		pick(&c.txids[i], g_any_txids, FZ_BLOCKS * 2 + 1);
	for (unsigned i = 0; i < c.n; i++)
		for (unsigned j = i + 1; j < c.n; j++)
			if (ec_id_eq(&c.txids[i], &c.txids[j]))
				return 0;
	*q = c;
	return 1;
}

/* Decodes, substitutes and re-signs; *msg and *len become a fresh encoding
 * (to free) or stay as they were.  Fills q with the request the server
 * gets; q->type is 0 when the input is not a decodable request. */
static void prepare(fz_req *q, const uint8_t **msg, size_t *len, uint8_t **owned)
{
	int r = EC_ERR_TYPE;
	uint8_t type;
	*owned = NULL;
	if (ec_msg_peek(*msg, *len, &type) != EC_OK)
		return;
	switch (type) {
	case EC_MSG_MAPPING_REQ: {
		ec_mapping_req *m = &q->u.mapping;
		if (ec_mapping_req_decode(m, *msg, *len) != EC_OK)
			return;
		pick(&m->token, g_tokens, FZ_BLOCKS * 2);
		memcpy(q->nonce, m->nonce, EC_NONCE_BYTES);
		r = ec_mapping_req_encode(m, owned, len);
		break;
	}
	case EC_MSG_TX_REQ: {
		ec_tx_req *x = &q->u.tx;
		if (ec_tx_req_decode(x, *msg, *len) != EC_OK)
			return;
		pick(&x->txid, g_any_txids, FZ_BLOCKS * 2 + 1);
		memcpy(q->nonce, x->nonce, EC_NONCE_BYTES);
		r = ec_tx_req_encode(x, owned, len);
		break;
	}
	case EC_MSG_BLOCK_REQ: {
		ec_block_req *b = &q->u.block;
		if (ec_block_req_decode(b, *msg, *len) != EC_OK)
			return;
		pick(&b->block_id, g_blocks, FZ_BLOCKS);
		if (q->flags & 1) {
			resign(&b->auth, q->now);
			fuzz_check(ec_block_req_sign(b, g_req_kp.sk) == EC_OK);
		}
		memcpy(q->nonce, b->auth.nonce, EC_NONCE_BYTES);
		r = ec_block_req_encode(b, owned, len);
		break;
	}
	case EC_MSG_RANGE_REQ: {
		ec_range_req *g = &q->u.range;
		if (ec_range_req_decode(g, *msg, *len) != EC_OK)
			return;
		pick(&g->start, g_blocks, FZ_BLOCKS);
		pick(&g->stop, g_blocks, FZ_BLOCKS);
		if (q->flags & 1) {
			resign(&g->auth, q->now);
			fuzz_check(ec_range_req_sign(g, g_req_kp.sk) == EC_OK);
		}
		memcpy(q->nonce, g->auth.nonce, EC_NONCE_BYTES);
		r = ec_range_req_encode(g, owned, len);
		break;
	}
	case EC_MSG_TXBATCH_REQ: {
		ec_txbatch_req *t = &q->u.batch;
		if (ec_txbatch_req_decode(t, *msg, *len) != EC_OK)
			return;
		memcpy(q->nonce, t->nonce, EC_NONCE_BYTES);
		q->type = type;
		if (!pick_batch(t))
			return; /* served as it came */
		r = ec_txbatch_req_encode(t, owned, len);
		break;
	}
	default:
		return;
	}
	fuzz_check(r == EC_OK);
	q->type = type;
	*msg = *owned;
}

/* Our chain's head as every signed answer that names it must give it. */
static void check_head(const ec_id *head, uint64_t height)
{
	fuzz_check(ec_id_eq(head, &g_blocks[FZ_BLOCKS - 1]) && height == FZ_BLOCKS - 1);
}

static void check_mapping(const fz_req *q, const ec_mapping_resp *m)
{
	int k = find(&q->u.mapping.token, g_tokens, FZ_BLOCKS * 2);
	fuzz_check(ec_mapping_resp_verify(m) == EC_OK);
	fuzz_check(!memcmp(m->pk, g_srv_kp.pk, 32) && !memcmp(m->nonce, q->nonce, 16));
	fuzz_check(ec_id_eq(&m->responder, &g_self));
	fuzz_check(ec_id_eq(&m->token, &q->u.mapping.token) && m->response_ts == q->now);
	check_head(&m->head, m->height);
	/* a fresh server has noted no commit: no evidence to give */
	fuzz_check(m->n_evidence == 0);
	if (k >= 0) {
		/* every fixture token was created in our own block k / 2 */
		fuzz_check(ec_id_eq(&m->txid, &g_txids[k]));
		fuzz_check(ec_id_eq(&m->commit_block, &g_blocks[k / 2]));
		fuzz_check(m->commit_block_ts == FZ_T0 + (uint64_t)(k / 2) * 1000);
		fuzz_check(ec_id_is_zero(&m->prev_txid));
	} else {
		fuzz_check(ec_id_is_zero(&m->txid) && ec_id_is_zero(&m->commit_block));
	}
}

static void check_tx(const fz_req *q, const ec_tx_resp *x)
{
	int k = find(&q->u.tx.txid, g_txids, FZ_BLOCKS * 2);
	fuzz_check(ec_tx_resp_verify(x) == EC_OK);
	fuzz_check(!memcmp(x->pk, g_srv_kp.pk, 32) && !memcmp(x->nonce, q->nonce, 16));
	fuzz_check(ec_id_eq(&x->responder, &g_self));
	/* the body answers the id asked (id = hash of the body) */
	fuzz_check(ec_id_eq(&x->tx.id, &q->u.tx.txid));
	if (ec_id_eq(&q->u.tx.txid, &g_pending.id)) {
		/* pending: no block, no confirmations */
		fuzz_check(ec_id_is_zero(&x->commit_block) && x->position == 0 &&
			   x->confirmations == 0);
		return;
	}
	fuzz_check(k >= 0);
	fuzz_check(ec_id_eq(&x->commit_block, &g_blocks[k / 2]) && x->position == k % 2);
	fuzz_check(x->confirmations == (uint64_t)(FZ_BLOCKS - 1 - k / 2));
}

static void check_block(const fz_req *q, const ec_block_resp *b)
{
	int k = find(&q->u.block.block_id, g_blocks, FZ_BLOCKS);
	fuzz_check(ec_block_resp_verify(b) == EC_OK);
	fuzz_check(!memcmp(b->pk, g_srv_kp.pk, 32) && !memcmp(b->nonce, q->nonce, 16));
	fuzz_check(ec_id_eq(&b->responder, &g_self));
	fuzz_check(k >= 0 && ec_id_eq(&b->block.id, &q->u.block.block_id));
	fuzz_check(b->has_proof == (k != 3)); /* block 3's proof is not stored */
	/* ours and the one collected (the hook's), ascending by peer, each
	 * verifying over the block id */
	fuzz_check(b->n_endorse == 2);
	fuzz_check(ec_id_cmp(&b->endorse[0].peer, &b->endorse[1].peer) < 0);
	for (unsigned i = 0; i < 2; i++) {
		fuzz_check(ec_id_eq(&b->endorse[i].peer, &g_self) ||
			   ec_id_eq(&b->endorse[i].peer, &g_endo_id));
		fuzz_check(ec_endorsement_verify(&b->endorse[i], &b->block.id) == EC_OK);
	}
}

static void check_range(const fz_req *q, const ec_range_resp *g, size_t len)
{
	const ec_range_req *rq = &q->u.range;
	fuzz_check(ec_range_resp_verify(g) == EC_OK);
	fuzz_check(!memcmp(g->pk, g_srv_kp.pk, 32) && !memcmp(g->nonce, q->nonce, 16));
	fuzz_check(ec_id_eq(&g->responder, &g_self) && ec_id_eq(&g->start, &rq->start));
	fuzz_check(len <= rq->max_bytes && g->n_items <= rq->max_blocks);
	fuzz_check(find(&rq->start, g_blocks, FZ_BLOCKS) >= 0);
	if (ec_id_eq(&rq->start, &rq->stop)) {
		fuzz_check(g->n_items == 0 && g->complete);
		return;
	}
	fuzz_check(g->n_items >= 1 && ec_id_eq(&g->items[0].block.id, &rq->start));
	for (unsigned i = 0; i < g->n_items; i++) {
		const ec_block *b = &g->items[i].block;
		int k = find(&b->id, g_blocks, FZ_BLOCKS);
		/* our own chain, newest first, each the previous one's parent,
		 * stop never included; proofs only when asked */
		fuzz_check(k >= 0 && b->height == (uint64_t)k);
		fuzz_check(!ec_id_eq(&b->id, &rq->stop));
		if (i > 0)
			fuzz_check(ec_id_eq(&g->items[i - 1].block.prev, &b->id));
		if (g->items[i].has_proof)
			fuzz_check((rq->flags & EC_RANGE_WITH_PROOFS) && k != 3);
	}
	if (g->complete) {
		const ec_block *last = &g->items[g->n_items - 1].block;
		fuzz_check(last->height == 0 ||
			   (!ec_id_is_zero(&rq->stop) && ec_id_eq(&last->prev, &rq->stop)));
	}
}

static void check_txbatch(const fz_req *q, const ec_txbatch_resp *x)
{
	const ec_txbatch_req *rq = &q->u.batch;
	unsigned j = 0;
	fuzz_check(ec_txbatch_resp_verify(x) == EC_OK);
	fuzz_check(!memcmp(x->pk, g_srv_kp.pk, 32) && !memcmp(x->nonce, q->nonce, 16));
	fuzz_check(ec_id_eq(&x->responder, &g_self) && x->n_asked == rq->n);
	/* every id asked: its body in request order, or its missing bit
	 * (set exactly for the ids the store does not hold) */
	for (unsigned i = 0; i < rq->n; i++) {
		int held = find(&rq->txids[i], g_any_txids, FZ_BLOCKS * 2 + 1) >= 0;
		int miss = (int)(x->missing >> i & 1);
		fuzz_check(held != miss);
		if (held) {
			fuzz_check(j < x->n_txs && ec_id_eq(&x->txs[j].id, &rq->txids[i]));
			j++;
		}
	}
	fuzz_check(j == x->n_txs);
	fuzz_check(rq->n == 64 || x->missing >> rq->n == 0);
}

static void check_referral(const fz_req *q, const ec_referral *f)
{
	fuzz_check(!memcmp(f->nonce, q->nonce, 16) && ec_id_eq(&f->responder, &g_self));
	/* only for a token we do not hold, only with a peer set */
	fuzz_check((q->flags & 2) && ec_id_eq(&f->target, &q->u.mapping.token));
	fuzz_check(find(&f->target, g_tokens, FZ_BLOCKS * 2) < 0);
	fuzz_check(f->n_peers >= 1 && f->n_peers <= ec_serve_default_cfg.referral_peers);
	for (unsigned i = 0; i < f->n_peers; i++) {
		fuzz_check(!ec_id_eq(&f->peers[i].peer, &g_self) &&
			   !ec_id_eq(&f->peers[i].peer, &g_requester));
		fuzz_check(ec_peerset_contains(&g_peers, &f->peers[i].peer));
		/* the hook's address, or none */
		if (f->peers[i].peer.b[0] & 1)
			fuzz_check(f->peers[i].addr_len == 0);
		else
			fuzz_check(f->peers[i].addr_len == 6 &&
				   !memcmp(f->peers[i].addr, f->peers[i].peer.b, 6));
	}
}

static void check_refusal(const fz_req *q, const ec_serve_answer *a, const ec_refusal *f)
{
	fuzz_check(ec_refusal_verify(f) == EC_OK);
	fuzz_check(!memcmp(f->pk, g_srv_kp.pk, 32) && ec_id_eq(&f->responder, &g_self));
	fuzz_check(f->request_type == q->type && f->reason == a->reason &&
		   f->retry_after_ms == a->retry_after_ms && !memcmp(f->nonce, q->nonce, 16));
	switch (f->reason) {
	case EC_REFUSE_RATE:
		break;
	case EC_REFUSE_NOTFOUND:
		/* only for an id we do not hold */
		if (q->type == EC_MSG_TX_REQ)
			fuzz_check(find(&q->u.tx.txid, g_any_txids, FZ_BLOCKS * 2 + 1) < 0);
		else if (q->type == EC_MSG_BLOCK_REQ)
			fuzz_check(find(&q->u.block.block_id, g_blocks, FZ_BLOCKS) < 0);
		else
			fuzz_check(q->type == EC_MSG_RANGE_REQ &&
				   find(&q->u.range.start, g_blocks, FZ_BLOCKS) < 0);
		break;
	case EC_REFUSE_BAD:
		/* a request signed by the fixture's requester at now is good */
		fuzz_check(q->type == EC_MSG_BLOCK_REQ || q->type == EC_MSG_RANGE_REQ);
		fuzz_check(!(q->flags & 1));
		break;
	default:
		fuzz_check(0); /* the memory store does not fail: never BUSY */
	}
}

/* The answer decodes strictly as the type it claims, is a type that
 * answers the request given, and says what the fixture holds. */
static void check_answer(const ec_serve_answer *a, const fz_req *q)
{
	uint8_t t;
	fuzz_check(q->type != 0);
	fuzz_check(a->msg && a->len <= EC_MSG_MAX_BYTES);
	fuzz_check(ec_msg_peek(a->msg, a->len, &t) == EC_OK && t == a->type);
	switch (a->type) {
	case EC_MSG_MAPPING_RESP: {
		ec_mapping_resp m;
		fuzz_check(q->type == EC_MSG_MAPPING_REQ);
		fuzz_check(ec_mapping_resp_decode(&m, a->msg, a->len) == EC_OK);
		check_mapping(q, &m);
		break;
	}
	case EC_MSG_TX_RESP: {
		ec_tx_resp x;
		fuzz_check(q->type == EC_MSG_TX_REQ);
		fuzz_check(ec_tx_resp_decode(&x, a->msg, a->len) == EC_OK);
		check_tx(q, &x);
		break;
	}
	case EC_MSG_BLOCK_RESP: {
		ec_block_resp b;
		fuzz_check(q->type == EC_MSG_BLOCK_REQ);
		fuzz_check(ec_block_resp_decode(&b, a->msg, a->len) == EC_OK);
		check_block(q, &b);
		ec_block_resp_free(&b);
		break;
	}
	case EC_MSG_RANGE_RESP: {
		ec_range_resp r;
		fuzz_check(q->type == EC_MSG_RANGE_REQ);
		fuzz_check(ec_range_resp_decode(&r, a->msg, a->len) == EC_OK);
		check_range(q, &r, a->len);
		ec_range_resp_free(&r);
		break;
	}
	case EC_MSG_TXBATCH_RESP: {
		ec_txbatch_resp x;
		fuzz_check(q->type == EC_MSG_TXBATCH_REQ);
		fuzz_check(ec_txbatch_resp_decode(&x, a->msg, a->len) == EC_OK);
		check_txbatch(q, &x);
		ec_txbatch_resp_free(&x);
		break;
	}
	case EC_MSG_REFERRAL: {
		ec_referral f;
		fuzz_check(q->type == EC_MSG_MAPPING_REQ);
		fuzz_check(ec_referral_decode(&f, a->msg, a->len) == EC_OK);
		check_referral(q, &f);
		break;
	}
	case EC_MSG_REFUSAL: {
		ec_refusal f;
		fuzz_check(ec_refusal_decode(&f, a->msg, a->len) == EC_OK);
		check_refusal(q, a, &f);
		break;
	}
	default:
		fuzz_check(0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ec_ratelimit_cfg rc = ec_ratelimit_default_cfg;
	ec_ratelimit *rl;
	ec_serve *srv;
	ec_store_txn *t;
	ec_serve_answer a;
	const uint8_t *msg;
	uint8_t *owned, flags;
	size_t len;
	ec_time now;
	fz_req *q;
	ec_serve_hooks hooks;
	int r;
	if (size < 3)
		return 0;
	fixture();
	memset(&hooks, 0, sizeof hooks);
	hooks.pending_tx = hook_pending;
	hooks.endorsements = hook_endorsements;
	hooks.addr_of = hook_addr;
	flags = data[0];
	now = FZ_T0 + 1000ull * (uint64_t)((data[1] << 8) | data[2]);
	msg = data + 3;
	len = size - 3;
	rc.max_entries = 16;
	if (flags & 4) {
		for (unsigned c = 0; c < EC_RL_CLASSES; c++)
			rc.per_peer[c] = (ec_rl_limit){1, 1};
	}
	fuzz_check(ec_ratelimit_new(&rl, &rc) == EC_OK);
	fuzz_check(ec_serve_new(&srv, NULL, &g_self, &g_srv_kp, rl, &hooks) == EC_OK);
	fuzz_check(ec_store_txn_begin(g_store, 0, &t) == EC_OK);
	fuzz_check((q = calloc(1, sizeof *q)) != NULL);
	q->flags = flags;
	q->now = now;
	prepare(q, &msg, &len, &owned);
	/* twice: the second may meet the (tight) rate limit */
	for (int i = 0; i < 2; i++) {
		r = ec_serve_request(srv, t, &g_requester, msg, len,
				     (flags & 2) ? &g_peers : NULL, now, &a);
		if (getenv("FUZZ_SERVE_VERBOSE"))
			fprintf(stderr, "req 0x%02x -> rc %d answer 0x%02x reason %u len %zu\n",
				q->type, r, a.type, a.reason, a.len);
		/* a request that decodes is always answered the first time
		 * (at worst by a signed refusal: the refusal budget is fresh);
		 * one that does not, never */
		if (i == 0)
			fuzz_check((r == EC_OK) == (q->type != 0));
		if (r == EC_OK)
			check_answer(&a, q);
		else
			fuzz_check(a.msg == NULL);
		ec_serve_answer_clear(&a);
	}
	ec_store_txn_abort(t);
	ec_serve_free(srv);
	ec_ratelimit_free(rl);
	free(owned);
	free(q);
	return 0;
}
