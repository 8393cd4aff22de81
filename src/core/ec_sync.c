/* ec_sync.c - catching up with the neighbourhood (sync.h; docs/PROTOCOL.md
 * section 14c "Sync").
 *
 * The engine lives inside the node and is sans-I/O like the rest of it:
 * requests go out through the node's outbox, the node routes answers to
 * node_sync_recv (matched by nonce: anything we did not ask for is not
 * ours), ec_node_tick drives node_sync_tick.
 *
 * EC_SYNC_CHAIN, in order:
 *   1. chains: the peers whose neighbourhoods overlap our scope (ring
 *      positions -7..+7 around us with k = 4), read with their resume
 *      points from the store (stored head = last completed sync, progress
 *      record = a segment under way);
 *   2. heads: two signed mapping queries per chain (the peer's own address
 *      and its neighbour address, both answered by the peer itself); a
 *      response is believed only after its signature verified with the key
 *      our peer table holds; two signed heads of one height with different
 *      ids = equivocation (both kept, chain dropped, peer penalised);
 *   3. traversal: per chain one range request at a time from the head down
 *      to the resume point (stop = stored head), K blocks each, all chains
 *      in parallel (bounded by max_inflight, max_inflight_peer and
 *      unverified_max_bytes / range_max_bytes); every response verified
 *      (ec_chain_verify: links, heights, ids, Merkle roots, signatures,
 *      in-segment jumps; creator and signer_pk = the peer's key; the top
 *      block is the one asked for; the segment joins the one above it)
 *      before one store batch writes its blocks and the chain's progress;
 *   4. bodies: every txid named by a verified block is fetched once, in
 *      tx-batch requests (0x1B) to a chain that carries it; a body whose
 *      hash is not the asked id (or whose signatures fail) is forged: the
 *      sender is penalised and the id asked elsewhere;
 *   5. state: when every chain is complete and every body held, for every
 *      token in scope the newest transaction of its chain of transactions
 *      (by prev links among the bodies held; ties: more chains, then the
 *      higher id) is written: Confirmed when >= 2 followed chains carry it
 *      (ec_store_set_chain_state), else as a Pending report; a Local state
 *      is never touched;
 *   6. maintenance: every maintain_ms one mapping query to a random
 *      followed peer; a newer head starts a segment back to the stored
 *      head only.
 * EC_SYNC_POLL: every maintain_ms, poll_queries mapping queries (evidence
 * flag) for random in-scope addresses to random neighbourhood peers; the
 * answers and their evidence go through ec_store_apply_sync_update (the
 * two-slot Pending / Confirmed rule).  Never complete.
 *
 * The wanted-transaction table, the state writes and the penalties live in
 * ec_sync_state.c (ec_sync_int.h holds what both files share).
 */
#include <stdlib.h>

#include "ec/crypto.h"
#include "ec/node.h"
#include "ec/sync.h"
#include "ec_sync_int.h"

void ec_sync_cfg_default(ec_sync_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->strategy = EC_SYNC_OFF;
	c->min_chains_per_side = 2;
	c->range_max_blocks = 256;
	c->range_max_bytes = 512u * 1024u;
	c->max_inflight = 16;
	c->max_inflight_peer = 4;
	c->txbatch_max = 64;
	c->stall_min_ms = 500;
	c->stall_max_ms = 10000;
	c->min_rate_bps = 2000;
	c->unverified_max_bytes = 8u * 1024u * 1024u;
	c->maintain_ms = 1000;
	c->poll_queries = 8;
}

/* ---- helpers -------------------------------------------------------------- */

static ec_time sync_deadline(const node_sync *s, ec_time now);
static void finish_chain(ec_node *n, node_sync *s, sync_chain *c, ec_time now);
static void rate_sweep(node_sync *s, ec_time now);

static void sync_rand(ec_node *n, void *out, size_t len)
{
	n->cfg.rng(n->cfg.rng_ctx, out, len);
}

static void sync_send(ec_node *n, node_sync *s, const ec_id *to, uint8_t *msg,
		      size_t len)
{
	if (!msg)
		return;
	s->st.msgs_sent++;
	s->st.bytes_sent += len;
	node_send(n, to, msg, len);
}

/* Blocks in heights lo..hi (lo <= hi) and sums of block counts, saturating:
 * heights come from peers' signed heads, and a peer may name any height up
 * to 2^64 - 1. */
