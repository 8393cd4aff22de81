/* test_store_corrupt.c - integrity of stored data (docs/STORAGE.md section
 * 6): what a damaged store does, on both backends where the damage can be
 * made on both.
 *
 *   - a changed value byte (and a changed seal byte) reads as
 *     EC_ERR_CORRUPT with "store corrupt: TABLE KEYHEX: checksum mismatch",
 *     never as EC_ERR_NOTFOUND; the handle then refuses writes and serves
 *     no answer from the record, while intact records still read;
 *   - LMDB, records moved, lost or replaced behind a consistent-looking
 *     commit: a key changed, a record deleted, an older value put back, a
 *     commit the store did not make, a data file older than data.commit;
 *     each fails the open naming what is wrong;
 *   - ec_store_verify with the references finds a broken reference;
 *   - a node whose store reports a damaged record sends nothing more and
 *     stops; one whose own chain lacks a body does not start (CORRUPT);
 *   - the random-flip test (EC_CORRUPT_RUN=i repeats run i alone, in the
 *     test's own process, for a debugger): a store written as a node writes it (own chain
 *     with proofs and masked tokens, other chains from sync with heads and
 *     progress, Confirmed and Pending tokens, peers, metrics, evidence, over
 *     many commits), then EC_CORRUPT_RUNS (default 200) runs each flipping
 *     one random byte of data.mdb (EC_CORRUPT_SEED, printed), opening it as
 *     the node does (EC_CORRUPT_QUICK=1: without the open's verification
 *     pass, to see what it is for) and asking it everything a node serves or acts on
 *     (every token mapping, transaction, block, tx batch, range walk of
 *     every chain, the start-up chain load and evidence, every stored
 *     state), compared with the answers of the intact store.  Each run must
 *     be detected at open, detected at a read (no answer, a corruption
 *     report) or harmless (every answer identical): 0 wrong answers, 0
 *     crashes.  Each run is a child process, so a crash is counted. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ec/node.h"
#include "ec/serve.h"
#include "harness.h"
#include "store/ec_store_int.h"
#include "testutil.h"
#include "tu_store.h"
#include "util/ec_buf.h"
#include "wiregen.h"

#define NOW 1700000100000ull

struct logcap {
	char first[EC_STORE_MSG_MAX];
	char last[EC_STORE_MSG_MAX];
	int n;
};

static void logcap_fn(void *ctx, int corrupt, const char *msg)
{
	struct logcap *c = ctx;
	if (!corrupt)
		return;
	if (!c->n++)
		snprintf(c->first, sizeof c->first, "%s", msg);
	snprintf(c->last, sizeof c->last, "%s", msg);
}

static int idcmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* ---- a changed record, both backends ----------------------------------------- */

/* Flips one bit of the stored bytes of (table, key): LMDB through a raw
 * write of the changed bytes (the old seal kept), memory in place. */
static void damage(ec_store *s, const char *dir, int table, const uint8_t *k, size_t kn,
		   size_t at_from_end)
{
	if (dir) {
		uint8_t b[4096];
		size_t n = tu_raw_get(dir, table, k, kn, b, sizeof b);
		b[n - 1 - at_from_end] ^= 0x10;
		tu_raw_put(dir, table, k, kn, b, n, TU_RAW_DIGEST);
	} else {
		ec_store_txn *t = tu_rtxn(s);
		const uint8_t *v;
		size_t n;
		assert_int_equal(s->ops->get(t->impl, table, k, kn, &v, &n), EC_OK);
		/* the backend's bytes, changed in place as a disk would */
		((uint8_t *)v)[n - 1 - at_from_end] ^= 0x10;
		ec_store_txn_abort(t);
	}
}

static void read_checks(int lmdb)
{
	char dir[256] = "", hex[65], want[256];
	ec_store *s;
	ec_store_txn *t;
	ec_tx tx;
	ec_block b;
	ec_id cr, blk;
	ec_token_state st;
	struct logcap lc;
	ec_store_opts o = {.log = logcap_fn, .log_ctx = &lc, .quick_open = 1};
	memset(&lc, 0, sizeof lc);
	tu_id(&cr, "corrupt/creator", 0);
	tu_make_tx(&tx, 1, 2, 5000);
	tu_make_block(&b, &cr, 0, NULL, 5000, &tx, 1);
	if (lmdb) {
		tu_tmpdir(dir, sizeof dir, "ec-test-corrupt");
		assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	} else {
		assert_int_equal(ec_store_open_memory(&s), EC_OK);
		ec_store_set_log(s, logcap_fn, &lc);
	}
	t = tu_wtxn(s);
	assert_int_equal(ec_store_put_own_block(t, &b, NULL, 0, &tx), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	assert_int_equal(ec_store_verify(s, EC_VERIFY_REFS, NULL), EC_OK);
	if (lmdb) {
		ec_store_close(s);
		damage(NULL, dir, EC_T_TOKENS, tx.entries[0].token.b, 32, 20);
		/* the open's pass names it */
		assert_int_equal(ec_store_open_lmdb(&s, dir, &(ec_store_opts){
							 .log = logcap_fn, .log_ctx = &lc}),
				 EC_ERR_CORRUPT);
		assert_int_equal(lc.n, 1);
		memset(&lc, 0, sizeof lc);
		assert_int_equal(ec_store_open_lmdb(&s, dir, &o), EC_OK);
	} else {
		damage(s, NULL, EC_T_TOKENS, tx.entries[0].token.b, 32, 20);
	}
	ec_hex_encode(hex, tx.entries[0].token.b, 32);
	snprintf(want, sizeof want, "store corrupt: tokens %s: checksum mismatch", hex);
	t = tu_rtxn(s);
	/* never "not found": the token's state is unreadable, and says so */
	assert_int_equal(ec_store_get_token(t, &tx.entries[0].token, &st), EC_ERR_CORRUPT);
	assert_int_equal(lc.n, 1);
	assert_string_equal(lc.first, want);
	assert_string_equal(ec_store_first_corruption(s), want);
	assert_int_equal(ec_store_corruptions(s), 1);
	/* the intact records still read */
	assert_int_equal(ec_store_get_token(t, &tx.entries[1].token, &st), EC_OK);
	assert_int_equal(ec_store_get_tx_index(t, &tx.id, &blk, NULL), EC_OK);
	ec_store_txn_abort(t);
	/* no more writes on this handle */
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_ERR_CORRUPT);
	/* a damaged seal byte, a damaged block: the same */
	if (lmdb) {
		ec_store_close(s);
		damage(NULL, dir, EC_T_TXIDX, tx.id.b, 32, 0);
		damage(NULL, dir, EC_T_BLOCKS, b.id.b, 32, 100);
		assert_int_equal(ec_store_open_lmdb(&s, dir, &o), EC_OK);
	} else {
		damage(s, NULL, EC_T_TXIDX, tx.id.b, 32, 0);
		damage(s, NULL, EC_T_BLOCKS, b.id.b, 32, 100);
	}
	t = tu_rtxn(s);
	assert_int_equal(ec_store_get_tx_index(t, &tx.id, &blk, NULL), EC_ERR_CORRUPT);
	assert_int_equal(ec_store_get_block(t, &b.id, &b), EC_ERR_CORRUPT);
	assert_int_equal(ec_store_has_block(t, &b.id), EC_ERR_CORRUPT);
	ec_hex_encode(hex, b.id.b, 32);
	snprintf(want, sizeof want, "store corrupt: blocks %s: checksum mismatch", hex);
	assert_string_equal(lc.last, want);
	ec_store_txn_abort(t);
	{
		ec_store_report rep;
		assert_int_equal(ec_store_verify(s, EC_VERIFY_REFS, &rep), EC_ERR_CORRUPT);
		assert_true(rep.problems >= 3);
		assert_int_equal(rep.records[EC_T_TOKENS], 2);
	}
	ec_store_close(s);
	if (lmdb)
		tu_rmrf(dir);
}

