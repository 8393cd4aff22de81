/* ec_node_commit.c - decisions and blocks (spec 7.5, 8.2, 8.5, 8.6; design
 * "Block Structure Definition"; docs/PROTOCOL.md "Node behaviour").
 *
 * A pending transaction with its body is DECIDED on a tick when
 *   - its tally over peers + self is accepted (every token's balance > +2
 *     and >= witness_min voters from the txid's neighbourhood),
 *   - no higher-id conflicting transaction is pending (spec 8.5), and
 *   - every entry extends our current state of its token: where we hold a
 *     head (decided or committed) prev must equal it (immutability, 7.5:
 *     a token committed to one successor is never given another; this
 *     also refuses a creation of an existing token).  Where we hold no
 *     state the majority's votes are taken;
 *   - the member quorum: for every token of the tx we are a neighbour of,
 *     +1 votes from more than half of its +-4 neighbourhood in our ring,
 *     from all of it when the tx is contested (a conflicting twin known:
 *     PROTOCOL 14b "Conflicts under bounded fan-out").
 * A decided transaction goes into the open block; later evaluations see
 * its tokens' new heads.  The open block is sealed when it holds 32
 * transactions or block_interval_ms after its first decision: the chain
 * module seals it (height, prev, jumps, Merkle root, signature) and ONE
 * store batch writes block, head, tx bodies, tx index, Local token states
 * (only for the tokens we are responsible for at the seal: our ±4
 * neighbourhood in the ring) and the consensus proof.  Only then is a transaction "committed".  A
 * crash before the seal loses the open block: those transactions were
 * never committed here (nothing was written) and their mempool entries are
 * gone; the network may still commit them.  A batch that fails with
 * EC_ERR_FULL pauses writing: the signed block is kept and the same bytes
 * are written again on a backoff, nothing else is decided or sealed
 * meanwhile (node.h "Store full"). */
#include <stdlib.h>

#include "ec_node_int.h"

#define POST_DECIDE_PUSHES 0 /* decided nodes answer re-pushes instead */

int node_open_head(const ec_node *n, const ec_id *token)
{
	for (size_t k = n->open.n; k-- > 0;)
		for (unsigned i = 0; i < n->open.txs[k].n_entries; i++)
			if (ec_id_eq(&n->open.txs[k].entries[i].token, token))
				return (int)k;
	return -1;
}

int node_open_has_tx(const ec_node *n, const ec_id *txid)
{
	for (size_t k = 0; k < n->open.n; k++)
		if (ec_id_eq(&n->open.txs[k].id, txid))
			return 1;
	return 0;
}

void node_open_free(node_open *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->enc[i]);
		free(o->votes[i]);
	}
	free(o->block_enc);
	free(o->proof_enc);
	memset(o, 0, sizeof *o);
}

static int cmp_vote_voter(const void *a, const void *b)
{
	return ec_id_cmp(&((const ec_vote *)a)->voter, &((const ec_vote *)b)->voter);
}

int node_load_chain(ec_node *n)
{
	ec_store_txn *t;
	ec_id head;
	uint64_t height;
	int err;
	if ((err = ec_store_txn_begin(n->cfg.store, 0, &t)) != EC_OK)
		return err;
	err = ec_store_get_head(t, &n->self, &head, &height);
	if (err == EC_ERR_NOTFOUND) {
		ec_store_txn_abort(t);
		return EC_OK;
	}
	for (uint64_t h = 0; err == EC_OK && h <= height; h++) {
		ec_id id;
		ec_block b;
		if ((err = ec_store_get_block_at(t, &n->self, h, &id)) != EC_OK ||
		    (err = ec_store_get_block(t, &id, &b)) != EC_OK)
			break;
		if (ec_chain_append(n->chain, &b, NULL) != EC_OK)
			err = EC_ERR_CORRUPT;
	}
	ec_store_txn_abort(t);
	return err == EC_ERR_NOTFOUND ? EC_ERR_CORRUPT : err;
}

/* One store batch: the sealed block of the open transactions (block, head,
 * bodies, tx index, Local states) and its proof.  The store's error, or
 * EC_OK once committed. */
