/* test_store_swapm.c - the `swapm` table (per-peer swap metrics,
 * docs/STORAGE.md section 3.4) on both backends: round trip, ordered
 * iteration, delete, every rejected value, read-only txns, atomic abort;
 * and on LMDB: a record failing its checks reads as EC_ERR_CORRUPT, and a
 * store created before the table existed opens read-only (the table reads
 * as empty) and read-write (the table is created, nothing else changes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <lmdb.h>

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

/* Raw LMDB access to the store's files, for what the API cannot do. */
static void raw_open(const char *dir, MDB_env **env, MDB_txn **txn)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(*env, EC_STORE_DEFAULT_MAP), 0);
	assert_int_equal(mdb_env_open(*env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, 0, txn), 0);
}

static void test_lmdb_corrupt_record(void **state)
{
	ec_store *s;
	ec_store_txn *t;
	ec_peer_metrics m = sample(3), got;
	char dir[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	(void)state;
	tu_tmpdir(dir, sizeof dir, "ec-test-swapm");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_put_metrics(t, &m), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	ec_store_close(s);

	/* flip the record into ones put would refuse, one at a time */
	for (int k = 0; k < 4; k++) {
		MDB_val key = {32, m.peer.b}, val;
		uint8_t v[256];
		size_t vn;
		raw_open(dir, &env, &txn);
		assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), 0);
		assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
		vn = val.mv_size;
		memcpy(v, val.mv_data, vn);
		if (k == 0)
			v[0] = 2; /* record version */
		else if (k == 1)
			vn--; /* truncated */
		else if (k == 2)
			v[2] = 0; /* a NUL inside the region tag */
		else
			memset(v + vn - 16 - 8 - 8, 0xff, 8); /* reputation = NaN */
		val.mv_size = vn;
		val.mv_data = v;
		{
			MDB_val orig;
			uint8_t keep[256];
			size_t kn;
			assert_int_equal(mdb_get(txn, dbi, &key, &orig), 0);
			kn = orig.mv_size;
			memcpy(keep, orig.mv_data, kn);
			assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
			assert_int_equal(mdb_txn_commit(txn), 0);
			mdb_env_close(env);

			assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
			assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
			assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_ERR_CORRUPT);
			{
				ec_id it[2];
				memset(it, 0, sizeof it);
				assert_int_equal(ec_store_iter_metrics(t, count_fn, it),
						 EC_ERR_CORRUPT);
			}
			ec_store_txn_abort(t);
			ec_store_close(s);

			/* restore the good record for the next case */
			raw_open(dir, &env, &txn);
			assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), 0);
			val.mv_size = kn;
			val.mv_data = keep;
			assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
			assert_int_equal(mdb_txn_commit(txn), 0);
			mdb_env_close(env);
		}
	}
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_memory_equal(&m, &got, sizeof m);
	ec_store_txn_abort(t);
	ec_store_close(s);
	tu_rmrf(dir);
}

static void test_lmdb_older_store(void **state)
{
	ec_store *s;
	ec_store_txn *t;
	ec_peer_rec p, pg;
	ec_peer_metrics m = sample(4), got;
	ec_store_opts ro = {.read_only = 1};
	char dir[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	ec_id it[2];
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

	/* make it a store from before the table: drop the DBI entirely */
	raw_open(dir, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), 0);
	assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);

	/* read-only: opens, the table reads as empty, nothing is created */
	assert_int_equal(ec_store_open_lmdb(&s, dir, &ro), EC_OK);
	assert_int_equal(ec_store_format(s), EC_STORE_FORMAT);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_ERR_NOTFOUND);
	memset(it, 0, sizeof it);
	assert_int_equal(ec_store_iter_metrics(t, count_fn, it), EC_OK);
	assert_int_equal(it[1].b[0], 0);
	assert_int_equal(ec_store_get_peer(t, &p.peer, &pg), EC_OK);
	ec_store_txn_abort(t);
	ec_store_close(s);
	raw_open(dir, &env, &txn);
	assert_int_equal(mdb_dbi_open(txn, "swapm", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);

	/* read-write: the table is created; old data intact */
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	assert_int_equal(ec_store_get_peer(t, &p.peer, &pg), EC_OK);
	assert_string_equal(pg.addr, "10.0.0.1:7000");
	assert_int_equal(ec_store_put_metrics(t, &m), EC_OK);
	assert_int_equal(ec_store_txn_commit(t), EC_OK);
	ec_store_close(s);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &ro), EC_OK);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	assert_int_equal(ec_store_get_metrics(t, &m.peer, &got), EC_OK);
	assert_memory_equal(&m, &got, sizeof m);
	ec_store_txn_abort(t);
	ec_store_close(s);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_lmdb),
		cmocka_unit_test(test_lmdb_corrupt_record),
		cmocka_unit_test(test_lmdb_older_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
