/* fuzz_proof.c - libFuzzer target for ec_proof_decode (see fuzz_common.h);
 * the proof hash is the tagged hash of the input. */
#include "fuzz_common.h"

static void proof_extra(const ec_proof *p)
{
	ec_id h;
	fuzz_check(ec_proof_hash(p, &h) == EC_OK);
}

FUZZ_DECODER(proof, ec_proof, wg_proof_eq, proof_extra, ec_proof_free)
