/* tu_store.c - see tu_store.h */
#include "tu_store.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "ec/crypto.h"
#include "store/ec_store_int.h"
#include "testutil.h"
#include "util/ec_buf.h"

void tu_tmpdir(char *path, size_t cap, const char *prefix)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	snprintf(path, cap, "%s/%s-XXXXXX", base, prefix);
	assert_non_null(mkdtemp(path));
}

void tu_rmrf(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

void tu_copydir(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *e;
	char a[4096], b[4096], buf[65536];
	assert_non_null(d);
	mkdir(dst, 0700);
	while ((e = readdir(d))) {
		FILE *in, *out;
		size_t n;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(a, sizeof a, "%s/%s", src, e->d_name);
		snprintf(b, sizeof b, "%s/%s", dst, e->d_name);
		in = fopen(a, "rb");
		out = fopen(b, "wb");
		assert_non_null(in);
		assert_non_null(out);
		while ((n = fread(buf, 1, sizeof buf, in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
		fclose(out);
	}
	closedir(d);
}

int tu_file_hash(const char *path, ec_id *out)
{
	FILE *f = fopen(path, "rb");
	ec_hash_ctx h;
	uint8_t buf[65536];
	size_t n;
	if (!f)
		return -1;
	ec_hash_init(&h, NULL);
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		ec_hash_update(&h, buf, n);
	fclose(f);
	ec_hash_final(&h, out);
	return 0;
}

ec_store_txn *tu_wtxn(ec_store *s)
{
	ec_store_txn *t;
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
	return t;
}

ec_store_txn *tu_rtxn(ec_store *s)
{
	ec_store_txn *t;
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	return t;
}

void tu_id(ec_id *out, const char *tag, uint64_t n)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(n >> (56 - 8 * i));
	ec_hash(out, tag, b, 8);
}

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, EC_HASH_BYTES);
}

void tu_make_tx(ec_tx *tx, uint64_t seed, unsigned n_entries, ec_time ts)
{
	ec_id toks[EC_TX_MAX_ENTRIES];
	memset(tx, 0, sizeof(*tx));
	assert_true(n_entries >= 1 && n_entries <= EC_TX_MAX_ENTRIES);
	for (unsigned i = 0; i < n_entries; i++)
		tu_id(&toks[i], "test/token", seed * 8 + i);
	qsort(toks, n_entries, sizeof(ec_id), id_cmp);
	tx->timestamp = ts;
	tx->n_entries = (uint8_t)n_entries;
	for (unsigned i = 0; i < n_entries; i++) {
		tx->entries[i].token = toks[i];
		tu_id(&tx->entries[i].next_key, "test/key", seed * 8 + i);
	}
	assert_int_equal(ec_tx_finalize(tx), EC_OK);
}

void tu_make_block(ec_block *b, const ec_id *creator, uint64_t height,
		   const ec_id *prev, ec_time ts, const ec_tx *txs, unsigned n)
{
	memset(b, 0, sizeof(*b));
	assert_true(n >= 1 && n <= EC_BLOCK_MAX_TXS);
	b->creator = *creator;
	b->height = height;
	b->timestamp = ts;
	if (prev)
		b->prev = *prev;
	b->n_txs = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		b->txids[i] = txs[i].id;
	ec_merkle_root(&b->merkle_root, b->txids, n);
	tu_id(&b->proof_hash, "test/proof", height);
	ec_block_compute_id(b, &b->id);
}

static void raw_env(const char *dir, MDB_env **env, MDB_txn **txn, int rdonly)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(*env, EC_STORE_DEFAULT_MAP), 0);
	assert_int_equal(mdb_env_open(*env, dir, rdonly ? MDB_RDONLY : 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(*env, NULL, rdonly ? MDB_RDONLY : 0, txn), 0);
}

void tu_raw_put(const char *dir, int table, const void *k, size_t kn, const void *v,
		size_t vn, int flags)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, meta;
	MDB_val key = {kn, (void *)k}, val;
	uint8_t buf[4096], d[EC_DIGEST_VAL_BYTES + EC_SEAL_BYTES];
	uint64_t osum = 0, nsum = 0;
	int had;
	assert_true(vn + EC_SEAL_BYTES <= sizeof buf);
	raw_env(dir, &env, &txn, 0);
	assert_int_equal(mdb_dbi_open(txn, ec_store_table_names[table], 0, &dbi), 0);
	had = mdb_get(txn, dbi, &key, &val) == 0;
	if (had && val.mv_size >= EC_SEAL_BYTES)
		osum = ec_get_u64((const uint8_t *)val.mv_data + val.mv_size - EC_SEAL_BYTES);
	if (v) {
		memcpy(buf, v, vn);
		if (flags & TU_RAW_SEAL) {
			ec_store_seal(table, k, kn, buf, vn);
			vn += EC_SEAL_BYTES;
		}
		if (vn >= EC_SEAL_BYTES)
			nsum = ec_get_u64(buf + vn - EC_SEAL_BYTES);
		val.mv_size = vn;
		val.mv_data = buf;
		assert_int_equal(mdb_put(txn, dbi, &key, &val, 0), 0);
	} else {
		assert_int_equal(mdb_del(txn, dbi, &key, NULL), 0);
	}
	if (flags & TU_RAW_DIGEST) {
		MDB_val dk = {strlen(EC_META_DIGEST), (void *)EC_META_DIGEST};
		uint8_t *e = d + 9 + 16 * (table - 1);
		assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
		assert_int_equal(mdb_get(txn, meta, &dk, &val), 0);
		assert_int_equal(val.mv_size, sizeof d);
		memcpy(d, val.mv_data, sizeof d);
		ec_put_u64(d + 1, mdb_txn_id(txn));
		ec_put_u64(e, ec_get_u64(e) + (v != NULL) - had);
		ec_put_u64(e + 8, ec_get_u64(e + 8) - osum + nsum);
		ec_store_seal(EC_T_META, dk.mv_data, dk.mv_size, d, EC_DIGEST_VAL_BYTES);
		val.mv_size = sizeof d;
		val.mv_data = d;
		assert_int_equal(mdb_put(txn, meta, &dk, &val, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

size_t tu_raw_get(const char *dir, int table, const void *k, size_t kn, uint8_t *buf,
		  size_t cap)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = {kn, (void *)k}, val;
	size_t n;
	raw_env(dir, &env, &txn, 1);
	assert_int_equal(mdb_dbi_open(txn, ec_store_table_names[table], 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &key, &val), 0);
	n = val.mv_size;
	assert_true(n <= cap);
	memcpy(buf, val.mv_data, n);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return n;
}
