/* ec_sync_state.c - what sync learns becomes state (docs/PROTOCOL.md 14c
 * "Bodies", "State", "Polling"; STORAGE.md 3.1):
 *   - the wanted-transaction table: every txid named by a verified block
 *     of a followed chain, once, with the chains carrying it (>= 2 =
 *     Confirmed) and whether its verified body is held;
 *   - token state from it, when every chain is complete: per in-scope
 *     token the tip of its chain of transactions, Confirmed through
 *     ec_store_set_chain_state or Pending through the two-slot rule; Local
 *     never touched;
 *   - polling answers through the two-slot rule;
 *   - peer penalties in the store's peer records. */
#include <stdlib.h>

#include "ec_sync_int.h"

/* Lowers the peer's standing: the store's peer record (created if
 * missing) loses one reputation point and counts a failure. */
void sync_penalise(ec_node *n, node_sync *s, const ec_id *peer, ec_time now)
{
	ec_store_txn *t;
	ec_peer_rec p;
	const node_peer *np;
	s->st.penalties++;
	if (ec_store_txn_begin(n->cfg.store, 1, &t) != EC_OK)
		return;
	if (ec_store_get_peer(t, peer, &p) != EC_OK) {
		memset(&p, 0, sizeof p);
		p.peer = *peer;
		if ((np = node_peer_find(n, peer)))
			memcpy(p.sign_pk, np->pk, EC_PUBKEY_BYTES);
	}
	p.reputation -= 1.0;
	p.n_failures++;
	p.last_seen = now;
	if (ec_store_put_peer(t, &p) != EC_OK) {
		ec_store_txn_abort(t);
		return;
	}
	(void)ec_store_txn_commit(t);
}

sync_tx *sync_tx_get(node_sync *s, const ec_id *txid)
{
	return ec_idindex_get(&s->txidx, txid);
}

sync_tx *sync_tx_add(node_sync *s, const ec_id *txid)
{
	sync_tx *x = sync_tx_get(s, txid);
	int emptied;
	if (x)
		return x;
	if (ec_idindex_reserve(&s->txidx, s->n_tx + 1, &emptied) != EC_OK)
		return NULL;
	if (emptied)
		for (size_t i = 0; i < s->n_tx; i++)
			ec_idindex_insert(&s->txidx, s->tx[i]);
	if (s->n_tx == s->cap_tx) {
		size_t cap = s->cap_tx ? s->cap_tx * 2 : 1024;
		sync_tx **a = realloc(s->tx, cap * sizeof *a);
		if (!a)
			return NULL;
		s->tx = a;
		s->cap_tx = cap;
	}
	if (!(x = calloc(1, sizeof *x)))
		return NULL;
	x->txid = *txid;
	s->tx[s->n_tx++] = x;
	ec_idindex_insert(&s->txidx, x);
	s->st.txs_referenced++;
	return x;
}

/* Notes the txids of a verified block of chain ci. */
void sync_tx_note_block(node_sync *s, ec_store_txn *t, int ci, const ec_block *b)
{
	for (unsigned i = 0; i < b->n_txs; i++) {
		sync_tx *x = sync_tx_add(s, &b->txids[i]);
		int have = 0;
		if (!x)
			continue;
		for (unsigned k = 0; k < x->n_src && k < SYNC_MAX_SRC; k++)
			have |= x->src[k] == ci;
		if (!have) {
			if (x->n_src < SYNC_MAX_SRC)
				x->src[x->n_src] = (uint8_t)ci;
			if (x->n_src < 255)
				x->n_src++;
			if (x->n_src == 2)
				s->st.txs_confirmed++;
		}
		if (!x->held && t) {
			const uint8_t *p;
			size_t l;
			if (ec_store_get_tx_raw(t, &x->txid, &p, &l) == EC_OK) {
				x->held = 1;
				s->st.txs_held++;
			}
		}
	}
}

typedef struct sync_cand {
	ec_id token, txid, prev;
	ec_time ts;
	uint8_t n_src;
} sync_cand;

static int cand_cmp(const void *a, const void *b)
{
	const sync_cand *x = a, *y = b;
	int c = ec_id_cmp(&x->token, &y->token);
	return c ? c : ec_id_cmp(&x->txid, &y->txid);
}

