/* test_node_swap.c - peer swapping driven by the node (PROTOCOL 14d "In the
 * node"; src/core/ec_node_swap.c).
 *
 * Conversation level, one node at explicit times, peers that are only
 * keys (they never answer):
 *  - a verified hello of an unknown peer while the set is full is pooled
 *    as a backup, not added; a forced swap connects it (peer table + our
 *    hello), moves the load and disconnects the old peer; the retired peer's
 *    next hello is refused; a scheduled round swaps by itself;
 *  - the minimum size: a swap whose disconnect would leave fewer than
 *    min_neighbours active waits, and completes once a neighbour is back;
 *  - a pending commit (an undecided tx whose neighbourhood holds the peer)
 *    blocks the disconnect until the tx leaves the mempool;
 *  - swapping off: the wrappers answer EC_ERR_NOTFOUND, hellos join the set.
 * Harness level (INSECURE fake signatures, ec_crypto_set_fake_signatures,
 * to stay fast): 32 nodes with partial peer sets, backups learnt from
 * hellos, swapping every ~1.5 s under a creation + transfer + double-sign
 * workload: swaps happen, every committed tx is held by its token's
 * neighbourhood, no token has two committed successors, every chain
 * verifies. */
#include <stdio.h>
#include <stdlib.h>

#include "ec/node.h"
#include "harness.h"
#include "testutil.h"

#define T0 1700000000000ull

static void rng_fill(void *ctx, void *out, size_t len)
{
	tu_rand_bytes(ctx, out, len);
}

typedef struct peer {
	ec_keypair key;
	ec_identity ident;
} peer;

static void peer_make(peer *p, uint64_t seed)
{
	uint8_t s[32];
	uint64_t st = seed;
	tu_rand_bytes(&st, s, sizeof s);
	assert_int_equal(ec_keypair_from_seed(&p->key, s), EC_OK);
	assert_int_equal(ec_identity_mine(&p->ident, p->key.pk, 7, T0 / 1000, &ec_pow_test,
					  rng_fill, &st, 100000, NULL),
			 EC_OK);
}

typedef struct conv {
	ec_node *n;
	ec_store *store;
	peer self;
	peer p[8];
	uint64_t rng;
	ec_time now;
} conv;

static void swap_cfg_small(ec_swap_cfg *c)
{
	ec_swap_cfg_default(c);
	c->initial_interval_ms = 1000000; /* no scheduled round unless asked */
	c->target_interval_ms = 1000000;
	c->jitter = 0;
	c->min_neighbours = 3;
	c->shift_steps = 2;
	c->shift_step_ms = 100;
	c->phase_timeout_ms = 1000;
	c->cooldown_ms = 60000;
}

static void conv_new(conv *c, const ec_swap_cfg *sc, uint32_t set_size, int enabled)
{
	ec_node_cfg nc;
	memset(c, 0, sizeof *c);
	c->now = T0;
	c->rng = 77;
	peer_make(&c->self, 1);
	for (int i = 0; i < 8; i++)
		peer_make(&c->p[i], 100 + (uint64_t)i);
	assert_int_equal(ec_store_open_memory(&c->store), EC_OK);
	ec_node_cfg_default(&nc);
	nc.key = c->self.key;
	nc.identity = c->self.ident;
	nc.store = c->store;
	nc.pow = &ec_pow_test;
	nc.identity_tx = 0;
	nc.rng = rng_fill;
	nc.rng_ctx = &c->rng;
	nc.mempool.tx_timeout_ms = 3000;
	nc.swap_enabled = (uint8_t)enabled;
	nc.swap_set_size = set_size;
	nc.swap_keep_ring = 0; /* every peer swappable (see test_keep_ring) */
	if (sc)
		nc.swap = *sc;
	assert_int_equal(ec_node_new(&c->n, &nc, c->now), EC_OK);
}

static void conv_free(conv *c)
{
	ec_node_out o;
	while (ec_node_poll(c->n, &o))
		free(o.msg);
	ec_node_free(c->n);
	ec_store_close(c->store);
}

