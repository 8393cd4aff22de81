/* ec_sim_eng.h - the engine's internal state, shared by
 *   ec_sim.c       event heap, links, peers, scenario events, the run loop
 *   ec_sim_wl.c    workload generator and commit tracking (latency,
 *                  conflicting owners)
 *   ec_sim_out.c   samples, sync measurement, summary/timeseries/plots
 *   ec_sim_inv.c   the invariant checker's records and the liveness figures
 * Not a public interface. */
#ifndef EC_SIM_ENG_H
#define EC_SIM_ENG_H

#include "ec/node.h"
#include "ec/ring.h"
#include "sim/ec_sim.h"
#include "sim/ec_sim_check.h"
#include "sim/ec_sim_int.h"

#define SIM_NEVER UINT64_MAX
#define SIM_BASE_MS 1700000000000ull /* protocol time of simulated t = 0 */
#define SIM_NETWORK_ID 7
#define SIM_OWNERS 64                /* workload key holders */
#define SIM_MAX_PARTS 32

enum { PEER_UNUSED = 0, PEER_ONLINE, PEER_LEFT, PEER_CRASHED };

typedef struct sim_peer {
	ec_node *node;
	ec_store *store;
	ec_keypair key;
	ec_identity ident;
	uint64_t rng;        /* the node's random source */
	int region;
	int group;           /* index into s->groups, -1 = none */
	uint8_t state;
	int8_t strategy;     /* sync joiner: enum ec_scn_strategy, -1 = no */
	uint32_t parts;      /* partition bits this peer is cut off by */
	uint64_t tick_at;    /* scheduled tick (us), SIM_NEVER = none */
	uint64_t next_height;/* first own block not yet scanned for commits */
	uint64_t joined_us;
} sim_peer;

typedef struct sim_ev {
	uint64_t t;   /* microseconds since the start */
	uint64_t seq; /* insertion order: ties */
	uint64_t sent; /* messages: when the sender emitted it */
	uint32_t kind;
	uint32_t to, from;
	uint32_t len;
	uint8_t *bytes; /* message, owned by the event */
} sim_ev;

enum { EV_MSG = 0, EV_TICK = 1 };

/* Workload token. */
typedef struct sim_tok {
	ec_id id;
	ec_id head;      /* committed head (majority of its neighbourhood) */
	ec_time head_ts; /* timestamp of the head tx */
	int32_t owner;   /* -1 = destroyed */
	int32_t busy;    /* sent index holding it, -1 = idle */
	uint8_t in_idle;
} sim_tok;

/* Workload transaction. */
typedef struct sim_sent {
	ec_id txid;
	uint64_t submit_us, commit_us; /* commit_us SIM_NEVER until committed */
	ec_time ts;                    /* the tx's timestamp */
	int32_t pair;                  /* double-sign twin, -1 = none */
	uint32_t at;                   /* the peer the client handed it to */
	uint8_t n;
	uint8_t setup;                 /* initial-token creation */
	uint8_t conflict_mask;         /* entries counted as conflicting */
	uint8_t any_mask;              /* entries committed by >= 1 neighbour */
	uint8_t done_mask;             /* entries committed by a majority */
	uint8_t cnt[EC_TX_MAX_ENTRIES];
	int32_t tok[EC_TX_MAX_ENTRIES];
	int32_t new_owner[EC_TX_MAX_ENTRIES];
	ec_id prev[EC_TX_MAX_ENTRIES];
} sim_sent;

typedef struct sim_sync {
	int measured;      /* the strategy is in the scenario */
	int unavailable;   /* ec_node_sync_start said EC_ERR_NOTFOUND */
	int start_err;     /* another error from ec_node_sync_start */
	uint32_t *joiners; /* peer indexes */
	size_t n_joiners;
	int32_t **scope;   /* per joiner: token indexes in its neighbourhood */
	size_t *n_scope;
	uint64_t join_us;
	uint64_t first_head_us, complete_us;
	double coverage;   /* mean over joiners, last probe */
	uint64_t msgs, bytes; /* delivered to or from a joiner */
	ec_sync_status st; /* summed over joiners, last probe */
	/* curves sampled at report intervals after the join */
	double *c_t, *c_msgs, *c_cov;
	size_t c_n, c_cap;
} sim_sync;

