/* ec_wire_int.h - helpers shared by the codecs in src/wire (internal). */
#ifndef EC_WIRE_INT_H
#define EC_WIRE_INT_H

#include "ec/crypto.h"
#include "ec/wire.h"
#include "util/ec_buf.h"

/* Reads and checks the type and version bytes. */
static inline void ec_wire_read_header(ec_cur *c, uint8_t type)
{
	uint8_t t = ec_cur_u8(c);
	uint8_t v = ec_cur_u8(c);
	if (c->err != EC_OK)
		return;
	if (t != type)
		ec_cur_fail(c, EC_ERR_TYPE);
	else if (v != EC_WIRE_VERSION)
		ec_cur_fail(c, EC_ERR_VERSION);
}

static inline void ec_wire_write_header(ec_wbuf *w, uint8_t type)
{
	ec_wbuf_u8(w, type);
	ec_wbuf_u8(w, EC_WIRE_VERSION);
}

static inline void ec_cur_id(ec_cur *c, ec_id *id)
{
	ec_cur_bytes(c, id->b, EC_HASH_BYTES);
}

static inline void ec_wbuf_id(ec_wbuf *w, const ec_id *id)
{
	ec_wbuf_bytes(w, id->b, EC_HASH_BYTES);
}

/* Responses open with type, version, the requester's nonce and the
 * responder's peer id. */
static inline void ec_wire_write_resp_head(ec_wbuf *w, uint8_t type,
					   const uint8_t *nonce,
					   const ec_id *responder)
{
	ec_wire_write_header(w, type);
	ec_wbuf_bytes(w, nonce, EC_NONCE_BYTES);
	ec_wbuf_id(w, responder);
}

static inline void ec_wire_read_resp_head(ec_cur *c, uint8_t type,
					  uint8_t *nonce, ec_id *responder)
{
	ec_wire_read_header(c, type);
	ec_cur_bytes(c, nonce, EC_NONCE_BYTES);
	ec_cur_id(c, responder);
}

/* Signed objects close with the signer's key and the signature. */
static inline void ec_wire_write_sig_tail(ec_wbuf *w, const uint8_t *pk,
					  const uint8_t *sig)
{
	ec_wbuf_bytes(w, pk, EC_PUBKEY_BYTES);
	ec_wbuf_bytes(w, sig, EC_SIG_BYTES);
}

static inline void ec_wire_read_sig_tail(ec_cur *c, uint8_t *pk, uint8_t *sig)
{
	ec_cur_bytes(c, pk, EC_PUBKEY_BYTES);
	ec_cur_bytes(c, sig, EC_SIG_BYTES);
}

typedef int (*ec_wire_writefn)(ec_wbuf *, const void *);
typedef int (*ec_wire_readfn)(ec_cur *, void *);
typedef void (*ec_wire_freefn)(void *);

/* Records a writer's refusal in the buffer (sticky) and returns it. */
static inline int ec_wire_refuse(ec_wbuf *w, int err)
{
	if (w->err == EC_OK)
		w->err = err;
	return err;
}

/* Records a structural-check result in the cursor unless it is EC_OK. */
static inline void ec_cur_check(ec_cur *c, int err)
{
	if (err != EC_OK)
		ec_cur_fail(c, err);
}

/* Reads a u8 / u16 count: EC_ERR_LIMIT over max (checked before the caller
 * reads or allocates the array), EC_ERR_VALUE under min.  Returns 0 on any
 * error so that loops over the count stay bounded. */
static inline unsigned ec_cur_count(ec_cur *c, unsigned v, unsigned min,
				    unsigned max)
{
	if (c->err != EC_OK)
		return 0;
	if (v > max || v < min) {
		ec_cur_fail(c, v > max ? EC_ERR_LIMIT : EC_ERR_VALUE);
		return 0;
	}
	return v;
}
#define ec_cur_count8(c, min, max) ec_cur_count(c, ec_cur_u8(c), min, max)
#define ec_cur_count16(c, min, max) ec_cur_count(c, ec_cur_u16(c), min, max)

/* Fails with EC_ERR_SHORT unless n items of at least min_bytes each can
 * still follow: an attacker's count never buys an allocation the input
 * cannot fill. */
static inline void ec_cur_need(ec_cur *c, size_t n, size_t min_bytes)
{
	if (c->err == EC_OK && c->n / min_bytes < n)
		ec_cur_fail(c, EC_ERR_SHORT);
}