static int write_sealed(ec_node *n)
{
	node_open *o = &n->open;
	const uint8_t *encs[EC_BLOCK_MAX_TXS];
	ec_store_txn *t;
	int err;
	for (size_t i = 0; i < o->n; i++)
		encs[i] = o->enc[i];
	if ((err = ec_store_txn_begin(n->cfg.store, 1, &t)) != EC_OK)
		return err;
	if ((err = ec_store_put_own_block_mask(t, &o->block, o->block_enc, o->block_len,
					       o->txs, encs, o->enc_len, o->local)) != EC_OK ||
	    (err = ec_store_put_proof(t, &o->block.id, o->proof_enc, o->proof_len)) != EC_OK) {
		ec_store_txn_abort(t);
		return err;
	}
	return ec_store_txn_commit(t);
}

/* The sealed block is stored: it counts from now on. */
static void sealed_stored(ec_node *n)
{
	node_open *o = &n->open;
	ec_serve_note_block(n->srv, &o->block, o->txs);
	node_rotate_check(n, o->txs, o->n);
	n->st.blocks_sealed++;
	n->st.txs_committed += o->n;
	node_open_free(o);
}

/* The outcome of writing the sealed block at `now`: stored, paused
 * (EC_ERR_FULL: retried on a doubling backoff) or fatal (any other error:
 * the chain module holds a block the store does not, see node.h). */
static int sealed_outcome(ec_node *n, int err, ec_time now)
{
	node_open *o = &n->open;
	if (err == EC_OK) {
		sealed_stored(n);
		return EC_OK;
	}
	if (err != EC_ERR_FULL) {
		n->fatal = err;
		return err;
	}
	if (!o->unsaved) {
		o->unsaved = 1;
		o->unsaved_since = now;
		o->delay_ms = EC_NODE_STORE_RETRY_MIN_MS;
		n->st.store_full_pauses++;
	} else {
		o->retries++;
		n->st.store_retries_failed++;
		o->delay_ms = o->delay_ms >= EC_NODE_STORE_RETRY_MAX_MS / 2
				      ? EC_NODE_STORE_RETRY_MAX_MS
				      : o->delay_ms * 2;
	}
	o->next_retry = now + o->delay_ms;
	node_deadline_min(n, o->next_retry);
	return EC_ERR_FULL;
}

int node_seal(ec_node *n, ec_time now)
{
	node_open *o = &n->open;
	ec_id txids[EC_BLOCK_MAX_TXS], ph;
	ec_proof proof;
	const ec_block *head = ec_chain_head(n->chain);
	ec_time ts = now;
	int err;
	if (o->n == 0)
		return EC_OK;
	if (o->unsaved)
		return EC_ERR_FULL; /* the sealed block waits for space */
	if (head && head->timestamp > ts)
		ts = head->timestamp;
	memset(&proof, 0, sizeof proof);
	proof.n_txs = (uint8_t)o->n;
	for (size_t i = 0; i < o->n; i++) {
		/* Local state only for the tokens we are responsible for now
		 * (our ring); witness/relay entries would go stale here */
		o->local[i] = 0;
		for (unsigned e = 0; e < o->txs[i].n_entries; e++)
			if (node_is_responsible(n, &o->txs[i].entries[e].token))
				o->local[i] |= (uint8_t)(1u << e);
		txids[i] = o->txs[i].id;
		proof.txs[i].txid = o->txs[i].id;
		proof.txs[i].n_votes = o->n_votes[i];
		proof.txs[i].votes = o->votes[i];
	}
	if ((err = ec_proof_encode(&proof, &o->proof_enc, &o->proof_len)) != EC_OK)
		goto fatal;
	ec_hash(&ph, EC_TAG_PROOF, o->proof_enc, o->proof_len);
	if ((err = ec_chain_seal(n->chain, &n->self, ts, txids, o->n, &ph,
				 n->cfg.key.sk, &o->block)) != EC_OK)
		goto fatal;
	if ((err = ec_block_encode(&o->block, &o->block_enc, &o->block_len)) != EC_OK)
		goto fatal;
	return sealed_outcome(n, write_sealed(n), now);
fatal:
	/* memory, or the chain module already holds the block while the
	 * store does not: the node stops (see node.h) */
	n->fatal = err;
	return err;
}

/* A paused write is due again (node.h "Store full"). */
static void retry_sealed(ec_node *n, ec_time now)
{
	if (sealed_outcome(n, write_sealed(n), now) != EC_OK)
		return;
	/* resumed: decisions skipped while paused are taken now */
	for (size_t i = 0; i < n->n_pend; i++)
		if (!n->pend[i]->decided)
			node_mark_dirty(n, n->pend[i], now);
}

