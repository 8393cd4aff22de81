/* fuzz_vote.c - libFuzzer target for ec_vote_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(vote)
FUZZ_DECODER(vote, ec_vote, FUZZ_FLAT_EQ, vote_extra, FUZZ_NO_RELEASE)
