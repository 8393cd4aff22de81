/* ec_store_lmdb.c - the LMDB backend: one environment per data directory
 * (data.mdb + lock.mdb), one named DBI per table (docs/STORAGE.md).
 *
 * Durability: a write txn is one LMDB transaction.  LMDB's commit writes
 * the dirty pages, fdatasyncs the data file once, then writes the meta page
 * through its O_DSYNC descriptor: one fsync per batch, and the batch is
 * visible after a crash either entirely or not at all (copy-on-write B+
 * tree, two meta pages).
 *
 * Opening checks, in order, before anything is written: the directory and
 * file permissions, a data file too short to hold its meta pages or its
 * last used page (a truncated file would otherwise fault when mapped pages
 * are read), LMDB's own meta-page validation, that the file is an ec store
 * (meta DBI present or the file entirely empty) and its format version.
 * A failed open removes any file it created (lock.mdb, an empty data.mdb,
 * the directory), so nothing changes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "store/ec_store_int.h"
#include "util/ec_buf.h"

typedef struct lstore {
	MDB_env *env;
	MDB_dbi dbi[EC_T_COUNT];
	uint8_t absent[EC_T_COUNT]; /* a later table missing from a read-only
				     * store: reads as empty */
} lstore;

/* Tables added to format 1 after stores were first created (STORAGE.md
 * section 5): a store without them is not corrupt; a read-write open
 * creates them, a read-only open reads them as empty. */
static const uint8_t added_later[EC_T_COUNT] = {[EC_T_SWAPM] = 1, [EC_T_EVID] = 1};

static int lmdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return EC_OK;
	case MDB_NOTFOUND:
		return EC_ERR_NOTFOUND;
	case MDB_KEYEXIST:
		return EC_ERR_EXISTS;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_PAGE_FULL:
		return EC_ERR_FULL;
	case MDB_INVALID:
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
		return EC_ERR_CORRUPT;
	case MDB_READERS_FULL:
	case MDB_MAP_RESIZED:
		return EC_ERR_BUSY;
	default:
		if (rc > 0)
			return ec_store_errno(rc);
		return EC_ERR_IO;
	}
}

/* ---- txns and access ---------------------------------------------------- */

typedef struct ltxn {
	lstore *l;
	MDB_txn *txn;
} ltxn;

static int l_txn_begin(ec_store *s, int write, void **impl)
{
	lstore *l = s->impl;
	ltxn *x = malloc(sizeof(*x));
	int rc;
	if (!x)
		return EC_ERR_NOMEM;
	x->l = l;
	rc = mdb_txn_begin(l->env, NULL, write ? 0 : MDB_RDONLY, &x->txn);
	if (rc != MDB_SUCCESS) {
		free(x);
		return lmdb_err(rc);
	}
	*impl = x;
	return EC_OK;
}

/* LMDB reports a short page write as EIO ("TODO: Use which error code?"
 * in mdb_page_flush); a filesystem that ran out of space produces exactly
 * that.  An EIO with (almost) no space left is reported as EC_ERR_FULL. */
#define EC_FULL_SLACK (64u << 10)

static int fs_is_full(MDB_env *env)
{
	const char *path;
	struct statvfs vs;
	if (mdb_env_get_path(env, &path) != MDB_SUCCESS || statvfs(path, &vs) != 0)
		return 0;
	return (uint64_t)vs.f_bavail * vs.f_frsize < EC_FULL_SLACK;
}

static int l_txn_commit(ec_store *s, void *impl)
{
	ltxn *x = impl;
	lstore *l = s->impl;
	int rc = mdb_txn_commit(x->txn);
	free(x);
	if (rc == EIO && fs_is_full(l->env))
		return EC_ERR_FULL;
	return lmdb_err(rc);
}

static void l_txn_abort(ec_store *s, void *impl)
{
	ltxn *x = impl;
	mdb_txn_abort(x->txn);
	free(x);
}

