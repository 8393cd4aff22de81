/* fuzz_block_resp.c - libFuzzer target for ec_block_resp_decode (see
 * fuzz_common.h). */
#include "fuzz_common.h"

static int block_resp_eq(const ec_block_resp *a, const ec_block_resp *b)
{
	return memcmp(a->nonce, b->nonce, sizeof a->nonce) == 0 &&
	       ec_id_eq(&a->responder, &b->responder) &&
	       fuzz_block_proof_eq(&a->block, a->has_proof, &a->proof,
				   &b->block, b->has_proof, &b->proof) &&
	       a->n_endorse == b->n_endorse &&
	       memcmp(a->endorse, b->endorse, sizeof a->endorse) == 0 &&
	       memcmp(a->pk, b->pk, sizeof a->pk) == 0 &&
	       memcmp(a->sig, b->sig, sizeof a->sig) == 0;
}

FUZZ_SIGNED_EXTRA(block_resp)
FUZZ_DECODER(block_resp, ec_block_resp, block_resp_eq, block_resp_extra,
	     ec_block_resp_free)
