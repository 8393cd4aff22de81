/* fuzz_serve.c - libFuzzer target for the query service (serve.h): peer
 * bytes in, an answer (or nothing) out, never a crash.
 *
 * Input: u8 flags, u16 time offset (s), then one message.
 *   flags bit 0: if the message decodes as a block/range request, re-sign
 *                it as the fixture's requester at `now` (reaches the paths
 *                after the signature check);
 *   flags bit 1: pass a peer set (referral paths);
 *   flags bit 2: tight rate limits (refusal and drop paths).
 * Ids whose first byte is 0xEE are replaced, after decoding, by a fixture
 * object picked by their second byte (token, txid, block), so that short
 * inputs reach stored data.
 * Invariants (abort otherwise): EC_OK comes with an answer, anything else
 * with none; an answer is at most 4 MiB, decodes strictly as the type it
 * claims, echoes the request's nonce, and (unless a referral) verifies
 * with the server's key; a refusal names the request's type.
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
}

/* 0xEE-prefixed ids name fixture objects. */
static void pick(ec_id *id, const ec_id *table, size_t n)
{
	if (id->b[0] == 0xEE)
		*id = table[id->b[1] % n];
}

static void resign(ec_req_auth *a, ec_time now)
{
	a->requester = g_requester;
	a->timestamp = now;
}

/* Decodes, substitutes and re-signs; *msg and *len become a fresh encoding
 * (to free) or stay as they were.  Fills the request's type and nonce. */
static void prepare(uint8_t flags, ec_time now, const uint8_t **msg, size_t *len,
		    uint8_t **owned, uint8_t *type, uint8_t *nonce)
{
	int r = EC_ERR_TYPE;
	*owned = NULL;
	if (ec_msg_peek(*msg, *len, type) != EC_OK)
		return;
	switch (*type) {
	case EC_MSG_MAPPING_REQ: {
		ec_mapping_req q;
		if (ec_mapping_req_decode(&q, *msg, *len) != EC_OK)
			return;
		pick(&q.token, g_tokens, FZ_BLOCKS * 2);
		memcpy(nonce, q.nonce, EC_NONCE_BYTES);
		r = ec_mapping_req_encode(&q, owned, len);
		break;
	}
	case EC_MSG_TX_REQ: {
		ec_tx_req q;
		if (ec_tx_req_decode(&q, *msg, *len) != EC_OK)
			return;
		pick(&q.txid, g_txids, FZ_BLOCKS * 2);
		memcpy(nonce, q.nonce, EC_NONCE_BYTES);
		r = ec_tx_req_encode(&q, owned, len);
		break;
	}
	case EC_MSG_BLOCK_REQ: {
		ec_block_req q;
		if (ec_block_req_decode(&q, *msg, *len) != EC_OK)
			return;
		pick(&q.block_id, g_blocks, FZ_BLOCKS);
		if (flags & 1) {
			resign(&q.auth, now);
			fuzz_check(ec_block_req_sign(&q, g_req_kp.sk) == EC_OK);
		}
		memcpy(nonce, q.auth.nonce, EC_NONCE_BYTES);
		r = ec_block_req_encode(&q, owned, len);
		break;
	}
	case EC_MSG_RANGE_REQ: {
		ec_range_req q;
		if (ec_range_req_decode(&q, *msg, *len) != EC_OK)
			return;
		pick(&q.start, g_blocks, FZ_BLOCKS);
		pick(&q.stop, g_blocks, FZ_BLOCKS);
		if (flags & 1) {
			resign(&q.auth, now);
			fuzz_check(ec_range_req_sign(&q, g_req_kp.sk) == EC_OK);
		}
		memcpy(nonce, q.auth.nonce, EC_NONCE_BYTES);
		r = ec_range_req_encode(&q, owned, len);
		break;
	}
	default:
		return;
	}
	fuzz_check(r == EC_OK);
	*msg = *owned;
}

