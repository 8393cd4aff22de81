/* ec_mempool.c - pending transactions, versioned votes, conflicts, tallies
 * and timeouts (see mempool.h for the rules and their spec sections).
 *
 * Entries live in an insertion-ordered array of pointers with an id index
 * (util/ec_idindex.h) by txid.  Pools hold thousands of entries in a large
 * network (every tx of the last tx_timeout_ms a node saw), so nothing on
 * the per-vote path scans them: a posting index by (token, prev) finds
 * conflicts, and counters (util/ec_idcount.h) give each sender's share and
 * each voter's placeholders.  All three are rebuilt when entries expire.
 * A small ring of recent rejections (txid, reason, time) answers clients
 * asking what became of a transaction that left the pool. */
#include <stddef.h>
#include <stdlib.h>

#include "ec/mempool.h"
#include "util/ec_idcount.h"
#include "util/ec_idindex.h"

/* One (token, prev) of a held transaction: entry e, its entry i. */
typedef struct mp_post {
	ec_mp_entry *e;
	unsigned i;
} mp_post;

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
	mp_post *post;  /* open addressing by (token, prev); e NULL = empty */
	size_t n_post, cap_post;
	ec_idcount senders;      /* held txs per sender */
	ec_idcount placeholders; /* placeholders per first voter */
	uint64_t next_seq;       /* insertion counter (ec_mp_entry.seq) */
	struct mp_reject *rej;   /* recent rejections, a ring (lazily grown) */
	size_t n_rej, cap_rej, next_rej;
};

typedef struct mp_reject {
	ec_id txid;
	ec_time at;
	uint8_t reason;
} mp_reject;

/* ---- the (token, prev) posting index ---------------------------------- */

static size_t post_slot(const ec_id *tok, const ec_id *prev, size_t cap)
{
	uint64_t a, b;
	memcpy(&a, tok->b, sizeof a);
	memcpy(&b, prev->b, sizeof b);
	a ^= b * 0x9E3779B97F4A7C15ull;
	return (size_t)((a ^ (a >> 29)) & (cap - 1));
}

static void post_put(mp_post *tab, size_t cap, ec_mp_entry *e, unsigned i)
{
	const ec_tx_entry *en = &e->tx.entries[i];
	size_t s = post_slot(&en->token, &en->prev, cap);
	while (tab[s].e)
		s = (s + 1) & (cap - 1);
	tab[s].e = e;
	tab[s].i = i;
}

/* Rebuilds the postings (and the counters) from the entries held. */
static void derived_refill(ec_mempool *mp)
{
	if (mp->cap_post)
		memset(mp->post, 0, mp->cap_post * sizeof *mp->post);
	mp->n_post = 0;
	ec_idcount_clear(&mp->senders);
	ec_idcount_clear(&mp->placeholders);
	for (size_t k = 0; k < mp->n; k++) {
		ec_mp_entry *e = mp->ents[k];
		if (e->has_tx) {
			for (unsigned i = 0; i < e->tx.n_entries; i++)
				post_put(mp->post, mp->cap_post, e, i);
			mp->n_post += e->tx.n_entries;
			(void)ec_idcount_add(&mp->senders, &e->sender, 1);
		} else if (e->n_votes) {
			(void)ec_idcount_add(&mp->placeholders, ec_mp_voter(e, 0), 1);
		}
	}
}

/* Room for `more` postings (the table stays at most half full). */
static int post_reserve(ec_mempool *mp, size_t more)
{
	size_t cap = mp->cap_post ? mp->cap_post : 64;
	mp_post *tab;
	while ((mp->n_post + more) * 2 > cap)
		cap *= 2;
	if (cap == mp->cap_post)
		return EC_OK;
	tab = calloc(cap, sizeof *tab);
	if (!tab)
		return EC_ERR_NOMEM;
	for (size_t s = 0; s < mp->cap_post; s++)
		if (mp->post[s].e)
			post_put(tab, cap, mp->post[s].e, mp->post[s].i);
	free(mp->post);
	mp->post = tab;
	mp->cap_post = cap;
	return EC_OK;
}

/* Calls fn for every held entry other than `self` with an entry extending
 * (tok, prev); stops early when fn returns nonzero and returns that. */
