/* ec_sim_check.h - the simulator's global invariant checker: what every
 * honest node committed, ever, checked against the protocol's safety
 * properties (docs/SCENARIOS.md "Invariants").
 *
 * The checker knows nothing of the engine.  It is fed
 *   - transactions (txid and its (token, prev) entries) as they are made;
 *   - commit records: node N sealed a block holding txid at time t, with
 *     the ±4 neighbourhood of each of the transaction's tokens at that
 *     moment (over the ground-truth members, not N's view).  N's commit
 *     counts for entry e when N is in entry e's neighbourhood then (a
 *     "member commit"); other commits (witnesses, relays) are kept apart;
 *   - the final state, once the network is quiet: for each token, the
 *     members of its neighbourhood then, each with the head its store
 *     holds, and whether it is online and honest.
 * and evaluates three invariants:
 *   double_commit  at most one transaction per (token, prev) has member
 *                  commits, over all honest nodes and the whole run
 *                  (twins or not; nodes that later left or crashed count);
 *   atomicity      a transaction of two or more tokens with a member commit
 *                  for any entry is established for every entry: a strict
 *                  majority of that token's neighbourhood member-committed
 *                  it at one commit moment, or holds it (or a descendant)
 *                  at the end;
 *   divergence     the online honest members of each token's final
 *                  neighbourhood hold one head (no state counts as a value
 *                  of its own).
 * Deterministic: results depend only on the order and content of calls.
 * Ownership: ec_chk_new allocates, ec_chk_free releases; results are
 * plain values copied into the caller's struct.  No clocks, no RNG. */
#ifndef EC_SIM_CHECK_H
#define EC_SIM_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ec/ec.h"
#include "ec/ring.h"

#define EC_CHK_NB (2 * EC_NEIGHBOURS) /* members of one neighbourhood, at most */
#define EC_CHK_ENTRIES EC_TX_MAX_ENTRIES
#define EC_CHK_EXAMPLES 5             /* examples kept per kind */

typedef struct ec_chk ec_chk;

/* One token's neighbourhood at a moment: node numbers (the caller's). */
typedef struct ec_chk_nbhd {
	uint32_t n;
	uint32_t node[EC_CHK_NB];
} ec_chk_nbhd;

/* One member of a token's final neighbourhood. */
typedef struct ec_chk_member {
	uint32_t node;
	uint8_t honest;  /* counted as a holder only when honest */
	uint8_t online;  /* divergence looks at online honest members */
	uint8_t has;     /* the store holds a current state for the token */
	ec_id head;      /* that state's txid (has = 1) */
} ec_chk_member;

enum ec_chk_kind {
	EC_CHK_DOUBLE_COMMIT = 0,
	EC_CHK_ATOMICITY,
	EC_CHK_DIVERGENCE,
	EC_CHK_KINDS
};

/* One committed side of a double commit: the transaction, the first node
 * that committed it (as a member, or at all for the any-node count) and
 * when (simulated microseconds). */
typedef struct ec_chk_side {
	ec_id txid;
	uint32_t node;
	uint64_t t_us;
} ec_chk_side;

typedef struct ec_chk_double {
	ec_id token, prev;
	uint32_t txs;          /* distinct transactions committed on it */
	ec_chk_side a, b;      /* the first two, by first commit time */
} ec_chk_double;

typedef struct ec_chk_atomic {
	ec_id txid;
	uint8_t n;             /* entries */
	uint8_t established;   /* bit e: entry e established */
	uint8_t committed;     /* bit e: entry e has a member commit */
	ec_id token[EC_CHK_ENTRIES];
	uint8_t committers[EC_CHK_ENTRIES]; /* distinct member committers, ever */
	uint8_t holders[EC_CHK_ENTRIES];    /* final members holding it */
	uint8_t members[EC_CHK_ENTRIES];    /* final neighbourhood size */
	ec_chk_side first;     /* first member commit of any entry */
} ec_chk_atomic;

typedef struct ec_chk_diverge {
	ec_id token;
	uint32_t n_values;     /* distinct values held (no state = one value) */
	struct {
		uint8_t has;
		ec_id head;
		uint32_t count;    /* online honest members holding it */
		uint32_t node;     /* one of them */
	} v[EC_CHK_NB];
} ec_chk_diverge;

typedef struct ec_chk_result {
	uint64_t count[EC_CHK_KINDS];
	uint64_t divergence_heads;   /* tokens with >= 2 different heads held */
	uint64_t divergence_missing; /* one head, some members with none */
	uint64_t double_commit_any;  /* double commits counting every honest
				      * node's blocks, members or not */
	/* what was checked */
	uint64_t txs, multi_token_txs, commits, member_commits, tokens;
	size_t n_double, n_atomic, n_diverge;
	ec_chk_double dbl[EC_CHK_EXAMPLES];
	ec_chk_atomic atom[EC_CHK_EXAMPLES];
	ec_chk_diverge div[EC_CHK_EXAMPLES];
} ec_chk_result;

int ec_chk_new(ec_chk **out);
void ec_chk_free(ec_chk *c);

/* A transaction of n (1..6) entries.  A txid given again is ignored.
 * EC_OK, EC_ERR_ARG, EC_ERR_NOMEM. */
int ec_chk_tx(ec_chk *c, const ec_id *txid, unsigned n, const ec_id *token,
	      const ec_id *prev);

/* Node `node` (honest) sealed a block holding txid at t_us; nb[e] is the
 * neighbourhood of entry e's token at that moment (one per entry).
 * EC_ERR_NOTFOUND for a txid never given to ec_chk_tx (nothing recorded),
 * EC_ERR_NOMEM. */
int ec_chk_commit(ec_chk *c, const ec_id *txid, uint32_t node, uint64_t t_us,
		  const ec_chk_nbhd *nb);

/* The final neighbourhood of `token` (n members).  Given once per token,
 * after the last commit.  EC_OK, EC_ERR_ARG (n > EC_CHK_NB), EC_ERR_NOMEM. */
int ec_chk_final(ec_chk *c, const ec_id *token, const ec_chk_member *m, size_t n);

/* Evaluates the invariants over everything given so far.  EC_OK or
 * EC_ERR_NOMEM. */
int ec_chk_eval(ec_chk *c, ec_chk_result *r);

/* Total violations (the three kinds). */
uint64_t ec_chk_violations(const ec_chk_result *r);

/* The result as summary.json's "invariants" object (new reference; NULL
 * on allocation failure). */
struct json_t;
struct json_t *ec_chk_json(const ec_chk_result *r);

/* Human-readable lines: one with the counts, then up to `examples` per
 * kind, each line starting with `prefix`. */
void ec_chk_print(FILE *f, const char *prefix, const ec_chk_result *r, size_t examples);

#endif
