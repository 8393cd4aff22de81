/* fuzz_hello.c - libFuzzer target for ec_hello_decode (see fuzz_common.h). */
#include "fuzz_common.h"

FUZZ_SIGNED_EXTRA(hello)
FUZZ_DECODER(hello, ec_hello, FUZZ_FLAT_EQ, hello_extra, FUZZ_NO_RELEASE)