static uint64_t span(uint64_t lo, uint64_t hi)
{
	return hi - lo == UINT64_MAX ? UINT64_MAX : hi - lo + 1;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- receive rate (PROTOCOL 14c "Minimum rate") ----------------------------- */

static sync_peer *peer_stat(node_sync *s, const ec_id *id, int add)
{
	sync_peer *p;
	for (size_t i = 0; i < s->n_pr; i++)
		if (ec_id_eq(&s->pr[i].id, id))
			return &s->pr[i];
	if (!add || s->n_pr == SYNC_MAX_PEERS)
		return NULL;
	p = &s->pr[s->n_pr++];
	memset(p, 0, sizeof *p);
	p->id = *id;
	return p;
}

static int is_data(uint8_t kind)
{
	return kind == RQ_RANGE || kind == RQ_TXB;
}

static void busy_start(node_sync *s, const ec_id *id, ec_time now)
{
	sync_peer *p = peer_stat(s, id, 1);
	if (p && p->outstanding++ == 0)
		p->busy_since = now;
}

static void busy_end(node_sync *s, const ec_id *id, ec_time now)
{
	sync_peer *p = peer_stat(s, id, 0);
	if (!p || !p->outstanding)
		return;
	if (--p->outstanding == 0 && now > p->busy_since)
		p->busy_ms += now - p->busy_since;
}

static uint64_t busy_total(const sync_peer *p, ec_time now)
{
	return p->busy_ms +
	       (p->outstanding && now > p->busy_since ? now - p->busy_since : 0);
}

/* The time a peer is given before its rate is judged at all. */
static uint64_t rate_grace(const node_sync *s)
{
	return s->cfg.stall_min_ms ? s->cfg.stall_min_ms : 1;
}

/* Slow: after its first answer and at least the grace time busy, fewer
 * than min_rate_bps useful bytes per second of busy time. */
static int peer_slow(const node_sync *s, const sync_peer *p, ec_time now)
{
	uint64_t b = busy_total(p, now);
	if (!s->cfg.min_rate_bps || !p->answered || b < rate_grace(s))
		return 0;
	return p->bytes * 1000u < (uint64_t)s->cfg.min_rate_bps * b;
}

/* When an outstanding peer turns slow if nothing arrives. */
static ec_time rate_due(const node_sync *s, const sync_peer *p)
{
	uint64_t need;
	if (!s->cfg.min_rate_bps || !p->answered || !p->outstanding)
		return UINT64_MAX;
	need = p->bytes * 1000u / s->cfg.min_rate_bps + 1;
	if (need < rate_grace(s))
		need = rate_grace(s);
	if (need <= p->busy_ms)
		return p->busy_since;
	return p->busy_since + (need - p->busy_ms);
}

static void peer_answered(node_sync *s, const ec_id *id, size_t useful)
{
	sync_peer *p = peer_stat(s, id, 1);
	if (!p)
		return;
	p->answered = 1;
	p->bytes += useful;
}

static sync_req *req_new(node_sync *s, uint8_t kind, const ec_id *peer, int chain,
			 ec_time now, ec_time timeout, ec_node *n)
{
	for (size_t i = 0; i < SYNC_MAX_REQ; i++) {
		sync_req *r = &s->rq[i];
		if (r->kind != RQ_FREE)
			continue;
		memset(r, 0, sizeof *r);
		r->kind = kind;
		r->peer = *peer;
		r->chain = chain;
		r->sent = now;
		r->deadline = now + timeout;
		sync_rand(n, r->nonce, sizeof r->nonce);
		s->n_rq++;
		if (is_data(kind))
			busy_start(s, peer, now);
		return r;
	}
	return NULL;
}

static void req_free(node_sync *s, sync_req *r)
{
	if (is_data(r->kind))
		busy_end(s, &r->peer, s->now);
	r->kind = RQ_FREE;
	s->n_rq--;
}

static sync_req *req_find(node_sync *s, const uint8_t *nonce, const ec_id *from)
{
	if (!s->n_rq)
		return NULL;
	for (size_t i = 0; i < SYNC_MAX_REQ; i++) {
		sync_req *r = &s->rq[i];
		if (r->kind != RQ_FREE && memcmp(r->nonce, nonce, EC_NONCE_BYTES) == 0 &&
		    ec_id_eq(&r->peer, from))
			return r;
	}
	return NULL;
}

static size_t peer_inflight(const node_sync *s, const ec_id *peer)
{
	size_t k = 0;
	for (size_t i = 0; i < SYNC_MAX_REQ; i++)
		if (s->rq[i].kind == RQ_RANGE || s->rq[i].kind == RQ_TXB)
			k += ec_id_eq(&s->rq[i].peer, peer);
	return k;
}

static size_t data_inflight(const node_sync *s, size_t *ranges)
{
	size_t k = 0, r = 0;
	for (size_t i = 0; i < SYNC_MAX_REQ; i++) {
		k += s->rq[i].kind == RQ_RANGE || s->rq[i].kind == RQ_TXB;
		r += s->rq[i].kind == RQ_RANGE;
	}
	*ranges = r;
	return k;
}

static int chain_of(const node_sync *s, const ec_id *peer)
{
	for (size_t i = 0; i < s->n_ch; i++)
		if (ec_id_eq(&s->ch[i].creator, peer))
			return (int)i;
	return -1;
}

/* Stall timeout: 4 x smoothed RTT within [stall_min, stall_max]. */
static ec_time chain_rto(const node_sync *s, int ci)
{
	double rto = ci >= 0 && s->ch[ci].srtt > 0 ? 4 * s->ch[ci].srtt
						   : s->cfg.stall_min_ms;
	if (rto < s->cfg.stall_min_ms)
		rto = s->cfg.stall_min_ms;
	if (rto > s->cfg.stall_max_ms)
		rto = s->cfg.stall_max_ms;
	return (ec_time)rto;
}

static void rtt_sample(node_sync *s, int ci, ec_time sent, ec_time now)
{
	double v = (double)(now - sent);
	if (ci < 0)
		return;
	s->ch[ci].srtt = s->ch[ci].srtt > 0 ? 0.875 * s->ch[ci].srtt + 0.125 * v : v;
}

/* The peer range requests of chain ci go to: its creator, or the holder
 * tried instead (PROTOCOL 14c "Other holders"). */
static const ec_id *range_src(const node_sync *s, const sync_chain *c)
{
	return c->alt >= 0 ? &s->ch[c->alt].creator : &c->creator;
}

/* The current range source of chain ci failed (stalled, refused, too
 * slow, invalid): the next followed peer not tried yet for this chain
 * (nearest to us first, dropped chains' peers skipped) is asked instead;
 * when every one was tried, the creator again (`later`: not before
 * stall_max_ms). */
static void range_switch(node_sync *s, int ci, ec_time now, int later)
{
	sync_chain *c = &s->ch[ci];
	for (size_t j = 0; j < s->n_ch; j++) {
		if ((int)j == ci || s->ch[j].dropped || (c->alt_tried & (1u << j)))
			continue;
		c->alt = (int)j;
		c->alt_tried |= 1u << j;
		return;
	}
	c->alt = -1;
	if (later)
		c->not_before = now + s->cfg.stall_max_ms;
}

static void chain_drop(ec_node *n, node_sync *s, int ci)
{
	(void)n;
	s->ch[ci].dropped = 1;
	s->ch[ci].active = 0;
}

/* Keeps a signed message as evidence (bounded). */
static void keep_evidence(node_sync *s, const uint8_t *msg, size_t len)
{
	size_t slot = s->ev_count % (2 * SYNC_MAX_CHAINS);
	uint8_t *c = malloc(len);
	if (!c)
		return;
	memcpy(c, msg, len);
	free(s->ev[slot]);
	s->ev[slot] = c;
	s->ev_len[slot] = len;
	s->ev_count++;
}

static void equivocation(ec_node *n, node_sync *s, int ci, const uint8_t *msg,
			 size_t len, ec_time now)
{
	sync_chain *c = &s->ch[ci];
	if (c->head_msg)
		keep_evidence(s, c->head_msg, c->head_len);
	if (msg)
		keep_evidence(s, msg, len);
	if (!c->dropped) {
		/* kept for good: the two signed messages in the store's
		 * evidence table (STORAGE 3.5), then the standing */
		ec_store_txn *t;
		if (ec_store_txn_begin(n->cfg.store, 1, &t) == EC_OK) {
			if (ec_store_add_evidence(t, &c->creator, now, c->head_msg,
						  c->head_msg ? c->head_len : 0, msg,
						  msg ? len : 0, NULL) == EC_OK)
				(void)ec_store_txn_commit(t);
			else
				ec_store_txn_abort(t);
		}
		s->st.equivocations++;
		sync_penalise(n, s, &c->creator, now);
	}
	chain_drop(n, s, ci);
}

/* ---- tx table ------------------------------------------------------------- */

/* ---- chain selection and resume points ----------------------------------- */

struct load_ctx {
	node_sync *s;
	ec_store_txn *t;
	int ci;
};

static int load_block_fn(void *ctx, uint64_t height, const ec_id *id)
{
	struct load_ctx *l = ctx;
	ec_block b;
	(void)height;
	if (ec_store_get_block(l->t, id, &b) == EC_OK)
		sync_tx_note_block(l->s, l->t, l->ci, &b);
	return 0;
}

/* Appends the peers within reach that are not followed yet (nearest
 * first, alternating sides); at the start of a sync that is all of them,
 * later the peers that joined since.  "Within reach" counts followed
 * peers, not ring positions: on each side the nearest `reach` peers whose
 * chain is not dropped, so a dropped chain (silent, stalled, equivocating)
 * is replaced by the next peer out once the peer table holds one.
 * Returns how many were added. */
static size_t select_chains(ec_node *n, node_sync *s)
{
	size_t before = s->n_ch;
	const ec_peerset *ring = &n->ring;
	size_t pos = 0, m = ring->n, have[2] = {0, 0};
	long reach = 2 * EC_NEIGHBOURS - 1;
	for (size_t i = 0; i < m; i++)
		if (ec_id_eq(&ring->ids[i], &n->self))
			pos = i;
	if (reach < s->cfg.min_chains_per_side)
		reach = s->cfg.min_chains_per_side;
	for (size_t d = 1; d < m && s->n_ch < SYNC_MAX_CHAINS; d++) {
		if (have[0] >= (size_t)reach && have[1] >= (size_t)reach)
			break;
		for (int side = 0; side < 2 && s->n_ch < SYNC_MAX_CHAINS; side++) {
			size_t j;
			int ci;
			const node_peer *p;
			if (have[side] >= (size_t)reach)
				continue;
			j = side ? (pos + d) % m : (pos + m - d) % m;
			if (j == pos)
				continue;
			if ((ci = chain_of(s, &ring->ids[j])) >= 0) {
				if (!s->ch[ci].dropped)
					have[side]++;
				continue;
			}
			if (!(p = node_peer_find(n, &ring->ids[j])))
				continue;
			memset(&s->ch[s->n_ch], 0, sizeof s->ch[0]);
			s->ch[s->n_ch].alt = -1;
			s->ch[s->n_ch].creator = p->id;
			memcpy(s->ch[s->n_ch].pk, p->pk, EC_PUBKEY_BYTES);
			s->n_ch++;
			have[side]++;
		}
	}
	return s->n_ch - before;
}

/* The contiguous verified run from the segment's head: through the fills
 * in order, as far as they are done. */
static void chain_contig(sync_chain *c)
{
	c->has_low = 0;
	for (unsigned i = 0; i < c->n_fills; i++) {
		const sync_fill *f = &c->fills[i];
		if (f->has_low) {
			c->low = f->low;
			c->low_height = f->low_height;
			c->has_low = 1;
		}
		if (!f->done)
			break;
	}
}

static int chain_fills_done(const sync_chain *c)
{
	for (unsigned i = 0; i < c->n_fills; i++)
		if (!c->fills[i].done)
			return 0;
	return 1;
}

/* The stored blocks of a chain between two heights, ascending. */
struct stored_range {
	uint64_t top;
	struct stored_at {
		uint64_t height;
		ec_id id;
	} *at;
	size_t n, cap;
	int err;
};

static int stored_fn(void *ctx, uint64_t height, const ec_id *id)
{
	struct stored_range *r = ctx;
	if (height > r->top)
		return 1;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct stored_at *a = realloc(r->at, cap * sizeof *a);
		if (!a) {
			r->err = EC_ERR_NOMEM;
			return 1;
		}
		r->at = a;
		r->cap = cap;
	}
	r->at[r->n].height = height;
	r->at[r->n++].id = *id;
	return 0;
}

