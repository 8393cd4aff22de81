/* store.h - the persistent store: commit blocks, chain heads, transactions,
 * the own-commit tx index, two-slot token state, consensus proofs, peer
 * records and sync progress.
 *
 * One interface, two backends: LMDB (ec_store_open_lmdb, the default for a
 * node) and memory (ec_store_open_memory, for tests and the simulator).
 * Both pass the same test suite (tests/test_store.c).  docs/STORAGE.md
 * documents every table, key and value byte and the format version.
 *
 * Transactions (batches)
 *   Every read and write happens inside an ec_store_txn.  A write txn is a
 *   batch: ec_store_txn_commit makes all of its writes visible at once, or
 *   none of them (also across a crash of the process); with LMDB a commit
 *   costs one fdatasync plus one synchronous meta-page write, never one per
 *   record.  ec_store_txn_abort discards the batch.  One write txn per store
 *   handle at a time (a second begin gets EC_ERR_BUSY); read txns may be
 *   open alongside it.
 *   A write that fails for lack of resources (EC_ERR_FULL, EC_ERR_IO,
 *   EC_ERR_NOMEM) makes the txn failed: every later call on it returns that
 *   error and commit returns it after discarding the whole batch.  Logical
 *   errors (EC_ERR_NOTFOUND, EC_ERR_EXISTS, EC_ERR_ARG) do not fail the txn.
 *
 * Integrity
 *   Every record carries a checksum over its table, key and value, checked
 *   on every read: a record that fails it, or that LMDB cannot read
 *   (MDB_CORRUPTED, MDB_PAGE_NOTFOUND), reads as EC_ERR_CORRUPT, never as
 *   EC_ERR_NOTFOUND, and is reported through the log hook as one line
 *   "store corrupt: TABLE KEYHEX: what".  Once a handle has seen a
 *   corruption it accepts no more writes: write txns fail with
 *   EC_ERR_CORRUPT (a batch computed from a corrupted read never commits);
 *   intact records stay readable.  A per-table digest (record count and
 *   checksum sum) kept with every commit lets ec_store_verify find records
 *   that were lost, duplicated or rolled back; the LMDB open runs it
 *   (docs/STORAGE.md section 6).
 *   ec_store_txn_commit and ec_store_txn_abort always free the txn.
 *
 * Memory ownership
 *   Functions named _raw return a pointer into the store ("borrowed"): valid
 *   until the next write in the same txn or the end of the txn, whichever is
 *   first; never freed by the caller.  Everything else is copied into
 *   caller-supplied structures.
 *
 * The layer is deterministic: it never reads a clock or draws randomness;
 * times are supplied by the caller.
 */
#ifndef EC_STORE_H
#define EC_STORE_H

#include "ec/ec.h"
#include "ec/wire.h"

/* Format version of the on-disk layout (docs/STORAGE.md), kept in the meta
 * table.  Opening a store with a newer version fails with EC_ERR_FORMAT. */
#define EC_STORE_FORMAT 2

/* Log hook: every corruption the store detects as one line "store corrupt:
 * TABLE KEYHEX: what" (corrupt = 1), and progress and summary lines of a
 * verification pass (corrupt = 0). */
typedef void (*ec_store_log_fn)(void *ctx, int corrupt, const char *msg);

/* Largest canonical transaction encoding: 12 + 96*6 + 97*6. */
#define EC_TX_MAX_BYTES (12 + 96 * EC_TX_MAX_ENTRIES + 97 * EC_TX_MAX_ENTRIES)

typedef struct ec_store ec_store;
typedef struct ec_store_txn ec_store_txn;

/* ---- opening ---------------------------------------------------------- */

typedef struct ec_store_opts {
	uint64_t map_size; /* LMDB map size in bytes; 0 = EC_STORE_DEFAULT_MAP */
	int read_only;     /* open without writing anything; write txns refused */
	int no_sync;       /* benchmarks only: commits skip fsync (not durable) */
	int quick_open;    /* skip the verification pass at open (only the
			    * digest's commit id is checked): for tools that
			    * verify separately and tests of the read path */
	int skip_walk;     /* read_only only: skip the structural page walk
			    * (section 6 of docs/STORAGE.md).  The walk reads
			    * the file outside any LMDB transaction, so a writer
			    * committing meanwhile can reuse the pages it reads;
			    * for a reader beside the process that writes the
			    * store (and walked it at its own open) */
	ec_store_log_fn log; /* corruption reports and progress; may be NULL */
	void *log_ctx;
} ec_store_opts;

