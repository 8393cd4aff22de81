/* ec_refusal.c - refusal codec (docs/PROTOCOL.md section 13): the signed
 * answer to a request that is not served. */
#include "wire/ec_wire_int.h"

static int refusal_check(const ec_refusal *r)
{
	switch (r->request_type) {
	case EC_MSG_MAPPING_REQ:
	case EC_MSG_TX_REQ:
	case EC_MSG_BLOCK_REQ:
	case EC_MSG_RANGE_REQ:
	case EC_MSG_TXBATCH_REQ:
		break;
	default:
		return EC_ERR_VALUE;
	}
	if (r->reason < EC_REFUSE_RATE || r->reason > EC_REFUSE_BUSY)
		return EC_ERR_VALUE;
	return EC_OK;
}

int ec_refusal_write(ec_wbuf *w, const ec_refusal *r)
{
	int e = refusal_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_REFUSAL, r->nonce, &r->responder);
	ec_wbuf_u8(w, r->request_type);
	ec_wbuf_u8(w, r->reason);
	ec_wbuf_u32(w, r->retry_after_ms);
	ec_wire_write_sig_tail(w, r->pk, r->sig);
	return w->err;
}

int ec_refusal_read(ec_cur *c, ec_refusal *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_REFUSAL, r->nonce, &r->responder);
	r->request_type = ec_cur_u8(c);
	r->reason = ec_cur_u8(c);
	r->retry_after_ms = ec_cur_u32(c);
	ec_wire_read_sig_tail(c, r->pk, r->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, refusal_check(r));
	return c->err;
}

EC_WIRE_CODEC(refusal, ec_refusal)
EC_WIRE_SIGNED(refusal, ec_refusal, EC_TAG_REFUSAL, pk, sig)
