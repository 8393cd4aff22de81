/* ec_node_tx.c - transactions and votes (spec 7.4, 8.3-8.5, 8.8, 8.10):
 * admission of transactions, our vote on each entry, the vote targets, the
 * pushes and re-pushes, received votes, and fetching missing transactions
 * with tx requests.
 *
 * Our vote on an entry (token t, prev, next_key) of tx (spec 8.3):
 *   not responsible for t (we are not in t's +-4 neighbourhood of
 *     peers + self)                                        -> NO (filtered
 *                                                             by receivers)
 *   prev = 0: YES iff we hold no state for t
 *   prev != 0: YES iff prev = our head of t (decided or committed),
 *     H_tag(keyhash, pk of the entry's signature) = next_key of the head
 *     tx's entry for t, and tx.timestamp > head tx's timestamp
 *   and in both cases NO when a higher-id tx with the same (t, prev) is
 *   known (spec 8.5).
 * A node that is responsible for none of the tokens and is not in the
 * witness neighbourhood of the txid relays the tx once and does not vote. */
#include <stdlib.h>

#include "ec_node_int.h"

#define TX_FUTURE_MS (2ull * 3600 * 1000) /* spec 7 / whitepaper: < now + 2 h */

static uint32_t jitter(ec_node *n, uint32_t range)
{
	uint32_t r = 0;
	if (range == 0)
		return 0;
	n->cfg.rng(n->cfg.rng_ctx, &r, sizeof r);
	return r % range;
}

static ec_time next_push_time(ec_node *n, ec_time now)
{
	return now + n->cfg.repush_ms + jitter(n, n->cfg.repush_ms / 2 + 1);
}

/* Decided in the open block or committed in our chain. */
static int committed_here(ec_node *n, const ec_id *txid)
{
	ec_store_txn *t;
	ec_id blk;
	uint8_t pos;
	int r = 0;
	if (node_open_has_tx(n, txid))
		return 1;
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK)
		return 0;
	r = ec_store_get_tx_index(t, txid, &blk, &pos) == EC_OK;
	ec_store_txn_abort(t);
	return r;
}

int node_token_head(ec_node *n, const ec_id *token, ec_id *txid, ec_tx *tx,
		    int *has_body)
{
	ec_store_txn *t;
	ec_token_state st;
	int k = node_open_head(n, token);
	if (has_body)
		*has_body = 0;
	if (k >= 0) {
		*txid = n->open.txs[k].id;
		if (tx)
			*tx = n->open.txs[k];
		if (has_body)
			*has_body = 1;
		return 1;
	}
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK)
		return 0;
	if (ec_store_get_token(t, token, &st) != EC_OK || !st.has_current) {
		ec_store_txn_abort(t);
		return 0;
	}
	*txid = st.current.txid;
	if (tx && ec_store_get_tx(t, txid, tx) == EC_OK && has_body)
		*has_body = 1;
	ec_store_txn_abort(t);
	return 1;
}

int ec_node_check_lamppost(ec_node *n, const ec_id *peer, const uint8_t pk[32])
{
	ec_id head, kh;
	ec_tx tx;
	int body;
	if (!n || !peer || !pk)
		return EC_ERR_ARG;
	if (!node_token_head(n, peer, &head, &tx, &body) || !body)
		return EC_ERR_NOTFOUND;
	ec_keyhash(&kh, pk);
	for (unsigned i = 0; i < tx.n_entries; i++)
		if (ec_id_eq(&tx.entries[i].token, peer))
			return ec_id_eq(&tx.entries[i].next_key, &kh) ? EC_OK : EC_ERR_KEY;
	return EC_ERR_NOTFOUND;
}

static int tx_known(ec_node *n, const ec_id *txid)
{
	ec_mp_entry *e = ec_mempool_get(n->mp, txid);
	if (e && e->has_tx)
		return 1;
	return committed_here(n, txid);
}

/* 1 if a higher-id tx in the pool extends the same (token, prev). */
static int higher_conflict_on(ec_node *n, const ec_mp_entry *e, const ec_id *tok,
			      const ec_id *prev)
{
	return ec_mempool_higher_on(n->mp, e, tok, prev);
}

int node_contested(ec_node *n, const ec_mp_entry *e)
{
	ec_id ids[EC_VOTE_MAX_CONFLICTS];
	size_t k;
	if (!e->has_tx)
		return 0;
	k = ec_mempool_conflicts(n->mp, e, ids, EC_VOTE_MAX_CONFLICTS);
	if (k > EC_VOTE_MAX_CONFLICTS)
		return 1; /* very many: certainly some valid one among them */
	for (size_t i = 0; i < k; i++) {
		const ec_mp_entry *o = ec_mempool_get(n->mp, &ids[i]);
		if (o && o->has_tx && o->state != EC_MP_REJECTED)
			return 1;
	}
	/* a member of one of e's tokens lists a conflict in its vote: it
	 * saw a twin we may not have (spec 8.5 "conflict evidence") */
	if (!e->votes)
		return 0; /* compacted: decided already */
	for (uint32_t j = 0; j < e->n_votes; j++) {
		const ec_vote *v = &e->votes[j];
		if (!v->n_conflicts || ec_id_eq(&v->voter, &n->self))
			continue;
		for (unsigned i = 0; i < e->tx.n_entries; i++)
			if (ec_peerset_is_eligible(&n->ring, &v->voter, &e->tx.entries[i].token))
				return 1;
	}
	return 0;
}

/* 1 = YES, 0 = NO, -1 = NO and the entry is certainly invalid here: it
 * extends our head but is not authorized by it (key or timestamp). */
static int entry_ok(ec_node *n, ec_mp_entry *e, unsigned i, ec_time now)
{
	const ec_tx *tx = &e->tx;
	const ec_tx_entry *en = &tx->entries[i];
	ec_id head, kh;
	ec_tx htx;
	int body, have;
	have = node_token_head(n, &en->token, &head, &htx, &body);
	if (ec_id_is_zero(&en->prev)) {
		if (have)
			return 0;
	} else {
		const ec_tx_sig *sig = NULL;
		const ec_tx_entry *hen = NULL;
		if (!have || !ec_id_eq(&en->prev, &head)) {
			/* spec 8.10: we may lack history: fetch prev */
			if (!tx_known(n, &en->prev) && !ec_id_is_zero(&e->sender))
				node_request_tx(n, &en->prev, &e->sender, now);
			return 0;
		}
		if (!body)
			return 0; /* head known only by id: cannot check the key */
		for (unsigned k = 0; k < tx->n_sigs; k++)
			if (tx->sigs[k].entry == i)
				sig = &tx->sigs[k];
		for (unsigned k = 0; k < htx.n_entries; k++)
			if (ec_id_eq(&htx.entries[k].token, &en->token))
				hen = &htx.entries[k];
		if (!sig || !hen)
			return -1;
		ec_keyhash(&kh, sig->pk);
		if (!ec_id_eq(&kh, &hen->next_key))
			return -1; /* also refuses destroyed tokens (zero key) */
		if (tx->timestamp <= htx.timestamp)
			return -1;
	}
	return !higher_conflict_on(n, e, &en->token, &en->prev);
}