typedef int (*post_fn)(void *ctx, ec_mp_entry *o);
static int post_each(const ec_mempool *mp, const ec_id *tok, const ec_id *prev,
		     const ec_mp_entry *self, post_fn fn, void *ctx)
{
	size_t s;
	int r;
	if (!mp->cap_post)
		return 0;
	s = post_slot(tok, prev, mp->cap_post);
	while (mp->post[s].e) {
		const mp_post *q = &mp->post[s];
		const ec_tx_entry *en = &q->e->tx.entries[q->i];
		if (q->e != self && ec_id_eq(&en->token, tok) && ec_id_eq(&en->prev, prev) &&
		    (r = fn(ctx, q->e)) != 0)
			return r;
		s = (s + 1) & (mp->cap_post - 1);
	}
	return 0;
}

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
	free(e->cvotes);
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
	free(mp->post);
	ec_idcount_free(&mp->senders);
	ec_idcount_free(&mp->placeholders);
	free(mp->rej);
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
	e->seq = mp->next_seq++;
	mp->ents[mp->n++] = e;
	ec_idindex_insert(&mp->idx, e);
	return e;
}

static size_t sender_count(const ec_mempool *mp, const ec_id *sender)
{
	return ec_idcount_get(&mp->senders, sender);
}

size_t ec_mempool_placeholders_of(const ec_mempool *mp, const ec_id *voter)
{
	return ec_idcount_get(&mp->placeholders, voter);
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
	if (post_reserve(mp, tx->n_entries) != EC_OK)
		return EC_ERR_NOMEM;
	if (!e) {
		e = insert(mp, &tx->id, now);
		if (!e)
			return EC_ERR_REFUSED;
	} else if (e->n_votes) {
		(void)ec_idcount_add(&mp->placeholders, ec_mp_voter(e, 0), -1);
	}
	e->has_tx = 1;
	e->tx = *tx;
	e->sender = *sender;
	for (unsigned i = 0; i < tx->n_entries; i++)
		post_put(mp->post, mp->cap_post, e, i);
	mp->n_post += tx->n_entries;
	(void)ec_idcount_add(&mp->senders, sender, 1);
	return EC_OK;
}

static int vote_flag(const ec_vote *v, const ec_id *t);

/* v compacted against e's tx. */
static void compact_one(const ec_mp_entry *e, const ec_vote *v, ec_mp_vote *c)
{
	memset(c, 0, sizeof *c);
	c->voter = v->voter;
	c->seq = v->seq;
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		c->flag[i] = (int8_t)vote_flag(v, &e->tx.entries[i].token);
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
		if (ec_id_eq(ec_mp_voter(e, i), &v->voter)) {
			if (ec_mp_vote_seq(e, i) >= v->seq)
				return EC_ERR_EXISTS;
			if (e->cvotes)
				compact_one(e, v, &e->cvotes[i]);
			else
				e->votes[i] = *v;
			return EC_OK;
		}
	}
	if (e->n_votes == e->cap_votes) {
		uint32_t cap = e->cap_votes ? e->cap_votes * 2 : 8;
		if (cap > 4 * EC_PROOF_MAX_VOTES)
			return EC_ERR_REFUSED; /* one tx cannot hold the pool hostage */
		if (e->cvotes) {
			ec_mp_vote *c = realloc(e->cvotes, cap * sizeof *c);
			if (!c)
				return EC_ERR_NOMEM;
			e->cvotes = c;
		} else {
			ec_vote *p = realloc(e->votes, cap * sizeof *p);
			if (!p)
				return EC_ERR_NOMEM;
			e->votes = p;
		}
		e->cap_votes = cap;
	}
	if (e->n_votes == 0 && !e->has_tx)
		(void)ec_idcount_add(&mp->placeholders, &v->voter, 1);
	if (e->cvotes)
		compact_one(e, v, &e->cvotes[e->n_votes++]);
	else
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

const ec_id *ec_mp_voter(const ec_mp_entry *e, uint32_t j)
{
	return e->cvotes ? &e->cvotes[j].voter : &e->votes[j].voter;
}

uint32_t ec_mp_vote_seq(const ec_mp_entry *e, uint32_t j)
{
	return e->cvotes ? e->cvotes[j].seq : e->votes[j].seq;
}

int ec_mp_vote_flag(const ec_mp_entry *e, uint32_t j, const ec_id *t)
{
	if (!e->cvotes)
		return vote_flag(&e->votes[j], t);
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		if (ec_id_eq(&e->tx.entries[i].token, t))
			return e->cvotes[j].flag[i];
	return 0;
}

int ec_mempool_compact(ec_mempool *mp, ec_mp_entry *e)
{
	ec_mp_vote *c;
	(void)mp;
	if (!e->has_tx)
		return EC_ERR_ARG;
	if (e->cvotes)
		return EC_OK;
	c = calloc(e->cap_votes ? e->cap_votes : 1, sizeof *c);
	if (!c)
		return EC_ERR_NOMEM;
	for (uint32_t j = 0; j < e->n_votes; j++)
		compact_one(e, &e->votes[j], &c[j]);
	free(e->votes);
	e->votes = NULL;
	e->cvotes = c;
	return EC_OK;
}