/* A gap in the stored heights right under `above` (or under the top of
 * the segment when none is stored above): a new fill from there down,
 * unless one is open or there is no room for another. */
static void resume_gap(sync_chain *c, const ec_block *above, int have_above, int *open)
{
	sync_fill *f;
	if (*open || c->n_fills >= SYNC_MAX_FILLS)
		return;
	f = &c->fills[c->n_fills++];
	memset(f, 0, sizeof *f);
	f->height_known = 1;
	if (have_above) {
		f->cursor = above->prev;
		f->cursor_height = above->height - 1;
		f->low = above->id;
		f->low_height = above->height;
		f->low_ts = above->timestamp;
		f->has_low = 1;
	} else {
		f->cursor = c->seg_head;
		f->cursor_height = c->seg_height;
	}
	if (c->has_base)
		f->stop = c->base;
	*open = 1;
}

/* Resume of a segment (seg_head .. resume point) from what the store
 * holds: every stored height counts as verified (it was verified before it
 * was stored), and every gap becomes a fill from the block above it down
 * to the stored block below it (or the resume point), so nothing stored
 * is asked for again.  The walk visits the stored blocks only, never each
 * height: the segment's top is a height a peer announced, up to 2^64 - 1. */
static void resume_fills(ec_store_txn *t, sync_chain *c)
{
	uint64_t lo = c->has_base ? c->base_height + 1 : 0;
	struct stored_range sr;
	ec_block above;
	int have_above = 0, open = 0;
	memset(&above, 0, sizeof above);
	memset(&sr, 0, sizeof sr);
	sr.top = c->seg_height;
	c->n_fills = 0;
	c->verified = 0;
	if (ec_store_iter_chain(t, &c->creator, lo, stored_fn, &sr) < 0 || sr.err)
		sr.n = 0; /* nothing readable: the whole segment is one fill */
	for (size_t k = sr.n; k-- > 0;) {
		ec_block b;
		uint64_t h = sr.at[k].height;
		/* a gap above h: the next height up is not stored */
		if ((have_above ? above.height : c->seg_height) > h + (have_above ? 1 : 0))
			resume_gap(c, &above, have_above, &open);
		if (ec_store_get_block(t, &sr.at[k].id, &b) != EC_OK) {
			/* indexed but unreadable: a gap like any other */
			resume_gap(c, &above, have_above, &open);
			continue;
		}
		if (h == c->seg_height)
			c->seg_ts = b.timestamp;
		if (open) {
			c->fills[c->n_fills - 1].stop = b.id;
			open = 0;
		}
		c->verified++;
		above = b;
		have_above = 1;
	}
	/* the heights under the lowest stored block (or all of them) */
	if (!have_above || above.height > lo)
		resume_gap(c, &above, have_above, &open);
	free(sr.at);
	chain_contig(c);
}

static void load_resume(ec_node *n, node_sync *s, size_t from)
{
	ec_store_txn *t;
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK)
		return;
	for (size_t i = from; i < s->n_ch; i++) {
		sync_chain *c = &s->ch[i];
		ec_sync_progress p;
		ec_block bb;
		struct load_ctx l = {s, t, (int)i};
		if (ec_store_get_head(t, &c->creator, &c->base, &c->base_height) == EC_OK) {
			c->has_base = 1;
			if (ec_store_get_block(t, &c->base, &bb) == EC_OK)
				c->base_ts = bb.timestamp;
		}
		if (ec_store_get_progress(t, &c->creator, &p) == EC_OK && !p.complete &&
		    (!c->has_base || p.head_height > c->base_height)) {
			c->active = 1;
			c->seg_head = p.head;
			c->seg_height = p.head_height;
			c->target = span(c->has_base ? c->base_height + 1 : 0, p.head_height);
			resume_fills(t, c);
		} else if (ec_store_get_progress(t, &c->creator, &p) == EC_OK && p.complete &&
			   c->has_base && ec_id_eq(&p.head, &c->base) &&
			   p.low_height <= p.head_height) {
			/* the last segment completed: it counts as done */
			c->verified = c->target = span(p.low_height, p.head_height);
		}
		(void)ec_store_iter_chain(t, &c->creator, 0, load_block_fn, &l);
	}
	ec_store_txn_abort(t);
}

/* ---- requests ------------------------------------------------------------- */

static void send_mapping(ec_node *n, node_sync *s, int ci, const ec_id *peer,
			 const ec_id *token, uint8_t kind, uint8_t flags, ec_time now)
{
	ec_mapping_req q;
	uint8_t *enc;
	size_t len;
	sync_req *r = req_new(s, kind, peer, ci, now, chain_rto(s, ci), n);
	if (!r)
		return;
	memset(&q, 0, sizeof q);
	memcpy(q.nonce, r->nonce, EC_NONCE_BYTES);
	q.token = *token;
	q.flags = flags;
	if (ec_mapping_req_encode(&q, &enc, &len) != EC_OK) {
		req_free(s, r);
		return;
	}
	if (ci >= 0)
		s->ch[ci].map_out++;
	sync_send(n, s, peer, enc, len);
}

/* Two head queries to chain ci: its own address and the address next to
 * it, both inside its own neighbourhood (so answered, not referred). */
static void ask_head(ec_node *n, node_sync *s, int ci, int twice, ec_time now)
{
	ec_id tok = s->ch[ci].creator;
	send_mapping(n, s, ci, &s->ch[ci].creator, &tok, RQ_MAP, 0, now);
	if (twice) {
		tok.b[EC_HASH_BYTES - 1] ^= 1;
		send_mapping(n, s, ci, &s->ch[ci].creator, &tok, RQ_MAP, 0, now);
	}
}

static int send_range(ec_node *n, node_sync *s, int ci, unsigned fi, ec_time now)
{
	sync_chain *c = &s->ch[ci];
	sync_fill *f = &c->fills[fi];
	ec_range_req q;
	uint8_t *enc;
	size_t len;
	const ec_id *to = range_src(s, c);
	sync_req *r = req_new(s, RQ_RANGE, to, ci, now, chain_rto(s, ci), n);
	if (!r)
		return 0;
	r->fill = fi;
	memset(&q, 0, sizeof q);
	q.start = f->cursor;
	q.stop = f->stop;
	q.max_blocks = s->cfg.range_max_blocks;
	q.max_bytes = s->cfg.range_max_bytes;
	q.flags = 0;
	q.priority = EC_PRIO_SYNC;
	q.auth.requester = n->self;
	q.auth.timestamp = now;
	memcpy(q.auth.nonce, r->nonce, EC_NONCE_BYTES);
	if (ec_range_req_sign(&q, n->cfg.key.sk) != EC_OK ||
	    ec_range_req_encode(&q, &enc, &len) != EC_OK) {
		req_free(s, r);
		return 0;
	}
	f->inflight = 1;
	sync_send(n, s, to, enc, len);
	return 1;
}

/* The chain a missing body is asked from: one of its carriers picked by
 * the id (spreads the load over them), the next one after each failure,
 * skipping dropped chains and those that failed it; -1 when none is
 * left. */
