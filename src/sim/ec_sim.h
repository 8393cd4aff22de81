/* ec_sim.h - the ecsim engine: a deterministic discrete-event network of
 * ec_node instances (include/ec/node.h) on memory stores, driven by a
 * scenario (ec_scenario.h), measured into an ec_summary and a time series.
 *
 * Determinism.  One event heap ordered by (time in microseconds, insertion
 * sequence); every random draw comes from splitmix64 streams derived from
 * the 32-byte seed (network, workload, scenario events, one per node), so a
 * run is a function of (scenario, seed, signature provider).  The engine
 * reads no clock: progress reporting gets the simulated time and the event
 * count through a callback and the caller adds the wall clock.
 *
 * Model (docs/SCENARIOS.md "Engine model"): per-message one-way delay from
 * the sender's region to the receiver's (scenario latency matrix) plus a
 * uniform jitter, a loss draw per message, and per link and direction a
 * serialisation queue at bandwidth_kbps (a message leaves after the ones
 * queued before it on that link).  Nodes are ticked at their
 * ec_node_next_deadline.  Peers know each other by the scenario topology.
 *
 * Ownership: ec_sim_new copies nothing from the scenario but keeps a
 * pointer to it; the scenario must outlive the engine.
 */
#ifndef EC_SIM_H
#define EC_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sim/ec_report.h"
#include "sim/ec_scenario.h"
#include "sim/ec_sim_check.h"

#define EC_SIM_VERSION "ecsim 1"

typedef struct ec_sim ec_sim;

typedef struct ec_sim_opts {
	const uint8_t *seed;   /* 32 bytes; NULL = the scenario's seed */
	int fake_signatures;   /* 1: the run uses ec_crypto_set_fake_signatures
				* (the caller switches it; recorded in the
				* summary as "signatures": "fake") */
	/* Progress: called about every `progress_every` events (0 = never)
	 * with the simulated ms reached and the events processed so far. */
	void (*progress)(void *ctx, uint64_t sim_ms, uint64_t duration_ms,
			 uint64_t events);
	void *progress_ctx;
	uint64_t progress_every;
	/* Optional message trace (tests, debugging): called for every message
	 * between peers when it is delivered (fate EC_SIM_DELIVERED, t_us = its
	 * arrival), dropped on the link (EC_SIM_LOST: loss draw or partition,
	 * t_us = its sending time) or dropped because the receiver is offline
	 * at arrival (EC_SIM_OFFLINE).  from/to are peer indexes
	 * (ec_sim_peer_region etc.); type is the first byte. */
	void (*trace)(void *ctx, uint64_t sent_us, uint64_t t_us, uint32_t from,
		      uint32_t to, uint32_t len, uint8_t type, int fate);
	void *trace_ctx;
} ec_sim_opts;

enum { EC_SIM_DELIVERED = 0, EC_SIM_LOST = 1, EC_SIM_OFFLINE = 2 };

/* Builds the initial network (identities mined, nodes created, peer sets
 * filled).  EC_OK, EC_ERR_NOMEM, or a node/identity error; err gets one
 * line. */
int ec_sim_new(ec_sim **out, const ec_scenario *sc, const ec_sim_opts *opts,
	       char *err, size_t errlen);
void ec_sim_free(ec_sim *s);

/* Runs to the scenario's duration.  EC_OK or the first fatal error (a
 * node's store failing, out of memory), with err. */
int ec_sim_run(ec_sim *s, char *err, size_t errlen);

/* Writes summary.json, timeseries.csv and the plots into dir (NULL =
 * scenario report.dir). */
int ec_sim_write_outputs(ec_sim *s, const char *dir, char *err, size_t errlen);

/* The summary text exactly as written to summary.json (malloc'd). */
char *ec_sim_summary_json(ec_sim *s);

/* Peers (initial, joined, sync joiners) and what the scenario made of
 * them: region index, and 1 while online. */
size_t ec_sim_peer_count(const ec_sim *s);
int ec_sim_peer_region(const ec_sim *s, size_t i);
int ec_sim_peer_online(const ec_sim *s, size_t i);

/* Events processed (messages, ticks, submissions, scenario events). */
uint64_t ec_sim_events(const ec_sim *s);

/* The invariant checker's result (docs/SCENARIOS.md "Invariants"),
 * evaluated at the end of ec_sim_run; NULL before, or when the run failed.
 * Owned by the engine. */
const ec_chk_result *ec_sim_invariants(const ec_sim *s);

/* Liveness figures of the workload (the summary's "liveness" section). */
typedef struct ec_sim_live {
	uint64_t plain_submitted;   /* workload txs without a double-signed twin */
	uint64_t plain_committed;   /* ... committed (a majority of every token's
				     * neighbourhood) */
	uint64_t pairs;             /* double-signed pairs */
	uint64_t pairs_one, pairs_both, pairs_none; /* twins committed: 1, 2, 0 */
	uint64_t messages_last_10s; /* delivered in the last 10 simulated s */
} ec_sim_live;
void ec_sim_liveness(const ec_sim *s, ec_sim_live *out);

/* Workload transactions submitted and committed so far. */
void ec_sim_counts(const ec_sim *s, uint64_t *submitted, uint64_t *committed);

#endif
