/* ec_block.c - commit block codec, id and signature (docs/PROTOCOL.md
 * "Commit block").  id = H_tag("ec/v1/block", encoding without the
 * signature); the signature signs the id (DESIGN.md). */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Fixed-buffer encoder: the hot path of block verification and chain
 * building uses it without allocating.  Returns the length written;
 * the caller has checked n_txs. */
size_t ec_block_encode_to(const ec_block *b, uint8_t *out)
{
	uint8_t *p = out;
	unsigned n = b->n_txs > EC_BLOCK_MAX_TXS ? EC_BLOCK_MAX_TXS : b->n_txs;
	*p++ = EC_MSG_BLOCK;
	*p++ = EC_WIRE_VERSION;
	memcpy(p, b->creator.b, 32), p += 32;
	ec_put_u64(p, b->height), p += 8;
	ec_put_u64(p, b->timestamp), p += 8;
	memcpy(p, b->prev.b, 32), p += 32;
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		memcpy(p, b->jumps[i].b, 32), p += 32;
	memcpy(p, b->merkle_root.b, 32), p += 32;
	memcpy(p, b->proof_hash.b, 32), p += 32;
	memcpy(p, b->signer_pk, 32), p += 32;
	*p++ = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		memcpy(p, b->txids[i].b, 32), p += 32;
	memcpy(p, b->sig, EC_SIG_BYTES), p += EC_SIG_BYTES;
	return (size_t)(p - out);
}

static int block_check_counts(const ec_block *b)
{
	if (b->n_txs == 0)
		return EC_ERR_VALUE;
	if (b->n_txs > EC_BLOCK_MAX_TXS)
		return EC_ERR_LIMIT;
	for (unsigned i = 1; i < b->n_txs; i++)
		for (unsigned j = 0; j < i; j++)
			if (ec_id_eq(&b->txids[i], &b->txids[j]))
				return EC_ERR_ORDER;
	return EC_OK;
}

int ec_block_write(ec_wbuf *w, const ec_block *b)
{
	uint8_t *p;
	int r = block_check_counts(b);
	if (r != EC_OK)
		return ec_wire_refuse(w, r);
	p = ec_wbuf_extend(w, EC_BLOCK_FIXED_BYTES + 32u * b->n_txs);
	if (p)
		ec_block_encode_to(b, p);
	return w->err;
}

int ec_block_read(ec_cur *c, ec_block *b)
{
	const uint8_t *start = c->p;
	int r;

	memset(b, 0, sizeof *b);
	ec_wire_read_header(c, EC_MSG_BLOCK);
	ec_cur_id(c, &b->creator);
	b->height = ec_cur_u64(c);
	b->timestamp = ec_cur_u64(c);
	ec_cur_id(c, &b->prev);
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		ec_cur_id(c, &b->jumps[i]);
	ec_cur_id(c, &b->merkle_root);
	ec_cur_id(c, &b->proof_hash);
	ec_cur_bytes(c, b->signer_pk, 32);
	b->n_txs = (uint8_t)ec_cur_count8(c, 1, EC_BLOCK_MAX_TXS);
	for (unsigned i = 0; c->err == EC_OK && i < b->n_txs; i++)
		ec_cur_id(c, &b->txids[i]);
	if (c->err == EC_OK)
		ec_hash(&b->id, EC_TAG_BLOCK, start, (size_t)(c->p - start));
	ec_cur_bytes(c, b->sig, EC_SIG_BYTES);
	if (c->err != EC_OK)
		return c->err;
	r = block_check_counts(b);
	ec_cur_check(c, r);
	return r;
}

EC_WIRE_CODEC(block, ec_block)

void ec_block_compute_id(const ec_block *b, ec_id *out)
{
	uint8_t buf[EC_BLOCK_MAX_BYTES];
	size_t len = ec_block_encode_to(b, buf);
	ec_hash(out, EC_TAG_BLOCK, buf, len - EC_SIG_BYTES);
}

int ec_block_sign(ec_block *b, const uint8_t sk[64])
{
	int r = block_check_counts(b);
	if (r != EC_OK)
		return r;
	memcpy(b->signer_pk, sk + 32, EC_PUBKEY_BYTES); /* libsodium layout */
	ec_block_compute_id(b, &b->id);
	return ec_sign_digest(b->sig, &b->id, sk);
}
