/* ec.h - common definitions of libec: error codes, identifiers, limits.
 *
 * Every libec function that can fail returns an int: EC_OK (0) or one of
 * the negative EC_ERR_* codes below.  ec_strerror() names them.  Nothing in
 * libec aborts on input that came from a peer, a file or a user.
 */
#ifndef EC_EC_H
#define EC_EC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define EC_HASH_BYTES 32 /* every identifier: token, tx, peer, key hash, block */
#define EC_PUBKEY_BYTES 32
#define EC_SECKEY_BYTES 64
#define EC_SIG_BYTES 64

/* Protocol limits (docs/PROTOCOL.md section "Limits"). */
#define EC_TX_MAX_ENTRIES 6
#define EC_BLOCK_MAX_TXS 32
#define EC_JUMP_COUNT 5
#define EC_VOTE_MAX_CONFLICTS 8
#define EC_PROOF_MAX_VOTES 64    /* votes kept per transaction in a proof */
#define EC_RESP_MAX_EVIDENCE 4   /* minefield evidence entries per mapping */
#define EC_RESP_MAX_ENDORSE 8    /* endorsements per block response */
#define EC_RANGE_MAX_BLOCKS 1024 /* blocks per range request/response */
#define EC_MSG_MAX_BYTES (4u << 20)

enum ec_err {
	EC_OK = 0,
	/* decoding */
	EC_ERR_SHORT = -1,    /* input ends before the structure does */
	EC_ERR_TRAILING = -2, /* bytes left over after the structure */
	EC_ERR_LIMIT = -3,    /* a count is over its protocol limit */
	EC_ERR_TYPE = -4,     /* unknown message/object type */
	EC_ERR_VERSION = -5,  /* unknown version */
	EC_ERR_VALUE = -6,    /* a field holds a value outside its domain */
	EC_ERR_ORDER = -7,    /* non-canonical order or duplicate entry */
	/* verification */
	EC_ERR_SIGNATURE = -20, /* signature does not verify */
	EC_ERR_ID = -21,        /* identifier does not match content */
	EC_ERR_PREV = -22,      /* previous-block link broken */
	EC_ERR_HEIGHT = -23,    /* height not previous + 1 */
	EC_ERR_TIME = -24,      /* timestamp goes backwards / out of bounds */
	EC_ERR_MERKLE = -25,    /* Merkle root does not match the ids */
	EC_ERR_JUMP = -26,      /* a jump reference breaks the rule */
	EC_ERR_CREATOR = -27,   /* block creator/key differs within a chain */
	EC_ERR_PROOF = -28,     /* consensus proof hash mismatch */
	EC_ERR_KEY = -29,       /* public key does not match expected hash */
	/* resources and environment */
	EC_ERR_NOMEM = -40,
	EC_ERR_IO = -41,
	EC_ERR_NOTFOUND = -42,
	EC_ERR_EXISTS = -43,
	EC_ERR_CORRUPT = -44,   /* stored data fails its checks */
	EC_ERR_FULL = -45,      /* disk or map full */
	EC_ERR_READONLY = -46,
	EC_ERR_FORMAT = -47,    /* file/store format version not supported */
	EC_ERR_ARG = -48,       /* caller passed an invalid argument */
	EC_ERR_PERM = -49,      /* file permissions unsafe / denied */
	EC_ERR_CRYPTO = -50,    /* crypto library failure */
	EC_ERR_BUSY = -51,      /* resource in use (e.g. store locked) */
	EC_ERR_REFUSED = -52,   /* request refused (rate limit, policy) */
};

/* Static string naming the error; never NULL. */
const char *ec_strerror(int err);
/* Short symbolic name ("EC_ERR_SHORT"); never NULL. */
const char *ec_errname(int err);

/* A 32-byte identifier.  A struct so that it can be assigned and returned. */
typedef struct ec_id {
	uint8_t b[EC_HASH_BYTES];
} ec_id;

/* Byte-wise (memcmp) order and equality, computed 8 bytes at a time: ids
 * are compared on every vote, tally and ring search, and a call to the
 * library memcmp per comparison was the simulator's top profile entry.
 * ec_id_cmp returns only the sign (-1, 0, 1), as memcmp's contract. */
static inline uint64_t ec_id_word_(const ec_id *a, int i)
{
	uint64_t v;
	memcpy(&v, a->b + 8 * i, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#elif !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_BIG_ENDIAN__
#error "ec_id_word_: unknown byte order"
#endif
	return v;
}
static inline int ec_id_cmp(const ec_id *a, const ec_id *b)
{
	for (int i = 0; i < EC_HASH_BYTES / 8; i++) {
		uint64_t x = ec_id_word_(a, i), y = ec_id_word_(b, i);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}
static inline int ec_id_eq(const ec_id *a, const ec_id *b)
{
	uint64_t d = 0;
	for (int i = 0; i < EC_HASH_BYTES / 8; i++) {
		uint64_t x, y;
		memcpy(&x, a->b + 8 * i, 8);
		memcpy(&y, b->b + 8 * i, 8);
		d |= x ^ y;
	}
	return d == 0;
}
int ec_id_is_zero(const ec_id *a);

/* Hex helpers (lowercase).  out must hold 2*len+1 bytes. */
void ec_hex_encode(char *out, const uint8_t *in, size_t len);
/* Decodes exactly len bytes from a 2*len-char string; EC_ERR_VALUE on bad
 * characters or wrong length. */
int ec_hex_decode(uint8_t *out, size_t len, const char *hex);

/* Protocol time: milliseconds since the Unix epoch. */
typedef uint64_t ec_time;

#endif
