/* ec_sim_wl.c - the scenario workload and commit tracking.
 *
 * Setup: workload.initial_tokens are created by ordinary creation
 * transactions of up to EC_TX_MAX_ENTRIES tokens, one every 2 ms from
 * t = 1 ms (they are real history: chains hold them).  Workload: from
 * start_ms, one submission every 1000 / tx_rate ms until stop_ms or
 * total_txs: a creation, transfer or destruction by workload.mix, of
 * tokens_min..tokens_max tokens; a transfer/destruction takes idle tokens
 * (committed, not in flight), signed by their owners' keys.  With
 * probability double_sign the same token states are also signed over to a
 * different owner (the twin) and handed to another peer of the first
 * token's neighbourhood at the same instant.  A client hands each tx to a
 * random online peer of its first token's neighbourhood.
 *
 * Commit: a peer's sealed block commits a tx for entry e when the peer is
 * in the ±4 neighbourhood of that entry's token (over the members); the tx
 * is committed when, for every entry, a majority of that neighbourhood has
 * committed it.  Conflicting owners: both twins committed for the same
 * token by neighbours of it (counted once per token).  Tokens in flight are
 * released when their tx commits, or 90 s after submission. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec/crypto.h"
#include "sim/ec_sim_eng.h"

#define SETUP_GAP_US 2000
#define RELEASE_US 90000000ull


static const ec_id *sent_txid(const void *ctx, size_t k)
{
	return &((const ec_sim *)ctx)->sent[k].txid;
}

int sim_wl_init(ec_sim *s)
{
	const ec_scn_workload *w = &s->sc->workload;
	for (int i = 0; i < SIM_OWNERS; i++) {
		uint8_t seed[32];
		for (int j = 0; j < 4; j++) {
			uint64_t v = sim_rand(&s->rng_wl);
			memcpy(seed + 8 * j, &v, 8);
		}
		int err = ec_keypair_from_seed(&s->owners[i], seed);
		if (err != EC_OK)
			return err;
		ec_keyhash(&s->owner_hash[i], s->owners[i].pk);
	}
	s->setup_tokens_left = w->initial_tokens;
	s->setup_next_us = 1000;
	s->txmap.key = sent_txid;
	s->txmap.ctx = s;
	return sim_idmap_reserve(&s->txmap, 512, 0);
}

void sim_wl_free(ec_sim *s)
{
	free(s->toks);
	free(s->idle);
	free(s->sent);
	sim_idmap_free(&s->txmap);
	free(s->lat_ms);
}

static uint64_t wl_time(const ec_sim *s, uint64_t k)
{
	const ec_scn_workload *w = &s->sc->workload;
	if (w->tx_rate <= 0)
		return SIM_NEVER;
	return w->start_ms * 1000 + (uint64_t)((double)k * 1e6 / w->tx_rate);
}

uint64_t sim_wl_next(const ec_sim *s)
{
	const ec_scn_workload *w = &s->sc->workload;
	uint64_t t = SIM_NEVER, u;
	if (s->setup_tokens_left)
		t = s->setup_next_us;
	if (w->total_txs && s->wl_next_k >= w->total_txs)
		return t;
	u = wl_time(s, s->wl_next_k);
	if (u > w->stop_ms * 1000)
		return t;
	return u < t ? u : t;
}

static void idle_push(ec_sim *s, int32_t t)
{
	sim_tok *k = &s->toks[t];
	if (k->in_idle || k->owner < 0 || ec_id_is_zero(&k->head) || k->busy >= 0)
		return;
	if (sim_grow((void **)&s->idle, &s->cap_idle, s->n_idle + 1, sizeof *s->idle)) {
		s->fatal = EC_ERR_NOMEM;
		return;
	}
	s->idle[s->n_idle++] = t;
	k->in_idle = 1;
}

static int32_t idle_take(ec_sim *s)
{
	if (!s->n_idle)
		return -1;
	size_t i = sim_rand(&s->rng_wl) % s->n_idle;
	int32_t t = s->idle[i];
	s->idle[i] = s->idle[--s->n_idle];
	s->toks[t].in_idle = 0;
	return t;
}

static void release(ec_sim *s, size_t k)
{
	const sim_sent *x = &s->sent[k];
	for (int e = 0; e < x->n; e++) {
		sim_tok *t = &s->toks[x->tok[e]];
		if (t->busy == (int32_t)k || (x->pair >= 0 && t->busy == x->pair)) {
			t->busy = -1;
			idle_push(s, x->tok[e]);
		}
	}
}

static int cmp_tok(const void *a, const void *b, void *ctx)
{
	const sim_tok *t = ctx;
	return ec_id_cmp(&t[*(const int32_t *)a].id, &t[*(const int32_t *)b].id);
}

/* Sorts the token indexes by token id (tx entries ascend by token). */
static void sort_toks(ec_sim *s, int32_t *tk, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && cmp_tok(&tk[j - 1], &tk[j], s->toks) > 0; j--) {
			int32_t x = tk[j];
			tk[j] = tk[j - 1];
			tk[j - 1] = x;
		}
}

