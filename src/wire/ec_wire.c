/* ec_wire.c - generic message helpers: type peeking, names, jump deltas,
 * digests of signed objects. */
#include "wire/ec_wire_int.h"

const uint64_t ec_jump_delta_ms[EC_JUMP_COUNT] = {
	60ull * 1000,                /* 1 minute */
	3600ull * 1000,              /* 1 hour */
	86400ull * 1000,             /* 1 day */
	7ull * 86400 * 1000,         /* 1 week */
	30ull * 86400 * 1000,        /* 1 month (30 days) */
};

static const struct {
	uint8_t type;
	const char *name;
} names[] = {
	{EC_MSG_TX, "tx"},
	{EC_MSG_VOTE, "vote"},
	{EC_MSG_BLOCK, "block"},
	{EC_MSG_PROOF, "proof"},
	{EC_MSG_MAPPING_RESP, "mapping_resp"},
	{EC_MSG_TX_RESP, "tx_resp"},
	{EC_MSG_BLOCK_REQ, "block_req"},
	{EC_MSG_BLOCK_RESP, "block_resp"},
	{EC_MSG_RANGE_REQ, "range_req"},
	{EC_MSG_RANGE_RESP, "range_resp"},
	{EC_MSG_REFUSAL, "refusal"},
	{EC_MSG_MAPPING_REQ, "mapping_req"},
	{EC_MSG_TX_REQ, "tx_req"},
	{EC_MSG_REFERRAL, "referral"},
	{EC_MSG_HELLO, "hello"},
	{EC_MSG_TXBATCH_REQ, "txbatch_req"},
	{EC_MSG_TXBATCH_RESP, "txbatch_resp"},
};

const char *ec_msg_name(uint8_t type)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].type == type)
			return names[i].name;
	return NULL;
}

int ec_msg_peek(const uint8_t *p, size_t n, uint8_t *type)
{
	if (n < 2)
		return EC_ERR_SHORT;
	if (!ec_msg_name(p[0]))
		return EC_ERR_TYPE;
	if (p[1] != EC_WIRE_VERSION &&
	    !(p[0] == EC_MSG_BLOCK && p[1] == EC_BLOCK_V2))
		return EC_ERR_VERSION;
	*type = p[0];
	return EC_OK;
}

int ec_wire_encode(ec_wire_writefn write, const void *obj, uint8_t **out,
		   size_t *len)
{
	ec_wbuf w;
	ec_wbuf_init(&w);
	(void)write(&w, obj);
	if (w.err == EC_OK && w.len > EC_MSG_MAX_BYTES)
		w.err = EC_ERR_LIMIT;
	return ec_wbuf_take(&w, out, len);
}

int ec_wire_decode(ec_wire_readfn read, ec_wire_freefn release, void *obj,
		   size_t objsize, const uint8_t *p, size_t n)
{
	ec_cur c;
	int r;
	if (n > EC_MSG_MAX_BYTES) {
		memset(obj, 0, objsize);
		return EC_ERR_LIMIT;
	}
	ec_cur_init(&c, p, n);
	(void)read(&c, obj);
	r = ec_cur_finish(&c);
	if (r != EC_OK && release)
		release(obj);
	return r;
}

int ec_wire_hash(ec_wire_writefn write, const void *obj, const char *tag,
		 size_t strip, ec_id *out)
{
	ec_wbuf w;
	int r;
	ec_wbuf_init(&w);
	(void)write(&w, obj);
	r = w.err;
	if (r == EC_OK) {
		if (w.len < strip)
			r = EC_ERR_ARG;
		else
			ec_hash(out, tag, w.p, w.len - strip);
	}
	ec_wbuf_free(&w);
	return r;
}

int ec_wire_signed_digest(ec_wire_writefn write, const void *obj,
			  const char *tag, ec_id *out)
{
	return ec_wire_hash(write, obj, tag, EC_SIG_BYTES, out);
}

int ec_wire_sign(ec_wire_writefn write, const void *obj, const char *tag,
		 uint8_t *pk, uint8_t *sig, const uint8_t sk[EC_SECKEY_BYTES])
{
	ec_id d;
	int r;
	memcpy(pk, sk + 32, EC_PUBKEY_BYTES); /* libsodium layout: seed || pk */
	r = ec_wire_signed_digest(write, obj, tag, &d);
	return r == EC_OK ? ec_sign_digest(sig, &d, sk) : r;
}

int ec_wire_verify(ec_wire_writefn write, const void *obj, const char *tag,
		   const uint8_t *pk, const uint8_t *sig)
{
	ec_id d;
	int r = ec_wire_signed_digest(write, obj, tag, &d);
	return r == EC_OK ? ec_verify_digest(sig, &d, pk) : r;
}
