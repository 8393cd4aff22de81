/* ec_sim_swap.c - peer swapping and attacks in ecsim (issue 8; PROTOCOL
 * 14d / 14d.1, docs/SCENARIOS.md "swap" and "Attacks").
 *
 *   swap section   every honest peer runs the node's swap glue with the
 *                  scenario's parameters; time and randomness are the
 *                  simulator's (the node's own seeded stream), so a run is
 *                  still a function of (scenario, seed, signatures)
 *   discovery      at the start each peer gets `swap.discovery` hellos from
 *                  random peers it does not know (a stand-in for the
 *                  daemon's introductions): with a full set they become its
 *                  backups; attacks may add one such hello every
 *                  discovery_ms for their victims
 *   hold           an attacker_group enters the peer sets of the `victims`
 *                  honest peers closest to its target; the attacker "holds
 *                  its position" at a victim while every attacker peer that
 *                  was a swappable neighbour of the victim when the attack
 *                  began is still in the victim's peer table (the design's
 *                  model: coordination is lost with the first position)
 *   eclipse        a new peer joins knowing only the group and starts chain
 *                  sync; measured: attacker share of its peer table, share
 *                  of sample tokens whose neighbourhood in its view is
 *                  attacker-majority, sync progress
 *   withhold       attackers send their victims nothing but hellos
 *
 * Attacker peers never swap (they want to hold).  The measurement reads the
 * nodes (peer tables, the swap module) and never changes them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ec/crypto.h"
#include "ec/swap.h"
#include "sim/ec_plot.h"
#include "sim/ec_sim_eng.h"
#include "sim/ec_sim_int.h"

#define ATK_TOKENS 64 /* sample ring points for the "answers" share */

typedef struct atk_vic {
	uint32_t peer, grp;
	uint32_t *pos;   /* attacker peers in swappable positions at the start */
	uint32_t n_pos, kept, k0; /* kept: attacker peers among its ring-kept;
				   * k0: its swappable neighbours at the start */
	int measured;
	uint64_t lost_us; /* first held position lost, SIM_NEVER = held */
	uint64_t next_disc_us;
} atk_vic;

typedef struct atk_grp {
	const ec_scn_event *ev;
	int gidx;
	uint32_t first, n; /* attacker peers [first, first + n) */
	uint64_t t0_us;
	uint32_t v0, nv;   /* victims */
	double *t, *alive, *model, *share, *answers, *progress;
	size_t ns, cap;
	uint64_t first_honest_us, sync_done_us;
	uint64_t grind; /* placement near: identities mined and thrown away */
} atk_grp;

struct sim_atk {
	atk_grp *g;
	size_t ng;
	atk_vic *vic;
	size_t nv, cap_v;
	int32_t *vic_of; /* peer -> victim index, -1 */
	int32_t *atk_of; /* peer -> group index, -1 */
	int joining_attackers;
	uint64_t probe_us, next_probe_us, sample_us, next_sample_us;
	uint64_t rng;
	ec_id tok[ATK_TOKENS];
};

/* ---- configuration ------------------------------------------------------- */

void sim_swap_node_cfg(ec_sim *s, struct ec_node_cfg *nc, int group)
{
	const ec_scn_swap *w = &s->sc->swap;
	ec_swap_cfg *c = &nc->swap;
	(void)group;
	if (!w->enabled || (s->atk && s->atk->joining_attackers))
		return;
	ec_swap_cfg_default(c);
	c->target_interval_ms = w->interval_ms;
	c->initial_interval_ms = w->initial_interval_ms;
	c->jitter = (double)w->jitter_ms / (double)w->interval_ms;
	c->max_simultaneous = w->max_simultaneous;
	c->adaptation = w->adaptation;
	c->rotate = (uint8_t)w->rotate;
	c->min_neighbours = w->min_neighbours;
	c->cooldown_ms = w->cooldown_ms;
	c->shift_step_ms = w->shift_step_ms;
	c->shift_steps = w->shift_steps;
	nc->swap_enabled = 1;
	nc->swap_set_size = w->set_size;
	nc->swap_keep_ring = (uint8_t)w->keep_ring;
}

/* ---- helpers ------------------------------------------------------------- */

static int knows(const ec_sim *s, size_t v, size_t p)
{
	uint8_t pk[32];
	return ec_node_peer_key(s->peers[v].node, &s->peers[p].ident.peer_id, pk) == EC_OK;
}

/* Ring distance |a - b| on the 2^256 ring, as a big-endian 32-byte value. */
static void ring_dist(uint8_t out[EC_HASH_BYTES], const ec_id *a, const ec_id *b)
{
	uint8_t d1[EC_HASH_BYTES], d2[EC_HASH_BYTES];
	int c1 = 0, c2 = 0;
	for (int i = EC_HASH_BYTES - 1; i >= 0; i--) {
		int x = a->b[i] - b->b[i] - c1, y = b->b[i] - a->b[i] - c2;
		c1 = x < 0;
		c2 = y < 0;
		d1[i] = (uint8_t)(x + (c1 << 8));
		d2[i] = (uint8_t)(y + (c2 << 8));
	}
	memcpy(out, memcmp(d1, d2, EC_HASH_BYTES) <= 0 ? d1 : d2, EC_HASH_BYTES);
}

