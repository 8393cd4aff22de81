/* test_store_swapm.c - the `swapm` table (per-peer swap metrics,
 * docs/STORAGE.md section 3.4) on both backends: round trip, ordered
 * iteration, delete, every rejected value, read-only txns, atomic abort;
 * and on LMDB: a record failing its field checks (behind a valid checksum)
 * fails the open's verification naming it, and reads as EC_ERR_CORRUPT;
 * a store without the table is damaged and no open creates it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lmdb.h>

#include "store/ec_store_int.h"
#include "testutil.h"
#include "tu_store.h"

static ec_peer_metrics sample(uint64_t n)
{
	ec_peer_metrics m;
	memset(&m, 0, sizeof m);
	tu_id(&m.peer, "swapm", n);
	snprintf(m.region, sizeof m.region, "region-%llu", (unsigned long long)n);
	snprintf(m.operator_tag, sizeof m.operator_tag, "op-%llu", (unsigned long long)n);
	m.n_requests = 100 + n;
	m.n_responses = 90 + n;
	m.n_checked = 50;
	m.n_agreed = 49;
	m.n_sync = 10;
	m.sync_sum = 7.25;
	m.n_latency = 12;
	m.latency_ms = 33.5;
	m.reputation = 0.875;
	m.n_penalties = 2;
	m.n_equivocations = (uint32_t)(n & 1);
	m.first_seen = 1700000000000ull + n;
	m.updated = 1700000999999ull;
	return m;
}

static int count_fn(void *ctx, const ec_peer_metrics *m)
{
	ec_id *prev = ctx;
	/* ascending by peer id */
	assert_true(ec_id_is_zero(prev) || ec_id_cmp(prev, &m->peer) < 0);
	*prev = m->peer;
	prev[1].b[0]++;
	return 0;
}

static void suite(ec_store *s)
{
	ec_store_txn *t;
	ec_peer_metrics m = sample(1), got, bad;
	ec_id it[2];

	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	for (uint64_t i = 1; i <= 5; i++) {
		ec_peer_metrics x = sample(i);
		assert_int_equal(ec_store_put_metrics(t, &x), EC_OK);
	}
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_memory_equal(&m, &got, sizeof m);
	memset(it, 0, sizeof it);
	assert_int_equal(ec_store_iter_metrics(t, count_fn, it), EC_OK);
	assert_int_equal(it[1].b[0], 5);
	/* read-only txn: no writes */
	assert_int_equal(ec_store_put_metrics(t, &m), EC_ERR_READONLY);
	assert_int_equal(ec_store_del_metrics(t, &m.peer), EC_ERR_READONLY);
	{
		ec_id none;
		tu_id(&none, "swapm", 99);
		assert_int_equal(ec_store_get_metrics(t, &none, &got), EC_ERR_NOTFOUND);
	}
	ec_store_txn_abort(t);

	/* every value out of its domain is refused, nothing written */
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
#define REJECT(stmt)                                                           \
	do {                                                                   \
		bad = sample(1);                                               \
		bad.updated = 42;                                              \
		stmt;                                                          \
		assert_int_equal(ec_store_put_metrics(t, &bad), EC_ERR_ARG);   \
	} while (0)
	REJECT(bad.n_responses = bad.n_requests + 1);
	REJECT(bad.n_agreed = bad.n_checked + 1);
	REJECT(bad.sync_sum = 10.5);
	REJECT(bad.sync_sum = -0.1);
	REJECT(bad.sync_sum = NAN);
	REJECT(bad.latency_ms = -1);
	REJECT(bad.latency_ms = INFINITY);
	REJECT(bad.reputation = 1.01);
	REJECT(bad.reputation = NAN);
	REJECT(memset(bad.region, 'x', sizeof bad.region));          /* no NUL */
	REJECT(memset(bad.operator_tag, 'y', sizeof bad.operator_tag));
#undef REJECT
	assert_int_equal(ec_store_put_metrics(t, NULL), EC_ERR_ARG);
	assert_int_equal(ec_store_put_metrics(NULL, &m), EC_ERR_ARG);
	assert_int_equal(ec_store_iter_metrics(t, NULL, NULL), EC_ERR_ARG);
	/* limits that are fine: 31-char tags, empty tags, zeros */
	bad = sample(7);
	memset(bad.region, 'r', EC_PEER_TAG_MAX);
	bad.region[EC_PEER_TAG_MAX] = 0;
	memset(bad.operator_tag, 0, sizeof bad.operator_tag);
	bad.sync_sum = (double)bad.n_sync;
	bad.reputation = 0;
	assert_int_equal(ec_store_put_metrics(t, &bad), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);

	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_int_equal(got.updated, m.updated); /* untouched by the rejects */
	assert_int_equal(ec_store_get_metrics(t, &bad.peer, &got), EC_OK);
	assert_memory_equal(&bad, &got, sizeof bad);
	ec_store_txn_abort(t);

	/* delete and abort */
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_del_metrics(t, &m.peer), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_ERR_NOTFOUND);
	ec_store_txn_abort(t);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_int_equal(ec_store_del_metrics(t, &m.peer), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_ERR_NOTFOUND);
	memset(it, 0, sizeof it);
	assert_int_equal(ec_store_iter_metrics(t, count_fn, it), EC_OK);
	assert_int_equal(it[1].b[0], 5); /* 2..5 and 7 */
	ec_store_txn_abort(t);
}

