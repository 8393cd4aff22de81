/* fuzz_tx_req.c - libFuzzer target for ec_tx_req_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_DECODER(tx_req, ec_tx_req, FUZZ_FLAT_EQ, FUZZ_NO_RELEASE, FUZZ_NO_RELEASE)