void ec_node_store_state_get(const ec_node *n, ec_node_store_state *out)
{
	memset(out, 0, sizeof *out);
	if (!n || !n->open.unsaved)
		return;
	out->paused = 1;
	out->block = n->open.block.id;
	out->height = n->open.block.height;
	out->since = n->open.unsaved_since;
	out->next_retry = n->open.next_retry;
	out->retries = n->open.retries;
}

/* Re-evaluates undecided entries that extend txid (their prev is now our
 * head) so that successors which arrived early get their YES. */
static void reevaluate_successors(ec_node *n, const ec_id *txid, ec_time now)
{
	for (size_t i = 0; i < n->n_pend; i++) {
		node_pend *q = n->pend[i];
		ec_mp_entry *o;
		int hit = 0;
		if (q->decided || !q->voted)
			continue;
		o = ec_mempool_get(n->mp, &q->txid);
		if (!o || !o->has_tx)
			continue;
		for (unsigned j = 0; j < o->tx.n_entries; j++)
			hit |= ec_id_eq(&o->tx.entries[j].prev, txid);
		if (hit && node_evaluate(n, o, q, now))
			node_push(n, o, q, NODE_PUSH_CHANGE, now);
	}
}

/* Spec 8.5 "known" conflicts include the evidence in votes: a voter lists
 * a higher conflicting txid whose vote reached us before its body did (a
 * placeholder in the pool).  Wait for that body (or its timeout) before
 * deciding.  Only votes of voters eligible for one of e's tokens count as
 * evidence, and conflicts we hold no trace of are not waited for: a lying
 * outsider could otherwise stall any transaction. */
static int evidence_of_higher(ec_node *n, const ec_mp_entry *e)
{
	/* the tokens' neighbourhoods once, not once per vote */
	ec_id nb[EC_TX_MAX_ENTRIES][2 * EC_NEIGHBOURS];
	size_t nm[EC_TX_MAX_ENTRIES];
	if (!e->votes)
		return 0; /* compacted: decided already */
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		nm[i] = ec_peerset_neighbourhood(&n->ring, &e->tx.entries[i].token,
						 EC_NEIGHBOURS, nb[i]);
	for (uint32_t j = 0; j < e->n_votes; j++) {
		const ec_vote *v = &e->votes[j];
		int eligible = 0;
		for (unsigned i = 0; !eligible && i < e->tx.n_entries; i++)
			for (size_t k = 0; !eligible && k < nm[i]; k++)
				eligible = ec_id_eq(&nb[i][k], &v->voter);
		for (unsigned k = 0; eligible && k < v->n_conflicts; k++) {
			ec_mp_entry *o;
			if (ec_id_cmp(&v->conflicts[k], &e->txid) <= 0)
				continue;
			o = ec_mempool_get(n->mp, &v->conflicts[k]);
			if (o && !o->has_tx)
				return 1;
		}
	}
	return 0;
}

/* 1 if a transaction sharing a (token, prev) with e was decided here and
 * is still in the mempool.  For tokens we keep no state of (witness or
 * proxy entries: no Local state is written, so node_token_head knows
 * nothing) this is what stops a second successor entering our chain; the
 * pool keeps decided entries for tx_timeout_ms. */
static int decided_conflict(ec_node *n, const ec_mp_entry *e)
{
	ec_id ids[EC_VOTE_MAX_CONFLICTS];
	size_t c = ec_mempool_conflicts(n->mp, e, ids, EC_VOTE_MAX_CONFLICTS);
	for (size_t i = 0; i < c && i < EC_VOTE_MAX_CONFLICTS; i++) {
		node_pend *q = node_pend_get(n, &ids[i]);
		if (q && q->decided)
			return 1;
	}
	return 0;
}

/* +1 votes on e for token t from the members of t's +-4 neighbourhood in
 * our ring (ourselves included); *k = how many members there are. */
int node_member_yes(ec_node *n, const ec_mp_entry *e, const ec_id *t, size_t *k)
{
	ec_id nb[2 * EC_NEIGHBOURS];
	size_t yes = 0;
	*k = ec_peerset_neighbourhood(&n->ring, t, EC_NEIGHBOURS, nb);
	for (size_t j = 0; j < *k; j++)
		for (uint32_t v = 0; v < e->n_votes; v++)
			if (ec_id_eq(ec_mp_voter(e, v), &nb[j])) {
				yes += ec_mp_vote_flag(e, v, t) > 0;
				break;
			}
	return (int)yes;
}

