/* tu_store.h - helpers for the store tests: temporary directories and
 * deterministic transactions and blocks (unsigned; the store does not
 * verify). */
#ifndef EC_TU_STORE_H
#define EC_TU_STORE_H

#include "ec/store.h"

/* Creates a fresh directory under $TMPDIR (or /tmp); path receives it. */
void tu_tmpdir(char *path, size_t cap, const char *prefix);
/* Removes a directory and the plain files in it. */
void tu_rmrf(const char *dir);
/* Copies the plain files of src into dst (created). */
void tu_copydir(const char *src, const char *dst);
/* SHA-256 of a file's bytes into out; 0 on success. */
int tu_file_hash(const char *path, ec_id *out);

/* A write / read txn on s (asserted to begin). */
ec_store_txn *tu_wtxn(ec_store *s);
ec_store_txn *tu_rtxn(ec_store *s);

/* A creation transaction with n_entries (1..6) tokens derived from seed;
 * id filled. */
void tu_make_tx(ec_tx *tx, uint64_t seed, unsigned n_entries, ec_time ts);
/* An id derived from (tag, n). */
void tu_id(ec_id *out, const char *tag, uint64_t n);
/* A block of chain `creator` at `height` holding the txs' ids; id filled,
 * sig left zero. */
void tu_make_block(ec_block *b, const ec_id *creator, uint64_t height,
		   const ec_id *prev, ec_time ts, const ec_tx *txs, unsigned n);

/* Writes table/key -> v (vn bytes) straight into the LMDB store in dir, as
 * one LMDB commit the store did not make.  TU_RAW_SEAL appends the
 * record's checksum; TU_RAW_DIGEST also updates meta/digest (count, sum,
 * commit id) so that the commit looks like one of the store's own: what
 * remains is only what the test wrote.  v NULL deletes the record. */
#define TU_RAW_SEAL 1
#define TU_RAW_DIGEST 2
void tu_raw_put(const char *dir, int table, const void *k, size_t kn, const void *v,
		size_t vn, int flags);
/* Reads the raw stored value (seal included) into buf; returns its length. */
size_t tu_raw_get(const char *dir, int table, const void *k, size_t kn, uint8_t *buf,
		  size_t cap);

#endif