/* Drains the outbox; returns how many hellos went to `to`. */
static int hellos_to(conv *c, const ec_id *to)
{
	ec_node_out o;
	int k = 0;
	while (ec_node_poll(c->n, &o)) {
		if (o.len && o.msg[0] == EC_MSG_HELLO && ec_id_eq(&o.to, to))
			k++;
		free(o.msg);
	}
	return k;
}

static void send_hello(conv *c, const peer *p)
{
	ec_hello h;
	uint8_t *enc;
	size_t len;
	memset(&h, 0, sizeof h);
	h.peer_id = p->ident.peer_id;
	memcpy(h.pk, p->key.pk, 32);
	h.network_id = 7;
	memcpy(h.salt, p->ident.salt, sizeof h.salt);
	h.timestamp = c->now;
	assert_int_equal(ec_hello_sign(&h, p->key.sk), EC_OK);
	assert_int_equal(ec_hello_encode(&h, &enc, &len), EC_OK);
	assert_int_equal(ec_node_recv(c->n, &p->ident.peer_id, enc, len, c->now), EC_OK);
	free(enc);
}

static int in_table(conv *c, const peer *p)
{
	uint8_t pk[32];
	return ec_node_peer_key(c->n, &p->ident.peer_id, pk) == EC_OK;
}

static int role(conv *c, const peer *p)
{
	ec_swap_status st;
	(void)ec_node_swap_status(c->n, &st); /* brings the module up to date */
	return ec_swap_role(ec_node_swap_get(c->n), &p->ident.peer_id);
}

/* Ticks the node every 10 ms up to t. */
static void run_to(conv *c, ec_time t)
{
	while (c->now < t) {
		c->now += 10;
		if (ec_node_next_deadline(c->n) <= c->now)
			assert_int_equal(ec_node_tick(c->n, c->now), EC_OK);
	}
}

