/* wiregen.c - random valid protocol objects (see wiregen.h). */
#include "wiregen.h"

#include <stdlib.h>
#include <string.h>

#include "testutil.h"

const ec_keypair *wg_key(unsigned i)
{
	static ec_keypair keys[4];
	static int ready;
	if (!ready) {
		for (unsigned k = 0; k < 4; k++) {
			uint8_t seed[32];
			memset(seed, (int)(k + 1), sizeof seed);
			if (ec_crypto_init() != EC_OK ||
			    ec_keypair_from_seed(&keys[k], seed) != EC_OK)
				abort();
		}
		ready = 1;
	}
	return &keys[i % 4];
}

unsigned wg_count(uint64_t *s, unsigned shape, unsigned min, unsigned max)
{
	if (shape == 0)
		return min;
	if (shape == 1)
		return max;
	return min + (unsigned)(tu_rand_u64(s) % (max - min + 1));
}

static unsigned rnd(uint64_t *s, unsigned n)
{
	return (unsigned)(tu_rand_u64(s) % n);
}

void wg_id(uint64_t *s, ec_id *id)
{
	tu_rand_bytes(s, id->b, sizeof id->b);
}

/* Orders records that start with a 32-byte id. */
static int cmp_lead_id(const void *a, const void *b)
{
	return memcmp(a, b, EC_HASH_BYTES);
}

static int cmp_voter(const void *a, const void *b)
{
	return ec_id_cmp(&((const ec_vote *)a)->voter,
			 &((const ec_vote *)b)->voter);
}

static void must(int r)
{
	if (r != EC_OK)
		abort();
}

void wg_tx(uint64_t *s, ec_tx *tx, unsigned shape, int creation_only)
{
	memset(tx, 0, sizeof *tx);
	tx->timestamp = tu_rand_u64(s);
	tx->n_entries = (uint8_t)wg_count(s, shape, 1, EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; i < tx->n_entries; i++) {
		wg_id(s, &tx->entries[i].token);
		if (!creation_only && (shape == 1 || rnd(s, 3)))
			wg_id(s, &tx->entries[i].prev);
		if (rnd(s, 8))
			wg_id(s, &tx->entries[i].next_key);
	}
	if (!creation_only)
		wg_id(s, &tx->entries[0].prev);
	qsort(tx->entries, tx->n_entries, sizeof tx->entries[0], cmp_lead_id);
	for (unsigned i = 0; i < tx->n_entries; i++) {
		const ec_keypair *k = wg_key(rnd(s, 4));
		if (!ec_id_is_zero(&tx->entries[i].prev))
			must(ec_tx_sign_entry(tx, (uint8_t)i, k->pk, k->sk));
	}
	must(ec_tx_finalize(tx));
}

void wg_vote(uint64_t *s, ec_vote *v, const ec_id *txid, unsigned shape)
{
	memset(v, 0, sizeof *v);
	if (txid)
		v->txid = *txid;
	else
		wg_id(s, &v->txid);
	wg_id(s, &v->voter);
	v->seq = (uint32_t)tu_rand_u64(s);
	v->timestamp = tu_rand_u64(s);
	v->n_flags = (uint8_t)wg_count(s, shape, 1, EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; i < v->n_flags; i++) {
		wg_id(s, &v->flags[i].token);
		v->flags[i].flag = (uint8_t)(EC_VOTE_YES + rnd(s, 2));
	}
	qsort(v->flags, v->n_flags, sizeof v->flags[0], cmp_lead_id);
	v->n_conflicts = (uint8_t)wg_count(s, shape, 0, EC_VOTE_MAX_CONFLICTS);
	for (unsigned i = 0; i < v->n_conflicts; i++)
		wg_id(s, &v->conflicts[i]);
	qsort(v->conflicts, v->n_conflicts, sizeof v->conflicts[0], cmp_lead_id);
	must(ec_vote_sign(v, wg_key(rnd(s, 4))->sk));
}

void wg_block(uint64_t *s, ec_block *b, unsigned shape)
{
	memset(b, 0, sizeof *b);
	wg_id(s, &b->creator);
	b->height = tu_rand_u64(s) >> rnd(s, 64);
	b->timestamp = tu_rand_u64(s);
	if (b->height)
		wg_id(s, &b->prev);
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		if (rnd(s, 2))
			wg_id(s, &b->jumps[i]);
	b->n_txs = (uint8_t)wg_count(s, shape, 1, EC_BLOCK_MAX_TXS);
	for (unsigned i = 0; i < b->n_txs; i++)
		wg_id(s, &b->txids[i]);
	ec_merkle_root(&b->merkle_root, b->txids, b->n_txs);
	wg_id(s, &b->proof_hash);
	must(ec_block_sign(b, wg_key(rnd(s, 4))->sk));
}

