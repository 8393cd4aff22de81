/* ec_node_endorse.c - block fetches and peer endorsement collection
 * (docs/PROTOCOL.md 14b "Endorsements"; reference "Block Request
 * Processing" step 4: "gather supporting signatures from other peers who
 * possess this block").
 *
 * Owns two things:
 *   - block fetches: ec_node_fetch_block sends a signed block request
 *     (0x14) to a peer and remembers (peer, nonce, block id, deadline);
 *     the node routes every block response (0x15) and every refusal of a
 *     block request here.  An answer nobody asked for (no pending fetch
 *     with that nonce from that sender) is not ours: the caller counts it
 *     unsolicited, as before.  An answer is believed only after: responder
 *     = sender, its key = the key our peer table holds (or the rotated key
 *     our state of its identity token names), the response signature, the
 *     block's id = the id asked for.  A block we do not hold yet is stored
 *     (ec_store_put_block, no head: heads stay the sync engine's resume
 *     points) when it verifies on its own (ec_chain_verify of one block:
 *     Merkle root, id, signature) and its signer_pk is its creator's key
 *     (same rule as the responder's); its proof is stored with it when the
 *     proof hashes to the block's proof_hash.
 *   - the endorsement cache: for a block the node holds (stored before or
 *     just now), every endorsement of the response that (a) is not ours,
 *     (b) carries the key we hold for that peer id (peer table, or our
 *     state of its identity token; unknown peer: dropped) and (c) verifies
 *     over the block id (ec_endorsement_verify) is kept.  Per block at
 *     most EC_RESP_MAX_ENDORSE - 1 endorsers (our own endorsement is added
 *     at serve time): the lowest peer ids win, so the kept set does not
 *     depend on arrival order.  At most cfg.endorse_cache_blocks block ids
 *     (0 = NODE_ENDORSE_BLOCKS); a new block id evicts the oldest one
 *     (first-inserted).  Memory only: endorsements are not committed data,
 *     a restart starts with an empty cache.
 * The query service reads the cache through its `endorsements` hook
 * (ec_node_serve.c), so our block responses carry our own endorsement
 * plus the collected ones, ascending by peer, at most 8.
 */
#include <stdlib.h>

#include "ec/crypto.h"
#include "ec_node_int.h"

#define ENDO_PER_BLOCK (EC_RESP_MAX_ENDORSE - 1)

typedef struct endo_entry {
	ec_id block;
	uint8_t n; /* ascending by peer */
	ec_endorsement e[ENDO_PER_BLOCK];
} endo_entry;

typedef struct endo_fetch {
	ec_id peer;
	ec_id block;
	uint8_t nonce[EC_NONCE_BYTES];
	ec_time deadline;
} endo_fetch;

struct node_endorse {
	endo_entry *ent; /* ring: ent[(head + i) % cap], i < n, oldest first */
	size_t cap, n, head;
	endo_fetch fetch[NODE_MAX_FETCH];
	size_t n_fetch;
};

int node_endorse_new(ec_node *n)
{
	struct node_endorse *e = calloc(1, sizeof *e);
	if (!e)
		return EC_ERR_NOMEM;
	/* the cache itself is allocated at its first use: a node that never
	 * fetches (most simulated ones) pays a few hundred bytes, not ~240 KB */
	e->cap = n->cfg.endorse_cache_blocks ? n->cfg.endorse_cache_blocks
					     : NODE_ENDORSE_BLOCKS;
	n->endo = e;
	return EC_OK;
}

void node_endorse_free(ec_node *n)
{
	if (!n->endo)
		return;
	free(n->endo->ent);
	free(n->endo);
	n->endo = NULL;
}

/* ---- cache ------------------------------------------------------------------ */

static endo_entry *cache_find(const struct node_endorse *e, const ec_id *block)
{
	for (size_t i = 0; i < e->n; i++) {
		endo_entry *x = &e->ent[(e->head + i) % e->cap];
		if (ec_id_eq(&x->block, block))
			return x;
	}
	return NULL;
}

/* The entry of block, made (evicting the oldest) when new; NULL only when
 * the cache cannot be allocated. */
static endo_entry *cache_get(struct node_endorse *e, const ec_id *block)
{
	endo_entry *x = cache_find(e, block);
	if (x)
		return x;
	if (!e->ent && !(e->ent = calloc(e->cap, sizeof *e->ent)))
		return NULL;
	if (e->n == e->cap) { /* evict the oldest block id */
		e->head = (e->head + 1) % e->cap;
		e->n--;
	}
	x = &e->ent[(e->head + e->n) % e->cap];
	e->n++;
	memset(x, 0, sizeof *x);
	x->block = *block;
	return x;
}

/* Inserts an endorsement (already checked) in peer order; the lowest
 * ENDO_PER_BLOCK peer ids are kept.  1 = kept (new), 0 = not. */
