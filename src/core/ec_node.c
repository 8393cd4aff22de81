/* ec_node.c - the node's lifecycle, receive dispatch, peer table, outbox,
 * deadlines and per-transaction side table (see ec_node_int.h for the
 * split into files and docs/PROTOCOL.md "Node behaviour" for the rules).
 *
 * Receive order (STYLE: cheap checks before crypto before state): length
 * and type (ec_msg_peek), strict decode, sender admission, signature, and
 * only then node state.  Anything a peer sends is dropped and counted,
 * never asserted on. */
#include <stddef.h>
#include <stdlib.h>

#include "ec/node.h"
#include "ec_node_int.h"

void ec_node_cfg_default(ec_node_cfg *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->pow = &ec_pow_production;
	cfg->mempool = ec_mempool_default_cfg;
	cfg->block_interval_ms = 1000;
	cfg->repush_ms = 300;
	cfg->tx_req_timeout_ms = 1000;
	cfg->tx_req_tries = 3;
	cfg->vote_fanout = 4;
	cfg->identity_tx = 1;
	cfg->serve = ec_serve_default_cfg;
	cfg->ratelimit = ec_ratelimit_default_cfg;
	cfg->rate_limit = 1;
	ec_sync_cfg_default(&cfg->sync);
	ec_swap_cfg_default(&cfg->swap);
	cfg->swap_keep_ring = EC_NEIGHBOURS;
}

/* ---- outbox --------------------------------------------------------------- */

void node_send(ec_node *n, const ec_id *to, uint8_t *msg, size_t len)
{
	if (!msg)
		return;
	if (n->out_n == n->out_cap) {
		size_t cap = n->out_cap ? n->out_cap * 2 : 256;
		ec_node_out *q = malloc(cap * sizeof *q);
		if (!q) {
			free(msg); /* as if lost on the network */
			return;
		}
		for (size_t i = 0; i < n->out_n; i++)
			q[i] = n->outq[(n->out_head + i) % n->out_cap];
		free(n->outq);
		n->outq = q;
		n->out_cap = cap;
		n->out_head = 0;
	}
	ec_node_out *o = &n->outq[(n->out_head + n->out_n) % n->out_cap];
	o->to = *to;
	o->msg = msg;
	o->len = len;
	n->out_n++;
	if (len >= 1 && msg[0] < EC_NODE_TYPES)
		n->st.tx[msg[0]]++;
}

void node_send_copy(ec_node *n, const ec_id *to, const uint8_t *msg, size_t len)
{
	uint8_t *c = malloc(len);
	if (!c)
		return;
	memcpy(c, msg, len);
	node_send(n, to, c, len);
}

int ec_node_poll(ec_node *n, ec_node_out *out)
{
	if (!n || !out || n->out_n == 0)
		return 0;
	if (ec_store_corruptions(n->cfg.store)) {
		/* what was queued since may rest on a damaged read: nothing
		 * leaves, and the node stops */
		n->fatal = EC_ERR_CORRUPT;
		return 0;
	}
	*out = n->outq[n->out_head];
	n->out_head = (n->out_head + 1) % n->out_cap;
	n->out_n--;
	return 1;
}

/* ---- peers ------------------------------------------------------------------ */

