/* serve.h - the query service: answers token-mapping queries, transaction
 * queries, block requests and range requests from the store, signed with
 * the node's lamppost key (docs/PROTOCOL.md sections 7-13a and "Serving
 * rules"; DESIGN.md "Signed token-mapping response", "Block request").
 *
 * Sans-I/O: every call takes an open read txn of the store, the peer id the
 * transport authenticated (`from`), the decoded request and `now`, and
 * produces the encoded answer bytes.  Nothing here reads a clock, draws
 * randomness or touches a socket.  `from` keys the rate limits; for a
 * client without a peer id, pass any stable key for it (e.g. a hash of its
 * transport address).  The answer is a copy: the txn may end right after
 * the call.  One handle is not thread-safe; use one per thread or lock.
 *
 * Typical use in the node's dispatch:
 *     ec_serve_answer a;
 *     int r = ec_serve_request(srv, rtxn, &from, bytes, len, &peerset, now, &a);
 *     if (r == EC_OK) { send(from, a.msg, a.len); ec_serve_answer_clear(&a); }
 *
 * Order of checks (cheap checks before crypto before state):
 *   rate limit (per requester and class, ratelimit.h)
 *   -> for signed block/range requests: requester == from, timestamp
 *      window, then the signature (and the optional key hook)
 *   -> store lookups
 *   -> build, sign, encode.
 * Decoding is the caller's (or ec_serve_request's) step before all this: a
 * message that does not decode is dropped without an answer.
 *
 * Answers (struct ec_serve_answer)
 *   type = EC_MSG_MAPPING_RESP, EC_MSG_TX_RESP, EC_MSG_BLOCK_RESP,
 *          EC_MSG_RANGE_RESP  a signed response;
 *          EC_MSG_REFERRAL    "ask these peers" (mapping queries only);
 *          EC_MSG_REFUSAL     signed refusal, reason in `reason`:
 *             EC_REFUSE_RATE     rate limited, retry_after_ms from the limiter
 *             EC_REFUSE_NOTFOUND nothing stored under that id
 *             EC_REFUSE_BAD      bad signature / requester / timestamp
 *             EC_REFUSE_BUSY     the store failed (EC_ERR_IO, _CORRUPT, ...);
 *                                retry_after_ms = cfg.busy_retry_ms
 *   msg/len: the encoding, malloc'd; the caller sends it to `from` and
 *   frees it (free()).  ec_serve_answer_clear frees and zeroes.
 *
 * Return values
 *   EC_OK            *ans holds an answer to send (any of the types above)
 *   EC_ERR_REFUSED   rate limited and the requester has also used up its
 *                    refusal budget (class EC_RL_REFUSAL): send nothing.
 *                    Signing a refusal costs as much as signing an answer,
 *                    so refusals are rate limited too.
 *   EC_ERR_NOMEM, EC_ERR_CRYPTO, EC_ERR_ARG: no answer (*ans zeroed).
 *   EC_ERR_VALUE: a block/range request struct the decoder would have
 *                    rejected (priority, max_blocks, max_bytes): no answer,
 *                    counted as malformed.
 *   ec_serve_request also returns the decoder's error for a malformed
 *   message and EC_ERR_TYPE for a message that is not a request.
 * Every call updates the counters (ec_serve_get_stats).
 *
 * Memory: the handle owns a copy of the key pair (wiped by ec_serve_free)
 * and the evidence ring; the rate limiter, store, peer set and hooks stay
 * the caller's and must outlive the calls that use them.
 */
#ifndef EC_SERVE_H
#define EC_SERVE_H

#include "ec/crypto.h"
#include "ec/ratelimit.h"
#include "ec/ring.h"
#include "ec/store.h"
#include "ec/wire.h"

typedef struct ec_serve ec_serve;

/* ---- configuration --------------------------------------------------------- */

typedef struct ec_serve_cfg {
	/* Range responses: the server's caps on top of the request's
	 * max_bytes / max_blocks.  max_range_bytes in
	 * EC_RANGE_MIN_MAX_BYTES..EC_MSG_MAX_BYTES (so a response always
	 * fits a message); max_range_blocks in 1..EC_RANGE_MAX_BLOCKS. */
	uint32_t max_range_bytes;
	uint16_t max_range_blocks;
	/* Rate-limit cost of a range request: one token per this many
	 * requested blocks, rounded up (a block request costs 1). >= 1. */
	uint16_t range_blocks_per_token;
	/* Signed requests whose timestamp is more than this far from `now`
	 * (either side) are refused as BAD (replay window). 0 = no check. */
	uint64_t req_max_skew_ms;
	/* Referrals name up to this many peers, 1..EC_REFERRAL_MAX. */
	uint8_t referral_peers;
	/* Block responses carry our own endorsement of the block (every block
	 * in the store was verified before it was stored). 0/1. */
	uint8_t endorse_own;
	/* retry_after_ms of NOTFOUND and BUSY refusals. */
	uint32_t notfound_retry_ms;
	uint32_t busy_retry_ms;
} ec_serve_cfg;

