/* ec_scenario.h - simulator scenarios: the typed form of a scenario YAML file
 * (docs/SCENARIOS.md) and its parser/validator.
 *
 * A scenario names everything a run depends on besides the seed: peers and
 * regions, links, workload, sync strategies to measure, swap parameters,
 * timed events and what to report.  Parsing fills every field (defaults for
 * what the file leaves out), so the engine never checks "was it given".
 *
 * Errors are one line, "FILE:LINE: field 'a.b[2].c': what is wrong", written
 * into the caller's buffer; unknown keys, wrong types, out-of-range values,
 * missing required fields, fractions not summing to 1 and events out of
 * order or beyond the duration are all errors.
 *
 * Ownership: ec_scenario_parse/_load allocate sc->events; ec_scenario_free
 * releases it (safe on a zeroed or failed scenario).  No clocks, no RNG.
 */
#ifndef EC_SIM_SCENARIO_H
#define EC_SIM_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "ec/ec.h"

#define EC_SCN_MAX_REGIONS 16
#define EC_SCN_NAME_MAX 32   /* region, group and partition names, NUL incl. */
#define EC_SCN_TEXT_MAX 512  /* meta.name, meta.description, labels */
#define EC_SCN_PATH_MAX 256  /* report.dir */
#define EC_SCN_MAX_PEERS 1000000u
#define EC_SCN_MAX_DELAY_MS 60000u
#define EC_SCN_MAX_EVENTS 100000u /* group lookups are linear in the events */
#define EC_SCN_ERR_MAX 512   /* a buffer of this size always holds the message */

enum ec_scn_topology {
	EC_SCN_TOPO_RING = 0, /* each peer knows `degree` ring neighbours a side */
	EC_SCN_TOPO_RANDOM,   /* ring neighbours + `random_peers` random peers */
	EC_SCN_TOPO_FULL,     /* every peer knows every peer */
};

/* Sync strategies, also bits of ec_scn_sync.strategies. */
enum ec_scn_strategy {
	EC_SCN_SYNC_CHAIN = 0,   /* chain traversal (the design) */
	EC_SCN_SYNC_POLLING = 1, /* token-by-token mapping queries (the baseline) */
	EC_SCN_SYNC_COUNT
};

enum ec_scn_event_kind {
	EC_SCN_EV_JOIN = 0,
	EC_SCN_EV_LEAVE,
	EC_SCN_EV_CRASH,
	EC_SCN_EV_RETURN,
	EC_SCN_EV_PARTITION,
	EC_SCN_EV_HEAL,
	EC_SCN_EV_NET_CONDITION,
	EC_SCN_EV_ATTACKER_GROUP,
	EC_SCN_EV_REPORT,
	EC_SCN_EV_COUNT
};

/* Plots the report can draw; bits of ec_scn_report.plots. */
enum ec_scn_plot {
	EC_SCN_PLOT_COVERAGE_TIME = 0,     /* coverage over time, per strategy */
	EC_SCN_PLOT_COVERAGE_MESSAGES = 1, /* coverage over messages, per strategy */
	EC_SCN_PLOT_COMMIT_LATENCY = 2,    /* commit latency histogram + CDF */
	EC_SCN_PLOT_COUNT
};

/* One link's conditions.  delay_ms is one-way (an RTT of 50 ms = 25). */
typedef struct ec_scn_link {
	uint32_t delay_ms;
	uint32_t jitter_ms;      /* uniform extra delay in [0, jitter_ms] */
	double loss;             /* drop probability, [0, 1) */
	uint64_t bandwidth_kbps; /* per link and direction; 0 = unlimited */
} ec_scn_link;

typedef struct ec_scn_region {
	char name[EC_SCN_NAME_MAX];
	double fraction; /* share of the initial peers, (0, 1] */
} ec_scn_region;

/* net_condition: which ec_scn_link fields the event sets. */
#define EC_SCN_NET_DELAY 1u
#define EC_SCN_NET_JITTER 2u
#define EC_SCN_NET_LOSS 4u
#define EC_SCN_NET_BANDWIDTH 8u