static int cache_add(endo_entry *x, const ec_endorsement *en)
{
	size_t i = 0;
	while (i < x->n && ec_id_cmp(&x->e[i].peer, &en->peer) < 0)
		i++;
	if (i < x->n && ec_id_eq(&x->e[i].peer, &en->peer))
		return 0; /* held already */
	if (i == ENDO_PER_BLOCK)
		return 0; /* full of lower ids */
	if (x->n == ENDO_PER_BLOCK)
		x->n--; /* the highest falls out */
	memmove(&x->e[i + 1], &x->e[i], (x->n - i) * sizeof x->e[0]);
	x->e[i] = *en;
	x->n++;
	return 1;
}

size_t node_endorse_get(const ec_node *n, const ec_id *block, ec_endorsement *out,
			size_t max)
{
	const endo_entry *x;
	size_t k;
	if (!n->endo || !(x = cache_find(n->endo, block)))
		return 0;
	k = x->n < max ? x->n : max;
	memcpy(out, x->e, k * sizeof *out);
	return k;
}

size_t ec_node_endorsements(const ec_node *n, const ec_id *block_id,
			    ec_endorsement *out, size_t max)
{
	if (!n || !block_id || (!out && max))
		return 0;
	return node_endorse_get(n, block_id, out, max);
}

/* ---- keys ------------------------------------------------------------------- */

/* Whether pk is the key we hold for peer: our peer table's, or the current
 * lamppost key our state of its identity token names.  Unknown: 0. */
static int key_is_peers(ec_node *n, const ec_id *peer, const uint8_t *pk)
{
	const node_peer *p = node_peer_find(n, peer);
	if (p && memcmp(p->pk, pk, EC_PUBKEY_BYTES) == 0)
		return 1;
	return ec_node_check_lamppost(n, peer, pk) == EC_OK;
}

/* ---- fetches ---------------------------------------------------------------- */

int ec_node_fetch_block(ec_node *n, const ec_id *peer, const ec_id *block_id,
			uint8_t priority, ec_time now)
{
	struct node_endorse *e;
	endo_fetch *f;
	ec_block_req q;
	uint8_t *enc;
	size_t len;
	int err;
	if (!n || !peer || !block_id || priority < EC_PRIO_SYNC ||
	    priority > EC_PRIO_HISTORICAL)
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (now > n->last_now)
		n->last_now = now;
	e = n->endo;
	if (!node_peer_find(n, peer))
		return EC_ERR_NOTFOUND;
	if (e->n_fetch == NODE_MAX_FETCH)
		return EC_ERR_BUSY;
	f = &e->fetch[e->n_fetch];
	memset(f, 0, sizeof *f);
	f->peer = *peer;
	f->block = *block_id;
	f->deadline = now + NODE_FETCH_TIMEOUT_MS;
	n->cfg.rng(n->cfg.rng_ctx, f->nonce, sizeof f->nonce);
	memset(&q, 0, sizeof q);
	q.block_id = *block_id;
	q.priority = priority;
	q.auth.requester = n->self;
	q.auth.timestamp = now;
	memcpy(q.auth.nonce, f->nonce, EC_NONCE_BYTES);
	if ((err = ec_block_req_sign(&q, n->cfg.key.sk)) != EC_OK ||
	    (err = ec_block_req_encode(&q, &enc, &len)) != EC_OK)
		return err;
	e->n_fetch++;
	n->st.block_fetches++;
	node_send(n, peer, enc, len);
	/* queued now; a driver that polls only after ticks gets a tick at
	 * once (harmless when nothing else is due) */
	node_deadline_min(n, now);
	return EC_OK;
}

static endo_fetch *fetch_match(struct node_endorse *e, const ec_id *from,
			       const uint8_t *nonce)
{
	for (size_t i = 0; i < e->n_fetch; i++)
		if (ec_id_eq(&e->fetch[i].peer, from) &&
		    memcmp(e->fetch[i].nonce, nonce, EC_NONCE_BYTES) == 0)
			return &e->fetch[i];
	return NULL;
}

static void fetch_done(struct node_endorse *e, endo_fetch *f)
{
	*f = e->fetch[--e->n_fetch];
}

void node_endorse_tick(ec_node *n, ec_time now)
{
	struct node_endorse *e = n->endo;
	size_t i = 0;
	if (!e)
		return;
	while (i < e->n_fetch) {
		if (e->fetch[i].deadline <= now) {
			n->st.block_fetch_timeouts++;
			fetch_done(e, &e->fetch[i]);
			continue;
		}
		node_deadline_min(n, e->fetch[i].deadline);
		i++;
	}
}

/* Stores r's block (and its proof when it matches) if it verifies on its
 * own and is signed with its creator's key.  EC_OK = stored (or held). */
