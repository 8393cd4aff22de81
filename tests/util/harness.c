/* harness.c - in-process network of ec_nodes (see harness.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "ec/chain.h"
#include "ec/crypto.h"
#include "harness.h"

struct hn_msg {
	ec_time at;
	uint64_t seq;
	size_t to;
	ec_id from;
	size_t len;
	uint8_t bytes[];
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_fill(void *ctx, void *out, size_t len)
{
	uint8_t *p = out;
	while (len) {
		uint64_t v = splitmix(ctx);
		size_t k = len < 8 ? len : 8;
		memcpy(p, &v, k);
		p += k;
		len -= k;
	}
}

uint64_t hn_rand(hn *h)
{
	return splitmix(&h->prng);
}

ec_id hn_rand_id(hn *h)
{
	ec_id x;
	rng_fill(&h->prng, x.b, sizeof x.b);
	return x;
}

void hn_cfg_default(hn_cfg *c)
{
	memset(c, 0, sizeof *c);
	c->n_nodes = 16;
	c->seed = 1;
	c->delay_ms = 5;
	c->jitter_ms = 5;
	c->block_interval_ms = 200;
	c->repush_ms = 100;
	c->tx_timeout_ms = 10000;
	c->identity_tx = 1;
	c->start = 1700000000000ull;
	c->vote_fanout = -1;
}

/* ---- event heap ------------------------------------------------------------ */

static int msg_before(const hn_msg *a, const hn_msg *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(hn *h, hn_msg *m)
{
	size_t i;
	if (h->n_heap == h->cap_heap) {
		size_t cap = h->cap_heap ? h->cap_heap * 2 : 1024;
		hn_msg **p = realloc(h->heap, cap * sizeof *p);
		if (!p)
			abort();
		h->heap = p;
		h->cap_heap = cap;
	}
	i = h->n_heap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!msg_before(m, h->heap[up]))
			break;
		h->heap[i] = h->heap[up];
		i = up;
	}
	h->heap[i] = m;
}

static hn_msg *heap_pop(hn *h)
{
	hn_msg *top = h->heap[0], *last = h->heap[--h->n_heap];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const hn_msg *best = last;
		if (l < h->n_heap && msg_before(h->heap[l], best)) {
			m = l;
			best = h->heap[l];
		}
		if (r < h->n_heap && msg_before(h->heap[r], best))
			m = r;
		if (m == i)
			break;
		h->heap[i] = h->heap[m];
		i = m;
	}
	if (h->n_heap)
		h->heap[i] = last;
	return top;
}

static void enqueue(hn *h, const ec_id *from, size_t to, const uint8_t *b, size_t len,
		    ec_time at)
{
	hn_msg *m = malloc(sizeof *m + len);
	if (!m)
		abort();
	m->at = at;
	m->seq = h->seq++;
	m->to = to;
	m->from = *from;
	m->len = len;
	memcpy(m->bytes, b, len);
	heap_push(h, m);
}

/* ---- nodes ---------------------------------------------------------------- */

static int cmp_idx(const void *a, const void *b)
{
	return ec_id_cmp(&((const struct hn_idx *)a)->id, &((const struct hn_idx *)b)->id);
}