#define EC_STORE_DEFAULT_MAP (1ull << 30) /* 1 GiB */

/* Opens (or, unless read_only, creates) the store in directory dir (created
 * with mode 0700 if missing) and, unless opts->quick_open, verifies every
 * record (ec_store_verify with EC_VERIFY_OPEN).  opts may be NULL for the
 * defaults.  Every error is also described by a line to opts->log.  Errors:
 *   EC_ERR_FORMAT    the store records another format version (an older
 *                    one has no checksums and is not read; a newer one is
 *                    not understood)
 *   EC_ERR_CORRUPT   data.mdb is not an LMDB file, is truncated, holds
 *                    something that is not an ec store, fails the
 *                    verification, or is older than a commit that was
 *                    completed (a rolled-back meta page)
 *   EC_ERR_READONLY  the directory or files cannot be written (and
 *                    read_only was not asked for)
 *   EC_ERR_NOTFOUND  read_only and there is no store in dir (nothing is
 *                    created)
 *   EC_ERR_FULL      no space to create the store
 *   EC_ERR_PERM, EC_ERR_BUSY, EC_ERR_IO, EC_ERR_NOMEM
 * A failed open writes nothing to the data file. */
int ec_store_open_lmdb(ec_store **out, const char *dir, const ec_store_opts *opts);
/* A fresh, empty in-memory store with the same semantics (deterministic;
 * everything is lost at close). */
int ec_store_open_memory(ec_store **out);
/* Closes the store; any txn still open on it must have been ended. NULL ok. */
void ec_store_close(ec_store *s);
/* Format version recorded in the store (EC_STORE_FORMAT once open). */
uint32_t ec_store_format(const ec_store *s);
/* Sets the log hook (ec_store_opts.log) of an open store. */
void ec_store_set_log(ec_store *s, ec_store_log_fn fn, void *ctx);
/* Corruptions this handle detected since it was opened (0 = none), and the
 * first one's message ("" if none). */
uint64_t ec_store_corruptions(const ec_store *s);
const char *ec_store_first_corruption(const ec_store *s);

/* ---- verification --------------------------------------------------------
 * One pass over every record in one read txn: each record's checksum, key
 * length and order, that a lookup by its key finds it (a damaged B-tree
 * branch can hide a record from lookups but not from a scan), that its
 * value decodes, and each table's record count and checksum sum against
 * the digest written by the last commit, whose commit id must be the
 * store's.  EC_VERIFY_REFS adds the cross-table references: chain index ->
 * block (creator, height), block -> its index entry, head -> chain index,
 * tx index -> block holding the txid at that position and the body, a
 * Local token -> its transaction (touching the token) and tx index entry,
 * proof -> block; blocks and transactions hash to their keys.  Each
 * problem is reported (log hook, at most EC_VERIFY_MAX_REPORTS lines, then
 * a count).  Returns EC_OK (clean), EC_ERR_CORRUPT (problems > 0) or
 * another error that stopped the pass. */
#define EC_VERIFY_OPEN 0 /* what every open runs */
#define EC_VERIFY_REFS 1
#define EC_VERIFY_MAX_REPORTS 50
#define EC_STORE_TABLES 12

typedef struct ec_store_report {
	uint64_t records[EC_STORE_TABLES]; /* per table, ec_store_table_name */
	uint64_t total;
	uint64_t problems;
	uint64_t commit; /* commit id of the verified state */
} ec_store_report;

int ec_store_verify(ec_store *s, unsigned flags, ec_store_report *out);
/* Name of table i (0 .. EC_STORE_TABLES-1), or NULL. */
const char *ec_store_table_name(unsigned i);

/* ---- transactions ------------------------------------------------------ */

int ec_store_txn_begin(ec_store *s, int write, ec_store_txn **out);
/* Commits (write txn) or ends (read txn).  Returns EC_OK, or the txn's
 * failure / the commit's error (EC_ERR_FULL, EC_ERR_IO...), in which case
 * nothing of the batch is visible.  Frees txn. */
int ec_store_txn_commit(ec_store_txn *t);
/* Discards the batch and frees txn.  NULL ok. */
void ec_store_txn_abort(ec_store_txn *t);

/* ---- commit blocks and chain heads ------------------------------------ */

/* Stores a block under b->id and indexes (b->creator, b->height) -> id.
 * enc/len is its canonical wire encoding (trusted to be b's; only its
 * length is checked); enc may be NULL (the store encodes b).  Storing a block already stored under the same id is a no-op
 * (EC_OK).  If (creator, height) already maps to a different block (a fork)
 * EC_ERR_EXISTS and nothing is written.  The store does not verify blocks. */
