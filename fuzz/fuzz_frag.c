/* fuzz_frag.c - libFuzzer target for transport fragments and reassembly
 * (transport.h "fragments", PROTOCOL 16 "Fragments"), as the daemon runs
 * them on every authenticated fragment.  The input is a sequence of
 * records  u8 sender (low 2 bits: one of 4) || u8 time step (ms) ||
 * u16 length || fragment plaintext, fed to one ec_reasm with small limits.
 * Invariants: held messages and bytes never pass the limits, a completed
 * message is never over max_msg, and a message that completes has exactly
 * the bytes its fragments carried (checked by splitting the whole input as
 * a message, feeding the fragments backwards to a second reassembler and
 * comparing). */
#include <stdlib.h>
#include <string.h>

#include "ec/transport.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static ec_reasm *mk(void)
{
	ec_reasm_cfg c;
	ec_reasm *r;
	c.max_msg = 4096;
	c.max_partial_peer = 2;
	c.max_partial = 4;
	c.max_bytes_peer = 8192;
	c.max_bytes = 16384;
	c.timeout_ms = 100;
	check(ec_reasm_new(&r, &c) == EC_OK);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ec_reasm *r = mk();
	ec_reasm_stats st;
	uint8_t peer[32];
	uint64_t now = 1000;
	size_t i = 0;
	while (i + 4 <= size) {
		size_t len = (size_t)data[i + 2] << 8 | data[i + 3];
		uint8_t *m = NULL;
		size_t ml = 0;
		memset(peer, 0, sizeof peer);
		peer[0] = data[i] & 3;
		now += data[i + 1];
		i += 4;
		if (len > size - i)
			len = size - i;
		check(ec_reasm_add(r, peer, data + i, len, now, &m, &ml) == EC_OK);
		if (m) {
			check(ml >= 2 && ml <= 4096);
			free(m);
		}
		ec_reasm_get_stats(r, &st);
		check(st.held_msgs <= 4 && st.held_bytes <= 16384);
		i += len;
	}
	ec_reasm_free(r);

	/* the whole input as a message: split, fed backwards, equal */
	if (size >= 2 && size <= 4096) {
		size_t room = 16 + 1 + data[0] % 200, n = ec_frag_count(size, room), ml = 0;
		uint8_t f[16 + 256], *m = NULL;
		check(n >= 2);
		r = mk();
		for (size_t k = n; k-- > 0;) {
			size_t fl;
			check(ec_frag_make(f, sizeof f, &fl, 7, data, size, (uint16_t)k,
					   (uint16_t)n) == EC_OK);
			check(fl <= room);
			check(m == NULL);
			check(ec_reasm_add(r, peer, f, fl, 1, &m, &ml) == EC_OK);
		}
		check(m && ml == size && memcmp(m, data, size) == 0);
		free(m);
		ec_reasm_free(r);
	}
	return 0;
}
