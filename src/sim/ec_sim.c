/* ec_sim.c - the ecsim engine: one event heap ordered by (time, insertion
 * sequence), links with delay/jitter/loss/bandwidth between regions, the
 * peers (ec_node on memory stores), the scenario's timed events and the run
 * loop.  See ec_sim.h for the model and docs/SCENARIOS.md "Engine model". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec/crypto.h"
#include "sim/ec_sim_eng.h"

/* ---- randomness ----------------------------------------------------------- */

uint64_t sim_rand(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

double sim_rand01(uint64_t *st)
{
	return (double)(sim_rand(st) >> 11) * (1.0 / 9007199254740992.0);
}

static void rng_fill(void *ctx, void *out, size_t len)
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

/* A stream seed: the first 8 bytes of H(seed || label). */
static uint64_t stream_seed(const uint8_t seed[EC_HASH_BYTES], const char *label)
{
	uint8_t buf[EC_HASH_BYTES + 32];
	size_t n = strlen(label);
	ec_id h;
	uint64_t v = 0;
	if (n > 32)
		n = 32;
	memcpy(buf, seed, EC_HASH_BYTES);
	memcpy(buf + EC_HASH_BYTES, label, n);
	ec_hash(&h, "ec/sim/stream", buf, EC_HASH_BYTES + n);
	for (int i = 0; i < 8; i++)
		v = v << 8 | h.b[i];
	return v;
}

ec_time sim_now_ms(const ec_sim *s)
{
	return SIM_BASE_MS + s->now_us / 1000;
}

static void fail(ec_sim *s, int err, const char *what)
{
	if (s->fatal)
		return;
	s->fatal = err;
	snprintf(s->err, sizeof s->err, "%s: %s", what, ec_strerror(err));
}

/* ---- event heap ----------------------------------------------------------- */

static int ev_before(const sim_ev *a, const sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(ec_sim *s, sim_ev e)
{
	size_t i;
	if (s->n_heap == s->cap_heap) {
		size_t cap = s->cap_heap ? s->cap_heap * 2 : 4096;
		sim_ev *p = realloc(s->heap, cap * sizeof *p);
		if (!p) {
			fail(s, EC_ERR_NOMEM, "event heap");
			free(e.bytes);
			return;
		}
		s->heap = p;
		s->cap_heap = cap;
	}
	e.seq = s->seq++;
	i = s->n_heap++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		if (!ev_before(&e, &s->heap[up]))
			break;
		s->heap[i] = s->heap[up];
		i = up;
	}
	s->heap[i] = e;
}

static sim_ev heap_pop(ec_sim *s)
{
	sim_ev top = s->heap[0], last = s->heap[--s->n_heap];
	size_t i = 0, n = s->n_heap;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const sim_ev *best = &last;
		if (l < n && ev_before(&s->heap[l], best)) {
			m = l;
			best = &s->heap[l];
		}
		if (r < n && ev_before(&s->heap[r], best))
			m = r;
		if (m == i)
			break;
		s->heap[i] = s->heap[m];
		i = m;
	}
	if (n)
		s->heap[i] = last;
	return top;
}

/* ---- peer index ----------------------------------------------------------- */

static size_t id_slot(const ec_id *id, size_t cap)
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = h << 8 | id->b[i];
	return (size_t)(h & (cap - 1));
}

size_t sim_index_of(const ec_sim *s, const ec_id *id)
{
	for (size_t k = id_slot(id, s->map_cap);; k = (k + 1) & (s->map_cap - 1)) {
		uint32_t v = s->map[k];
		if (!v)
			return SIZE_MAX;
		if (ec_id_eq(&s->peers[v - 1].ident.peer_id, id))
			return v - 1;
	}
}

static void map_insert(ec_sim *s, size_t i)
{
	size_t k = id_slot(&s->peers[i].ident.peer_id, s->map_cap);
	while (s->map[k])
		k = (k + 1) & (s->map_cap - 1);
	s->map[k] = (uint32_t)(i + 1);
}

size_t sim_neighbourhood(const ec_sim *s, const ec_id *t, size_t *out)
{
	ec_id ids[2 * EC_NEIGHBOURS];
	size_t k = ec_peerset_neighbourhood(&s->members, t, EC_NEIGHBOURS, ids);
	for (size_t i = 0; i < k; i++)
		out[i] = sim_index_of(s, &ids[i]);
	return k;
}

size_t sim_online_count(const ec_sim *s)
{
	size_t c = 0;
	for (size_t i = 0; i < s->n_peers; i++)
		c += s->peers[i].state == PEER_ONLINE;
	return c;
}

/* ---- network -------------------------------------------------------------- */

