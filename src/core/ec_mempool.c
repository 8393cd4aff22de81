/* ec_mempool.c - pending transactions, versioned votes, conflicts, tallies
 * and timeouts (see mempool.h for the rules and their spec sections).
 *
 * Entries live in an insertion-ordered array of pointers with an id index
 * (util/ec_idindex.h) by txid.  Conflict and fair-share checks scan the pool;
 * pools are small (pending transactions of one neighbourhood). */
#include <stddef.h>
#include <stdlib.h>

#include "ec/mempool.h"
#include "util/ec_idindex.h"

const ec_mempool_cfg ec_mempool_default_cfg = {
	.vote_threshold = 2,
	.witness_min = 2,
	.tx_timeout_ms = 60 * 1000,
	.max_entries = 10000,
	.per_sender_max = 1000,
};

struct ec_mempool {
	ec_mempool_cfg cfg;
	ec_mp_entry **ents; /* insertion order */
	size_t n, cap;
	ec_idindex idx; /* by txid */
};

/* Re-inserts every entry into the index (after a resize or a removal). */
static void index_refill(ec_mempool *mp)
{
	ec_idindex_clear(&mp->idx);
	for (size_t i = 0; i < mp->n; i++)
		ec_idindex_insert(&mp->idx, mp->ents[i]);
}

int ec_mempool_new(ec_mempool **out, const ec_mempool_cfg *cfg)
{
	ec_mempool *mp = calloc(1, sizeof *mp);
	if (!mp)
		return EC_ERR_NOMEM;
	mp->cfg = cfg ? *cfg : ec_mempool_default_cfg;
	if (ec_idindex_init(&mp->idx, offsetof(ec_mp_entry, txid)) != EC_OK) {
		free(mp);
		return EC_ERR_NOMEM;
	}
	*out = mp;
	return EC_OK;
}

static void entry_free(ec_mp_entry *e)
{
	free(e->votes);
	free(e);
}

void ec_mempool_free(ec_mempool *mp)
{
	if (!mp)
		return;
	for (size_t i = 0; i < mp->n; i++)
		entry_free(mp->ents[i]);
	free(mp->ents);
	ec_idindex_free(&mp->idx);
	free(mp);
}

size_t ec_mempool_size(const ec_mempool *mp)
{
	return mp->n;
}

ec_mp_entry *ec_mempool_at(ec_mempool *mp, size_t i)
{
	return i < mp->n ? mp->ents[i] : NULL;
}

static ec_mp_entry *lookup(const ec_mempool *mp, const ec_id *txid)
{
	return ec_idindex_get(&mp->idx, txid);
}

ec_mp_entry *ec_mempool_get(ec_mempool *mp, const ec_id *txid)
{
	return lookup(mp, txid);
}

/* Appends a fresh entry; the caller fills it. */
static ec_mp_entry *insert(ec_mempool *mp, const ec_id *txid, ec_time now)
{
	ec_mp_entry *e;
	int emptied;
	if (mp->n >= mp->cfg.max_entries)
		return NULL;
	if (ec_idindex_reserve(&mp->idx, mp->n + 1, &emptied) != EC_OK)
		return NULL;
	if (emptied)
		index_refill(mp);
	if (mp->n == mp->cap) {
		size_t cap = mp->cap ? mp->cap * 2 : 64;
		ec_mp_entry **p = realloc(mp->ents, cap * sizeof *p);
		if (!p)
			return NULL;
		mp->ents = p;
		mp->cap = cap;
	}
	e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->txid = *txid;
	e->first_seen = now;
	e->state = EC_MP_PENDING;
	mp->ents[mp->n++] = e;
	ec_idindex_insert(&mp->idx, e);
	return e;
}

static size_t sender_count(const ec_mempool *mp, const ec_id *sender)
{
	size_t c = 0;
	for (size_t i = 0; i < mp->n; i++)
		if (mp->ents[i]->has_tx && ec_id_eq(&mp->ents[i]->sender, sender))
			c++;
	return c;
}

int ec_mempool_add_tx(ec_mempool *mp, const ec_tx *tx, const ec_id *sender,
		      ec_time now)
{
	ec_mp_entry *e = lookup(mp, &tx->id);
	if (e && e->has_tx)
		return EC_ERR_EXISTS;
	if (!ec_id_is_zero(sender) &&
	    sender_count(mp, sender) >= mp->cfg.per_sender_max)
		return EC_ERR_REFUSED;
	if (!e) {
		e = insert(mp, &tx->id, now);
		if (!e)
			return EC_ERR_REFUSED;
	}
	e->has_tx = 1;
	e->tx = *tx;
	e->sender = *sender;
	return EC_OK;
}