void wg_proof(uint64_t *s, ec_proof *p, const ec_block *b, unsigned max_votes,
	      unsigned shape)
{
	memset(p, 0, sizeof *p);
	p->n_txs = b->n_txs;
	for (unsigned i = 0; i < p->n_txs; i++) {
		ec_proof_tx *t = &p->txs[i];
		t->txid = b->txids[i];
		t->n_votes = (uint8_t)wg_count(s, shape, 0, max_votes);
		if (!t->n_votes)
			continue;
		t->votes = calloc(t->n_votes, sizeof *t->votes);
		if (!t->votes)
			abort();
		for (unsigned j = 0; j < t->n_votes; j++)
			wg_vote(s, &t->votes[j], &t->txid,
				shape == 1 ? 1 : rnd(s, 3) + 2);
		qsort(t->votes, t->n_votes, sizeof *t->votes, cmp_voter);
	}
}

void wg_mapping_resp(uint64_t *s, ec_mapping_resp *m, unsigned shape)
{
	memset(m, 0, sizeof *m);
	tu_rand_bytes(s, m->nonce, sizeof m->nonce);
	wg_id(s, &m->responder);
	wg_id(s, &m->token);
	if (shape == 1 || rnd(s, 3)) { /* else: no mapping held */
		wg_id(s, &m->txid);
		wg_id(s, &m->owner_key_hash);
		if (rnd(s, 2))
			wg_id(s, &m->prev_txid);
		if (rnd(s, 2)) {
			wg_id(s, &m->commit_block);
			m->commit_block_ts = tu_rand_u64(s);
		}
	}
	wg_id(s, &m->head);
	m->height = tu_rand_u64(s);
	m->response_ts = tu_rand_u64(s);
	m->n_evidence = (uint8_t)wg_count(s, shape, 0, EC_RESP_MAX_EVIDENCE);
	for (unsigned i = 0; i < m->n_evidence; i++) {
		wg_id(s, &m->evidence[i].token);
		wg_id(s, &m->evidence[i].txid);
		m->evidence[i].commit_ts = tu_rand_u64(s);
	}
	must(ec_mapping_resp_sign(m, wg_key(rnd(s, 4))->sk));
}

void wg_tx_resp(uint64_t *s, ec_tx_resp *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->responder);
	wg_tx(s, &r->tx, shape, shape > 1 && rnd(s, 4) == 0);
	if (shape == 1 || rnd(s, 3)) { /* else pending */
		wg_id(s, &r->commit_block);
		r->position = (uint8_t)wg_count(s, shape, 0, EC_BLOCK_MAX_TXS - 1);
		r->confirmations = tu_rand_u64(s) >> rnd(s, 64);
	}
	must(ec_tx_resp_sign(r, wg_key(rnd(s, 4))->sk));
}

static void wg_auth(uint64_t *s, ec_req_auth *a)
{
	wg_id(s, &a->requester);
	a->timestamp = tu_rand_u64(s);
	tu_rand_bytes(s, a->nonce, sizeof a->nonce);
}

void wg_block_req(uint64_t *s, ec_block_req *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	wg_id(s, &r->block_id);
	r->priority = (uint8_t)wg_count(s, shape, EC_PRIO_SYNC, EC_PRIO_HISTORICAL);
	wg_auth(s, &r->auth);
	must(ec_block_req_sign(r, wg_key(rnd(s, 4))->sk));
}

void wg_range_req(uint64_t *s, ec_range_req *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	wg_id(s, &r->start);
	if (rnd(s, 2))
		wg_id(s, &r->stop);
	r->max_blocks = (uint16_t)wg_count(s, shape, 1, EC_RANGE_MAX_BLOCKS);
	r->max_bytes = wg_count(s, shape, EC_RANGE_MIN_MAX_BYTES, EC_MSG_MAX_BYTES);
	r->flags = (uint8_t)wg_count(s, shape, 0, EC_RANGE_WITH_PROOFS);
	r->priority = (uint8_t)wg_count(s, shape, EC_PRIO_SYNC, EC_PRIO_HISTORICAL);
	wg_auth(s, &r->auth);
	must(ec_range_req_sign(r, wg_key(rnd(s, 4))->sk));
}

/* A block and, maybe, its proof; the block commits to the proof's hash. */
static void wg_block_proof(uint64_t *s, ec_block *b, uint8_t *has_proof,
			   ec_proof *p, unsigned max_votes, unsigned shape)
{
	wg_block(s, b, shape);
	*has_proof = (uint8_t)wg_count(s, shape, 0, 1);
	memset(p, 0, sizeof *p);
	if (!*has_proof)
		return;
	wg_proof(s, p, b, max_votes, shape);
	must(ec_proof_hash(p, &b->proof_hash));
	must(ec_block_sign(b, wg_key(rnd(s, 4))->sk));
}