static void send_msg(ec_sim *s, size_t from, const ec_node_out *o)
{
	size_t to = sim_index_of(s, &o->to);
	const sim_peer *a = &s->peers[from];
	uint8_t type = o->len ? o->msg[0] : 0;
	if (type < EC_NODE_TYPES)
		s->sent_type[type]++;
	if (to == SIZE_MAX) {
		s->to_client++;
		free(o->msg);
		return;
	}
	const sim_peer *b = &s->peers[to];
	int ra = a->region, rb = b->region;
	double loss = s->loss[ra][rb];
	/* one loss draw and one jitter draw per message, always, so that the
	 * network stream does not depend on which links are lossy */
	double u = sim_rand01(&s->rng_net);
	uint64_t jr = sim_rand(&s->rng_net);
	if (a->parts != b->parts || u < loss ||
	    (s->atk && sim_atk_drop(s, from, to, type))) {
		s->dropped++;
		if (s->opts.trace)
			s->opts.trace(s->opts.trace_ctx, s->now_us, s->now_us, (uint32_t)from,
				      (uint32_t)to, (uint32_t)o->len, type, EC_SIM_LOST);
		free(o->msg);
		return;
	}
	uint64_t d = (uint64_t)s->lat[ra][rb] * 1000;
	if (s->jit[ra][rb])
		d += jr % ((uint64_t)s->jit[ra][rb] * 1000 + 1);
	uint64_t start = s->now_us;
	uint64_t bw = s->bw[ra][rb];
	if (bw && s->link_free) {
		uint64_t *lf = &s->link_free[from * s->max_peers + to];
		uint64_t ser = ((uint64_t)o->len * 8 * 1000 + bw - 1) / bw;
		if (*lf > start)
			start = *lf;
		start += ser;
		*lf = start;
	}
	heap_push(s, (sim_ev){.t = start + d, .sent = s->now_us, .kind = EV_MSG, .to = (uint32_t)to,
			      .from = (uint32_t)from, .len = (uint32_t)o->len,
			      .bytes = o->msg});
}

static void sched_tick(ec_sim *s, size_t i, int after_tick)
{
	sim_peer *p = &s->peers[i];
	ec_time d = ec_node_next_deadline(p->node);
	uint64_t t;
	if (d == UINT64_MAX)
		return;
	t = d <= SIM_BASE_MS ? 0 : (d - SIM_BASE_MS) * 1000;
	if (t < s->now_us)
		t = s->now_us;
	if (after_tick && t <= s->now_us)
		t = s->now_us + 1000; /* a node still due right after its tick */
	if (t >= p->tick_at)
		return;
	p->tick_at = t;
	heap_push(s, (sim_ev){.t = t, .kind = EV_TICK, .to = (uint32_t)i});
}

/* New blocks of peer i's own chain: every txid is a commit by i. */
static void scan_blocks(ec_sim *s, size_t i)
{
	sim_peer *p = &s->peers[i];
	ec_id head;
	uint64_t height;
	ec_store_txn *t;
	if (ec_node_head(p->node, &head, &height) != EC_OK || height < p->next_height)
		return;
	if (ec_store_txn_begin(p->store, 0, &t) != EC_OK)
		return;
	for (uint64_t h = p->next_height; h <= height; h++) {
		ec_id bid;
		ec_block b;
		if (ec_store_get_block_at(t, &p->ident.peer_id, h, &bid) != EC_OK ||
		    ec_store_get_block(t, &bid, &b) != EC_OK)
			break;
		for (unsigned k = 0; k < b.n_txs; k++)
			sim_wl_committed(s, i, &b.txids[k]);
		p->next_height = h + 1;
	}
	ec_store_txn_abort(t);
}

void sim_after(ec_sim *s, size_t i)
{
	sim_peer *p = &s->peers[i];
	ec_node_out o;
	while (ec_node_poll(p->node, &o))
		send_msg(s, i, &o);
	scan_blocks(s, i);
	sched_tick(s, i, 0);
}

static void deliver(ec_sim *s, sim_ev *e)
{
	sim_peer *b = &s->peers[e->to];
	uint8_t type = e->len ? e->bytes[0] : 0;
	if (s->opts.trace)
		s->opts.trace(s->opts.trace_ctx, e->sent, s->now_us, e->from, e->to, e->len, type,
			      b->state == PEER_ONLINE ? EC_SIM_DELIVERED : EC_SIM_OFFLINE);
	if (b->state != PEER_ONLINE) {
		s->dropped++;
		free(e->bytes);
		return;
	}
	s->delivered++;
	s->bytes += e->len;
	if (type < EC_NODE_TYPES) {
		s->deliv_type[type]++;
		s->bytes_type[type] += e->len;
	}
	/* sync traffic: a joiner's messages except consensus (tx, vote) and
	 * hellos, which it exchanges as a member like everyone else */
	int sa = s->peers[e->from].strategy, sb = b->strategy;
	if (type == EC_MSG_TX || type == EC_MSG_VOTE || type == EC_MSG_HELLO)
		sa = sb = -1;
	if (sa >= 0) {
		s->sync[sa].msgs++;
		s->sync[sa].bytes += e->len;
	}
	if (sb >= 0 && sb != sa) {
		s->sync[sb].msgs++;
		s->sync[sb].bytes += e->len;
	}
	int err = ec_node_recv(b->node, &s->peers[e->from].ident.peer_id, e->bytes,
			       e->len, sim_now_ms(s));
	free(e->bytes);
	if (err != EC_OK && err != EC_ERR_ARG) {
		fail(s, err, "node receive");
		return;
	}
	sim_after(s, e->to);
}

