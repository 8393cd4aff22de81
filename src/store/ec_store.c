/* ec_store.c - the store's backend-independent half: transactions with
 * sticky failure, sealed records (a checksum per record, verified on every
 * read) and the per-table digest kept with every commit, corruption
 * reports, every record encoding (docs/STORAGE.md), the typed operations,
 * the own-commit batch and the two-slot token transitions
 * (upstream_notes.md §1.3, §6.2 "Two-slot update").
 *
 * Backends (ec_store_lmdb.c, ec_store_mem.c) only move bytes; this file
 * decides what the bytes are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ec/crypto.h"
#include "store/ec_store_int.h"
#include "util/ec_buf.h"

_Static_assert(EC_STORE_TABLES == EC_T_COUNT, "store.h EC_STORE_TABLES != EC_T_COUNT");

const char *const ec_store_table_names[EC_T_COUNT] = {
	[EC_T_META] = "meta",	    [EC_T_BLOCKS] = "blocks", [EC_T_CHAIN] = "chain",
	[EC_T_HEADS] = "heads",	    [EC_T_TXS] = "txs",	      [EC_T_TXIDX] = "txidx",
	[EC_T_TOKENS] = "tokens",   [EC_T_PROOFS] = "proofs", [EC_T_PEERS] = "peers",
	[EC_T_PROGRESS] = "progress", [EC_T_SWAPM] = "swapm", [EC_T_EVID] = "evidence",
};

int ec_store_errno(int e)
{
	switch (e) {
	case 0:
		return EC_OK;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return EC_ERR_FULL;
	case EROFS:
		return EC_ERR_READONLY;
	case EACCES:
	case EPERM:
		return EC_ERR_PERM;
	case ENOENT:
		return EC_ERR_NOTFOUND;
	case ENOMEM:
		return EC_ERR_NOMEM;
	case EBUSY:
	case EAGAIN:
		return EC_ERR_BUSY;
	default:
		return EC_ERR_IO;
	}
}

uint32_t ec_store_format(const ec_store *s)
{
	return s ? s->format : 0;
}

const char *ec_store_table_name(unsigned i)
{
	return i < EC_T_COUNT ? ec_store_table_names[i] : NULL;
}

void ec_store_set_log(ec_store *s, ec_store_log_fn fn, void *ctx)
{
	if (!s)
		return;
	s->log = fn;
	s->log_ctx = ctx;
}

uint64_t ec_store_corruptions(const ec_store *s)
{
	return s ? s->n_corrupt : 0;
}

const char *ec_store_first_corruption(const ec_store *s)
{
	return s ? s->first_msg : "";
}

/* ---- corruption reports ------------------------------------------------- */

int ec_store_corrupt(ec_store *s, int table, const uint8_t *k, size_t kn,
		     const char *what)
{
	char msg[EC_STORE_MSG_MAX], hex[2 * 40 + 1];
	size_t hn = kn > 40 ? 40 : kn;
	const char *tn = table >= 0 && table < EC_T_COUNT ? ec_store_table_names[table]
							   : "data";
	if (k && kn && table == EC_T_META && kn < sizeof hex) {
		for (size_t i = 0; i < kn; i++) /* meta keys are names */
			hex[i] = k[i] >= 0x21 && k[i] < 0x7f ? (char)k[i] : '?';
		hex[kn] = 0;
		hn = kn;
	} else if (k && kn) {
		ec_hex_encode(hex, k, hn);
	} else {
		hex[0] = '-';
		hex[1] = 0;
	}
	snprintf(msg, sizeof msg, "store corrupt: %s %s%s: %s", tn, hex, kn > hn ? "..." : "",
		 what);
	if (s->n_corrupt++ == 0)
		memcpy(s->first_msg, msg, sizeof msg);
	if (s->log && (!s->log_limit || s->n_corrupt <= s->log_limit))
		s->log(s->log_ctx, 1, msg);
	return EC_ERR_CORRUPT;
}

void ec_store_info(ec_store *s, const char *msg)
{
	if (s->log)
		s->log(s->log_ctx, 0, msg);
}

/* A backend error that means the data file is damaged, with the backend's
 * own words. */
static int backend_corrupt(ec_store *s, int table, const uint8_t *k, size_t kn)
{
	const char *why = s->ops->why ? s->ops->why(s) : NULL;
	return ec_store_corrupt(s, table, k, kn, why ? why : "unreadable record");
}

void ec_store_close(ec_store *s)
{
	if (!s)
		return;
	if (s->ops)
		s->ops->close(s);
	free(s);
}

int ec_store_open_memory(ec_store **out)
{
	ec_store *s;
	int r;
	if (!out)
		return EC_ERR_ARG;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return EC_ERR_NOMEM;
	r = ec_store_mem_init(s);
	if (r != EC_OK) {
		free(s);
		return r;
	}
	s->format = EC_STORE_FORMAT;
	*out = s;
	return EC_OK;
}

/* ---- transactions ------------------------------------------------------ */

static int note(ec_store_txn *t, int r);
static int write_digest(ec_store_txn *t);

int ec_store_txn_begin(ec_store *s, int write, ec_store_txn **out)
{
	ec_store_txn *t;
	int r;
	if (!s || !out)
		return EC_ERR_ARG;
	*out = NULL;
	if (write && s->read_only)
		return EC_ERR_READONLY;
	if (write && s->writer_open)
		return EC_ERR_BUSY;
	if (write && s->n_corrupt)
		return EC_ERR_CORRUPT;
	t = calloc(1, sizeof(*t));
	if (!t)
		return EC_ERR_NOMEM;
	t->s = s;
	t->write = write ? 1 : 0;
	r = s->ops->txn_begin(s, t->write, &t->impl);
	if (r != EC_OK) {
		free(t);
		return r;
	}
	if (t->write)
		s->writer_open = 1;
	*out = t;
	return EC_OK;
}

static void txn_end(ec_store_txn *t)
{
	if (t->write)
		t->s->writer_open = 0;
	free(t);
}

int ec_store_txn_commit(ec_store_txn *t)
{
	int r;
	if (!t)
		return EC_ERR_ARG;
	if (t->write && t->err == EC_OK && t->s->n_corrupt)
		t->err = EC_ERR_CORRUPT;
	if (t->write && t->err == EC_OK && t->dirty)
		(void)note(t, write_digest(t));
	if (t->err != EC_OK) {
		r = t->err;
		t->s->ops->txn_abort(t->s, t->impl);
	} else {
		r = t->s->ops->txn_commit(t->s, t->impl);
	}
	txn_end(t);
	return r;
}