static void test_read_checks_memory(void **state)
{
	(void)state;
	read_checks(0);
}

static void test_read_checks_lmdb(void **state)
{
	(void)state;
	read_checks(1);
}

/* ---- LMDB: damage the checksums alone cannot see --------------------------------- */

/* A store of three own blocks (one commit each); returns its dir. */
static void small_store(char *dir, size_t cap, ec_tx txs[3])
{
	ec_store *s;
	ec_block b;
	ec_id cr, prev;
	tu_tmpdir(dir, cap, "ec-test-corrupt");
	tu_id(&cr, "corrupt/creator", 0);
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	for (unsigned h = 0; h < 3; h++) {
		ec_store_txn *t = tu_wtxn(s);
		tu_make_tx(&txs[h], 10 + h, 1 + h, 6000 + h);
		tu_make_block(&b, &cr, h, h ? &prev : NULL, 6000 + h, &txs[h], 1);
		prev = b.id;
		assert_int_equal(ec_store_put_own_block(t, &b, NULL, 0, &txs[h]), EC_OK);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
	}
	ec_store_close(s);
}

static void open_fails_with(const char *dir, const char *msg)
{
	struct logcap lc;
	ec_store *s = (ec_store *)1;
	ec_store_opts o = {.log = logcap_fn, .log_ctx = &lc};
	memset(&lc, 0, sizeof lc);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &o), EC_ERR_CORRUPT);
	assert_null(s);
	assert_true(lc.n >= 1);
	if (!strstr(lc.first, msg) && !strstr(lc.last, msg))
		fail_msg("open said '%s' ... '%s', expected '%s'", lc.first, lc.last, msg);
}

static void test_moved_lost_stale(void **state)
{
	char dir[256], c[256], hex[65], want[256];
	ec_tx txs[3];
	uint8_t v[512], k2[32];
	size_t n;
	ec_store *s;
	(void)state;
	small_store(dir, sizeof dir, txs);

	/* a record's key changed (one bit), value and seal kept, digest
	 * consistent: the lookup of the old key would say "not found" */
	tu_tmpdir(c, sizeof c, "ec-test-corrupt-c");
	tu_copydir(dir, c);
	n = tu_raw_get(c, EC_T_TOKENS, txs[2].entries[0].token.b, 32, v, sizeof v);
	memcpy(k2, txs[2].entries[0].token.b, 32);
	k2[31] ^= 1;
	tu_raw_put(c, EC_T_TOKENS, txs[2].entries[0].token.b, 32, NULL, 0, TU_RAW_DIGEST);
	tu_raw_put(c, EC_T_TOKENS, k2, 32, v, n, TU_RAW_DIGEST);
	ec_hex_encode(hex, k2, 32);
	snprintf(want, sizeof want, "store corrupt: tokens %s: checksum mismatch", hex);
	open_fails_with(c, want);
	/* past the open, the old key is simply absent: why the pass exists */
	assert_int_equal(ec_store_open_lmdb(&s, c, &(ec_store_opts){.quick_open = 1}), EC_OK);
	{
		ec_store_txn *t = tu_rtxn(s);
		ec_token_state st;
		assert_int_equal(ec_store_get_token(t, &txs[2].entries[0].token, &st),
				 EC_ERR_NOTFOUND);
		ec_store_txn_abort(t);
	}
	ec_store_close(s);
	tu_rmrf(c);

	/* lost: delete with the digest's commit id moved but its counts kept */
	tu_tmpdir(c, sizeof c, "ec-test-corrupt-c");
	tu_copydir(dir, c);
	{
		uint8_t d[EC_DIGEST_VAL_BYTES + EC_SEAL_BYTES];
		size_t dn = tu_raw_get(c, EC_T_META, "digest", 6, d, sizeof d);
		tu_raw_put(c, EC_T_TOKENS, txs[1].entries[0].token.b, 32, NULL, 0, 0);
		/* the digest as it was, stamped with a later commit id: as if
		 * the commit that wrote it had lost a page */
		ec_put_u64(d + 1, ec_get_u64(d + 1) + 2);
		tu_raw_put(c, EC_T_META, "digest", 6, d, dn - EC_SEAL_BYTES, TU_RAW_SEAL);
	}
	open_fails_with(c, "store corrupt: tokens -: 5 records, the last commit left 6");
	tu_rmrf(c);

	/* stale: an older value back in place (an older copy of a page) */
	tu_tmpdir(c, sizeof c, "ec-test-corrupt-c");
	tu_copydir(dir, c);
	{
		ec_id cr;
		uint8_t d[EC_DIGEST_VAL_BYTES + EC_SEAL_BYTES], hv[EC_HEAD_VAL_BYTES];
		size_t dn;
		ec_block b0;
		tu_id(&cr, "corrupt/creator", 0);
		tu_make_block(&b0, &cr, 0, NULL, 6000, &txs[0], 1);
		dn = tu_raw_get(c, EC_T_META, "digest", 6, d, sizeof d);
		ec_store_head_val(hv, &b0.id, 0); /* the head of the first commit */
		tu_raw_put(c, EC_T_HEADS, cr.b, 32, hv, sizeof hv, TU_RAW_SEAL);
		ec_put_u64(d + 1, ec_get_u64(d + 1) + 2);
		tu_raw_put(c, EC_T_META, "digest", 6, d, dn - EC_SEAL_BYTES, TU_RAW_SEAL);
	}
	open_fails_with(c, "store corrupt: heads -: records differ from those the last "
			   "commit left");
	tu_rmrf(c);

	/* a commit the store did not make: the digest names an older one */
	tu_tmpdir(c, sizeof c, "ec-test-corrupt-c");
	tu_copydir(dir, c);
	tu_raw_put(c, EC_T_PEERS, k2, 32, "x", 1, TU_RAW_SEAL);
	open_fails_with(c, "store corrupt: meta digest: digest written by commit");
	tu_rmrf(c);
	tu_rmrf(dir);
}