/* Peer address: u8 length (0..EC_ADDR_MAX) then that many bytes. */
/* A struct's address: EC_ERR_LIMIT if len > EC_ADDR_MAX, EC_ERR_VALUE if a
 * byte past len is not zero (one struct, one encoding), else EC_OK. */
int ec_wire_addr_check(uint8_t len, const uint8_t *addr);
void ec_wire_write_addr(ec_wbuf *w, uint8_t len, const uint8_t *addr);
int ec_wire_read_addr(ec_cur *c, uint8_t *len, uint8_t *addr);

/* _encode: writes into a fresh buffer; EC_ERR_LIMIT if the result would
 * exceed EC_MSG_MAX_BYTES. */
int ec_wire_encode(ec_wire_writefn write, const void *obj, uint8_t **out,
		   size_t *len);
/* _decode: strict top-level decode (EC_ERR_LIMIT for input over
 * EC_MSG_MAX_BYTES, EC_ERR_TRAILING for leftover bytes).  On any error
 * `release` (if not NULL) frees what the reader allocated; the object is
 * left zeroed or freeable. */
int ec_wire_decode(ec_wire_readfn read, ec_wire_freefn release, void *obj,
		   size_t objsize, const uint8_t *p, size_t n);

/* Defines ec_NAME_encode and ec_NAME_decode for type T from ec_NAME_write
 * and ec_NAME_read (RELEASE: NULL or a void (*)(void *) freeing T). */
#define EC_WIRE_CODEC_FREE(NAME, T, RELEASE)                                   \
	static int NAME##_write_any(ec_wbuf *w, const void *o)                 \
	{                                                                      \
		return ec_##NAME##_write(w, (const T *)o);                     \
	}                                                                      \
	static int NAME##_read_any(ec_cur *c, void *o)                         \
	{                                                                      \
		return ec_##NAME##_read(c, (T *)o);                            \
	}                                                                      \
	int ec_##NAME##_encode(const T *x, uint8_t **out, size_t *len)         \
	{                                                                      \
		return ec_wire_encode(NAME##_write_any, x, out, len);          \
	}                                                                      \
	int ec_##NAME##_decode(T *x, const uint8_t *p, size_t n)               \
	{                                                                      \
		return ec_wire_decode(NAME##_read_any, RELEASE, x, sizeof *x,  \
				      p, n);                                   \
	}
#define EC_WIRE_CODEC(NAME, T) EC_WIRE_CODEC_FREE(NAME, T, NULL)

/* H_tag(tag, encoding minus its last `strip` bytes). */
int ec_wire_hash(ec_wire_writefn write, const void *obj, const char *tag,
		 size_t strip, ec_id *out);
/* Digest of a signed object: H_tag(tag, encoding minus the trailing
 * signature).  `write` must end with the 64-byte signature. */
int ec_wire_signed_digest(ec_wire_writefn write, const void *obj,
			  const char *tag, ec_id *out);
/* Copies the public half of sk (libsodium layout: seed || pk) into pk,
 * then signs the digest into sig.  pk and sig lie inside obj. */
int ec_wire_sign(ec_wire_writefn write, const void *obj, const char *tag,
		 uint8_t *pk, uint8_t *sig, const uint8_t sk[EC_SECKEY_BYTES]);
/* EC_OK, EC_ERR_SIGNATURE, or the writer's refusal. */
int ec_wire_verify(ec_wire_writefn write, const void *obj, const char *tag,
		   const uint8_t *pk, const uint8_t *sig);

/* Defines ec_NAME_digest, _sign and _verify for a signed type T whose
 * public key and signature are the fields PK and SIG (uses the
 * NAME_write_any of EC_WIRE_CODEC). */
#define EC_WIRE_SIGNED(NAME, T, TAG, PK, SIG)                                  \
	int ec_##NAME##_digest(const T *x, ec_id *out)                         \
	{                                                                      \
		return ec_wire_signed_digest(NAME##_write_any, x, TAG, out);   \
	}                                                                      \
	int ec_##NAME##_sign(T *x, const uint8_t sk[64])                       \
	{                                                                      \
		return ec_wire_sign(NAME##_write_any, x, TAG, x->PK, x->SIG,   \
				    sk);                                       \
	}                                                                      \
	int ec_##NAME##_verify(const T *x)                                     \
	{                                                                      \
		return ec_wire_verify(NAME##_write_any, x, TAG, x->PK,         \
				      x->SIG);                                 \
	}

#endif