void ec_store_txn_abort(ec_store_txn *t)
{
	if (!t)
		return;
	t->s->ops->txn_abort(t->s, t->impl);
	txn_end(t);
}

/* A resource error fails the txn; logical ones do not. */
static int note(ec_store_txn *t, int r)
{
	if (r == EC_ERR_FULL || r == EC_ERR_IO || r == EC_ERR_NOMEM ||
	    r == EC_ERR_READONLY || r == EC_ERR_PERM || r == EC_ERR_CORRUPT)
		if (t->err == EC_OK)
			t->err = r;
	return r;
}

/* ---- sealed records ----------------------------------------------------- */

/* Largest sealed value per table: a longer one is corrupt without reading
 * it (its length field is damaged; the bytes may lie past the file). */
static size_t val_max(int table)
{
	static const size_t max[EC_T_COUNT] = {
		[EC_T_META] = EC_DIGEST_VAL_BYTES,
		[EC_T_BLOCKS] = 1 + EC_BLOCK_MAX_BYTES,
		[EC_T_CHAIN] = EC_CHAIN_VAL_BYTES,
		[EC_T_HEADS] = EC_HEAD_VAL_BYTES,
		[EC_T_TXS] = 1 + EC_TX_MAX_BYTES,
		[EC_T_TXIDX] = EC_TXIDX_VAL_BYTES,
		[EC_T_TOKENS] = EC_TOKEN_VAL_MAX,
		[EC_T_PROOFS] = 1 + EC_MSG_MAX_BYTES,
		[EC_T_PEERS] = EC_PEER_VAL_MAX,
		[EC_T_PROGRESS] = EC_PROGRESS_VAL_BYTES,
		[EC_T_SWAPM] = 99 + 2 * EC_PEER_TAG_MAX,
		[EC_T_EVID] = 17 + 2 * (size_t)EC_EVIDENCE_MSG_MAX,
	};
	return max[table] + EC_SEAL_BYTES;
}

static void seal_of(uint8_t out[EC_SEAL_BYTES], int table, const uint8_t *k, size_t kn,
		    const uint8_t *v, size_t vn)
{
	/* the domain tag, table and key length in one short header: a value
	 * up to 73 bytes with a 32-byte key costs two SHA-256 blocks */
	uint8_t hdr[7] = {EC_SEAL_TAG[0], EC_SEAL_TAG[1], EC_SEAL_TAG[2], EC_SEAL_TAG[3],
			  (uint8_t)table, (uint8_t)(kn >> 8), (uint8_t)kn};
	ec_hash_ctx h;
	ec_id d;
	ec_hash_init(&h, NULL);
	ec_hash_update(&h, hdr, sizeof hdr);
	ec_hash_update(&h, k, kn);
	ec_hash_update(&h, v, vn);
	ec_hash_final(&h, &d);
	memcpy(out, d.b, EC_SEAL_BYTES);
}

void ec_store_seal(int table, const uint8_t *k, size_t kn, uint8_t *v, size_t vn)
{
	seal_of(v + vn, table, k, kn, v, vn);
}

int ec_store_sealed_len_ok(int table, size_t vn)
{
	return table >= 0 && table < EC_T_COUNT && vn >= EC_SEAL_BYTES + 1 && vn <= val_max(table);
}

int ec_store_sealed_ok(int table, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	uint8_t want[EC_SEAL_BYTES];
	if (table < 0 || table >= EC_T_COUNT || vn < EC_SEAL_BYTES + 1 || vn > val_max(table))
		return 0;
	seal_of(want, table, k, kn, v, vn - EC_SEAL_BYTES);
	return memcmp(want, v + vn - EC_SEAL_BYTES, EC_SEAL_BYTES) == 0;
}

/* Checks the seal at the end of v (vn bytes with it) and strips it. */
static int unseal(ec_store *s, int table, const uint8_t *k, size_t kn, const uint8_t *v,
		  size_t *vn)
{
	uint8_t want[EC_SEAL_BYTES];
	if (*vn < EC_SEAL_BYTES + 1 || *vn > val_max(table))
		return ec_store_corrupt(s, table, k, kn, "record length out of range");
	*vn -= EC_SEAL_BYTES;
	seal_of(want, table, k, kn, v, *vn);
	if (memcmp(want, v + *vn, EC_SEAL_BYTES) != 0)
		return ec_store_corrupt(s, table, k, kn, "checksum mismatch");
	return EC_OK;
}

int ec_store_kv_get(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		    const uint8_t **v, size_t *vn)
{
	int r;
	if (t->err != EC_OK)
		return t->err;
	r = t->s->ops->get(t->impl, table, k, kn, v, vn);
	if (r == EC_ERR_CORRUPT)
		return backend_corrupt(t->s, table, k, kn);
	if (r != EC_OK)
		return r;
	return unseal(t->s, table, k, kn, *v, vn);
}

/* The txn may write: no failure, a write txn, and a store that has not
 * seen corruption (nothing computed from a damaged read is committed). */
static int writable(ec_store_txn *t)
{
	if (t->err != EC_OK)
		return t->err;
	if (!t->write)
		return EC_ERR_READONLY;
	if (t->s->n_corrupt)
		return note(t, EC_ERR_CORRUPT);
	return EC_OK;
}

/* The sum contribution of a sealed value: its seal as a u64. */
static uint64_t seal_sum(const uint8_t *v, size_t vn)
{
	return ec_get_u64(v + vn - EC_SEAL_BYTES);
}

