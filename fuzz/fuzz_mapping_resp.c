/* fuzz_mapping_resp.c - libFuzzer target for ec_mapping_resp_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(mapping_resp)
FUZZ_DECODER(mapping_resp, ec_mapping_resp, FUZZ_FLAT_EQ, mapping_resp_extra, FUZZ_NO_RELEASE)
