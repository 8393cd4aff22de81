/* ec_chainfile.c - codec of the chain file (docs/PROTOCOL.md section 14):
 * magic, record count, then per block its length-prefixed encoding and a
 * length-prefixed consensus proof.  Bytes <-> records only; no file I/O. */
#include <stdlib.h>

#include "ec/chainfile.h"
#include "wire/ec_wire_int.h"

#define MAGIC_BYTES 8
/* Smallest record: two lengths and a one-transaction block. */
#define MIN_RECORD (4 + EC_BLOCK_FIXED_BYTES + EC_HASH_BYTES + 4)

static void put_u32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

void ec_chainfile_write_header(ec_wbuf *w, uint32_t count)
{
	ec_wbuf_bytes(w, EC_CHAINFILE_MAGIC, MAGIC_BYTES);
	ec_wbuf_u32(w, count);
}

int ec_chainfile_write_record(ec_wbuf *w, const ec_block *b,
			      const uint8_t *proof, size_t proof_len)
{
	size_t start;
	if (w->err != EC_OK)
		return w->err;
	if ((proof_len && !proof) || proof_len > UINT32_MAX) {
		w->err = EC_ERR_ARG;
		return w->err;
	}
	start = w->len;
	ec_wbuf_u32(w, 0); /* patched below */
	if (ec_block_write(w, b) != EC_OK)
		return w->err;
	put_u32(w->p + start, (uint32_t)(w->len - start - 4));
	ec_wbuf_u32(w, (uint32_t)proof_len);
	if (proof_len)
		ec_wbuf_bytes(w, proof, proof_len);
	return w->err;
}

int ec_chainfile_encode(const ec_block *blocks,
			const ec_chainfile_span *proofs, size_t n,
			uint8_t **out, size_t *len)
{
	ec_wbuf w;
	if (!out || !len || (n && !blocks))
		return EC_ERR_ARG;
	if (n > UINT32_MAX)
		return EC_ERR_LIMIT;
	ec_wbuf_init(&w);
	ec_chainfile_write_header(&w, (uint32_t)n);
	for (size_t i = 0; i < n && w.err == EC_OK; i++)
		ec_chainfile_write_record(&w, &blocks[i],
					  proofs ? proofs[i].p : NULL,
					  proofs ? proofs[i].len : 0);
	return ec_wbuf_take(&w, out, len);
}

static int fail_at(ec_chainfile_err *err, size_t record, size_t offset, int e)
{
	if (err) {
		err->record = record;
		err->offset = offset;
		err->err = e;
	}
	return e;
}

int ec_chainfile_open(ec_chainfile_reader *r, const uint8_t *p, size_t n,
		      ec_chainfile_err *err)
{
	if (!r || (n && !p))
		return fail_at(err, EC_CHAINFILE_HEADER, 0, EC_ERR_ARG);
	memset(r, 0, sizeof *r);
	/* A prefix of the magic is a short file; anything else is not ours. */
	if (n && memcmp(p, EC_CHAINFILE_MAGIC, n < MAGIC_BYTES ? n : MAGIC_BYTES))
		return fail_at(err, EC_CHAINFILE_HEADER, 0, EC_ERR_FORMAT);
	if (n < EC_CHAINFILE_HEADER_BYTES)
		return fail_at(err, EC_CHAINFILE_HEADER, 0, EC_ERR_SHORT);
	r->p = p;
	r->n = n;
	r->count = get_u32(p + MAGIC_BYTES);
	r->off = EC_CHAINFILE_HEADER_BYTES;
	return fail_at(err, 0, 0, EC_OK);
}

