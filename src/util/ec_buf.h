/* ec_buf.h - byte cursors for strict decoding and growable buffers for
 * encoding.  Both use sticky errors: after the first failure every further
 * call is a no-op and the caller checks once at the end.
 */
#ifndef EC_UTIL_BUF_H
#define EC_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "ec/ec.h"

/* ---- reading ---------------------------------------------------------- */

typedef struct ec_cur {
	const uint8_t *p; /* next unread byte */
	size_t n;         /* bytes left */
	int err;          /* first error, EC_OK while fine */
} ec_cur;

static inline void ec_cur_init(ec_cur *c, const uint8_t *p, size_t n)
{
	c->p = p;
	c->n = n;
	c->err = EC_OK;
}

/* Records err unless an error is already recorded. */
static inline void ec_cur_fail(ec_cur *c, int err)
{
	if (c->err == EC_OK)
		c->err = err;
	c->n = 0;
}

/* Returns a pointer to the next len bytes and advances, or NULL (and
 * EC_ERR_SHORT) if fewer remain. */
static inline const uint8_t *ec_cur_take(ec_cur *c, size_t len)
{
	const uint8_t *r;
	if (c->err != EC_OK)
		return NULL;
	if (c->n < len) {
		ec_cur_fail(c, EC_ERR_SHORT);
		return NULL;
	}
	r = c->p;
	c->p += len;
	c->n -= len;
	return r;
}

static inline uint8_t ec_cur_u8(ec_cur *c)
{
	const uint8_t *b = ec_cur_take(c, 1);
	return b ? b[0] : 0;
}

static inline uint16_t ec_cur_u16(ec_cur *c)
{
	const uint8_t *b = ec_cur_take(c, 2);
	return b ? (uint16_t)((b[0] << 8) | b[1]) : 0;
}

static inline uint32_t ec_cur_u32(ec_cur *c)
{
	const uint8_t *b = ec_cur_take(c, 4);
	return b ? ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
			   ((uint32_t)b[2] << 8) | b[3]
		 : 0;
}

static inline uint64_t ec_cur_u64(ec_cur *c)
{
	uint64_t hi = ec_cur_u32(c);
	uint64_t lo = ec_cur_u32(c);
	return (hi << 32) | lo;
}

static inline void ec_cur_bytes(ec_cur *c, void *out, size_t len)
{
	const uint8_t *b = ec_cur_take(c, len);
	if (b)
		memcpy(out, b, len);
	else
		memset(out, 0, len);
}

/* Final check of a top-level decode: any earlier error, else
 * EC_ERR_TRAILING if bytes are left over. */
static inline int ec_cur_finish(ec_cur *c)
{
	if (c->err != EC_OK)
		return c->err;
	return c->n ? EC_ERR_TRAILING : EC_OK;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct ec_wbuf {
	uint8_t *p;
	size_t len;
	size_t cap;
	int err;
} ec_wbuf;

void ec_wbuf_init(ec_wbuf *w);
/* Frees the buffer's memory; the buffer may be reused after ec_wbuf_init. */
void ec_wbuf_free(ec_wbuf *w);
/* Makes room for len more bytes; returns a pointer to them or NULL. */
uint8_t *ec_wbuf_extend(ec_wbuf *w, size_t len);
void ec_wbuf_bytes(ec_wbuf *w, const void *p, size_t len);
void ec_wbuf_u8(ec_wbuf *w, uint8_t v);
void ec_wbuf_u16(ec_wbuf *w, uint16_t v);
void ec_wbuf_u32(ec_wbuf *w, uint32_t v);
void ec_wbuf_u64(ec_wbuf *w, uint64_t v);
/* Hands the bytes to the caller (who frees them) and resets the buffer.
 * Returns the sticky error; on error *out is NULL. */
int ec_wbuf_take(ec_wbuf *w, uint8_t **out, size_t *len);

/* Big-endian helpers for fixed buffers. */
static inline void ec_put_u64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		b[i] = (uint8_t)v;
		v >>= 8;
	}
}
static inline uint64_t ec_get_u64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

#endif