static void test_pool_force_disconnect(void **state)
{
	conv c;
	ec_swap_cfg sc;
	ec_swap_status st;
	ec_node_swap_counters k;
	uint32_t op = 0;
	(void)state;
	swap_cfg_small(&sc);
	conv_new(&c, &sc, 4, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
	assert_int_equal(role(&c, &c.p[0]), EC_SWAP_NEIGHBOUR);
	/* the set is full (4): a verified hello is pooled, not added */
	send_hello(&c, &c.p[4]);
	assert_int_equal(ec_node_peer_count(c.n), 4);
	assert_false(in_table(&c, &c.p[4]));
	assert_int_equal(role(&c, &c.p[4]), EC_SWAP_BACKUP);
	assert_int_equal(hellos_to(&c, &c.p[4].ident.peer_id), 0);
	/* a forged hello (wrong signature) is not pooled */
	{
		ec_hello h;
		uint8_t *enc;
		size_t len;
		memset(&h, 0, sizeof h);
		h.peer_id = c.p[5].ident.peer_id;
		memcpy(h.pk, c.p[5].key.pk, 32);
		h.network_id = 7;
		memcpy(h.salt, c.p[5].ident.salt, sizeof h.salt);
		h.timestamp = c.now;
		assert_int_equal(ec_hello_sign(&h, c.p[6].key.sk), EC_OK);
		assert_int_equal(ec_hello_encode(&h, &enc, &len), EC_OK);
		assert_int_equal(ec_node_recv(c.n, &h.peer_id, enc, len, c.now), EC_OK);
		free(enc);
		assert_int_equal(role(&c, &c.p[5]), EC_SWAP_NONE);
	}
	/* force p[1] out: CONNECT runs at once (key in the table, our hello) */
	assert_int_equal(ec_node_swap_force(c.n, &c.p[1].ident.peer_id, NULL, c.now, &op),
			 EC_OK);
	assert_true(op > 0);
	assert_true(in_table(&c, &c.p[4]));
	assert_int_equal(ec_node_peer_count(c.n), 5);
	assert_int_equal(hellos_to(&c, &c.p[4].ident.peer_id), 1);
	assert_int_equal(role(&c, &c.p[4]), EC_SWAP_JOINING);
	assert_true(in_table(&c, &c.p[1]));
	/* load steps, then the disconnect */
	run_to(&c, c.now + 1000);
	assert_false(in_table(&c, &c.p[1]));
	assert_int_equal(ec_node_peer_count(c.n), 4);
	assert_int_equal(role(&c, &c.p[1]), EC_SWAP_RETIRED);
	assert_int_equal(role(&c, &c.p[4]), EC_SWAP_NEIGHBOUR);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.done, 1);
	assert_int_equal(st.forced, 1);
	assert_int_equal(ec_node_swap_counters_get(c.n, &k), EC_OK);
	assert_int_equal(k.connects, 1);
	assert_int_equal(k.disconnects, 1);
	assert_int_equal(k.hellos_pooled, 1);
	assert_true(k.load_steps >= 2);
	/* the retired peer's hello is refused: not back in the set */
	send_hello(&c, &c.p[1]);
	assert_false(in_table(&c, &c.p[1]));
	assert_int_equal(ec_node_swap_counters_get(c.n, &k), EC_OK);
	assert_int_equal(k.hellos_refused, 1);
	/* no backup left: a forced swap finds no replacement */
	assert_int_equal(ec_node_swap_force(c.n, NULL, NULL, c.now, NULL), EC_ERR_NOTFOUND);
	/* after its cooldown (60 s) the swapped-out peer is a backup again */
	run_to(&c, c.now + 61500);
	assert_int_equal(role(&c, &c.p[1]), EC_SWAP_BACKUP);
	assert_false(in_table(&c, &c.p[1]));
	assert_int_equal(ec_node_swap_counters_get(c.n, &k), EC_OK);
	assert_int_equal(k.repooled, 1);
	/* pause stops scheduled rounds; status says so */
	assert_int_equal(ec_node_swap_pause(c.n, c.now), EC_OK);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.mode, EC_SWAP_MODE_PAUSED);
	assert_int_equal(ec_node_swap_resume(c.n, c.now), EC_OK);
	assert_int_equal(ec_node_swap_static(c.n, 1, c.now), EC_OK);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.mode, EC_SWAP_MODE_STATIC);
	assert_int_equal(ec_node_swap_static(c.n, 0, c.now), EC_OK);
	conv_free(&c);
}

/* A scheduled round (rotation) swaps by itself from ec_node_tick. */
static void test_scheduled_round(void **state)
{
	conv c;
	ec_swap_cfg sc;
	ec_swap_status st;
	(void)state;
	swap_cfg_small(&sc);
	sc.initial_interval_ms = 2000;
	sc.target_interval_ms = 1000;
	conv_new(&c, &sc, 4, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
	send_hello(&c, &c.p[4]);
	send_hello(&c, &c.p[5]);
	assert_int_equal(ec_node_peer_count(c.n), 4);
	run_to(&c, T0 + 1900);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.started, 0);
	run_to(&c, T0 + 3500);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.rotations, 1);
	assert_int_equal(st.done, 1);
	assert_int_equal(ec_node_peer_count(c.n), 4);
	/* exactly one of the backups is in, one of the first four out */
	assert_int_equal(in_table(&c, &c.p[4]) + in_table(&c, &c.p[5]), 1);
	assert_int_equal(in_table(&c, &c.p[0]) + in_table(&c, &c.p[1]) +
				 in_table(&c, &c.p[2]) + in_table(&c, &c.p[3]),
			 3);
	conv_free(&c);
}