/* The eligible voters (spec 8.4) of each token of e and of its witness
 * address, computed once per tally instead of once per vote:
 * ec_peerset_is_eligible(peers, v, t) is "v in t's neighbourhood". */
typedef struct hoods {
	ec_id nb[EC_TX_MAX_ENTRIES + 1][2 * EC_NEIGHBOURS];
	size_t m[EC_TX_MAX_ENTRIES + 1];
} hoods;

static void hood_of(const ec_mp_entry *e, const ec_peerset *peers, hoods *h)
{
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		h->m[i] = ec_peerset_neighbourhood(peers, &e->tx.entries[i].token,
						   EC_NEIGHBOURS, h->nb[i]);
	h->m[EC_TX_MAX_ENTRIES] = ec_peerset_neighbourhood(peers, &e->txid, EC_NEIGHBOURS,
							   h->nb[EC_TX_MAX_ENTRIES]);
}

/* i: a token's index, or EC_TX_MAX_ENTRIES for the witness address. */
static int in_hood(const hoods *h, unsigned i, const ec_id *voter)
{
	for (size_t k = 0; k < h->m[i]; k++)
		if (ec_id_eq(&h->nb[i][k], voter))
			return 1;
	return 0;
}

int ec_mempool_tally(const ec_mempool *mp, const ec_mp_entry *e,
		     const ec_peerset *peers, ec_tally *t)
{
	hoods h;
	int ok = 1;
	memset(t, 0, sizeof *t);
	if (!e->has_tx)
		return EC_ERR_NOTFOUND;
	hood_of(e, peers, &h);
	for (uint32_t j = 0; j < e->n_votes; j++) {
		const ec_id *voter = ec_mp_voter(e, j);
		for (unsigned i = 0; i < e->tx.n_entries; i++) {
			const ec_id *tok = &e->tx.entries[i].token;
			if (in_hood(&h, i, voter))
				t->balance[i] += e->cvotes ? e->cvotes[j].flag[i]
							   : vote_flag(&e->votes[j], tok);
		}
		if (in_hood(&h, EC_TX_MAX_ENTRIES, voter))
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

/* Conflicting entries of one lookup, without repeats (an entry may share
 * several (token, prev) with e). */
#define CONFLICT_SET_MAX 64
typedef struct conflict_set {
	ec_mp_entry *o[CONFLICT_SET_MAX];
	size_t n;
	int overflow;
} conflict_set;

static int collect(void *ctx, ec_mp_entry *o)
{
	conflict_set *c = ctx;
	for (size_t k = 0; k < c->n; k++)
		if (c->o[k] == o)
			return 0;
	if (c->n == CONFLICT_SET_MAX) {
		c->overflow = 1;
		return 1;
	}
	c->o[c->n++] = o;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const ec_mp_entry *x = *(ec_mp_entry *const *)a, *y = *(ec_mp_entry *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Adds o to the ascending out[] (the first max of insertion order). */
static void conflict_out(ec_id *out, size_t max, size_t total, const ec_mp_entry *o)
{
	if (total < max) {
		/* insertion sort keeps out[] ascending */
		size_t k = total;
		while (k > 0 && ec_id_cmp(&out[k - 1], &o->txid) > 0) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = o->txid;
	}
}

size_t ec_mempool_conflicts(const ec_mempool *mp, const ec_mp_entry *e,
			    ec_id *out, size_t max)
{
	conflict_set c;
	size_t total = 0;
	if (!e->has_tx)
		return 0;
	c.n = 0;
	c.overflow = 0;
	for (unsigned i = 0; i < e->tx.n_entries && !c.overflow; i++)
		(void)post_each(mp, &e->tx.entries[i].token, &e->tx.entries[i].prev,
				e, collect, &c);
	if (!c.overflow) {
		/* pool (insertion) order, as a scan of the pool would give */
		qsort(c.o, c.n, sizeof c.o[0], by_seq);
		for (size_t k = 0; k < c.n; k++)
			conflict_out(out, max, total++, c.o[k]);
		return total;
	}
	for (size_t i = 0; i < mp->n; i++) { /* very many: scan the pool */
		const ec_mp_entry *o = mp->ents[i];
		if (o == e || !o->has_tx || !conflicts_with(&e->tx, &o->tx))
			continue;
		conflict_out(out, max, total++, o);
	}
	return total;
}

typedef struct higher_ctx {
	const ec_mp_entry *e;
	int pending_only; /* 1: state PENDING; 0: state not REJECTED */
} higher_ctx;

static int is_higher(void *ctx, ec_mp_entry *o)
{
	const higher_ctx *h = ctx;
	if (h->pending_only ? o->state != EC_MP_PENDING : o->state == EC_MP_REJECTED)
		return 0;
	return ec_id_cmp(&o->txid, &h->e->txid) > 0;
}

int ec_mempool_has_higher_conflict(const ec_mempool *mp, const ec_mp_entry *e)
{
	higher_ctx h = {e, 1};
	if (!e->has_tx)
		return 0;
	for (unsigned i = 0; i < e->tx.n_entries; i++)
		if (post_each(mp, &e->tx.entries[i].token, &e->tx.entries[i].prev, e,
			      is_higher, &h))
			return 1;
	return 0;
}

int ec_mempool_higher_on(const ec_mempool *mp, const ec_mp_entry *e,
			 const ec_id *token, const ec_id *prev)
{
	higher_ctx h = {e, 0};
	return post_each(mp, token, prev, e, is_higher, &h) != 0;
}

size_t ec_mempool_counted_votes(const ec_mempool *mp, const ec_mp_entry *e,
				const ec_peerset *peers, ec_vote *out, size_t max)
{
	hoods h;
	size_t m = 0;
	if (!e->has_tx || e->cvotes)
		return 0;
	hood_of(e, peers, &h);
	for (uint32_t j = 0; j < e->n_votes && m < max; j++) {
		const ec_vote *v = &e->votes[j];
		int counts = in_hood(&h, EC_TX_MAX_ENTRIES, &v->voter);
		for (unsigned i = 0; !counts && i < e->tx.n_entries; i++)
			counts = in_hood(&h, i, &v->voter);
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
	if (dropped) {
		/* the tables only get emptier: no allocation */
		index_refill(mp);
		derived_refill(mp);
	}
	return dropped;
}

/* ---- recent rejections ------------------------------------------------ */

static const char *const reason_names[EC_MP_R_COUNT] = {
	"none", "mempool_full", "not_owner", "conflict_lost", "bad_timestamp", "expired",
};

static const char *const reason_texts[EC_MP_R_COUNT] = {
	"not rejected",
	"the mempool was full",
	"not signed by the key the token's current transaction names",
	"another transaction spending the same token state was decided or committed",
	"timestamp not later than the token's current transaction",
	"not decided within the mempool lifetime",
};

const char *ec_mp_reason_name(uint8_t reason)
{
	return reason < EC_MP_R_COUNT ? reason_names[reason] : reason_names[0];
}

const char *ec_mp_reason_text(uint8_t reason)
{
	return reason < EC_MP_R_COUNT ? reason_texts[reason] : reason_texts[0];
}

static mp_reject *reject_find(const ec_mempool *mp, const ec_id *txid)
{
	for (size_t i = 0; i < mp->n_rej; i++)
		if (ec_id_eq(&mp->rej[i].txid, txid))
			return &mp->rej[i];
	return NULL;
}

void ec_mempool_note_rejected(ec_mempool *mp, const ec_id *txid, uint8_t reason,
			      ec_time now)
{
	mp_reject *r;
	if (!mp || !txid || reason == EC_MP_R_NONE || reason >= EC_MP_R_COUNT)
		return;
	if (!(r = reject_find(mp, txid))) {
		if (mp->n_rej == mp->cap_rej && mp->cap_rej < EC_MP_REJECT_MAX) {
			size_t cap = mp->cap_rej ? mp->cap_rej * 2 : 16;
			mp_reject *nr;
			if (cap > EC_MP_REJECT_MAX)
				cap = EC_MP_REJECT_MAX;
			if (!(nr = realloc(mp->rej, cap * sizeof *nr)))
				return;
			mp->rej = nr;
			mp->cap_rej = cap;
		}
		if (mp->n_rej < mp->cap_rej) {
			r = &mp->rej[mp->n_rej++];
		} else { /* full: the oldest goes */
			r = &mp->rej[mp->next_rej];
			mp->next_rej = (mp->next_rej + 1) % mp->cap_rej;
		}
		r->txid = *txid;
	}
	r->reason = reason;
	r->at = now;
}

int ec_mempool_rejected(const ec_mempool *mp, const ec_id *txid, uint8_t *reason,
			ec_time *at)
{
	const mp_reject *r = mp && txid ? reject_find(mp, txid) : NULL;
	if (!r)
		return EC_ERR_NOTFOUND;
	if (reason)
		*reason = r->reason;
	if (at)
		*at = r->at;
	return EC_OK;
}
