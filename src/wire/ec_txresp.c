/* ec_txresp.c - transaction response codec (docs/PROTOCOL.md section 8): a
 * full transaction and where the responder's chain committed it. */
#include "wire/ec_wire_int.h"

static int tx_resp_check(const ec_tx_resp *r)
{
	if (r->position >= EC_BLOCK_MAX_TXS)
		return EC_ERR_VALUE;
	/* pending: no position, no confirmations */
	if (ec_id_is_zero(&r->commit_block) &&
	    (r->position != 0 || r->confirmations != 0))
		return EC_ERR_VALUE;
	return EC_OK;
}

int ec_tx_resp_write(ec_wbuf *w, const ec_tx_resp *r)
{
	int e = tx_resp_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_TX_RESP, r->nonce, &r->responder);
	ec_tx_write(w, &r->tx);
	ec_wbuf_id(w, &r->commit_block);
	ec_wbuf_u8(w, r->position);
	ec_wbuf_u64(w, r->confirmations);
	ec_wire_write_sig_tail(w, r->pk, r->sig);
	return w->err;
}

int ec_tx_resp_read(ec_cur *c, ec_tx_resp *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_TX_RESP, r->nonce, &r->responder);
	if (c->err == EC_OK)
		ec_tx_read(c, &r->tx);
	ec_cur_id(c, &r->commit_block);
	r->position = ec_cur_u8(c);
	r->confirmations = ec_cur_u64(c);
	ec_wire_read_sig_tail(c, r->pk, r->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, tx_resp_check(r));
	return c->err;
}

EC_WIRE_CODEC(tx_resp, ec_tx_resp)
EC_WIRE_SIGNED(tx_resp, ec_tx_resp, EC_TAG_TXRESP, pk, sig)