static void test_min_size_waits(void **state)
{
	conv c;
	ec_swap_cfg sc;
	ec_swap_status st;
	(void)state;
	swap_cfg_small(&sc);
	sc.min_neighbours = 4;
	conv_new(&c, &sc, 4, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
	send_hello(&c, &c.p[4]);
	assert_int_equal(ec_node_swap_force(c.n, &c.p[0].ident.peer_id, NULL, c.now, NULL),
			 EC_OK);
	/* another neighbour leaves: 3 neighbours + the newcomer = 4 active, a
	 * disconnect would leave 3 < min 4 */
	assert_int_equal(ec_node_remove_peer(c.n, &c.p[3].ident.peer_id), EC_OK);
	run_to(&c, c.now + 1500);
	assert_true(in_table(&c, &c.p[0]));
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_true(st.waits_min_size > 0);
	assert_int_equal(st.done, 0);
	assert_int_equal(st.inflight, 1);
	/* the neighbour is back: the swap completes */
	assert_int_equal(ec_node_add_peer_key(c.n, &c.p[3].ident.peer_id, c.p[3].key.pk),
			 EC_OK);
	run_to(&c, c.now + 500);
	assert_false(in_table(&c, &c.p[0]));
	assert_int_equal(ec_node_peer_count(c.n), 4);
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.done, 1);
	conv_free(&c);
}

static void test_pending_commit_blocks(void **state)
{
	conv c;
	ec_swap_cfg sc;
	ec_swap_status st;
	ec_node_tx_info ti;
	ec_tx tx;
	uint8_t *enc;
	size_t len;
	(void)state;
	swap_cfg_small(&sc);
	conv_new(&c, &sc, 4, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
	send_hello(&c, &c.p[4]);
	/* a creation nobody votes on stays pending (mempool timeout 3 s); in a
	 * ring of 6 every peer is in its neighbourhood */
	memset(&tx, 0, sizeof tx);
	tx.timestamp = c.now;
	tx.n_entries = 1;
	tx.entries[0].token.b[0] = 0x42;
	ec_keyhash(&tx.entries[0].next_key, c.p[7].key.pk);
	assert_int_equal(ec_tx_finalize(&tx), EC_OK);
	assert_int_equal(ec_tx_encode(&tx, &enc, &len), EC_OK);
	assert_int_equal(ec_node_submit_tx(c.n, enc, len, c.now), EC_OK);
	free(enc);
	assert_int_equal(ec_node_swap_force(c.n, &c.p[2].ident.peer_id, NULL, c.now, NULL),
			 EC_OK);
	run_to(&c, c.now + 1500);
	assert_true(in_table(&c, &c.p[2]));
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_true(st.waits_pending > 0);
	assert_int_equal(st.done, 0);
	/* a second creation, begun after the disconnect step began, needs the
	 * old peer as much, but does not hold the swap (PROTOCOL 14d.1
	 * "pending guard"): else a steady load, or an attacker feeding
	 * transactions near its victim, would hold it for ever */
	run_to(&c, c.now + 100);
	tx.entries[0].token.b[0] = 0x43;
	tx.timestamp = c.now;
	assert_int_equal(ec_tx_finalize(&tx), EC_OK);
	assert_int_equal(ec_tx_encode(&tx, &enc, &len), EC_OK);
	assert_int_equal(ec_node_submit_tx(c.n, enc, len, c.now), EC_OK);
	free(enc);
	/* the first tx expires (3 s after it came) while the second is still
	 * pending (until 1.6 s later): the swap ends */
	run_to(&c, c.now + 2200);
	assert_int_equal(ec_node_tx_info_get(c.n, &tx.id, &ti), EC_OK);
	assert_int_equal(ti.state, EC_NODE_TX_PENDING);
	assert_false(in_table(&c, &c.p[2]));
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_OK);
	assert_int_equal(st.done, 1);
	conv_free(&c);
}