int ec_store_kv_put(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		    const uint8_t *v, size_t vn, int flags)
{
	uint8_t sbuf[1 + EC_BLOCK_MAX_BYTES + EC_SEAL_BYTES], *buf = sbuf;
	const uint8_t *old;
	size_t on;
	uint64_t osum = 0;
	int r, had = 0;
	if ((r = writable(t)) != EC_OK)
		return r;
	if (kn == 0 || kn > 0xffff || vn + EC_SEAL_BYTES > val_max(table))
		return EC_ERR_ARG;
	if (!(flags & EC_PUT_NOOVERWRITE)) {
		/* the replaced record leaves the digest */
		r = t->s->ops->get(t->impl, table, k, kn, &old, &on);
		if (r == EC_OK && !ec_store_sealed_len_ok(table, on))
			r = ec_store_corrupt(t->s, table, k, kn, "record length out of range");
		else if (r == EC_ERR_CORRUPT)
			r = backend_corrupt(t->s, table, k, kn);
		if (r == EC_OK) {
			had = 1;
			osum = seal_sum(old, on);
		} else if (r != EC_ERR_NOTFOUND) {
			return note(t, r);
		}
	}
	if (vn + EC_SEAL_BYTES > sizeof sbuf && !(buf = malloc(vn + EC_SEAL_BYTES)))
		return note(t, EC_ERR_NOMEM);
	memcpy(buf, v, vn);
	ec_store_seal(table, k, kn, buf, vn);
	r = t->s->ops->put(t->impl, table, k, kn, buf, vn + EC_SEAL_BYTES, flags);
	if (r == EC_OK) {
		t->dirty = 1;
		t->d_sum[table] += seal_sum(buf, vn + EC_SEAL_BYTES) - osum;
		t->d_count[table] += !had;
	}
	if (buf != sbuf)
		free(buf);
	return note(t, r);
}

int ec_store_kv_del(ec_store_txn *t, int table, const uint8_t *k, size_t kn)
{
	const uint8_t *old;
	size_t on;
	uint64_t osum;
	int r;
	if ((r = writable(t)) != EC_OK)
		return r;
	r = t->s->ops->get(t->impl, table, k, kn, &old, &on);
	if (r == EC_OK && !ec_store_sealed_len_ok(table, on))
		r = ec_store_corrupt(t->s, table, k, kn, "record length out of range");
	else if (r == EC_ERR_CORRUPT)
		r = backend_corrupt(t->s, table, k, kn);
	if (r != EC_OK)
		return note(t, r);
	osum = seal_sum(old, on);
	r = t->s->ops->del(t->impl, table, k, kn);
	if (r == EC_OK) {
		t->dirty = 1;
		t->d_sum[table] -= osum;
		t->d_count[table]--;
	}
	return note(t, r);
}

struct sealed_iter {
	ec_store *s;
	int table;
	ec_kv_fn fn;
	void *ctx;
	int stopped; /* the backend did not fail: a record or fn stopped it */
};

static int sealed_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct sealed_iter *si = ctx;
	int r = unseal(si->s, si->table, k, kn, v, &vn);
	if (r == EC_OK)
		r = si->fn(si->ctx, k, kn, v, vn);
	if (r == EC_KV_BADREC)
		r = ec_store_corrupt(si->s, si->table, k, kn, "record does not decode");
	si->stopped = r != 0;
	return r;
}

int ec_store_kv_iter(ec_store_txn *t, int table, const uint8_t *start, size_t kn,
		     size_t plen, ec_kv_fn fn, void *ctx)
{
	struct sealed_iter si = {t->s, table, fn, ctx, 0};
	int r;
	if (t->err != EC_OK)
		return t->err;
	r = t->s->ops->iter(t->impl, table, start, kn, plen, sealed_cb, &si);
	if (r == EC_ERR_CORRUPT && !si.stopped)
		return backend_corrupt(t->s, table, start, kn);
	return r;
}

int ec_store_bad(ec_store_txn *t, int table, const uint8_t *k, size_t kn, int r)
{
	if (r == EC_ERR_CORRUPT || r == EC_KV_BADREC)
		return ec_store_corrupt(t->s, table, k, kn, "record does not decode");
	return r;
}

/* ---- the digest (meta/digest) ---------------------------------------------- */

/* Adds the txn's changes to meta/digest, stamped with the txn's commit id. */
static int write_digest(ec_store_txn *t)
{
	uint8_t d[EC_DIGEST_VAL_BYTES];
	const uint8_t *v;
	size_t vn;
	int r = ec_store_kv_get(t, EC_T_META, (const uint8_t *)EC_META_DIGEST,
				strlen(EC_META_DIGEST), &v, &vn);
	if (r == EC_ERR_NOTFOUND) {
		memset(d, 0, sizeof d);
	} else if (r != EC_OK) {
		return r;
	} else if (vn != sizeof d || v[0] != EC_STORE_RV) {
		return ec_store_corrupt(t->s, EC_T_META, (const uint8_t *)EC_META_DIGEST,
					strlen(EC_META_DIGEST), "digest does not decode");
	} else {
		memcpy(d, v, sizeof d);
	}
	d[0] = EC_STORE_RV;
	ec_put_u64(d + 1, t->s->ops->txn_id(t->impl));
	for (int i = 1; i < EC_T_COUNT; i++) {
		uint8_t *e = d + 9 + 16 * (i - 1);
		uint64_t n = ec_get_u64(e);
		if (t->d_count[i] < 0 && (uint64_t)-t->d_count[i] > n)
			return ec_store_corrupt(t->s, EC_T_META,
						(const uint8_t *)EC_META_DIGEST,
						strlen(EC_META_DIGEST),
						"digest counts fewer records than are deleted");
		ec_put_u64(e, n + (uint64_t)t->d_count[i]);
		ec_put_u64(e + 8, ec_get_u64(e + 8) + t->d_sum[i]);
	}
	return ec_store_kv_put(t, EC_T_META, (const uint8_t *)EC_META_DIGEST,
			       strlen(EC_META_DIGEST), d, sizeof d, 0);
}

static int kv_get(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		  const uint8_t **v, size_t *vn)
{
	return ec_store_kv_get(t, table, k, kn, v, vn);
}

static int kv_put(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		  const uint8_t *v, size_t vn, int flags)
{
	return ec_store_kv_put(t, table, k, kn, v, vn, flags);
}

static int kv_del(ec_store_txn *t, int table, const uint8_t *k, size_t kn)
{
	return ec_store_kv_del(t, table, k, kn);
}

static int kv_iter(ec_store_txn *t, int table, const uint8_t *start, size_t kn,
		   size_t plen, ec_kv_fn fn, void *ctx)
{
	return ec_store_kv_iter(t, table, start, kn, plen, fn, ctx);
}

/* Gets a value whose first byte must be the record version; returns the
 * rest. */
