/* fuzz_tx.c - libFuzzer target for ec_tx_decode (see fuzz_common.h); the
 * decoded id is the hash of the input and the signing digest is defined. */
#include "fuzz_common.h"

static void tx_extra(const ec_tx *tx)
{
	ec_tx copy = *tx;
	ec_id d;
	fuzz_check(ec_tx_sig_digest(tx, &d) == EC_OK);
	memset(&copy.id, 0, sizeof copy.id);
	fuzz_check(ec_tx_finalize(&copy) == EC_OK);
	fuzz_check(ec_id_eq(&copy.id, &tx->id));
}

FUZZ_DECODER(tx, ec_tx, FUZZ_FLAT_EQ, tx_extra, FUZZ_NO_RELEASE)