static void test_swap_off(void **state)
{
	conv c;
	ec_swap_status st;
	ec_node_swap_counters k;
	(void)state;
	conv_new(&c, NULL, 4, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
	assert_null(ec_node_swap_get(c.n));
	assert_int_equal(ec_node_swap_status(c.n, &st), EC_ERR_NOTFOUND);
	assert_int_equal(ec_node_swap_counters_get(c.n, &k), EC_ERR_NOTFOUND);
	assert_int_equal(ec_node_swap_pause(c.n, c.now), EC_ERR_NOTFOUND);
	assert_int_equal(ec_node_swap_force(c.n, NULL, NULL, c.now, NULL), EC_ERR_NOTFOUND);
	send_hello(&c, &c.p[4]); /* no cap without swapping */
	assert_true(in_table(&c, &c.p[4]));
	conv_free(&c);
}

/* swap_keep_ring: our ring-closest peers stay out of swapping. */
static void test_keep_ring(void **state)
{
	conv c;
	ec_swap_cfg sc;
	ec_id nb[2];
	ec_peerset ps;
	int kept = 0, swappable = 0;
	(void)state;
	swap_cfg_small(&sc);
	sc.min_neighbours = 1;
	conv_new(&c, &sc, 4, 1);
	ec_node_free(c.n);
	{
		ec_node_cfg nc;
		ec_node_cfg_default(&nc);
		assert_int_equal(nc.swap_keep_ring, EC_NEIGHBOURS); /* the default */
		nc.key = c.self.key;
		nc.identity = c.self.ident;
		nc.store = c.store;
		nc.pow = &ec_pow_test;
		nc.identity_tx = 0;
		nc.rng = rng_fill;
		nc.rng_ctx = &c.rng;
		nc.swap_enabled = 1;
		nc.swap_set_size = 4;
		nc.swap = sc;
		nc.swap_keep_ring = 1;
		assert_int_equal(ec_node_new(&c.n, &nc, c.now), EC_OK);
	}
	ec_peerset_init(&ps);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ec_node_add_peer_key(c.n, &c.p[i].ident.peer_id, c.p[i].key.pk),
				 EC_OK);
		assert_int_equal(ec_peerset_add(&ps, &c.p[i].ident.peer_id), EC_OK);
	}
	assert_int_equal(ec_peerset_neighbourhood(&ps, &c.self.ident.peer_id, 1, nb), 2);
	for (int i = 0; i < 4; i++) {
		int r = role(&c, &c.p[i]);
		int near = ec_id_eq(&nb[0], &c.p[i].ident.peer_id) ||
			   ec_id_eq(&nb[1], &c.p[i].ident.peer_id);
		if (near) {
			assert_int_equal(r, EC_SWAP_NONE);
			kept++;
		} else {
			assert_int_equal(r, EC_SWAP_NEIGHBOUR);
			swappable++;
		}
	}
	assert_int_equal(kept, 2);
	assert_int_equal(swappable, 2);
	send_hello(&c, &c.p[4]);
	assert_int_equal(ec_node_swap_force(c.n, &nb[0], NULL, c.now, NULL), EC_ERR_NOTFOUND);
	ec_peerset_free(&ps);
	conv_free(&c);
}

/* ---- harness run -------------------------------------------------------- */

static void net_swap_cfg(void *ctx, size_t i, ec_node_cfg *nc)
{
	(void)ctx;
	(void)i;
	nc->swap_enabled = 1;
	nc->swap_set_size = 1; /* every hello after the start is a backup */
	ec_swap_cfg_default(&nc->swap);
	nc->swap.initial_interval_ms = 1500;
	nc->swap.target_interval_ms = 1000;
	nc->swap.min_neighbours = 1; /* swappable peers: beyond +-4 */
	nc->swap.shift_steps = 2;
	nc->swap.shift_step_ms = 200;
	nc->swap.phase_timeout_ms = 2000;
	nc->swap.cooldown_ms = 5000;
}

static void harness_totals(hn *h, uint64_t *done, uint64_t *started, uint64_t *pooled)
{
	*done = *started = *pooled = 0;
	for (size_t i = 0; i < h->n; i++) {
		ec_swap_status st;
		ec_node_swap_counters k;
		uint64_t len;
		assert_int_equal(ec_node_swap_status(h->nodes[i].node, &st), EC_OK);
		assert_int_equal(ec_node_swap_counters_get(h->nodes[i].node, &k), EC_OK);
		*done += st.done;
		*started += st.started;
		*pooled += k.hellos_pooled;
		/* the kept ring neighbours (+-4) are never swapped out */
		assert_true(ec_node_peer_count(h->nodes[i].node) >= 2 * EC_NEIGHBOURS);
		assert_int_equal(hn_verify_chain(h, i, &len), EC_OK);
		assert_int_equal(ec_node_stats_get(h->nodes[i].node)->lower_conflict_decided, 0);
	}
}