/* The victim's view of the ring: itself and its peer table. */
static int view_build(const ec_sim *s, size_t v, ec_peerset *ps)
{
	ec_peerset_init(ps);
	if (ec_peerset_add(ps, &s->peers[v].ident.peer_id) != EC_OK)
		return EC_ERR_NOMEM;
	for (size_t p = 0; p < s->n_peers; p++)
		if (p != v && s->peers[p].node && knows(s, v, p) &&
		    ec_peerset_add(ps, &s->peers[p].ident.peer_id) != EC_OK)
			return EC_ERR_NOMEM;
	return EC_OK;
}

static int is_kept(const ec_sim *s, const ec_peerset *view, size_t v, size_t p)
{
	ec_id nb[32];
	size_t k = s->sc->swap.keep_ring, m;
	if (k == 0)
		return 0;
	if (k > 16)
		k = 16;
	m = ec_peerset_neighbourhood(view, &s->peers[v].ident.peer_id, k, nb);
	for (size_t i = 0; i < m; i++)
		if (ec_id_eq(&nb[i], &s->peers[p].ident.peer_id))
			return 1;
	return 0;
}


/* One hello from a random honest online peer that v does not know. */
static void discover(ec_sim *s, struct sim_atk *a, size_t v)
{
	for (int tries = 0; tries < 64; tries++) {
		size_t j = (size_t)(sim_rand(&a->rng) % s->n_peers);
		const sim_peer *p = &s->peers[j];
		if (j == v || p->state != PEER_ONLINE || a->atk_of[j] >= 0 ||
		    p->strategy >= 0 || knows(s, v, j))
			continue;
		(void)ec_node_send_hello(s->peers[j].node, &s->peers[v].ident.peer_id,
					 sim_now_ms(s));
		sim_after(s, j);
		return;
	}
}

/* ---- lifecycle ------------------------------------------------------------ */

int sim_atk_init(ec_sim *s)
{
	const ec_scenario *sc = s->sc;
	struct sim_atk *a;
	int any = sc->swap.enabled;
	ec_id h;
	for (size_t i = 0; i < sc->nevents; i++)
		any |= sc->events[i].kind == EC_SCN_EV_ATTACKER_GROUP;
	if (!any)
		return EC_OK;
	if (!(a = calloc(1, sizeof *a)))
		return EC_ERR_NOMEM;
	s->atk = a;
	a->vic_of = malloc(s->max_peers * sizeof *a->vic_of);
	a->atk_of = malloc(s->max_peers * sizeof *a->atk_of);
	a->g = calloc(sc->nevents + 1, sizeof *a->g);
	if (!a->vic_of || !a->atk_of || !a->g)
		return EC_ERR_NOMEM;
	for (size_t i = 0; i < s->max_peers; i++)
		a->vic_of[i] = a->atk_of[i] = -1;
	ec_hash(&h, "ec/sim/attack", s->seed, EC_HASH_BYTES);
	for (int i = 0; i < 8; i++)
		a->rng = a->rng << 8 | h.b[i];
	for (int t = 0; t < ATK_TOKENS; t++)
		for (int b = 0; b < EC_HASH_BYTES; b += 8) {
			uint64_t r = sim_rand(&a->rng);
			memcpy(&a->tok[t].b[b], &r, 8);
		}
	a->probe_us = 1000000;
	if (sc->swap.enabled) {
		uint64_t p = sc->swap.interval_ms * 1000 / 64;
		a->probe_us = p < 100000 ? 100000 : p > 1000000 ? 1000000 : p;
	}
	a->sample_us = sc->report.interval_ms * 1000;
	a->next_probe_us = a->next_sample_us = SIM_NEVER;
	/* initial discovery: backups for every peer whose set is full */
	if (sc->swap.enabled && sc->swap.discovery && s->n_peers > 1)
		for (size_t i = 0; i < s->n_peers; i++)
			for (uint32_t k = 0; k < sc->swap.discovery; k++)
				discover(s, a, i);
	return EC_OK;
}

void sim_atk_free(ec_sim *s)
{
	struct sim_atk *a = s->atk;
	if (!a)
		return;
	for (size_t i = 0; i < a->nv; i++)
		free(a->vic[i].pos);
	for (size_t g = 0; a->g && g < a->ng; g++) {
		atk_grp *G = &a->g[g];
		free(G->t);
		free(G->alive);
		free(G->model);
		free(G->share);
		free(G->answers);
		free(G->progress);
	}
	free(a->g);
	free(a->vic);
	free(a->vic_of);
	free(a->atk_of);
	free(a);
	s->atk = NULL;
}

