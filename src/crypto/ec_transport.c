/* ec_transport.c - datagram keying, sealing, opening, the replay window and
 * the address-validation cookies (transport.h; docs/PROTOCOL.md section 16).
 * libsodium: X25519 (crypto_scalarmult), BLAKE2b (crypto_generichash),
 * ChaCha20-Poly1305-IETF (crypto_aead_chacha20poly1305_ietf). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ec/transport.h"
#include "ec_keyfile_int.h"

int ec_kx_keypair_from_seed(ec_kx_keypair *kp, const uint8_t seed[32])
{
	memcpy(kp->sk, seed, 32);
	return crypto_scalarmult_base(kp->pk, kp->sk) == 0 ? EC_OK : EC_ERR_CRYPTO;
}

int ec_kx_keypair_generate(ec_kx_keypair *kp)
{
	uint8_t seed[32];
	int r;
	randombytes_buf(seed, sizeof seed);
	r = ec_kx_keypair_from_seed(kp, seed);
	sodium_memzero(seed, sizeof seed);
	return r;
}

void ec_kx_keypair_wipe(ec_kx_keypair *kp)
{
	sodium_memzero(kp->sk, sizeof kp->sk);
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void dir_key(uint8_t out[32], const uint8_t shared[32], uint64_t net,
		    const uint8_t from[32], const uint8_t to[32])
{
	uint8_t m[sizeof(EC_TAG_TRANSPORT) + 8 + 64];
	memcpy(m, EC_TAG_TRANSPORT, sizeof(EC_TAG_TRANSPORT)); /* with NUL */
	put_u64(m + sizeof(EC_TAG_TRANSPORT), net);
	memcpy(m + sizeof(EC_TAG_TRANSPORT) + 8, from, 32);
	memcpy(m + sizeof(EC_TAG_TRANSPORT) + 40, to, 32);
	crypto_generichash(out, 32, m, sizeof m, shared, 32);
}

int ec_transport_derive(ec_transport_keys *out, const ec_kx_keypair *self,
			const uint8_t peer_pk[EC_KX_BYTES], uint64_t network_id)
{
	uint8_t shared[32];
	if (!out || !self || !peer_pk)
		return EC_ERR_ARG;
	/* libsodium refuses a low-order point (all-zero result) with -1 */
	if (crypto_scalarmult(shared, self->sk, peer_pk) != 0) {
		sodium_memzero(shared, sizeof shared);
		return EC_ERR_KEY;
	}
	dir_key(out->tx, shared, network_id, self->pk, peer_pk);
	dir_key(out->rx, shared, network_id, peer_pk, self->pk);
	sodium_memzero(shared, sizeof shared);
	return EC_OK;
}

int ec_dgram_parse(ec_dgram_hdr *h, const uint8_t *p, size_t n)
{
	if (!h || (!p && n))
		return EC_ERR_ARG;
	if (n < EC_DGRAM_OVERHEAD)
		return EC_ERR_SHORT;
	if (n > EC_DGRAM_MAX_BYTES)
		return EC_ERR_LIMIT;
	h->version = p[0];
	h->flags = p[1];
	if (h->version != EC_DGRAM_VERSION)
		return EC_ERR_VERSION;
	if (h->flags != 0 && h->flags != EC_DGRAM_FLAG_FRAG && h->flags != EC_DGRAM_FLAG_VALIDATE)
		return EC_ERR_VALUE;
	h->counter = get_u64(p + 2);
	memcpy(h->sender, p + 10, EC_KX_BYTES);
	return EC_OK;
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	put_u64(nonce + 4, counter);
}

int ec_dgram_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[32],
		  const uint8_t sender_pk[EC_KX_BYTES], uint64_t counter,
		  const uint8_t *payload, size_t len)
{
	return ec_dgram_seal_flags(out, cap, out_len, key, sender_pk, counter, 0, payload,
				   len);
}

