/* fuzz_block_resp.c - libFuzzer target for ec_block_resp_decode (see
 * fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(block_resp)
FUZZ_DECODER(block_resp, ec_block_resp, wg_block_resp_eq, block_resp_extra,
	     ec_block_resp_free)