static int tx_source(const node_sync *s, const sync_tx *x)
{
	unsigned n = x->n_src < SYNC_MAX_SRC ? x->n_src : SYNC_MAX_SRC;
	for (unsigned k = 0; k < n; k++) {
		unsigned i = (x->txid.b[0] + x->tries + k) % n;
		int ci = x->src[i];
		if (!s->ch[ci].dropped && !(x->failed & (1u << ci)))
			return ci;
	}
	return -1;
}

static void send_txbatch(ec_node *n, node_sync *s, int ci, const uint32_t *ids,
			 unsigned k, ec_time now)
{
	ec_txbatch_req q;
	uint8_t *enc;
	size_t len;
	sync_req *r = req_new(s, RQ_TXB, &s->ch[ci].creator, ci, now, chain_rto(s, ci), n);
	if (!r)
		return;
	memset(&q, 0, sizeof q);
	memcpy(q.nonce, r->nonce, EC_NONCE_BYTES);
	q.n = (uint8_t)k;
	for (unsigned i = 0; i < k; i++) {
		q.txids[i] = s->tx[ids[i]]->txid;
		r->ids[i] = ids[i];
	}
	r->n_ids = (uint8_t)k;
	if (ec_txbatch_req_encode(&q, &enc, &len) != EC_OK) {
		req_free(s, r);
		return;
	}
	for (unsigned i = 0; i < k; i++)
		s->tx[ids[i]]->inflight = 1;
	sync_send(n, s, &s->ch[ci].creator, enc, len);
}

/* ---- progress and completion ---------------------------------------------- */

static void update_progress(node_sync *s, ec_time now)
{
	uint64_t target = 0, verified = 0;
	double p;
	for (size_t i = 0; i < s->n_ch; i++) {
		if (s->ch[i].dropped)
			continue;
		target = sat_add(target, s->ch[i].target);
		verified = sat_add(verified, s->ch[i].verified < s->ch[i].target
						     ? s->ch[i].verified
						     : s->ch[i].target);
	}
	s->st.blocks_target = target;
	s->st.blocks_verified = verified;
	p = target ? (double)verified / (double)target : 0.0;
	if (p > s->shown)
		s->shown = p;
	s->st.progress = s->shown;
	s->st.eta_ms = 0;
	if (verified > s->run_verified0 && now > s->run_start && target > verified) {
		double rate = (double)(verified - s->run_verified0) /
			      (double)(now - s->run_start),
		       eta = (double)(target - verified) / rate;
		/* a double past 2^64 - 1 has no uint64_t value */
		s->st.eta_ms = eta < 18446744073709551616.0 ? (uint64_t)eta : UINT64_MAX;
	}
}

static int all_chains_done(const node_sync *s)
{
	size_t live = 0;
	if (s->n_ch == 0)
		return 1; /* no peer to follow: nothing to catch up with */
	for (size_t i = 0; i < s->n_ch; i++) {
		if (s->ch[i].dropped)
			continue;
		live++;
		if (!s->ch[i].have_head || !s->ch[i].complete || s->ch[i].active)
			return 0;
	}
	return live > 0;
}

static int all_bodies_held(const node_sync *s)
{
	for (size_t i = 0; i < s->n_tx; i++)
		if (!s->tx[i]->held && tx_source(s, s->tx[i]) >= 0)
			return 0;
	return 1;
}

/* ---- the pump: what to send next -------------------------------------------- */

static void begin_segment(node_sync *s, sync_chain *c)
{
	if (c->has_base && ec_id_eq(&c->head, &c->base)) {
		c->complete = 1;
		return;
	}
	if (ec_id_is_zero(&c->head)) { /* empty chain */
		c->complete = 1;
		return;
	}
	if (c->has_base && c->head_height <= c->base_height) {
		c->complete = 1; /* not newer than what we hold */
		return;
	}
	c->active = 1;
	c->complete = 0;
	c->seg_head = c->head;
	c->seg_height = c->head_height;
	c->seg_ts = 0;
	c->has_low = 0;
	memset(&c->fills[0], 0, sizeof c->fills[0]);
	c->fills[0].cursor = c->head;
	c->fills[0].cursor_height = c->head_height;
	c->fills[0].height_known = 1;
	if (c->has_base)
		c->fills[0].stop = c->base;
	c->n_fills = 1;
	c->target = sat_add(c->target,
			    span(c->has_base ? c->base_height + 1 : 0, c->head_height));
	s->applied = 0;
}

static void pump(ec_node *n, node_sync *s, ec_time now)
{
	size_t ranges, inflight = data_inflight(s, &ranges);
	size_t max_ranges = s->cfg.range_max_bytes
				    ? s->cfg.unverified_max_bytes / s->cfg.range_max_bytes
				    : 1;
	uint32_t *batch = NULL;
	int first_round = 0;
	if (max_ranges < 1)
		max_ranges = 1;
	if (s->st.strategy != EC_SYNC_CHAIN)
		return;
	for (size_t i = 0; i < s->n_ch; i++) {
		sync_chain *c = &s->ch[i];
		if (c->dropped || !c->have_head)
			continue;
		if (!c->active && !c->complete)
			begin_segment(s, c);
		if (c->active && chain_fills_done(c)) { /* resumed: all stored */
			finish_chain(n, s, c, now);
			continue;
		}
		if (!c->active || c->not_before > now)
			continue;
		for (unsigned fi = 0; fi < c->n_fills; fi++) {
			if (c->fills[fi].done || c->fills[fi].inflight)
				continue;
			if (inflight >= s->cfg.max_inflight || ranges >= max_ranges ||
			    peer_inflight(s, range_src(s, c)) >= s->cfg.max_inflight_peer)
				break;
			if (send_range(n, s, (int)i, fi, now)) {
				inflight++;
				ranges++;
			}
		}
	}
	/* bodies: batches per source chain.  A body is asked for once two
	 * chains name it, or once every chain delivered its first segment:
	 * the load is then spread over its carriers (tx_source). */
	for (size_t i = 0; i < s->n_ch; i++) {
		const sync_chain *c = &s->ch[i];
		if (!c->dropped && (!c->have_head || (c->active && !c->has_low)))
			break;
		if (i + 1 == s->n_ch)
			first_round = 1;
	}
	if (s->n_tx && inflight < s->cfg.max_inflight &&
	    (batch = malloc(SYNC_MAX_CHAINS * EC_TXBATCH_MAX * sizeof *batch))) {
		unsigned cnt[SYNC_MAX_CHAINS] = {0};
		unsigned bmax = s->cfg.txbatch_max ? s->cfg.txbatch_max : EC_TXBATCH_MAX;
		if (bmax > EC_TXBATCH_MAX)
			bmax = EC_TXBATCH_MAX;
		for (size_t i = 0; i < s->n_tx && inflight < s->cfg.max_inflight; i++) {
			sync_tx *x = s->tx[i];
			int ci;
			if (x->held || x->inflight || (x->n_src < 2 && !first_round) ||
			    (ci = tx_source(s, x)) < 0)
				continue;
			if (s->ch[ci].not_before > now ||
			    peer_inflight(s, &s->ch[ci].creator) >= s->cfg.max_inflight_peer)
				continue;
			batch[ci * EC_TXBATCH_MAX + cnt[ci]++] = (uint32_t)i;
			if (cnt[ci] == bmax) {
				send_txbatch(n, s, ci, &batch[ci * EC_TXBATCH_MAX],
					     cnt[ci], now);
				cnt[ci] = 0;
				inflight++;
			}
		}
		for (int ci = 0; ci < (int)s->n_ch; ci++)
			if (cnt[ci] && inflight < s->cfg.max_inflight) {
				send_txbatch(n, s, ci, &batch[ci * EC_TXBATCH_MAX],
					     cnt[ci], now);
				inflight++;
			}
		free(batch);
	}
	update_progress(s, now);
	if (all_chains_done(s) && all_bodies_held(s)) {
		if (!s->applied) {
			sync_apply_state(n, s);
			s->applied = 1;
		}
		if (s->st.phase != EC_SYNC_CAUGHT_UP) {
			s->st.phase = EC_SYNC_CAUGHT_UP;
			if (!s->st.caught_up_at)
				s->st.caught_up_at = now;
			s->next_maint = now + s->cfg.maintain_ms;
		}
	} else if (s->st.phase == EC_SYNC_CAUGHT_UP) {
		s->st.phase = EC_SYNC_TRAVERSE;
	}
}

