/* ec_node_swap.c - the node's side of peer swapping (issue 8; PROTOCOL 14d
 * "In the node"): the node owns an ec_swap (swap.h), feeds it what it
 * already observes, ticks it and executes its actions on its peer set.
 *
 *   backups      a verified hello (signature, network, identity proof) of a
 *                peer not in our set while the set holds swap_set_size
 *                peers: key and address kept here, peer pooled (warm: its
 *                hello carried a signed head, nothing else is copied)
 *   observations answers / timeouts of our tx requests -> observe_response;
 *                chains the sync engine dropped (a liar) -> observe_penalty
 *                + a failed cross-check; chains it verified complete -> an
 *                agreeing cross-check + a sync-efficiency sample (feed_sync);
 *                key-lookup answers against the adopted key -> cross-checks
 *   CONNECT      add the backup's key to the peer table + our hello; ok
 *   SYNC         the newcomer's signed head was verified with its hello and
 *                it serves the query service from now on; reported ok when
 *                it is still in the peer table (minimal: no chain copy)
 *   LOAD         counted only: routing follows ring distance, the newcomer
 *                is in the ring from CONNECT on
 *   DISCONNECT   ec_node_remove_peer
 *   pending      a peer is needed by a pending commit while an undecided
 *                mempool entry we take part in (participant: responsible
 *                for a token or a witness), first seen no later than the
 *                start of the disconnect step, holds its vote or names a
 *                token (or the txid) whose neighbourhood, in our ring,
 *                holds it
 *
 * Deterministic like the rest of the core: time from the caller, randomness
 * from cfg.swap.rng (default cfg.rng). */
#include <stdlib.h>

#include "ec/node.h"
#include "ec_node_int.h"

typedef struct swap_bkey {
	ec_id id;
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t addr_len;
	uint8_t addr[EC_ADDR_MAX];
} swap_bkey;

#define SWAP_MAX_DROPPED 64
#define SWAP_MAX_TRACK 64

/* A chain the sync engine follows, as last seen by feed_sync. */
typedef struct swap_track {
	ec_id creator;
	ec_time since; /* when it was (again) seen incomplete */
	uint8_t judged; /* its completion / drop already fed */
} swap_track;

struct node_swap {
	ec_swap *sw;
	swap_bkey *bk; /* keys of pooled backups (and newcomers) */
	size_t n_bk, cap_bk;
	uint8_t removing; /* executing a DISCONNECT: no feedback to sw */
	uint8_t dirty;    /* peer set changed: re-check which peers are kept */
	ec_time next_repool; /* next try to pool retired peers again */
	ec_id dropped[SWAP_MAX_DROPPED]; /* sync chains already penalised */
	size_t n_dropped;
	swap_track track[SWAP_MAX_TRACK]; /* followed chains */
	size_t n_track;
	ec_node_swap_counters c;
};

/* ---- backup keys ---------------------------------------------------------- */

static swap_bkey *bkey_find(struct node_swap *s, const ec_id *id)
{
	for (size_t i = 0; i < s->n_bk; i++)
		if (ec_id_eq(&s->bk[i].id, id))
			return &s->bk[i];
	return NULL;
}

static void bkey_drop(struct node_swap *s, const ec_id *id)
{
	swap_bkey *b = bkey_find(s, id);
	if (b)
		*b = s->bk[--s->n_bk];
}

/* Forget keys of peers the module no longer holds as backup, newcomer or
 * retired (a retired peer returns to the pool after its cooldown). */
static void bkey_prune(struct node_swap *s)
{
	for (size_t i = 0; i < s->n_bk;) {
		int r = ec_swap_role(s->sw, &s->bk[i].id);
		if (r != EC_SWAP_BACKUP && r != EC_SWAP_JOINING && r != EC_SWAP_RETIRED)
			s->bk[i] = s->bk[--s->n_bk];
		else
			i++;
	}
}

