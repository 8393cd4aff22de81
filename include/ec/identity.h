/* identity.h - peer identities: Argon2id proof of work over a public key
 * (spec 4.1; docs/PROTOCOL.md "Peer identity").
 *
 *   peer_id = Argon2id(password = "ec/v1/peerid" 0x00 || pk || u64 network_id,
 *                      salt = 16 bytes, ops, mem)
 * valid when it has at least `difficulty` trailing zero bits, counted from
 * the last byte backwards, low bits first (upstream's rule).  The salt's
 * last 8 bytes are the mining time (u64 seconds, big-endian) so that a
 * verifier can bound an identity's age.
 *
 * Deterministic: mining takes its randomness and time from the caller.
 */
#ifndef EC_IDENTITY_H
#define EC_IDENTITY_H

#include "ec/crypto.h"

typedef struct ec_pow_params {
	uint32_t difficulty; /* trailing zero bits required */
	uint32_t ops;        /* Argon2 passes */
	uint32_t mem_kib;    /* Argon2 memory in KiB */
	uint64_t max_age_s;      /* identity older than this is rejected */
	uint64_t future_tol_s;   /* mining time may be this far ahead */
} ec_pow_params;

/* Production: 24 bits, 4 MiB, 1 pass (~24 h of mining on one core, ~5 ms to
 * verify; upstream PRODUCTION preset).  Test: 4 bits, 64 KiB. */
extern const ec_pow_params ec_pow_production;
extern const ec_pow_params ec_pow_test;

typedef struct ec_identity {
	uint8_t pk[EC_PUBKEY_BYTES];
	uint64_t network_id;
	uint8_t salt[EC_ARGON2_SALT_BYTES];
	ec_id peer_id;
} ec_identity;

/* Trailing zero bits of an id, from the last byte backwards. */
unsigned ec_id_trailing_zeros(const ec_id *id);

/* Computes the Argon2 output for (pk, network_id, salt). */
int ec_identity_hash(ec_id *out, const uint8_t pk[32], uint64_t network_id,
		     const uint8_t salt[16], const ec_pow_params *p);

/* Randomness source supplied by the caller: fills len bytes. */
typedef void (*ec_rng_fn)(void *ctx, void *out, size_t len);

/* Tries up to max_attempts salts (8 random bytes from rng || now_s).
 * EC_OK with *out filled, EC_ERR_NOTFOUND when the attempts ran out;
 * *attempts (may be NULL) receives the number made. */
int ec_identity_mine(ec_identity *out, const uint8_t pk[32], uint64_t network_id,
		     uint64_t now_s, const ec_pow_params *p, ec_rng_fn rng,
		     void *rng_ctx, uint64_t max_attempts, uint64_t *attempts);

/* Checks, cheapest first: the mining time window against now_s
 * (EC_ERR_TIME), the claimed id's trailing zeros (EC_ERR_VALUE), then the
 * Argon2 recomputation (EC_ERR_ID). */
int ec_identity_verify(const ec_identity *id, uint64_t now_s,
		       const ec_pow_params *p);
/* The cheap part of ec_identity_verify alone (time window, zero bits):
 * EC_OK when only the Argon2 recomputation is left to decide. */
int ec_identity_precheck(const ec_identity *id, uint64_t now_s,
			 const ec_pow_params *p);

#endif
