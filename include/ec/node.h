/* node.h - the sans-I/O protocol node: bytes and time in, bytes and the
 * next deadline out (spec 7-8; docs/PROTOCOL.md "Node behaviour").
 *
 * An ec_node owns a peer table, a mempool, its own commit chain (in memory,
 * mirrored in the store) and an outbox.  It never reads a clock, draws
 * randomness or touches a socket: `now` (protocol ms) comes with every
 * call, randomness from cfg.rng, and outgoing messages are collected with
 * ec_node_poll.  Same configuration + same calls -> the same messages,
 * bit for bit.
 *
 * Driving a node (the daemon and the test harness do exactly this):
 *   ec_node_new(&n, &cfg, now);
 *   loop:
 *     on bytes from peer P (P = transport-authenticated peer id, or the
 *       zero id for a local/unknown client):  ec_node_recv(n, &P, b, l, now)
 *     when now >= ec_node_next_deadline(n):  ec_node_tick(n, now)
 *     after either:  while (ec_node_poll(n, &o)) { send o.msg to o.to;
 *                                                  free(o.msg); }
 *
 * Errors: every function returns EC_OK or an EC_ERR_* code.  Input from
 * peers never makes a call fail: bad messages are dropped and counted in
 * ec_node_stats (recv still returns EC_OK; see ec_node_recv).  A store
 * failure while sealing a block is fatal (EC_ERR_IO, EC_ERR_NOMEM, ...):
 * the node returns that error from then on and must be recreated (the
 * store holds every block sealed before the failure).  EC_ERR_FULL is not
 * fatal: see "Store full" below.  A store that reports corruption
 * (store.h "Integrity") is fatal as well: from then
 * on ec_node_poll yields nothing, not even what was queued before, and the
 * calls return EC_ERR_CORRUPT.
 *
 * Store full: when the batch that writes a sealed block fails with
 * EC_ERR_FULL the node pauses writing.  It keeps that block exactly as
 * signed and writes the same bytes again on a backoff (first after
 * EC_NODE_STORE_RETRY_MIN_MS, doubling up to EC_NODE_STORE_RETRY_MAX_MS,
 * driven by ec_node_next_deadline / ec_node_tick); meanwhile it decides
 * and seals nothing, so no other block is ever signed at that height.  A
 * block is disclosed only once stored: ec_node_head (and so our hellos)
 * names the last stored block, and queries are answered from the store
 * as always, so nothing is served or reported committed that is not
 * persisted; the paused block's transactions stay DECIDED.  Votes, tx
 * requests and answers go on (a vote is held in memory only, as for any
 * open block).  When a retry succeeds the node resumes: the block counts
 * as sealed and pending transactions are evaluated again.  A crash while
 * paused loses that block as a crash before its seal would.  A retry that
 * fails with another error is fatal.  ec_node_store_state reports it.
 */
#ifndef EC_NODE_H
#define EC_NODE_H

#include "ec/crypto.h"
#include "ec/identity.h"
#include "ec/mempool.h"
#include "ec/ratelimit.h"
#include "ec/serve.h"
#include "ec/store.h"
#include "ec/swap.h"
#include "ec/sync.h"
#include "ec/wire.h"

typedef struct ec_node ec_node;