/* ---- the attack event ---------------------------------------------------- */

static int add_victim(ec_sim *s, struct sim_atk *a, size_t v, uint32_t grp)
{
	atk_vic *x;
	if (sim_grow((void **)&a->vic, &a->cap_v, a->nv + 1, sizeof *a->vic) != EC_OK)
		return EC_ERR_NOMEM;
	x = &a->vic[a->nv];
	memset(x, 0, sizeof *x);
	x->peer = (uint32_t)v;
	x->grp = grp;
	x->lost_us = SIM_NEVER;
	x->next_disc_us = a->g[grp].ev->discovery_ms
				  ? s->now_us + a->g[grp].ev->discovery_ms * 1000 : SIM_NEVER;
	a->vic_of[v] = (int32_t)a->nv++;
	return EC_OK;
}

/* peer_create's draws (ec_sim.c), replayed on a copy of the stream: the
 * peer id sim_peer_join would mine from state r (region drawn first when
 * region < 0). */
static void fill_from(void *ctx, void *out, size_t len)
{
	uint8_t *p = out;
	while (len) {
		uint64_t v = sim_rand(ctx);
		size_t k = len < 8 ? len : 8;
		memcpy(p, &v, k);
		p += k;
		len -= k;
	}
}

static int id_from_state(const ec_sim *s, uint64_t r, int region, ec_id *out)
{
	uint8_t seed[32];
	uint64_t prng;
	ec_keypair kp;
	ec_identity id;
	int err;
	if (region < 0)
		(void)sim_rand01(&r);
	fill_from(&r, seed, sizeof seed);
	prng = sim_rand(&r);
	if ((err = ec_keypair_from_seed(&kp, seed)) != EC_OK ||
	    (err = ec_identity_mine(&id, kp.pk, SIM_NETWORK_ID, sim_now_ms(s) / 1000, &s->pow,
				    fill_from, &prng, UINT64_MAX, NULL)) != EC_OK)
		return err;
	*out = id.peer_id;
	return EC_OK;
}

/* Ring distance from target of the k-th closest (1-based) honest online
 * peer. */
static void kth_dist(const ec_sim *s, const struct sim_atk *a, const ec_id *t, uint32_t k,
		     uint8_t out[EC_HASH_BYTES])
{
	uint8_t prev[EC_HASH_BYTES];
	memset(prev, 0, sizeof prev);
	memset(out, 0xff, EC_HASH_BYTES);
	for (uint32_t r = 0; r < k; r++) {
		uint8_t best[EC_HASH_BYTES], d[EC_HASH_BYTES];
		int found = 0;
		memset(best, 0xff, sizeof best);
		for (size_t i = 0; i < s->n_peers; i++) {
			if (s->peers[i].state != PEER_ONLINE || a->atk_of[i] >= 0 ||
			    s->peers[i].strategy >= 0)
				continue;
			ring_dist(d, &s->peers[i].ident.peer_id, t);
			if ((r == 0 || memcmp(d, prev, EC_HASH_BYTES) > 0) &&
			    memcmp(d, best, EC_HASH_BYTES) < 0) {
				memcpy(best, d, EC_HASH_BYTES);
				found = 1;
			}
		}
		if (!found)
			return;
		memcpy(prev, best, EC_HASH_BYTES);
		memcpy(out, best, EC_HASH_BYTES);
	}
}