static void do_tick(ec_sim *s, const sim_ev *e)
{
	sim_peer *p = &s->peers[e->to];
	if (p->state != PEER_ONLINE || p->tick_at != e->t)
		return; /* superseded by an earlier tick, or offline */
	p->tick_at = SIM_NEVER;
	s->ticks++;
	int err = ec_node_tick(p->node, sim_now_ms(s));
	if (err != EC_OK) {
		fail(s, err, "node tick");
		return;
	}
	ec_node_out o;
	while (ec_node_poll(p->node, &o))
		send_msg(s, e->to, &o);
	scan_blocks(s, e->to);
	sched_tick(s, e->to, 1);
}

/* ---- peers ---------------------------------------------------------------- */

static int pick_region(ec_sim *s, uint64_t *rng)
{
	double u = sim_rand01(rng), acc = 0;
	const ec_scn_peers *pp = &s->sc->peers;
	for (size_t r = 0; r < pp->nregions; r++) {
		acc += pp->regions[r].fraction;
		if (u < acc)
			return (int)r;
	}
	return (int)pp->nregions - 1;
}

/* Mines an identity and creates the node of peer slot i (not yet linked). */
static int peer_create(ec_sim *s, size_t i, int region, int group, uint64_t *rng)
{
	sim_peer *p = &s->peers[i];
	uint8_t seed[32];
	ec_node_cfg nc;
	int err;
	memset(p, 0, sizeof *p);
	p->region = region;
	p->group = group;
	p->strategy = -1;
	p->tick_at = SIM_NEVER;
	rng_fill(rng, seed, sizeof seed);
	p->rng = sim_rand(rng);
	if ((err = ec_keypair_from_seed(&p->key, seed)) != EC_OK)
		return err;
	if ((err = ec_identity_mine(&p->ident, p->key.pk, SIM_NETWORK_ID,
				    sim_now_ms(s) / 1000, &s->pow, rng_fill, &p->rng,
				    UINT64_MAX, NULL)) != EC_OK)
		return err;
	if (sim_index_of(s, &p->ident.peer_id) != SIZE_MAX)
		return EC_ERR_EXISTS; /* 2^-256 */
	if ((err = ec_store_open_memory(&p->store)) != EC_OK)
		return err;
	ec_node_cfg_default(&nc);
	nc.key = p->key;
	nc.identity = p->ident;
	nc.store = p->store;
	nc.pow = &s->pow;
	nc.block_interval_ms = s->sc->block_interval_ms;
	nc.repush_ms = 2 * s->sc->tick_ms;
	nc.tx_req_timeout_ms = 6 * s->sc->tick_ms;
	nc.identity_tx = 1;
	nc.rng = rng_fill;
	nc.rng_ctx = &p->rng;
	sim_swap_node_cfg(s, &nc, group);
	if ((err = ec_node_new(&p->node, &nc, sim_now_ms(s))) != EC_OK) {
		ec_store_close(p->store);
		p->store = NULL;
		return err;
	}
	map_insert(s, i);
	return EC_OK;
}

static void link_pair(ec_sim *s, size_t a, size_t b)
{
	(void)ec_node_add_peer_key(s->peers[a].node, &s->peers[b].ident.peer_id,
				   s->peers[b].key.pk);
	(void)ec_node_add_peer_key(s->peers[b].node, &s->peers[a].ident.peer_id,
				   s->peers[a].key.pk);
}

int sim_grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 64;
	void *q;
	if (need <= *cap)
		return EC_OK;
	while (c < need)
		c *= 2;
	if (!(q = realloc(*p, c * size)))
		return EC_ERR_NOMEM;
	*p = q;
	*cap = c;
	return EC_OK;
}

void sim_link_pair(ec_sim *s, size_t a, size_t b)
{
	link_pair(s, a, b);
}

/* Partial peer sets: `ring` and `random` over more than 1 + 2 * degree
 * members (fewer: everyone knows everyone, as `full`). */
static int topo_partial(const ec_sim *s)
{
	const ec_scn_peers *pp = &s->sc->peers;
	return pp->topology != EC_SCN_TOPO_FULL && s->members.n > 1 + 2 * (size_t)pp->degree;
}