/* max_range_bytes 1 MiB, max_range_blocks 1024, range_blocks_per_token 32,
 * req_max_skew_ms 5 min, referral_peers 4, endorse_own 1,
 * notfound_retry_ms 0, busy_retry_ms 1000. */
extern const ec_serve_cfg ec_serve_default_cfg;

/* Callbacks into the node (all optional: a NULL member is "none"). */
typedef struct ec_serve_hooks {
	void *ctx;
	/* The transaction `txid` if it is pending in the mempool (not yet
	 * committed here), else NULL.  The pointer is read before the call
	 * returns. */
	const ec_tx *(*pending_tx)(void *ctx, const ec_id *txid);
	/* Endorsements of block `id` the node collected from other peers (and
	 * verified): writes up to `max` into out, returns how many.  Entries
	 * naming our own id or a peer twice are dropped here. */
	size_t (*endorsements)(void *ctx, const ec_id *block_id,
			       ec_endorsement *out, size_t max);
	/* The transport address of `peer` for referrals: writes up to
	 * EC_ADDR_MAX bytes to addr and returns the length (0 = unknown). */
	uint8_t (*addr_of)(void *ctx, const ec_id *peer, uint8_t *addr);
	/* Whether `pk` is the current lamppost key of `requester` (identity
	 * token lookup).  NULL: any key whose signature verifies is accepted;
	 * the requester id is still bound by `from`. Return 1 = ok. */
	int (*requester_key_ok)(void *ctx, const ec_id *requester,
				const uint8_t pk[EC_PUBKEY_BYTES]);
} ec_serve_hooks;

/* cfg NULL = defaults; hooks NULL = none; rl NULL = no rate limiting
 * (tests, tools).  self = own peer id, kp = lamppost key pair (copied).
 * EC_ERR_ARG for a cfg out of range. */
int ec_serve_new(ec_serve **out, const ec_serve_cfg *cfg, const ec_id *self,
		 const ec_keypair *kp, ec_ratelimit *rl,
		 const ec_serve_hooks *hooks);
void ec_serve_free(ec_serve *srv); /* wipes the key; NULL ok */
/* Lamppost key rotation: later answers are signed with kp. */
void ec_serve_set_key(ec_serve *srv, const ec_keypair *kp);

/* ---- minefield evidence ------------------------------------------------------
 * The latest mappings committed at this node (up to EC_RESP_MAX_EVIDENCE),
 * newest first, served in mapping responses that ask for evidence.  The
 * node notes every own commit: */
void ec_serve_note_commit(ec_serve *srv, const ec_id *token, const ec_id *txid,
			  ec_time commit_ts);
/* Convenience: notes every (token, txid) of an own block, in block order,
 * commit_ts = the block's timestamp.  txs[i] is the tx b->txids[i]. */
void ec_serve_note_block(ec_serve *srv, const ec_block *b, const ec_tx *txs);
/* Refills the ring from the store after a restart: the newest entries of
 * the own chain's latest blocks (same order as ec_serve_note_block would
 * have left).  EC_OK also for an empty chain; store errors as returned. */
int ec_serve_load_evidence(ec_serve *srv, ec_store_txn *t);
/* Copies the ring, newest first; returns how many (0..4). */
size_t ec_serve_evidence(const ec_serve *srv, ec_evidence *out);

/* ---- answering ------------------------------------------------------------- */

typedef struct ec_serve_answer {
	uint8_t *msg;  /* encoded answer, malloc'd: the caller frees */
	size_t len;
	uint8_t type;  /* enum ec_msg_type of msg */
	uint8_t reason; /* enum ec_refusal_reason when type is EC_MSG_REFUSAL */
	uint32_t retry_after_ms; /* of a refusal */
} ec_serve_answer;

void ec_serve_answer_clear(ec_serve_answer *a);