static void test_memory(void **state)
{
	ec_store *s;
	(void)state;
	assert_int_equal(ec_store_open_memory(&s), EC_OK);
	suite(s);
	ec_store_close(s);
}

static void test_lmdb(void **state)
{
	ec_store *s;
	char dir[256];
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-test-swapm");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	suite(s);
	ec_store_close(s);
	tu_rmrf(dir);
}

struct logcap {
	char last[512];
};

static void logcap_fn(void *ctx, int corrupt, const char *msg)
{
	struct logcap *c = ctx;
	if (corrupt)
		snprintf(c->last, sizeof c->last, "%s", msg);
}

static void test_lmdb_corrupt_record(void **state)
{
	ec_store *s;
	ec_store_txn *t;
	ec_peer_metrics m = sample(3), got;
	char dir[256], hex[65], want[200];
	uint8_t keep[256];
	size_t kn;
	struct logcap lc;
	ec_store_opts quick = {.quick_open = 1, .log = logcap_fn, .log_ctx = &lc};
	ec_store_opts full = {.log = logcap_fn, .log_ctx = &lc};
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-test-swapm");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_put_metrics(t, &m), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	ec_store_close(s);
	kn = tu_raw_get(dir, EC_T_SWAPM, m.peer.b, 32, keep, sizeof keep);
	kn -= EC_SEAL_BYTES;
	ec_hex_encode(hex, m.peer.b, 32);
	snprintf(want, sizeof want, "store corrupt: swapm %s: record does not decode", hex);

	/* records put would refuse, each with a valid checksum and digest, so
	 * that only the field checks can catch them: the open's verification
	 * pass names the record; past it (quick open) the reads fail */
	for (int k = 0; k < 4; k++) {
		uint8_t v[256];
		size_t vn = kn;
		memcpy(v, keep, kn);
		if (k == 0)
			v[0] = 2; /* record version */
		else if (k == 1)
			vn--; /* truncated */
		else if (k == 2)
			v[2] = 0; /* a NUL inside the region tag */
		else
			memset(v + vn - 16 - 8 - 8, 0xff, 8); /* reputation = NaN */
		tu_raw_put(dir, EC_T_SWAPM, m.peer.b, 32, v, vn, TU_RAW_SEAL | TU_RAW_DIGEST);
		lc.last[0] = 0;
		s = (ec_store *)1;
		assert_int_equal(ec_store_open_lmdb(&s, dir, &full), EC_ERR_CORRUPT);
		assert_null(s);
		assert_string_equal(lc.last, want);
		assert_int_equal(ec_store_open_lmdb(&s, dir, &quick), EC_OK);
		assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
		assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_ERR_CORRUPT);
		{
			ec_id it[2];
			memset(it, 0, sizeof it);
			assert_int_equal(ec_store_iter_metrics(t, count_fn, it), EC_ERR_CORRUPT);
		}
		ec_store_txn_abort(t);
		assert_int_equal(ec_store_corruptions(s), 2);
		assert_string_equal(ec_store_first_corruption(s), want);
		ec_store_close(s);
	}
	/* the good record back: opens, reads */
	tu_raw_put(dir, EC_T_SWAPM, m.peer.b, 32, keep, kn, TU_RAW_SEAL | TU_RAW_DIGEST);
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_memory_equal(&m, &got, sizeof m);
	ec_store_txn_abort(t);
	ec_store_close(s);
	tu_rmrf(dir);
}

/* Every table exists from a store's creation: one missing is damage, and
 * no open (read-only or read-write) creates it or changes anything. */
static void test_lmdb_missing_table(void **state)
{
	ec_store *s;
	ec_store_txn *t;
	ec_peer_rec p;
	ec_store_opts ro = {.read_only = 1};
	struct logcap lc = {{0}};
	ec_store_opts lo = {.log = logcap_fn, .log_ctx = &lc};
	char dir[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-test-swapm");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	memset(&p, 0, sizeof p);
	tu_id(&p.peer, "peer", 1);
	strcpy(p.addr, "10.0.0.1:7000");
	p.reputation = 0.5;
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_put_peer(t, &p), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	ec_store_close(s);

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(ec_store_open_lmdb(&s, dir, &ro), EC_ERR_CORRUPT);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &lo), EC_ERR_CORRUPT);
	assert_string_equal(lc.last, "store corrupt: table swapm: MDB_NOTFOUND: No matching "
				     "key/data pair found");
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_lmdb),
		cmocka_unit_test(test_lmdb_corrupt_record),
		cmocka_unit_test(test_lmdb_missing_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