/* ---- answers --------------------------------------------------------------- */

static void on_mapping(ec_node *n, node_sync *s, const ec_id *from,
		       const uint8_t *msg, size_t len, ec_time now)
{
	ec_mapping_resp m;
	sync_req *r;
	const node_peer *p;
	sync_chain *c;
	int ci;
	if (ec_mapping_resp_decode(&m, msg, len) != EC_OK ||
	    !(r = req_find(s, m.nonce, from)) || (r->kind != RQ_MAP && r->kind != RQ_POLL))
		return; /* not an answer to a mapping query of ours */
	ci = r->chain;
	s->st.msgs_recv++;
	s->st.bytes_recv += len;
	s->st.round_trips++;
	rtt_sample(s, ci, r->sent, now);
	if (ci >= 0 && s->ch[ci].map_out)
		s->ch[ci].map_out--;
	req_free(s, r);
	p = node_peer_find(n, from);
	/* believe nothing before the signature verified with the key we hold */
	if (!ec_id_eq(&m.responder, from) || !p ||
	    memcmp(p->pk, m.pk, EC_PUBKEY_BYTES) != 0 ||
	    ec_mapping_resp_verify(&m) != EC_OK) {
		sync_penalise(n, s, from, now);
		return;
	}
	if (s->st.strategy == EC_SYNC_POLL) {
		sync_learn_poll(n, s, &m);
		return;
	}
	if (ci < 0 || s->ch[ci].dropped)
		return;
	c = &s->ch[ci];
	if (c->have_head && m.height == c->head_height && !ec_id_eq(&m.head, &c->head)) {
		equivocation(n, s, ci, msg, len, now);
		return;
	}
	if (c->has_base && m.height == c->base_height && !ec_id_eq(&m.head, &c->base)) {
		equivocation(n, s, ci, msg, len, now);
		return;
	}
	if (c->have_head && m.height <= c->head_height)
		return; /* not newer */
	c->have_head = 1;
	c->head = m.head;
	c->head_height = m.height;
	free(c->head_msg);
	if ((c->head_msg = malloc(len))) {
		memcpy(c->head_msg, msg, len);
		c->head_len = len;
	}
	if (c->complete && !c->active) { /* maintenance: a newer head */
		c->complete = 0;
		s->applied = 0;
	}
	if (s->st.phase == EC_SYNC_DISCOVER)
		s->st.phase = EC_SYNC_TRAVERSE;
}

/* A wrong or invalid answer from chain ci's peer: penalise, discard,
 * ask again (after a strike limit the chain is dropped). */
static void strike(ec_node *n, node_sync *s, int ci, ec_time now)
{
	sync_penalise(n, s, &s->ch[ci].creator, now);
	if (++s->ch[ci].strikes >= SYNC_STRIKES)
		chain_drop(n, s, ci);
}

/* A wrong range answer: from the creator a strike; from another holder a
 * penalty for it and the next source. */
static void range_bad(ec_node *n, node_sync *s, int ci, const ec_id *from, ec_time now)
{
	if (ec_id_eq(from, &s->ch[ci].creator)) {
		strike(n, s, ci, now);
		return;
	}
	sync_penalise(n, s, from, now);
	range_switch(s, ci, now, 0);
}

static int verify_range(const sync_chain *c, const sync_fill *f, const ec_range_resp *r,
			ec_block *asc)
{
	size_t k = r->n_items;
	if (k == 0)
		return EC_ERR_VALUE;
	for (size_t i = 0; i < k; i++) {
		const ec_block *b = &r->items[k - 1 - i].block;
		if (!ec_id_eq(&b->creator, &c->creator) ||
		    memcmp(b->signer_pk, c->pk, EC_PUBKEY_BYTES) != 0)
			return EC_ERR_CREATOR;
		asc[i] = *b;
	}
	if (ec_chain_verify(asc, k, NULL) != EC_OK)
		return EC_ERR_SIGNATURE;
	/* the top block is the one asked for (an id a verified block or a
	 * signed head named) and joins the stretch above it */
	if (!ec_id_eq(&asc[k - 1].id, &f->cursor) ||
	    (f->height_known && asc[k - 1].height != f->cursor_height))
		return EC_ERR_ID;
	if (f->has_low && (asc[k - 1].timestamp > f->low_ts ||
			   asc[k - 1].height + 1 != f->low_height))
		return EC_ERR_TIME;
	return EC_OK;
}

/* The skeleton: the last fill (the one that ends at the resume point or
 * genesis) is split at the deepest jump reference of its lowest verified
 * block that still lies above that end; the new fill below is walked in
 * parallel.  A jump target is the newest block at least delta older, so
 * with a resume point of timestamp T it lies above it when the bound
 * (timestamp - delta) is newer than T (PROTOCOL 5.1). */
static void lay_anchor(node_sync *s, sync_chain *c, const ec_block *low)
{
	sync_fill *f, *g;
	if (c->n_fills == 0 || c->n_fills >= SYNC_MAX_FILLS)
		return;
	f = &c->fills[c->n_fills - 1];
	for (int j = EC_JUMP_COUNT - 1; j >= 0; j--) {
		const ec_id *jid = &low->jumps[j];
		uint64_t d = ec_jump_delta_ms[j];
		if (ec_id_is_zero(jid) || low->timestamp < d || ec_id_eq(jid, &low->prev))
			continue;
		if (c->has_base && (low->timestamp - d <= c->base_ts ||
				    ec_id_eq(jid, &c->base)))
			continue;
		if (!ec_id_is_zero(&f->stop) && ec_id_eq(jid, &f->stop))
			continue;
		g = &c->fills[c->n_fills++];
		memset(g, 0, sizeof *g);
		g->cursor = *jid;
		g->stop = f->stop;
		f->stop = *jid;
		s->st.skeleton_anchors++;
		return;
	}
}

/* Every fill done: the chain is verified down to its resume point. */
static void chain_completed(sync_chain *c)
{
	c->active = 0;
	c->complete = 1;
	c->has_base = 1;
	c->base = c->seg_head;
	c->base_height = c->seg_height;
	c->base_ts = c->seg_ts;
	if (c->head_height > c->base_height)
		c->complete = 0; /* a newer head arrived meanwhile */
}

static void finish_chain(ec_node *n, node_sync *s, sync_chain *c, ec_time now)
{
	ec_store_txn *t;
	ec_sync_progress pg;
	memset(&pg, 0, sizeof pg);
	pg.chain = c->creator;
	pg.head = c->seg_head;
	pg.head_height = c->seg_height;
	pg.low = c->low;
	pg.low_height = c->low_height;
	pg.started = s->st.started;
	pg.updated = now;
	pg.complete = 1;
	if (ec_store_txn_begin(n->cfg.store, 1, &t) != EC_OK)
		return;
	if (ec_store_put_progress(t, &pg) != EC_OK ||
	    ec_store_set_head(t, &c->creator, &c->seg_head, c->seg_height) != EC_OK) {
		ec_store_txn_abort(t);
		return;
	}
	if (ec_store_txn_commit(t) == EC_OK)
		chain_completed(c);
}