/* Spec 8.9 proxy flag (bounded mode, an entry whose token we are not a
 * neighbour of): +1 iff our own tally of the token (its +-4 nearest peers
 * in our ring, nearer to it than we are) exceeds the threshold and no
 * higher conflict on (token, prev) is known.  Otherwise node_evaluate
 * gives -1 with a higher conflict known and no flag at all (abstains)
 * without one: receivers with partial peer sets count us as one of the
 * nearest they know, and a -1 meaning "I do not know" would block the
 * token there (PROTOCOL 14b "Our vote"). */
static int proxy_ok(ec_node *n, ec_mp_entry *e, unsigned i, const ec_tally *t)
{
	if (t->balance[i] <= n->cfg.mempool.vote_threshold)
		return 0;
	return !higher_conflict_on(n, e, &e->tx.entries[i].token,
				   &e->tx.entries[i].prev);
}

int node_evaluate(ec_node *n, ec_mp_entry *e, node_pend *p, ec_time now)
{
	ec_vote v;
	ec_tally t;
	int participant = node_is_responsible(n, &e->txid), have_tally = -1;
	int bounded = n->cfg.vote_fanout != 0;
	size_t nc;
	if (!e->has_tx)
		return 0;
	memset(&v, 0, sizeof v);
	v.txid = e->txid;
	v.voter = n->self;
	p->proxy = 0;
	p->member = 0;
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		if (node_is_responsible(n, &e->tx.entries[i].token))
			p->member = 1;
	participant |= p->member;
	v.n_flags = 0;
	for (unsigned i = 0; i < e->tx.n_entries; i++) {
		const ec_tx_entry *en = &e->tx.entries[i];
		int resp = node_is_responsible(n, &en->token);
		int ok = 0;
		if (resp) {
			ok = entry_ok(n, e, i, now);
		} else if (bounded) {
			/* not our token: the proxy flag (+1 when our tally
			 * of it passes), -1 only with a higher conflict
			 * known, otherwise no flag at all (abstain) */
			if (have_tally < 0)
				have_tally = ec_mempool_tally(n->mp, e, &n->ring, &t) == EC_OK;
			p->proxy = 1;
			if (have_tally && proxy_ok(n, e, i, &t))
				ok = 1;
			else if (!higher_conflict_on(n, e, &en->token, &en->prev))
				continue; /* abstain */
		}
		v.flags[v.n_flags].token = en->token;
		v.flags[v.n_flags].flag = ok > 0 ? EC_VOTE_YES : EC_VOTE_NO;
		v.n_flags++;
		/* an unauthorized tx is no conflict for valid ones (spec 8.5
		 * "two valid transactions"): the mempool then ignores it */
		if (ok < 0 && e->state == EC_MP_PENDING)
			ec_mempool_set_state(n->mp, e, EC_MP_REJECTED);
	}
	if (v.n_flags == 0) {
		/* no opinion on any token: the vote still says "seen" (a
		 * witness signal, spec 8.7) with one flag on the txid
		 * itself, which no token tally counts */
		v.flags[0].token = e->txid;
		v.flags[0].flag = EC_VOTE_NO;
		v.n_flags = 1;
	}
	p->participant = (uint8_t)participant;
	if (!participant && !bounded)
		return 0; /* relay only */
	{
		/* the known conflicts, without the certainly invalid ones (a
		 * forgery is no conflict, spec 8.5, and listing it would make
		 * the tx contested at its receivers) */
		ec_id ids[EC_VOTE_MAX_CONFLICTS];
		nc = ec_mempool_conflicts(n->mp, e, ids, EC_VOTE_MAX_CONFLICTS);
		if (nc > EC_VOTE_MAX_CONFLICTS)
			nc = EC_VOTE_MAX_CONFLICTS;
		v.n_conflicts = 0;
		for (size_t i = 0; i < nc; i++) {
			const ec_mp_entry *o = ec_mempool_get(n->mp, &ids[i]);
			if (!o || o->state != EC_MP_REJECTED)
				v.conflicts[v.n_conflicts++] = ids[i];
		}
	}
	if (p->voted && memcmp(v.flags, p->vote.flags, sizeof v.flags) == 0 &&
	    v.n_conflicts == p->vote.n_conflicts &&
	    memcmp(v.conflicts, p->vote.conflicts, sizeof v.conflicts) == 0)
		return 0;
	v.seq = p->voted ? p->vote.seq + 1 : 1;
	v.timestamp = now;
	if (ec_vote_sign(&v, n->cfg.key.sk) != EC_OK)
		return 0;
	if (p->voted)
		n->st.votes_changed++;
	p->vote = v;
	p->voted = 1;
	(void)ec_mempool_add_vote(n->mp, &v, now);
	node_mark_dirty(n, p, now);
	return 1;
}

static int cmp_id(const void *a, const void *b)
{
	return ec_id_cmp(a, b);
}

/* Vote targets, ascending, no duplicates, never ourselves.  vote_fanout
 * 0: the +-4 neighbourhoods (over peers + self) of every token and of the
 * witness address.  vote_fanout f: the `per_side` nearest peers on each
 * side of every token and of the witness address: ceil(f/2) for first
 * votes and changes (upstream's first_vote_target_count 4: the nearest of
 * each neighbourhood); EC_NEIGHBOURS (the whole neighbourhood) is what
 * repeat_targets and the nearest node's spread use. */
