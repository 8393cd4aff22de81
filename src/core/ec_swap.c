/* ec_swap.c - dynamic peer swapping: metrics and the composite score, the
 * backup pool, the schedule with its rollout, diversity, the per-swap
 * state machine and the safety modes (swap.h; docs/PROTOCOL.md 14d).
 *
 * The design ("Dynamic Peer Swapping for Enhanced Security"):
 *   "Phase 1 - Replacement Candidate Identification ... Phase 4 - Gradual
 *    Swap Execution" and "1. Connection Establishment 2. Synchronization
 *    3. Workload Transfer 4. Connection Termination 5. Neighborhood
 *    Update".
 * Phase 1 is the score (lower = swap first) with the rotation fallback;
 * phases 2-3 are the backup pool (discovery and verification are the
 * node's; warmth is the sync engine's report) and pick_replacement; phase 4
 * and steps 1-5 are the op state machine below.
 *
 * Memory: one table of peers (neighbours, newcomers, backups, retired) of
 * at most cfg.max_peers entries, allocated at creation; a fixed array of
 * EC_SWAP_MAX_OPS swaps; a growable action queue.  Lookups are linear: the
 * table holds a neighbourhood and its backups (hundreds), not the network.
 *
 * Deterministic: no clock, no randomness but cfg.rng (one 8-byte draw per
 * scheduled wait and per rotation pick), no output but actions. */
#include <math.h>
#include <stdlib.h>

#include "ec/swap.h"

const double ec_swap_weights[EC_SWAP_COMPONENTS] = {0.30, 0.20, 0.20, 0.20, 0.10};

void ec_swap_cfg_default(ec_swap_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->initial_interval_ms = 6ull * 3600 * 1000;
	c->target_interval_ms = 30ull * 60 * 1000;
	c->adaptation = 0.1;
	c->jitter = 0.5;
	c->max_simultaneous = 3;
	c->rotate = 1;
	c->candidate_threshold = 0.6;
	c->emergency_threshold = 0.3;
	c->min_samples = 10;
	c->latency_ref_ms = 200;
	c->window = 256;
	c->rep_initial = 0.5;
	c->rep_gain = 0.02;
	c->rep_loss = 0.2;
	c->min_neighbours = 8;
	c->warm_max_lag = 8;
	c->pool_max = 64;
	c->max_peers = 512;
	c->cooldown_ms = 24ull * 3600 * 1000;
	c->shift_steps = 4;
	c->shift_step_ms = 30 * 1000;
	c->phase_timeout_ms = 5 * 60 * 1000;
	c->health_threshold = 0.7;
	c->static_threshold = 0.4;
	c->high_load = 0.8;
	c->conservative_factor = 4;
}

/* ---- scoring -------------------------------------------------------------- */

double ec_swap_score(const ec_swap_cfg *c, const ec_peer_metrics *m,
		     double comp[EC_SWAP_COMPONENTS])
{
	double x[EC_SWAP_COMPONENTS], s = 0;
	x[EC_SWAP_C_ACCURACY] =
		m->n_checked ? (double)m->n_agreed / (double)m->n_checked : 1.0;
	x[EC_SWAP_C_AVAILABILITY] =
		m->n_requests ? (double)m->n_responses / (double)m->n_requests : 1.0;
	x[EC_SWAP_C_SYNC] = m->n_sync ? m->sync_sum / (double)m->n_sync : 1.0;
	x[EC_SWAP_C_REPUTATION] = m->n_equivocations ? 0.0 : m->reputation;
	x[EC_SWAP_C_LATENCY] = m->n_latency ? c->latency_ref_ms /
						      (c->latency_ref_ms + m->latency_ms)
					    : 1.0;
	for (int i = 0; i < EC_SWAP_COMPONENTS; i++) {
		if (!(x[i] >= 0)) /* NaN from a hand-made record */
			x[i] = 0;
		if (x[i] > 1)
			x[i] = 1;
		s += ec_swap_weights[i] * x[i];
		if (comp)
			comp[i] = x[i];
	}
	return s;
}

uint64_t ec_swap_samples(const ec_peer_metrics *m)
{
	return m->n_requests + m->n_checked + m->n_sync;
}

/* ---- the handle ----------------------------------------------------------- */

typedef struct sw_peer {
	ec_peer_metrics m;
	uint8_t role;   /* enum ec_swap_role */
	uint8_t in_op;  /* out- or in-peer of a swap in flight */
	uint64_t lag;   /* backups: blocks behind, UINT64_MAX unknown */
	ec_time added;
	ec_time retired_until;
} sw_peer;

typedef struct sw_op {
	uint8_t used;
	uint8_t phase, reason, step;
	uint32_t id;
	ec_id out, in;
	ec_time started, phase_since;
	ec_time next; /* SHIFT: next step; DISCONNECT: next guard check */
} sw_op;

struct ec_swap {
	ec_swap_cfg cfg;
	sw_peer *peers;
	size_t n;
	sw_op ops[EC_SWAP_MAX_OPS];
	uint32_t next_id;
	ec_swap_action *q;
	size_t qhead, qlen, qcap;
	double interval;     /* rollout interval, ms */
	ec_time next_round;
	double health, load;
	uint8_t paused, manual_static, auto_static, dirty;
	ec_swap_status st;   /* counters */
};

static int tag_ok(const char *t)
{
	return !t || strnlen(t, EC_PEER_TAG_MAX + 1) <= EC_PEER_TAG_MAX;
}

static int unit(double x)
{
	return isfinite(x) && x >= 0 && x <= 1;
}

