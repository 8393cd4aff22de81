/* bench_sim.c - ecsim throughput (events per second of one core) against
 * two raw baselines measured in the same run: the push/pop rate of a bare
 * binary heap of the engine's event shape, and the signature verify rate
 * of the provider the simulator runs with (fake, as the big scenarios do).
 * Then the wall time of scaled-down scenarios: tests/data/ecsim_tiny.yaml
 * (real Ed25519 and fake) and scenarios/quick.yaml (fake).  The full
 * steady-2000 and sync-100k runs take far longer than a benchmark should;
 * docs/RESULTS.md gives their wall times from separate runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "sim/ec_sim.h"

#define HEAP_N 200000   /* events in flight */
#define HEAP_OPS 2000000
#define VERIFIES 200000

typedef struct ev {
	uint64_t t, seq;
	uint32_t kind, to, from, len;
	uint8_t *bytes;
} ev;

static int before(const ev *a, const ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void push(ev *h, size_t *n, ev e)
{
	size_t i = (*n)++;
	while (i > 0 && before(&e, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = e;
}

static ev pop(ev *h, size_t *n)
{
	ev top = h[0], last = h[--*n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		const ev *b = &last;
		if (l < *n && before(&h[l], b)) {
			m = l;
			b = &h[l];
		}
		if (r < *n && before(&h[r], b))
			m = r;
		if (m == i)
			break;
		h[i] = h[m];
		i = m;
	}
	if (*n)
		h[i] = last;
	return top;
}

/* push+pop pairs per second with HEAP_N events in flight (a message
 * delivered schedules the next one a random delay later) */
static double heap_rate(void)
{
	ev *h = malloc((HEAP_N + 1) * sizeof *h);
	size_t n = 0;
	uint64_t x = 88172645463325252ull, seq = 0, sum = 0;
	if (!h)
		return 0;
	for (size_t i = 0; i < HEAP_N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		push(h, &n, (ev){.t = x % 1000000, .seq = seq++});
	}
	double t0 = now_s();
	for (size_t i = 0; i < HEAP_OPS; i++) {
		ev e = pop(h, &n);
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		sum += e.t;
		push(h, &n, (ev){.t = e.t + x % 50000, .seq = seq++});
	}
	double dt = now_s() - t0;
	free(h);
	return sum ? HEAP_OPS / dt : 0;
}

static double verify_rate(int n)
{
	ec_keypair kp;
	uint8_t seed[32] = {3}, sig[EC_SIG_BYTES];
	ec_id d;
	int ok = 0;
	(void)ec_keypair_from_seed(&kp, seed);
	memset(d.b, 9, sizeof d.b);
	(void)ec_sign_digest(sig, &d, kp.sk);
	double t0 = now_s();
	for (int i = 0; i < n; i++)
		ok += ec_verify_digest(sig, &d, kp.pk) == EC_OK;
	double dt = now_s() - t0;
	return ok == n ? n / dt : 0;
}

/* Runs a scenario; returns events/s of the run loop, *wall = whole run. */
static double run(const char *path, int fake, double *wall, uint64_t *events,
		  uint64_t *msgs_committed)
{
	ec_scenario sc;
	ec_sim *s;
	char err[EC_SCN_ERR_MAX];
	ec_sim_opts o = {.fake_signatures = fake};
	double t0 = now_s(), t1;
	if (ec_scenario_load(&sc, path, err, sizeof err) != EC_OK) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	ec_crypto_set_fake_signatures(fake);
	if (ec_sim_new(&s, &sc, &o, err, sizeof err) != EC_OK) {
		fprintf(stderr, "%s\n", err);
		ec_scenario_free(&sc);
		return 0;
	}
	t1 = now_s();
	int rc = ec_sim_run(s, err, sizeof err);
	double t2 = now_s();
	*wall = t2 - t0;
	*events = ec_sim_events(s);
	char *js = ec_sim_summary_json(s);
	const char *c = js ? strstr(js, "\n    \"committed\": ") : NULL;
	*msgs_committed = c ? strtoull(c + 18, NULL, 10) : 0;
	free(js);
	ec_sim_free(s);
	ec_scenario_free(&sc);
	ec_crypto_set_fake_signatures(0);
	if (rc != EC_OK) {
		fprintf(stderr, "%s\n", err);
		return 0;
	}
	return (double)*events / (t2 - t1);
}

int main(void)
{
	if (ec_crypto_init() != EC_OK)
		return 1;
	double heap = heap_rate();
	double real_v = verify_rate(VERIFIES / 20);
	ec_crypto_set_fake_signatures(1);
	double fake_v = verify_rate(VERIFIES);
	ec_crypto_set_fake_signatures(0);
	printf("raw event heap push+pop (%d in flight) %12.0f /s\n", HEAP_N, heap);
	printf("raw Ed25519 verify                      %12.0f /s\n", real_v);
	printf("raw fake-signature verify               %12.0f /s\n", fake_v);

	static const struct {
		const char *path;
		int fake;
	} runs[] = {
		{"tests/data/ecsim_tiny.yaml", 0},
		{"tests/data/ecsim_tiny.yaml", 1},
		{"scenarios/quick.yaml", 1},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		double wall;
		uint64_t events, committed;
		double r = run(runs[i].path, runs[i].fake, &wall, &events, &committed);
		if (r <= 0) {
			bad = 1;
			continue;
		}
		printf("ecsim %-28s %-7s %9llu events, %6llu txs committed, wall %6.2f s, "
		       "%9.0f events/s = heap x %.4f\n",
		       runs[i].path, runs[i].fake ? "fake" : "ed25519",
		       (unsigned long long)events, (unsigned long long)committed, wall, r,
		       heap > 0 ? r / heap : 0);
	}
	printf("(steady-2000 and sync-100k: too long for make bench; wall times in "
	       "docs/RESULTS.md)\n");
	return bad;
}