struct ec_sim {
	const ec_scenario *sc;
	ec_sim_opts opts;
	uint8_t seed[EC_HASH_BYTES];
	ec_pow_params pow;

	uint64_t now_us, dur_us;
	uint64_t rng_net, rng_wl, rng_ev;

	/* peers */
	sim_peer *peers;
	size_t n_peers, max_peers;
	uint32_t *map;       /* id -> index + 1, open addressing */
	size_t map_cap;
	ec_peerset members;  /* joined and not left (crashed included) */
	char (*groups)[EC_SCN_NAME_MAX];
	size_t n_groups;
	char parts[SIM_MAX_PARTS][EC_SCN_NAME_MAX];
	uint32_t parts_used;

	/* links, [from region][to region] */
	uint32_t lat[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
	uint32_t jit[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
	double loss[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
	uint64_t bw[EC_SCN_MAX_REGIONS][EC_SCN_MAX_REGIONS];
	uint64_t *link_free; /* [from * max_peers + to], lazily */

	/* events */
	sim_ev *heap;
	size_t n_heap, cap_heap;
	uint64_t seq;
	size_t next_scn;     /* next scenario event */
	uint64_t next_sample_us, next_probe_us;
	int sync_joined;

	/* counters */
	uint64_t events, ticks, events_applied;
	uint64_t delivered, bytes, dropped, to_client;
	uint64_t sent_type[EC_NODE_TYPES], deliv_type[EC_NODE_TYPES],
		bytes_type[EC_NODE_TYPES];
	uint64_t peers_joined, peers_left, peers_crashed, peers_returned;
	uint64_t wl_msgs_base;   /* delivered messages when the workload began */
	uint64_t sync_msgs_base; /* joiner messages then (0) */
	int wl_started;

	/* workload */
	ec_keypair owners[SIM_OWNERS];
	ec_id owner_hash[SIM_OWNERS];
	sim_tok *toks;
	size_t n_toks, cap_toks;
	int32_t *idle;
	size_t n_idle, cap_idle;
	sim_sent *sent;
	size_t n_sent, cap_sent;
	sim_idmap txmap;     /* txid -> sent index */
	size_t expire_head;  /* FIFO position in sent[] for token release */
	uint64_t setup_txs, setup_next_us, setup_tokens_left;
	uint64_t wl_next_k, wl_submitted, wl_committed, wl_skipped;
	uint64_t setup_committed, double_signed, conflicts;
	double *lat_ms;
	size_t n_lat, cap_lat;

	/* sync */
	sim_sync sync[EC_SCN_SYNC_COUNT];

	/* outputs */
	double *ts;          /* rows x ncols */
	size_t ts_rows, ts_cap;
	ec_sum_snapshot *snaps;
	size_t n_snaps;

	/* peer swapping and attacks (ec_sim_swap.c); NULL when neither */
	struct sim_atk *atk;

	/* invariants (ec_sim_inv.c): the checker fed with every honest
	 * commit, evaluated once at the end of the run */
	struct ec_chk *chk;
	ec_chk_result inv;
	int inv_done;
	uint64_t tail_msgs_base; /* delivered messages at duration - 10 s */
	int tail_marked;

	int fatal;
	char err[EC_SCN_ERR_MAX];
};

/* ec_sim.c */
uint64_t sim_rand(uint64_t *st);
double sim_rand01(uint64_t *st);
ec_time sim_now_ms(const ec_sim *s);
size_t sim_index_of(const ec_sim *s, const ec_id *id);
void sim_after(ec_sim *s, size_t i); /* flush, commits, tick schedule */
/* Ring neighbourhood of t over the members: peer indexes, returns count. */
size_t sim_neighbourhood(const ec_sim *s, const ec_id *t, size_t *out);
size_t sim_online_count(const ec_sim *s);

/* A new peer joins now; link = 1: known by the topology, 0: by nobody
 * (the caller links it). */
int sim_peer_join(ec_sim *s, int region, int group, uint64_t *rng, int link, size_t *out);
/* Index of group `name` (created when create = 1); -1 for "", -2 unknown. */
int sim_group_index(ec_sim *s, const char *name, int create);
/* Peers a and b know each other (keys both ways). */
void sim_link_pair(ec_sim *s, size_t a, size_t b);

/* ec_sim_swap.c: the scenario's swap section in every node, attacker
 * groups (hold / eclipse), their measurement and outputs. */
struct ec_node_cfg;
void sim_swap_node_cfg(ec_sim *s, struct ec_node_cfg *nc, int group);
int sim_atk_init(ec_sim *s);          /* after the initial peers are linked */
void sim_atk_event(ec_sim *s, const ec_scn_event *ev);
int sim_atk_drop(const ec_sim *s, size_t from, size_t to, uint8_t type);
int sim_atk_is_attacker(const ec_sim *s, size_t i); /* an attacker group's peer */
uint64_t sim_atk_next(const ec_sim *s); /* next probe (us), SIM_NEVER = none */
void sim_atk_step(ec_sim *s);
void sim_atk_free(ec_sim *s);
struct json_t;
struct json_t *sim_atk_json(ec_sim *s, int *ok); /* NULL: nothing to report */
int sim_atk_write(ec_sim *s, const char *dir, char *err, size_t errlen);

/* ec_sim_wl.c */
int sim_wl_init(ec_sim *s);
void sim_wl_free(ec_sim *s);
/* Next submission time (us) of setup or workload txs, SIM_NEVER = none. */
uint64_t sim_wl_next(const ec_sim *s);
/* Submits what is due at s->now_us. */
void sim_wl_step(ec_sim *s);
/* Peer i sealed a block committing txid. */
void sim_wl_committed(ec_sim *s, size_t i, const ec_id *txid);

/* ec_sim_inv.c: the invariant checker's glue and the liveness figures */
int sim_inv_init(ec_sim *s);
void sim_inv_free(ec_sim *s);
/* Peer i is honest (not an attacker group's). */
int sim_honest(const ec_sim *s, size_t i);
/* A workload transaction was made / peer i sealed a block holding sent[k]
 * (nb: its tokens' neighbourhoods now, one per entry). */
void sim_inv_tx(ec_sim *s, size_t k);
void sim_inv_commit(ec_sim *s, size_t i, size_t k, const ec_chk_nbhd *nb);
/* The end of the run: final states into the checker, evaluated. */
void sim_inv_finish(ec_sim *s);
struct json_t *sim_inv_json(ec_sim *s, int *ok);     /* "invariants" */
struct json_t *sim_liveness_json(ec_sim *s, int *ok); /* "liveness" */

/* ec_sim_agree.c: the summary's "agreement" section */
typedef struct sim_agree {
	uint64_t tokens;    /* live workload tokens with a committed head */
	uint64_t majority;  /* ... held by > half of their neighbourhood */
	uint64_t unanimous; /* ... held by every online member of it */
	uint64_t members;   /* (token, online member) pairs checked */
	uint64_t members_on_head, members_other, members_none;
} sim_agree;
void sim_agreement(const ec_sim *s, sim_agree *a);

/* ec_sim_out.c */
extern const char *const sim_ts_columns[];
size_t sim_ts_ncols(void);
void sim_sample(ec_sim *s);           /* one timeseries row */
void sim_probe_sync(ec_sim *s);       /* joiner status + coverage */
void sim_snapshot(ec_sim *s, const char *label);
void sim_sync_free(ec_sim *s);

#endif
