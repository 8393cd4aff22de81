/* mempool.h - pending transactions and the votes about them (spec 8.3-8.11,
 * upstream_notes 3).  Pure bookkeeping: what a node has seen, who voted
 * what, which conflicts are known, and whether a transaction has reached
 * acceptance.  Token state (is prev the current head?) and vote emission
 * belong to the node core, which calls in here.
 *
 * Rules implemented here
 *   - votes are versioned: only the highest seq per (voter, tx) is kept;
 *     a vote may arrive before its transaction (spec 8.8);
 *   - balances count only voters eligible for the token in the receiver's
 *     peer set (spec 8.4): +1 per YES, -1 per NO;
 *   - acceptance: every token's balance > threshold (+2) and at least
 *     witness_min voters from the neighbourhood of the witness address
 *     H(tx) = txid (spec 8.6, 8.7);
 *   - conflicts: same (token, prev) in two transactions; the highest txid
 *     wins; a tx may not commit while a higher conflicting tx is pending and
 *     not timed out (spec 8.5);
 *   - timeouts: entries expire after tx_timeout_ms (spec 8.11);
 *   - fairness: each sender may hold at most per_sender_max entries, and the
 *     pool as a whole max_entries (spec 8.11).
 * Time comes from the caller.
 */
#ifndef EC_MEMPOOL_H
#define EC_MEMPOOL_H

#include "ec/ring.h"
#include "ec/wire.h"

typedef struct ec_mempool_cfg {
	int32_t vote_threshold;  /* balance must exceed this (spec: +2) */
	uint32_t witness_min;    /* witness-area voters needed (spec: 2) */
	uint64_t tx_timeout_ms;  /* entry lifetime */
	uint32_t max_entries;    /* pool capacity */
	uint32_t per_sender_max; /* entries one sender may hold */
} ec_mempool_cfg;

extern const ec_mempool_cfg ec_mempool_default_cfg;

enum ec_mp_state {
	EC_MP_PENDING = 0, /* collecting votes */
	EC_MP_COMMITTED,   /* committed locally: kept to answer late voters */
	EC_MP_REJECTED,    /* invalid here (e.g. does not extend our head) */
};

/* What a decided entry keeps of a vote (ec_mempool_compact): the voter, the
 * version, and its flag for each entry of the tx (+1, -1, 0 = none). */
typedef struct ec_mp_vote {
	ec_id voter;
	uint32_t seq;
	int8_t flag[EC_TX_MAX_ENTRIES];
} ec_mp_vote;

typedef struct ec_mp_entry {
	ec_id txid;
	int has_tx;
	ec_tx tx;
	ec_id sender; /* who handed us the tx (fair share); zero = local client */
	ec_time first_seen;
	uint8_t state;
	uint32_t n_votes, cap_votes; /* voters held (either form) */
	ec_vote *votes;   /* latest vote per voter; NULL once compacted */
	ec_mp_vote *cvotes; /* the same, compacted (NULL until then) */
	uint64_t seq;     /* insertion order in the pool */
} ec_mp_entry;

/* Vote j of e (j < n_votes) in either form: the voter, its seq, and its
 * flag for token t (+1 YES, -1 NO, 0 none; t one of the tx's tokens once
 * compacted). */
const ec_id *ec_mp_voter(const ec_mp_entry *e, uint32_t j);
uint32_t ec_mp_vote_seq(const ec_mp_entry *e, uint32_t j);
int ec_mp_vote_flag(const ec_mp_entry *e, uint32_t j, const ec_id *t);

typedef struct ec_mempool ec_mempool;

int ec_mempool_new(ec_mempool **out, const ec_mempool_cfg *cfg);
void ec_mempool_free(ec_mempool *mp);
size_t ec_mempool_size(const ec_mempool *mp);

/* Looks up an entry (NULL if absent).  Pointers stay valid until the next
 * call that adds or removes entries. */
ec_mp_entry *ec_mempool_get(ec_mempool *mp, const ec_id *txid);

/* Adds a structurally valid transaction (tx->id set).  EC_OK when new or
 * when it fills a placeholder created by early votes; EC_ERR_EXISTS when
 * already held; EC_ERR_REFUSED when the sender's share or the pool is full. */
int ec_mempool_add_tx(ec_mempool *mp, const ec_tx *tx, const ec_id *sender,
		      ec_time now);

/* Records a vote (signature already verified by the caller).  Keeps the
 * highest seq per voter: EC_OK if recorded, EC_ERR_EXISTS if an equal or
 * newer vote from that voter is already held.  Creates a placeholder entry
 * when the transaction is unknown (the caller should fetch it). */
