/* ec_node_int.h - the node's internal state, shared by its files:
 *   ec_node.c        lifecycle, receive dispatch, peers, outbox, deadlines
 *   ec_node_tx.c     transactions: checks, our votes, vote targets, pushes,
 *                    missing transactions (tx requests)
 *   ec_node_commit.c decisions (acceptance, conflicts, immutability), the
 *                    open block and sealing into the chain and the store
 *   ec_node_serve.c  the query service (ec_serve + ec_ratelimit) owned by
 *                    the node: mapping/tx/block/range requests answered
 */
#ifndef EC_NODE_INT_H
#define EC_NODE_INT_H

#include "ec/chain.h"
#include "ec/node.h"
#include "ec/ring.h"
#include "util/ec_idindex.h"

/* What the node keeps per mempool entry beside the mempool's own data. */
typedef struct node_pend {
	ec_id txid;
	uint8_t voted;     /* vote holds our current (signed) vote */
	uint8_t decided;   /* in the open block or sealed */
	uint8_t forwarded; /* tx + vote pushed to the targets once */
	uint8_t dirty;     /* votes changed since the last decision check */
	uint8_t has_enc;
	uint32_t enc_len;
	uint8_t enc[EC_TX_MAX_BYTES]; /* the tx's canonical encoding */
	ec_vote vote;
	ec_time next_push; /* next re-push while undecided */
	ec_time decided_at;
	ec_time body_at;    /* when the tx body arrived */
	uint8_t extra_push; /* re-pushes left after the decision */
	uint64_t replied;   /* peers answered after the decision (bloom by
			     * first id byte): at most one reply each
			     * (vote_fanout 0) */
	uint8_t participant; /* responsible for a token or a witness: our
			      * vote is pushed; else only answered */
	uint8_t member;     /* responsible for one of the tokens */
	uint8_t proxy;      /* some entry's token is not ours: its flag is
			     * our tally of that token (spec 8.9) */
	uint8_t repeats;    /* re-push rounds so far (bounded fan-out) */
	ec_time reply_at[16]; /* last answer to a re-push, by peer slot
			       * (vote_fanout > 0): one per repush_ms */
} node_pend;

typedef struct node_peer {
	ec_id id;
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t addr_len; /* transport address from its hello; 0 = unknown */
	uint8_t addr[EC_ADDR_MAX];
} node_peer;

/* An outstanding transaction request (spec 8.8, 8.10). */
typedef struct node_txreq {
	ec_id txid;
	ec_id peer;
	uint8_t nonce[EC_NONCE_BYTES];
	ec_time deadline;
	uint8_t tries;
} node_txreq;

#define NODE_MAX_TXREQ 256
/* Rotated-key lookups (ec_node_key.c). */
#define NODE_MAX_KEYLOOK 16
#define NODE_KEYLOOK_ASK 3  /* identity-token neighbours asked */
#define NODE_KEYLOOK_NEED 2 /* agreeing signed answers that adopt a key */
typedef struct node_keylook {
	ec_id peer;                  /* whose key */
	uint8_t pk[EC_PUBKEY_BYTES]; /* the key it signed with */
	ec_id asked[NODE_KEYLOOK_ASK];
	uint8_t nonce[NODE_KEYLOOK_ASK][EC_NONCE_BYTES];
	uint8_t n_asked, answered, agree;
	uint8_t match; /* answers naming the key looked up (bit per asked) */
	uint8_t cooldown; /* failed: kept until deadline, no retry */
	ec_time deadline;
} node_keylook;
#define NODE_MAX_REPEATS 6 /* re-push rounds while undecided (bounded) */
#define NODE_MAX_PLACEHOLDERS 64 /* votes for unseen txs, per voter */

/* Decided transactions waiting to be sealed. */
typedef struct node_open {
	size_t n;
	ec_tx txs[EC_BLOCK_MAX_TXS];
	uint8_t *enc[EC_BLOCK_MAX_TXS];
	size_t enc_len[EC_BLOCK_MAX_TXS];
	uint8_t n_votes[EC_BLOCK_MAX_TXS];
	ec_vote *votes[EC_BLOCK_MAX_TXS]; /* heap, ascending by voter */
	ec_time first_decided;
	/* Store full (node.h "Store full"): these transactions are sealed
	 * into `block` (signed, in the chain module) but its store batch
	 * failed with EC_ERR_FULL.  The same bytes are written again at
	 * next_retry (backoff delay_ms, doubling); until then nothing is
	 * decided or sealed and the block is not disclosed. */
	uint8_t unsaved;
	ec_block block;
	uint8_t *block_enc, *proof_enc;
	size_t block_len, proof_len;
	uint8_t local[EC_BLOCK_MAX_TXS]; /* Local-state masks of the seal */
	ec_time unsaved_since, next_retry;
	uint32_t delay_ms;
	uint64_t retries; /* failed retries of this pause */
} node_open;

struct ec_node {
	ec_node_cfg cfg;
	ec_id self;
	int fatal; /* EC_OK or the store error that stopped the node */