/* Member at ring position pos (mod n) as a peer index. */
static size_t member_at(const ec_sim *s, size_t pos)
{
	return sim_index_of(s, &s->members.ids[pos % s->members.n]);
}

/* Ring position of peer i among the members (SIZE_MAX: not a member). */
static size_t member_pos(const ec_sim *s, size_t i)
{
	const ec_id *id = &s->peers[i].ident.peer_id;
	size_t lo = 0, hi = s->members.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ec_id_cmp(&s->members.ids[mid], id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->members.n && ec_id_eq(&s->members.ids[lo], id) ? lo : SIZE_MAX;
}

/* The `degree` ring neighbours on each side of the member at pos. */
static void link_ring(ec_sim *s, size_t pos)
{
	size_t n = s->members.n, i = member_at(s, pos);
	for (size_t d = 1; d <= s->sc->peers.degree && d < n; d++) {
		link_pair(s, i, member_at(s, pos + d));
		link_pair(s, i, member_at(s, pos + n - d));
	}
}

/* `random`: random_peers members drawn from rng (itself: skipped). */
static void link_random(ec_sim *s, size_t i, uint64_t *rng)
{
	for (uint32_t d = 0; d < s->sc->peers.random_peers; d++) {
		size_t j = member_at(s, (size_t)(sim_rand(rng) % s->members.n));
		if (j != i)
			link_pair(s, i, j);
	}
}

/* Peers peer i (a member now) learns by the topology; all links mutual.
 * `full`: every member.  `ring`: its `degree` ring neighbours on each side
 * (each of them thereby learns it: the newcomer is within their own
 * `degree`).  `random`: the same plus `random_peers` members drawn from
 * rng.  This is the whole of peer discovery in the engine: see "Engine
 * model" in docs/SCENARIOS.md. */
static void link_new(ec_sim *s, size_t i, uint64_t *rng)
{
	size_t n = s->members.n;
	if (!topo_partial(s)) {
		for (size_t k = 0; k < n; k++) {
			size_t j = member_at(s, k);
			if (j != i)
				link_pair(s, i, j);
		}
		return;
	}
	size_t pos = member_pos(s, i);
	if (pos == SIZE_MAX)
		return;
	link_ring(s, pos);
	if (s->sc->peers.topology == EC_SCN_TOPO_RANDOM)
		link_random(s, i, rng);
}

/* Peer i leaves the members (already removed from s->members): everyone
 * forgets it; with partial peer sets the members around the gap learn
 * their new ring neighbours (one step further out on that side), so that
 * ring neighbourhoods stay known as the ring changes. */
static void unlink_peer(ec_sim *s, size_t i)
{
	for (size_t j = 0; j < s->n_peers; j++)
		if (j != i && s->peers[j].node)
			(void)ec_node_remove_peer(s->peers[j].node, &s->peers[i].ident.peer_id);
	if (!topo_partial(s))
		return;
	const ec_id *id = &s->peers[i].ident.peer_id;
	size_t n = s->members.n, lo = 0, hi = n, deg = s->sc->peers.degree;
	while (lo < hi) { /* first member above the gap */
		size_t mid = lo + (hi - lo) / 2;
		if (ec_id_cmp(&s->members.ids[mid], id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t d = 0; d < deg && d < n; d++) {
		link_ring(s, lo + d);
		link_ring(s, lo + n - 1 - d);
	}
}

/* A new peer joins now (join events, attackers, sync joiners). */
int sim_peer_join(ec_sim *s, int region, int group, uint64_t *rng, int link, size_t *out)
{
	size_t i = s->n_peers;
	int err;
	if (i >= s->max_peers)
		return EC_ERR_FULL;
	if (region < 0)
		region = pick_region(s, rng);
	if ((err = peer_create(s, i, region, group, rng)) != EC_OK)
		return err;
	s->n_peers++;
	s->peers[i].state = PEER_ONLINE;
	s->peers[i].joined_us = s->now_us;
	if ((err = ec_peerset_add(&s->members, &s->peers[i].ident.peer_id)) != EC_OK)
		return err;
	if (link)
		link_new(s, i, rng);
	s->peers_joined++;
	sim_after(s, i);
	*out = i;
	return EC_OK;
}

static int peer_join(ec_sim *s, int region, int group, uint64_t *rng, size_t *out)
{
	return sim_peer_join(s, region, group, rng, 1, out);
}

static int group_index(ec_sim *s, const char *name, int create)
{
	if (!name[0])
		return -1;
	for (size_t g = 0; g < s->n_groups; g++)
		if (!strcmp(s->groups[g], name))
			return (int)g;
	if (!create)
		return -2; /* named but unknown: matches nobody */
	snprintf(s->groups[s->n_groups], EC_SCN_NAME_MAX, "%s", name);
	return (int)s->n_groups++;
}

int sim_group_index(ec_sim *s, const char *name, int create)
{
	return group_index(s, name, create);
}

/* Candidates for leave/crash (online) or return (left/crashed). */
static size_t candidates(ec_sim *s, const ec_scn_event *ev, int ret, size_t *out)
{
	int g = group_index(s, ev->group, 0);
	size_t n = 0;
	for (size_t i = 0; i < s->n_peers; i++) {
		const sim_peer *p = &s->peers[i];
		int ok = ret ? (p->state == PEER_LEFT || p->state == PEER_CRASHED)
			     : p->state == PEER_ONLINE;
		if (!ok || p->strategy >= 0)
			continue;
		if (g != -1 && p->group != g)
			continue;
		if (!ret && ev->region >= 0 && p->region != ev->region)
			continue;
		out[n++] = i;
	}
	return n;
}

static void ev_leave(ec_sim *s, const ec_scn_event *ev, int crash)
{
	size_t *c = malloc(s->n_peers * sizeof *c), n;
	if (!c) {
		fail(s, EC_ERR_NOMEM, "event");
		return;
	}
	n = candidates(s, ev, 0, c);
	for (uint32_t k = 0; k < ev->count && n; k++) {
		size_t pick = sim_rand(&s->rng_ev) % n, i = c[pick];
		c[pick] = c[--n];
		if (crash) {
			s->peers[i].state = PEER_CRASHED;
			s->peers_crashed++;
		} else {
			s->peers[i].state = PEER_LEFT;
			(void)ec_peerset_remove(&s->members, &s->peers[i].ident.peer_id);
			unlink_peer(s, i);
			s->peers_left++;
		}
		s->peers[i].tick_at = SIM_NEVER;
	}
	free(c);
}

static void ev_return(ec_sim *s, const ec_scn_event *ev)
{
	size_t *c = malloc(s->n_peers * sizeof *c), n;
	if (!c) {
		fail(s, EC_ERR_NOMEM, "event");
		return;
	}
	n = candidates(s, ev, 1, c);
	for (uint32_t k = 0; k < ev->count && k < n; k++) {
		size_t i = c[k];
		sim_peer *p = &s->peers[i];
		if (p->state == PEER_LEFT) {
			(void)ec_peerset_add(&s->members, &p->ident.peer_id);
			link_new(s, i, &s->rng_ev);
		}
		p->state = PEER_ONLINE;
		s->peers_returned++;
		sim_after(s, i);
	}
	free(c);
}

static void ev_partition(ec_sim *s, const ec_scn_event *ev)
{
	unsigned bit;
	for (bit = 0; bit < SIM_MAX_PARTS && (s->parts_used >> bit & 1); bit++)
		;
	if (bit == SIM_MAX_PARTS)
		return; /* more than 32 partitions at once: ignored */
	s->parts_used |= 1u << bit;
	snprintf(s->parts[bit], EC_SCN_NAME_MAX, "%s", ev->group);
	for (size_t i = 0; i < s->n_peers; i++) {
		sim_peer *p = &s->peers[i];
		int cut;
		if (ev->regions_mask)
			cut = (ev->regions_mask >> p->region) & 1;
		else
			cut = p->state == PEER_ONLINE && sim_rand01(&s->rng_ev) < ev->fraction;
		if (cut)
			p->parts |= 1u << bit;
	}
}

static void ev_heal(ec_sim *s, const ec_scn_event *ev)
{
	uint32_t clear = 0;
	for (unsigned bit = 0; bit < SIM_MAX_PARTS; bit++)
		if ((s->parts_used >> bit & 1) &&
		    (!ev->group[0] || !strcmp(s->parts[bit], ev->group)))
			clear |= 1u << bit;
	s->parts_used &= ~clear;
	for (size_t i = 0; i < s->n_peers; i++)
		s->peers[i].parts &= ~clear;
}

static int ensure_link_free(ec_sim *s)
{
	if (s->link_free)
		return EC_OK;
	s->link_free = calloc(s->max_peers * s->max_peers, sizeof *s->link_free);
	return s->link_free ? EC_OK : EC_ERR_NOMEM;
}

static void ev_net(ec_sim *s, const ec_scn_event *ev)
{
	size_t nr = s->sc->peers.nregions;
	for (size_t a = 0; a < nr; a++)
		for (size_t b = 0; b < nr; b++) {
			if ((ev->region >= 0 && (size_t)ev->region != a) ||
			    (ev->region_to >= 0 && (size_t)ev->region_to != b))
				continue;
			if (ev->net_set & EC_SCN_NET_DELAY)
				s->lat[a][b] = ev->net.delay_ms;
			if (ev->net_set & EC_SCN_NET_JITTER)
				s->jit[a][b] = ev->net.jitter_ms;
			if (ev->net_set & EC_SCN_NET_LOSS)
				s->loss[a][b] = ev->net.loss;
			if (ev->net_set & EC_SCN_NET_BANDWIDTH)
				s->bw[a][b] = ev->net.bandwidth_kbps;
		}
	if ((ev->net_set & EC_SCN_NET_BANDWIDTH) && ev->net.bandwidth_kbps &&
	    ensure_link_free(s) != EC_OK)
		fail(s, EC_ERR_NOMEM, "link table");
}

static void apply_event(ec_sim *s, const ec_scn_event *ev)
{
	size_t idx;
	int err = EC_OK;
	s->events_applied++;
	switch (ev->kind) {
	case EC_SCN_EV_ATTACKER_GROUP:
		sim_atk_event(s, ev); /* ec_sim_swap.c */
		break;
	case EC_SCN_EV_JOIN: {
		int g = group_index(s, ev->group, 1);
		for (uint32_t k = 0; k < ev->count && err == EC_OK; k++)
			err = peer_join(s, ev->region, g, &s->rng_ev, &idx);
		if (err != EC_OK)
			fail(s, err, "join event");
		break;
	}
	case EC_SCN_EV_LEAVE:
		ev_leave(s, ev, 0);
		break;
	case EC_SCN_EV_CRASH:
		ev_leave(s, ev, 1);
		break;
	case EC_SCN_EV_RETURN:
		ev_return(s, ev);
		break;
	case EC_SCN_EV_PARTITION:
		ev_partition(s, ev);
		break;
	case EC_SCN_EV_HEAL:
		ev_heal(s, ev);
		break;
	case EC_SCN_EV_NET_CONDITION:
		ev_net(s, ev);
		break;
	case EC_SCN_EV_REPORT:
		sim_snapshot(s, ev->label);
		break;
	default:
		break;
	}
}

/* The sync joiners: one set per measured strategy, joined at join_at_ms. */
static void sync_join(ec_sim *s)
{
	const ec_scn_sync *y = &s->sc->sync;
	s->sync_joined = 1;
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *ss = &s->sync[st];
		if (!ss->measured)
			continue;
		ss->join_us = s->now_us;
		for (uint32_t k = 0; k < y->joiners; k++) {
			size_t i;
			int err = peer_join(s, -1, -1, &s->rng_ev, &i);
			if (err != EC_OK) {
				fail(s, err, "sync joiner");
				return;
			}
			s->peers[i].strategy = (int8_t)st;
			ss->joiners[ss->n_joiners++] = (uint32_t)i;
			err = ec_node_sync_start(s->peers[i].node,
						 st == EC_SCN_SYNC_CHAIN ? EC_SYNC_CHAIN
									 : EC_SYNC_POLL,
						 sim_now_ms(s));
			if (err == EC_ERR_NOTFOUND)
				ss->unavailable = 1;
			else if (err != EC_OK)
				ss->start_err = err;
			sim_after(s, i);
		}
	}
	/* scopes after every joiner is a member: the neighbourhoods they
	 * will be measured against */
	for (int st = 0; st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *ss = &s->sync[st];
		for (size_t k = 0; k < ss->n_joiners; k++) {
			size_t me = ss->joiners[k], nb[2 * EC_NEIGHBOURS];
			ss->scope[k] = malloc((s->n_toks + 1) * sizeof **ss->scope);
			if (!ss->scope[k]) {
				fail(s, EC_ERR_NOMEM, "sync scope");
				return;
			}
			for (size_t t = 0; t < s->n_toks; t++) {
				if (ec_id_is_zero(&s->toks[t].head))
					continue;
				size_t m = sim_neighbourhood(s, &s->toks[t].id, nb);
				for (size_t j = 0; j < m; j++)
					if (nb[j] == me) {
						ss->scope[k][ss->n_scope[k]++] = (int32_t)t;
						break;
					}
			}
		}
	}
}

/* ---- construction --------------------------------------------------------- */

static size_t max_peers_of(const ec_scenario *sc)
{
	size_t n = sc->peers.count;
	for (size_t i = 0; i < sc->nevents; i++)
		if (sc->events[i].kind == EC_SCN_EV_JOIN ||
		    sc->events[i].kind == EC_SCN_EV_ATTACKER_GROUP)
			n += sc->events[i].count + (size_t)sc->events[i].eclipse; /* + joiner */
	if (sc->sync.enabled)
		n += (size_t)sc->sync.joiners * EC_SCN_SYNC_COUNT;
	return n;
}

int ec_sim_new(ec_sim **out, const ec_scenario *sc, const ec_sim_opts *opts,
	       char *err, size_t errlen)
{
	ec_sim *s = calloc(1, sizeof *s);
	int rc;
	*out = NULL;
	if (!s)
		return EC_ERR_NOMEM;
	if ((rc = ec_crypto_init()) != EC_OK) {
		free(s);
		snprintf(err, errlen, "crypto init: %s", ec_strerror(rc));
		return rc;
	}
	s->sc = sc;
	if (opts)
		s->opts = *opts;
	memcpy(s->seed, opts && opts->seed ? opts->seed : sc->seed, EC_HASH_BYTES);
	s->pow = ec_pow_test;
	s->pow.difficulty = sc->peers.identity_difficulty;
	s->dur_us = sc->duration_ms * 1000;
	s->rng_net = stream_seed(s->seed, "network");
	s->rng_wl = stream_seed(s->seed, "workload");
	s->rng_ev = stream_seed(s->seed, "events");
	uint64_t rng_peers = stream_seed(s->seed, "peers");
	s->max_peers = max_peers_of(sc);
	s->peers = calloc(s->max_peers, sizeof *s->peers);
	for (s->map_cap = 16; s->map_cap < 2 * s->max_peers; s->map_cap *= 2)
		;
	s->map = calloc(s->map_cap, sizeof *s->map);
	s->groups = calloc(sc->nevents + 1, sizeof *s->groups);
	ec_peerset_init(&s->members);
	rc = s->peers && s->map && s->groups ? EC_OK : EC_ERR_NOMEM;

	/* links */
	for (size_t a = 0; a < EC_SCN_MAX_REGIONS; a++)
		for (size_t b = 0; b < EC_SCN_MAX_REGIONS; b++) {
			s->lat[a][b] = sc->links.latency_ms[a][b];
			s->jit[a][b] = sc->links.def.jitter_ms;
			s->loss[a][b] = sc->links.def.loss;
			s->bw[a][b] = sc->links.def.bandwidth_kbps;
		}
	if (rc == EC_OK && sc->links.def.bandwidth_kbps)
		rc = ensure_link_free(s);

	/* sync bookkeeping */
	for (int st = 0; rc == EC_OK && st < EC_SCN_SYNC_COUNT; st++) {
		sim_sync *ss = &s->sync[st];
		ss->first_head_us = ss->complete_us = SIM_NEVER;
		if (!sc->sync.enabled || !(sc->sync.strategies >> st & 1))
			continue;
		ss->measured = 1;
		ss->joiners = calloc(sc->sync.joiners, sizeof *ss->joiners);
		ss->scope = calloc(sc->sync.joiners, sizeof *ss->scope);
		ss->n_scope = calloc(sc->sync.joiners, sizeof *ss->n_scope);
		if (!ss->joiners || !ss->scope || !ss->n_scope)
			rc = EC_ERR_NOMEM;
	}

	/* initial peers: identities first, then the peer sets in ascending id
	 * order (appends), then everyone's first outputs */
	for (size_t i = 0; rc == EC_OK && i < sc->peers.count; i++) {
		int r = pick_region(s, &rng_peers);
		if ((rc = peer_create(s, i, r, -1, &rng_peers)) == EC_OK) {
			s->peers[i].state = PEER_ONLINE;
			s->n_peers++;
			rc = ec_peerset_add(&s->members, &s->peers[i].ident.peer_id);
		}
	}
	if (rc == EC_OK) {
		/* full: every member's key, in ring order; ring: each member
		 * and the next `degree` (mutual, so each side); random: then
		 * `random_peers` random members each, from the peer stream */
		size_t n = s->members.n;
		int partial = topo_partial(s);
		for (size_t k = 0; k < n; k++) {
			size_t i = member_at(s, k);
			if (!partial) {
				for (size_t m = 0; m < n; m++)
					if (m != k)
						(void)ec_node_add_peer_key(
						    s->peers[i].node, &s->members.ids[m],
						    s->peers[member_at(s, m)].key.pk);
			} else {
				for (size_t d = 1; d <= sc->peers.degree; d++)
					link_pair(s, i, member_at(s, k + d));
			}
		}
		if (partial && sc->peers.topology == EC_SCN_TOPO_RANDOM)
			for (size_t k = 0; k < n; k++)
				link_random(s, member_at(s, k), &rng_peers);
	}
	if (rc == EC_OK)
		rc = sim_atk_init(s);
	if (rc == EC_OK)
		rc = sim_inv_init(s);
	if (rc == EC_OK)
		rc = sim_wl_init(s);
	if (rc == EC_OK) {
		for (size_t i = 0; i < s->n_peers && !s->fatal; i++)
			sim_after(s, i);
		rc = s->fatal;
	}
	if (rc != EC_OK) {
		snprintf(err, errlen, "building the network: %s",
			 s->fatal ? s->err : ec_strerror(rc));
		ec_sim_free(s);
		return rc;
	}
	*out = s;
	return EC_OK;
}

void ec_sim_free(ec_sim *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->max_peers; i++) {
		ec_node_free(s->peers[i].node);
		if (s->peers[i].store)
			ec_store_close(s->peers[i].store);
	}
	for (size_t i = 0; i < s->n_heap; i++)
		free(s->heap[i].bytes);
	free(s->heap);
	free(s->peers);
	free(s->map);
	free(s->groups);
	free(s->link_free);
	ec_peerset_free(&s->members);
	sim_wl_free(s);
	sim_sync_free(s);
	sim_atk_free(s);
	sim_inv_free(s);
	free(s->ts);
	free(s->snaps);
	free(s);
}

size_t ec_sim_peer_count(const ec_sim *s)
{
	return s->n_peers;
}

int ec_sim_peer_region(const ec_sim *s, size_t i)
{
	return i < s->n_peers ? s->peers[i].region : -1;
}

int ec_sim_peer_online(const ec_sim *s, size_t i)
{
	return i < s->n_peers && s->peers[i].state == PEER_ONLINE;
}

uint64_t ec_sim_events(const ec_sim *s)
{
	return s->events;
}

/* ---- the run loop --------------------------------------------------------- */

int ec_sim_run(ec_sim *s, char *err, size_t errlen)
{
	const ec_scenario *sc = s->sc;
	uint64_t interval = sc->report.interval_ms * 1000;
	uint64_t sync_at = sc->sync.enabled ? sc->sync.join_at_ms * 1000 : SIM_NEVER;
	uint64_t probe = 100000; /* joiner status every 100 ms simulated */
	uint64_t every = s->opts.progress_every, next_progress = every;
	s->next_sample_us = 0;
	s->next_probe_us = sync_at;
	while (!s->fatal) {
		uint64_t t_heap = s->n_heap ? s->heap[0].t : SIM_NEVER;
		uint64_t t_scn = s->next_scn < sc->nevents
				     ? sc->events[s->next_scn].at_ms * 1000 : SIM_NEVER;
		uint64_t t_sync = s->sync_joined ? SIM_NEVER : sync_at;
		uint64_t t_wl = sim_wl_next(s);
		uint64_t t_atk = s->atk ? sim_atk_next(s) : SIM_NEVER;
		uint64_t t = t_heap;
		if (t_scn < t) t = t_scn;
		if (t_sync < t) t = t_sync;
		if (s->next_sample_us < t) t = s->next_sample_us;
		if (s->next_probe_us < t) t = s->next_probe_us;
		if (t_wl < t) t = t_wl;
		if (t_atk < t) t = t_atk;
		if (t > s->dur_us)
			break;
		if (t > s->now_us)
			s->now_us = t;
		if (!s->tail_marked && s->now_us + 10000000 >= s->dur_us) {
			s->tail_marked = 1; /* the liveness figures' last 10 s */
			s->tail_msgs_base = s->delivered;
		}
		s->events++;
		if (every && s->events >= next_progress && s->opts.progress) {
			s->opts.progress(s->opts.progress_ctx, s->now_us / 1000,
					 sc->duration_ms, s->events);
			next_progress += every;
		}
		/* ties: scenario events, the sync join, probes and samples,
		 * submissions, then the heap */
		if (t == t_scn) {
			apply_event(s, &sc->events[s->next_scn++]);
		} else if (t == t_sync) {
			sync_join(s);
		} else if (t == s->next_probe_us) {
			sim_probe_sync(s);
			s->next_probe_us += probe;
		} else if (t == s->next_sample_us) {
			if (s->sync_joined)
				sim_probe_sync(s);
			sim_sample(s);
			s->next_sample_us += interval;
		} else if (t == t_wl) {
			sim_wl_step(s);
		} else if (t == t_atk) {
			sim_atk_step(s);
		} else {
			sim_ev e = heap_pop(s);
			if (e.kind == EV_MSG)
				deliver(s, &e);
			else
				do_tick(s, &e);
		}
	}
	if (!s->fatal) {
		s->now_us = s->dur_us;
		if (!s->tail_marked) {
			s->tail_marked = 1;
			s->tail_msgs_base = s->delivered;
		}
		/* the last row at the duration, unless one was just taken */
		if (s->ts_rows == 0 ||
		    s->ts[(s->ts_rows - 1) * sim_ts_ncols()] < (double)sc->duration_ms) {
			if (s->sync_joined)
				sim_probe_sync(s);
			sim_sample(s);
		}
	}
	if (!s->fatal)
		sim_inv_finish(s); /* the network is as quiet as the scenario made it */
	if (s->opts.progress)
		s->opts.progress(s->opts.progress_ctx, s->now_us / 1000, sc->duration_ms,
				 s->events);
	if (s->fatal) {
		snprintf(err, errlen, "%s", s->err);
		return s->fatal;
	}
	return EC_OK;
}
