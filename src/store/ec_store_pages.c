/* ec_store_pages.c - a structural check of an LMDB data file (format
 * MDB_DATA_VERSION 1, the one liblmdb 0.9 writes), made with pread before
 * LMDB follows any pointer in it (docs/STORAGE.md section 6).
 *
 * LMDB trusts its pages: a damaged page header, node offset, size or child
 * page number makes it read outside the page or the file (a fault).  This
 * walk reads every page reachable from the meta page LMDB picks - the main
 * tree, every named tree it lists, the free-page tree and the overflow
 * runs - and checks what LMDB would follow: page numbers inside the used
 * part of the file, each page reached once, headers naming their own
 * number and the right kind, node tables, keys and values inside their
 * page, overflow runs inside the file and long enough for their value,
 * leaves all at the tree's depth, free pages not in use.  Each flag LMDB
 * acts on (page kinds, node flags, tree flags) must be one an ec store's
 * file holds: the rest is refused rather than walked.  Records are the
 * verification pass's business (ec_store_verify.c): this walk does not
 * look at their contents beyond their bounds.
 *
 * The layouts below are LMDB's on-disk structures (lmdb/mdb.c: MDB_page,
 * MDB_node, MDB_db, MDB_meta), little-endian as LMDB writes them on the
 * machines this runs on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/ec_store_int.h"

#define PAGEHDRSZ 16
#define NODESIZE 8
#define DB_BYTES 48
#define META_MAGIC 0xBEEFC0DEu
#define META_VERSION 1u
#define P_INVALID UINT64_MAX
#define MAX_DEPTH 16
#define MDB_INTEGERKEY 0x08

enum { P_BRANCH = 0x01, P_LEAF = 0x02, P_OVERFLOW = 0x04, P_META = 0x08, P_LEAF2 = 0x20 };
enum { F_BIGDATA = 0x01, F_SUBDATA = 0x02, F_DUPDATA = 0x04 };
enum { TREE_MAIN, TREE_FREE, TREE_DATA };

struct walk {
	int fd;
	unsigned psize;
	uint64_t npages;    /* pages in use: last_pg + 1 */
	uint8_t *live;      /* bitmap: reached from the meta page */
	uint64_t *free_pg;  /* page numbers the free tree lists */
	size_t n_free, cap_free;
	char *why;
	size_t whylen;
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static int bad(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct walk *w, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->why, w->whylen, fmt, ap);
	va_end(ap);
	return EC_ERR_CORRUPT;
}

static int read_at(struct walk *w, uint8_t *buf, size_t n, uint64_t off)
{
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(w->fd, buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? ec_store_errno(errno) : bad(w, "data.mdb ends early");
		done += (size_t)r;
	}
	return EC_OK;
}

/* Marks page pg live; each page may be reached once. */
static int mark(struct walk *w, uint64_t pg, const char *what)
{
	if (pg < 2 || pg >= w->npages)
		return bad(w, "%s names page %llu outside the %llu pages in use", what,
			   (unsigned long long)pg, (unsigned long long)w->npages);
	if (w->live[pg / 8] & (1u << (pg % 8)))
		return bad(w, "page %llu is reached twice", (unsigned long long)pg);
	w->live[pg / 8] |= (uint8_t)(1u << (pg % 8));
	return EC_OK;
}

/* An overflow run holding a value of dsize bytes; reads the value into
 * *val (malloc'd) when val is given. */
static int overflow(struct walk *w, uint64_t pg, uint64_t dsize, uint8_t **val)
{
	uint8_t h[PAGEHDRSZ];
	uint32_t pages;
	int r;
	if ((r = mark(w, pg, "an overflow value")) != EC_OK)
		return r;
	if ((r = read_at(w, h, sizeof h, pg * w->psize)) != EC_OK)
		return r;
	pages = le32(h + 12);
	/* exactly P_OVERFLOW: LMDB writes into a page flagged P_DIRTY in
	 * place, and the map is read-only */
	if (le64(h) != pg || le16(h + 10) != P_OVERFLOW || pages == 0 ||
	    pages > w->npages - pg)
		return bad(w, "page %llu: not an overflow run within the file",
			   (unsigned long long)pg);
	if (dsize > (uint64_t)pages * w->psize - PAGEHDRSZ)
		return bad(w, "page %llu: a value of %llu bytes in %u pages",
			   (unsigned long long)pg, (unsigned long long)dsize, pages);
	for (uint32_t i = 1; i < pages; i++)
		if ((r = mark(w, pg + i, "an overflow run")) != EC_OK)
			return r;
	if (val) {
		if (!(*val = malloc(dsize ? dsize : 1)))
			return EC_ERR_NOMEM;
		if ((r = read_at(w, *val, dsize, pg * w->psize + PAGEHDRSZ)) != EC_OK) {
			free(*val);
			*val = NULL;
			return r;
		}
	}
	return EC_OK;
}