static int bkey_put(struct node_swap *s, const ec_hello *h)
{
	swap_bkey *b = bkey_find(s, &h->peer_id);
	if (!b) {
		if (s->n_bk == s->cap_bk) {
			size_t cap = s->cap_bk ? s->cap_bk * 2 : 16;
			swap_bkey *a = realloc(s->bk, cap * sizeof *a);
			if (!a)
				return EC_ERR_NOMEM;
			s->bk = a;
			s->cap_bk = cap;
		}
		b = &s->bk[s->n_bk++];
	}
	memset(b, 0, sizeof *b);
	b->id = h->peer_id;
	memcpy(b->pk, h->pk, EC_PUBKEY_BYTES);
	b->addr_len = h->addr_len <= EC_ADDR_MAX ? h->addr_len : 0;
	memcpy(b->addr, h->addr, b->addr_len);
	return EC_OK;
}

/* ---- kept ring neighbours ----------------------------------------------- */

/* 1 if peer is among our swap_keep_ring ring-closest peers on a side. */
static int kept(const ec_node *n, const ec_id *peer)
{
	ec_id nb[32];
	size_t k = n->cfg.swap_keep_ring, m;
	if (k == 0)
		return 0;
	m = ec_peerset_neighbourhood(&n->peers, &n->self, k, nb);
	for (size_t i = 0; i < m; i++)
		if (ec_id_eq(&nb[i], peer))
			return 1;
	return 0;
}

/* After a change of the peer set: kept peers leave the module (unless a
 * swap holds them: the guard makes it wait), the others join it. */
static void rekeep(ec_node *n, struct node_swap *s, ec_time now)
{
	ec_swap_op_info ops[EC_SWAP_MAX_OPS];
	size_t n_ops = ec_swap_list_ops(s->sw, ops, EC_SWAP_MAX_OPS);
	s->dirty = 0;
	if (n_ops > EC_SWAP_MAX_OPS)
		n_ops = EC_SWAP_MAX_OPS;
	for (size_t i = 0; i < n->n_ptab; i++) {
		const ec_id *id = &n->ptab[i].id;
		int r = ec_swap_role(s->sw, id), k = kept(n, id), busy = 0;
		for (size_t j = 0; j < n_ops; j++)
			busy |= ec_id_eq(&ops[j].out, id) || ec_id_eq(&ops[j].in, id);
		if (k && r == EC_SWAP_NEIGHBOUR && !busy)
			(void)ec_swap_remove_peer(s->sw, id, now);
		else if (!k && r == EC_SWAP_NONE)
			(void)ec_swap_add_neighbour(s->sw, id, NULL, NULL, now);
	}
}

/* ---- the pending-commit guard ------------------------------------------- */