typedef struct ec_node_cfg {
	ec_keypair key;        /* lamppost key: identity.pk, or after a rotation
				* the key our identity token names */
	ec_identity identity;  /* our peer id, salt and network id */
	ec_store *store;       /* borrowed; memory or LMDB; outlives the node */
	const ec_pow_params *pow; /* checks the identity proof of hellos */
	ec_mempool_cfg mempool;
	uint64_t block_interval_ms; /* seal at most this long after the first
				     * decided tx of the open block */
	uint32_t repush_ms;    /* re-push period of a pending vote, plus a
				* jitter of 0..repush_ms/2 from rng */
	uint32_t tx_req_timeout_ms; /* a tx request unanswered this long is
				     * retried (spec 8.10: shorter than the
				     * mempool timeout) */
	uint8_t tx_req_tries;  /* attempts per missing tx */
	uint8_t vote_fanout;   /* bounded vote fan-out (PROTOCOL 14b "Vote
				* fan-out"): first votes go to this many
				* closest peers (half each side) of every token
				* and of the txid; re-pushes only to those whose
				* vote we lack; votes are answered; nodes that
				* are no token's neighbour vote as proxies
				* (spec 8.9).  0 = the full +-4 neighbourhoods
				* with re-push to all (the earlier rule).
				* Default 4 (upstream first_vote_target_count) */
	uint8_t identity_tx;   /* 1: an empty chain submits the identity token
				* creation at start */
	uint8_t addr_len;      /* our transport address, for hellos */
	uint8_t addr[EC_ADDR_MAX];
	uint8_t kx_pk[EC_PUBKEY_BYTES]; /* our X25519 transport key, for hellos
					 * (transport.h); zero = none */
	ec_rng_fn rng;         /* nonces and jitter; required */
	void *rng_ctx;
	const ec_id *bootstrap; /* peers greeted with our hello at start (read
				 * during ec_node_new only; may be NULL) */
	size_t n_bootstrap;
	/* Query service (mapping/tx/block/range requests, serve.h).  serve:
	 * its config; ratelimit: the per-requester / per-class buckets
	 * (ratelimit.h), used when rate_limit = 1.  A ratelimit.hash_seed of
	 * 0 is replaced by one derived from our secret key (deterministic,
	 * not guessable by requesters). */
	ec_serve_cfg serve;
	ec_ratelimit_cfg ratelimit;
	uint8_t rate_limit;    /* 1 (default): enforce cfg.ratelimit */
	ec_sync_cfg sync;      /* catch-up (sync.h); strategy OFF by default */
	/* A key rotation that was pending when the node stopped (the daemon
	 * keeps the next key beside the current one; PROTOCOL 14b "Key
	 * rotation", restart): with has_rotate_to, ec_node_new signs with
	 * rotate_to at once if our state of the identity token already names
	 * it, else resubmits the rotation to it (ec_node_rotate_key) when the
	 * identity token is ours.  Zeroed in the node's copy once used. */
	uint8_t has_rotate_to;
	ec_keypair rotate_to;
	/* Peer swapping (swap.h; PROTOCOL 14d "In the node").  swap_enabled:
	 * the node owns an ec_swap built from `swap` (swap.rng NULL = cfg.rng;
	 * pending_commit is always the node's own predicate), feeds it, ticks
	 * it and executes its actions.  swap_set_size: the peer-set size the
	 * node keeps; a verified hello from an unknown peer while the set
	 * holds at least that many goes to the backup pool instead of the set
	 * (0 = swap.min_neighbours + 4). */
	uint8_t swap_enabled;
	uint32_t swap_set_size;
	/* swap_keep_ring k (0..16): our k ring-closest peers on each side
	 * (our own neighbourhood, which the protocol fixes by id) are never
	 * swapped: kept out of the module (its min_neighbours counts the
	 * swappable peers only) and, if one becomes that close while being
	 * swapped out, its disconnect waits.  Default EC_NEIGHBOURS (4). */
	uint8_t swap_keep_ring;
	ec_swap_cfg swap;
	/* Endorsement cache (PROTOCOL 14b "Endorsements"): endorsements of
	 * other peers collected from block responses to our block fetches
	 * (ec_node_fetch_block), for at most this many block ids (the oldest
	 * block id is evicted), up to 7 endorsers each; served with our own in
	 * our block responses.  0 = default 256.  Memory only. */
	uint32_t endorse_cache_blocks;
} ec_node_cfg;

/* Fills the defaults: mempool defaults, block interval 1000 ms, re-push
 * 300 ms, tx requests 1000 ms x 3 tries, vote_fanout 4, identity_tx 1,
 * pow = production,
 * serve = ec_serve_default_cfg, ratelimit = ec_ratelimit_default_cfg with
 * rate_limit 1.
 * key, identity, store and rng are the caller's. */