static void on_range(ec_node *n, node_sync *s, const ec_id *from, const uint8_t *msg,
		     size_t len, ec_time now)
{
	ec_range_resp r;
	sync_req *rq;
	sync_chain *c, saved;
	sync_fill *f;
	ec_block *asc = NULL;
	ec_store_txn *t = NULL;
	ec_sync_progress pg;
	const node_peer *src;
	int ci, err, fdone = 0, all;
	unsigned fi;
	size_t k;
	if (ec_range_resp_decode(&r, msg, len) != EC_OK)
		return;
	if (!(rq = req_find(s, r.nonce, from)) || rq->kind != RQ_RANGE) {
		ec_range_resp_free(&r);
		return;
	}
	ci = rq->chain;
	fi = rq->fill;
	c = &s->ch[ci];
	s->st.msgs_recv++;
	s->st.bytes_recv += len;
	s->st.round_trips++;
	rtt_sample(s, ci, rq->sent, now);
	req_free(s, rq);
	if (fi < c->n_fills)
		c->fills[fi].inflight = 0;
	if (c->dropped || !c->active || fi >= c->n_fills || c->fills[fi].done) {
		ec_range_resp_free(&r);
		return;
	}
	f = &c->fills[fi];
	k = r.n_items;
	s->st.blocks_fetched += k;
	src = node_peer_find(n, from);
	if (!ec_id_eq(&r.responder, from) || !src ||
	    memcmp(r.pk, src->pk, EC_PUBKEY_BYTES) != 0 ||
	    ec_range_resp_verify(&r) != EC_OK || !ec_id_eq(&r.start, &f->cursor) ||
	    !(asc = malloc((k ? k : 1) * sizeof *asc)) ||
	    verify_range(c, f, &r, asc) != EC_OK) {
		s->st.blocks_rejected += k;
		range_bad(n, s, ci, from, now);
		goto done;
	}
	/* the older head is not an ancestor: equivocation */
	if (c->has_base && asc[0].height <= c->base_height) {
		equivocation(n, s, ci, msg, len, now);
		goto done;
	}
	if (!ec_id_is_zero(&f->stop))
		fdone = ec_id_eq(&asc[0].prev, &f->stop);
	else
		fdone = asc[0].height == 0; /* genesis */
	if (!fdone && (r.complete || asc[0].height == 0)) {
		/* "complete" short of its stop, or past an anchor to genesis:
		 * a wrong range */
		s->st.blocks_rejected += k;
		range_bad(n, s, ci, from, now);
		goto done;
	}
	/* the fills join: the one below starts right under this one, and
	 * this one right under the one above */
	if ((fdone && fi + 1 < c->n_fills && c->fills[fi + 1].has_top &&
	     (c->fills[fi + 1].top_height + 1 != asc[0].height ||
	      c->fills[fi + 1].top_ts > asc[0].timestamp)) ||
	    (!f->has_top && !f->has_low && fi > 0 && c->fills[fi - 1].done &&
	     (asc[k - 1].height + 1 != c->fills[fi - 1].low_height ||
	      asc[k - 1].timestamp > c->fills[fi - 1].low_ts))) {
		s->st.blocks_rejected += k;
		range_bad(n, s, ci, from, now);
		goto done;
	}
	/* new state, written with the blocks in one batch (restored if the
	 * batch fails) */
	saved = *c;
	if (!f->has_top && !f->has_low) {
		f->has_top = 1;
		f->top_height = asc[k - 1].height;
		f->top_ts = asc[k - 1].timestamp;
		if (fi == 0)
			c->seg_ts = asc[k - 1].timestamp;
	}
	f->low = asc[0].id;
	f->low_height = asc[0].height;
	f->low_ts = asc[0].timestamp;
	f->has_low = 1;
	if (fdone) {
		f->done = 1;
	} else {
		f->cursor = asc[0].prev;
		f->cursor_height = asc[0].height - 1;
		f->height_known = 1;
	}
	chain_contig(c);
	all = chain_fills_done(c);
	if ((err = ec_store_txn_begin(n->cfg.store, 1, &t)) != EC_OK)
		goto fail;
	for (size_t i = 0; i < k; i++) {
		int had = ec_store_has_block(t, &asc[i].id);
		err = ec_store_put_block(t, &asc[i], NULL, 0);
		if (err == EC_ERR_EXISTS) {
			/* another block of this creator at that height is stored:
			 * two signed blocks, one height */
			ec_store_txn_abort(t);
			t = NULL;
			*c = saved;
			equivocation(n, s, ci, msg, len, now);
			goto done;
		}
		if (err != EC_OK)
			goto fail;
		if (had == 0) {
			uint8_t tmp[EC_BLOCK_MAX_BYTES];
			s->st.bytes_useful += ec_block_encode_to(&asc[i], tmp);
		}
	}
	memset(&pg, 0, sizeof pg);
	pg.chain = c->creator;
	pg.head = c->seg_head;
	pg.head_height = c->seg_height;
	pg.low = c->low;
	pg.low_height = c->low_height;
	pg.started = s->st.started;
	pg.updated = now;
	pg.complete = (uint8_t)all;
	if ((err = ec_store_put_progress(t, &pg)) != EC_OK)
		goto fail;
	if (all && (err = ec_store_set_head(t, &c->creator, &c->seg_head,
					    c->seg_height)) != EC_OK)
		goto fail;
	err = ec_store_txn_commit(t);
	t = NULL;
	if (err != EC_OK)
		goto fail;
	/* stored: now it counts */
	{
		ec_store_txn *rt;
		if (ec_store_txn_begin(n->cfg.store, 0, &rt) == EC_OK) {
			for (size_t i = 0; i < k; i++)
				sync_tx_note_block(s, rt, ci, &asc[i]);
			ec_store_txn_abort(rt);
		}
	}
	c->verified += k;
	c->tries = 0;
	peer_answered(s, from, len);
	if (!ec_id_eq(from, &c->creator))
		s->st.ranges_elsewhere++;
	if (all)
		chain_completed(c);
	else if (!fdone && fi + 1 == c->n_fills)
		lay_anchor(s, c, &asc[0]);
	goto done;
fail:
	*c = saved;
done:
	if (t)
		ec_store_txn_abort(t);
	free(asc);
	ec_range_resp_free(&r);
}

static void on_txbatch(ec_node *n, node_sync *s, const ec_id *from, const uint8_t *msg,
		       size_t len, ec_time now)
{
	ec_txbatch_resp r;
	sync_req *rq;
	ec_store_txn *t = NULL;
	int ci, bad = 0;
	unsigned k = 0;
	uint32_t ids[EC_TXBATCH_MAX];
	uint8_t n_ids;
	if (ec_txbatch_resp_decode(&r, msg, len) != EC_OK)
		return;
	if (!(rq = req_find(s, r.nonce, from)) || rq->kind != RQ_TXB) {
		ec_txbatch_resp_free(&r);
		return;
	}
	ci = rq->chain;
	n_ids = rq->n_ids;
	memcpy(ids, rq->ids, sizeof ids);
	s->st.msgs_recv++;
	s->st.bytes_recv += len;
	s->st.round_trips++;
	rtt_sample(s, ci, rq->sent, now);
	req_free(s, rq);
	for (unsigned i = 0; i < n_ids; i++)
		s->tx[ids[i]]->inflight = 0;
	s->st.txs_fetched += r.n_txs;
	if (!ec_id_eq(&r.responder, from) ||
	    memcmp(r.pk, s->ch[ci].pk, EC_PUBKEY_BYTES) != 0 ||
	    ec_txbatch_resp_verify(&r) != EC_OK || r.n_asked != n_ids) {
		for (unsigned i = 0; i < n_ids; i++) {
			s->tx[ids[i]]->failed |= 1u << ci;
			s->tx[ids[i]]->tries++;
		}
		strike(n, s, ci, now);
		goto out;
	}
	peer_answered(s, from, len);
	if (ec_store_txn_begin(n->cfg.store, 1, &t) != EC_OK)
		goto out;
	for (unsigned i = 0; i < n_ids; i++) {
		sync_tx *x = s->tx[ids[i]];
		if (r.missing & (1ull << i)) {
			x->failed |= 1u << ci;
			x->tries++;
			continue;
		}
		{
			const ec_tx *b = &r.txs[k++];
			uint8_t *enc = NULL;
			size_t el = 0;
			if (!ec_id_eq(&b->id, &x->txid) || ec_tx_verify_sigs(b) != EC_OK) {
				/* forged or tampered: discard, ask elsewhere */
				s->st.txs_rejected++;
				x->failed |= 1u << ci;
				x->tries++;
				bad = 1;
				continue;
			}
			if (x->held)
				continue;
			if (ec_tx_encode(b, &enc, &el) != EC_OK)
				continue;
			if (ec_store_put_tx(t, b, enc, el) == EC_OK) {
				x->held = 1;
				s->st.txs_held++;
				s->st.bytes_useful += el;
			}
			free(enc);
		}
	}
	if (ec_store_txn_commit(t) != EC_OK) {
		/* nothing stored: ask again */
		for (unsigned i = 0; i < n_ids; i++)
			if (s->tx[ids[i]]->held) {
				s->tx[ids[i]]->held = 0;
				s->st.txs_held--;
			}
	}
	t = NULL;
	if (bad)
		strike(n, s, ci, now);
out:
	if (t)
		ec_store_txn_abort(t);
	ec_txbatch_resp_free(&r);
}