static int cfg_ok(const ec_swap_cfg *c)
{
	if (!c->rng || !c->target_interval_ms ||
	    c->target_interval_ms > c->initial_interval_ms)
		return 0;
	/* durations stay far from overflowing protocol time (2^40 ms = 35 years) */
	if (c->initial_interval_ms > EC_SWAP_MAX_DURATION || c->shift_step_ms > EC_SWAP_MAX_DURATION ||
	    c->phase_timeout_ms > EC_SWAP_MAX_DURATION || c->cooldown_ms > EC_SWAP_MAX_DURATION ||
	    c->conservative_factor > 1000)
		return 0;
	if (!(isfinite(c->adaptation) && c->adaptation >= 0 && c->adaptation < 1) ||
	    !(isfinite(c->jitter) && c->jitter >= 0 && c->jitter < 1))
		return 0;
	if (!c->max_simultaneous || c->max_simultaneous > EC_SWAP_MAX_OPS)
		return 0;
	if (!unit(c->candidate_threshold) || !unit(c->emergency_threshold) ||
	    c->emergency_threshold > c->candidate_threshold)
		return 0;
	if (!unit(c->health_threshold) || !unit(c->static_threshold) ||
	    c->static_threshold > c->health_threshold || !unit(c->high_load))
		return 0;
	if (!unit(c->rep_initial) || !unit(c->rep_gain) || !unit(c->rep_loss))
		return 0;
	if (!(isfinite(c->latency_ref_ms) && c->latency_ref_ms > 0))
		return 0;
	if (!c->shift_steps || c->shift_steps > 255 || c->window < 2 || !c->pool_max ||
	    !c->max_peers || !c->conservative_factor)
		return 0;
	return 1;
}

static uint64_t draw_u64(ec_swap *sw)
{
	uint8_t b[8];
	uint64_t v = 0;
	sw->cfg.rng(sw->cfg.rng_ctx, b, sizeof b);
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

/* Uniform in [0, 1) from 53 random bits. */
static double draw_unit(ec_swap *sw)
{
	return (double)(draw_u64(sw) >> 11) * 0x1p-53;
}

static int conservative(const ec_swap *sw)
{
	return sw->load > sw->cfg.high_load;
}

static double effective_interval(const ec_swap *sw)
{
	return sw->interval * (conservative(sw) ? sw->cfg.conservative_factor : 1);
}

static void schedule_round(ec_swap *sw, ec_time now)
{
	double f = 1 + sw->cfg.jitter * (2 * draw_unit(sw) - 1);
	double w = effective_interval(sw) * f;
	uint64_t wait = w < 1 ? 1 : (uint64_t)w;
	sw->next_round = now + wait;
}

int ec_swap_new(ec_swap **out, const ec_swap_cfg *cfg, ec_time now)
{
	ec_swap *sw;
	if (!out)
		return EC_ERR_ARG;
	*out = NULL;
	if (!cfg || !cfg_ok(cfg))
		return EC_ERR_ARG;
	sw = calloc(1, sizeof(*sw));
	if (!sw)
		return EC_ERR_NOMEM;
	sw->cfg = *cfg;
	sw->peers = calloc(cfg->max_peers, sizeof(sw_peer));
	if (!sw->peers) {
		free(sw);
		return EC_ERR_NOMEM;
	}
	sw->next_id = 1;
	sw->interval = (double)cfg->initial_interval_ms;
	sw->health = 1;
	sw->load = 0;
	schedule_round(sw, now);
	*out = sw;
	return EC_OK;
}

void ec_swap_free(ec_swap *sw)
{
	if (!sw)
		return;
	free(sw->peers);
	free(sw->q);
	free(sw);
}

/* ---- helpers ----------------------------------------------------------------- */

static sw_peer *find(const ec_swap *sw, const ec_id *id)
{
	for (size_t i = 0; i < sw->n; i++)
		if (ec_id_eq(&sw->peers[i].m.peer, id))
			return &sw->peers[i];
	return NULL;
}

static void drop(ec_swap *sw, sw_peer *p)
{
	size_t i = (size_t)(p - sw->peers);
	sw->peers[i] = sw->peers[sw->n - 1];
	sw->n--;
}

static sw_op *op_by_id(ec_swap *sw, uint32_t id)
{
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++)
		if (sw->ops[i].used && sw->ops[i].id == id)
			return &sw->ops[i];
	return NULL;
}

static sw_op *op_of(ec_swap *sw, const ec_id *peer)
{
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++)
		if (sw->ops[i].used &&
		    (ec_id_eq(&sw->ops[i].out, peer) || ec_id_eq(&sw->ops[i].in, peer)))
			return &sw->ops[i];
	return NULL;
}

static uint32_t inflight(const ec_swap *sw)
{
	uint32_t k = 0;
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++)
		k += sw->ops[i].used;
	return k;
}

static double peer_score(const ec_swap *sw, const sw_peer *p)
{
	return ec_swap_score(&sw->cfg, &p->m, NULL);
}

static int is_emergency(const ec_swap *sw, const sw_peer *p)
{
	if (p->m.n_equivocations)
		return 1;
	return ec_swap_samples(&p->m) >= sw->cfg.min_samples &&
	       peer_score(sw, p) < sw->cfg.emergency_threshold;
}

static int is_candidate(const ec_swap *sw, const sw_peer *p)
{
	return is_emergency(sw, p) || (ec_swap_samples(&p->m) >= sw->cfg.min_samples &&
				       peer_score(sw, p) < sw->cfg.candidate_threshold);
}

static int same_tag(const char *a, const char *b)
{
	return a[0] && strcmp(a, b) == 0;
}

/* Related: the same non-empty operator (or the same peer). */
static int related(const sw_peer *a, const sw_peer *b)
{
	return a == b || same_tag(a->m.operator_tag, b->m.operator_tag);
}