void sim_atk_event(ec_sim *s, const ec_scn_event *ev)
{
	struct sim_atk *a = s->atk;
	atk_grp *G;
	uint8_t target[EC_HASH_BYTES];
	ec_id tid;
	size_t idx;
	int err = EC_OK;
	if (!a)
		goto fail_msg;
	G = &a->g[a->ng];
	memset(G, 0, sizeof *G);
	G->ev = ev;
	G->gidx = sim_group_index(s, ev->group, 1);
	G->first = (uint32_t)s->n_peers;
	G->t0_us = s->now_us;
	G->first_honest_us = G->sync_done_us = SIM_NEVER;
	uint8_t radius[EC_HASH_BYTES];
	if (ev->near) { /* target first: the ids are ground toward it */
		if (ev->target_set) {
			memcpy(tid.b, ev->target, EC_HASH_BYTES);
		} else {
			for (int b = 0; b < EC_HASH_BYTES; b += 8) {
				uint64_t r = sim_rand(&s->rng_ev);
				memcpy(tid.b + b, &r, 8);
			}
		}
		kth_dist(s, a, &tid, ev->victims, radius);
	}
	a->joining_attackers = 1;
	for (uint32_t k = 0; k < ev->count && err == EC_OK; k++) {
		/* placement near: advance the event stream until the peer it
		 * would create lands within the victims' arc (grinding ids, as
		 * an attacker mining identities would) */
		for (uint32_t tries = 0; ev->near && tries < 1000000; tries++) {
			ec_id cand;
			uint8_t d[EC_HASH_BYTES];
			if ((err = id_from_state(s, s->rng_ev, ev->region, &cand)) != EC_OK)
				break;
			ring_dist(d, &cand, &tid);
			if (memcmp(d, radius, EC_HASH_BYTES) < 0)
				break;
			(void)sim_rand(&s->rng_ev);
			G->grind++;
		}
		if (err == EC_OK)
			err = sim_peer_join(s, ev->region, G->gidx, &s->rng_ev, 1, &idx);
		if (err == EC_OK)
			a->atk_of[idx] = (int32_t)a->ng;
	}
	a->joining_attackers = 0;
	if (err != EC_OK)
		goto fail_msg;
	G->n = ev->count;
	G->v0 = (uint32_t)a->nv;
	if (ev->near) {
		memcpy(target, tid.b, EC_HASH_BYTES);
	} else if (ev->target_set) {
		memcpy(target, ev->target, EC_HASH_BYTES);
	} else {
		for (int b = 0; b < EC_HASH_BYTES; b += 8) {
			uint64_t r = sim_rand(&s->rng_ev);
			memcpy(target + b, &r, 8);
		}
	}
	memcpy(tid.b, target, EC_HASH_BYTES);
	if (ev->eclipse) {
		/* the joiner knows only the group, and syncs from it */
		if ((err = sim_peer_join(s, ev->region, -1, &s->rng_ev, 0, &idx)) != EC_OK)
			goto fail_msg;
		for (uint32_t k = 0; k < G->n; k++)
			sim_link_pair(s, idx, G->first + k);
		if ((err = add_victim(s, a, idx, (uint32_t)a->ng)) != EC_OK)
			goto fail_msg;
		(void)ec_node_sync_start(s->peers[idx].node, EC_SYNC_CHAIN, sim_now_ms(s));
		sim_after(s, idx);
	} else {
		/* the `victims` honest online peers closest to the target */
		for (uint32_t k = 0; k < ev->victims; k++) {
			size_t best = SIZE_MAX;
			uint8_t bd[EC_HASH_BYTES], d[EC_HASH_BYTES];
			for (size_t i = 0; i < s->n_peers; i++) {
				const sim_peer *p = &s->peers[i];
				if (p->state != PEER_ONLINE || a->atk_of[i] >= 0 ||
				    a->vic_of[i] >= 0 || p->strategy >= 0)
					continue;
				ring_dist(d, &p->ident.peer_id, &tid);
				if (best == SIZE_MAX || memcmp(d, bd, EC_HASH_BYTES) < 0) {
					best = i;
					memcpy(bd, d, EC_HASH_BYTES);
				}
			}
			if (best == SIZE_MAX)
				break;
			for (uint32_t m = 0; m < G->n; m++)
				sim_link_pair(s, best, G->first + m);
			if ((err = add_victim(s, a, best, (uint32_t)a->ng)) != EC_OK)
				goto fail_msg;
			sim_after(s, best);
		}
	}
	G->nv = (uint32_t)a->nv - G->v0;
	a->ng++;
	if (a->next_probe_us == SIM_NEVER)
		a->next_probe_us = s->now_us + a->probe_us;
	if (a->next_sample_us == SIM_NEVER)
		a->next_sample_us = s->now_us;
	return;
fail_msg:
	if (!s->fatal) {
		s->fatal = err ? err : EC_ERR_NOMEM;
		snprintf(s->err, sizeof s->err, "attacker_group: %s", ec_strerror(s->fatal));
	}
}

int sim_atk_drop(const ec_sim *s, size_t from, size_t to, uint8_t type)
{
	const struct sim_atk *a = s->atk;
	int32_t g = a->atk_of[from], v = a->vic_of[to];
	return g >= 0 && v >= 0 && a->vic[v].grp == (uint32_t)g && a->g[g].ev->withhold &&
	       type != EC_MSG_HELLO;
}

int sim_atk_is_attacker(const ec_sim *s, size_t i)
{
	return s->atk && i < s->max_peers && s->atk->atk_of[i] >= 0;
}

uint64_t sim_atk_next(const ec_sim *s)
{
	const struct sim_atk *a = s->atk;
	return a->next_probe_us < a->next_sample_us ? a->next_probe_us : a->next_sample_us;
}

/* ---- measurement --------------------------------------------------------- */