int ec_store_put_block(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
		       size_t len);
/* Decoded block, EC_ERR_NOTFOUND, or EC_ERR_CORRUPT. */
int ec_store_get_block(ec_store_txn *t, const ec_id *id, ec_block *out);
/* Borrowed wire encoding of the block. */
int ec_store_get_block_raw(ec_store_txn *t, const ec_id *id, const uint8_t **enc,
			   size_t *len);
/* Id of the block of chain `creator` at `height`. */
int ec_store_get_block_at(ec_store_txn *t, const ec_id *creator, uint64_t height,
			  ec_id *id);
int ec_store_has_block(ec_store_txn *t, const ec_id *id); /* 1, 0 or error */
/* Calls fn for the blocks of chain `creator` with height >= from, ascending,
 * until fn returns non-zero (that value is returned) or the chain ends. */
typedef int (*ec_store_chain_fn)(void *ctx, uint64_t height, const ec_id *id);
int ec_store_iter_chain(ec_store_txn *t, const ec_id *creator, uint64_t from,
			ec_store_chain_fn fn, void *ctx);

/* The head of a chain (own or another peer's).  set_head requires the block
 * to be stored with that creator and height (EC_ERR_NOTFOUND /
 * EC_ERR_VALUE otherwise), so a head always points at a stored block. */
int ec_store_set_head(ec_store_txn *t, const ec_id *creator, const ec_id *id,
		      uint64_t height);
int ec_store_get_head(ec_store_txn *t, const ec_id *creator, ec_id *id,
		      uint64_t *height);
typedef int (*ec_store_head_fn)(void *ctx, const ec_id *creator, const ec_id *id,
				uint64_t height);
/* Every known head, ascending by creator. */
int ec_store_iter_heads(ec_store_txn *t, ec_store_head_fn fn, void *ctx);

/* ---- transactions and the own-commit index ----------------------------- */

/* Stores a transaction body under tx->id (enc may be NULL).  Idempotent. */
int ec_store_put_tx(ec_store_txn *t, const ec_tx *tx, const uint8_t *enc, size_t len);
int ec_store_get_tx(ec_store_txn *t, const ec_id *txid, ec_tx *out);
int ec_store_get_tx_raw(ec_store_txn *t, const ec_id *txid, const uint8_t **enc,
			size_t *len);
/* txid -> (own commit block id, position in it).  Own commits only. */
int ec_store_put_tx_index(ec_store_txn *t, const ec_id *txid, const ec_id *block,
			  uint8_t pos);
int ec_store_get_tx_index(ec_store_txn *t, const ec_id *txid, ec_id *block,
			  uint8_t *pos);

/* ---- token state (two slots) -------------------------------------------
 * upstream_notes.md §1.3 / §6.2: `current` is the only slot ever served or
 * voted on; `pending` holds one unconfirmed sync report. */
enum ec_token_source {
	EC_TOKEN_LOCAL = 1,     /* committed by this node's own consensus */
	EC_TOKEN_CONFIRMED = 2, /* reported by two distinct peers */
};

typedef struct ec_token_state {
	uint8_t has_current;
	uint8_t has_pending;
	struct {
		ec_id txid;
		ec_id parent;
		ec_time time;
		uint8_t source; /* enum ec_token_source */
	} current;
	struct {
		ec_id txid;
		ec_id parent;
		ec_time time;
		ec_id source_peer;
	} pending;
} ec_token_state;

/* What apply_sync_update did. */
enum ec_token_change {
	EC_TOKEN_IGNORED = 0,
	EC_TOKEN_PENDING_SET = 1,      /* pending was empty, now holds the report */
	EC_TOKEN_PENDING_REPLACED = 2, /* a higher txid replaced pending */
	EC_TOKEN_CONFIRMED_SET = 3,    /* second peer: current = Confirmed */
};

/* The pure transitions, on a state value (no store involved). */
void ec_token_set_local(ec_token_state *st, const ec_id *txid, const ec_id *parent,
			ec_time time);
int ec_token_apply_sync(ec_token_state *st, const ec_id *txid, const ec_id *parent,
			ec_time time, const ec_id *source_peer);

/* Both slots; EC_ERR_NOTFOUND (and *out zeroed) for an unknown token. */
int ec_store_get_token(ec_store_txn *t, const ec_id *token, ec_token_state *out);
/* Own commit: current = Local(txid), pending cleared. */
int ec_store_set_local(ec_store_txn *t, const ec_id *token, const ec_id *txid,
		       const ec_id *parent, ec_time time);