/* The data file rolled back to an earlier commit (what a damaged newer meta
 * page does: LMDB then uses the older one): data.commit says more. */
static void test_rollback(void **state)
{
	char dir[256], keep[256], a[512], b[512];
	ec_tx txs[3], tx;
	ec_store *s;
	ec_block blk;
	ec_id cr, prev;
	(void)state;
	small_store(dir, sizeof dir, txs);
	tu_tmpdir(keep, sizeof keep, "ec-test-corrupt-keep");
	tu_copydir(dir, keep); /* the file as of commit N */
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	{
		ec_store_txn *t = tu_wtxn(s), *r = tu_rtxn(s);
		assert_int_equal(ec_store_get_head(r, &txs[0].id, &prev, NULL), EC_ERR_NOTFOUND);
		tu_id(&cr, "corrupt/creator", 0);
		assert_int_equal(ec_store_get_head(r, &cr, &prev, NULL), EC_OK);
		ec_store_txn_abort(r);
		tu_make_tx(&tx, 99, 1, 7000);
		tu_make_block(&blk, &cr, 3, &prev, 7000, &tx, 1);
		assert_int_equal(ec_store_put_own_block(t, &blk, NULL, 0, &tx), EC_OK);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
	}
	ec_store_close(s);
	/* the older data file with the newer data.commit */
	snprintf(a, sizeof a, "%s/data.mdb", keep);
	snprintf(b, sizeof b, "%s/data.mdb", dir);
	assert_int_equal(rename(a, b), 0);
	open_fails_with(dir, "committed batches are missing");
	assert_int_equal(ec_store_open_lmdb(&s, dir, &(ec_store_opts){.read_only = 1}),
			 EC_ERR_CORRUPT);
	/* without data.commit (never written, or lost) it is an intact older store */
	snprintf(a, sizeof a, "%s/data.commit", dir);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	ec_store_close(s);
	/* an empty data file where commits were recorded: the same */
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	ec_store_close(s);
	assert_int_equal(truncate(b, 0), 0);
	open_fails_with(dir, "data.mdb is empty but commit");
	tu_rmrf(keep);
	tu_rmrf(dir);
}

/* References between tables: a transaction body lost together with its
 * digest entry (so only the references show it). */
static void test_verify_refs(void **state)
{
	char dir[256];
	ec_tx txs[3];
	ec_store *s;
	ec_store_report rep;
	struct logcap lc;
	(void)state;
	small_store(dir, sizeof dir, txs);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &(ec_store_opts){.read_only = 1}), EC_OK);
	assert_int_equal(ec_store_verify(s, EC_VERIFY_REFS, &rep), EC_OK);
	assert_int_equal(rep.problems, 0);
	assert_int_equal(rep.records[EC_T_BLOCKS], 3);
	assert_int_equal(rep.records[EC_T_TXS], 3);
	assert_int_equal(rep.records[EC_T_TOKENS], 6);
	assert_int_equal(rep.records[EC_T_META], 2);
	assert_int_equal(rep.total, 3 + 3 + 1 + 3 + 3 + 6 + 2);
	ec_store_close(s);
	tu_raw_put(dir, EC_T_TXS, txs[1].id.b, 32, NULL, 0, TU_RAW_DIGEST);
	/* the open's default pass does not follow references... */
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	ec_store_close(s);
	/* ...the full one does */
	memset(&lc, 0, sizeof lc);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &(ec_store_opts){
						 .read_only = 1, .log = logcap_fn,
						 .log_ctx = &lc}),
			 EC_OK);
	assert_int_equal(ec_store_verify(s, EC_VERIFY_REFS, &rep), EC_ERR_CORRUPT);
	assert_int_equal(rep.problems, 3); /* txidx and both tokens */
	assert_non_null(strstr(lc.first, "tx index entry without its transaction") ?
				lc.first : strstr(lc.last, "without its transaction"));
	ec_store_close(s);
	tu_rmrf(dir);
}

/* ---- the node on a damaged store --------------------------------------------- */

/* Four nodes that committed a few creations; returns the network and a
 * transaction node 0 committed. */
static hn *net_with_commits(ec_tx *tx)
{
	hn *h;
	hn_cfg c;
	hn_wl w;
	hn_cfg_default(&c);
	c.n_nodes = 4;
	c.seed = 3;
	c.delay_ms = 1;
	c.block_interval_ms = 50;
	assert_int_equal(hn_new(&h, &c), EC_OK);
	hn_wl_init(&w, 3);
	hn_wl_creations(h, &w, 6, 2, h->now + 100, 100);
	hn_run_until(h, h->now + 3000);
	for (size_t i = 0; i < w.n_sent; i++)
		if (hn_committed(h, 0, &w.sent[i].tx.id)) {
			*tx = w.sent[i].tx;
			hn_wl_free(&w);
			return h;
		}
	fail_msg("node 0 committed none of the creations");
	return NULL;
}

static size_t ask_mapping(ec_node *n, const ec_id *token, uint8_t nonce)
{
	ec_mapping_req q;
	ec_node_out o;
	uint8_t *enc;
	size_t len, got = 0;
	memset(&q, 0, sizeof q);
	memset(q.nonce, nonce, sizeof q.nonce);
	q.token = *token;
	assert_int_equal(ec_mapping_req_encode(&q, &enc, &len), EC_OK);
	assert_int_equal(ec_node_recv(n, &(ec_id){{0}}, enc, len, NOW), EC_OK);
	free(enc);
	while (ec_node_poll(n, &o)) {
		got++;
		free(o.msg);
	}
	return got;
}

static void test_node_on_damage(void **state)
{
	hn *h;
	ec_node *n;
	ec_store *s;
	ec_tx tx;
	ec_node_tx_info info;
	ec_id blk;
	(void)state;
	h = net_with_commits(&tx);
	n = h->nodes[0].node;
	s = h->nodes[0].store;
	assert_int_equal(ask_mapping(n, &tx.entries[0].token, 1), 1);
	assert_int_equal(ec_node_tx_info_get(n, &tx.id, &info), EC_OK);
	assert_int_equal(info.state, EC_NODE_TX_COMMITTED);
	/* a tx index entry and the token's state damaged under the node */
	damage(s, NULL, EC_T_TXIDX, tx.id.b, 32, 3);
	assert_int_equal(ec_node_tx_info_get(n, &tx.id, &info), EC_ERR_CORRUPT);
	/* no answer leaves (not even the store-failure refusal), and the node
	 * has stopped */
	assert_int_equal(ask_mapping(n, &tx.entries[0].token, 2), 0);
	assert_int_equal(ec_node_tick(n, h->now + 1), EC_ERR_CORRUPT);
	hn_free(h);

	/* a body of node 0's own chain lost (with its digest entry): the
	 * node does not start again, and says corrupt, not "not found" */
	h = net_with_commits(&tx);
	s = h->nodes[0].store;
	{
		ec_store_txn *t = tu_rtxn(s);
		assert_int_equal(ec_store_get_tx_index(t, &tx.id, &blk, NULL), EC_OK);
		ec_store_txn_abort(t);
		t = tu_wtxn(s);
		assert_int_equal(ec_store_kv_del(t, EC_T_TXS, tx.id.b, 32), EC_OK);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
	}
	assert_int_equal(hn_restart_node(h, 0), EC_ERR_CORRUPT);
	hn_free(h);
}

