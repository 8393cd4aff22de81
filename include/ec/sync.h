/* sync.h - catching up with the neighbourhood (issue 5; docs/PROTOCOL.md
 * section 14c "Sync").
 *
 * Two strategies, selectable per node, built on the same node core and
 * measured side by side:
 *
 *   EC_SYNC_CHAIN  the design's chain traversal: head discovery by signed
 *                  mapping queries, target selection (>= 2 chains on each
 *                  side of us where the network allows), skeleton through
 *                  jump references, parallel range fills, every block
 *                  verified before it is stored, tx bodies fetched once by
 *                  id in batches, state applied with trust levels, a
 *                  completeness report, light maintenance afterwards.
 *   EC_SYNC_POLL   the old model, as a fair baseline: random token-mapping
 *                  queries (with evidence) to neighbourhood peers, mappings
 *                  updated from the answers; it never declares itself
 *                  complete.
 *
 * The sync engine lives inside the node (src/core/ec_sync*.c) and is
 * sans-I/O like the rest of it: it sends through the node's outbox, takes
 * the answers the node routes to it (mapping/range/block/tx-batch
 * responses, referrals and refusals to its requests), and is driven by
 * ec_node_tick.  Time and randomness come from the node's caller.
 *
 * Scope.  The node's sync scope is the set of token addresses whose +-4
 * neighbourhood (section 14a), over the node's peer set plus itself,
 * contains the node: exactly the tokens it must hold.  "The
 * neighbourhood's committed transactions" = every transaction committed
 * by a peer of the set that touches a token in scope.
 */
#ifndef EC_SYNC_H
#define EC_SYNC_H

#include "ec/ec.h"

enum ec_sync_strategy {
	EC_SYNC_OFF = 0,
	EC_SYNC_CHAIN = 1,
	EC_SYNC_POLL = 2,
};

enum ec_sync_phase {
	EC_SYNC_IDLE = 0,      /* not started / strategy off */
	EC_SYNC_DISCOVER = 1,  /* asking for heads */
	EC_SYNC_TRAVERSE = 2,  /* fetching and verifying blocks and bodies */
	EC_SYNC_CAUGHT_UP = 3, /* complete; light maintenance */
	EC_SYNC_POLLING = 4,   /* EC_SYNC_POLL: never complete */
};

typedef struct ec_sync_cfg {
	uint8_t strategy;          /* enum ec_sync_strategy */
	uint8_t min_chains_per_side; /* chains followed on each side of us
				      * (default 2) */
	uint16_t range_max_blocks; /* K of a range request (default 256) */
	uint32_t range_max_bytes;  /* default 512 KiB */
	uint8_t max_inflight;      /* requests in flight, all peers (default 16) */
	uint8_t max_inflight_peer; /* per peer (default 4) */
	uint16_t txbatch_max;      /* tx ids per body request (default 64) */
	uint32_t stall_min_ms;     /* adaptive stall timeout bounds */
	uint32_t stall_max_ms;     /*   (defaults 500 / 10,000) */
	uint32_t min_rate_bps;     /* a peer slower than this (bytes/s, after
				    * its first answer) is dropped for the
				    * segment (default 2,000) */
	uint32_t unverified_max_bytes; /* memory for data not yet verified
					* (default 8 MiB) */
	uint32_t maintain_ms;      /* light maintenance / poll period
				    * (default 1,000) */
	uint8_t poll_queries;      /* EC_SYNC_POLL: queries per period (8) */
} ec_sync_cfg;

void ec_sync_cfg_default(ec_sync_cfg *c);

/* One followed chain in the completeness report. */
typedef struct ec_sync_chain {
	ec_id creator;
	ec_id head;            /* announced in a verified signed mapping answer */
	uint64_t head_height;
	uint64_t verified;     /* blocks verified and stored for this sync */
	uint64_t low_height;   /* contiguous verified range [low, head] */
	uint8_t complete;      /* reached genesis or the previous sync's head */
	uint8_t dropped;       /* abandoned (liar, unreachable) */
} ec_sync_chain;

typedef struct ec_sync_status {
	uint8_t strategy, phase;
	ec_time started, caught_up_at; /* 0 = not yet */
	/* progress = blocks_verified / blocks_target, never decreasing (the
	 * target grows when a newer head is seen; progress is then held until
	 * verification passes it again); eta_ms from the recent rate, 0 when
	 * unknown. */
	uint64_t blocks_target, blocks_verified;
	double progress;
	uint64_t eta_ms;
	uint64_t txs_referenced;   /* distinct txids named by verified blocks
				    * of the followed chains (all of them:
				    * a body is needed to know its tokens) */
	uint64_t txs_held;         /* of which bodies validated and stored */
	uint64_t txs_confirmed;    /* carried by >= 2 independent chains */
	uint64_t tokens_applied;   /* token state writes (Confirmed set or a
				    * Pending report taken) */
	uint64_t msgs_sent, msgs_recv;    /* sync traffic only */
	uint64_t bytes_sent, bytes_recv;  /* wire bytes of those */
	uint64_t bytes_useful;     /* unique raw bytes: each block and tx body
				    * encoding counted once */
	uint64_t round_trips;      /* requests answered */
	uint64_t blocks_rejected, txs_rejected; /* forged / tampered */
	uint64_t equivocations;    /* peers caught with two incompatible heads */
	uint64_t penalties;
	size_t n_chains;           /* filled into chains[] up to max_chains */
	/* Received by this run (a node restarted on its store starts at 0):
	 * blocks in range responses and bodies in tx-batch responses, valid
	 * or not.  A resumed sync must not fetch again what it verified. */
	uint64_t blocks_fetched, txs_fetched;
	uint64_t skeleton_anchors; /* jump-reference anchors that split a walk
				    * into parallel fills */
	/* Slow and silent peers (PROTOCOL 14c "Other holders", "Minimum
	 * rate"): range answers accepted from a peer other than the chain's
	 * creator (a holder that synced it), and peers whose useful receive
	 * rate fell under min_rate_bps (their outstanding requests given up
	 * and their segments asked elsewhere or later). */
	uint64_t ranges_elsewhere;
	uint64_t rate_drops;
	/* Chains followed after the start: peers within reach that joined the
	 * peer set later, noticed by maintenance (PROTOCOL 14c). */
	uint64_t chains_added;
} ec_sync_status;

#endif
