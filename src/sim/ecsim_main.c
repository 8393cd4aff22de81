/* ecsim_main.c - the simulator program:
 *
 *   ecsim SCENARIO.yaml [--seed N|HEX] [--out DIR] [--quiet] [--fake-signatures]
 *   ecsim swarm ...   (random scenarios checked against the invariants:
 *                      ec_sim_swarm.h, docs/SCENARIOS.md "Swarm")
 *
 * Prints the seed it runs with (the scenario's, --seed, or one drawn from
 * /dev/urandom when neither gives one), a progress line on stderr (\r;
 * simulated time, events/s, ETA) unless --quiet or report.progress is
 * false, and a few result lines (counts, latency, the invariants); writes
 * summary.json, timeseries.csv and the SVG plots into --out or the
 * scenario's report.dir.
 * Exit codes: 0 done, 1 the run failed, 2 usage or scenario error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <malloc.h>

#include "ec/crypto.h"
#include "ec/version.h"
#include "sim/ec_sim.h"
#include "sim/ec_sim_swarm.h"

static const char usage_text[] =
	"usage: ecsim SCENARIO.yaml [--seed N|HEX] [--out DIR] [--quiet]\n"
	"             [--fake-signatures]\n"
	"       ecsim swarm [--seed N] [--count N] [--seconds T] [--out DIR]\n"
	"       ecsim swarm --print SCENARIO_SEED\n"
	"       ecsim --help | --version\n";

static const char swarm_help[] =
	"\n"
	"A campaign of random scenarios drawn from one seed, each run (fake\n"
	"signatures) and checked against the global invariants (docs/SCENARIOS.md\n"
	"\"Swarm\"); a scenario with a violation is written to DIR/swarm-D.yaml.\n"
	"\n"
	"  --seed N            the campaign seed (default: drawn and printed)\n"
	"  --count N           scenarios to run (100)\n"
	"  --seconds T         stop starting scenarios after T wall seconds\n"
	"  --out DIR           where violating scenarios are written (out/swarm)\n"
	"  --print D           print the scenario of seed D and exit\n"
	"\n"
	"Exit status: 0 done, 1 a scenario failed to run, 2 usage error.\n";

static const char help_text[] =
	"\n"
	"Runs a discrete-event simulation of an EC network described by a YAML\n"
	"scenario (docs/SCENARIOS.md) and writes summary.json, timeseries.csv and\n"
	"SVG plots.\n"
	"\n"
	"  --seed N|HEX        the run's seed: a decimal u64 or 64 hex digits (default:\n"
	"                      the scenario's, else one drawn from /dev/urandom); the\n"
	"                      seed is printed, and a run with it repeats exactly\n"
	"  --out DIR           output directory (default: the scenario's report.dir)\n"
	"  --quiet             no progress line and no result lines\n"
	"  --fake-signatures   an insecure stand-in for Ed25519 with identical sizes,\n"
	"                      for large runs\n"
	"  --version           print the version and exit\n"
	"  --help              this text ('ecsim swarm --help': the swarm's)\n"
	"\n"
	"Exit status: 0 done, 1 the run failed, 2 usage or scenario error.\n";

static void usage(void)
{
	fputs(usage_text, stderr);
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct prog {
	double start, last;
	int on;
} prog;

static void progress(void *ctx, uint64_t sim_ms, uint64_t dur_ms, uint64_t events)
{
	prog *p = ctx;
	double now = wall(), el = now - p->start;
	if (!p->on || (now - p->last < 1.0 && sim_ms < dur_ms))
		return;
	p->last = now;
	double frac = dur_ms ? (double)sim_ms / (double)dur_ms : 1;
	double eta = frac > 0 ? el / frac - el : 0;
	fprintf(stderr, "\rsim %9.1f s / %.0f s  %5.1f%%  %8.0f events/s  elapsed %5.0f s  ETA %5.0f s ",
		(double)sim_ms / 1000, (double)dur_ms / 1000, 100 * frac,
		el > 0 ? (double)events / el : 0, el, eta);
	fflush(stderr);
}

static int random_seed(uint8_t seed[EC_HASH_BYTES])
{
	FILE *f = fopen("/dev/urandom", "rb");
	int ok = f && fread(seed, 1, EC_HASH_BYTES, f) == EC_HASH_BYTES;
	if (f)
		fclose(f);
	return ok ? EC_OK : EC_ERR_IO;
}

int main(int argc, char **argv)
{
	const char *path = NULL, *seed_arg = NULL, *out = NULL;
	int quiet = 0, fake = 0;
	char err[EC_SCN_ERR_MAX];
	ec_scenario sc;
	uint8_t seed[EC_HASH_BYTES];
	char hex[2 * EC_HASH_BYTES + 1];
	if (argc > 1 && !strcmp(argv[1], "swarm")) {
		for (int i = 2; i < argc; i++)
			if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
				printf("%s%s", usage_text, swarm_help);
				return 0;
			}
		return ec_swarm_main(argc - 1, argv + 1);
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("%s%s", usage_text, help_text);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("ecsim %s\n", ec_version());
			return 0;
		}
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed_arg = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--quiet"))
			quiet = 1;
		else if (!strcmp(argv[i], "--fake-signatures"))
			fake = 1;
		else if (argv[i][0] == '-' || path) {
			usage();
			return 2;
		} else
			path = argv[i];
	}
	/* the nodes allocate and free many mid-sized buffers: keep freed memory
	 * in the process instead of returning (and re-faulting) pages */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
	if (!path) {
		usage();
		return 2;
	}
	if (ec_scenario_load(&sc, path, err, sizeof err) != EC_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (seed_arg) {
		if (ec_scenario_seed_parse(seed, seed_arg) != EC_OK) {
			fprintf(stderr, "ecsim: --seed '%s': a decimal u64 or 64 hex digits\n",
				seed_arg);
			ec_scenario_free(&sc);
			return 2;
		}
	} else if (sc.seed_set) {
		memcpy(seed, sc.seed, sizeof seed);
	} else if (random_seed(seed) != EC_OK) {
		fprintf(stderr, "ecsim: cannot read /dev/urandom for a seed\n");
		ec_scenario_free(&sc);
		return 1;
	}
	/* the resolved scenario in summary.json names the seed that ran */
	memcpy(sc.seed, seed, sizeof seed);
	sc.seed_set = 1;
	ec_hex_encode(hex, seed, sizeof seed);
	printf("ecsim: scenario %s, seed 0x%s, signatures %s\n", sc.name, hex,
	       fake ? "fake (insecure stand-in, identical sizes)" : "ed25519");
	fflush(stdout);
	if (fake)
		ec_crypto_set_fake_signatures(1);

	prog pg = {wall(), 0, !quiet && sc.report.progress};
	pg.last = pg.start;
	ec_sim_opts o = {.seed = seed, .fake_signatures = fake, .progress = progress,
			 .progress_ctx = &pg, .progress_every = 1u << 16};
	ec_sim *s;
	int rc = ec_sim_new(&s, &sc, &o, err, sizeof err);
	if (rc == EC_OK) {
		double t_build = wall() - pg.start;
		rc = ec_sim_run(s, err, sizeof err);
		if (pg.on)
			fputc('\n', stderr);
		double el = wall() - pg.start;
		if (rc == EC_OK)
			rc = ec_sim_write_outputs(s, out, err, sizeof err);
		if (rc == EC_OK && !quiet) {
			char *js = ec_sim_summary_json(s);
			json_t *j = js ? json_loads(js, 0, NULL) : NULL;
			if (j) {
				json_t *tx = json_object_get(j, "txs"), *net = json_object_get(j, "network");
				json_t *lr = json_object_get(tx, "commit_latency_rounds");
				printf("ecsim: %lld txs submitted, %lld committed, %lld conflicting owners\n",
				       (long long)json_integer_value(json_object_get(tx, "submitted")),
				       (long long)json_integer_value(json_object_get(tx, "committed")),
				       (long long)json_integer_value(json_object_get(tx, "conflicting_owners")));
				printf("ecsim: commit latency p50 %.2f p95 %.2f rounds; %.1f workload messages per commit\n",
				       json_number_value(json_object_get(lr, "p50")),
				       json_number_value(json_object_get(lr, "p95")),
				       json_number_value(json_object_get(net, "workload_messages_per_commit")));
				json_decref(j);
			}
			free(js);
			if (ec_sim_invariants(s))
				ec_chk_print(stdout, "ecsim: ", ec_sim_invariants(s), 3);
			printf("ecsim: %llu events in %.1f s wall (%.1f s building the network), %.0f events/s\n",
			       (unsigned long long)ec_sim_events(s), el, t_build,
			       el > t_build ? (double)ec_sim_events(s) / (el - t_build) : 0);
			printf("ecsim: outputs in %s\n", out ? out : sc.report.dir);
		}
		ec_sim_free(s);
	}
	if (rc != EC_OK)
		fprintf(stderr, "ecsim: %s\n", err);
	ec_scenario_free(&sc);
	return rc == EC_OK ? 0 : 1;
}