/* Builds, records and submits one tx over tokens tk[0..n) with new owners
 * own[] (-1 = destroy) at peer `at`.  Returns the sent index or -1. */
static long submit(ec_sim *s, const int32_t *tk, const int32_t *own, int n, size_t at,
		   int setup)
{
	ec_tx tx;
	uint8_t *enc;
	size_t len;
	ec_time now = sim_now_ms(s);
	memset(&tx, 0, sizeof tx);
	tx.timestamp = now;
	tx.n_entries = (uint8_t)n;
	for (int e = 0; e < n; e++) {
		const sim_tok *t = &s->toks[tk[e]];
		tx.entries[e].token = t->id;
		tx.entries[e].prev = t->head;
		if (own[e] >= 0)
			tx.entries[e].next_key = s->owner_hash[own[e]];
		if (t->head_ts >= tx.timestamp)
			tx.timestamp = t->head_ts + 1;
	}
	for (int e = 0; e < n; e++) {
		const sim_tok *t = &s->toks[tk[e]];
		if (ec_id_is_zero(&t->head))
			continue;
		if (ec_tx_sign_entry(&tx, (uint8_t)e, s->owners[t->owner].pk,
				     s->owners[t->owner].sk) != EC_OK)
			return -1;
	}
	if (ec_tx_finalize(&tx) != EC_OK || ec_tx_encode(&tx, &enc, &len) != EC_OK)
		return -1;
	if (sim_grow((void **)&s->sent, &s->cap_sent, s->n_sent + 1, sizeof *s->sent) ||
	    sim_idmap_reserve(&s->txmap, s->n_sent + 1, s->n_sent)) {
		free(enc);
		s->fatal = EC_ERR_NOMEM;
		return -1;
	}
	size_t k = s->n_sent++;
	sim_sent *x = &s->sent[k];
	memset(x, 0, sizeof *x);
	x->txid = tx.id;
	x->submit_us = s->now_us;
	x->commit_us = SIM_NEVER;
	x->ts = tx.timestamp;
	x->pair = -1;
	x->at = (uint32_t)at;
	x->n = (uint8_t)n;
	x->setup = (uint8_t)setup;
	for (int e = 0; e < n; e++) {
		x->tok[e] = tk[e];
		x->new_owner[e] = own[e];
		x->prev[e] = s->toks[tk[e]].head;
	}
	sim_idmap_put(&s->txmap, k);
	sim_inv_tx(s, k);
	(void)ec_node_submit_tx(s->peers[at].node, enc, len, now);
	free(enc);
	sim_after(s, at);
	return (long)k;
}

/* A random online peer of token t's neighbourhood (not `avoid`), else any
 * online peer. */
static size_t entry_peer(ec_sim *s, const ec_id *t, size_t avoid)
{
	size_t nb[2 * EC_NEIGHBOURS], ok[2 * EC_NEIGHBOURS], m, n = 0;
	m = sim_neighbourhood(s, t, nb);
	for (size_t i = 0; i < m; i++)
		if (nb[i] != avoid && s->peers[nb[i]].state == PEER_ONLINE &&
		    s->peers[nb[i]].strategy < 0)
			ok[n++] = nb[i];
	if (n)
		return ok[sim_rand(&s->rng_wl) % n];
	for (int tries = 0; tries < 64; tries++) {
		size_t i = sim_rand(&s->rng_wl) % s->n_peers;
		if (s->peers[i].state == PEER_ONLINE)
			return i;
	}
	return 0;
}