/* Is a peer related to one being swapped out right now? */
static int related_in_flight(ec_swap *sw, const sw_peer *p)
{
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++) {
		const sw_peer *o;
		if (!sw->ops[i].used)
			continue;
		o = find(sw, &sw->ops[i].out);
		if (o && related(o, p))
			return 1;
	}
	return 0;
}

static int is_warm(const ec_swap *sw, const sw_peer *p)
{
	return p->lag != UINT64_MAX && p->lag <= sw->cfg.warm_max_lag;
}

/* Active neighbours: NEIGHBOUR role plus newcomers already synced. */
static uint32_t active_count(ec_swap *sw)
{
	uint32_t k = 0;
	for (size_t i = 0; i < sw->n; i++) {
		const sw_peer *p = &sw->peers[i];
		if (p->role == EC_SWAP_NEIGHBOUR) {
			k++;
		} else if (p->role == EC_SWAP_JOINING) {
			sw_op *o = op_of(sw, &p->m.peer);
			if (o && o->phase >= EC_SWAP_PH_SHIFT)
				k++;
		}
	}
	return k;
}

static int push(ec_swap *sw, uint8_t kind, uint32_t op, const ec_id *peer,
		const ec_id *peer2, double weight)
{
	ec_swap_action *a;
	if (sw->qhead && sw->qhead == sw->qlen)
		sw->qhead = sw->qlen = 0;
	if (sw->qlen == sw->qcap) {
		size_t nc = sw->qcap ? 2 * sw->qcap : 16;
		ec_swap_action *nq = realloc(sw->q, nc * sizeof(*nq));
		if (!nq)
			return EC_ERR_NOMEM;
		sw->q = nq;
		sw->qcap = nc;
	}
	a = &sw->q[sw->qlen++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->op = op;
	a->peer = *peer;
	if (peer2)
		a->peer2 = *peer2;
	a->weight = weight;
	return EC_OK;
}

int ec_swap_poll(ec_swap *sw, ec_swap_action *out)
{
	if (!sw || !out || sw->qhead == sw->qlen)
		return 0;
	*out = sw->q[sw->qhead++];
	return 1;
}

/* How many of the neighbourhood-to-be (neighbours not leaving, but not
 * `except`; newcomers) share p's operator (*op) and region (*rg). */
static void diversity(ec_swap *sw, const sw_peer *p, const sw_peer *except,
		      uint32_t *op, uint32_t *rg)
{
	*op = *rg = 0;
	for (size_t i = 0; i < sw->n; i++) {
		const sw_peer *q = &sw->peers[i];
		if (q == except)
			continue;
		if (q->role == EC_SWAP_NEIGHBOUR) {
			sw_op *o = op_of(sw, &q->m.peer);
			if (o && ec_id_eq(&o->out, &q->m.peer))
				continue; /* leaving */
		} else if (q->role != EC_SWAP_JOINING) {
			continue;
		}
		*op += (uint32_t)same_tag(p->m.operator_tag, q->m.operator_tag);
		*rg += (uint32_t)same_tag(p->m.region, q->m.region);
	}
}

/* Best backup to replace `out`: warm ones first (cold only with
 * allow_cold and no warm one), then the operator, then the region least
 * represented in the neighbourhood-to-be, then higher score, smaller lag,
 * smaller id.  NULL when none. */
static sw_peer *pick_replacement(ec_swap *sw, const sw_peer *out, int allow_cold)
{
	for (int pass = 0; pass < (allow_cold ? 2 : 1); pass++) {
		sw_peer *best = NULL;
		uint32_t bop = 0, brg = 0;
		double bs = 0;
		for (size_t i = 0; i < sw->n; i++) {
			sw_peer *p = &sw->peers[i];
			uint32_t op, rg;
			double s;
			int better;
			if (p->role != EC_SWAP_BACKUP || p->in_op || p->m.n_equivocations)
				continue;
			if (pass == 0 && !is_warm(sw, p))
				continue;
			diversity(sw, p, out, &op, &rg);
			s = peer_score(sw, p);
			if (!best)
				better = 1;
			else if (op != bop)
				better = op < bop;
			else if (rg != brg)
				better = rg < brg;
			else if (s != bs)
				better = s > bs;
			else if (p->lag != best->lag)
				better = p->lag < best->lag;
			else
				better = ec_id_cmp(&p->m.peer, &best->m.peer) < 0;
			if (better) {
				best = p;
				bop = op;
				brg = rg;
				bs = s;
			}
		}
		if (best)
			return best;
	}
	return NULL;
}

static int start_op(ec_swap *sw, sw_peer *out, sw_peer *in, uint8_t reason,
		    ec_time now, uint32_t *op_id)
{
	sw_op *o = NULL;
	int r;
	for (int i = 0; i < EC_SWAP_MAX_OPS && !o; i++)
		if (!sw->ops[i].used)
			o = &sw->ops[i];
	if (!o)
		return EC_ERR_BUSY;
	memset(o, 0, sizeof(*o));
	o->id = sw->next_id++;
	if (!sw->next_id)
		sw->next_id = 1;
	r = push(sw, EC_SWAP_ACT_CONNECT, o->id, &in->m.peer, NULL, 0);
	if (r != EC_OK)
		return r;
	o->used = 1;
	o->phase = EC_SWAP_PH_CONNECT;
	o->reason = reason;
	o->out = out->m.peer;
	o->in = in->m.peer;
	o->started = o->phase_since = now;
	out->in_op = 1;
	in->in_op = 1;
	in->role = EC_SWAP_JOINING;
	sw->st.started++;
	if (reason == EC_SWAP_R_EMERGENCY)
		sw->st.emergencies++;
	else if (reason == EC_SWAP_R_FORCED)
		sw->st.forced++;
	else if (reason == EC_SWAP_R_ROTATION)
		sw->st.rotations++;
	if (op_id)
		*op_id = o->id;
	return EC_OK;
}

static void retire(ec_swap *sw, sw_peer *p, ec_time now)
{
	p->role = EC_SWAP_RETIRED;
	p->in_op = 0;
	p->retired_until = now + sw->cfg.cooldown_ms;
}

/* Confidence lost: the interval moves one step back toward the initial. */
static void backoff(ec_swap *sw)
{
	sw->interval /= (1 - sw->cfg.adaptation);
	if (sw->interval > (double)sw->cfg.initial_interval_ms)
		sw->interval = (double)sw->cfg.initial_interval_ms;
}

/* Aborts a swap: the old peer stays; the newcomer is disconnected if it was
 * connected and retired (failed) or returned to the pool (not its fault). */
static void abort_op(ec_swap *sw, sw_op *o, int newcomer_failed, ec_time now)
{
	sw_peer *out = find(sw, &o->out), *in = find(sw, &o->in);
	if (out)
		out->in_op = 0;
	if (in) {
		if (o->phase >= EC_SWAP_PH_SYNC)
			(void)push(sw, EC_SWAP_ACT_DISCONNECT, o->id, &in->m.peer, NULL, 0);
		if (newcomer_failed) {
			in->m.n_requests++; /* the connect/sync it did not answer */
			in->m.updated = now;
			retire(sw, in, now);
		} else {
			in->role = EC_SWAP_BACKUP;
			in->in_op = 0;
		}
	}
	if (newcomer_failed)
		backoff(sw);
	o->used = 0;
	o->phase = EC_SWAP_PH_ABORTED;
	sw->st.aborted++;
	sw->dirty = 1;
}

/* Step 5: records updated.  `disconnect`: queue the DISCONNECT of the old
 * peer (not when it already left). */
static void finish_op(ec_swap *sw, sw_op *o, int disconnect, ec_time now)
{
	sw_peer *out = find(sw, &o->out), *in = find(sw, &o->in);
	if (disconnect)
		(void)push(sw, EC_SWAP_ACT_DISCONNECT, o->id, &o->out, NULL, 0);
	if (out)
		retire(sw, out, now);
	if (in) {
		in->role = EC_SWAP_NEIGHBOUR;
		in->in_op = 0;
	}
	sw->interval *= (1 - sw->cfg.adaptation);
	if (sw->interval < (double)sw->cfg.target_interval_ms)
		sw->interval = (double)sw->cfg.target_interval_ms;
	o->used = 0;
	o->phase = EC_SWAP_PH_DONE;
	sw->st.done++;
	sw->dirty = 1;
}

/* ---- peers ------------------------------------------------------------------- */

static void set_tag(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, EC_PEER_TAG_MAX) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

/* Frees retired entries whose cooldown ended. */
static void prune(ec_swap *sw, ec_time now)
{
	for (size_t i = 0; i < sw->n;) {
		if (sw->peers[i].role == EC_SWAP_RETIRED && sw->peers[i].retired_until <= now)
			drop(sw, &sw->peers[i]);
		else
			i++;
	}
}

static int add_peer(ec_swap *sw, const ec_id *peer, const char *region,
		    const char *op, uint8_t role, ec_time now, sw_peer **out)
{
	sw_peer *p;
	if (!sw || !peer || ec_id_is_zero(peer) || !tag_ok(region) || !tag_ok(op))
		return EC_ERR_ARG;
	prune(sw, now);
	p = find(sw, peer);
	if (p)
		return p->role == EC_SWAP_RETIRED && role == EC_SWAP_BACKUP ? EC_ERR_REFUSED
									 : EC_ERR_EXISTS;
	if (sw->n == sw->cfg.max_peers)
		return EC_ERR_FULL;
	p = &sw->peers[sw->n++];
	memset(p, 0, sizeof(*p));
	p->m.peer = *peer;
	set_tag(p->m.region, region);
	set_tag(p->m.operator_tag, op);
	p->m.reputation = sw->cfg.rep_initial;
	p->m.first_seen = p->m.updated = now;
	p->role = role;
	p->lag = UINT64_MAX;
	p->added = now;
	*out = p;
	return EC_OK;
}

int ec_swap_add_neighbour(ec_swap *sw, const ec_id *peer, const char *region,
			  const char *operator_tag, ec_time now)
{
	sw_peer *p;
	int r = add_peer(sw, peer, region, operator_tag, EC_SWAP_NEIGHBOUR, now, &p);
	if (r == EC_OK)
		sw->dirty = 1;
	return r;
}

static uint32_t backups(const ec_swap *sw)
{
	uint32_t k = 0;
	for (size_t i = 0; i < sw->n; i++)
		k += sw->peers[i].role == EC_SWAP_BACKUP;
	return k;
}

int ec_swap_pool_add(ec_swap *sw, const ec_id *peer, const char *region,
		     const char *operator_tag, ec_time now)
{
	sw_peer *p;
	int r;
	if (!sw || !peer || ec_id_is_zero(peer) || !tag_ok(region) || !tag_ok(operator_tag))
		return EC_ERR_ARG;
	prune(sw, now);
	if (!find(sw, peer) && backups(sw) >= sw->cfg.pool_max) {
		/* evict the coldest backup (largest lag, then oldest) */
		sw_peer *v = NULL;
		for (size_t i = 0; i < sw->n; i++) {
			sw_peer *q = &sw->peers[i];
			if (q->role != EC_SWAP_BACKUP || q->in_op)
				continue;
			if (!v || q->lag > v->lag || (q->lag == v->lag && q->added < v->added))
				v = q;
		}
		if (!v)
			return EC_ERR_FULL;
		drop(sw, v);
	}
	r = add_peer(sw, peer, region, operator_tag, EC_SWAP_BACKUP, now, &p);
	if (r == EC_OK)
		sw->dirty = 1;
	return r;
}

int ec_swap_pool_set_lag(ec_swap *sw, const ec_id *peer, uint64_t lag_blocks,
			 ec_time now)
{
	sw_peer *p;
	if (!sw || !peer)
		return EC_ERR_ARG;
	p = find(sw, peer);
	if (!p || p->role != EC_SWAP_BACKUP)
		return EC_ERR_NOTFOUND;
	p->lag = lag_blocks;
	p->m.updated = now;
	sw->dirty = 1;
	return EC_OK;
}

int ec_swap_remove_peer(ec_swap *sw, const ec_id *peer, ec_time now)
{
	sw_peer *p;
	sw_op *o;
	if (!sw || !peer)
		return EC_ERR_ARG;
	p = find(sw, peer);
	if (!p || p->role == EC_SWAP_RETIRED)
		return EC_ERR_NOTFOUND;
	o = p->in_op ? op_of(sw, peer) : NULL;
	if (o && ec_id_eq(&o->out, peer)) {
		if (o->phase >= EC_SWAP_PH_SHIFT)
			finish_op(sw, o, 0, now); /* the newcomer takes its place */
		else
			abort_op(sw, o, 0, now);
	} else if (o) {
		/* the newcomer left: nothing to disconnect */
		o->phase = EC_SWAP_PH_CONNECT;
		abort_op(sw, o, 1, now);
	}
	p = find(sw, peer); /* still there (retired or not); drop it */
	if (p)
		drop(sw, p);
	sw->dirty = 1;
	return EC_OK;
}

int ec_swap_role(const ec_swap *sw, const ec_id *peer)
{
	const sw_peer *p = sw && peer ? find(sw, peer) : NULL;
	return p ? p->role : EC_SWAP_NONE;
}

/* ---- observations --------------------------------------------------------- */

/* Halves a pair of counters past the window (the ratio is kept). */
static void window2(uint64_t win, uint64_t *n, uint64_t *k)
{
	if (*n > win) {
		*n /= 2;
		*k /= 2;
		if (*k > *n)
			*k = *n;
	}
}

static sw_peer *observed(ec_swap *sw, const ec_id *peer, ec_time now, int *r)
{
	sw_peer *p;
	*r = EC_OK;
	if (!sw || !peer) {
		*r = EC_ERR_ARG;
		return NULL;
	}
	p = find(sw, peer);
	if (!p) {
		*r = EC_ERR_NOTFOUND;
		return NULL;
	}
	p->m.updated = now;
	return p;
}

/* After an observation: only a neighbour that just became an emergency
 * makes a tick due at once (ordinary observations cost no tick). */
static int noted(ec_swap *sw, const sw_peer *p)
{
	if (p->role == EC_SWAP_NEIGHBOUR && !p->in_op && is_emergency(sw, p))
		sw->dirty = 1;
	return EC_OK;
}

int ec_swap_observe_response(ec_swap *sw, const ec_id *peer, int answered,
			     double latency_ms, ec_time now)
{
	sw_peer *p;
	int r;
	if (answered && !(isfinite(latency_ms) && latency_ms >= 0))
		return EC_ERR_ARG;
	if (!(p = observed(sw, peer, now, &r)))
		return r;
	p->m.n_requests++;
	if (answered) {
		p->m.n_responses++;
		if (!p->m.n_latency)
			p->m.latency_ms = latency_ms;
		else
			p->m.latency_ms += (latency_ms - p->m.latency_ms) / 8;
		if (p->m.n_latency < UINT64_MAX)
			p->m.n_latency++;
	}
	window2(sw->cfg.window, &p->m.n_requests, &p->m.n_responses);
	return noted(sw, p);
}

int ec_swap_observe_check(ec_swap *sw, const ec_id *peer, int agreed, ec_time now)
{
	sw_peer *p;
	int r;
	if (!(p = observed(sw, peer, now, &r)))
		return r;
	p->m.n_checked++;
	if (agreed) {
		p->m.n_agreed++;
		p->m.reputation += (1 - p->m.reputation) * sw->cfg.rep_gain;
	} else {
		p->m.reputation *= 1 - sw->cfg.rep_loss;
	}
	window2(sw->cfg.window, &p->m.n_checked, &p->m.n_agreed);
	return noted(sw, p);
}

int ec_swap_observe_sync(ec_swap *sw, const ec_id *peer, uint64_t lag_ms,
			 uint64_t grace_ms, ec_time now)
{
	sw_peer *p;
	int r;
	if (!grace_ms)
		return EC_ERR_ARG;
	if (!(p = observed(sw, peer, now, &r)))
		return r;
	p->m.n_sync++;
	p->m.sync_sum += lag_ms <= grace_ms ? 1.0 : (double)grace_ms / (double)lag_ms;
	if (p->m.n_sync > sw->cfg.window) {
		uint64_t h = p->m.n_sync / 2;
		p->m.sync_sum *= (double)h / (double)p->m.n_sync;
		p->m.n_sync = h;
	}
	if (p->m.sync_sum > (double)p->m.n_sync) /* rounding */
		p->m.sync_sum = (double)p->m.n_sync;
	return noted(sw, p);
}

int ec_swap_observe_penalty(ec_swap *sw, const ec_id *peer, ec_time now)
{
	sw_peer *p;
	int r;
	if (!(p = observed(sw, peer, now, &r)))
		return r;
	if (p->m.n_penalties < UINT32_MAX)
		p->m.n_penalties++;
	p->m.reputation *= 0.5;
	return noted(sw, p);
}

int ec_swap_observe_equivocation(ec_swap *sw, const ec_id *peer, ec_time now)
{
	sw_peer *p;
	int r;
	if (!(p = observed(sw, peer, now, &r)))
		return r;
	if (p->m.n_equivocations < UINT32_MAX)
		p->m.n_equivocations++;
	p->m.reputation = 0;
	return noted(sw, p);
}

static void update_auto_static(ec_swap *sw)
{
	if (sw->health < sw->cfg.static_threshold)
		sw->auto_static = 1;
	else if (sw->health >= sw->cfg.health_threshold)
		sw->auto_static = 0;
}

int ec_swap_set_health(ec_swap *sw, double health, ec_time now)
{
	if (!sw || !unit(health))
		return EC_ERR_ARG;
	sw->health = health;
	update_auto_static(sw);
	sw->dirty = 1;
	return EC_OK;
}

int ec_swap_set_load(ec_swap *sw, double load, ec_time now)
{
	if (!sw || !unit(load))
		return EC_ERR_ARG;
	sw->load = load;
	sw->dirty = 1;
	return EC_OK;
}

/* ---- modes and manual override -------------------------------------------- */

static uint8_t mode_of(const ec_swap *sw)
{
	if (sw->paused)
		return EC_SWAP_MODE_PAUSED;
	if (sw->manual_static || sw->auto_static)
		return EC_SWAP_MODE_STATIC;
	if (sw->health < sw->cfg.health_threshold)
		return EC_SWAP_MODE_GATED;
	if (conservative(sw))
		return EC_SWAP_MODE_CONSERVATIVE;
	return EC_SWAP_MODE_NORMAL;
}

int ec_swap_pause(ec_swap *sw, ec_time now)
{
	if (!sw)
		return EC_ERR_ARG;
	sw->paused = 1;
	return EC_OK;
}

int ec_swap_resume(ec_swap *sw, ec_time now)
{
	if (!sw)
		return EC_ERR_ARG;
	if (sw->paused) {
		sw->paused = 0;
		schedule_round(sw, now);
		sw->dirty = 1;
	}
	return EC_OK;
}

int ec_swap_set_static(ec_swap *sw, int on, ec_time now)
{
	if (!sw)
		return EC_ERR_ARG;
	sw->manual_static = on ? 1 : 0;
	sw->dirty = 1;
	return EC_OK;
}

/* The neighbour of highest swap priority, not being swapped and not related
 * to one being swapped; candidates_only: must be a candidate. */
static sw_peer *lowest(ec_swap *sw, int emergencies_only)
{
	sw_peer *best = NULL;
	double bs = 0;
	for (size_t i = 0; i < sw->n; i++) {
		sw_peer *p = &sw->peers[i];
		double s;
		if (p->role != EC_SWAP_NEIGHBOUR || p->in_op || related_in_flight(sw, p))
			continue;
		if (emergencies_only && !is_emergency(sw, p))
			continue;
		s = peer_score(sw, p);
		if (!best || s < bs || (s == bs && ec_id_cmp(&p->m.peer, &best->m.peer) < 0)) {
			best = p;
			bs = s;
		}
	}
	return best;
}

int ec_swap_force(ec_swap *sw, const ec_id *out, const ec_id *in, ec_time now,
		  uint32_t *op_id)
{
	sw_peer *po, *pi;
	if (!sw)
		return EC_ERR_ARG;
	if (inflight(sw) >= sw->cfg.max_simultaneous)
		return EC_ERR_BUSY;
	if (out) {
		po = find(sw, out);
		if (!po || po->role != EC_SWAP_NEIGHBOUR)
			return EC_ERR_NOTFOUND;
		if (po->in_op || related_in_flight(sw, po))
			return EC_ERR_BUSY;
	} else {
		po = lowest(sw, 0);
		if (!po)
			return EC_ERR_NOTFOUND;
	}
	if (in) {
		pi = find(sw, in);
		if (!pi || pi->role != EC_SWAP_BACKUP || pi->in_op)
			return EC_ERR_NOTFOUND;
	} else {
		pi = pick_replacement(sw, po, 1);
		if (!pi)
			return EC_ERR_NOTFOUND;
	}
	return start_op(sw, po, pi, EC_SWAP_R_FORCED, now, op_id);
}

/* ---- execution ----------------------------------------------------------------- */

int ec_swap_connected(ec_swap *sw, uint32_t op, int ok, ec_time now)
{
	sw_op *o;
	if (!sw)
		return EC_ERR_ARG;
	if (!(o = op_by_id(sw, op)))
		return EC_ERR_NOTFOUND;
	if (o->phase != EC_SWAP_PH_CONNECT)
		return EC_ERR_VALUE;
	if (!ok) {
		abort_op(sw, o, 1, now);
		return EC_OK;
	}
	o->phase = EC_SWAP_PH_SYNC;
	o->phase_since = now;
	return push(sw, EC_SWAP_ACT_SYNC, o->id, &o->in, NULL, 0);
}

int ec_swap_synced(ec_swap *sw, uint32_t op, int ok, ec_time now)
{
	sw_op *o;
	if (!sw)
		return EC_ERR_ARG;
	if (!(o = op_by_id(sw, op)))
		return EC_ERR_NOTFOUND;
	if (o->phase != EC_SWAP_PH_SYNC)
		return EC_ERR_VALUE;
	if (!ok) {
		abort_op(sw, o, 1, now);
		return EC_OK;
	}
	o->phase = EC_SWAP_PH_SHIFT;
	o->phase_since = now;
	o->step = 1;
	o->next = now + sw->cfg.shift_step_ms;
	return push(sw, EC_SWAP_ACT_LOAD, o->id, &o->in, &o->out,
		    1.0 / sw->cfg.shift_steps);
}

/* Guards of step 4: the neighbourhood keeps its minimum size and no
 * pending commit needs the old peer. */
static void try_disconnect(ec_swap *sw, sw_op *o, ec_time now)
{
	if (now < o->next)
		return;
	if (active_count(sw) < sw->cfg.min_neighbours + 1) {
		sw->st.waits_min_size++;
		o->next = now + sw->cfg.shift_step_ms;
		return;
	}
	if (sw->cfg.pending_commit &&
	    sw->cfg.pending_commit(sw->cfg.pending_ctx, &o->out, o->phase_since)) {
		sw->st.waits_pending++;
		o->next = now + sw->cfg.shift_step_ms;
		return;
	}
	finish_op(sw, o, 1, now);
}

static void advance(ec_swap *sw, sw_op *o, ec_time now)
{
	switch (o->phase) {
	case EC_SWAP_PH_CONNECT:
	case EC_SWAP_PH_SYNC:
		/* a `now` before the phase began (time going backwards) is no timeout */
		if (now >= o->phase_since && now - o->phase_since >= sw->cfg.phase_timeout_ms)
			abort_op(sw, o, 1, now);
		break;
	case EC_SWAP_PH_SHIFT:
		while (o->step < sw->cfg.shift_steps && now >= o->next) {
			o->step++;
			(void)push(sw, EC_SWAP_ACT_LOAD, o->id, &o->in, &o->out,
				   (double)o->step / sw->cfg.shift_steps);
			o->next += sw->cfg.shift_step_ms;
		}
		if (o->step == sw->cfg.shift_steps && now >= o->next) {
			/* one step at full load drained the old peer */
			o->phase = EC_SWAP_PH_DISCONNECT;
			o->phase_since = now;
			try_disconnect(sw, o, now);
		}
		break;
	case EC_SWAP_PH_DISCONNECT:
		try_disconnect(sw, o, now);
		break;
	default:
		break;
	}
}

static void run_emergencies(ec_swap *sw, ec_time now)
{
	while (inflight(sw) < sw->cfg.max_simultaneous) {
		sw_peer *p = lowest(sw, 1), *in;
		if (!p)
			return;
		in = pick_replacement(sw, p, 1);
		if (!in) {
			sw->st.no_replacement++;
			return;
		}
		if (start_op(sw, p, in, EC_SWAP_R_EMERGENCY, now, NULL) != EC_OK)
			return;
	}
}

static int cmp_score(const ec_swap *sw, const sw_peer *a, const sw_peer *b)
{
	double sa = peer_score(sw, a), sb = peer_score(sw, b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	return ec_id_cmp(&a->m.peer, &b->m.peer);
}

static void run_round(ec_swap *sw, ec_time now)
{
	uint32_t cap = conservative(sw) ? 1 : sw->cfg.max_simultaneous;
	int any_candidate = 0;
	for (;;) {
		sw_peer *best = NULL, *in;
		if (inflight(sw) >= cap)
			return;
		for (size_t i = 0; i < sw->n; i++) {
			sw_peer *p = &sw->peers[i];
			if (p->role != EC_SWAP_NEIGHBOUR || p->in_op || !is_candidate(sw, p))
				continue;
			any_candidate = 1;
			if (related_in_flight(sw, p))
				continue;
			if (!best || cmp_score(sw, p, best) < 0)
				best = p;
		}
		if (!best)
			break;
		in = pick_replacement(sw, best, 0);
		if (!in) {
			sw->st.no_replacement++;
			return;
		}
		if (start_op(sw, best, in, EC_SWAP_R_CANDIDATE, now, NULL) != EC_OK)
			return;
	}
	if (!any_candidate && sw->cfg.rotate) {
		/* nobody below threshold: rotate one neighbour picked uniformly
		 * (an attacker that behaves well is still moved) */
		size_t k = 0, pick;
		sw_peer *in;
		for (size_t i = 0; i < sw->n; i++) {
			sw_peer *p = &sw->peers[i];
			k += p->role == EC_SWAP_NEIGHBOUR && !p->in_op && !related_in_flight(sw, p);
		}
		if (!k)
			return;
		pick = (size_t)(draw_unit(sw) * (double)k);
		for (size_t i = 0; i < sw->n; i++) {
			sw_peer *p = &sw->peers[i];
			if (p->role != EC_SWAP_NEIGHBOUR || p->in_op || related_in_flight(sw, p))
				continue;
			if (pick--)
				continue;
			in = pick_replacement(sw, p, 0);
			if (!in)
				sw->st.no_replacement++;
			else
				(void)start_op(sw, p, in, EC_SWAP_R_ROTATION, now, NULL);
			return;
		}
	}
}

int ec_swap_tick(ec_swap *sw, ec_time now)
{
	uint8_t mode;
	if (!sw)
		return EC_ERR_ARG;
	prune(sw, now);
	update_auto_static(sw);
	sw->dirty = 0;
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++)
		if (sw->ops[i].used)
			advance(sw, &sw->ops[i], now);
	mode = mode_of(sw);
	if (mode != EC_SWAP_MODE_PAUSED && mode != EC_SWAP_MODE_STATIC)
		run_emergencies(sw, now);
	if (!sw->paused && now >= sw->next_round) {
		if (mode == EC_SWAP_MODE_NORMAL || mode == EC_SWAP_MODE_CONSERVATIVE) {
			sw->st.rounds++;
			run_round(sw, now);
		} else {
			sw->st.rounds_skipped++;
		}
		schedule_round(sw, now);
	}
	sw->dirty = 0;
	return EC_OK;
}

ec_time ec_swap_next_deadline(const ec_swap *sw)
{
	ec_time d = UINT64_MAX;
	if (!sw)
		return UINT64_MAX;
	if (sw->dirty)
		return 0;
	if (!sw->paused)
		d = sw->next_round;
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++) {
		const sw_op *o = &sw->ops[i];
		ec_time t;
		if (!o->used)
			continue;
		if (o->phase == EC_SWAP_PH_CONNECT || o->phase == EC_SWAP_PH_SYNC)
			t = o->phase_since + sw->cfg.phase_timeout_ms;
		else
			t = o->next;
		if (t < d)
			d = t;
	}
	return d;
}

