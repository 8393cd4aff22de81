/* transport.h - encrypted, authenticated UDP datagrams between peers
 * (docs/PROTOCOL.md section 16 "Transport"; upstream_notes 5.3).
 *
 * Handshake-free static keying: every peer has a long-lived X25519 key
 * pair (its transport key, announced in its hello as kx_pk).  A datagram
 * carries the sender's X25519 public key in a plaintext header; the
 * receiver derives the pair's key from its own secret and that public key,
 * so the first datagram between two peers is already encrypted and nothing
 * needs a round trip.
 *
 *   shared       = X25519(own_sk, peer_pk)            (all-zero refused)
 *   key(A -> B)  = BLAKE2b-256(key = shared,
 *                    "ec/v1/transport" 0x00 || u64 network_id || pk_A || pk_B)
 *   datagram     = header || ChaCha20-Poly1305-IETF(key(sender -> receiver),
 *                    nonce = 0x00000000 || u64 counter, ad = header, payload)
 *   header (42)  = u8 version (1) || u8 flags || u64 counter || pk sender
 *
 * Keys are per direction, so the same counter in the two directions never
 * reuses a (key, nonce) pair; the network id is bound into the key, so a
 * datagram of another network fails authentication like a forgery.
 * The counter is the sender's, one for all its receivers: its high 32 bits
 * are an epoch the sender persists and raises at every start, its low 32
 * bits count datagrams, so a restarted sender never reuses a nonce.
 * Receivers keep a sliding replay window per sender (ec_replay).
 *
 * This is src/crypto: libsodium is used here and nowhere above it. */
#ifndef EC_TRANSPORT_H
#define EC_TRANSPORT_H

#include "ec/ec.h"

#define EC_DGRAM_VERSION 1
#define EC_DGRAM_HEADER_BYTES 42
#define EC_DGRAM_TAG_BYTES 16
#define EC_DGRAM_OVERHEAD (EC_DGRAM_HEADER_BYTES + EC_DGRAM_TAG_BYTES)
/* Largest UDP payload over IPv4 (65,535 - 20 IP - 8 UDP); also used for
 * IPv6 so that one limit holds everywhere. */
#define EC_DGRAM_MAX_BYTES 65507
#define EC_DGRAM_MAX_PAYLOAD (EC_DGRAM_MAX_BYTES - EC_DGRAM_OVERHEAD)
#define EC_KX_BYTES 32
#define EC_TAG_TRANSPORT "ec/v1/transport"

typedef struct ec_kx_keypair {
	uint8_t pk[EC_KX_BYTES];
	uint8_t sk[EC_KX_BYTES];
} ec_kx_keypair;

/* Fresh key pair (libsodium randombytes) / from a 32-byte seed (the seed is
 * the secret scalar, clamped by X25519 itself). */
int ec_kx_keypair_generate(ec_kx_keypair *kp);
int ec_kx_keypair_from_seed(ec_kx_keypair *kp, const uint8_t seed[32]);
void ec_kx_keypair_wipe(ec_kx_keypair *kp);

/* Key files as crypto.h's, with the first line "ec-kx-secret-key-v1":
 * 0600, O_EXCL, refused when group/other may read (EC_ERR_PERM), the
 * public key checked against the secret (EC_ERR_KEY). */
int ec_kx_keyfile_write(const char *path, const ec_kx_keypair *kp);
int ec_kx_keyfile_read(const char *path, ec_kx_keypair *kp);

/* The two directional keys of the pair (self, peer) on a network.
 * EC_ERR_KEY when the shared secret is all-zero (low-order peer key). */
typedef struct ec_transport_keys {
	uint8_t tx[32]; /* self -> peer */
	uint8_t rx[32]; /* peer -> self */
} ec_transport_keys;
int ec_transport_derive(ec_transport_keys *out, const ec_kx_keypair *self,
			const uint8_t peer_pk[EC_KX_BYTES], uint64_t network_id);

/* A parsed header (pointers into nothing: copies). */
typedef struct ec_dgram_hdr {
	uint8_t version, flags;
	uint64_t counter;
	uint8_t sender[EC_KX_BYTES];
} ec_dgram_hdr;