/* ---- the random-flip test ------------------------------------------------------ */

#define OWN_BLOCKS 12
#define OTHER_CHAINS 2
#define OTHER_BLOCKS 6
#define MAXN 512

typedef struct world {
	ec_keypair kp; /* the node's key: signs the answers */
	ec_id self, creators[OTHER_CHAINS];
	ec_id tokens[MAXN], txids[MAXN], blocks[MAXN], heads[1 + OTHER_CHAINS];
	size_t n_tokens, n_txids, n_blocks, n_heads;
} world;

static void w_token(world *w, const ec_id *t)
{
	for (size_t i = 0; i < w->n_tokens; i++)
		if (ec_id_eq(&w->tokens[i], t))
			return;
	assert_true(w->n_tokens < MAXN);
	w->tokens[w->n_tokens++] = *t;
}

static void w_tx(world *w, const ec_tx *tx)
{
	assert_true(w->n_txids < MAXN);
	w->txids[w->n_txids++] = tx->id;
	for (unsigned e = 0; e < tx->n_entries; e++)
		w_token(w, &tx->entries[e].token);
}

/* A creation of n tokens owned by wg_key(0). */
static void creation(ec_tx *tx, uint64_t seed, unsigned n, ec_time ts)
{
	ec_id toks[EC_TX_MAX_ENTRIES], kh;
	memset(tx, 0, sizeof *tx);
	for (unsigned i = 0; i < n; i++)
		tu_id(&toks[i], "flip/token", seed * 8 + i);
	qsort(toks, n, 32, idcmp);
	ec_keyhash(&kh, wg_key(0)->pk);
	tx->timestamp = ts;
	tx->n_entries = (uint8_t)n;
	for (unsigned i = 0; i < n; i++) {
		tx->entries[i].token = toks[i];
		tx->entries[i].next_key = kh;
	}
	assert_int_equal(ec_tx_finalize(tx), EC_OK);
}

/* A transfer of `token` (current transaction `prev`) to another key. */
static void transfer(ec_tx *tx, const ec_id *token, const ec_id *prev, uint64_t seed,
		     ec_time ts)
{
	memset(tx, 0, sizeof *tx);
	tx->timestamp = ts;
	tx->n_entries = 1;
	tx->entries[0].token = *token;
	tx->entries[0].prev = *prev;
	tu_id(&tx->entries[0].next_key, "flip/newkey", seed);
	assert_int_equal(ec_tx_sign_entry(tx, 0, wg_key(0)->pk, wg_key(0)->sk), EC_OK);
	assert_int_equal(ec_tx_finalize(tx), EC_OK);
}

static void put_proof(ec_store_txn *t, const ec_id *block, uint64_t n)
{
	size_t len = 60 + (size_t)(n * 977 % 3000); /* some above a page */
	uint8_t *p = malloc(len);
	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(n * 31 + i * 7);
	assert_int_equal(ec_store_put_proof(t, block, p, len), EC_OK);
	free(p);
}

static void put_peer_rec(ec_store_txn *t, uint64_t i, uint64_t round)
{
	ec_peer_rec p;
	ec_peer_metrics m;
	memset(&p, 0, sizeof p);
	tu_id(&p.peer, "flip/peer", i);
	snprintf(p.addr, sizeof p.addr, "10.0.%u.%u:7000", (unsigned)i, (unsigned)round);
	memset(p.sign_pk, (int)i + 1, 32);
	p.height = round;
	p.last_seen = 1000 * round;
	p.n_requests = 10 * round + i;
	p.rtt_ms = 1.5 * (double)round;
	p.reputation = 0.5;
	assert_int_equal(ec_store_put_peer(t, &p), EC_OK);
	if (i < 3) {
		memset(&m, 0, sizeof m);
		m.peer = p.peer;
		snprintf(m.region, sizeof m.region, "r%u", (unsigned)i);
		m.n_requests = round + 1;
		m.n_responses = round;
		m.reputation = 0.25;
		m.updated = round;
		assert_int_equal(ec_store_put_metrics(t, &m), EC_OK);
	}
}