/* The hold set: which attacker peers are swappable neighbours now. */
static void record(ec_sim *s, struct sim_atk *a, atk_vic *x)
{
	const atk_grp *G = &a->g[x->grp];
	ec_node *n = s->peers[x->peer].node;
	const ec_swap *sw = ec_node_swap_get(n);
	ec_peerset view;
	ec_swap_status st;
	x->measured = 1;
	if (!(x->pos = calloc(G->n + 1, sizeof *x->pos)) ||
	    view_build(s, x->peer, &view) != EC_OK) {
		ec_peerset_free(&view);
		s->fatal = EC_ERR_NOMEM;
		snprintf(s->err, sizeof s->err, "attack measurement: out of memory");
		return;
	}
	if (sw && ec_node_swap_status(n, &st) == EC_OK)
		x->k0 = st.neighbours;
	else
		x->k0 = (uint32_t)ec_node_peer_count(n);
	for (uint32_t k = 0; k < G->n; k++) {
		size_t p = G->first + k;
		if (!knows(s, x->peer, p))
			continue;
		if (sw ? ec_swap_role(sw, &s->peers[p].ident.peer_id) == EC_SWAP_NEIGHBOUR
		       : !is_kept(s, &view, x->peer, p))
			x->pos[x->n_pos++] = (uint32_t)p;
		else
			x->kept++;
	}
	if (!sw) { /* without swapping: the set minus the ring-kept peers */
		uint32_t kept_all = 0;
		for (size_t i = 0; i < view.n; i++) {
			size_t p = sim_index_of(s, &view.ids[i]);
			kept_all += p != x->peer && is_kept(s, &view, x->peer, p);
		}
		x->k0 -= kept_all < x->k0 ? kept_all : x->k0;
	}
	ec_peerset_free(&view);
}

static void probe(ec_sim *s, struct sim_atk *a)
{
	for (size_t i = 0; i < a->nv && !s->fatal; i++) {
		atk_vic *x = &a->vic[i];
		atk_grp *G = &a->g[x->grp];
		if (!x->measured)
			record(s, a, x);
		if (x->lost_us == SIM_NEVER)
			for (uint32_t k = 0; k < x->n_pos; k++)
				if (!knows(s, x->peer, x->pos[k])) {
					x->lost_us = s->now_us;
					break;
				}
		if (s->now_us >= x->next_disc_us) {
			discover(s, a, x->peer);
			x->next_disc_us += G->ev->discovery_ms * 1000;
		}
		if (G->ev->eclipse) {
			ec_sync_status st;
			if (G->first_honest_us == SIM_NEVER)
				for (size_t p = 0; p < s->n_peers; p++)
					if (p != x->peer && a->atk_of[p] < 0 && knows(s, x->peer, p)) {
						G->first_honest_us = s->now_us;
						break;
					}
			if (G->sync_done_us == SIM_NEVER &&
			    ec_node_sync_status(s->peers[x->peer].node, &st, NULL, 0) == EC_OK &&
			    st.caught_up_at)
				G->sync_done_us = s->now_us;
		}
	}
}

/* Attacker share of v's table and of the sample tokens' neighbourhoods in
 * its view (a token counts when attackers are a strict majority of it). */
static void shares(const ec_sim *s, const struct sim_atk *a, const atk_vic *x,
		   double *tab, double *ans)
{
	ec_peerset view;
	size_t na = 0, nt = 0, maj = 0;
	*tab = *ans = NAN;
	if (view_build(s, x->peer, &view) != EC_OK) {
		ec_peerset_free(&view);
		return;
	}
	for (size_t i = 0; i < view.n; i++) {
		size_t p = sim_index_of(s, &view.ids[i]);
		na += p != SIZE_MAX && a->atk_of[p] == (int32_t)x->grp;
	}
	*tab = view.n > 1 ? (double)na / (double)(view.n - 1) : NAN;
	for (int t = 0; t < ATK_TOKENS; t++) {
		ec_id nb[2 * EC_NEIGHBOURS];
		size_t m = ec_peerset_neighbourhood(&view, &a->tok[t], EC_NEIGHBOURS, nb), c = 0;
		for (size_t k = 0; k < m; k++) {
			size_t p = sim_index_of(s, &nb[k]);
			c += p != SIZE_MAX && a->atk_of[p] == (int32_t)x->grp;
		}
		nt++;
		maj += m && 2 * c > m;
	}
	*ans = nt ? (double)maj / (double)nt : NAN;
	ec_peerset_free(&view);
}

/* Model survival of victim x at time t (us since the attack): e^(-n S t)
 * with S = 1 / (k0 x interval) per position (one rotation per round). */
static double model_p(const ec_sim *s, const atk_vic *x, double t_us)
{
	double I = (double)s->sc->swap.interval_ms * 1000.0;
	if (!s->sc->swap.enabled || !x->k0)
		return 1.0;
	return exp(-(double)x->n_pos * t_us / ((double)x->k0 * I));
}