void ec_node_cfg_default(ec_node_cfg *cfg);

/* Counters.  rx/tx are indexed by message type code (enum ec_msg_type). */
#define EC_NODE_TYPES 32
typedef struct ec_node_stats {
	uint64_t rx[EC_NODE_TYPES];  /* received, by type (known types only) */
	uint64_t tx[EC_NODE_TYPES];  /* queued for sending, by type */
	uint64_t dropped_malformed;  /* short, oversized, unknown type, bad
				      * encoding, non-canonical */
	uint64_t dropped_bad_sig;    /* signature or key does not verify */
	uint64_t dropped_unsolicited;/* response we did not ask for; vote from
				      * an unknown peer or relayed; tx from an
				      * unknown peer; blocks, proofs, and
				      * mapping/range/tx-batch answers no
				      * request of the sync engine is
				      * waiting for */
	uint64_t dropped_replayed;   /* duplicate tx, vote with a seq we hold,
				      * vote for a tx we committed long ago */
	uint64_t dropped_invalid;    /* well-formed but breaks a rule
				      * (timestamp, wrong network, ...) */
	uint64_t dropped_refused;    /* mempool full / sender over its share */
	uint64_t queries_served;     /* signed responses (mapping incl. "no
				      * mapping", tx, block, range) */
	uint64_t queries_referred;   /* mapping queries answered by a referral */
	uint64_t queries_refused;    /* signed refusals (rate, not found, bad
				      * request, busy store) */
	uint64_t queries_rate_limited; /* of which RATE refusals */
	uint64_t queries_dropped;    /* rate limited past the refusal budget,
				      * or no answer could be built: silent */
	uint64_t votes_changed;      /* our opinion changed (seq bumped) */
	uint64_t votes_accepted;     /* peer votes verified and recorded */
	uint64_t tx_requests;        /* tx requests sent (incl. retries) */
	uint64_t txs_decided;        /* accepted and put in the open block */
	uint64_t txs_committed;      /* in a sealed, stored block */
	uint64_t txs_expired;        /* mempool entries dropped by timeout */
	uint64_t blocks_sealed;
	uint64_t peers_added;
	uint64_t lower_conflict_decided; /* decided while a higher conflicting
					  * tx was known (only after it timed
					  * out; should stay 0 otherwise) */
	uint64_t key_lookups;        /* mapping requests sent to learn a peer's
				      * rotated key (its identity token's
				      * neighbours) */
	uint64_t keys_learned;       /* rotated keys adopted from those answers */
	/* Block fetches (ec_node_fetch_block) and endorsement collection. */
	uint64_t block_fetches;      /* block requests sent */
	uint64_t blocks_fetched;     /* block responses believed (held block) */
	uint64_t blocks_fetched_stored; /* of which the block was new, stored */
	uint64_t block_fetch_refused;   /* signed refusals of our fetches */
	uint64_t block_fetch_timeouts;  /* fetches unanswered for 5 s */
	uint64_t endorsements_kept;     /* new endorsements put in the cache */
	uint64_t endorsements_rejected; /* not kept: unknown endorser, key not
					 * the one we hold, bad signature */
	/* Store full (see the top of this file). */
	uint64_t store_full_pauses;  /* seals whose store write failed FULL */
	uint64_t store_retries_failed; /* retries of a paused write that failed */
	uint64_t hellos_limited;     /* hellos of unknown peers dropped before
				      * their identity proof: the budget of
				      * proof checks was spent (ec_node.c) */
} ec_node_stats;

/* Creates a node.  Loads the own chain from the store (heads and blocks
 * of creator = our peer id).  cfg->key must be the key our stored state
 * of the identity token names (else EC_ERR_KEY, e.g. the key rotated
 * away), or with no such state cfg->identity.pk (else EC_ERR_ARG).  With cfg->identity_tx and an empty chain it
 * submits the identity-token creation: token = peer id, prev = 0,
 * next_key = H_tag("ec/v1/keyhash", our pk).  cfg is copied. */
