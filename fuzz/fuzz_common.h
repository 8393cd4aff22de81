/* fuzz_common.h - the body shared by every decoder fuzz target: decode the
 * input; when it is accepted it must be canonical (re-encoding gives the
 * input byte for byte), decode again to an equal object, and survive the
 * object's own derived computations.  abort() marks a broken invariant. */
#ifndef EC_FUZZ_COMMON_H
#define EC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec/crypto.h"
#include "ec/wire.h"
#include "wire_eq.h" /* tests/util */

static inline void fuzz_init(void)
{
	static int ready;
	if (!ready) {
		if (ec_crypto_init() != EC_OK)
			abort();
		ready = 1;
	}
}

static inline void fuzz_check(int ok)
{
	if (!ok)
		abort();
}

/* Decodes into a, checks canonical form, decodes the re-encoding into b and
 * compares with EQ(&a, &b), runs EXTRA(&a) (derived values, may abort) and
 * frees both with RELEASE.  The objects live on the heap: some are large. */
#define FUZZ_DECODER(NAME, T, EQ, EXTRA, RELEASE)                              \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)           \
	{                                                                      \
		T *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);        \
		uint8_t *out = NULL;                                           \
		size_t len = 0;                                                \
		fuzz_init();                                                   \
		fuzz_check(a && b);                                            \
		if (ec_##NAME##_decode(a, data, size) == EC_OK) {              \
			fuzz_check(ec_##NAME##_encode(a, &out, &len) == EC_OK); \
			fuzz_check(len == size && memcmp(out, data, size) == 0); \
			fuzz_check(ec_##NAME##_decode(b, out, len) == EC_OK);  \
			fuzz_check(EQ(a, b));                                  \
			EXTRA(a);                                              \
			RELEASE(a);                                            \
			RELEASE(b);                                            \
		}                                                              \
		free(out);                                                     \
		free(a);                                                       \
		free(b);                                                       \
		return 0;                                                      \
	}

/* Flat objects: decoders zero the struct first, so memcmp compares fields. */
#define FUZZ_FLAT_EQ(a, b) (memcmp((a), (b), sizeof *(a)) == 0)
#define FUZZ_NO_RELEASE(a) ((void)(a))

/* A signed object's digest is defined for every decodable object. */
#define FUZZ_SIGNED_EXTRA(NAME)                                                \
	static void NAME##_extra(const ec_##NAME *x)                           \
	{                                                                      \
		ec_id d;                                                       \
		fuzz_check(ec_##NAME##_digest(x, &d) == EC_OK);                \
	}

#endif