static int get_rec(ec_store_txn *t, int table, const uint8_t *k, size_t kn,
		   const uint8_t **v, size_t *vn)
{
	int r = kv_get(t, table, k, kn, v, vn);
	if (r != EC_OK)
		return r;
	if (*vn < 1 || (*v)[0] != EC_STORE_RV)
		return ec_store_bad(t, table, k, kn, EC_ERR_CORRUPT);
	(*v)++;
	(*vn)--;
	return EC_OK;
}

/* A value that is rv + a wire encoding (blocks, txs, proofs). */
static size_t wire_val(uint8_t *val, const uint8_t *enc, size_t len)
{
	val[0] = EC_STORE_RV;
	memcpy(val + 1, enc, len);
	return 1 + len;
}

#define TXN_CHECK(t)                                                           \
	do {                                                                   \
		if (!(t))                                                      \
			return EC_ERR_ARG;                                     \
	} while (0)

/* ---- encodings ---------------------------------------------------------- */

void ec_store_chain_key(uint8_t k[EC_CHAIN_KEY_BYTES], const ec_id *creator,
			uint64_t height)
{
	memcpy(k, creator->b, 32);
	ec_put_u64(k + 32, height);
}

void ec_store_chain_val(uint8_t v[EC_CHAIN_VAL_BYTES], const ec_id *id)
{
	v[0] = EC_STORE_RV;
	memcpy(v + 1, id->b, 32);
}

void ec_store_head_val(uint8_t v[EC_HEAD_VAL_BYTES], const ec_id *id, uint64_t height)
{
	v[0] = EC_STORE_RV;
	memcpy(v + 1, id->b, 32);
	ec_put_u64(v + 33, height);
}

void ec_store_txidx_val(uint8_t v[EC_TXIDX_VAL_BYTES], const ec_id *block, uint8_t pos)
{
	v[0] = EC_STORE_RV;
	memcpy(v + 1, block->b, 32);
	v[33] = pos;
}

#define TOK_HAS_CURRENT 0x01
#define TOK_HAS_PENDING 0x02

size_t ec_store_token_val(uint8_t v[EC_TOKEN_VAL_MAX], const ec_token_state *st)
{
	uint8_t *p = v;
	*p++ = EC_STORE_RV;
	*p++ = (uint8_t)((st->has_current ? TOK_HAS_CURRENT : 0) |
			 (st->has_pending ? TOK_HAS_PENDING : 0));
	if (st->has_current) {
		memcpy(p, st->current.txid.b, 32);
		memcpy(p + 32, st->current.parent.b, 32);
		ec_put_u64(p + 64, st->current.time);
		p[72] = st->current.source;
		p += 73;
	}
	if (st->has_pending) {
		memcpy(p, st->pending.txid.b, 32);
		memcpy(p + 32, st->pending.parent.b, 32);
		ec_put_u64(p + 64, st->pending.time);
		memcpy(p + 72, st->pending.source_peer.b, 32);
		p += 104;
	}
	return (size_t)(p - v);
}

int ec_store_token_parse(ec_token_state *st, const uint8_t *v, size_t n)
{
	ec_cur c;
	uint8_t flags;
	memset(st, 0, sizeof(*st));
	ec_cur_init(&c, v, n);
	if (ec_cur_u8(&c) != EC_STORE_RV)
		return EC_ERR_CORRUPT;
	flags = ec_cur_u8(&c);
	if (flags & ~(TOK_HAS_CURRENT | TOK_HAS_PENDING))
		return EC_ERR_CORRUPT;
	if (flags & TOK_HAS_CURRENT) {
		st->has_current = 1;
		ec_cur_bytes(&c, st->current.txid.b, 32);
		ec_cur_bytes(&c, st->current.parent.b, 32);
		st->current.time = ec_cur_u64(&c);
		st->current.source = ec_cur_u8(&c);
		if (st->current.source != EC_TOKEN_LOCAL &&
		    st->current.source != EC_TOKEN_CONFIRMED)
			return EC_ERR_CORRUPT;
	}
	if (flags & TOK_HAS_PENDING) {
		st->has_pending = 1;
		ec_cur_bytes(&c, st->pending.txid.b, 32);
		ec_cur_bytes(&c, st->pending.parent.b, 32);
		st->pending.time = ec_cur_u64(&c);
		ec_cur_bytes(&c, st->pending.source_peer.b, 32);
	}
	return ec_cur_finish(&c) == EC_OK ? EC_OK : EC_ERR_CORRUPT;
}

size_t ec_store_block_val(uint8_t *buf, const ec_block *b)
{
	buf[0] = EC_STORE_RV;
	return 1 + ec_block_encode_to(b, buf + 1);
}

size_t ec_store_tx_val(uint8_t *buf, const ec_tx *tx)
{
	uint8_t *enc;
	size_t len;
	if (ec_tx_encode(tx, &enc, &len) != EC_OK || len > EC_TX_MAX_BYTES) {
		return 0;
	}
	buf[0] = EC_STORE_RV;
	memcpy(buf + 1, enc, len);
	free(enc);
	return 1 + len;
}

/* ---- blocks and heads ----------------------------------------------------- */

int ec_store_put_block(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
		       size_t len)
{
	uint8_t val[1 + EC_BLOCK_MAX_BYTES];
	uint8_t ck[EC_CHAIN_KEY_BYTES], cv[EC_CHAIN_VAL_BYTES];
	const uint8_t *old;
	size_t vn, oldn;
	int r;
	TXN_CHECK(t);
	if (!b || b->n_txs > EC_BLOCK_MAX_TXS ||
	    (enc && len != ec_block_encoded_len(b)))
		return EC_ERR_ARG;
	vn = enc ? wire_val(val, enc, len) : ec_store_block_val(val, b);
	/* (creator, height) first: a fork is refused before anything is written */
	ec_store_chain_key(ck, &b->creator, b->height);
	r = get_rec(t, EC_T_CHAIN, ck, sizeof ck, &old, &oldn);
	if (r == EC_OK) {
		if (oldn != 32)
			return ec_store_bad(t, EC_T_CHAIN, ck, sizeof ck, EC_ERR_CORRUPT);
		return memcmp(old, b->id.b, 32) == 0 ? EC_OK : EC_ERR_EXISTS;
	}
	if (r != EC_ERR_NOTFOUND)
		return r;
	r = kv_put(t, EC_T_BLOCKS, b->id.b, 32, val, vn, EC_PUT_NOOVERWRITE);
	if (r == EC_ERR_EXISTS)
		return ec_store_corrupt(t->s, EC_T_BLOCKS, b->id.b, 32,
					"block stored but not indexed");
	if (r != EC_OK)
		return r;
	ec_store_chain_val(cv, &b->id);
	return kv_put(t, EC_T_CHAIN, ck, sizeof ck, cv, sizeof cv, 0);
}