/* room for targets_k at EC_NEIGHBOURS plus the members a contested tx adds */
#define MAX_TARGETS (2 * (EC_TX_MAX_ENTRIES + 1) * 2 * EC_NEIGHBOURS)
static size_t targets_k(ec_node *n, const ec_tx *tx, const ec_id *txid,
			unsigned per_side, ec_id *out)
{
	size_t m = 0, w = 0;
	const ec_peerset *ps = n->cfg.vote_fanout ? &n->peers : &n->ring;
	if (per_side > EC_NEIGHBOURS)
		per_side = EC_NEIGHBOURS;
	for (unsigned i = 0; i <= tx->n_entries; i++) {
		const ec_id *a = i < tx->n_entries ? &tx->entries[i].token : txid;
		m += ec_peerset_neighbourhood(ps, a, per_side, out + m);
	}
	qsort(out, m, sizeof *out, cmp_id);
	for (size_t i = 0; i < m; i++) {
		if (ec_id_eq(&out[i], &n->self) || (w && ec_id_eq(&out[w - 1], &out[i])))
			continue;
		out[w++] = out[i];
	}
	return w;
}

static size_t targets(ec_node *n, const ec_tx *tx, const ec_id *txid, ec_id *out)
{
	unsigned k = n->cfg.vote_fanout ? (n->cfg.vote_fanout + 1u) / 2 : EC_NEIGHBOURS;
	return targets_k(n, tx, txid, k, out);
}

static int has_vote_from(const ec_mp_entry *e, const ec_id *peer)
{
	for (uint32_t i = 0; i < e->n_votes; i++)
		if (ec_id_eq(ec_mp_voter(e, i), peer))
			return 1;
	return 0;
}

static int asked(const ec_node *n, const ec_mp_entry *e)
{
	for (uint32_t j = 0; j < e->n_votes; j++)
		if (!ec_id_eq(ec_mp_voter(e, j), &n->self))
			return 1;
	return 0;
}

/* Where our tx and vote go (bounded fan-out).  A participant: targets().
 * A non-participant: greedy routing toward the addresses, to peers nearer
 * to the address than we are: a relay (not asked) to the one nearest on
 * each side of every token and of the txid (a path per side: the tx
 * converges on the neighbourhood without flooding the ring); a proxy
 * (asked) to the ceil(f/2) nearest per side of the tokens only (it gathers
 * their tallies; the txid's witnesses are not its business). */
static size_t push_targets(ec_node *n, const ec_mp_entry *e, const node_pend *p,
			   ec_id *out)
{
	size_t m = 0, w = 0;
	unsigned k = (n->cfg.vote_fanout + 1u) / 2, last;
	if (!n->cfg.vote_fanout)
		return targets(n, &e->tx, &e->txid, out);
	if (p->participant) {
		m = targets(n, &e->tx, &e->txid, out);
		/* a contested tx (a conflicting one is known): a member's
		 * vote goes to its whole token neighbourhoods, whose every
		 * vote a contested decision needs (PROTOCOL 14b "Conflicts
		 * under bounded fan-out") */
		if (!p->member || !node_contested(n, e))
			return m;
		for (unsigned i = 0; i < e->tx.n_entries; i++) {
			const ec_id *t = &e->tx.entries[i].token;
			if (node_is_responsible(n, t))
				m += ec_peerset_neighbourhood(&n->peers, t, EC_NEIGHBOURS,
							      out + m);
		}
		goto dedupe;
	}
	if (k > EC_NEIGHBOURS)
		k = EC_NEIGHBOURS;
	if (!asked(n, e)) {
		k = 1; /* a relay: one path per side and address */
		last = e->tx.n_entries + 1u;
	} else {
		last = e->tx.n_entries;
	}
	for (unsigned i = 0; i < last; i++) {
		const ec_id *a = i < e->tx.n_entries ? &e->tx.entries[i].token : &e->txid;
		ec_id nb[2 * EC_NEIGHBOURS];
		size_t c;
		/* a relay continues a path toward `a` only if it got the tx
		 * from farther away (its sender was routing toward a) or
		 * from a client */
		if (!asked(n, e) && !ec_id_is_zero(&e->sender) &&
		    ec_ring_closer(a, &n->self, &e->sender) > 0)
			continue;
		c = ec_peerset_neighbourhood(&n->peers, a, k, nb);
		for (size_t j = 0; j < c; j++)
			if (ec_ring_closer(a, &nb[j], &n->self) < 0)
				out[m++] = nb[j];
	}
dedupe:
	qsort(out, m, sizeof *out, cmp_id);
	for (size_t i = 0; i < m; i++)
		if (!w || !ec_id_eq(&out[w - 1], &out[i]))
			out[w++] = out[i];
	return w;
}

static int is_target(ec_node *n, const ec_mp_entry *e, const node_pend *p,
		     const ec_id *peer)
{
	ec_id tg[MAX_TARGETS];
	size_t nt = push_targets(n, e, p, tg);
	return bsearch(peer, tg, nt, sizeof *tg, cmp_id) != NULL;
}

/* A non-participant that holds votes of others was asked for its vote
 * (spec 8.9: a peer whose peer set knows nobody nearer): from then on it
 * pushes its vote (push_targets) like a participant, as a proxy; it does
 * not re-push. */
int node_pushes_vote(const ec_node *n, const ec_mp_entry *e, const node_pend *p)
{
	if (!p->voted)
		return 0;
	if (p->participant || !n->cfg.vote_fanout)
		return 1;
	return asked(n, e);
}

/* 1 if peer's vote on e (held) gives token t +1. */
static int votes_yes_on(const ec_mp_entry *e, const ec_id *peer, const ec_id *t)
{
	for (uint32_t i = 0; i < e->n_votes; i++) {
		if (!ec_id_eq(ec_mp_voter(e, i), peer))
			continue;
		return ec_mp_vote_flag(e, i, t) > 0;
	}
	return 0;
}

static int is_nearest(ec_node *n, const ec_id *a)
{
	ec_id near;
	return ec_peerset_closest(&n->ring, a, 1, &near) == 1 && ec_id_eq(&near, &n->self);
}

/* The member quorum (node_member_quorum) met for token t alone. */
static int member_quorum_on(ec_node *n, const ec_mp_entry *e, const ec_id *t,
			    int contested)
{
	size_t k, yes = (size_t)node_member_yes(n, e, t, &k);
	return contested ? yes >= k : 2 * yes > k;
}

/* Re-push targets (bounded fan-out), ascending, no duplicates: while
 * undecided, for every token whose balance our tally does not meet yet,
 * the peers of its +-4 neighbourhood (over peers) whose vote we lack or
 * whose vote does not say +1 for it: a poll, since their flags may have
 * changed since they voted (proxy flags follow their tallies and are not
 * pushed); for the txid while fewer than witness_min witnesses are
 * counted, those of its neighbourhood whose vote we lack (any vote is a
 * witness signal); after our decision, only for the addresses we are the
 * nearest node to, the members whose vote we lack (a member that missed
 * the tx and every vote is reached once more).  A member also polls the
 * members of a token it approves while the member quorum is not met. */
