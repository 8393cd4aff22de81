/* bench_swap_model.c - a small Monte-Carlo of the design's attack-window
 * model driven through the real swap module (src/core/ec_swap.c), not a
 * timing benchmark.  The "baseline" here is the model itself: each row
 * puts the measured figure beside P(t) = e^(-n S t) and
 * T = ln(1/0.05) / (n S) for the per-position swap rate S the module
 * actually produces.
 *
 * One node with k neighbours, n of them held by a coordinated attacker
 * that behaves perfectly (so only the random rotation moves it: the
 * design's "continuous peer swapping"), an ample pool of warm, honest
 * backups, default swap settings except the interval (rollout finished:
 * initial = target = I) and jitter +-50 %.  The node's side of each swap
 * is instant (connect and sync succeed at once); the load shift takes its
 * default 4 x 30 s.  A trial ends when the first attacker peer is
 * disconnected (the coordination is broken); T_first is that time.
 *
 * Per-position rate.  One rotation per round among k neighbours gives each
 * position S = 1 / (k I); the design's example reads S = 1 / 30 min per
 * position, which needs I = 30 min / k.  Both are run.
 *
 * No timing; deterministic (fixed seeds); a few seconds of CPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ec/swap.h"
#include "bench_util.h"

#define MIN_MS 60000.0

static void rng(void *ctx, void *out, size_t len)
{
	uint64_t *s = ctx;
	uint8_t *p = out;
	while (len) {
		uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
		size_t k = len < 8 ? len : 8;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(p, &z, k);
		p += k;
		len -= k;
	}
}

static ec_id pid(uint64_t n)
{
	ec_id x;
	idn(&x, "bench/swap", n);
	return x;
}

/* Attackers are peers 1..n; honest neighbours n+1..k; backups from 1000. */
static int is_attacker(const ec_id *p, int n)
{
	for (int i = 1; i <= n; i++) {
		ec_id a = pid((uint64_t)i);
		if (ec_id_eq(p, &a))
			return 1;
	}
	return 0;
}

/* One trial: ms until the first attacker is disconnected (or horizon). */
static double trial(int k, int n, uint64_t interval_ms, uint64_t seed, double horizon_ms)
{
	ec_swap_cfg c;
	ec_swap *sw;
	ec_swap_action a;
	ec_time t0 = 1700000000000ull, t = t0;
	uint64_t next_backup = 1000, s = seed;
	double out = horizon_ms;
	ec_swap_cfg_default(&c);
	c.rng = rng;
	c.rng_ctx = &s;
	c.initial_interval_ms = c.target_interval_ms = interval_ms;
	c.min_neighbours = (uint32_t)k;
	if (ec_swap_new(&sw, &c, t) != EC_OK)
		abort();
	for (int i = 1; i <= k; i++) {
		ec_id p = pid((uint64_t)i);
		ec_swap_add_neighbour(sw, &p, NULL, NULL, t);
	}
	for (int i = 0; i < 16; i++) {
		ec_id p = pid(next_backup++);
		ec_swap_pool_add(sw, &p, NULL, NULL, t);
		ec_swap_pool_set_lag(sw, &p, 0, t);
	}
	for (int guard = 0; guard < 1000000; guard++) {
		ec_time d = ec_swap_next_deadline(sw);
		if (d > t)
			t = d;
		if ((double)(t - t0) >= horizon_ms)
			break;
		ec_swap_tick(sw, t);
		while (ec_swap_poll(sw, &a)) {
			if (a.kind == EC_SWAP_ACT_CONNECT) {
				ec_swap_connected(sw, a.op, 1, t);
			} else if (a.kind == EC_SWAP_ACT_SYNC) {
				ec_swap_synced(sw, a.op, 1, t);
			} else if (a.kind == EC_SWAP_ACT_DISCONNECT) {
				ec_id p = pid(next_backup++);
				if (is_attacker(&a.peer, n)) {
					out = (double)(t - t0);
					goto done;
				}
				ec_swap_pool_add(sw, &p, NULL, NULL, t); /* keep the pool full */
				ec_swap_pool_set_lag(sw, &p, 0, t);
			}
		}
	}
done:
	ec_swap_free(sw);
	return out;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void row(int k, int n, double interval_min, int trials, double design_s_per_min)
{
	double *tf = malloc(sizeof(double) * (size_t)trials), sum = 0;
	double s_mod = 1.0 / (k * interval_min); /* per position, per minute */
	double horizon = 1e9;
	double t95, model95, design95;
	double probe[3];
	int surv[3] = {0, 0, 0};
	if (!tf)
		abort();
	for (int i = 0; i < trials; i++) {
		tf[i] = trial(k, n, (uint64_t)(interval_min * MIN_MS), 0x5eed0000ull + (uint64_t)i,
			      horizon) / MIN_MS;
		sum += tf[i];
	}
	qsort(tf, (size_t)trials, sizeof(double), cmp_d);
	t95 = tf[(int)(0.95 * trials)];
	model95 = log(20.0) / (n * s_mod);
	design95 = log(20.0) / (n * design_s_per_min);
	probe[0] = model95 / 4;
	probe[1] = model95 / 2;
	probe[2] = model95;
	for (int i = 0; i < trials; i++)
		for (int j = 0; j < 3; j++)
			surv[j] += tf[i] > probe[j];
	printf("| %2d | %2d | %7.2f | %5d | %8.2f | %8.2f | %8.2f | %8.2f |", k, n,
	       interval_min, trials, sum / trials, t95, model95, design95);
	for (int j = 0; j < 3; j++)
		printf(" %.3f / %.3f |", (double)surv[j] / trials, exp(-n * s_mod * probe[j]));
	printf("\n");
	free(tf);
}

int main(void)
{
	double t = now_s();
	printf("swap model: first attacker position lost, T_first in minutes; model S = 1/(k I)\n");
	printf("| k | n | I (min) | trials | mean T_first | measured T95 | model T95 "
	       "| design T95 (S = 1/30 min) | P(T/4) meas / model | P(T/2) | P(T) |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
	/* the module as configured by default (30 min target), several n */
	row(32, 1, 30, 2000, 1.0 / 30);
	row(32, 4, 30, 2000, 1.0 / 30);
	row(32, 8, 30, 2000, 1.0 / 30);
	row(32, 26, 30, 2000, 1.0 / 30);
	/* the design's reading: every position swapped every 30 min on average */
	row(26, 26, 30.0 / 26, 2000, 1.0 / 30);
	row(32, 26, 30.0 / 32, 2000, 1.0 / 30);
	printf("(%.1f s of CPU)\n", now_s() - t);
	return 0;
}