size_t hn_index_of(const hn *h, const ec_id *id)
{
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ec_id_cmp(&h->idx[mid].id, id);
		if (c == 0)
			return h->idx[mid].i;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

static void know_each_other(hn *h, size_t a, size_t b)
{
	if (a == b)
		return;
	(void)ec_node_add_peer_key(h->nodes[a].node, &h->nodes[b].ident.peer_id,
				   h->nodes[b].key.pk);
	(void)ec_node_add_peer_key(h->nodes[b].node, &h->nodes[a].ident.peer_id,
				   h->nodes[a].key.pk);
}

/* cfg.near_peers ring neighbours on each side (ring order = h->idx) plus
 * cfg.random_peers random others per node, all mutual. */
static void partial_peers(hn *h)
{
	size_t n = h->n, k = h->cfg.near_peers;
	for (size_t r = 0; r < n; r++) {
		size_t a = h->idx[r].i;
		for (size_t d = 1; d <= k && d < n; d++)
			know_each_other(h, a, h->idx[(r + d) % n].i);
	}
	for (size_t a = 0; a < n; a++)
		for (uint32_t j = 0; j < h->cfg.random_peers; j++)
			know_each_other(h, a, (size_t)(hn_rand(h) % n));
}

uint64_t hn_delivered(const hn *h)
{
	return h->delivered;
}

int hn_new(hn **out, const hn_cfg *cfg)
{
	hn *h = calloc(1, sizeof *h);
	int err;
	if (!h)
		return EC_ERR_NOMEM;
	if ((err = ec_crypto_init()) != EC_OK) {
		free(h);
		return err;
	}
	h->cfg = *cfg;
	h->n = cfg->n_nodes;
	h->now = cfg->start;
	h->prng = cfg->seed * 0x5851f42d4c957f2dull + 7;
	/* room for late joiners (hn_add_node): node records never move, the
	 * nodes keep pointers to their rng state */
	h->cap_nodes = h->n + HN_MAX_LATE;
	h->nodes = calloc(h->cap_nodes, sizeof *h->nodes);
	h->idx = calloc(h->cap_nodes, sizeof *h->idx);
	if (!h->nodes || !h->idx) {
		hn_free(h);
		return EC_ERR_NOMEM;
	}
	for (size_t i = 0; i < h->n; i++) {
		hn_node *nd = &h->nodes[i];
		uint8_t seed[32];
		rng_fill(&h->prng, seed, sizeof seed);
		nd->rng = hn_rand(h);
		if ((err = ec_keypair_from_seed(&nd->key, seed)) != EC_OK ||
		    (err = ec_identity_mine(&nd->ident, nd->key.pk, 7, h->now / 1000,
					    &ec_pow_test, rng_fill, &nd->rng,
					    100000, NULL)) != EC_OK ||
		    (err = ec_store_open_memory(&nd->store)) != EC_OK) {
			hn_free(h);
			return err;
		}
		h->idx[i].id = nd->ident.peer_id;
		h->idx[i].i = i;
	}
	qsort(h->idx, h->n, sizeof *h->idx, cmp_idx);
	for (size_t i = 0; i < h->n; i++) {
		hn_node *nd = &h->nodes[i];
		ec_node_cfg nc;
		ec_node_cfg_default(&nc);
		nc.key = nd->key;
		nc.identity = nd->ident;
		nc.store = nd->store;
		nc.pow = &ec_pow_test;
		nc.block_interval_ms = cfg->block_interval_ms;
		nc.repush_ms = cfg->repush_ms;
		nc.mempool.tx_timeout_ms = cfg->tx_timeout_ms;
		nc.tx_req_timeout_ms = cfg->repush_ms * 3;
		nc.identity_tx = (uint8_t)cfg->identity_tx;
		if (cfg->vote_fanout >= 0)
			nc.vote_fanout = (uint8_t)cfg->vote_fanout;
		nc.rng = rng_fill;
		nc.rng_ctx = &nd->rng;
		if (cfg->node_cfg)
			cfg->node_cfg(cfg->node_cfg_ctx, i, &nc);
		if ((err = ec_node_new(&nd->node, &nc, h->now)) != EC_OK) {
			hn_free(h);
			return err;
		}
		if (cfg->near_peers == 0)
			for (size_t j = 0; j < h->n; j++)
				if (j != i)
					(void)ec_node_add_peer_key(nd->node,
								   &h->nodes[j].ident.peer_id,
								   h->nodes[j].key.pk);
	}
	if (cfg->near_peers)
		partial_peers(h);
	*out = h;
	return EC_OK;
}

/* ---- late joiners and restarts ------------------------------------------ */

static int node_start(hn *h, size_t i)
{
	hn_node *nd = &h->nodes[i];
	ec_node_cfg nc;
	int err;
	ec_node_cfg_default(&nc);
	nc.key = nd->key;
	nc.identity = nd->ident;
	nc.store = nd->store;
	nc.pow = &ec_pow_test;
	nc.block_interval_ms = h->cfg.block_interval_ms;
	nc.repush_ms = h->cfg.repush_ms;
	nc.mempool.tx_timeout_ms = h->cfg.tx_timeout_ms;
	nc.tx_req_timeout_ms = h->cfg.repush_ms * 3;
	nc.identity_tx = (uint8_t)h->cfg.identity_tx;
	nc.rng = rng_fill;
	nc.rng_ctx = &nd->rng;
	nc.sync = h->sync;
	if (h->cfg.node_cfg)
		h->cfg.node_cfg(h->cfg.node_cfg_ctx, i, &nc);
	if ((err = ec_node_new(&nd->node, &nc, h->now)) != EC_OK) {
		nd->node = NULL;
		return err;
	}
	for (size_t j = 0; j < h->n; j++)
		if (j != i)
			(void)ec_node_add_peer_key(nd->node, &h->nodes[j].ident.peer_id,
						   h->nodes[j].key.pk);
	return EC_OK;
}

size_t hn_add_node(hn *h)
{
	hn_node *nd;
	uint8_t seed[32];
	size_t i = h->n;
	if (h->n == h->cap_nodes)
		return SIZE_MAX;
	nd = &h->nodes[i];
	memset(nd, 0, sizeof *nd);
	rng_fill(&h->prng, seed, sizeof seed);
	nd->rng = hn_rand(h);
	if (ec_keypair_from_seed(&nd->key, seed) != EC_OK ||
	    ec_identity_mine(&nd->ident, nd->key.pk, 7, h->now / 1000, &ec_pow_test,
			     rng_fill, &nd->rng, 100000, NULL) != EC_OK ||
	    ec_store_open_memory(&nd->store) != EC_OK)
		return SIZE_MAX;
	h->idx[i].id = nd->ident.peer_id;
	h->idx[i].i = i;
	h->n++;
	qsort(h->idx, h->n, sizeof *h->idx, cmp_idx);
	if (node_start(h, i) != EC_OK)
		abort(); /* a test setup failure, like enqueue's */
	for (size_t j = 0; j < i; j++)
		(void)ec_node_add_peer_key(h->nodes[j].node, &nd->ident.peer_id,
					   nd->key.pk);
	return i;
}

int hn_restart_node(hn *h, size_t i)
{
	ec_node_free(h->nodes[i].node);
	h->nodes[i].node = NULL;
	return node_start(h, i);
}

void hn_free(hn *h)
{
	if (!h)
		return;
	for (size_t i = 0; h->nodes && i < h->n; i++) {
		ec_node_free(h->nodes[i].node);
		ec_store_close(h->nodes[i].store);
	}
	while (h->n_heap)
		free(heap_pop(h));
	free(h->heap);
	free(h->nodes);
	free(h->idx);
	free(h);
}

/* Moves node i's outgoing messages onto the network. */
static void flush(hn *h, size_t i)
{
	ec_node_out o;
	const ec_id *self = &h->nodes[i].ident.peer_id;
	while (ec_node_poll(h->nodes[i].node, &o)) {
		size_t to = hn_index_of(h, &o.to);
		if (h->mutate && to != SIZE_MAX)
			h->mutate(h->mutate_ctx, h, i, to, &o.msg, &o.len);
		if (to == SIZE_MAX) {
			h->to_client++;
		} else if (h->drop && h->drop(h->drop_ctx, h, i, to, o.msg, o.len)) {
			h->lost++;
		} else if (h->cfg.loss_ppm && hn_rand(h) % 1000000 < h->cfg.loss_ppm) {
			h->lost++;
		} else {
			ec_time d = h->cfg.delay_ms;
			if (h->cfg.jitter_ms)
				d += hn_rand(h) % (h->cfg.jitter_ms + 1);
			if (h->delay)
				d += h->delay(h->delay_ctx, h, i, to, o.msg, o.len);
			enqueue(h, self, to, o.msg, o.len, h->now + d);
		}
		free(o.msg);
	}
}

void hn_run_until(hn *h, ec_time t)
{
	for (;;) {
		ec_time tm = h->n_heap ? h->heap[0]->at : UINT64_MAX, td = UINT64_MAX;
		size_t best = 0;
		for (size_t i = 0; i < h->n; i++) {
			ec_time d = ec_node_next_deadline(h->nodes[i].node);
			if (d < td) {
				td = d;
				best = i;
			}
		}
		if (tm > t && td > t)
			break;
		if (tm <= td) {
			hn_msg *m = heap_pop(h);
			if (m->at > h->now)
				h->now = m->at;
			(void)ec_node_recv(h->nodes[m->to].node, &m->from, m->bytes, m->len,
					   h->now);
			h->delivered++;
			if (m->len)
				h->delivered_type[m->bytes[0] & 31]++;
			flush(h, m->to);
			free(m);
		} else {
			if (td > h->now)
				h->now = td;
			(void)ec_node_tick(h->nodes[best].node, h->now);
			h->ticks++;
			flush(h, best);
		}
	}
	if (t > h->now)
		h->now = t;
}

void hn_inject(hn *h, const ec_id *from, size_t i, const uint8_t *msg, size_t len,
	       ec_time at)
{
	enqueue(h, from, i, msg, len, at < h->now ? h->now : at);
}

void hn_submit(hn *h, size_t i, const uint8_t *msg, size_t len, ec_time at)
{
	hn_inject(h, &(ec_id){{0}}, i, msg, len, at);
}

void hn_submit_tx(hn *h, size_t i, const ec_tx *tx, ec_time at)
{
	uint8_t *enc;
	size_t len;
	if (ec_tx_encode(tx, &enc, &len) != EC_OK)
		abort();
	hn_submit(h, i, enc, len, at);
	free(enc);
}

/* ---- inspection ----------------------------------------------------------- */

size_t hn_neighbourhood(const hn *h, const ec_id *t, size_t *out)
{
	ec_peerset ps;
	ec_id ids[2 * EC_NEIGHBOURS];
	size_t k;
	ec_peerset_init(&ps);
	for (size_t i = 0; i < h->n; i++)
		(void)ec_peerset_add(&ps, &h->nodes[i].ident.peer_id);
	k = ec_peerset_neighbourhood(&ps, t, EC_NEIGHBOURS, ids);
	for (size_t i = 0; i < k; i++)
		out[i] = hn_index_of(h, &ids[i]);
	ec_peerset_free(&ps);
	return k;
}

int hn_token_current(hn *h, size_t i, const ec_id *token, ec_id *txid)
{
	return hn_token_current_store(h->nodes[i].store, token, txid);
}

int hn_committed(hn *h, size_t i, const ec_id *txid)
{
	return hn_committed_store(h->nodes[i].store, txid);
}

int hn_token_current_store(ec_store *s, const ec_id *token, ec_id *txid)
{
	ec_store_txn *t;
	ec_token_state st;
	int r = 0;
	if (ec_store_txn_begin(s, 0, &t) != EC_OK)
		return 0;
	if (ec_store_get_token(t, token, &st) == EC_OK && st.has_current) {
		*txid = st.current.txid;
		r = 1;
	}
	ec_store_txn_abort(t);
	return r;
}

int hn_committed_store(ec_store *s, const ec_id *txid)
{
	ec_store_txn *t;
	ec_id b;
	uint8_t pos;
	int r;
	if (ec_store_txn_begin(s, 0, &t) != EC_OK)
		return 0;
	r = ec_store_get_tx_index(t, txid, &b, &pos) == EC_OK;
	ec_store_txn_abort(t);
	return r;
}

int hn_verify_chain(hn *h, size_t i, uint64_t *len)
{
	ec_store_txn *t;
	ec_id head;
	uint64_t height;
	ec_block *blocks = NULL;
	int err;
	*len = 0;
	if ((err = ec_store_txn_begin(h->nodes[i].store, 0, &t)) != EC_OK)
		return err;
	err = ec_store_get_head(t, &h->nodes[i].ident.peer_id, &head, &height);
	if (err == EC_ERR_NOTFOUND) {
		ec_store_txn_abort(t);
		return EC_OK;
	}
	if (err == EC_OK && !(blocks = calloc(height + 1, sizeof *blocks)))
		err = EC_ERR_NOMEM;
	for (uint64_t k = 0; err == EC_OK && k <= height; k++) {
		ec_id id, ph;
		const uint8_t *p;
		size_t plen;
		if ((err = ec_store_get_block_at(t, &h->nodes[i].ident.peer_id, k, &id)) ||
		    (err = ec_store_get_block(t, &id, &blocks[k])) ||
		    (err = ec_store_get_proof_raw(t, &id, &p, &plen)))
			break;
		ec_hash(&ph, EC_TAG_PROOF, p, plen);
		if (!ec_id_eq(&ph, &blocks[k].proof_hash))
			err = EC_ERR_PROOF;
		else {
			ec_proof pr;
			if ((err = ec_proof_decode(&pr, p, plen)) == EC_OK)
				ec_proof_free(&pr);
		}
	}
	ec_store_txn_abort(t);
	if (err == EC_OK) {
		err = ec_chain_verify(blocks, height + 1, NULL);
		if (err == EC_OK && !ec_id_eq(&blocks[height].id, &head))
			err = EC_ERR_CORRUPT;
		*len = height + 1;
	}
	free(blocks);
	return err;
}

/* ---- workload ------------------------------------------------------------- */

void hn_owner_make(hn_owner *o, uint64_t seed)
{
	uint8_t s[32];
	uint64_t st = seed ^ 0xabcdef;
	rng_fill(&st, s, sizeof s);
	(void)ec_keypair_from_seed(&o->kp, s);
	ec_keyhash(&o->keyhash, o->kp.pk);
}

static int cmp_entry(const void *a, const void *b)
{
	return ec_id_cmp(&((const hn_entry *)a)->token, &((const hn_entry *)b)->token);
}

int hn_tx_build(ec_tx *tx, ec_time ts, const hn_entry *e, size_t n)
{
	hn_entry s[EC_TX_MAX_ENTRIES];
	int err;
	if (n == 0 || n > EC_TX_MAX_ENTRIES)
		return EC_ERR_ARG;
	memcpy(s, e, n * sizeof *s);
	qsort(s, n, sizeof *s, cmp_entry);
	memset(tx, 0, sizeof *tx);
	tx->timestamp = ts;
	tx->n_entries = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		tx->entries[i].token = s[i].token;
		tx->entries[i].prev = s[i].prev;
		if (s[i].next)
			tx->entries[i].next_key = s[i].next->keyhash;
	}
	for (size_t i = 0; i < n; i++) {
		if (ec_id_is_zero(&s[i].prev))
			continue;
		if (!s[i].signer)
			return EC_ERR_ARG;
		if ((err = ec_tx_sign_entry(tx, (uint8_t)i, s[i].signer->kp.pk,
					    s[i].signer->kp.sk)) != EC_OK)
			return err;
	}
	return ec_tx_finalize(tx);
}

