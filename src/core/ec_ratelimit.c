/* ec_ratelimit.c - token buckets per (requester, class) and per class, in a
 * fixed-size table with exact LRU eviction (see ratelimit.h for the model).
 *
 * Layout: entries[max_entries] allocated once; a chained hash index
 * (heads[nbuckets] + per-entry next, int32 indices, -1 = none) and a
 * doubly linked LRU list through the entries (head = most recent).  Levels
 * are milli-tokens: a rate of r tokens/s adds exactly r milli-tokens per
 * ms, so refills need no division and never drift. */
#include <stdlib.h>

#include "ec/ratelimit.h"

const ec_ratelimit_cfg ec_ratelimit_default_cfg = {
	.per_peer =
		{
			[EC_RL_MAPPING] = {50, 100},
			[EC_RL_TX] = {20, 40},
			[EC_RL_BLOCK_SYNC] = {200, 400},
			[EC_RL_BLOCK_VALIDATION] = {50, 100},
			[EC_RL_BLOCK_HISTORICAL] = {5, 10},
			[EC_RL_REFUSAL] = {10, 20},
		},
	.total =
		{
			[EC_RL_MAPPING] = {5000, 10000},
			[EC_RL_TX] = {2000, 4000},
			[EC_RL_BLOCK_SYNC] = {4000, 8000},
			[EC_RL_BLOCK_VALIDATION] = {1000, 2000},
			[EC_RL_BLOCK_HISTORICAL] = {100, 200},
			[EC_RL_REFUSAL] = {2000, 4000},
		},
	.max_entries = 4096,
	.hash_seed = 0,
};

#define RL_MAX_ENTRIES (1u << 24)
#define MILLI 1000ull

typedef struct rl_bucket {
	uint64_t level; /* milli-tokens */
	ec_time last;   /* time of the last refill */
} rl_bucket;

typedef struct rl_entry {
	ec_id peer;
	uint8_t cls;
	rl_bucket b;
	int32_t hnext;            /* hash chain */
	int32_t lprev, lnext;     /* LRU list */
} rl_entry;

struct ec_ratelimit {
	ec_ratelimit_cfg cfg;
	rl_bucket total[EC_RL_CLASSES];
	uint8_t total_init[EC_RL_CLASSES];
	rl_entry *ents;
	uint32_t n; /* entries in use: ents[0..n) */
	int32_t *heads;
	uint32_t nbuckets; /* power of two */
	int32_t lru_head, lru_tail;
	ec_ratelimit_stats st;
};

static int limit_ok(const ec_rl_limit *l)
{
	return l->per_sec == 0 || l->burst >= 1;
}

int ec_ratelimit_new(ec_ratelimit **out, const ec_ratelimit_cfg *cfg)
{
	ec_ratelimit *rl;
	if (!out)
		return EC_ERR_ARG;
	*out = NULL;
	if (!cfg)
		cfg = &ec_ratelimit_default_cfg;
	if (cfg->max_entries < 16 || cfg->max_entries > RL_MAX_ENTRIES)
		return EC_ERR_ARG;
	for (unsigned c = 0; c < EC_RL_CLASSES; c++)
		if (!limit_ok(&cfg->per_peer[c]) || !limit_ok(&cfg->total[c]))
			return EC_ERR_ARG;
	rl = calloc(1, sizeof *rl);
	if (!rl)
		return EC_ERR_NOMEM;
	rl->cfg = *cfg;
	rl->nbuckets = 16;
	while (rl->nbuckets < cfg->max_entries)
		rl->nbuckets *= 2;
	rl->ents = calloc(cfg->max_entries, sizeof *rl->ents);
	rl->heads = malloc(rl->nbuckets * sizeof *rl->heads);
	if (!rl->ents || !rl->heads) {
		ec_ratelimit_free(rl);
		return EC_ERR_NOMEM;
	}
	for (uint32_t i = 0; i < rl->nbuckets; i++)
		rl->heads[i] = -1;
	rl->lru_head = rl->lru_tail = -1;
	*out = rl;
	return EC_OK;
}

