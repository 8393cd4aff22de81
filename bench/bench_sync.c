/* bench_sync.c - the two sync strategies side by side on one network
 * (issue 5; docs/RESULTS.md "Sync: chain traversal vs polling").
 *
 * One harness network (64 nodes, 5 ms + 0..5 ms per hop, no loss) commits
 * a workload; then a fresh peer joins and syncs with EC_SYNC_CHAIN; it is
 * removed from every peer set and a second fresh peer (own empty store)
 * joins with EC_SYNC_POLL for a fixed budget of simulated time.  For each
 * the table gives messages and bytes sent + received by sync, and the
 * simulated time until 80 % and 100 % of the neighbourhood's token states
 * are reproduced (tokens in the joiner's scope whose current transaction,
 * at the majority of their neighbourhood, the joiner holds as its current
 * state); polling reports where it stands at the end of the budget.
 * Chain traversal also reports round trips against ceil(blocks / K) +
 * ceil(log2 blocks) and wire bytes / unique raw bytes.
 *
 * No wall-clock figure is claimed: every number is a count or simulated
 * time, a function of the seed.  Signatures use the INSECURE
 * simulation-scale stand-in (ec_crypto_set_fake_signatures: same sizes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ec/crypto.h"
#include "ec/ring.h"
#include "harness.h"

#define BASE 64

static hn *net;

static int majority_current(const ec_id *t, ec_id *out)
{
	ec_peerset ps;
	ec_id ids[2 * EC_NEIGHBOURS], cur[2 * EC_NEIGHBOURS];
	size_t k, m = 0;
	ec_peerset_init(&ps);
	for (size_t i = 0; i < BASE; i++)
		(void)ec_peerset_add(&ps, &net->nodes[i].ident.peer_id);
	k = ec_peerset_neighbourhood(&ps, t, EC_NEIGHBOURS, ids);
	ec_peerset_free(&ps);
	for (size_t i = 0; i < k; i++)
		if (hn_token_current(net, hn_index_of(net, &ids[i]), t, &cur[m]))
			m++;
	for (size_t i = 0; i < m; i++) {
		size_t v = 0;
		for (size_t j = 0; j < m; j++)
			v += ec_id_eq(&cur[i], &cur[j]);
		if (v * 2 > k) {
			*out = cur[i];
			return 1;
		}
	}
	return 0;
}

/* The joiner's targets: in-scope tokens with a majority state. */
typedef struct target {
	ec_id token, want;
} target;

static size_t targets(const hn_wl *w, size_t j, target **out)
{
	ec_peerset ps;
	size_t n = 0;
	target *t = calloc(w->n_toks ? w->n_toks : 1, sizeof *t);
	if (!t)
		abort();
	ec_peerset_init(&ps);
	for (size_t i = 0; i < BASE; i++)
		(void)ec_peerset_add(&ps, &net->nodes[i].ident.peer_id);
	for (size_t i = 0; i < w->n_toks; i++) {
		if (!ec_peerset_would_be_eligible(&ps, &net->nodes[j].ident.peer_id,
						  &w->toks[i].id))
			continue;
		if (!majority_current(&w->toks[i].id, &t[n].want))
			continue;
		t[n++].token = w->toks[i].id;
	}
	ec_peerset_free(&ps);
	*out = t;
	return n;
}

static double reached(size_t j, const target *t, size_t n)
{
	size_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		ec_id got;
		ok += hn_token_current(net, j, &t[i].token, &got) && ec_id_eq(&got, &t[i].want);
	}
	return n ? (double)ok / (double)n : 0.0;
}

typedef struct result {
	const char *name;
	size_t n_targets;
	double final;
	double t80, t100; /* s of simulated time, -1 = not reached */
	uint64_t msgs80, bytes80;
	ec_sync_status st;
} result;

static void run(result *r, const hn_wl *w, uint8_t strategy, ec_time budget)
{
	size_t j;
	target *t;
	ec_time t0, end, step = 20;
	memset(r, 0, sizeof *r);
	r->t80 = r->t100 = -1;
	ec_sync_cfg_default(&net->sync);
	net->sync.strategy = strategy;
	j = hn_add_node(net);
	if (j == SIZE_MAX)
		abort();
	r->n_targets = targets(w, j, &t);
	t0 = net->now;
	end = t0 + budget;
	if (ec_node_sync_start(net->nodes[j].node, 0, t0) != EC_OK)
		abort();
	while (net->now < end) {
		double f;
		hn_run_until(net, net->now + step);
		(void)ec_node_sync_status(net->nodes[j].node, &r->st, NULL, 0);
		f = reached(j, t, r->n_targets);
		r->final = f;
		if (f >= 0.8 && r->t80 < 0) {
			r->t80 = (double)(net->now - t0) / 1000.0;
			r->msgs80 = r->st.msgs_sent + r->st.msgs_recv;
			r->bytes80 = r->st.bytes_sent + r->st.bytes_recv;
		}
		if (f >= 1.0 && r->t100 < 0)
			r->t100 = (double)(net->now - t0) / 1000.0;
		if (strategy == EC_SYNC_CHAIN && r->st.phase == EC_SYNC_CAUGHT_UP &&
		    r->t100 >= 0)
			break;
		if (strategy == EC_SYNC_POLL && net->now - t0 > 5000)
			step = 500;
	}
	/* leave the network: nobody counts it as a peer any more */
	for (size_t i = 0; i < net->n; i++)
		if (i != j)
			(void)ec_node_remove_peer(net->nodes[i].node, &net->nodes[j].ident.peer_id);
	free(t);
}