/* Header flags, at most one set; they are in the associated data, so they
 * cannot be flipped in transit.  EC_DGRAM_FLAG_FRAG: the plaintext is one
 * fragment of a larger message (ec_frag_*, PROTOCOL 16 "Fragments").
 * EC_DGRAM_FLAG_VALIDATE: the plaintext is an address-validation challenge
 * or echo (ec_validate_*, PROTOCOL 16 "Address validation"), handled by
 * the transport, never a protocol message. */
#define EC_DGRAM_FLAG_FRAG 0x01
#define EC_DGRAM_FLAG_VALIDATE 0x02

/* Cheap checks only, before any crypto: length in
 * [EC_DGRAM_OVERHEAD, EC_DGRAM_MAX_BYTES] (EC_ERR_SHORT / EC_ERR_LIMIT),
 * version (EC_ERR_VERSION), flags 0, EC_DGRAM_FLAG_FRAG or
 * EC_DGRAM_FLAG_VALIDATE (anything else EC_ERR_VALUE). */
int ec_dgram_parse(ec_dgram_hdr *h, const uint8_t *p, size_t n);

/* Seals payload[0..len) into out (capacity cap >= len + EC_DGRAM_OVERHEAD);
 * *out_len = len + EC_DGRAM_OVERHEAD.  EC_ERR_LIMIT when len is over
 * EC_DGRAM_MAX_PAYLOAD, EC_ERR_ARG when cap is too small. */
int ec_dgram_seal(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[32],
		  const uint8_t sender_pk[EC_KX_BYTES], uint64_t counter,
		  const uint8_t *payload, size_t len);

/* As ec_dgram_seal with header flags (0, EC_DGRAM_FLAG_FRAG or
 * EC_DGRAM_FLAG_VALIDATE; others EC_ERR_VALUE). */
int ec_dgram_seal_flags(uint8_t *out, size_t cap, size_t *out_len, const uint8_t key[32],
			const uint8_t sender_pk[EC_KX_BYTES], uint64_t counter, uint8_t flags,
			const uint8_t *payload, size_t len);

/* Opens a datagram whose header h was parsed from p: the payload goes to
 * out (capacity >= n - EC_DGRAM_OVERHEAD), *out_len set.  EC_ERR_SIGNATURE
 * when authentication fails (out then holds nothing usable). */
int ec_dgram_open(uint8_t *out, size_t *out_len, const uint8_t key[32],
		  const uint8_t *p, size_t n);

/* Sliding replay window over a sender's counters (RFC 6479 style):
 * the highest counter seen and a bitmap of the EC_REPLAY_WINDOW below it. */
#define EC_REPLAY_WINDOW 2048
typedef struct ec_replay {
	uint64_t top;     /* highest counter accepted */
	uint8_t any;      /* 0 until the first counter */
	uint64_t bits[EC_REPLAY_WINDOW / 64];
} ec_replay;

/* EC_OK if counter was never accepted and is inside the window,
 * EC_ERR_EXISTS if already accepted, EC_ERR_TIME if it fell behind the
 * window.  Does not change the window: call ec_replay_accept only after
 * the datagram authenticated. */
int ec_replay_check(const ec_replay *r, uint64_t counter);
void ec_replay_accept(ec_replay *r, uint64_t counter);

/* ---- address validation (PROTOCOL 16 "Address validation") -----------------
 *
 * Anti-amplification in the manner of QUIC (RFC 9000 section 8) and
 * WireGuard's cookie reply: a node sends an address no more bytes than it
 * received from it until the (sender key, source address) pair has proven
 * that it receives the node's datagrams.  The proof is one stateless round
 * trip: the node seals a challenge carrying
 *
 *   cookie = BLAKE2b-128(key = secret of the time bucket,
 *              "ec/v1/cookie" 0x00 || u64 bucket || kx_pk || u8 addr_len || addr)
 *
 * (addr: the address bytes of PROTOCOL 16, IPv4 || port or IPv6 || port),
 * the peer's transport echoes the cookie from the same address, and the
 * node recomputes it from the echo's sender key and source address.  The
 * node keeps nothing per challenge: a cookie is valid in its bucket and the
 * next one, each bucket has its own random secret, and a secret is
 * forgotten once its bucket is two behind.
 *
 * Plaintext of a datagram flagged EC_DGRAM_FLAG_VALIDATE (17 bytes):
 *   u8 kind (EC_VALIDATE_CHALLENGE or EC_VALIDATE_ECHO) || cookie[16] */