int ec_mempool_add_vote(ec_mempool *mp, const ec_vote *v, ec_time now);

/* The tally of an entry against the receiver's peer set. */
typedef struct ec_tally {
	int32_t balance[EC_TX_MAX_ENTRIES]; /* per entry of the tx */
	uint32_t witnesses;                 /* witness-area voters */
	int accepted;                       /* thresholds met (spec 8.6) */
} ec_tally;

/* Requires the tx (EC_ERR_NOTFOUND for a placeholder). */
int ec_mempool_tally(const ec_mempool *mp, const ec_mp_entry *e,
		     const ec_peerset *peers, ec_tally *t);

/* Conflicts of e: transactions in the pool that share a (token, prev) with
 * it.  Writes up to max ids (ascending), returns the total number. */
size_t ec_mempool_conflicts(const ec_mempool *mp, const ec_mp_entry *e,
			    ec_id *out, size_t max);
/* 1 if a conflicting pending tx with a higher id is in the pool (spec 8.5:
 * then e must not commit). */
int ec_mempool_has_higher_conflict(const ec_mempool *mp, const ec_mp_entry *e);

/* 1 if an entry other than e with a higher id, holding its tx and not
 * REJECTED, extends (token, prev) (the node's per-token conflict rule). */
int ec_mempool_higher_on(const ec_mempool *mp, const ec_mp_entry *e,
			 const ec_id *token, const ec_id *prev);

/* How many placeholders (entries without their tx) were opened by a vote of
 * `voter` (its vote came first).  Indexed: no scan of the pool. */
size_t ec_mempool_placeholders_of(const ec_mempool *mp, const ec_id *voter);

/* The votes that count for e (eligible for one of its tokens or for its
 * witness address), at most max, for the consensus proof.  Returns how many
 * were copied. */
size_t ec_mempool_counted_votes(const ec_mempool *mp, const ec_mp_entry *e,
				const ec_peerset *peers, ec_vote *out, size_t max);

void ec_mempool_set_state(ec_mempool *mp, ec_mp_entry *e, uint8_t state);

/* Frees the full votes of e (it must hold its tx), keeping per voter only
 * an ec_mp_vote (~44 of ~630 bytes): enough for tallies, replay checks and
 * the voter list, all a decided entry still needs.  Later votes are kept
 * compacted too.  counted_votes then returns 0 (the proof is built before).
 * EC_ERR_NOMEM leaves e as it was. */
int ec_mempool_compact(ec_mempool *mp, ec_mp_entry *e);

/* Drops entries older than tx_timeout_ms; returns how many. */
size_t ec_mempool_expire(ec_mempool *mp, ec_time now);

/* Iteration in insertion order: i from 0 while it returns non-NULL. */
ec_mp_entry *ec_mempool_at(ec_mempool *mp, size_t i);

/* Recent rejections: why a transaction was refused or dropped, for the
 * client that submitted it (PROTOCOL 16.1 "Transaction states").  A
 * bounded table: at most EC_MP_REJECT_MAX entries, the oldest overwritten
 * first; noting a txid again replaces its reason and time. */
enum ec_mp_reason {
	EC_MP_R_NONE = 0,
	EC_MP_R_FULL,      /* the mempool had no room */
	EC_MP_R_NOT_OWNER, /* a signature is not by the key the token's current
			    * transaction names (or the token is destroyed) */
	EC_MP_R_CONFLICT,  /* prev is no longer the token's current transaction:
			    * another one spending it was decided or committed */
	EC_MP_R_TIMESTAMP, /* not later than the token's current transaction */
	EC_MP_R_EXPIRED,   /* not decided within tx_timeout_ms */
	EC_MP_R_COUNT
};
#define EC_MP_REJECT_MAX 1024
/* "mempool_full", "not_owner", "conflict_lost", "bad_timestamp",
 * "expired"; "none" for EC_MP_R_NONE or an unknown value. */
const char *ec_mp_reason_name(uint8_t reason);
/* A sentence for people ("another transaction ... committed"). */
const char *ec_mp_reason_text(uint8_t reason);
/* Records txid's rejection at `now` (reason EC_MP_R_NONE is ignored).
 * Allocation failure drops the note (the table is advisory). */
void ec_mempool_note_rejected(ec_mempool *mp, const ec_id *txid, uint8_t reason,
			      ec_time now);
/* EC_OK with *reason and *at (either may be NULL) when txid is in the
 * table, else EC_ERR_NOTFOUND. */
int ec_mempool_rejected(const ec_mempool *mp, const ec_id *txid, uint8_t *reason,
			ec_time *at);

#endif