static void on_refusal(ec_node *n, node_sync *s, const ec_id *from, sync_req *rq,
		       const ec_refusal *f, ec_time now)
{
	int ci = rq->chain;
	uint8_t kind = rq->kind;
	unsigned fi = rq->fill;
	uint64_t wait;
	s->st.round_trips++;
	if (kind == RQ_TXB)
		for (unsigned i = 0; i < rq->n_ids; i++)
			s->tx[rq->ids[i]]->inflight = 0;
	req_free(s, rq);
	if (ci < 0)
		return;
	if (kind == RQ_RANGE && fi < s->ch[ci].n_fills)
		s->ch[ci].fills[fi].inflight = 0;
	if (kind == RQ_RANGE && !ec_id_eq(from, &s->ch[ci].creator)) {
		/* a holder tried instead: it may simply not hold it */
		range_switch(s, ci, now, 0);
		return;
	}
	if (kind == RQ_MAP && s->ch[ci].map_out)
		s->ch[ci].map_out--;
	if (f->reason == EC_REFUSE_NOTFOUND && kind == RQ_RANGE) {
		/* it announced a head it cannot serve */
		strike(n, s, ci, now);
		return;
	}
	/* the peer's retry_after_ms is its wish, bounded by our stall limit:
	 * one signed refusal must not hold a chain (and so the whole
	 * catch-up) back for up to 49 days */
	wait = f->retry_after_ms ? f->retry_after_ms : 100;
	if (wait > s->cfg.stall_max_ms)
		wait = s->cfg.stall_max_ms;
	s->ch[ci].not_before = now + wait;
	if (++s->ch[ci].tries >= SYNC_TRIES && kind == RQ_RANGE)
		chain_drop(n, s, ci);
}

int node_sync_recv(ec_node *n, const ec_id *from, uint8_t type, const uint8_t *msg,
		   size_t len, ec_time now)
{
	node_sync *s = n->sync;
	if (!s || !s->n_rq)
		return 0;
	s->now = now;
	switch (type) {
	case EC_MSG_MAPPING_RESP:
	case EC_MSG_RANGE_RESP:
	case EC_MSG_TXBATCH_RESP: {
		/* ours iff the handler matched it to a request (and counted it) */
		uint64_t before = s->st.msgs_recv;
		if (type == EC_MSG_MAPPING_RESP)
			on_mapping(n, s, from, msg, len, now);
		else if (type == EC_MSG_RANGE_RESP)
			on_range(n, s, from, msg, len, now);
		else
			on_txbatch(n, s, from, msg, len, now);
		if (s->st.msgs_recv == before)
			return 0;
		break;
	}
	case EC_MSG_REFERRAL: {
		ec_referral f;
		sync_req *rq;
		if (ec_referral_decode(&f, msg, len) != EC_OK ||
		    !(rq = req_find(s, f.nonce, from)) ||
		    (rq->kind != RQ_MAP && rq->kind != RQ_POLL))
			return 0;
		s->st.msgs_recv++;
		s->st.bytes_recv += len;
		s->st.round_trips++;
		if (rq->chain >= 0 && s->ch[rq->chain].map_out)
			s->ch[rq->chain].map_out--;
		req_free(s, rq);
		break;
	}
	case EC_MSG_REFUSAL: {
		ec_refusal f;
		sync_req *rq;
		const node_peer *p;
		if (ec_refusal_decode(&f, msg, len) != EC_OK ||
		    !(rq = req_find(s, f.nonce, from)))
			return 0;
		p = node_peer_find(n, from);
		if (!p || memcmp(p->pk, f.pk, EC_PUBKEY_BYTES) != 0 ||
		    ec_refusal_verify(&f) != EC_OK)
			return 0; /* not the peer's: let the request time out */
		s->st.msgs_recv++;
		s->st.bytes_recv += len;
		on_refusal(n, s, from, rq, &f, now);
		break;
	}
	default:
		return 0;
	}
	rate_sweep(s, now);
	pump(n, s, now);
	node_deadline_min(n, sync_deadline(s, now));
	return 1;
}

/* ---- timers ------------------------------------------------------------------ */

static void expire(ec_node *n, node_sync *s, ec_time now)
{
	for (size_t i = 0; i < SYNC_MAX_REQ && s->n_rq; i++) {
		sync_req *r = &s->rq[i];
		int ci = r->chain;
		if (r->kind == RQ_FREE || r->deadline > now)
			continue;
		switch (r->kind) {
		case RQ_RANGE:
			if (r->fill < s->ch[ci].n_fills)
				s->ch[ci].fills[r->fill].inflight = 0;
			if (s->ch[ci].srtt > 0)
				s->ch[ci].srtt *= 2; /* back off */
			else
				s->ch[ci].srtt = s->cfg.stall_min_ms;
			if (s->ch[ci].srtt > s->cfg.stall_max_ms)
				s->ch[ci].srtt = s->cfg.stall_max_ms;
			/* the next request of the segment goes elsewhere */
			range_switch(s, ci, now, 0);
			if (!ec_id_eq(&r->peer, &s->ch[ci].creator))
				break;
			if (++s->ch[ci].tries >= SYNC_TRIES) {
				sync_penalise(n, s, &s->ch[ci].creator, now); /* it stalled */
				chain_drop(n, s, ci);
			}
			break;
		case RQ_TXB:
			for (unsigned k = 0; k < r->n_ids; k++) {
				s->tx[r->ids[k]]->inflight = 0;
				s->tx[r->ids[k]]->tries++;
			}
			if (s->ch[ci].srtt > 0)
				s->ch[ci].srtt *= 2;
			break;
		case RQ_MAP:
			if (ci >= 0 && s->ch[ci].map_out)
				s->ch[ci].map_out--;
			if (ci >= 0 && !s->ch[ci].have_head && !s->ch[ci].map_out &&
			    ++s->ch[ci].tries >= SYNC_TRIES)
				chain_drop(n, s, ci); /* else asked again by the tick */
			break;
		default:
			break;
		}
		req_free(s, r);
	}
}

/* Peers under the minimum useful receive rate lose what they were asked:
 * their outstanding range requests are given up (the segment goes to the
 * next source, or back to the creator later), their tx-batch ids go to
 * the next carrier; their account starts afresh (a second chance later).
 * Not a penalty: slow is not dishonest. */
static void rate_sweep(node_sync *s, ec_time now)
{
	for (size_t p = 0; p < s->n_pr; p++) {
		sync_peer *pr = &s->pr[p];
		ec_id id = pr->id;
		if (!peer_slow(s, pr, now))
			continue;
		for (size_t i = 0; i < SYNC_MAX_REQ && s->n_rq; i++) {
			sync_req *r = &s->rq[i];
			int ci = r->chain;
			if (!is_data(r->kind) || !ec_id_eq(&r->peer, &id))
				continue;
			if (r->kind == RQ_RANGE && r->fill < s->ch[ci].n_fills)
				s->ch[ci].fills[r->fill].inflight = 0;
			if (r->kind == RQ_TXB)
				for (unsigned k = 0; k < r->n_ids; k++) {
					/* as after a timeout: the next carrier,
					 * this one again in its turn */
					s->tx[r->ids[k]]->inflight = 0;
					s->tx[r->ids[k]]->tries++;
				}
			req_free(s, r);
		}
		for (size_t ci = 0; ci < s->n_ch; ci++)
			if (s->ch[ci].active && ec_id_eq(range_src(s, &s->ch[ci]), &id))
				range_switch(s, (int)ci, now, 1);
		memset(pr, 0, sizeof *pr);
		pr->id = id;
		s->st.rate_drops++;
	}
}

