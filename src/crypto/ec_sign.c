/* ec_sign.c - Ed25519 keys and signatures (libsodium), secret hygiene and
 * key files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "ec/crypto.h"
#include "ec_keyfile_int.h"

int ec_crypto_init(void)
{
	return sodium_init() < 0 ? EC_ERR_CRYPTO : EC_OK;
}

int ec_keypair_generate(ec_keypair *kp)
{
	uint8_t seed[32];
	int r;
	randombytes_buf(seed, sizeof seed);
	r = ec_keypair_from_seed(kp, seed);
	sodium_memzero(seed, sizeof seed);
	return r;
}

int ec_keypair_from_seed(ec_keypair *kp, const uint8_t seed[32])
{
	return crypto_sign_ed25519_seed_keypair(kp->pk, kp->sk, seed) == 0
		       ? EC_OK
		       : EC_ERR_CRYPTO;
}

void ec_keypair_wipe(ec_keypair *kp)
{
	sodium_memzero(kp->sk, sizeof kp->sk);
}

static int fake_sigs;

void ec_crypto_set_fake_signatures(int on)
{
	fake_sigs = on != 0;
}

int ec_crypto_fake_signatures(void)
{
	return fake_sigs;
}

static void fake_sig(uint8_t sig[EC_SIG_BYTES], const void *msg, size_t len,
		     const uint8_t pk[EC_PUBKEY_BYTES])
{
	ec_hash_ctx h;
	ec_id s1;
	ec_hash_init(&h, "ec/fake-sig");
	ec_hash_update(&h, pk, EC_PUBKEY_BYTES);
	ec_hash_update(&h, msg, len);
	ec_hash_final(&h, &s1);
	memcpy(sig, s1.b, 32);
	ec_sha256(sig + 32, s1.b, 32);
}

int ec_sign_raw(uint8_t sig[EC_SIG_BYTES], const void *msg, size_t len,
		const uint8_t sk[EC_SECKEY_BYTES])
{
	if (fake_sigs) {
		fake_sig(sig, msg, len, sk + 32); /* libsodium: seed || pk */
		return EC_OK;
	}
	return crypto_sign_ed25519_detached(sig, NULL, msg, len, sk) == 0
		       ? EC_OK
		       : EC_ERR_CRYPTO;
}

int ec_verify_raw(const uint8_t sig[EC_SIG_BYTES], const void *msg, size_t len,
		  const uint8_t pk[EC_PUBKEY_BYTES])
{
	if (fake_sigs) {
		uint8_t want[EC_SIG_BYTES];
		fake_sig(want, msg, len, pk);
		return sodium_memcmp(want, sig, EC_SIG_BYTES) == 0
			       ? EC_OK
			       : EC_ERR_SIGNATURE;
	}
	return crypto_sign_ed25519_verify_detached(sig, msg, len, pk) == 0
		       ? EC_OK
		       : EC_ERR_SIGNATURE;
}

#define SIGMSG_LEN (sizeof(EC_TAG_SIG) + EC_HASH_BYTES)

static void sig_message(uint8_t m[SIGMSG_LEN], const ec_id *digest)
{
	memcpy(m, EC_TAG_SIG, sizeof(EC_TAG_SIG)); /* includes the NUL */
	memcpy(m + sizeof(EC_TAG_SIG), digest->b, EC_HASH_BYTES);
}

int ec_sign_digest(uint8_t sig[EC_SIG_BYTES], const ec_id *digest,
		   const uint8_t sk[EC_SECKEY_BYTES])
{
	uint8_t m[SIGMSG_LEN];
	sig_message(m, digest);
	return ec_sign_raw(sig, m, sizeof m, sk);
}

int ec_verify_digest(const uint8_t sig[EC_SIG_BYTES], const ec_id *digest,
		     const uint8_t pk[EC_PUBKEY_BYTES])
{
	uint8_t m[SIGMSG_LEN];
	sig_message(m, digest);
	return ec_verify_raw(sig, m, sizeof m, pk);
}

void ec_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

int ec_memeq_ct(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

/* ---- key files ---------------------------------------------------------- */

#define KEYFILE_MAGIC "ec-secret-key-v1"

int ec_keyfile_write(const char *path, const ec_keypair *kp)
{
	return ec_secretfile_write(path, KEYFILE_MAGIC, kp->sk, kp->pk);
}

int ec_keyfile_read(const char *path, ec_keypair *kp)
{
	uint8_t seed[32], pk[32];
	int r = ec_secretfile_read(path, KEYFILE_MAGIC, seed, pk);
	if (r == EC_OK) {
		if (ec_keypair_from_seed(kp, seed) != EC_OK)
			r = EC_ERR_FORMAT;
		else if (sodium_memcmp(pk, kp->pk, 32) != 0) {
			ec_keypair_wipe(kp);
			r = EC_ERR_KEY;
		}
	}
	sodium_memzero(seed, sizeof seed);
	return r;
}
