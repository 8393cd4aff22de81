/* ec_buf.c - growable encode buffer (see ec_buf.h). */
#include "util/ec_buf.h"

#include <stdlib.h>

void ec_wbuf_init(ec_wbuf *w)
{
	w->p = NULL;
	w->len = 0;
	w->cap = 0;
	w->err = EC_OK;
}

void ec_wbuf_free(ec_wbuf *w)
{
	free(w->p);
	ec_wbuf_init(w);
}

uint8_t *ec_wbuf_extend(ec_wbuf *w, size_t len)
{
	uint8_t *r;
	if (w->err != EC_OK)
		return NULL;
	if (len > EC_MSG_MAX_BYTES * 4u || w->len + len > EC_MSG_MAX_BYTES * 4u) {
		w->err = EC_ERR_LIMIT;
		return NULL;
	}
	if (w->len + len > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		uint8_t *np;
		while (cap < w->len + len)
			cap *= 2;
		np = realloc(w->p, cap);
		if (!np) {
			w->err = EC_ERR_NOMEM;
			return NULL;
		}
		w->p = np;
		w->cap = cap;
	}
	r = w->p + w->len;
	w->len += len;
	return r;
}

void ec_wbuf_bytes(ec_wbuf *w, const void *p, size_t len)
{
	uint8_t *d = ec_wbuf_extend(w, len);
	if (d && len)
		memcpy(d, p, len);
}

void ec_wbuf_u8(ec_wbuf *w, uint8_t v)
{
	ec_wbuf_bytes(w, &v, 1);
}

void ec_wbuf_u16(ec_wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	ec_wbuf_bytes(w, b, 2);
}

void ec_wbuf_u32(ec_wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
			(uint8_t)v};
	ec_wbuf_bytes(w, b, 4);
}

void ec_wbuf_u64(ec_wbuf *w, uint64_t v)
{
	uint8_t b[8];
	ec_put_u64(b, v);
	ec_wbuf_bytes(w, b, 8);
}

int ec_wbuf_take(ec_wbuf *w, uint8_t **out, size_t *len)
{
	int err = w->err;
	if (err != EC_OK) {
		ec_wbuf_free(w);
		*out = NULL;
		*len = 0;
		return err;
	}
	*out = w->p;
	*len = w->len;
	ec_wbuf_init(w);
	return EC_OK;
}
