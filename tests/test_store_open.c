/* test_store_open.c - the LMDB store's life on disk: the format version is
 * recorded and survives reopening; opening a store of another format (an
 * older one without checksums, a newer one), a garbage file, a truncated file or a foreign LMDB file fails with a clear
 * error and changes nothing; read-only opens; and a full disk - a small
 * LMDB map, and (as root, where mount works) a small tmpfs - surfaces
 * EC_ERR_FULL with nothing of the failed batch written and the store still
 * readable and usable. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "ec/crypto.h"
#include "testutil.h"
#include "tu_store.h"

static void path_in(char *out, size_t cap, const char *dir, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static int exists(const char *dir, const char *name)
{
	char p[512];
	path_in(p, sizeof p, dir, name);
	return access(p, F_OK) == 0;
}

/* Batch i: a block of `per` transactions of chain "open/creator" plus a
 * proof of proof_len bytes, one txn. */
static int write_batch(ec_store *s, uint64_t i, unsigned per, size_t proof_len)
{
	ec_store_txn *t;
	ec_tx txs[EC_BLOCK_MAX_TXS];
	ec_block b;
	ec_id cr;
	uint8_t *proof;
	int r;
	tu_id(&cr, "open/creator", 0);
	for (unsigned j = 0; j < per; j++)
		tu_make_tx(&txs[j], i * 64 + j, 1 + j % 6, 1000 + i);
	tu_make_block(&b, &cr, i, NULL, 1000 + i, txs, per);
	r = ec_store_txn_begin(s, 1, &t);
	if (r != EC_OK)
		return r;
	r = ec_store_put_own_block(t, &b, NULL, 0, txs);
	if (r == EC_OK && proof_len) {
		proof = calloc(1, proof_len);
		assert_non_null(proof);
		proof[0] = (uint8_t)i;
		r = ec_store_put_proof(t, &b.id, proof, proof_len);
		free(proof);
	}
	if (r != EC_OK) {
		int c = ec_store_txn_commit(t); /* a failed txn commits nothing */
		assert_int_equal(c, r == EC_ERR_FULL ? EC_ERR_FULL : c);
		return r;
	}
	return ec_store_txn_commit(t);
}

/* Number of batch i's records present (block, index, txs, tokens). */
static unsigned presence(ec_store *s, uint64_t i, unsigned per, unsigned *total)
{
	ec_store_txn *t;
	ec_tx txs[EC_BLOCK_MAX_TXS];
	ec_block b;
	ec_id cr, id;
	ec_token_state st;
	unsigned n = 0, p = 0;
	const uint8_t *v;
	size_t vn;
	tu_id(&cr, "open/creator", 0);
	for (unsigned j = 0; j < per; j++)
		tu_make_tx(&txs[j], i * 64 + j, 1 + j % 6, 1000 + i);
	tu_make_block(&b, &cr, i, NULL, 1000 + i, txs, per);
	assert_int_equal(ec_store_txn_begin(s, 0, &t), EC_OK);
	n++, p += ec_store_has_block(t, &b.id) == 1;
	n++, p += ec_store_get_block_at(t, &cr, i, &id) == EC_OK;
	for (unsigned j = 0; j < per; j++) {
		n++, p += ec_store_get_tx_raw(t, &txs[j].id, &v, &vn) == EC_OK;
		n++, p += ec_store_get_tx_index(t, &txs[j].id, &id, NULL) == EC_OK;
		for (unsigned e = 0; e < txs[j].n_entries; e++)
			n++, p += ec_store_get_token(t, &txs[j].entries[e].token, &st) == EC_OK;
	}
	ec_store_txn_abort(t);
	*total = n;
	return p;
}

static void assert_batch_whole(ec_store *s, uint64_t i, unsigned per)
{
	unsigned total, p = presence(s, i, per, &total);
	if (p != total)
		fail_msg("batch %llu: %u of %u records", (unsigned long long)i, p, total);
}

static void assert_batch_absent(ec_store *s, uint64_t i, unsigned per)
{
	unsigned total, p = presence(s, i, per, &total);
	if (p != 0)
		fail_msg("failed batch %llu: %u of %u records written", (unsigned long long)i,
			 p, total);
}

/* ---- format, reopen ------------------------------------------------------- */

