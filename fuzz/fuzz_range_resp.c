/* fuzz_range_resp.c - libFuzzer target for ec_range_resp_decode (see
 * fuzz_common.h). */
#include "fuzz_common.h"

static int range_resp_eq(const ec_range_resp *a, const ec_range_resp *b)
{
	if (memcmp(a->nonce, b->nonce, sizeof a->nonce) ||
	    !ec_id_eq(&a->responder, &b->responder) ||
	    !ec_id_eq(&a->start, &b->start) || a->n_items != b->n_items ||
	    a->complete != b->complete || memcmp(a->pk, b->pk, sizeof a->pk) ||
	    memcmp(a->sig, b->sig, sizeof a->sig))
		return 0;
	for (unsigned i = 0; i < a->n_items; i++)
		if (!fuzz_block_proof_eq(&a->items[i].block, a->items[i].has_proof,
					 &a->items[i].proof, &b->items[i].block,
					 b->items[i].has_proof, &b->items[i].proof))
			return 0;
	return 1;
}

FUZZ_SIGNED_EXTRA(range_resp)
FUZZ_DECODER(range_resp, ec_range_resp, range_resp_eq, range_resp_extra,
	     ec_range_resp_free)