typedef struct ec_scn_event {
	uint64_t at_ms;
	enum ec_scn_event_kind kind;
	uint32_t line; /* line of the event in the file, for the engine's messages */
	/* join/leave/crash/return/attacker_group: how many peers (default 1) */
	uint32_t count;
	/* join: region of the new peers; leave/crash: only peers of this
	 * region; -1 = by the region fractions (join) or any (others).
	 * net_condition: from-region (-1 = all). */
	int region;
	/* net_condition: to-region (-1 = all) */
	int region_to;
	/* join/attacker_group: name given to the new peers (may be empty for
	 * join); leave/crash/return: only peers of this group ("" = any);
	 * partition: the partition's name; heal: the partition to heal
	 * ("" = all of them) */
	char group[EC_SCN_NAME_MAX];
	/* partition: the regions cut off from the rest (bit i = region i);
	 * 0 when the partition is given as a fraction */
	uint32_t regions_mask;
	/* partition: fraction of the online peers cut off, (0, 1) */
	double fraction;
	/* net_condition: the new link values, fields named by net_set */
	ec_scn_link net;
	uint32_t net_set;
	/* attacker_group: ring position the group aims at (target_set = 0:
	 * "random", chosen by the engine from the seed) */
	uint8_t target[EC_HASH_BYTES];
	int target_set;
	/* attacker_group: mode 0 = hold (the group enters the peer sets of the
	 * `victims` honest peers closest to target), 1 = eclipse (a new peer
	 * joins at target knowing only the group); withhold: the group sends
	 * its victims nothing but hellos; discovery_ms: every this long each
	 * victim gets a hello from one random honest peer it does not know
	 * (0 = never) */
	uint32_t victims;
	int near; /* placement: near = ids ground to land among the victims */
	int eclipse;
	int withhold;
	uint64_t discovery_ms;
	/* report: label of the snapshot */
	char label[EC_SCN_NAME_MAX];
} ec_scn_event;

typedef struct ec_scn_peers {
	uint32_t count;               /* initial peers, 1..1,000,000 (required) */
	uint32_t identity_difficulty; /* Argon2 trailing zero bits, 0..32 */
	enum ec_scn_topology topology;
	uint32_t degree;              /* ring/random: ring neighbours a side, 1..1024 */
	uint32_t random_peers;        /* random: extra random peers each, 0..1024 */
	ec_scn_region regions[EC_SCN_MAX_REGIONS];
	size_t nregions;              /* >= 1; default one region "all" */
} ec_scn_peers;