/* Writes the state of every in-scope token from the bodies held. */
void sync_apply_state(ec_node *n, node_sync *s)
{
	sync_cand *cv = NULL;
	size_t nc = 0, cap = 0;
	ec_store_txn *t;
	if (ec_store_txn_begin(n->cfg.store, 0, &t) != EC_OK)
		return;
	for (size_t i = 0; i < s->n_tx; i++) {
		ec_tx tx;
		if (!s->tx[i]->held || ec_store_get_tx(t, &s->tx[i]->txid, &tx) != EC_OK)
			continue;
		for (unsigned e = 0; e < tx.n_entries; e++) {
			if (!ec_peerset_would_be_eligible(&n->peers, &n->self,
							  &tx.entries[e].token))
				continue;
			if (nc == cap) {
				size_t nn = cap ? cap * 2 : 1024;
				sync_cand *a = realloc(cv, nn * sizeof *a);
				if (!a)
					goto out;
				cv = a;
				cap = nn;
			}
			cv[nc].token = tx.entries[e].token;
			cv[nc].txid = tx.id;
			cv[nc].prev = tx.entries[e].prev;
			cv[nc].ts = tx.timestamp;
			cv[nc].n_src = s->tx[i]->n_src;
			nc++;
		}
	}
	ec_store_txn_abort(t);
	t = NULL;
	if (nc)
		qsort(cv, nc, sizeof *cv, cand_cmp);
	if (ec_store_txn_begin(n->cfg.store, 1, &t) != EC_OK)
		goto out;
	for (size_t a = 0; a < nc;) {
		size_t b = a, best = SIZE_MAX;
		while (b < nc && ec_id_eq(&cv[b].token, &cv[a].token))
			b++;
		for (size_t i = a; i < b; i++) {
			int superseded = 0;
			for (size_t j = a; j < b && !superseded; j++)
				superseded = j != i && ec_id_eq(&cv[j].prev, &cv[i].txid);
			if (superseded)
				continue;
			if (best == SIZE_MAX || cv[i].n_src > cv[best].n_src ||
			    (cv[i].n_src == cv[best].n_src &&
			     ec_id_cmp(&cv[i].txid, &cv[best].txid) > 0))
				best = i;
		}
		if (best != SIZE_MAX) {
			int ch = EC_TOKEN_IGNORED;
			sync_cand *c = &cv[best];
			sync_tx *x = sync_tx_get(s, &c->txid);
			if (c->n_src >= 2)
				(void)ec_store_set_chain_state(t, &c->token, &c->txid,
							       &c->prev, c->ts, &ch);
			else if (x && x->n_src == 1)
				(void)ec_store_apply_sync_update(
					t, &c->token, &c->txid, &c->prev, c->ts,
					&s->ch[x->src[0]].creator, &ch);
			s->st.tokens_applied += ch != EC_TOKEN_IGNORED;
		}
		a = b;
	}
	(void)ec_store_txn_commit(t);
	t = NULL;
out:
	if (t)
		ec_store_txn_abort(t);
	free(cv);
}

void sync_learn_poll(ec_node *n, node_sync *s, const ec_mapping_resp *m)
{
	ec_store_txn *t;
	ec_token_state ts;
	int ch;
	if (ec_store_txn_begin(n->cfg.store, 1, &t) != EC_OK)
		return;
	if (!ec_id_is_zero(&m->txid) &&
	    ec_peerset_would_be_eligible(&n->peers, &n->self, &m->token) &&
	    !(ec_store_get_token(t, &m->token, &ts) == EC_OK && ts.has_current &&
	      ts.current.source == EC_TOKEN_LOCAL)) {
		ch = EC_TOKEN_IGNORED;
		(void)ec_store_apply_sync_update(t, &m->token, &m->txid, &m->prev_txid,
						 m->commit_block_ts, &m->responder, &ch);
		s->st.tokens_applied += ch != EC_TOKEN_IGNORED;
	}
	for (unsigned i = 0; i < m->n_evidence; i++) {
		const ec_evidence *e = &m->evidence[i];
		if (!ec_peerset_would_be_eligible(&n->peers, &n->self, &e->token))
			continue;
		if (ec_store_get_token(t, &e->token, &ts) == EC_OK && ts.has_current &&
		    ts.current.source == EC_TOKEN_LOCAL)
			continue;
		ch = EC_TOKEN_IGNORED;
		(void)ec_store_apply_sync_update(t, &e->token, &e->txid, &(ec_id){{0}},
						 e->commit_ts, &m->responder, &ch);
		s->st.tokens_applied += ch != EC_TOKEN_IGNORED;
	}
	if (ec_store_txn_commit(t) != EC_OK)
		return;
}