static int pending_commit(void *ctx, const ec_id *peer, ec_time since)
{
	ec_node *n = ctx;
	if (kept(n, peer))
		return 1; /* became one of our own ring neighbours */
	for (size_t i = 0; i < n->n_pend; i++) {
		const node_pend *p = n->pend[i];
		ec_mp_entry *e;
		if (p->decided || !p->participant ||
		    !(e = ec_mempool_get(n->mp, &p->txid)) || e->first_seen > since)
			continue; /* later commits do not hold the swap */
		for (uint32_t v = 0; v < e->n_votes; v++)
			if (ec_id_eq(ec_mp_voter(e, v), peer))
				return 1;
		if (ec_peerset_is_eligible(&n->ring, peer, &e->txid))
			return 1;
		for (unsigned k = 0; e->has_tx && k < e->tx.n_entries; k++)
			if (ec_peerset_is_eligible(&n->ring, peer, &e->tx.entries[k].token))
				return 1;
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

int node_swap_new(ec_node *n, ec_time now)
{
	struct node_swap *s;
	ec_swap_cfg c;
	int err;
	if (!n->cfg.swap_enabled)
		return EC_OK;
	c = n->cfg.swap;
	if (!c.rng) {
		c.rng = n->cfg.rng;
		c.rng_ctx = n->cfg.rng_ctx;
	}
	c.pending_commit = pending_commit;
	c.pending_ctx = n;
	if (n->cfg.swap_set_size == 0)
		n->cfg.swap_set_size = c.min_neighbours + 4;
	if (!(s = calloc(1, sizeof *s)))
		return EC_ERR_NOMEM;
	if ((err = ec_swap_new(&s->sw, &c, now)) != EC_OK) {
		free(s);
		return err;
	}
	if (n->cfg.swap_keep_ring > 16)
		n->cfg.swap_keep_ring = 16;
	s->dirty = 1;
	n->swp = s;
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
	return EC_OK;
}

void node_swap_free(ec_node *n)
{
	if (!n->swp)
		return;
	ec_swap_free(n->swp->sw);
	free(n->swp->bk);
	free(n->swp);
	n->swp = NULL;
}

/* ---- hooks from the node ------------------------------------------------- */

int node_swap_hello(ec_node *n, const ec_hello *h, ec_time now)
{
	struct node_swap *s = n->swp;
	int role, err;
	if (!s)
		return 0;
	if (s->dirty)
		rekeep(n, s, now);
	role = ec_swap_role(s->sw, &h->peer_id);
	if (role == EC_SWAP_RETIRED) {
		s->c.hellos_refused++; /* swapped out: not back before cooldown */
		return 1;
	}
	if (role == EC_SWAP_BACKUP) { /* a newer hello: fresher key/address */
		(void)bkey_put(s, h);
		return 1;
	}
	if (role != EC_SWAP_NONE || n->n_ptab < n->cfg.swap_set_size)
		return 0; /* joins the set as a neighbour (node_swap_peer_added) */
	err = ec_swap_pool_add(s->sw, &h->peer_id, NULL, NULL, now);
	if (err != EC_OK) {
		s->c.hellos_refused++;
		return 1;
	}
	if (bkey_put(s, h) != EC_OK) {
		(void)ec_swap_remove_peer(s->sw, &h->peer_id, now);
		return 1;
	}
	/* its signed head was verified with the hello: warm */
	(void)ec_swap_pool_set_lag(s->sw, &h->peer_id, 0, now);
	s->c.hellos_pooled++;
	bkey_prune(s); /* a full pool may have evicted one */
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
	return 1;
}

void node_swap_peer_added(ec_node *n, const ec_id *peer)
{
	struct node_swap *s = n->swp;
	int role;
	if (!s)
		return;
	role = ec_swap_role(s->sw, peer);
	if (role == EC_SWAP_JOINING || role == EC_SWAP_NEIGHBOUR)
		return;
	if (role == EC_SWAP_BACKUP || role == EC_SWAP_RETIRED) {
		/* the caller (configuration, operator) put it in the set */
		if (role == EC_SWAP_BACKUP)
			(void)ec_swap_remove_peer(s->sw, peer, n->last_now);
		bkey_drop(s, peer);
		if (role == EC_SWAP_RETIRED)
			return; /* the module keeps it retired until its cooldown */
	}
	s->dirty = 1; /* joins the module unless kept (rekeep, next tick) */
	node_deadline_min(n, n->last_now);
}

void node_swap_peer_removed(ec_node *n, const ec_id *peer)
{
	struct node_swap *s = n->swp;
	int role;
	if (!s || s->removing)
		return;
	role = ec_swap_role(s->sw, peer);
	if (role == EC_SWAP_NEIGHBOUR || role == EC_SWAP_JOINING)
		(void)ec_swap_remove_peer(s->sw, peer, n->last_now);
	s->dirty = 1;
	node_deadline_min(n, n->last_now);
}

void node_swap_response(ec_node *n, const ec_id *peer, int answered,
			uint64_t latency_ms, ec_time now)
{
	struct node_swap *s = n->swp;
	if (!s)
		return;
	if (ec_swap_observe_response(s->sw, peer, answered, (double)latency_ms, now) !=
	    EC_OK)
		return;
	if (answered)
		s->c.responses++;
	else
		s->c.timeouts++;
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
}

/* What the sync engine learned about the peers whose chains it follows,
 * fed once per outcome (PROTOCOL 14d.1 "Observations fed"):
 *   - a chain abandoned as a liar's (forged block, bad proof,
 *     equivocation): one penalty, one disagreeing cross-check and a sync
 *     sample with the time it had taken so far;
 *   - a chain verified complete (the peer's signed head agreed with every
 *     block down to genesis or our previous head): one agreeing
 *     cross-check, and a sync-efficiency sample: lag = the time from when
 *     the chain was (again) seen incomplete to its completion, grace =
 *     10 x tx_req_timeout_ms;
 *   - a chain that becomes incomplete again (maintenance saw a newer head)
 *     is judged again at its next outcome. */
static void feed_sync(ec_node *n, struct node_swap *s, ec_time now)
{
	ec_sync_status st;
	ec_sync_chain ch[64];
	uint64_t grace = 10 * (uint64_t)n->cfg.tx_req_timeout_ms;
	if (!n->sync || ec_node_sync_status(n, &st, ch, 64) != EC_OK)
		return;
	if (grace == 0)
		grace = 1;
	for (size_t i = 0; i < st.n_chains && i < 64; i++) {
		const ec_id *c = &ch[i].creator;
		swap_track *t = NULL;
		size_t k;
		for (k = 0; k < s->n_track; k++)
			if (ec_id_eq(&s->track[k].creator, c))
				t = &s->track[k];
		if (!t && s->n_track < SWAP_MAX_TRACK) {
			t = &s->track[s->n_track++];
			t->creator = *c;
			t->since = now;
			t->judged = 0;
		}
		if (ch[i].dropped) {
			for (k = 0; k < s->n_dropped && !ec_id_eq(&s->dropped[k], c); k++)
				;
			if (k == s->n_dropped && s->n_dropped < SWAP_MAX_DROPPED) {
				s->dropped[s->n_dropped++] = *c;
				if (ec_swap_observe_penalty(s->sw, c, now) == EC_OK)
					s->c.penalties++;
			}
			if (t && !t->judged) {
				t->judged = 1;
				if (ec_swap_observe_check(s->sw, c, 0, now) == EC_OK)
					s->c.checks_failed++;
				(void)ec_swap_observe_sync(s->sw, c, now - t->since, grace, now);
			}
			continue;
		}
		if (!t)
			continue;
		if (!ch[i].complete) {
			if (t->judged) { /* a newer head: judged again */
				t->judged = 0;
				t->since = now;
			}
			continue;
		}
		if (t->judged)
			continue;
		t->judged = 1;
		if (ec_swap_observe_check(s->sw, c, 1, now) == EC_OK)
			s->c.checks_agreed++;
		if (ec_swap_observe_sync(s->sw, c, now - t->since, grace, now) == EC_OK)
			s->c.sync_samples++;
	}
}

/* A cross-check of one signed mapping answer of `peer` (key lookups: the
 * answer named the key that NODE_KEYLOOK_NEED agreeing answers adopted, or
 * another). */
void node_swap_check(ec_node *n, const ec_id *peer, int agreed, ec_time now)
{
	struct node_swap *s = n->swp;
	if (!s || ec_swap_observe_check(s->sw, peer, agreed, now) != EC_OK)
		return;
	if (agreed)
		s->c.checks_agreed++;
	else
		s->c.checks_failed++;
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
}

/* Retired peers whose cooldown ended go back to the pool (we verified
 * their identity when they first joined; their key is kept). */
static void repool(ec_node *n, struct node_swap *s, ec_time now)
{
	for (size_t i = 0; i < s->n_bk; i++) {
		const ec_id *id = &s->bk[i].id;
		int r = ec_swap_role(s->sw, id);
		if (r == EC_SWAP_BACKUP || r == EC_SWAP_JOINING || node_peer_find(n, id))
			continue;
		if (ec_swap_pool_add(s->sw, id, NULL, NULL, now) == EC_OK &&
		    ec_swap_pool_set_lag(s->sw, id, 0, now) == EC_OK)
			s->c.repooled++;
	}
	bkey_prune(s);
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
}

/* ---- actions ----------------------------------------------------------------- */

static void run_action(ec_node *n, struct node_swap *s, const ec_swap_action *a,
		       ec_time now)
{
	swap_bkey *b;
	int err;
	switch (a->kind) {
	case EC_SWAP_ACT_CONNECT:
		b = bkey_find(s, &a->peer);
		err = b ? ec_node_add_peer_key(n, &b->id, b->pk) : EC_ERR_NOTFOUND;
		if (err == EC_OK || err == EC_ERR_EXISTS) {
			int found = 0;
			for (size_t i = 0; i < n->n_ptab && !found; i++)
				if (ec_id_eq(&n->ptab[i].id, &b->id)) {
					n->ptab[i].addr_len = b->addr_len;
					memcpy(n->ptab[i].addr, b->addr, b->addr_len);
					found = 1;
				}
			(void)ec_node_send_hello(n, &a->peer, now);
			s->c.connects++;
			err = EC_OK;
		}
		(void)ec_swap_connected(s->sw, a->op, err == EC_OK, now);
		break;
	case EC_SWAP_ACT_SYNC:
		s->c.syncs++;
		(void)ec_swap_synced(s->sw, a->op, node_peer_find(n, &a->peer) != NULL, now);
		break;
	case EC_SWAP_ACT_LOAD:
		s->c.load_steps++;
		break;
	case EC_SWAP_ACT_DISCONNECT: {
		const node_peer *np = node_peer_find(n, &a->peer);
		if (np) { /* kept: back in the pool after its cooldown */
			ec_hello h;
			memset(&h, 0, sizeof h);
			h.peer_id = np->id;
			memcpy(h.pk, np->pk, EC_PUBKEY_BYTES);
			h.addr_len = np->addr_len;
			memcpy(h.addr, np->addr, np->addr_len);
			(void)bkey_put(s, &h);
		}
		s->removing = 1;
		if (ec_node_remove_peer(n, &a->peer) == EC_OK)
			s->c.disconnects++;
		s->removing = 0;
		s->dirty = 1;
		break;
	}
	}
}

static void drain(ec_node *n, struct node_swap *s, ec_time now)
{
	ec_swap_action a;
	while (ec_swap_poll(s->sw, &a))
		run_action(n, s, &a, now);
	bkey_prune(s);
}

void node_swap_tick(ec_node *n, ec_time now)
{
	struct node_swap *s = n->swp;
	if (!s)
		return;
	if (s->dirty)
		rekeep(n, s, now);
	if (now >= s->next_repool) {
		repool(n, s, now);
		s->next_repool = now + 1000;
	}
	feed_sync(n, s, now);
	/* a report may make more work due at once (next_deadline 0): a few
	 * rounds, bounded */
	for (int r = 0; r < 4 && ec_swap_next_deadline(s->sw) <= now; r++) {
		(void)ec_swap_tick(s->sw, now);
		drain(n, s, now);
	}
	drain(n, s, now);
	node_deadline_min(n, ec_swap_next_deadline(s->sw));
	for (size_t i = 0; i < s->n_bk; i++)
		if (ec_swap_role(s->sw, &s->bk[i].id) == EC_SWAP_RETIRED) {
			node_deadline_min(n, s->next_repool); /* try again then */
			break;
		}
}

/* ---- public wrappers ----------------------------------------------------- */

const ec_swap *ec_node_swap_get(const ec_node *n)
{
	return n && n->swp ? n->swp->sw : NULL;
}

int ec_node_swap_status(const ec_node *n, ec_swap_status *st)
{
	if (!n || !st)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	if (n->swp->dirty)
		rekeep((ec_node *)n, n->swp, n->last_now);
	ec_swap_get_status(n->swp->sw, st);
	return EC_OK;
}

/* The module's view brought up to date before an operator call. */
static struct node_swap *fresh(ec_node *n, ec_time now)
{
	if (n->swp && n->swp->dirty)
		rekeep(n, n->swp, now > n->last_now ? now : n->last_now);
	return n->swp;
}

static int after(ec_node *n, int err, ec_time now)
{
	if (now > n->last_now)
		n->last_now = now;
	if (err == EC_OK) {
		drain(n, n->swp, now);
		node_deadline_min(n, ec_swap_next_deadline(n->swp->sw));
	}
	return err;
}

int ec_node_swap_pause(ec_node *n, ec_time now)
{
	if (!n)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	return after(n, ec_swap_pause(fresh(n, now)->sw, now), now);
}

int ec_node_swap_resume(ec_node *n, ec_time now)
{
	if (!n)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	return after(n, ec_swap_resume(fresh(n, now)->sw, now), now);
}

int ec_node_swap_static(ec_node *n, int on, ec_time now)
{
	if (!n)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	return after(n, ec_swap_set_static(fresh(n, now)->sw, on, now), now);
}

int ec_node_swap_force(ec_node *n, const ec_id *out, const ec_id *in, ec_time now,
		       uint32_t *op_id)
{
	if (!n)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	return after(n, ec_swap_force(fresh(n, now)->sw, out, in, now, op_id), now);
}

int ec_node_swap_counters_get(const ec_node *n, ec_node_swap_counters *c)
{
	if (!n || !c)
		return EC_ERR_ARG;
	if (!n->swp)
		return EC_ERR_NOTFOUND;
	*c = n->swp->c;
	return EC_OK;
}
