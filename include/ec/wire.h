/* wire.h - the protocol's objects and messages, and their codecs.
 *
 * docs/PROTOCOL.md is the normative description of every byte; this header
 * mirrors it.  All integers are big-endian.  Every encoding starts with
 * a type byte and a version byte (EC_WIRE_VERSION).
 *
 * Codec conventions
 *   ec_X_encode(x, &out, &len)  -> EC_OK, *out malloc'd (caller frees)
 *   ec_X_write(w, x)            -> appends to an ec_wbuf (sticky error)
 *   ec_X_decode(x, p, n)        -> strict: the input must be exactly one X
 *   ec_X_read(c, x)             -> reads one X from a cursor (for embedding)
 * Decoders reject, each with its own code: short input (EC_ERR_SHORT),
 * trailing bytes (EC_ERR_TRAILING), counts over limits (EC_ERR_LIMIT),
 * unknown type (EC_ERR_TYPE) or version (EC_ERR_VERSION), out-of-domain
 * values (EC_ERR_VALUE) and non-canonical order or duplicates
 * (EC_ERR_ORDER).  Decoders never verify signatures; verification is a
 * separate step (cheap checks before crypto before state).
 *
 * Structures are plain values; those holding variable-size parts
 * (ec_proof, ec_block_resp, ec_range_resp) own heap memory released with
 * their _free function, which also accepts a zeroed struct.  A failed
 * decode or read leaves nothing allocated.  Writers refuse (with the
 * decoder's error code) any struct the decoder would reject, and _encode
 * and _decode refuse messages over EC_MSG_MAX_BYTES (EC_ERR_LIMIT).
 */
#ifndef EC_WIRE_H
#define EC_WIRE_H

#include "ec/ec.h"

struct ec_wbuf; /* src/util/ec_buf.h */
struct ec_cur;

#define EC_WIRE_VERSION 1

enum ec_msg_type {
	EC_MSG_TX = 0x01,
	EC_MSG_VOTE = 0x02,
	EC_MSG_BLOCK = 0x03,
	EC_MSG_PROOF = 0x04,
	EC_MSG_MAPPING_REQ = 0x10,
	EC_MSG_MAPPING_RESP = 0x11,
	EC_MSG_TX_REQ = 0x12,
	EC_MSG_TX_RESP = 0x13,
	EC_MSG_BLOCK_REQ = 0x14,
	EC_MSG_BLOCK_RESP = 0x15,
	EC_MSG_RANGE_REQ = 0x16,
	EC_MSG_RANGE_RESP = 0x17,
	EC_MSG_REFUSAL = 0x18,
	EC_MSG_REFERRAL = 0x19,
	EC_MSG_HELLO = 0x1A,
	EC_MSG_TXBATCH_REQ = 0x1B,
	EC_MSG_TXBATCH_RESP = 0x1C,
};

#define EC_NONCE_BYTES 16

/* ---- transaction ---------------------------------------------------------
 * Up to six entries (token, prev, next_key_hash); entries strictly ascending
 * by token.  prev all-zero = creation; next_key_hash all-zero = destruction.
 * Exactly one signature per entry whose prev is non-zero, ascending by entry
 * index; creation entries carry none. */
typedef struct ec_tx_entry {
	ec_id token;
	ec_id prev;     /* id of the token's previous transaction, or zero */
	ec_id next_key; /* hash of the key allowed to make the next update */
} ec_tx_entry;