/* Writes the store as a node does, one commit per step. */
static void build(ec_store *s, world *w)
{
	ec_id prev = {{0}}, local_tok[64], local_tx[64];
	size_t n_local = 0;
	uint64_t seed = 1;
	memset(w, 0, sizeof *w);
	assert_int_equal(ec_keypair_from_seed(&w->kp, (const uint8_t[32]){7}), EC_OK);
	tu_id(&w->self, "flip/self", 0);
	/* own chain: creations and transfers, a masked entry now and then */
	for (unsigned h = 0; h < OWN_BLOCKS; h++) {
		ec_tx txs[4];
		uint8_t mask[4];
		ec_block b;
		ec_store_txn *t = tu_wtxn(s);
		ec_time ts = NOW - 100000 + h * 1000;
		for (unsigned j = 0; j < 4; j++) {
			mask[j] = 0xff;
			if (j == 3 && n_local > 2) {
				size_t k = (h * 7) % n_local;
				transfer(&txs[j], &local_tok[k], &local_tx[k], seed++, ts);
				local_tx[k] = txs[j].id;
			} else {
				unsigned n = 1 + (h + j) % 3;
				creation(&txs[j], seed++, n, ts);
				if (n == 3)
					mask[j] = 0x3; /* entry 2: not ours */
				if (n_local < 64) {
					local_tok[n_local] = txs[j].entries[0].token;
					local_tx[n_local++] = txs[j].id;
				}
			}
			w_tx(w, &txs[j]);
		}
		tu_make_block(&b, &w->self, h, h ? &prev : NULL, ts, txs, 4);
		prev = b.id;
		w->blocks[w->n_blocks++] = b.id;
		assert_int_equal(ec_store_put_own_block_mask(t, &b, NULL, 0, txs, NULL, NULL, mask),
				 EC_OK);
		put_proof(t, &b.id, h);
		if (h % 3 == 0)
			for (uint64_t i = 0; i < 4; i++)
				put_peer_rec(t, i, h);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
	}
	w->heads[w->n_heads++] = prev;
	/* other chains, as chain sync writes them: segments of blocks with
	 * their bodies and a progress record, then the head; Confirmed and
	 * Pending token states */
	for (unsigned c = 0; c < OTHER_CHAINS; c++) {
		ec_id cprev = {{0}};
		tu_id(&w->creators[c], "flip/creator", c);
		for (unsigned h = 0; h < OTHER_BLOCKS; h += 3) {
			ec_store_txn *t = tu_wtxn(s);
			ec_sync_progress pr;
			for (unsigned k = h; k < h + 3; k++) {
				ec_tx txs[2];
				ec_block b;
				ec_time ts = NOW - 50000 + k * 1000;
				creation(&txs[0], seed++, 2, ts);
				creation(&txs[1], seed++, 1, ts);
				tu_make_block(&b, &w->creators[c], k, k ? &cprev : NULL, ts, txs, 2);
				cprev = b.id;
				w->blocks[w->n_blocks++] = b.id;
				assert_int_equal(ec_store_put_block(t, &b, NULL, 0), EC_OK);
				if (k % 2)
					put_proof(t, &b.id, 100 + k);
				for (unsigned i = 0; i < 2; i++) {
					int ch;
					assert_int_equal(ec_store_put_tx(t, &txs[i], NULL, 0), EC_OK);
					w_tx(w, &txs[i]);
					assert_int_equal(ec_store_set_chain_state(
								 t, &txs[i].entries[0].token,
								 &txs[i].id, &txs[i].entries[0].prev,
								 ts, &ch),
							 EC_OK);
					if (txs[i].n_entries > 1)
						assert_int_equal(
							ec_store_apply_sync_update(
								t, &txs[i].entries[1].token,
								&txs[i].id, &txs[i].entries[1].prev,
								ts, &w->creators[c], &ch),
							EC_OK);
				}
			}
			memset(&pr, 0, sizeof pr);
			pr.chain = w->creators[c];
			pr.head = cprev;
			pr.head_height = h + 2;
			pr.low = cprev;
			pr.low_height = 0;
			pr.started = NOW - 60000;
			pr.updated = NOW - 50000 + h;
			pr.complete = h + 3 >= OTHER_BLOCKS;
			assert_int_equal(ec_store_put_progress(t, &pr), EC_OK);
			if (h + 3 >= OTHER_BLOCKS)
				assert_int_equal(ec_store_set_head(t, &w->creators[c], &cprev,
								   OTHER_BLOCKS - 1),
						 EC_OK);
			assert_int_equal(ec_store_txn_commit(t), EC_OK);
		}
		w->heads[w->n_heads++] = cprev;
	}
	/* a Confirmed state whose body this node never held; evidence */
	{
		ec_store_txn *t = tu_wtxn(s);
		ec_id tok, txid, zero = {{0}};
		uint32_t seq;
		tu_id(&tok, "flip/bodiless", 0);
		tu_id(&txid, "flip/bodiless-tx", 0);
		assert_int_equal(ec_store_set_chain_state(t, &tok, &txid, &zero, NOW - 1, NULL),
				 EC_OK);
		w_token(w, &tok);
		assert_int_equal(ec_store_add_evidence(t, &w->creators[1], NOW - 5, (const uint8_t *)"first", 5,
						       (const uint8_t *)"second", 6, &seq),
				 EC_OK);
		assert_int_equal(ec_store_add_evidence(t, &w->creators[1], NOW - 4, (const uint8_t *)"a", 1,
						       NULL, 0, &seq),
				 EC_OK);
		for (uint64_t i = 0; i < 4; i++)
			put_peer_rec(t, i, 99);
		assert_int_equal(ec_store_txn_commit(t), EC_OK);
	}
	/* asked for but never stored */
	for (uint64_t i = 0; i < 3; i++) {
		tu_id(&w->tokens[w->n_tokens++], "flip/unknown-token", i);
		tu_id(&w->txids[w->n_txids++], "flip/unknown-tx", i);
	}
	tu_id(&w->blocks[w->n_blocks++], "flip/unknown-block", 0);
}

/* Everything asked of one store, in order: each an answer (bytes) or a
 * failure (an error, or the serve's store-failure refusal). */
typedef struct ans {
	int fail;
	uint8_t *b;
	size_t n;
} ans;

typedef struct survey {
	ans *a;
	size_t n, cap;
} survey;

static void add(survey *v, int fail, const void *b, size_t n)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->a = realloc(v->a, v->cap * sizeof *v->a);
		if (!v->a)
			abort();
	}
	v->a[v->n].fail = fail;
	v->a[v->n].n = n;
	v->a[v->n].b = n ? malloc(n) : NULL;
	if (n)
		memcpy(v->a[v->n].b, b, n);
	v->n++;
}

/* A store read: EC_OK (the bytes) and EC_ERR_NOTFOUND are answers. */
static void add_read(survey *v, int r, const void *b, size_t n)
{
	if (r == EC_OK)
		add(v, 0, b, n);
	else if (r == EC_ERR_NOTFOUND)
		add(v, 0, "notfound", 8);
	else
		add(v, 1, NULL, 0);
}

static void add_served(survey *v, int r, ec_serve_answer *a)
{
	if (r != EC_OK || !a->msg || (a->type == EC_MSG_REFUSAL && a->reason == EC_REFUSE_BUSY))
		add(v, 1, NULL, 0);
	else
		add(v, 0, a->msg, a->len);
	ec_serve_answer_clear(a);
}

static void survey_free(survey *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->a[i].b);
	free(v->a);
	memset(v, 0, sizeof *v);
}

/* The items of one iteration (or the start-up chain load), gathered into
 * one answer so that every run asks the same number of questions. */
typedef struct coll {
	uint8_t *b;
	size_t n;
} coll;

static void coll_add(coll *c, const void *p, size_t n)
{
	uint8_t *nb = realloc(c->b, c->n + n + 1);
	if (!nb)
		abort();
	c->b = nb;
	if (n)
		memcpy(c->b + c->n, p, n);
	c->n += n;
}

/* One answer for the whole iteration (r its result). */
static void coll_done(survey *v, coll *c, int r)
{
	add_read(v, r, c->b, c->n);
	free(c->b);
	memset(c, 0, sizeof *c);
}

static int coll_head(void *ctx, const ec_id *c, const ec_id *id, uint64_t h)
{
	uint8_t b[72];
	memcpy(b, c->b, 32);
	memcpy(b + 32, id->b, 32);
	ec_put_u64(b + 64, h);
	coll_add(ctx, b, sizeof b);
	return 0;
}

static int coll_peer(void *ctx, const ec_peer_rec *p)
{
	coll_add(ctx, p, sizeof *p);
	return 0;
}

static int coll_prog(void *ctx, const ec_sync_progress *p)
{
	coll_add(ctx, p, sizeof *p);
	return 0;
}

static int coll_metrics(void *ctx, const ec_peer_metrics *m)
{
	coll_add(ctx, m, sizeof *m);
	return 0;
}

static int coll_evid(void *ctx, const ec_equiv_evidence *e)
{
	uint8_t b[48];
	memcpy(b, e->peer.b, 32);
	ec_put_u64(b + 32, e->seq);
	ec_put_u64(b + 40, e->detected);
	coll_add(ctx, b, sizeof b);
	coll_add(ctx, e->a, e->a_len);
	coll_add(ctx, e->b, e->b_len);
	return 0;
}

