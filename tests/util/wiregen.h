/* wiregen.h - random valid protocol objects for tests and corpus seeds:
 * every generator draws from a deterministic splitmix64 stream
 * (testutil.h), so a seed names an object.  `shape` picks the edge:
 * 0 = smallest counts, 1 = largest counts (bounded where the full limit
 * would be slow), anything else = random counts.  Objects that own heap
 * memory are released with their ec_X_free. */
#ifndef EC_WIREGEN_H
#define EC_WIREGEN_H

#include <stdint.h>

#include "ec/crypto.h"
#include "ec/wire.h"
#include "wire_eq.h"

/* Four fixed test keys, from seeds 32 x (i + 1). */
const ec_keypair *wg_key(unsigned i);

unsigned wg_count(uint64_t *s, unsigned shape, unsigned min, unsigned max);
void wg_id(uint64_t *s, ec_id *id);

/* Transactions: at least one signed update entry unless creation_only. */
void wg_tx(uint64_t *s, ec_tx *tx, unsigned shape, int creation_only);
void wg_vote(uint64_t *s, ec_vote *v, const ec_id *txid, unsigned shape);
void wg_block(uint64_t *s, ec_block *b, unsigned shape);
/* Proof for block b (its transaction ids), up to max_votes per tx. */
void wg_proof(uint64_t *s, ec_proof *p, const ec_block *b, unsigned max_votes,
	      unsigned shape);
void wg_mapping_resp(uint64_t *s, ec_mapping_resp *m, unsigned shape);
void wg_tx_resp(uint64_t *s, ec_tx_resp *r, unsigned shape);
void wg_block_req(uint64_t *s, ec_block_req *r, unsigned shape);
void wg_range_req(uint64_t *s, ec_range_req *r, unsigned shape);
void wg_block_resp(uint64_t *s, ec_block_resp *r, unsigned shape);
void wg_range_resp(uint64_t *s, ec_range_resp *r, unsigned shape);
void wg_refusal(uint64_t *s, ec_refusal *r, unsigned shape);
void wg_mapping_req(uint64_t *s, ec_mapping_req *r, unsigned shape);
void wg_tx_req(uint64_t *s, ec_tx_req *r, unsigned shape);
/* Peers with distinct random ids, addresses of random length. */
void wg_referral(uint64_t *s, ec_referral *r, unsigned shape);
void wg_hello(uint64_t *s, ec_hello *h, unsigned shape);

#endif