static void sample(ec_sim *s, struct sim_atk *a)
{
	for (size_t g = 0; g < a->ng && !s->fatal; g++) {
		atk_grp *G = &a->g[g];
		double alive = 0, model = 0, sh = 0, an = 0, pr = NAN;
		size_t cnt = 0, nsh = 0;
		double t_rel = (double)(s->now_us - G->t0_us);
		for (uint32_t v = 0; v < G->nv; v++) {
			const atk_vic *x = &a->vic[G->v0 + v];
			double tb, ab;
			if (x->measured && x->n_pos) {
				alive += x->lost_us == SIM_NEVER;
				model += model_p(s, x, t_rel);
				cnt++;
			}
			shares(s, a, x, &tb, &ab);
			if (isfinite(tb) && isfinite(ab)) {
				sh += tb;
				an += ab;
				nsh++;
			}
			if (G->ev->eclipse) {
				ec_sync_status st;
				if (ec_node_sync_status(s->peers[x->peer].node, &st, NULL, 0) == EC_OK)
					pr = st.progress;
			}
		}
		if (sim_grow((void **)&G->t, &G->cap, G->ns + 1, sizeof(double)) != EC_OK) {
			s->fatal = EC_ERR_NOMEM;
			snprintf(s->err, sizeof s->err, "attack series: out of memory");
			return;
		}
		size_t cap = G->cap;
		G->alive = realloc(G->alive, cap * sizeof(double));
		G->model = realloc(G->model, cap * sizeof(double));
		G->share = realloc(G->share, cap * sizeof(double));
		G->answers = realloc(G->answers, cap * sizeof(double));
		G->progress = realloc(G->progress, cap * sizeof(double));
		if (!G->alive || !G->model || !G->share || !G->answers || !G->progress) {
			s->fatal = EC_ERR_NOMEM;
			snprintf(s->err, sizeof s->err, "attack series: out of memory");
			return;
		}
		G->t[G->ns] = t_rel / 1000.0;
		G->alive[G->ns] = cnt ? alive / (double)cnt : NAN;
		G->model[G->ns] = cnt ? model / (double)cnt : NAN;
		G->share[G->ns] = nsh ? sh / (double)nsh : NAN;
		G->answers[G->ns] = nsh ? an / (double)nsh : NAN;
		G->progress[G->ns] = pr;
		G->ns++;
	}
}

void sim_atk_step(ec_sim *s)
{
	struct sim_atk *a = s->atk;
	if (s->now_us >= a->next_probe_us) {
		probe(s, a);
		a->next_probe_us += a->probe_us;
	}
	if (s->now_us >= a->next_sample_us) {
		if (a->next_sample_us == s->now_us)
			probe(s, a); /* a sample sees this instant's losses */
		sample(s, a);
		a->next_sample_us += a->sample_us;
	}
}

/* ---- outputs --------------------------------------------------------------- */

static json_t *u64j(uint64_t v)
{
	return v == SIM_NEVER ? json_null() : json_integer((json_int_t)v);
}

/* The time (ms since the attack) at which the share of victims still held
 * first fell to <= 1 - q, from the exact loss times; SIM_NEVER if never. */
static uint64_t quantile_ms(const struct sim_atk *a, const atk_grp *G, double q)
{
	uint64_t *l = malloc((G->nv + 1) * sizeof *l), r = SIM_NEVER;
	size_t n = 0, m = 0;
	if (!l)
		return SIM_NEVER;
	for (uint32_t v = 0; v < G->nv; v++) {
		const atk_vic *x = &a->vic[G->v0 + v];
		if (!x->measured || !x->n_pos)
			continue;
		m++;
		if (x->lost_us != SIM_NEVER)
			l[n++] = (x->lost_us - G->t0_us) / 1000;
	}
	for (size_t i = 1; i < n; i++) /* insertion sort: victims are few */
		for (size_t j = i; j > 0 && l[j - 1] > l[j]; j--) {
			uint64_t t = l[j];
			l[j] = l[j - 1];
			l[j - 1] = t;
		}
	size_t need = (size_t)ceil(q * (double)m - 1e-9);
	if (m && need >= 1 && need <= n)
		r = l[need - 1];
	free(l);
	return r;
}

