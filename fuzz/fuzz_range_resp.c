/* fuzz_range_resp.c - libFuzzer target for ec_range_resp_decode (see
 * fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(range_resp)
FUZZ_DECODER(range_resp, ec_range_resp, wg_range_resp_eq, range_resp_extra,
	     ec_range_resp_free)