/* Sync report of `txid` by `source_peer`; *change (may be NULL) receives
 * an enum ec_token_change.  Writes only when the state changes. */
int ec_store_apply_sync_update(ec_store_txn *t, const ec_id *token, const ec_id *txid,
			       const ec_id *parent, ec_time time,
			       const ec_id *source_peer, int *change);

/* Chain sync (docs/PROTOCOL.md 14c): current = Confirmed(txid), pending
 * cleared, when two independent verified chains carry txid and it is the
 * newest transaction of the token's chain of transactions there.  Unlike
 * apply_sync_update this follows the token's history, not the highest id:
 * a newer transfer may have a lower id.  A Local current is never touched
 * (EC_OK, *change = EC_TOKEN_IGNORED); so is a current already = txid.
 * *change (may be NULL): EC_TOKEN_CONFIRMED_SET when written. */
int ec_store_set_chain_state(ec_store_txn *t, const ec_id *token, const ec_id *txid,
			     const ec_id *parent, ec_time time, int *change);

/* ---- own commits -------------------------------------------------------
 * The batch a node writes when it seals a block of its own chain: the
 * block, its (creator, height) index, the chain head, every transaction
 * body, the tx index (txid -> block, position) and current = Local for
 * every token the transactions touch (ec_store_put_own_block_mask: only
 * the tokens the node is responsible for) (parent = the entry's prev, time = the
 * transaction's timestamp).  txs[i] must be the transaction b->txids[i]
 * (EC_ERR_ID otherwise); enc may be NULL.  All in txn t: nothing of it is
 * visible before ec_store_txn_commit. */
int ec_store_put_own_block(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
			   size_t len, const ec_tx *txs);
/* The same with the transactions' canonical encodings supplied (tx_enc[i],
 * tx_len[i] for txs[i]; both NULL = encode them), which saves re-encoding
 * what arrived over the wire. */
int ec_store_put_own_block_enc(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
			       size_t len, const ec_tx *txs,
			       const uint8_t *const *tx_enc, const size_t *tx_len);
/* The same, writing current = Local only for the entries this node is
 * responsible for: local_mask[i] bit e (1u << e) set = entry e of txs[i]
 * gets Local; a clear bit leaves that token's state untouched (bodies, tx
 * index, block and head are written as always).  local_mask NULL = every
 * entry (= ec_store_put_own_block_enc).  A node that witnesses or relays
 * a transaction must not claim a current state it will not keep up to
 * date (docs/PROTOCOL.md section 14b "Seal"; STORAGE.md section 3.1). */
int ec_store_put_own_block_mask(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
				size_t len, const ec_tx *txs,
				const uint8_t *const *tx_enc, const size_t *tx_len,
				const uint8_t *local_mask);

/* ---- consensus proofs (beside their blocks) ----------------------------- */

/* Raw proof encoding (docs/PROTOCOL.md §6) stored by block id. */
int ec_store_put_proof(ec_store_txn *t, const ec_id *block, const uint8_t *p,
		       size_t len);
int ec_store_get_proof_raw(ec_store_txn *t, const ec_id *block, const uint8_t **p,
			   size_t *len);

/* ---- peer records -------------------------------------------------------- */

#define EC_PEER_ADDR_MAX 255

typedef struct ec_peer_rec {
	ec_id peer;                       /* key */
	char addr[EC_PEER_ADDR_MAX + 1];  /* NUL-terminated, e.g. "10.0.0.1:7000" */
	uint8_t sign_pk[EC_PUBKEY_BYTES]; /* lamppost key */
	uint8_t kx_pk[EC_PUBKEY_BYTES];   /* transport key; zero = unknown */
	ec_id head;                       /* last seen chain head; zero = none */
	uint64_t height;
	ec_time head_seen;                /* when that head was seen */
	ec_time last_seen;
	uint64_t n_requests;              /* performance metrics */
	uint64_t n_responses;
	uint64_t n_failures;
	double rtt_ms;                    /* smoothed round-trip time */
	double reputation;
} ec_peer_rec;

/* EC_ERR_ARG if addr is not NUL-terminated within EC_PEER_ADDR_MAX. */
int ec_store_put_peer(ec_store_txn *t, const ec_peer_rec *p);
int ec_store_get_peer(ec_store_txn *t, const ec_id *peer, ec_peer_rec *out);
int ec_store_del_peer(ec_store_txn *t, const ec_id *peer); /* NOTFOUND ok to ignore */
typedef int (*ec_store_peer_fn)(void *ctx, const ec_peer_rec *p);
/* Ascending by peer id; stops when fn returns non-zero (returned). */
int ec_store_iter_peers(ec_store_txn *t, ec_store_peer_fn fn, void *ctx);