static const ec_id *requester(void)
{
	static ec_id r;
	tu_id(&r, "flip/requester", 0);
	return &r;
}

static void auth(ec_req_auth *a, uint8_t nonce)
{
	a->requester = *requester();
	a->timestamp = NOW;
	memset(a->nonce, nonce, sizeof a->nonce);
}

/* Asks s everything a node serves or acts on (cmocka-free: runs in the
 * child processes). */
static void ask_all(ec_store *s, const world *w, survey *v)
{
	ec_serve *srv;
	ec_serve_answer a;
	ec_store_txn *t;
	ec_evidence ev[EC_RESP_MAX_EVIDENCE];
	uint8_t nonce = 0;
	int r;
	memset(&a, 0, sizeof a);
	if (ec_serve_new(&srv, NULL, &w->self, &w->kp, NULL, NULL) != EC_OK ||
	    ec_store_txn_begin(s, 0, &t) != EC_OK)
		abort();
	/* what a node reads to start: its chain, the serve's evidence */
	r = ec_serve_load_evidence(srv, t);
	add_read(v, r, ev, r == EC_OK ? ec_serve_evidence(srv, ev) * sizeof ev[0] : 0);
	{
		coll c = {0};
		ec_id head, id;
		uint64_t hh;
		const uint8_t *p;
		size_t n;
		r = ec_store_get_head(t, &w->self, &head, &hh);
		coll_add(&c, head.b, 32);
		for (uint64_t h = 0; r == EC_OK && h <= hh && h < 1000; h++) {
			r = ec_store_get_block_at(t, &w->self, h, &id);
			if (r == EC_OK)
				r = ec_store_get_block_raw(t, &id, &p, &n);
			if (r == EC_OK)
				coll_add(&c, p, n);
		}
		coll_done(v, &c, r);
	}
	for (size_t i = 0; i < w->n_tokens; i++) {
		ec_mapping_req q;
		ec_token_state st;
		memset(&q, 0, sizeof q);
		memset(q.nonce, ++nonce, sizeof q.nonce);
		q.token = w->tokens[i];
		q.flags = i % 2 ? EC_MAPPING_WANT_EVIDENCE : 0;
		r = ec_serve_mapping(srv, t, requester(), &q, NULL, NOW, &a);
		add_served(v, r, &a);
		r = ec_store_get_token(t, &w->tokens[i], &st);
		add_read(v, r, &st, sizeof st);
	}
	for (size_t i = 0; i < w->n_txids; i++) {
		ec_tx_req q;
		ec_id blk;
		uint8_t pos;
		memset(&q, 0, sizeof q);
		memset(q.nonce, ++nonce, sizeof q.nonce);
		q.txid = w->txids[i];
		r = ec_serve_tx(srv, t, requester(), &q, NOW, &a);
		add_served(v, r, &a);
		memset(&blk, 0, sizeof blk);
		pos = 0;
		r = ec_store_get_tx_index(t, &w->txids[i], &blk, &pos);
		blk.b[0] ^= pos;
		add_read(v, r, blk.b, 32);
	}
	for (size_t i = 0; i < w->n_blocks; i++) {
		ec_block_req q;
		memset(&q, 0, sizeof q);
		q.block_id = w->blocks[i];
		q.priority = EC_PRIO_VALIDATION;
		auth(&q.auth, ++nonce);
		if (ec_block_req_sign(&q, wg_key(2)->sk) != EC_OK)
			abort();
		r = ec_serve_block(srv, t, requester(), &q, NOW, &a);
		add_served(v, r, &a);
	}
	for (size_t i = 0; i < w->n_heads; i++) {
		ec_range_req q;
		memset(&q, 0, sizeof q);
		q.start = w->heads[i];
		q.max_blocks = 1024;
		q.max_bytes = EC_MSG_MAX_BYTES;
		q.flags = EC_RANGE_WITH_PROOFS;
		q.priority = EC_PRIO_SYNC;
		auth(&q.auth, ++nonce);
		if (ec_range_req_sign(&q, wg_key(2)->sk) != EC_OK)
			abort();
		r = ec_serve_range(srv, t, requester(), &q, NOW, &a);
		add_served(v, r, &a);
	}
	for (size_t i = 0; i < w->n_txids; i += EC_TXBATCH_MAX) {
		ec_txbatch_req q;
		memset(&q, 0, sizeof q);
		memset(q.nonce, ++nonce, sizeof q.nonce);
		q.n = (uint8_t)(w->n_txids - i < EC_TXBATCH_MAX ? w->n_txids - i : EC_TXBATCH_MAX);
		memcpy(q.txids, &w->txids[i], q.n * sizeof q.txids[0]);
		r = ec_serve_txbatch(srv, t, requester(), &q, NOW, &a);
		add_served(v, r, &a);
	}
	/* what the node acts on besides: heads, peers, sync progress,
	 * swap metrics, evidence */
	{
		coll c = {0};
		coll_done(v, &c, ec_store_iter_heads(t, coll_head, &c));
		coll_done(v, &c, ec_store_iter_peers(t, coll_peer, &c));
		coll_done(v, &c, ec_store_iter_progress(t, coll_prog, &c));
		coll_done(v, &c, ec_store_iter_metrics(t, coll_metrics, &c));
		coll_done(v, &c, ec_store_iter_evidence(t, NULL, coll_evid, &c));
	}
	ec_store_txn_abort(t);
	ec_serve_free(srv);
}

enum outcome { HARMLESS, AT_OPEN, AT_READ, WRONG, UNCLEAR, N_OUTCOMES };

/* Compares a run's answers with the truth, question by question (every
 * run asks the same questions). */
