/* testutil.c - see testutil.h */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *tu_unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	assert_int_equal(strlen(hex) % 2, 0);
	assert_int_equal(ec_hex_decode(b, n, hex), EC_OK);
	*len = n;
	return b;
}

void tu_assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
	char *h = malloc(2 * len + 1);
	assert_non_null(h);
	ec_hex_encode(h, buf, len);
	assert_string_equal(h, hex);
	free(h);
}

uint64_t tu_rand_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void tu_rand_bytes(uint64_t *state, void *out, size_t len)
{
	uint8_t *p = out;
	while (len) {
		uint64_t v = tu_rand_u64(state);
		size_t k = len < 8 ? len : 8;
		memcpy(p, &v, k);
		p += k;
		len -= k;
	}
}

size_t tu_frag_raw(uint8_t *out, uint64_t id, uint16_t index, uint16_t count,
		   uint32_t total, size_t len, uint8_t fill)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(id >> (56 - 8 * i));
	out[8] = (uint8_t)(index >> 8);
	out[9] = (uint8_t)index;
	out[10] = (uint8_t)(count >> 8);
	out[11] = (uint8_t)count;
	for (int i = 0; i < 4; i++)
		out[12 + i] = (uint8_t)(total >> (24 - 8 * i));
	memset(out + 16, fill, len);
	return 16 + len;
}
