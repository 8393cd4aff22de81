/* swap.h - dynamic peer swapping (issue 8; the design's "Dynamic Peer
 * Swapping for Enhanced Security"; docs/PROTOCOL.md section 14d).
 *
 * An ec_swap keeps, for one node:
 *   - the current neighbourhood (the peers the node routes through),
 *   - a backup pool of discovered, verified alternatives, each "warm" once
 *     the sync engine reports its chain within warm_max_lag blocks of the
 *     head it announced (ec_swap_pool_set_lag),
 *   - per-peer metrics and the composite score
 *       score = 0.30 accuracy + 0.20 availability + 0.20 sync efficiency
 *             + 0.20 reputation + 0.10 latency component        (0..1)
 *     lower score = higher swap priority,
 *   - the schedule: rounds every interval x (1 +- jitter), the interval
 *     moving from initial_interval_ms (6 h) toward target_interval_ms
 *     (30 min) by `adaptation` per completed swap, at most max_simultaneous
 *     swaps in flight, emergencies started at once,
 *   - the swaps in flight, each a state machine the node drives:
 *       CONNECT -> SYNC -> SHIFT (load moved in shift_steps) -> DISCONNECT
 *       -> DONE (records updated), or ABORTED (the old peer stays),
 *   - safety modes: health gate, emergency static mode, conservative mode
 *     under high load, manual pause / resume / force / static.
 *
 * Sans-I/O and deterministic: `now` comes with every call, randomness from
 * cfg.rng (jitter draws and the rotation pick only), and the work for the
 * node comes out as actions (ec_swap_poll).  Same configuration + same
 * calls -> same actions, bit for bit.  Nothing here touches a socket.
 *
 * Driving it (the node / daemon / simulator):
 *   ec_swap_new(&sw, &cfg, now);  add neighbours and backups;
 *   feed observations (responses, cross-checks, sync lag, penalties,
 *     equivocation evidence, health and load);
 *   when now >= ec_swap_next_deadline(sw): ec_swap_tick(sw, now);
 *   while (ec_swap_poll(sw, &a)) perform a; report the outcome of CONNECT
 *     with ec_swap_connected and of SYNC with ec_swap_synced.
 *
 * Errors: EC_OK or EC_ERR_*.  Bad arguments (NULL, the zero id, NaN or
 * out-of-range numbers, over-long tags) return EC_ERR_ARG and change
 * nothing; unknown peers EC_ERR_NOTFOUND.  The handle owns its memory.
 */
#ifndef EC_SWAP_H
#define EC_SWAP_H

#include "ec/identity.h" /* ec_rng_fn */
#include "ec/store.h"    /* ec_peer_metrics, persistence */

/* Caller's predicate: 1 while a commit that needs `peer` (a vote of it
 * outstanding, a transaction it relays) and that was already pending at
 * `since` (when the swap's disconnect step began, after the load shift)
 * is still pending; a swap never disconnects such a peer.  Commits that
 * began later do not hold the swap, so the wait is bounded by the
 * caller's pending lifetime (the mempool timeout): a busy network, or an
 * attacker submitting transactions near its victims, cannot hold an old
 * peer for ever (PROTOCOL 14d.1 "pending guard"). */
typedef int (*ec_swap_pending_fn)(void *ctx, const ec_id *peer, ec_time since);

