/* testutil.h - small helpers shared by the unit tests. */
#ifndef EC_TESTUTIL_H
#define EC_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ec/ec.h"

/* Decodes a hex string literal into a fresh buffer (test aborts on bad hex).
 * *len receives the byte count. Caller frees. */
uint8_t *tu_unhex(const char *hex, size_t *len);
/* Fails the test unless buf equals the hex string. */
void tu_assert_hex(const uint8_t *buf, size_t len, const char *hex);
/* Deterministic pseudo-random bytes for tests (splitmix64 stream). */
void tu_rand_bytes(uint64_t *state, void *out, size_t len);
uint64_t tu_rand_u64(uint64_t *state);
/* A transport fragment plaintext with any header fields (a peer may write
 * any, PROTOCOL 16 "Fragments") and a chunk of len bytes of fill, into out
 * (room for 16 + len bytes); returns 16 + len. */
size_t tu_frag_raw(uint8_t *out, uint64_t id, uint16_t index, uint16_t count,
		   uint32_t total, size_t len, uint8_t fill);

#endif
