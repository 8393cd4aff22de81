/* ec_store_mem.c - the memory backend: a transactional key-value store in
 * RAM, for tests and the simulator.
 *
 * Each table is a chained hash map (FNV-1a over the key bytes).  A write
 * txn buffers its puts and deletes in its own per-table maps (a delete is a
 * tombstone); reads look there first, then in the committed maps.  Commit
 * moves the buffered entries into the committed maps; abort frees them.
 * Iteration collects the visible entries and sorts them by key, so every
 * order the caller sees is deterministic (never hash order).
 * Values replaced while read txns are open are kept until the last reader
 * ends, so borrowed pointers stay valid for the reader's txn.  Readers see
 * commits made while they are open (no snapshot isolation, unlike LMDB);
 * the shared test suite does not depend on either behaviour.
 */
#include <stdlib.h>

#include "store/ec_store_int.h"

typedef struct ment {
	struct ment *next;
	uint64_t hash;
	uint8_t *k;
	size_t kn;
	uint8_t *v; /* NULL + tomb for a buffered delete */
	size_t vn;
	int tomb;
} ment;

typedef struct mtab {
	ment **slot;
	size_t cap; /* power of two, or 0 */
	size_t n;
} mtab;

typedef struct memstore {
	mtab t[EC_T_COUNT];
	int readers;
	ment *grave;     /* replaced entries waiting for readers to end */
	uint64_t commits; /* write txns that changed something */
} memstore;

typedef struct memtxn {
	memstore *m;
	int write;
	mtab w[EC_T_COUNT]; /* buffered writes */
} memtxn;

static uint64_t fnv(const uint8_t *k, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= k[i];
		h *= 1099511628211ull;
	}
	return h;
}

static void ment_free(ment *e)
{
	free(e->k);
	free(e->v);
	free(e);
}

static ment **mt_find(mtab *t, const uint8_t *k, size_t kn, uint64_t h)
{
	ment **pp;
	if (!t->cap)
		return NULL;
	for (pp = &t->slot[h & (t->cap - 1)]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->kn == kn && memcmp((*pp)->k, k, kn) == 0)
			return pp;
	return NULL;
}

static int mt_grow(mtab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	ment **ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return EC_ERR_NOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		ment *e = t->slot[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			e->next = ns[e->hash & (ncap - 1)];
			ns[e->hash & (ncap - 1)] = e;
		}
	}
	free(t->slot);
	t->slot = ns;
	t->cap = ncap;
	return EC_OK;
}

/* Links e (not present) into t. */
static int mt_link(mtab *t, ment *e)
{
	if (t->n + 1 > t->cap / 2 * 1 + t->cap / 4) { /* load factor 0.75 */
		int r = mt_grow(t);
		if (r != EC_OK)
			return r;
	}
	e->next = t->slot[e->hash & (t->cap - 1)];
	t->slot[e->hash & (t->cap - 1)] = e;
	t->n++;
	return EC_OK;
}

static void mt_clear(mtab *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		ment *e = t->slot[i], *nx;
		for (; e; e = nx) {
			nx = e->next;
			ment_free(e);
		}
	}
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

static void grave_sweep(memstore *m)
{
	ment *e, *nx;
	if (m->readers)
		return;
	for (e = m->grave; e; e = nx) {
		nx = e->next;
		ment_free(e);
	}
	m->grave = NULL;
}

static void retire(memstore *m, ment *e)
{
	if (m->readers) {
		e->next = m->grave;
		m->grave = e;
	} else {
		ment_free(e);
	}
}

/* ---- txns ------------------------------------------------------------------ */

static int mem_txn_begin(ec_store *s, int write, void **impl)
{
	memstore *m = s->impl;
	memtxn *x = calloc(1, sizeof(*x));
	if (!x)
		return EC_ERR_NOMEM;
	x->m = m;
	x->write = write;
	if (!write)
		m->readers++;
	*impl = x;
	return EC_OK;
}

static void mem_txn_abort(ec_store *s, void *impl)
{
	memtxn *x = impl;
	memstore *m = x->m;
	for (int i = 0; i < EC_T_COUNT; i++)
		mt_clear(&x->w[i]);
	if (!x->write) {
		m->readers--;
		grave_sweep(m);
	}
	free(x);
}

static int mem_txn_commit(ec_store *s, void *impl)
{
	memtxn *x = impl;
	memstore *m = x->m;
	int r;
	if (!x->write) {
		mem_txn_abort(s, impl);
		return EC_OK;
	}
	int any = 0;
	for (int i = 0; i < EC_T_COUNT; i++)
		any |= x->w[i].n != 0;
	/* Make room first so that applying cannot fail half-way. */
	for (int i = 0; i < EC_T_COUNT; i++) {
		mtab *b = &m->t[i];
		while ((b->n + x->w[i].n) > b->cap / 2 + b->cap / 4) {
			r = mt_grow(b);
			if (r != EC_OK) {
				mem_txn_abort(s, impl);
				return r;
			}
		}
	}
	for (int i = 0; i < EC_T_COUNT; i++) {
		mtab *w = &x->w[i], *b = &m->t[i];
		for (size_t j = 0; j < w->cap; j++) {
			ment *e = w->slot[j], *nx;
			for (; e; e = nx) {
				ment **pp = mt_find(b, e->k, e->kn, e->hash);
				nx = e->next;
				if (pp) {
					ment *old = *pp;
					*pp = old->next;
					b->n--;
					retire(m, old);
				}
				if (e->tomb)
					ment_free(e);
				else
					mt_link(b, e); /* cannot fail: room made above */
			}
		}
		free(w->slot);
		memset(w, 0, sizeof(*w));
	}
	m->commits += any;
	free(x);
	return EC_OK;
}