typedef struct ec_swap_cfg {
	/* schedule */
	uint64_t initial_interval_ms; /* rollout start (6 h) */
	uint64_t target_interval_ms;  /* rollout goal (30 min); <= initial */
	double adaptation;  /* [0,1): interval *= (1 - a) per completed swap,
			     * /= (1 - a) per aborted one (0.1) */
	double jitter;      /* [0,1): each wait is interval x U[1-j, 1+j) (0.5) */
	uint32_t max_simultaneous; /* swaps in flight, 1..EC_SWAP_MAX_OPS (3) */
	uint8_t rotate;     /* 1: a round with no candidate still swaps one
			     * neighbour picked uniformly at random (1) */
	/* scoring */
	double candidate_threshold; /* score below -> candidate (0.6) */
	double emergency_threshold; /* score below -> swap at once (0.3) */
	uint32_t min_samples;  /* observations before a score can make a
				* candidate (10); equivocation needs none */
	double latency_ref_ms; /* latency component = ref/(ref + latency) (200) */
	uint32_t window;       /* counters are halved past this (256) */
	double rep_initial;    /* reputation of a new peer (0.5) */
	double rep_gain;       /* agreeing check: r += (1 - r) x gain (0.02) */
	double rep_loss;       /* disagreeing check: r *= (1 - loss) (0.2);
				* a penalty halves r; equivocation sets 0 */
	/* topology */
	uint32_t min_neighbours; /* never fewer active neighbours (8) */
	uint64_t warm_max_lag;   /* a backup is warm at lag <= this (8 blocks) */
	uint32_t pool_max;       /* backups kept, coldest evicted (64) */
	uint32_t max_peers;      /* neighbours + backups + retired (512) */
	uint64_t cooldown_ms;    /* a swapped-out peer is refused by the pool
				  * this long (24 h) */
	/* execution */
	uint32_t shift_steps;    /* load moved in this many equal steps (4) */
	uint64_t shift_step_ms;  /* between steps; also the re-check period of
				  * a blocked disconnect (30 s) */
	uint64_t phase_timeout_ms; /* CONNECT or SYNC longer -> abort (5 min) */
	/* safety modes */
	double health_threshold; /* scheduled swaps only at health >= (0.7);
				  * also the level that ends automatic static
				  * mode */
	double static_threshold; /* health below -> emergency static (0.4) */
	double high_load;        /* load above -> conservative mode (0.8) */
	uint32_t conservative_factor; /* interval x this, 1 swap at a time (4) */
	/* caller's hooks */
	ec_rng_fn rng;           /* required */
	void *rng_ctx;
	ec_swap_pending_fn pending_commit; /* may be NULL: nothing is pending */
	void *pending_ctx;
} ec_swap_cfg;

#define EC_SWAP_MAX_OPS 16
#define EC_SWAP_MAX_DURATION (1ull << 40) /* ms, bound on every configured time */

/* The defaults above; rng and pending_commit left NULL. */
void ec_swap_cfg_default(ec_swap_cfg *c);

/* ---- scoring (pure) ------------------------------------------------------ */

enum ec_swap_component {
	EC_SWAP_C_ACCURACY = 0,     /* n_agreed / n_checked, 1 with no checks */
	EC_SWAP_C_AVAILABILITY = 1, /* n_responses / n_requests, 1 with none */
	EC_SWAP_C_SYNC = 2,         /* sync_sum / n_sync, 1 with none */
	EC_SWAP_C_REPUTATION = 3,   /* reputation; 0 after any equivocation */
	EC_SWAP_C_LATENCY = 4,      /* ref / (ref + latency_ms), 1 with none */
	EC_SWAP_COMPONENTS = 5,
};
extern const double ec_swap_weights[EC_SWAP_COMPONENTS]; /* .3 .2 .2 .2 .1 */

/* The composite score of m under c (0..1); comp (may be NULL) receives the
 * five components. */
double ec_swap_score(const ec_swap_cfg *c, const ec_peer_metrics *m,
		     double comp[EC_SWAP_COMPONENTS]);
/* Observations behind the score (requests + checks + sync samples). */
uint64_t ec_swap_samples(const ec_peer_metrics *m);

/* ---- the handle ---------------------------------------------------------- */

typedef struct ec_swap ec_swap;

/* EC_ERR_ARG for a bad cfg (no rng, thresholds outside [0,1] or emergency
 * above candidate, static above health, target 0 or above initial,
 * adaptation/jitter outside [0,1), max_simultaneous 0 or above
 * EC_SWAP_MAX_OPS, shift_steps 0 or above 255, window < 2, pool_max or
 * max_peers 0, a duration above EC_SWAP_MAX_DURATION, conservative_factor
 * 0 or above 1000);
 * EC_ERR_NOMEM.  The first round is scheduled at now + a jittered initial
 * interval.  cfg is copied. */
