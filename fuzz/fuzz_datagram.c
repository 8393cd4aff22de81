/* fuzz_datagram.c - libFuzzer target for the transport's datagram parser
 * and opener (transport.h, PROTOCOL 16), as the daemon runs them on every
 * received datagram: cheap header checks, key derivation from the claimed
 * sender key (receiver = kx seed 32x02, network 7), authentication, replay
 * window.  Invariants: a datagram that opens re-seals to the same bytes;
 * the replay window accepts each counter once. */
#include <stdlib.h>
#include <string.h>

#include "ec/crypto.h"
#include "ec/transport.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ec_kx_keypair self;
	static int ready;
	static ec_replay rw;
	static uint8_t out[EC_DGRAM_MAX_BYTES], again[EC_DGRAM_MAX_BYTES];
	ec_dgram_hdr h;
	ec_transport_keys k;
	size_t olen = 0, n2 = 0;
	if (!ready) {
		uint8_t seed[32];
		memset(seed, 2, sizeof seed);
		check(ec_crypto_init() == EC_OK);
		check(ec_kx_keypair_from_seed(&self, seed) == EC_OK);
		ready = 1;
	}
	if (ec_dgram_parse(&h, data, size) != EC_OK)
		return 0;
	check(size >= EC_DGRAM_OVERHEAD && size <= EC_DGRAM_MAX_BYTES);
	if (ec_transport_derive(&k, &self, h.sender, 7) != EC_OK)
		return 0;
	if (ec_dgram_open(out, &olen, k.rx, data, size) != EC_OK)
		return 0;
	check(olen == size - EC_DGRAM_OVERHEAD);
	/* the sender (whoever holds the peer secret) would have produced
	 * exactly these bytes: ChaCha20-Poly1305 is deterministic per nonce */
	{
		ec_transport_keys back;
		memcpy(back.tx, k.rx, 32);
		check(ec_dgram_seal_flags(again, sizeof again, &n2, back.tx, h.sender, h.counter,
					  h.flags, out, olen) == EC_OK);
		check(n2 == size && memcmp(again, data, size) == 0);
	}
	if (ec_replay_check(&rw, h.counter) == EC_OK) {
		ec_replay_accept(&rw, h.counter);
		check(ec_replay_check(&rw, h.counter) == EC_ERR_EXISTS);
	}
	return 0;
}