static size_t repeat_targets(ec_node *n, ec_mp_entry *e, node_pend *p, ec_id *out)
{
	ec_tally t;
	size_t m = 0, w = 0;
	int have = ec_mempool_tally(n->mp, e, &n->ring, &t) == EC_OK;
	int contested = !p->decided && p->member && node_contested(n, e);
	for (unsigned i = 0; i <= e->tx.n_entries; i++) {
		const ec_id *a = i < e->tx.n_entries ? &e->tx.entries[i].token : &e->txid;
		ec_id nb[2 * EC_NEIGHBOURS];
		size_t k;
		int poll = 0;
		if (p->decided) {
			if (!is_nearest(n, a))
				continue;
		} else if (have) {
			/* a token of ours that we approve needs the member
			 * quorum (a majority of its members' +1, all of them
			 * when contested): its members are polled until then
			 * even when the balance is met */
			if (i < e->tx.n_entries &&
			    t.balance[i] > n->cfg.mempool.vote_threshold &&
			    !(node_is_responsible(n, a) && votes_yes_on(e, &n->self, a) &&
			      !member_quorum_on(n, e, a, contested)))
				continue;
			if (i == e->tx.n_entries && t.witnesses >= n->cfg.mempool.witness_min)
				continue;
			/* only a neighbour of one of the tokens polls: a
			 * witness keeps no token state, its decision adds
			 * nothing but its own record */
			poll = i < e->tx.n_entries && p->member;
		}
		k = ec_peerset_neighbourhood(&n->peers, a, EC_NEIGHBOURS, nb);
		for (size_t j = 0; j < k; j++)
			if (!has_vote_from(e, &nb[j]) ||
			    (poll && !votes_yes_on(e, &nb[j], a)))
				out[m++] = nb[j];
	}
	qsort(out, m, sizeof *out, cmp_id);
	for (size_t i = 0; i < m; i++)
		if (!w || !ec_id_eq(&out[w - 1], &out[i]))
			out[w++] = out[i];
	return w;
}

/* We are a member of token t's neighbourhood and took e from a local
 * client (the entry member). */
static int entry_member(ec_node *n, const ec_mp_entry *e, const ec_id *t)
{
	if (!node_is_responsible(n, t))
		return 0;
	return ec_id_is_zero(&e->sender);
}

void node_push(ec_node *n, ec_mp_entry *e, node_pend *p, int mode, ec_time now)
{
	ec_id tg[MAX_TARGETS], wide[MAX_TARGETS];
	uint8_t *venc = NULL;
	size_t vlen = 0, nt, nw = 0;
	int bounded = n->cfg.vote_fanout != 0;
	(void)now;
	if (!e->has_tx || !p->has_enc)
		return;
	nt = push_targets(n, e, p, tg);
	if (node_pushes_vote(n, e, p) && ec_vote_encode(&p->vote, &venc, &vlen) != EC_OK)
		venc = NULL;
	if (!bounded) {
		for (size_t i = 0; i < nt; i++) {
			if (!has_vote_from(e, &tg[i]))
				node_send_copy(n, &tg[i], p->enc, p->enc_len);
			if (venc)
				node_send_copy(n, &tg[i], venc, vlen);
		}
		free(venc);
		return;
	}
	/* Bounded fan-out.  First votes go with the tx to the nearest
	 * ceil(f/2) per side of each address (tokens and txid), which
	 * answer the others' votes; relays (non-participants) send the tx
	 * on to the same nearest peers (greedy routing toward the address,
	 * spec 8.9: they are nearer to it than the relay); the node nearest
	 * to an address (in its ring) also sends the tx to the address's
	 * whole +-4 neighbourhood.  Changes go to the nearest per side and
	 * to every peer whose vote we hold.  Re-pushes (with a growing
	 * period) go to the peers repeat_targets names: the vote, and from
	 * the second round on (and after our decision) the tx. */
	if (mode == NODE_PUSH_REPEAT) {
		nw = repeat_targets(n, e, p, wide);
		for (size_t i = 0; venc && i < nw; i++) {
			if ((p->repeats || p->decided) && !has_vote_from(e, &wide[i]))
				node_send_copy(n, &wide[i], p->enc, p->enc_len);
			node_send_copy(n, &wide[i], venc, vlen);
		}
		if (p->repeats < 255)
			p->repeats++;
		free(venc);
		return;
	}
	if (mode == NODE_PUSH_FIRST) {
		/* first votes carry the tx (upstream's InitialVote); relays
		 * send it on (push_targets: greedy), never back to the
		 * sender */
		for (size_t i = 0; i < nt; i++)
			if (!has_vote_from(e, &tg[i]) && !ec_id_eq(&tg[i], &e->sender))
				node_send_copy(n, &tg[i], p->enc, p->enc_len);
		/* the node nearest to an address spreads it to the address's
		 * whole +-4 neighbourhood; so does a member that took it
		 * from a local client: every member then holds the tx one
		 * hop after it entered, so that twins meet early and the
		 * higher one reaches unanimity (PROTOCOL 14b "Conflicts under
		 * bounded fan-out") */
		for (unsigned a = 0; a <= e->tx.n_entries; a++) {
			const ec_id *ad = a < e->tx.n_entries ? &e->tx.entries[a].token
							      : &e->txid;
			ec_id nb[2 * EC_NEIGHBOURS];
			size_t k;
			if (!is_nearest(n, ad) && !(a < e->tx.n_entries && entry_member(n, e, ad)))
				continue;
			k = ec_peerset_neighbourhood(&n->peers, ad, EC_NEIGHBOURS, nb);
			for (size_t i = 0; i < k; i++)
				if (!has_vote_from(e, &nb[i]) &&
				    !ec_id_eq(&nb[i], &e->sender) &&
				    !bsearch(&nb[i], tg, nt, sizeof *tg, cmp_id))
					node_send_copy(n, &nb[i], p->enc, p->enc_len);
		}
	}
	for (size_t i = 0; venc && i < nt; i++)
		node_send_copy(n, &tg[i], venc, vlen);
	/* a changed vote also goes to every peer whose vote we hold: they
	 * take part (their tally may count us, e.g. as a proxy) */
	if (venc && mode == NODE_PUSH_CHANGE)
		for (uint32_t j = 0; j < e->n_votes; j++) {
			const ec_id *v = ec_mp_voter(e, j);
			if (ec_id_eq(v, &n->self) ||
			    bsearch(v, tg, nt, sizeof *tg, cmp_id))
				continue;
			node_send_copy(n, v, venc, vlen);
		}
	free(venc);
}