int ec_swap_new(ec_swap **out, const ec_swap_cfg *cfg, ec_time now);
void ec_swap_free(ec_swap *sw); /* NULL ok */

/* ---- peers ---------------------------------------------------------------
 * Tags: region and operator, NUL-terminated, at most EC_PEER_TAG_MAX chars;
 * NULL or "" = unknown.  Two peers are "related" when they carry the same
 * non-empty operator tag: related peers are never swapped out at the same
 * time, and replacements from operators (then regions) less represented in
 * the neighbourhood are preferred. */

/* A current neighbour.  EC_ERR_EXISTS if the peer is known in any role
 * (a backup is promoted only by a swap), EC_ERR_FULL at max_peers. */
int ec_swap_add_neighbour(ec_swap *sw, const ec_id *peer, const char *region,
			  const char *operator_tag, ec_time now);
/* A discovered, verified alternative (the caller checked its identity and
 * its chain head's signature), cold until ec_swap_pool_set_lag says
 * otherwise.  EC_ERR_EXISTS if known, EC_ERR_REFUSED while the peer is in
 * its cooldown after being swapped out, EC_ERR_FULL when max_peers is
 * reached; a full pool evicts its coldest backup (largest lag, then the
 * oldest). */
int ec_swap_pool_add(ec_swap *sw, const ec_id *peer, const char *region,
		     const char *operator_tag, ec_time now);
/* The sync engine's report: the backup's chain is `lag_blocks` behind the
 * head it announced (UINT64_MAX = unknown, cold).  EC_ERR_NOTFOUND unless
 * the peer is a backup. */
int ec_swap_pool_set_lag(ec_swap *sw, const ec_id *peer, uint64_t lag_blocks,
			 ec_time now);
/* Forget a peer (it left, or the operator removed it).  A neighbour being
 * swapped out: if its newcomer already synced, the newcomer takes its place
 * at once (swap done, no disconnect needed); otherwise the swap is aborted
 * and the newcomer disconnected.  A newcomer: its swap is aborted.
 * EC_ERR_NOTFOUND for an unknown (or retired) peer. */
int ec_swap_remove_peer(ec_swap *sw, const ec_id *peer, ec_time now);

enum ec_swap_role {
	EC_SWAP_NONE = 0,
	EC_SWAP_NEIGHBOUR = 1, /* current neighbour (also while swapped out) */
	EC_SWAP_JOINING = 2,   /* newcomer of a swap in flight */
	EC_SWAP_BACKUP = 3,
	EC_SWAP_RETIRED = 4,   /* swapped out, in cooldown */
};
int ec_swap_role(const ec_swap *sw, const ec_id *peer); /* enum ec_swap_role */

/* ---- observations (never fail for a known peer with valid numbers) ------ */

/* A request to the peer answered (latency_ms >= 0 is the response time) or
 * not (timed out; latency ignored). */
int ec_swap_observe_response(ec_swap *sw, const ec_id *peer, int answered,
			     double latency_ms, ec_time now);
/* One of the peer's signed answers cross-checked against other peers'
 * answers and verified chains: agreed or not. */
int ec_swap_observe_check(ec_swap *sw, const ec_id *peer, int agreed, ec_time now);
/* The peer answered with state `lag_ms` behind the newest state known to
 * be committed (0 = up to date).  Sample = 1 for lag <= grace_ms, else
 * grace_ms / lag_ms (grace_ms > 0). */
int ec_swap_observe_sync(ec_swap *sw, const ec_id *peer, uint64_t lag_ms,
			 uint64_t grace_ms, ec_time now);
/* A proven offence short of equivocation (forged block, bad proof):
 * reputation halved. */