/* A free-tree value: u64 count, then that many page numbers. */
static int free_list(struct walk *w, uint64_t pg, const uint8_t *v, uint64_t n)
{
	uint64_t cnt;
	if (n < 8 || (cnt = le64(v)) != n / 8 - 1 || n % 8)
		return bad(w, "page %llu: a free-page list that does not add up",
			   (unsigned long long)pg);
	for (uint64_t i = 0; i < cnt; i++) {
		uint64_t f = le64(v + 8 + 8 * i);
		if (f < 2 || f >= w->npages)
			return bad(w, "page %llu: free page %llu outside the file",
				   (unsigned long long)pg, (unsigned long long)f);
		if (w->n_free == w->cap_free) {
			size_t nc = w->cap_free ? 2 * w->cap_free : 256;
			uint64_t *p = realloc(w->free_pg, nc * sizeof *p);
			if (!p)
				return EC_ERR_NOMEM;
			w->free_pg = p;
			w->cap_free = nc;
		}
		w->free_pg[w->n_free++] = f;
	}
	return EC_OK;
}

static int tree(struct walk *w, const uint8_t *db, int kind, const char *name);

static int page(struct walk *w, uint64_t pg, int depth, int leaf_depth, int kind)
{
	uint8_t *p;
	unsigned lower, upper, n;
	uint16_t flags;
	int r;
	if (depth > leaf_depth)
		return bad(w, "page %llu: below the tree's depth", (unsigned long long)pg);
	if ((r = mark(w, pg, "a branch")) != EC_OK)
		return r;
	if (!(p = malloc(w->psize)))
		return EC_ERR_NOMEM;
	if ((r = read_at(w, p, w->psize, pg * w->psize)) != EC_OK)
		goto out;
	flags = le16(p + 10);
	lower = le16(p + 12);
	upper = le16(p + 14);
	if (le64(p) != pg) {
		r = bad(w, "page %llu: header names page %llu", (unsigned long long)pg,
			(unsigned long long)le64(p));
		goto out;
	}
	/* exactly the kind: the other bits (P_DIRTY, P_LOOSE, P_KEEP, P_SUBP)
	 * live only in memory, and LMDB writes in place into a page it finds
	 * flagged dirty */
	if (flags != (depth == leaf_depth ? P_LEAF : P_BRANCH)) {
		r = bad(w, "page %llu: flags 0x%x where a %s belongs", (unsigned long long)pg,
			flags, depth == leaf_depth ? "leaf" : "branch");
		goto out;
	}
	if (lower < PAGEHDRSZ || lower % 2 || upper > w->psize || lower > upper ||
	    (n = (lower - PAGEHDRSZ) / 2) == 0) {
		r = bad(w, "page %llu: node table bounds %u..%u", (unsigned long long)pg, lower,
			upper);
		goto out;
	}
	for (unsigned i = 0; i < n && r == EC_OK; i++) {
		unsigned at = le16(p + PAGEHDRSZ + 2 * i), ksize, nflags;
		uint64_t dsize, end;
		const uint8_t *node = p + at;
		if (at < upper || at % 2 || at + NODESIZE > w->psize) {
			r = bad(w, "page %llu: node %u at %u", (unsigned long long)pg, i, at);
			break;
		}
		nflags = le16(node + 4);
		ksize = le16(node + 6);
		dsize = le16(node) | (uint64_t)le16(node + 2) << 16;
		if (at + NODESIZE + ksize > w->psize) {
			r = bad(w, "page %llu: node %u key past the page", (unsigned long long)pg, i);
			break;
		}
		if (depth < leaf_depth) {
			uint64_t child = dsize | (uint64_t)nflags << 32;
			r = page(w, child, depth + 1, leaf_depth, kind);
			continue;
		}
		/* The flags LMDB writes for the trees of an ec store: the main
		 * tree holds only named-tree records (F_SUBDATA alone: with
		 * F_BIGDATA, mdb_dbi_open would copy the record out of an
		 * overflow page and follow its root), the others plain values,
		 * inline or in an overflow run (no F_DUPDATA, F_SUBDATA: no
		 * table is MDB_DUPSORT). */
		if (kind == TREE_MAIN ? nflags != F_SUBDATA : (nflags & ~F_BIGDATA) != 0) {
			r = bad(w, "page %llu: node %u flags 0x%x", (unsigned long long)pg, i,
				nflags);
			break;
		}
		end = at + NODESIZE + ksize + (nflags & F_BIGDATA ? 8 : dsize);
		if (end > w->psize) {
			r = bad(w, "page %llu: node %u value past the page", (unsigned long long)pg,
				i);
			break;
		}
		if (kind == TREE_MAIN) {
			char name[64];
			size_t kn = ksize < sizeof name ? ksize : sizeof name - 1;
			if (dsize != DB_BYTES) {
				r = bad(w, "page %llu: a tree record of %llu bytes",
					(unsigned long long)pg, (unsigned long long)dsize);
				break;
			}
			memcpy(name, node + NODESIZE, kn);
			name[kn] = 0;
			r = tree(w, node + NODESIZE + ksize, TREE_DATA, name);
		} else if (nflags & F_BIGDATA) {
			uint64_t ov = le64(node + NODESIZE + ksize);
			uint8_t *val = NULL;
			r = overflow(w, ov, dsize, kind == TREE_FREE ? &val : NULL);
			if (r == EC_OK && kind == TREE_FREE)
				r = free_list(w, pg, val, dsize);
			free(val);
		} else if (kind == TREE_FREE) {
			r = free_list(w, pg, node + NODESIZE + ksize, dsize);
		}
	}
out:
	free(p);
	return r;
}

