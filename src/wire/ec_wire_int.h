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

/* Encodes with `write` into a fresh buffer and returns it (for _encode). */
#define EC_WIRE_ENCODE_WITH(writefn, obj, out, len)                            \
	do {                                                                   \
		ec_wbuf w_;                                                    \
		ec_wbuf_init(&w_);                                             \
		(void)writefn(&w_, obj);                                       \
		return ec_wbuf_take(&w_, out, len);                            \
	} while (0)

/* Strict top-level decode with `read`. */
#define EC_WIRE_DECODE_WITH(readfn, obj, p, n)                                 \
	do {                                                                   \
		ec_cur c_;                                                     \
		ec_cur_init(&c_, p, n);                                        \
		(void)readfn(&c_, obj);                                        \
		return ec_cur_finish(&c_);                                     \
	} while (0)

/* Digest of a signed object: H_tag(tag, encoding minus the trailing
 * signature).  `write` must end with the 64-byte signature. */
int ec_wire_signed_digest(int (*write)(ec_wbuf *, const void *),
			  const void *obj, const char *tag, ec_id *out);

#endif