#define EC_TAG_COOKIE "ec/v1/cookie"
#define EC_COOKIE_BYTES 16
#define EC_COOKIE_SECRET_BYTES 32
#define EC_COOKIE_BUCKET_MS 120000u
#define EC_VALIDATE_CHALLENGE 0x01
#define EC_VALIDATE_ECHO 0x02
#define EC_VALIDATE_BYTES (1 + EC_COOKIE_BYTES)
#define EC_VALIDATE_DGRAM_BYTES (EC_DGRAM_OVERHEAD + EC_VALIDATE_BYTES) /* 75 */

/* The cookie of (kx_pk, addr[0..addr_len)) in `bucket` under `secret`.
 * EC_ERR_ARG on NULL pointers or addr_len over 255. */
int ec_cookie_compute(uint8_t out[EC_COOKIE_BYTES],
		      const uint8_t secret[EC_COOKIE_SECRET_BYTES],
		      const uint8_t kx_pk[EC_KX_BYTES], const uint8_t *addr, size_t addr_len,
		      uint64_t bucket);

/* The rotating secrets of one node: secret[0] belongs to `bucket`,
 * secret[1] (when have & 2) to bucket - 1.  Time is the caller's, in ms;
 * bucket = now / EC_COOKIE_BUCKET_MS, never going back (a clock stepping
 * backwards keeps the newest bucket).  New secrets come from libsodium's
 * randombytes. */
typedef struct ec_cookie_jar {
	uint8_t secret[2][EC_COOKIE_SECRET_BYTES];
	uint64_t bucket;
	uint8_t have; /* bit 0: secret[0] set, bit 1: secret[1] set */
} ec_cookie_jar;

void ec_cookie_jar_wipe(ec_cookie_jar *j); /* forgets both secrets */
/* The cookie for (kx_pk, addr) now (rotating the secrets first). */
int ec_cookie_jar_make(ec_cookie_jar *j, uint64_t now_ms, const uint8_t kx_pk[EC_KX_BYTES],
		       const uint8_t *addr, size_t addr_len, uint8_t out[EC_COOKIE_BYTES]);
/* EC_OK when `cookie` is the cookie of (kx_pk, addr) in the current or the
 * previous bucket (constant-time comparison), else EC_ERR_SIGNATURE. */
int ec_cookie_jar_check(ec_cookie_jar *j, uint64_t now_ms, const uint8_t kx_pk[EC_KX_BYTES],
			const uint8_t *addr, size_t addr_len,
			const uint8_t cookie[EC_COOKIE_BYTES]);

/* The 17-byte plaintext of a challenge or echo; kind other than the two:
 * EC_ERR_VALUE. */
int ec_validate_encode(uint8_t out[EC_VALIDATE_BYTES], uint8_t kind,
		       const uint8_t cookie[EC_COOKIE_BYTES]);
/* Parses one: a length other than 17 EC_ERR_SHORT / EC_ERR_TRAILING, an
 * unknown kind EC_ERR_VALUE. */
int ec_validate_parse(uint8_t *kind, uint8_t cookie[EC_COOKIE_BYTES], const uint8_t *p,
		      size_t n);

/* ---- fragments (src/crypto/ec_frag.c; PROTOCOL 16 "Fragments") ------------
 *
 * A message larger than one datagram of the sender's budget is split by
 * the transport into count >= 2 fragments, each the plaintext of its own
 * datagram (own counter, own AEAD tag, header flag EC_DGRAM_FLAG_FRAG):
 *
 *   u64 msg_id     the sender's counter of the first fragment (unique per
 *                  sender for all time, like the counters themselves)
 *   u16 index      0..count-1
 *   u16 count      2..65,535
 *   u32 total      message length, 1..the receiver's maximum
 *   chunk          bytes [index*c, min(total, (index+1)*c)) of the message,
 *                  c = ceil(total / count); every chunk non-empty
 *
 * The chunk length follows from (total, count, index), so a fragment of
 * the wrong length, or one that would overlap another, is inconsistent by
 * construction.  Reassembly (ec_reasm) is sans-I/O: time comes from the
 * caller; memory is bounded per sender and in total. */
#define EC_FRAG_HEADER_BYTES 16
#define EC_FRAG_MAX_COUNT 65535u