static void raw_set_format(const char *dir, const uint8_t fmt[4])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, (void *)"format"}, v = {4, (void *)fmt};
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void raw_get_format(const char *dir, uint8_t fmt[4])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, (void *)"format"}, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_int_equal(v.mv_size, 4);
	memcpy(fmt, v.mv_data, 4);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static void test_format_and_reopen(void **state)
{
	char dir[256], sub[300];
	ec_store *s;
	uint8_t fmt[4];
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	/* a missing directory is created */
	snprintf(sub, sizeof sub, "%s/node", dir);
	assert_int_equal(ec_store_open_lmdb(&s, sub, NULL), EC_OK);
	assert_int_equal(ec_store_format(s), EC_STORE_FORMAT);
	for (uint64_t i = 0; i < 5; i++)
		assert_int_equal(write_batch(s, i, 8, 100), EC_OK);
	ec_store_close(s);
	raw_get_format(sub, fmt);
	assert_memory_equal(fmt, ((uint8_t[4]){0, 0, 0, EC_STORE_FORMAT}), 4);
	assert_int_equal(ec_store_open_lmdb(&s, sub, NULL), EC_OK);
	for (uint64_t i = 0; i < 5; i++)
		assert_batch_whole(s, i, 8);
	ec_store_close(s);
	tu_rmrf(sub);
	tu_rmrf(dir);
}

/* Opening must fail with `want` and leave data.mdb byte-identical and no
 * lock file behind that was not there before. */
static void assert_open_fails(const char *dir, const ec_store_opts *o, int want)
{
	char data[512];
	ec_id before, after;
	int had_lock = exists(dir, "lock.mdb");
	ec_store *s = (ec_store *)1;
	path_in(data, sizeof data, dir, "data.mdb");
	assert_int_equal(tu_file_hash(data, &before), 0);
	assert_int_equal(ec_store_open_lmdb(&s, dir, o), want);
	assert_null(s);
	assert_int_equal(tu_file_hash(data, &after), 0);
	assert_memory_equal(before.b, after.b, 32);
	assert_int_equal(exists(dir, "lock.mdb"), had_lock);
}

struct logcap {
	char last[512];
	int n_corrupt;
};

static void logcap_fn(void *ctx, int corrupt, const char *msg)
{
	struct logcap *c = ctx;
	snprintf(c->last, sizeof c->last, "%s", msg);
	c->n_corrupt += corrupt;
}

/* A copy of dir with meta/format set to fmt by a raw LMDB write. */
static void copy_with_format(const char *dir, char *copy, size_t cap, const uint8_t fmt[4])
{
	tu_tmpdir(copy, cap, "ec-test-open-fmt");
	tu_copydir(dir, copy);
	raw_set_format(copy, fmt);
}

static void test_other_format(void **state)
{
	char dir[256], c[256];
	ec_store *s;
	struct logcap lc = {{0}, 0};
	ec_store_opts ro = {.read_only = 1}, lo = {.log = logcap_fn, .log_ctx = &lc};
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(write_batch(s, 0, 4, 0), EC_OK);
	ec_store_close(s);
	copy_with_format(dir, c, sizeof c, (const uint8_t[4]){0, 0, 0, EC_STORE_FORMAT + 1});
	assert_open_fails(c, NULL, EC_ERR_FORMAT);
	assert_open_fails(c, &ro, EC_ERR_FORMAT);
	assert_open_fails(c, &lo, EC_ERR_FORMAT);
	assert_non_null(strstr(lc.last, "is newer than this version's"));
	tu_rmrf(c);
	copy_with_format(dir, c, sizeof c, (const uint8_t[4]){0x7f, 0, 0, 0});
	assert_open_fails(c, NULL, EC_ERR_FORMAT);
	tu_rmrf(c);
	/* a store of format 1 (records without checksums) is not read, and
	 * the message says what to do */
	copy_with_format(dir, c, sizeof c, (const uint8_t[4]){0, 0, 0, 1});
	assert_open_fails(c, &lo, EC_ERR_FORMAT);
	assert_non_null(strstr(lc.last, "store format 1 is older than this version's 2"));
	assert_non_null(strstr(lc.last, "start with an empty one"));
	assert_int_equal(lc.n_corrupt, 0);
	assert_open_fails(c, &ro, EC_ERR_FORMAT);
	tu_rmrf(c);
	copy_with_format(dir, c, sizeof c, (const uint8_t[4]){0, 0, 0, 0});
	assert_open_fails(c, NULL, EC_ERR_CORRUPT);
	tu_rmrf(c);
	/* the raw write of the right number is still a commit the store did
	 * not make: its digest names an older commit */
	copy_with_format(dir, c, sizeof c, (const uint8_t[4]){0, 0, 0, EC_STORE_FORMAT});
	assert_open_fails(c, &lo, EC_ERR_CORRUPT);
	assert_non_null(strstr(lc.last, "store corrupt: meta digest: digest written by commit"));
	tu_rmrf(c);
	/* the original: opens, data intact */
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_batch_whole(s, 0, 4);
	ec_store_close(s);
	tu_rmrf(dir);
}