static void test_harness_swapping(void **state)
{
	hn_cfg hc;
	hn *h;
	hn_wl w;
	size_t sent, committed, s1, agree, off = 0, live = 0, both = 0, pairs = 0;
	uint64_t done, started, pooled;
	(void)state;
	ec_crypto_set_fake_signatures(1);
	hn_cfg_default(&hc);
	hc.n_nodes = 32;
	hc.seed = 81;
	hc.near_peers = 8; /* as test_node_partial: 8 ring neighbours a side */
	hc.random_peers = 2;
	hc.node_cfg = net_swap_cfg;
	assert_int_equal(hn_new(&h, &hc), EC_OK);
	/* backups: every node greets 4 random nodes it does not know */
	for (size_t i = 0; i < h->n; i++)
		for (int k = 0; k < 4; k++) {
			size_t j = (size_t)(hn_rand(h) % h->n);
			uint8_t pk[32];
			if (j == i || ec_node_peer_key(h->nodes[i].node,
						       &h->nodes[j].ident.peer_id, pk) == EC_OK)
				continue;
			assert_int_equal(ec_node_send_hello(h->nodes[i].node,
							    &h->nodes[j].ident.peer_id, h->now),
					 EC_OK);
		}
	hn_run_until(h, h->now + 3000); /* identity tokens */
	hn_wl_init(&w, 81);
	hn_wl_creations(h, &w, 80, 1, h->now + 100, 3000);
	hn_run_until(h, h->now + 8000);
	committed = hn_wl_apply(h, &w, 0, w.n_sent);
	s1 = w.n_sent;
	hn_wl_transfers(h, &w, 60, 1, 10, h->now + 100, 3000);
	hn_run_until(h, h->now + 10000);
	committed += hn_wl_apply(h, &w, s1, w.n_sent);
	sent = w.n_sent;
	harness_totals(h, &done, &started, &pooled);
	agree = hn_wl_agreement(h, &w, &off);
	for (size_t i = 0; i < w.n_toks; i++)
		live += !ec_id_is_zero(&w.toks[i].head);
	printf("harness swapping (32 nodes, 8 near + 2 random, keep +-4, fake "
	       "signatures): %llu hellos pooled, %llu swaps started, %llu done; "
	       "%zu/%zu txs committed; tokens agreeing %zu/%zu (node states off %zu)\n",
	       (unsigned long long)pooled, (unsigned long long)started,
	       (unsigned long long)done, committed, sent, agree, live, off);
	assert_true(pooled > 0);
	assert_true(done >= h->n); /* about two per node */
	assert_int_equal(agree, live);
	assert_int_equal(off, 0);
	assert_true(committed >= sent * 95 / 100);
	/* double-signs while swapping goes on: never both halves committed
	 * at one node */
	s1 = w.n_sent;
	hn_wl_double_signs(h, &w, 10, h->now + 200, 3000);
	hn_run_until(h, h->now + 10000);
	(void)hn_wl_apply(h, &w, s1, w.n_sent);
	for (size_t s = s1; s < w.n_sent; s++) {
		const hn_sent *a = &w.sent[s];
		if (a->pair < 0 || (size_t)a->pair < s)
			continue;
		pairs++;
		for (size_t i = 0; i < h->n; i++)
			both += hn_committed(h, i, &a->tx.id) &&
				hn_committed(h, i, &w.sent[a->pair].tx.id);
	}
	harness_totals(h, &done, &started, &pooled);
	off = 0;
	agree = hn_wl_agreement(h, &w, &off);
	printf("harness swapping, then %zu double-sign pairs: both halves at one "
	       "node %zu; %llu swaps done in all; node states off the majority %zu "
	       "(a double-sign can split a neighbourhood with or without swapping: "
	       "see RESULTS)\n",
	       pairs, both, (unsigned long long)done, off);
	assert_true(pairs > 0);
	assert_int_equal(both, 0);
	ec_crypto_set_fake_signatures(0);
	hn_wl_free(&w);
	hn_free(h);
}

