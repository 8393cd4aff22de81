/* fuzz_txbatch_resp.c - libFuzzer target for ec_txbatch_resp_decode (see
 * fuzz_common.h): accepted input is canonical, decodes again to the same
 * fields and bodies (each body's derived id included), has a digest, and
 * every body it carries is a canonical transaction of its own. */
#include "fuzz_common.h"

static int txbatch_resp_eq(const ec_txbatch_resp *a, const ec_txbatch_resp *b)
{
	if (memcmp(a->nonce, b->nonce, sizeof a->nonce) || !ec_id_eq(&a->responder, &b->responder) ||
	    a->n_asked != b->n_asked || a->missing != b->missing || a->n_txs != b->n_txs ||
	    memcmp(a->pk, b->pk, sizeof a->pk) || memcmp(a->sig, b->sig, sizeof a->sig))
		return 0;
	for (unsigned i = 0; i < a->n_txs; i++)
		if (memcmp(&a->txs[i], &b->txs[i], sizeof a->txs[i]))
			return 0;
	return 1;
}

static void txbatch_resp_extra(const ec_txbatch_resp *x)
{
	ec_id d;
	fuzz_check(ec_txbatch_resp_digest(x, &d) == EC_OK);
	for (unsigned i = 0; i < x->n_txs; i++) {
		uint8_t *e = NULL;
		size_t n = 0;
		ec_tx t;
		fuzz_check(ec_tx_encode(&x->txs[i], &e, &n) == EC_OK);
		fuzz_check(ec_tx_decode(&t, e, n) == EC_OK);
		fuzz_check(ec_id_eq(&t.id, &x->txs[i].id));
		free(e);
	}
}

FUZZ_DECODER(txbatch_resp, ec_txbatch_resp, txbatch_resp_eq, txbatch_resp_extra,
	     ec_txbatch_resp_free)
