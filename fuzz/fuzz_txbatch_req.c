/* fuzz_txbatch_req.c - libFuzzer target for ec_txbatch_req_decode (see
 * fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_DECODER(txbatch_req, ec_txbatch_req, FUZZ_FLAT_EQ, FUZZ_NO_RELEASE,
	     FUZZ_NO_RELEASE)