static void test_garbage_file(void **state)
{
	char dir[256], data[512];
	uint8_t buf[65536];
	uint64_t seed = 77;
	FILE *f;
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	path_in(data, sizeof data, dir, "data.mdb");
	tu_rand_bytes(&seed, buf, sizeof buf);
	f = fopen(data, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, sizeof buf, f), sizeof buf);
	fclose(f);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	assert_open_fails(dir, &(ec_store_opts){.read_only = 1}, EC_ERR_CORRUPT);
	/* too short for LMDB's meta pages */
	assert_int_equal(truncate(data, 1000), 0);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	tu_rmrf(dir);
}

static void test_truncated(void **state)
{
	char dir[256], data[512];
	struct stat sb;
	ec_store *s;
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	path_in(data, sizeof data, dir, "data.mdb");
	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	for (uint64_t i = 0; i < 40; i++)
		assert_int_equal(write_batch(s, i, 32, 3000), EC_OK);
	ec_store_close(s);
	assert_int_equal(stat(data, &sb), 0);
	assert_true(sb.st_size > 100 * 4096);
	/* cut at half, at a page boundary and mid-page, and inside the metas */
	assert_int_equal(truncate(data, sb.st_size / 2), 0);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	assert_open_fails(dir, &(ec_store_opts){.read_only = 1}, EC_ERR_CORRUPT);
	assert_int_equal(truncate(data, 10 * 4096 + 123), 0);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	assert_int_equal(truncate(data, 4096 + 7), 0);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	tu_rmrf(dir);
}

static void test_foreign_lmdb(void **state)
{
	char dir[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {3, (void *)"abc"}, v = {3, (void *)"xyz"};
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_open_fails(dir, NULL, EC_ERR_CORRUPT);
	tu_rmrf(dir);
}

/* In a directory and file this process may not write: a read-write open
 * fails with EC_ERR_READONLY and changes nothing, a read-only open works.
 * Returns 0 or the number of the failed step (runs in a child: no cmocka). */
static int check_unwritable(const char *dir)
{
	char data[512];
	ec_id before, after;
	ec_store *s;
	ec_store_txn *t;
	ec_block b;
	ec_id cr, id;
	path_in(data, sizeof data, dir, "data.mdb");
	if (access(data, W_OK) == 0)
		return 1;
	if (tu_file_hash(data, &before) != 0)
		return 2;
	if (ec_store_open_lmdb(&s, dir, NULL) != EC_ERR_READONLY)
		return 3;
	if (tu_file_hash(data, &after) != 0 || memcmp(before.b, after.b, 32) != 0)
		return 4;
	if (ec_store_open_lmdb(&s, dir, &(ec_store_opts){.read_only = 1}) != EC_OK)
		return 5;
	tu_id(&cr, "open/creator", 0);
	if (ec_store_txn_begin(s, 0, &t) != EC_OK ||
	    ec_store_get_block_at(t, &cr, 0, &id) != EC_OK ||
	    ec_store_get_block(t, &id, &b) != EC_OK)
		return 6;
	ec_store_txn_abort(t);
	if (ec_store_txn_begin(s, 1, &t) != EC_ERR_READONLY)
		return 7;
	ec_store_close(s);
	return 0;
}

static void test_read_only(void **state)
{
	char dir[256], copy[300], sub[300];
	ec_store *s;
	ec_store_txn *t;
	ec_store_opts ro = {.read_only = 1};
	tu_tmpdir(dir, sizeof dir, "ec-test-open");
	/* nothing there: read-only open creates nothing */
	snprintf(sub, sizeof sub, "%s/none", dir);
	assert_int_equal(ec_store_open_lmdb(&s, sub, &ro), EC_ERR_NOTFOUND);
	assert_int_equal(access(sub, F_OK), -1);
	assert_int_equal(ec_store_open_lmdb(&s, dir, &ro), EC_ERR_NOTFOUND);
	assert_false(exists(dir, "data.mdb"));

	assert_int_equal(ec_store_open_lmdb(&s, dir, NULL), EC_OK);
	assert_int_equal(write_batch(s, 0, 4, 0), EC_OK);
	ec_store_close(s);

	/* a read-only copy of the directory */
	snprintf(copy, sizeof copy, "%s-ro", dir);
	tu_copydir(dir, copy);
	assert_int_equal(chmod(copy, 0500), 0);
	{
		char data[512];
		path_in(data, sizeof data, copy, "data.mdb");
		assert_int_equal(chmod(data, 0444), 0);
	}
	/* root ignores the modes: check them as an unprivileged user */
	if (geteuid() == 0) {
		pid_t pid;
		int status;
		chmod(copy, 0555);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			if (setgid(65534) != 0 || setuid(65534) != 0)
				_exit(77);
			_exit(check_unwritable(copy));
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == 77)
			printf("note: cannot drop root privileges; permission check "
			       "skipped, read_only option checked only\n");
		else
			assert_int_equal(WEXITSTATUS(status), 0);
	} else {
		assert_int_equal(check_unwritable(copy), 0);
	}
	assert_int_equal(ec_store_open_lmdb(&s, copy, &ro), EC_OK);
	assert_batch_whole(s, 0, 4);
	assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_ERR_READONLY);
	ec_store_close(s);
	chmod(copy, 0700);
	tu_rmrf(copy);
	tu_rmrf(dir);
}