/* A tree from its MDB_db record. */
static int tree(struct walk *w, const uint8_t *db, int kind, const char *name)
{
	uint16_t depth = le16(db + 6), flags = le16(db + 4);
	uint64_t root = le64(db + 40);
	/* md_flags choose LMDB's comparator and sorted-duplicate handling:
	 * the free tree is MDB_INTEGERKEY (its word also holds the
	 * environment's persistent flags, none of which an ec store sets),
	 * the main tree and every table plain */
	if (flags != (kind == TREE_FREE ? MDB_INTEGERKEY : 0))
		return bad(w, "tree %s: flags 0x%x", name, flags);
	if (root == P_INVALID)
		return depth == 0 ? EC_OK : bad(w, "tree %s: empty with depth %u", name, depth);
	if (depth == 0 || depth > MAX_DEPTH)
		return bad(w, "tree %s: depth %u", name, depth);
	return page(w, root, 0, depth - 1, kind);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int ec_store_lmdb_walk(int fd, unsigned psize, uint64_t txnid, char *why, size_t whylen)
{
	struct walk w;
	uint8_t m[2][PAGEHDRSZ + 136], *meta;
	int r;
	memset(&w, 0, sizeof w);
	w.fd = fd;
	w.psize = psize;
	w.why = why;
	w.whylen = whylen;
	if (psize < 512 || psize > 65536)
		return bad(&w, "page size %u", psize);
	for (int i = 0; i < 2; i++) {
		uint8_t *x = m[i];
		if ((r = read_at(&w, x, sizeof m[i], (uint64_t)i * psize)) != EC_OK)
			return r;
		if (!(le16(x + 10) & P_META) || le32(x + 16) != META_MAGIC ||
		    le32(x + 20) != META_VERSION || le32(x + 40) != psize)
			return bad(&w, "meta page %d is damaged", i);
	}
	/* the meta page LMDB uses (mdb_env_pick_meta): page 1 only when its
	 * commit id is greater, page 0 on a tie */
	meta = le64(m[0] + 144) < le64(m[1] + 144) ? m[1] : m[0];
	if (le64(meta + 144) != txnid)
		return bad(&w, "no meta page names commit %llu", (unsigned long long)txnid);
	w.npages = le64(meta + 136) + 1;
	if (w.npages < 2 || w.npages > (UINT64_MAX / psize))
		return bad(&w, "the meta page's last page %llu", (unsigned long long)w.npages - 1);
	if (!(w.live = calloc(w.npages / 8 + 1, 1)))
		return EC_ERR_NOMEM;
	r = tree(&w, meta + 40, TREE_FREE, "(free pages)");
	if (r == EC_OK)
		r = tree(&w, meta + 40 + DB_BYTES, TREE_MAIN, "(main)");
	if (r == EC_OK && w.n_free) {
		qsort(w.free_pg, w.n_free, sizeof *w.free_pg, cmp_u64);
		for (size_t i = 0; i < w.n_free && r == EC_OK; i++) {
			uint64_t f = w.free_pg[i];
			if (i && w.free_pg[i - 1] == f)
				r = bad(&w, "page %llu is listed free twice", (unsigned long long)f);
			else if (w.live[f / 8] & (1u << (f % 8)))
				r = bad(&w, "page %llu is both free and in use",
					(unsigned long long)f);
		}
	}
	free(w.live);
	free(w.free_pg);
	return r;
}