/* ---- peer metrics for swapping (table `swapm`, STORAGE.md section 3.4) ----
 * Kept apart from ec_peer_rec, keyed by peer id; written by the swap module
 * (swap.h ec_swap_save).  Counters are windowed by their writer. */

#define EC_PEER_TAG_MAX 31

typedef struct ec_peer_metrics {
	ec_id peer;                         /* key */
	char region[EC_PEER_TAG_MAX + 1];   /* diversity tags, NUL-terminated, */
	char operator_tag[EC_PEER_TAG_MAX + 1]; /* "" = unknown */
	uint64_t n_requests, n_responses;   /* availability */
	uint64_t n_checked, n_agreed;       /* accuracy (n_agreed <= n_checked) */
	uint64_t n_sync;                    /* sync-efficiency samples */
	double sync_sum;                    /* their sum, 0..n_sync */
	uint64_t n_latency;                 /* latency samples */
	double latency_ms;                  /* smoothed response time, >= 0 */
	double reputation;                  /* 0..1 */
	uint32_t n_penalties, n_equivocations;
	ec_time first_seen, updated;
} ec_peer_metrics;

/* EC_ERR_ARG for a tag not NUL-terminated within EC_PEER_TAG_MAX, counts
 * out of order (responses > requests, agreed > checked), a non-finite or
 * out-of-range number (sync_sum outside [0, n_sync], latency < 0,
 * reputation outside [0,1]).  A read record failing the same checks is
 * EC_ERR_CORRUPT. */
int ec_store_put_metrics(ec_store_txn *t, const ec_peer_metrics *m);
int ec_store_get_metrics(ec_store_txn *t, const ec_id *peer, ec_peer_metrics *out);
int ec_store_del_metrics(ec_store_txn *t, const ec_id *peer);
typedef int (*ec_store_metrics_fn)(void *ctx, const ec_peer_metrics *m);
int ec_store_iter_metrics(ec_store_txn *t, ec_store_metrics_fn fn, void *ctx);

/* ---- sync progress per tracked chain ------------------------------------ */

typedef struct ec_sync_progress {
	ec_id chain;        /* creator of the chain being synced (key) */
	ec_id head;         /* target head of this sync */
	uint64_t head_height;
	ec_id low;          /* verified from head down to this block */
	uint64_t low_height;
	ec_time started;
	ec_time updated;
	uint8_t complete;   /* 1: verified down to genesis or to the last sync */
} ec_sync_progress;

int ec_store_put_progress(ec_store_txn *t, const ec_sync_progress *p);
int ec_store_get_progress(ec_store_txn *t, const ec_id *chain, ec_sync_progress *out);
int ec_store_del_progress(ec_store_txn *t, const ec_id *chain);
typedef int (*ec_store_progress_fn)(void *ctx, const ec_sync_progress *p);
int ec_store_iter_progress(ec_store_txn *t, ec_store_progress_fn fn, void *ctx);

/* ---- equivocation evidence (sync, docs/STORAGE.md 3.5) ------------------- */

#define EC_EVIDENCE_MSG_MAX (1u << 20)

typedef struct ec_equiv_evidence {
	ec_id peer;           /* the peer that signed both (key) */
	uint32_t seq;         /* 0, 1, ... per peer (key) */
	ec_time detected;
	const uint8_t *a, *b; /* the two signed messages as received; borrowed,
			       * valid during the callback only */
	size_t a_len, b_len;
} ec_equiv_evidence;

/* Appends one piece of evidence against `peer` (seq = the next free one,
 * returned in *seq if given).  Messages of at most EC_EVIDENCE_MSG_MAX
 * bytes (EC_ERR_ARG otherwise); zero-length allowed. */
int ec_store_add_evidence(ec_store_txn *t, const ec_id *peer, ec_time detected,
			  const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
			  uint32_t *seq);
typedef int (*ec_store_evidence_fn)(void *ctx, const ec_equiv_evidence *e);
/* The evidence against `peer` (NULL = every peer), ascending by (peer,
 * seq); stops when fn returns non-zero (returned). */
int ec_store_iter_evidence(ec_store_txn *t, const ec_id *peer, ec_store_evidence_fn fn,
			   void *ctx);

#endif