int ec_node_new(ec_node **out, const ec_node_cfg *cfg, ec_time now);
void ec_node_free(ec_node *n); /* NULL ok; frees queued messages */

/* Our peer id. */
const ec_id *ec_node_id(const ec_node *n);

/* One message from `from` (zero id = local/unknown client).  Returns EC_OK
 * whether or not the message was useful (drops are counted), EC_ERR_ARG
 * for NULL arguments, or the node's fatal error. */
int ec_node_recv(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		 ec_time now);
/* A transaction from the local client (same as recv from the zero id but
 * the tx's fate is returned): EC_OK when accepted into the mempool,
 * EC_ERR_EXISTS for a duplicate, EC_ERR_SIGNATURE, EC_ERR_TIME,
 * EC_ERR_REFUSED, or a decode error. */
int ec_node_submit_tx(ec_node *n, const uint8_t *tx, size_t len, ec_time now);

/* Timers: vote re-push, tx request retries, commit decisions, sealing,
 * mempool expiry.  Call when now >= ec_node_next_deadline(n) (calling
 * earlier or more often is harmless). */
int ec_node_tick(ec_node *n, ec_time now);
/* When ec_node_tick wants to run next; UINT64_MAX when idle.  May be <=
 * the last `now` (work is due: tick right away). */
ec_time ec_node_next_deadline(const ec_node *n);

/* An outgoing message.  msg is malloc'd and owned by the caller after a
 * successful poll (free() it).  to = destination peer id; the zero id means
 * "the local client" (answers to requests that came from the zero id). */
typedef struct ec_node_out {
	ec_id to;
	uint8_t *msg;
	size_t len;
} ec_node_out;
/* 1 and *out filled while messages are queued (oldest first), else 0. */
int ec_node_poll(ec_node *n, ec_node_out *out);

/* Peers.  add_peer takes a hello (decoded): the signature, the network id
 * and the identity proof (cfg->pow) are checked; EC_ERR_EXISTS if known
 * with the same key.  add_peer_key trusts its caller (configuration,
 * bootstrap lists, tests): no proof checked. */
int ec_node_add_peer(ec_node *n, const ec_hello *h, ec_time now);
int ec_node_add_peer_key(ec_node *n, const ec_id *peer, const uint8_t pk[32]);
int ec_node_remove_peer(ec_node *n, const ec_id *peer);
size_t ec_node_peer_count(const ec_node *n);
/* The key our peer table holds for peer: EC_OK, EC_ERR_NOTFOUND. */
int ec_node_peer_key(const ec_node *n, const ec_id *peer, uint8_t pk[32]);
/* Queues our signed hello to `to` (bootstrap). */
int ec_node_send_hello(ec_node *n, const ec_id *to, ec_time now);

/* Introspection for tests, tools and the query service. */
enum ec_node_tx_state {
	EC_NODE_TX_UNKNOWN = 0,
	EC_NODE_TX_PENDING,   /* in the mempool, collecting votes */
	EC_NODE_TX_DECIDED,   /* accepted, in the open (unsealed) block */
	EC_NODE_TX_COMMITTED, /* in a sealed block of our chain (store) */
};
typedef struct ec_node_tx_info {
	uint8_t state;       /* enum ec_node_tx_state */
	uint8_t has_tx;      /* body known (pending entries) */
	ec_time first_seen;  /* 0 when no longer in the mempool */
	ec_time body_at;     /* when the body arrived (0 = not in the pool) */
	ec_time decided_at;  /* 0 unless decided here while in the mempool */
	uint32_t our_seq;    /* seq of our vote, 0 = none */
	int8_t our_flags[EC_TX_MAX_ENTRIES]; /* +1 / -1 per entry, 0 = none */
} ec_node_tx_info;
int ec_node_tx_info_get(ec_node *n, const ec_id *txid, ec_node_tx_info *out);