/* A proxy flag of ours turned +1 (spec 8.9): the vote goes to our first
 * targets and to the peers whose vote we hold that may still need it for
 * that token: those whose own vote does not say +1 for it yet (a node
 * whose flag is +1 is a neighbour that approves, or a proxy whose tally
 * already passed). */
void node_push_flip(ec_node *n, ec_mp_entry *e, node_pend *p, const int8_t *before)
{
	ec_id tg[MAX_TARGETS];
	uint8_t *venc = NULL;
	size_t vlen = 0, nt;
	if (!p->voted || ec_vote_encode(&p->vote, &venc, &vlen) != EC_OK)
		return;
	nt = push_targets(n, e, p, tg);
	for (size_t i = 0; i < nt; i++)
		node_send_copy(n, &tg[i], venc, vlen);
	for (uint32_t j = 0; j < e->n_votes; j++) {
		const ec_id *v = ec_mp_voter(e, j);
		int need = 0;
		if (ec_id_eq(v, &n->self) || bsearch(v, tg, nt, sizeof *tg, cmp_id))
			continue;
		for (unsigned i = 0; !need && i < e->tx.n_entries; i++) {
			const ec_id *t = &e->tx.entries[i].token;
			if (before[i] > 0 || !votes_yes_on(e, &n->self, t))
				continue; /* not a flip to +1 */
			need = !votes_yes_on(e, v, t);
		}
		if (need)
			node_send_copy(n, v, venc, vlen);
	}
	free(venc);
}

/* Our view is sparse around a token of e we are not a neighbour of when
 * its +-4 nearest peers in our ring include one of our fellow neighbours
 * of a token we are responsible for: peers that far away are then counted
 * for it (by us, and so likely by our fellows, whose peer sets are much
 * like ours).  With complete peer sets the two neighbourhoods of distant
 * tokens do not meet and nobody needs our flag on the other token. */
static int sparse_view(ec_node *n, const ec_mp_entry *e)
{
	for (unsigned i = 0; i < e->tx.n_entries; i++) {
		const ec_id *t = &e->tx.entries[i].token;
		ec_id nb[2 * EC_NEIGHBOURS];
		size_t k;
		if (node_is_responsible(n, t))
			continue;
		k = ec_peerset_neighbourhood(&n->ring, t, EC_NEIGHBOURS, nb);
		for (size_t j = 0; j < k; j++)
			for (unsigned r = 0; r < e->tx.n_entries; r++)
				if (r != i && node_is_responsible(n, &e->tx.entries[r].token) &&
				    ec_peerset_is_eligible(&n->ring, &nb[j],
							   &e->tx.entries[r].token))
					return 1;
	}
	return 0;
}

void node_decided_flip(ec_node *n, ec_mp_entry *e, node_pend *p, int push, ec_time now)
{
	ec_vote v;
	int8_t before[EC_TX_MAX_ENTRIES];
	if (!p->voted || !p->decided || !n->cfg.vote_fanout || !p->proxy ||
	    (push && !sparse_view(n, e)))
		return;
	memset(before, 0, sizeof before);
	v = p->vote;
	v.n_flags = 0;
	for (unsigned i = 0; i < e->tx.n_entries; i++) {
		const ec_id *t = &e->tx.entries[i].token;
		int had = 0;
		for (unsigned j = 0; j < p->vote.n_flags; j++)
			if (ec_id_eq(&p->vote.flags[j].token, t)) {
				had = p->vote.flags[j].flag == EC_VOTE_YES ? 1 : -1;
				if (node_is_responsible(n, t))
					v.flags[v.n_flags++] = p->vote.flags[j];
			}
		before[i] = (int8_t)had;
		if (!node_is_responsible(n, t)) {
			v.flags[v.n_flags].token = *t;
			v.flags[v.n_flags].flag = EC_VOTE_YES;
			v.n_flags++;
		}
	}
	if (v.n_flags == 0 || (v.n_flags == p->vote.n_flags &&
			       memcmp(v.flags, p->vote.flags, sizeof v.flags) == 0))
		return;
	v.seq = p->vote.seq + 1;
	v.timestamp = now;
	if (ec_vote_sign(&v, n->cfg.key.sk) != EC_OK)
		return;
	p->vote = v;
	n->st.votes_changed++;
	(void)ec_mempool_add_vote(n->mp, &v, now);
	if (push)
		node_push_flip(n, e, p, before);
}

void node_reevaluate_conflicts(ec_node *n, ec_mp_entry *e, ec_time now)
{
	ec_id ids[EC_VOTE_MAX_CONFLICTS];
	size_t k = ec_mempool_conflicts(n->mp, e, ids, EC_VOTE_MAX_CONFLICTS);
	if (k > EC_VOTE_MAX_CONFLICTS)
		k = EC_VOTE_MAX_CONFLICTS;
	for (size_t i = 0; i < k; i++) {
		ec_mp_entry *o = ec_mempool_get(n->mp, &ids[i]);
		node_pend *q = node_pend_get(n, &ids[i]);
		if (o && q && !q->decided && node_evaluate(n, o, q, now))
			node_push(n, o, q, NODE_PUSH_CHANGE, now);
	}
}

void node_mark_dirty(ec_node *n, node_pend *p, ec_time now)
{
	node_deadline_min(n, now);
	if (p->dirty)
		return;
	if (n->n_dirty == n->cap_dirty) {
		size_t cap = n->cap_dirty ? n->cap_dirty * 2 : 64;
		ec_id *q = realloc(n->dirtyq, cap * sizeof *q);
		if (!q)
			return;
		n->dirtyq = q;
		n->cap_dirty = cap;
	}
	n->dirtyq[n->n_dirty++] = p->txid;
	p->dirty = 1;
}

static void answer_vote(ec_node *n, ec_mp_entry *e, node_pend *p,
			const ec_id *to, int repeat, ec_time now);