/* ---- full disk ----------------------------------------------------------- */

/* Writes batches until one fails; checks the failure is EC_ERR_FULL, that
 * the failed batch left nothing, that every earlier batch is whole, that
 * the store is still readable and that a write txn can still be used.
 * Returns the number of batches committed. */
static uint64_t fill_until_full(ec_store *s, unsigned per, size_t proof_len)
{
	uint64_t i;
	int r = EC_OK;
	for (i = 0; i < 100000; i++) {
		r = write_batch(s, i, per, proof_len);
		if (r != EC_OK)
			break;
	}
	assert_int_equal(r, EC_ERR_FULL);
	assert_true(i > 0);
	assert_batch_absent(s, i, per);
	for (uint64_t k = 0; k < i; k++)
		assert_batch_whole(s, k, per);
	/* still usable: a write txn begins, a tiny write either fits or is
	 * refused as full, and an abort leaves the store as it was */
	{
		ec_store_txn *t;
		ec_peer_rec p;
		memset(&p, 0, sizeof p);
		tu_id(&p.peer, "full/peer", 1);
		assert_int_equal(ec_store_txn_begin(s, 1, &t), EC_OK);
		r = ec_store_put_peer(t, &p);
		assert_true(r == EC_OK || r == EC_ERR_FULL);
		r = ec_store_txn_commit(t);
		assert_true(r == EC_OK || r == EC_ERR_FULL);
	}
	return i;
}

/* Fills a fresh store in dir until full, closes it, reopens it and checks
 * that every committed batch is whole and the failed one absent. */
static uint64_t fill_and_reopen(const char *dir, const ec_store_opts *o)
{
	ec_store *s;
	uint64_t n;
	assert_int_equal(ec_store_open_lmdb(&s, dir, o), EC_OK);
	n = fill_until_full(s, 32, 2000);
	ec_store_close(s);
	assert_int_equal(ec_store_open_lmdb(&s, dir, o), EC_OK);
	for (uint64_t k = 0; k < n; k++)
		assert_batch_whole(s, k, 32);
	assert_batch_absent(s, n, 32);
	ec_store_close(s);
	return n;
}

static void test_map_full(void **state)
{
	char dir[256];
	ec_store *s;
	ec_store_opts small = {.map_size = 1u << 20};
	ec_store_opts big = {.map_size = 8u << 20};
	uint64_t n;
	tu_tmpdir(dir, sizeof dir, "ec-test-full");
	n = fill_and_reopen(dir, &small);
	printf("map full after %llu batches in a 1 MiB map\n", (unsigned long long)n);
	/* a larger map lets the node continue */
	assert_int_equal(ec_store_open_lmdb(&s, dir, &big), EC_OK);
	assert_int_equal(write_batch(s, n, 32, 2000), EC_OK);
	assert_batch_whole(s, n, 32);
	ec_store_close(s);
	tu_rmrf(dir);
}

static char g_mnt[256]; /* mounted tmpfs, unmounted by the teardown */

static int tmpfs_teardown(void **state)
{
	if (g_mnt[0]) {
		umount2(g_mnt, MNT_DETACH);
		rmdir(g_mnt);
		g_mnt[0] = 0;
	}
	return 0;
}

static void test_tmpfs_full(void **state)
{
	char dir[256], mnt[300];
	ec_store_opts o = {.map_size = 64u << 20};
	uint64_t n;
	tu_tmpdir(dir, sizeof dir, "ec-test-tmpfs");
	if (geteuid() != 0 || mount("tmpfs", dir, "tmpfs", 0, "size=600k") != 0) {
		printf("note: size-limited tmpfs not available (%s); skipping the "
		       "real-ENOSPC variant\n",
		       geteuid() != 0 ? "not root" : strerror(errno));
		rmdir(dir);
		skip();
		return;
	}
	snprintf(g_mnt, sizeof g_mnt, "%s", dir);
	snprintf(mnt, sizeof mnt, "%s/store", dir);
	n = fill_and_reopen(mnt, &o);
	printf("tmpfs (600 KiB) full after %llu batches\n", (unsigned long long)n);
	tu_rmrf(mnt);
	assert_int_equal(umount(dir), 0);
	rmdir(dir);
	g_mnt[0] = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_reopen),
		cmocka_unit_test(test_other_format),
		cmocka_unit_test(test_garbage_file),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_foreign_lmdb),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_map_full),
		cmocka_unit_test_teardown(test_tmpfs_full, tmpfs_teardown),
	};
	if (ec_crypto_init() != EC_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