static int new_token(ec_sim *s)
{
	if (sim_grow((void **)&s->toks, &s->cap_toks, s->n_toks + 1, sizeof *s->toks)) {
		s->fatal = EC_ERR_NOMEM;
		return -1;
	}
	sim_tok *t = &s->toks[s->n_toks];
	memset(t, 0, sizeof *t);
	for (int j = 0; j < 4; j++) {
		uint64_t v = sim_rand(&s->rng_wl);
		memcpy(t->id.b + 8 * j, &v, 8);
	}
	t->owner = (int32_t)(sim_rand(&s->rng_wl) % SIM_OWNERS);
	t->busy = -1;
	return (int)s->n_toks++;
}

static void expire(ec_sim *s)
{
	while (s->expire_head < s->n_sent &&
	       s->sent[s->expire_head].submit_us + RELEASE_US <= s->now_us) {
		if (s->sent[s->expire_head].commit_us == SIM_NEVER)
			release(s, s->expire_head);
		s->expire_head++;
	}
}

static void setup_step(ec_sim *s)
{
	int32_t tk[EC_TX_MAX_ENTRIES], own[EC_TX_MAX_ENTRIES];
	uint32_t per = s->sc->workload.setup_tokens;
	if (per < 1 || per > EC_TX_MAX_ENTRIES)
		per = EC_TX_MAX_ENTRIES;
	int n = s->setup_tokens_left < per ? (int)s->setup_tokens_left : (int)per;
	for (int e = 0; e < n; e++) {
		if ((tk[e] = new_token(s)) < 0)
			return;
		own[e] = s->toks[tk[e]].owner;
	}
	sort_toks(s, tk, n);
	for (int e = 0; e < n; e++)
		own[e] = s->toks[tk[e]].owner;
	long k = submit(s, tk, own, n, entry_peer(s, &s->toks[tk[0]].id, SIZE_MAX), 1);
	for (int e = 0; k >= 0 && e < n; e++)
		s->toks[tk[e]].busy = (int32_t)k;
	s->setup_txs++;
	s->setup_tokens_left -= (uint64_t)n;
	s->setup_next_us += SETUP_GAP_US;
}

static void wl_step(ec_sim *s)
{
	const ec_scn_workload *w = &s->sc->workload;
	int32_t tk[EC_TX_MAX_ENTRIES], own[EC_TX_MAX_ENTRIES], own2[EC_TX_MAX_ENTRIES];
	int n = 0, want;
	double u = sim_rand01(&s->rng_wl);
	int create = u < w->mix_create;
	int destroy = !create && u >= w->mix_create + w->mix_transfer;
	want = (int)w->tokens_min +
	       (int)(sim_rand(&s->rng_wl) % (w->tokens_max - w->tokens_min + 1));
	int twin = sim_rand01(&s->rng_wl) < w->double_sign;
	s->wl_next_k++;
	if (!s->wl_started) {
		s->wl_started = 1;
		s->wl_msgs_base = s->delivered;
	}
	if (create) {
		for (; n < want; n++)
			if ((tk[n] = new_token(s)) < 0)
				return;
	} else {
		for (; n < want; n++)
			if ((tk[n] = idle_take(s)) < 0)
				break;
	}
	if (!n) {
		s->wl_skipped++;
		return;
	}
	sort_toks(s, tk, n);
	for (int e = 0; e < n; e++) {
		int32_t cur = s->toks[tk[e]].owner;
		if (create)
			own[e] = cur;
		else
			own[e] = destroy ? -1 : (int32_t)((cur + 1 + sim_rand(&s->rng_wl) %
						    (SIM_OWNERS - 1)) % SIM_OWNERS);
		/* the twin's owner differs from both the current and own[e] */
		own2[e] = (int32_t)((cur + SIM_OWNERS / 2) % SIM_OWNERS);
		if (own2[e] == own[e])
			own2[e] = (own2[e] + 1) % SIM_OWNERS;
	}
	size_t p1 = entry_peer(s, &s->toks[tk[0]].id, SIZE_MAX);
	long k = submit(s, tk, own, n, p1, 0);
	if (k < 0)
		return;
	s->wl_submitted++;
	for (int e = 0; e < n; e++)
		s->toks[tk[e]].busy = (int32_t)k;
	if (twin) {
		size_t p2 = entry_peer(s, &s->toks[tk[0]].id, p1);
		long k2 = submit(s, tk, own2, n, p2, 0);
		if (k2 >= 0) {
			s->sent[k].pair = (int32_t)k2;
			s->sent[k2].pair = (int32_t)k;
			s->wl_submitted++;
			s->double_signed++;
		}
	}
}