int node_handle_tx(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		   ec_time now)
{
	ec_tx tx;
	ec_mp_entry *e;
	node_pend *p;
	int err;
	if ((err = ec_tx_decode(&tx, msg, len)) != EC_OK || len > EC_TX_MAX_BYTES) {
		n->st.dropped_malformed++;
		return err != EC_OK ? err : EC_ERR_LIMIT;
	}
	/* spec 8.11: transactions only from peers or the local client */
	if (!ec_id_is_zero(from) && !node_peer_find(n, from)) {
		n->st.dropped_unsolicited++;
		return EC_ERR_REFUSED;
	}
	e = ec_mempool_get(n->mp, &tx.id);
	if ((e && e->has_tx) || committed_here(n, &tx.id)) {
		n->st.dropped_replayed++;
		return EC_ERR_EXISTS;
	}
	if (tx.timestamp > now + TX_FUTURE_MS) {
		n->st.dropped_invalid++;
		return EC_ERR_TIME;
	}
	if ((err = ec_tx_verify_sigs(&tx)) != EC_OK) {
		n->st.dropped_bad_sig++;
		return err;
	}
	if ((err = ec_mempool_add_tx(n->mp, &tx, from, now)) != EC_OK) {
		n->st.dropped_refused++;
		return err;
	}
	e = ec_mempool_get(n->mp, &tx.id);
	p = node_pend_add(n, &tx.id);
	if (!e || !p)
		return EC_ERR_NOMEM;
	memcpy(p->enc, msg, len);
	p->enc_len = (uint32_t)len;
	p->has_enc = 1;
	p->body_at = now;
	(void)node_evaluate(n, e, p, now);
	node_push(n, e, p, NODE_PUSH_FIRST, now); /* the tx to every target
						     * not yet voting */
	p->forwarded = 1;
	if (p->voted && p->participant) {
		p->next_push = next_push_time(n, now);
		node_deadline_min(n, p->next_push);
		if (p->next_push < n->scan_due)
			n->scan_due = p->next_push;
	}
	if (e->first_seen + n->cfg.mempool.tx_timeout_ms < n->scan_due)
		n->scan_due = e->first_seen + n->cfg.mempool.tx_timeout_ms;
	node_deadline_min(n, n->scan_due);
	node_mark_dirty(n, p, now); /* early votes may already suffice */
	if (n->cfg.vote_fanout) /* votes that came before the body */
		for (uint32_t j = 0; j < e->n_votes; j++)
			if (!ec_id_eq(ec_mp_voter(e, j), &n->self))
				answer_vote(n, e, p, ec_mp_voter(e, j), 0, now);
	node_reevaluate_conflicts(n, e, now);
	return EC_OK;
}

static size_t placeholders_of(ec_node *n, const ec_id *voter)
{
	return ec_mempool_placeholders_of(n->mp, voter);
}

static void reply_vote(ec_node *n, node_pend *p, const ec_id *to)
{
	uint64_t bit = 1ull << (to->b[0] & 63);
	uint8_t *enc;
	size_t len;
	if (!p->voted || (p->replied & bit))
		return;
	if (ec_vote_encode(&p->vote, &enc, &len) != EC_OK)
		return;
	p->replied |= bit;
	node_send(n, to, enc, len);
}

/* Bounded fan-out: answer a peer's vote with ours.  `repeat`: its vote
 * repeats one we hold (it re-pushes because it lacks ours): at most one
 * answer per peer slot per repush_ms, which also ends any ping-pong of
 * crossing answers.  A new vote is answered unless the peer is one of our
 * own targets (our pushes reach it). */
static void answer_vote(ec_node *n, ec_mp_entry *e, node_pend *p,
			const ec_id *to, int repeat, ec_time now)
{
	unsigned slot = (unsigned)(to->b[0] ^ to->b[31]) & 15u;
	uint8_t *enc;
	size_t len;
	if (!p->voted || !e->has_tx)
		return;
	/* decided here: whoever polls us gets our decided view of the
	 * other tokens too (spec 8.9), made only now that it is asked */
	node_decided_flip(n, e, p, 0, now);
	if (repeat) {
		if (p->reply_at[slot] && now < p->reply_at[slot] + n->cfg.repush_ms)
			return;
	} else if (node_pushes_vote(n, e, p) && is_target(n, e, p, to)) {
		return;
	}
	if (ec_vote_encode(&p->vote, &enc, &len) != EC_OK)
		return;
	p->reply_at[slot] = now ? now : 1;
	node_send(n, to, enc, len);
}

void node_handle_vote(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		      ec_time now)
{
	ec_vote v;
	const node_peer *peer;
	ec_mp_entry *e;
	node_pend *p;
	int err;
	if (ec_vote_decode(&v, msg, len) != EC_OK) {
		n->st.dropped_malformed++;
		return;
	}
	/* spec 8.8: no vote forwarding, a vote is its direct sender's */
	if (!ec_id_eq(&v.voter, from) || !(peer = node_peer_find(n, from))) {
		n->st.dropped_unsolicited++;
		return;
	}
	if (memcmp(v.pk, peer->pk, EC_PUBKEY_BYTES) != 0 &&
	    !node_peer_rotated(n, from, v.pk)) {
		n->st.dropped_bad_sig++;
		return;
	}
	e = ec_mempool_get(n->mp, &v.txid);
	/* a re-push or replay (seq not newer than the one held) changes
	 * nothing: drop it before paying for the signature check */
	if (e) {
		for (uint32_t i = 0; i < e->n_votes; i++) {
			if (!ec_id_eq(ec_mp_voter(e, i), from))
				continue;
			if (ec_mp_vote_seq(e, i) >= v.seq) {
				n->st.dropped_replayed++;
				p = node_pend_get(n, &v.txid);
				if (p && n->cfg.vote_fanout)
					answer_vote(n, e, p, from, 1, now);
				else if (p && p->decided)
					reply_vote(n, p, from); /* it lacks ours */
				return;
			}
			break;
		}
	}
	if (ec_vote_verify(&v) != EC_OK) {
		n->st.dropped_bad_sig++;
		return;
	}
	if (!e && committed_here(n, &v.txid)) {
		n->st.dropped_replayed++; /* committed and expired here */
		return;
	}
	if (!e) {
		/* A vote for a tx we have not seen opens a placeholder: only
		 * when we are one of its targets (responsible for a flagged
		 * token or a witness of the txid), and at most
		 * NODE_MAX_PLACEHOLDERS per voter, so no peer can fill the
		 * mempool with votes for transactions that do not exist. */
		int target = node_is_responsible(n, &v.txid);
		for (unsigned i = 0; !target && i < v.n_flags; i++)
			target = node_is_responsible(n, &v.flags[i].token);
		/* bounded fan-out: votes come without the tx, and a peer
		 * whose peer set knows nobody nearer asks us as a proxy
		 * (spec 8.9): any known peer may open a placeholder (still
		 * at most NODE_MAX_PLACEHOLDERS per voter) */
		if (!target && !n->cfg.vote_fanout) {
			n->st.dropped_unsolicited++;
			return;
		}
		if (placeholders_of(n, from) >= NODE_MAX_PLACEHOLDERS) {
			n->st.dropped_refused++;
			return;
		}
	}
	err = ec_mempool_add_vote(n->mp, &v, now);
	if (err == EC_ERR_EXISTS) { /* raced: an equal seq with another sig */
		n->st.dropped_replayed++;
		return;
	}
	if (err != EC_OK) {
		n->st.dropped_refused++;
		return;
	}
	p = node_pend_add(n, &v.txid);
	n->st.votes_accepted++;
	e = ec_mempool_get(n->mp, &v.txid);
	if (!e || !p)
		return;
	if (!e->has_tx) {
		node_request_tx(n, &v.txid, from, now);
		if (e->first_seen + n->cfg.mempool.tx_timeout_ms < n->scan_due) {
			n->scan_due = e->first_seen + n->cfg.mempool.tx_timeout_ms;
			node_deadline_min(n, n->scan_due);
		}
		return;
	}
	if (n->cfg.vote_fanout)
		answer_vote(n, e, p, from, 0, now);
	else if (p->decided)
		reply_vote(n, p, from);
	if (!p->decided)
		node_mark_dirty(n, p, now);
}

