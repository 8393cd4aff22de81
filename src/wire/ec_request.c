/* ec_request.c - block and range request codecs (docs/PROTOCOL.md sections
 * 9 and 11) and their shared signed trailer (requester, timestamp, nonce,
 * key, signature over H_tag("ec/v1/request", ...)). */
#include "wire/ec_wire_int.h"

static void auth_write(ec_wbuf *w, const ec_req_auth *a)
{
	ec_wbuf_id(w, &a->requester);
	ec_wbuf_u64(w, a->timestamp);
	ec_wbuf_bytes(w, a->nonce, EC_NONCE_BYTES);
	ec_wire_write_sig_tail(w, a->pk, a->sig);
}

static void auth_read(ec_cur *c, ec_req_auth *a)
{
	ec_cur_id(c, &a->requester);
	a->timestamp = ec_cur_u64(c);
	ec_cur_bytes(c, a->nonce, EC_NONCE_BYTES);
	ec_wire_read_sig_tail(c, a->pk, a->sig);
}

static int priority_check(uint8_t p)
{
	return p >= EC_PRIO_SYNC && p <= EC_PRIO_HISTORICAL ? EC_OK
							    : EC_ERR_VALUE;
}

/* ---- block request ------------------------------------------------------ */

int ec_block_req_write(ec_wbuf *w, const ec_block_req *r)
{
	int e = priority_check(r->priority);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_header(w, EC_MSG_BLOCK_REQ);
	ec_wbuf_id(w, &r->block_id);
	ec_wbuf_u8(w, r->priority);
	auth_write(w, &r->auth);
	return w->err;
}

int ec_block_req_read(ec_cur *c, ec_block_req *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_header(c, EC_MSG_BLOCK_REQ);
	ec_cur_id(c, &r->block_id);
	r->priority = ec_cur_u8(c);
	auth_read(c, &r->auth);
	if (c->err == EC_OK)
		ec_cur_check(c, priority_check(r->priority));
	return c->err;
}

EC_WIRE_CODEC(block_req, ec_block_req)
EC_WIRE_SIGNED(block_req, ec_block_req, EC_TAG_REQUEST, auth.pk, auth.sig)

/* ---- range request ------------------------------------------------------ */

static int range_req_check(const ec_range_req *r)
{
	if (r->max_blocks > EC_RANGE_MAX_BLOCKS)
		return EC_ERR_LIMIT;
	if (r->max_blocks == 0 || r->max_bytes < EC_RANGE_MIN_MAX_BYTES ||
	    r->max_bytes > EC_MSG_MAX_BYTES ||
	    (r->flags & ~EC_RANGE_WITH_PROOFS) != 0)
		return EC_ERR_VALUE;
	return priority_check(r->priority);
}

int ec_range_req_write(ec_wbuf *w, const ec_range_req *r)
{
	int e = range_req_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_header(w, EC_MSG_RANGE_REQ);
	ec_wbuf_id(w, &r->start);
	ec_wbuf_id(w, &r->stop);
	ec_wbuf_u16(w, r->max_blocks);
	ec_wbuf_u32(w, r->max_bytes);
	ec_wbuf_u8(w, r->flags);
	ec_wbuf_u8(w, r->priority);
	auth_write(w, &r->auth);
	return w->err;
}

int ec_range_req_read(ec_cur *c, ec_range_req *r)
{
	memset(r, 0, sizeof *r);
	ec_wire_read_header(c, EC_MSG_RANGE_REQ);
	ec_cur_id(c, &r->start);
	ec_cur_id(c, &r->stop);
	r->max_blocks = ec_cur_u16(c);
	r->max_bytes = ec_cur_u32(c);
	r->flags = ec_cur_u8(c);
	r->priority = ec_cur_u8(c);
	auth_read(c, &r->auth);
	if (c->err == EC_OK)
		ec_cur_check(c, range_req_check(r));
	return c->err;
}

EC_WIRE_CODEC(range_req, ec_range_req)
EC_WIRE_SIGNED(range_req, ec_range_req, EC_TAG_REQUEST, auth.pk, auth.sig)
