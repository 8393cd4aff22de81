/* ratelimit.h - deterministic token buckets per (requester, class), with a
 * fixed memory bound (DESIGN.md "Rate limits per requester and priority; a
 * refused request gets an explicit answer").
 *
 * Model
 *   Every class (what is being asked: mapping query, tx query, block/range
 *   request at each of the three priorities, and the refusals themselves)
 *   has two token buckets in series:
 *     - one per requester (peer id as the transport authenticated it), and
 *     - one for the class as a whole (all requesters together), which caps
 *       what an attacker can get by rotating ids.
 *   A bucket holds at most `burst` tokens, starts full and refills at
 *   `per_sec` tokens per second (integer arithmetic in milli-tokens, so a
 *   refill is exact for any elapsed ms).  A request of cost c is allowed
 *   only when both buckets hold c tokens; then both are charged.  A refused
 *   request charges nothing and gets the exact wait, in ms, until both
 *   buckets would allow it ("retry after").  per_sec = 0 means "no limit"
 *   for that bucket.  A cost above a bucket's burst is charged as the burst
 *   (such a request must wait for a full bucket, never forever).
 *
 * Memory
 *   The per-requester buckets live in a fixed table of max_entries entries
 *   allocated by ec_ratelimit_new; nothing is allocated afterwards.  When
 *   the table is full, a new (requester, class) evicts the stalest entry
 *   (least recently charged or refused: exact LRU).  An evicted requester
 *   comes back with a full bucket, so eviction can only be generous to the
 *   victim; the class-wide bucket is what bounds a requester rotating ids.
 *   The table's hash is keyed with cfg.hash_seed (the core draws no
 *   randomness: the caller picks the seed).
 *
 * Time
 *   `now` is protocol time in ms from the caller.  A `now` earlier than a
 *   bucket's last update refills nothing (time never runs backwards here).
 *
 * Sans-I/O, single-threaded; the handle owns all its memory.
 */
#ifndef EC_RATELIMIT_H
#define EC_RATELIMIT_H

#include "ec/ec.h"

enum ec_rl_class {
	EC_RL_MAPPING = 0,          /* token-mapping query (0x10) */
	EC_RL_TX = 1,               /* transaction query (0x12) */
	EC_RL_BLOCK_SYNC = 2,       /* block/range request, priority 1 */
	EC_RL_BLOCK_VALIDATION = 3, /* block/range request, priority 2 */
	EC_RL_BLOCK_HISTORICAL = 4, /* block/range request, priority 3 */
	EC_RL_REFUSAL = 5,          /* signed refusals sent to one requester */
	EC_RL_CLASSES = 6,
};

typedef struct ec_rl_limit {
	uint32_t per_sec; /* refill rate, tokens per second; 0 = unlimited */
	uint32_t burst;   /* bucket size in tokens; >= 1 when per_sec > 0 */
} ec_rl_limit;

typedef struct ec_ratelimit_cfg {
	ec_rl_limit per_peer[EC_RL_CLASSES]; /* one bucket per (requester, class) */
	ec_rl_limit total[EC_RL_CLASSES];    /* one bucket per class */
	uint32_t max_entries; /* per-requester table size, 16..1<<24 */
	uint64_t hash_seed;   /* keys the table's hash (caller's randomness) */
} ec_ratelimit_cfg;

/* Defaults (docs/PROTOCOL.md "Serving rules"), tokens/s and burst:
 *                     per requester     all requesters
 *   mapping query        50 / 100          5000 / 10000
 *   tx query             20 / 40           2000 / 4000
 *   block, sync         200 / 400          4000 / 8000
 *   block, validation    50 / 100          1000 / 2000
 *   block, historical     5 / 10            100 / 200
 *   refusals             10 / 20           2000 / 4000
 * max_entries 4096 (~300 KiB), hash_seed 0 (set it). */
extern const ec_ratelimit_cfg ec_ratelimit_default_cfg;

typedef struct ec_ratelimit ec_ratelimit;

typedef struct ec_ratelimit_stats {
	uint64_t allowed[EC_RL_CLASSES];
	uint64_t refused[EC_RL_CLASSES];
	uint64_t evicted; /* entries evicted to make room */
} ec_ratelimit_stats;

/* EC_ERR_ARG for a bad cfg (class index, burst 0 with a rate,
 * max_entries out of range); EC_ERR_NOMEM. cfg NULL = defaults. */
int ec_ratelimit_new(ec_ratelimit **out, const ec_ratelimit_cfg *cfg);
void ec_ratelimit_free(ec_ratelimit *rl); /* NULL ok */

/* Replaces the limits of every class (per requester and per class) while
 * keeping the table and the buckets' levels: a level over its new burst is
 * cut to it, buckets refill at the new rates from now on.  max_entries and
 * the hash seed stay.  EC_ERR_ARG (nothing changed) for a limit with a rate
 * and burst 0. */
int ec_ratelimit_set_limits(ec_ratelimit *rl, const ec_rl_limit per_peer[EC_RL_CLASSES],
			    const ec_rl_limit total[EC_RL_CLASSES]);

/* Charges `cost` tokens (>= 1; 0 is treated as 1) of class `cls` to
 * `peer` at time `now`.  EC_OK: allowed and charged; *retry_after_ms = 0.
 * EC_ERR_REFUSED: nothing charged; *retry_after_ms (may be NULL) = ms
 * after which the same request would be allowed if nothing else is
 * charged meanwhile (>= 1, saturating at UINT32_MAX).  EC_ERR_ARG for a
 * bad class. */
int ec_ratelimit_take(ec_ratelimit *rl, const ec_id *peer, unsigned cls,
		      uint32_t cost, ec_time now, uint32_t *retry_after_ms);

/* The class of a block or range request priority (enum ec_priority,
 * 1..3), or -1 for another value. */
int ec_ratelimit_class_of_priority(uint8_t priority);

/* Entries in use in the per-requester table (<= max_entries). */
size_t ec_ratelimit_entries(const ec_ratelimit *rl);
void ec_ratelimit_get_stats(const ec_ratelimit *rl, ec_ratelimit_stats *out);

#endif