/* ---- missing transactions --------------------------------------------- */

static node_txreq *txreq_find_txid(ec_node *n, const ec_id *txid)
{
	for (size_t i = 0; i < n->n_txreq; i++)
		if (ec_id_eq(&n->txreq[i].txid, txid))
			return &n->txreq[i];
	return NULL;
}

static node_txreq *txreq_find_nonce(ec_node *n, const uint8_t *nonce)
{
	for (size_t i = 0; i < n->n_txreq; i++)
		if (memcmp(n->txreq[i].nonce, nonce, EC_NONCE_BYTES) == 0)
			return &n->txreq[i];
	return NULL;
}

static void txreq_remove(ec_node *n, node_txreq *r)
{
	size_t i = (size_t)(r - n->txreq);
	memmove(&n->txreq[i], &n->txreq[i + 1], (n->n_txreq - i - 1) * sizeof *r);
	n->n_txreq--;
}

static void txreq_send(ec_node *n, node_txreq *r, ec_time now)
{
	ec_tx_req q;
	uint8_t *enc;
	size_t len;
	n->cfg.rng(n->cfg.rng_ctx, r->nonce, EC_NONCE_BYTES);
	memcpy(q.nonce, r->nonce, EC_NONCE_BYTES);
	q.txid = r->txid;
	r->deadline = now + n->cfg.tx_req_timeout_ms;
	r->tries++;
	node_deadline_min(n, r->deadline);
	if (ec_tx_req_encode(&q, &enc, &len) != EC_OK)
		return;
	n->st.tx_requests++;
	node_send(n, &r->peer, enc, len);
}

void node_request_tx(ec_node *n, const ec_id *txid, const ec_id *peer, ec_time now)
{
	node_txreq *r;
	if (ec_id_is_zero(peer) || txreq_find_txid(n, txid) ||
	    n->n_txreq == NODE_MAX_TXREQ)
		return;
	r = &n->txreq[n->n_txreq++];
	memset(r, 0, sizeof *r);
	r->txid = *txid;
	r->peer = *peer;
	txreq_send(n, r, now);
}

void node_txreq_tick(ec_node *n, ec_time now)
{
	for (size_t i = 0; i < n->n_txreq;) {
		node_txreq *r = &n->txreq[i];
		ec_mp_entry *e = ec_mempool_get(n->mp, &r->txid);
		if (tx_known(n, &r->txid)) {
			txreq_remove(n, r);
			continue;
		}
		if (now >= r->deadline) {
			node_swap_response(n, &r->peer, 0, 0, now); /* timed out */
			if (r->tries >= n->cfg.tx_req_tries) {
				txreq_remove(n, r); /* spec 8.10: give up */
				continue;
			}
			/* next try: another voter of the tx when there is one */
			if (e && e->n_votes) {
				const ec_id *c = ec_mp_voter(e, r->tries % e->n_votes);
				if (!ec_id_eq(c, &n->self))
					r->peer = *c;
			}
			txreq_send(n, r, now);
		}
		node_deadline_min(n, r->deadline);
		i++;
	}
}

/* The cheap half of admitting an answer to one of our tx requests: the
 * nonce names an outstanding request, made to `from`, the responder is
 * `from` and signs with the key we hold for it.  NULL (and counted) if
 * not; the caller then checks the signature. */
static node_txreq *answer_admit(ec_node *n, const ec_id *from, const uint8_t *nonce,
				const ec_id *responder, const uint8_t *pk)
{
	node_txreq *q = txreq_find_nonce(n, nonce);
	const node_peer *peer;
	if (!q || !ec_id_eq(&q->peer, from) || !ec_id_eq(responder, from) ||
	    !(peer = node_peer_find(n, from))) {
		n->st.dropped_unsolicited++;
		return NULL;
	}
	if (memcmp(pk, peer->pk, EC_PUBKEY_BYTES) != 0 &&
	    !node_peer_rotated(n, from, pk)) {
		n->st.dropped_bad_sig++;
		return NULL;
	}
	return q;
}

void node_handle_tx_resp(ec_node *n, const ec_id *from, const uint8_t *msg,
			 size_t len, ec_time now)
{
	ec_tx_resp r;
	node_txreq *q;
	uint8_t *enc;
	size_t elen;
	if (ec_tx_resp_decode(&r, msg, len) != EC_OK) {
		n->st.dropped_malformed++;
		return;
	}
	if (!(q = answer_admit(n, from, r.nonce, &r.responder, r.pk)))
		return;
	if (ec_tx_resp_verify(&r) != EC_OK) {
		n->st.dropped_bad_sig++;
		return;
	}
	if (!ec_id_eq(&r.tx.id, &q->txid)) {
		n->st.dropped_invalid++;
		return;
	}
	node_swap_response(n, from, 1, now + n->cfg.tx_req_timeout_ms - q->deadline, now);
	txreq_remove(n, q);
	if (ec_tx_encode(&r.tx, &enc, &elen) != EC_OK)
		return;
	(void)node_handle_tx(n, from, enc, elen, now);
	free(enc);
}