static int judge(const survey *truth, const survey *got, int reported, size_t *where)
{
	int failed = 0;
	if (got->n != truth->n)
		abort(); /* the harness's own bug */
	for (size_t i = 0; i < truth->n; i++) {
		const ans *x = &truth->a[i], *y = &got->a[i];
		if (y->fail) {
			failed = 1;
			continue;
		}
		if (x->fail || x->n != y->n || (x->n && memcmp(x->b, y->b, x->n))) {
			*where = i;
			return WRONG;
		}
	}
	if (failed)
		return reported ? AT_READ : UNCLEAR;
	return HARMLESS;
}

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void write_file(const char *path, const uint8_t *b, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

static uint8_t *read_file(const char *path, size_t *n)
{
	struct stat sb;
	uint8_t *b;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	*n = (size_t)sb.st_size;
	b = malloc(*n);
	assert_non_null(b);
	assert_int_equal(read(fd, b, *n), (ssize_t)*n);
	close(fd);
	return b;
}

/* One run in a child: exit status = outcome; the first corruption line and
 * the first differing answer go to a pipe for the parent's report. */
static int g_quick; /* EC_CORRUPT_QUICK=1: without the open's verification pass */

static int run_child(const char *dir, const world *w, const survey *truth, int out_fd)
{
	struct logcap lc;
	ec_store *s;
	ec_store_opts o = {.log = logcap_fn, .log_ctx = &lc, .quick_open = g_quick};
	survey got = {0};
	size_t where = 0;
	char line[EC_STORE_MSG_MAX + 64];
	int r, k;
	memset(&lc, 0, sizeof lc);
	r = ec_store_open_lmdb(&s, dir, &o);
	if (r != EC_OK) {
		k = lc.n ? AT_OPEN : UNCLEAR;
		snprintf(line, sizeof line, "%s", lc.n ? lc.first : ec_strerror(r));
	} else {
		ask_all(s, w, &got);
		k = judge(truth, &got, lc.n > 0, &where);
		if (k == WRONG)
			snprintf(line, sizeof line, "answer %zu of %zu differs", where, truth->n);
		else
			snprintf(line, sizeof line, "%s", lc.first);
		ec_store_close(s);
	}
	(void)!write(out_fd, line, strlen(line) + 1);
	return k;
}

static void test_random_flips(void **state)
{
	static const char *names[N_OUTCOMES] = {"harmless", "detected at open",
						 "detected at read", "WRONG", "unclear"};
	char dir[256], run[256], p[600], line[EC_STORE_MSG_MAX + 64];
	char example[N_OUTCOMES][sizeof line];
	const char *env;
	ec_store *s;
	world *w = calloc(1, sizeof *w);
	survey truth = {0};
	uint8_t *data, *commit;
	size_t dn, cn;
	uint64_t seed, rng, runs = 200, count[N_OUTCOMES] = {0}, crashed = 0, only = UINT64_MAX;
	(void)state;
	assert_non_null(w);
	memset(example, 0, sizeof example);
	env = getenv("EC_CORRUPT_RUNS");
	if (env && *env)
		runs = strtoull(env, NULL, 10);
	env = getenv("EC_CORRUPT_QUICK");
	g_quick = env && *env == '1';
	env = getenv("EC_CORRUPT_RUN"); /* one run, in this process (a debugger) */
	if (env && *env)
		only = strtoull(env, NULL, 10);
	env = getenv("EC_CORRUPT_SEED");
	seed = env && *env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
	printf("random flips: seed %llu (EC_CORRUPT_SEED), %llu runs (EC_CORRUPT_RUNS)%s\n",
	       (unsigned long long)seed, (unsigned long long)runs,
	       g_quick ? ", opens WITHOUT the verification pass (EC_CORRUPT_QUICK)" : "");

	tu_tmpdir(dir, sizeof dir, "ec-test-flip");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	build(s, w);
	ec_store_close(s);
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_verify(s, EC_VERIFY_REFS, NULL), EC_OK);
	ask_all(s, w, &truth);
	ec_store_close(s);
	for (size_t i = 0; i < truth.n; i++)
		assert_false(truth.a[i].fail);
	snprintf(p, sizeof p, "%s/data.mdb", dir);
	data = read_file(p, &dn);
	snprintf(p, sizeof p, "%s/data.commit", dir);
	commit = read_file(p, &cn);
	printf("store: data.mdb %zu bytes, %zu tokens, %zu txs, %zu blocks; %zu answers "
	       "compared per run\n",
	       dn, w->n_tokens, w->n_txids, w->n_blocks, truth.n);

	tu_tmpdir(run, sizeof run, "ec-test-flip-run");
	/* the judge has teeth: a token's record moved to another key (the
	 * digest kept consistent) answers "no mapping" past a quick open,
	 * which the judge calls wrong; the default open refuses the store */
	{
		uint8_t v[512], k2[32];
		size_t n;
		survey got = {0};
		size_t where = 0;
		int pfd[2];
		tu_copydir(dir, run);
		n = tu_raw_get(run, EC_T_TOKENS, w->tokens[0].b, 32, v, sizeof v);
		memcpy(k2, w->tokens[0].b, 32);
		k2[0] ^= 0x80;
		tu_raw_put(run, EC_T_TOKENS, w->tokens[0].b, 32, NULL, 0, TU_RAW_DIGEST);
		tu_raw_put(run, EC_T_TOKENS, k2, 32, v, n, TU_RAW_DIGEST);
		assert_int_equal(ec_store_open_lmdb(&s, run, &(ec_store_opts){.quick_open = 1}),
				 EC_OK);
		ask_all(s, w, &got);
		ec_store_close(s);
		assert_int_equal(judge(&truth, &got, 0, &where), WRONG);
		survey_free(&got);
		assert_int_equal(pipe(pfd), 0);
		{
			int q = g_quick;
			g_quick = 0;
			assert_int_equal(run_child(run, w, &truth, pfd[1]), AT_OPEN);
			g_quick = q;
		}
		close(pfd[0]);
		close(pfd[1]);
	}
	rng = seed;
	for (uint64_t i = 0; i < runs; i++) {
		size_t at = (size_t)(splitmix(&rng) % dn);
		uint8_t x = (uint8_t)(1 + splitmix(&rng) % 255);
		int pfd[2], st, k;
		ssize_t got;
		pid_t pid;
		if (only != UINT64_MAX && i != only)
			continue;
		data[at] ^= x;
		snprintf(p, sizeof p, "%s/data.mdb", run);
		write_file(p, data, dn);
		data[at] ^= x;
		snprintf(p, sizeof p, "%s/data.commit", run);
		write_file(p, commit, cn);
		snprintf(p, sizeof p, "%s/lock.mdb", run);
		unlink(p);
		assert_int_equal(pipe(pfd), 0);
		if (only != UINT64_MAX) {
			k = run_child(run, w, &truth, pfd[1]);
			printf("run %llu: offset %zu ^ 0x%02x: %s\n", (unsigned long long)i, at, x,
			       names[k]);
			close(pfd[0]);
			close(pfd[1]);
			count[k]++;
			continue;
		}
		fflush(stdout);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			/* a crash must show as one, not as cmocka's failure */
			signal(SIGSEGV, SIG_DFL);
			signal(SIGBUS, SIG_DFL);
			signal(SIGABRT, SIG_DFL);
			signal(SIGFPE, SIG_DFL);
			signal(SIGILL, SIG_DFL);
			close(pfd[0]);
			_exit(100 + run_child(run, w, &truth, pfd[1]));
		}
		close(pfd[1]);
		memset(line, 0, sizeof line);
		got = read(pfd[0], line, sizeof line - 1);
		close(pfd[0]);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (!WIFEXITED(st) || WEXITSTATUS(st) < 100 || WEXITSTATUS(st) >= 100 + N_OUTCOMES) {
			crashed++;
			printf("run %llu: offset %zu ^ 0x%02x: child %s %d\n",
			       (unsigned long long)i, at, x,
			       WIFSIGNALED(st) ? "killed by signal" : "exit", WIFSIGNALED(st)
											    ? WTERMSIG(st)
											    : WEXITSTATUS(st));
			continue;
		}
		k = WEXITSTATUS(st) - 100;
		count[k]++;
		if (got > 0 && !example[k][0])
			snprintf(example[k], sizeof example[k], "%s", line);
		if (k == WRONG || k == UNCLEAR)
			printf("run %llu: offset %zu ^ 0x%02x: %s: %s\n", (unsigned long long)i, at,
			       x, names[k], line);
	}
	printf("runs %llu: detected at open %llu, detected at read %llu, harmless %llu, "
	       "wrong %llu, unclear %llu, crashed %llu\n",
	       (unsigned long long)runs, (unsigned long long)count[AT_OPEN],
	       (unsigned long long)count[AT_READ], (unsigned long long)count[HARMLESS],
	       (unsigned long long)count[WRONG], (unsigned long long)count[UNCLEAR],
	       (unsigned long long)crashed);
	for (int k = AT_OPEN; k <= AT_READ; k++)
		if (example[k][0])
			printf("  e.g. %s: %s\n", names[k], example[k]);
	if (g_quick) /* a demonstration of what the pass is for, not a check */
		printf("  (EC_CORRUPT_QUICK: wrong answers are expected here)\n");
	else {
		assert_int_equal(count[WRONG], 0);
		assert_int_equal(count[UNCLEAR], 0);
	}
	assert_int_equal(crashed, 0);
	survey_free(&truth);
	free(data);
	free(commit);
	free(w);
	tu_rmrf(run);
	tu_rmrf(dir);
}

