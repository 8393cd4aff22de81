/* ec_txbatch.c - tx-batch request (0x1B) and response (0x1C) codecs
 * (docs/PROTOCOL.md section 13d): transaction bodies by id, up to 64 per
 * exchange, one signature per response instead of one per body. */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Smallest transaction encoding: header, timestamp, count, one entry,
 * signature count. */
#define TX_MIN_BYTES (2 + 8 + 1 + 96 + 1)

static int ids_unique(const ec_id *ids, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (ec_id_eq(&ids[i], &ids[j]))
				return 0;
	return 1;
}

/* ---- request ------------------------------------------------------------- */

static int req_check(const ec_txbatch_req *r)
{
	if (r->n > EC_TXBATCH_MAX)
		return EC_ERR_LIMIT;
	if (r->n == 0)
		return EC_ERR_VALUE;
	return ids_unique(r->txids, r->n) ? EC_OK : EC_ERR_ORDER;
}

int ec_txbatch_req_write(ec_wbuf *w, const ec_txbatch_req *r)
{
	int e = req_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_header(w, EC_MSG_TXBATCH_REQ);
	ec_wbuf_bytes(w, r->nonce, EC_NONCE_BYTES);
	ec_wbuf_u8(w, r->n);
	for (unsigned i = 0; i < r->n; i++)
		ec_wbuf_id(w, &r->txids[i]);
	return w->err;
}

int ec_txbatch_req_read(ec_cur *c, ec_txbatch_req *r)
{
	unsigned n;
	memset(r, 0, sizeof *r);
	ec_wire_read_header(c, EC_MSG_TXBATCH_REQ);
	ec_cur_bytes(c, r->nonce, EC_NONCE_BYTES);
	n = ec_cur_count8(c, 1, EC_TXBATCH_MAX);
	r->n = (uint8_t)n;
	for (unsigned i = 0; i < n && c->err == EC_OK; i++)
		ec_cur_id(c, &r->txids[i]);
	if (c->err == EC_OK)
		ec_cur_check(c, req_check(r));
	if (c->err != EC_OK)
		r->n = 0;
	return c->err;
}

EC_WIRE_CODEC(txbatch_req, ec_txbatch_req)

/* ---- response ------------------------------------------------------------ */

static unsigned popcount64(uint64_t v)
{
	unsigned k = 0;
	for (; v; v &= v - 1)
		k++;
	return k;
}

static int resp_check(const ec_txbatch_resp *r)
{
	if (r->n_asked > EC_TXBATCH_MAX)
		return EC_ERR_LIMIT;
	if (r->n_asked == 0)
		return EC_ERR_VALUE;
	if (r->n_asked < 64 && (r->missing >> r->n_asked))
		return EC_ERR_VALUE; /* bits past the asked ids */
	if (r->n_txs != r->n_asked - popcount64(r->missing))
		return EC_ERR_VALUE;
	if (r->n_txs && !r->txs)
		return EC_ERR_ARG;
	return EC_OK;
}

int ec_txbatch_resp_write(ec_wbuf *w, const ec_txbatch_resp *r)
{
	int e = resp_check(r);
	if (e != EC_OK)
		return ec_wire_refuse(w, e);
	ec_wire_write_resp_head(w, EC_MSG_TXBATCH_RESP, r->nonce, &r->responder);
	ec_wbuf_u8(w, r->n_asked);
	ec_wbuf_u64(w, r->missing);
	for (unsigned i = 0; i < r->n_txs && w->err == EC_OK; i++)
		if (ec_tx_write(w, &r->txs[i]) != EC_OK)
			return w->err;
	ec_wire_write_sig_tail(w, r->pk, r->sig);
	return w->err;
}

void ec_txbatch_resp_free(ec_txbatch_resp *r)
{
	if (!r)
		return;
	free(r->txs);
	r->txs = NULL;
	r->n_txs = 0;
}

int ec_txbatch_resp_read(ec_cur *c, ec_txbatch_resp *r)
{
	unsigned n_asked, n;
	memset(r, 0, sizeof *r);
	ec_wire_read_resp_head(c, EC_MSG_TXBATCH_RESP, r->nonce, &r->responder);
	n_asked = ec_cur_count8(c, 1, EC_TXBATCH_MAX);
	r->n_asked = (uint8_t)n_asked;
	r->missing = ec_cur_u64(c);
	if (c->err == EC_OK && n_asked < 64 && (r->missing >> n_asked))
		ec_cur_fail(c, EC_ERR_VALUE);
	n = c->err == EC_OK ? n_asked - popcount64(r->missing) : 0;
	ec_cur_need(c, n, TX_MIN_BYTES);
	if (c->err == EC_OK && n) {
		r->txs = calloc(n, sizeof *r->txs);
		if (!r->txs)
			ec_cur_fail(c, EC_ERR_NOMEM);
		else
			r->n_txs = (uint8_t)n;
	}
	for (unsigned i = 0; i < r->n_txs && c->err == EC_OK; i++)
		(void)ec_tx_read(c, &r->txs[i]);
	ec_wire_read_sig_tail(c, r->pk, r->sig);
	if (c->err == EC_OK)
		ec_cur_check(c, resp_check(r));
	if (c->err != EC_OK)
		ec_txbatch_resp_free(r);
	return c->err;
}

static void txbatch_resp_release(void *r)
{
	ec_txbatch_resp_free(r);
}

EC_WIRE_CODEC_FREE(txbatch_resp, ec_txbatch_resp, txbatch_resp_release)
EC_WIRE_SIGNED(txbatch_resp, ec_txbatch_resp, EC_TAG_TXBATCH, pk, sig)
