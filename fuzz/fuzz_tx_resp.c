/* fuzz_tx_resp.c - libFuzzer target for ec_tx_resp_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(tx_resp)
FUZZ_DECODER(tx_resp, ec_tx_resp, FUZZ_FLAT_EQ, tx_resp_extra, FUZZ_NO_RELEASE)