static void poll_round(ec_node *n, node_sync *s, ec_time now)
{
	for (unsigned q = 0; q < s->cfg.poll_queries; q++) {
		ec_id a, nb[2 * EC_NEIGHBOURS];
		size_t k = 0, tries;
		uint8_t pick;
		for (tries = 0; tries < 256; tries++) {
			sync_rand(n, a.b, sizeof a.b);
			if (ec_peerset_would_be_eligible(&n->peers, &n->self, &a))
				break;
		}
		if (tries == 256)
			return;
		k = ec_peerset_neighbourhood(&n->peers, &a, EC_NEIGHBOURS, nb);
		if (!k)
			return;
		sync_rand(n, &pick, 1);
		send_mapping(n, s, -1, &nb[pick % k], &a, RQ_POLL,
			     EC_MAPPING_WANT_EVIDENCE, now);
	}
}

/* The peer set changed: a peer within reach that joined after the start
 * (or that replaces a dropped chain) is followed from now on, its whole
 * chain, then maintained like the others.  Runs every maintain_ms in every
 * phase of a chain sync, so that a sync whose first peers were all silent
 * or dropped goes on with the peers found since instead of waiting. */
static void add_new_chains(ec_node *n, node_sync *s, ec_time now)
{
	size_t from = s->n_ch, added;
	if ((added = select_chains(n, s)) == 0)
		return;
	load_resume(n, s, from);
	s->st.chains_added += added;
	for (size_t i = from; i < s->n_ch; i++)
		ask_head(n, s, (int)i, 1, now);
}

static void maintain(ec_node *n, node_sync *s, ec_time now)
{
	uint8_t pick;
	size_t live = 0, idx[SYNC_MAX_CHAINS];
	add_new_chains(n, s, now);
	for (size_t i = 0; i < s->n_ch; i++)
		if (!s->ch[i].dropped)
			idx[live++] = i;
	if (!live)
		return;
	sync_rand(n, &pick, 1);
	ask_head(n, s, (int)idx[pick % live], 0, now);
}

static ec_time sync_deadline(const node_sync *s, ec_time now)
{
	ec_time d = UINT64_MAX;
	for (size_t i = 0; i < SYNC_MAX_REQ && s->n_rq; i++)
		if (s->rq[i].kind != RQ_FREE && s->rq[i].deadline < d)
			d = s->rq[i].deadline;
	for (size_t i = 0; i < s->n_ch; i++)
		if (s->ch[i].not_before > now && !s->ch[i].dropped &&
		    s->ch[i].not_before < d)
			d = s->ch[i].not_before;
	if (s->st.phase != EC_SYNC_IDLE && s->next_maint < d)
		d = s->next_maint;
	for (size_t i = 0; i < s->n_pr; i++) {
		ec_time r = rate_due(s, &s->pr[i]);
		if (r < d)
			d = r <= now ? now + 1 : r;
	}
	return d;
}

void node_sync_tick(ec_node *n, ec_time now)
{
	node_sync *s = n->sync;
	if (!s)
		return;
	s->now = now;
	expire(n, s, now);
	rate_sweep(s, now);
	if (s->st.phase == EC_SYNC_POLLING && now >= s->next_maint) {
		poll_round(n, s, now);
		s->next_maint = now + s->cfg.maintain_ms;
	} else if (s->st.phase == EC_SYNC_CAUGHT_UP && now >= s->next_maint) {
		maintain(n, s, now);
		s->next_maint = now + s->cfg.maintain_ms;
	} else if ((s->st.phase == EC_SYNC_DISCOVER || s->st.phase == EC_SYNC_TRAVERSE) &&
		   now >= s->next_maint) {
		add_new_chains(n, s, now);
		s->next_maint = now + s->cfg.maintain_ms;
	}
	if (s->st.strategy == EC_SYNC_CHAIN) {
		for (size_t i = 0; i < s->n_ch; i++)
			if (!s->ch[i].dropped && !s->ch[i].have_head && !s->ch[i].map_out &&
			    s->ch[i].tries < SYNC_TRIES && s->ch[i].not_before <= now)
				ask_head(n, s, (int)i, 0, now);
		pump(n, s, now);
	}
	node_deadline_min(n, sync_deadline(s, now));
}

void node_sync_free(ec_node *n)
{
	node_sync *s = n ? n->sync : NULL;
	if (!s)
		return;
	for (size_t i = 0; i < s->n_tx; i++)
		free(s->tx[i]);
	free(s->tx);
	ec_idindex_free(&s->txidx);
	for (size_t i = 0; i < s->n_ch; i++)
		free(s->ch[i].head_msg);
	for (size_t i = 0; i < 2 * SYNC_MAX_CHAINS; i++)
		free(s->ev[i]);
	free(s);
	n->sync = NULL;
}

/* ---- API ---------------------------------------------------------------------- */

int ec_node_sync_start(ec_node *n, uint8_t strategy, ec_time now)
{
	node_sync *s;
	if (!n)
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (!strategy)
		strategy = n->cfg.sync.strategy;
	if (strategy != EC_SYNC_CHAIN && strategy != EC_SYNC_POLL)
		return EC_ERR_ARG;
	if (n->sync && n->sync->st.phase != EC_SYNC_IDLE)
		return EC_ERR_BUSY;
	node_sync_free(n);
	if (!(s = calloc(1, sizeof *s)))
		return EC_ERR_NOMEM;
	if (ec_idindex_init(&s->txidx, offsetof(sync_tx, txid)) != EC_OK) {
		free(s);
		return EC_ERR_NOMEM;
	}
	n->sync = s;
	s->cfg = n->cfg.sync;
	if (!s->cfg.max_inflight)
		s->cfg.max_inflight = 1;
	if (!s->cfg.max_inflight_peer)
		s->cfg.max_inflight_peer = 1;
	if (!s->cfg.range_max_blocks)
		s->cfg.range_max_blocks = 256;
	if (s->cfg.range_max_bytes < EC_RANGE_MIN_MAX_BYTES)
		s->cfg.range_max_bytes = EC_RANGE_MIN_MAX_BYTES;
	if (!s->cfg.maintain_ms)
		s->cfg.maintain_ms = 1000;
	if (s->cfg.stall_max_ms < s->cfg.stall_min_ms)
		s->cfg.stall_max_ms = s->cfg.stall_min_ms;
	s->st.strategy = strategy;
	s->st.started = now;
	s->now = now;
	s->run_start = now;
	if (now > n->last_now)
		n->last_now = now;
	if (strategy == EC_SYNC_POLL) {
		s->st.phase = EC_SYNC_POLLING;
		s->next_maint = now;
		node_deadline_min(n, now);
		return EC_OK;
	}
	s->st.phase = EC_SYNC_DISCOVER;
	s->next_maint = now + s->cfg.maintain_ms;
	(void)select_chains(n, s);
	load_resume(n, s, 0);
	update_progress(s, now);
	s->run_verified0 = s->st.blocks_verified;
	for (size_t i = 0; i < s->n_ch; i++)
		ask_head(n, s, (int)i, 1, now);
	node_deadline_min(n, now);
	return EC_OK;
}

int ec_node_sync_status(ec_node *n, ec_sync_status *st, ec_sync_chain *chains,
			size_t max_chains)
{
	node_sync *s;
	if (!n || !st || (!chains && max_chains))
		return EC_ERR_ARG;
	memset(st, 0, sizeof *st);
	if (!(s = n->sync))
		return EC_OK;
	*st = s->st;
	st->n_chains = s->n_ch;
	for (size_t i = 0; i < s->n_ch && i < max_chains; i++) {
		const sync_chain *c = &s->ch[i];
		memset(&chains[i], 0, sizeof chains[i]);
		chains[i].creator = c->creator;
		chains[i].head = c->have_head ? c->head : c->seg_head;
		chains[i].head_height = c->have_head ? c->head_height : c->seg_height;
		chains[i].verified = c->verified;
		chains[i].low_height = c->has_low ? c->low_height
						  : (c->complete && c->has_base ? 0 : c->head_height);
		chains[i].complete = c->complete && !c->active;
		chains[i].dropped = c->dropped;
	}
	return EC_OK;
}