static void print_row(const result *r)
{
	char t80[32], t100[32];
	if (r->t80 >= 0)
		snprintf(t80, sizeof t80, "%.2f s", r->t80);
	else
		snprintf(t80, sizeof t80, "never");
	if (r->t100 >= 0)
		snprintf(t100, sizeof t100, "%.2f s", r->t100);
	else
		snprintf(t100, sizeof t100, "never (%.1f %%)", 100.0 * r->final);
	printf("| %-14s | %6zu | %8llu | %11llu | %9s | %17s | %8llu | %11llu |\n", r->name,
	       r->n_targets, (unsigned long long)(r->st.msgs_sent + r->st.msgs_recv),
	       (unsigned long long)(r->st.bytes_sent + r->st.bytes_recv), t80, t100,
	       (unsigned long long)r->msgs80, (unsigned long long)r->bytes80);
}

int main(void)
{
	hn_cfg c;
	hn_wl w;
	size_t n = 2600, c1, c2, s1;
	result chain, poll;
	uint64_t blocks, k, bound;
	ec_time t0;
	ec_crypto_set_fake_signatures(1);
	hn_cfg_default(&c);
	c.n_nodes = BASE;
	c.seed = 11;
	if (hn_new(&net, &c) != EC_OK)
		return 1;
	t0 = net->now;
	hn_wl_init(&w, 11);
	hn_wl_creations(net, &w, n, 1, t0 + 500, 6000);
	hn_run_until(net, t0 + 12000);
	c1 = hn_wl_apply(net, &w, 0, w.n_sent);
	s1 = w.n_sent;
	hn_wl_transfers(net, &w, n, 1, 5, net->now + 100, 6000);
	hn_run_until(net, net->now + 12000);
	c2 = hn_wl_apply(net, &w, s1, w.n_sent);

	run(&chain, &w, EC_SYNC_CHAIN, 120000);
	chain.name = "chain traversal";
	run(&poll, &w, EC_SYNC_POLL, 120000);
	poll.name = "polling";

	printf("network: %d nodes, %zu committed txs (1 token each), fake signatures; "
	       "poll: %u queries / %u ms, budget 120 s simulated\n",
	       BASE, c1 + c2, (unsigned)net->sync.poll_queries,
	       (unsigned)net->sync.maintain_ms);
	printf("| strategy       | tokens | messages | bytes       | to 80 %%    | to 100 %%           | msgs@80%% | bytes@80%%   |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	print_row(&chain);
	print_row(&poll);
	blocks = chain.st.blocks_verified;
	k = 256;
	bound = (blocks + k - 1) / k + (uint64_t)ceil(log2((double)(blocks ? blocks : 1)));
	printf("chain traversal: %llu blocks verified from %zu chains, %llu bodies; "
	       "%llu requests answered (all kinds, in parallel) vs "
	       "ceil(blocks/K)+ceil(log2 blocks) = %llu with K = %llu; "
	       "caught up after %.2f s simulated = ~%.0f serial round trips of "
	       "15 ms mean RTT; wire bytes / unique raw bytes = %.3f (goal <= 1.15)\n",
	       (unsigned long long)blocks, chain.st.n_chains,
	       (unsigned long long)chain.st.txs_held,
	       (unsigned long long)chain.st.round_trips, (unsigned long long)bound,
	       (unsigned long long)k,
	       (double)(chain.st.caught_up_at - chain.st.started) / 1000.0,
	       (double)(chain.st.caught_up_at - chain.st.started) / 15.0,
	       chain.st.bytes_useful
		       ? (double)(chain.st.bytes_sent + chain.st.bytes_recv) /
				 (double)chain.st.bytes_useful
		       : 0.0);
	printf("polling: %llu token states written, never complete (phase %u)\n",
	       (unsigned long long)poll.st.tokens_applied, poll.st.phase);
	hn_wl_free(&w);
	hn_free(net);
	return 0;
}
