/* ec_store_lmdb.c - the LMDB backend: one environment per data directory
 * (data.mdb + lock.mdb, and data.commit: the id of the last completed
 * commit), one named DBI per table (docs/STORAGE.md).
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
 * (meta DBI present or the file entirely empty) and its format version,
 * that the data file is not older than the last commit data.commit
 * records (LMDB picks the newer of its two meta pages without a checksum:
 * a damaged one can silently bring back the previous commit), then the
 * verification pass (ec_store_verify.c).  A failed open removes any file
 * it created (lock.mdb, an empty data.mdb, the directory), so nothing
 * changes, and says why through the log hook.
 *
 * data.commit is rewritten (16 bytes: u64 commit id, seal) after every
 * commit that changed something, without an fsync of its own: it is
 * written after LMDB's commit is durable, so on disk it never runs ahead
 * of data.mdb; it may lag behind (a crash between the two), which the
 * check allows.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "store/ec_store_int.h"
#include "util/ec_buf.h"

#define SEQ_NAME "data.commit"
#define SEQ_BYTES (8 + EC_SEAL_BYTES)

typedef struct lstore {
	MDB_env *env;
	MDB_dbi dbi[EC_T_COUNT];
	int seq_fd;  /* data.commit, -1 when not kept (read-only, no_sync) */
	int last_rc; /* the last LMDB error that meant a damaged file */
	char why[96];
} lstore;

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

/* lmdb_err, keeping a damaged-file error for why(). */
static int lerr(lstore *l, int rc)
{
	int r = lmdb_err(rc);
	if (r == EC_ERR_CORRUPT)
		l->last_rc = rc;
	return r;
}

static const char *l_why(ec_store *s)
{
	lstore *l = s->impl;
	if (!l->last_rc)
		return NULL;
	snprintf(l->why, sizeof l->why, "LMDB: %s", mdb_strerror(l->last_rc));
	return l->why;
}

/* ---- data.commit -------------------------------------------------------------- */

static void seq_encode(uint8_t b[SEQ_BYTES], uint64_t id)
{
	ec_put_u64(b, id);
	ec_store_seal(EC_T_META, (const uint8_t *)SEQ_NAME, strlen(SEQ_NAME), b, 8);
}

/* The recorded commit id, 0 if there is none or it is unreadable (a
 * damaged data.commit only weakens the rollback check). */