/* ---- access ------------------------------------------------------------------- */

static int mem_get(void *impl, int table, const uint8_t *k, size_t kn,
		   const uint8_t **v, size_t *vn)
{
	memtxn *x = impl;
	uint64_t h = fnv(k, kn);
	ment **pp = mt_find(&x->w[table], k, kn, h);
	if (!pp)
		pp = mt_find(&x->m->t[table], k, kn, h);
	if (!pp || (*pp)->tomb)
		return EC_ERR_NOTFOUND;
	*v = (*pp)->v;
	*vn = (*pp)->vn;
	return EC_OK;
}

/* Buffers (k -> v) or a tombstone in the txn's write set. */
static int buffer(memtxn *x, int table, const uint8_t *k, size_t kn,
		  const uint8_t *v, size_t vn, int tomb)
{
	uint64_t h = fnv(k, kn);
	mtab *w = &x->w[table];
	ment **pp = mt_find(w, k, kn, h);
	uint8_t *nv = NULL;
	if (!tomb) {
		nv = malloc(vn ? vn : 1);
		if (!nv)
			return EC_ERR_NOMEM;
		memcpy(nv, v, vn);
	}
	if (pp) {
		free((*pp)->v);
		(*pp)->v = nv;
		(*pp)->vn = vn;
		(*pp)->tomb = tomb;
		return EC_OK;
	}
	ment *e = calloc(1, sizeof(*e));
	if (!e || !(e->k = malloc(kn ? kn : 1))) {
		free(e);
		free(nv);
		return EC_ERR_NOMEM;
	}
	memcpy(e->k, k, kn);
	e->kn = kn;
	e->hash = h;
	e->v = nv;
	e->vn = vn;
	e->tomb = tomb;
	if (mt_link(w, e) != EC_OK) {
		ment_free(e);
		return EC_ERR_NOMEM;
	}
	return EC_OK;
}

static int mem_put(void *impl, int table, const uint8_t *k, size_t kn,
		   const uint8_t *v, size_t vn, int flags)
{
	memtxn *x = impl;
	if (!x->write)
		return EC_ERR_READONLY;
	if (flags & EC_PUT_NOOVERWRITE) {
		const uint8_t *ov;
		size_t on;
		if (mem_get(impl, table, k, kn, &ov, &on) == EC_OK)
			return EC_ERR_EXISTS;
	}
	return buffer(x, table, k, kn, v, vn, 0);
}

static int mem_del(void *impl, int table, const uint8_t *k, size_t kn)
{
	memtxn *x = impl;
	const uint8_t *ov;
	size_t on;
	if (!x->write)
		return EC_ERR_READONLY;
	if (mem_get(impl, table, k, kn, &ov, &on) != EC_OK)
		return EC_ERR_NOTFOUND;
	return buffer(x, table, k, kn, NULL, 0, 1);
}

static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c;
	return an < bn ? -1 : an > bn;
}

static int ment_ptr_cmp(const void *a, const void *b)
{
	const ment *x = *(const ment *const *)a, *y = *(const ment *const *)b;
	return key_cmp(x->k, x->kn, y->k, y->kn);
}

static int in_range(const ment *e, const uint8_t *start, size_t kn, size_t plen)
{
	if (e->kn < plen || memcmp(e->k, start, plen) != 0)
		return 0;
	return key_cmp(e->k, e->kn, start, kn) >= 0;
}

static int mem_iter(void *impl, int table, const uint8_t *start, size_t kn,
		    size_t plen, ec_kv_fn fn, void *ctx)
{
	memtxn *x = impl;
	mtab *w = &x->w[table], *b = &x->m->t[table];
	size_t n = 0, cap = w->n + b->n;
	ment **v;
	int r = 0;
	if (cap == 0)
		return 0;
	v = malloc(cap * sizeof(*v));
	if (!v)
		return EC_ERR_NOMEM;
	for (size_t i = 0; i < w->cap; i++)
		for (ment *e = w->slot[i]; e; e = e->next)
			if (!e->tomb && in_range(e, start, kn, plen))
				v[n++] = e;
	for (size_t i = 0; i < b->cap; i++)
		for (ment *e = b->slot[i]; e; e = e->next)
			if (in_range(e, start, kn, plen) && !mt_find(w, e->k, e->kn, e->hash))
				v[n++] = e;
	qsort(v, n, sizeof(*v), ment_ptr_cmp);
	for (size_t i = 0; i < n && r == 0; i++)
		r = fn(ctx, v[i]->k, v[i]->kn, v[i]->v, v[i]->vn);
	free(v);
	return r;
}

static uint64_t mem_txn_id(void *impl)
{
	memtxn *x = impl;
	return x->m->commits + (x->write ? 1 : 0);
}

static void mem_close(ec_store *s)
{
	memstore *m = s->impl;
	if (!m)
		return;
	for (int i = 0; i < EC_T_COUNT; i++)
		mt_clear(&m->t[i]);
	m->readers = 0;
	grave_sweep(m);
	free(m);
	s->impl = NULL;
}

static const struct ec_store_ops mem_ops = {
	.txn_begin = mem_txn_begin,
	.txn_commit = mem_txn_commit,
	.txn_abort = mem_txn_abort,
	.get = mem_get,
	.put = mem_put,
	.del = mem_del,
	.iter = mem_iter,
	.txn_id = mem_txn_id,
	.close = mem_close,
};

int ec_store_mem_init(ec_store *s)
{
	memstore *m = calloc(1, sizeof(*m));
	if (!m)
		return EC_ERR_NOMEM;
	s->ops = &mem_ops;
	s->impl = m;
	return EC_OK;
}
