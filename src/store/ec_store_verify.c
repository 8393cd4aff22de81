/* ec_store_verify.c - the verification pass over a whole store (store.h
 * "verification", docs/STORAGE.md section 6) and the checks an open runs.
 *
 * One read txn.  Every table is scanned in key order; each record is then
 * looked up by its key through the typed getter of its table, which checks
 * the seal and decodes the value (and reports what fails, naming table and
 * key).  The scan and the lookup walk the B-tree differently (the scan
 * follows the pages left to right, a lookup follows the branch keys), so a
 * damaged branch key shows as a record the scan finds and its lookup does
 * not.  The scanned seals are summed per table and compared with the
 * digest of the last commit: a record lost, duplicated or brought back
 * from an older page changes the count or the sum.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/ec_store_int.h"
#include "util/ec_buf.h"

#define PROGRESS_EVERY (1u << 18)

struct vstate {
	ec_store *s;
	ec_store_txn *t;
	unsigned flags;
	ec_store_report *rep;
	int table;
	uint8_t prev[64];
	size_t prev_n;
	int have_prev;
	uint64_t count, sum;
	int digest; /* 1 read, 0 absent, -1 unreadable (not compared) */
	uint8_t d[EC_DIGEST_VAL_BYTES];
};

static size_t key_len(int table)
{
	switch (table) {
	case EC_T_CHAIN:
		return EC_CHAIN_KEY_BYTES;
	case EC_T_EVID:
		return 36;
	default:
		return 32;
	}
}

