/* ec_store_int.h - what the store's shared logic (ec_store.c) and its two
 * backends (ec_store_lmdb.c, ec_store_mem.c) share.
 *
 * A backend is a transactional ordered key-value store with a fixed set of
 * tables: ec_store.c does every encoding and every typed rule, so the two
 * backends hold byte-identical records and differ only in durability.
 * The key and value layouts are in docs/STORAGE.md.
 */
#ifndef EC_STORE_INT_H
#define EC_STORE_INT_H

#include "ec/store.h"

enum ec_store_table {
	EC_T_META = 0, /* "format" -> u32 (plain); "digest" -> sealed digest */
	EC_T_BLOCKS,   /* block id -> rv, block encoding */
	EC_T_CHAIN,    /* creator, height u64 -> rv, block id */
	EC_T_HEADS,    /* creator -> rv, block id, height */
	EC_T_TXS,      /* txid -> rv, tx encoding */
	EC_T_TXIDX,    /* txid -> rv, block id, position */
	EC_T_TOKENS,   /* token -> rv, two-slot state */
	EC_T_PROOFS,   /* block id -> rv, proof encoding */
	EC_T_PEERS,    /* peer id -> rv, peer record */
	EC_T_PROGRESS, /* chain creator -> rv, sync progress */
	EC_T_SWAPM,    /* peer id -> rv, swap metrics */
	EC_T_EVID,     /* peer id, u32 seq -> rv, equivocation evidence */
	EC_T_COUNT
};

/* LMDB DBI names, indexed by enum ec_store_table. */
extern const char *const ec_store_table_names[EC_T_COUNT];

#define EC_STORE_RV 1 /* record version byte that starts every value */

/* Every stored value but meta/format ends with a seal: the first
 * EC_SEAL_BYTES of SHA-256 over the 4 tag bytes, the table number, the key
 * length (u16), the key and the rest of the value (docs/STORAGE.md
 * section 1). */
#define EC_SEAL_BYTES 8
#define EC_SEAL_TAG "ecS2"

/* meta keys */
#define EC_META_FORMAT "format"
#define EC_META_DIGEST "digest"
/* meta/digest: rv, u64 commit id, then (u64 records, u64 seal sum) for
 * every table but meta, then the seal. */
#define EC_DIGEST_VAL_BYTES (1 + 8 + 16 * (EC_T_COUNT - 1))

/* put flags */
#define EC_PUT_NOOVERWRITE 1 /* EC_ERR_EXISTS if the key is present */

/* Iteration callback: non-zero stops and is returned by iter.  The
 * store's own callbacks return EC_KV_BADREC for a record that does not
 * decode: ec_store_kv_iter reports it and returns EC_ERR_CORRUPT. */
#define EC_KV_BADREC 0x7ec0bad0
typedef int (*ec_kv_fn)(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v,
			size_t vn);

struct ec_store_ops {
	int (*txn_begin)(ec_store *s, int write, void **impl);
	int (*txn_commit)(ec_store *s, void *impl);
	void (*txn_abort)(ec_store *s, void *impl);
	/* EC_OK with a borrowed value, or EC_ERR_NOTFOUND / other error. */
	int (*get)(void *impl, int table, const uint8_t *k, size_t kn,
		   const uint8_t **v, size_t *vn);
	int (*put)(void *impl, int table, const uint8_t *k, size_t kn,
		   const uint8_t *v, size_t vn, int flags);
	int (*del)(void *impl, int table, const uint8_t *k, size_t kn);
	/* Keys >= start (kn bytes) whose first plen bytes equal start's,
	 * ascending (memcmp order, shorter first). */
	int (*iter)(void *impl, int table, const uint8_t *start, size_t kn,
		    size_t plen, ec_kv_fn fn, void *ctx);
	/* The commit id: in a read txn the id of the last commit it sees, in
	 * a write txn the id its commit will have.  Every commit that
	 * changes something gets a larger one. */
	uint64_t (*txn_id)(void *impl);
	/* A description of the backend's last error (for messages), or NULL. */
	const char *(*why)(ec_store *s);
	void (*close)(ec_store *s);
};

#define EC_STORE_MSG_MAX 256

struct ec_store {
	const struct ec_store_ops *ops;
	void *impl;
	uint32_t format;
	int read_only;
	int writer_open; /* a write txn is open on this handle */
	ec_store_log_fn log;
	void *log_ctx;
	uint64_t n_corrupt;               /* corruptions reported so far */
	uint64_t log_limit;               /* nonzero: log only up to this many */
	char first_msg[EC_STORE_MSG_MAX]; /* the first of them */
};

struct ec_store_txn {
	ec_store *s;
	void *impl;
	int write;
	int err;   /* sticky failure */
	int dirty; /* a put or delete succeeded */
	/* what this txn changed, per table: records and seal sum (mod 2^64) */
	int64_t d_count[EC_T_COUNT];
	uint64_t d_sum[EC_T_COUNT];
};