int ec_dgram_seal_flags(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[32],
			const uint8_t sender_pk[EC_KX_BYTES], uint64_t counter, uint8_t flags,
			const uint8_t *payload, size_t len)
{
	uint8_t nonce[12];
	unsigned long long clen = 0;
	if (!out || !out_len || !key || !sender_pk || (!payload && len))
		return EC_ERR_ARG;
	if (flags != 0 && flags != EC_DGRAM_FLAG_FRAG && flags != EC_DGRAM_FLAG_VALIDATE)
		return EC_ERR_VALUE;
	if (len > EC_DGRAM_MAX_PAYLOAD)
		return EC_ERR_LIMIT;
	if (cap < len + EC_DGRAM_OVERHEAD)
		return EC_ERR_ARG;
	out[0] = EC_DGRAM_VERSION;
	out[1] = flags;
	put_u64(out + 2, counter);
	memcpy(out + 10, sender_pk, EC_KX_BYTES);
	make_nonce(nonce, counter);
	if (crypto_aead_chacha20poly1305_ietf_encrypt(
		    out + EC_DGRAM_HEADER_BYTES, &clen, payload, len, out,
		    EC_DGRAM_HEADER_BYTES, NULL, nonce, key) != 0)
		return EC_ERR_CRYPTO;
	*out_len = EC_DGRAM_HEADER_BYTES + (size_t)clen;
	return EC_OK;
}

int ec_dgram_open(uint8_t *out, size_t *out_len, const uint8_t key[32],
		  const uint8_t *p, size_t n)
{
	uint8_t nonce[12];
	unsigned long long mlen = 0;
	if (!out || !out_len || !key || !p)
		return EC_ERR_ARG;
	if (n < EC_DGRAM_OVERHEAD)
		return EC_ERR_SHORT;
	make_nonce(nonce, get_u64(p + 2));
	if (crypto_aead_chacha20poly1305_ietf_decrypt(
		    out, &mlen, NULL, p + EC_DGRAM_HEADER_BYTES,
		    n - EC_DGRAM_HEADER_BYTES, p, EC_DGRAM_HEADER_BYTES, nonce,
		    key) != 0)
		return EC_ERR_SIGNATURE;
	*out_len = (size_t)mlen;
	return EC_OK;
}

/* ---- replay window ------------------------------------------------------ */

#define RW_WORDS (EC_REPLAY_WINDOW / 64)

int ec_replay_check(const ec_replay *r, uint64_t counter)
{
	uint64_t back, bit;
	if (!r->any || counter > r->top)
		return EC_OK;
	back = r->top - counter;
	if (back >= EC_REPLAY_WINDOW)
		return EC_ERR_TIME;
	bit = counter % EC_REPLAY_WINDOW;
	return (r->bits[bit / 64] >> (bit % 64)) & 1 ? EC_ERR_EXISTS : EC_OK;
}

void ec_replay_accept(ec_replay *r, uint64_t counter)
{
	uint64_t bit;
	if (!r->any) {
		memset(r->bits, 0, sizeof r->bits);
		r->top = counter;
		r->any = 1;
	} else if (counter > r->top) {
		uint64_t ahead = counter - r->top;
		if (ahead >= EC_REPLAY_WINDOW) {
			memset(r->bits, 0, sizeof r->bits);
		} else {
			/* clear the slots of the counters passed over */
			for (uint64_t c = r->top + 1; c < counter; c++) {
				uint64_t b = c % EC_REPLAY_WINDOW;
				r->bits[b / 64] &= ~(1ull << (b % 64));
			}
		}
		r->top = counter;
	} else if (r->top - counter >= EC_REPLAY_WINDOW) {
		return;
	}
	bit = counter % EC_REPLAY_WINDOW;
	r->bits[bit / 64] |= 1ull << (bit % 64);
}

/* ---- address validation ------------------------------------------------- */

int ec_cookie_compute(uint8_t out[EC_COOKIE_BYTES],
		      const uint8_t secret[EC_COOKIE_SECRET_BYTES],
		      const uint8_t kx_pk[EC_KX_BYTES], const uint8_t *addr, size_t addr_len,
		      uint64_t bucket)
{
	crypto_generichash_state st;
	uint8_t b[8], al;
	if (!out || !secret || !kx_pk || (!addr && addr_len) || addr_len > 255)
		return EC_ERR_ARG;
	put_u64(b, bucket);
	al = (uint8_t)addr_len;
	if (crypto_generichash_init(&st, secret, EC_COOKIE_SECRET_BYTES, EC_COOKIE_BYTES) != 0)
		return EC_ERR_CRYPTO;
	crypto_generichash_update(&st, (const uint8_t *)EC_TAG_COOKIE, sizeof(EC_TAG_COOKIE));
	crypto_generichash_update(&st, b, sizeof b);
	crypto_generichash_update(&st, kx_pk, EC_KX_BYTES);
	crypto_generichash_update(&st, &al, 1);
	crypto_generichash_update(&st, addr, addr_len);
	crypto_generichash_final(&st, out, EC_COOKIE_BYTES);
	sodium_memzero(&st, sizeof st);
	return EC_OK;
}