int ec_mempool_add_vote(ec_mempool *mp, const ec_vote *v, ec_time now)
{
	ec_mp_entry *e = lookup(mp, &v->txid);
	if (!e) {
		e = insert(mp, &v->txid, now);
		if (!e)
			return EC_ERR_REFUSED;
	}
	for (uint32_t i = 0; i < e->n_votes; i++) {
		if (ec_id_eq(&e->votes[i].voter, &v->voter)) {
			if (e->votes[i].seq >= v->seq)
				return EC_ERR_EXISTS;
			e->votes[i] = *v;
			return EC_OK;
		}
	}
	if (e->n_votes == e->cap_votes) {
		uint32_t cap = e->cap_votes ? e->cap_votes * 2 : 8;
		ec_vote *p;
		if (cap > 4 * EC_PROOF_MAX_VOTES)
			return EC_ERR_REFUSED; /* one tx cannot hold the pool hostage */
		p = realloc(e->votes, cap * sizeof *p);
		if (!p)
			return EC_ERR_NOMEM;
		e->votes = p;
		e->cap_votes = cap;
	}
	e->votes[e->n_votes++] = *v;
	return EC_OK;
}

/* The flag a vote gives token t: +1, -1, or 0 when it says nothing. */
static int vote_flag(const ec_vote *v, const ec_id *t)
{
	for (unsigned i = 0; i < v->n_flags; i++)
		if (ec_id_eq(&v->flags[i].token, t))
			return v->flags[i].flag == EC_VOTE_YES ? 1 : -1;
	return 0;
}

int ec_mempool_tally(const ec_mempool *mp, const ec_mp_entry *e,
		     const ec_peerset *peers, ec_tally *t)
{
	int ok = 1;
	memset(t, 0, sizeof *t);
	if (!e->has_tx)
		return EC_ERR_NOTFOUND;
	for (uint32_t j = 0; j < e->n_votes; j++) {
		const ec_vote *v = &e->votes[j];
		for (unsigned i = 0; i < e->tx.n_entries; i++) {
			const ec_id *tok = &e->tx.entries[i].token;
			if (ec_peerset_is_eligible(peers, &v->voter, tok))
				t->balance[i] += vote_flag(v, tok);
		}
		if (ec_peerset_is_eligible(peers, &v->voter, &e->txid))
			t->witnesses++;
	}
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		if (t->balance[i] <= mp->cfg.vote_threshold)
			ok = 0;
	t->accepted = ok && t->witnesses >= mp->cfg.witness_min;
	return EC_OK;
}

static int conflicts_with(const ec_tx *a, const ec_tx *b)
{
	for (unsigned i = 0; i < a->n_entries; i++)
		for (unsigned j = 0; j < b->n_entries; j++)
			if (ec_id_eq(&a->entries[i].token, &b->entries[j].token) &&
			    ec_id_eq(&a->entries[i].prev, &b->entries[j].prev))
				return 1;
	return 0;
}

size_t ec_mempool_conflicts(const ec_mempool *mp, const ec_mp_entry *e,
			    ec_id *out, size_t max)
{
	size_t total = 0;
	if (!e->has_tx)
		return 0;
	for (size_t i = 0; i < mp->n; i++) {
		const ec_mp_entry *o = mp->ents[i];
		if (o == e || !o->has_tx || !conflicts_with(&e->tx, &o->tx))
			continue;
		if (total < max) {
			/* insertion sort keeps out[] ascending */
			size_t k = total;
			while (k > 0 && ec_id_cmp(&out[k - 1], &o->txid) > 0) {
				out[k] = out[k - 1];
				k--;
			}
			out[k] = o->txid;
		}
		total++;
	}
	return total;
}

int ec_mempool_has_higher_conflict(const ec_mempool *mp, const ec_mp_entry *e)
{
	if (!e->has_tx)
		return 0;
	for (size_t i = 0; i < mp->n; i++) {
		const ec_mp_entry *o = mp->ents[i];
		if (o != e && o->has_tx && o->state == EC_MP_PENDING &&
		    ec_id_cmp(&o->txid, &e->txid) > 0 && conflicts_with(&e->tx, &o->tx))
			return 1;
	}
	return 0;
}

size_t ec_mempool_counted_votes(const ec_mempool *mp, const ec_mp_entry *e,
				const ec_peerset *peers, ec_vote *out, size_t max)
{
	size_t m = 0;
	if (!e->has_tx)
		return 0;
	for (uint32_t j = 0; j < e->n_votes && m < max; j++) {
		const ec_vote *v = &e->votes[j];
		int counts = ec_peerset_is_eligible(peers, &v->voter, &e->txid);
		for (unsigned i = 0; !counts && i < e->tx.n_entries; i++)
			counts = ec_peerset_is_eligible(peers, &v->voter,
							&e->tx.entries[i].token);
		if (counts)
			out[m++] = *v;
	}
	return m;
}

void ec_mempool_set_state(ec_mempool *mp, ec_mp_entry *e, uint8_t state)
{
	(void)mp;
	e->state = state;
}

size_t ec_mempool_expire(ec_mempool *mp, ec_time now)
{
	size_t w = 0, dropped = 0;
	for (size_t i = 0; i < mp->n; i++) {
		ec_mp_entry *e = mp->ents[i];
		if (now >= e->first_seen && now - e->first_seen >= mp->cfg.tx_timeout_ms) {
			entry_free(e);
			dropped++;
		} else {
			mp->ents[w++] = e;
		}
	}
	mp->n = w;
	if (dropped)
		index_refill(mp); /* the table only gets emptier: no allocation */
	return dropped;
}