static uint64_t seq_read(const char *path)
{
	uint8_t b[SEQ_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	if (fd < 0)
		return 0;
	n = pread(fd, b, sizeof b, 0);
	close(fd);
	if (n != (ssize_t)sizeof b ||
	    !ec_store_sealed_ok(EC_T_META, (const uint8_t *)SEQ_NAME, strlen(SEQ_NAME), b,
				sizeof b))
		return 0;
	return ec_get_u64(b);
}

static void seq_write(lstore *l, uint64_t id)
{
	uint8_t b[SEQ_BYTES];
	if (l->seq_fd < 0)
		return;
	seq_encode(b, id);
	(void)!pwrite(l->seq_fd, b, sizeof b, 0);
}

/* ---- txns and access ---------------------------------------------------- */

typedef struct ltxn {
	lstore *l;
	MDB_txn *txn;
	int write;
} ltxn;

static int l_txn_begin(ec_store *s, int write, void **impl)
{
	lstore *l = s->impl;
	ltxn *x = malloc(sizeof(*x));
	int rc;
	if (!x)
		return EC_ERR_NOMEM;
	x->l = l;
	x->write = write;
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
	int write = x->write, rc;
	uint64_t id = mdb_txn_id(x->txn);
	MDB_envinfo info;
	rc = mdb_txn_commit(x->txn);
	free(x);
	if (rc == EIO && fs_is_full(l->env))
		return EC_ERR_FULL;
	/* a write txn that changed nothing leaves LMDB's txn id alone */
	if (rc == MDB_SUCCESS && write && mdb_env_info(l->env, &info) == MDB_SUCCESS &&
	    info.me_last_txnid == id)
		seq_write(l, id);
	return lerr(l, rc);
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
	rc = mdb_get(x->txn, x->l->dbi[table], &key, &val);
	if (rc != MDB_SUCCESS)
		return lerr(x->l, rc);
	*v = val.mv_data;
	*vn = val.mv_size;
	return EC_OK;
}

static int l_put(void *impl, int table, const uint8_t *k, size_t kn,
		 const uint8_t *v, size_t vn, int flags)
{
	ltxn *x = impl;
	MDB_val key = {kn, (void *)k}, val = {vn, (void *)v};
	return lerr(x->l, mdb_put(x->txn, x->l->dbi[table], &key, &val,
				  (flags & EC_PUT_NOOVERWRITE) ? MDB_NOOVERWRITE : 0));
}

static int l_del(void *impl, int table, const uint8_t *k, size_t kn)
{
	ltxn *x = impl;
	MDB_val key = {kn, (void *)k};
	return lerr(x->l, mdb_del(x->txn, x->l->dbi[table], &key, NULL));
}

static int l_iter(void *impl, int table, const uint8_t *start, size_t kn,
		  size_t plen, ec_kv_fn fn, void *ctx)
{
	ltxn *x = impl;
	MDB_cursor *c;
	MDB_val key = {kn, (void *)start}, val;
	int rc, r = 0;
	rc = mdb_cursor_open(x->txn, x->l->dbi[table], &c);
	if (rc != MDB_SUCCESS)
		return lerr(x->l, rc);
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
	return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? 0 : lerr(x->l, rc);
}

static uint64_t l_txn_id(void *impl)
{
	ltxn *x = impl;
	return mdb_txn_id(x->txn);
}

static void l_close(ec_store *s)
{
	lstore *l = s->impl;
	if (!l)
		return;
	mdb_env_close(l->env);
	if (l->seq_fd >= 0)
		close(l->seq_fd);
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
	.txn_id = l_txn_id,
	.why = l_why,
	.close = l_close,
};

/* ---- opening -------------------------------------------------------------- */

/* One line to the caller's log hook (corrupt = 1: a damaged store). */
static void say(const ec_store_opts *o, int corrupt, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const ec_store_opts *o, int corrupt, const char *fmt, ...)
{
	char msg[EC_STORE_MSG_MAX];
	va_list ap;
	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->log(o->log_ctx, corrupt, msg);
}

/* Reads the format and opens every DBI in a read txn.  *fresh = 1 when the
 * file holds nothing at all (a new store). */
static int check_existing(lstore *l, const ec_store_opts *o, uint32_t *format, int *fresh)
{
	MDB_txn *txn;
	MDB_dbi main, meta;
	MDB_stat st;
	MDB_val key = {6, (void *)EC_META_FORMAT}, val;
	int rc, r = EC_OK;
	*fresh = 0;
	rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return lerr(l, rc);
	rc = mdb_dbi_open(txn, NULL, 0, &main);
	if (rc == MDB_SUCCESS)
		rc = mdb_stat(txn, main, &st);
	if (rc != MDB_SUCCESS) {
		r = lerr(l, rc);
		goto out;
	}
	rc = mdb_dbi_open(txn, ec_store_table_names[EC_T_META], 0, &meta);
	if (rc == MDB_NOTFOUND) {
		/* an LMDB file that is not an ec store, or an empty one */
		if (st.ms_entries == 0)
			*fresh = 1;
		else {
			say(o, 1, "store corrupt: data.mdb is an LMDB file but not an ec store");
			r = EC_ERR_CORRUPT;
		}
		goto out;
	}
	if (rc != MDB_SUCCESS) {
		r = rc == MDB_INCOMPATIBLE ? EC_ERR_CORRUPT : lerr(l, rc);
		goto out;
	}
	rc = mdb_get(txn, meta, &key, &val);
	if (rc != MDB_SUCCESS || val.mv_size != 4) {
		say(o, 1, "store corrupt: meta format: %s",
		    rc == MDB_SUCCESS ? "not 4 bytes" : mdb_strerror(rc));
		r = rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? EC_ERR_CORRUPT : lerr(l, rc);
		goto out;
	}
	{
		const uint8_t *b = val.mv_data;
		*format = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
			  ((uint32_t)b[2] << 8) | b[3];
	}
	if (*format == 0) {
		say(o, 1, "store corrupt: meta format: 0");
		r = EC_ERR_CORRUPT;
		goto out;
	}
	if (*format != EC_STORE_FORMAT) {
		if (*format < EC_STORE_FORMAT)
			say(o, 0,
			    "store format %u is older than this version's %u (records with "
			    "checksums) and is not read: keep the older ecnode for it, or move "
			    "the directory aside and start with an empty one (the node "
			    "syncs again)",
			    (unsigned)*format, EC_STORE_FORMAT);
		else
			say(o, 0, "store format %u is newer than this version's %u",
			    (unsigned)*format, EC_STORE_FORMAT);
		r = EC_ERR_FORMAT;
		goto out;
	}
	for (int i = 0; i < EC_T_COUNT; i++) {
		rc = mdb_dbi_open(txn, ec_store_table_names[i], 0, &l->dbi[i]);
		if (rc != MDB_SUCCESS) {
			say(o, 1, "store corrupt: table %s: %s", ec_store_table_names[i],
			    mdb_strerror(rc));
			r = rc == MDB_NOTFOUND ? EC_ERR_CORRUPT : lerr(l, rc);
			goto out;
		}
	}
out:
	if (r == EC_OK && !*fresh) {
		/* committing a read txn keeps the DBI handles open */
		rc = mdb_txn_commit(txn);
		return lerr(l, rc);
	}
	mdb_txn_abort(txn);
	return r;
}

/* Creates every DBI, the format record and an empty digest stamped with
 * this commit's id, in one write txn. */
static int create_tables(lstore *l)
{
	MDB_txn *txn;
	MDB_val key = {6, (void *)EC_META_FORMAT}, val;
	uint8_t fmt[4] = {0, 0, 0, EC_STORE_FORMAT};
	uint8_t d[EC_DIGEST_VAL_BYTES + EC_SEAL_BYTES] = {EC_STORE_RV};
	const uint8_t *dk = (const uint8_t *)EC_META_DIGEST;
	int rc;
	rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return lerr(l, rc);
	for (int i = 0; i < EC_T_COUNT && rc == MDB_SUCCESS; i++)
		rc = mdb_dbi_open(txn, ec_store_table_names[i], MDB_CREATE, &l->dbi[i]);
	if (rc == MDB_SUCCESS) {
		val.mv_size = 4;
		val.mv_data = fmt;
		rc = mdb_put(txn, l->dbi[EC_T_META], &key, &val, 0);
	}
	if (rc == MDB_SUCCESS) {
		ec_put_u64(d + 1, mdb_txn_id(txn));
		ec_store_seal(EC_T_META, dk, strlen(EC_META_DIGEST), d, EC_DIGEST_VAL_BYTES);
		key.mv_size = strlen(EC_META_DIGEST);
		key.mv_data = (void *)dk;
		val.mv_size = sizeof d;
		val.mv_data = d;
		rc = mdb_put(txn, l->dbi[EC_T_META], &key, &val, 0);
	}
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return lerr(l, rc);
	}
	return lerr(l, mdb_txn_commit(txn));
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
		return lerr(l, rc);
	if (stat(datapath, &sb) != 0)
		return ec_store_errno(errno);
	if ((uint64_t)sb.st_size < ((uint64_t)info.me_last_pgno + 1) * st.ms_psize)
		return EC_ERR_CORRUPT;
	return EC_OK;
}