/* Submission with the node's verdict (PROTOCOL 16.1 "Transaction states"):
 * a transaction our state of its tokens (decided or committed) already
 * rules out is refused before it enters the mempool: EC_ERR_REFUSED with
 * *reason (enum ec_mp_reason, mempool.h) EC_MP_R_NOT_OWNER,
 * EC_MP_R_CONFLICT or EC_MP_R_TIMESTAMP; a full mempool gives
 * EC_ERR_REFUSED with EC_MP_R_FULL.  Each is noted in the rejection
 * table.  Otherwise as ec_node_submit_tx, *reason = EC_MP_R_NONE.  Tokens
 * we hold no state of are not judged here (their neighbourhood votes). */
int ec_node_submit_tx_checked(ec_node *n, const uint8_t *tx, size_t len, ec_time now,
			      uint8_t *reason);
/* Why txid will not commit here: EC_OK with *reason (and *at, the time it
 * was judged) when it is in the table of recent rejections (refused at
 * submission, or dropped from the mempool: a client's transaction that
 * expires is noted with the verdict of our state, else EC_MP_R_EXPIRED),
 * or when it is still pending but our state of its tokens rules it out;
 * EC_ERR_NOTFOUND otherwise (unknown, pending with a chance, decided,
 * committed). */
int ec_node_tx_rejection(ec_node *n, const ec_id *txid, uint8_t *reason, ec_time *at);

/* Lamppost key check (DESIGN.md): is pk the current signing key of peer
 * `peer`, i.e. H_tag("ec/v1/keyhash", pk) = next_key of the current
 * transaction of the identity token (token = peer id) in OUR state
 * (decided or committed)?  EC_OK, EC_ERR_KEY (another key, or destroyed),
 * EC_ERR_NOTFOUND (we hold no state or no body for that token: ask the
 * token's neighbourhood with a mapping query). */
int ec_node_check_lamppost(ec_node *n, const ec_id *peer, const uint8_t pk[32]);

/* Lamppost key rotation (PROTOCOL 14b "Key rotation"): builds and submits
 * an ordinary transfer of our identity token (prev = its current head,
 * next_key = H_tag("ec/v1/keyhash", new_key->pk)) signed with the CURRENT
 * key.  The node keeps signing with the current key until a block it
 * seals commits that transaction, then signs everything (votes, blocks,
 * query responses, hellos) with new_key.  new_key is copied.
 * EC_OK (submitted), EC_ERR_BUSY (a rotation is still pending here),
 * EC_ERR_NOTFOUND (our identity token is not decided/committed here yet),
 * EC_ERR_KEY (our key is not the token's owner key), EC_ERR_ARG (NULL, or
 * new_key is the current key), or the submit's error (node_submit_tx). */
int ec_node_rotate_key(ec_node *n, const ec_keypair *new_key, ec_time now);
/* 1 and *txid (may be NULL) while a rotation is pending, else 0. */
int ec_node_rotation_pending(const ec_node *n, ec_id *txid);

/* Sync (sync.h).  ec_node_sync_start begins cfg.sync.strategy (or
 * `strategy` when non-zero) at `now`; a node restarted on a store with sync
 * progress resumes where it stopped.  EC_ERR_BUSY while a sync runs.
 * ec_node_sync_status fills *st and up to max_chains entries of chains[]
 * (may be NULL with 0); st->n_chains = how many chains are followed. */
int ec_node_sync_start(ec_node *n, uint8_t strategy, ec_time now);
int ec_node_sync_status(ec_node *n, ec_sync_status *st, ec_sync_chain *chains,
			size_t max_chains);

/* Peer swapping (PROTOCOL 14d "In the node"): thin wrappers over the
 * node's ec_swap.  All return EC_ERR_NOTFOUND when cfg.swap_enabled is 0.
 * ec_node_swap_get: the handle itself, read-only, for ec_swap_list /
 * ec_swap_list_ops / ec_swap_get_metrics (NULL when disabled).
 * force: out / in may be NULL (swap.h ec_swap_force); the swap's first
 * actions run at once.  counters: swaps executed by the node (connects,
 * disconnects, hellos pooled as backups). */