static void problem(struct vstate *v, const uint8_t *k, size_t kn, const char *what)
{
	ec_store_corrupt(v->s, v->table, k, kn, what);
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

/* ---- cross-table references (EC_VERIFY_REFS) -------------------------------- */

/* A referenced record: EC_OK, EC_ERR_NOTFOUND, or another error (already
 * reported by the getter when it is corruption). */
static int ref_block(struct vstate *v, const ec_id *id, ec_block *b)
{
	return ec_store_get_block(v->t, id, b);
}

static void refs_block(struct vstate *v, const uint8_t *k, const ec_block *b)
{
	ec_id at;
	int r;
	if (memcmp(b->id.b, k, 32) != 0) {
		problem(v, k, 32, "block does not hash to its key");
		return;
	}
	r = ec_store_get_block_at(v->t, &b->creator, b->height, &at);
	if (r == EC_ERR_NOTFOUND)
		problem(v, k, 32, "block missing from the chain index");
	else if (r == EC_OK && !ec_id_eq(&at, &b->id))
		problem(v, k, 32, "the chain index holds another block at its height");
}

static void refs_chain(struct vstate *v, const uint8_t *k, const ec_id *id)
{
	ec_block b;
	int r = ref_block(v, id, &b);
	if (r == EC_ERR_NOTFOUND)
		problem(v, k, EC_CHAIN_KEY_BYTES, "chain index names a missing block");
	else if (r == EC_OK && (memcmp(b.creator.b, k, 32) != 0 ||
				b.height != ec_get_u64(k + 32)))
		problem(v, k, EC_CHAIN_KEY_BYTES, "chain index names another chain's block");
}

static void refs_head(struct vstate *v, const uint8_t *k, const ec_id *id, uint64_t h)
{
	ec_id creator, at;
	int r;
	memcpy(creator.b, k, 32);
	r = ec_store_get_block_at(v->t, &creator, h, &at);
	if (r == EC_ERR_NOTFOUND || (r == EC_OK && !ec_id_eq(&at, id)))
		problem(v, k, 32, "head names a block the chain index does not");
}

static void refs_txidx(struct vstate *v, const uint8_t *k, const ec_id *blk, uint8_t pos)
{
	const uint8_t *p;
	size_t n;
	ec_block b;
	ec_id txid;
	int r = ref_block(v, blk, &b);
	if (r == EC_ERR_NOTFOUND)
		problem(v, k, 32, "tx index names a missing block");
	else if (r == EC_OK && (pos >= b.n_txs || memcmp(b.txids[pos].b, k, 32) != 0))
		problem(v, k, 32, "tx index names a block without the txid at that position");
	memcpy(txid.b, k, 32);
	if (ec_store_get_tx_raw(v->t, &txid, &p, &n) == EC_ERR_NOTFOUND)
		problem(v, k, 32, "tx index entry without its transaction");
}

static void refs_token(struct vstate *v, const uint8_t *k, const ec_token_state *st)
{
	ec_tx tx;
	int r, touches = 0;
	if (!st->has_current || st->current.source != EC_TOKEN_LOCAL)
		return; /* a Confirmed state may come without its body */
	r = ec_store_get_tx(v->t, &st->current.txid, &tx);
	if (r == EC_ERR_NOTFOUND) {
		problem(v, k, 32, "Local token state names a missing transaction");
		return;
	}
	if (r != EC_OK)
		return;
	for (unsigned i = 0; i < tx.n_entries; i++)
		touches |= memcmp(tx.entries[i].token.b, k, 32) == 0;
	if (!touches)
		problem(v, k, 32, "Local token state names a transaction of other tokens");
	else if (ec_store_get_tx_index(v->t, &st->current.txid, NULL, NULL) ==
		 EC_ERR_NOTFOUND)
		problem(v, k, 32, "Local token state names a transaction not in the tx index");
}

/* ---- one record --------------------------------------------------------------- */

/* Looks the record up by its key through its table's typed getter (seal,
 * decode, and the references with EC_VERIFY_REFS).  EC_ERR_NOTFOUND when
 * the lookup does not find it; other errors are reported already. */
static int lookup(struct vstate *v, const uint8_t *k, size_t kn, const uint8_t *raw,
		  size_t rawn)
{
	union {
		ec_block b;
		ec_tx tx;
		ec_token_state st;
		ec_peer_rec peer;
		ec_sync_progress prog;
		ec_peer_metrics m;
	} u;
	const int refs = (v->flags & EC_VERIFY_REFS) != 0;
	const uint8_t *p;
	size_t n;
	ec_id id, blk;
	uint64_t h;
	uint8_t pos;
	int r;
	if (kn >= 32)
		memcpy(id.b, k, 32);
	switch (v->table) {
	case EC_T_BLOCKS:
		r = ec_store_get_block(v->t, &id, &u.b);
		if (r == EC_OK && refs)
			refs_block(v, k, &u.b);
		return r;
	case EC_T_CHAIN:
		r = ec_store_get_block_at(v->t, &id, ec_get_u64(k + 32), &blk);
		if (r == EC_OK && refs)
			refs_chain(v, k, &blk);
		return r;
	case EC_T_HEADS:
		r = ec_store_get_head(v->t, &id, &blk, &h);
		if (r == EC_OK && refs)
			refs_head(v, k, &blk, h);
		return r;
	case EC_T_TXS:
		r = ec_store_get_tx(v->t, &id, &u.tx);
		if (r == EC_OK && refs && !ec_id_eq(&u.tx.id, &id))
			problem(v, k, kn, "transaction does not hash to its key");
		return r;
	case EC_T_TXIDX:
		r = ec_store_get_tx_index(v->t, &id, &blk, &pos);
		if (r == EC_OK && refs)
			refs_txidx(v, k, &blk, pos);
		return r;
	case EC_T_TOKENS:
		r = ec_store_get_token(v->t, &id, &u.st);
		if (r == EC_OK && refs)
			refs_token(v, k, &u.st);
		return r;
	case EC_T_PROOFS:
		r = ec_store_get_proof_raw(v->t, &id, &p, &n);
		if (r == EC_OK && refs && ec_store_has_block(v->t, &id) == 0)
			problem(v, k, kn, "proof of a missing block");
		return r;
	case EC_T_PEERS:
		return ec_store_get_peer(v->t, &id, &u.peer);
	case EC_T_PROGRESS:
		return ec_store_get_progress(v->t, &id, &u.prog);
	case EC_T_SWAPM:
		return ec_store_get_metrics(v->t, &id, &u.m);
	case EC_T_EVID:
		r = ec_store_kv_get(v->t, EC_T_EVID, k, kn, &p, &n);
		if (r == EC_OK && (n != rawn - EC_SEAL_BYTES || memcmp(p, raw, n) != 0))
			r = EC_ERR_NOTFOUND; /* another record under this key */
		if (r == EC_OK)
			r = ec_store_bad(v->t, EC_T_EVID, k, kn, ec_store_evid_check(k, kn, p, n));
		return r;
	default:
		return EC_ERR_ARG;
	}
}

static int meta_record(struct vstate *v, const uint8_t *k, size_t kn, const uint8_t *val,
		       size_t vn)
{
	if (kn == strlen(EC_META_FORMAT) && !memcmp(k, EC_META_FORMAT, kn)) {
		if (vn != 4 || val[0] || val[1] || val[2] || val[3] != EC_STORE_FORMAT)
			problem(v, k, kn, "format record does not say this format");
	} else if (kn == strlen(EC_META_DIGEST) && !memcmp(k, EC_META_DIGEST, kn)) {
		/* checked by digest_check */
	} else {
		problem(v, k, kn, "unknown meta record");
	}
	return 0;
}

static int vcb(void *ctx, const uint8_t *k, size_t kn, const uint8_t *val, size_t vn)
{
	struct vstate *v = ctx;
	int r;
	v->rep->total++;
	if (v->table < EC_STORE_TABLES)
		v->rep->records[v->table]++;
	if (v->rep->total % PROGRESS_EVERY == 0) {
		char msg[96];
		snprintf(msg, sizeof msg, "store check: %llu records verified",
			 (unsigned long long)v->rep->total);
		ec_store_info(v->s, msg);
	}
	if (v->have_prev && key_cmp(v->prev, v->prev_n, k, kn) >= 0)
		problem(v, k, kn, "key out of order (damaged page)");
	v->have_prev = kn <= sizeof v->prev;
	if (v->have_prev) {
		memcpy(v->prev, k, kn);
		v->prev_n = kn;
	}
	if (v->table == EC_T_META)
		return meta_record(v, k, kn, val, vn);
	if (kn != key_len(v->table)) {
		problem(v, k, kn, "key of the wrong length");
		return 0;
	}
	/* the scanned bytes count toward the digest whatever their state:
	 * a damaged record is reported by itself, not again as a sum (a
	 * length out of range is not read at all) */
	if (vn >= EC_SEAL_BYTES && ec_store_sealed_len_ok(v->table, vn)) {
		v->count++;
		v->sum += ec_get_u64(val + vn - EC_SEAL_BYTES);
	} else {
		v->count++;
	}
	r = lookup(v, k, kn, val, vn);
	if (r == EC_ERR_NOTFOUND) {
		if (!ec_store_sealed_ok(v->table, k, kn, val, vn))
			problem(v, k, kn, "checksum mismatch (damaged key or value)");
		else
			problem(v, k, kn, "not found by a lookup of its key (damaged branch page)");
	} else if (r == EC_ERR_NOMEM) {
		return r;
	}
	return 0;
}

/* ---- digest ----------------------------------------------------------------------- */

/* Reads meta/digest into v->d (v->digest: 1 read, 0 absent, -1 damaged,
 * reported). */
static void read_digest(struct vstate *v)
{
	const uint8_t *p;
	size_t n;
	const uint8_t *k = (const uint8_t *)EC_META_DIGEST;
	const size_t kn = strlen(EC_META_DIGEST);
	int r = ec_store_kv_get(v->t, EC_T_META, k, kn, &p, &n);
	memset(v->d, 0, sizeof v->d);
	v->digest = 0;
	if (r == EC_ERR_NOTFOUND)
		return;
	v->digest = -1;
	if (r == EC_OK && (n != EC_DIGEST_VAL_BYTES || p[0] != EC_STORE_RV))
		r = ec_store_bad(v->t, EC_T_META, k, kn, EC_ERR_CORRUPT);
	else if (r == EC_OK) {
		memcpy(v->d, p, n);
		v->digest = 1;
	} else if (r != EC_ERR_CORRUPT) { /* not reported by the get */
		ec_store_corrupt(v->s, EC_T_META, k, kn, ec_strerror(r));
	}
}

/* The digest must have been written by the commit the txn sees (a store
 * that never committed has none). */
static int digest_commit_check(struct vstate *v)
{
	uint64_t now = v->s->ops->txn_id(v->t->impl);
	char what[160];
	v->rep->commit = now;
	v->table = EC_T_META;
	if (v->digest == 0 && now != 0) {
		problem(v, (const uint8_t *)EC_META_DIGEST, strlen(EC_META_DIGEST),
			"digest missing");
		v->digest = -1;
	} else if (v->digest == 1 && ec_get_u64(v->d + 1) != now) {
		snprintf(what, sizeof what,
			 "digest written by commit %llu but the store is at commit %llu "
			 "(a lost or rolled-back commit)",
			 (unsigned long long)ec_get_u64(v->d + 1), (unsigned long long)now);
		problem(v, (const uint8_t *)EC_META_DIGEST, strlen(EC_META_DIGEST), what);
	}
	return v->digest < 0 || v->s->n_corrupt ? EC_ERR_CORRUPT : EC_OK;
}

static void digest_table_check(struct vstate *v)
{
	const uint8_t *e = v->d + 9 + 16 * (v->table - 1);
	char what[160];
	if (v->digest < 0)
		return;
	if (ec_get_u64(e) != v->count) {
		snprintf(what, sizeof what,
			 "%llu records, the last commit left %llu (records lost or duplicated)",
			 (unsigned long long)v->count, (unsigned long long)ec_get_u64(e));
		problem(v, NULL, 0, what);
	} else if (ec_get_u64(e + 8) != v->sum) {
		problem(v, NULL, 0,
			"records differ from those the last commit left (an older copy of a "
			"page, or records swapped)");
	}
}

/* ---- the pass --------------------------------------------------------------------- */

int ec_store_verify(ec_store *s, unsigned flags, ec_store_report *out)
{
	struct vstate v;
	ec_store_report rep;
	uint64_t before, limit;
	int r;
	if (!s)
		return EC_ERR_ARG;
	memset(&rep, 0, sizeof rep);
	memset(&v, 0, sizeof v);
	v.s = s;
	v.flags = flags;
	v.rep = &rep;
	before = s->n_corrupt;
	limit = s->log_limit;
	s->log_limit = before + EC_VERIFY_MAX_REPORTS;
	r = ec_store_txn_begin(s, 0, &v.t);
	if (r == EC_OK) {
		read_digest(&v);
		(void)digest_commit_check(&v);
	}
	for (int i = 0; r == EC_OK && i < EC_T_COUNT; i++) {
		v.table = i;
		v.have_prev = 0;
		v.count = v.sum = 0;
		r = s->ops->iter(v.t->impl, i, (const uint8_t *)"", 0, 0, vcb, &v);
		if (r != EC_OK && r != EC_ERR_NOMEM) {
			/* the backend could not go on (a damaged page); its
			 * txn is unusable from here */
			const char *why = s->ops->why ? s->ops->why(s) : NULL;
			char what[160];
			snprintf(what, sizeof what, "table cannot be read to its end: %s",
				 why ? why : ec_strerror(r));
			problem(&v, NULL, 0, what);
			r = EC_OK;
			break;
		}
		if (r == EC_OK && i != EC_T_META)
			digest_table_check(&v);
	}
	ec_store_txn_abort(v.t);
	rep.problems = s->n_corrupt - before;
	if (rep.problems > EC_VERIFY_MAX_REPORTS) {
		char msg[96];
		snprintf(msg, sizeof msg, "store check: %llu more problems not listed",
			 (unsigned long long)(rep.problems - EC_VERIFY_MAX_REPORTS));
		ec_store_info(s, msg);
	}
	s->log_limit = limit;
	if (out)
		*out = rep;
	if (r != EC_OK)
		return r;
	return rep.problems ? EC_ERR_CORRUPT : EC_OK;
}

int ec_store_open_check(ec_store *s, int quick)
{
	struct vstate v;
	ec_store_report rep;
	int r;
	if (!quick)
		return ec_store_verify(s, EC_VERIFY_OPEN, NULL);
	memset(&v, 0, sizeof v);
	memset(&rep, 0, sizeof rep);
	v.s = s;
	v.rep = &rep;
	if ((r = ec_store_txn_begin(s, 0, &v.t)) != EC_OK)
		return r;
	read_digest(&v);
	r = digest_commit_check(&v);
	ec_store_txn_abort(v.t);
	return r;
}
