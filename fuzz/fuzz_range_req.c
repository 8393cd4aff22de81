/* fuzz_range_req.c - libFuzzer target for ec_range_req_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(range_req)
FUZZ_DECODER(range_req, ec_range_req, FUZZ_FLAT_EQ, range_req_extra, FUZZ_NO_RELEASE)