typedef struct ec_frag_hdr {
	uint64_t msg_id;
	uint16_t index, count;
	uint32_t total;
	uint32_t offset;    /* index * c */
	uint32_t chunk_len; /* this fragment's bytes */
} ec_frag_hdr;

/* Fragments needed for a message of len bytes when one fragment
 * plaintext may hold max_plain bytes (header included): 0 when max_plain
 * leaves no room for a byte, when len is 0, or when over EC_FRAG_MAX_COUNT. */
size_t ec_frag_count(size_t len, size_t max_plain);

/* Writes fragment `index` of `count` of msg[0..len) (header || chunk) into
 * out (capacity cap); *out_len set.  EC_ERR_VALUE when count/index do not
 * fit len (count < 2, index >= count, an empty chunk), EC_ERR_ARG when cap
 * is too small. */
int ec_frag_make(uint8_t *out, size_t cap, size_t *out_len, uint64_t msg_id,
		 const uint8_t *msg, size_t len, uint16_t index, uint16_t count);

/* Parses and checks a fragment plaintext p[0..n): header fields, count >=
 * 2, index < count, total <= max_total, no empty chunk, and n = 16 + the
 * chunk length the rule gives (EC_ERR_SHORT / EC_ERR_VALUE / EC_ERR_LIMIT /
 * EC_ERR_TRAILING).  The chunk is p + EC_FRAG_HEADER_BYTES. */
int ec_frag_parse(ec_frag_hdr *h, const uint8_t *p, size_t n, uint32_t max_total);

typedef struct ec_reasm_cfg {
	uint32_t max_msg;          /* largest message reassembled (262,144) */
	uint32_t max_partial_peer; /* partial messages per sender (4) */
	uint32_t max_partial;      /* partial messages in total (256) */
	uint32_t max_bytes_peer;   /* buffered bytes per sender, >= max_msg
				    * (1 MiB) */
	uint32_t max_bytes;        /* buffered bytes in total, >= max_bytes_peer
				    * (16 MiB) */
	uint32_t timeout_ms;       /* a message not complete this long after its
				    * first fragment is freed (5,000) */
} ec_reasm_cfg;
void ec_reasm_cfg_default(ec_reasm_cfg *c);

typedef struct ec_reasm_stats {
	uint64_t fragments;    /* accepted into a partial message */
	uint64_t completed;    /* messages handed out */
	uint64_t malformed;    /* ec_frag_parse refused (incl. over max_msg) */
	uint64_t duplicate;    /* index already held */
	uint64_t inconsistent; /* same msg_id, another count or total: the
				* partial message is dropped with it */
	uint64_t timed_out;    /* partial messages freed by the timeout */
	uint64_t evicted;      /* partial messages freed to make room */
	uint64_t held_msgs, held_bytes; /* partial messages and their buffers now */
} ec_reasm_stats;

typedef struct ec_reasm ec_reasm;
/* EC_ERR_VALUE when the limits contradict each other (zero, or
 * max_msg > max_bytes_peer > max_bytes). */
int ec_reasm_new(ec_reasm **out, const ec_reasm_cfg *cfg);
void ec_reasm_free(ec_reasm *r);

/* One authenticated fragment plaintext from sender `peer` (an opaque
 * 32-byte key: the transport key that authenticated it) at time now.
 * EC_OK with *msg NULL: held (or dropped and counted: malformed, duplicate,
 * inconsistent); EC_OK with *msg set: the message is complete, *msg is
 * malloc'd (free() it) and *msg_len its length.  EC_ERR_NOMEM only on
 * allocation failure.  Partial messages past their timeout are freed first. */
int ec_reasm_add(ec_reasm *r, const uint8_t peer[32], const uint8_t *frag, size_t n,
		 uint64_t now, uint8_t **msg, size_t *msg_len);
/* Frees partial messages older than the timeout; the number freed. */
size_t ec_reasm_expire(ec_reasm *r, uint64_t now);
/* Frees every partial message of `peer` (a peer declared dead). */
void ec_reasm_drop_peer(ec_reasm *r, const uint8_t peer[32]);
/* Earliest time a partial message times out; UINT64_MAX when none. */
uint64_t ec_reasm_next_deadline(const ec_reasm *r);
void ec_reasm_get_stats(const ec_reasm *r, ec_reasm_stats *out);

#endif
