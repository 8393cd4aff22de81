/* crypto.h - hashing, Merkle trees, Ed25519 signatures, key files.
 *
 * src/crypto is the only place that includes libsodium or OpenSSL.
 * Hashing rules (docs/PROTOCOL.md "Hashing"):
 *   H_tag(tag, data) = SHA-256(tag || 0x00 || data)
 * where tag is an ASCII string such as "ec/v1/txid".  Signed objects are
 * signed over their digest:  Ed25519(sk, "ec/v1/sig" || 0x00 || digest).
 */
#ifndef EC_CRYPTO_H
#define EC_CRYPTO_H

#include "ec/ec.h"

/* Domain-separation tags, one per use. */
#define EC_TAG_TXID "ec/v1/txid"
#define EC_TAG_TXSIG "ec/v1/txsig"
#define EC_TAG_KEYHASH "ec/v1/keyhash"
#define EC_TAG_BLOCK "ec/v1/block"
#define EC_TAG_PROOF "ec/v1/proof"
#define EC_TAG_VOTE "ec/v1/vote"
#define EC_TAG_MAPPING "ec/v1/mapping"
#define EC_TAG_TXRESP "ec/v1/txresp"
#define EC_TAG_REQUEST "ec/v1/request"
#define EC_TAG_BLOCKRESP "ec/v1/blockresp"
#define EC_TAG_RANGERESP "ec/v1/rangeresp"
#define EC_TAG_ENDORSE "ec/v1/endorse"
#define EC_TAG_REFUSAL "ec/v1/refusal"
#define EC_TAG_HELLO "ec/v1/hello"
#define EC_TAG_TXBATCH "ec/v1/txbatch"
#define EC_TAG_SIG "ec/v1/sig"

/* Must be called once before any other crypto function (idempotent,
 * thread-safe after the first call). */
int ec_crypto_init(void);

/* ---- hashing ---------------------------------------------------------- */

/* Plain SHA-256 (OpenSSL's, which uses SHA-NI where the CPU has it). */
void ec_sha256(uint8_t out[32], const void *data, size_t len);

/* Incremental tagged hash. */
typedef struct ec_hash_ctx {
	uint64_t opaque[16]; /* holds an OpenSSL SHA256_CTX (112 bytes) */
} ec_hash_ctx;
void ec_hash_init(ec_hash_ctx *h, const char *tag); /* tag may be NULL: plain */
void ec_hash_update(ec_hash_ctx *h, const void *data, size_t len);
void ec_hash_final(ec_hash_ctx *h, ec_id *out);

/* One-shot H_tag(tag, data). */
void ec_hash(ec_id *out, const char *tag, const void *data, size_t len);

/* RFC 9162 section 2.1.1 Merkle tree hash over 32-byte leaves:
 *   MTH({}) = SHA-256(""),  leaf = SHA-256(0x00 || id),
 *   node = SHA-256(0x01 || left || right), split at the largest power of
 *   two smaller than n.  No tag: public CT vectors apply. */
void ec_merkle_root(ec_id *out, const ec_id *leaves, size_t n);
/* The same over arbitrary-length leaves (for RFC 9162 test vectors). */
int ec_merkle_root_var(ec_id *out, const uint8_t *const *leaves,
		       const size_t *lens, size_t n);

/* ---- keys and signatures --------------------------------------------- */

typedef struct ec_keypair {
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sk[EC_SECKEY_BYTES]; /* libsodium layout: seed || pk */
} ec_keypair;

/* Fresh random key pair (libsodium's randombytes). */
int ec_keypair_generate(ec_keypair *kp);
/* Deterministic key pair from a 32-byte seed (RFC 8032 secret key). */
int ec_keypair_from_seed(ec_keypair *kp, const uint8_t seed[32]);
/* Zeroes the secret half. */
void ec_keypair_wipe(ec_keypair *kp);

/* Simulation-scale signatures.  When switched on (process-wide, before any
 * thread starts), ec_sign_raw / ec_verify_raw use an INSECURE stand-in of
 * identical sizes: sig = S || SHA-256(S) with S = SHA-256("ec/fake-sig" 0x00
 * || pk || msg), checkable from the public key alone.  Every message and
 * byte count stays the same; only CPU cost changes (~0.5 us instead of
 * ~50 us a verify).  For ecsim runs that must name it in their results;
 * never for a real node. */
void ec_crypto_set_fake_signatures(int on);
int ec_crypto_fake_signatures(void);

/* Raw Ed25519 over a message (RFC 8032 PureEdDSA). */
int ec_sign_raw(uint8_t sig[EC_SIG_BYTES], const void *msg, size_t len,
		const uint8_t sk[EC_SECKEY_BYTES]);
int ec_verify_raw(const uint8_t sig[EC_SIG_BYTES], const void *msg, size_t len,
		  const uint8_t pk[EC_PUBKEY_BYTES]);

/* Protocol signatures over a 32-byte digest: message = "ec/v1/sig" 0x00 D. */
int ec_sign_digest(uint8_t sig[EC_SIG_BYTES], const ec_id *digest,
		   const uint8_t sk[EC_SECKEY_BYTES]);
/* EC_OK or EC_ERR_SIGNATURE. */
int ec_verify_digest(const uint8_t sig[EC_SIG_BYTES], const ec_id *digest,
		     const uint8_t pk[EC_PUBKEY_BYTES]);

/* Owner key hash: H_tag("ec/v1/keyhash", pk). */
void ec_keyhash(ec_id *out, const uint8_t pk[EC_PUBKEY_BYTES]);

/* ---- memory-hard proof of work ------------------------------------------ */

#define EC_ARGON2_SALT_BYTES 16
/* Argon2id v1.3 (libsodium; parallelism 1, no secret, no associated data),
 * 32-byte output.  ops >= 1 passes, mem_bytes >= 8192. */
int ec_argon2id(uint8_t out[32], const void *pwd, size_t pwd_len,
		const uint8_t salt[EC_ARGON2_SALT_BYTES], uint32_t ops,
		size_t mem_bytes);

/* ---- secrets ----------------------------------------------------------- */

void ec_memzero(void *p, size_t len);
/* Constant-time equality: 1 if equal, 0 if not. */
int ec_memeq_ct(const void *a, const void *b, size_t len);

/* ---- key files ----------------------------------------------------------
 * Text file, created with mode 0600 (O_EXCL: never overwrites):
 *   line 1: "ec-secret-key-v1"
 *   line 2: 64 hex chars, the 32-byte Ed25519 seed
 *   line 3: 64 hex chars, the public key (checked against the seed on load)
 * Loading refuses a file readable or writable by group or others
 * (EC_ERR_PERM), and a malformed file (EC_ERR_FORMAT). */
int ec_keyfile_write(const char *path, const ec_keypair *kp);
int ec_keyfile_read(const char *path, ec_keypair *kp);

#endif