/* The member quorum (PROTOCOL 14b "Conflicts under bounded fan-out"): for
 * every token of e we are a neighbour of, +1 on e from more than half of
 * its members in our ring, or from all of them when e is contested. */
int node_member_quorum(ec_node *n, const ec_mp_entry *e, int contested)
{
	for (unsigned i = 0; i < e->tx.n_entries; i++) {
		const ec_id *t = &e->tx.entries[i].token;
		size_t k, yes;
		if (!node_is_responsible(n, t))
			continue;
		yes = (size_t)node_member_yes(n, e, t, &k);
		if (contested ? yes < k : 2 * yes <= k)
			return 0;
	}
	return 1;
}

static void try_decide(ec_node *n, ec_mp_entry *e, node_pend *p, ec_time now)
{
	node_open *o = &n->open;
	ec_tally t;
	ec_vote *votes;
	size_t nv, k;
	ec_id ids[EC_VOTE_MAX_CONFLICTS];
	if (p->decided || !e->has_tx || !p->has_enc || e->state == EC_MP_REJECTED)
		return;
	if (o->unsaved)
		return; /* writes paused: nothing decided (node.h "Store full") */
	if (ec_mempool_tally(n->mp, e, &n->ring, &t) != EC_OK || !t.accepted)
		return;
	if (ec_mempool_has_higher_conflict(n->mp, e) || evidence_of_higher(n, e))
		return;
	for (unsigned i = 0; i < e->tx.n_entries; i++) {
		ec_id head;
		if (node_token_head(n, &e->tx.entries[i].token, &head, NULL, NULL) &&
		    !ec_id_eq(&head, &e->tx.entries[i].prev))
			return; /* immutability (7.5) */
	}
	if (decided_conflict(n, e))
		return; /* 7.5 also where we keep no token state (witness) */
	if (!node_member_quorum(n, e, node_contested(n, e)))
		return; /* a twin known: every member's +1; else a majority */
	if (o->n == EC_BLOCK_MAX_TXS && node_seal(n, now) != EC_OK)
		return;
	votes = malloc(EC_PROOF_MAX_VOTES * sizeof *votes);
	if (!votes)
		return;
	nv = ec_mempool_counted_votes(n->mp, e, &n->ring, votes, EC_PROOF_MAX_VOTES);
	qsort(votes, nv, sizeof *votes, cmp_vote_voter); /* proof codec order */
	k = o->n;
	o->enc[k] = malloc(p->enc_len);
	if (!o->enc[k]) {
		free(votes);
		return;
	}
	memcpy(o->enc[k], p->enc, p->enc_len);
	o->enc_len[k] = p->enc_len;
	o->txs[k] = e->tx;
	o->votes[k] = votes;
	o->n_votes[k] = (uint8_t)nv;
	if (o->n == 0)
		o->first_decided = now;
	o->n++;
	/* counted for the record: a higher conflict that is no longer
	 * pending (timed out, or decided elsewhere) */
	{
		size_t c = ec_mempool_conflicts(n->mp, e, ids, EC_VOTE_MAX_CONFLICTS);
		for (size_t i = 0; i < c && i < EC_VOTE_MAX_CONFLICTS; i++)
			if (ec_id_cmp(&ids[i], &e->txid) > 0) {
				n->st.lower_conflict_decided++;
				break;
			}
	}
	p->decided = 1;
	p->decided_at = now;
	/* bounded fan-out: one more re-push round (repeat_targets: by the
	 * node nearest to an address, to members whose vote it lacks) */
	p->extra_push = n->cfg.vote_fanout ? 1 : POST_DECIDE_PUSHES;
	ec_mempool_set_state(n->mp, e, EC_MP_COMMITTED);
	n->st.txs_decided++;
	node_reevaluate_conflicts(n, e, now);
	reevaluate_successors(n, &e->txid, now);
	node_decided_flip(n, e, p, 1, now);
	/* the proof took its votes: keep only what answers late voters
	 * (voter, seq, flags) for the rest of tx_timeout_ms */
	(void)ec_mempool_compact(n->mp, e);
	if (o->n == EC_BLOCK_MAX_TXS)
		(void)node_seal(n, now);
}