void node_handle_refusal(ec_node *n, const ec_id *from, const uint8_t *msg,
			 size_t len, ec_time now)
{
	ec_refusal r;
	node_txreq *q;
	if (ec_refusal_decode(&r, msg, len) != EC_OK) {
		n->st.dropped_malformed++;
		return;
	}
	if (r.request_type != EC_MSG_TX_REQ) {
		n->st.dropped_unsolicited++;
		return;
	}
	if (!(q = answer_admit(n, from, r.nonce, &r.responder, r.pk)))
		return;
	if (ec_refusal_verify(&r) != EC_OK) {
		n->st.dropped_bad_sig++;
		return;
	}
	q->deadline = now; /* retry elsewhere at the next tick */
	node_deadline_min(n, now);
}

/* ---- verdicts for clients (PROTOCOL 16.1 "Transaction states") -------- */

/* Why tx cannot commit here, judged by our state of its tokens (decided
 * or committed, as entry_ok and the immutability rule of try_decide see
 * it): EC_MP_R_NONE when it still may, or when we hold no state to judge
 * by (a token we lack, a prev we may lack history for). */
static uint8_t tx_verdict(ec_node *n, const ec_tx *tx)
{
	for (unsigned i = 0; i < tx->n_entries; i++) {
		const ec_tx_entry *en = &tx->entries[i];
		const ec_tx_sig *sig = NULL;
		const ec_tx_entry *hen = NULL;
		ec_id head, kh;
		ec_tx htx;
		int body;
		if (!node_token_head(n, &en->token, &head, &htx, &body))
			continue;
		if (ec_id_eq(&head, &tx->id))
			return EC_MP_R_NONE; /* it is the token's head: accepted */
		for (unsigned k = 0; body && k < htx.n_entries; k++)
			if (ec_id_eq(&htx.entries[k].token, &en->token))
				hen = &htx.entries[k];
		if (!ec_id_eq(&head, &en->prev)) {
			/* prev was spent: a creation of a token that exists,
			 * a twin on (token, prev) decided, or prev is in our
			 * history (the token moved on); else we may lack the
			 * history that leads to prev */
			if (ec_id_is_zero(&en->prev) || (hen && ec_id_eq(&hen->prev, &en->prev)) ||
			    committed_here(n, &en->prev))
				return EC_MP_R_CONFLICT;
			continue;
		}
		if (!hen)
			continue; /* head known only by id */
		for (unsigned k = 0; k < tx->n_sigs; k++)
			if (tx->sigs[k].entry == i)
				sig = &tx->sigs[k];
		if (!sig)
			return EC_MP_R_NOT_OWNER;
		ec_keyhash(&kh, sig->pk);
		if (!ec_id_eq(&kh, &hen->next_key))
			return EC_MP_R_NOT_OWNER; /* also a destroyed token */
		if (tx->timestamp <= htx.timestamp)
			return EC_MP_R_TIMESTAMP;
	}
	return EC_MP_R_NONE;
}

/* 1 if e is decided or committed here (then no verdict applies). */
static int accepted_here(ec_node *n, const ec_mp_entry *e)
{
	const node_pend *p = node_pend_get(n, &e->txid);
	return e->state == EC_MP_COMMITTED || (p && p->decided) || committed_here(n, &e->txid);
}

void node_note_expiring(ec_node *n, ec_time now)
{
	ec_mp_entry *e;
	for (size_t i = 0; (e = ec_mempool_at(n->mp, i)); i++) {
		uint8_t r;
		/* the local client's transactions (sender zero) that
		 * ec_mempool_expire drops now */
		if (!e->has_tx || !ec_id_is_zero(&e->sender) || now < e->first_seen ||
		    now - e->first_seen < n->cfg.mempool.tx_timeout_ms || accepted_here(n, e))
			continue;
		r = tx_verdict(n, &e->tx);
		ec_mempool_note_rejected(n->mp, &e->txid, r ? r : EC_MP_R_EXPIRED, now);
	}
}

int ec_node_submit_tx_checked(ec_node *n, const uint8_t *msg, size_t len, ec_time now,
			      uint8_t *reason)
{
	ec_tx tx;
	ec_mp_entry *e;
	uint8_t r;
	int err;
	if (!n || !reason || (!msg && len))
		return EC_ERR_ARG;
	*reason = EC_MP_R_NONE;
	if (n->fatal)
		return n->fatal;
	if (len > EC_TX_MAX_BYTES || ec_tx_decode(&tx, msg, len) != EC_OK)
		return ec_node_submit_tx(n, msg, len, now); /* its error, counted */
	e = ec_mempool_get(n->mp, &tx.id);
	if (!(e && e->has_tx) && !committed_here(n, &tx.id) && /* else: EC_ERR_EXISTS */
	    (r = tx_verdict(n, &tx)) != EC_MP_R_NONE) {
		/* a forgery is a bad signature, not a verdict on it */
		if ((err = ec_tx_verify_sigs(&tx)) != EC_OK)
			return ec_node_submit_tx(n, msg, len, now);
		ec_mempool_note_rejected(n->mp, &tx.id, r, now);
		*reason = r;
		return EC_ERR_REFUSED;
	}
	err = ec_node_submit_tx(n, msg, len, now);
	if (err == EC_ERR_REFUSED) {
		ec_mempool_note_rejected(n->mp, &tx.id, EC_MP_R_FULL, now);
		*reason = EC_MP_R_FULL;
	}
	return err;
}

int ec_node_tx_rejection(ec_node *n, const ec_id *txid, uint8_t *reason, ec_time *at)
{
	ec_mp_entry *e;
	uint8_t r;
	if (!n || !txid)
		return EC_ERR_ARG;
	e = ec_mempool_get(n->mp, txid);
	if (e && e->has_tx) {
		/* in the pool: its fate is open unless our state rules it out */
		if (accepted_here(n, e) || (r = tx_verdict(n, &e->tx)) == EC_MP_R_NONE)
			return EC_ERR_NOTFOUND;
		if (reason)
			*reason = r;
		if (at)
			*at = n->last_now;
		return EC_OK;
	}
	if (committed_here(n, txid))
		return EC_ERR_NOTFOUND;
	return ec_mempool_rejected(n->mp, txid, reason, at);
}