const ec_swap *ec_node_swap_get(const ec_node *n);
int ec_node_swap_status(const ec_node *n, ec_swap_status *st);
int ec_node_swap_pause(ec_node *n, ec_time now);
int ec_node_swap_resume(ec_node *n, ec_time now);
int ec_node_swap_static(ec_node *n, int on, ec_time now);
int ec_node_swap_force(ec_node *n, const ec_id *out, const ec_id *in, ec_time now,
		       uint32_t *op_id);
typedef struct ec_node_swap_counters {
	uint64_t connects, syncs, load_steps, disconnects;
	uint64_t hellos_pooled;   /* verified hellos of unknown peers pooled */
	uint64_t hellos_refused;  /* pool refused them (cooldown, full) */
	uint64_t repooled;        /* swapped-out peers back in the pool after
				   * their cooldown (key kept from before) */
	uint64_t responses, timeouts, penalties;
	/* cross-checks fed to the scores: chains the sync engine verified
	 * complete or dropped, key-lookup answers against the adopted key;
	 * sync-efficiency samples (PROTOCOL 14d.1) */
	uint64_t checks_agreed, checks_failed, sync_samples;
} ec_node_swap_counters;
int ec_node_swap_counters_get(const ec_node *n, ec_node_swap_counters *c);

/* Block fetch (PROTOCOL 14b "Endorsements"): sends a signed block request
 * (0x14) for block_id to peer (priority EC_PRIO_*).  The answer, matched by
 * nonce and sender, is believed after the responder's key and signature
 * checks and block id = block_id; a block we do not hold is stored (block,
 * and its proof when it matches proof_hash; no head is set) when it
 * verifies alone and is signed with its creator's key; then the
 * response's endorsements of other peers are checked (key we hold for the
 * endorser, signature over the block id) and kept in the endorsement
 * cache.  Unanswered fetches are dropped after 5 s; a refusal ends one.
 * The request is queued in the outbox at once (poll after the call; the
 * next deadline is also set to now, so polling after the tick works).
 * EC_OK (queued), EC_ERR_NOTFOUND (peer not in our peer table),
 * EC_ERR_BUSY (32 fetches outstanding), EC_ERR_ARG. */
int ec_node_fetch_block(ec_node *n, const ec_id *peer, const ec_id *block_id,
			uint8_t priority, ec_time now);
/* The endorsements of block_id in the cache (other peers only, each
 * verified when kept), ascending by peer: writes up to max, returns how
 * many (0..7). */
size_t ec_node_endorsements(const ec_node *n, const ec_id *block_id,
			    ec_endorsement *out, size_t max);

/* Replaces the query rate limits (cfg->per_peer and cfg->total; the
 * table size and hash seed stay) at run time, keeping the buckets
 * (ec_ratelimit_set_limits).  EC_ERR_NOTFOUND when the node runs without
 * rate limits (cfg.rate_limit 0), EC_ERR_ARG for a bad limit. */
int ec_node_set_rate_limits(ec_node *n, const ec_ratelimit_cfg *cfg);

/* Store full (see the top of this file).  While paused: paused = 1, the
 * id and height of the sealed block waiting to be written, when writing
 * paused, the next retry and the failed retries so far. */
#define EC_NODE_STORE_RETRY_MIN_MS 1000
#define EC_NODE_STORE_RETRY_MAX_MS 10000
typedef struct ec_node_store_state {
	uint8_t paused;
	ec_id block;
	uint64_t height;
	ec_time since, next_retry;
	uint64_t retries;
} ec_node_store_state;
void ec_node_store_state_get(const ec_node *n, ec_node_store_state *out);

const ec_node_stats *ec_node_stats_get(const ec_node *n);
/* Height of our chain head and its id; EC_ERR_NOTFOUND when empty.  The
 * head is the last block in the store (a block waiting for space is not
 * reported: "Store full"). */
int ec_node_head(const ec_node *n, ec_id *id, uint64_t *height);

#endif