/* ---- introspection -------------------------------------------------------- */

void ec_swap_get_status(const ec_swap *sw, ec_swap_status *out)
{
	if (!sw || !out)
		return;
	*out = sw->st;
	out->mode = mode_of(sw);
	out->paused = sw->paused;
	out->manual_static = sw->manual_static;
	out->auto_static = sw->auto_static;
	out->health = sw->health;
	out->load = sw->load;
	out->interval_ms = (uint64_t)sw->interval;
	out->effective_ms = (uint64_t)effective_interval(sw);
	out->next_round = sw->paused ? UINT64_MAX : sw->next_round;
	out->neighbours = out->backups = out->warm_backups = 0;
	for (size_t i = 0; i < sw->n; i++) {
		const sw_peer *p = &sw->peers[i];
		out->neighbours += p->role == EC_SWAP_NEIGHBOUR;
		if (p->role == EC_SWAP_BACKUP) {
			out->backups++;
			out->warm_backups += (uint32_t)is_warm(sw, p);
		}
	}
	out->active = active_count((ec_swap *)sw);
	out->inflight = inflight(sw);
}

static int row_rank(const ec_swap_row *r)
{
	return r->role == EC_SWAP_BACKUP ? 1 : 0;
}

static int row_cmp(const void *a, const void *b)
{
	const ec_swap_row *x = a, *y = b;
	int rx = row_rank(x), ry = row_rank(y);
	if (rx != ry)
		return rx - ry;
	if (rx == 0) { /* neighbours: swap priority */
		if (x->score != y->score)
			return x->score < y->score ? -1 : 1;
	} else { /* backups: best first */
		if (x->warm != y->warm)
			return y->warm - x->warm;
		if (x->score != y->score)
			return x->score > y->score ? -1 : 1;
		if (x->lag != y->lag)
			return x->lag < y->lag ? -1 : 1;
	}
	return ec_id_cmp(&x->peer, &y->peer);
}

