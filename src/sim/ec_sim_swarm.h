/* ec_sim_swarm.h - swarm testing: random scenarios from a seed, each run
 * and checked against the global invariants (ec_sim_check.h), in the
 * manner of FoundationDB's simulator and TigerBeetle's VOPR
 * (docs/SCENARIOS.md "Swarm").
 *
 * A campaign seed S and an index i give a scenario seed D = ec_swarm_seed(S,
 * i); D alone determines the scenario (ec_swarm_generate: topology and
 * degree, regions, delay, jitter, loss, bandwidth, workload with 1-6
 * tokens per transaction and a double-sign rate, join / leave / crash /
 * return storms, short and long partitions, link degradations, a syncing
 * joiner, peer swapping) and is its `seed:` too, so the scenario text is a
 * complete, replayable scenario file: `ecsim FILE --fake-signatures` runs
 * exactly what the swarm ran.  Every fault ends (partitions healed, links
 * restored) before a quiet tail of EC_SWARM_TAIL_MS (plus the mempool
 * timeout with swapping on, so that swaps waiting for pending work
 * complete), after which the invariants are checked.
 *
 * Ownership: ec_swarm_generate returns a malloc'd text.  No clocks; the
 * runner switches the fake signature provider on (process-wide). */
#ifndef EC_SIM_SWARM_H
#define EC_SIM_SWARM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/ec_sim.h"

#define EC_SWARM_TAIL_MS 20000u     /* quiet time after the last fault/submission */
#define EC_SWARM_MEMPOOL_MS 60000u  /* a "long" partition outlasts the mempool timeout */

/* Fault kinds a scenario may hold (counts in ec_swarm_params.faults). */
enum ec_swarm_fault {
	EC_SWARM_JOIN = 0,      /* a join storm: 1..peers newcomers at once */
	EC_SWARM_LEAVE,         /* clean leaves, 1..peers-1 */
	EC_SWARM_CRASH,         /* crashes, 1..peers-1 */
	EC_SWARM_RETURN,        /* left/crashed peers come back */
	EC_SWARM_PARTITION,     /* healed within 20 s */
	EC_SWARM_PARTITION_LONG,/* outlasts the mempool timeout */
	EC_SWARM_NET,           /* loss/delay degradation, then restored */
	EC_SWARM_SYNC,          /* a syncing joiner (chain traversal) */
	EC_SWARM_SWAP,          /* peer swapping on in every peer */
	EC_SWARM_FAULTS
};

/* The generated scenario's key parameters. */
typedef struct ec_swarm_params {
	uint64_t seed;
	uint32_t peers;
	int topology;            /* enum ec_scn_topology */
	uint32_t degree, random_peers, regions;
	uint32_t delay_ms, jitter_ms, bandwidth_kbps;
	double loss, double_sign, tx_rate;
	uint32_t tokens_min, tokens_max;
	uint32_t faults[EC_SWARM_FAULTS];
	uint64_t duration_ms;
} ec_swarm_params;

/* The scenario seed of campaign seed S, index i. */
uint64_t ec_swarm_seed(uint64_t campaign, uint64_t index);

/* The scenario of seed D as scenario-file text (malloc'd; NULL on
 * allocation failure) and its key parameters (p may be NULL). */
char *ec_swarm_generate(uint64_t seed, ec_swarm_params *p);

/* One scenario run: the invariants, liveness figures, simulated time. */
typedef struct ec_swarm_result {
	ec_chk_result inv;
	ec_sim_live live;
	uint64_t sim_ms, events;
	uint64_t submitted, committed;
} ec_swarm_result;

/* Parses `text` (name: for messages) and runs it with the fake signature
 * provider.  EC_OK, or the parse/run error with one line in err. */
int ec_swarm_run(const char *text, const char *name, ec_swarm_result *r, char *err,
		 size_t errlen);

/* The one-line report of scenario `index` (no newline). */
void ec_swarm_line(FILE *f, uint64_t index, const ec_swarm_params *p,
		   const ec_swarm_result *r);

/* `ecsim swarm ...` (ecsim_main.c hands over argv from "swarm" on). */
int ec_swarm_main(int argc, char **argv);

#endif
