/* fuzz_refusal.c - libFuzzer target for ec_refusal_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(refusal)
FUZZ_DECODER(refusal, ec_refusal, FUZZ_FLAT_EQ, refusal_extra, FUZZ_NO_RELEASE)