/* Upstream's pause rule: once a token's balance is below -threshold the
 * tx cannot reach acceptance here; stop re-pushing (answers to late voters
 * and the timeout still apply). */
static int lost_here(ec_node *n, const ec_mp_entry *e)
{
	ec_tally t;
	if (ec_mempool_tally(n->mp, e, &n->ring, &t) != EC_OK)
		return 0;
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		if (t.balance[i] < -n->cfg.mempool.vote_threshold)
			return 1;
	return 0;
}

/* Full scan: re-pushes that are due, and the next scan time. */
static void scan(ec_node *n, ec_time now)
{
	ec_time due = UINT64_MAX;
	for (size_t i = 0; i < n->n_pend && !n->fatal; i++) {
		node_pend *p = n->pend[i];
		ec_mp_entry *e = ec_mempool_get(n->mp, &p->txid);
		if (!e)
			continue;
		if (e->first_seen + n->cfg.mempool.tx_timeout_ms < due)
			due = e->first_seen + n->cfg.mempool.tx_timeout_ms;
		if (!e->has_tx || !p->voted || !p->participant)
			continue; /* relays and proxies do not re-push */
		if (p->decided && p->extra_push == 0)
			continue;
		/* bounded fan-out: at most NODE_MAX_REPEATS re-push rounds
		 * (100..800 ms apart, ~3 s in all at the harness's 100 ms);
		 * then only answers and the timeout */
		if (!p->decided && n->cfg.vote_fanout && p->repeats >= NODE_MAX_REPEATS)
			continue;
		if (now >= p->next_push) {
			int changed = !p->decided && node_evaluate(n, e, p, now);
			if (changed)
				node_reevaluate_conflicts(n, e, now);
			if (p->decided || !lost_here(n, e))
				node_push(n, e, p, changed ? NODE_PUSH_CHANGE
							   : NODE_PUSH_REPEAT, now);
			if (p->decided)
				p->extra_push--;
			/* bounded fan-out: the period doubles each round
			 * (at most 8x), as upstream's polling pauses */
			p->next_push = now + ((ec_time)n->cfg.repush_ms
					      << (n->cfg.vote_fanout ?
						  (p->repeats < 3 ? p->repeats : 3) : 0));
			{
				uint32_t r = 0;
				n->cfg.rng(n->cfg.rng_ctx, &r, sizeof r);
				p->next_push += r % (n->cfg.repush_ms / 2 + 1);
			}
			if (!p->decided)
				try_decide(n, e, p, now);
		}
		if ((!p->decided || p->extra_push) && p->next_push < due)
			due = p->next_push;
	}
	n->scan_due = due;
}

void node_commit_tick(ec_node *n, ec_time now)
{
	if (n->open.unsaved && now >= n->open.next_retry)
		retry_sealed(n, now);
	if (n->open.unsaved && !n->fatal)
		node_deadline_min(n, n->open.next_retry);
	/* decision checks for entries whose votes changed */
	while (n->n_dirty && !n->fatal) {
		ec_id txid = n->dirtyq[--n->n_dirty];
		node_pend *p = node_pend_get(n, &txid);
		ec_mp_entry *e;
		if (!p)
			continue;
		p->dirty = 0;
		e = ec_mempool_get(n->mp, &txid);
		if (!e)
			continue;
		/* spec 8.9: a proxy's flags follow its tallies; a flip to
		 * +1 goes to the peers that may count us and still need
		 * it, the rest poll us (repeat_targets).  A participant's
		 * proxy flags follow only once it has re-pushed (it did not
		 * decide at once, as everyone does when peer sets are
		 * complete): no flips nobody needs */
		if (p->proxy && (!p->participant || p->repeats) && !p->decided &&
		    n->cfg.vote_fanout) {
			ec_node_tx_info before;
			(void)ec_node_tx_info_get(n, &txid, &before);
			if (node_evaluate(n, e, p, now))
				node_push_flip(n, e, p, before.our_flags);
		}
		try_decide(n, e, p, now);
	}
	if (now >= n->scan_due)
		scan(n, now);
	node_deadline_min(n, n->scan_due);
	if (n->open.n && !n->open.unsaved && !n->fatal) {
		ec_time due = n->open.first_decided + n->cfg.block_interval_ms;
		if (now >= due)
			(void)node_seal(n, now);
		else
			node_deadline_min(n, due);
	}
}
