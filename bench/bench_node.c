/* bench_node.c - commit throughput of the node core, in the in-process
 * harness (64 nodes, full mesh, no loss), against raw Ed25519 verify
 * throughput measured in the same run.
 *
 * Every node runs in this one thread, so the figure is "transactions the
 * whole simulated network commits per second of one core".  A tx costs
 * about P^2 vote verifications with the full fan-out (P = nodes in the
 * union of its tokens' and its witness neighbourhoods, ~16 for one token),
 * fewer with the bounded one (the default), which the ratio shows:
 *   network commits/s / raw verifies/s  ~  1 / (verifies per tx). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness.c" /* the test harness (tests/util), no cmocka needed */

#define N_NODES 64
#define N_TX 300
#define RAW_VERIFIES 20000

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double raw_verify_rate(void)
{
	ec_keypair kp;
	uint8_t seed[32] = {1}, sig[EC_SIG_BYTES];
	ec_id d;
	double t0, t1;
	int ok = 0;
	(void)ec_keypair_from_seed(&kp, seed);
	memset(d.b, 7, sizeof d.b);
	(void)ec_sign_digest(sig, &d, kp.sk);
	t0 = wall();
	for (int i = 0; i < RAW_VERIFIES; i++)
		ok += ec_verify_digest(sig, &d, kp.pk) == EC_OK;
	t1 = wall();
	if (ok != RAW_VERIFIES)
		abort();
	return RAW_VERIFIES / (t1 - t0);
}

int main(void)
{
	hn_cfg c;
	hn *h;
	hn_owner owner;
	static ec_tx txs[N_TX];
	double raw1, raw2, t0, t1;
	uint64_t node_commits = 0, votes_verified = 0;
	size_t committed = 0;
	ec_time start;
	if (ec_crypto_init() != EC_OK)
		return 1;
	raw1 = raw_verify_rate();
	hn_cfg_default(&c);
	c.n_nodes = N_NODES;
	c.seed = 3;
	c.identity_tx = 0;
	/* BENCH_FANOUT=0 measures the earlier full +-4 fan-out */
	if (getenv("BENCH_FANOUT"))
		c.vote_fanout = atoi(getenv("BENCH_FANOUT"));
	if (hn_new(&h, &c) != EC_OK)
		return 1;
	hn_owner_make(&owner, 1);
	start = h->now;
	for (size_t i = 0; i < N_TX; i++) {
		hn_entry e;
		memset(&e, 0, sizeof e);
		e.token = hn_rand_id(h);
		e.next = &owner;
		if (hn_tx_build(&txs[i], start + i * 3, &e, 1) != EC_OK)
			return 1;
		hn_submit_tx(h, hn_rand(h) % h->n, &txs[i], start + i * 3);
	}
	t0 = wall();
	hn_run_until(h, start + N_TX * 3 + 3000);
	t1 = wall();
	raw2 = raw_verify_rate();
	for (size_t i = 0; i < N_TX; i++) {
		size_t nb[8], k = hn_neighbourhood(h, &txs[i].entries[0].token, nb), m = 0;
		for (size_t j = 0; j < k; j++)
			m += (size_t)hn_committed(h, nb[j], &txs[i].id);
		committed += 2 * m > k;
	}
	for (size_t i = 0; i < h->n; i++) {
		const ec_node_stats *st = ec_node_stats_get(h->nodes[i].node);
		node_commits += st->txs_committed;
		votes_verified += st->votes_accepted;
	}
	{
		double raw = (raw1 + raw2) / 2, secs = t1 - t0;
		double rate = committed / secs;
		printf("nodes %d, txs %d (1 token each), committed network-wide %zu, "
		       "node-level commits %llu (%.1f per tx)\n",
		       N_NODES, N_TX, committed, (unsigned long long)node_commits,
		       (double)node_commits / (committed ? committed : 1));
		printf("wall %.2f s for %.1f s simulated; %llu messages delivered\n", secs,
		       (h->now - start) / 1000.0, (unsigned long long)h->delivered);
		printf("raw Ed25519 verify          %10.0f /s\n", raw);
		printf("network tx commits          %10.1f /s   ratio %.5f (1/%.0f)\n", rate,
		       rate / raw, raw / rate);
		printf("node-level commits          %10.1f /s\n", node_commits / secs);
		printf("peer votes verified per tx  %10.1f\n",
		       (double)votes_verified / (committed ? committed : 1));
		printf("messages per committed tx   %10.1f   (vote_fanout %d)\n",
		       (double)h->delivered / (committed ? committed : 1),
		       c.vote_fanout < 0 ? 4 : c.vote_fanout);
	}
	hn_free(h);
	return committed == N_TX ? 0 : 1;
}
