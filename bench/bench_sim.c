/* bench_sim.c - ecsim throughput (events per second of one core) against
 * two raw baselines measured in the same run: the push/pop rate of a bare
 * binary heap of the engine's event shape, and the signature verify rate
 * of the provider the simulator runs with (fake, as the big scenarios do).
 * Then the wall time (and CPU time, the figure to trust on a shared
 * machine) and events/s of scenarios, fake signatures unless said:
 *   - always: tests/data/ecsim_tiny.yaml (Ed25519 and fake) and
 *     scenarios/quick.yaml;
 *   - by default the two full scenarios of issue 6, scenarios/steady-2000.yaml
 *     (1-3 min) and scenarios/sync-100k.yaml (30-45 min), with their
 *     progress line on stderr and their outputs in $BENCH_SIM_OUT/<name>
 *     (default build/bench/sim/);
 *   - BENCH_QUICK=1 instead: the scaled-down scenarios/sync-10k.yaml.
 * The process runs at nice 10 (baselines too, so the ratios compare like
 * with like). */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

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

static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

typedef struct prog {
	double start, last;
} prog;

/* The progress line of the long runs, as ecsim prints it. */
static void progress(void *ctx, uint64_t sim_ms, uint64_t dur_ms, uint64_t events)
{
	prog *p = ctx;
	double now = now_s(), el = now - p->start;
	if (now - p->last < 1.0 && sim_ms < dur_ms)
		return;
	p->last = now;
	double frac = dur_ms ? (double)sim_ms / (double)dur_ms : 1;
	fprintf(stderr, "\r  sim %9.1f s / %.0f s  %5.1f%%  %8.0f events/s  elapsed %5.0f s  ETA %5.0f s ",
		(double)sim_ms / 1000, (double)dur_ms / 1000, 100 * frac,
		el > 0 ? (double)events / el : 0, el, frac > 0 ? el / frac - el : 0);
	if (sim_ms >= dur_ms)
		fputc('\n', stderr);
	fflush(stderr);
}

typedef struct result {
	double wall, cpu, rate; /* whole run s, CPU s of the run, loop events/s */
	uint64_t events, committed;
} result;

static uint64_t summary_u64(const char *js, const char *key)
{
	const char *c = js ? strstr(js, key) : NULL;
	return c ? strtoull(c + strlen(key), NULL, 10) : 0;
}

/* Runs a scenario (outputs into out_dir unless NULL, progress line if
 * loud); 0 on success. */
static int run(const char *path, int fake, const char *out_dir, int loud, result *r)
{
	ec_scenario sc;
	ec_sim *s;
	char err[EC_SCN_ERR_MAX];
	prog pg = {now_s(), 0};
	ec_sim_opts o = {.fake_signatures = fake};
	if (loud) {
		o.progress = progress;
		o.progress_ctx = &pg;
		o.progress_every = 1u << 16;
	}
	double t0 = now_s(), c0 = cpu_s(), t1;
	memset(r, 0, sizeof *r);
	if (ec_scenario_load(&sc, path, err, sizeof err) != EC_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	ec_crypto_set_fake_signatures(fake);
	if (ec_sim_new(&s, &sc, &o, err, sizeof err) != EC_OK) {
		fprintf(stderr, "%s\n", err);
		ec_scenario_free(&sc);
		return 1;
	}
	t1 = now_s();
	int rc = ec_sim_run(s, err, sizeof err);
	double t2 = now_s();
	r->wall = t2 - t0;
	r->cpu = cpu_s() - c0;
	r->events = ec_sim_events(s);
	r->rate = (double)r->events / (t2 - t1);
	char *js = ec_sim_summary_json(s);
	r->committed = summary_u64(js, "\n    \"committed\": ");
	free(js);
	if (rc == EC_OK && out_dir && ec_sim_write_outputs(s, out_dir, err, sizeof err) != EC_OK)
		rc = 1;
	ec_sim_free(s);
	ec_scenario_free(&sc);
	ec_crypto_set_fake_signatures(0);
	if (rc != EC_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}

int main(void)
{
	const char *q = getenv("BENCH_QUICK");
	int quick = q && *q && strcmp(q, "0") != 0;
	const char *outbase = getenv("BENCH_SIM_OUT");
	char dir[512];
	if (!outbase || !*outbase)
		outbase = "build/bench/sim";
	errno = 0;
	if (nice(10) == -1 && errno)
		perror("nice");
	/* as ecsim: freed memory stays in the process */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
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
	printf("mode: %s\n", quick ? "BENCH_QUICK=1 (scaled-down scenarios)"
				   : "full (steady-2000 and sync-100k; BENCH_QUICK=1 skips them)");
	fflush(stdout);

	static const struct {
		const char *path;
		int fake, full, quick; /* run in full mode / quick mode */
	} runs[] = {
		{"tests/data/ecsim_tiny.yaml", 0, 1, 1},
		{"tests/data/ecsim_tiny.yaml", 1, 1, 1},
		{"scenarios/quick.yaml", 1, 1, 1},
		{"scenarios/sync-10k.yaml", 1, 0, 1},
		{"scenarios/steady-2000.yaml", 1, 1, 0},
		{"scenarios/sync-100k.yaml", 1, 1, 0},
	};
	int bad = 0;
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		if (!(quick ? runs[i].quick : runs[i].full))
			continue;
		/* the scenarios/ runs are the long ones: progress line, outputs */
		int big = strncmp(runs[i].path, "scenarios/", 10) == 0 &&
			  strcmp(runs[i].path, "scenarios/quick.yaml") != 0;
		const char *out = NULL;
		if (big) {
			const char *b = strrchr(runs[i].path, '/') + 1;
			snprintf(dir, sizeof dir, "%s/%.*s", outbase,
				 (int)(strlen(b) - strlen(".yaml")), b);
			out = dir;
			fprintf(stderr, "ecsim %s (fake signatures, outputs in %s):\n",
				runs[i].path, dir);
		}
		result r;
		if (run(runs[i].path, runs[i].fake, out, big, &r) != 0) {
			bad = 1;
			continue;
		}
		printf("ecsim %-28s %-7s %10llu events, %7llu txs committed, wall %8.2f s, "
		       "CPU %8.2f s, %9.0f events/s = heap x %.4f (%9.0f events per CPU s)\n",
		       runs[i].path, runs[i].fake ? "fake" : "ed25519",
		       (unsigned long long)r.events, (unsigned long long)r.committed, r.wall,
		       r.cpu, r.rate, heap > 0 ? r.rate / heap : 0,
		       r.cpu > 0 ? (double)r.events / r.cpu : 0);
		fflush(stdout);
	}
	return bad;
}