void ec_ratelimit_free(ec_ratelimit *rl)
{
	if (!rl)
		return;
	free(rl->ents);
	free(rl->heads);
	free(rl);
}

size_t ec_ratelimit_entries(const ec_ratelimit *rl)
{
	return rl->n;
}

void ec_ratelimit_get_stats(const ec_ratelimit *rl, ec_ratelimit_stats *out)
{
	*out = rl->st;
}

int ec_ratelimit_class_of_priority(uint8_t priority)
{
	switch (priority) {
	case 1: /* EC_PRIO_SYNC */
		return EC_RL_BLOCK_SYNC;
	case 2: /* EC_PRIO_VALIDATION */
		return EC_RL_BLOCK_VALIDATION;
	case 3: /* EC_PRIO_HISTORICAL */
		return EC_RL_BLOCK_HISTORICAL;
	default:
		return -1;
	}
}

/* ---- buckets ------------------------------------------------------------ */

static void bucket_fill(rl_bucket *b, const ec_rl_limit *l, ec_time now)
{
	b->level = (uint64_t)l->burst * MILLI;
	b->last = now;
}

static void bucket_refill(rl_bucket *b, const ec_rl_limit *l, ec_time now)
{
	uint64_t cap = (uint64_t)l->burst * MILLI, el, room;
	if (now <= b->last)
		return; /* same ms, or time went backwards: nothing to add */
	el = now - b->last;
	b->last = now;
	if (b->level >= cap)
		return;
	room = cap - b->level;
	if (el >= (room + l->per_sec - 1) / l->per_sec)
		b->level = cap;
	else
		b->level += el * l->per_sec;
}

/* Milli-tokens a request of `cost` needs from this bucket. */
static uint64_t bucket_need(const ec_rl_limit *l, uint32_t cost)
{
	uint32_t c = cost > l->burst ? l->burst : cost;
	return (uint64_t)c * MILLI;
}

/* 0 if the bucket can pay `need` now, else the wait in ms. */
static uint64_t bucket_wait(const rl_bucket *b, const ec_rl_limit *l,
			    uint64_t need)
{
	if (b->level >= need)
		return 0;
	return (need - b->level + l->per_sec - 1) / l->per_sec;
}

static void bucket_cap(rl_bucket *b, const ec_rl_limit *l)
{
	if (b->level > (uint64_t)l->burst * MILLI)
		b->level = (uint64_t)l->burst * MILLI;
}

int ec_ratelimit_set_limits(ec_ratelimit *rl, const ec_rl_limit per_peer[EC_RL_CLASSES],
			    const ec_rl_limit total[EC_RL_CLASSES])
{
	if (!rl || !per_peer || !total)
		return EC_ERR_ARG;
	for (unsigned c = 0; c < EC_RL_CLASSES; c++)
		if (!limit_ok(&per_peer[c]) || !limit_ok(&total[c]))
			return EC_ERR_ARG;
	for (unsigned c = 0; c < EC_RL_CLASSES; c++) {
		rl->cfg.per_peer[c] = per_peer[c];
		rl->cfg.total[c] = total[c];
		bucket_cap(&rl->total[c], &total[c]);
	}
	for (uint32_t i = 0; i < rl->n; i++)
		bucket_cap(&rl->ents[i].b, &per_peer[rl->ents[i].cls]);
	return EC_OK;
}

/* ---- the per-requester table --------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t slot_of(const ec_ratelimit *rl, const ec_id *peer, unsigned cls)
{
	/* Peer ids end in proof-of-work zero bits: hash the first 24 bytes. */
	uint64_t h = mix64(rl->cfg.hash_seed ^ load64(peer->b));
	h = mix64(h ^ load64(peer->b + 8) ^ ((uint64_t)cls << 56));
	h = mix64(h ^ load64(peer->b + 16));
	return (uint32_t)(h & (rl->nbuckets - 1));
}