	ec_peerset peers; /* known peers, not self */
	ec_peerset ring;  /* peers + self: neighbourhoods and tallies */
	node_peer *ptab;  /* ascending by id, same members as peers */
	size_t n_ptab, cap_ptab;

	ec_mempool *mp;
	node_pend **pend; /* insertion order */
	size_t n_pend, cap_pend;
	ec_idindex pidx;  /* pend by txid */

	node_txreq txreq[NODE_MAX_TXREQ];
	size_t n_txreq;

	node_open open;
	ec_chain *chain;

	ec_node_out *outq; /* ring buffer */
	size_t out_head, out_n, out_cap;

	ec_id *dirtyq; /* txids whose votes changed: decision check due */
	size_t n_dirty, cap_dirty;
	ec_time scan_due; /* earliest re-push or expiry: full scan due */

	ec_serve *srv;    /* query service (ec_node_serve.c) */
	ec_ratelimit *rl; /* its rate limits; NULL = cfg.rate_limit 0 */

	/* Lamppost key rotation (ec_node_rotate_key): the transfer of our
	 * identity token that installs rot_key, signed with cfg.key; cfg.key
	 * is replaced when a block we seal commits rot_txid. */
	uint8_t rot_pending;
	ec_id rot_txid;
	ec_keypair rot_key;

	struct node_sync *sync; /* catch-up engine (ec_sync.c); NULL until
				 * ec_node_sync_start */
	node_keylook klook[NODE_MAX_KEYLOOK]; /* rotated-key lookups */
	size_t n_klook;

	struct node_endorse *endo; /* block fetches + endorsement cache
				    * (ec_node_endorse.c) */
	struct node_swap *swp; /* peer swapping (ec_node_swap.c); NULL unless
				* cfg.swap_enabled */
	ec_time deadline; /* cached next deadline */
	ec_time last_now;
	uint64_t idc_level; /* identity-proof budget left, KiB-passes x 1000 */
	ec_time idc_last;   /* its last refill */
	ec_node_stats st;
};

/* ec_node.c */
void node_send(ec_node *n, const ec_id *to, uint8_t *msg, size_t len);
void node_send_copy(ec_node *n, const ec_id *to, const uint8_t *msg, size_t len);
const node_peer *node_peer_find(const ec_node *n, const ec_id *id);
void node_deadline_min(ec_node *n, ec_time t);
int node_is_responsible(const ec_node *n, const ec_id *token);

/* pend table */
node_pend *node_pend_get(const ec_node *n, const ec_id *txid);
node_pend *node_pend_add(ec_node *n, const ec_id *txid);
void node_pend_sweep(ec_node *n); /* drops entries the mempool expired */
void node_mark_dirty(ec_node *n, node_pend *p, ec_time now);

/* ec_node_tx.c */
int node_handle_tx(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		   ec_time now);
void node_handle_vote(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		      ec_time now);
void node_handle_tx_resp(ec_node *n, const ec_id *from, const uint8_t *msg,
			 size_t len, ec_time now);
void node_handle_refusal(ec_node *n, const ec_id *from, const uint8_t *msg,
			 size_t len, ec_time now);
/* Recomputes our vote on e; signs and records it when it changed.
 * Returns 1 when the vote changed. */
int node_evaluate(ec_node *n, ec_mp_entry *e, node_pend *p, ec_time now);
/* Pushes our vote (and the tx to targets that need it).  FIRST: when
 * the tx arrived; CHANGE: our vote changed (also to every peer whose vote
 * we hold); REPEAT: a re-push (bounded fan-out: only to targets whose
 * vote we lack).  With vote_fanout 0 all three are the earlier push to
 * every target. */
enum { NODE_PUSH_FIRST = 0, NODE_PUSH_CHANGE, NODE_PUSH_REPEAT };
void node_push(ec_node *n, ec_mp_entry *e, node_pend *p, int mode, ec_time now);
/* After node_evaluate turned proxy flags to +1 (before[i] = our flag on
 * entry i before, 0 = none): sends the vote to the peers that may need it. */
void node_push_flip(ec_node *n, ec_mp_entry *e, node_pend *p, const int8_t *before);
/* Bounded fan-out, after our decision of e: our flags on the tokens we
 * are not a neighbour of become +1 (the tally that made us decide passed
 * for them; spec 8.9: commitment information propagates through the
 * nearest peers).  push: at the decision, sent as a proxy flip, only when
 * our view is sparse around those tokens (fellow neighbours are among
 * their nearest peers, so they count us); 0: made when a peer polls us
 * (its answer carries it). */
void node_decided_flip(ec_node *n, ec_mp_entry *e, node_pend *p, int push, ec_time now);
/* 1 if our vote on e is pushed (participant, or a proxy that was asked). */
int node_pushes_vote(const ec_node *n, const ec_mp_entry *e, const node_pend *p);
void node_txreq_tick(ec_node *n, ec_time now);
void node_request_tx(ec_node *n, const ec_id *txid, const ec_id *peer,
		     ec_time now);
/* Current head of a token: decided (open block) first, then the store.
 * 1 = head found (*txid set, *tx filled when the body is known and tx is
 * non-NULL, *has_body), 0 = no state. */
