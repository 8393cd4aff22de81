/* ec_idindex.c - see ec_idindex.h. */
#include "util/ec_idindex.h"

#include <stdlib.h>

static size_t slot_of(const ec_id *id, size_t cap)
{
	uint64_t h = 0;
	for (int i = 0; i < 8; i++)
		h = (h << 8) | id->b[i];
	return (size_t)(h & (cap - 1));
}

static const ec_id *key_of(const ec_idindex *x, const void *item)
{
	return (const ec_id *)((const char *)item + x->key_off);
}

int ec_idindex_init(ec_idindex *x, size_t key_off)
{
	x->key_off = key_off;
	x->cap = 64;
	x->slot = calloc(x->cap, sizeof *x->slot);
	return x->slot ? EC_OK : EC_ERR_NOMEM;
}

void ec_idindex_free(ec_idindex *x)
{
	free(x->slot);
	x->slot = NULL;
	x->cap = 0;
}

void *ec_idindex_get(const ec_idindex *x, const ec_id *key)
{
	size_t s = slot_of(key, x->cap);
	while (x->slot[s]) {
		if (ec_id_eq(key_of(x, x->slot[s]), key))
			return x->slot[s];
		s = (s + 1) & (x->cap - 1);
	}
	return NULL;
}

int ec_idindex_reserve(ec_idindex *x, size_t want, int *emptied)
{
	size_t cap = x->cap;
	void **slot;
	*emptied = 0;
	if (2 * want <= cap)
		return EC_OK;
	while (cap < 2 * want)
		cap *= 2;
	slot = calloc(cap, sizeof *slot);
	if (!slot)
		return EC_ERR_NOMEM;
	free(x->slot);
	x->slot = slot;
	x->cap = cap;
	*emptied = 1;
	return EC_OK;
}

void ec_idindex_insert(ec_idindex *x, void *item)
{
	size_t s = slot_of(key_of(x, item), x->cap);
	while (x->slot[s])
		s = (s + 1) & (x->cap - 1);
	x->slot[s] = item;
}

int ec_idindex_remove(ec_idindex *x, const void *item)
{
	size_t mask = x->cap - 1, i = slot_of(key_of(x, item), x->cap), j;
	while (x->slot[i] != item) {
		if (!x->slot[i])
			return 0;
		i = (i + 1) & mask;
	}
	/* backward shift: move up every later item of the probe run whose
	 * home slot does not lie cyclically in (i, j] */
	for (j = (i + 1) & mask; x->slot[j]; j = (j + 1) & mask) {
		size_t k = slot_of(key_of(x, x->slot[j]), x->cap);
		if (((j - k) & mask) >= ((j - i) & mask)) {
			x->slot[i] = x->slot[j];
			i = j;
		}
	}
	x->slot[i] = NULL;
	return 1;
}

void ec_idindex_clear(ec_idindex *x)
{
	memset(x->slot, 0, x->cap * sizeof *x->slot);
}
