/* ec_hash.c - SHA-256 (OpenSSL low-level, SHA-NI where available), tagged
 * hashes, and RFC 9162 Merkle tree hashes.
 *
 * OpenSSL's low-level SHA256_* calls are deprecated in 3.0 but remain the
 * fastest path (no per-call algorithm fetch, no allocation); see
 * ../shared/PERFORMANCE.md.  They are confined to this file.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include "ec/crypto.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(ec_hash_ctx),
	       "ec_hash_ctx too small for SHA256_CTX");

void ec_sha256(uint8_t out[32], const void *data, size_t len)
{
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, data, len);
	SHA256_Final(out, &c);
}

void ec_hash_init(ec_hash_ctx *h, const char *tag)
{
	SHA256_CTX *c = (SHA256_CTX *)h->opaque;
	SHA256_Init(c);
	if (tag)
		SHA256_Update(c, tag, strlen(tag) + 1); /* tag and its NUL */
}

void ec_hash_update(ec_hash_ctx *h, const void *data, size_t len)
{
	SHA256_Update((SHA256_CTX *)h->opaque, data, len);
}

void ec_hash_final(ec_hash_ctx *h, ec_id *out)
{
	SHA256_Final(out->b, (SHA256_CTX *)h->opaque);
}

void ec_hash(ec_id *out, const char *tag, const void *data, size_t len)
{
	ec_hash_ctx h;
	ec_hash_init(&h, tag);
	ec_hash_update(&h, data, len);
	ec_hash_final(&h, out);
}

void ec_keyhash(ec_id *out, const uint8_t pk[EC_PUBKEY_BYTES])
{
	ec_hash(out, EC_TAG_KEYHASH, pk, EC_PUBKEY_BYTES);
}

/* ---- Merkle (RFC 9162 2.1.1) -------------------------------------------- */

/* Merkle hashing works on inputs of known, fixed size (33-byte leaves,
 * 65-byte nodes), so the padded SHA-256 blocks are laid out here and fed to
 * the compression function directly: no Update/Final bookkeeping, which is
 * most of the cost for messages this small (PERFORMANCE.md, bench_chain). */
static void sha_out(const SHA256_CTX *c, ec_id *out)
{
	for (int i = 0; i < 8; i++) {
		uint32_t v = c->h[i];
		out->b[4 * i] = (uint8_t)(v >> 24);
		out->b[4 * i + 1] = (uint8_t)(v >> 16);
		out->b[4 * i + 2] = (uint8_t)(v >> 8);
		out->b[4 * i + 3] = (uint8_t)v;
	}
}

/* SHA-256(0x00 || id): one block, 33 bytes = 264 bits of message. */
static void leaf_hash(ec_id *out, const ec_id *id)
{
	uint8_t blk[64] = {0};
	SHA256_CTX c;
	memcpy(blk + 1, id->b, 32);
	blk[33] = 0x80;
	blk[62] = 264 >> 8;
	blk[63] = 264 & 0xff;
	SHA256_Init(&c);
	SHA256_Transform(&c, blk);
	sha_out(&c, out);
}

/* SHA-256(0x01 || l || r): two blocks, 65 bytes = 520 bits of message. */
static void node_hash(ec_id *out, const ec_id *l, const ec_id *r)
{
	uint8_t blk[128] = {0};
	SHA256_CTX c;
	blk[0] = 0x01;
	memcpy(blk + 1, l->b, 32);
	memcpy(blk + 33, r->b, 32);
	blk[65] = 0x80;
	blk[126] = 520 >> 8;
	blk[127] = 520 & 0xff;
	SHA256_Init(&c);
	SHA256_Transform(&c, blk);
	SHA256_Transform(&c, blk + 64);
	sha_out(&c, out);
}

/* Largest power of two strictly smaller than n (n >= 2). */
static size_t split_point(size_t n)
{
	size_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

/* Bottom-up over hashed leaves in place: pairs adjacent subtrees at each
 * level, carrying an odd last node up unchanged.  For RFC 9162's split rule
 * this gives the same root as the recursive definition. */
static void reduce(ec_id *h, size_t n)
{
	while (n > 1) {
		size_t m = 0;
		for (size_t i = 0; i + 1 < n; i += 2)
			node_hash(&h[m++], &h[i], &h[i + 1]);
		if (n & 1)
			h[m++] = h[n - 1];
		n = m;
	}
}

void ec_merkle_root(ec_id *out, const ec_id *leaves, size_t n)
{
	ec_id stackbuf[EC_BLOCK_MAX_TXS];
	if (n == 0) {
		ec_sha256(out->b, "", 0);
		return;
	}
	if (n > EC_BLOCK_MAX_TXS) {
		/* Recursive definition for large inputs: no allocation. */
		size_t k = split_point(n);
		ec_id l, r;
		ec_merkle_root(&l, leaves, k);
		ec_merkle_root(&r, leaves + k, n - k);
		node_hash(out, &l, &r);
		return;
	}
	for (size_t i = 0; i < n; i++)
		leaf_hash(&stackbuf[i], &leaves[i]);
	reduce(stackbuf, n);
	*out = stackbuf[0];
}

static void var_root(ec_id *out, const uint8_t *const *leaves,
		     const size_t *lens, size_t n)
{
	if (n == 1) {
		SHA256_CTX c;
		static const uint8_t zero = 0x00;
		SHA256_Init(&c);
		SHA256_Update(&c, &zero, 1);
		SHA256_Update(&c, leaves[0], lens[0]);
		SHA256_Final(out->b, &c);
		return;
	}
	size_t k = split_point(n);
	ec_id l, r;
	var_root(&l, leaves, lens, k);
	var_root(&r, leaves + k, lens + k, n - k);
	node_hash(out, &l, &r);
}

int ec_merkle_root_var(ec_id *out, const uint8_t *const *leaves,
		       const size_t *lens, size_t n)
{
	if (n == 0) {
		ec_sha256(out->b, "", 0);
		return EC_OK;
	}
	if (!leaves || !lens)
		return EC_ERR_ARG;
	var_root(out, leaves, lens, n);
	return EC_OK;
}