/* ec_store_evidence.c: 0 if (k, v) is a well-formed evidence record. */
int ec_store_evid_check(const uint8_t *k, size_t kn, const uint8_t *v, size_t vn);

/* ec_store_pages.c: the structural walk of an LMDB data file (fd, its page
 * size, the commit id LMDB opened it at); EC_OK, or EC_ERR_CORRUPT with
 * what is wrong in why. */
int ec_store_lmdb_walk(int fd, unsigned psize, uint64_t txnid, char *why, size_t whylen);

/* Backend constructors fill s->ops and s->impl. */
int ec_store_mem_init(ec_store *s);

/* ---- value encodings (also used by bench/bench_store.c for its raw
 * baseline, so both write identical bytes) ---------------------------- */

#define EC_TOKEN_VAL_MAX (2 + 73 + 104) /* rv, flags, current, pending */
#define EC_HEAD_VAL_BYTES (1 + 32 + 8)
#define EC_CHAIN_KEY_BYTES (32 + 8)
#define EC_CHAIN_VAL_BYTES (1 + 32)
#define EC_TXIDX_VAL_BYTES (1 + 32 + 1)
#define EC_PEER_VAL_MAX (1 + 32 + 32 + 32 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 8 + 2 + EC_PEER_ADDR_MAX)
#define EC_PROGRESS_VAL_BYTES (1 + 32 + 8 + 32 + 8 + 8 + 8 + 1)

void ec_store_chain_key(uint8_t k[EC_CHAIN_KEY_BYTES], const ec_id *creator,
			uint64_t height);
void ec_store_chain_val(uint8_t v[EC_CHAIN_VAL_BYTES], const ec_id *id);
void ec_store_head_val(uint8_t v[EC_HEAD_VAL_BYTES], const ec_id *id, uint64_t height);
void ec_store_txidx_val(uint8_t v[EC_TXIDX_VAL_BYTES], const ec_id *block, uint8_t pos);
size_t ec_store_token_val(uint8_t v[EC_TOKEN_VAL_MAX], const ec_token_state *st);
int ec_store_token_parse(ec_token_state *st, const uint8_t *v, size_t n);
/* Writes rv + encoding; returns the length (buf >= 1 + EC_BLOCK_MAX_BYTES). */
size_t ec_store_block_val(uint8_t *buf, const ec_block *b);
/* buf >= 1 + EC_TX_MAX_BYTES; 0 on encode failure. */
size_t ec_store_tx_val(uint8_t *buf, const ec_tx *tx);

/* Maps an errno value to an EC error code. */
int ec_store_errno(int e);

/* ---- sealed records and the shared access path (ec_store.c) ---------- */

/* Appends the seal of (table, k, v[0..vn)) at v + vn. */
void ec_store_seal(int table, const uint8_t *k, size_t kn, uint8_t *v, size_t vn);
/* 1 if v (vn bytes, seal included) has a plausible length for the table
 * and a matching seal; reads nothing past v + vn and nothing at all when
 * the length is implausible. */
int ec_store_sealed_len_ok(int table, size_t vn);
int ec_store_sealed_ok(int table, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn);
/* Reports a corruption "store corrupt: TABLE KEYHEX: what" (counted, kept,
 * passed to the log hook); returns EC_ERR_CORRUPT. */
int ec_store_corrupt(ec_store *s, int table, const uint8_t *k, size_t kn,
		     const char *what);
/* Reports an informational line (progress, summaries) to the log hook. */
void ec_store_info(ec_store *s, const char *msg);
/* Sealed access: get/iter verify and strip the seal (a failure is
 * reported and read as EC_ERR_CORRUPT); put seals and keeps the digest;
 * resource errors fail the txn. */
int ec_store_kv_get(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		    const uint8_t **v, size_t *vn);
int ec_store_kv_put(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		    const uint8_t *v, size_t vn, int flags);
int ec_store_kv_del(ec_store_txn *t, int table, const uint8_t *k, size_t kn);
int ec_store_kv_iter(ec_store_txn *t, int table, const uint8_t *start, size_t kn,
		     size_t plen, ec_kv_fn fn, void *ctx);
/* r, or (for EC_ERR_CORRUPT / EC_KV_BADREC) the report of a record that
 * passed its checksum but does not decode. */
int ec_store_bad(ec_store_txn *t, int table, const uint8_t *k, size_t kn, int r);
/* Runs the checks a newly opened store gets (ec_store_verify with
 * EC_VERIFY_OPEN unless `quick`, else only the digest's commit id);
 * EC_OK or the first error. */
int ec_store_open_check(ec_store *s, int quick);

#endif