/* LMDB's current commit id against data.commit's. */
static int check_commit(lstore *l, const ec_store_opts *o, uint64_t recorded)
{
	MDB_envinfo info;
	int rc = mdb_env_info(l->env, &info);
	if (rc != MDB_SUCCESS)
		return lerr(l, rc);
	if ((uint64_t)info.me_last_txnid >= recorded)
		return EC_OK;
	say(o, 1,
	    "store corrupt: data.mdb is at commit %llu but commit %llu was completed "
	    "(" SEQ_NAME "): committed batches are missing (a damaged or rolled-back "
	    "meta page, or an older copy of the file)",
	    (unsigned long long)info.me_last_txnid, (unsigned long long)recorded);
	return EC_ERR_CORRUPT;
}

/* The structural walk (ec_store_pages.c) before LMDB reads any tree. */
static int walk_pages(lstore *l, const ec_store_opts *o)
{
	MDB_envinfo info;
	MDB_stat st;
	char why[160];
	mdb_filehandle_t fd;
	int rc = mdb_env_info(l->env, &info), r;
	if (rc == MDB_SUCCESS)
		rc = mdb_env_stat(l->env, &st);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_get_fd(l->env, &fd);
	if (rc != MDB_SUCCESS)
		return lerr(l, rc);
	r = ec_store_lmdb_walk(fd, st.ms_psize, info.me_last_txnid, why, sizeof why);
	if (r == EC_ERR_CORRUPT)
		say(o, 1, "store corrupt: data.mdb: %s", why);
	return r;
}