int ec_swap_observe_penalty(ec_swap *sw, const ec_id *peer, ec_time now);
/* Verified equivocation evidence (two incompatible signed heads): the
 * reputation component is 0 from now on and, for a neighbour, an
 * emergency swap is due. */
int ec_swap_observe_equivocation(ec_swap *sw, const ec_id *peer, ec_time now);

/* Network health (sync success, consensus completion, discovery and
 * connectivity folded by the caller into 0..1; starts at 1) and load
 * (0..1; starts at 0). */
int ec_swap_set_health(ec_swap *sw, double health, ec_time now);
int ec_swap_set_load(ec_swap *sw, double load, ec_time now);

/* ---- manual override (the daemon's RPC) ---------------------------------- */

int ec_swap_pause(ec_swap *sw, ec_time now);  /* no new swap of any kind */
/* Ends a pause; the next round is drawn afresh from now. */
int ec_swap_resume(ec_swap *sw, ec_time now);
/* Operator's emergency static mode on (1) / off (0). */
int ec_swap_set_static(ec_swap *sw, int on, ec_time now);
/* Starts a swap now, whatever the schedule, pause, health or mode:
 * out NULL = the neighbour of highest swap priority (lowest score) not
 * already being swapped; in NULL = the best replacement (warm preferred,
 * then diversity, score, lag).  Guards still apply: EC_ERR_BUSY when
 * max_simultaneous swaps are in flight, `out` is already being swapped or
 * a related peer is; EC_ERR_NOTFOUND when out is not a neighbour, in is
 * not a backup, or no replacement exists.  *op_id (may be NULL) receives
 * the swap's id. */
int ec_swap_force(ec_swap *sw, const ec_id *out, const ec_id *in, ec_time now,
		  uint32_t *op_id);

/* ---- driving ------------------------------------------------------------- */

/* Timeouts, load-shift steps, blocked disconnects, emergencies, the
 * scheduled round.  Calling early or often is harmless. */
int ec_swap_tick(ec_swap *sw, ec_time now);
/* When tick wants to run next (0 = now; UINT64_MAX = nothing to do). */
ec_time ec_swap_next_deadline(const ec_swap *sw);

enum ec_swap_act {
	EC_SWAP_ACT_CONNECT = 1,    /* open a channel to peer; report with
				     * ec_swap_connected */
	EC_SWAP_ACT_SYNC = 2,       /* bring peer up to current state (chain
				     * sync); report with ec_swap_synced */
	EC_SWAP_ACT_LOAD = 3,       /* route `weight` of the slot's requests
				     * to peer (newcomer) and 1 - weight to
				     * peer2 (the peer being replaced) */
	EC_SWAP_ACT_DISCONNECT = 4, /* close the channel to peer */
};
typedef struct ec_swap_action {
	uint8_t kind;  /* enum ec_swap_act */
	uint32_t op;   /* the swap it belongs to */
	ec_id peer;
	ec_id peer2;   /* LOAD only */
	double weight; /* LOAD only: 1/steps, 2/steps, ... 1 */
} ec_swap_action;
/* 1 and *out filled while actions are queued (oldest first), else 0. */
int ec_swap_poll(ec_swap *sw, ec_swap_action *out);

/* Outcome of a CONNECT / SYNC action.  ok = 0 aborts the swap (the backup
 * is dropped from the pool, counted as an unanswered request).
 * EC_ERR_NOTFOUND for an unknown or finished op, EC_ERR_VALUE when the op
 * is not in that phase (a stale or duplicate report: nothing changes). */
int ec_swap_connected(ec_swap *sw, uint32_t op, int ok, ec_time now);
int ec_swap_synced(ec_swap *sw, uint32_t op, int ok, ec_time now);

/* ---- introspection ("show the schedule and scores") --------------------- */