void wg_block_resp(uint64_t *s, ec_block_resp *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->responder);
	wg_block_proof(s, &r->block, &r->has_proof, &r->proof,
		       shape == 1 ? 4 : 2, shape);
	r->n_endorse = (uint8_t)wg_count(s, shape, 0, EC_RESP_MAX_ENDORSE);
	for (unsigned i = 0; i < r->n_endorse; i++)
		wg_id(s, &r->endorse[i].peer);
	qsort(r->endorse, r->n_endorse, sizeof r->endorse[0], cmp_lead_id);
	for (unsigned i = 0; i < r->n_endorse; i++)
		must(ec_endorsement_sign(&r->endorse[i], &r->block.id,
					 wg_key(rnd(s, 4))->sk));
	must(ec_block_resp_sign(r, wg_key(rnd(s, 4))->sk));
}

void wg_range_resp(uint64_t *s, ec_range_resp *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->responder);
	wg_id(s, &r->start);
	r->n_items = (uint16_t)wg_count(s, shape, 0, 12); /* full 1024: own test */
	if (r->n_items) {
		r->items = calloc(r->n_items, sizeof *r->items);
		if (!r->items)
			abort();
	}
	for (unsigned i = 0; i < r->n_items; i++) {
		ec_range_item *it = &r->items[i];
		wg_block_proof(s, &it->block, &it->has_proof, &it->proof, 2,
			       rnd(s, 3) + 2);
	}
	r->complete = (uint8_t)wg_count(s, shape, 0, 1);
	must(ec_range_resp_sign(r, wg_key(rnd(s, 4))->sk));
}

void wg_refusal(uint64_t *s, ec_refusal *r, unsigned shape)
{
	static const uint8_t req[] = {0x10, 0x12, EC_MSG_BLOCK_REQ,
				      EC_MSG_RANGE_REQ};
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->responder);
	r->request_type = req[rnd(s, 4)];
	r->reason = (uint8_t)wg_count(s, shape, EC_REFUSE_RATE, EC_REFUSE_BUSY);
	r->retry_after_ms = (uint32_t)tu_rand_u64(s);
	must(ec_refusal_sign(r, wg_key(rnd(s, 4))->sk));
}

void wg_mapping_req(uint64_t *s, ec_mapping_req *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->token);
	r->flags = (uint8_t)wg_count(s, shape, 0, EC_MAPPING_WANT_EVIDENCE);
}

void wg_tx_req(uint64_t *s, ec_tx_req *r, unsigned shape)
{
	(void)shape; /* fixed size: nothing to shape */
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->txid);
}

/* addr_len random 0..EC_ADDR_MAX (0 / max for shapes 0 / 1); the bytes
 * past addr_len stay zero, as the codecs require. */
static void wg_addr(uint64_t *s, uint8_t *len, uint8_t *addr, unsigned shape)
{
	memset(addr, 0, EC_ADDR_MAX);
	*len = (uint8_t)wg_count(s, shape, 0, EC_ADDR_MAX);
	tu_rand_bytes(s, addr, *len);
}

void wg_referral(uint64_t *s, ec_referral *r, unsigned shape)
{
	memset(r, 0, sizeof *r);
	tu_rand_bytes(s, r->nonce, sizeof r->nonce);
	wg_id(s, &r->responder);
	wg_id(s, &r->target);
	r->n_peers = (uint8_t)wg_count(s, shape, 0, EC_REFERRAL_MAX);
	for (unsigned i = 0; i < r->n_peers; i++) {
		wg_id(s, &r->peers[i].peer); /* random ids: no duplicates */
		wg_addr(s, &r->peers[i].addr_len, r->peers[i].addr, shape);
	}
}

void wg_hello(uint64_t *s, ec_hello *h, unsigned shape)
{
	memset(h, 0, sizeof *h);
	wg_id(s, &h->peer_id);
	if (shape == 1 || (shape > 1 && rnd(s, 4)))
		tu_rand_bytes(s, h->kx_pk, sizeof h->kx_pk);
	h->network_id = tu_rand_u64(s);
	tu_rand_bytes(s, h->salt, sizeof h->salt);
	wg_addr(s, &h->addr_len, h->addr, shape);
	h->timestamp = tu_rand_u64(s);
	if (shape == 1 || (shape > 1 && rnd(s, 4))) {
		wg_id(s, &h->head);
		h->height = tu_rand_u64(s) >> rnd(s, 64);
	}
	must(ec_hello_sign(h, wg_key(rnd(s, 4))->sk));
}