typedef struct ec_tx_sig {
	uint8_t entry; /* index into entries[] */
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_tx_sig;

typedef struct ec_tx {
	ec_time timestamp;
	uint8_t n_entries; /* 1..EC_TX_MAX_ENTRIES */
	ec_tx_entry entries[EC_TX_MAX_ENTRIES];
	uint8_t n_sigs;
	ec_tx_sig sigs[EC_TX_MAX_ENTRIES];
	ec_id id; /* derived: filled by decode and ec_tx_finalize */
} ec_tx;

int ec_tx_write(struct ec_wbuf *w, const ec_tx *tx);
int ec_tx_encode(const ec_tx *tx, uint8_t **out, size_t *len);
int ec_tx_read(struct ec_cur *c, ec_tx *tx);
int ec_tx_decode(ec_tx *tx, const uint8_t *p, size_t n);
/* Digest every signature signs: H_tag("ec/v1/txsig", encoding up to and
 * including the last entry). */
int ec_tx_sig_digest(const ec_tx *tx, ec_id *out);
/* Checks the structural rules (counts, order, signature set) and computes
 * tx->id = H_tag("ec/v1/txid", full encoding). */
int ec_tx_finalize(ec_tx *tx);
/* Signs entry i with kp: fills/inserts the ec_tx_sig for entry i.
 * EC_ERR_ARG for a creation entry (prev zero): those carry no signature. */
int ec_tx_sign_entry(ec_tx *tx, uint8_t entry, const uint8_t pk[32],
		     const uint8_t sk[64]);
/* Verifies every signature against its own pk (not against owner key
 * hashes: that needs token state, see the node core). */
int ec_tx_verify_sigs(const ec_tx *tx);

/* ---- vote (spec 8.3) ---------------------------------------------------- */
enum ec_vote_flag { EC_VOTE_YES = 1, EC_VOTE_NO = 2 };

typedef struct ec_vote_flag_entry {
	ec_id token;
	uint8_t flag; /* EC_VOTE_YES (+1) or EC_VOTE_NO (-1) */
} ec_vote_flag_entry;

typedef struct ec_vote {
	ec_id txid;
	ec_id voter; /* peer id */
	uint32_t seq; /* vote version: receivers keep the highest */
	ec_time timestamp;
	uint8_t n_flags; /* 1..6, tokens strictly ascending */
	ec_vote_flag_entry flags[EC_TX_MAX_ENTRIES];
	uint8_t n_conflicts; /* 0..8 known conflicting tx ids, ascending */
	ec_id conflicts[EC_VOTE_MAX_CONFLICTS];
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_vote;

int ec_vote_write(struct ec_wbuf *w, const ec_vote *v);
int ec_vote_encode(const ec_vote *v, uint8_t **out, size_t *len);
int ec_vote_read(struct ec_cur *c, ec_vote *v);
int ec_vote_decode(ec_vote *v, const uint8_t *p, size_t n);
int ec_vote_digest(const ec_vote *v, ec_id *out);
int ec_vote_sign(ec_vote *v, const uint8_t sk[64]); /* sets pk from sk */
int ec_vote_verify(const ec_vote *v);

/* ---- commit block (design "Block Structure Definition") ---------------- */
enum ec_jump {
	EC_JUMP_MINUTE = 0,
	EC_JUMP_HOUR,
	EC_JUMP_DAY,
	EC_JUMP_WEEK,
	EC_JUMP_MONTH,
};
/* Delta of each jump reference in ms: 1 min, 1 h, 1 day, 7 days, 30 days. */
extern const uint64_t ec_jump_delta_ms[EC_JUMP_COUNT];

/* Block versions: 1 carries the five time references; 2 adds the skip
 * reference (PROTOCOL.md 5 and 5.1).  In memory a version-1 block has
 * version 0 (a zeroed ec_block is version 1; the decoder stores 0). */
#define EC_BLOCK_V1 1
#define EC_BLOCK_V2 2

typedef struct ec_block {
	ec_id creator; /* peer id of the chain owner */
	uint64_t height; /* genesis = 0 */
	ec_time timestamp;
	ec_id prev; /* zero at genesis */
	ec_id jumps[EC_JUMP_COUNT];
	ec_id skip; /* version 2: id of the block at ec_skip_height(height) */
	ec_id merkle_root;
	ec_id proof_hash; /* H_tag("ec/v1/proof", consensus proof encoding) */
	uint8_t signer_pk[EC_PUBKEY_BYTES]; /* lamppost key that signed */
	uint8_t version; /* EC_BLOCK_V2, or 0 = version 1 */
	uint8_t n_txs; /* 1..32 */
	ec_id txids[EC_BLOCK_MAX_TXS]; /* commit order, no duplicates */
	uint8_t sig[EC_SIG_BYTES];
	ec_id id; /* derived: H_tag("ec/v1/block", encoding without sig) */
} ec_block;

/* Fixed part of a version-1 block (the smallest block); version 2 adds
 * the 32-byte skip reference.  EC_BLOCK_MAX_BYTES is the largest block of
 * either version. */
#define EC_BLOCK_FIXED_BYTES (2 + 32 + 8 + 8 + 32 + 32 * EC_JUMP_COUNT + 32 + 32 + 32 + 1 + 64)
#define EC_BLOCK_V2_FIXED_BYTES (EC_BLOCK_FIXED_BYTES + 32)
#define EC_BLOCK_MAX_BYTES (EC_BLOCK_V2_FIXED_BYTES + 32 * EC_BLOCK_MAX_TXS)

/* Encoded length of b (its version and n_txs, capped at 32). */
size_t ec_block_encoded_len(const ec_block *b);
/* Skip height of a block at height h >= 1 (PROTOCOL.md 5.1); 0 for h 0. */
uint64_t ec_skip_height(uint64_t h);

int ec_block_write(struct ec_wbuf *w, const ec_block *b);
int ec_block_encode(const ec_block *b, uint8_t **out, size_t *len);
/* Encodes into a caller buffer of at least EC_BLOCK_MAX_BYTES; no malloc. */
size_t ec_block_encode_to(const ec_block *b, uint8_t *out);
int ec_block_read(struct ec_cur *c, ec_block *b);
int ec_block_decode(ec_block *b, const uint8_t *p, size_t n);
/* Recomputes the id from the fields (does not touch b->id). */
void ec_block_compute_id(const ec_block *b, ec_id *out);
/* Sets signer_pk, id and sig. */
int ec_block_sign(ec_block *b, const uint8_t sk[64]);

/* ---- consensus proof ------------------------------------------------------
 * For each transaction of a block, in block order, the votes that made the
 * node commit it. */
typedef struct ec_proof_tx {
	ec_id txid;
	uint8_t n_votes; /* 0..EC_PROOF_MAX_VOTES */
	ec_vote *votes;  /* heap */
} ec_proof_tx;

typedef struct ec_proof {
	uint8_t n_txs; /* 1..32 */
	ec_proof_tx txs[EC_BLOCK_MAX_TXS];
} ec_proof;

int ec_proof_write(struct ec_wbuf *w, const ec_proof *p);
int ec_proof_encode(const ec_proof *p, uint8_t **out, size_t *len);
int ec_proof_read(struct ec_cur *c, ec_proof *p);
int ec_proof_decode(ec_proof *p, const uint8_t *bytes, size_t n);
int ec_proof_hash(const ec_proof *p, ec_id *out);
void ec_proof_free(ec_proof *p);

/* ---- signed token-mapping response (design; minefield evidence) ------- */
typedef struct ec_evidence {
	ec_id token;
	ec_id txid;
	ec_time commit_ts;
} ec_evidence;

typedef struct ec_mapping_resp {
	uint8_t nonce[EC_NONCE_BYTES]; /* the requester's nonce, echoed */
	ec_id responder;               /* peer id */
	ec_id token;
	ec_id txid;           /* current transaction of the token; zero = none */
	ec_id owner_key_hash; /* next_key of that transaction's entry */
	ec_id prev_txid;      /* prev of that entry */
	ec_id commit_block;   /* responder's block holding txid */
	ec_time commit_block_ts;
	ec_id head;          /* responder's chain head; zero = empty chain */
	uint64_t height;     /* head height */
	ec_time response_ts;
	uint8_t n_evidence; /* 0..4 latest mappings committed here */
	ec_evidence evidence[EC_RESP_MAX_EVIDENCE];
	uint8_t pk[EC_PUBKEY_BYTES]; /* lamppost key */
	uint8_t sig[EC_SIG_BYTES];
} ec_mapping_resp;

int ec_mapping_resp_write(struct ec_wbuf *w, const ec_mapping_resp *m);
int ec_mapping_resp_encode(const ec_mapping_resp *m, uint8_t **out, size_t *len);
int ec_mapping_resp_read(struct ec_cur *c, ec_mapping_resp *m);
int ec_mapping_resp_decode(ec_mapping_resp *m, const uint8_t *p, size_t n);
int ec_mapping_resp_digest(const ec_mapping_resp *m, ec_id *out);
int ec_mapping_resp_sign(ec_mapping_resp *m, const uint8_t sk[64]);
int ec_mapping_resp_verify(const ec_mapping_resp *m);

/* ---- transaction response ------------------------------------------------ */
typedef struct ec_tx_resp {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	ec_tx tx;
	ec_id commit_block; /* zero while pending */
	uint8_t position;   /* 0..31; 0 while pending */
	uint64_t confirmations; /* head height - block height; 0 while pending */
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_tx_resp;

int ec_tx_resp_write(struct ec_wbuf *w, const ec_tx_resp *r);
int ec_tx_resp_encode(const ec_tx_resp *r, uint8_t **out, size_t *len);
int ec_tx_resp_read(struct ec_cur *c, ec_tx_resp *r);
int ec_tx_resp_decode(ec_tx_resp *r, const uint8_t *p, size_t n);
int ec_tx_resp_digest(const ec_tx_resp *r, ec_id *out);
int ec_tx_resp_sign(ec_tx_resp *r, const uint8_t sk[64]);
int ec_tx_resp_verify(const ec_tx_resp *r);

/* ---- requests: common signed trailer ------------------------------------- */
enum ec_priority {
	EC_PRIO_SYNC = 1,       /* a peer catching up */
	EC_PRIO_VALIDATION = 2, /* checking a claim */
	EC_PRIO_HISTORICAL = 3, /* audit, archive */
};

typedef struct ec_req_auth {
	ec_id requester; /* peer id */
	ec_time timestamp;
	uint8_t nonce[EC_NONCE_BYTES];
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_req_auth;

typedef struct ec_block_req {
	ec_id block_id;
	uint8_t priority; /* enum ec_priority */
	ec_req_auth auth;
} ec_block_req;

int ec_block_req_write(struct ec_wbuf *w, const ec_block_req *r);
int ec_block_req_encode(const ec_block_req *r, uint8_t **out, size_t *len);
int ec_block_req_read(struct ec_cur *c, ec_block_req *r);
int ec_block_req_decode(ec_block_req *r, const uint8_t *p, size_t n);
int ec_block_req_digest(const ec_block_req *r, ec_id *out);
int ec_block_req_sign(ec_block_req *r, const uint8_t sk[64]);
int ec_block_req_verify(const ec_block_req *r);

/* "Up to max_blocks blocks: start, its parent, ... newest first", stopping
 * after genesis, before `stop` (if non-zero), or when the response would pass
 * max_bytes. */
#define EC_RANGE_WITH_PROOFS 0x01
/* Smallest max_bytes: a range response holding one full block without its
 * proof (fixed part 181 bytes + has_proof byte + 1,427 = 1,609). */
#define EC_RANGE_RESP_FIXED_BYTES (2 + EC_NONCE_BYTES + 32 + 32 + 2 + 1 + 32 + 64)
#define EC_RANGE_MIN_MAX_BYTES (EC_RANGE_RESP_FIXED_BYTES + EC_BLOCK_MAX_BYTES + 1)
typedef struct ec_range_req {
	ec_id start;
	ec_id stop;          /* zero = walk to genesis */
	uint16_t max_blocks; /* 1..EC_RANGE_MAX_BLOCKS */
	uint32_t max_bytes;  /* EC_RANGE_MIN_MAX_BYTES..EC_MSG_MAX_BYTES */
	uint8_t flags;       /* EC_RANGE_WITH_PROOFS; other bits zero */
	uint8_t priority;
	ec_req_auth auth;
} ec_range_req;

int ec_range_req_write(struct ec_wbuf *w, const ec_range_req *r);
int ec_range_req_encode(const ec_range_req *r, uint8_t **out, size_t *len);
int ec_range_req_read(struct ec_cur *c, ec_range_req *r);
int ec_range_req_decode(ec_range_req *r, const uint8_t *p, size_t n);
int ec_range_req_digest(const ec_range_req *r, ec_id *out);
int ec_range_req_sign(ec_range_req *r, const uint8_t sk[64]);
int ec_range_req_verify(const ec_range_req *r);

/* ---- block response -------------------------------------------------------
 * An endorsement is another peer's signature over H_tag("ec/v1/endorse",
 * block id): "I hold this block and verified it". */
typedef struct ec_endorsement {
	ec_id peer;
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_endorsement;

int ec_endorsement_sign(ec_endorsement *e, const ec_id *block_id,
			const uint8_t sk[64]);
int ec_endorsement_verify(const ec_endorsement *e, const ec_id *block_id);

typedef struct ec_block_resp {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	ec_block block;
	uint8_t has_proof;
	ec_proof proof; /* valid when has_proof */
	uint8_t n_endorse; /* 0..8 */
	ec_endorsement endorse[EC_RESP_MAX_ENDORSE];
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_block_resp;

int ec_block_resp_write(struct ec_wbuf *w, const ec_block_resp *r);
int ec_block_resp_encode(const ec_block_resp *r, uint8_t **out, size_t *len);
int ec_block_resp_read(struct ec_cur *c, ec_block_resp *r);
int ec_block_resp_decode(ec_block_resp *r, const uint8_t *p, size_t n);
int ec_block_resp_digest(const ec_block_resp *r, ec_id *out);
int ec_block_resp_sign(ec_block_resp *r, const uint8_t sk[64]);
int ec_block_resp_verify(const ec_block_resp *r);
void ec_block_resp_free(ec_block_resp *r);

/* ---- range response ------------------------------------------------------ */
typedef struct ec_range_item {
	ec_block block;
	uint8_t has_proof;
	ec_proof proof;
} ec_range_item;

typedef struct ec_range_resp {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	ec_id start;
	uint16_t n_items; /* 0..EC_RANGE_MAX_BLOCKS, newest first */
	ec_range_item *items; /* heap */
	uint8_t complete; /* 1: reached stop or genesis; 0: cut by limits */
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_range_resp;

int ec_range_resp_write(struct ec_wbuf *w, const ec_range_resp *r);
int ec_range_resp_encode(const ec_range_resp *r, uint8_t **out, size_t *len);
int ec_range_resp_read(struct ec_cur *c, ec_range_resp *r);
int ec_range_resp_decode(ec_range_resp *r, const uint8_t *p, size_t n);
int ec_range_resp_digest(const ec_range_resp *r, ec_id *out);
int ec_range_resp_sign(ec_range_resp *r, const uint8_t sk[64]);
int ec_range_resp_verify(const ec_range_resp *r);
void ec_range_resp_free(ec_range_resp *r);

/* ---- refusal -------------------------------------------------------------- */
enum ec_refusal_reason {
	EC_REFUSE_RATE = 1,     /* per-requester or per-priority rate limit */
	EC_REFUSE_NOTFOUND = 2, /* nothing stored under that id */
	EC_REFUSE_BAD = 3,      /* request malformed or badly signed */
	EC_REFUSE_BUSY = 4,     /* overloaded */
};

typedef struct ec_refusal {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	uint8_t request_type; /* enum ec_msg_type of the refused request */
	uint8_t reason;       /* enum ec_refusal_reason */
	uint32_t retry_after_ms;
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_refusal;

int ec_refusal_write(struct ec_wbuf *w, const ec_refusal *r);
int ec_refusal_encode(const ec_refusal *r, uint8_t **out, size_t *len);
int ec_refusal_read(struct ec_cur *c, ec_refusal *r);
int ec_refusal_decode(ec_refusal *r, const uint8_t *p, size_t n);
int ec_refusal_digest(const ec_refusal *r, ec_id *out);
int ec_refusal_sign(ec_refusal *r, const uint8_t sk[64]);
int ec_refusal_verify(const ec_refusal *r);

/* ---- queries (node core): unsigned, served to anyone ---------------------- */
#define EC_MAPPING_WANT_EVIDENCE 0x01
typedef struct ec_mapping_req {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id token;
	uint8_t flags; /* EC_MAPPING_WANT_EVIDENCE; other bits zero */
} ec_mapping_req;

int ec_mapping_req_write(struct ec_wbuf *w, const ec_mapping_req *r);
int ec_mapping_req_encode(const ec_mapping_req *r, uint8_t **out, size_t *len);
int ec_mapping_req_read(struct ec_cur *c, ec_mapping_req *r);
int ec_mapping_req_decode(ec_mapping_req *r, const uint8_t *p, size_t n);

typedef struct ec_tx_req {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id txid;
} ec_tx_req;

int ec_tx_req_write(struct ec_wbuf *w, const ec_tx_req *r);
int ec_tx_req_encode(const ec_tx_req *r, uint8_t **out, size_t *len);
int ec_tx_req_read(struct ec_cur *c, ec_tx_req *r);
int ec_tx_req_decode(ec_tx_req *r, const uint8_t *p, size_t n);

/* A peer address as the transport sees it (opaque to the core): e.g. an
 * IPv4/IPv6 address and port, or a simulator node number. */
#define EC_ADDR_MAX 32
typedef struct ec_peer_addr {
	ec_id peer;
	uint8_t addr_len; /* 0..EC_ADDR_MAX */
	uint8_t addr[EC_ADDR_MAX]; /* bytes past addr_len zero (writers refuse) */
} ec_peer_addr;

/* "I cannot answer for this address; ask these peers", closest first to
 * target as advice: the codec checks only that no peer id repeats
 * (EC_ERR_ORDER), not the order (docs/PROTOCOL.md 13a). */
#define EC_REFERRAL_MAX 8
typedef struct ec_referral {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	ec_id target; /* the token / address asked about */
	uint8_t n_peers; /* 0..8 */
	ec_peer_addr peers[EC_REFERRAL_MAX];
} ec_referral;

int ec_referral_write(struct ec_wbuf *w, const ec_referral *r);
int ec_referral_encode(const ec_referral *r, uint8_t **out, size_t *len);
int ec_referral_read(struct ec_cur *c, ec_referral *r);
int ec_referral_decode(ec_referral *r, const uint8_t *p, size_t n);

/* ---- hello: a peer announces itself (identity, address, chain head) ----- */
typedef struct ec_hello {
	ec_id peer_id;         /* Argon2id(pk, network, salt), see identity.h */
	uint8_t pk[EC_PUBKEY_BYTES];    /* identity / lamppost signing key */
	uint8_t kx_pk[EC_PUBKEY_BYTES]; /* X25519 transport key (zero if none) */
	uint64_t network_id;
	uint8_t salt[16];
	uint8_t addr_len; /* 0..EC_ADDR_MAX */
	uint8_t addr[EC_ADDR_MAX]; /* bytes past addr_len zero (writers refuse) */
	ec_time timestamp;
	ec_id head;      /* chain head, zero if empty */
	uint64_t height;
	uint8_t sig[EC_SIG_BYTES]; /* by pk over H_tag("ec/v1/hello", ...) */
} ec_hello;

int ec_hello_write(struct ec_wbuf *w, const ec_hello *h);
int ec_hello_encode(const ec_hello *h, uint8_t **out, size_t *len);
int ec_hello_read(struct ec_cur *c, ec_hello *h);
int ec_hello_decode(ec_hello *h, const uint8_t *p, size_t n);
int ec_hello_digest(const ec_hello *h, ec_id *out);
int ec_hello_sign(ec_hello *h, const uint8_t sk[64]);
int ec_hello_verify(const ec_hello *h);

/* ---- tx-batch request / response (docs/PROTOCOL.md 13d; sync) -------------
 * Up to EC_TXBATCH_MAX transaction bodies by id in one exchange.  The
 * request is unsigned (a query, like 0x12); the response carries the bodies
 * the responder holds, in request order, a bitmap of the ones it does not
 * hold (bit i = ids[i] missing; bits >= n_asked zero), and the responder's
 * signature over H_tag("ec/v1/txbatch", encoding without sig).  The bodies
 * are self-authenticating (id = hash of the body): the requester checks
 * each against the id it asked for. */
#define EC_TXBATCH_MAX 64
typedef struct ec_txbatch_req {
	uint8_t nonce[EC_NONCE_BYTES];
	uint8_t n; /* 1..EC_TXBATCH_MAX, no id twice */
	ec_id txids[EC_TXBATCH_MAX];
} ec_txbatch_req;

int ec_txbatch_req_write(struct ec_wbuf *w, const ec_txbatch_req *r);
int ec_txbatch_req_encode(const ec_txbatch_req *r, uint8_t **out, size_t *len);
int ec_txbatch_req_read(struct ec_cur *c, ec_txbatch_req *r);
int ec_txbatch_req_decode(ec_txbatch_req *r, const uint8_t *p, size_t n);

typedef struct ec_txbatch_resp {
	uint8_t nonce[EC_NONCE_BYTES];
	ec_id responder;
	uint8_t n_asked;  /* 1..EC_TXBATCH_MAX: ids in the request */
	uint64_t missing; /* bit i set = the i-th asked id is not held */
	uint8_t n_txs;    /* = n_asked - popcount(missing) */
	ec_tx *txs;       /* heap, n_txs bodies in request order */
	uint8_t pk[EC_PUBKEY_BYTES];
	uint8_t sig[EC_SIG_BYTES];
} ec_txbatch_resp;

int ec_txbatch_resp_write(struct ec_wbuf *w, const ec_txbatch_resp *r);
int ec_txbatch_resp_encode(const ec_txbatch_resp *r, uint8_t **out, size_t *len);
int ec_txbatch_resp_read(struct ec_cur *c, ec_txbatch_resp *r);
int ec_txbatch_resp_decode(ec_txbatch_resp *r, const uint8_t *p, size_t n);
int ec_txbatch_resp_digest(const ec_txbatch_resp *r, ec_id *out);
int ec_txbatch_resp_sign(ec_txbatch_resp *r, const uint8_t sk[64]);
int ec_txbatch_resp_verify(const ec_txbatch_resp *r);
void ec_txbatch_resp_free(ec_txbatch_resp *r);

/* ---- generic ------------------------------------------------------------- */
/* Reads the type and version bytes: EC_OK with *type set, or EC_ERR_SHORT,
 * EC_ERR_TYPE, EC_ERR_VERSION. */
int ec_msg_peek(const uint8_t *p, size_t n, uint8_t *type);
/* Name of a message type ("tx", "block", ...), or NULL if unknown. */
const char *ec_msg_name(uint8_t type);

#endif