/* ---- workload generator ----------------------------------------------- */

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *q;
	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	if (!(q = realloc(p, c * size)))
		abort();
	*cap = c;
	return q;
}

void hn_wl_init(hn_wl *w, uint64_t seed)
{
	memset(w, 0, sizeof *w);
	for (int i = 0; i < HN_OWNERS; i++)
		hn_owner_make(&w->owners[i], seed * 1000 + (uint64_t)i + 1);
}

void hn_wl_free(hn_wl *w)
{
	free(w->toks);
	free(w->sent);
	memset(w, 0, sizeof *w);
}

static hn_sent *wl_new_sent(hn_wl *w)
{
	hn_sent *s;
	w->sent = grow(w->sent, &w->cap_sent, w->n_sent + 1, sizeof *w->sent);
	s = &w->sent[w->n_sent++];
	memset(s, 0, sizeof *s);
	s->pair = -1;
	return s;
}

size_t hn_wl_creations(hn *h, hn_wl *w, size_t n_tx, unsigned max_tok, ec_time t0,
		       ec_time spread)
{
	for (size_t k = 0; k < n_tx; k++) {
		hn_entry e[EC_TX_MAX_ENTRIES];
		size_t m = 1 + hn_rand(h) % (max_tok ? max_tok : 1);
		hn_sent *s = wl_new_sent(w);
		ec_time at = t0 + hn_rand(h) % (spread ? spread : 1);
		if (m > EC_TX_MAX_ENTRIES)
			m = EC_TX_MAX_ENTRIES;
		w->toks = grow(w->toks, &w->cap_toks, w->n_toks + m, sizeof *w->toks);
		for (size_t j = 0; j < m; j++) {
			hn_tok *t = &w->toks[w->n_toks];
			int o = (int)(hn_rand(h) % HN_OWNERS);
			memset(t, 0, sizeof *t);
			t->id = hn_rand_id(h);
			t->owner = o;
			memset(&e[j], 0, sizeof e[j]);
			e[j].token = t->id;
			e[j].next = &w->owners[o];
			s->tok[j] = (int)w->n_toks++;
			s->new_owner[j] = o;
		}
		s->n_tok = (int)m;
		if (hn_tx_build(&s->tx, at, e, m) != EC_OK)
			abort();
		hn_submit_tx(h, hn_rand(h) % h->n, &s->tx, at);
	}
	return n_tx;
}