/* The borrowed wire encoding stored under id. */
static int get_wire(ec_store_txn *t, int table, const ec_id *id, const uint8_t **enc,
		    size_t *len)
{
	TXN_CHECK(t);
	if (!id || !enc || !len)
		return EC_ERR_ARG;
	return get_rec(t, table, id->b, 32, enc, len);
}

int ec_store_get_block_raw(ec_store_txn *t, const ec_id *id, const uint8_t **enc,
			   size_t *len)
{
	return get_wire(t, EC_T_BLOCKS, id, enc, len);
}

int ec_store_get_block(ec_store_txn *t, const ec_id *id, ec_block *out)
{
	const uint8_t *p;
	size_t n;
	int r;
	if (!out)
		return EC_ERR_ARG;
	r = ec_store_get_block_raw(t, id, &p, &n);
	if (r != EC_OK)
		return r;
	if (ec_block_decode(out, p, n) != EC_OK)
		return ec_store_bad(t, EC_T_BLOCKS, id->b, 32, EC_ERR_CORRUPT);
	return EC_OK;
}

int ec_store_has_block(ec_store_txn *t, const ec_id *id)
{
	const uint8_t *p;
	size_t n;
	int r = ec_store_get_block_raw(t, id, &p, &n);
	if (r == EC_OK)
		return 1;
	return r == EC_ERR_NOTFOUND ? 0 : r;
}

int ec_store_get_block_at(ec_store_txn *t, const ec_id *creator, uint64_t height,
			  ec_id *id)
{
	uint8_t ck[EC_CHAIN_KEY_BYTES];
	const uint8_t *v;
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!creator || !id)
		return EC_ERR_ARG;
	ec_store_chain_key(ck, creator, height);
	r = get_rec(t, EC_T_CHAIN, ck, sizeof ck, &v, &vn);
	if (r != EC_OK)
		return r;
	if (vn != 32)
		return ec_store_bad(t, EC_T_CHAIN, ck, sizeof ck, EC_ERR_CORRUPT);
	memcpy(id->b, v, 32);
	return EC_OK;
}

struct chain_iter {
	ec_store_chain_fn fn;
	void *ctx;
};

static int chain_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct chain_iter *ci = ctx;
	ec_id id;
	if (kn != EC_CHAIN_KEY_BYTES || vn != EC_CHAIN_VAL_BYTES || v[0] != EC_STORE_RV)
		return EC_KV_BADREC;
	memcpy(id.b, v + 1, 32);
	return ci->fn(ci->ctx, ec_get_u64(k + 32), &id);
}

int ec_store_iter_chain(ec_store_txn *t, const ec_id *creator, uint64_t from,
			ec_store_chain_fn fn, void *ctx)
{
	uint8_t ck[EC_CHAIN_KEY_BYTES];
	struct chain_iter ci = {fn, ctx};
	TXN_CHECK(t);
	if (!creator || !fn)
		return EC_ERR_ARG;
	ec_store_chain_key(ck, creator, from);
	return kv_iter(t, EC_T_CHAIN, ck, sizeof ck, 32, chain_cb, &ci);
}

int ec_store_set_head(ec_store_txn *t, const ec_id *creator, const ec_id *id,
		      uint64_t height)
{
	uint8_t v[EC_HEAD_VAL_BYTES];
	ec_id at;
	int r;
	TXN_CHECK(t);
	if (!creator || !id)
		return EC_ERR_ARG;
	r = ec_store_get_block_at(t, creator, height, &at);
	if (r != EC_OK)
		return r;
	if (!ec_id_eq(&at, id))
		return EC_ERR_VALUE;
	ec_store_head_val(v, id, height);
	return kv_put(t, EC_T_HEADS, creator->b, 32, v, sizeof v, 0);
}

static int head_parse(const uint8_t *v, size_t vn, ec_id *id, uint64_t *height)
{
	if (vn != EC_HEAD_VAL_BYTES || v[0] != EC_STORE_RV)
		return EC_ERR_CORRUPT;
	if (id)
		memcpy(id->b, v + 1, 32);
	if (height)
		*height = ec_get_u64(v + 33);
	return EC_OK;
}

int ec_store_get_head(ec_store_txn *t, const ec_id *creator, ec_id *id,
		      uint64_t *height)
{
	const uint8_t *v;
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!creator)
		return EC_ERR_ARG;
	r = kv_get(t, EC_T_HEADS, creator->b, 32, &v, &vn);
	if (r != EC_OK)
		return r;
	return ec_store_bad(t, EC_T_HEADS, creator->b, 32, head_parse(v, vn, id, height));
}

struct head_iter {
	ec_store_head_fn fn;
	void *ctx;
};

static int head_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct head_iter *hi = ctx;
	ec_id creator, id;
	uint64_t h;
	if (kn != 32 || head_parse(v, vn, &id, &h) != EC_OK)
		return EC_KV_BADREC;
	memcpy(creator.b, k, 32);
	return hi->fn(hi->ctx, &creator, &id, h);
}

int ec_store_iter_heads(ec_store_txn *t, ec_store_head_fn fn, void *ctx)
{
	struct head_iter hi = {fn, ctx};
	TXN_CHECK(t);
	if (!fn)
		return EC_ERR_ARG;
	return kv_iter(t, EC_T_HEADS, (const uint8_t *)"", 0, 0, head_cb, &hi);
}

/* ---- transactions and the tx index ------------------------------------------ */

