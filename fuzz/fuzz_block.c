/* fuzz_block.c - libFuzzer target for ec_block_decode (see fuzz_common.h);
 * the decoded id equals the id recomputed from the fields. */
#include "fuzz_common.h"

static void block_extra(const ec_block *b)
{
	ec_id id;
	ec_block_compute_id(b, &id);
	fuzz_check(ec_id_eq(&id, &b->id));
}

FUZZ_DECODER(block, ec_block, FUZZ_FLAT_EQ, block_extra, FUZZ_NO_RELEASE)
