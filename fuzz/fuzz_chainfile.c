/* fuzz_chainfile.c - libFuzzer target for ec_chainfile_decode (chain files,
 * docs/PROTOCOL.md section 14): an accepted file must be canonical
 * (re-encoding its records gives the input byte for byte), and a rejected
 * one must name a record within the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec/chainfile.h"
#include "ec/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	ec_block *blocks = NULL;
	ec_chainfile_span *proofs = NULL;
	ec_chainfile_err err;
	size_t n = 0;
	if (!ready) {
		if (ec_crypto_init() != EC_OK)
			abort();
		ready = 1;
	}
	if (ec_chainfile_decode(data, size, &blocks, &proofs, &n, &err) == EC_OK) {
		uint8_t *out = NULL;
		size_t len = 0;
		if (ec_chainfile_encode(blocks, proofs, n, &out, &len) != EC_OK ||
		    len != size || memcmp(out, data, size) != 0)
			abort();
		free(out);
	} else if (err.record != EC_CHAINFILE_HEADER && err.offset > size) {
		abort();
	}
	free(blocks);
	free(proofs);
	return 0;
}