static int tok_live(const hn_tok *t)
{
	return !ec_id_is_zero(&t->head) && t->owner >= 0;
}

size_t hn_wl_transfers(hn *h, hn_wl *w, size_t n_tx, unsigned max_tok,
		       unsigned destroy_pct, ec_time t0, ec_time spread)
{
	size_t sent = 0;
	while (sent < n_tx && w->cursor < w->n_toks) {
		hn_entry e[EC_TX_MAX_ENTRIES];
		int idx[EC_TX_MAX_ENTRIES], own[EC_TX_MAX_ENTRIES];
		size_t m = 1 + hn_rand(h) % (max_tok ? max_tok : 1), got = 0;
		if (m > EC_TX_MAX_ENTRIES)
			m = EC_TX_MAX_ENTRIES;
		while (got < m && w->cursor < w->n_toks) {
			hn_tok *t = &w->toks[w->cursor];
			if (tok_live(t)) {
				int no = (int)(hn_rand(h) % HN_OWNERS);
				int destroy = hn_rand(h) % 100 < destroy_pct;
				e[got].token = t->id;
				e[got].prev = t->head;
				e[got].signer = &w->owners[t->owner];
				e[got].next = destroy ? NULL : &w->owners[no];
				idx[got] = (int)w->cursor;
				own[got] = destroy ? -1 : no;
				got++;
			}
			w->cursor++;
		}
		if (!got)
			break;
		{
			hn_sent *s = wl_new_sent(w);
			ec_time at = t0 + hn_rand(h) % (spread ? spread : 1);
			s->n_tok = (int)got;
			memcpy(s->tok, idx, got * sizeof *idx);
			memcpy(s->new_owner, own, got * sizeof *own);
			if (hn_tx_build(&s->tx, at, e, got) != EC_OK)
				abort();
			hn_submit_tx(h, hn_rand(h) % h->n, &s->tx, at);
		}
		sent++;
	}
	return sent;
}