void sim_wl_step(ec_sim *s)
{
	expire(s);
	if (s->setup_tokens_left && s->setup_next_us <= s->now_us)
		setup_step(s);
	else
		wl_step(s);
}

void sim_wl_committed(ec_sim *s, size_t i, const ec_id *txid)
{
	size_t k = sim_idmap_get(&s->txmap, txid);
	if (k == SIZE_MAX)
		return; /* identity tokens and other non-workload txs */
	sim_sent *x = &s->sent[k];
	uint8_t full = (uint8_t)((1u << x->n) - 1);
	ec_chk_nbhd nbs[EC_TX_MAX_ENTRIES];
	for (int e = 0; e < x->n; e++) {
		size_t nb[2 * EC_NEIGHBOURS], m = sim_neighbourhood(s, &s->toks[x->tok[e]].id, nb);
		nbs[e].n = (uint32_t)m;
		for (size_t j = 0; j < m; j++)
			nbs[e].node[j] = (uint32_t)nb[j];
	}
	sim_inv_commit(s, i, k, nbs);
	for (int e = 0; e < x->n; e++) {
		size_t m = nbs[e].n;
		int in = 0;
		uint8_t bit = (uint8_t)(1u << e);
		for (size_t j = 0; j < m; j++)
			in |= nbs[e].node[j] == i;
		if (!in)
			continue;
		x->any_mask |= bit;
		if (x->pair >= 0) {
			sim_sent *y = &s->sent[x->pair];
			if ((y->any_mask & bit) && !(x->conflict_mask & bit)) {
				x->conflict_mask |= bit;
				y->conflict_mask |= bit;
				s->conflicts++;
				if (getenv("ECSIM_DEBUG"))
					fprintf(stderr, "conflict t=%llu ms: peer %zu commits tx %zu "
						"(handed to peer %u, %s id) while its twin %d (handed to "
						"peer %u) has %d neighbour commits\n",
						(unsigned long long)s->now_us / 1000, i, k, x->at,
						ec_id_cmp(&x->txid, &y->txid) < 0 ? "lower" : "higher",
						x->pair, y->at, y->cnt[e]);
			}
		}
		if (x->cnt[e] < 255)
			x->cnt[e]++;
		if (2 * (size_t)x->cnt[e] > m)
			x->done_mask |= bit;
	}
	if (x->done_mask != full || x->commit_us != SIM_NEVER)
		return;
	x->commit_us = s->now_us;
	if (x->setup) {
		s->setup_committed++;
	} else {
		s->wl_committed++;
		if (sim_grow((void **)&s->lat_ms, &s->cap_lat, s->n_lat + 1, sizeof *s->lat_ms)) {
			s->fatal = EC_ERR_NOMEM;
			return;
		}
		s->lat_ms[s->n_lat++] = (double)(x->commit_us - x->submit_us) / 1000.0;
	}
	for (int e = 0; e < x->n; e++) {
		sim_tok *t = &s->toks[x->tok[e]];
		if (ec_id_eq(&t->head, &x->prev[e])) {
			t->head = x->txid;
			t->head_ts = x->ts;
			t->owner = x->new_owner[e];
		}
	}
	release(s, k);
}