int ec_store_put_tx(ec_store_txn *t, const ec_tx *tx, const uint8_t *enc, size_t len)
{
	uint8_t val[1 + EC_TX_MAX_BYTES];
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!tx || (enc && (len < 2 || len > EC_TX_MAX_BYTES)))
		return EC_ERR_ARG;
	vn = enc ? wire_val(val, enc, len) : ec_store_tx_val(val, tx);
	if (!vn)
		return EC_ERR_ARG;
	r = kv_put(t, EC_T_TXS, tx->id.b, 32, val, vn, EC_PUT_NOOVERWRITE);
	return r == EC_ERR_EXISTS ? EC_OK : r;
}

int ec_store_get_tx_raw(ec_store_txn *t, const ec_id *txid, const uint8_t **enc,
			size_t *len)
{
	return get_wire(t, EC_T_TXS, txid, enc, len);
}

int ec_store_get_tx(ec_store_txn *t, const ec_id *txid, ec_tx *out)
{
	const uint8_t *p;
	size_t n;
	int r;
	if (!out)
		return EC_ERR_ARG;
	r = ec_store_get_tx_raw(t, txid, &p, &n);
	if (r != EC_OK)
		return r;
	if (ec_tx_decode(out, p, n) != EC_OK)
		return ec_store_bad(t, EC_T_TXS, txid->b, 32, EC_ERR_CORRUPT);
	return EC_OK;
}

int ec_store_put_tx_index(ec_store_txn *t, const ec_id *txid, const ec_id *block,
			  uint8_t pos)
{
	uint8_t v[EC_TXIDX_VAL_BYTES];
	TXN_CHECK(t);
	if (!txid || !block || pos >= EC_BLOCK_MAX_TXS)
		return EC_ERR_ARG;
	ec_store_txidx_val(v, block, pos);
	return kv_put(t, EC_T_TXIDX, txid->b, 32, v, sizeof v, 0);
}

int ec_store_get_tx_index(ec_store_txn *t, const ec_id *txid, ec_id *block,
			  uint8_t *pos)
{
	const uint8_t *v;
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!txid)
		return EC_ERR_ARG;
	r = get_rec(t, EC_T_TXIDX, txid->b, 32, &v, &vn);
	if (r != EC_OK)
		return r;
	if (vn != 33 || v[32] >= EC_BLOCK_MAX_TXS)
		return ec_store_bad(t, EC_T_TXIDX, txid->b, 32, EC_ERR_CORRUPT);
	if (block)
		memcpy(block->b, v, 32);
	if (pos)
		*pos = v[32];
	return EC_OK;
}

/* ---- two-slot token state ------------------------------------------------------
 * upstream_notes.md §6.2, "Two-slot update" (MemTokens::apply_sync_update):
 *   (None, None)            -> pending(A)
 *   (None, P(A))  same txid, different peer -> current = Confirmed, pending cleared
 *                 higher txid               -> replace pending
 *                 else                      -> ignore
 *   (Current C, *) txid <= C                -> ignore
 *                  txid > C: no pending     -> pending
 *                            pending same txid, different peer -> Confirmed
 *                            higher than pending -> replace pending
 *                            else           -> ignore
 *   Own commits always set current = Local and clear pending.
 * Ids compare lexicographically (memcmp). */

void ec_token_set_local(ec_token_state *st, const ec_id *txid, const ec_id *parent,
			ec_time time)
{
	memset(st, 0, sizeof(*st));
	st->has_current = 1;
	st->current.txid = *txid;
	st->current.parent = *parent;
	st->current.time = time;
	st->current.source = EC_TOKEN_LOCAL;
}

static void set_pending(ec_token_state *st, const ec_id *txid, const ec_id *parent,
			ec_time time, const ec_id *peer)
{
	st->has_pending = 1;
	st->pending.txid = *txid;
	st->pending.parent = *parent;
	st->pending.time = time;
	st->pending.source_peer = *peer;
}

int ec_token_apply_sync(ec_token_state *st, const ec_id *txid, const ec_id *parent,
			ec_time time, const ec_id *peer)
{
	int c;
	if (st->has_current && ec_id_cmp(txid, &st->current.txid) <= 0)
		return EC_TOKEN_IGNORED;
	if (!st->has_pending) {
		set_pending(st, txid, parent, time, peer);
		return EC_TOKEN_PENDING_SET;
	}
	c = ec_id_cmp(txid, &st->pending.txid);
	if (c == 0) {
		if (ec_id_eq(peer, &st->pending.source_peer))
			return EC_TOKEN_IGNORED;
		/* confirmed by a second peer: the pending report's parent and
		 * time, which match this one's for the same txid */
		st->has_current = 1;
		st->current.txid = st->pending.txid;
		st->current.parent = st->pending.parent;
		st->current.time = st->pending.time;
		st->current.source = EC_TOKEN_CONFIRMED;
		st->has_pending = 0;
		memset(&st->pending, 0, sizeof(st->pending));
		return EC_TOKEN_CONFIRMED_SET;
	}
	if (c > 0) {
		set_pending(st, txid, parent, time, peer);
		return EC_TOKEN_PENDING_REPLACED;
	}
	return EC_TOKEN_IGNORED;
}

int ec_store_get_token(ec_store_txn *t, const ec_id *token, ec_token_state *out)
{
	const uint8_t *v;
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!token || !out)
		return EC_ERR_ARG;
	memset(out, 0, sizeof(*out));
	r = kv_get(t, EC_T_TOKENS, token->b, 32, &v, &vn);
	if (r != EC_OK)
		return r;
	return ec_store_bad(t, EC_T_TOKENS, token->b, 32, ec_store_token_parse(out, v, vn));
}

static int put_token(ec_store_txn *t, const ec_id *token, const ec_token_state *st)
{
	uint8_t v[EC_TOKEN_VAL_MAX];
	size_t n = ec_store_token_val(v, st);
	return kv_put(t, EC_T_TOKENS, token->b, 32, v, n, 0);
}

int ec_store_set_local(ec_store_txn *t, const ec_id *token, const ec_id *txid,
		       const ec_id *parent, ec_time time)
{
	ec_token_state st;
	TXN_CHECK(t);
	if (!token || !txid || !parent)
		return EC_ERR_ARG;
	ec_token_set_local(&st, txid, parent, time);
	return put_token(t, token, &st);
}