static void check_answer(const ec_serve_answer *a, uint8_t req_type,
			 const uint8_t *nonce)
{
	uint8_t t;
	fuzz_check(a->msg && a->len <= EC_MSG_MAX_BYTES);
	fuzz_check(ec_msg_peek(a->msg, a->len, &t) == EC_OK && t == a->type);
	switch (a->type) {
	case EC_MSG_MAPPING_RESP: {
		ec_mapping_resp m;
		fuzz_check(req_type == EC_MSG_MAPPING_REQ);
		fuzz_check(ec_mapping_resp_decode(&m, a->msg, a->len) == EC_OK);
		fuzz_check(ec_mapping_resp_verify(&m) == EC_OK);
		fuzz_check(!memcmp(m.pk, g_srv_kp.pk, 32) && !memcmp(m.nonce, nonce, 16));
		break;
	}
	case EC_MSG_TX_RESP: {
		ec_tx_resp x;
		fuzz_check(req_type == EC_MSG_TX_REQ);
		fuzz_check(ec_tx_resp_decode(&x, a->msg, a->len) == EC_OK);
		fuzz_check(ec_tx_resp_verify(&x) == EC_OK);
		fuzz_check(!memcmp(x.pk, g_srv_kp.pk, 32) && !memcmp(x.nonce, nonce, 16));
		break;
	}
	case EC_MSG_BLOCK_RESP: {
		ec_block_resp b;
		int ok;
		fuzz_check(req_type == EC_MSG_BLOCK_REQ);
		fuzz_check(ec_block_resp_decode(&b, a->msg, a->len) == EC_OK);
		ok = ec_block_resp_verify(&b) == EC_OK && !memcmp(b.pk, g_srv_kp.pk, 32) &&
		     !memcmp(b.nonce, nonce, 16);
		ec_block_resp_free(&b);
		fuzz_check(ok);
		break;
	}
	case EC_MSG_RANGE_RESP: {
		ec_range_resp r;
		int ok;
		fuzz_check(req_type == EC_MSG_RANGE_REQ);
		fuzz_check(ec_range_resp_decode(&r, a->msg, a->len) == EC_OK);
		ok = ec_range_resp_verify(&r) == EC_OK && !memcmp(r.pk, g_srv_kp.pk, 32) &&
		     !memcmp(r.nonce, nonce, 16);
		ec_range_resp_free(&r);
		fuzz_check(ok);
		break;
	}
	case EC_MSG_REFERRAL: {
		ec_referral f;
		fuzz_check(req_type == EC_MSG_MAPPING_REQ);
		fuzz_check(ec_referral_decode(&f, a->msg, a->len) == EC_OK);
		fuzz_check(f.n_peers >= 1 && !memcmp(f.nonce, nonce, 16));
		break;
	}
	case EC_MSG_REFUSAL: {
		ec_refusal f;
		fuzz_check(ec_refusal_decode(&f, a->msg, a->len) == EC_OK);
		fuzz_check(ec_refusal_verify(&f) == EC_OK);
		fuzz_check(f.request_type == req_type && f.reason == a->reason &&
			   !memcmp(f.nonce, nonce, 16));
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
	uint8_t *owned, type = 0, nonce[EC_NONCE_BYTES] = {0}, flags;
	size_t len;
	ec_time now;
	int r;
	if (size < 3)
		return 0;
	fixture();
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
	fuzz_check(ec_serve_new(&srv, NULL, &g_self, &g_srv_kp, rl, NULL) == EC_OK);
	fuzz_check(ec_store_txn_begin(g_store, 0, &t) == EC_OK);
	prepare(flags, now, &msg, &len, &owned, &type, nonce);
	/* twice: the second may meet the (tight) rate limit */
	for (int i = 0; i < 2; i++) {
		r = ec_serve_request(srv, t, &g_requester, msg, len,
				     (flags & 2) ? &g_peers : NULL, now, &a);
		if (getenv("FUZZ_SERVE_VERBOSE"))
			fprintf(stderr, "req 0x%02x -> rc %d answer 0x%02x reason %u len %zu\n",
				type, r, a.type, a.reason, a.len);
		if (r == EC_OK)
			check_answer(&a, type, nonce);
		else
			fuzz_check(a.msg == NULL);
		ec_serve_answer_clear(&a);
	}
	ec_store_txn_abort(t);
	ec_serve_free(srv);
	ec_ratelimit_free(rl);
	free(owned);
	return 0;
}
