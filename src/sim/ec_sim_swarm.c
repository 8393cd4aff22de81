/* ec_sim_swarm.c - swarm testing (ec_sim_swarm.h): the scenario generator,
 * the runner, and the `ecsim swarm` campaign (one line per scenario, a
 * replayable file per violating scenario, a closing table). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ec/crypto.h"
#include "sim/ec_sim_swarm.h"

/* ---- generator ---------------------------------------------------------- */

static uint64_t mix(uint64_t *st)
{
	uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t ec_swarm_seed(uint64_t campaign, uint64_t index)
{
	uint64_t st = campaign ^ (index * 0xd1b54a32d192ed03ull);
	(void)mix(&st);
	return mix(&st);
}

/* Uniform in [lo, hi]. */
static uint32_t range(uint64_t *st, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(mix(st) % ((uint64_t)hi - lo + 1));
}

/* One of n choices. */
#define PICK(st, arr) ((arr)[mix(st) % (sizeof(arr) / sizeof((arr)[0]))])

typedef struct gen_ev {
	uint64_t at;
	uint32_t seq;           /* generation order: ties keep it */
	char text[160];
} gen_ev;

typedef struct gen {
	uint64_t st;
	gen_ev ev[64];
	uint32_t n;
	uint32_t parts;
} gen;

__attribute__((format(printf, 3, 4))) static void add_ev(gen *g, uint64_t at, const char *fmt,
							 ...)
{
	va_list ap;
	gen_ev *e;
	if (g->n == sizeof g->ev / sizeof g->ev[0])
		return;
	e = &g->ev[g->n];
	e->at = at;
	e->seq = g->n++;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	va_end(ap);
}

static int cmp_ev(const void *a, const void *b)
{
	const gen_ev *x = a, *y = b;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *const region_names[] = {"r0", "r1", "r2"};

/* One fault episode starting at `at`; returns when its last event is. */
static uint64_t episode(gen *g, ec_swarm_params *p, uint64_t at)
{
	uint64_t *st = &g->st, end = at;
	uint32_t kind = range(st, 0, 5);
	switch (kind) {
	case 0: /* join storm */
		add_ev(g, at, "{at_ms: %llu, kind: join, count: %u}", (unsigned long long)at,
		       range(st, 1, p->peers));
		p->faults[EC_SWARM_JOIN]++;
		break;
	case 1:   /* leaves, often returning */
	case 2: { /* crashes, often returning */
		int crash = kind == 2;
		uint32_t n = range(st, 1, p->peers - 1);
		add_ev(g, at, "{at_ms: %llu, kind: %s, count: %u}", (unsigned long long)at,
		       crash ? "crash" : "leave", n);
		p->faults[crash ? EC_SWARM_CRASH : EC_SWARM_LEAVE]++;
		if (range(st, 0, 9) < 7) {
			end = at + range(st, 1000, 20000);
			add_ev(g, end, "{at_ms: %llu, kind: return, count: %u}",
			       (unsigned long long)end, range(st, 1, n));
			p->faults[EC_SWARM_RETURN]++;
		}
		break;
	}
	case 3: { /* partition, short or outlasting the mempool timeout */
		uint32_t id = g->parts++;
		int lng = range(st, 0, 3) == 0;
		if (p->regions >= 2 && range(st, 0, 1))
			add_ev(g, at, "{at_ms: %llu, kind: partition, name: p%u, regions: [%s]}",
			       (unsigned long long)at, id,
			       region_names[range(st, 0, p->regions - 1)]);
		else
			add_ev(g, at, "{at_ms: %llu, kind: partition, name: p%u, fraction: %.2f}",
			       (unsigned long long)at, id, (double)range(st, 10, 60) / 100.0);
		end = at + (lng ? range(st, EC_SWARM_MEMPOOL_MS + 1000, EC_SWARM_MEMPOOL_MS + 30000)
				: range(st, 500, 20000));
		add_ev(g, end, "{at_ms: %llu, kind: heal, name: p%u}", (unsigned long long)end, id);
		p->faults[lng ? EC_SWARM_PARTITION_LONG : EC_SWARM_PARTITION]++;
		break;
	}
	case 4: { /* link degradation, then the scenario's own value again */
		static const double spikes[] = {0.05, 0.1, 0.2, 0.4};
		uint32_t what = range(st, 0, p->regions > 1 ? 1 : 2);
		end = at + range(st, 500, 10000);
		if (what == 0) {
			add_ev(g, at, "{at_ms: %llu, kind: net_condition, loss: %g}",
			       (unsigned long long)at, PICK(st, spikes));
			add_ev(g, end, "{at_ms: %llu, kind: net_condition, loss: %g}",
			       (unsigned long long)end, p->loss);
		} else if (what == 1) {
			add_ev(g, at, "{at_ms: %llu, kind: net_condition, jitter_ms: %u}",
			       (unsigned long long)at, range(st, 50, 300));
			add_ev(g, end, "{at_ms: %llu, kind: net_condition, jitter_ms: %u}",
			       (unsigned long long)end, p->jitter_ms);
		} else { /* one region: every link has the base delay */
			add_ev(g, at, "{at_ms: %llu, kind: net_condition, delay_ms: %u}",
			       (unsigned long long)at, range(st, 50, 400));
			add_ev(g, end, "{at_ms: %llu, kind: net_condition, delay_ms: %u}",
			       (unsigned long long)end, p->delay_ms);
		}
		p->faults[EC_SWARM_NET]++;
		break;
	}
	default: /* a join storm and a leave storm together */
		add_ev(g, at, "{at_ms: %llu, kind: join, count: %u}", (unsigned long long)at,
		       range(st, 1, p->peers));
		end = at + range(st, 0, 3000);
		add_ev(g, end, "{at_ms: %llu, kind: leave, count: %u}", (unsigned long long)end,
		       range(st, 1, p->peers - 1));
		p->faults[EC_SWARM_JOIN]++;
		p->faults[EC_SWARM_LEAVE]++;
		break;
	}
	return end;
}

char *ec_swarm_generate(uint64_t seed, ec_swarm_params *out)
{
	static const uint32_t degrees[] = {1, 2, 2, 3, 4, 4, 6, 8};
	static const double losses[] = {0.001, 0.005, 0.01, 0.02, 0.05};
	static const double dsign[] = {0, 0, 0.05, 0.1, 0.3, 0.5, 0.9};
	static const uint32_t bandwidths[] = {2000, 5000, 20000};
	static const char *const fr2[] = {"0.5, 0.5", "0.3, 0.7", "0.25, 0.75"};
	static const char *const fr3[] = {"0.25, 0.25, 0.5", "0.2, 0.3, 0.5"};
	static const char *const mixes[] = {
		"{transfer: 1}", "{create: 0.2, transfer: 0.75, destroy: 0.05}",
		"{create: 0.3, transfer: 0.7}", "{create: 0.1, transfer: 0.8, destroy: 0.1}"};
	gen g;
	ec_swarm_params p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	memset(&g, 0, sizeof g);
	memset(&p, 0, sizeof p);
	g.st = seed;
	uint64_t *st = &g.st;
	p.seed = seed;

	p.peers = range(st, 4, 24);
	uint32_t t = range(st, 0, 19);
	p.topology = t < 8 ? EC_SCN_TOPO_FULL : t < 15 ? EC_SCN_TOPO_RING : EC_SCN_TOPO_RANDOM;
	p.degree = p.topology == EC_SCN_TOPO_FULL ? 8 : PICK(st, degrees);
	p.random_peers = p.topology == EC_SCN_TOPO_RANDOM ? range(st, 1, 3) : 0;
	t = range(st, 0, 9);
	p.regions = t < 6 ? 1 : t < 9 ? 2 : 3;
	p.delay_ms = range(st, 1, 30);
	p.jitter_ms = range(st, 0, 9) < 3 ? 0 : range(st, 1, p.delay_ms + 10);
	p.loss = range(st, 0, 1) ? 0 : PICK(st, losses);
	p.bandwidth_kbps = range(st, 0, 9) ? 0 : PICK(st, bandwidths);
	uint32_t initial = range(st, 10, 60), setup = range(st, 1, 6);
	p.tokens_min = range(st, 1, 3);
	p.tokens_max = range(st, p.tokens_min, 6);
	const char *mx = PICK(st, mixes);
	p.double_sign = PICK(st, dsign);
	p.tx_rate = range(st, 2, 15);
	uint64_t start = 2000, window = range(st, 3000, 12000), stop = start + window;
	uint64_t last = stop;

	uint32_t episodes = range(st, 0, 3);
	for (uint32_t k = 0; k < episodes; k++) {
		uint64_t end = episode(&g, &p, start + mix(st) % window);
		if (end > last)
			last = end;
	}
	int sync = range(st, 0, 9) == 0;
	uint64_t sync_at = start + mix(st) % window;
	p.faults[EC_SWARM_SYNC] = (uint32_t)sync;
	int swap = range(st, 0, 6) == 0;
	uint32_t swap_iv = range(st, 5, 20) * 1000;
	p.faults[EC_SWARM_SWAP] = (uint32_t)swap;
	/* swaps wait while their peers have pending work (the losing twins
	 * stay in mempools until the mempool timeout): a swapping scenario
	 * runs that much longer, so that swaps complete */
	p.duration_ms = last + EC_SWARM_TAIL_MS + (swap ? EC_SWARM_MEMPOOL_MS : 0);
	qsort(g.ev, g.n, sizeof g.ev[0], cmp_ev);

	if (!(f = open_memstream(&buf, &len)))
		return NULL;
	fprintf(f, "# ecsim swarm scenario %llu: replay with\n"
		   "#   ecsim FILE --fake-signatures\n",
		(unsigned long long)seed);
	fprintf(f, "meta: {name: swarm-%llu}\nseed: %llu\nduration_ms: %llu\ntick_ms: 50\n",
		(unsigned long long)seed, (unsigned long long)seed,
		(unsigned long long)p.duration_ms);
	fprintf(f, "peers:\n  count: %u\n  topology: %s\n", p.peers,
		ec_scn_topology_name((enum ec_scn_topology)p.topology));
	if (p.topology != EC_SCN_TOPO_FULL)
		fprintf(f, "  degree: %u\n", p.degree);
	if (p.topology == EC_SCN_TOPO_RANDOM)
		fprintf(f, "  random_peers: %u\n", p.random_peers);
	if (p.regions > 1) {
		const char *fr = p.regions == 2 ? PICK(st, fr2) : PICK(st, fr3);
		char frs[64];
		snprintf(frs, sizeof frs, "%s", fr);
		fprintf(f, "  regions:\n");
		char *save = NULL, *tok = strtok_r(frs, ", ", &save);
		for (uint32_t r = 0; r < p.regions && tok; r++, tok = strtok_r(NULL, ", ", &save))
			fprintf(f, "    - {name: %s, fraction: %s}\n", region_names[r], tok);
	}
	fprintf(f, "links:\n  delay_ms: %u\n  jitter_ms: %u\n  loss: %g\n", p.delay_ms,
		p.jitter_ms, p.loss);
	if (p.bandwidth_kbps)
		fprintf(f, "  bandwidth_kbps: %u\n", p.bandwidth_kbps);
	if (p.regions > 1) {
		fprintf(f, "  latency_ms:\n");
		for (uint32_t a = 0; a + 1 < p.regions; a++) {
			fprintf(f, "    %s: {", region_names[a]);
			for (uint32_t b = a + 1; b < p.regions; b++)
				fprintf(f, "%s%s: %u", b > a + 1 ? ", " : "", region_names[b],
					range(st, 5, 60));
			fprintf(f, "}\n");
		}
	}
	fprintf(f, "workload:\n  tx_rate: %g\n  initial_tokens: %u\n  setup_tokens_per_tx: %u\n"
		   "  tokens_per_tx: {min: %u, max: %u}\n  mix: %s\n  double_sign: %g\n"
		   "  start_ms: %llu\n  stop_ms: %llu\n",
		p.tx_rate, initial, setup, p.tokens_min, p.tokens_max, mx, p.double_sign,
		(unsigned long long)start, (unsigned long long)stop);
	if (sync)
		fprintf(f, "sync: {strategies: [chain], join_at_ms: %llu, joiners: %u}\n",
			(unsigned long long)sync_at, range(st, 1, 2));
	if (swap)
		fprintf(f, "swap: {enabled: true, interval_ms: %u, shift_step_ms: 1000, "
			   "cooldown_ms: 60000, discovery: 4}\n",
			swap_iv);
	fprintf(f, "report: {progress: false, plots: [], interval_ms: 5000, dir: out/swarm-%llu}\n",
		(unsigned long long)seed);
	if (g.n) {
		fprintf(f, "events:\n");
		for (uint32_t k = 0; k < g.n; k++)
			fprintf(f, "  - %s\n", g.ev[k].text);
	}
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	if (out)
		*out = p;
	return buf;
}

/* ---- runner ------------------------------------------------------------- */

int ec_swarm_run(const char *text, const char *name, ec_swarm_result *r, char *err,
		 size_t errlen)
{
	ec_scenario sc;
	ec_sim *s;
	int rc;
	memset(r, 0, sizeof *r);
	if ((rc = ec_scenario_parse(&sc, name, text, strlen(text), err, errlen)) != EC_OK)
		return rc;
	ec_crypto_set_fake_signatures(1);
	ec_sim_opts o = {.seed = sc.seed, .fake_signatures = 1};
	if ((rc = ec_sim_new(&s, &sc, &o, err, errlen)) == EC_OK) {
		if ((rc = ec_sim_run(s, err, errlen)) == EC_OK) {
			const ec_chk_result *inv = ec_sim_invariants(s);
			if (inv)
				r->inv = *inv;
			ec_sim_liveness(s, &r->live);
			r->sim_ms = sc.duration_ms;
			r->events = ec_sim_events(s);
			ec_sim_counts(s, &r->submitted, &r->committed);
		}
		ec_sim_free(s);
	}
	ec_scenario_free(&sc);
	return rc;
}

void ec_swarm_line(FILE *f, uint64_t index, const ec_swarm_params *p, const ec_swarm_result *r)
{
	static const char *const names[EC_SWARM_FAULTS] = {
		"join", "leave", "crash", "return", "part", "longpart", "net", "sync", "swap"};
	char topo[32];
	int any = 0;
	if (p->topology == EC_SCN_TOPO_FULL)
		snprintf(topo, sizeof topo, "full");
	else if (p->topology == EC_SCN_TOPO_RANDOM)
		snprintf(topo, sizeof topo, "random/%u+%u", p->degree, p->random_peers);
	else
		snprintf(topo, sizeof topo, "ring/%u", p->degree);
	fprintf(f, "%5llu seed %20llu peers %2u %-10s reg %u delay %2u jit %2u loss %.3f ds %.2f "
		   "tok %u-%u faults ",
		(unsigned long long)index, (unsigned long long)p->seed, p->peers, topo, p->regions,
		p->delay_ms, p->jitter_ms, p->loss, p->double_sign, p->tokens_min, p->tokens_max);
	for (int k = 0; k < EC_SWARM_FAULTS; k++) {
		if (!p->faults[k])
			continue;
		fprintf(f, "%s%s", any ? "," : "", names[k]);
		if (p->faults[k] > 1)
			fprintf(f, "x%u", p->faults[k]);
		any = 1;
	}
	if (!any)
		fprintf(f, "none");
	fprintf(f, " sim %.0fs | txs %llu/%llu plain %llu/%llu | double_commit %llu atomicity %llu "
		   "divergence %llu",
		(double)r->sim_ms / 1000.0, (unsigned long long)r->committed,
		(unsigned long long)r->submitted, (unsigned long long)r->live.plain_committed,
		(unsigned long long)r->live.plain_submitted,
		(unsigned long long)r->inv.count[EC_CHK_DOUBLE_COMMIT],
		(unsigned long long)r->inv.count[EC_CHK_ATOMICITY],
		(unsigned long long)r->inv.count[EC_CHK_DIVERGENCE]);
}

/* ---- the campaign ------------------------------------------------------- */

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int random_u64(uint64_t *v)
{
	FILE *f = fopen("/dev/urandom", "rb");
	int ok = f && fread(v, sizeof *v, 1, f) == 1;
	if (f)
		fclose(f);
	return ok ? EC_OK : EC_ERR_IO;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s || !*s || *s == '-')
		return EC_ERR_VALUE;
	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end ? EC_ERR_VALUE : EC_OK;
}

static void usage(void)
{
	fprintf(stderr, "usage: ecsim swarm [--seed N] [--count N] [--seconds T] [--out DIR]\n"
			"       ecsim swarm --print SCENARIO_SEED\n");
}

/* Writes DIR/swarm-D.yaml: the header naming the violation, then the
 * scenario text. */
static int write_case(const char *dir, uint64_t campaign, uint64_t index, const char *text,
		      const ec_swarm_result *r, char *path, size_t cap)
{
	char name[64], err[256];
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;
	if (!f)
		return EC_ERR_NOMEM;
	fprintf(f, "# found by: ecsim swarm --seed %llu (scenario %llu)\n"
		   "# invariants: %llu double_commit, %llu atomicity, %llu divergence\n",
		(unsigned long long)campaign, (unsigned long long)index,
		(unsigned long long)r->inv.count[EC_CHK_DOUBLE_COMMIT],
		(unsigned long long)r->inv.count[EC_CHK_ATOMICITY],
		(unsigned long long)r->inv.count[EC_CHK_DIVERGENCE]);
	ec_chk_print(f, "#   ", &r->inv, 2);
	fputs(text, f);
	if (fclose(f) != 0) {
		free(buf);
		return EC_ERR_NOMEM;
	}
	snprintf(name, sizeof name, "swarm-%llu.yaml", (unsigned long long)ec_swarm_seed(campaign, index));
	rc = ec_report_write_file(dir, name, buf, len, err, sizeof err);
	free(buf);
	if (rc != EC_OK)
		fprintf(stderr, "ecsim swarm: %s\n", err);
	snprintf(path, cap, "%s/%s", dir, name);
	return rc;
}

int ec_swarm_main(int argc, char **argv)
{
	uint64_t campaign = 0, count = 0, seconds = 0, print = 0;
	int have_seed = 0, have_count = 0, have_print = 0;
	const char *dir = "out/swarm";
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int bad = 0;
		if (!strcmp(argv[i], "--seed"))
			bad = parse_u64(v, &campaign) || !(have_seed = 1);
		else if (!strcmp(argv[i], "--count"))
			bad = parse_u64(v, &count) || !(have_count = 1);
		else if (!strcmp(argv[i], "--seconds"))
			bad = parse_u64(v, &seconds);
		else if (!strcmp(argv[i], "--print"))
			bad = parse_u64(v, &print) || !(have_print = 1);
		else if (!strcmp(argv[i], "--out") && v)
			dir = v;
		else
			bad = 1;
		if (bad) {
			usage();
			return 2;
		}
		i++;
	}
	if (have_print) {
		char *text = ec_swarm_generate(print, NULL);
		if (!text)
			return 1;
		fputs(text, stdout);
		free(text);
		return 0;
	}
	if (!have_seed && random_u64(&campaign) != EC_OK) {
		fprintf(stderr, "ecsim swarm: cannot read /dev/urandom for a seed\n");
		return 1;
	}
	if (!have_count && !seconds)
		count = 100;
	if (have_count || !seconds)
		printf("ecsim swarm: seed %llu, %llu scenarios%s, fake signatures\n",
		       (unsigned long long)campaign, (unsigned long long)count,
		       seconds ? " (or fewer: a time limit)" : "");
	else
		printf("ecsim swarm: seed %llu, scenarios for %llu s of wall time, fake signatures\n",
		       (unsigned long long)campaign, (unsigned long long)seconds);
	fflush(stdout);

	double t0 = wall();
	uint64_t n = 0, sim_ms = 0, viol[EC_CHK_KINDS] = {0}, with[EC_CHK_KINDS] = {0}, bad = 0;
	uint64_t plain_sub = 0, plain_com = 0, errors = 0;
	for (; (!have_count && seconds) || n < count; n++) {
		if (seconds && wall() - t0 >= (double)seconds)
			break;
		uint64_t seed = ec_swarm_seed(campaign, n);
		ec_swarm_params p;
		ec_swarm_result r;
		char err[EC_SCN_ERR_MAX], name[64];
		char *text = ec_swarm_generate(seed, &p);
		if (!text) {
			fprintf(stderr, "ecsim swarm: out of memory\n");
			return 1;
		}
		snprintf(name, sizeof name, "swarm-%llu.yaml", (unsigned long long)seed);
		if (ec_swarm_run(text, name, &r, err, sizeof err) != EC_OK) {
			printf("%5llu seed %20llu ERROR %s\n", (unsigned long long)n,
			       (unsigned long long)seed, err);
			errors++;
			free(text);
			continue;
		}
		ec_swarm_line(stdout, n, &p, &r);
		putchar('\n');
		sim_ms += r.sim_ms;
		plain_sub += r.live.plain_submitted;
		plain_com += r.live.plain_committed;
		for (int k = 0; k < EC_CHK_KINDS; k++) {
			viol[k] += r.inv.count[k];
			with[k] += r.inv.count[k] != 0;
		}
		if (ec_chk_violations(&r.inv)) {
			char path[512];
			bad++;
			if (write_case(dir, campaign, n, text, &r, path, sizeof path) == EC_OK)
				printf("      violation: seed %llu, scenario file %s\n",
				       (unsigned long long)seed, path);
		}
		fflush(stdout);
		free(text);
	}
	printf("\n| scenarios | seeds | simulated hours | double_commit | atomicity | divergence "
	       "| scenarios with a violation | commit rate of non-double-signed txs |\n"
	       "|---|---|---|---|---|---|---|---|\n");
	printf("| %llu | campaign %llu, scenarios 0..%llu | %.2f | %llu (in %llu) | %llu (in %llu) "
	       "| %llu (in %llu) | %llu | %.4f (%llu of %llu) |\n",
	       (unsigned long long)n, (unsigned long long)campaign,
	       (unsigned long long)(n ? n - 1 : 0), (double)sim_ms / 3.6e6,
	       (unsigned long long)viol[0], (unsigned long long)with[0],
	       (unsigned long long)viol[1], (unsigned long long)with[1],
	       (unsigned long long)viol[2], (unsigned long long)with[2], (unsigned long long)bad,
	       plain_sub ? (double)plain_com / (double)plain_sub : 0.0,
	       (unsigned long long)plain_com, (unsigned long long)plain_sub);
	if (errors)
		printf("%llu scenarios failed to run (ERROR lines above)\n", (unsigned long long)errors);
	fflush(stdout);
	fprintf(stderr, "ecsim swarm: %llu scenarios in %.0f s wall\n", (unsigned long long)n,
		wall() - t0);
	return errors ? 1 : 0;
}
