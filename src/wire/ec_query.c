/* ec_query.c - the node core's unsigned query messages (docs/PROTOCOL.md
 * section 13a): token-mapping request, transaction request, referral. */
#include "wire/ec_wire_int.h"

/* ---- mapping request ---------------------------------------------------- */

int ec_mapping_req_write(ec_wbuf *w, const ec_mapping_req *r)
{
	if (r->flags & ~EC_MAPPING_WANT_EVIDENCE)
		return ec_wire_refuse(w, EC_ERR_VALUE);
	ec_wire_write_header(w, EC_MSG_MAPPING_REQ);
	ec_wbuf_bytes(w, r->nonce, EC_NONCE_BYTES);
	ec_wbuf_id(w, &r->token);
	ec_wbuf_u8(w, r->flags);
	return w->err;
}

int ec_mapping_req_read(ec_cur *c, ec_mapping_req *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_header(c, EC_MSG_MAPPING_REQ);
	ec_cur_bytes(c, r->nonce, EC_NONCE_BYTES);
	ec_cur_id(c, &r->token);
	r->flags = ec_cur_u8(c);
	if (c->err == EC_OK && (r->flags & ~EC_MAPPING_WANT_EVIDENCE))
		ec_cur_fail(c, EC_ERR_VALUE);
	return c->err;
}

EC_WIRE_CODEC(mapping_req, ec_mapping_req)

/* ---- transaction request ------------------------------------------------ */

int ec_tx_req_write(ec_wbuf *w, const ec_tx_req *r)
{
	ec_wire_write_header(w, EC_MSG_TX_REQ);
	ec_wbuf_bytes(w, r->nonce, EC_NONCE_BYTES);
	ec_wbuf_id(w, &r->txid);
	return w->err;
}

int ec_tx_req_read(ec_cur *c, ec_tx_req *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_header(c, EC_MSG_TX_REQ);
	ec_cur_bytes(c, r->nonce, EC_NONCE_BYTES);
	ec_cur_id(c, &r->txid);
	return c->err;
}

EC_WIRE_CODEC(tx_req, ec_tx_req)

/* ---- peer addresses and referrals -------------------------------------- */

void ec_wire_write_addr(ec_wbuf *w, uint8_t len, const uint8_t *addr)
{
	ec_wbuf_u8(w, len);
	ec_wbuf_bytes(w, addr, len);
}

int ec_wire_addr_check(uint8_t len, const uint8_t *addr)
{
	if (len > EC_ADDR_MAX)
		return EC_ERR_LIMIT;
	for (unsigned k = len; k < EC_ADDR_MAX; k++)
		if (addr[k])
			return EC_ERR_VALUE;
	return EC_OK;
}

int ec_wire_read_addr(ec_cur *c, uint8_t *len, uint8_t *addr)
{
	*len = (uint8_t)ec_cur_count8(c, 0, EC_ADDR_MAX);
	ec_cur_bytes(c, addr, *len);
	return c->err;
}

/* Limits first, as the decoder meets them while reading, so that a struct
 * breaking several rules gets the decoder's code from the writer too. */
static int referral_check(const ec_referral *r)
{
	if (r->n_peers > EC_REFERRAL_MAX)
		return EC_ERR_LIMIT;
	for (unsigned i = 0; i < r->n_peers; i++)
		if (r->peers[i].addr_len > EC_ADDR_MAX)
			return EC_ERR_LIMIT;
	for (unsigned i = 0; i < r->n_peers; i++) {
		for (unsigned j = 0; j < i; j++)
			if (ec_id_eq(&r->peers[i].peer, &r->peers[j].peer))
				return EC_ERR_ORDER;
		if (ec_wire_addr_check(r->peers[i].addr_len, r->peers[i].addr))
			return EC_ERR_VALUE; /* len checked above */
	}
	return EC_OK;
}

int ec_referral_write(ec_wbuf *w, const ec_referral *r)
{
	int e = referral_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_REFERRAL, r->nonce, &r->responder);
	ec_wbuf_id(w, &r->target);
	ec_wbuf_u8(w, r->n_peers);
	for (unsigned i = 0; i < r->n_peers; i++) {
		ec_wbuf_id(w, &r->peers[i].peer);
		ec_wire_write_addr(w, r->peers[i].addr_len, r->peers[i].addr);
	}
	return w->err;
}

int ec_referral_read(ec_cur *c, ec_referral *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_REFERRAL, r->nonce, &r->responder);
	ec_cur_id(c, &r->target);
	r->n_peers = (uint8_t)ec_cur_count8(c, 0, EC_REFERRAL_MAX);
	for (unsigned i = 0; c->err == EC_OK && i < r->n_peers; i++) {
		ec_cur_id(c, &r->peers[i].peer);
		ec_wire_read_addr(c, &r->peers[i].addr_len, r->peers[i].addr);
	}
	if (c->err == EC_OK)
		ec_cur_check(c, referral_check(r));
	return c->err;
}

EC_WIRE_CODEC(referral, ec_referral)