size_t ec_swap_list(const ec_swap *sw, ec_swap_row *rows, size_t max)
{
	ec_swap_row *all;
	size_t k = 0;
	if (!sw)
		return 0;
	all = calloc(sw->n ? sw->n : 1, sizeof(*all));
	if (!all)
		return 0;
	for (size_t i = 0; i < sw->n; i++) {
		const sw_peer *p = &sw->peers[i];
		ec_swap_row *r;
		if (p->role == EC_SWAP_RETIRED)
			continue;
		r = &all[k++];
		r->peer = p->m.peer;
		r->role = p->role;
		r->score = ec_swap_score(&sw->cfg, &p->m, r->comp);
		r->samples = ec_swap_samples(&p->m);
		r->candidate = (uint8_t)(p->role == EC_SWAP_NEIGHBOUR && is_candidate(sw, p));
		r->emergency = (uint8_t)(p->role == EC_SWAP_NEIGHBOUR && is_emergency(sw, p));
		r->warm = (uint8_t)(p->role == EC_SWAP_BACKUP && is_warm(sw, p));
		r->in_swap = p->in_op;
		r->lag = p->lag;
	}
	qsort(all, k, sizeof(*all), row_cmp);
	if (rows)
		memcpy(rows, all, (k < max ? k : max) * sizeof(*all));
	free(all);
	return k;
}