json_t *sim_atk_json(ec_sim *s, int *ok)
{
	struct sim_atk *a = s->atk;
	json_t *o = json_object(), *tot = json_object(), *att = json_array();
	ec_swap_status sum, st;
	uint64_t nodes = 0;
	ec_node_swap_counters kc, ksum;
	memset(&sum, 0, sizeof sum);
	memset(&ksum, 0, sizeof ksum);
	ec_sim_json_put(o, "enabled", json_boolean(s->sc->swap.enabled), ok);
	ec_sim_json_put(o, "totals", tot, ok);
	ec_sim_json_put(o, "attacks", att, ok);
	if (!*ok)
		return o;
	for (size_t i = 0; i < s->n_peers; i++) {
		if (!s->peers[i].node || ec_node_swap_status(s->peers[i].node, &st) != EC_OK)
			continue;
		nodes++;
		sum.rounds += st.rounds;
		sum.rounds_skipped += st.rounds_skipped;
		sum.started += st.started;
		sum.done += st.done;
		sum.aborted += st.aborted;
		sum.rotations += st.rotations;
		sum.emergencies += st.emergencies;
		sum.no_replacement += st.no_replacement;
		sum.waits_min_size += st.waits_min_size;
		sum.waits_pending += st.waits_pending;
		if (ec_node_swap_counters_get(s->peers[i].node, &kc) == EC_OK) {
			ksum.hellos_pooled += kc.hellos_pooled;
			ksum.hellos_refused += kc.hellos_refused;
			ksum.repooled += kc.repooled;
		}
	}
	ec_sim_json_put(tot, "nodes", u64j(nodes), ok);
	ec_sim_json_put(tot, "rounds", u64j(sum.rounds), ok);
	ec_sim_json_put(tot, "rounds_skipped", u64j(sum.rounds_skipped), ok);
	ec_sim_json_put(tot, "started", u64j(sum.started), ok);
	ec_sim_json_put(tot, "done", u64j(sum.done), ok);
	ec_sim_json_put(tot, "aborted", u64j(sum.aborted), ok);
	ec_sim_json_put(tot, "rotations", u64j(sum.rotations), ok);
	ec_sim_json_put(tot, "emergencies", u64j(sum.emergencies), ok);
	ec_sim_json_put(tot, "no_replacement", u64j(sum.no_replacement), ok);
	ec_sim_json_put(tot, "waits_min_size", u64j(sum.waits_min_size), ok);
	ec_sim_json_put(tot, "waits_pending", u64j(sum.waits_pending), ok);
	ec_sim_json_put(tot, "hellos_pooled", u64j(ksum.hellos_pooled), ok);
	ec_sim_json_put(tot, "hellos_refused", u64j(ksum.hellos_refused), ok);
	ec_sim_json_put(tot, "repooled", u64j(ksum.repooled), ok);
	for (size_t g = 0; *ok && g < a->ng; g++) {
		const atk_grp *G = &a->g[g];
		json_t *x = json_object(), *lost = json_array(), *npos = json_array(),
		       *k0 = json_array();
		double sum_n = 0, sum_k = 0, kept = 0;
		size_t cnt = 0;
		ec_sim_json_put(x, "name", json_string(G->ev->group), ok);
		ec_sim_json_put(x, "mode", json_string(G->ev->eclipse ? "eclipse" : "hold"), ok);
		ec_sim_json_put(x, "count", u64j(G->n), ok);
		ec_sim_json_put(x, "victims", u64j(G->nv), ok);
		ec_sim_json_put(x, "at_ms", u64j(G->t0_us / 1000), ok);
		ec_sim_json_put(x, "placement", json_string(G->ev->near ? "near" : "random"), ok);
		ec_sim_json_put(x, "identities_discarded", u64j(G->grind), ok);
		for (uint32_t v = 0; v < G->nv; v++) {
			const atk_vic *y = &a->vic[G->v0 + v];
			kept += y->kept;
			if (y->measured && y->n_pos) {
				sum_n += y->n_pos;
				sum_k += y->k0;
				cnt++;
			}
			(void)json_array_append_new(lost, y->lost_us == SIM_NEVER
								 ? json_null()
								 : u64j((y->lost_us - G->t0_us) / 1000));
			(void)json_array_append_new(npos, u64j(y->n_pos));
			(void)json_array_append_new(k0, u64j(y->k0));
		}
		ec_sim_json_put(x, "lost_ms", lost, ok);
		ec_sim_json_put(x, "positions", npos, ok);
		ec_sim_json_put(x, "swappable", k0, ok);
		ec_sim_json_put(x, "kept_positions", json_real(kept), ok);
		ec_sim_json_put(x, "positions_mean", cnt ? json_real(sum_n / cnt) : json_null(), ok);
		ec_sim_json_put(x, "swappable_mean", cnt ? json_real(sum_k / cnt) : json_null(), ok);
		if (s->sc->swap.enabled && cnt) {
			/* S per position and the model's 95 % window, from the means */
			double I = (double)s->sc->swap.interval_ms, S = 1.0 / ((sum_k / cnt) * I);
			ec_sim_json_put(x, "model_rate_per_position_per_min",
					json_real(S * 60000.0), ok);
			ec_sim_json_put(x, "model_t95_ms", json_real(log(20.0) / ((sum_n / cnt) * S)),
					ok);
		}
		ec_sim_json_put(x, "design_t95_ms",
				json_real(log(20.0) / ((double)G->n / 1800000.0)), ok);
		ec_sim_json_put(x, "t50_ms", u64j(quantile_ms(a, G, 0.5)), ok);
		ec_sim_json_put(x, "t95_ms", u64j(quantile_ms(a, G, 0.95)), ok);
		if (G->ns) {
			ec_sim_json_put(x, "held_final", ec_sim_json_real(G->alive[G->ns - 1]), ok);
			ec_sim_json_put(x, "table_share_final", ec_sim_json_real(G->share[G->ns - 1]),
					ok);
			ec_sim_json_put(x, "answers_share_final",
					ec_sim_json_real(G->answers[G->ns - 1]), ok);
		}
		if (G->ev->eclipse) {
			ec_sim_json_put(x, "first_honest_ms",
					G->first_honest_us == SIM_NEVER
						? json_null() : u64j((G->first_honest_us - G->t0_us) / 1000),
					ok);
			ec_sim_json_put(x, "sync_caught_up_ms",
					G->sync_done_us == SIM_NEVER
						? json_null() : u64j((G->sync_done_us - G->t0_us) / 1000),
					ok);
			ec_sim_json_put(x, "sync_progress_final",
					G->ns ? ec_sim_json_real(G->progress[G->ns - 1]) : json_null(), ok);
		}
		if (json_array_append_new(att, x))
			*ok = 0;
	}
	return o;
}