size_t hn_wl_double_signs(hn *h, hn_wl *w, size_t n_pairs, ec_time t0,
			  ec_time spread)
{
	size_t np = 0;
	while (np < n_pairs && w->cursor < w->n_toks) {
		hn_tok *t = &w->toks[w->cursor];
		size_t ti = w->cursor++;
		ec_time at = t0 + hn_rand(h) % (spread ? spread : 1);
		if (!tok_live(t))
			continue;
		for (int k = 0; k < 2; k++) {
			int no = (t->owner + 1 + k) % HN_OWNERS;
			hn_entry e = {t->id, t->head, &w->owners[no], &w->owners[t->owner]};
			hn_sent *s = wl_new_sent(w);
			ec_time when = at + (k ? hn_rand(h) % 30 : 0);
			s->n_tok = 1;
			s->tok[0] = (int)ti;
			s->new_owner[0] = no;
			s->pair = (int)(w->n_sent - 1 + (k ? -1 : 1));
			if (hn_tx_build(&s->tx, when, &e, 1) != EC_OK)
				abort();
			hn_submit_tx(h, hn_rand(h) % h->n, &s->tx, when);
		}
		np++;
	}
	return np;
}

int hn_committed_majority(hn *h, const ec_tx *tx)
{
	size_t nb[2 * EC_NEIGHBOURS], k = hn_neighbourhood(h, &tx->entries[0].token, nb);
	size_t c = 0;
	for (size_t i = 0; i < k; i++)
		c += (size_t)hn_committed(h, nb[i], &tx->id);
	return 2 * c > k;
}