int node_token_head(ec_node *n, const ec_id *token, ec_id *txid, ec_tx *tx,
		    int *has_body);
void node_reevaluate_conflicts(ec_node *n, ec_mp_entry *e, ec_time now);
/* Notes in the rejection table why each local client's transaction that
 * ec_mempool_expire(now) is about to drop did not commit (ec_node_tx.c). */
void node_note_expiring(ec_node *n, ec_time now);
/* e is contested: the pool holds a tx (body known, not rejected) that
 * shares a (token, prev) with it, or a vote on e from a member of one of
 * its tokens lists a conflicting txid. */
int node_contested(ec_node *n, const ec_mp_entry *e);
/* ec_node_commit.c: +1 votes on e for token t from t's members in our
 * ring (*k of them, ourselves included). */
int node_member_yes(ec_node *n, const ec_mp_entry *e, const ec_id *t, size_t *k);
/* For every token of e we are a neighbour of: +1 from more than half of its
 * members, or from all of them when `contested` (the member quorum). */
int node_member_quorum(ec_node *n, const ec_mp_entry *e, int contested);
/* A peer signs with pk, not the key our peer table holds: adopt pk when
 * our state of its identity token says pk is its current lamppost key
 * (it rotated).  1 = adopted (peer->pk updated), 0 = not. */
int node_peer_rotated(ec_node *n, const ec_id *peer, const uint8_t *pk);

/* ec_node.c: replaces the key our peer table holds for peer */
void node_peer_set_key(ec_node *n, const ec_id *peer, const uint8_t *pk);

/* ec_node_key.c: rotated-key lookups at the identity token's neighbours */
void node_keylook_start(ec_node *n, const ec_id *peer, const uint8_t *pk, ec_time now);
/* 1 if msg (a mapping response) answered one of our lookups (consumed,
 * counted), 0 if not ours. */
int node_keylook_recv(ec_node *n, const ec_id *from, const uint8_t *msg, size_t len,
		      ec_time now);
void node_keylook_tick(ec_node *n, ec_time now);

/* ec_node_commit.c */
void node_commit_tick(ec_node *n, ec_time now);
int node_seal(ec_node *n, ec_time now);
int node_load_chain(ec_node *n);
/* After a seal: switches to the rotated key if the block committed it. */
void node_rotate_check(ec_node *n, const ec_tx *txs, size_t n_txs);
void node_open_free(node_open *o);
/* Open-block lookup of a token's decided head: index into open.txs or -1. */
int node_open_head(const ec_node *n, const ec_id *token);
/* 1 if txid is in the open block. */
int node_open_has_tx(const ec_node *n, const ec_id *txid);

/* ec_sync.c: responses and refusals to the sync engine's own requests
 * (matched by nonce); 1 = consumed, 0 = not ours. */
int node_sync_recv(ec_node *n, const ec_id *from, uint8_t type,
		   const uint8_t *msg, size_t len, ec_time now);
void node_sync_tick(ec_node *n, ec_time now);
void node_sync_free(ec_node *n);

/* ec_node_swap.c (all no-ops while swapping is off) */
int node_swap_new(ec_node *n, ec_time now);
void node_swap_free(ec_node *n);
/* A verified hello of a peer not in our set: 1 = taken by the swap module
 * (pooled as a backup, or refused), the caller must not add it. */
int node_swap_hello(ec_node *n, const ec_hello *h, ec_time now);
void node_swap_peer_added(ec_node *n, const ec_id *peer);
void node_swap_peer_removed(ec_node *n, const ec_id *peer);
/* A request to peer answered after latency_ms, or timed out (answered 0). */
void node_swap_response(ec_node *n, const ec_id *peer, int answered,
			uint64_t latency_ms, ec_time now);
void node_swap_tick(ec_node *n, ec_time now);
/* One signed answer of `peer` cross-checked (agreed or not). */
void node_swap_check(ec_node *n, const ec_id *peer, int agreed, ec_time now);

/* ec_node_endorse.c: block fetches and the endorsement cache */
#define NODE_ENDORSE_BLOCKS 256   /* default cache size in block ids */
#define NODE_MAX_FETCH 32         /* outstanding block fetches */
#define NODE_FETCH_TIMEOUT_MS 5000
int node_endorse_new(ec_node *n);
void node_endorse_free(ec_node *n);
/* A block response or a refusal: 1 = answered one of our fetches
 * (consumed, counted), 0 = not ours. */
int node_endorse_recv(ec_node *n, const ec_id *from, uint8_t type,
		      const uint8_t *msg, size_t len);
void node_endorse_tick(ec_node *n, ec_time now);
/* Cached endorsements of block (the serve hook). */
size_t node_endorse_get(const ec_node *n, const ec_id *block, ec_endorsement *out,
			size_t max);

/* ec_node_serve.c */
int node_serve_new(ec_node *n);   /* service, limiter, evidence from store */
void node_serve_free(ec_node *n);
void node_dispatch_query(ec_node *n, const ec_id *from, uint8_t type,
			 const uint8_t *msg, size_t len, ec_time now);

#endif