/* ---- crafted data files: what LMDB would follow must be walked or refused */

static uint64_t g64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void p16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void p64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* The open runs in a child: a fault there fails the test instead of
 * ending the run.  The child exits 0 only when the open refused the store
 * with a corruption report containing msg. */
static void crafted_open_fails(const char *dir, const char *msg)
{
	int st;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct logcap lc;
		ec_store *s = NULL;
		ec_store_opts o = {.log = logcap_fn, .log_ctx = &lc};
		int r;
		/* cmocka's handlers would carry on with the next test here */
		signal(SIGBUS, SIG_DFL);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGILL, SIG_DFL);
		signal(SIGFPE, SIG_DFL);
		signal(SIGABRT, SIG_DFL);
		memset(&lc, 0, sizeof lc);
		r = ec_store_open_lmdb(&s, dir, &o);
		if (r != EC_ERR_CORRUPT || s || !lc.n || !strstr(lc.first, "store corrupt") ||
		    !strstr(lc.first, msg)) {
			fprintf(stderr, "open: %s, first report '%s'\n", ec_strerror(r), lc.first);
			_exit(1);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		fail_msg("the open died of signal %d", WTERMSIG(st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

enum { CR_TIE, CR_META_TIE, CR_DIRTY, CR_MAIN_FLAGS };

/* Damages a copy of a small store as `how` says and checks the open. */
static void crafted(const char *good, int how, const char *msg)
{
	char dir[256], path[300];
	size_t n;
	uint8_t *f, *meta, *root;
	unsigned psize;
	uint64_t last;
	int cur;
	tu_tmpdir(dir, sizeof dir, "ec-test-crafted");
	tu_copydir(good, dir);
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	f = read_file(path, &n);
	psize = (unsigned)(f[40] | f[41] << 8 | f[42] << 16 | (unsigned)f[43] << 24);
	assert_true(psize >= 512 && n >= 2 * (size_t)psize);
	cur = g64(f + 144) < g64(f + psize + 144);
	meta = f + (size_t)cur * psize;
	last = g64(meta + 136);
	root = f + g64(meta + 88 + 40) * psize;
	assert_int_equal(g64(meta + 88 + 40) < last + 1, 1);
	if (how == CR_TIE) {
		/* a named-tree record flagged F_SUBDATA|F_BIGDATA: mdb_dbi_open
		 * takes the record from the overflow page, whose root is a leaf
		 * with a node pointer past the page */
		uint8_t *ov, *leaf;
		unsigned at = (unsigned)(root[16] | root[17] << 8), ks;
		uint8_t *node = root + at;
		assert_int_equal(root[10] & 0x02, 0x02); /* a leaf root */
		assert_int_equal(node[4] & 0x02, 0x02);
		ks = (unsigned)(node[6] | node[7] << 8);
		f = realloc(f, (size_t)(last + 3) * psize);
		assert_non_null(f);
		meta = f + (size_t)cur * psize;
		root = f + g64(meta + 88 + 40) * psize;
		node = root + at;
		ov = f + (last + 1) * psize;
		leaf = f + (last + 2) * psize;
		memset(ov, 0, 2 * (size_t)psize);
		p16(node + 4, 0x03);
		p64(node + 8 + ks, last + 1);
		p64(ov, last + 1);
		p16(ov + 10, 0x04);
		ov[12] = 1; /* one page */
		p16(ov + 16 + 6, 1);       /* md_depth */
		p64(ov + 16 + 16, 1);      /* md_leaf_pages */
		p64(ov + 16 + 32, 1);      /* md_entries */
		p64(ov + 16 + 40, last + 2); /* md_root */
		p64(leaf, last + 2);
		p16(leaf + 10, 0x02);
		p16(leaf + 12, 18);
		p16(leaf + 14, (uint16_t)(psize - 96));
		p16(leaf + 16, 0xFFF0);
		p64(meta + 136, last + 2);
		n = (size_t)(last + 3) * psize;
	} else if (how == CR_META_TIE) {
		/* both meta pages name the current commit, page 0 (the one
		 * LMDB picks on a tie) with a main root outside the file */
		memcpy(f + 16, meta + 16, 136);
		memcpy(f + psize + 16, meta + 16, 136);
		p64(f + 88 + 40, last + 1000);
	} else if (how == CR_DIRTY) {
		/* P_DIRTY on the main root: a writer would change it in place,
		 * in a read-only map */
		p16(root + 10, (uint16_t)(root[10] | root[11] << 8 | 0x10));
	} else {
		p16(meta + 88 + 4, 0x04); /* the main tree MDB_DUPSORT */
	}
	write_file(path, f, n);
	free(f);
	crafted_open_fails(dir, msg);
	tu_rmrf(dir);
}

static void test_crafted_pages(void **state)
{
	char good[256];
	ec_tx txs[3];
	(void)state;
	small_store(good, sizeof good, txs);
	crafted(good, CR_TIE, "page");
	crafted(good, CR_META_TIE, "outside");
	crafted(good, CR_DIRTY, "flags 0x12");
	crafted(good, CR_MAIN_FLAGS, "tree (main): flags 0x4");
	tu_rmrf(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_checks_memory),
		cmocka_unit_test(test_read_checks_lmdb),
		cmocka_unit_test(test_moved_lost_stale),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_verify_refs),
		cmocka_unit_test(test_crafted_pages),
		cmocka_unit_test(test_node_on_damage),
		cmocka_unit_test(test_random_flips),
	};
	assert_int_equal(ec_crypto_init(), EC_OK);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