static size_t ptab_pos(const ec_node *n, const ec_id *id, int *found)
{
	size_t lo = 0, hi = n->n_ptab;
	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = ec_id_cmp(&n->ptab[mid].id, id);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const node_peer *node_peer_find(const ec_node *n, const ec_id *id)
{
	int found;
	size_t i = ptab_pos(n, id, &found);
	return found ? &n->ptab[i] : NULL;
}

static void node_peer_set_addr(ec_node *n, const ec_id *id, const uint8_t *addr,
			       uint8_t len)
{
	int found;
	size_t i = ptab_pos(n, id, &found);
	if (!found || len > EC_ADDR_MAX)
		return;
	n->ptab[i].addr_len = len;
	memcpy(n->ptab[i].addr, addr, len);
}

int ec_node_add_peer_key(ec_node *n, const ec_id *peer, const uint8_t pk[32])
{
	int found, err;
	size_t i;
	if (!n || !peer || !pk || ec_id_is_zero(peer))
		return EC_ERR_ARG;
	if (ec_id_eq(peer, &n->self))
		return EC_ERR_ARG;
	i = ptab_pos(n, peer, &found);
	if (found) {
		if (memcmp(n->ptab[i].pk, pk, 32) == 0)
			return EC_ERR_EXISTS;
		memcpy(n->ptab[i].pk, pk, 32); /* key rotated (trusted caller) */
		return EC_OK;
	}
	if (n->n_ptab == n->cap_ptab) {
		size_t cap = n->cap_ptab ? n->cap_ptab * 2 : 64;
		node_peer *p = realloc(n->ptab, cap * sizeof *p);
		if (!p)
			return EC_ERR_NOMEM;
		n->ptab = p;
		n->cap_ptab = cap;
	}
	if ((err = ec_peerset_add(&n->peers, peer)) != EC_OK)
		return err;
	if ((err = ec_peerset_add(&n->ring, peer)) != EC_OK) {
		(void)ec_peerset_remove(&n->peers, peer);
		return err;
	}
	memmove(&n->ptab[i + 1], &n->ptab[i], (n->n_ptab - i) * sizeof *n->ptab);
	memset(&n->ptab[i], 0, sizeof n->ptab[i]);
	n->ptab[i].id = *peer;
	memcpy(n->ptab[i].pk, pk, 32);
	n->n_ptab++;
	n->st.peers_added++;
	node_swap_peer_added(n, peer);
	return EC_OK;
}

int ec_node_remove_peer(ec_node *n, const ec_id *peer)
{
	int found;
	size_t i;
	if (!n || !peer)
		return EC_ERR_ARG;
	i = ptab_pos(n, peer, &found);
	if (!found)
		return EC_ERR_NOTFOUND;
	memmove(&n->ptab[i], &n->ptab[i + 1], (n->n_ptab - i - 1) * sizeof *n->ptab);
	n->n_ptab--;
	(void)ec_peerset_remove(&n->peers, peer);
	(void)ec_peerset_remove(&n->ring, peer);
	node_swap_peer_removed(n, peer);
	return EC_OK;
}

int node_peer_rotated(ec_node *n, const ec_id *peer, const uint8_t *pk)
{
	int found, err;
	size_t i = ptab_pos(n, peer, &found);
	if (!found)
		return 0;
	err = ec_node_check_lamppost(n, peer, pk);
	if (err == EC_ERR_NOTFOUND) {
		/* no state of its identity token here: ask its neighbours */
		node_keylook_start(n, peer, pk, n->last_now);
		return 0;
	}
	if (err != EC_OK)
		return 0;
	memcpy(n->ptab[i].pk, pk, EC_PUBKEY_BYTES);
	return 1;
}

void node_peer_set_key(ec_node *n, const ec_id *peer, const uint8_t *pk)
{
	int found;
	size_t i = ptab_pos(n, peer, &found);
	if (found)
		memcpy(n->ptab[i].pk, pk, EC_PUBKEY_BYTES);
}

int ec_node_peer_key(const ec_node *n, const ec_id *peer, uint8_t pk[32])
{
	const node_peer *p;
	if (!n || !peer || !pk)
		return EC_ERR_ARG;
	if (!(p = node_peer_find(n, peer)))
		return EC_ERR_NOTFOUND;
	memcpy(pk, p->pk, EC_PUBKEY_BYTES);
	return EC_OK;
}

size_t ec_node_peer_count(const ec_node *n)
{
	return n ? n->n_ptab : 0;
}

/* The budget of identity-proof checks for hellos of unknown peers.  A
 * proof costs its verifier one Argon2id run (~5 ms for the production
 * parameters) while a false one costs its sender nothing: any transport
 * key may claim a peer id with the right trailing zero bits.  The budget
 * is in Argon2 KiB-passes (mem_kib x ops per check), so the same CPU share
 * buys 64 production checks a second (burst 64) or 4,096 with the test
 * parameters: about a third of a core at most, whatever strangers send.
 * A hello refused here is counted (hellos_limited) and changes nothing:
 * the peer is admitted by its next hello (ecnode greets a peer it has
 * not heard from, or sent nothing to, for a --hello-interval, so a
 * refusal delays a newcomer by about that while the budget is spent). */
#define NODE_IDC_KIB_PER_S (256ull * 1024)
#define NODE_IDC_BURST_S 1

static int idc_take(ec_node *n, ec_time now)
{
	uint64_t cap = NODE_IDC_KIB_PER_S * NODE_IDC_BURST_S * 1000,
		 cost = (uint64_t)n->cfg.pow->mem_kib * n->cfg.pow->ops * 1000;
	if (now > n->idc_last) {
		uint64_t el = now - n->idc_last;
		n->idc_last = now;
		/* a long quiet time fills it: no product with a large el */
		if (el >= NODE_IDC_BURST_S * 1000 ||
		    n->idc_level + el * NODE_IDC_KIB_PER_S >= cap)
			n->idc_level = cap;
		else
			n->idc_level += el * NODE_IDC_KIB_PER_S;
	}
	if (n->idc_level < cost)
		return 0;
	n->idc_level -= cost;
	return 1;
}

/* Checks a hello: network, signature, identity proof (cheap -> costly).
 * limited: the proof's hash is paid from the budget (EC_ERR_BUSY when it
 * is spent). */
static int hello_check(ec_node *n, const ec_hello *h, ec_time now, int limited)
{
	ec_identity id;
	int err;
	if (h->network_id != n->cfg.identity.network_id)
		return EC_ERR_VALUE;
	if ((err = ec_hello_verify(h)) != EC_OK)
		return err;
	memcpy(id.pk, h->pk, 32);
	id.network_id = h->network_id;
	memcpy(id.salt, h->salt, sizeof id.salt);
	id.peer_id = h->peer_id;
	if (limited && ec_identity_precheck(&id, now / 1000, n->cfg.pow) == EC_OK &&
	    !idc_take(n, now))
		return EC_ERR_BUSY;
	err = ec_identity_verify(&id, now / 1000, n->cfg.pow);
	/* A peer that rotated its lamppost key signs hellos with the new
	 * key, over which its peer id was not computed: accepted when our
	 * state of its identity token names that key (PROTOCOL 14b). */
	if (err != EC_OK && !ec_id_eq(&h->peer_id, &n->self) &&
	    ec_node_check_lamppost(n, &h->peer_id, h->pk) == EC_OK)
		return EC_OK;
	return err;
}

/* 1 when h is the hello ec_node_hello_check accepted last (its proof is
 * not checked twice); the mark is used up. */
static int hello_checked(ec_node *n, const ec_hello *h)
{
	ec_id dg;
	if (!n->hello_ok_set || ec_hello_digest(h, &dg) != EC_OK || !ec_id_eq(&dg, &n->hello_ok))
		return 0;
	n->hello_ok_set = 0;
	return 1;
}

/* The verdict on a received hello's signature and identity proof (not
 * repeated for the hello ec_node_hello_check accepted last), with a
 * dropped one counted; our own id is refused. */
static int hello_verdict(ec_node *n, const ec_hello *h, ec_time now)
{
	int err = hello_checked(n, h) ? EC_OK : hello_check(n, h, now, 1);
	if (err == EC_OK && ec_id_eq(&h->peer_id, &n->self))
		err = EC_ERR_VALUE;
	switch (err) {
	case EC_OK:
		break;
	case EC_ERR_BUSY:
		n->st.hellos_limited++;
		break;
	case EC_ERR_SIGNATURE:
		n->st.dropped_bad_sig++;
		break;
	default:
		n->st.dropped_invalid++;
	}
	return err;
}

/* 1 when the core already holds this (peer id, key): its proof was checked
 * when it was added. */
static int hello_key_known(const ec_node *n, const ec_hello *h)
{
	const node_peer *p = node_peer_find(n, &h->peer_id);
	return p && memcmp(p->pk, h->pk, 32) == 0;
}

int ec_node_hello_check(ec_node *n, const ec_hello *h, ec_time now)
{
	int err;
	if (!n || !h)
		return EC_ERR_ARG;
	if (hello_key_known(n, h))
		return EC_OK;
	if ((err = hello_verdict(n, h, now)) == EC_OK)
		n->hello_ok_set = ec_hello_digest(h, &n->hello_ok) == EC_OK;
	return err;
}

int ec_node_add_peer(ec_node *n, const ec_hello *h, ec_time now)
{
	int err;
	if (!n || !h)
		return EC_ERR_ARG;
	if (hello_key_known(n, h))
		return EC_ERR_EXISTS;
	if ((err = hello_check(n, h, now, 0)) != EC_OK)
		return err;
	if ((err = ec_node_add_peer_key(n, &h->peer_id, h->pk)) == EC_OK)
		node_peer_set_addr(n, &h->peer_id, h->addr, h->addr_len);
	return err;
}

int ec_node_send_hello(ec_node *n, const ec_id *to, ec_time now)
{
	ec_hello h;
	uint8_t *enc;
	size_t len;
	int err;
	if (!n || !to)
		return EC_ERR_ARG;
	memset(&h, 0, sizeof h);
	h.peer_id = n->self;
	memcpy(h.pk, n->cfg.key.pk, 32);
	h.network_id = n->cfg.identity.network_id;
	memcpy(h.salt, n->cfg.identity.salt, sizeof h.salt);
	memcpy(h.kx_pk, n->cfg.kx_pk, sizeof h.kx_pk);
	h.addr_len = n->cfg.addr_len;
	memcpy(h.addr, n->cfg.addr, h.addr_len);
	h.timestamp = now;
	(void)ec_node_head(n, &h.head, &h.height);
	if ((err = ec_hello_sign(&h, n->cfg.key.sk)) != EC_OK)
		return err;
	if ((err = ec_hello_encode(&h, &enc, &len)) != EC_OK)
		return err;
	node_send(n, to, enc, len);
	return EC_OK;
}

static void handle_hello(ec_node *n, const ec_id *from, const uint8_t *msg,
			 size_t len, ec_time now)
{
	ec_hello h;
	const node_peer *p;
	if (ec_hello_decode(&h, msg, len) != EC_OK) {
		n->st.dropped_malformed++;
		return;
	}
	/* The transport authenticated `from`: a hello must be its own. */
	if (!ec_id_is_zero(from) && !ec_id_eq(from, &h.peer_id)) {
		n->st.dropped_unsolicited++;
		return;
	}
	p = node_peer_find(n, &h.peer_id);
	if (p && memcmp(p->pk, h.pk, 32) == 0) {
		n->st.dropped_replayed++;
		return;
	}
	if (hello_verdict(n, &h, now) != EC_OK)
		return;
	if (!p && node_swap_hello(n, &h, now))
		return; /* pooled as a backup (or refused) by peer swapping */
	if (ec_node_add_peer_key(n, &h.peer_id, h.pk) == EC_OK) {
		node_peer_set_addr(n, &h.peer_id, h.addr, h.addr_len);
		if (!p)
			(void)ec_node_send_hello(n, &h.peer_id, now); /* introduce back */
	}
}

int node_is_responsible(const ec_node *n, const ec_id *token)
{
	return ec_peerset_is_eligible(&n->ring, &n->self, token);
}

/* ---- pend table --------------------------------------------------------- */

static void pidx_refill(ec_node *n)
{
	ec_idindex_clear(&n->pidx);
	for (size_t i = 0; i < n->n_pend; i++)
		ec_idindex_insert(&n->pidx, n->pend[i]);
}

node_pend *node_pend_get(const ec_node *n, const ec_id *txid)
{
	return ec_idindex_get(&n->pidx, txid);
}

node_pend *node_pend_add(ec_node *n, const ec_id *txid)
{
	node_pend *p = node_pend_get(n, txid);
	int emptied;
	if (p)
		return p;
	if (ec_idindex_reserve(&n->pidx, n->n_pend + 1, &emptied) != EC_OK)
		return NULL;
	if (emptied)
		pidx_refill(n);
	if (n->n_pend == n->cap_pend) {
		size_t cap = n->cap_pend ? n->cap_pend * 2 : 64;
		node_pend **a = realloc(n->pend, cap * sizeof *a);
		if (!a)
			return NULL;
		n->pend = a;
		n->cap_pend = cap;
	}
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->txid = *txid;
	n->pend[n->n_pend++] = p;
	ec_idindex_insert(&n->pidx, p);
	return p;
}

void node_pend_sweep(ec_node *n)
{
	size_t w = 0;
	for (size_t i = 0; i < n->n_pend; i++) {
		if (ec_mempool_get(n->mp, &n->pend[i]->txid))
			n->pend[w++] = n->pend[i];
		else
			free(n->pend[i]);
	}
	if (w != n->n_pend) {
		n->n_pend = w;
		pidx_refill(n);
	}
}

/* ---- lifecycle ----------------------------------------------------------- */

const ec_id *ec_node_id(const ec_node *n)
{
	return &n->self;
}

const ec_node_stats *ec_node_stats_get(const ec_node *n)
{
	return &n->st;
}

int ec_node_head(const ec_node *n, ec_id *id, uint64_t *height)
{
	const ec_block *b = n->chain ? ec_chain_head(n->chain) : NULL;
	if (b && n->open.unsaved) /* the head waits for space: not disclosed */
		b = b->height ? ec_chain_at(n->chain, b->height - 1) : NULL;
	if (!b) {
		if (id)
			memset(id, 0, sizeof *id);
		if (height)
			*height = 0;
		return EC_ERR_NOTFOUND;
	}
	if (id)
		*id = b->id;
	if (height)
		*height = b->height;
	return EC_OK;
}

void node_deadline_min(ec_node *n, ec_time t)
{
	if (t < n->deadline)
		n->deadline = t;
}

ec_time ec_node_next_deadline(const ec_node *n)
{
	return n ? n->deadline : UINT64_MAX;
}

static int submit_identity_tx(ec_node *n, ec_time now)
{
	ec_tx tx;
	uint8_t *enc;
	size_t len;
	int err;
	memset(&tx, 0, sizeof tx);
	tx.timestamp = now;
	tx.n_entries = 1;
	tx.entries[0].token = n->self;
	ec_keyhash(&tx.entries[0].next_key, n->cfg.key.pk);
	if ((err = ec_tx_finalize(&tx)) != EC_OK)
		return err;
	if ((err = ec_tx_encode(&tx, &enc, &len)) != EC_OK)
		return err;
	err = node_handle_tx(n, &(ec_id){{0}}, enc, len, now);
	free(enc);
	return err == EC_ERR_EXISTS ? EC_OK : err;
}

/* ---- lamppost key rotation ------------------------------------------------ */

int ec_node_rotate_key(ec_node *n, const ec_keypair *new_key, ec_time now)
{
	ec_id head, kh;
	ec_tx cur, tx;
	uint8_t *enc;
	size_t len;
	int body = 0, err, k = -1;
	if (!n || !new_key)
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (n->rot_pending) {
		ec_node_tx_info info;
		if (ec_node_tx_info_get(n, &n->rot_txid, &info) == EC_OK &&
		    info.state != EC_NODE_TX_UNKNOWN)
			return EC_ERR_BUSY;
		/* expired or lost: a new rotation may be tried */
		n->rot_pending = 0;
		ec_memzero(&n->rot_key, sizeof n->rot_key);
	}
	if (memcmp(new_key->pk, n->cfg.key.pk, EC_PUBKEY_BYTES) == 0)
		return EC_ERR_ARG;
	if (!node_token_head(n, &n->self, &head, &cur, &body) || !body)
		return EC_ERR_NOTFOUND; /* identity token not decided here yet */
	for (unsigned i = 0; i < cur.n_entries; i++)
		if (ec_id_eq(&cur.entries[i].token, &n->self))
			k = (int)i;
	ec_keyhash(&kh, n->cfg.key.pk);
	if (k < 0 || !ec_id_eq(&cur.entries[k].next_key, &kh))
		return EC_ERR_KEY; /* our key is not the token's owner key */
	memset(&tx, 0, sizeof tx);
	tx.timestamp = now > cur.timestamp ? now : cur.timestamp + 1;
	tx.n_entries = 1;
	tx.entries[0].token = n->self;
	tx.entries[0].prev = head;
	ec_keyhash(&tx.entries[0].next_key, new_key->pk);
	if ((err = ec_tx_sign_entry(&tx, 0, n->cfg.key.pk, n->cfg.key.sk)) != EC_OK ||
	    (err = ec_tx_finalize(&tx)) != EC_OK)
		return err;
	if ((err = ec_tx_encode(&tx, &enc, &len)) != EC_OK)
		return err;
	if (now > n->last_now)
		n->last_now = now;
	err = node_handle_tx(n, &(ec_id){{0}}, enc, len, now);
	free(enc);
	if (err != EC_OK)
		return err;
	n->rot_pending = 1;
	n->rot_txid = tx.id;
	n->rot_key = *new_key;
	return EC_OK;
}

int ec_node_rotation_pending(const ec_node *n, ec_id *txid)
{
	if (!n || !n->rot_pending)
		return 0;
	if (txid)
		*txid = n->rot_txid;
	return 1;
}

void node_rotate_check(ec_node *n, const ec_tx *txs, size_t n_txs)
{
	size_t i;
	if (!n->rot_pending)
		return;
	for (i = 0; i < n_txs && !ec_id_eq(&txs[i].id, &n->rot_txid); i++)
		;
	if (i == n_txs) {
		/* another transfer to the same key (a resubmission after a
		 * restart raced the original): the key is just as named */
		ec_id kh;
		int named = 0;
		ec_keyhash(&kh, n->rot_key.pk);
		for (i = 0; i < n_txs; i++)
			for (unsigned k = 0; k < txs[i].n_entries; k++)
				named |= ec_id_eq(&txs[i].entries[k].token, &n->self) &&
					 ec_id_eq(&txs[i].entries[k].next_key, &kh);
		if (!named)
			return;
	}
	/* committed here: every signature from now on is the new key's */
	ec_memzero(&n->cfg.key, sizeof n->cfg.key);
	n->cfg.key = n->rot_key;
	ec_memzero(&n->rot_key, sizeof n->rot_key);
	n->rot_pending = 0;
	ec_serve_set_key(n->srv, &n->cfg.key);
	/* votes still re-pushed are re-signed (same seq and content: a
	 * receiver holding that seq drops the copy as a replay) */
	for (i = 0; i < n->n_pend; i++)
		if (n->pend[i]->voted)
			(void)ec_vote_sign(&n->pend[i]->vote, n->cfg.key.sk);
}

int ec_node_new(ec_node **out, const ec_node_cfg *cfg, ec_time now)
{
	ec_node *n;
	int err;
	if (!out || !cfg || !cfg->store || !cfg->rng || !cfg->pow)
		return EC_ERR_ARG;
	if (ec_id_is_zero(&cfg->identity.peer_id))
		return EC_ERR_ARG;
	if ((err = ec_crypto_init()) != EC_OK)
		return err;
	n = calloc(1, sizeof *n);
	if (!n)
		return EC_ERR_NOMEM;
	n->cfg = *cfg;
	n->self = cfg->identity.peer_id;
	n->deadline = UINT64_MAX;
	n->scan_due = UINT64_MAX;
	n->last_now = now;
	n->idc_level = NODE_IDC_KIB_PER_S * NODE_IDC_BURST_S * 1000;
	n->idc_last = now;
	ec_peerset_init(&n->peers);
	ec_peerset_init(&n->ring);
	if ((err = ec_peerset_add(&n->ring, &n->self)) != EC_OK ||
	    (err = ec_mempool_new(&n->mp, &cfg->mempool)) != EC_OK ||
	    (err = ec_idindex_init(&n->pidx, offsetof(node_pend, txid))) != EC_OK)
		goto fail;
	if (!(n->chain = ec_chain_new())) {
		err = EC_ERR_NOMEM;
		goto fail;
	}
	if ((err = node_load_chain(n)) != EC_OK)
		goto fail;
	/* The signing key: the one our state of the identity token names
	 * (a restart after ec_node_rotate_key), or with no such state yet
	 * the identity key; a key the token no longer names is stale. */
	if (cfg->has_rotate_to &&
	    ec_node_check_lamppost(n, &n->self, cfg->rotate_to.pk) == EC_OK) {
		/* the rotation committed here before the stop: switch */
		n->cfg.key = cfg->rotate_to;
		n->cfg.has_rotate_to = 0;
	}
	err = ec_node_check_lamppost(n, &n->self, n->cfg.key.pk);
	if (err == EC_ERR_KEY)
		goto fail;
	if (err != EC_OK && memcmp(n->cfg.key.pk, cfg->identity.pk, 32) != 0) {
		err = EC_ERR_ARG;
		goto fail;
	}
	if ((err = node_endorse_new(n)) != EC_OK)
		goto fail;
	if ((err = node_serve_new(n)) != EC_OK)
		goto fail;
	if ((err = node_swap_new(n, now)) != EC_OK)
		goto fail;
	for (size_t i = 0; i < cfg->n_bootstrap; i++)
		if (!ec_id_eq(&cfg->bootstrap[i], &n->self) &&
		    (err = ec_node_send_hello(n, &cfg->bootstrap[i], now)) != EC_OK)
			goto fail;
	n->cfg.bootstrap = NULL; /* borrowed: not kept */
	n->cfg.n_bootstrap = 0;
	if (cfg->identity_tx && ec_chain_length(n->chain) == 0) {
		int have = 0;
		ec_id h;
		have = node_token_head(n, &n->self, &h, NULL, NULL);
		if (!have && (err = submit_identity_tx(n, now)) != EC_OK)
			goto fail;
	}
	if (n->cfg.has_rotate_to &&
	    memcmp(n->cfg.rotate_to.pk, n->cfg.key.pk, EC_PUBKEY_BYTES) != 0) {
		/* pending at the stop: submit it again (a transfer of the
		 * same token state to the same key: whichever of the two
		 * commits, the key is the same) */
		err = ec_node_rotate_key(n, &n->cfg.rotate_to, now);
		if (err != EC_OK && err != EC_ERR_NOTFOUND)
			goto fail;
		err = EC_OK;
	}
	ec_memzero(&n->cfg.rotate_to, sizeof n->cfg.rotate_to);
	n->cfg.has_rotate_to = 0;
	*out = n;
	return EC_OK;
fail:
	ec_node_free(n);
	return err;
}

void ec_node_free(ec_node *n)
{
	if (!n)
		return;
	while (n->out_n) {
		free(n->outq[n->out_head].msg);
		n->out_head = (n->out_head + 1) % n->out_cap;
		n->out_n--;
	}
	free(n->outq);
	for (size_t i = 0; i < n->n_pend; i++)
		free(n->pend[i]);
	free(n->pend);
	ec_idindex_free(&n->pidx);
	free(n->dirtyq);
	node_serve_free(n);
	node_endorse_free(n);
	node_sync_free(n);
	node_swap_free(n);
	ec_mempool_free(n->mp);
	node_open_free(&n->open);
	ec_chain_free(n->chain);
	ec_peerset_free(&n->peers);
	ec_peerset_free(&n->ring);
	free(n->ptab);
	ec_memzero(&n->cfg.key, sizeof n->cfg.key);
	ec_memzero(&n->cfg.rotate_to, sizeof n->cfg.rotate_to);
	ec_memzero(&n->rot_key, sizeof n->rot_key);
	free(n);
}

/* ---- receive ------------------------------------------------------------ */

int ec_node_recv(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		 ec_time now)
{
	uint8_t type;
	if (!n || !from || (!msg && len))
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (now > n->last_now)
		n->last_now = now;
	if (len > EC_MSG_MAX_BYTES || ec_msg_peek(msg, len, &type) != EC_OK) {
		n->st.dropped_malformed++;
		return EC_OK;
	}
	n->st.rx[type]++;
	switch (type) {
	case EC_MSG_TX:
		(void)node_handle_tx(n, from, msg, len, now);
		break;
	case EC_MSG_VOTE:
		node_handle_vote(n, from, msg, len, now);
		break;
	case EC_MSG_HELLO:
		handle_hello(n, from, msg, len, now);
		break;
	case EC_MSG_TX_RESP:
		node_handle_tx_resp(n, from, msg, len, now);
		break;
	case EC_MSG_REFUSAL:
		if (!node_sync_recv(n, from, type, msg, len, now) &&
		    !node_endorse_recv(n, from, type, msg, len))
			node_handle_refusal(n, from, msg, len, now);
		break;
	case EC_MSG_MAPPING_REQ:
	case EC_MSG_TX_REQ:
	case EC_MSG_BLOCK_REQ:
	case EC_MSG_RANGE_REQ:
	case EC_MSG_TXBATCH_REQ:
		node_dispatch_query(n, from, type, msg, len, now);
		break;
	default:
		/* A mapping response may answer a rotated-key lookup
		 * (ec_node_key.c) or the sync engine (ec_sync.c), both
		 * matched by nonce and sender; mapping/block/range/tx-batch
		 * responses and referrals answer the sync engine; block
		 * responses answer our block fetches (ec_node_endorse.c);
		 * anything else (blocks, proofs, unasked answers) is
		 * unsolicited. */
		if (type == EC_MSG_MAPPING_RESP &&
		    node_keylook_recv(n, from, msg, len, now))
			break;
		if (type == EC_MSG_BLOCK_RESP &&
		    node_endorse_recv(n, from, type, msg, len))
			break;
		if (!node_sync_recv(n, from, type, msg, len, now))
			n->st.dropped_unsolicited++;
		break;
	}
	return EC_OK;
}

int ec_node_submit_tx(ec_node *n, const uint8_t *tx, size_t len, ec_time now)
{
	uint8_t type;
	if (!n || (!tx && len))
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (now > n->last_now)
		n->last_now = now;
	if (len > EC_MSG_MAX_BYTES || ec_msg_peek(tx, len, &type) != EC_OK ||
	    type != EC_MSG_TX) {
		n->st.dropped_malformed++;
		return EC_ERR_TYPE;
	}
	n->st.rx[type]++;
	return node_handle_tx(n, &(ec_id){{0}}, tx, len, now);
}

int ec_node_tick(ec_node *n, ec_time now)
{
	size_t dropped;
	if (!n)
		return EC_ERR_ARG;
	if (n->fatal)
		return n->fatal;
	if (now > n->last_now)
		n->last_now = now;
	n->deadline = UINT64_MAX;
	node_txreq_tick(n, now);
	node_keylook_tick(n, now);
	if (now >= n->scan_due) { /* scan_due <= earliest expiry */
		node_note_expiring(n, now);
		dropped = ec_mempool_expire(n->mp, now);
		if (dropped) {
			n->st.txs_expired += dropped;
			node_pend_sweep(n);
		}
	}
	node_commit_tick(n, now);
	node_sync_tick(n, now);
	node_endorse_tick(n, now);
	node_swap_tick(n, now);
	return n->fatal;
}

int ec_node_tx_info_get(ec_node *n, const ec_id *txid, ec_node_tx_info *out)
{
	ec_mp_entry *e;
	node_pend *p;
	ec_store_txn *t;
	ec_id blk;
	uint8_t pos;
	int err;
	if (!n || !txid || !out)
		return EC_ERR_ARG;
	memset(out, 0, sizeof *out);
	e = ec_mempool_get(n->mp, txid);
	p = node_pend_get(n, txid);
	if (e) {
		out->state = EC_NODE_TX_PENDING;
		out->has_tx = (uint8_t)e->has_tx;
		out->first_seen = e->first_seen;
	}
	if (p) {
		if (p->decided) {
			out->state = EC_NODE_TX_DECIDED;
			out->decided_at = p->decided_at;
		}
		out->body_at = p->body_at;
		if (p->voted) {
			out->our_seq = p->vote.seq;
			/* by entry: a flag omitted (abstention) stays 0 */
			for (unsigned i = 0; e && e->has_tx && i < e->tx.n_entries; i++)
				for (unsigned j = 0; j < p->vote.n_flags; j++)
					if (ec_id_eq(&p->vote.flags[j].token,
						     &e->tx.entries[i].token))
						out->our_flags[i] = p->vote.flags[j].flag ==
							EC_VOTE_YES ? 1 : -1;
		}
	}
	if ((err = ec_store_txn_begin(n->cfg.store, 0, &t)) != EC_OK)
		return err;
	err = ec_store_get_tx_index(t, txid, &blk, &pos);
	ec_store_txn_abort(t);
	if (err == EC_OK)
		out->state = EC_NODE_TX_COMMITTED;
	return err == EC_ERR_NOTFOUND ? EC_OK : err; /* a damaged index: no answer */
}