/* Token-mapping query (0x10).  Served from the token's `current` slot only
 * (Local or Confirmed; a Pending report is never served).  For a token
 * without a current slot: if `peers` is non-NULL and we are not in the
 * token's ±4 neighbourhood of peers ∪ {self}, a referral to the
 * cfg.referral_peers peers of `peers` closest to the token (never self or
 * `from`); otherwise a signed "no mapping" response (txid zero).
 * peers NULL = never refer. */
int ec_serve_mapping(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const ec_mapping_req *req, const ec_peerset *peers,
		     ec_time now, ec_serve_answer *ans);

/* Transaction query (0x12): committed in our chain -> commit block,
 * position, confirmations = own head height - block height; body stored
 * but not in our chain (learned by sync), or pending in the mempool (hook)
 * -> commit_block zero, position 0, confirmations 0; else NOTFOUND. */
int ec_serve_tx(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		const ec_tx_req *req, ec_time now, ec_serve_answer *ans);

/* Block request (0x14): the stored block, its stored consensus proof
 * (has_proof = 1 when stored), endorsements (ours if cfg.endorse_own, plus
 * the hook's), signed.  Unknown block -> NOTFOUND. */
int ec_serve_block(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		   const ec_block_req *req, ec_time now, ec_serve_answer *ans);

/* Range request (0x16): start and its ancestors, newest first, following
 * prev ids; stops before `stop`, after genesis, after
 * min(max_blocks, cfg.max_range_blocks) blocks, before the response would
 * pass min(max_bytes, cfg.max_range_bytes), or at a parent the store does
 * not hold.  complete = 1 exactly when the last item is genesis or its
 * prev is `stop` (or start == stop, with no items).  Proofs are included
 * when the flag asks and the store holds them; the first item goes without
 * its proof if only that way it fits.  Unknown start -> NOTFOUND. */
int ec_serve_range(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		   const ec_range_req *req, ec_time now, ec_serve_answer *ans);

/* Tx-batch request (0x1B, PROTOCOL 13d): the bodies we hold (store, or
 * pending in the mempool through the hook) in request order, the others
 * flagged missing; signed.  Rate class EC_RL_TX, cost ceil(n / 16) tokens
 * (a single tx query costs 1).  Never a NOTFOUND refusal: an all-missing
 * answer says so. */
int ec_serve_txbatch(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const ec_txbatch_req *req, ec_time now, ec_serve_answer *ans);

/* Decodes msg (any of the five request types) and dispatches to the
 * function above.  A message that does not decode: its decoder's error,
 * no answer, counted as `malformed`.  Another type: EC_ERR_TYPE. */
int ec_serve_request(ec_serve *srv, ec_store_txn *t, const ec_id *from,
		     const uint8_t *msg, size_t len, const ec_peerset *peers,
		     ec_time now, ec_serve_answer *ans);

/* ---- counters ------------------------------------------------------------- */

enum ec_serve_kind {
	EC_SERVE_MAPPING = 0,
	EC_SERVE_TX = 1,
	EC_SERVE_BLOCK = 2,
	EC_SERVE_RANGE = 3,
	EC_SERVE_TXBATCH = 4,
	EC_SERVE_KINDS = 5,
};

typedef struct ec_serve_kind_stats {
	uint64_t served;    /* signed responses (incl. "no mapping", pending tx) */
	uint64_t referred;  /* referrals (mapping only) */
	uint64_t rate_limited; /* RATE refusals sent */
	uint64_t dropped;   /* rate limited past the refusal budget: no answer */
	uint64_t not_found; /* NOTFOUND refusals */
	uint64_t bad;       /* BAD refusals: signature, requester, timestamp */
	uint64_t busy;      /* BUSY refusals after a store error */
	uint64_t malformed; /* did not decode (ec_serve_request): no answer */
	uint64_t bytes_out; /* bytes of all answers produced */
} ec_serve_kind_stats;

typedef struct ec_serve_stats {
	ec_serve_kind_stats kind[EC_SERVE_KINDS];
	uint64_t mapping_nomap;     /* "no mapping" responses (in served) */
	uint64_t mapping_pending_hidden; /* tokens with only a Pending slot */
	uint64_t tx_pending;        /* tx responses for mempool txs (in served) */
	uint64_t range_blocks;      /* blocks sent in range responses */
	uint64_t range_incomplete;  /* range responses with complete = 0 */
	int last_store_err;         /* the last store error that caused BUSY */
} ec_serve_stats;

void ec_serve_get_stats(const ec_serve *srv, ec_serve_stats *out);

#endif
