/* ec_block.c - commit block codec (versions 1 and 2), id, signature and
 * the skip height function (docs/PROTOCOL.md "Commit block", 5.1).
 * id = H_tag("ec/v1/block", encoding without the signature); the signature
 * signs the id (DESIGN.md). */
#include <stdlib.h>

#include "wire/ec_wire_int.h"

/* Fixed-buffer encoder: the hot path of block verification and chain
 * building uses it without allocating.  Returns the length written;
 * the caller has checked n_txs. */
size_t ec_block_encode_to(const ec_block *b, uint8_t *out)
{
	uint8_t *p = out;
	unsigned n = b->n_txs > EC_BLOCK_MAX_TXS ? EC_BLOCK_MAX_TXS : b->n_txs;
	int v2 = b->version == EC_BLOCK_V2;
	*p++ = EC_MSG_BLOCK;
	*p++ = v2 ? EC_BLOCK_V2 : EC_BLOCK_V1;
	memcpy(p, b->creator.b, 32), p += 32;
	ec_put_u64(p, b->height), p += 8;
	ec_put_u64(p, b->timestamp), p += 8;
	memcpy(p, b->prev.b, 32), p += 32;
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		memcpy(p, b->jumps[i].b, 32), p += 32;
	if (v2)
		memcpy(p, b->skip.b, 32), p += 32;
	memcpy(p, b->merkle_root.b, 32), p += 32;
	memcpy(p, b->proof_hash.b, 32), p += 32;
	memcpy(p, b->signer_pk, 32), p += 32;
	*p++ = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		memcpy(p, b->txids[i].b, 32), p += 32;
	memcpy(p, b->sig, EC_SIG_BYTES), p += EC_SIG_BYTES;
	return (size_t)(p - out);
}

size_t ec_block_encoded_len(const ec_block *b)
{
	unsigned n = b->n_txs > EC_BLOCK_MAX_TXS ? EC_BLOCK_MAX_TXS : b->n_txs;
	return (b->version == EC_BLOCK_V2 ? EC_BLOCK_V2_FIXED_BYTES
					  : EC_BLOCK_FIXED_BYTES) + 32u * n;
}

/* Skew-binary decomposition of h (the blocks below height h) into perfect
 * trees of 2^k - 1 blocks, largest first; block h either joins the two
 * newest trees when they have the same size (then it is their root and
 * skips to the block just before the joined tree) or starts a one-block
 * tree (then it skips to the root of the second-newest tree). */
uint64_t ec_skip_height(uint64_t h)
{
	uint64_t rem = h, end_prev = 0, end_last = 0;
	unsigned k_prev = 0, k_last = 0, m = 0;

	if (h == 0)
		return 0;
	for (unsigned k = 63; k >= 1; k--) {
		uint64_t size = ((uint64_t)1 << k) - 1;
		while (rem >= size) {
			rem -= size;
			end_prev = end_last;
			k_prev = k_last;
			end_last += size;
			k_last = k;
			m++;
		}
	}
	if (m >= 2 && k_prev == k_last) {
		uint64_t tree;
		if (k_last >= 63)
			return 0; /* a tree of 2^64 - 1 blocks starts at genesis */
		tree = ((uint64_t)1 << (k_last + 1)) - 1;
		if (h < tree)
			return 0; /* the tree starts at genesis */
		return h - tree;
	}
	if (m >= 2)
		return end_prev - 1;
	return 0;
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
	p = ec_wbuf_extend(w, ec_block_encoded_len(b));
	if (p)
		ec_block_encode_to(b, p);
	return w->err;
}

int ec_block_read(ec_cur *c, ec_block *b)
{
	const uint8_t *start = c->p;
	int r;

	uint8_t t, v;

	memset(b, 0, sizeof *b);
	t = ec_cur_u8(c);
	v = ec_cur_u8(c);
	if (c->err != EC_OK)
		return c->err;
	if (t != EC_MSG_BLOCK)
		ec_cur_fail(c, EC_ERR_TYPE);
	else if (v != EC_BLOCK_V1 && v != EC_BLOCK_V2)
		ec_cur_fail(c, EC_ERR_VERSION);
	if (c->err != EC_OK)
		return c->err;
	b->version = v == EC_BLOCK_V2 ? EC_BLOCK_V2 : 0;
	ec_cur_id(c, &b->creator);
	b->height = ec_cur_u64(c);
	b->timestamp = ec_cur_u64(c);
	ec_cur_id(c, &b->prev);
	for (unsigned i = 0; i < EC_JUMP_COUNT; i++)
		ec_cur_id(c, &b->jumps[i]);
	if (v == EC_BLOCK_V2)
		ec_cur_id(c, &b->skip);
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
