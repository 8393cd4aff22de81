/* harness.h - N ec_nodes in one process over an in-memory network.
 *
 * Messages travel through one event queue ordered by (delivery time,
 * sequence number); each send draws a per-link delay (delay_ms + uniform
 * 0..jitter_ms) and a loss decision from one seeded PRNG, so a run is a
 * function of its seed.  Nodes are ticked at their ec_node_next_deadline.
 * Every node has a memory store, an identity mined with ec_pow_test and a
 * fully connected peer set (every node knows all N; neighbourhoods come
 * from the ring), or with cfg.near_peers a partial one (ring neighbours
 * plus a few random peers, mutual).  Messages to the zero id (answers to clients) are
 * counted and discarded.
 *
 * Workload helpers build signed transactions for the tests: creations,
 * transfers (signed with the owners' keys), multi-token txs, destructions
 * and double-signs. */
#ifndef EC_HARNESS_H
#define EC_HARNESS_H

#include "ec/node.h"

typedef struct hn_cfg {
	size_t n_nodes;
	uint64_t seed;
	uint32_t delay_ms, jitter_ms;
	uint32_t loss_ppm; /* messages lost per million */
	uint64_t block_interval_ms;
	uint32_t repush_ms;
	uint64_t tx_timeout_ms;
	int identity_tx;
	ec_time start; /* simulated start time, ms */
	/* Partial peer sets (0, 0 = full mesh, every node knows all N).
	 * near_peers k > 0: each node knows its k ring neighbours on each
	 * side plus random_peers others drawn from the seed; knowledge is
	 * mutual (if a knows b, b knows a: connections are two-way, as
	 * upstream's invitations make them). */
	uint32_t near_peers, random_peers;
	int vote_fanout; /* ec_node_cfg.vote_fanout; -1 = the node default */
	/* Optional: adjusts node i's configuration just before ec_node_new
	 * (hn_new, hn_add_node, hn_restart_node), e.g. to turn swapping on. */
	void (*node_cfg)(void *ctx, size_t i, ec_node_cfg *nc);
	void *node_cfg_ctx;
} hn_cfg;

void hn_cfg_default(hn_cfg *c);

typedef struct hn_node {
	ec_node *node;
	ec_store *store;
	ec_keypair key;
	ec_identity ident;
	uint64_t rng; /* the node's random source state */
} hn_node;

typedef struct hn_msg hn_msg;

#define HN_MAX_LATE 16 /* nodes hn_add_node can add */

typedef struct hn {
	hn_cfg cfg;
	hn_node *nodes;
	size_t n;
	ec_time now;
	uint64_t prng, seq;
	hn_msg **heap;
	size_t n_heap, cap_heap;
	struct hn_idx { ec_id id; size_t i; } *idx; /* ascending by id */
	uint64_t delivered, lost, to_client, ticks;
	uint64_t delivered_type[32]; /* delivered messages by type code */
	/* Optional link filter, asked for every message node `from` sends to
	 * node `to` (indexes) at h->now: non-zero = lost (counted in lost). */
	int (*drop)(void *ctx, const struct hn *h, size_t from, size_t to,
		    const uint8_t *msg, size_t len);
	void *drop_ctx;
	/* Optional rewrite hook, asked before `drop`: may replace *msg and *len
	 * (free the old bytes, malloc the new) to model a lying peer. */
	void (*mutate)(void *ctx, const struct hn *h, size_t from, size_t to,
		       uint8_t **msg, size_t *len);
	void *mutate_ctx;
	size_t cap_nodes; /* n + HN_MAX_LATE */
	ec_sync_cfg sync; /* cfg.sync of nodes from hn_add_node, hn_restart_node */
	/* Optional extra latency (ms) for a message that is not lost, asked
	 * after `drop`: models a slow peer or link. */
	uint32_t (*delay)(void *ctx, const struct hn *h, size_t from, size_t to,
			  const uint8_t *msg, size_t len);
	void *delay_ctx;
} hn;

int hn_new(hn **out, const hn_cfg *cfg);
void hn_free(hn *h);

/* A node joining late (up to HN_MAX_LATE): new identity, memory store, every existing node
 * as its peer and it as theirs (same setup as hn_new).  Returns its index
 * or SIZE_MAX on failure.  Its cfg.sync is h->sync. */
size_t hn_add_node(hn *h);
/* Kills node i (ec_node_free, messages queued by it are lost) and starts
 * a new ec_node on the same store, key and peers at h->now.  EC_OK or
 * ec_node_new's error. */
int hn_restart_node(hn *h, size_t i);

/* Runs the network until simulated time t (inclusive). */
void hn_run_until(hn *h, ec_time t);
/* A client hands tx bytes to node i at time `at` (>= now). */
void hn_submit(hn *h, size_t i, const uint8_t *msg, size_t len, ec_time at);
void hn_submit_tx(hn *h, size_t i, const ec_tx *tx, ec_time at);
/* Injects raw bytes from `from` to node i at time `at`. */
void hn_inject(hn *h, const ec_id *from, size_t i, const uint8_t *msg, size_t len,
	       ec_time at);

/* Messages delivered so far, all types. */
uint64_t hn_delivered(const hn *h);