int ec_store_set_chain_state(ec_store_txn *t, const ec_id *token, const ec_id *txid,
			     const ec_id *parent, ec_time time, int *change)
{
	ec_token_state st;
	int r;
	TXN_CHECK(t);
	if (change)
		*change = EC_TOKEN_IGNORED;
	if (!token || !txid || !parent)
		return EC_ERR_ARG;
	r = ec_store_get_token(t, token, &st);
	if (r != EC_OK && r != EC_ERR_NOTFOUND)
		return r;
	if (st.has_current && st.current.source == EC_TOKEN_LOCAL)
		return EC_OK; /* a local commit is never replaced */
	if (st.has_current && !st.has_pending && ec_id_eq(&st.current.txid, txid))
		return EC_OK;
	memset(&st, 0, sizeof st);
	st.has_current = 1;
	st.current.txid = *txid;
	st.current.parent = *parent;
	st.current.time = time;
	st.current.source = EC_TOKEN_CONFIRMED;
	if ((r = put_token(t, token, &st)) != EC_OK)
		return r;
	if (change)
		*change = EC_TOKEN_CONFIRMED_SET;
	return EC_OK;
}

int ec_store_apply_sync_update(ec_store_txn *t, const ec_id *token, const ec_id *txid,
			       const ec_id *parent, ec_time time,
			       const ec_id *source_peer, int *change)
{
	ec_token_state st;
	int r, c;
	TXN_CHECK(t);
	if (change)
		*change = EC_TOKEN_IGNORED;
	if (!token || !txid || !parent || !source_peer)
		return EC_ERR_ARG;
	r = ec_store_get_token(t, token, &st);
	if (r != EC_OK && r != EC_ERR_NOTFOUND)
		return r;
	c = ec_token_apply_sync(&st, txid, parent, time, source_peer);
	if (c != EC_TOKEN_IGNORED) {
		r = put_token(t, token, &st);
		if (r != EC_OK)
			return r;
	}
	if (change)
		*change = c;
	return EC_OK;
}

/* ---- own commits ------------------------------------------------------------------ */

int ec_store_put_own_block(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
			   size_t len, const ec_tx *txs)
{
	return ec_store_put_own_block_enc(t, b, enc, len, txs, NULL, NULL);
}

int ec_store_put_own_block_enc(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
			       size_t len, const ec_tx *txs,
			       const uint8_t *const *tx_enc, const size_t *tx_len)
{
	return ec_store_put_own_block_mask(t, b, enc, len, txs, tx_enc, tx_len, NULL);
}

int ec_store_put_own_block_mask(ec_store_txn *t, const ec_block *b, const uint8_t *enc,
				size_t len, const ec_tx *txs,
				const uint8_t *const *tx_enc, const size_t *tx_len,
				const uint8_t *local_mask)
{
	int r;
	TXN_CHECK(t);
	if (!b || !txs || b->n_txs == 0 || b->n_txs > EC_BLOCK_MAX_TXS ||
	    (!tx_enc) != (!tx_len))
		return EC_ERR_ARG;
	for (unsigned i = 0; i < b->n_txs; i++)
		if (!ec_id_eq(&txs[i].id, &b->txids[i]))
			return EC_ERR_ID;
	r = ec_store_put_block(t, b, enc, len);
	if (r != EC_OK)
		return r;
	for (unsigned i = 0; i < b->n_txs; i++) {
		const ec_tx *tx = &txs[i];
		r = tx_enc ? ec_store_put_tx(t, tx, tx_enc[i], tx_len[i])
			   : ec_store_put_tx(t, tx, NULL, 0);
		if (r == EC_OK)
			r = ec_store_put_tx_index(t, &tx->id, &b->id, (uint8_t)i);
		for (unsigned e = 0; r == EC_OK && e < tx->n_entries; e++)
			if (!local_mask || (local_mask[i] & (1u << e)))
				r = ec_store_set_local(t, &tx->entries[e].token,
						       &tx->id, &tx->entries[e].prev,
						       tx->timestamp);
		if (r != EC_OK)
			return r;
	}
	return ec_store_set_head(t, &b->creator, &b->id, b->height);
}

/* ---- proofs ------------------------------------------------------------------------ */

int ec_store_put_proof(ec_store_txn *t, const ec_id *block, const uint8_t *p, size_t len)
{
	uint8_t *val;
	int r;
	TXN_CHECK(t);
	if (!block || !p || len == 0 || len > EC_MSG_MAX_BYTES)
		return EC_ERR_ARG;
	val = malloc(len + 1);
	if (!val)
		return note(t, EC_ERR_NOMEM);
	r = kv_put(t, EC_T_PROOFS, block->b, 32, val, wire_val(val, p, len), 0);
	free(val);
	return r;
}

int ec_store_get_proof_raw(ec_store_txn *t, const ec_id *block, const uint8_t **p,
			   size_t *len)
{
	return get_wire(t, EC_T_PROOFS, block, p, len);
}

/* ---- records keyed by one id (peers, progress) ------------------------------ */

typedef int (*rec_parse_fn)(void *out, const uint8_t *k, const uint8_t *v, size_t vn);

static int get_by_id(ec_store_txn *t, int table, const ec_id *key, void *out,
		     rec_parse_fn parse)
{
	const uint8_t *v;
	size_t vn;
	int r;
	TXN_CHECK(t);
	if (!key || !out)
		return EC_ERR_ARG;
	r = kv_get(t, table, key->b, 32, &v, &vn);
	if (r != EC_OK)
		return r;
	return ec_store_bad(t, table, key->b, 32, parse(out, key->b, v, vn));
}

static int del_by_id(ec_store_txn *t, int table, const ec_id *key)
{
	TXN_CHECK(t);
	if (!key)
		return EC_ERR_ARG;
	return kv_del(t, table, key->b, 32);
}

struct rec_iter {
	rec_parse_fn parse;
	void *buf; /* one parsed record */
	int (*emit)(const struct rec_iter *ri);
	union {
		ec_store_peer_fn peer;
		ec_store_progress_fn progress;
	} fn;
	void *ctx;
};

static int rec_cb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn)
{
	struct rec_iter *ri = ctx;
	if (kn != 32 || ri->parse(ri->buf, k, v, vn) != EC_OK)
		return EC_KV_BADREC;
	return ri->emit(ri);
}

static int iter_by_id(ec_store_txn *t, int table, struct rec_iter *ri, int have_fn)
{
	TXN_CHECK(t);
	if (!have_fn)
		return EC_ERR_ARG;
	return kv_iter(t, table, (const uint8_t *)"", 0, 0, rec_cb, ri);
}