void ec_cookie_jar_wipe(ec_cookie_jar *j)
{
	sodium_memzero(j, sizeof *j);
}

/* Brings the jar to the bucket of now: a step of one keeps the current
 * secret as the previous one, a longer step forgets both. */
static void jar_rotate(ec_cookie_jar *j, uint64_t now_ms)
{
	uint64_t b = now_ms / EC_COOKIE_BUCKET_MS;
	if ((j->have & 1) && b <= j->bucket)
		return;
	if ((j->have & 1) && b == j->bucket + 1) {
		memcpy(j->secret[1], j->secret[0], EC_COOKIE_SECRET_BYTES);
		j->have = 3;
	} else {
		sodium_memzero(j->secret[1], EC_COOKIE_SECRET_BYTES);
		j->have = 1;
	}
	randombytes_buf(j->secret[0], EC_COOKIE_SECRET_BYTES);
	j->bucket = b;
}

int ec_cookie_jar_make(ec_cookie_jar *j, uint64_t now_ms, const uint8_t kx_pk[EC_KX_BYTES],
		       const uint8_t *addr, size_t addr_len, uint8_t out[EC_COOKIE_BYTES])
{
	if (!j)
		return EC_ERR_ARG;
	jar_rotate(j, now_ms);
	return ec_cookie_compute(out, j->secret[0], kx_pk, addr, addr_len, j->bucket);
}

int ec_cookie_jar_check(ec_cookie_jar *j, uint64_t now_ms, const uint8_t kx_pk[EC_KX_BYTES],
			const uint8_t *addr, size_t addr_len,
			const uint8_t cookie[EC_COOKIE_BYTES])
{
	uint8_t c[EC_COOKIE_BYTES];
	int r, ok = 0;
	if (!j || !cookie)
		return EC_ERR_ARG;
	jar_rotate(j, now_ms);
	for (int k = 0; k < 2 && !ok; k++) {
		if (!(j->have & (1u << k)))
			continue;
		r = ec_cookie_compute(c, j->secret[k], kx_pk, addr, addr_len,
				      j->bucket - (uint64_t)k);
		if (r != EC_OK)
			return r;
		ok = sodium_memcmp(c, cookie, EC_COOKIE_BYTES) == 0;
	}
	sodium_memzero(c, sizeof c);
	return ok ? EC_OK : EC_ERR_SIGNATURE;
}

int ec_validate_encode(uint8_t out[EC_VALIDATE_BYTES], uint8_t kind,
		       const uint8_t cookie[EC_COOKIE_BYTES])
{
	if (!out || !cookie)
		return EC_ERR_ARG;
	if (kind != EC_VALIDATE_CHALLENGE && kind != EC_VALIDATE_ECHO)
		return EC_ERR_VALUE;
	out[0] = kind;
	memcpy(out + 1, cookie, EC_COOKIE_BYTES);
	return EC_OK;
}

int ec_validate_parse(uint8_t *kind, uint8_t cookie[EC_COOKIE_BYTES], const uint8_t *p,
		      size_t n)
{
	if (!kind || !cookie || (!p && n))
		return EC_ERR_ARG;
	if (n < EC_VALIDATE_BYTES)
		return EC_ERR_SHORT;
	if (n > EC_VALIDATE_BYTES)
		return EC_ERR_TRAILING;
	if (p[0] != EC_VALIDATE_CHALLENGE && p[0] != EC_VALIDATE_ECHO)
		return EC_ERR_VALUE;
	*kind = p[0];
	memcpy(cookie, p + 1, EC_COOKIE_BYTES);
	return EC_OK;
}

/* ---- key files ---------------------------------------------------------- */

#define KXFILE_MAGIC "ec-kx-secret-key-v1"

int ec_kx_keyfile_write(const char *path, const ec_kx_keypair *kp)
{
	return ec_secretfile_write(path, KXFILE_MAGIC, kp->sk, kp->pk);
}

int ec_kx_keyfile_read(const char *path, ec_kx_keypair *kp)
{
	uint8_t sk[32], pk[32];
	int r = ec_secretfile_read(path, KXFILE_MAGIC, sk, pk);
	if (r == EC_OK) {
		if (ec_kx_keypair_from_seed(kp, sk) != EC_OK)
			r = EC_ERR_FORMAT;
		else if (sodium_memcmp(pk, kp->pk, 32) != 0) {
			ec_kx_keypair_wipe(kp);
			r = EC_ERR_KEY;
		}
	}
	sodium_memzero(sk, sizeof sk);
	return r;
}