typedef struct ec_scn_links {
	ec_scn_link def;
	/* one-way delay between regions [from][to]; entries the file leaves
	 * out take the reverse direction when given, else def.delay_ms */
	uint32_t latency_ms[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
} ec_scn_links;

typedef struct ec_scn_workload {
	double tx_rate;          /* transactions submitted per simulated second */
	uint64_t total_txs;      /* stop submitting after this many; 0 = no limit */
	uint64_t initial_tokens; /* tokens existing at start (transfer sources) */
	uint32_t tokens_min, tokens_max; /* tokens per transaction, 1..6 */
	uint32_t setup_tokens;   /* tokens per initial creation, 1..6 (default 6) */
	double mix_create, mix_transfer, mix_destroy; /* sum to 1 */
	double double_sign;      /* fraction of txs whose tokens are double-signed */
	uint64_t start_ms, stop_ms; /* submission window */
} ec_scn_workload;

typedef struct ec_scn_sync {
	int enabled;          /* the file has a sync section */
	uint32_t strategies;  /* bits 1 << EC_SCN_SYNC_*; non-empty */
	uint64_t join_at_ms;  /* when the syncing peer(s) join */
	uint32_t joiners;     /* syncing peers per strategy */
	double target_coverage; /* sync counts as complete at this coverage */
} ec_scn_sync;

/* Peer swapping in every simulated peer (docs/SCENARIOS.md "swap"; the
 * node's glue, PROTOCOL 14d.1).  Times in simulated ms. */
typedef struct ec_scn_swap {
	int enabled;
	uint64_t interval_ms;         /* target interval between rounds */
	uint64_t jitter_ms;           /* each wait interval +- jitter_ms (< interval) */
	uint32_t max_simultaneous;
	uint64_t initial_interval_ms; /* rollout start; = interval_ms: no rollout */
	double adaptation;            /* rollout step per completed swap, [0, 1) */
	int rotate;                   /* a round with no candidate swaps one at random */
	uint32_t set_size;            /* peer-set size above which hellos pool (0 = min + 4) */
	uint32_t keep_ring;           /* ring-closest peers a side never swapped, 0..16 */
	uint32_t min_neighbours;      /* swappable neighbours never fewer than this */
	uint64_t cooldown_ms;         /* a swapped-out peer stays out this long */
	uint64_t shift_step_ms;       /* load-shift step */
	uint32_t shift_steps;
	uint32_t discovery;           /* hellos each peer gets from random non-peers at start */
} ec_scn_swap;

typedef struct ec_scn_report {
	uint64_t interval_ms;      /* timeseries.csv row every interval */
	char dir[EC_SCN_PATH_MAX]; /* output directory */
	uint32_t plots;            /* bits 1 << EC_SCN_PLOT_* */
	int progress;              /* progress line on stderr */
} ec_scn_report;

typedef struct ec_scenario {
	char name[EC_SCN_TEXT_MAX];
	char description[EC_SCN_TEXT_MAX];
	int seed_set;                  /* the file gives a seed */
	uint8_t seed[EC_HASH_BYTES];   /* u64 seeds: big-endian in the last 8 */
	uint64_t duration_ms;          /* simulated time, required */
	uint32_t tick_ms;              /* node tick interval ("round") */
	uint32_t block_interval_ms;    /* the nodes' seal interval; default tick_ms */
	ec_scn_peers peers;
	ec_scn_links links;
	ec_scn_workload workload;
	ec_scn_sync sync;
	ec_scn_swap swap;
	ec_scn_report report;
	ec_scn_event *events; /* sorted by at_ms (file order kept for ties) */
	size_t nevents;
} ec_scenario;

/* Parses a scenario from text (len bytes; name is used in messages as
 * FILE).  EC_OK; EC_ERR_FORMAT for YAML syntax errors; EC_ERR_VALUE for
 * schema/validation errors; EC_ERR_NOMEM.  On error *sc is left freed and
 * err (errlen > 0) holds one line without a newline. */
int ec_scenario_parse(ec_scenario *sc, const char *name, const char *text,
		      size_t len, char *err, size_t errlen);
/* Reads and parses a file; EC_ERR_IO when it cannot be read. */
int ec_scenario_load(ec_scenario *sc, const char *path, char *err,
		     size_t errlen);
void ec_scenario_free(ec_scenario *sc);

/* Parses a seed as the file and --seed take it: a decimal u64, or 64 hex
 * digits with or without "0x".  EC_OK or EC_ERR_VALUE. */
int ec_scenario_seed_parse(uint8_t seed[EC_HASH_BYTES], const char *s);

/* Names used in files ("join", "chain", "coverage_time", "ring"); NULL
 * when out of range. */
const char *ec_scn_event_kind_name(enum ec_scn_event_kind k);
const char *ec_scn_strategy_name(enum ec_scn_strategy s);
const char *ec_scn_plot_name(enum ec_scn_plot p);
const char *ec_scn_topology_name(enum ec_scn_topology t);

/* The resolved scenario as a jansson object (new reference; NULL on
 * allocation failure): what ec_scenario_to_json prints, for embedding. */
struct json_t;
struct json_t *ec_scenario_json(const ec_scenario *sc);

/* The resolved scenario as JSON text (every default filled in, keys
 * sorted, the file's own schema), for summary.json's "scenario" and for
 * round trips: the text parses back to an equal scenario.  Returns a
 * malloc'd string or NULL on allocation failure. */
char *ec_scenario_to_json(const ec_scenario *sc);

#endif