/* Node index of a peer id, or SIZE_MAX. */
size_t hn_index_of(const hn *h, const ec_id *id);
/* The +-4 neighbourhood (over all nodes) of address t: node indexes, returns
 * how many (<= 8). */
size_t hn_neighbourhood(const hn *h, const ec_id *t, size_t *out);
/* Current token state on node i: 1 with *txid set, 0 if none. */
int hn_token_current(hn *h, size_t i, const ec_id *token, ec_id *txid);
/* Verifies node i's whole chain from the store with ec_chain_verify and
 * every block's proof hash; returns EC_OK or the error, *len = blocks. */
int hn_verify_chain(hn *h, size_t i, uint64_t *len);
/* 1 if node i's chain (store tx index) commits txid. */
int hn_committed(hn *h, size_t i, const ec_id *txid);
/* The same two on a store. */
int hn_token_current_store(ec_store *s, const ec_id *token, ec_id *txid);
int hn_committed_store(ec_store *s, const ec_id *txid);

/* ---- workload ---------------------------------------------------------- */
typedef struct hn_owner {
	ec_keypair kp;
	ec_id keyhash;
} hn_owner;

void hn_owner_make(hn_owner *o, uint64_t seed);

/* One entry to build: token, prev (zero = creation), the next owner (NULL
 * = destruction), the current owner who signs (NULL for a creation). */
typedef struct hn_entry {
	ec_id token;
	ec_id prev;
	const hn_owner *next; /* NULL: destroy */
	const hn_owner *signer;
} hn_entry;

/* Builds a transaction from entries (any order: sorted by token here),
 * signs and finalizes it.  EC_OK or the codec's error. */
int hn_tx_build(ec_tx *tx, ec_time ts, const hn_entry *e, size_t n);

/* Random id from the harness PRNG. */
ec_id hn_rand_id(hn *h);
uint64_t hn_rand(hn *h);

/* A workload: owners, tokens with their expected heads, and every tx sent.
 * Expected heads advance only through hn_wl_apply (after a run), from the
 * transactions a majority of the first token's neighbourhood committed. */
#define HN_OWNERS 16
typedef struct hn_tok {
	ec_id id;
	ec_id head; /* expected current txid; zero = not (yet) committed */
	int owner;  /* index into owners; -1 = destroyed */
} hn_tok;

typedef struct hn_sent {
	ec_tx tx;
	int n_tok;
	int tok[EC_TX_MAX_ENTRIES];       /* indexes into toks */
	int new_owner[EC_TX_MAX_ENTRIES]; /* -1 = destroyed */
	int pair;                         /* double-sign: index of the other, else -1 */
} hn_sent;

typedef struct hn_wl {
	hn_owner owners[HN_OWNERS];
	hn_tok *toks;
	size_t n_toks, cap_toks;
	hn_sent *sent;
	size_t n_sent, cap_sent;
	size_t cursor; /* next token considered for transfers */
} hn_wl;

void hn_wl_init(hn_wl *w, uint64_t seed);
void hn_wl_free(hn_wl *w);
/* n_tx creations of 1..max_tok new tokens each, handed to random nodes at
 * random times in [t0, t0 + spread).  Return the number sent. */
size_t hn_wl_creations(hn *h, hn_wl *w, size_t n_tx, unsigned max_tok, ec_time t0,
		       ec_time spread);
/* Up to n_tx transfers of live committed tokens, 1..max_tok per tx (owners
 * may differ: multi-signer), each entry destroying the token with
 * probability destroy_pct %. */
size_t hn_wl_transfers(hn *h, hn_wl *w, size_t n_tx, unsigned max_tok,
		       unsigned destroy_pct, ec_time t0, ec_time spread);
/* Up to n_pairs double-signs: the owner signs two different transfers of
 * the same token state, handed to two random nodes within 30 ms. */
size_t hn_wl_double_signs(hn *h, hn_wl *w, size_t n_pairs, ec_time t0,
			  ec_time spread);
/* 1 if a majority of the first token's neighbourhood committed tx. */
int hn_committed_majority(hn *h, const ec_tx *tx);
/* Advances expected heads with the txs sent[from..to) committed by a
 * majority; returns how many. */
size_t hn_wl_apply(hn *h, hn_wl *w, size_t from, size_t to);
/* Tokens whose whole neighbourhood holds the expected head; *off counts
 * node states that differ (committed tokens only). */
size_t hn_wl_agreement(hn *h, const hn_wl *w, size_t *off);

/* A link filter (hn.drop) that captures the answer node `from` sends to node
 * `to` carrying `nonce`: a mapping response or a referral.  The first such
 * message is copied into msg/len (malloc'd; the caller frees it) and
 * consumed; everything else passes.  Set from, to and nonce, msg = NULL, then
 * h->drop = hn_capture_answer, h->drop_ctx = &capture. */
typedef struct hn_capture {
	size_t from, to;
	uint8_t nonce[EC_NONCE_BYTES];
	uint8_t *msg;
	size_t len;
} hn_capture;
int hn_capture_answer(void *ctx, const struct hn *h, size_t from, size_t to,
		      const uint8_t *msg, size_t len);

#endif