static int env_open(lstore *l, const ec_store_opts *o, const char *dir, unsigned flags)
{
	int rc = mdb_env_create(&l->env);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_maxdbs(l->env, 16);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_set_mapsize(l->env, (size_t)o->map_size);
	if (rc == MDB_SUCCESS)
		rc = mdb_env_open(l->env, dir, flags, 0600);
	return rc;
}

int ec_store_open_lmdb(ec_store **out, const char *dir, const ec_store_opts *opts)
{
	ec_store_opts o = {0};
	char datapath[PATH_MAX], lockpath[PATH_MAX], seqpath[PATH_MAX];
	struct stat sb;
	int made_dir = 0, had_data, had_lock, fresh = 0, r, rc;
	unsigned flags;
	uint32_t format = EC_STORE_FORMAT;
	uint64_t recorded;
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
	    (size_t)snprintf(lockpath, sizeof lockpath, "%s/lock.mdb", dir) >= sizeof lockpath ||
	    (size_t)snprintf(seqpath, sizeof seqpath, "%s/" SEQ_NAME, dir) >= sizeof seqpath)
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
	/* read before LMDB's commit id, which only grows: a writer running
	 * alongside a read-only open never makes data.commit look ahead */
	recorded = seq_read(seqpath);
	had_data = stat(datapath, &sb) == 0;
	if (had_data && !S_ISREG(sb.st_mode))
		return EC_ERR_CORRUPT;
	had_lock = access(lockpath, F_OK) == 0;
	if (o.read_only && (!had_data || sb.st_size == 0) && !recorded)
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
		say(&o, 1, "store corrupt: data.mdb is truncated (%lld bytes)",
		    (long long)sb.st_size);
		r = EC_ERR_CORRUPT;
		goto fail;
	}
	if (recorded && (!had_data || sb.st_size == 0)) {
		say(&o, 1,
		    "store corrupt: data.mdb is %s but commit %llu was completed (" SEQ_NAME ")",
		    had_data ? "empty" : "missing", (unsigned long long)recorded);
		r = EC_ERR_CORRUPT;
		goto fail;
	}

	s = calloc(1, sizeof(*s));
	l = calloc(1, sizeof(*l));
	if (!s || !l) {
		r = EC_ERR_NOMEM;
		goto fail;
	}
	l->seq_fd = -1;
	flags = MDB_NOTLS | (o.read_only ? MDB_RDONLY : 0) | (o.no_sync ? MDB_NOSYNC : 0);
	rc = env_open(l, &o, dir, flags);
	if (rc == EACCES && o.read_only) {
		/* a read-only directory: no shared lock file to use */
		mdb_env_close(l->env);
		l->env = NULL;
		rc = env_open(l, &o, dir, flags | MDB_NOLOCK);
	}
	if (rc != MDB_SUCCESS) {
		r = rc == EACCES || rc == EROFS ? EC_ERR_READONLY : lerr(l, rc);
		if (r == EC_ERR_CORRUPT)
			say(&o, 1, "store corrupt: data.mdb: %s", mdb_strerror(rc));
		goto fail;
	}
	if (had_data && (r = check_size(l, datapath)) != EC_OK) {
		if (r == EC_ERR_CORRUPT)
			say(&o, 1, "store corrupt: data.mdb is shorter than its last page "
				   "(truncated)");
		goto fail;
	}
	if (had_data && sb.st_size > 0 && !(o.read_only && o.skip_walk) &&
	    (r = walk_pages(l, &o)) != EC_OK)
		goto fail;
	if (!o.read_only) {
		/* reader slots of killed processes would pin old pages forever */
		int dead;
		mdb_reader_check(l->env, &dead);
	}
	r = check_existing(l, &o, &format, &fresh);
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
	}
	if ((r = check_commit(l, &o, recorded)) != EC_OK)
		goto fail;
	s->ops = &lmdb_ops;
	s->impl = l;
	s->format = format;
	s->read_only = o.read_only ? 1 : 0;
	s->log = o.log;
	s->log_ctx = o.log_ctx;
	if ((r = ec_store_open_check(s, o.quick_open)) != EC_OK)
		goto fail;
	if (!o.read_only && !o.no_sync) {
		MDB_envinfo info;
		l->seq_fd = open(seqpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (mdb_env_info(l->env, &info) == MDB_SUCCESS)
			seq_write(l, info.me_last_txnid);
	}
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