/* ---- scores from the sync engine and cross-checks (PROTOCOL 14d.1) -------- */

struct eq_liar {
	size_t liar, victim;
	int left; /* head answers left to replace */
	size_t done;
};

/* The liar answers the victim's head query with another head at the same
 * height, validly signed: equivocation. */
static void eq_mutate(void *ctx, const hn *h, size_t from, size_t to, uint8_t **msg,
		      size_t *len)
{
	struct eq_liar *l = ctx;
	ec_mapping_resp m;
	uint8_t *enc;
	size_t elen;
	if (from != l->liar || to != l->victim || *len < 1 ||
	    (*msg)[0] != EC_MSG_MAPPING_RESP || l->left <= 0 ||
	    ec_mapping_resp_decode(&m, *msg, *len) != EC_OK)
		return;
	m.head.b[0] ^= 0x80;
	if (ec_mapping_resp_sign(&m, h->nodes[from].key.sk) != EC_OK ||
	    ec_mapping_resp_encode(&m, &enc, &elen) != EC_OK)
		return;
	free(*msg);
	*msg = enc;
	*len = elen;
	l->left--;
	l->done++;
}

/* Swapping on for the joiner only, never swapping by itself: the test
 * reads the scores, no swap moves a peer. */
static void joiner_swap_cfg(void *ctx, size_t i, ec_node_cfg *nc)
{
	if (i != *(size_t *)ctx)
		return;
	nc->swap_enabled = 1;
	ec_swap_cfg_default(&nc->swap);
	nc->swap.rotate = 0;
	nc->swap.initial_interval_ms = nc->swap.target_interval_ms = 86400000ull;
	nc->swap.min_neighbours = 1;
	nc->swap_keep_ring = 0; /* every peer in the module, so every one is scored */
	nc->swap_set_size = 1000;
}

/* A joiner syncs by chain traversal with swapping on; one ring neighbour
 * equivocates (its chain is dropped).  The chains verified complete feed
 * agreeing cross-checks and sync samples into their creators' scores, the
 * dropped one a failed check and a penalty: the liar ends with accuracy
 * below 1, reputation below the start, and a lower score than an honest
 * followed peer.  INSECURE fake signatures (16 nodes, speed only; the liar
 * signs validly either way). */