/* ---- peers ---------------------------------------------------------------------------- */

static uint64_t dbits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static double bitsd(uint64_t u)
{
	double d;
	memcpy(&d, &u, 8);
	return d;
}

int ec_store_put_peer(ec_store_txn *t, const ec_peer_rec *p)
{
	uint8_t v[EC_PEER_VAL_MAX], *q = v;
	size_t alen;
	TXN_CHECK(t);
	if (!p)
		return EC_ERR_ARG;
	alen = strnlen(p->addr, sizeof p->addr);
	if (alen > EC_PEER_ADDR_MAX)
		return EC_ERR_ARG;
	*q++ = EC_STORE_RV;
	memcpy(q, p->sign_pk, 32);
	memcpy(q + 32, p->kx_pk, 32);
	memcpy(q + 64, p->head.b, 32);
	q += 96;
	ec_put_u64(q, p->height);
	ec_put_u64(q + 8, p->head_seen);
	ec_put_u64(q + 16, p->last_seen);
	ec_put_u64(q + 24, p->n_requests);
	ec_put_u64(q + 32, p->n_responses);
	ec_put_u64(q + 40, p->n_failures);
	ec_put_u64(q + 48, dbits(p->rtt_ms));
	ec_put_u64(q + 56, dbits(p->reputation));
	q += 64;
	q[0] = (uint8_t)(alen >> 8);
	q[1] = (uint8_t)alen;
	memcpy(q + 2, p->addr, alen);
	q += 2 + alen;
	return kv_put(t, EC_T_PEERS, p->peer.b, 32, v, (size_t)(q - v), 0);
}

static int peer_parse(void *out, const uint8_t *k, const uint8_t *v, size_t vn)
{
	ec_peer_rec *p = out;
	ec_cur c;
	uint16_t alen;
	memset(p, 0, sizeof(*p));
	memcpy(p->peer.b, k, 32);
	ec_cur_init(&c, v, vn);
	if (ec_cur_u8(&c) != EC_STORE_RV)
		return EC_ERR_CORRUPT;
	ec_cur_bytes(&c, p->sign_pk, 32);
	ec_cur_bytes(&c, p->kx_pk, 32);
	ec_cur_bytes(&c, p->head.b, 32);
	p->height = ec_cur_u64(&c);
	p->head_seen = ec_cur_u64(&c);
	p->last_seen = ec_cur_u64(&c);
	p->n_requests = ec_cur_u64(&c);
	p->n_responses = ec_cur_u64(&c);
	p->n_failures = ec_cur_u64(&c);
	p->rtt_ms = bitsd(ec_cur_u64(&c));
	p->reputation = bitsd(ec_cur_u64(&c));
	alen = ec_cur_u16(&c);
	if (alen > EC_PEER_ADDR_MAX)
		return EC_ERR_CORRUPT;
	ec_cur_bytes(&c, p->addr, alen);
	p->addr[alen] = 0;
	return ec_cur_finish(&c) == EC_OK ? EC_OK : EC_ERR_CORRUPT;
}

int ec_store_get_peer(ec_store_txn *t, const ec_id *peer, ec_peer_rec *out)
{
	return get_by_id(t, EC_T_PEERS, peer, out, peer_parse);
}

int ec_store_del_peer(ec_store_txn *t, const ec_id *peer)
{
	return del_by_id(t, EC_T_PEERS, peer);
}

static int emit_peer(const struct rec_iter *ri)
{
	return ri->fn.peer(ri->ctx, ri->buf);
}

int ec_store_iter_peers(ec_store_txn *t, ec_store_peer_fn fn, void *ctx)
{
	ec_peer_rec p;
	struct rec_iter ri = {peer_parse, &p, emit_peer, {.peer = fn}, ctx};
	return iter_by_id(t, EC_T_PEERS, &ri, fn != NULL);
}

/* ---- sync progress -------------------------------------------------------------------- */

int ec_store_put_progress(ec_store_txn *t, const ec_sync_progress *p)
{
	uint8_t v[EC_PROGRESS_VAL_BYTES];
	TXN_CHECK(t);
	if (!p || p->complete > 1)
		return EC_ERR_ARG;
	v[0] = EC_STORE_RV;
	memcpy(v + 1, p->head.b, 32);
	ec_put_u64(v + 33, p->head_height);
	memcpy(v + 41, p->low.b, 32);
	ec_put_u64(v + 73, p->low_height);
	ec_put_u64(v + 81, p->started);
	ec_put_u64(v + 89, p->updated);
	v[97] = p->complete;
	return kv_put(t, EC_T_PROGRESS, p->chain.b, 32, v, sizeof v, 0);
}

static int progress_parse(void *out, const uint8_t *k, const uint8_t *v, size_t vn)
{
	ec_sync_progress *p = out;
	memset(p, 0, sizeof(*p));
	if (vn != EC_PROGRESS_VAL_BYTES || v[0] != EC_STORE_RV || v[97] > 1)
		return EC_ERR_CORRUPT;
	memcpy(p->chain.b, k, 32);
	memcpy(p->head.b, v + 1, 32);
	p->head_height = ec_get_u64(v + 33);
	memcpy(p->low.b, v + 41, 32);
	p->low_height = ec_get_u64(v + 73);
	p->started = ec_get_u64(v + 81);
	p->updated = ec_get_u64(v + 89);
	p->complete = v[97];
	return EC_OK;
}

int ec_store_get_progress(ec_store_txn *t, const ec_id *chain, ec_sync_progress *out)
{
	return get_by_id(t, EC_T_PROGRESS, chain, out, progress_parse);
}

int ec_store_del_progress(ec_store_txn *t, const ec_id *chain)
{
	return del_by_id(t, EC_T_PROGRESS, chain);
}

static int emit_progress(const struct rec_iter *ri)
{
	return ri->fn.progress(ri->ctx, ri->buf);
}

int ec_store_iter_progress(ec_store_txn *t, ec_store_progress_fn fn, void *ctx)
{
	ec_sync_progress p;
	struct rec_iter ri = {progress_parse, &p, emit_progress, {.progress = fn}, ctx};
	return iter_by_id(t, EC_T_PROGRESS, &ri, fn != NULL);
}
