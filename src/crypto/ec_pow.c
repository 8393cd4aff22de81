/* ec_pow.c - Argon2id for the peer-identity proof of work (spec 4.1,
 * upstream_notes 4.1), through libsodium. */
#include <sodium.h>

#include "ec/crypto.h"

int ec_argon2id(uint8_t out[32], const void *pwd, size_t pwd_len,
		const uint8_t salt[EC_ARGON2_SALT_BYTES], uint32_t ops,
		size_t mem_bytes)
{
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    mem_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
	    mem_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX)
		return EC_ERR_ARG;
	return crypto_pwhash_argon2id(out, 32, pwd, pwd_len, salt, ops, mem_bytes,
				      crypto_pwhash_argon2id_ALG_ARGON2ID13) == 0
		       ? EC_OK
		       : EC_ERR_NOMEM;
}