static void test_scores_from_sync(void **state)
{
	hn_cfg hc;
	hn *h;
	hn_wl w;
	size_t j, want = 16, honest = SIZE_MAX;
	struct eq_liar l;
	ec_sync_status st;
	ec_sync_chain ch[32];
	ec_node_swap_counters k;
	ec_peer_metrics ml, mh;
	ec_swap_cfg dc;
	ec_peerset ps;
	ec_id nb[2 * EC_NEIGHBOURS];
	(void)state;
	ec_crypto_set_fake_signatures(1);
	hn_cfg_default(&hc);
	hc.n_nodes = 16;
	hc.seed = 82;
	hc.node_cfg = joiner_swap_cfg;
	hc.node_cfg_ctx = &want;
	assert_int_equal(hn_new(&h, &hc), EC_OK);
	hn_run_until(h, h->now + 3000);
	hn_wl_init(&w, 82);
	hn_wl_creations(h, &w, 60, 1, h->now + 100, 3000);
	hn_run_until(h, h->now + 10000);
	memset(&h->sync, 0, sizeof h->sync);
	ec_sync_cfg_default(&h->sync);
	h->sync.strategy = EC_SYNC_CHAIN;
	j = hn_add_node(h);
	assert_int_equal(j, want);
	assert_non_null(ec_node_swap_get(h->nodes[j].node));
	/* the liar: the joiner's nearest ring neighbour (a followed chain) */
	ec_peerset_init(&ps);
	for (size_t i = 0; i < j; i++)
		assert_int_equal(ec_peerset_add(&ps, &h->nodes[i].ident.peer_id), EC_OK);
	assert_int_equal(ec_peerset_neighbourhood(&ps, &h->nodes[j].ident.peer_id,
						  EC_NEIGHBOURS, nb),
			 2 * EC_NEIGHBOURS);
	ec_peerset_free(&ps);
	memset(&l, 0, sizeof l);
	l.liar = hn_index_of(h, &nb[0]);
	l.victim = j;
	l.left = 1;
	h->mutate = eq_mutate;
	h->mutate_ctx = &l;
	assert_int_equal(ec_node_sync_start(h->nodes[j].node, EC_SYNC_CHAIN, h->now), EC_OK);
	for (int r = 0; r < 300; r++) {
		hn_run_until(h, h->now + 200);
		assert_int_equal(ec_node_sync_status(h->nodes[j].node, &st, NULL, 0), EC_OK);
		if (st.phase == EC_SYNC_CAUGHT_UP)
			break;
	}
	h->mutate = NULL;
	assert_int_equal(st.phase, EC_SYNC_CAUGHT_UP);
	assert_int_equal(l.done, 1);
	hn_run_until(h, h->now + 2000); /* a few ticks: the glue reads the outcome */

	assert_int_equal(ec_node_sync_status(h->nodes[j].node, &st, ch, 32), EC_OK);
	assert_int_equal(ec_node_swap_counters_get(h->nodes[j].node, &k), EC_OK);
	printf("scores from sync: %zu chains, checks agreed %llu failed %llu, sync samples "
	       "%llu, penalties %llu\n",
	       st.n_chains, (unsigned long long)k.checks_agreed,
	       (unsigned long long)k.checks_failed, (unsigned long long)k.sync_samples,
	       (unsigned long long)k.penalties);
	for (size_t i = 0; i < st.n_chains && i < 32; i++)
		if (ch[i].complete && !ch[i].dropped && honest == SIZE_MAX)
			honest = hn_index_of(h, &ch[i].creator);
	assert_true(honest != SIZE_MAX);
	assert_int_equal(k.checks_failed, 1);
	assert_true(k.checks_agreed >= 2);
	assert_int_equal(k.sync_samples, k.checks_agreed);
	assert_true(k.penalties >= 1);

	const ec_swap *sw = ec_node_swap_get(h->nodes[j].node);
	assert_int_equal(ec_swap_get_metrics(sw, &h->nodes[l.liar].ident.peer_id, &ml), EC_OK);
	assert_int_equal(ec_swap_get_metrics(sw, &h->nodes[honest].ident.peer_id, &mh), EC_OK);
	ec_swap_cfg_default(&dc);
	/* the honest peer: every check agreed, one sync sample, nothing lost */
	assert_true(mh.n_checked >= 1);
	assert_int_equal(mh.n_agreed, mh.n_checked);
	assert_true(mh.n_sync >= 1);
	assert_true(mh.sync_sum > 0);
	assert_true(mh.reputation > dc.rep_initial);
	/* the liar: a failed check, reputation below where it started */
	assert_true(ml.n_checked >= 1);
	assert_true(ml.n_agreed < ml.n_checked);
	assert_true(ml.reputation < dc.rep_initial);
	assert_true(ec_swap_score(&dc, &ml, NULL) < ec_swap_score(&dc, &mh, NULL));
	hn_wl_free(&w);
	ec_crypto_set_fake_signatures(0);
	hn_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_force_disconnect),
		cmocka_unit_test(test_scheduled_round),
		cmocka_unit_test(test_min_size_waits),
		cmocka_unit_test(test_pending_commit_blocks),
		cmocka_unit_test(test_swap_off),
		cmocka_unit_test(test_keep_ring),
		cmocka_unit_test(test_harness_swapping),
		cmocka_unit_test(test_scores_from_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
