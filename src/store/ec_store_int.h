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
	EC_T_META = 0, /* "format" -> u32 */
	EC_T_BLOCKS,   /* block id -> rv, block encoding */
	EC_T_CHAIN,    /* creator, height u64 -> rv, block id */
	EC_T_HEADS,    /* creator -> rv, block id, height */
	EC_T_TXS,      /* txid -> rv, tx encoding */
	EC_T_TXIDX,    /* txid -> rv, block id, position */
	EC_T_TOKENS,   /* token -> rv, two-slot state */
	EC_T_PROOFS,   /* block id -> rv, proof encoding */
	EC_T_PEERS,    /* peer id -> rv, peer record */
	EC_T_PROGRESS, /* chain creator -> rv, sync progress */
	EC_T_SWAPM,    /* peer id -> rv, swap metrics (added in format 1; created
			* on the first read-write open of an older store) */
	EC_T_EVID,     /* peer id, u32 seq -> rv, equivocation evidence (added in
			* format 1 like swapm) */
	EC_T_COUNT
};

/* LMDB DBI names, indexed by enum ec_store_table. */
extern const char *const ec_store_table_names[EC_T_COUNT];

#define EC_STORE_RV 1 /* record version byte that starts every value */

/* put flags */
#define EC_PUT_NOOVERWRITE 1 /* EC_ERR_EXISTS if the key is present */

/* Iteration callback: non-zero stops and is returned by iter. */
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
	void (*close)(ec_store *s);
};

struct ec_store {
	const struct ec_store_ops *ops;
	void *impl;
	uint32_t format;
	int read_only;
	int writer_open; /* a write txn is open on this handle */
};

struct ec_store_txn {
	ec_store *s;
	void *impl;
	int write;
	int err; /* sticky resource failure */
};

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

#endif