size_t hn_wl_apply(hn *h, hn_wl *w, size_t from, size_t to)
{
	size_t c = 0;
	for (size_t k = from; k < to && k < w->n_sent; k++) {
		const hn_sent *s = &w->sent[k];
		if (!hn_committed_majority(h, &s->tx))
			continue;
		c++;
		for (int j = 0; j < s->n_tok; j++) {
			w->toks[s->tok[j]].head = s->tx.id;
			w->toks[s->tok[j]].owner = s->new_owner[j];
		}
	}
	return c;
}

size_t hn_wl_agreement(hn *h, const hn_wl *w, size_t *off)
{
	size_t agree = 0;
	for (size_t i = 0; i < w->n_toks; i++) {
		const hn_tok *t = &w->toks[i];
		size_t nb[2 * EC_NEIGHBOURS], k, bad = 0;
		if (ec_id_is_zero(&t->head))
			continue;
		k = hn_neighbourhood(h, &t->id, nb);
		for (size_t j = 0; j < k; j++) {
			ec_id cur;
			if (!hn_token_current(h, nb[j], &t->id, &cur) || !ec_id_eq(&cur, &t->head))
				bad++;
		}
		if (off)
			*off += bad;
		agree += bad == 0;
	}
	return agree;
}

int hn_capture_answer(void *ctx, const hn *h, size_t from, size_t to,
		      const uint8_t *msg, size_t len)
{
	hn_capture *c = ctx;
	ec_mapping_resp m;
	ec_referral f;
	const uint8_t *nonce = NULL;
	(void)h;
	if (c->msg || from != c->from || to != c->to || len == 0)
		return 0;
	if (msg[0] == EC_MSG_MAPPING_RESP && ec_mapping_resp_decode(&m, msg, len) == EC_OK)
		nonce = m.nonce;
	else if (msg[0] == EC_MSG_REFERRAL && ec_referral_decode(&f, msg, len) == EC_OK)
		nonce = f.nonce;
	if (!nonce || memcmp(nonce, c->nonce, EC_NONCE_BYTES) != 0)
		return 0;
	c->msg = malloc(len);
	if (!c->msg)
		return 0; /* not captured: the caller's check on msg fails */
	memcpy(c->msg, msg, len);
	c->len = len;
	return 1; /* consumed */
}
