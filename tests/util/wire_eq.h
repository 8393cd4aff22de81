/* wire_eq.h - field-by-field equality of the wire objects that hold
 * pointers (1 = equal), shared by the unit tests and the fuzz targets
 * (header-only: the fuzz targets link only libec).  Flat objects compare
 * with memcmp: generators and decoders zero them before filling. */
#ifndef EC_WIRE_EQ_H
#define EC_WIRE_EQ_H

#include <string.h>

#include "ec/wire.h"

static inline int wg_proof_eq(const ec_proof *a, const ec_proof *b)
{
	if (a->n_txs != b->n_txs)
		return 0;
	for (unsigned i = 0; i < a->n_txs && i < EC_BLOCK_MAX_TXS; i++) {
		const ec_proof_tx *x = &a->txs[i], *y = &b->txs[i];
		if (!ec_id_eq(&x->txid, &y->txid) || x->n_votes != y->n_votes)
			return 0;
		if (x->n_votes &&
		    memcmp(x->votes, y->votes, x->n_votes * sizeof *x->votes))
			return 0;
	}
	return 1;
}

/* Equal blocks, has_proof flags and (when present) proofs. */
static inline int wg_block_proof_eq(const ec_block *ba, uint8_t ha,
				    const ec_proof *pa, const ec_block *bb,
				    uint8_t hb, const ec_proof *pb)
{
	return memcmp(ba, bb, sizeof *ba) == 0 && ha == hb &&
	       (!ha || wg_proof_eq(pa, pb));
}

static inline int wg_block_resp_eq(const ec_block_resp *a,
				   const ec_block_resp *b)
{
	return memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 &&
	       ec_id_eq(&a->responder, &b->responder) &&
	       wg_block_proof_eq(&a->block, a->has_proof, &a->proof, &b->block,
				 b->has_proof, &b->proof) &&
	       a->n_endorse == b->n_endorse &&
	       memcmp(a->endorse, b->endorse, sizeof a->endorse) == 0 &&
	       memcmp(a->pk, b->pk, sizeof a->pk) == 0 &&
	       memcmp(a->sig, b->sig, sizeof a->sig) == 0;
}

static inline int wg_range_resp_eq(const ec_range_resp *a,
				   const ec_range_resp *b)
{
	if (memcmp(a->nonce, b->nonce, sizeof a->nonce) ||
	    !ec_id_eq(&a->responder, &b->responder) ||
	    !ec_id_eq(&a->start, &b->start) || a->n_items != b->n_items ||
	    a->complete != b->complete || memcmp(a->pk, b->pk, sizeof a->pk) ||
	    memcmp(a->sig, b->sig, sizeof a->sig))
		return 0;
	for (unsigned i = 0; i < a->n_items; i++) {
		const ec_range_item *x = &a->items[i], *y = &b->items[i];
		if (!wg_block_proof_eq(&x->block, x->has_proof, &x->proof,
				       &y->block, y->has_proof, &y->proof))
			return 0;
	}
	return 1;
}

#endif