static int l_get(void *impl, int table, const uint8_t *k, size_t kn,
		 const uint8_t **v, size_t *vn)
{
	ltxn *x = impl;
	MDB_val key = {kn, (void *)k}, val;
	int rc;
	if (x->l->absent[table])
		return EC_ERR_NOTFOUND;
	rc = mdb_get(x->txn, x->l->dbi[table], &key, &val);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	*v = val.mv_data;
	*vn = val.mv_size;
	return EC_OK;
}

static int l_put(void *impl, int table, const uint8_t *k, size_t kn,
		 const uint8_t *v, size_t vn, int flags)
{
	ltxn *x = impl;
	MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
	if (x->l->absent[table])
		return EC_ERR_READONLY;
	return lmdb_err(mdb_put(x->txn, x->l->dbi[table], &key, &val,
				(flags & EC_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0));
}

static int l_del(void *impl, int table, const uint8_t *k, size_t kn)
{
	ltxn *x = impl;
	MDB_val key = {kn, (void *)k};
	if (x->l->absent[table])
		return EC_ERR_NOTFOUND;
	return lmdb_err(mdb_del(x->txn, x->l->dbi[table], &key, NULL));
}

static int l_iter(void *impl, int table, const uint8_t *start, size_t kn,
		  size_t plen, ec_kv_fn fn, void *ctx)
{
	ltxn *x = impl;
	MDB_cursor *c;
	MDB_val key = {kn, (void *)start}, val;
	int rc, r = 0;
	if (x->l->absent[table])
		return 0;
	rc = mdb_cursor_open(x->txn, x->l->dbi[table], &c);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	rc = mdb_cursor_get(c, &key, &val, kn ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == MDB_SUCCESS) {
		if (key.mv_size < plen || memcmp(key.mv_data, start, plen) != 0)
			break;
		r = fn(ctx, key.mv_data, key.mv_size, val.mv_data, val.mv_size);
		if (r)
			break;
		rc = mdb_cursor_get(c, &key, &val, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (r)
		return r;
	return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

static void l_close(ec_store *s)
{
	lstore *l = s->impl;
	if (!l)
		return;
	mdb_env_close(l->env);
	free(l);
	s->impl = NULL;
}

static const struct ec_store_ops lmdb_ops = {
	.txn_begin = l_txn_begin,
	.txn_commit = l_txn_commit,
	.txn_abort = l_txn_abort,
	.get = l_get,
	.put = l_put,
	.del = l_del,
	.iter = l_iter,
	.close = l_close,
};

/* ---- opening -------------------------------------------------------------- */

/* Reads the format and opens every DBI in a read txn.  *fresh = 1 when the
 * file holds nothing at all (a new store).  A missing table that was added
 * later is marked absent (created afterwards by add_later_tables). */
static int check_existing(lstore *l, uint32_t *format, int *fresh)
{
	MDB_txn *txn;
	MDB_dbi main, meta;
	MDB_stat st;
	MDB_val key = {6, (void *)"format"}, val;
	int rc, r = EC_OK;
	*fresh = 0;
	rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	rc = mdb_dbi_open(txn, NULL, 0, &main);
	if (rc == MDB_SUCCESS)
		rc = mdb_stat(txn, main, &st);
	if (rc != MDB_SUCCESS) {
		r = lmdb_err(rc);
		goto out;
	}
	rc = mdb_dbi_open(txn, ec_store_table_names[EC_T_META], 0, &meta);
	if (rc == MDB_NOTFOUND) {
		/* an LMDB file that is not an ec store, or an empty one */
		if (st.ms_entries == 0)
			*fresh = 1;
		else
			r = EC_ERR_CORRUPT;
		goto out;
	}
	if (rc != MDB_SUCCESS) {
		r = rc == MDB_INCOMPATIBLE ? EC_ERR_CORRUPT : lmdb_err(rc);
		goto out;
	}
	rc = mdb_get(txn, meta, &key, &val);
	if (rc != MDB_SUCCESS || val.mv_size != 4) {
		r = EC_ERR_CORRUPT;
		goto out;
	}
	{
		const uint8_t *b = val.mv_data;
		*format = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
			  ((uint32_t)b[2] << 8) | b[3];
	}
	if (*format > EC_STORE_FORMAT) {
		r = EC_ERR_FORMAT;
		goto out;
	}
	if (*format == 0) {
		r = EC_ERR_CORRUPT;
		goto out;
	}
	for (int i = 0; i < EC_T_COUNT; i++) {
		rc = mdb_dbi_open(txn, ec_store_table_names[i], 0, &l->dbi[i]);
		if (rc == MDB_NOTFOUND && added_later[i]) {
			l->absent[i] = 1;
			continue;
		}
		if (rc != MDB_SUCCESS) {
			r = rc == MDB_NOTFOUND ? EC_ERR_CORRUPT : lmdb_err(rc);
			goto out;
		}
	}
out:
	if (r == EC_OK && !*fresh) {
		/* committing a read txn keeps the DBI handles open */
		rc = mdb_txn_commit(txn);
		return lmdb_err(rc);
	}
	mdb_txn_abort(txn);
	return r;
}

/* Creates every DBI and records the format in one write txn. */
static int create_tables(lstore *l)
{
	MDB_txn *txn;
	MDB_val key = {6, (void *)"format"}, val;
	uint8_t fmt[4] = {0, 0, 0, EC_STORE_FORMAT};
	int rc;
	rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	for (int i = 0; i < EC_T_COUNT && rc == MDB_SUCCESS; i++)
		rc = mdb_dbi_open(txn, ec_store_table_names[i], MDB_CREATE, &l->dbi[i]);
	if (rc == MDB_SUCCESS) {
		val.mv_size = 4;
		val.mv_data = fmt;
		rc = mdb_put(txn, l->dbi[EC_T_META], &key, &val, 0);
	}
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	return lmdb_err(mdb_txn_commit(txn));
}

/* Creates the later tables an older store lacks, in one write txn. */
static int add_later_tables(lstore *l)
{
	MDB_txn *txn;
	int rc, any = 0;
	for (int i = 0; i < EC_T_COUNT; i++)
		any |= l->absent[i];
	if (!any)
		return EC_OK;
	rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	for (int i = 0; i < EC_T_COUNT && rc == MDB_SUCCESS; i++)
		if (l->absent[i])
			rc = mdb_dbi_open(txn, ec_store_table_names[i], MDB_CREATE, &l->dbi[i]);
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return lmdb_err(rc);
	}
	rc = mdb_txn_commit(txn);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	memset(l->absent, 0, sizeof l->absent);
	return EC_OK;
}

/* The data file must hold at least its two meta pages and every page up to
 * the last one in use; LMDB itself would fault on a shorter (truncated)
 * file when the missing pages are read through the map. */
static int check_size(lstore *l, const char *datapath)
{
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;
	int rc = mdb_env_info(l->env, &info);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(l->env, &st);
	if (rc != MDB_SUCCESS)
		return lmdb_err(rc);
	if (stat(datapath, &sb) != 0)
		return ec_store_errno(errno);
	if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize)
		return EC_ERR_CORRUPT;
	return EC_OK;
}

int ec_store_open_lmdb(ec_store **out, const char *dir, const ec_store_opts *opts)
{
	ec_store_opts o = {0};
	char datapath[PATH_MAX], lockpath[PATH_MAX];
	struct stat sb;
	int made_dir = 0, had_data, had_lock, fresh = 0, r, rc;
	unsigned flags;
	uint32_t format = EC_STORE_FORMAT;
	ec_store *s = NULL;
	lstore *l = NULL;

	if (!out || !dir)
		return EC_ERR_ARG;
	*out = NULL;
	if (opts)
		o = *opts;
	if (!o.map_size)
		o.map_size = EC_STORE_DEFAULT_MAP;
	if ((size_t)snprintf(datapath, sizeof datapath, "%s/data.mdb", dir) >= sizeof datapath ||
	    (size_t)snprintf(lockpath, sizeof lockpath, "%s/lock.mdb", dir) >= sizeof lockpath)
		return EC_ERR_ARG;

	if (stat(dir, &sb) != 0) {
		if (errno != ENOENT)
			return ec_store_errno(errno);
		if (o.read_only)
			return EC_ERR_NOTFOUND;
		if (mkdir(dir, 0700) != 0)
			return ec_store_errno(errno);
		made_dir = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		return EC_ERR_ARG;
	}
	had_data = stat(datapath, &sb) == 0;
	if (had_data && !S_ISREG(sb.st_mode))
		return EC_ERR_CORRUPT;
	had_lock = access(lockpath, F_OK) == 0;
	if (o.read_only && (!had_data || sb.st_size == 0))
		return EC_ERR_NOTFOUND;
	if (!o.read_only) {
		if (access(dir, W_OK) != 0 || (had_data && access(datapath, W_OK) != 0)) {
			r = errno == EROFS ? EC_ERR_READONLY
			    : errno == EACCES ? EC_ERR_READONLY
					      : ec_store_errno(errno);
			goto fail;
		}
	}
	/* a file too short for LMDB's two meta pages: truncated */
	if (had_data && sb.st_size > 0 && sb.st_size < 2 * 4096) {
		r = EC_ERR_CORRUPT;
		goto fail;
	}

	s = calloc(1, sizeof(*s));
	l = calloc(1, sizeof(*l));
	if (!s || !l) {
		r = EC_ERR_NOMEM;
		goto fail;
	}
	rc = mdb_env_create(&l->env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(l->env, 16);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_mapsize(l->env, (size_t)o.map_size);
	if (rc != MDB_SUCCESS) {
		r = lmdb_err(rc);
		goto fail;
	}
	flags = MDB_NOTLS | (o.read_only ? MDB_RDONLY : 0) | (o.no_sync ? MDB_NOSYNC : 0);
	rc = mdb_env_open(l->env, dir, flags, 0600);
	if (rc == EACCES && o.read_only) {
		/* a read-only directory: no shared lock file to use */
		mdb_env_close(l->env);
		l->env = NULL;
		rc = mdb_env_create(&l->env);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_set_maxdbs(l->env, 16);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_set_mapsize(l->env, (size_t)o.map_size);
		if (rc == MDB_SUCCESS)
			rc = mdb_env_open(l->env, dir, flags | MDB_NOLOCK, 0600);
	}
	if (rc != MDB_SUCCESS) {
		r = rc == EACCES || rc == EROFS ? EC_ERR_READONLY : lmdb_err(rc);
		goto fail;
	}
	if (had_data && (r = check_size(l, datapath)) != EC_OK)
		goto fail;
	if (!o.read_only) {
		/* reader slots of killed processes would pin old pages forever */
		int dead;
		mdb_reader_check(l->env, &dead);
	}
	r = check_existing(l, &format, &fresh);
	if (r != EC_OK)
		goto fail;
	if (fresh) {
		if (o.read_only) {
			r = EC_ERR_NOTFOUND;
			goto fail;
		}
		r = create_tables(l);
		if (r != EC_OK)
			goto fail;
		format = EC_STORE_FORMAT;
	} else if (!o.read_only) {
		r = add_later_tables(l);
		if (r != EC_OK)
			goto fail;
	}
	s->ops = &lmdb_ops;
	s->impl = l;
	s->format = format;
	s->read_only = o.read_only ? 1 : 0;
	*out = s;
	return EC_OK;

fail:
	if (l && l->env)
		mdb_env_close(l->env);
	free(l);
	free(s);
	if (!had_lock)
		unlink(lockpath);
	if (!had_data) /* only a file this call created */
		unlink(datapath);
	if (made_dir)
		rmdir(dir);
	return r;
}