int sim_atk_write(ec_sim *s, const char *dir, char *err, size_t errlen)
{
	static const char *const cols[] = {"t_ms", "group", "held", "model", "table_share",
					   "answers_share", "sync_progress"};
	struct sim_atk *a = s->atk;
	ec_csv *csv;
	int rc;
	if (!a->ng)
		return EC_OK;
	if ((rc = ec_csv_open(&csv, dir, "attack.csv", cols, 7, err, errlen)))
		return rc;
	for (size_t g = 0; g < a->ng; g++) {
		const atk_grp *G = &a->g[g];
		for (size_t r = 0; r < G->ns; r++) {
			double row[7] = {G->t[r], (double)g, G->alive[r], G->model[r], G->share[r],
					 G->answers[r], G->progress[r]};
			if ((rc = ec_csv_row(csv, row))) {
				ec_csv_abort(csv);
				snprintf(err, errlen, "attack.csv: %s", ec_strerror(rc));
				return rc;
			}
		}
	}
	if ((rc = ec_csv_close(csv, err, errlen)))
		return rc;

	/* survival (hold groups) and shares (all groups), minutes since the attack */
	size_t ns = 0;
	ec_plot_series *se = calloc(3 * a->ng + 1, sizeof *se);
	char (*names)[96] = calloc(3 * a->ng + 1, sizeof *names);
	double **xm = calloc(a->ng + 1, sizeof *xm);
	if (!se || !names || !xm) {
		rc = EC_ERR_NOMEM;
		goto out;
	}
	for (size_t g = 0; g < a->ng; g++) {
		const atk_grp *G = &a->g[g];
		if (!(xm[g] = malloc((G->ns + 1) * sizeof **xm))) {
			rc = EC_ERR_NOMEM;
			goto out;
		}
		for (size_t r = 0; r < G->ns; r++)
			xm[g][r] = G->t[r] / 60000.0;
	}
	for (int pass = 0; pass < 2; pass++) {
		ec_plot_line c;
		char *svg = NULL;
		size_t len;
		ns = 0;
		for (size_t g = 0; g < a->ng; g++) {
			const atk_grp *G = &a->g[g];
			if (pass == 0 && G->ev->eclipse)
				continue;
#define ATK_SERIES(fmt, yv)                                                         \
	do {                                                                          \
		snprintf(names[ns], sizeof names[ns], fmt, G->ev->group);             \
		se[ns] = (ec_plot_series){names[ns], xm[g], (yv), G->ns};             \
		ns++;                                                                 \
	} while (0)
			if (pass == 0) {
				ATK_SERIES("%s measured", G->alive);
				if (s->sc->swap.enabled)
					ATK_SERIES("%s model e^(-nSt)", G->model);
			} else {
				ATK_SERIES("%s table share", G->share);
				ATK_SERIES("%s answers share", G->answers);
				if (G->ev->eclipse)
					ATK_SERIES("%s sync progress", G->progress);
			}
#undef ATK_SERIES
		}
		if (!ns)
			continue;
		memset(&c, 0, sizeof c);
		c.title = pass == 0 ? "Attacker position held (all swappable positions)"
				    : "Attacker share of victims' peers / answers";
		c.xlabel = "minutes since the attack";
		c.ylabel = pass == 0 ? "fraction of victims still held" : "fraction";
		c.ymin = 0;
		c.ymax = 1;
		c.series = se;
		c.nseries = ns;
		if ((rc = ec_plot_line_svg(&svg, &len, &c)) != EC_OK)
			goto out;
		rc = ec_report_write_file(dir, pass == 0 ? "attack_survival.svg" : "attack_share.svg",
					  svg, len, err, errlen);
		free(svg);
		if (rc)
			goto out;
	}
out:
	if (rc == EC_ERR_NOMEM)
		snprintf(err, errlen, "attack plots: out of memory");
	for (size_t g = 0; xm && g < a->ng; g++)
		free(xm[g]);
	free(xm);
	free(se);
	free(names);
	return rc;
}