size_t ec_swap_list_ops(const ec_swap *sw, ec_swap_op_info *ops, size_t max)
{
	size_t k = 0;
	if (!sw)
		return 0;
	for (int i = 0; i < EC_SWAP_MAX_OPS; i++) {
		const sw_op *o = &sw->ops[i];
		if (!o->used)
			continue;
		if (ops && k < max) {
			ec_swap_op_info *x = &ops[k];
			x->id = o->id;
			x->phase = o->phase;
			x->reason = o->reason;
			x->step = o->step;
			x->out = o->out;
			x->in = o->in;
			x->started = o->started;
			x->phase_since = o->phase_since;
		}
		k++;
	}
	return k;
}

int ec_swap_get_metrics(const ec_swap *sw, const ec_id *peer, ec_peer_metrics *out)
{
	const sw_peer *p;
	if (!sw || !peer || !out)
		return EC_ERR_ARG;
	p = find(sw, peer);
	if (!p)
		return EC_ERR_NOTFOUND;
	*out = p->m;
	return EC_OK;
}

/* ---- persistence ------------------------------------------------------------ */

int ec_swap_save(const ec_swap *sw, ec_store_txn *t)
{
	if (!sw || !t)
		return EC_ERR_ARG;
	for (size_t i = 0; i < sw->n; i++) {
		int r = ec_store_put_metrics(t, &sw->peers[i].m);
		if (r != EC_OK)
			return r;
	}
	return EC_OK;
}

int ec_swap_load(ec_swap *sw, ec_store_txn *t, size_t *skipped)
{
	size_t sk = 0;
	if (!sw || !t)
		return EC_ERR_ARG;
	for (size_t i = 0; i < sw->n; i++) {
		sw_peer *p = &sw->peers[i];
		ec_peer_metrics m;
		int r = ec_store_get_metrics(t, &p->m.peer, &m);
		if (r == EC_ERR_NOTFOUND)
			continue;
		if (r == EC_ERR_CORRUPT) {
			sk++;
			continue;
		}
		if (r != EC_OK)
			return r;
		if (p->m.region[0])
			memcpy(m.region, p->m.region, sizeof m.region);
		if (p->m.operator_tag[0])
			memcpy(m.operator_tag, p->m.operator_tag, sizeof m.operator_tag);
		p->m = m;
	}
	if (skipped)
		*skipped = sk;
	sw->dirty = 1;
	return EC_OK;
}