static void lru_unlink(ec_ratelimit *rl, int32_t i)
{
	rl_entry *e = &rl->ents[i];
	if (e->lprev >= 0)
		rl->ents[e->lprev].lnext = e->lnext;
	else
		rl->lru_head = e->lnext;
	if (e->lnext >= 0)
		rl->ents[e->lnext].lprev = e->lprev;
	else
		rl->lru_tail = e->lprev;
}

static void lru_push_front(ec_ratelimit *rl, int32_t i)
{
	rl_entry *e = &rl->ents[i];
	e->lprev = -1;
	e->lnext = rl->lru_head;
	if (rl->lru_head >= 0)
		rl->ents[rl->lru_head].lprev = i;
	rl->lru_head = i;
	if (rl->lru_tail < 0)
		rl->lru_tail = i;
}

static void hash_unlink(ec_ratelimit *rl, int32_t i)
{
	rl_entry *e = &rl->ents[i];
	int32_t *pp = &rl->heads[slot_of(rl, &e->peer, e->cls)];
	while (*pp >= 0 && *pp != i)
		pp = &rl->ents[*pp].hnext;
	if (*pp == i)
		*pp = e->hnext;
}

/* The entry of (peer, cls), created (full bucket) if absent; moved to the
 * front of the LRU list. */
static rl_entry *entry_get(ec_ratelimit *rl, const ec_id *peer, unsigned cls,
			   ec_time now)
{
	uint32_t s = slot_of(rl, peer, cls);
	int32_t i;
	rl_entry *e;
	for (i = rl->heads[s]; i >= 0; i = rl->ents[i].hnext) {
		e = &rl->ents[i];
		if (e->cls == cls && ec_id_eq(&e->peer, peer)) {
			if (rl->lru_head != i) {
				lru_unlink(rl, i);
				lru_push_front(rl, i);
			}
			return e;
		}
	}
	if (rl->n < rl->cfg.max_entries) {
		i = (int32_t)rl->n++;
	} else { /* evict the stalest entry */
		i = rl->lru_tail;
		lru_unlink(rl, i);
		hash_unlink(rl, i);
		rl->st.evicted++;
	}
	e = &rl->ents[i];
	e->peer = *peer;
	e->cls = (uint8_t)cls;
	bucket_fill(&e->b, &rl->cfg.per_peer[cls], now);
	e->hnext = rl->heads[s];
	rl->heads[s] = i;
	lru_push_front(rl, i);
	return e;
}

/* ---- taking ----------------------------------------------------------------- */

int ec_ratelimit_take(ec_ratelimit *rl, const ec_id *peer, unsigned cls,
		      uint32_t cost, ec_time now, uint32_t *retry_after_ms)
{
	const ec_rl_limit *lp, *lt;
	rl_bucket *bp = NULL, *bt = NULL;
	uint64_t np = 0, nt = 0, wait = 0, w;
	if (retry_after_ms)
		*retry_after_ms = 0;
	if (!rl || !peer || cls >= EC_RL_CLASSES)
		return EC_ERR_ARG;
	if (cost == 0)
		cost = 1;
	lp = &rl->cfg.per_peer[cls];
	lt = &rl->cfg.total[cls];
	if (lt->per_sec) {
		bt = &rl->total[cls];
		if (!rl->total_init[cls]) {
			bucket_fill(bt, lt, now);
			rl->total_init[cls] = 1;
		}
		bucket_refill(bt, lt, now);
		nt = bucket_need(lt, cost);
		wait = bucket_wait(bt, lt, nt);
	}
	if (lp->per_sec) {
		bp = &entry_get(rl, peer, cls, now)->b;
		bucket_refill(bp, lp, now);
		np = bucket_need(lp, cost);
		w = bucket_wait(bp, lp, np);
		if (w > wait)
			wait = w;
	}
	if (wait) {
		rl->st.refused[cls]++;
		if (retry_after_ms)
			*retry_after_ms = wait > UINT32_MAX ? UINT32_MAX : (uint32_t)wait;
		return EC_ERR_REFUSED;
	}
	if (bt)
		bt->level -= nt;
	if (bp)
		bp->level -= np;
	rl->st.allowed[cls]++;
	return EC_OK;
}
