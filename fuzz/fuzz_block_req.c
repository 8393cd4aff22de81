/* fuzz_block_req.c - libFuzzer target for ec_block_req_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(block_req)
FUZZ_DECODER(block_req, ec_block_req, FUZZ_FLAT_EQ, block_req_extra, FUZZ_NO_RELEASE)