static int store_fetched(ec_node *n, const ec_block_resp *r)
{
	const ec_block *b = &r->block;
	ec_store_txn *t;
	ec_chain_fail fail;
	ec_id ph;
	uint8_t *penc = NULL;
	size_t plen = 0;
	int err;
	if (!key_is_peers(n, &b->creator, b->signer_pk) ||
	    ec_chain_verify(b, 1, &fail) != EC_OK)
		return EC_ERR_SIGNATURE;
	if (r->has_proof && ec_proof_hash(&r->proof, &ph) == EC_OK &&
	    ec_id_eq(&ph, &b->proof_hash) &&
	    ec_proof_encode(&r->proof, &penc, &plen) != EC_OK)
		penc = NULL;
	if ((err = ec_store_txn_begin(n->cfg.store, 1, &t)) != EC_OK) {
		free(penc);
		return err;
	}
	err = ec_store_put_block(t, b, NULL, 0);
	if (err == EC_OK && penc)
		err = ec_store_put_proof(t, &b->id, penc, plen);
	free(penc);
	if (err != EC_OK) {
		ec_store_txn_abort(t);
		return err;
	}
	return ec_store_txn_commit(t);
}

static int block_held(ec_node *n, const ec_id *id)
{
	ec_store_txn *t;
	int r;
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK)
		return -1;
	r = ec_store_has_block(t, id);
	ec_store_txn_abort(t);
	return r;
}

static void collect(ec_node *n, const ec_block_resp *r)
{
	endo_entry *x = NULL;
	for (unsigned i = 0; i < r->n_endorse; i++) {
		const ec_endorsement *en = &r->endorse[i];
		if (ec_id_eq(&en->peer, &n->self))
			continue; /* ours is added at serve time */
		if (!key_is_peers(n, &en->peer, en->pk) ||
		    ec_endorsement_verify(en, &r->block.id) != EC_OK) {
			n->st.endorsements_rejected++;
			continue;
		}
		if (!x && !(x = cache_get(n->endo, &r->block.id)))
			return; /* no memory: nothing kept */
		n->st.endorsements_kept += (uint64_t)cache_add(x, en);
	}
}

static int handle_resp(ec_node *n, const ec_id *from, const uint8_t *msg,
		       size_t len)
{
	struct node_endorse *e = n->endo;
	ec_block_resp r;
	endo_fetch *f;
	const node_peer *p;
	ec_id want;
	int held;
	if (ec_block_resp_decode(&r, msg, len) != EC_OK)
		return 0; /* the caller counts it */
	if (!(f = fetch_match(e, from, r.nonce))) {
		ec_block_resp_free(&r);
		return 0;
	}
	want = f->block;
	if (!ec_id_eq(&r.responder, from) || !(p = node_peer_find(n, from)) ||
	    (memcmp(p->pk, r.pk, EC_PUBKEY_BYTES) != 0 &&
	     !node_peer_rotated(n, from, r.pk)) ||
	    ec_block_resp_verify(&r) != EC_OK) {
		n->st.dropped_bad_sig++; /* the fetch waits for its timeout */
		ec_block_resp_free(&r);
		return 1;
	}
	fetch_done(e, f);
	if (!ec_id_eq(&r.block.id, &want)) {
		n->st.dropped_invalid++;
		ec_block_resp_free(&r);
		return 1;
	}
	held = block_held(n, &want);
	if (held < 0) { /* our store failed: nothing to check against */
		ec_block_resp_free(&r);
		return 1;
	}
	if (held == 0) {
		if (store_fetched(n, &r) != EC_OK) {
			n->st.dropped_invalid++;
			ec_block_resp_free(&r);
			return 1;
		}
		n->st.blocks_fetched_stored++;
		held = 1;
	}
	n->st.blocks_fetched++;
	collect(n, &r);
	ec_block_resp_free(&r);
	return 1;
}

static int handle_refusal(ec_node *n, const ec_id *from, const uint8_t *msg,
			  size_t len)
{
	struct node_endorse *e = n->endo;
	ec_refusal r;
	endo_fetch *f;
	const node_peer *p;
	if (ec_refusal_decode(&r, msg, len) != EC_OK ||
	    r.request_type != EC_MSG_BLOCK_REQ ||
	    !(f = fetch_match(e, from, r.nonce)))
		return 0;
	if (!ec_id_eq(&r.responder, from) || !(p = node_peer_find(n, from)) ||
	    (memcmp(p->pk, r.pk, EC_PUBKEY_BYTES) != 0 &&
	     !node_peer_rotated(n, from, r.pk)) ||
	    ec_refusal_verify(&r) != EC_OK) {
		n->st.dropped_bad_sig++;
		return 1;
	}
	n->st.block_fetch_refused++;
	fetch_done(e, f);
	return 1;
}

int node_endorse_recv(ec_node *n, const ec_id *from, uint8_t type,
		      const uint8_t *msg, size_t len)
{
	if (!n->endo || n->endo->n_fetch == 0)
		return 0;
	if (type == EC_MSG_BLOCK_RESP)
		return handle_resp(n, from, msg, len);
	if (type == EC_MSG_REFUSAL)
		return handle_refusal(n, from, msg, len);
	return 0;
}
