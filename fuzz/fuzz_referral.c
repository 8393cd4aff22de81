/* fuzz_referral.c - libFuzzer target for ec_referral_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_DECODER(referral, ec_referral, FUZZ_FLAT_EQ, FUZZ_NO_RELEASE, FUZZ_NO_RELEASE)