int ec_chainfile_next(ec_chainfile_reader *r, ec_block *block,
		      ec_chainfile_span *proof, ec_chainfile_err *err)
{
	size_t start, left, blen, plen;
	int e;

	if (!r || !block || !r->p)
		return fail_at(err, 0, 0, EC_ERR_ARG);
	start = r->off;
	left = r->n - r->off;
	if (r->next == r->count) {
		if (left)
			return fail_at(err, r->next, start, EC_ERR_TRAILING);
		return fail_at(err, r->next, start, EC_ERR_NOTFOUND);
	}
	if (left < 4)
		return fail_at(err, r->next, start, EC_ERR_SHORT);
	blen = get_u32(r->p + start);
	left -= 4;
	if (blen > left)
		return fail_at(err, r->next, start, EC_ERR_SHORT);
	e = ec_block_decode(block, r->p + start + 4, blen);
	if (e != EC_OK)
		return fail_at(err, r->next, start, e);
	left -= blen;
	if (left < 4)
		return fail_at(err, r->next, start, EC_ERR_SHORT);
	plen = get_u32(r->p + start + 4 + blen);
	left -= 4;
	if (plen > left)
		return fail_at(err, r->next, start, EC_ERR_SHORT);
	if (plen) {
		/* a stored proof must be a well-formed proof of this block's
		 * transactions: a damaged length or body fails here, at its own
		 * record, not at the next one */
		ec_proof pr;
		e = ec_proof_decode(&pr, r->p + start + 8 + blen, plen);
		if (e == EC_OK && pr.n_txs != block->n_txs)
			e = EC_ERR_PROOF;
		for (unsigned i = 0; e == EC_OK && i < pr.n_txs; i++)
			if (!ec_id_eq(&pr.txs[i].txid, &block->txids[i]))
				e = EC_ERR_PROOF;
		ec_proof_free(&pr); /* safe after a failed decode too */
		if (e != EC_OK)
			return fail_at(err, r->next, start, e);
	}
	if (proof) {
		proof->p = plen ? r->p + start + 8 + blen : NULL;
		proof->len = plen;
	}
	r->off = start + 8 + blen + plen;
	r->next++;
	return fail_at(err, r->next - 1, start, EC_OK);
}

int ec_chainfile_decode(const uint8_t *p, size_t n, ec_block **blocks,
			ec_chainfile_span **proofs, size_t *count,
			ec_chainfile_err *err)
{
	ec_chainfile_reader r;
	ec_block *bs = NULL;
	ec_chainfile_span *ps = NULL;
	size_t k = 0, cap = 0;
	int e;

	if (!blocks || !count)
		return fail_at(err, EC_CHAINFILE_HEADER, 0, EC_ERR_ARG);
	*blocks = NULL;
	*count = 0;
	if (proofs)
		*proofs = NULL;
	if ((e = ec_chainfile_open(&r, p, n, err)) != EC_OK)
		return e;
	for (;;) {
		ec_block b;
		ec_chainfile_span s;
		e = ec_chainfile_next(&r, &b, &s, err);
		if (e == EC_ERR_NOTFOUND)
			break;
		if (e != EC_OK)
			goto out;
		/* The header's count is trusted for an allocation only as
		 * far as the input could hold that many records; past that
		 * the arrays grow as records decode. */
		if (k == cap) {
			size_t fit = (n - EC_CHAINFILE_HEADER_BYTES) / MIN_RECORD;
			size_t nc = cap ? cap * 2
					: (r.count < fit ? r.count : fit);
			if (nc == 0)
				nc = 1;
			ec_block *nb = realloc(bs, nc * sizeof *nb);
			ec_chainfile_span *np;
			if (!nb) {
				e = fail_at(err, k, r.off, EC_ERR_NOMEM);
				goto out;
			}
			bs = nb;
			np = proofs ? realloc(ps, nc * sizeof *np) : NULL;
			if (proofs && !np) {
				e = fail_at(err, k, r.off, EC_ERR_NOMEM);
				goto out;
			}
			ps = np;
			cap = nc;
		}
		bs[k] = b;
		if (proofs)
			ps[k] = s;
		k++;
	}
	*blocks = bs;
	*count = k;
	if (proofs)
		*proofs = ps;
	return fail_at(err, k, n, EC_OK);
out:
	free(bs);
	free(ps);
	return e;
}
