/* fuzz_mapping_req.c - libFuzzer target for ec_mapping_req_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_DECODER(mapping_req, ec_mapping_req, FUZZ_FLAT_EQ, FUZZ_NO_RELEASE, FUZZ_NO_RELEASE)