enum ec_swap_mode {
	EC_SWAP_MODE_NORMAL = 0,
	EC_SWAP_MODE_CONSERVATIVE = 1, /* load > high_load */
	EC_SWAP_MODE_GATED = 2,        /* health < health_threshold: only
					* emergencies */
	EC_SWAP_MODE_STATIC = 3,       /* emergency static: no new swap */
	EC_SWAP_MODE_PAUSED = 4,       /* operator pause: no new swap */
};

enum ec_swap_phase {
	EC_SWAP_PH_CONNECT = 1,
	EC_SWAP_PH_SYNC = 2,
	EC_SWAP_PH_SHIFT = 3,
	EC_SWAP_PH_DISCONNECT = 4, /* waiting for the guards */
	EC_SWAP_PH_DONE = 5,
	EC_SWAP_PH_ABORTED = 6,
};

enum ec_swap_reason {
	EC_SWAP_R_CANDIDATE = 1, /* scheduled round, score below threshold */
	EC_SWAP_R_ROTATION = 2,  /* scheduled round, random rotation */
	EC_SWAP_R_EMERGENCY = 3,
	EC_SWAP_R_FORCED = 4,
};

typedef struct ec_swap_status {
	uint8_t mode;          /* enum ec_swap_mode (the most restrictive) */
	uint8_t paused, manual_static, auto_static;
	double health, load;
	uint64_t interval_ms;  /* rollout interval now */
	uint64_t effective_ms; /* x conservative_factor in conservative mode */
	ec_time next_round;    /* UINT64_MAX while paused */
	uint32_t neighbours;   /* NEIGHBOUR role */
	uint32_t active;       /* neighbours + synced newcomers */
	uint32_t backups, warm_backups, inflight;
	uint64_t rounds, rounds_skipped; /* skipped: paused/static/gated */
	uint64_t started, done, aborted;
	uint64_t emergencies, forced, rotations;
	uint64_t waits_min_size, waits_pending; /* blocked disconnect checks */
	uint64_t no_replacement; /* swaps wanted but no backup available */
} ec_swap_status;
void ec_swap_get_status(const ec_swap *sw, ec_swap_status *out); /* NULLs: no-op */

typedef struct ec_swap_row {
	ec_id peer;
	uint8_t role;       /* enum ec_swap_role */
	uint8_t candidate;  /* score below threshold with enough samples */
	uint8_t emergency;
	uint8_t warm;       /* backups */
	uint8_t in_swap;    /* being swapped out or in */
	double score;
	double comp[EC_SWAP_COMPONENTS];
	uint64_t samples;
	uint64_t lag;       /* backups: reported lag (UINT64_MAX unknown) */
} ec_swap_row;
/* Neighbours in swap-priority order (lowest score first, then id), then
 * backups best-first; up to max rows; returns how many peers there are
 * (neighbours + joining + backups), which may exceed max. */
size_t ec_swap_list(const ec_swap *sw, ec_swap_row *rows, size_t max);

typedef struct ec_swap_op_info {
	uint32_t id;
	uint8_t phase;  /* enum ec_swap_phase */
	uint8_t reason; /* enum ec_swap_reason */
	uint8_t step;   /* load steps done */
	ec_id out, in;
	ec_time started, phase_since;
} ec_swap_op_info;
/* Swaps in flight; returns their count (may exceed max). */
size_t ec_swap_list_ops(const ec_swap *sw, ec_swap_op_info *ops, size_t max);

/* The metrics of a known peer (copy). */
int ec_swap_get_metrics(const ec_swap *sw, const ec_id *peer, ec_peer_metrics *out);

/* ---- persistence (store table `swapm`, docs/STORAGE.md section 3.4) ------ */

/* Writes the metrics of every known peer in txn t (one record per peer). */
int ec_swap_save(const ec_swap *sw, ec_store_txn *t);
/* For every known peer with a stored record: metrics restored (tags given
 * at add time win over stored ones when non-empty).  A record that fails
 * its checks is skipped (counted in *skipped, may be NULL). */
int ec_swap_load(ec_swap *sw, ec_store_txn *t, size_t *skipped);

#endif
